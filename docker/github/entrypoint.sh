#!/bin/bash
# Start the control plane, then a GitHub-hosted runner (labels ubuntu-latest) next to it.
set -u
python3 -m harness.github.server --host 0.0.0.0 --port 8000 &
server=$!
RUNNER_NAME="${HOSTED_RUNNER_NAME:-github-hosted-1}" \
RUNNER_LABELS="${HOSTED_RUNNER_LABELS:-ubuntu-latest,linux,x64,github-hosted}" \
GITHUB_URL="http://127.0.0.1:8000" \
RUNNER_WORK_DIR=/tmp/hosted-work \
  python3 -m harness.github.agent &
wait "$server"
