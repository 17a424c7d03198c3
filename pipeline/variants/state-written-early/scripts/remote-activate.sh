#!/usr/bin/env bash
# Runs ON the production host (as the deploy user): install release $1, switch the
# `current` symlink atomically, wait for the app to serve it healthy, then record the state.
# A release that fails its health check is rolled back to the previous one (exit 3) and the
# state file is left as it was.
set -euo pipefail
version=$1
runner=${2:-unknown}
app=/opt/app
state=/var/lib/app-production-state.json
release="$app/releases/$version"
current=$(cat "$app/current/VERSION" 2>/dev/null || echo none)

if [ "$current" = "$version" ]; then
  echo "already at $version: nothing to do"
  exit 0
fi
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$release"
echo "$version" > "$release/VERSION"
ln -sfn "$release" "$app/current.next"
mv -T "$app/current.next" "$app/current"

# DEFECT (negative control): the state file is written before the health check.
jq -n --arg cur "$version" --arg prev "$current" --arg start "$started" --arg runner "$runner" \
  --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{current_version: $cur, previous_version: $prev, deploy_start: $start,
    last_deploy_timestamp: $now, deploy_runner: $runner, deployed_by: "github-actions"}' > "$app/.state.tmp"
# /var/lib is not the deploy user's to create files in: rewrite the state file in place.
cat "$app/.state.tmp" > "$state"
rm -f "$app/.state.tmp"

healthy_at() {  # wait until the app serves $1 and reports healthy
  local want=$1 body
  for _ in $(seq 1 25); do
    body=$(curl -sS --max-time 2 http://127.0.0.1:8080/health) || body=
    if [ "$(jq -r .version <<<"$body" 2>/dev/null)" = "$want" ] && [ "$(jq -r .status <<<"$body" 2>/dev/null)" = ok ]; then
      return 0
    fi
    sleep 0.2
  done
  echo "health check of $want failed: last answer ${body:-none}" >&2
  return 1
}

if ! healthy_at "$version"; then
  if [ -d "$app/releases/$current" ]; then
    ln -sfn "$app/releases/$current" "$app/current.next"
    mv -T "$app/current.next" "$app/current"
    if healthy_at "$current"; then
      echo "ROLLBACK: $version failed its health check; rolled back to $current" >&2
    else
      echo "ROLLBACK FAILED: $version failed its health check and $current is not healthy either" >&2
    fi
  else
    echo "ROLLBACK IMPOSSIBLE: $version failed its health check and no previous release is installed" >&2
  fi
  exit 3
fi

echo "activated $version (previous $current)"
