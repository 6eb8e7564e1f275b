-- Shared by the scenario scripts (loaded with dofile at their top).
--
-- benchmarks/run.py starts wrk with as many threads as connections, so one
-- Lua state drives exactly one connection and a scenario can keep state
-- from one response to the next request (a rotated refresh token, a code).
-- Each thread gets one row of the tab-separated file named by BENCH_DATA
-- (set-up values: cookies, tokens, PKCE pairs), as the global `row`.
--
-- A scenario counts in `ok` what it came to measure (a token issued, a
-- login done, a round trip completed) and in `failed` any other answer;
-- done() prints one line, "BENCH-RESULT {json}", that run.py reads.

local threads = {}
local rows = nil
local next_id = 1

local function read_rows(path)
  local result = {}
  if path == nil or path == "" then
    return result
  end
  for line in io.lines(path) do
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      fields[#fields + 1] = field
    end
    result[#result + 1] = fields
  end
  return result
end

function setup(thread)
  rows = rows or read_rows(os.getenv("BENCH_DATA"))
  if #rows > 0 then
    thread:set("row", rows[((next_id - 1) % #rows) + 1])
  end
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

ok = 0
failed = 0
last_error = ""

-- Count a failure and keep a short, JSON-safe sample of it.
function fail(status, body)
  failed = failed + 1
  local text = tostring(status) .. " " .. string.sub(body or "", 1, 160)
  last_error = text:gsub('[%c"\\]', " ")
end

-- Header lookup regardless of case (gunicorn and node spell them differently).
function header(headers, name)
  name = string.lower(name)
  for key, value in pairs(headers) do
    if string.lower(key) == name then
      return value
    end
  end
  return nil
end

function done(summary, latency, requests)
  local total_ok, total_failed, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_ok = total_ok + (thread:get("ok") or 0)
    total_failed = total_failed + (thread:get("failed") or 0)
    local text = thread:get("last_error") or ""
    if text ~= "" then
      sample = text
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"ok": %d, "failed": %d, "requests": %d, "duration_us": %d, '
      .. '"latency_p50_us": %d, "latency_p99_us": %d, "socket_errors": %d, "timeouts": %d, "error_sample": "%s"}\n',
    total_ok, total_failed, summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write, errors.timeout, sample
  ))
end
