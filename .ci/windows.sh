#!/usr/bin/env bash
# Metron for Windows, built and tested on this Debian machine (called by .ci/test.sh):
#   1. the whole workspace built for x86_64-pc-windows-gnu with no warnings, by Debian's Rust
#      (its standard library built from source: rustup's toolchain here has no Windows std);
#   2. the workspace's tests run under Wine on an Xvfb display, among them the real
#      metron-tray.exe tracking in local mode (the window's own tests are Linux-only);
#   3. the Windows agent's `replay` of a 2-hour trace compared byte for byte with the Linux
#      build's (target/debug/metron-agent, built by the Linux tests before this runs);
#   4. the Windows sensors seeing xdotool input into Wine's notepad under openbox;
#   5. the installer built with makensis, installed silently under Wine, run from its
#      install path, and uninstalled (the data dir stays);
# macOS is not checked here: see docs/WINDOWS.md for what stops `cargo check` without an SDK.
# `bash .ci/windows.sh package` builds only the release installer into target/packages/;
# `bash .ci/windows.sh build` only step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh windows
. .ci/wine/env.sh
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
step() { echo "== windows: $* ($(date +%T))"; }

if [ "${1:-test}" = package ]; then
  step "release build"
  "${cargo[@]}" build --release "${build_std[@]}" -p metron -p metron-tray -p metron-agent
  mkdir -p target/packages
  packaging/windows/build-installer.sh "$CARGO_TARGET_DIR/$T/release" \
    "target/packages/Metron-Setup-$version.exe"
  ls -l "target/packages/Metron-Setup-$version.exe"
  exit 0
fi

# The whole workspace in one build, so features unify once (a build of one package apart
# compiles the dependencies it shares again): libraries, binaries and tests. Not the criterion
# benchmarks: they are the same portable code the Linux build compiles, and building them
# again for Windows cost minutes of CI. `bash .ci/windows.sh build` stops here.
step "build for Windows"
metron_cache_retry "${cargo[@]}" test --no-run "${build_std[@]}" --workspace --timings
mkdir -p target/ci
cp "$CARGO_TARGET_DIR/cargo-timings/cargo-timing.html" target/ci/windows-build-timings.html
[ "${1:-test}" = build ] && { step "built"; exit 0; }

step "wine prefix"
trap wine_down EXIT
wine_up

step "tests under Wine"
# Binaries of other packages (metron-server for the agent's tests) are the ones built above.
# One Wine process per test binary (`cargo test`), not per test: under cargo-nextest (2 min
# instead of 3) a pure unit test once exited 1 in 21 ms with no output, a Wine start that
# failed, not the test.
METRON_WORKSPACE_BINS=1 "${cargo[@]}" test "${build_std[@]}" --workspace

step "replay: the Windows build prints what the Linux build prints"
# The Linux agent: the one the test command built (it says where), or one built here.
linux_agent=${METRON_LINUX_AGENT:-target/debug/metron-agent}
[ -x "$linux_agent" ] || env -u CARGO_TARGET_DIR -u RUSTC -u RUSTDOC -u RUSTFLAGS \
  cargo build -p metron-agent --locked
trace="$run_dir/replay-trace.jsonl"
python3 .ci/wine/make_trace.py > "$trace"
"$linux_agent" replay "$trace" --seed 42 > "$run_dir/replay-linux.jsonl"
.ci/wine/run.sh "$CARGO_TARGET_DIR/$T/debug/metron-agent.exe" replay "$trace" --seed 42 \
  > "$run_dir/replay-windows.jsonl"
cmp "$run_dir/replay-linux.jsonl" "$run_dir/replay-windows.jsonl"
echo "identical: $(wc -l < "$run_dir/replay-linux.jsonl") intervals"

step "sensors under Wine: xdotool input and a Wine window"
bash .ci/wine/sensors-test.sh "$CARGO_TARGET_DIR/$T/debug"

step "installer"
bash .ci/wine/installer-test.sh "$CARGO_TARGET_DIR/$T/debug" "$version"

step done
