-- nodes/context_collector.lua: collects the incident context (issue 4).
--
-- Reads state.alert (service, window{from, to}) and the per-service sources of
-- the configuration file (ctx.config, given with --config FILE; example in
-- config/opsgraph.example.json), writes `context` (the compact summary of
-- nodes/README.md) and one `timeline` entry. No rebuild is needed to add a
-- service: add services["<name>"] to the config file.
--
--   services["payment-service"] = {
--     prometheus = { url = "http://prom:9090", queries = {
--       error_rate = { expr = "... service=\"$service\" ...", unit = "ratio" }, ... } },
--     logs   = { loki = { url = "http://loki:3100", query = "{app=\"$service\"}", limit = 2000 } },
--     traces = { jaeger = { url = "http://jaeger:16686", service = "payment-service", limit = 200 } },
--   }
--   defaults = { step = "60s", token_budget = 1500, timeout_ms = 5000, max_bytes = 8388608,
--                max_templates = 10, max_spans = 5 }
--
-- Metrics: every query over the incident window and over the same window 24 h
-- and 7 d earlier (/api/v1/query_range); see nodes/lib/prom.lua for what
-- current (the last sample of the max series), peak, baseline_* (means) and
-- change_*_pct mean. Logs: Loki query_range (direction backward) over the
-- window and the window 24 h earlier, clustered by nodes/lib/log_templates.lua;
-- `new` = the template is absent 24 h earlier. Traces: Jaeger /api/traces,
-- summarized by nodes/lib/traces.lua. host: empty until the eBPF collectors
-- exist (a note says so).
--
-- Failures never stop the run: a source that fails (HTTP error, timeout,
-- refused connection, bad JSON, empty result) adds a line to context.notes
-- and the others go on. The summary is cut to the token budget
-- (tokens ~ bytes of its JSON / 4): extra log templates and spans go first,
-- then long examples and attributes, then query texts, then templates and
-- spans down to one each, then examples.
local time = require("nodes.lib.time")
local prom = require("nodes.lib.prom")
local lt = require("nodes.lib.log_templates")
local tr = require("nodes.lib.traces")

local og_array = function(t) return t end
do
  local ok, og = pcall(require, "opsgraph")
  if ok and type(og) == "table" and type(og.array) == "function" then og_array = og.array end
end

local HOST_NOTE = "host signals: eBPF collectors not available yet"
local DAY, WEEK = 86400, 7 * 86400

local function sorted_keys(t)
  local ks = {}
  for k in pairs(type(t) == "table" and t or {}) do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end

local function num(v, d)
  if type(v) == "number" then return v end
  if type(v) == "string" then return tonumber(v) or time.duration(v) or d end
  return d
end

local function trim_url(u) return (tostring(u or ""):gsub("/+$", "")) end

-- "timeout after 5 s" / "connection refused" / "HTTP 500: ..." of a failed call
local function describe(err, kind, timeout_ms)
  if kind == "timeout" then return ("timeout after %g s"):format(timeout_ms / 1000) end
  if kind == "connect" then
    local m = tostring(err or ""):match(": ([^:]*)$")
    return m or "connection failed"
  end
  return (kind and (kind .. ": ") or "") .. tostring(err or "failed")
end

local function collect(state, ctx)
  local alert = type(state.alert) == "table" and state.alert or {}
  local labels = type(alert.labels) == "table" and alert.labels or {}
  local service = alert.service or labels.service or labels.app
  local cfg = ctx.config or {}
  local d = type(cfg.defaults) == "table" and cfg.defaults or {}
  local timeout_ms = math.floor(num(d.timeout_ms, 5000))
  local max_bytes = math.floor(num(d.max_bytes, 8 * 1048576))
  local budget = num(d.token_budget, 1500)
  local notes = {}
  local function note(s) notes[#notes + 1] = s end
  local context = { metrics = {}, logs = {}, traces = {}, host = {}, deploys = og_array{}, notes = notes }
  local counts = { metrics = 0, templates = 0, errors = 0, slowest = 0 }

  local scfg = service and type(cfg.services) == "table" and cfg.services[service] or nil
  if type(scfg) ~= "table" then
    note(("no sources configured for service %s in config: add services.%s to the config file")
      :format(tostring(service or "?"), tostring(service or "<service>")))
    note(HOST_NOTE)
    return context, counts
  end

  -- the incident window
  local w = type(alert.window) == "table" and alert.window or {}
  local from, to = time.parse(w.from or ""), time.parse(w.to or "")
  if not from or not to then
    local started = time.parse(alert.started_at or "")
    if started then
      from, to = started - 900, math.max(started + 900, math.floor(ctx.now()))
      note(("alert: no window given; using %s .. %s"):format(time.format(from), time.format(to)))
    else
      note("alert: no window and no started_at; nothing to collect")
      note(HOST_NOTE)
      return context, counts
    end
  end
  if to <= from then to = from + 60 end

  local function get(url, query)
    local r, err, kind = ctx.http.get(url, { query = query, timeout_ms = timeout_ms, max_bytes = max_bytes })
    if not r then return nil, describe(err, kind, timeout_ms), kind end
    if r.status >= 400 then
      local detail = type(r.json) == "table" and (r.json.error or r.json.message) or nil
      if not detail and type(r.body) == "string" then detail = r.body:sub(1, 120) end
      return nil, ("HTTP %d%s"):format(r.status, detail and detail ~= "" and (": " .. detail) or ""), "http"
    end
    if type(r.json) ~= "table" then return nil, "the answer is not JSON", "invalid" end
    return r.json
  end

  -- ---- metrics ------------------------------------------------------------
  local pc = scfg.prometheus
  if type(pc) == "table" and pc.url then
    local base = trim_url(pc.url) .. "/api/v1/query_range"
    local step = math.floor(num(pc.step or d.step, 60))
    local down
    for _, name in ipairs(sorted_keys(pc.queries)) do
      local q = pc.queries[name]
      if type(q) == "string" then q = { expr = q } end
      local expr = prom.expand(q.expr, { service = service })
      if down then
        note(("prometheus: skipped query %s (%s earlier); continuing without it"):format(name, down))
      elseif type(expr) ~= "string" or expr == "" then
        note(("prometheus: query %s has no expr in the config; skipped"):format(name))
      else
        local picks, n = {}, 0
        for _, wdef in ipairs({ { "cur", 0, "incident window" }, { "b24", DAY, "24 h baseline" }, { "b7", WEEK, "7 d baseline" } }) do
          local key, off, label = wdef[1], wdef[2], wdef[3]
          local body, err, kind = get(base, { query = expr, start = from - off, ["end"] = to - off, step = step })
          local series
          if body then series, err = prom.series(body) end
          if not series then
            note(("prometheus: %s (query %s, %s); continuing without it"):format(err, name, label))
            if kind == "connect" or kind == "timeout" or kind == "dns" then down = err break end
            if key == "cur" then break end
          elseif #series == 0 then
            if key == "cur" then
              note(("prometheus: no data for query %s in the incident window (empty result)"):format(name))
              break
            end
            note(("prometheus: no series for query %s in the %s (empty result)"):format(name, label))
          else
            local p, cnt = prom.pick_max(series)
            picks[key] = p
            if key == "cur" then n = cnt end
          end
        end
        if picks.cur then
          local m = prom.summary({ expr = expr, unit = q.unit }, picks.cur, n, picks.b24, picks.b7, time.format)
          context.metrics[name] = m
          counts.metrics = counts.metrics + 1
        end
      end
    end
  end

  -- ---- logs ---------------------------------------------------------------
  local lc = type(scfg.logs) == "table" and scfg.logs or {}
  if type(lc.loki) == "table" and lc.loki.url then
    local lk = lc.loki
    local url = trim_url(lk.url) .. "/loki/api/v1/query_range"
    local query = prom.expand(lk.query or ('{app="$service"}'), { service = service })
    local limit = math.floor(num(lk.limit or d.log_limit, 2000))
    local function fetch(off)
      local body, err = get(url, { query = query, start = ("%d"):format((from - off) * 1000000000),
        ["end"] = ("%d"):format((to - off) * 1000000000), limit = limit, direction = "backward" })
      if not body then return nil, err end
      if body.status == "error" or type(body.data) ~= "table" then
        return nil, tostring(body.error or "no data in the answer")
      end
      local c = lt.new(ctx.json.decode)
      for _, s in ipairs(type(body.data.result) == "table" and body.data.result or {}) do
        for _, v in ipairs(type(s.values) == "table" and s.values or {}) do
          local t = tonumber(v[1])
          c:add(v[2], t and math.floor(t / 1e9), s.stream)
        end
      end
      return c
    end
    local cur, err = fetch(0)
    if not cur then
      note(("loki: %s (%s); continuing without logs"):format(err, trim_url(lk.url)))
    else
      local base, berr = fetch(DAY)
      if not base then
        note(("loki: the 24 h baseline query failed (%s); `new` flags unknown"):format(berr))
      end
      local templates, distinct = cur:result{ baseline = base, max = math.floor(num(d.max_templates, 10)),
        fmt_time = time.format, example_max = 200 }
      context.logs = { source = "loki", query = query, total = cur.total, distinct = distinct,
        templates = og_array(templates) }
      counts.templates = #templates
      if cur.total >= limit then
        note(("loki: %d lines returned (the limit); counts cover the newest lines of the window only"):format(limit))
      end
      if cur.total == 0 then note("loki: no log lines in the incident window (empty result)") end
    end
  elseif lc.file or lc.elasticsearch then
    note("logs: only Loki is supported by the collector so far; the configured log source was skipped")
  end

  -- ---- traces -------------------------------------------------------------
  local tc = type(scfg.traces) == "table" and scfg.traces or {}
  if type(tc.jaeger) == "table" and tc.jaeger.url then
    local jc = tc.jaeger
    local body, err = get(trim_url(jc.url) .. "/api/traces", {
      service = prom.expand(jc.service or service, { service = service }),
      start = ("%d"):format(from * 1000000), ["end"] = ("%d"):format(to * 1000000),
      limit = math.floor(num(jc.limit, 200)) })
    local spans, ntraces
    if body then spans, err, ntraces = tr.jaeger_spans(body) end
    if not spans then
      note(("jaeger: %s (%s); continuing without traces"):format(err, trim_url(jc.url)))
    else
      local ms = math.floor(num(d.max_spans, 5))
      local s = tr.summarize(spans, { max_errors = ms, max_slowest = ms })
      context.traces = { source = "jaeger", traces = ntraces, spans = #spans,
        errors = og_array(s.errors), slowest = og_array(s.slowest) }
      counts.errors, counts.slowest = #s.errors, #s.slowest
      if #spans == 0 then note("jaeger: no traces in the incident window (empty result)") end
    end
  elseif tc.tempo or tc.otlp_file then
    note("traces: Tempo and OTLP files are not supported by the collector yet; only Jaeger")
  end

  note(HOST_NOTE)

  -- ---- the token budget ---------------------------------------------------
  local function tokens() return #ctx.json.encode(context) / 4 end
  local dropped = { templates = 0, spans = 0 }
  local reserve = 30       -- room for the budget note itself
  local function over() return tokens() + reserve > budget end
  local logs, traces = context.logs, context.traces
  local function drop_template(keep)
    local ts = logs.templates
    if not ts or #ts <= keep then return false end
    local idx = #ts
    for i = #ts, 1, -1 do if ts[i].new ~= true then idx = i break end end   -- the old ones go first
    table.remove(ts, idx); dropped.templates = dropped.templates + 1
    return true
  end
  local function drop_span(keep)
    local a, b = traces.slowest, traces.errors
    if a and #a > keep and (not b or #a >= #b) then table.remove(a); dropped.spans = dropped.spans + 1 return true end
    if b and #b > keep then table.remove(b); dropped.spans = dropped.spans + 1 return true end
    if a and #a > keep then table.remove(a); dropped.spans = dropped.spans + 1 return true end
    return false
  end
  local function shorten(n)
    for _, t in ipairs(logs.templates or {}) do
      if t.example and #t.example > n then t.example = t.example:sub(1, n - 3) .. "..." end
    end
    for _, list in ipairs({ traces.errors or {}, traces.slowest or {} }) do
      for _, sp in ipairs(list) do
        for k, v in pairs(sp.attributes or {}) do
          if type(v) == "string" and #v > n then sp.attributes[k] = v:sub(1, n - 3) .. "..." end
        end
      end
    end
  end
  local stages = {
    function() while over() and drop_template(3) do end end,
    function() while over() and drop_span(3) do end end,
    function() shorten(100) end,
    function()   -- the query texts are in the config file anyway
      for _, m in pairs(context.metrics) do m.query = nil; m.labels = nil end
      logs.query = nil
    end,
    function()   -- templates and spans in turn, down to one of each
      while over() and (drop_template(1) or drop_span(1)) do
        if over() then drop_span(1) end
      end
    end,
    function() shorten(50) end,
    function() for _, t in ipairs(logs.templates or {}) do t.example = nil end end,
    function() for _, m in pairs(context.metrics) do m.current_is = nil; m.peak_at = nil end end,
  }
  local trimmed = false
  for _, stage in ipairs(stages) do
    if not over() then break end
    stage(); trimmed = true
  end
  if trimmed then
    note(("budget: summary cut to fit about %d tokens (%d log templates and %d spans left out)")
      :format(math.floor(budget), dropped.templates, dropped.spans))
  end
  counts.templates = logs.templates and #logs.templates or 0
  counts.errors = traces.errors and #traces.errors or 0
  counts.slowest = traces.slowest and #traces.slowest or 0
  return context, counts
end

return function(state, ctx)
  local context, counts = collect(state, ctx)
  local detail = ("metrics %d, log templates %d, error spans %d, slow operations %d, notes %d, ~%d tokens")
    :format(counts.metrics, counts.templates, counts.errors, counts.slowest, #context.notes,
      math.floor(#ctx.json.encode(context) / 4 + 0.5))
  return {
    context = context,
    timeline = { { at = time.format(ctx.now()), node = ctx.node or "context_collector",
                   event = "context_collected", detail = detail } },
  }
end
