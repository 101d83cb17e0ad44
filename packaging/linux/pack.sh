#!/usr/bin/env bash
# Packs built Linux binaries into Metron's packages, with the distributions' own tools:
#   metron_<v>_amd64.deb, metron-<v>-1.x86_64.rpm   the desktop app: the window (metron), the
#                                                   resident process (metron-tray), the headless
#                                                   agent (metron-agent), desktop entry, icons
#   metron-server_<v>_amd64.deb                     the server as a sandboxed systemd service
#
#   usage: pack.sh BIN_DIR VERSION OUT_DIR
#
# Dependencies are computed, not listed by hand: dpkg-shlibdeps reads the binaries' ELF
# NEEDED entries and maps each library to the package and minimum version that provides it
# (Debian's way); rpmbuild's generators do the same for the RPM (soname requirements such as
# libwebkit2gtk-4.1.so.0()(64bit), which Fedora resolves). The one library no ELF header
# names is added here: the tray loads libayatana-appindicator3 with dlopen at run time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -eq 3 ] || { echo "usage: $0 BIN_DIR VERSION OUT_DIR" >&2; exit 2; }
bins=$(cd "$1" && pwd) version=$2
mkdir -p "$3"
out=$(cd "$3" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

maintainer="Metron developers <dev@metron.dev>"
summary_app="Time tracker for teams (desktop app and headless agent)"
summary_server="Time tracker for teams (server)"

# Installs a release binary, stripped of its symbols (about a third of its size).
put_bin() {
  install -Dm755 "$bins/$1" "$2/usr/bin/$1"
  strip --strip-unneeded "$2/usr/bin/$1"
}

# --- The desktop app, staged once for both formats ---------------------------------------
app=$work/app
for b in metron metron-tray metron-agent; do put_bin "$b" "$app"; done
install -Dm644 "$here/metron.desktop" "$app/usr/share/applications/metron.desktop"
install -Dm644 "$repo/icons/32x32.png" "$app/usr/share/icons/hicolor/32x32/apps/metron.png"
install -Dm644 "$repo/icons/128x128.png" "$app/usr/share/icons/hicolor/128x128/apps/metron.png"
install -Dm644 "$repo/icons/icon.png" "$app/usr/share/icons/hicolor/256x256/apps/metron.png"
install -Dm644 "$here/copyright" "$app/usr/share/doc/metron/copyright"
# The browser extension (loaded by the person or by policy) and its native-messaging host
# registered system-wide: the agent itself, which writes its own manifests. A release before
# the host existed (0.1.0, packed by this recipe for the upgrade test) ships neither.
browser=0
if "$bins/metron-agent" browser manifest chromium /usr/bin/metron-agent >/dev/null 2>&1; then
  browser=1
  for f in manifest.json background.js icon-128.png; do
    install -Dm644 "$repo/packaging/browser-extension/$f" "$app/usr/share/metron/browser-extension/$f"
  done
  host=app.metron.browser.json
  for place in etc/chromium/native-messaging-hosts:chromium etc/opt/chrome/native-messaging-hosts:chromium \
    usr/lib/mozilla/native-messaging-hosts:firefox; do
    mkdir -p "$app/${place%%:*}"
    "$bins/metron-agent" browser manifest "${place##*:}" /usr/bin/metron-agent >"$app/${place%%:*}/$host"
    chmod 644 "$app/${place%%:*}/$host"
  done
fi

# --- The server ----------------------------------------------------------------------------
server=$work/server
put_bin metron-server "$server"
install -Dm644 "$repo/packaging/server/metron-server.service" \
  "$server/lib/systemd/system/metron-server.service"
install -Dm640 "$repo/packaging/server/server.toml" "$server/etc/metron/server.toml"
install -Dm644 "$repo/docs/DEPLOY.md" "$server/usr/share/doc/metron-server/DEPLOY.md"
install -Dm644 "$here/copyright" "$server/usr/share/doc/metron-server/copyright"

# Computed Depends of some staged binaries (dpkg-shlibdeps wants a debian/control to exist).
shlibs() {
  local tree=$1
  shift
  mkdir -p "$work/shlibs/debian"
  echo "Source: metron" >"$work/shlibs/debian/control"
  local found
  found=$(cd "$work/shlibs" && dpkg-shlibdeps -O "${@/#/-e$tree/usr/bin/}" 2>"$work/shlibs/err" |
    sed -n 's/^shlibs:Depends=//p')
  [ -n "$found" ] || { echo "pack: dpkg-shlibdeps found nothing: $(cat "$work/shlibs/err")" >&2; exit 1; }
  echo "$found"
}

# deb TREE PACKAGE DEPENDS SUMMARY DESCRIPTION-LINES...: writes the control file and builds.
deb() {
  local tree=$1 name=$2 depends=$3 summary=$4
  shift 4
  mkdir -p "$tree/DEBIAN"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: amd64"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$tree" | cut -f1)"
    echo "Depends: $depends"
    echo "Section: utils"
    echo "Priority: optional"
    echo "Description: $summary"
    printf ' %s\n' "$@"
  } >"$tree/DEBIAN/control"
  (cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort |
    xargs md5sum >DEBIAN/md5sums)
  dpkg-deb --root-owner-group -Zxz --build "$tree" "$out/${name}_${version}_amd64.deb" >/dev/null
  echo "$out/${name}_${version}_amd64.deb"
}

app_depends="$(shlibs "$app" metron metron-tray metron-agent), libayatana-appindicator3-1"
deb "$app" metron "$app_depends" "$summary_app" \
  "Metron tracks the time you work on your team's tasks in short intervals that carry" \
  "how active you were second by second (input counts only, never keys or text) and which" \
  "application you worked in, and keeps every interval until the team's server has it." \
  "." \
  "This package holds the desktop app (window and tray) and the headless agent" \
  "metron-agent for terminals and remote desktops."

server_depends="$(shlibs "$server" metron-server), passwd"
mkdir -p "$server/DEBIAN"
cp "$repo/packaging/server/deb/"{postinst,prerm,postrm} "$server/DEBIAN/"
echo "/etc/metron/server.toml" >"$server/DEBIAN/conffiles"
deb "$server" metron-server "$server_depends" "$summary_server" \
  "The server Metron's desktop apps and agents deliver their intervals to: the API, the" \
  "reports a manager reads in a browser, SQLite or PostgreSQL storage. It runs as the" \
  "sandboxed systemd service metron-server; run 'metron-server init' once to add the" \
  "first admin. Settings are in /etc/metron/server.toml."

# --- The desktop app as an RPM (from the same staged tree) ---------------------------------
rm -rf "$app/DEBIAN"
rpmtop=$work/rpm
mkdir -p "$rpmtop"/{BUILD,RPMS,SPECS,SRPMS,SOURCES}
rpmbuild --quiet -bb "$here/metron.spec" \
  --define "_topdir $rpmtop" \
  --define "_build_id_links none" \
  --define "stage $app" \
  --define "version_ $version" \
  --define "browser $browser" \
  --target x86_64 >/dev/null
cp "$rpmtop"/RPMS/x86_64/metron-"$version"-1.x86_64.rpm "$out/"
echo "$out/metron-$version-1.x86_64.rpm"
