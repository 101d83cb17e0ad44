#!/usr/bin/env bash
# Builds every Linux package of Metron into target/packages/ (or $METRON_PACKAGES_DIR):
# the desktop app as .deb and .rpm, the server as .deb (packaging/linux/pack.sh says what
# each holds). The version is the workspace's (Cargo.toml).
#
#   bash .ci/package.sh              this checkout, release build
#   METRON_PACKAGE_PROFILE=dev ...   the binaries of the dev profile instead (the test run's:
#                                    its dependencies are already compiled); stripped alike
#   bash .ci/package.sh --release V  the packages of an earlier release, built from its
#                                    commit in packaging/releases (the upgrade test installs
#                                    them first); into target/packages/vV/
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bash .ci/deps.sh build
bash .ci/deps.sh package
export PATH="$HOME/.cargo/bin:$PATH"
# Where cargo builds: the test command's cache when it runs this (CARGO_TARGET_DIR set),
# else this checkout's target/.
target=${CARGO_TARGET_DIR:-$repo/target}

case "${METRON_PACKAGE_PROFILE:-release}" in
  release) profile_args=(--release) profile_dir=release ;;
  # The dev profile as this workspace's Cargo.toml sets it, spelled out so an earlier
  # release's checkout (whose manifest may say otherwise) compiles its dependencies the same
  # way and shares them.
  dev) profile_args=(--config 'profile.dev.debug="line-tables-only"'
    --config 'profile.dev.package."*".debug=false' --config 'profile.dev.package."*".opt-level=1')
    profile_dir=debug ;;
  *) echo "package: METRON_PACKAGE_PROFILE is release or dev" >&2; exit 2 ;;
esac

# The version in a checkout's Cargo.toml: [workspace.package] since 0.2.0, [package] before.
version_of() {
  sed -n 's/^version = "\(.*\)"/\1/p' "$1/Cargo.toml" | head -1
}

if [ "${1:-}" = --release ]; then
  release=${2:?usage: $0 --release VERSION}
  tag=v$release
  commit=$(awk -v v="$release" '$1 == v { print $2 }' packaging/releases)
  [ -n "$commit" ] || { echo "package: $release is not in packaging/releases" >&2; exit 1; }
  git cat-file -e "$commit^{commit}" 2>/dev/null ||
    { echo "package: commit $commit of $release is not in this clone (a shallow clone?)" >&2; exit 1; }
  # Where the tag exists it must name the same commit: the file and the tags never disagree.
  if tagged=$(git rev-parse -q --verify "refs/tags/$tag^{commit}"); then
    [ "$tagged" = "$commit" ] ||
      { echo "package: tag $tag is $tagged but packaging/releases says $commit" >&2; exit 1; }
  fi
  out=${METRON_PACKAGES_DIR:-$repo/target/packages/$tag}
  src=$repo/target/release-src/$tag
  if [ ! -d "$src" ]; then
    git worktree prune
    git worktree add --detach --force "$src" "$commit" >/dev/null
  fi
  # An earlier release builds into this target dir (sharing its dependencies), which replaces
  # this checkout's binaries there: they are kept aside and put back once its own are copied
  # out (the Windows replay test compares against this checkout's Linux agent).
  keep=$(mktemp -d)
  for b in metron metron-tray metron-agent metron-server; do
    [ ! -f "$target/$profile_dir/$b" ] || cp -p "$target/$profile_dir/$b" "$keep/"
  done
  put_back() {
    for b in "$keep"/*; do
      [ -f "$b" ] || continue
      # A new file, not a write through cargo's hard link into the release's own artifact.
      rm -f "$target/$profile_dir/${b##*/}" && cp -p "$b" "$target/$profile_dir/"
    done
    rm -rf "$keep"
  }
  if [ -f "$src/.ci/package.sh" ]; then
    # A tag that packs itself: its own recipe, sharing this target dir (dependencies built
    # once).
    METRON_PACKAGES_DIR=$out CARGO_TARGET_DIR=$target bash "$src/.ci/package.sh"
    put_back
    exit 0
  fi
  # 0.1.0 predates packaging: its binaries, packed by today's recipe at its version. Built
  # with this workspace's profile settings (so the dependencies both share are compiled once)
  # and without the test run's clippy wrapper: old code isn't held to today's lints.
  (cd "$src" && env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS CARGO_TARGET_DIR=$target \
    cargo build "${profile_args[@]}" --locked -p metron -p metron-tray -p metron-agent -p metron-server)
  version=$(version_of "$src")
else
  out=${METRON_PACKAGES_DIR:-$repo/target/packages}
  # custom-protocol: the window serves its embedded UI as a production build (what
  # `tauri build` turns on).
  if [ "$profile_dir" = debug ]; then
    # The test command's own build (.ci/test.sh), features and targets alike: the packages
    # hold the binaries the tests ran, and under the test command this compiles nothing.
    cargo test "${profile_args[@]}" --workspace --all-targets --locked --no-run \
      --features metron/custom-protocol
  else
    cargo build "${profile_args[@]}" --locked -p metron -p metron-tray -p metron-agent \
      -p metron-server --features metron/custom-protocol
  fi
  version=$(version_of "$repo")
fi

# The binaries are copied out first: a later build in this target dir replaces them.
bins=$(mktemp -d)
trap 'rm -rf "$bins"' EXIT
cp "$target/$profile_dir"/{metron,metron-tray,metron-agent,metron-server} "$bins/"
! declare -F put_back >/dev/null || put_back
bash packaging/linux/pack.sh "$bins" "$version" "$out"
ls -l "$out"
