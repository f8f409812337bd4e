-- wrk script: POST a small chat-completions request on keep-alive connections and
-- print the results as machine-readable `RESULT key value` lines (latencies in µs).
--
-- Environment:
--   BENCH_BODY_FILE     file holding the JSON request body (required)
--   BENCH_API_KEY       the bearer token to send [dummy]
--   BENCH_MAX_REQUESTS  optional: each thread stops after this many responses and
--                       appends a line to BENCH_STOP_FILE (used by the soak run;
--                       it defines response(), which costs a little load-generator
--                       CPU, so the timed runs leave it unset). wrk's main thread
--                       still sleeps for -d, so run.sh sends it SIGINT once every
--                       thread has written its line.

local body_file = os.getenv("BENCH_BODY_FILE")
local f = assert(io.open(body_file, "rb"), "cannot open BENCH_BODY_FILE")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_API_KEY") or "dummy")

local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "")
if max_requests then
  local seen = 0
  response = function(status, headers, body)
    seen = seen + 1
    if seen == max_requests then
      local stop_file = os.getenv("BENCH_STOP_FILE")
      if stop_file then
        local sf = io.open(stop_file, "a")
        sf:write("stopped\n")
        sf:close()
      end
      wrk.thread:stop()
    end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT requests %d\n", summary.requests))
  io.write(string.format("RESULT duration_s %.6f\n", secs))
  io.write(string.format("RESULT rps %.1f\n", summary.requests / secs))
  io.write(string.format("RESULT p50_us %d\n", latency:percentile(50)))
  io.write(string.format("RESULT p90_us %d\n", latency:percentile(90)))
  io.write(string.format("RESULT p99_us %d\n", latency:percentile(99)))
  io.write(string.format("RESULT p999_us %d\n", latency:percentile(99.9)))
  io.write(string.format("RESULT mean_us %.1f\n", latency.mean))
  io.write(string.format("RESULT max_us %d\n", latency.max))
  io.write(string.format("RESULT err_connect %d\n", e.connect))
  io.write(string.format("RESULT err_read %d\n", e.read))
  io.write(string.format("RESULT err_write %d\n", e.write))
  io.write(string.format("RESULT err_status %d\n", e.status))
  io.write(string.format("RESULT err_timeout %d\n", e.timeout))
end
