-- wrk script for the reference in versus-aw.sh: ActivityWatch's aw-server-rust storing one
-- event a request (POST /api/0/buckets/bench/events), each at its own time so every one is a new
-- row. Env: BENCH_BASE (unix time of the first event).
local base = tonumber(os.getenv("BENCH_BASE"))
local next_tid = 0
local n = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function request()
  n = n + 1
  -- Threads interleave by thousandths of a second, so no two events share a timestamp.
  local t = base + n
  local body = string.format(
    '[{"timestamp":"%s.%03dZ","duration":1.0,"data":{"app":"editor","title":"report.md"}}]',
    os.date("!%Y-%m-%dT%H:%M:%S", t), tid)
  return wrk.format("POST", "/api/0/buckets/bench/events", { ["Content-Type"] = "application/json" }, body)
end
