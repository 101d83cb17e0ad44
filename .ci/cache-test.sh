#!/usr/bin/env bash
# Checks the build cache of .ci/cache.sh on a two-crate project of its own, in a cache of its
# own (a few seconds; .ci/test.sh runs it first):
#   1. a second clone in another folder, its files all newer, builds nothing (content
#      fingerprints), and a changed byte rebuilds;
#   2. a dependency's artifact damaged in the cache fails the build the way a damaged
#      directory fails, and metron_cache_retry empties it and builds again, successfully;
#   3. an error in the project's own code is not retried;
#   4. pruning removes the least recently used directory that no run holds, never the one
#      in use, until the cache is under its limit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "cache-test: FAIL: $*" >&2; exit 1; }
export PATH="$HOME/.cargo/bin:$PATH"

project() {
  mkdir -p "$1/src" "$1/dep/src"
  cat >"$1/Cargo.toml" <<'EOF'
[package]
name = "cachetest"
version = "0.1.0"
edition = "2021"
[dependencies]
dep = { path = "dep" }
[workspace]
EOF
  cat >"$1/dep/Cargo.toml" <<'EOF'
[package]
name = "dep"
version = "0.1.0"
edition = "2021"
EOF
  echo 'pub fn answer() -> u32 { 42 }' >"$1/dep/src/lib.rs"
  echo 'fn main() { println!("{}", dep::answer()); }' >"$1/src/main.rs"
}

export METRON_CI_CACHE=$work/cache METRON_CI_CACHE_GB=1
(
  . "$repo/.ci/cache.sh"
  project "$work/a"
  cd "$work/a"
  metron_cache_target linux
  cargo build -q 2>&1
  # 1. Another folder, every file newer: nothing to compile; one changed byte: that crate.
  sleep 1
  cp -r "$work/a" "$work/b" && rm -rf "$work/b/target"
  find "$work/b" -type f -exec touch {} +
  cd "$work/b"
  out=$(cargo build -v 2>&1)
  grep -q "Compiling" <<<"$out" && fail "a fresh clone of the same sources compiled: $out"
  echo 'fn main() { println!("{}", dep::answer() + 1); }' >src/main.rs
  out=$(cargo build -v 2>&1)
  grep -q "Compiling cachetest" <<<"$out" || fail "a changed byte did not rebuild: $out"
  [ "$("$CARGO_TARGET_DIR/debug/cachetest")" = 43 ] || fail "the rebuilt program is stale"

  # 2. The dependency's artifacts damaged: the build fails, the retry empties and rebuilds.
  for f in "$CARGO_TARGET_DIR"/debug/deps/libdep-*.rlib "$CARGO_TARGET_DIR"/debug/deps/libdep-*.rmeta; do
    [ -f "$f" ] && : >"$f"
  done
  echo 'fn main() { println!("{}", dep::answer() + 2); }' >src/main.rs
  cargo build -q >/dev/null 2>&1 && fail "a build over a damaged dependency passed without the retry"
  out=$(metron_cache_retry cargo build -q 2>&1) || fail "the retry did not rebuild: $out"
  grep -q "damaged artifact" <<<"$out" || fail "the retry did not say why it emptied the directory: $out"
  [ "$("$CARGO_TARGET_DIR/debug/cachetest")" = 44 ] || fail "the program after the retry is stale"

  # 3. An error in the project's own code fails once, the directory kept.
  echo 'fn main() { let x: u32 = "no"; }' >src/main.rs
  marker=$CARGO_TARGET_DIR/debug/deps/kept
  touch "$marker"
  metron_cache_retry cargo build -q >/dev/null 2>&1 && fail "a type error passed"
  [ -f "$marker" ] || fail "an error in the code emptied the cache"
)
echo "cache-test: fresh clone builds nothing, changed byte rebuilds, damage rebuilt, code errors not retried"

# 4. Pruning: three directories over a 1 GB limit, the one in use the least recently used;
# the oldest of the others goes, and no more than the limit asks.
(
  . "$repo/.ci/cache.sh"
  t=$METRON_CI_CACHE/target
  rm -rf "$t" && mkdir -p "$t/current" && touch "$t/current.lock"
  for d in old newer; do
    sleep 1
    mkdir -p "$t/$d" && fallocate -l 600M "$t/$d/blob" && touch "$t/$d.lock"
  done
  metron_cache_prune "$t/current" >/dev/null
  [ -d "$t/current" ] || fail "the directory in use was pruned"
  [ -d "$t/old" ] && fail "the least recently used free directory was not pruned"
  [ -d "$t/newer" ] || fail "more was pruned than the limit asks"
)
echo "cache-test: pruning takes the least recently used directory, never the one in use"
