#!/usr/bin/env bash
# Metron's single-interval ingest on SQLite against ActivityWatch's aw-server-rust storing one
# event a request, in the same run on the same machine (docs/PERFORMANCE.md, issue 30).
#   crates/metron-server/benches/load/versus-aw.sh AW_SERVER_BIN [CONNECTIONS] [SECONDS]
# AW_SERVER_BIN is an aw-server you built yourself (release) from
# https://github.com/ActivityWatch/aw-server-rust; nothing of it is kept here. Each side gets a
# fresh database, wrk with 2 threads, CONNECTIONS connections (16) for SECONDS (10), and the rows
# each stored are counted afterwards. Metron's side is load.sh with 1,000 devices.
set -euo pipefail
aw=$1 connections=${2:-16} seconds=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$aw" --testing --port "$port" --dbpath "$work/aw.sqlite" --no-legacy-import >"$work/aw.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/0/info" >/dev/null && break; sleep 0.1; done
curl -sf -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$port/api/0/buckets/bench" \
  -d '{"client":"bench","type":"currentwindow","hostname":"bench"}' >/dev/null
echo "== aw-server-rust: one event a request, $connections connections"
BENCH_BASE=$(( $(date +%s) - 30 * 86400 )) \
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$here/aw-events.lua" "http://127.0.0.1:$port"
# aw-server commits every 100 events or 15 s and on a clean stop: stop it, then count.
kill -INT $pid; wait $pid 2>/dev/null || true
echo "events stored: $(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from events').fetchone()[0])" "$work/aw.sqlite")"
echo "== metron-server: one interval a request, 1,000 devices, $connections connections"
BENCH_CONNECTIONS=$connections "$here/load.sh" sqlite 1000 1 "$seconds"
