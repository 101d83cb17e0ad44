#!/usr/bin/env bash
# The tracker's own CPU cost with its Linux X11 sensors (issue 15): `metron-agent track`
# (release build) under Xvfb + openbox, with XInput 2 listening for raw input, the window
# sensor, the browser-tab check and the idle-inhibitor poll on a session bus, and no input.
#   usage: scripts/sensor-cost.sh [SECONDS]     (default 60)
# Prints the sensors the tracker chose, then utime+stime over SECONDS as % of one core,
# first with no input, then with a key press every second (XTEST) for the same time.
set -euo pipefail
secs=${1:-60}
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p metron-agent
work=$(mktemp -d)
display=:$((90 + RANDOM % 100))
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
pids=()
trap cleanup EXIT
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1
export DISPLAY=$display
openbox >/dev/null 2>&1 &
pids+=($!)
xmessage -title "sensor cost" "Quarterly plan" >/dev/null 2>&1 &
pids+=($!)
eval "$(dbus-launch --sh-syntax)"
pids+=("$DBUS_SESSION_BUS_PID")
sleep 2
target/release/metron-agent --data-dir "$work/data" track --task cost 2>"$work/track.log" &
agent=$!
pids+=("$agent")
sleep 5
target/release/metron-agent --data-dir "$work/data" status | grep -i "activity from\|presence\|sensor" || true
hz=$(getconf CLK_TCK)
cpu() {
  local a b
  a=$(awk '{print $14+$15}' /proc/"$agent"/stat)
  sleep "$secs"
  b=$(awk '{print $14+$15}' /proc/"$agent"/stat)
  awk -v t=$((b - a)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.3f %% of a core (%d ticks in %d s)\n", 100 * t / hz / s, t, s }'
}
echo "no input: $(cpu)"
( for _ in $(seq "$secs"); do xdotool key shift; sleep 1; done ) &
typer=$!
echo "a key a second: $(cpu)"
wait "$typer" || true
echo "rss: $(awk '/^VmRSS/ {print $2, $3}' /proc/"$agent"/status)"
