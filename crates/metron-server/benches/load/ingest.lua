-- wrk script: POST /api/v1/intervals with fresh, valid, non-overlapping intervals.
-- Env: BENCH_TASK (task id), BENCH_DEVICES, BENCH_BATCH (intervals a request), BENCH_THREADS,
-- BENCH_BASE (unix time of the first interval). Each wrk thread owns a disjoint set of devices
-- (device i = user i, token "bench-token-i"), and each device's intervals follow each other.
local task = os.getenv("BENCH_TASK")
local devices = tonumber(os.getenv("BENCH_DEVICES"))
local batch = tonumber(os.getenv("BENCH_BATCH") or "1")
local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
local base = tonumber(os.getenv("BENCH_BASE"))
local active = string.rep("1", 60)
local next_tid = 0
local n = 0
local non200 = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

function request()
  local per = math.floor(devices / threads)
  local d = tid * per + (n % per)
  local round = math.floor(n / per)
  n = n + 1
  local items = {}
  for b = 0, batch - 1 do
    local start = base + (round * batch + b) * 60
    items[#items + 1] = string.format(
      '{"id":"%08x-%04x-7000-8000-%012x","device_id":"00000000-0000-7000-8000-%012x","task_id":"%s",' ..
      '"started_at":"%s","ended_at":"%s","utc_offset_minutes":0,"end_reason":"boundary","active":"%s",' ..
      '"counts":{"keys":12,"clicks":2,"scrolls":1,"moves":80},' ..
      '"windows":[{"offset":0,"seconds":60,"app":"editor","title":"report.md","url":null,"path":null}]}',
      tid, b, n, d, task, iso(start), iso(start + 60), active)
  end
  local body = '{"intervals":[' .. table.concat(items, ",") .. ']}'
  return wrk.format("POST", "/api/v1/intervals",
    { ["Authorization"] = "Bearer bench-token-" .. d, ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
