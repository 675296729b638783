-- wrk script: each request carries one of the logged-in sessions given as arguments (round
-- robin), and the summary is printed as one JSON line for benchmarks/run.py.
local cookies = {}
local counter = 0

init = function(args)
  for i, cookie in ipairs(args) do cookies[i] = cookie end
end

request = function()
  counter = counter + 1
  local headers = {}
  if #cookies > 0 then headers["Cookie"] = cookies[(counter % #cookies) + 1] end
  return wrk.format("GET", nil, headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors_status": %d, "errors_socket": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
