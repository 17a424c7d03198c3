#!/bin/bash
# Set the run's password of role `app` in single-user mode (before the server accepts any
# connection, so there is no window without it), start the postgres exporter in the background,
# then run the server in the foreground.
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
# The exporter (as OS user and role prometheus, peer auth over the socket: no password) connects
# per scrape, so it may start before the server; the pipeline's queries when the topology gave any.
queries=/etc/dch/postgres-exporter/queries.yaml
args=(--web.listen-address=:9187 --disable-default-metrics --disable-settings-metrics
  --no-collector.database --no-collector.bgwriter --log.level=warn)
[ -f "$queries" ] && args+=("--extend.query-path=$queries")
dsn="user=prometheus host=/run/postgresql dbname=app sslmode=disable"
runuser -u prometheus -- env DATA_SOURCE_NAME="$dsn" /usr/bin/prometheus-postgres-exporter "${args[@]}" &
exec su postgres -c "exec $bin/postgres -D $data -c config_file=$conf"
