#!/usr/bin/env bash
# Storage one person-month of tracked time takes (documented in docs/PERFORMANCE.md).
#   crates/metron-server/benches/load/storage.sh sqlite|postgres
# Env: METRON_BENCH_SERVER (a release binary to measure instead of building this checkout's),
# METRON_BENCH_MONTH (YYYY-MM, default month.py's: two months before this one; must be inside
# the retention, the late-delivery limit and not in the future; see month.py).
# Seeds a fresh database with one person (token "bench-token-0"), serves it on loopback, posts
# the month of month.py through the API (every interval must be accepted), stops the server and
# prints the raw figures (measure.py). Then serves it once more with --retention-days 1, whose
# first retention run (at start) keeps every day of the month as a day_aggregates row and
# deletes its intervals, and prints the figures after retention.
set -euo pipefail
kind=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
pid=
cleanup() { [ -n "$pid" ] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }; [ "$kind" = postgres ] && pg_test_stop; rm -rf "$work"; }
trap cleanup EXIT
# serve [FLAGS...]: starts the server, sets pid and addr.
serve() {
  : >"$work/out"; : >"$work/log"
  RUST_LOG=${log:-warn} "$server" --db "$db" serve --listen 127.0.0.1:0 "$@" >"$work/out" 2>"$work/log" &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/out" && break; sleep 0.1; done
  addr=$(sed -n 's/^listening on //p' "$work/out")
  [ -n "$addr" ] || { cat "$work/log" >&2; echo "the server did not start" >&2; exit 1; }
}
stop() { kill $pid; wait $pid || true; pid=; }

task=$(python3 "$here/seed.py" "$server" "$db" 1)
serve
python3 "$here/month.py" "http://$addr" bench-token-0 "$task" ${METRON_BENCH_MONTH:+"$METRON_BENCH_MONTH"}
stop
echo "== raw ($kind)"
python3 "$here/measure.py" "$db"

# Retention runs when serve starts and then hourly; with one day kept, the whole month is old.
log=metron_server=info serve --retention-days 1
for _ in $(seq 600); do grep -q "retention: old days kept as aggregates" "$work/log" "$work/out" && break; sleep 0.1; done
grep -h "retention: old days kept" "$work/log" "$work/out" || { cat "$work/log" >&2; echo "retention did not run" >&2; exit 1; }
stop
echo "== after retention ($kind)"
python3 "$here/measure.py" "$db"
