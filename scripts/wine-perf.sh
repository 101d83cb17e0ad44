#!/usr/bin/env bash
# Measures the Windows resident process under Wine 8 (not Windows), as docs/PERFORMANCE.md
# reports: `metron-tray.exe` in local mode tracking a task, its RSS and CPU (utime+stime of
# the Wine process that runs it) over SECONDS seconds, after a 10 s settle.
# Needs the Windows build of `.ci/windows.sh` (in its build cache, .ci/cache.sh).
# Usage: scripts/wine-perf.sh [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TRACKED=${1:-60}
. .ci/wine/env.sh
trap wine_down EXIT
wine_up
export METRON_PERF_SECS=$((SECONDS_TRACKED + 20))
"${cargo[@]}" test "${build_std[@]}" --workspace --test process -- --ignored --nocapture \
  tracking_for_the_performance_script > /tmp/metron-wine-perf.log 2>&1 &
runner=$!
until grep -q '^tracking' /tmp/metron-wine-perf.log 2>/dev/null; do
  kill -0 "$runner" 2>/dev/null || { cat /tmp/metron-wine-perf.log; exit 1; }
  sleep 0.5
done
pid=$(pgrep -f 'metron-tray\.exe' | head -1)
# Wine's own server does part of every program's system calls: counted beside it.
server=$(pgrep -x wineserver64 | head -1)
sleep 10
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks "$pid"); s0=$(ticks "$server")
sleep "$SECONDS_TRACKED"
t1=$(ticks "$pid"); s1=$(ticks "$server")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
pct() { python3 -c "print(round(100 * ($2 - $1) / $hz / $SECONDS_TRACKED, 2))"; }
echo "metron-tray.exe under Wine 8, tracking for $SECONDS_TRACKED s: RSS $((rss / 1024)) MiB," \
  "CPU $(pct "$t0" "$t1") % of one core (wineserver: $(pct "$s0" "$s1") %)"
wait "$runner"
