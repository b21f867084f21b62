-- wrk script: POST /api/v1/tickets round-robin over the 20 items of hall-bench.toml.
-- Usage: wrk -t1 -c8 -d15s -s wrk_issue.lua http://127.0.0.1:PORT/api/v1/tickets -- KIOSK_TOKEN
-- Prints one JSON line at the end (latencies in microseconds) for benchmarks/issue.py.
local n = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
end

function request()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format('{"service":"S%02d"}', n % 20 + 1))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,' ..
    '"mean_us":%.1f,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max))
end
