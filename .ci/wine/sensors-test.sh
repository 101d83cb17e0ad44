#!/usr/bin/env bash
# The Windows sensors under Wine (called by .ci/windows.sh, after wine_up): Wine's notepad in
# front under openbox, xdotool typing into it and moving the mouse, and the Windows
# `metron-agent.exe track` recording. Metron's low-level hooks must count the keys and moves,
# and active-win-pos-rs must name the window's program; nothing typed may be stored.
#   .ci/wine/sensors-test.sh BIN_DIR
set -euo pipefail
bin=$1
wine=/usr/lib/wine/wine64
work=$(mktemp -d)
openbox >/dev/null 2>&1 &
wm=$!
trap 'kill $wm 2>/dev/null || true; rm -rf "$work"' EXIT
"$wine" notepad >/dev/null 2>&1 &
# Under load (the Wine test run just before) notepad can take a while: wait for it, and fail
# clearly rather than type into nothing.
up() { for _ in $(seq 1 120); do "$@" && return 0; sleep 0.5; done; return 1; }
up xdotool search --name Notepad >/dev/null 2>&1 || { echo "notepad did not open" >&2; exit 1; }
"$wine" "$bin/metron-agent.exe" --data-dir "$work/data" --interval-range 5..6 track --task t \
  > "$work/track.log" 2>&1 &
up test -s "$work/data/agent.sqlite" || { echo "the tracker did not start: $(cat "$work/track.log")" >&2; exit 1; }
sleep 3
for i in $(seq 1 12); do
  xdotool search --name Notepad windowactivate --sync >/dev/null 2>&1 || true
  xdotool mousemove $((100 + i * 20)) 200 type "qz"
  sleep 1
done
echo "active window while typing: $(xdotool getactivewindow getwindowname 2>/dev/null || echo none)"
sleep 6
"$wine" "$bin/metron-agent.exe" --data-dir "$work/data" intervals --json > "$work/intervals.json"
# The tracker has no console to get Ctrl-Break from under Wine: its closed intervals are
# committed, so it is simply ended (as Windows' TerminateProcess would), notepad with it.
pkill -f 'metron-agent\.exe.*track' || true
pkill -f 'notepad\.exe' || true
python3 - "$work/intervals.json" "$work/data/agent.sqlite" <<'PY'
import json, sys
intervals = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert intervals, "no interval was recorded"
keys = sum(i["counts"]["keys"] for i in intervals)
moves = sum(i["counts"]["moves"] for i in intervals)
apps = {w["app"] for i in intervals for w in i["windows"]}
print(f"sensors under Wine: {len(intervals)} intervals, {keys} keys, {moves} moves, apps {sorted(apps)}")
assert keys > 0 and moves > 0, "the hooks saw no xdotool input"
assert "notepad" in apps, f"the foreground window was not notepad: {apps}"
# Metron's hooks tell origins apart: the intervals carry the injected part of their counts.
# xdotool's XTEST input reaches Wine as X device events, so Wine (and the hooks) see it as
# hardware; SendInput's injected flag has its own test (tests/agent/win_hooks.rs).
told = [i for i in intervals if i.get("injected_counts") is not None]
assert told, "no interval told hardware from injected input"
print(f"sensors under Wine: {len(told)} intervals told origins apart, "
      f"{sum(i['injected_counts']['keys'] for i in told)} injected keys")
store = open(sys.argv[2], "rb").read()
assert b"qzqz" not in store, "typed text reached the store"
PY
