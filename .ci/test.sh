#!/usr/bin/env bash
# Runs every test of Metron: installs what is missing, then the whole workspace's tests
# (engine rules, store, crash test, real sensors under Xvfb, the server on SQLite and PostgreSQL,
# the desktop shell's IPC).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh test
export PATH="$HOME/.cargo/bin:$PATH"
# A PostgreSQL cluster of its own for the server's PostgreSQL suite (stopped on exit).
. .ci/pg.sh
trap pg_test_stop EXIT
cargo test --workspace --locked 2>&1
bash .ci/schemathesis.sh
