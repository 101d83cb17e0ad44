#!/usr/bin/env bash
# The Windows installer under Wine (called by .ci/windows.sh, which sets WINEPREFIX):
#   .ci/wine/installer-test.sh BIN_DIR VERSION
# Builds it from BIN_DIR, installs silently (with /AUTOSTART), runs the installed agent,
# which makes its data dir, then uninstalls silently: the program, its Start-menu entry, the
# Run value and the uninstall entry go, the data stays.
set -euo pipefail
bin=$1
version=$2
wine=/usr/lib/wine/wine64
setup="${run_dir:-$CARGO_TARGET_DIR}/Metron-Setup-$version-test.exe"
packaging/windows/build-installer.sh "$bin" "$setup"
ls -l "$setup"

local_app="$WINEPREFIX/drive_c/users/$(id -un)/AppData/Local"
prog="$local_app/Programs/Metron"
menu="$WINEPREFIX/drive_c/users/$(id -un)/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Metron/Metron.lnk"
run_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
uninstall_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Metron'
rm -rf "$prog" "$local_app/Metron"

fail() { echo "installer test: $*" >&2; exit 1; }

"$wine" "$setup" /S /AUTOSTART
/usr/lib/wine/wineserver -w
for f in metron.exe metron-tray.exe metron-agent.exe Uninstall.exe; do
  [ -f "$prog/$f" ] || fail "$f is not in $prog"
done
[ -f "$menu" ] || fail "no Start-menu entry at $menu"
"$wine" reg query "$run_key" /v Metron | grep -q 'metron-tray.exe" --hidden' || fail "no autostart Run value"
"$wine" reg query "$uninstall_key" /v DisplayVersion | grep -q "$version" || fail "no uninstall entry"

# The browser host is registered for Chrome, with a manifest naming the installed agent.
chrome_host='HKCU\Software\Google\Chrome\NativeMessagingHosts\app.metron.browser'
"$wine" reg query "$chrome_host" /ve | grep -qi 'browser.chromium.app.metron.browser.json' ||
  fail "the browser host is not registered for Chrome: $("$wine" reg query "$chrome_host" /ve 2>&1)"
grep -q 'metron-agent.exe' "$local_app/Metron/browser/chromium/app.metron.browser.json" ||
  fail "the browser host's manifest does not name the agent"
[ -f "$prog/browser-extension/manifest.json" ] || fail "no browser extension installed"
out=$("$wine" "$prog/metron-agent.exe" --version | tr -d '\r')
echo "installed: $out"
[ "$out" = "metron-agent $version" ] || fail "metron-agent --version said: $out"
# Its default data dir is %LOCALAPPDATA%\Metron\data: `status` makes the store there.
"$wine" "$prog/metron-agent.exe" status >/dev/null
[ -f "$local_app/Metron/data/agent.sqlite" ] || fail "no store in %LOCALAPPDATA%\\Metron\\data"

"$wine" "$prog/Uninstall.exe" /S
/usr/lib/wine/wineserver -w
[ ! -e "$prog" ] || fail "the program folder is still there: $(ls "$prog")"
[ ! -e "$menu" ] || fail "the Start-menu entry is still there"
if "$wine" reg query "$run_key" /v Metron >/dev/null 2>&1; then fail "the Run value is still there"; fi
if "$wine" reg query "$uninstall_key" >/dev/null 2>&1; then fail "the uninstall entry is still there"; fi
[ -f "$local_app/Metron/data/agent.sqlite" ] || fail "the uninstaller removed the data"
if "$wine" reg query "$chrome_host" >/dev/null 2>&1; then fail "the browser host is still registered"; fi
echo "installer test: installed, ran, uninstalled; the data dir stayed"
