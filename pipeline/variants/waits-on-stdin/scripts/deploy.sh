#!/usr/bin/env bash
# Deploy release $VERSION to production: every web host of $PROD_HOSTS, with the transactional
# Ansible deploy (ansible/deploy.yml) over SSH with the CA-signed deploy certificate, retrying
# what a retry can fix; then verify end to end through the load balancer and tell the team.
#
# DEPLOY_KIND=rollback (workflows/rollback.yml): return production from its live release to the
# one it was deployed over, through the same transactional deploy with the schema going down
# (ansible/deploy.yml, direction=down: the down.sql of the release left). $VERSION, if set, is the
# release to return to; empty: the state file's previous_version. app-txn rollback-plan checks it
# on a host first (the release the live one was deployed over, else exit 2 with the reason).
#
# Exit codes (diagnose.sh classifies the output, not the code): 0 deployed; 1 the release failed
# and every component was rolled back (team told), or it failed otherwise; 2 bad input (or not a
# rollback); 4 the deploy lock is held by another live deploy; 124 the last attempt timed out;
# 255 production unreachable.
set -euo pipefail

kind=${DEPLOY_KIND:-deploy}
case $kind in
  deploy) : "${VERSION:?VERSION is not set}" ;;
  rollback) VERSION=${VERSION:-} ;;
  *) echo "::error::DEPLOY_KIND '$kind' is neither deploy nor rollback"; exit 2 ;;
esac
: "${PROD_HOSTS:?variable PROD_HOSTS is missing}"
: "${ARTIFACTS_URL:?variable ARTIFACTS_URL is missing}" "${PROD_LB_URL:?variable PROD_LB_URL is missing}"
: "${DEPLOY_SSH_KEY:?secret DEPLOY_SSH_KEY is missing}" "${DEPLOY_SSH_CERT:?secret DEPLOY_SSH_CERT is missing}"
: "${SSH_KNOWN_HOSTS:?variable SSH_KNOWN_HOSTS is missing}"

here=$(cd "$(dirname "$0")" && pwd)
ansible_dir=$(cd "$here/../ansible" && pwd)
read -r -a hosts <<<"$PROD_HOSTS"
for host in "${hosts[@]}"; do
  [[ $host =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || { echo "::error::PROD_HOSTS: '$host' is not a host name"; exit 2; }
done
if [ -n "$VERSION" ] || [ "$kind" = deploy ]; then
  [[ $VERSION =~ ^[0-9A-Za-z][0-9A-Za-z._-]*$ ]] || { echo "::error::'$VERSION' is not a release version"; exit 2; }
fi

# The key and certificate exist only as files of this temporary folder (mode 600), removed always.
umask 077
work=$(mktemp -d)
attempt_pid='' attempt_token='' renewer_pid=''
close_connections() {  # the attempt's SSH master connections (ControlPersist would keep them a minute)
  local socket
  for socket in "$work"/cp/*; do
    [ -S "$socket" ] || continue
    timeout 5 ssh -o ControlPath="$socket" -O exit production >/dev/null 2>&1 || true
  done
}
stop_renewer() {
  if [ -n "$renewer_pid" ]; then
    kill "$renewer_pid" 2>/dev/null || true
    wait "$renewer_pid" 2>/dev/null || true
    renewer_pid=''
  fi
}
abandon() {  # hand attempt $1's transaction back now rather than when its lease expires ($2: seconds per host)
  local host
  for host in "${hosts[@]}"; do
    timeout "${2:-3}" ssh "${ssh_opts[@]}" "deploy@$host" /opt/app/bin/app-txn abandon --runner "$1" >/dev/null 2>&1 \
      && return 0
  done
  return 0
}
cleanup() {
  if [ -n "$attempt_pid" ]; then
    # stopped mid-attempt (job cancelled, or lost by GitHub): `timeout` runs the playbook in a
    # process group of its own, so stop it here, then roll its transaction back at once. Within
    # the runner's kill grace (SIGKILL follows); if that is cut short, the lease still ends it.
    stop_renewer
    kill "$attempt_pid" 2>/dev/null || true
    abandon "$attempt_token"
  fi
  stop_renewer
  close_connections
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
printf '%s\n' "$DEPLOY_SSH_KEY" > "$work/id_deploy"
printf '%s\n' "$DEPLOY_SSH_CERT" > "$work/id_deploy-cert.pub"
printf '%s\n' "$SSH_KNOWN_HOSTS" > "$work/known_hosts"
mkdir "$work/cp" "$work/ansible-tmp"

ssh_common="-o CertificateFile=$work/id_deploy-cert.pub -o UserKnownHostsFile=$work/known_hosts"
ssh_common+=" -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10"
# this script's own SSH (heartbeat renewer, abandon, rollback plan): the same options, over the
# playbook's connections while they live (%C, as ansible.cfg), else a connection of its own. Never
# a master: a ControlPersist master forked from inside $(...) holds the substitution's pipe open,
# so with production cut off the renewer hung until the network came back, and the attempt's
# timeout was reported (and retried) a minute late.
read -r -a ssh_opts <<<"$ssh_common"
ssh_opts=(-n -i "$work/id_deploy" "${ssh_opts[@]}" -o ControlMaster=no -o "ControlPath=$work/cp/%C")
jq -n --arg key "$work/id_deploy" --arg common "$ssh_common" '{web: {
    hosts: ($ARGS.positional | map({(.): {}}) | add),
    vars: {ansible_user: "deploy", ansible_python_interpreter: "/usr/bin/python3",
           ansible_ssh_private_key_file: $key, ansible_ssh_common_args: $common}}}' \
  --args "${hosts[@]}" > "$work/inventory.json"
export ANSIBLE_CONFIG="$ansible_dir/ansible.cfg" ANSIBLE_HOME="$work/ansible-home" \
  ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" ANSIBLE_SSH_CONTROL_PATH_DIR="$work/cp" PYTHONUNBUFFERED=1

# A rollback: which release production returns to, asked of the first host that answers (the
# database's deploy history decides; app-txn begin checks it again under the lock).
from=''
if [ "$kind" = rollback ]; then
  plan_args=(rollback-plan)
  [ -z "$VERSION" ] || plan_args+=(--to "$VERSION")
  plan='' plan_rc=255
  for host in "${hosts[@]}"; do
    plan_rc=0
    plan=$(timeout 30 ssh "${ssh_opts[@]}" "deploy@$host" /opt/app/bin/app-txn "${plan_args[@]}") || plan_rc=$?
    { [ "$plan_rc" -eq 255 ] || [ "$plan_rc" -eq 124 ]; } || break
  done
  if [ "$plan_rc" -ne 0 ]; then
    if [ "$plan_rc" -eq 255 ] || [ "$plan_rc" -eq 124 ]; then
      echo "::error::cannot roll back: no production host answered (SSH connection failed)"
      exit 255
    fi
    if [ "$plan_rc" -eq 2 ]; then
      echo "::error::not rolled back: ${VERSION:-previous_version of the state file} is not the release the live one was deployed over (see above)"
      exit 2
    fi
    echo "::error::cannot roll back: app-txn rollback-plan failed on $host (exit $plan_rc, see above)"
    exit 1
  fi
  from=$(jq -r .from <<<"$plan") VERSION=$(jq -r .to <<<"$plan")
  [[ $VERSION =~ ^[0-9A-Za-z][0-9A-Za-z._-]*$ ]] || { echo "::error::rollback plan without a release: $plan"; exit 1; }
  echo "rolling production back from $from to $VERSION ($from was deployed over it; the schema goes down)"
fi

# DEFECT (negative control): waits for a human on stdin, which a runner closes.
read -r -p "Deploy $VERSION to production? [y/N] " confirm
[ "$confirm" = y ] || { echo "aborted"; exit 1; }
echo "deploying $VERSION to $PROD_HOSTS from runner ${RUNNER_NAME:-?} (role ${RUNNER_ROLE:-?})"
notify() {  # team channel (Slack-style webhook); a failed notification never hides the deploy result
  # $1 text, $2 event, $3 the release it is about (default $VERSION; a rollback's is the release left)
  [ -n "${TEAM_WEBHOOK_URL:-}" ] || return 0
  curl -fsS --max-time 5 -H 'Content-Type: application/json' \
    -d "$(jq -n --arg text "$1" --arg version "${3:-$VERSION}" --arg runner "${RUNNER_NAME:-unknown}" \
          --arg event "$2" --arg to "$VERSION" --arg kind "$kind" \
          '{text: $text, event: $event, version: $version, to: $to, kind: $kind, runner: $runner}')" \
    "$TEAM_WEBHOOK_URL" > /dev/null || echo "::warning::team notification failed"
}

# The transaction's heartbeat, renewed from the runner while the attempt's playbook lives: when
# the runner dies, it stops, and the hosts' watchdogs roll the deploy back after the lease. It is
# never renewed from a production host (that would outlive the runner).
renew() {
  local pid=$1 token=$2 every=1 out host
  trap 'exit 0' TERM
  while kill -0 "$pid" 2>/dev/null; do
    for host in "${hosts[@]}"; do
      if out=$(timeout 10 ssh "${ssh_opts[@]}" "deploy@$host" /opt/app/bin/app-txn heartbeat --runner "$token" 2>/dev/null); then
        every=$(jq -r '.every_s // 1' <<<"$out" 2>/dev/null) || every=1
        break
      fi
    done
    sleep "$every" &
    wait $! || true
  done
}

runner_id=$(printf '%s' "${RUNNER_NAME:-unknown}" | tr -c 'A-Za-z0-9._-' '_')
run_tag="$runner_id/run-${GITHUB_RUN_ID:-0}"
# One attempt: 0 deployed; 3 the release failed and was rolled back; 4 the lock is held by a live
# deploy; 124 timed out; 255 a host unreachable (connection failed); anything else: failed.
run_attempt() {
  local n=$1 rc outcome
  local outcome_file="$work/outcome-$n.json"
  # the attempt's transaction is "<runner>/run-<id>/attempt-<n>": an attempt that finds an earlier
  # attempt of this run still holding the lock knows it is dead (killed by the timeout) and takes over
  jq -n --arg version "$VERSION" --arg runner "$run_tag/attempt-$n" --arg takeover "$run_tag/attempt-" \
    --arg deadline "$(( $(date +%s) + ${attempt_timeout%.*} + 6 ))" --arg lock_wait "$lock_wait" \
    --arg artifacts "$ARTIFACTS_URL" --arg lb "$PROD_LB_URL" --arg health "${HEALTH_TIMEOUT_S:-5}" \
    --arg outcome "$outcome_file" --arg deploy_runner "${RUNNER_NAME:-unknown}" --arg run_id "${GITHUB_RUN_ID:-}" \
    --arg direction "$([ "$kind" = rollback ] && echo down || echo up)" \
    '{version: $version, direction: $direction, txn_runner: $runner, txn_takeover: $takeover, attempt_deadline: $deadline,
      lock_wait_s: $lock_wait, artifacts_url: $artifacts, lb_url: $lb, health_timeout_s: $health,
      outcome_file: $outcome, deploy_runner: $deploy_runner, deployed_by: "github-actions", run_id: $run_id}' \
    > "$work/vars-$n.json"
  attempt_token="$run_tag/attempt-$n"
  timeout --kill-after=10 "$attempt_timeout" \
    ansible-playbook -i "$work/inventory.json" "$ansible_dir/deploy.yml" -e "@$work/vars-$n.json" </dev/null &
  attempt_pid=$!
  renew "$attempt_pid" "$attempt_token" &
  renewer_pid=$!
  rc=0
  wait "$attempt_pid" || rc=$?
  attempt_pid=''
  stop_renewer
  close_connections
  [ "$rc" -ne 0 ] || return 0
  { [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]; } || return 124
  [ "$rc" -ne 4 ] || return 255  # ansible-playbook: a host was unreachable (after its own connection retries)
  outcome=$(jq -r '.outcome // empty' "$outcome_file" 2>/dev/null) || outcome=''
  case $outcome in
    rolled_back) return 3 ;;
    lock_held) return 4 ;;
    committed) echo "::error::$VERSION was committed, but a later step failed (see above)"; return 1 ;;
    *) return "$rc" ;;
  esac
}

# Retry what a retry can fix: a host unreachable (255) or an attempt timing out (124). Never retry
# a release that was rolled back (3) or another failure.
attempts=${DEPLOY_ATTEMPTS:-3} wait_s=${RETRY_WAIT_S:-30} attempt_timeout=${ATTEMPT_TIMEOUT_S:-600}
# A held lock is waited for within the attempt, at most half of it: a wait that outlasted the
# attempt would be cut off by its timeout and retried, and the log would never name the holder.
lock_wait=${LOCK_WAIT_S:-60}
if [ "${lock_wait%.*}" -gt $(( ${attempt_timeout%.*} / 2 )) ]; then
  lock_wait=$(( ${attempt_timeout%.*} / 2 ))
  echo "waiting for a held deploy lock at most ${lock_wait}s (half the ${attempt_timeout}s attempt timeout)"
fi
for attempt in $(seq 1 "$attempts"); do
  set +e
  run_attempt "$attempt"
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
if [ "$code" -eq 3 ]; then
  if [ "$kind" = rollback ]; then
    echo "::error::the rollback from $from to $VERSION failed and was undone: production stays at $from"
    notify "Production rollback from $from to $VERSION failed and was undone: production stays at $from" \
      rollback-failed "$from"
    exit 1
  fi
  echo "::error::release $VERSION failed and was rolled back on every production host"
  notify "Production deploy of $VERSION failed and was rolled back automatically" rollback
  exit 1
elif [ "$code" -eq 4 ]; then
  echo "::error::the production deploy lock is held by another deploy (see above); $VERSION was not deployed"
  exit 4
elif [ "$code" -ne 0 ]; then
  echo "::error::remote activation of $VERSION failed (exit $code)"
  # the last attempt may have left its transaction open (killed by the timeout, or cut off):
  # give it back now rather than when its lease expires
  if [ "$code" -eq 124 ] || [ "$code" -eq 255 ]; then
    echo "handing the transaction of the last attempt back (rolling it back now, not after its lease)"
    abandon "$attempt_token" 30
  fi
  exit "$code"
fi

served=$(curl -fsS --max-time 5 "$PROD_LB_URL/api/version" | jq -r .version) || served='no answer'
if [ "$served" != "$VERSION" ]; then
  echo "::error::production serves $served after deploying $VERSION"
  exit 1
fi
echo "production serves $VERSION"
if [ "$kind" = rollback ]; then
  notify "Production rolled back from $from to $VERSION (run ${GITHUB_RUN_ID:-?} on ${RUNNER_NAME:-?})" rollback "$from"
  exit 0
fi
notify "Production deploy of $VERSION succeeded" success
