-- nodes/lib/traces.lua: trace answers summarized for the context collector
-- (nodes/context_collector.lua): Jaeger HTTP API (GET /api/traces), and
-- OTLP-JSON as Tempo returns it (GET /api/traces/<id>: {"batches": [...]},
-- /api/v2/traces/<id>: {"trace": {"resourceSpans": [...]}}) and as the
-- OpenTelemetry collector's file exporter writes it (one
-- {"resourceSpans": [...]} per line). Pure: no ctx.
--
--   local tr = require("nodes.lib.traces")
--   local spans, err = tr.jaeger_spans(body)  -- flat {service, operation, duration_ms, tags{}, error}
--   local spans = tr.otlp_spans(doc, into)     -- the same from one OTLP-JSON document, appended to into
--   spans = tr.keep(spans, {from=, to=, service=})  -- the window; the traces that touch the service
--   local s = tr.summarize(spans, { max_errors = 5, max_slowest = 5 })
--     --> { errors = {{operation, service, count, attributes{}}},
--           slowest = {{operation, service, p99_ms, count, attributes{}}},
--           spans = N, traces = N }
--
-- A span is an error when its tag error is true (bool or "true"),
-- otel.status_code is "ERROR" (OTLP: status.code 2 / STATUS_CODE_ERROR), or
-- http.status_code / http.response.status_code is >= 500. Errors are grouped
-- by (service, operation), most frequent first; slowest is per (service,
-- operation) the nearest-rank p99 of the durations, slowest first.
-- `attributes` keeps only the interesting keys (ATTRS below), the first value
-- seen for each; the newer OTel names url.full and db.query.text are reported
-- as http.url and db.statement; the error message comes from the tags, the
-- span's logs (fields message / error.object / event=error), OTLP's
-- status.message or an exception event's exception.message.
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

-- ---- OTLP-JSON --------------------------------------------------------------

-- an OTLP AnyValue ({"stringValue": "x"}, {"intValue": "42"}, ...) as a Lua value
local function anyvalue(v)
  if type(v) ~= "table" then return nil end
  if v.stringValue ~= nil then return v.stringValue end
  if v.intValue ~= nil then return tonumber(v.intValue) end
  if v.doubleValue ~= nil then return tonumber(v.doubleValue) end
  if v.boolValue ~= nil then return v.boolValue == true end
  return nil                     -- arrays, kvlists and bytes are not kept
end

local function otlp_attrs(list, into)
  into = into or {}
  for _, a in ipairs(type(list) == "table" and list or {}) do
    if type(a) == "table" and type(a.key) == "string" then
      local v = anyvalue(a.value)
      if v ~= nil then into[a.key] = v end
    end
  end
  return into
end

-- nanoseconds (a JSON string, or a number) -> epoch seconds
local function ns(v)
  local n = tonumber(v)
  if not n then return nil end
  return n / 1e9
end

-- Appends the spans of one OTLP-JSON document to `into` (a new list when nil)
-- and returns it, or nil and a message when doc has no OTLP shape. Each span
-- also gets trace_id and start (epoch seconds).
function M.otlp_spans(doc, into)
  into = into or {}
  if type(doc) ~= "table" then return nil, "the answer is not JSON" end
  local rs = doc.resourceSpans or doc.batches
  if rs == nil and type(doc.trace) == "table" then rs = doc.trace.resourceSpans or doc.trace.batches end
  if type(rs) ~= "table" then
    return nil, "not OTLP-JSON: no resourceSpans (or Tempo's batches) in the document"
  end
  for _, r in ipairs(rs) do
    local rattrs = otlp_attrs(type(r.resource) == "table" and r.resource.attributes)
    local svc = rattrs["service.name"]
    local scopes = r.scopeSpans or r.instrumentationLibrarySpans or {}
    for _, sc in ipairs(type(scopes) == "table" and scopes or {}) do
      for _, sp in ipairs(type(sc.spans) == "table" and sc.spans or {}) do
        local tags = otlp_attrs(sp.attributes)
        if tags["http.url"] == nil and tags["url.full"] ~= nil then tags["http.url"] = tags["url.full"] end
        if tags["db.statement"] == nil and tags["db.query.text"] ~= nil then tags["db.statement"] = tags["db.query.text"] end
        if tags["net.peer.name"] == nil and tags["server.address"] ~= nil then tags["net.peer.name"] = tags["server.address"] end
        local st = type(sp.status) == "table" and sp.status or {}
        if st.code == 2 or st.code == "STATUS_CODE_ERROR" or st.code == "ERROR" then
          tags["otel.status_code"] = "ERROR"
          if type(st.message) == "string" and st.message ~= "" and tags["error.message"] == nil then
            tags["error.message"] = st.message
          end
        end
        if tags["error.message"] == nil then
          for _, ev in ipairs(type(sp.events) == "table" and sp.events or {}) do
            local ea = otlp_attrs(ev.attributes)
            local msg = ea["exception.message"] or ea.message
            if type(msg) == "string" then tags["error.message"] = msg break end
          end
        end
        local t0, t1 = ns(sp.startTimeUnixNano), ns(sp.endTimeUnixNano)
        into[#into + 1] = {
          service = svc,
          operation = type(sp.name) == "string" and sp.name or "?",
          duration_ms = (t0 and t1) and math.max(0, (t1 - t0) * 1000) or 0,
          start = t0,
          trace_id = sp.traceId,
          tags = tags,
          error = M.is_error(tags),
        }
      end
    end
  end
  return into
end

-- The spans that start inside [from, to] (when given) and belong to a trace
-- with at least one such span of `service` (when given), as Jaeger's
-- service search returns them; and the number of those traces.
function M.keep(spans, opts)
  opts = opts or {}
  local inwin = {}
  for _, sp in ipairs(spans) do
    local t = sp.start or (sp.start_us and sp.start_us / 1e6)
    if not t or ((not opts.from or t >= opts.from) and (not opts.to or t <= opts.to)) then inwin[#inwin + 1] = sp end
  end
  local touched = {}
  for _, sp in ipairs(inwin) do
    if not opts.service or sp.service == opts.service then touched[sp.trace_id or ""] = true end
  end
  local out, ntraces, seen = {}, 0, {}
  for _, sp in ipairs(inwin) do
    local id = sp.trace_id or ""
    if touched[id] then
      out[#out + 1] = sp
      if not seen[id] then seen[id] = true; ntraces = ntraces + 1 end
    end
  end
  return out, ntraces
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
