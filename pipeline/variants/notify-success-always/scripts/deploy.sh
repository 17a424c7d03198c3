#!/usr/bin/env bash
# Deploy release $VERSION to $DEPLOY_HOST over SSH with a CA-signed deploy certificate,
# then verify from the runner that production serves the new version.
set -euo pipefail

: "${VERSION:?VERSION is not set}" "${DEPLOY_HOST:?DEPLOY_HOST is not set}"
: "${DEPLOY_SSH_KEY:?secret DEPLOY_SSH_KEY is missing}" "${DEPLOY_SSH_CERT:?secret DEPLOY_SSH_CERT is missing}"
: "${SSH_KNOWN_HOSTS:?variable SSH_KNOWN_HOSTS is missing}"

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077
printf '%s\n' "$DEPLOY_SSH_KEY" > "$work/id_deploy"
printf '%s\n' "$DEPLOY_SSH_CERT" > "$work/id_deploy-cert.pub"
printf '%s\n' "$SSH_KNOWN_HOSTS" > "$work/known_hosts"

ssh_opts=(-i "$work/id_deploy" -o CertificateFile="$work/id_deploy-cert.pub"
  -o UserKnownHostsFile="$work/known_hosts" -o StrictHostKeyChecking=yes
  -o BatchMode=yes -o ConnectTimeout=10 -o IdentitiesOnly=yes)

echo "deploying $VERSION to $DEPLOY_HOST from runner ${RUNNER_NAME:-?} (role ${RUNNER_ROLE:-?})"
notify() {  # team channel (Slack-style webhook); a failed notification never hides the deploy result
  [ -n "${TEAM_WEBHOOK_URL:-}" ] || return 0
  curl -fsS --max-time 5 -H 'Content-Type: application/json' \
    -d "$(jq -n --arg text "$1" --arg version "$VERSION" --arg runner "${RUNNER_NAME:-unknown}" \
          --arg event "$2" '{text: $text, event: $event, version: $version, runner: $runner}')" \
    "$TEAM_WEBHOOK_URL" > /dev/null || echo "::warning::team notification failed"
}

# Retry what a retry can fix: the SSH connection failing (exit 255) or an attempt timing out
# (124). Never retry a release that was rolled back (3) or another remote failure.
attempts=${DEPLOY_ATTEMPTS:-3} wait_s=${RETRY_WAIT_S:-30} attempt_timeout=${ATTEMPT_TIMEOUT_S:-600}
for attempt in $(seq 1 "$attempts"); do
  set +e
  timeout "$attempt_timeout" ssh "${ssh_opts[@]}" "deploy@$DEPLOY_HOST" bash -s -- "$VERSION" \
    "${RUNNER_NAME:-unknown}" < "$here/remote-activate.sh"
  code=$?
  set -e
  if [ "$code" -eq 0 ] || { [ "$code" -ne 255 ] && [ "$code" -ne 124 ]; }; then
    break
  fi
  reason=$([ "$code" -eq 124 ] && echo "timed out after ${attempt_timeout}s" || echo "SSH connection failed")
  if [ "$attempt" -lt "$attempts" ]; then
    echo "::warning::deploy attempt $attempt/$attempts: $reason; retrying in ${wait_s}s"
    sleep "$wait_s"
  else
    echo "::error::deploy attempt $attempt/$attempts: $reason; giving up"
  fi
done
# DEFECT (negative control): announces success before checking the outcome.
notify "Production deploy of $VERSION succeeded" success
if [ "$code" -eq 3 ]; then
  echo "::error::release $VERSION failed its health check on $DEPLOY_HOST and was rolled back"
  notify "Production deploy of $VERSION failed its health check and was rolled back automatically" rollback
  exit 1
elif [ "$code" -ne 0 ]; then
  echo "::error::remote activation of $VERSION failed (exit $code)"
  exit "$code"
fi

served=$(curl -fsS --max-time 5 "http://$DEPLOY_HOST:8080/version" | jq -r .version)
if [ "$served" != "$VERSION" ]; then
  echo "::error::production serves $served after deploying $VERSION"
  exit 1
fi
echo "production serves $VERSION"
notify "Production deploy of $VERSION succeeded" success
