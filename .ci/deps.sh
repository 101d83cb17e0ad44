#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Metron needs, only those missing.
#   .ci/deps.sh build   what building and running the app needs
#   .ci/deps.sh test    that, plus what the test suite needs (Xvfb, a window manager, xdotool, ...)
#   .ci/deps.sh windows what building for Windows and testing under Wine needs (.ci/windows.sh)
#   .ci/deps.sh wayland the headless compositors and Wayland clients of the Wayland sensor tests
#   .ci/deps.sh package building the .deb and .rpm packages and their install test
set -euo pipefail

build_pkgs=(build-essential pkg-config curl libssl-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev
  librsvg2-dev libxdo-dev libxtst-dev libx11-dev libxi-dev libdbus-1-dev)
test_pkgs=(xvfb openbox xdotool xautomation x11-utils webkit2gtk-driver dbus-x11 sqlite3 postgresql postgresql-contrib python3-venv dbus systemd gnome-keyring libsecret-tools dunst
  chromium chromium-driver firefox-esr zip nginx openssl nodejs)

# Debian's Rust with the standard library's sources (rustup's toolchain here has no Windows
# std), the mingw linker, Wine to run the results, NSIS for the installer.
windows_pkgs=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64 nsis xvfb xdotool openbox)

# Headless compositors (sway: wlroots; kwin_wayland; mutter) and the Wayland clients that
# type (wtype) and show a window (foot) in them.
wayland_pkgs=(sway wtype foot wayland-utils dbus mutter kwin-wayland gnome-shell python3-gi)

# Building the packages (dpkg-shlibdeps, rpmbuild) and installing them on a clean Debian 12
# root (debootstrap); the desktop entry's and the service unit's checks.
package_pkgs=(dpkg-dev rpm debootstrap desktop-file-utils systemd binutils curl)

case "${1:-build}" in
  build) want=("${build_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  windows) want=("${windows_pkgs[@]}") ;;
  wayland) want=("${wayland_pkgs[@]}") ;;
  package) want=("${package_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|windows|wayland|package" >&2; exit 2 ;;
esac

# The sign-in tests' OpenID provider runs on Node.js with npm: Debian's npm package, unless a
# Node.js from elsewhere (NodeSource's bundles npm, and conflicts with Debian's) already has it.
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null 2>&1; then want+=(npm); fi

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
