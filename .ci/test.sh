#!/usr/bin/env bash
# Runs every test of Metron: installs what is missing, then the whole workspace's tests
# (engine rules, store, crash test, real sensors under Xvfb and in headless Wayland
# compositors, delivery through a fault proxy, the server on SQLite and PostgreSQL, the
# desktop shell's IPC, and the app end to end in a real window under Xvfb and in sway through
# tauri-driver), the Linux packages installed on clean Debian 12 roots, then all of it built
# for Windows and tested under Wine, with the installer (.ci/windows.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each stage's time, printed when the run ends (passed or not): where a slow run went.
stages=() started=$SECONDS stage_at=$SECONDS stage_name=""
stage() {
  [ -z "$stage_name" ] || stages+=("$(printf '%5ds  %s' $((SECONDS - stage_at)) "$stage_name")")
  stage_name=$1 stage_at=$SECONDS
  echo "== test: $1 ($(date +%T))"
}
times() {
  stage ""
  echo "== test: stage times (total $(((SECONDS - started) / 60)) min)"
  printf '%s\n' "${stages[@]}"
}
on_exit() {
  local rc=$?
  times
  declare -F pg_test_stop >/dev/null && pg_test_stop
  exit $rc
}
trap on_exit EXIT

stage "deps"
bash .ci/deps.sh test
# Headless sway, mutter and kwin_wayland for the Wayland sensor tests.
bash .ci/deps.sh wayland
# The Windows and packaging tools too, now, so that every install is done before anything is
# timed.
bash .ci/deps.sh windows
bash .ci/deps.sh package
# Cold builds in CI: incremental compilation's bookkeeping only costs time there.
export CARGO_INCREMENTAL=0
export PATH="$HOME/.cargo/bin:$PATH"
# The end-to-end tests drive the app's real window through tauri-driver (WebDriver).
[ -x "$HOME/.cargo/bin/tauri-driver" ] || cargo install tauri-driver --version ^2 --locked

stage "format"
cargo fmt --all --check

# Clippy finds nothing, warnings included, in every crate and target (the lints are
# [workspace.lints] in Cargo.toml). It runs inside the test build: clippy-driver compiles the
# workspace's own crates (what `cargo clippy` runs, with code generation), so the
# dependencies are compiled once instead of once checked for clippy and once built for the
# tests (12 minutes on two cores). The environment stays for every later build of this
# workspace in the run, which then reuses what this one compiled.
stage "build with clippy"
export RUSTC_WORKSPACE_WRAPPER="$HOME/.cargo/bin/clippy-driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# Every binary of the workspace is built by this one command; the tests (and schemathesis)
# that run another package's binary (metron-server, metron-tray) use it as built instead of
# building it again with other features.
export METRON_WORKSPACE_BINS=1
cargo test --workspace --all-targets --locked --no-run 2>&1

# A PostgreSQL cluster of its own for the server's PostgreSQL suite (stopped on exit).
stage "tests"
. .ci/pg.sh
cargo test --workspace --locked 2>&1

stage "schemathesis"
bash .ci/schemathesis.sh

# The Linux packages (.deb and .rpm of the app, .deb of the server), then installed with apt
# on clean Debian 12 roots (debootstrap): a fresh install, and an upgrade from the previous
# release's packages with data on both sides. They pack the binaries of the test build's
# profile (opt-level 1 dependencies, stripped): the release profile would compile every
# dependency again for the same packaging, and `bash .ci/package.sh` alone packs a release.
export METRON_PACKAGE_PROFILE=dev
stage "packages"
bash .ci/package.sh
stage "install test"
bash .ci/install-test.sh

# Windows: the workspace cross-built, its tests under Wine, the Windows agent's replay against
# the Linux one just built, the installer (PostgreSQL is still up for the server's suite).
stage "windows"
bash .ci/windows.sh
