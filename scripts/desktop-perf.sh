#!/usr/bin/env bash
# Measures the desktop app (release build) under Xvfb + openbox, as docs/PERFORMANCE.md reports:
#   1. launch to counter visible: from the WebDriver "new session" request (which starts the
#      app) to the main view's session counter being in the page, median of RUNS launches;
#   2. backend CPU while tracking: utime+stime of the resident `metron-tray` process (tracker,
#      uploader, local server, tray) over SECONDS seconds of tracking, with the window shown
#      and then closed to the tray;
#   3. memory of all the app's processes (metron-tray; the window `metron` and WebKit's
#      children while shown), RSS and PSS, with the window shown and closed to the tray.
# Needs what `.ci/deps.sh test` installs, plus tauri-driver (`.ci/test.sh` installs it).
# Usage: scripts/desktop-perf.sh [RUNS=5] [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
SECONDS_TRACKED=${2:-60}
. scripts/desktop-session.sh
now() { date +%s.%N; }

echo "== launch to counter visible ($RUNS launches)"
times=()
for i in $(seq 1 "$RUNS"); do
  t0=$(now)
  S=$(new_session)
  until [ -n "$(find_el "$S" '#view-main:not([hidden]) #session')" ]; do sleep 0.02; done
  t1=$(now)
  times+=("$(python3 -c "print(round(($t1-$t0)*1000))")")
  curl -s -X DELETE "$WD/session/$S" >/dev/null
  # The resident process stays in the tray after its window; end it for a cold next launch.
  pkill -TERM -f "^$APP-tray" || true
  sleep 2
done
echo "launch to counter visible (ms): ${times[*]}; median $(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS+1)/2 ))p")"

# One more launch, kept: start tracking, measure.
S=$(new_session)
until [ -n "$(find_el "$S" '#tasks li:first-child button')" ]; do sleep 0.1; done
click "$S" "$(find_el "$S" '#tasks li:first-child button')"
WINDOW=$(pgrep -f "^$APP\$" | head -1)
PID=$(pgrep -f "^$APP-tray" | head -1)
tree() { local p=$1; echo "$p"; for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done; }
procs() { { tree "$PID"; [ -d /proc/"$WINDOW" ] && tree "$WINDOW"; } | sort -u; }
mem() {
  local rss=0 pss=0
  for p in $(procs); do
    rss=$((rss + $(awk '/^VmRSS/ {print $2}' /proc/"$p"/status)))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup)))
  done
  echo "RSS $((rss / 1024)) MiB, PSS $((pss / 1024)) MiB ($(for p in $(procs); do printf '%s ' "$(cat /proc/"$p"/comm)"; done))"
}
cpu() {
  local hz; hz=$(getconf CLK_TCK)
  local a b; a=$(awk '{print $14+$15}' /proc/"$PID"/stat)
  sleep "$SECONDS_TRACKED"
  b=$(awk '{print $14+$15}' /proc/"$PID"/stat)
  python3 -c "print(f'{100*($b-$a)/$hz/$SECONDS_TRACKED:.3f} % of a core over $SECONDS_TRACKED s')"
}
sleep 5
echo "== window shown, tracking"
echo "memory: $(mem)"
echo "backend CPU: $(cpu)"
W=$(xdotool search --onlyvisible --name '^Metron$' | head -1)
xdotool windowactivate --sync "$W"; xdotool key alt+F4
sleep 5
echo "== window closed to the tray, tracking"
echo "memory: $(mem)"
echo "backend CPU: $(cpu)"
