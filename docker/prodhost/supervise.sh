#!/bin/bash
# The backend's supervisor loop (runs as the deploy user, started by the entrypoint): starts the
# backend, records its pid and start time in /run/app/, and starts it again whenever it exits.
# `kill $(cat /run/app/backend.pid)` is therefore a restart (the pipeline's `app-service restart`
# does that and waits for the new pid); the new process reads the version again at its start.
set -u
run=/run/app
mkdir -p "$run"
while true; do
  python3 /opt/app-server/app.py --port 8080 &
  pid=$!
  # start time first, then the pid: whoever sees the new pid also sees its start time
  date +%s.%N > "$run/backend.started_at.tmp" && mv -f "$run/backend.started_at.tmp" "$run/backend.started_at"
  echo "$pid" > "$run/backend.pid.tmp" && mv -f "$run/backend.pid.tmp" "$run/backend.pid"
  wait "$pid"
  echo "backend (pid $pid) exited with status $?; starting it again" >&2
  sleep 0.1
done
