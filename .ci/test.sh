#!/usr/bin/env bash
# Runs every test of Metron: installs what is missing, then the whole workspace's tests
# (engine rules, store, crash test, real sensors under Xvfb and in headless Wayland
# compositors, delivery through a fault proxy, the server on SQLite and PostgreSQL, the
# desktop shell's IPC, and the app end to end in a real window under Xvfb and in sway through
# tauri-driver), the Linux packages installed on clean Debian 12 roots, then all of it built
# for Windows and tested under Wine, with the installer (.ci/windows.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh test
# Headless sway, mutter and kwin_wayland for the Wayland sensor tests.
bash .ci/deps.sh wayland
export PATH="$HOME/.cargo/bin:$PATH"
# Gates: the code is formatted (rustfmt's defaults) and clippy finds nothing, warnings
# included, in every crate and test (the lints are [workspace.lints] in Cargo.toml).
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The end-to-end tests drive the app's real window through tauri-driver (WebDriver).
[ -x "$HOME/.cargo/bin/tauri-driver" ] || cargo install tauri-driver --version ^2 --locked
# A PostgreSQL cluster of its own for the server's PostgreSQL suite (stopped on exit).
. .ci/pg.sh
trap pg_test_stop EXIT
# Every binary of the workspace is built by this one command; the tests (and schemathesis)
# that run another package's binary (metron-server, metron-tray) use it as built instead of
# building it again with other features.
export METRON_WORKSPACE_BINS=1
cargo test --workspace --locked 2>&1
bash .ci/schemathesis.sh
# The Linux packages (.deb and .rpm of the app, .deb of the server) built in release, then
# installed with apt on clean Debian 12 roots (debootstrap): a fresh install, and an upgrade
# from the previous release's packages with data on both sides.
bash .ci/package.sh
bash .ci/install-test.sh
# Windows: the workspace cross-built, its tests under Wine, the Windows agent's replay against
# the Linux one just built, the installer (PostgreSQL is still up for the server's suite).
bash .ci/windows.sh
