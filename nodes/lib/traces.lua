-- nodes/lib/traces.lua: Jaeger HTTP API answers (GET /api/traces) summarized
-- for the context collector (nodes/context_collector.lua). Pure: no ctx.
--
--   local tr = require("nodes.lib.traces")
--   local spans, err = tr.jaeger_spans(body)  -- flat {service, operation, duration_ms, tags{}, error}
--   local s = tr.summarize(spans, { max_errors = 5, max_slowest = 5 })
--     --> { errors = {{operation, service, count, attributes{}}},
--           slowest = {{operation, service, p99_ms, count, attributes{}}},
--           spans = N, traces = N }
--
-- A span is an error when its tag error is true (bool or "true"),
-- otel.status_code is "ERROR", or http.status_code / http.response.status_code
-- is >= 500. Errors are grouped by (service, operation), most frequent first;
-- slowest is per (service, operation) the nearest-rank p99 of the durations,
-- slowest first. `attributes` keeps only the interesting keys (ATTRS below),
-- the first value seen for each; the error message comes from the tags or the
-- span's logs (fields message / error.object / event=error).
local M = {}

local floor, ceil = math.floor, math.ceil

M.ATTRS = { "db.statement", "db.system", "http.url", "http.route", "http.status_code", "peer.service",
  "net.peer.name", "error.message" }
local MAX_ATTR = 160

local function tagmap(tags)
  local m = {}
  for _, t in ipairs(type(tags) == "table" and tags or {}) do
    if type(t) == "table" and type(t.key) == "string" then m[t.key] = t.value end
  end
  return m
end

function M.is_error(tags)
  local e = tags.error
  if e == true or e == "true" then return true end
  if type(tags["otel.status_code"]) == "string" and tags["otel.status_code"]:upper() == "ERROR" then return true end
  local code = tonumber(tags["http.status_code"]) or tonumber(tags["http.response.status_code"])
  return code ~= nil and code >= 500
end

-- flat span list of a Jaeger /api/traces answer, or nil and a message
function M.jaeger_spans(body)
  if type(body) ~= "table" then return nil, "the answer is not JSON" end
  if type(body.errors) == "table" and #body.errors > 0 then
    local e = body.errors[1]
    return nil, "jaeger error: " .. tostring(type(e) == "table" and (e.msg or e.code) or e)
  end
  if type(body.data) ~= "table" then return nil, "no data in the answer" end
  local out, ntraces = {}, 0
  for _, trace in ipairs(body.data) do
    ntraces = ntraces + 1
    local procs = type(trace.processes) == "table" and trace.processes or {}
    for _, sp in ipairs(type(trace.spans) == "table" and trace.spans or {}) do
      local tags = tagmap(sp.tags)
      if tags["error.message"] == nil then
        for _, lg in ipairs(type(sp.logs) == "table" and sp.logs or {}) do
          local f = tagmap(lg.fields)
          local msg = f.message or f["error.object"] or f["error.message"] or f.msg
          if type(msg) == "string" then tags["error.message"] = msg break end
        end
      end
      local p = procs[sp.processID]
      out[#out + 1] = {
        service = type(p) == "table" and p.serviceName or nil,
        operation = sp.operationName or "?",
        duration_ms = (tonumber(sp.duration) or 0) / 1000,
        start_us = tonumber(sp.startTime),
        tags = tags,
        error = M.is_error(tags),
      }
    end
  end
  return out, nil, ntraces
end

local function attrs(into, tags)
  for _, k in ipairs(M.ATTRS) do
    local v = tags[k]
    if into[k] == nil and v ~= nil and (type(v) == "string" or type(v) == "number" or type(v) == "boolean") then
      if type(v) == "string" and #v > MAX_ATTR then v = v:sub(1, MAX_ATTR - 3) .. "..." end
      into[k] = v
    end
  end
end

local function round1(x) return floor(x * 10 + 0.5) / 10 end

function M.p99(durs)
  table.sort(durs)
  local n = #durs
  if n == 0 then return nil end
  return durs[math.max(1, ceil(0.99 * n))]
end

function M.summarize(spans, opts)
  opts = opts or {}
  local errs, slow, eorder, sorder = {}, {}, {}, {}
  for _, sp in ipairs(spans or {}) do
    local key = (sp.service or "") .. "\0" .. sp.operation
    if sp.error then
      local e = errs[key]
      if not e then
        e = { operation = sp.operation, service = sp.service, count = 0, attributes = {} }
        errs[key] = e; eorder[#eorder + 1] = e
      end
      e.count = e.count + 1
      attrs(e.attributes, sp.tags)
    end
    local s = slow[key]
    if not s then
      s = { operation = sp.operation, service = sp.service, durs = {}, attributes = {} }
      slow[key] = s; sorder[#sorder + 1] = s
    end
    s.durs[#s.durs + 1] = sp.duration_ms
    attrs(s.attributes, sp.tags)
  end
  table.sort(eorder, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.operation < b.operation
  end)
  for _, s in ipairs(sorder) do
    s.count = #s.durs
    s.p99_ms = round1(M.p99(s.durs))
    s.durs = nil
    s.attributes["error.message"] = nil
    s.attributes["http.status_code"] = nil
  end
  table.sort(sorder, function(a, b)
    if a.p99_ms ~= b.p99_ms then return a.p99_ms > b.p99_ms end
    return a.operation < b.operation
  end)
  local out = { errors = {}, slowest = {} }
  for i = 1, math.min(opts.max_errors or 5, #eorder) do out.errors[i] = eorder[i] end
  for i = 1, math.min(opts.max_slowest or 5, #sorder) do out.slowest[i] = sorder[i] end
  out.error_groups, out.operations = #eorder, #sorder
  return out
end

return M
