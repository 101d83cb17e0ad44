#!/usr/bin/env bash
# Runs every test of Metron: installs what is missing, then the whole workspace's tests
# (engine rules, store, crash test, real sensors under Xvfb and in headless Wayland
# compositors, delivery through a fault proxy, the server on SQLite and PostgreSQL, the
# desktop shell's IPC, and the app end to end in a real window under Xvfb and in sway through
# tauri-driver), the Linux packages installed on clean Debian 12 roots, then all of it built
# for Windows and tested under Wine, with the installer (.ci/windows.sh).
#
# The order is for failing early and keeping both cores busy (docs/DECISIONS.md, "The test
# command's order and budget"): format, then the Linux build with clippy, then the Linux tests
# (cargo-nextest, .config/nextest.toml), then the packages, their install test, and the
# Windows tests under Wine. The Windows build runs beside all of it from the start, at the
# lowest CPU priority; the previous release's packages build beside the install test.
# Builds go to a cache kept on this machine (.ci/cache.sh), so a fresh clone of a commit the
# machine has built compiles only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target/ci

# Each stage's time, printed when the run ends (passed or not): where a slow run went.
stages=() started=$SECONDS stage_at=$SECONDS stage_name=""
stage() {
  [ -z "$stage_name" ] || stages+=("$(printf '%5ds  %s' $((SECONDS - stage_at)) "$stage_name")")
  stage_name=$1 stage_at=$SECONDS
  [ -z "$1" ] || echo "== test: $1 ($(date +%T))"
}
times() {
  local rc=$1 failed=$stage_name
  stage ""
  echo "== test: stage times (total $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s)"
  printf '%s\n' "${stages[@]}"
  [ "$rc" -eq 0 ] || echo "== test: FAILED in stage: $failed"
}
background=()
on_exit() {
  local rc=$?
  # A run that fails says where first; the Windows build beside it is stopped, not awaited
  # (a passing run has awaited every job: their pids may belong to others by now).
  if [ $rc -ne 0 ]; then
    for pid in "${background[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  fi
  times $rc
  declare -F pg_test_stop >/dev/null && pg_test_stop
  exit $rc
}
trap on_exit EXIT

# The job in the background: its log is printed when it is awaited and when it failed.
await() {
  local pid=$1 log=$2 what=$3
  if ! wait "$pid"; then
    echo "== test: $what FAILED; its log ($log):"
    tail -n 80 "$log"
    return 1
  fi
}

stage "deps"
# What the Linux build needs now. Beside the Linux build: the Windows toolchain, then the
# build for Windows (it computes 30 CPU-minutes and takes the CPU the Linux build leaves, at
# the lowest priority), and, in turn, the rest of apt (test tools, compositors, packaging
# tools) and the test tools built from crates.io. apt waits on the network, the builds on
# the CPU.
bash .ci/deps.sh build
export PATH="$HOME/.cargo/bin:$PATH"
windows_deps=target/ci/windows-deps.done
rm -f "$windows_deps"
# setsid gives the job a session, and with it a scheduler autogroup of its own: the kernel
# shares the CPU between autogroups before it looks at nice, so the job nices its group first
# (without it the Windows build took half the CPU and the Linux build twice as long).
setsid bash -c "{ [ ! -w /proc/self/autogroup ] || echo 19 >/proc/self/autogroup; } &&
  bash .ci/deps.sh windows >target/ci/deps-windows.log 2>&1 && touch $windows_deps &&
  exec nice -n 19 bash .ci/windows.sh build" >target/ci/windows-build.log 2>&1 &
windows_pid=$!
background+=("$windows_pid")
echo "== test: the Windows build runs beside the Linux build and tests (log: target/ci/windows-build.log)"
(
  # One apt at a time: the rest waits for the Windows toolchain (or for its job to end).
  while [ ! -e "$windows_deps" ] && kill -0 "$windows_pid" 2>/dev/null; do sleep 1; done
  bash .ci/deps.sh test && bash .ci/deps.sh wayland && bash .ci/deps.sh package
  # The end-to-end tests drive the app's real window through tauri-driver (WebDriver); the
  # tests run under cargo-nextest (on this kind of machine already; from crates.io where not).
  [ -x "$HOME/.cargo/bin/tauri-driver" ] || nice -n 10 cargo install tauri-driver --version ^2 --locked
  command -v cargo-nextest >/dev/null || nice -n 10 cargo install cargo-nextest --locked
) >target/ci/deps.log 2>&1 &
deps_pid=$!
background+=("$deps_pid")
. .ci/cache.sh
metron_cache_target linux
# Cold builds in CI: incremental compilation's bookkeeping only costs time there.
export CARGO_INCREMENTAL=0

stage "format"
cargo fmt --all --check
# The build cache itself, on a small project of its own: content fingerprints, the retry of
# a damaged directory, pruning (a few seconds).
bash .ci/cache-test.sh

# Clippy finds nothing, warnings included, in every crate and target (the lints are
# [workspace.lints] in Cargo.toml). It runs inside the test build: clippy-driver compiles the
# workspace's own crates (what `cargo clippy` runs, with code generation), so the
# dependencies are compiled once instead of once checked for clippy and once built for the
# tests. The environment stays for every later build of this workspace in the run (nextest's,
# the packages'), which then reuses what this one compiled.
stage "build with clippy"
export RUSTC_WORKSPACE_WRAPPER="$HOME/.cargo/bin/clippy-driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# Every binary of the workspace is built by this one command; the tests (and schemathesis)
# that run another package's binary (metron-server, metron-tray) use it as built instead of
# building it again with other features.
export METRON_WORKSPACE_BINS=1
# custom-protocol: the window serves its embedded UI as the production build does (what
# `tauri build` turns on), so the tests run the binaries the packages ship.
build=(--workspace --locked --features metron/custom-protocol)
metron_cache_retry cargo test "${build[@]}" --all-targets --no-run --timings
# Where the build's time went, crate by crate (kept with the run's logs).
cp "$CARGO_TARGET_DIR/cargo-timings/cargo-timing.html" target/ci/linux-build-timings.html

stage "deps beside the build"
await "$deps_pid" target/ci/deps.log "installing the test tools"

# A PostgreSQL cluster of its own for the server's PostgreSQL suite (stopped on exit), Python
# environments kept with the build cache.
stage "tests"
. .ci/pg.sh
METRON_PM4PY_VENV=$(metron_cache_venv pm4py crates/metron-server/tests/server/pm4py-requirements.txt)
# The sign-in tests' OpenID provider (npm's oidc-provider, pinned by its package-lock.json).
METRON_OIDC_NODE=$(metron_cache_venv oidc-provider crates/metron-server/tests/server/oidc/package-lock.json)
export METRON_PM4PY_VENV METRON_OIDC_NODE
cargo nextest run "${build[@]}" --no-tests=fail 2>&1
# nextest runs no doc tests; cargo does.
cargo test "${build[@]}" --doc 2>&1

stage "schemathesis"
METRON_SCHEMATHESIS_VENV=$(metron_cache_venv schemathesis .ci/schemathesis.sh) bash .ci/schemathesis.sh

# The Linux packages (.deb and .rpm of the app, .deb of the server), then installed with apt
# on clean Debian 12 roots (debootstrap): a fresh install, and an upgrade from the previous
# release's packages with data on both sides. They pack the test build's binaries (opt-level
# 1 dependencies, stripped): the release profile would compile every dependency again for the
# same packaging, and `bash .ci/package.sh` alone packs a release.
export METRON_PACKAGE_PROFILE=dev
stage "packages"
bash .ci/package.sh
# The previous release's packages for the upgrade test: on a new machine, built from its
# commit beside the install test's first parts (its build replaces this checkout's binaries
# in the target dir, so it starts once they are packed). The install test waits for it.
nice -n 10 bash .ci/previous-release.sh >target/ci/previous-release.log 2>&1 &
background+=("$!")
stage "install test"
bash .ci/install-test.sh

# Windows: the tests under Wine, the Windows agent's replay against the Linux one just built,
# the installer (PostgreSQL is still up for the server's suite).
stage "windows build (the rest of it)"
await "$windows_pid" target/ci/windows-build.log "the Windows build"
grep '^== windows' target/ci/windows-build.log || true
stage "windows tests"
METRON_LINUX_AGENT=$CARGO_TARGET_DIR/debug/metron-agent bash .ci/windows.sh test
