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
--     -- or logs   = { files = { { path = "/var/log/payment/app.jsonl", format = "jsonl",
--     --                           time_field = "ts", message_field = "msg", level_field = "level" } } },
--     -- or traces = { tempo = { url = "http://tempo:3200", limit = 20 } }
--     -- or traces = { otlp_files = { "/var/log/otel/traces.jsonl", "/var/log/otel/dir" } },
--     deploys = { prometheus = { query = "kube_deployment_status_observed_generation{deployment=\"$service\"}" },
--                 -- and/or url = "http://deployer/api/deploys?service=$service", file = "/srv/deploys.json"
--                 lookback = "2h", max = 10 },
--   }
--   files_allow = { "/var/log/payment", ... }   -- what ctx.files may read (logs, OTLP, deploy files)
--   defaults = { step = "60s", token_budget = 1500, timeout_ms = 5000, max_bytes = 8388608,
--                max_templates = 10, max_spans = 5, collect_deadline_ms = 20000, parallel = 16 }
--
-- Metrics: every query over the incident window and over the same window 24 h
-- and 7 d earlier (/api/v1/query_range), all these requests at once
-- (ctx.http.get_many, at most defaults.parallel = 1..32, default 16, in
-- flight; 21 queries a batch; Loki's two windows, Tempo's traces and the
-- deploys' Prometheus series and URL are fetched at once too); see
-- nodes/lib/prom.lua for what
-- current (the last sample of the max series), peak, baseline_* (means) and
-- change_*_pct mean. Logs: Loki query_range (direction backward) over the
-- window and the window 24 h earlier, clustered by nodes/lib/log_templates.lua;
-- `new` = the template is absent 24 h earlier. Or local log files (JSON lines
-- or text, nodes/lib/log_files.lua) read through ctx.files from their end,
-- the lines of the window and of the window 24 h earlier clustered the same
-- way (`new` is left out, with a note, when a file does not reach back that
-- far). Traces: Jaeger /api/traces, Tempo (/api/search, then
-- /api/traces/<id> for each trace found, OTLP-JSON) or OTLP-JSON files (one
-- document a line, as the collector's file exporter writes them, or one
-- document a file; a directory means its *.json / *.jsonl files), all
-- summarized by nodes/lib/traces.lua (source "jaeger" | "tempo" |
-- "otlp-file"). Deploys (nodes/lib/deploys.lua): generation bumps of a
-- Prometheus series, and/or a JSON list from an HTTP endpoint or a file,
-- from `lookback` (default 2 h) before the window to its end, the newest
-- `max`. Host signals (eBPF, engine/trace/hostsig.c; shape in
-- engine/hostsig/hostsig_json.h): `host = {url = "http://host:9464"}` asks
-- an `opsgraph probe --listen` agent, which was already watching when the
-- alert fired, for GET /v1/host-signals?since=<window.from>&until=<window.to>;
-- `host = {local_window_ms = N [, runq_ms = M] [, cgroup = DIR]}` samples this
-- machine now for N ms (ctx.host.signals; cgroup: a v2 directory that scopes
-- exits, syscall errors and TCP to the service). Either way context.host gets the summary's lists
-- (tcp_retransmits, tcp_connect, oom_kills, crash_loops, runq_latency,
-- syscall_errors), its source, window and prompt `lines`, and its notes go
-- to context.notes (eBPF unavailable: "(source: /proc sampling, reduced
-- fidelity)"). Without a host source a note says so.
--
-- The deadline: with defaults.collect_deadline_ms, a source (the batch of
-- Prometheus queries, a window, a file, a trace) that would start after it
-- is skipped with a "deadline:" note naming it, and no request waits past
-- it. Prometheus transfer failures (connect, timeout, dns) are one note per
-- error, naming every query and window it hit.
--
-- Failures never stop the run: a source that fails (HTTP error, timeout,
-- refused connection, bad JSON, empty result) adds a line to context.notes
-- and the others go on. The summary is cut to the token budget
-- (tokens ~ bytes of its JSON / 4): extra log templates and spans go first,
-- then long examples and attributes, then query texts, then templates and
-- spans down to one each, then examples; with many failing sources, notes
-- longer than 200 bytes are cut and the later ones left out (the budget note
-- counts them).
local time = require("nodes.lib.time")
local prom = require("nodes.lib.prom")
local lt = require("nodes.lib.log_templates")
local tr = require("nodes.lib.traces")
local lf = require("nodes.lib.log_files")
local dp = require("nodes.lib.deploys")
local past = require("nodes.lib.past_incidents")

local og_array = function(t) return t end
do
  local ok, og = pcall(require, "opsgraph")
  if ok and type(og) == "table" and type(og.array) == "function" then og_array = og.array end
end

local HOST_NOTE = "host signals: not configured for this service (services.<service>.host = "
  .. "{url = <an opsgraph probe --listen agent>} or {local_window_ms = N})"
-- what of a host-signal summary goes into context.host (the probe's
-- `collectors` and `proc` stay out: the lines say the same in fewer tokens)
local HOST_KEYS = { "source", "window", "tcp_retransmits", "tcp_connect", "oom_kills", "crash_loops",
  "runq_latency", "syscall_errors", "lines" }
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

  -- the deadline: measured from here; nil = none
  local deadline_ms, t0 = nil, ctx.now()
  if d.collect_deadline_ms ~= nil then
    local v = num(d.collect_deadline_ms)
    if v and v > 0 then
      deadline_ms = v
    else
      note(("config: defaults.collect_deadline_ms must be a positive number of milliseconds (got %s); "
        .. "collecting without a deadline"):format(tostring(d.collect_deadline_ms)))
    end
  end
  local function elapsed_ms() return math.floor((ctx.now() - t0) * 1000 + 0.5) end
  -- may `what` start? When not, a note says so (once per source)
  local function can_start(what)
    if not deadline_ms then return true end
    local e = elapsed_ms()
    if e < deadline_ms then return true end
    note(("deadline: %s skipped: defaults.collect_deadline_ms (%d ms) was reached after %d ms")
      :format(what, math.floor(deadline_ms), e))
    return false
  end
  -- a request's timeout: the configured one, cut to what is left of the deadline
  local function req_timeout()
    if not deadline_ms then return timeout_ms end
    return math.max(1, math.min(timeout_ms, math.floor(deadline_ms - elapsed_ms())))
  end

  -- a read size for ctx.files (1 byte .. 64 MiB; defaults.max_bytes when not set or not a number)
  local function file_bytes(v)
    return math.floor(math.max(1, math.min(num(v, max_bytes) or max_bytes, 64 * 1048576)))
  end

  -- a response's JSON body, or nil, err, kind for an HTTP error or a body that is not JSON
  local function answer(r)
    if r.status >= 400 then
      local detail = type(r.json) == "table" and (r.json.error or r.json.message) or nil
      if not detail and type(r.body) == "string" then detail = r.body:sub(1, 120) end
      return nil, ("HTTP %d%s"):format(r.status, detail and detail ~= "" and (": " .. detail) or ""), "http"
    end
    if type(r.json) ~= "table" then return nil, "the answer is not JSON", "invalid" end
    return r.json
  end

  local function get(url, query, headers)
    local tmo = req_timeout()
    local r, err, kind = ctx.http.get(url, { query = query, timeout_ms = tmo, max_bytes = max_bytes, headers = headers })
    if not r then return nil, describe(err, kind, tmo), kind end
    return answer(r)
  end

  -- GETs at once (ctx.http.get_many, at most `parallel` in flight), each
  -- {url, query, headers}: for each, { body } or { nil, err, kind } as get gives them
  -- 16 by default: five queries (15 requests) in one round, under Prometheus' own
  -- --query.max-concurrency (20)
  local parallel = math.floor(math.max(1, math.min(num(d.parallel, 16) or 16, 32)))
  local function get_all(list)
    local tmo, reqs, out = req_timeout(), {}, {}
    for i, g in ipairs(list) do
      reqs[i] = { url = g[1], query = g[2], headers = g[3], timeout_ms = tmo, max_bytes = max_bytes }
    end
    for i, r in ipairs(ctx.http.get_many(reqs, { parallel = parallel })) do
      if r.error then out[i] = { nil, describe(r.error, r.kind, tmo), r.kind } else out[i] = { answer(r) } end
    end
    return out
  end

  -- ---- metrics ------------------------------------------------------------
  -- Every query over its three windows in one ctx.http.get_many: the requests
  -- run concurrently, so a slow Prometheus costs about one timeout, not one
  -- per request. The answers are read in query order as before.
  local pc = scfg.prometheus
  if type(pc) == "table" and pc.url then
    local base = trim_url(pc.url) .. "/api/v1/query_range"
    local step = math.floor(num(pc.step or d.step, 60))
    local WINDOWS = { { "cur", 0, "incident window" }, { "b24", DAY, "24 h baseline" }, { "b7", WEEK, "7 d baseline" } }
    local wanted = {}   -- { name, q, expr } with an expr, in name order
    for _, name in ipairs(sorted_keys(pc.queries)) do
      local q = pc.queries[name]
      if type(q) == "string" then q = { expr = q } end
      local expr = prom.expand(q.expr, { service = service })
      if type(expr) ~= "string" or expr == "" then
        note(("prometheus: query %s has no expr in the config; skipped"):format(name))
      else
        wanted[#wanted + 1] = { name = name, q = q, expr = expr }
      end
    end
    -- transfer failures (connect, timeout, dns) are grouped: one note per error
    local down, down_order = {}, {}
    local function failed(err, kind, name, label)
      if kind ~= "connect" and kind ~= "timeout" and kind ~= "dns" then
        note(("prometheus: %s (query %s, %s); continuing without it"):format(err, name, label))
        return
      end
      local g = down[err]
      if not g then
        g = { names = {}, labels = {} }
        down[err] = g
        down_order[#down_order + 1] = err
      end
      if not g.labels[name] then
        g.names[#g.names + 1] = name
        g.labels[name] = {}
      end
      table.insert(g.labels[name], label)
    end
    -- at most 21 queries (63 requests) a batch; the deadline is checked before each
    local PER_BATCH = 21
    for first = 1, #wanted, PER_BATCH do
      local last = math.min(#wanted, first + PER_BATCH - 1)
      local names = {}
      for i = first, last do names[#names + 1] = wanted[i].name end
      if not can_start(("prometheus quer%s %s"):format(#names > 1 and "ies" or "y", table.concat(names, ", "))) then
        if last < #wanted then
          local rest = {}
          for i = last + 1, #wanted do rest[#rest + 1] = wanted[i].name end
          note(("prometheus: skipped quer%s %s (the deadline was reached earlier); continuing without %s")
            :format(#rest > 1 and "ies" or "y", table.concat(rest, ", "), #rest > 1 and "them" or "it"))
        end
        break
      end
      local reqs = {}
      for i = first, last do
        for _, w in ipairs(WINDOWS) do
          reqs[#reqs + 1] = { base, { query = wanted[i].expr, start = from - w[2], ["end"] = to - w[2], step = step } }
        end
      end
      local answers = get_all(reqs)
      for i = first, last do
        local t = wanted[i]
        local picks, n = {}, 0
        for wi, w in ipairs(WINDOWS) do
          local key, label = w[1], w[3]
          local body, err, kind = table.unpack(answers[(i - first) * #WINDOWS + wi], 1, 3)
          local series
          if body then series, err = prom.series(body) end
          if not series then
            failed(err, kind, t.name, label)
            if key == "cur" then break end
          elseif #series == 0 then
            if key == "cur" then
              note(("prometheus: no data for query %s in the incident window (empty result)"):format(t.name))
              break
            end
            note(("prometheus: no series for query %s in the %s (empty result)"):format(t.name, label))
          else
            local p, cnt = prom.pick_max(series)
            picks[key] = p
            if key == "cur" then n = cnt end
          end
        end
        if picks.cur then
          local m = prom.summary({ expr = t.expr, unit = t.q.unit }, picks.cur, n, picks.b24, picks.b7, time.format)
          context.metrics[t.name] = m
          counts.metrics = counts.metrics + 1
        end
      end
    end
    for _, err in ipairs(down_order) do
      local g, parts, nreq = down[err], {}, 0
      for _, name in ipairs(g.names) do
        parts[#parts + 1] = ("query %s, %s"):format(name, table.concat(g.labels[name], ", "))
        nreq = nreq + #g.labels[name]
      end
      note(("prometheus: %s (%s); continuing without %s"):format(err, table.concat(parts, "; "),
        nreq > 1 and "them" or "it"))
    end
  end

  -- ---- logs ---------------------------------------------------------------
  local lc = type(scfg.logs) == "table" and scfg.logs or {}
  if type(lc.loki) == "table" and lc.loki.url and lc.files ~= nil then
    note("logs: both loki and files are configured; Loki is used, the files are not read")
  end
  if type(lc.loki) == "table" and lc.loki.url and not can_start("loki") then
    -- noted by can_start
  elseif type(lc.loki) == "table" and lc.loki.url then
    local lk = lc.loki
    local url = trim_url(lk.url) .. "/loki/api/v1/query_range"
    local query = prom.expand(lk.query or ('{app="$service"}'), { service = service })
    local limit = math.floor(num(lk.limit or d.log_limit, 2000))
    local function range(off)
      return { url, { query = query, start = ("%d"):format((from - off) * 1000000000),
        ["end"] = ("%d"):format((to - off) * 1000000000), limit = limit, direction = "backward" } }
    end
    -- the incident window and the 24 h baseline at once
    local answers = get_all({ range(0), range(DAY) })
    local function templates_of(a)
      local body, err = a[1], a[2]
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
    local cur, err = templates_of(answers[1])
    if not cur then
      note(("loki: %s (%s); continuing without logs"):format(err, trim_url(lk.url)))
    else
      local base, berr = templates_of(answers[2])
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
  elseif lc.files ~= nil then
    local entries = lc.files
    if type(entries) == "string" or (type(entries) == "table" and entries[1] == nil and entries.path) then
      entries = { entries }
    end
    if type(entries) ~= "table" or entries[1] == nil then
      note("logs: logs.files must be a list of {path, format = \"jsonl\"|\"text\", time_field, message_field, "
        .. "level_field}; the log files were skipped")
    else
      local cur, base = lt.new(ctx.json.decode), lt.new(ctx.json.decode)
      local paths, baseline_ok, read_any = {}, true, false
      local bfrom, bto = from - DAY, to - DAY
      for _, e in ipairs(entries) do
        local spec, serr = lf.spec(e)
        if not spec then
          note("logs: " .. serr .. "; that entry was skipped")
        elseif can_start("log file " .. spec.path) then
          local r, err = ctx.files.read_lines(spec.path, { from_end = true,
            max_bytes = file_bytes(spec.max_bytes) })
          if not r then
            note(("logs: %s; continuing without this file"):format(err))
            baseline_ok = false
          else
            read_any = true
            paths[#paths + 1] = spec.path
            local oldest, untimed, inwin = nil, 0, 0
            for _, line in ipairs(r.lines) do
              local t, msg, labels = lf.entry(line, spec, ctx.json.decode)
              if not t then
                untimed = untimed + 1
              else
                if not oldest or t < oldest then oldest = t end
                if t >= from and t <= to then
                  cur:add(msg, math.floor(t), labels); inwin = inwin + 1
                elseif t >= bfrom and t <= bto then
                  base:add(msg, math.floor(t), labels)
                end
              end
            end
            if #r.lines > 0 and untimed == #r.lines then
              note(("logs: no line of %s has a readable time (format %s); set time_field, or time_pattern "
                .. "for text files"):format(spec.path, spec.format))
            end
            -- a file whose first line comes a little after the baseline window's
            -- start still covers it (nothing was logged, or a rotation); more is not
            if not oldest or oldest > bfrom + math.max(300, 0.1 * (to - from)) then
              baseline_ok = false
              note(("logs: %s does not reach back to the 24 h baseline window (%s%s); `new` flags left out")
                :format(spec.path, oldest and ("oldest line read " .. time.format(math.floor(oldest))) or "no timed lines",
                  r.truncated and ", only the last " .. file_bytes(spec.max_bytes) .. " bytes were read" or ""))
            end
            if r.truncated and oldest and oldest > from then
              note(("logs: %s: only its end was read (max_bytes); the lines before %s are not counted")
                :format(spec.path, time.format(math.floor(oldest))))
            end
          end
        end
      end
      if read_any then
        local templates, distinct = cur:result{ baseline = baseline_ok and base or nil,
          max = math.floor(num(d.max_templates, 10)), fmt_time = time.format, example_max = 200 }
        context.logs = { source = "file", files = og_array(paths), total = cur.total, distinct = distinct,
          templates = og_array(templates) }
        counts.templates = #templates
        if cur.total == 0 then note("logs: no log lines in the incident window in the files (empty result)") end
      end
    end
  elseif lc.file or lc.elasticsearch then
    note("logs: the configured log source is not supported (use logs.loki or logs.files); skipped")
  end

  -- ---- traces -------------------------------------------------------------
  local tc = type(scfg.traces) == "table" and scfg.traces or {}
  local ms = math.floor(num(d.max_spans, 5))
  local function put_traces(source, spans, ntraces)
    local sm = tr.summarize(spans, { max_errors = ms, max_slowest = ms })
    context.traces = { source = source, traces = ntraces, spans = #spans,
      errors = og_array(sm.errors), slowest = og_array(sm.slowest) }
    counts.errors, counts.slowest = #sm.errors, #sm.slowest
  end
  if type(tc.jaeger) == "table" and tc.jaeger.url and not can_start("jaeger") then
    -- noted by can_start
  elseif type(tc.jaeger) == "table" and tc.jaeger.url then
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
      put_traces("jaeger", spans, ntraces)
      if #spans == 0 then note("jaeger: no traces in the incident window (empty result)") end
    end
  elseif type(tc.tempo) == "table" and tc.tempo.url then
    -- search, then each trace by id (the search answer has no spans)
    local tp = tc.tempo
    local url = trim_url(tp.url)
    local svc = prom.expand(tp.service or service, { service = service })
    local limit = math.floor(num(tp.limit, 20))
    local q = { start = math.floor(from), ["end"] = math.ceil(to), limit = limit }
    if type(tp.query) == "string" then q.q = prom.expand(tp.query, { service = svc })
    else q.tags = "service.name=" .. svc end
    local body, err
    if can_start("tempo search") then body, err = get(url .. "/api/search", q) end
    if body and type(body.traces) ~= "table" then body, err = nil, "no traces list in the search answer" end
    if not body then
      if err then note(("tempo: %s (%s); continuing without traces"):format(err, url)) end
    else
      local ids, spans, fetched, failed = {}, {}, 0, 0
      for i, t in ipairs(body.traces) do
        if i > limit then break end
        local id = type(t) == "table" and (t.traceID or t.traceId)
        if type(id) == "string" and id:match("^%x+$") then ids[#ids + 1] = id end
      end
      -- the traces at once, 64 a batch
      for first = 1, #ids, 64 do
        if not can_start(("tempo trace %s and %d more"):format(ids[first], #ids - first)) then break end
        local list = {}
        for i = first, math.min(#ids, first + 63) do
          list[#list + 1] = { url .. "/api/traces/" .. ids[i], nil, { Accept = "application/json" } }
        end
        for k, a in ipairs(get_all(list)) do
          local id, doc, terr = ids[first + k - 1], a[1], a[2]
          local ok, perr = doc and tr.otlp_spans(doc, spans)
          if not doc or not ok then
            failed = failed + 1
            if failed <= 2 then note(("tempo: trace %s: %s; continuing without it"):format(id, terr or perr)) end
          else
            fetched = fetched + 1
          end
        end
      end
      if failed > 2 then note(("tempo: %d traces could not be fetched in all"):format(failed)) end
      local kept, ntraces = tr.keep(spans, { from = from, to = to })
      put_traces("tempo", kept, ntraces)
      if #body.traces == 0 then note("tempo: no traces in the incident window (empty result)") end
    end
  elseif tc.otlp_files ~= nil then
    local list = tc.otlp_files
    if type(list) == "string" then list = { list } end
    if type(list) ~= "table" or list[1] == nil then
      note("traces: traces.otlp_files must be a list of OTLP-JSON files or directories; skipped")
    else
      -- directories become their *.json / *.jsonl files
      local files = {}
      for _, p in ipairs(list) do
        if type(p) ~= "string" or p == "" then
          note("traces: an entry of traces.otlp_files is not a path; skipped")
        elseif p:match("%.jsonl?$") or p:match("%.ndjson$") then
          files[#files + 1] = p
        else
          local names, lerr, kind = ctx.files.list(p)
          if names then
            for _, n in ipairs(names) do
              if n:match("%.jsonl?$") or n:match("%.ndjson$") then files[#files + 1] = trim_url(p) .. "/" .. n end
            end
          elseif kind == "not_a_file" then
            files[#files + 1] = p          -- a file with another extension
          else
            note(("otlp-file: %s; continuing without it"):format(lerr))
          end
        end
      end
      local spans, nread = {}, 0
      for _, path in ipairs(files) do
        if not can_start("otlp file " .. path) then break end
        local r, err = ctx.files.read_lines(path, { max_bytes = file_bytes(tc.max_bytes) })
        if not r then
          note(("otlp-file: %s; continuing without it"):format(err))
        else
          -- one document a line (the file exporter), else one document in the whole file
          local bad, good, first_err = 0, 0, nil
          for _, line in ipairs(r.lines) do
            if line:match("%S") then
              local doc = line:match("^%s*{") and ctx.json.decode(line)
              local ok, perr = tr.otlp_spans(doc, spans)
              if ok then good = good + 1 else bad = bad + 1; first_err = first_err or perr end
            end
          end
          if good == 0 and bad > 0 then
            local ok, perr = tr.otlp_spans(ctx.json.decode(table.concat(r.lines, "\n")), spans)
            if ok then bad = 0 else first_err = perr or first_err end
          end
          if bad > 0 then
            note(("otlp-file: %s: %d line%s not OTLP-JSON (%s)"):format(path, bad, bad == 1 and " is" or "s are",
              first_err or "not JSON"))
          else
            nread = nread + 1
          end
          if r.truncated then
            note(("otlp-file: %s: only the first %d bytes were read (max_bytes)"):format(path, file_bytes(tc.max_bytes)))
          end
        end
      end
      if #files == 0 then
        note("otlp-file: no *.json or *.jsonl files found in traces.otlp_files; continuing without traces")
      else
        local kept, ntraces = tr.keep(spans, { from = from, to = to, service = service })
        put_traces("otlp-file", kept, ntraces)
        context.traces.files = nread
        if #kept == 0 then note("otlp-file: no spans of " .. tostring(service) .. " in the incident window (empty result)") end
      end
    end
  end

  -- ---- deploys --------------------------------------------------------------
  local dc = scfg.deploys
  if dc ~= nil and type(dc) ~= "table" then
    note("deploys: services." .. service .. ".deploys must be an object {prometheus, url, file}; skipped")
  elseif dc then
    local lookback = num(dc.lookback, 7200)
    local dfrom = from - lookback
    local events, sources = {}, 0
    local function add(list) for _, e in ipairs(list) do events[#events + 1] = e end end
    local vars = { service = service, from = math.floor(dfrom), to = math.ceil(to),
      from_iso = time.format(math.floor(dfrom)), to_iso = time.format(math.ceil(to)) }
    -- the HTTP sources (a Prometheus series, a URL) are fetched at once, then read in that order
    local fetches, prom_i, url_i, expr, u = {}, nil, nil, nil, nil
    local dpc = dc.prometheus
    if type(dpc) == "string" then dpc = { query = dpc } end
    if type(dpc) == "table" then
      sources = sources + 1
      local purl = dpc.url or (type(pc) == "table" and pc.url)
      expr = prom.expand(dpc.query or dpc.expr, vars)
      if not purl or type(expr) ~= "string" then
        note("deploys: deploys.prometheus needs a query (and a url, or services." .. service
          .. ".prometheus.url); skipped")
      elseif can_start("deploys from prometheus") then
        fetches[#fetches + 1] = { trim_url(purl) .. "/api/v1/query_range", { query = expr, start = math.floor(dfrom),
          ["end"] = math.ceil(to), step = math.floor(num(dpc.step or (type(pc) == "table" and pc.step) or d.step, 60)) } }
        prom_i = #fetches
      end
    end
    if type(dc.url) == "string" then
      sources = sources + 1
      u = prom.expand(dc.url, vars)
      if can_start("deploys from " .. u) then
        fetches[#fetches + 1] = { u }
        url_i = #fetches
      end
    end
    local answers = #fetches > 0 and get_all(fetches) or {}
    if prom_i then
      local body, err = answers[prom_i][1], answers[prom_i][2]
      local series
      if body then series, err = prom.series(body) end
      if not series then
        note(("deploys: prometheus: %s (query %s); continuing without it"):format(err, expr))
      else
        add(dp.from_series(series, service))
      end
    end
    local function from_doc(doc, where)
      local list, err, bad = dp.from_list(doc, service)
      if not list then
        note(("deploys: %s: %s; continuing without it"):format(where, err))
      else
        add(list)
        if bad and bad > 0 then
          note(("deploys: %s: %d event%s without a readable time (at/time/timestamp/deployed_at) left out")
            :format(where, bad, bad == 1 and "" or "s"))
        end
      end
    end
    if url_i then
      local body, err = answers[url_i][1], answers[url_i][2]
      if not body then note(("deploys: %s (%s); continuing without it"):format(err, u))
      else from_doc(body, u) end
    end
    if type(dc.file) == "string" then
      sources = sources + 1
      if can_start("deploys from " .. dc.file) then
        local r, err = ctx.files.read_lines(dc.file, { max_bytes = 4 * 1048576 })
        if not r then
          note(("deploys: %s; continuing without it"):format(err))
        else
          -- JSON lines (one event object a line) when every line is one; else
          -- one JSON document (the decoder would stop after a first line's object)
          local list, nonempty = {}, 0
          for _, line in ipairs(r.lines) do
            if line:match("%S") then
              nonempty = nonempty + 1
              local e = line:match("^%s*{") and ctx.json.decode(line)
              if type(e) == "table" and e[1] == nil and not (e.deploys or e.items or e.events or e.data) then
                list[#list + 1] = e
              end
            end
          end
          local doc, jerr
          if nonempty > 0 and #list == nonempty then
            doc = list
          else
            doc, jerr = ctx.json.decode(table.concat(r.lines, "\n"))
          end
          if doc == nil then
            note(("deploys: %s is not JSON (%s); continuing without it"):format(dc.file, tostring(jerr)))
          else
            from_doc(doc, dc.file)
          end
        end
      end
    end
    if sources == 0 then
      note("deploys: services." .. service .. ".deploys names no source (prometheus, url or file); skipped")
    end
    context.deploys = og_array(dp.finish(events, dfrom, to, time.format, math.floor(num(dc.max, 10))))
  end

  -- ---- host signals ---------------------------------------------------------
  local hc = scfg.host
  local function put_host(body, where)
    if type(body) ~= "table" or type(body.source) ~= "string" then
      note(("host signals: %s did not answer a host-signal summary (no `source`); continuing without them")
        :format(where))
      return
    end
    if body.buckets == 0 then
      -- the agent watched none of the window: its "none observed" lines would be
      -- read as evidence of absence; its note says why there is nothing
      for _, n in ipairs(type(body.notes) == "table" and body.notes or {}) do
        if type(n) == "string" then note(n) end
      end
      return
    end
    local h = {}
    for _, k in ipairs(HOST_KEYS) do h[k] = body[k] end
    if type(h.syscall_errors) == "table" then
      while #h.syscall_errors > 3 do table.remove(h.syscall_errors) end
    end
    context.host = h
    for _, n in ipairs(type(body.notes) == "table" and body.notes or {}) do
      if type(n) == "string" then note(n) end
    end
  end
  if hc == nil then
    note(HOST_NOTE)
  elseif type(hc) ~= "table" or (hc.url == nil and hc.local_window_ms == nil) then
    note(("host signals: services.%s.host must be {url = \"http://host:port\"} (an opsgraph probe --listen "
      .. "agent) or {local_window_ms = N}; skipped"):format(service))
  elseif hc.url ~= nil and hc.local_window_ms ~= nil then
    note(("host signals: services.%s.host has both url and local_window_ms: give the agent's url or a "
      .. "local window, not both; skipped"):format(service))
  elseif hc.url ~= nil then
    if can_start("host signals") then
      local url = trim_url(hc.url)
      local body, err = get(url .. "/v1/host-signals", { since = time.format(from), ["until"] = time.format(to) })
      if not body then
        note(("host signals: %s (%s); continuing without them"):format(err, url))
      else
        put_host(body, url)
      end
    end
  else
    local wms = num(hc.local_window_ms)
    if not wms or wms < 1 or wms > 60000 then
      note(("host signals: services.%s.host.local_window_ms must be 1 .. 60000 ms (got %s); skipped")
        :format(service, tostring(hc.local_window_ms)))
    elseif can_start("host signals") then
      if deadline_ms then wms = math.max(1, math.min(wms, deadline_ms - elapsed_ms())) end
      local ok, r = pcall(ctx.host.signals, { window_ms = math.floor(wms),
        runq_ms = type(hc.runq_ms) == "number" and math.floor(hc.runq_ms) or nil,
        cgroup = type(hc.cgroup) == "string" and hc.cgroup or nil })
      if ok then put_host(r, "ctx.host.signals")
      else note(("host signals: %s; continuing without them"):format(tostring(r))) end
    end
  end

  -- ---- the token budget ---------------------------------------------------
  local function tokens() return #ctx.json.encode(context) / 4 end
  local dropped = { templates = 0, spans = 0, notes = 0 }
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
    function() if type(context.host) == "table" then context.host.lines = nil end end,  -- the lists say it too
    function() while over() and drop_template(3) do end end,
    function() while over() and drop_span(3) do end end,
    function() while over() and #context.deploys > 3 do table.remove(context.deploys, 1) end end,  -- the oldest
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
    function()   -- many failing sources: long notes cut, then the later ones left out (the host note stays)
      for i, n in ipairs(notes) do if #n > 200 then notes[i] = n:sub(1, 197) .. "..." end end
      while over() and #notes > 3 do table.remove(notes, #notes - 1); dropped.notes = dropped.notes + 1 end
    end,
  }
  local trimmed = false
  for _, stage in ipairs(stages) do
    if not over() then break end
    stage(); trimmed = true
  end
  if trimmed then
    note(("budget: summary cut to fit about %d tokens (%d log templates and %d spans left out%s)")
      :format(math.floor(budget), dropped.templates, dropped.spans,
        dropped.notes > 0 and (", and %d notes"):format(dropped.notes) or ""))
  end
  counts.templates = logs.templates and #logs.templates or 0
  counts.errors = traces.errors and #traces.errors or 0
  counts.slowest = traces.slowest and #traces.slowest or 0
  return context, counts
end

return function(state, ctx)
  local context, counts = collect(state, ctx)
  -- the finished incidents most like this one, with what was done and how it
  -- ended (ctx.incidents.similar; nodes/lib/past_incidents.lua)
  local similar, why = past.similar(state, ctx)
  context.similar = similar
  if why then context.notes[#context.notes + 1] = why end
  local detail = ("metrics %d, log templates %d, error spans %d, slow operations %d, deploys %d, notes %d, ~%d tokens")
    :format(counts.metrics, counts.templates, counts.errors, counts.slowest, #context.deploys, #context.notes,
      math.floor(#ctx.json.encode(context) / 4 + 0.5))
  return {
    context = context,
    timeline = { { at = time.format(ctx.now()), node = ctx.node or "context_collector",
                   event = "context_collected", detail = detail } },
  }
end
