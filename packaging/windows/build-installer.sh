#!/usr/bin/env bash
# Builds Metron-Setup-<version>.exe from the Windows binaries in BIN_DIR:
#   packaging/windows/build-installer.sh BIN_DIR OUT.exe
# (`bash .ci/windows.sh package` builds the release binaries and calls this.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "$1" && pwd)
out=$(realpath -m "$2")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
makensis -V2 -DVERSION="$version" -DBIN="$bin" -DOUT="$out" -DICON="$root/icons/icon.ico" \
  -DEXT="$root/packaging/browser-extension" \
  "$here/metron.nsi"
