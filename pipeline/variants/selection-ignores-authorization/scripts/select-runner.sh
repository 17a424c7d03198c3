#!/usr/bin/env bash
# Runner health gate and selection. Picks the primary production runner when Prometheus
# shows it healthy (scrape target up AND runner_status == 1 AND authorized for production),
# else the pre-approved secondary; fails fast when neither is healthy.
# Policy when Prometheus is unreachable: FAIL CLOSED (no deploy without evidence of health).
# Writes `labels` (JSON list for runs-on) and `role` to $GITHUB_OUTPUT.
set -euo pipefail

: "${PROMETHEUS_URL:?PROMETHEUS_URL is not set (repository variable PROMETHEUS_URL)}"

healthy() {
  local role=$1 query body
  query="up{job=\"github-runners\",runner=\"$role\"} == 1 and on(instance) runner_status{runner=\"$role\"} == 1"
  if ! body=$(curl -fsS --max-time 5 -G "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$query"); then
    echo "::error::Prometheus unreachable at $PROMETHEUS_URL; failing closed: no runner health evidence"
    exit 2
  fi
  [ "$(jq -r '.data.result | length' <<<"$body")" -gt 0 ]
}

# DEFECT (negative control): the candidates are every runner Prometheus scrapes (primary
# first, then by name) and authorized_for_prod is never checked.
for role in primary $(curl -fsS --max-time 5 "$PROMETHEUS_URL/api/v1/label/runner/values" | jq -r '.data[]' | grep -vx primary | sort); do
  if healthy "$role"; then
    echo "selected runner role: $role"
    echo "labels=[\"self-hosted\",\"production\",\"$role\"]" >> "$GITHUB_OUTPUT"
    echo "role=$role" >> "$GITHUB_OUTPUT"
    exit 0
  fi
  echo "runner $role is not healthy (Prometheus: target down, runner_status 0, or not authorized)"
done
echo "::error::no healthy authorized production runner (primary and secondary both unhealthy); see runbooks/runner-offline-restore.md"
exit 1
