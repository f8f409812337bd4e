#!/usr/bin/env bash
# Gateway overhead benchmark: a static nginx upstream, Switchyard and LiteLLM in front of
# it, wrk as the load generator, all on 127.0.0.1. See bench/README.md.
#
#   bench/gateway/run.sh                 # full run (10 s per point, 1M-request soak)
#   BENCH_QUICK=1 bench/gateway/run.sh   # quick run (3 s per point, 50k-request soak)
#
# Environment (defaults in brackets; quick-mode defaults second):
#   BENCH_DURATION        seconds measured per point            [10 | 3]
#   BENCH_WARMUP          seconds of warm-up before each point  [3 | 1]
#   BENCH_CONCURRENCY     the concurrency levels measured       ["1 64"]
#   BENCH_REPEAT          rounds over all points; the median
#                         round (by RPS) is reported            [3 | 1]
#   BENCH_TTFB_N          streaming requests per TTFB target    [200]
#   BENCH_SOAK_REQUESTS   requests in the RSS soak, 0 = skip    [1000000 | 50000]
#   BENCH_SOAK_SAMPLE_S   seconds between RSS samples           [2]
#   BENCH_PIN             split: servers on CPU 0, load generator on CPU 1;
#                         none: no pinning                      [split]
#   BENCH_SERVER_CPUS / BENCH_CLIENT_CPUS   CPU lists for split  [0 / 1]
#   BENCH_WRK_THREADS     wrk threads at concurrency > 1        [1 when split, 2 when none]
#   BENCH_SKIP_LITELLM=1  leave LiteLLM out
#   BENCH_OUT_DIR         where the JSON goes                   [bench/out]
#   BENCH_KEEP_TMP=1      keep the temp dir (configs, logs, raw wrk output)
#   SWITCHYARD_BIN        the binary to measure  [<cargo target dir>/release/switchyard,
#                         built with `cargo build --release --locked -p switchyard` if missing]
#   SWITCHYARD_BENCH_VENV LiteLLM's virtualenv   [$HOME/.cache/switchyard/bench-venv]
#   LITELLM_VERSION       pinned LiteLLM version [1.79.3]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

QUICK="${BENCH_QUICK:-0}"
if [[ "$QUICK" == 1 ]]; then
  DURATION="${BENCH_DURATION:-3}"; WARMUP="${BENCH_WARMUP:-1}"
  SOAK_REQUESTS="${BENCH_SOAK_REQUESTS:-50000}"; REPEAT="${BENCH_REPEAT:-1}"; MODE=quick
else
  DURATION="${BENCH_DURATION:-10}"; WARMUP="${BENCH_WARMUP:-3}"
  SOAK_REQUESTS="${BENCH_SOAK_REQUESTS:-1000000}"; REPEAT="${BENCH_REPEAT:-3}"; MODE=full
fi
CONCURRENCY="${BENCH_CONCURRENCY:-1 64}"
TTFB_N="${BENCH_TTFB_N:-200}"
SOAK_SAMPLE_S="${BENCH_SOAK_SAMPLE_S:-2}"
PIN="${BENCH_PIN:-split}"
SERVER_CPUS="${BENCH_SERVER_CPUS:-0}"
CLIENT_CPUS="${BENCH_CLIENT_CPUS:-1}"
if [[ "$PIN" == split ]]; then WRK_THREADS="${BENCH_WRK_THREADS:-1}"; else WRK_THREADS="${BENCH_WRK_THREADS:-2}"; fi
VENV="${SWITCHYARD_BENCH_VENV:-$HOME/.cache/switchyard/bench-venv}"
LITELLM_VERSION="${LITELLM_VERSION:-1.79.3}"
OUT_DIR="${BENCH_OUT_DIR:-$ROOT/bench/out}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- prerequisites
need_apt=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_apt+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
if ((${#need_apt[@]})); then
  log "installing ${need_apt[*]} from Debian"
  SUDO=""; [[ $EUID -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null; then
    if [[ " ${need_apt[*]} " == *" nginx-light "* ]]; then
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
    fi
  fi
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$NGINX" ]] || die "nginx not found"
command -v wrk >/dev/null || die "wrk not found"
command -v python3 >/dev/null || die "python3 not found"

BIN_GIVEN=1
if [[ -z "${SWITCHYARD_BIN:-}" ]]; then
  BIN_GIVEN=0
  TARGET_DIR="${CARGO_TARGET_DIR:-$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
  SWITCHYARD_BIN="$TARGET_DIR/release/switchyard"
  if [[ ! -x "$SWITCHYARD_BIN" ]]; then
    log "building the release binary (cargo build --release --locked -p switchyard)"
    (cd "$ROOT" && cargo build --release --locked -p switchyard)
  fi
fi
[[ -x "$SWITCHYARD_BIN" ]] || die "no switchyard binary at $SWITCHYARD_BIN"

# ---------------------------------------------------------------- processes and cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-bench.XXXXXX")"
chmod 755 "$WORK" # nginx's worker may run as another user when started as root
RES="$WORK/results"; mkdir -p "$RES"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; kill -CONT "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ "${BENCH_KEEP_TMP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Command prefixes (taskset execs the program, so $! of a background job is its pid).
ON_SERVERS=(); ON_CLIENT=()
if [[ "$PIN" == split ]]; then ON_SERVERS=(taskset -c "$SERVER_CPUS"); ON_CLIENT=(taskset -c "$CLIENT_CPUS"); fi
wait_http() { # url seconds [pid]
  local url="$1" secs="$2" pid="${3:-}" i
  for ((i = 0; i < secs * 10; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}
meta() { printf '%s=%s\n' "$1" "$2" >>"$RES/meta.txt"; }
cpu_ticks() { awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9}' /proc/stat; } # total steal

# ---------------------------------------------------------------- upstream: nginx
UP_PORT="$(free_port)"
canned() { # file json|sse -> a single-quoted nginx string body
  python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1]).read()
assert "'" not in d and "\\" not in d, "canned body must not contain quotes or backslashes"
sys.stdout.write(d.rstrip("\n") if sys.argv[2] == "json" else d.replace("\n", "\\n"))
PY
}
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  server_tokens off;
  client_body_temp_path $WORK/nginx/client_body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$UP_PORT backlog=4096;
    # 'return' discards the request body (ngx_http_send_response) and keeps the
    # connection alive.
    location = /v1/chat/completions {
      default_type application/json;
      return 200 '$(canned "$HERE/completion.json" json)';
    }
    location = /stream/v1/chat/completions {
      default_type text/event-stream;
      add_header Cache-Control no-cache;
      return 200 '$(canned "$HERE/stream.sse" sse)';
    }
    location / { return 404; }
  }
}
EOF
"${ON_SERVERS[@]}" "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!; PIDS+=("$NGINX_PID")
DIRECT_URL="http://127.0.0.1:$UP_PORT/v1/chat/completions"
DIRECT_STREAM_URL="http://127.0.0.1:$UP_PORT/stream/v1/chat/completions"
curl_post() { curl -fsS --max-time 10 -X POST -H 'content-type: application/json' --data-binary @"$2" "$1"; }
for _ in $(seq 50); do curl_post "$DIRECT_URL" "$HERE/request.json" >/dev/null 2>&1 && break; sleep 0.1; done
curl_post "$DIRECT_URL" "$HERE/request.json" >/dev/null || { cat "$WORK/nginx/error.log" >&2; die "nginx did not start"; }
log "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') upstream on 127.0.0.1:$UP_PORT"

# ---------------------------------------------------------------- Switchyard
SY_PORT="$(free_port)"
cat >"$WORK/switchyard.toml" <<EOF
[providers.upstream]
type = "openai"
base_url = "http://127.0.0.1:$UP_PORT/v1"

[providers.upstream-stream]
type = "openai"
base_url = "http://127.0.0.1:$UP_PORT/stream/v1"

[deployments.static]
provider = "upstream"
model = "static-model"

[deployments.static-stream]
provider = "upstream-stream"
model = "static-model"

[models.bench]
deployments = ["static"]

[models.bench-stream]
deployments = ["static-stream"]
EOF
RUST_LOG="${BENCH_RUST_LOG:-warn}" "${ON_SERVERS[@]}" "$SWITCHYARD_BIN" serve --config "$WORK/switchyard.toml" \
  --listen "127.0.0.1:$SY_PORT" >"$WORK/switchyard.out" 2>"$WORK/switchyard.err" &
SY_PID=$!; PIDS+=("$SY_PID")
for _ in $(seq 100); do grep -qx 'ready' "$WORK/switchyard.out" 2>/dev/null && break
  kill -0 "$SY_PID" 2>/dev/null || break; sleep 0.1; done
grep -qx 'ready' "$WORK/switchyard.out" || { cat "$WORK/switchyard.err" >&2; die "switchyard did not start"; }
SY_URL="http://127.0.0.1:$SY_PORT/v1/chat/completions"
curl_post "$SY_URL" "$HERE/request.json" | grep -q 'Hello! How can I help you today?' || die "switchyard smoke request failed"
curl_post "$SY_URL" "$HERE/request-stream.json" | grep -q 'data: \[DONE\]' || die "switchyard smoke stream failed"
SY_VERSION="$("$SWITCHYARD_BIN" --version 2>/dev/null || echo switchyard)"
SY_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$ROOT" diff --quiet HEAD -- crates Cargo.toml Cargo.lock 2>/dev/null || SY_COMMIT="$SY_COMMIT+dirty"
((BIN_GIVEN)) && SY_COMMIT="binary from SWITCHYARD_BIN; checkout at $SY_COMMIT"
log "switchyard ($SY_COMMIT) on 127.0.0.1:$SY_PORT"

# ---------------------------------------------------------------- LiteLLM
LITELLM_STATUS=skipped; LITELLM_REASON="BENCH_SKIP_LITELLM=1"; LL_PID=""; LL_URL=""
start_litellm() {
  if [[ ! -x "$VENV/bin/litellm" ]] ||
    [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null)" != "$LITELLM_VERSION" ]]; then
    log "installing litellm[proxy]==$LITELLM_VERSION into $VENV (once)"
    if ! { [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"; } >"$WORK/litellm-install.log" 2>&1; then
      LITELLM_REASON="could not create the virtualenv $VENV (python3 -m venv): $(tail -1 "$WORK/litellm-install.log")"; return 1
    fi
    if ! "$VENV/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION" >>"$WORK/litellm-install.log" 2>&1; then
      LITELLM_REASON="pip install litellm[proxy]==$LITELLM_VERSION failed: $(tail -1 "$WORK/litellm-install.log")"; return 1
    fi
  fi
  LL_PORT="$(free_port)"
  cat >"$WORK/litellm.yaml" <<EOF
model_list:
  - model_name: bench
    litellm_params:
      model: openai/static-model
      api_base: http://127.0.0.1:$UP_PORT/v1
      api_key: dummy
  - model_name: bench-stream
    litellm_params:
      model: openai/static-model
      api_base: http://127.0.0.1:$UP_PORT/stream/v1
      api_key: dummy
litellm_settings:
  set_verbose: false
  json_logs: false
  turn_off_message_logging: true
  request_timeout: 60
general_settings:
  disable_spend_logs: true
  disable_error_logs: true
EOF
  # uvicorn logging: errors only, no access log.
  cat >"$WORK/litellm-log.json" <<'EOF'
{"version": 1, "disable_existing_loggers": false,
 "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
 "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
 "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "ERROR", "propagate": false},
             "uvicorn.error": {"handlers": ["stderr"], "level": "ERROR", "propagate": false},
             "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": false}}}
EOF
  LITELLM_LOG=ERROR LITELLM_LOCAL_MODEL_COST_MAP=True DISABLE_ADMIN_UI=True \
    "${ON_SERVERS[@]}" "$VENV/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 --port "$LL_PORT" \
    --num_workers 1 --telemetry False --log_config "$WORK/litellm-log.json" \
    >"$WORK/litellm.log" 2>&1 &
  LL_PID=$!; PIDS+=("$LL_PID")
  if ! wait_http "http://127.0.0.1:$LL_PORT/health/liveliness" "${BENCH_LITELLM_START_S:-240}" "$LL_PID"; then
    if kill -0 "$LL_PID" 2>/dev/null; then LITELLM_REASON="not ready after ${BENCH_LITELLM_START_S:-240}s";
    else LITELLM_REASON="exited during start-up"; fi
    LITELLM_REASON="$LITELLM_REASON; log tail: $(tail -3 "$WORK/litellm.log" | tr '\n' ' ' | cut -c1-400)"
    return 1
  fi
  LL_URL="http://127.0.0.1:$LL_PORT/v1/chat/completions"
  if ! curl_post "$LL_URL" "$HERE/request.json" 2>"$WORK/litellm-smoke.err" | grep -q 'Hello! How can I help you today?'; then
    LITELLM_REASON="smoke request failed: $(head -c 300 "$WORK/litellm-smoke.err")"; LL_URL=""; return 1
  fi
  if ! curl_post "$LL_URL" "$HERE/request-stream.json" 2>/dev/null | grep -q '\[DONE\]'; then
    LITELLM_REASON="smoke streaming request failed"; LL_URL=""; return 1
  fi
  return 0
}
if [[ "${BENCH_SKIP_LITELLM:-0}" != 1 ]]; then
  log "starting LiteLLM $LITELLM_VERSION (1 worker; start-up takes a while)"
  if start_litellm; then
    LITELLM_STATUS=ok; LITELLM_REASON=""
    log "litellm on 127.0.0.1:$LL_PORT"
    # Freeze it while the others are measured: its background tasks would otherwise
    # share the servers' CPU. It is resumed (SIGCONT) for its own runs.
    kill -STOP "$LL_PID"
  else
    LITELLM_STATUS=failed
    log "LiteLLM unavailable: $LITELLM_REASON (its columns will be empty)"
  fi
fi

# ---------------------------------------------------------------- metadata
meta mode "$MODE"
meta date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta duration_s "$DURATION"
meta warmup_s "$WARMUP"
meta ttfb_n "$TTFB_N"
meta pin "$PIN"
meta server_cpus "$([[ $PIN == split ]] && echo "$SERVER_CPUS" || echo any)"
meta client_cpus "$([[ $PIN == split ]] && echo "$CLIENT_CPUS" || echo any)"
meta wrk_threads "$WRK_THREADS"
meta nproc "$(nproc)"
meta cpu_model "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
meta kernel "$(uname -r)"
meta loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
# How busy the machine is before the load starts (everything here is idle now): other
# work on these 2 cores skews every figure, so the report flags it.
busy_pct() {
  local a b
  a="$(awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat)"
  sleep 2
  b="$(awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat)"
  awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; printf "%.0f", t ? 100 * (t - (y[2] - x[2])) / t : 0}'
}
BUSY="$(busy_pct)"
meta busy_pct_start "$BUSY"
((BUSY > 10)) && log "warning: the machine is ${BUSY}% busy before the load starts; figures will be skewed"
meta repeat "$REPEAT"
read -r TICKS0 STEAL0 < <(cpu_ticks)
meta nginx "$("$NGINX" -v 2>&1 | sed 's/.*\///')"
meta wrk "$(wrk -v 2>&1 | head -1 | cut -d' ' -f2)"
meta switchyard "$SY_VERSION ($SY_COMMIT)"
meta litellm_version "$LITELLM_VERSION"
meta litellm_status "$LITELLM_STATUS"
meta litellm_reason "$LITELLM_REASON"
meta litellm_workers 1

# ---------------------------------------------------------------- load runs
tree_pids() { local p="$1" c; echo "$p"; for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done; }
tree_ticks() { # CPU time (user + system, clock ticks) of a process and its descendants
  local p s=0
  for p in $(tree_pids "$1"); do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$s"
}
run_wrk() { # name url conc seconds server-pid
  local name="$1" url="$2" c="$3" secs="$4" pid="$5" t=1 t0 t1
  ((c > 1)) && t="$WRK_THREADS"
  ((t > c)) && t="$c"
  t0="$(tree_ticks "$pid")"
  BENCH_BODY_FILE="$HERE/request.json" "${ON_CLIENT[@]}" wrk -t"$t" -c"$c" -d"${secs}s" --timeout 30s \
    -s "$HERE/post.lua" "$url" >"$RES/$name.txt" 2>&1 || log "wrk exited non-zero for $name"
  t1="$(tree_ticks "$pid")"
  # CPU time of the measured server alone (for a gateway: without the upstream).
  echo "RESULT server_cpu_ticks $((t1 - t0))" >>"$RES/$name.txt"
  echo "RESULT clk_tck $(getconf CLK_TCK)" >>"$RES/$name.txt"
}
targets=(direct switchyard)
[[ -n "$LL_URL" ]] && targets+=(litellm)
url_of() { case "$1" in direct) echo "$DIRECT_URL" ;; switchyard) echo "$SY_URL" ;; litellm) echo "$LL_URL" ;; esac; }
stream_url_of() { case "$1" in direct) echo "$DIRECT_STREAM_URL" ;; switchyard) echo "$SY_URL" ;; litellm) echo "$LL_URL" ;; esac; }
pid_of() { case "$1" in direct) echo "$NGINX_PID" ;; switchyard) echo "$SY_PID" ;; litellm) echo "$LL_PID" ;; esac; }
for ((rep = 1; rep <= REPEAT; rep++)); do
  for c in $CONCURRENCY; do
    for t in "${targets[@]}"; do
      log "round $rep/$REPEAT c=$c $t: ${WARMUP}s warm-up, ${DURATION}s measured"
      [[ "$t" == litellm ]] && kill -CONT "$LL_PID"
      ((WARMUP > 0)) && run_wrk "warm-$t-c$c" "$(url_of "$t")" "$c" "$WARMUP" "$(pid_of "$t")"
      run_wrk "wrk-$t-c$c-r$rep" "$(url_of "$t")" "$c" "$DURATION" "$(pid_of "$t")"
      [[ "$t" == litellm ]] && kill -STOP "$LL_PID"
      grep -E '^RESULT (rps|p50_us|p99_us) ' "$RES/wrk-$t-c$c-r$rep.txt" |
        awk '{printf "%s=%s ", $2, $3} END {print ""}' >&2 || true
    done
  done
  # ---------------------------------------------------------------- streaming TTFB
  for t in "${targets[@]}"; do
    log "round $rep/$REPEAT streaming TTFB $t: $TTFB_N requests at concurrency 1"
    [[ "$t" == litellm ]] && kill -CONT "$LL_PID"
    "${ON_CLIENT[@]}" python3 "$HERE/ttfb.py" --url "$(stream_url_of "$t")" --body-file "$HERE/request-stream.json" \
      -n "$TTFB_N" --warmup 20 >"$RES/ttfb-$t-r$rep.json" 2>"$RES/ttfb-$t-r$rep.err" ||
      log "ttfb failed for $t: $(tail -1 "$RES/ttfb-$t-r$rep.err")"
    [[ "$t" == litellm ]] && kill -STOP "$LL_PID"
  done
done

# ---------------------------------------------------------------- memory
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
tree_kb() { local p s=0; for p in $(tree_pids "$1"); do s=$((s + $(status_kb "$p" "$2"))); done; echo "$s"; }
meta switchyard_vmhwm_kb "$(status_kb "$SY_PID" VmHWM)"
meta switchyard_vmrss_kb "$(status_kb "$SY_PID" VmRSS)"
meta switchyard_threads "$(status_kb "$SY_PID" Threads)"
if [[ -n "$LL_PID" ]] && kill -0 "$LL_PID" 2>/dev/null; then
  meta litellm_vmhwm_kb "$(tree_kb "$LL_PID" VmHWM)"
  meta litellm_vmrss_kb "$(tree_kb "$LL_PID" VmRSS)"
  meta litellm_processes "$(tree_pids "$LL_PID" | wc -l)"
  # End it so that the soak has the machine to itself.
  kill -TERM "$LL_PID" 2>/dev/null || true; kill -CONT "$LL_PID" 2>/dev/null || true
fi

# ---------------------------------------------------------------- RSS soak
if ((SOAK_REQUESTS > 0)); then
  SOAK_C=64
  soak_threads="$WRK_THREADS"
  per_thread=$(((SOAK_REQUESTS + soak_threads - 1) / soak_threads))
  log "RSS soak: $SOAK_REQUESTS requests through switchyard at c=$SOAK_C, VmRSS every ${SOAK_SAMPLE_S}s"
  : >"$RES/soak-rss.txt"
  (
    while kill -0 "$SY_PID" 2>/dev/null; do
      printf '%s %s\n' "$(date +%s.%N)" "$(status_kb "$SY_PID" VmRSS)" >>"$RES/soak-rss.txt"
      sleep "$SOAK_SAMPLE_S"
    done
  ) &
  SAMPLER_PID=$!; PIDS+=("$SAMPLER_PID")
  : >"$RES/soak-stop.txt"
  BENCH_MAX_REQUESTS="$per_thread" BENCH_STOP_FILE="$RES/soak-stop.txt" BENCH_BODY_FILE="$HERE/request.json" \
    "${ON_CLIENT[@]}" wrk -t"$soak_threads" -c"$SOAK_C" -d"${BENCH_SOAK_MAX_S:-1800}s" --timeout 30s -s "$HERE/post.lua" "$SY_URL" \
    >"$RES/soak-wrk.txt" 2>&1 &
  SOAK_WRK_PID=$!; PIDS+=("$SOAK_WRK_PID")
  # wrk's main thread sleeps for the whole -d even after its threads stopped: interrupt
  # it (it then prints its summary) once every thread has done its share.
  while kill -0 "$SOAK_WRK_PID" 2>/dev/null; do
    if (($(wc -l <"$RES/soak-stop.txt") >= soak_threads)); then kill -INT "$SOAK_WRK_PID" 2>/dev/null || true; break; fi
    sleep 0.1
  done
  wait "$SOAK_WRK_PID" || log "soak wrk exited non-zero"
  printf '%s %s\n' "$(date +%s.%N)" "$(status_kb "$SY_PID" VmRSS)" >>"$RES/soak-rss.txt"
  kill "$SAMPLER_PID" 2>/dev/null || true
  meta soak_requests_target "$SOAK_REQUESTS"
  meta switchyard_vmhwm_after_soak_kb "$(status_kb "$SY_PID" VmHWM)"
fi
meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
read -r TICKS1 STEAL1 < <(cpu_ticks)
meta steal_pct "$(awk -v a="$((STEAL1 - STEAL0))" -v b="$((TICKS1 - TICKS0))" 'BEGIN {printf "%.1f", b ? 100 * a / b : 0}')"

# ---------------------------------------------------------------- report
mkdir -p "$OUT_DIR"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
python3 "$HERE/report.py" "$RES" "$OUT_DIR/gateway-$STAMP.json"
