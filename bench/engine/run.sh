#!/usr/bin/env bash
# Engine benchmark: Switchyard's built-in local models through its HTTP API, next to
# llama.cpp (llama-cpp-python from PyPI, built from source with the same CPU flags) on
# the same GGUF files, thread count and prompts.
#
#   bench/engine/run.sh
#
# Knobs (environment):
#   BENCH_THREADS        threads for both engines            [all cores]
#   BENCH_ROUNDS         rounds per single-stream point      [5]
#   BENCH_DECODE_TOKENS  greedy tokens per single stream     [128]
#   SWITCHYARD_BIN       the binary to measure  [<cargo target dir>/release/switchyard,
#                        built with `cargo build --release -p switchyard` if missing]
#   SWITCHYARD_BENCH_HOME  model store          [$HOME/.cache/switchyard/home]
#   SWITCHYARD_BENCH_ENGINE_VENV  llama-cpp-python's venv
#                        [$HOME/.cache/switchyard/bench-engine-venv]
#   LLAMA_CPP_PYTHON_VERSION  [0.3.36]
# Results: a table on stdout, JSON in bench/out/engine-<UTC timestamp>.json.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source scripts/env.sh

threads="${BENCH_THREADS:-$(nproc)}"
home="${SWITCHYARD_BENCH_HOME:-$HOME/.cache/switchyard/home}"
venv="${SWITCHYARD_BENCH_ENGINE_VENV:-$HOME/.cache/switchyard/bench-engine-venv}"
version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
bin="${SWITCHYARD_BIN:-$CARGO_TARGET_DIR/release/switchyard}"
out_dir="$root/bench/out"
mkdir -p "$out_dir"

if [[ ! -x "$bin" ]]; then
  echo "bench: building the release binary" >&2
  cargo build --release --locked -p switchyard
fi

# llama-cpp-python only ships a source distribution: build it once, for the same CPU
# level as Switchyard's llama.cpp (never -march=native, AMX off).
if ! "$venv/bin/python" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$version')" 2>/dev/null; then
  echo "bench: building llama-cpp-python $version into $venv (takes a while)" >&2
  python3 -m venv "$venv"
  flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  flags+=" -DGGML_AVX512=${GGML_AVX512:-OFF} -DGGML_AVX512_VBMI=${GGML_AVX512_VBMI:-OFF}"
  flags+=" -DGGML_AVX512_VNNI=${GGML_AVX512_VNNI:-OFF} -DGGML_AVX512_BF16=${GGML_AVX512_BF16:-OFF}"
  flags+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF"
  CMAKE_ARGS="$flags" "$venv/bin/pip" install --quiet --no-binary llama-cpp-python \
    "llama-cpp-python==$version"
fi

SWITCHYARD_HOME="$home" "$bin" pull --all >&2

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
started="$(date +%s.%N)"
SWITCHYARD_HOME="$home" RUST_LOG=warn "$bin" serve --offline --listen "127.0.0.1:$port" \
  > "$log.out" 2> "$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log" "$log.out"' EXIT
for _ in $(seq 1 600); do
  grep -qx "ready" "$log.out" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "bench: serve exited" >&2; exit 1; }
  sleep 0.05
done
ready="$(date +%s.%N)"
startup="$(python3 -c "print($ready - $started)")"

models_dir="$home/models"
model_bytes="$(du -cb "$models_dir"/*/* | tail -1 | cut -f1)"
models="$(python3 - "$models_dir" <<'PY'
import json, sys
root = sys.argv[1]
print(json.dumps([
    # End tokens banned so every run decodes the same number of tokens: SmolLM2 ends
    # with <|endoftext|> (0) or <|im_end|> (2), Gemma with <eos> (1) or <end_of_turn> (106).
    {"name": "smollm2-135m-instruct", "path": f"{root}/smollm2-135m-instruct/smollm2-135m-instruct.f16.gguf",
     "ban": [0, 2], "concurrency": True},
    {"name": "gemma-3-270m", "path": f"{root}/gemma-3-270m/gemma-3-270m.q4_k_m.gguf",
     "ban": [1, 106], "concurrency": False},
]))
PY
)"
"$venv/bin/python" bench/engine/bench.py --url "http://127.0.0.1:$port" --models "$models" \
  --threads "$threads" --rounds "${BENCH_ROUNDS:-5}" --decode-tokens "${BENCH_DECODE_TOKENS:-128}" \
  --server-pid "$server" --model-bytes "$model_bytes" --startup-seconds "$startup" \
  --out "$out_dir/engine-$(date -u +%Y%m%dT%H%M%SZ).json"
