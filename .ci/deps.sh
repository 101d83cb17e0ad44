#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Metron needs, only those missing.
#   .ci/deps.sh build   what building and running the app needs
#   .ci/deps.sh test    that, plus what the test suite needs (Xvfb, a window manager, xdotool, ...)
set -euo pipefail

build_pkgs=(build-essential pkg-config curl libssl-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev
  librsvg2-dev libxdo-dev libxtst-dev libx11-dev libxi-dev libdbus-1-dev)
test_pkgs=(xvfb openbox xdotool x11-utils webkit2gtk-driver dbus-x11 sqlite3 postgresql postgresql-contrib python3-venv dbus systemd gnome-keyring libsecret-tools dunst
  chromium chromium-driver nginx openssl)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
