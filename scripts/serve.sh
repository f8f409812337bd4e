#!/usr/bin/env bash
# Sets up and runs Switchyard on a fresh machine: builds the release binary, then
# serves. Extra arguments go to `switchyard serve` (e.g. --config switchyard.toml).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
cargo build --release --locked -p switchyard
exec "$CARGO_TARGET_DIR/release/switchyard" serve "$@"
