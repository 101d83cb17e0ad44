#!/usr/bin/env bash
# Load benchmark of metron-server ingest (documented in docs/PERFORMANCE.md).
#   crates/metron-server/benches/load/load.sh sqlite|postgres DEVICES BATCH [SECONDS]
# Env: BENCH_CONNECTIONS (64), METRON_BENCH_SERVER (a release binary to measure instead of
# building this checkout's).
# Builds the release server, seeds a fresh database with DEVICES users, serves it on loopback,
# runs wrk (Debian package) with the script beside this file, prints wrk's latency report, and
# counts the intervals actually stored, so a fast run that stored nothing can't pass unnoticed.
set -euo pipefail
kind=$1 devices=$2 batch=$3 seconds=${4:-10}
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
. "$here/common.sh"
task=$(python3 "$here/seed.py" "$server" "$db" "$devices")
RUST_LOG=warn "$server" --db "$db" serve --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!
cleanup() { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; [ "$kind" = postgres ] && pg_test_stop; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/out" && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$work/out")
# Intervals from BENCH_AGO_HOURS ago on, recent as an agent's deliveries are (the writers
# remember the window names of today and yesterday); at these rates a 10 s run covers at most
# 8 hours of each device, so 9 hours back never reaches now. By default they start today (UTC)
# when today has 9 hours behind it, as live deliveries do, else 20 hours back, in yesterday:
# an interval that started before today runs PostgreSQL's kept-days trigger (migration 0021),
# so the day is said below. Longer runs need more hours (at most 47).
now=$(date +%s)
if [ -n "${BENCH_AGO_HOURS:-}" ]; then ago=$BENCH_AGO_HOURS
elif (( now % 86400 >= 9 * 3600 )); then ago=9
else ago=20; fi
base=$(( now - ago * 3600 ))
if (( base / 86400 == now / 86400 )); then day="today"; else day="yesterday: PostgreSQL's kept-days trigger runs for every statement"; fi
echo "intervals from $(date -u -d "@$base" +%FT%TZ), $ago hours ago ($day)"
export BENCH_TASK=$task BENCH_DEVICES=$devices BENCH_BATCH=$batch BENCH_THREADS=2 BENCH_BASE=$base
wrk -t2 -c"${BENCH_CONNECTIONS:-64}" -d"${seconds}s" --latency -s "$here/ingest.lua" "http://$addr"
if [ "$kind" = sqlite ]; then
  stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from intervals').fetchone()[0])" "$db")
else
  stored=$(psql -tA "$db" -c "select count(*) from intervals")
fi
echo "intervals stored: $stored"
