#!/bin/bash
# Set the run's password of role `app` in single-user mode (before the server accepts any
# connection, so there is no window without it), then run the server in the foreground.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/15/main
conf=/etc/postgresql/15/main/postgresql.conf
password=$(cat /etc/dch/db_password)
# the topology generates it URL-safe; anything else could break out of the SQL string below
if ! [[ $password =~ ^[A-Za-z0-9_-]{16,}$ ]]; then
  echo "prod-db: /etc/dch/db_password must be 16 or more of [A-Za-z0-9_-]" >&2
  exit 2
fi
mkdir -p /run/postgresql && chown postgres:postgres /run/postgresql
out=$(printf "ALTER ROLE app PASSWORD '%s';\n" "$password" \
  | su postgres -c "$bin/postgres --single -D $data -c config_file=$conf app" 2>&1)
if grep -q ERROR <<<"$out"; then
  echo "prod-db: setting the password of role app failed: $out" >&2
  exit 2
fi
exec su postgres -c "exec $bin/postgres -D $data -c config_file=$conf"
