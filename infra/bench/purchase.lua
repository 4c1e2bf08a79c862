-- wrk script for infra/bench.sh: POST /api/campaigns/{id}/purchases (the URL given to wrk) with a
-- buyer in X-User-Id (an intake) or in a bearer token (the gateway), no body, and a per-status count
-- of the answers.
--
-- Arguments after wrk's "--", as key=value:
--   mode=distinct   every request is a new buyer: <prefix>-<thread>-<counter> (accept path, fills)
--   mode=fixed      every request is the same buyer: <prefix> (already-purchased path)
--   prefix=TEXT     makes the buyers unique per phase and run (X-User-Id: printable ASCII, <= 64)
--   tokens=FILE     send Authorization: Bearer <token> instead of X-User-Id, one token per request in
--                   the file's order (mode=distinct), wrapping around at its end; written beforehand by
--                   `Seckill.LoadTest tokens` (wrk cannot sign, and signing during the phase would take
--                   CPU from the gateway being measured). A wrapped-around token is a buyer seen before:
--                   size the file for the phase, or raise the gateway's per-buyer limit and accept repeats.
--   rate=R          send at most R requests/s from this wrk thread, on a fixed schedule: every send
--                   takes the next slot (start + k/R) and waits for it (wrk's delay()), so the rate is
--                   R whenever enough connections are free; a late slot is sent at once (catches up).
--                   Latency still counts from the actual send (no coordinated-omission correction).
--
-- done() prints two machine-readable lines that bench.sh parses (wrk's own summary stays above them):
--   BENCH requests=N duration_us=N p50_us=N p99_us=N connect_errors=N read_errors=N write_errors=N timeouts=N
--   BENCH statuses=202:N,410:N

local threads = {}

-- Monotonic milliseconds: wrk's Lua has no sub-second clock, LuaJIT's FFI reaches clock_gettime.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_buffer = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_buffer)
  return tonumber(now_buffer.tv_sec) * 1000 + tonumber(now_buffer.tv_nsec) / 1e6
end

-- setup() runs in the main Lua state once per thread before the threads start: number them so the
-- buyers of two threads never collide (each thread has its own counter).
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  local options = { mode = "distinct", prefix = "bench", rate = "0" }
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    if key == nil then error("bad argument '" .. arg .. "' (expected key=value)") end
    options[key] = value
  end
  prefix = options.prefix .. "-" .. thread_number .. "-"
  counter = 0
  statuses = {}
  local rate = tonumber(options.rate) or 0
  if options.tokens then
    if options.mode ~= "distinct" then error("tokens= needs mode=distinct") end
    tokens = {}
    for line in io.lines(options.tokens) do
      if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
    end
    if #tokens == 0 then error("no tokens in " .. options.tokens) end
  end
  if options.mode == "fixed" then
    -- Built once: the same request for every cycle costs wrk nothing per request.
    fixed_request = wrk.format("POST", nil, { ["X-User-Id"] = options.prefix }, nil)
  elseif options.mode ~= "distinct" then
    error("mode must be distinct or fixed, not '" .. options.mode .. "'")
  end
  if rate > 0 then
    local interval, next_slot = 1000 / rate, nil
    delay = function()
      local now = now_ms()
      local slot = next_slot or now
      next_slot = slot + interval
      local wait = slot - now
      if wait <= 0 then return 0 end
      return math.floor(wait + 0.5)   -- wrk's timers take whole ms; the schedule itself stays exact
    end
  end
end

function request()
  if fixed_request then return fixed_request end
  if tokens then
    local token = tokens[counter % #tokens + 1]
    counter = counter + 1
    return wrk.format("POST", nil, { ["Authorization"] = token }, nil)
  end
  counter = counter + 1
  return wrk.format("POST", nil, { ["X-User-Id"] = prefix .. counter }, nil)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency)
  local totals, codes = {}, {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      if totals[status] == nil then table.insert(codes, status) end
      totals[status] = (totals[status] or 0) + count
    end
  end
  table.sort(codes)
  local parts = {}
  for _, status in ipairs(codes) do table.insert(parts, status .. ":" .. totals[status]) end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.timeout))
  io.write("BENCH statuses=" .. (#parts > 0 and table.concat(parts, ",") or "none") .. "\n")
end
