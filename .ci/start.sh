#!/usr/bin/env bash
# Runs Metron: installs what is missing, builds the desktop app (release) and launches it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh build
export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No graphical session (DISPLAY is unset). Run this from your desktop, or use the headless tracker:"
  echo "  cargo run --release -p metron-agent -- track --task my-task"
  exit 1
fi
cargo build --release --locked -p metron -p metron-tray
# The resident process (tracker, tray) opens the window; closing the window keeps it in the tray.
exec target/release/metron-tray
