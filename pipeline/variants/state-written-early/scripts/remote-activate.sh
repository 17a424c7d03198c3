#!/usr/bin/env bash
# Runs ON the production host (as the deploy user): install release $1, switch the
# `current` symlink atomically, wait for the app to serve it healthy, then record the state.
# A release that fails its health check is rolled back to the last known good one (exit 3)
# and the state file is left as it was.
#
# The state file, written only after a healthy activation, is the truth: an attempt that was
# killed half-way (attempt timeout, lost runner) leaves the symlink wherever it got to, and the
# next attempt converges from the last known good version instead of trusting the symlink.
set -euo pipefail
version=$1
runner=${2:-unknown}
app=/opt/app
state=/var/lib/app-production-state.json
release="$app/releases/$version"

# one activation at a time on this host (an interrupted attempt may still be running)
exec 9>"$app/.deploy.lock"
if ! flock -w 60 9; then
  echo "deploy lock $app/.deploy.lock held for 60 s by another deploy" >&2
  exit 4
fi

healthy_at() {  # wait until the app serves $1 and reports healthy
  local want=$1 tries=${2:-25} body
  for _ in $(seq 1 "$tries"); do
    body=$(curl -sS --max-time 2 http://127.0.0.1:8080/health) || body=
    if [ "$(jq -r .version <<<"$body" 2>/dev/null)" = "$want" ] && [ "$(jq -r .status <<<"$body" 2>/dev/null)" = ok ]; then
      return 0
    fi
    sleep 0.2
  done
  echo "health check of $want failed: last answer ${body:-none}" >&2
  return 1
}

switch_to() {  # atomically point `current` at release $1
  ln -sfn "$app/releases/$1" "$app/current.next"
  mv -T "$app/current.next" "$app/current"
}

last_good=$(jq -r '.current_version // empty' "$state" 2>/dev/null || true)
served=$(cat "$app/current/VERSION" 2>/dev/null || echo none)
[ -n "$last_good" ] || last_good=$served

if [ "$last_good" = "$version" ] && [ "$served" = "$version" ] && healthy_at "$version" 1 2>/dev/null; then
  echo "already at $version: nothing to do"
  exit 0
fi
if [ "$served" != "$last_good" ]; then
  echo "production serves $served but the last known good release is $last_good (an earlier attempt was interrupted)"
fi

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$release"
echo "$version" > "$release/VERSION"
switch_to "$version"
# DEFECT (negative control): the state file is written before the health check.
jq -n --arg cur "$version" --arg prev "$last_good" --arg start "$started" --arg runner "$runner" \
  --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{current_version: $cur, previous_version: $prev, deploy_start: $start,
    last_deploy_timestamp: $now, deploy_runner: $runner, deployed_by: "github-actions"}' > "$app/.state.tmp"
# /var/lib is not the deploy user's to create files in: rewrite the state file in place.
cat "$app/.state.tmp" > "$state"
rm -f "$app/.state.tmp"

if ! healthy_at "$version"; then
  if [ -d "$app/releases/$last_good" ]; then
    switch_to "$last_good"
    if healthy_at "$last_good"; then
      echo "ROLLBACK: $version failed its health check; rolled back to $last_good" >&2
    else
      echo "ROLLBACK FAILED: $version failed its health check and $last_good is not healthy either" >&2
    fi
  else
    echo "ROLLBACK IMPOSSIBLE: $version failed its health check and $last_good is not installed" >&2
  fi
  exit 3
fi

echo "activated $version (previous $last_good)"
