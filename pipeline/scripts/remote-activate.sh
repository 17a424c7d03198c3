#!/usr/bin/env bash
# Runs ON the production host (as the deploy user): install release $1, switch the
# `current` symlink atomically, wait for the app to serve it, then record the state.
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

for _ in $(seq 1 50); do
  served=$(curl -fsS --max-time 2 http://127.0.0.1:8080/health | jq -r .version) || served=
  [ "$served" = "$version" ] && break
  sleep 0.2
done
if [ "$served" != "$version" ]; then
  echo "health check failed: app serves '${served:-nothing}', expected $version" >&2
  exit 1
fi

jq -n --arg cur "$version" --arg prev "$current" --arg start "$started" --arg runner "$runner" \
  --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{current_version: $cur, previous_version: $prev, deploy_start: $start,
    last_deploy_timestamp: $now, deploy_runner: $runner, deployed_by: "github-actions"}' > "$app/.state.tmp"
# /var/lib is not the deploy user's to create files in: rewrite the state file in place.
cat "$app/.state.tmp" > "$state"
rm -f "$app/.state.tmp"
echo "activated $version (previous $current)"
