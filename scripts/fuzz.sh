#!/usr/bin/env bash
# Fuzzes every decoder a caller or an upstream can feed, each for a bounded time,
# starting from the protocol fixtures: OpenAI's chat, completions and Responses
# requests, Anthropic's messages, each vendor's answers, SSE streams (OpenAI, Anthropic,
# Gemini) and Bedrock's binary event stream. Part of scripts/test.sh.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]     (default $SWITCHYARD_FUZZ_SECONDS or 30)
#
# A crash stops with the input that caused it under fuzz/artifacts/<target>/; make it
# a regression test (the decoder's unit tests) before fixing it. libFuzzer runs without
# a sanitizer (this toolchain is stable Rust) but with its allocation limit, so a
# decoder that sizes anything from a caller's number fails here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

seconds="${1:-${SWITCHYARD_FUZZ_SECONDS:-30}}"
targets=(openai_requests anthropic_requests upstream_responses sse_streams bedrock_event_stream)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz with cargo install" >&2
  cargo install cargo-fuzz --version 0.13.2 --locked --quiet
fi

fixtures=crates/switchyard-protocols/tests/fixtures
corpus="$CARGO_TARGET_DIR/fuzz-corpus"
# One seed: a selector byte, then a file (or text).
seed() { local dir="$corpus/$1" byte="$2"; mkdir -p "$dir"; { printf "\\x$byte"; cat; } > "$dir/seed-$3"; }
for file in "$fixtures"/openai/request_*.json; do seed openai_requests 00 "$(basename "$file")" < "$file"; done
printf '%s' '{"model":"m","prompt":["a","b"],"n":2,"max_tokens":3,"logprobs":2,"echo":true,"stop":["x"]}' | seed openai_requests 01 completions
printf '%s' '{"model":"m","input":[{"role":"user","content":"hi"}],"instructions":"be brief","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"max_output_tokens":5}' | seed openai_requests 02 responses
printf '%s' '{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,aGk="}}]}],"n":3,"stop":["a","b"],"logit_bias":{"5":-100},"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}' | seed openai_requests 00 chat-bounds
for file in "$fixtures"/anthropic/request_*.json; do mkdir -p "$corpus/anthropic_requests"; cp "$file" "$corpus/anthropic_requests/seed-$(basename "$file")"; done
for file in "$fixtures"/openai/response_*.json; do seed upstream_responses 00 "$(basename "$file")" < "$file"; done
for file in "$fixtures"/anthropic/response_*.json; do seed upstream_responses 02 "anthropic-$(basename "$file")" < "$file"; done
for file in "$fixtures"/gemini/response_*.json; do seed upstream_responses 03 "gemini-$(basename "$file")" < "$file"; done
for file in "$fixtures"/bedrock/converse_response*.json; do seed upstream_responses 04 "bedrock-$(basename "$file")" < "$file"; done
for file in "$fixtures"/*/*.sse; do seed sse_streams 40 "$(basename "$(dirname "$file")")-$(basename "$file")" < "$file"; done
for file in "$fixtures"/bedrock/*.bin; do seed bedrock_event_stream 40 "$(basename "$file")" < "$file"; done

echo "fuzz: building ${#targets[@]} targets" >&2
cargo fuzz build -s none -O >&2

passed=0
failed=0
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s" >&2
  log="$CARGO_TARGET_DIR/fuzz-$target.log"
  if cargo fuzz run -s none -O "$target" "$corpus/$target" -- \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=512 \
      -print_final_stats=1 >"$log" 2>&1; then
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
    echo "fuzz: $target: $runs inputs in ${seconds}s, no crash"
    passed=$((passed + 1))
  else
    echo "fuzz: $target FAILED; its log:" >&2
    tail -40 "$log" >&2
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
