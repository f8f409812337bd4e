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

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "unit and integration tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

step "doc tests"
cargo test --workspace --locked --doc

step "end-to-end tests (official openai and anthropic SDKs against the built binary)"
cargo build --locked -p switchyard -p switchyard-testkit --bins
SWITCHYARD_BIN_DIR="$CARGO_TARGET_DIR/debug" bash tests/e2e/run.sh
