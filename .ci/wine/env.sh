# Sourced by .ci/windows.sh and scripts/wine-perf.sh: Debian's Rust for Windows, and Wine to
# run what it builds. Expects the packages of `.ci/deps.sh windows` and the repo as cwd.
#   $cargo[@], $build_std[@]   cargo and the flags of every Windows build
#   wine_up                    a Wine prefix with the ProcessPrng shim, on an Xvfb display
T=x86_64-pc-windows-gnu
# Debian's rustc and rustdoc (doc tests are built for the target too), not rustup's on PATH.
export RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
# Its own target dir, kept on this machine between runs (.ci/cache.sh): these builds use
# another compiler and std than the Linux ones, so the cache's key differs.
. .ci/cache.sh
metron_cache_target windows /usr/bin/cargo
# What a run makes beside the build (the Wine prefix, the replay's files) stays in the clone:
# a prefix is made anew each run, so no installer test meets an earlier run's install.
export run_dir="$PWD/target/windows-run"
mkdir -p "$run_dir"
export RUSTFLAGS="-D warnings"
# Line tables are enough for a failing test's backtrace; full debug info would double the
# target dir (to ~18 GB) and the mingw link times.
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
# Debian's compiler builds here: the Linux test run's clippy wrapper (rustup's toolchain)
# must not wrap it.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
cargo=(/usr/bin/cargo)
build_std=(-Zbuild-std=std,panic_abort --target "$T" --locked)
export WINEPREFIX="$run_dir/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/.ci/wine/run.sh"

wine_up() {
  # Rust's std needs ProcessPrng, which Wine 8 lacks: the test-only stand-in goes where
  # Windows looks for system DLLs, so every program of the prefix finds it.
  local shim="$run_dir/bcryptprimitives.dll"
  x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" .ci/wine/processprng.c .ci/wine/processprng.def -ladvapi32
  # Xvfb picks a free display itself (-displayfd): a fixed or random number can meet another
  # X server, or a stale lock whose pid now belongs to another process.
  local displayfd
  displayfd=$(mktemp)
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$displayfd" >/dev/null 2>&1 &
  wine_xvfb=$!
  for _ in $(seq 1 100); do [ -s "$displayfd" ] && break; sleep 0.1; done
  [ -s "$displayfd" ] || { echo "Xvfb did not start" >&2; return 1; }
  export DISPLAY=":$(head -1 "$displayfd")"
  rm -f "$displayfd"
  /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1
  /usr/lib/wine/wineserver -w
  cp "$shim" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
}

wine_down() {
  /usr/lib/wine/wineserver -k 2>/dev/null || true
  kill "${wine_xvfb:-}" 2>/dev/null || true
}
