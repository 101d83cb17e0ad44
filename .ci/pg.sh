#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster owned by the test run, on 127.0.0.1:$METRON_PG_PORT
# (a free port by default), and exports METRON_TEST_PG (a superuser URL) for the tests.
# Source it: `. .ci/pg.sh`; `pg_test_stop` stops and removes the cluster.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
  echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
  return 1 2>/dev/null || exit 1
fi
# A free port unless one is given, so two test runs on one machine don't collide.
port=${METRON_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
pg_dir=$(mktemp -d /tmp/metron-pg.XXXXXX)
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$pg_dir"
run_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" start >/dev/null
export METRON_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
pg_test_stop() {
  run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
