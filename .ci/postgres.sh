#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1:$1 for the score-history tests.
# Uses Debian's server binaries; the data folder lives in /tmp and is owned by 'postgres'.
set -euo pipefail
port=${1:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
data=/tmp/leadml-pg-$port
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  echo "PostgreSQL already running on 127.0.0.1:$port"; exit 0
fi
rm -rf "$data"; mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
as_pg "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null
as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data" start >/dev/null
as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE ROLE leadml LOGIN PASSWORD 'leadml'" 
as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE leadml_test OWNER leadml"
echo "PostgreSQL running on 127.0.0.1:$port (database leadml_test)"
