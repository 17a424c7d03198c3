#!/bin/bash
# Build time: create role and database `app`, the schema_state table, and apply release 1.0.0's
# up.sql exactly as a deploy would (one transaction, as the app role).
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/15/main
conf=/etc/postgresql/15/main/postgresql.conf
mkdir -p /run/postgresql && chown postgres:postgres /run/postgresql
python3 /opt/proddb/bundles.py sql up 1.0.0 > /opt/proddb/up-1.0.0.sql
su postgres -c "$bin/pg_ctl -D $data -o '-c config_file=$conf' -w -t 60 start"
su postgres -c "psql -X -v ON_ERROR_STOP=1 -c 'CREATE ROLE app LOGIN' -c 'CREATE DATABASE app OWNER app'"
# the monitoring role (postgres exporter): no password, so only the local socket's peer auth lets it
# in; it may read (never write) every table the app creates, deploy_txn included
su postgres -c "psql -X -v ON_ERROR_STOP=1 -d app -c 'CREATE ROLE prometheus LOGIN' \
  -c 'ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA public GRANT SELECT ON TABLES TO prometheus'"
su postgres -c "PGOPTIONS='-c role=app' psql -X -v ON_ERROR_STOP=1 -d app -f /opt/proddb/init.sql"
su postgres -c "PGOPTIONS='-c role=app' psql -X -1 -v ON_ERROR_STOP=1 -d app -f /opt/proddb/up-1.0.0.sql"
test "$(su postgres -c "psql -X -tA -d app -c 'SELECT release FROM schema_state'")" = 1.0.0
su postgres -c "$bin/pg_ctl -D $data -m fast -w stop"
