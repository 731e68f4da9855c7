-- wrk script of bench/bench_load.py: requests at random points inside Chengdu, rotating over templates.
--
-- wrk -t2 -c32 -d20s --latency -s bench/load_points.lua URL -- SEED TEMPLATE [TEMPLATE ...]
-- A template is "GET <path>" or "POST <path> <file with the JSON body>"; in the path and the body,
-- {lat} and {lon} are replaced by a point drawn uniformly from lon 103.9-104.2, lat 30.55-30.8 (six
-- decimals), the same sequence for the same SEED and thread. Request i of a thread uses template
-- i mod n, so a mixed load rotates evenly. done() prints one line "WRK_JSON {...}" with the totals.

local LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = 103.9, 104.2, 30.55, 30.8

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local templates = {}
local turn = 0

local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot read " .. path)
  local text = f:read("*a")
  f:close()
  return text
end

function init(args)
  local seed = tonumber(args[1]) or 1
  math.randomseed(seed * 1000 + (tid or 0))
  for i = 2, #args do
    local method, path, body_file = args[i]:match("^(%S+)%s+(%S+)%s*(%S*)$")
    assert(method, "bad template: " .. args[i])
    local body = nil
    if body_file ~= "" then body = read_file(body_file) end
    table.insert(templates, {method = method, path = path, body = body})
  end
  assert(#templates > 0, "no request template given")
end

local function fill(text, lat, lon)
  if text == nil then return nil end
  return (text:gsub("{lat}", lat):gsub("{lon}", lon))
end

function request()
  turn = turn + 1
  local t = templates[(turn - 1) % #templates + 1]
  local lat = string.format("%.6f", LAT_MIN + math.random() * (LAT_MAX - LAT_MIN))
  local lon = string.format("%.6f", LON_MIN + math.random() * (LON_MAX - LON_MIN))
  local headers = {}
  if t.body ~= nil then headers["Content-Type"] = "application/json" end
  return wrk.format(t.method, fill(t.path, lat, lon), headers, fill(t.body, lat, lon))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
