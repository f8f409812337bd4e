#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: format, lints, unit and integration
# tests, doc tests, then the end-to-end tests that drive the built binary with the
# official OpenAI and Anthropic Python SDKs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/env.sh

step() { printf '\n== %s\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "supply chain (cargo deny: licenses, bans, sources)"
if ! cargo deny --version >/dev/null 2>&1; then
  echo "Installing cargo-deny with cargo install" >&2
  cargo install cargo-deny --version 0.20.2 --locked --quiet
fi
cargo deny --log-level error check --hide-inclusion-graph licenses bans sources

step "build and lints (one build of the tree: tests, binaries and clippy share it)"
# Clippy runs as the compiler of the workspace's own crates (cargo clippy does the same,
# in check mode, which would compile every dependency a second time). The test run,
# the doc tests and the end-to-end binaries below reuse these artifacts: every step
# builds with the same targets, features and wrapper.
export RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo build --workspace --all-targets --locked

step "test services (PostgreSQL and Redis for the distributed backend)"
# Private servers on free loopback ports, stopped when this script exits (their
# script waits for its input to close). Every test process shares them.
coproc SERVICES { bash scripts/services.sh; }
services_ready=""
while IFS= read -r line <&"${SERVICES[0]}"; do
  case "$line" in
    ready) services_ready=1; break ;;
    SWITCHYARD_TEST_*=*) export "${line?}" ;;
  esac
done
[ -n "$services_ready" ] || { echo "PostgreSQL and Redis could not be started (see above)" >&2; exit 1; }

step "unit and integration tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

step "doc tests"
cargo test --workspace --locked --doc

step "fuzzers (every decoder a caller or an upstream feeds, ${SWITCHYARD_FUZZ_SECONDS:-30}s each)"
bash scripts/fuzz.sh

step "end-to-end tests (official openai and anthropic SDKs against the built binary)"
SWITCHYARD_BIN_DIR="$CARGO_TARGET_DIR/debug" bash tests/e2e/run.sh
