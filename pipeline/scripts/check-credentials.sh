#!/usr/bin/env bash
# Preflight: the deploy credentials are present and their certificate is valid now and for
# the next $EXPIRY_WARN_DAYS days (warn), so an expired or missing credential stops the deploy
# before any runner contacts production.
set -euo pipefail
warn_days=${EXPIRY_WARN_DAYS:-7}

if [ -z "${DEPLOY_SSH_KEY:-}" ] || [ -z "${DEPLOY_SSH_CERT:-}" ]; then
  echo "authentication failure: deploy credential missing (secret DEPLOY_SSH_KEY or DEPLOY_SSH_CERT is empty)"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$DEPLOY_SSH_CERT" > "$work/cert.pub"
# ssh-keygen prints validity in local time: read it in UTC so the comparison below is right.
if ! info=$(TZ=UTC ssh-keygen -L -f "$work/cert.pub" 2>&1); then
  echo "authentication failure: DEPLOY_SSH_CERT is not a valid SSH certificate"
  exit 1
fi
valid=$(sed -n -e 's/^ *Valid: from .* to \(.*\)$/\1/p' -e 's/^ *Valid: before \(.*\)$/\1/p' <<<"$info")
if [ -z "$valid" ] || [ "$valid" = "forever" ]; then
  echo "authentication failure: deploy certificate has no expiry (policy requires short-lived certificates)"
  exit 1
fi
expires=$(date -u -d "$valid" +%s)
now=$(date -u +%s)
if [ "$expires" -le "$now" ]; then
  echo "authentication failure: deploy certificate expired at $valid UTC; rotate it (runbooks/secrets-expired-rotation.md)"
  exit 1
fi
left_days=$(( (expires - now) / 86400 ))
if [ "$left_days" -lt "$warn_days" ]; then
  echo "::warning::deploy certificate expires in $left_days day(s) ($valid UTC): rotate it soon"
fi
echo "deploy credentials present; certificate valid until $valid UTC"
