# Sourced by .ci/test.sh, .ci/windows.sh and .ci/package.sh: where cargo builds, kept between
# runs on this machine so that a fresh clone of a commit the machine has built compiles only
# what changed (docs/DECISIONS.md, "The test command's order and budget", says why it is sound).
#
#   metron_cache_target linux|windows   exports CARGO_TARGET_DIR: one directory per toolchain and
#                                       target under $METRON_CI_CACHE/target, locked for this run
#   metron_cache_venv NAME FILE         prints a Python venv's directory, keyed by the Python and
#                                       the file that says what the venv holds
#
# Safety, in short: each toolchain (rustc -vV, cargo -V) and target has its own directory, so
# nothing built by one compiler is offered to another; profiles have their own subdirectories
# inside it (cargo's own layout); cargo's fingerprints decide what is stale, by content
# (-Zchecksum-freshness: a fresh clone's new file times change nothing, a changed byte
# rebuilds); a directory is used by one run at a time (flock); the whole cache is pruned to
# $METRON_CI_CACHE_GB, oldest directory first; a build that fails the way a damaged directory
# fails is retried once in an emptied one (metron_cache_retry).
#
# METRON_CI_CACHE (default /var/cache/metron-ci) moves the cache; METRON_CI_CACHE=off builds in
# the clone's own target/ as plain cargo does.

METRON_CI_CACHE=${METRON_CI_CACHE:-/var/cache/metron-ci}
METRON_CI_CACHE_GB=${METRON_CI_CACHE_GB:-40}

metron_cache_target() {
  local flavour=$1 rustc_bin=${RUSTC:-rustc} cargo_bin=${2:-cargo} key dir
  # Checksums, not file times, tell cargo a source changed (-Zchecksum-freshness; stable cargo
  # takes unstable settings with RUSTC_BOOTSTRAP=1, as the Windows build already does for
  # -Zbuild-std): a fresh clone's new file times rebuild nothing, a changed byte rebuilds.
  export RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_CHECKSUM_FRESHNESS=true
  if [ "$METRON_CI_CACHE" = off ]; then
    [ "$flavour" = windows ] && export CARGO_TARGET_DIR="$PWD/target/windows"
    return 0
  fi
  key=$( { "$rustc_bin" -vV; "$cargo_bin" -V; echo "$flavour"; } | sha256sum | cut -c1-12)
  dir=$METRON_CI_CACHE/target/$flavour-$key
  mkdir -p "$dir"
  chmod 700 "$METRON_CI_CACHE" 2>/dev/null || true
  # One run at a time in a directory: another run would replace the binaries this one tests.
  # The lock is held by a small process of its own that ends with this shell, so no daemon a
  # test starts (PostgreSQL, a bus) can inherit it and outlive the run holding it.
  metron_cache_hold "$dir.lock"
  touch "$dir.lock" # the prune's age: when a run last used this directory
  export CARGO_TARGET_DIR=$dir
  metron_cache_prune "$dir"
  echo "== cache: $flavour builds in $dir ($(du -sh "$dir" 2>/dev/null | cut -f1))"
}

metron_cache_hold() {
  local lock=$1 held
  held=$(mktemp)
  flock -n "$lock" true 2>/dev/null || echo "== cache: $lock is held by another run; waiting for it"
  flock "$lock" sh -c 'echo held >"$1"; exec tail --pid="$2" -f /dev/null' sh "$held" "$$" \
    </dev/null >/dev/null 2>&1 &
  local holder=$!
  # Waiting on another run has no limit (it ends, or CI's does); a holder that died cannot
  # lock, and says so instead of being waited for.
  until [ -s "$held" ]; do
    kill -0 "$holder" 2>/dev/null || { rm -f "$held"; echo "== cache: could not lock $lock" >&2; return 1; }
    sleep 0.2
  done
  rm -f "$held"
}

# Keeps the cache under METRON_CI_CACHE_GB: directories of other toolchains or targets go
# first, least recently used first, never one another run holds.
metron_cache_prune() {
  local keep=$1 limit=$((METRON_CI_CACHE_GB * 1024 * 1024)) total d
  total() { du -sk "$METRON_CI_CACHE" 2>/dev/null | cut -f1; }
  total=$(total)
  [ "$total" -le "$limit" ] && return 0
  for d in $(ls -tr "$METRON_CI_CACHE"/target/*.lock 2>/dev/null); do
    d=${d%.lock}
    [ "$d" = "$keep" ] && continue
    # Never a directory another run holds.
    (flock -n 9 && rm -rf "$d") 9>"$d.lock" && rm -f "$d.lock" && echo "== cache: pruned $d"
    total=$(total)
    [ "$total" -le "$limit" ] && return 0
  done
  # Still over: the directory in use, when it holds most of the cache itself, is emptied
  # (stale dependency versions pile up over months) and built anew.
  if [ "$(du -sk "$keep" | cut -f1)" -gt $((limit * 6 / 10)) ]; then
    echo "== cache: $keep holds most of the cache: emptied, built anew"
    find "$keep" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  else
    echo "== cache: over ${METRON_CI_CACHE_GB} GB with directories in use; nothing pruned"
  fi
}

# Runs a cargo build command; when it fails the way a damaged target directory fails (a
# dependency's artifact missing or unreadable, never an error in Metron's own code), empties
# the directory and runs it once more. The first attempt's output stays on screen.
metron_cache_retry() {
  local log
  log=$(mktemp)
  if "$@" 2>&1 | tee "$log"; then
    rm -f "$log"
    return 0
  fi
  if [ -n "${CARGO_TARGET_DIR:-}" ] && [ "$METRON_CI_CACHE" != off ] &&
    grep -Eq 'error\[E0463\]|error\[E0460\]|error\[E0786\]|invalid metadata files|extern location .* does not exist|failed to (read|parse|load) .*(fingerprint|\.rlib|\.rmeta|dep-info)' "$log"; then
    rm -f "$log"
    echo "== cache: the build failed on a damaged artifact: emptying $CARGO_TARGET_DIR and building once more"
    find "$CARGO_TARGET_DIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
    "$@"
    return
  fi
  rm -f "$log"
  return 1
}

metron_cache_venv() {
  local name=$1 key
  key=$( { python3 -VV; cat "$2"; } | sha256sum | cut -c1-12)
  if [ "$METRON_CI_CACHE" = off ]; then echo "$PWD/target/$name"; else echo "$METRON_CI_CACHE/venv/$name-$key"; fi
}
