# Sourced by load.sh and storage.sh: the server to measure and a fresh database for it.
# In: kind (sqlite|postgres), here (this directory). Sets root (the checkout, also the working
# directory), server (METRON_BENCH_SERVER, or this checkout's release build), work (a temporary
# directory the caller removes) and db (a SQLite path in it, or a database "bench" on the
# PostgreSQL cluster of .ci/pg.sh, which the caller stops with pg_test_stop).
root=$(cd "$here/../../../.." && pwd)
cd "$root"
if [ -n "${METRON_BENCH_SERVER:-}" ]; then
  server=$METRON_BENCH_SERVER
else
  cargo build -q --release --locked -p metron-server
  server=${CARGO_TARGET_DIR:-$root/target}/release/metron-server
fi
work=$(mktemp -d)
case $kind in
  sqlite) db=$work/bench.sqlite ;;
  postgres)
    . "$root/.ci/pg.sh"
    psql -q "$METRON_TEST_PG" -c "CREATE DATABASE bench"
    db=${METRON_TEST_PG%/*}/bench ;;
  *) echo "kind must be sqlite or postgres" >&2; exit 2 ;;
esac
