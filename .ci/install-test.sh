#!/usr/bin/env bash
# Installs Metron's packages (target/packages/, from .ci/package.sh) on clean Debian 12 roots
# made with debootstrap, and checks what a person and an admin would see:
#   1. the packages themselves: files, computed Depends/Requires, the desktop entry, the
#      service unit (systemd-analyze verify and its sandbox score);
#   2. a fresh install with apt (only Depends, no Recommends): the server started from its
#      unit's ExecStart as the unit's user, `metron-server init`, the agent signed in and
#      tracking headless for 30 s, every interval delivered, the report read over HTTP;
#   3. an upgrade from the previous release's packages with data in both places: unsent
#      intervals in the agent's store and the old server's database, each side upgraded in
#      turn (an old agent delivering to the new server, a new agent to the old server), and
#      nothing lost.
# No systemd runs in a chroot: the service is started the way its unit says. Each root is
# removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bash .ci/deps.sh package
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
pkgs=$repo/target/packages
app_deb=$pkgs/metron_${version}_amd64.deb
app_rpm=$pkgs/metron-${version}-1.x86_64.rpm
server_deb=$pkgs/metron-server_${version}_amd64.deb
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
# Downloads kept between runs on this machine (debootstrap's and apt's): beside the build
# cache (.ci/cache.sh), which METRON_CI_CACHE moves.
cache=${METRON_CI_CACHE:-/var/cache/metron-ci}
[ "$cache" != off ] || cache=/var/cache/metron-ci
mkdir -p "$cache/debootstrap" "$cache/apt"
log=$repo/target/install-test
rm -rf "$log" && mkdir -p "$log"

fail() {
  echo "install-test: FAIL: $*" >&2
  exit 1
}
step() { echo "== install-test: $*"; }
for f in "$app_deb" "$app_rpm" "$server_deb"; do
  [ -f "$f" ] || fail "$f is missing: run bash .ci/package.sh first"
done

# (Pipes into `grep -q` are avoided: under pipefail the writer's SIGPIPE would fail them.)

# --- 1. The packages ----------------------------------------------------------------------
step "package contents and dependencies"
depends=$(dpkg-deb -f "$app_deb" Depends)
echo "metron Depends: $depends"
for want in libwebkit2gtk-4.1-0 libgtk-3-0 libayatana-appindicator3-1 libxdo3 libssl3 libc6; do
  grep -q "\b$want\b" <<<"$depends" || fail "the app's Depends lacks $want"
done
server_depends=$(dpkg-deb -f "$server_deb" Depends)
echo "metron-server Depends: $server_depends"
grep -q "libc6" <<<"$server_depends" || fail "the server's Depends lacks libc6"
grep -q "webkit\|gtk" <<<"$server_depends" && fail "the server depends on a desktop library"
files=$(dpkg-deb -c "$app_deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' | sort)
for want in /usr/bin/metron /usr/bin/metron-tray /usr/bin/metron-agent \
  /usr/share/applications/metron.desktop /usr/share/icons/hicolor/256x256/apps/metron.png \
  /usr/share/doc/metron/copyright /usr/share/metron/browser-extension/manifest.json \
  /etc/chromium/native-messaging-hosts/app.metron.browser.json \
  /usr/lib/mozilla/native-messaging-hosts/app.metron.browser.json; do
  grep -qx "$want" <<<"$files" || fail "the app's .deb lacks $want"
done
rpm_files=$(rpm -qlp "$app_rpm" 2>/dev/null | sort)
[ "$files" = "$rpm_files" ] ||
  fail "the .rpm and the .deb of the app hold different files: $(diff <(echo "$files") <(echo "$rpm_files"))"
[ "$(rpm -qp --qf '%{VERSION}' "$app_rpm" 2>/dev/null)" = "$version" ] || fail "the .rpm's version is not $version"
requires=$(rpm -qpR "$app_rpm" 2>/dev/null)
for want in 'libwebkit2gtk-4.1.so.0()(64bit)' 'libgtk-3.so.0()(64bit)' \
  'libayatana-appindicator3.so.1()(64bit)' 'libxdo.so.3()(64bit)'; do
  grep -qF "$want" <<<"$requires" || fail "the .rpm's Requires lacks $want"
done
server_files=$(dpkg-deb -c "$server_deb" | awk '{print $6}')
for want in ./usr/bin/metron-server ./etc/metron/server.toml ./lib/systemd/system/metron-server.service; do
  grep -qx "$want" <<<"$server_files" || fail "the server's .deb lacks ${want#.}"
done
grep -qx /etc/metron/server.toml <<<"$(dpkg-deb -I "$server_deb" conffiles)" || fail "server.toml is not a conffile"
unpacked=$log/unpacked
dpkg-deb -x "$app_deb" "$unpacked" && dpkg-deb -x "$server_deb" "$unpacked"
grep -q '"path": "/usr/bin/metron-agent"' "$unpacked/etc/chromium/native-messaging-hosts/app.metron.browser.json" ||
  fail "the browser host's manifest does not name /usr/bin/metron-agent"
desktop-file-validate "$unpacked/usr/share/applications/metron.desktop" ||
  fail "the desktop entry is not valid"
# verify checks the unit's syntax, its dependencies and that ExecStart exists: in a scratch
# root holding this machine's systemd units and the unpacked package.
verify_root=$log/verify-root
mkdir -p "$verify_root/lib/systemd"
cp -a /lib/systemd/system "$verify_root/lib/systemd/"
dpkg-deb -x "$server_deb" "$verify_root"
SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --root="$verify_root" \
  /lib/systemd/system/metron-server.service >"$log/verify.txt" 2>&1 ||
  fail "systemd-analyze verify: $(cat "$log/verify.txt")"
[ -s "$log/verify.txt" ] && fail "systemd-analyze verify complained: $(cat "$log/verify.txt")"
systemd-analyze security --offline=true --root="$verify_root" \
  /lib/systemd/system/metron-server.service >"$log/security.txt" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$log/security.txt")
echo "systemd-analyze security: exposure $exposure (full table: $log/security.txt)"
[ -n "$exposure" ] || fail "no exposure score from systemd-analyze security: $(tail -5 "$log/security.txt")"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' ||
  fail "the unit's exposure $exposure is above 2.0 (OK): the sandbox got weaker"

# --- Clean roots ---------------------------------------------------------------------------
roots=()
cleanup() {
  for root in "${roots[@]}"; do
    # Whatever still runs inside the root, then its mounts, then the files (never across a
    # mount: --one-file-system).
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
    done
    for m in var/cache/apt/archives proc; do
      mountpoint -q "$root/$m" && umount -l "$root/$m"
    done
    rm -rf --one-file-system "$root"
  done
  # Nothing of a root may outlive the test (a mount left behind would outlive it for good).
  if grep -q ' /var/tmp/metron-root\.' <<<"$(mount)"; then
    echo "install-test: a root's mount was left behind: $(grep /var/tmp/metron-root. <<<"$(mount)")" >&2
  fi
}
trap cleanup EXIT
base=$(mktemp -d /var/tmp/metron-root.XXXXXX)
roots+=("$base")
step "debootstrap bookworm from $mirror"
debootstrap --variant=minbase --cache-dir="$cache/debootstrap" bookworm "$base" "$mirror" \
  >"$log/debootstrap.txt" 2>&1 || fail "debootstrap failed: $(tail -5 "$log/debootstrap.txt")"

# A copy of the clean root in $root, ready for apt: proc, the shared download cache, the
# packages. Called directly, never in $(...): the cleanup must learn of the new root.
new_root() {
  root=$(mktemp -d /var/tmp/metron-root.XXXXXX)
  roots+=("$root")
  cp -a "$base/." "$root/"
  chmod 755 "$root"
  mount -t proc proc "$root/proc"
  mount --bind "$cache/apt" "$root/var/cache/apt/archives"
  mkdir -p "$root/tmp/packages"
  chroot "$root" apt-get update -q >/dev/null
}
# apt_install ROOT DEB...: with apt, so Depends resolve from Debian; no Recommends.
apt_install() {
  local root=$1
  shift
  local debs=()
  for d in "$@"; do
    cp "$d" "$root/tmp/packages/"
    debs+=("/tmp/packages/$(basename "$d")")
  done
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${debs[@]}" >>"$log/apt.txt" 2>&1 ||
    fail "apt-get install ${debs[*]} failed: $(tail -15 "$log/apt.txt")"
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# start_server ROOT PORT [ARGS...]: the unit's ExecStart, as the unit's user, in its
# WorkingDirectory; waits until it listens. ARGS are added to the command line.
start_server() {
  local root=$1 port=$2
  shift 2
  local service=$root/lib/systemd/system/metron-server.service
  local exec user dir
  exec=$(sed -n 's/^ExecStart=//p' "$service")
  user=$(sed -n 's/^User=//p' "$service")
  dir=$(sed -n 's/^WorkingDirectory=//p' "$service")
  [ -n "$exec" ] && [ -n "$user" ] || fail "the unit has no ExecStart or User"
  chroot --userspec="$user:$user" "$root" /bin/sh -c "cd $dir && umask 077 && exec $exec $*" \
    >>"$log/server.txt" 2>&1 &
  server_pid=$!
  wait_server "$port"
}
# wait_server PORT: until the server started as $server_pid answers on PORT (20 s at most).
wait_server() {
  for _ in $(seq 1 100); do
    curl -sf --max-time 2 "http://127.0.0.1:$1/api/v1/health" >/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited: $(tail -5 "$log/server.txt")"
    sleep 0.2
  done
  fail "the server did not answer on port $1: $(tail -5 "$log/server.txt")"
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
}
# person ROOT USER: sets $person to the command line that runs what follows it as a person of
# the root, with a clean environment (more VAR=value may follow). chroot and env exec, so a
# command started with it in the background has its own pid in $!.
person() {
  person=(chroot --userspec="$2:$2" "$1" /usr/bin/env -i HOME="/home/$2" PATH=/usr/bin:/bin
    LANG=C.UTF-8)
}
# as ROOT USER CMD...: a command as a person of the root.
as() {
  person "$1" "$2"
  shift 2
  "${person[@]}" "$@"
}
# track ROOT USER SECONDS ARGS...: metron-agent track for SECONDS, ended with SIGTERM (as
# Ctrl-C: the open interval closes as "quit").
track() {
  person "$1" "$2"
  local secs=$3
  shift 3
  "${person[@]}" metron-agent track --interval-range 4..6 "$@" >>"$log/agent.txt" 2>&1 &
  local pid=$!
  sleep "$secs"
  kill -TERM "$pid"
  wait "$pid" || fail "metron-agent track ended with an error: $(tail -5 "$log/agent.txt")"
}
# The agent's intervals as "id status" lines.
stored() {
  as "$1" "$2" metron-agent intervals --json |
    python3 -c 'import json,sys
for l in sys.stdin:
    s = json.loads(l); print(s["id"], s["status"])'
}
# wait_delivered ROOT USER: sends what is left (the interval Ctrl-C closed may not
# have gone before the agent ended), then waits until the store has nothing unsent.
wait_delivered() {
  as "$1" "$2" metron-agent resend --all >>"$log/agent.txt" 2>&1 ||
    fail "metron-agent resend failed: $(tail -3 "$log/agent.txt")"
  for _ in $(seq 1 60); do
    grep -q ' unsent$' <<<"$(stored "$@")" || return 0
    sleep 0.5
  done
  fail "intervals stayed unsent: $(stored "$@" | grep -c ' unsent$')"
}
token_of() {
  curl -sf --max-time 20 "http://127.0.0.1:$1/api/v1/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$2\",\"password\":\"$3\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
# The ids of a person's intervals on the server (the last two days).
server_ids() {
  local from to
  from=$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)
  to=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
  curl -sf --max-time 20 "http://127.0.0.1:$1/api/v1/intervals?from=$from&to=$to" -H "authorization: Bearer $2" |
    python3 -c 'import json,sys
for i in json.load(sys.stdin): print(i["id"])' | sort
}
# every_interval_on_server ROOT USER PORT TOKEN: each stored id is on the server.
every_interval_on_server() {
  local missing
  missing=$(comm -23 <(stored "$1" "$2" | cut -d' ' -f1 | sort) \
    <(server_ids "$3" "$4"))
  [ -z "$missing" ] || fail "intervals missing on the server: $missing"
}

# --- 2. A fresh install --------------------------------------------------------------------
step "fresh install of metron-server and metron $version with apt"
new_root
# For docs/PERFORMANCE.md: what each install adds to a minimal Debian 12, dependencies included.
size_kb() { du -sx --exclude=var/cache/apt/archives --exclude=var/lib/apt/lists "$root" | cut -f1; }
kb0=$(size_kb)
apt_install "$root" "$server_deb"
kb1=$(size_kb)
apt_install "$root" "$app_deb"
kb2=$(size_kb)
{
  echo "footprint: metron-server $(dpkg-deb -f "$server_deb" Installed-Size) KiB installed," \
    "the root grew by $(((kb1 - kb0) / 1024)) MiB with its dependencies"
  echo "footprint: metron $(dpkg-deb -f "$app_deb" Installed-Size) KiB installed," \
    "the root grew by $(((kb2 - kb1) / 1024)) MiB with its dependencies"
} | tee "$log/footprint.txt"
missing_libs=$(chroot "$root" sh -c \
  'ldd /usr/bin/metron /usr/bin/metron-tray /usr/bin/metron-agent /usr/bin/metron-server' |
  grep 'not found' || true)
[ -z "$missing_libs" ] || fail "libraries not installed by Depends: $missing_libs"
grep -q 'libayatana-appindicator3.so.1 ' <<<"$(chroot "$root" ldconfig -p)" ||
  fail "the tray's dlopened libayatana-appindicator3.so.1 is not installed"
chroot "$root" getent passwd metron >/dev/null || fail "postinst made no metron user"
[ "$(chroot "$root" stat -c '%U %a' /var/lib/metron)" = "metron 700" ] || fail "/var/lib/metron is not metron's, 0700"
perm=$(chroot "$root" stat -c '%U:%G %a' /etc/metron/server.toml)
[ "$perm" = "root:metron 640" ] || fail "server.toml is $perm, not root:metron 640"
port=$(free_port)
# The admin's one edit: the port (the test machine may use 8750).
sed -i "s/^listen = .*/listen = \"127.0.0.1:$port\"/" "$root/etc/metron/server.toml"
start_server "$root" "$port"
password="correct horse battery staple"
init_out=$(chroot --userspec=metron:metron "$root" /usr/bin/env -i METRON_PASSWORD="$password" \
  /usr/bin/metron-server init --email ann@example.com --name Ann 2>&1) ||
  fail "metron-server init failed: $init_out"
echo "$init_out" | sed 's/^/  init: /'
grep -q "http://127.0.0.1:$port" <<<"$init_out" || fail "init did not print the address to sign in at"
[ -f "$root/var/lib/metron/metron.sqlite" ] || fail "the database is not where server.toml says"
chroot "$root" useradd --create-home ann
as "$root" ann metron-agent login --server "http://127.0.0.1:$port" --email ann@example.com \
  --password "$password" >>"$log/agent.txt" 2>&1 || fail "login failed: $(tail -3 "$log/agent.txt")"
track "$root" ann 30 --task General
# Delivered as they closed, while tracking ran.
sent_live=$(stored "$root" ann | grep -c ' sent$' || true)
[ "$sent_live" -ge 3 ] || fail "only $sent_live intervals were delivered while tracking"
wait_delivered "$root" ann
n=$(stored "$root" ann | wc -l)
[ "$n" -ge 4 ] || fail "30 s of tracking gave $n intervals"
token=$(token_of "$port" ann@example.com "$password")
every_interval_on_server "$root" ann "$port" "$token"
# The agent reported who and where it is; the server lists the device.
devices=$(curl -sf --max-time 20 "http://127.0.0.1:$port/api/v1/devices" -H "authorization: Bearer $token")
python3 - "$devices" <<'PY' || fail "the device did not report itself: $devices"
import json, sys
d = json.loads(sys.argv[1])
assert len(d) == 1 and d[0]["info"]["os_user"] == "ann", d
i = d[0]["info"]
print(f"fresh install: the device reported {i['host_name']} as {i['os_user']}, {i['os_name']}, {i['time_zone']}")
PY
today=$(date +%F)
report=$(curl -sf --max-time 20 "http://127.0.0.1:$port/api/v1/reports/daily?date=$today" -H "authorization: Bearer $token")
tracked=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["tracked_secs"])' "$report")
echo "fresh install: $n intervals delivered, the day's report says $tracked s tracked"
[ "$tracked" -ge 25 ] && [ "$tracked" -le 35 ] || fail "30 s tracked but the report says $tracked s"
stop_server
grep -q "listening on 127.0.0.1:$port" "$log/server.txt" || fail "the server did not take its port from server.toml"

# The desktop app's resident process starts on this system (under Xvfb, Debian's) and, with
# autostart on, points the login autostart entry at the installed program.
step "the installed desktop app starts, and its autostart entry names /usr/bin/metron-tray"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  xvfb >>"$log/apt.txt" 2>&1 || fail "installing xvfb in the root failed"
# X's abstract sockets are shared with this machine: a display number nobody uses here.
display=$(python3 -c 'import random; print(random.randint(300, 900))')
while grep -q "@/tmp/.X11-unix/X$display\b" /proc/net/unix; do display=$((display + 1)); done
person "$root" ann
"${person[@]}" Xvfb ":$display" -nolisten tcp >"$log/xvfb.txt" 2>&1 &
xvfb_pid=$!
config_dir=$root/home/ann/.config/dev.metron.desktop
mkdir -p "$config_dir" && echo '{"autostart": true}' >"$config_dir/settings.json"
chroot "$root" chown -R ann:ann /home/ann/.config
sleep 1
"${person[@]}" DISPLAY=":$display" metron-tray --hidden >"$log/tray.txt" 2>&1 &
tray_pid=$!
entry=$root/home/ann/.config/autostart/Metron.desktop
for _ in $(seq 1 50); do [ -f "$entry" ] && break; sleep 0.2; done
[ -f "$entry" ] || fail "no autostart entry from the installed app: $(tail -5 "$log/tray.txt")"
kill -0 "$tray_pid" 2>/dev/null || fail "metron-tray exited: $(tail -5 "$log/tray.txt")"
grep -q '^Exec=/usr/bin/metron-tray --hidden' "$entry" || fail "the autostart entry: $(cat "$entry")"
kill -TERM "$tray_pid"
wait "$tray_pid" || fail "metron-tray did not end cleanly on SIGTERM: $(tail -5 "$log/tray.txt")"
kill "$xvfb_pid" && wait "$xvfb_pid" || true

# --- 3. Upgrade from the previous release --------------------------------------------------
# The release's packages are what its users installed: built from its commit once per machine
# (.ci/previous-release.sh, which the test command has usually started already).
prev_version=$(bash .ci/previous-release.sh) || fail "the previous release's packages: see above"
prev=v$prev_version
step "upgrade from $prev"
old_app=$(ls "$pkgs/$prev"/metron_*_amd64.deb)
old_server=$(ls "$pkgs/$prev"/metron-server_*_amd64.deb)
new_root
apt_install "$root" "$old_server" "$old_app"
chroot "$root" useradd --create-home ann
port=$(free_port)
# Old and new servers alike get the port on the command line here (older ones read no file).
start_server "$root" "$port" --listen "127.0.0.1:$port"
chroot --userspec=metron:metron "$root" /bin/sh -c "cd /var/lib/metron &&
  metron-server user add --email ann@example.com --name Ann --password '$password' --admin &&
  metron-server task add --name General" >>"$log/server.txt" 2>&1 || fail "$prev: adding the admin failed"
as "$root" ann metron-agent login --server "http://127.0.0.1:$port" --email ann@example.com \
  --password "$password" >>"$log/agent.txt" 2>&1 || fail "$prev: login failed"
track "$root" ann 12 --task General
wait_delivered "$root" ann
sent_old=$(stored "$root" ann | wc -l)
# The server goes away: the next intervals wait in the old agent's store.
stop_server
track "$root" ann 12 --task General
unsent=$(stored "$root" ann | grep -c ' unsent$' || true)
[ "$unsent" -ge 2 ] || fail "$prev: expected unsent intervals, found $unsent"
echo "$prev: $sent_old delivered, $unsent unsent in the store"

# 3a. The server upgraded first: the old database migrated; the old agent delivers to it.
apt_install "$root" "$server_deb"
[ "$(chroot "$root" dpkg-query -W -f '${Version}' metron-server)" = "$version" ] || fail "server not upgraded"
start_server "$root" "$port" --listen "127.0.0.1:$port"
wait_delivered "$root" ann
token=$(token_of "$port" ann@example.com "$password")
every_interval_on_server "$root" ann "$port" "$token"
echo "old agent -> new server: every interval delivered"
# The migration found the old agent's device in its intervals (it predates device reports).
devices=$(curl -sf --max-time 20 "http://127.0.0.1:$port/api/v1/devices" -H "authorization: Bearer $token")
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert len(d)==1 and d[0]["info"] is None, d' "$devices" ||
  fail "the old agent's device is not listed from its intervals: $devices"
migrations=$(sqlite3 "$root/var/lib/metron/metron.sqlite" 'SELECT count(*) FROM _sqlx_migrations')
known=$(ls "$repo/crates/metron-server/migrations/sqlite" | wc -l)
[ "$migrations" = "$known" ] || fail "the server database has $migrations of $known migrations"

# 3b. The app upgraded with unsent intervals in its store (recorded by the old agent while
# the server is away), delivered by the new agent.
stop_server
track "$root" ann 12 --task General
before=$(stored "$root" ann | sort)
grep -q ' unsent$' <<<"$before" || fail "no unsent interval before the app's upgrade"
apt_install "$root" "$app_deb"
[ "$(chroot "$root" dpkg-query -W -f '${Version}' metron)" = "$version" ] || fail "app not upgraded"
after=$(stored "$root" ann | sort)
[ "$before" = "$after" ] || fail "the store changed in the upgrade: $(diff <(echo "$before") <(echo "$after"))"
start_server "$root" "$port" --listen "127.0.0.1:$port"
track "$root" ann 8 --task General
wait_delivered "$root" ann
every_interval_on_server "$root" ann "$port" "$token"
total=$(stored "$root" ann | wc -l)
echo "new agent -> new server: all $total intervals delivered, the upgraded store's included"
# The store's schema migrated: the current version, 0.1.0's intervals kept without a
# recorder, the new ones recorded by this version.
store_db=$root/home/ann/.local/share/metron/agent.sqlite
[ "$(sqlite3 "$store_db" 'PRAGMA user_version')" = 3 ] || fail "the agent's store was not migrated to v3"
[ "$(sqlite3 "$store_db" 'SELECT count(*) FROM requests')" = 0 ] || fail "the migrated store has no empty requests table"
by=$(sqlite3 "$store_db" "SELECT coalesce(recorded_by, 'none'), count(*) FROM intervals GROUP BY 1 ORDER BY 1")
echo "intervals by the version that recorded them: $(echo $by)"
grep -q "^none|" <<<"$by" && grep -q "^$version|" <<<"$by" ||
  fail "expected intervals of $prev (no recorder) and of $version in the store: $by"
stop_server

# 3c. A new agent against an old server (the server not upgraded yet): the old server's
# binary from its package, its own database, a second person.
old_bin=$log/old-server
dpkg-deb -x "$old_server" "$old_bin"
mkdir -p "$root/opt/old" && cp "$old_bin/usr/bin/metron-server" "$root/opt/old/"
chroot "$root" install -d -o metron -g metron -m 0700 /var/lib/metron-old
chroot --userspec=metron:metron "$root" /bin/sh -c "cd /var/lib/metron-old &&
  /opt/old/metron-server user add --email bob@example.com --name Bob --password '$password' &&
  /opt/old/metron-server task add --name General" >>"$log/server.txt" 2>&1 || fail "old server: setup failed"
chroot --userspec=metron:metron "$root" /bin/sh -c \
  "cd /var/lib/metron-old && exec /opt/old/metron-server serve --listen 127.0.0.1:$port" \
  >>"$log/server.txt" 2>&1 &
server_pid=$!
wait_server "$port"
chroot "$root" useradd --create-home bob
as "$root" bob metron-agent login --server "http://127.0.0.1:$port" --email bob@example.com \
  --password "$password" >>"$log/agent.txt" 2>&1 || fail "new agent: login to the old server failed"
track "$root" bob 12 --task General
wait_delivered "$root" bob
token=$(token_of "$port" bob@example.com "$password")
every_interval_on_server "$root" bob "$port" "$token"
echo "new agent -> old server ($prev): $(stored "$root" bob | wc -l) intervals delivered"
stop_server
step "passed"
