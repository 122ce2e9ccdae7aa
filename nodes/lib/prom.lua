-- nodes/lib/prom.lua: Prometheus query_range helpers for the context collector
-- (nodes/context_collector.lua). Pure: no ctx, no I/O.
--
--   local prom = require("nodes.lib.prom")
--   prom.expand("rate(x{service=\"$service\"}[5m])", { service = "payment-service" })
--   local s, err = prom.series(body)           -- body = decoded /api/v1/query_range JSON
--   local pick = prom.pick_max(s)              -- {labels, points{{t, v}}, peak, peak_at, last, mean}, n
--   prom.summary(name, q, cur, b24, b7)        -- the context.metrics entry
--
-- Semantics (what the summary numbers mean):
--   * several series: the one with the highest peak is taken ("max series");
--     `series` says how many there were, `labels` are the chosen series' labels;
--   * current  = the LAST sample of that series in the incident window
--     (current_is = "last"); peak / peak_at = its maximum and when;
--   * baseline_24h / baseline_7d = the MEAN of the max series over the same
--     window 24 h / 7 d earlier;
--   * change_*_pct = (current - baseline) / baseline * 100, rounded to an
--     integer; absent when the baseline is missing or 0.
-- Samples that are NaN or +-Inf are skipped.
local M = {}

local huge, floor, abs = math.huge, math.floor, math.abs

-- $service / ${service} (and any other $name of vars) substituted; unknown
-- names are left as they are.
function M.expand(expr, vars)
  if type(expr) ~= "string" then return expr end
  local function sub(name)
    local v = vars[name]
    if v == nil then return nil end
    return tostring(v)
  end
  expr = expr:gsub("%${([%w_]+)}", sub)
  expr = expr:gsub("%$([%a_][%w_]*)", sub)
  return expr
end

-- 4 significant digits, integers stay integers
function M.round(x)
  if type(x) ~= "number" or x ~= x or x == huge or x == -huge then return nil end
  if x == floor(x) and abs(x) < 1e15 then return floor(x) end
  local a = abs(x)
  if a == 0 then return 0 end
  local digits = 4 - (floor(math.log(a, 10)) + 1)
  local m = 10 ^ digits
  local r = floor(x * m + 0.5) / m
  if r == floor(r) and abs(r) < 1e15 then return floor(r) end
  return r
end

local function tonum(v)
  local n = tonumber(v)
  if not n or n ~= n or n == huge or n == -huge then return nil end
  return n
end

-- The series of a query_range answer: {{labels, points{{t, v}}}}, or nil and
-- a message (Prometheus' own error when it gave one).
function M.series(body)
  if type(body) ~= "table" then return nil, "the answer is not JSON" end
  if body.status == "error" then
    return nil, tostring(body.errorType or "error") .. ": " .. tostring(body.error or "?")
  end
  local data = body.data
  if type(data) ~= "table" then return nil, "no data in the answer" end
  local rtype = data.resultType
  local out = {}
  for _, r in ipairs(type(data.result) == "table" and data.result or {}) do
    local pts = {}
    if rtype == "matrix" then
      for _, p in ipairs(r.values or {}) do
        local t, v = tonum(p[1]), tonum(p[2])
        if t and v then pts[#pts + 1] = { t, v } end
      end
    elseif rtype == "vector" and r.value then
      local t, v = tonum(r.value[1]), tonum(r.value[2])
      if t and v then pts[1] = { t, v } end
    end
    local labels = {}
    for k, v in pairs(type(r.metric) == "table" and r.metric or {}) do
      if k ~= "__name__" then labels[k] = v end
    end
    if #pts > 0 then out[#out + 1] = { labels = labels, points = pts } end
  end
  if rtype ~= "matrix" and rtype ~= "vector" and #out == 0 and rtype ~= nil then
    return nil, "unexpected resultType " .. tostring(rtype)
  end
  return out
end

local function stats(s)
  local peak, peak_at, sum = -huge, nil, 0
  table.sort(s.points, function(a, b) return a[1] < b[1] end)
  for _, p in ipairs(s.points) do
    if p[2] > peak then peak, peak_at = p[2], p[1] end
    sum = sum + p[2]
  end
  s.peak, s.peak_at = peak, peak_at
  s.last = s.points[#s.points][2]
  s.mean = sum / #s.points
  return s
end

-- The series with the highest peak (ties: the first), with its stats, and the
-- number of series; nil, 0 when there is none.
function M.pick_max(series)
  local best
  for _, s in ipairs(series or {}) do
    stats(s)
    if not best or s.peak > best.peak then best = s end
  end
  return best, #(series or {})
end

local function pct(cur, base)
  if not cur or not base or base == 0 then return nil end
  return floor((cur - base) / abs(base) * 100 + 0.5)
end
M.pct = pct

-- The context.metrics entry of one query. cur/b24/b7 are pick_max results
-- (or nil); n is the number of series in the incident window; fmt_time
-- formats epoch seconds.
function M.summary(q, cur, n, b24, b7, fmt_time)
  local m = { query = q.expr, unit = q.unit }
  if cur then
    m.current = M.round(cur.last)
    m.current_is = "last"
    m.peak = M.round(cur.peak)
    m.peak_at = fmt_time and fmt_time(cur.peak_at) or cur.peak_at
    if n > 1 then
      m.series = n
      m.labels = cur.labels
    end
  end
  if b24 then m.baseline_24h = M.round(b24.mean) end
  if b7 then m.baseline_7d = M.round(b7.mean) end
  if cur then
    m.change_24h_pct = pct(cur.last, b24 and b24.mean)
    m.change_7d_pct = pct(cur.last, b7 and b7.mean)
  end
  return m
end

return M
