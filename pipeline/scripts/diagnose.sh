#!/usr/bin/env bash
# Classify a failed deploy from its output and say what to do: class, severity, runner,
# resources at failure, runbook. Writes the job summary, an error annotation and outputs.
# Classes (pipeline spec, US2): network_connectivity, authentication, disk_space,
# memory_exhaustion (critical); timeout, unknown (high).
set -uo pipefail
log=${1:?usage: diagnose.sh <output log>}
text=$(cat "$log" 2>/dev/null || true)
shopt -s nocasematch
if [[ $text =~ (connection refused|connection timed out|no route to host|could not resolve host|network is unreachable) ]]; then
  class=network_connectivity severity=critical runbook=runner-network-unreachable
elif [[ $text =~ (permission denied|authentication fail|invalid credential|credential missing|certificate (has )?expired|expired at) ]]; then
  class=authentication severity=critical runbook=secrets-expired-rotation
elif [[ $text =~ (no space left on device) ]]; then
  class=disk_space severity=critical runbook=runner-degraded-resources
elif [[ $text =~ (out of memory|cannot allocate memory) ]]; then
  class=memory_exhaustion severity=critical runbook=runner-degraded-resources
elif [[ $text =~ (timed out|timeout) ]]; then
  class=timeout severity=high runbook=production-deployment-failures
else
  class=unknown severity=high runbook=production-deployment-failures
fi
shopt -u nocasematch

cpu=$(cut -d' ' -f1 /proc/loadavg)
mem=$(awk '/MemTotal/ {t=$2} /MemAvailable/ {a=$2} END {printf "%.0f", 100*(t-a)/t}' /proc/meminfo)
disk=$(df -P "${GITHUB_WORKSPACE:-.}" | awk 'NR==2 {print $5}')
runbook_path="runbooks/$runbook.md"

{
  echo "## Deploy failure: $class ($severity)"
  echo
  echo "| field | value |"
  echo "|---|---|"
  echo "| class | $class |"
  echo "| severity | $severity |"
  echo "| runner | ${RUNNER_NAME:-unknown} |"
  echo "| load (1 min) | $cpu |"
  echo "| memory used | ${mem}% |"
  echo "| disk used | $disk |"
  echo "| runbook | $runbook_path |"
} >> "${GITHUB_STEP_SUMMARY:-/dev/stdout}"
echo "class=$class" >> "${GITHUB_OUTPUT:-/dev/null}"
echo "severity=$severity" >> "${GITHUB_OUTPUT:-/dev/null}"
echo "::error title=Deploy failure ($class, $severity)::runner ${RUNNER_NAME:-unknown}; follow $runbook_path"
