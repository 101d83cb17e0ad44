#!/usr/bin/env bash
# Runs a Windows program under Wine: cargo's runner for x86_64-pc-windows-gnu. .ci/windows.sh
# sets WINEPREFIX, whose system32 holds the test-only ProcessPrng shim. Test binaries sit in
# deps/, one folder below the DLLs the build puts beside the programs (WebView2Loader.dll):
# WINEPATH adds that folder to the DLL search path.
set -euo pipefail
exe=$1
profile=$(dirname "$(dirname "$exe")")
export WINEPATH="Z:${profile//\//\\}"
exec /usr/lib/wine/wine64 "$@"
