# Sourced by the desktop measurement scripts (desktop-perf.sh, desktop-soak.sh): builds
# `metron` and `metron-tray` --release, starts Xvfb, openbox, a session bus and tauri-driver
# with the app's dirs in a temporary folder, stops all of it on exit, and defines the WebDriver
# calls they use. Sets APP (the window binary), TMP, WD (tauri-driver's address).
cargo build --release --locked -p metron -p metron-tray >/dev/null
APP=$(pwd)/target/release/metron
TMP=$(mktemp -d)
N=$(for n in $(seq 150 400); do [ -e /tmp/.X11-unix/X$n ] || { echo $n; break; }; done)
export DISPLAY=:$N
Xvfb "$DISPLAY" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 & XVFB=$!
sleep 1
openbox >/dev/null 2>&1 & WM=$!
eval "$(dbus-launch --sh-syntax)"
export METRON_DATA_DIR=$TMP/data METRON_CONFIG_DIR=$TMP/config METRON_LOG_DIR=$TMP/logs NO_AT_BRIDGE=1
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$HOME/.cargo/bin/tauri-driver" --port "$PORT" >/dev/null 2>&1 & DRIVER=$!
cleanup() { kill $DRIVER $WM $XVFB "$DBUS_SESSION_BUS_PID" 2>/dev/null || true; pkill -f "$APP" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
sleep 1
WD=http://127.0.0.1:$PORT
# A WebDriver session, which starts a window process (and, if none runs, the resident one).
new_session() {
  curl -s -X POST "$WD/session" -H 'content-type: application/json' \
    -d "{\"capabilities\":{\"alwaysMatch\":{\"tauri:options\":{\"application\":\"$APP\"}}}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"]["sessionId"])'
}
find_el() { curl -s -X POST "$WD/session/$1/element" -H 'content-type: application/json' -d "{\"using\":\"css selector\",\"value\":\"$2\"}" | python3 -c 'import json,sys; v=json.load(sys.stdin)["value"]; print(v.get("element-6066-11e4-a52e-4f735466cecf",""))'; }
click() { curl -s -X POST "$WD/session/$1/element/$2/click" -H 'content-type: application/json' -d '{}' >/dev/null; }
