-- nodes/lib/deploys.lua: deploy events for context.deploys, from a Prometheus
-- series or from a JSON list (an HTTP endpoint or a file). Used by
-- nodes/context_collector.lua; read by nodes/lib/builtin_analyzer.lua's
-- deploy_regression signature ("error spike right after a deploy"). Pure.
--
--   local dp = require("nodes.lib.deploys")
--   dp.from_series(series, service)  -- generation bumps of e.g.
--       kube_deployment_status_observed_generation -> {{t, version, previous_version, service}}
--   dp.from_list(doc, service)       -- {t, version, previous_version, service} or nil, message
--   dp.finish(events, from, to, fmt_time, max) -- in [from, to], newest max, as context entries
--
-- A deploy from a series is a sample whose value is higher than the one
-- before it (a generation counter only grows; a drop is a restarted
-- exporter, not a deploy); version is "generation N". A list is a JSON array
-- of events, or an object holding one under deploys / items / events / data;
-- an event's time is at / time / timestamp / deployed_at / created_at
-- (ISO-8601 or epoch), its version version / revision / image / tag, its
-- service service / app / deployment (else the incident's service).
local time = require("nodes.lib.time")

local M = {}

function M.from_series(series, service)
  local out = {}
  for _, s in ipairs(series or {}) do
    local pts = s.points or {}
    table.sort(pts, function(a, b) return a[1] < b[1] end)
    local labels = s.labels or {}
    local svc = labels.deployment or labels.service or labels.app or service
    for i = 2, #pts do
      local prev, cur = pts[i - 1][2], pts[i][2]
      if cur > prev then
        out[#out + 1] = { t = math.floor(pts[i][1]), service = svc,
          version = ("generation %d"):format(math.floor(cur)),
          previous_version = ("generation %d"):format(math.floor(prev)) }
      end
    end
  end
  return out
end

local function first(e, keys)
  for _, k in ipairs(keys) do
    local v = e[k]
    if type(v) == "string" and v ~= "" then return v end
    if type(v) == "number" then return v end
  end
  return nil
end

function M.from_list(doc, service)
  local list = doc
  if type(doc) == "table" and doc[1] == nil then
    list = doc.deploys or doc.items or doc.events or doc.data
  end
  if type(list) ~= "table" then
    return nil, "not a list of deploy events (a JSON array, or an object with deploys/items/events/data)"
  end
  local out, bad = {}, 0
  for _, e in ipairs(list) do
    local t = type(e) == "table" and first(e, { "at", "time", "timestamp", "deployed_at", "created_at", "finished_at" })
    t = t and time.parse(t)
    if t then
      local v = first(e, { "version", "revision", "image", "tag" })
      local p = first(e, { "previous_version", "from_version", "previous" })
      out[#out + 1] = { t = t, version = v and tostring(v), previous_version = p and tostring(p),
        service = first(e, { "service", "app", "deployment" }) or service }
    else
      bad = bad + 1
    end
  end
  return out, nil, bad
end

-- the events inside [from, to], sorted by time, the newest `max` of them, as
-- {at, version, service, previous_version?}; the same deploy from two sources
-- (same second, service and version) is kept once
function M.finish(events, from, to, fmt_time, max)
  local keep, seen = {}, {}
  for i, e in ipairs(events) do
    local key = ("%d\0%s\0%s"):format(math.floor(e.t), tostring(e.service), tostring(e.version))
    if e.t >= from and e.t <= to and not seen[key] then seen[key] = true; e.i = i; keep[#keep + 1] = e end
  end
  table.sort(keep, function(a, b) if a.t ~= b.t then return a.t < b.t end return a.i < b.i end)
  local out = {}
  for i = math.max(1, #keep - (max or 10) + 1), #keep do
    local e = keep[i]
    out[#out + 1] = { at = fmt_time(e.t), version = e.version, service = e.service,
      previous_version = e.previous_version }
  end
  return out
end

return M
