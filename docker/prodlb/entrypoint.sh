#!/bin/bash
# nginx resolves upstream names once, at start, and refuses to start when one does not resolve:
# the web hosts are created in parallel with the lb, so wait (up to 60 s) until both names do.
set -eu
for _ in $(seq 1 600); do
  if getent hosts prod-web-1 >/dev/null && getent hosts prod-web-2 >/dev/null; then
    exec nginx -g 'daemon off;'
  fi
  sleep 0.1
done
echo "prod-lb: prod-web-1 / prod-web-2 did not resolve within 60 s" >&2
exit 1
