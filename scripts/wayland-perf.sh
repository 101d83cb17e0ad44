#!/usr/bin/env bash
# Measures the resident process (`metron-tray`, release build) tracking in a headless sway
# session, as docs/PERFORMANCE.md reports: CPU (utime+stime over SECONDS of tracking) and
# memory (RSS, PSS). The Wayland sensors run (idle notifications, the toplevel list), a foot
# window is in front, and the tray finds no host (sway has no panel). Runs as root; sway runs
# as the user `metron-wayland`, as in the Wayland sensor tests.
# Needs `.ci/deps.sh wayland`. Usage: scripts/wayland-perf.sh [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TRACKED=${1:-60}
cargo build --release --locked -p metron-tray >/dev/null
BIN=$(pwd)/target/release/metron-tray
USER_=metron-wayland
id "$USER_" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_"
TMP=$(mktemp -d)
RUN=$TMP/run
mkdir -p "$RUN" && chown "$USER_" "$RUN" && chmod 700 "$RUN"
printf 'xwayland disable\noutput HEADLESS-1 resolution 1280x800\n' > "$TMP/sway.conf"
chmod 755 "$TMP" && chmod 644 "$TMP/sway.conf"
runuser -u "$USER_" -- env XDG_RUNTIME_DIR="$RUN" WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 \
  WLR_RENDERER=pixman sway -c "$TMP/sway.conf" >/dev/null 2>&1 &
cleanup() { pkill -f "$BIN" || true; pkill -u "$USER_" || true; kill "${FOOT:-}" "${DBUS_SESSION_BUS_PID:-}" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
until [ -S "$RUN/wayland-1" ]; do sleep 0.1; done
export XDG_RUNTIME_DIR=$RUN WAYLAND_DISPLAY=wayland-1 NO_AT_BRIDGE=1
unset DISPLAY
foot --app-id metron-perf --title "Quarterly plan" sleep 3600 >/dev/null 2>&1 & FOOT=$!
eval "$(dbus-launch --sh-syntax)"
export METRON_DATA_DIR=$TMP/data METRON_CONFIG_DIR=$TMP/config METRON_LOG_DIR=$TMP/logs
"$BIN" --hidden >/dev/null 2>&1 &
until [ -S "$METRON_DATA_DIR/desktop.sock" ]; do sleep 0.1; done
# The window's link: local mode, a task, Start.
python3 - "$METRON_DATA_DIR/desktop.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def call(i, cmd, args=None):
    msg = {"id": i, "cmd": cmd}
    if args is not None: msg["args"] = args
    f.write(json.dumps(msg) + "\n"); f.flush()
    while True:
        m = json.loads(f.readline())
        if m.get("type") == "reply" and m.get("id") == i:
            if "Err" in m["result"]: sys.exit(f"{cmd}: {m['result']['Err']}")
            return m["result"].get("Ok")
call(1, "work_locally")
tasks = call(2, "refresh_tasks")
call(3, "start", {"task_id": tasks[0]["id"]})
PY
PID=$(pgrep -f "^$BIN" | head -1)
sleep 5
hz=$(getconf CLK_TCK)
a=$(awk '{print $14+$15}' /proc/"$PID"/stat)
sleep "$SECONDS_TRACKED"
b=$(awk '{print $14+$15}' /proc/"$PID"/stat)
echo "sensors: $(sqlite3 "$METRON_DATA_DIR/agent.sqlite" "SELECT value FROM meta WHERE key='sensors'" 2>/dev/null || echo '?')"
python3 -c "print(f'backend CPU: {100*($b-$a)/$hz/$SECONDS_TRACKED:.3f} % of a core over $SECONDS_TRACKED s')"
echo "memory: RSS $(( $(awk '/^VmRSS/ {print $2}' /proc/"$PID"/status) / 1024 )) MiB, PSS $(( $(awk '/^Pss:/ {print $2}' /proc/"$PID"/smaps_rollup) / 1024 )) MiB"
