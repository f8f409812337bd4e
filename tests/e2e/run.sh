#!/usr/bin/env bash
# End-to-end tests: the official OpenAI Python SDK against the built `switchyard`
# binary, in front of the testkit's mock upstream binary.
#
# Binaries come from $SWITCHYARD_BIN_DIR (default: the debug build in the cargo target
# directory); the SDK is installed into a venv outside the clone, once per change of
# requirements.txt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bin_dir="${SWITCHYARD_BIN_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/switchyard/target}/debug}"
for binary in switchyard switchyard-mock-openai; do
  if [ ! -x "$bin_dir/$binary" ]; then
    echo "e2e: $bin_dir/$binary is missing; build it with" >&2
    echo "  cargo build -p switchyard -p switchyard-testkit --bins" >&2
    exit 1
  fi
done

venv="${SWITCHYARD_E2E_VENV:-$HOME/.cache/switchyard/e2e-venv}"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "e2e: installing the test requirements into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  echo "$wanted" > "$stamp"
fi

export SWITCHYARD_BIN_DIR="$bin_dir"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here" "$@"
