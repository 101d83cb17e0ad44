#!/usr/bin/env bash
# The previous release's Linux packages, which the upgrade test (.ci/install-test.sh)
# installs first: into target/packages/vV/, and kept beside the build cache so that a machine
# builds them once (a cold build of an older tree is about 10 minutes of CPU).
#
#   bash .ci/previous-release.sh        prints the release's version once its packages are there
#
# The test command runs this in the background as soon as the packages stage has copied this
# checkout's binaries out (the older build replaces them in the target dir), and the install
# test runs it again when it needs the packages: a lock makes the second wait for the first,
# then find its packages.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
cache=${METRON_CI_CACHE:-/var/cache/metron-ci}
[ "$cache" != off ] || cache=/var/cache/metron-ci
mkdir -p "$cache/releases" target/ci

# The newest release before this version (packaging/releases lists them by commit, so a clone
# without tags finds it too).
prev_version=$(awk -v v="$version" '!/^#/ && NF && $1 != v { last = $1 } END { print last }' \
  packaging/releases)
[ -n "$prev_version" ] || { echo "packaging/releases names no release before $version" >&2; exit 1; }
prev=v$prev_version
prev_commit=$(awk -v v="$prev_version" '$1 == v { print $2 }' packaging/releases)
pkgs=$repo/target/packages/$prev
kept=$cache/releases/$prev_commit
log=$repo/target/ci/package-$prev.txt

exec 9>"$cache/releases/.lock"
flock 9
# Built again unless both packages are there (a failed earlier build can leave a folder empty).
has_both() { ls "$1"/metron_*_amd64.deb && ls "$1"/metron-server_*_amd64.deb; } >/dev/null 2>&1
if ! has_both "$pkgs" && has_both "$kept"; then
  mkdir -p "$pkgs" && cp "$kept"/*.deb "$pkgs/"
  echo "$prev's packages as built before on this machine ($kept)" >&2
fi
if ! has_both "$pkgs"; then
  bash .ci/package.sh --release "$prev_version" >"$log" 2>&1 ||
    { echo "building $prev's packages failed ($log):" >&2; tail -5 "$log" >&2; exit 1; }
  # Kept whole or not at all: copied beside, then renamed into place.
  partial=$(mktemp -d "$cache/releases/.partial.XXXXXX")
  cp "$pkgs"/*.deb "$partial/" && rm -rf "$kept" && mv -T "$partial" "$kept"
fi
echo "$prev_version"
