-- wrk script shared by every scenario.
--   BENCH_URL  unset: wrk sends origin-form ("GET /small") to the URL it was given
--              set:   absolute-form request line, e.g. "GET http://127.0.0.1:8080/small
--                     HTTP/1.1" sent to the proxy wrk was pointed at; Host names the origin.
-- BENCH_CLOSE=1     sends "Connection: close": the server (and a proxy passing it on) closes
--                   after each response and wrk reconnects, so every request is a new
--                   connection (scenario 2).
-- BENCH_DELAY_MS=D  paces each connection: after every response it waits a random 0..2*D ms
--                   (mean D) before the next request, so C connections offer about
--                   C*1000/D req/s, de-phased rather than in bursts (fixed-rate latency).
-- done() prints one machine-readable line that bench/run.sh parses:
--   BENCH rps=... p50_us=... p99_us=... requests=... bytes=... errors=... non2xx=... detail=...
-- "non2xx" is wrk's status error counter (responses with status >= 400); "errors" adds
-- connect/read/write/timeout socket errors, itemised in "detail" (c/r/w/t). run.sh pre-checks each peer with curl for a 200.

local url = os.getenv("BENCH_URL")
if url and url ~= "" then
  wrk.path = url
  local authority = url:match("^%a+://([^/]+)")
  if authority then
    wrk.headers["Host"] = authority
  end
end

if os.getenv("BENCH_CLOSE") == "1" then
  wrk.headers["Connection"] = "close"
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms then
  function delay()
    return math.random(0, 2 * delay_ms)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH rps=%.1f p50_us=%d p99_us=%d requests=%d bytes=%d errors=%d non2xx=%d detail=%d/%d/%d/%d\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(99),
    summary.requests, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    e.connect, e.read, e.write, e.timeout))
end
