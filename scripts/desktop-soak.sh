#!/usr/bin/env bash
# The resident process over a long day, as docs/PERFORMANCE.md reports it (issue: bounded
# resources on the desktop). Release build, under Xvfb + openbox with a session bus, local mode:
# tracking for MINUTES minutes with input every 20 s (so the idle rule never stops it), the window
# opened and closed (alt+F4, to the tray) CYCLES times spread over the run. Every minute it
# samples the `metron-tray` process: RSS, PSS, anonymous memory and threads; at the end it prints
# the table, the peak and the last sample.
# Needs what `.ci/deps.sh test` installs, plus tauri-driver (`.ci/test.sh` installs it).
# Usage: scripts/desktop-soak.sh [MINUTES=60] [CYCLES=10]   (outside the test command: it takes
# the hour it measures)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-60}
CYCLES=${2:-10}
. scripts/desktop-session.sh
close_window() {
  local w; w=$(xdotool search --onlyvisible --name '^Metron$' | head -1)
  if [ -n "$w" ]; then xdotool windowactivate --sync "$w"; xdotool key alt+F4; fi
  sleep 3
  curl -s -X DELETE "$WD/session/$1" >/dev/null || true
}

# The first window starts the resident process; tracking starts from it.
S=$(new_session)
until [ -n "$(find_el "$S" '#tasks li:first-child button')" ]; do sleep 0.2; done
click "$S" "$(find_el "$S" '#tasks li:first-child button')"
sleep 3
PID=$(pgrep -f "^$APP-tray" | head -1)
close_window "$S"

sample() {
  awk -v m="$1" '
    FILENAME ~ /status$/ && /^VmRSS/ {rss=$2} FILENAME ~ /status$/ && /^Threads/ {th=$2}
    FILENAME ~ /smaps_rollup$/ && /^Pss:/ {pss=$2} FILENAME ~ /smaps_rollup$/ && /^Anonymous:/ {anon=$2}
    END {printf "%5d  %6.1f  %6.1f  %6.1f  %3d\n", m, rss/1024, pss/1024, anon/1024, th}
  ' /proc/"$PID"/status /proc/"$PID"/smaps_rollup
}
echo "minute  RSS MiB  PSS MiB  anon MiB  threads"
every=$(( MINUTES / CYCLES )); [ "$every" -ge 1 ] || every=1
opened=0
for m in $(seq 0 "$MINUTES"); do
  [ -d /proc/"$PID" ] || { echo "metron-tray exited"; exit 1; }
  sample "$m"
  [ "$m" -lt "$MINUTES" ] || break
  if [ "$opened" -lt "$CYCLES" ] && [ $(( m % every )) -eq 0 ]; then
    S=$(new_session)
    until [ -n "$(find_el "$S" '#view-main:not([hidden]) #session')" ]; do sleep 0.2; done
    sleep 5
    close_window "$S"
    opened=$((opened + 1))
  fi
  # Input every 20 s for the rest of the minute: the tracker must not stop for idle. A key
  # press through XTEST (a pointer warp, xdotool's mousemove, is no input to XInput 2).
  end=$(( $(date +%s) + 60 - 10 ))
  while [ "$(date +%s)" -lt "$end" ]; do xdotool key shift; sleep 20; done
  sleep 10
done | tee "$TMP/soak.txt"
echo "windows opened and closed: $CYCLES; tracking: $(python3 - "$METRON_DATA_DIR" <<'PY'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}/agent.sqlite?mode=ro", uri=True)
n, secs = c.execute("select count(*), coalesce(sum(ended_at - started_at), 0) from intervals").fetchone()
print(f"{n} intervals, {secs // 60} min stored")
PY
)"
sort -k2 -n "$TMP/soak.txt" | tail -1 | awk '{print "peak RSS " $2 " MiB (minute " $1 ")"}'
tail -1 "$TMP/soak.txt" | awk '{print "last: RSS " $2 " MiB, PSS " $3 " MiB, anonymous " $4 " MiB, " $5 " threads"}'
