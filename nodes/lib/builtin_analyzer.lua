-- nodes/lib/builtin_analyzer.lua: the built-in root-cause analyzer.
--
-- The default analyzer when no LLM is configured, and the last link of every
-- LLM fallback chain. Deterministic rules over the context summary of
-- nodes/README.md (never a raw dump):
--
--   local analyzer = require("nodes.lib.builtin_analyzer")
--   local rca, candidates = analyzer.analyze(state.alert, state.context, { now = ctx.now() })
--   analyzer.signatures()   -- {{id, title, description}, ...} for docs and the UI
--
-- rca        = {root_cause, evidence[], impact, confidence, analyzer = "builtin",
--               signature, also[{signature, title, confidence}]}
-- candidates = up to 3 remediation actions, best first:
--              {title, description, risk, eta, tools[{name, args}]}
--
-- How it decides. Each signature is a rule that turns the context into
-- signals: {group, source, weight, strength, line}. `strength` (0..1) says how
-- far past its threshold a value is (a pool at 90% is 0.6, at 100% is 1.0);
-- `weight` (0..1) says how much that kind of signal alone proves the
-- signature (a pool metric 0.7, a log template 0.6, a span 0.4, the alert's
-- name 0.35, an error-rate spike only 0.25 because every incident has one).
-- Within a group (one independent kind of evidence: the pool metric, the log
-- templates, the spans...) only the best signal counts; across groups the
-- scores combine as independent evidence (noisy-OR):
--
--   raw        = 1 - prod over groups (1 - weight * strength)
--   coverage   = 1 - 0.5 * (weight of the rule's data sources that failed, per
--                context.notes; half for a partial failure) / (weight of all of them)
--   confidence = min(0.95, raw * coverage), rounded to 2 decimals
--
-- and each match's confidence drops when another signature matched too (a
-- rival explanation): * (1 - 0.3 * (rival - 0.5)) when the strongest other
-- match is above 0.5. The order stays: the strongest loses the least.
--
-- A rule matches when it has at least one signal specific to it (an error-rate
-- spike alone matches nothing) and confidence >= 0.25. The best match is the
-- root cause (ties: the order of signatures()); the other matches go to `also`
-- and to the evidence. With no match: signature "none", "no known signature
-- matched", confidence 0.1 (0.05 when a source failed), the strongest
-- anomalies as evidence (largest metric changes, new log templates, top
-- spans, a recent deploy, the closest signature), and one check_health
-- candidate with a manual-investigation hint.
--
-- Candidates are mapped from the signature (with arguments from the context:
-- peer service, path, replica count, the version to roll back to); when a
-- deploy_regression also matched (>= 0.5) and the root cause's actions have
-- no rollback, rollback_deploy becomes the second candidate.
--
-- opts: now (epoch seconds, ms or ISO-8601; anchors the deploy window when
-- alert.started_at is missing), deploy_window_min (30), replicas (the
-- current count, when no metric or label gives it).
--
-- Pure: no ctx, no clock, no pairs() order dependence, and any context part
-- may be missing, empty or mistyped (og.null, strings for numbers...).
local F = require("nodes.lib.context_facts")

local M = {}

M.MATCH_THRESHOLD = 0.25
M.MAX_CONFIDENCE = 0.95
M.NO_MATCH_CONFIDENCE = 0.1
M.COMPETITION = 0.3
M.DEFAULT_DEPLOY_WINDOW_MIN = 30
M.ALLOWED_TOOLS = { "restart_service", "scale_replicas", "rollback_deploy", "reduce_traffic", "clear_cache",
  "kill_process", "free_disk", "rotate_logs", "check_health" }
local ALLOWED = {}
for _, n in ipairs(M.ALLOWED_TOOLS) do ALLOWED[n] = true end

local num, str, tbl, ramp, fmt, any = F.num, F.str, F.tbl, F.ramp, F.fmt, F.any
local slower, sfind, smatch = string.lower, string.find, string.match
local floor, ceil, max, min, abs = math.floor, math.ceil, math.max, math.min, math.abs

-- og.array keeps an empty list a JSON list; outside the engine a plain table
local og_array = function(t) return t end
do
  local ok, og = pcall(require, "opsgraph")
  if ok and type(og) == "table" and type(og.array) == "function" then og_array = og.array end
end

-- ---- patterns ----------------------------------------------------------

local P = {
  redis_kw = { "redis", "memcache", "valkey", "elasticache", "jedis", "lettuce", "keydb", ":6379", "cache" },
  redis_issue = { "timeout", "timed out", "deadline exceeded", "connection refused", "connection reset",
    "loading", "busy", "unavailable", "could not connect", "can't connect", "cannot connect", "clusterdown",
    "slow", "no reachable", "exhausted", "max number of clients", "max clients" },
  pool = { "connection pool exhausted", "pool exhausted", "pool is exhausted", "timeout waiting for connection",
    "timed out waiting for connection", "waiting for a connection", "waiting for connection", "too many connections",
    "too many clients", "could not obtain connection", "unable to acquire jdbc connection",
    "cannot acquire connection", "unable to acquire connection", "connection is not available",
    "remaining connection slots are reserved", "max_connections", "pool timeout", "acquire connection timeout",
    "connection acquisition" },
  r429 = { "%f[%w]429%f[%W]", "too many requests", "rate limit", "rate%-limit", "rate_limit", "ratelimit",
    "throttled by upstream" },
  oom = { "oomkill", "oom%-kill", "oom kill", "oom_kill", "out of memory", "outofmemory", "java heap space",
    "cannot allocate memory", "memory limit exceeded", "gc overhead limit", "killed process %d+",
    "heap out of memory" },
  cpu = { "cpu throttl", "cpu%-throttl", "throttled cpu", "cpu limit reached" },
  sql = { "slow query", "slow sql", "slow statement", "statement timeout", "query timeout", "query took",
    "long running query", "long%-running query", "lock wait timeout", "slow_query",
    "query execution was interrupted" },
  disk = { "no space left on device", "disk full", "enospc", "disk quota exceeded", "not enough space on",
    "filesystem is full", "file system full", "disk is full", "out of disk" },
  net = { "connection reset", "econnreset", "i/o timeout", "broken pipe", "no route to host",
    "network is unreachable", "connection timed out", "etimedout", "tcp retransmi", "packet loss",
    "connection closed by peer", "ehostunreach" },
  db_kw = { "postgres", "mysql", "mariadb", "jdbc", "database", "%f[%a]db%f[%A]", "sql", "pgbouncer", ":5432", ":3306" },
  sql_systems = { "postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle", "sqlite", "cockroachdb", "db2" },
}

local function is_redis_text(t) return any(t, P.redis_kw) ~= nil end

-- the classes of one log template; network is the fallback class of
-- connection errors no more specific class claimed
local function classify(t)
  local c = {}
  local txt = t.text
  local redis = is_redis_text(txt)
  if redis and any(txt, P.redis_issue) then c.redis = true end
  if not redis and any(txt, P.pool) then c.pool = true end
  if any(txt, P.r429) and not sfind(txt, "cpu") then c.r429 = true end
  if any(txt, P.oom) then c.oom = true end
  if any(txt, P.cpu) then c.cpu = true end
  if any(txt, P.sql) then c.sql = true end
  if any(txt, P.disk) then c.disk = true end
  if not redis and not c.pool and not c.r429 and not c.disk and any(txt, P.net) then c.net = true end
  return c
end

-- ---- facts: everything the rules read, computed once -----------------

local function pick_service(alert)
  local a = tbl(alert) or {}
  local labels = tbl(a.labels) or {}
  return str(a.service) or str(labels.service) or str(labels.app) or str(labels.job)
    or str(labels["app.kubernetes.io/name"]) or str(labels.container) or "the service"
end

local function build_facts(alert, context, opts)
  local a = tbl(alert) or {}
  local ctxt = tbl(context) or {}
  local o = tbl(opts) or {}
  local f = { alert = a, opts = o, service = pick_service(a) }
  f.labels = tbl(a.labels) or {}
  f.alert_text = slower(table.concat({
    str(f.labels.alertname) or "", str(a.summary) or "", str(a.expr) or "", str(f.labels.rule) or "" }, " "))
  f.alertname = str(f.labels.alertname)
  f.metrics = F.metrics(ctxt)
  f.templates, f.log_total = F.templates(ctxt)
  for _, t in ipairs(f.templates) do t.class = classify(t) end
  f.spans = F.spans(ctxt)
  f.all_spans = {}
  for _, s in ipairs(f.spans.errors) do f.all_spans[#f.all_spans + 1] = s end
  for _, s in ipairs(f.spans.slowest) do f.all_spans[#f.all_spans + 1] = s end
  f.oom_kills = F.host_list(ctxt, "oom_kills")
  f.retransmits = F.host_list(ctxt, "tcp_retransmits")
  f.crash_loops = F.host_list(ctxt, "crash_loops")
  f.connects = F.host_list(ctxt, "tcp_connect")
  f.runq = F.host_runq(ctxt)
  f.deploys = F.deploys(ctxt)
  f.failed, f.present = F.failed_sources(ctxt)
  f.ref_time = F.parse_time(a.started_at) or F.parse_time(o.now)
  f.window_s = (num(o.deploy_window_min) or M.DEFAULT_DEPLOY_WINDOW_MIN) * 60

  -- the service's own error rate and latency (not a dependency's)
  local function first(list, prefer)
    if prefer then
      for _, m in ipairs(list) do if m.lname == prefer then return m end end
    end
    return list[1]
  end
  f.error_metric = first(F.find_metrics(f.metrics,
    { "error_rate", "errors_ratio", "error_ratio", "5xx", "http_errors", "failure_rate", "error_pct" },
    { "redis", "cache", "db_", "sql", "429", "pool" }), "error_rate")
  local lat = F.find_metrics(f.metrics, { "latency", "duration", "response_time" },
    { "redis", "cache", "db", "sql", "query", "upstream", "pool", "stripe" })
  local lat_pref
  for _, m in ipairs(lat) do if sfind(m.lname, "p99") then lat_pref = m break end end
  f.latency_metric = first(lat, "latency_p99") or lat_pref or lat[1]

  -- the closest deploy inside the window before the alert (60 s of clock
  -- skew allowed after it); the service's own deploys first
  if f.ref_time then
    local best
    for _, d in ipairs(f.deploys) do
      if d.t then
        local delta = f.ref_time - d.t
        if delta >= -60 and delta <= f.window_s then
          local own = (d.service == nil or d.service == f.service)
          local key = (own and 0 or 1e9) + abs(delta)
          if not best or key < best.key or (key == best.key and d.i > best.d.i) then
            best = { d = d, key = key, own = own, delta = delta }
          end
        end
      end
    end
    if best then
      f.deploy = best.d
      f.deploy_own = best.own
      f.deploy_delta = best.delta
      if not best.d.previous then      -- the version before, from the list
        for _, d in ipairs(f.deploys) do
          if d ~= best.d and d.t and best.d.t and d.t < best.d.t and (d.service == best.d.service) and d.version then
            f.deploy_prev = d.version
          end
        end
      else
        f.deploy_prev = best.d.previous
      end
    end
  end
  return f
end

-- ---- signal helpers ----------------------------------------------------

local function signal(list, group, source, weight, strength, line, specific)
  if strength and strength > 0 and line then
    list[#list + 1] = { group = group, source = source, weight = weight, strength = F.clamp(strength, 0, 1),
      line = line, specific = specific ~= false }
  end
end

-- change of a non-percent metric as a strength (2x = 0.5 .. 11x = 1.0);
-- a zero baseline with a positive value counts as a large change
local function change_strength(m, lo)
  local ch = m.change_24h_pct
  if not ch and m.baseline_24h == 0 and m.current and m.current > 0 then ch = 1000 end
  if not ch or ch < (lo or 100) then return 0 end
  return ramp(ch, lo or 100, 1000, 0.5, 1.0)
end

-- a threshold metric in percent; dampened when it was as high a day ago
-- (a chronic level is not what changed)
local function level_strength(m, lo, hi, s_lo, weak_lo, weak_s)
  local v = m.current
  if not v or not m.is_pct then return 0 end
  local s = 0
  if v >= lo then s = ramp(v, lo, hi, s_lo, 1.0)
  elseif weak_lo and v >= weak_lo then s = weak_s end
  if s > 0 and m.baseline_24h and v - m.baseline_24h < 5 then s = s * 0.7 end
  return s
end

-- the log templates of one class as signals (best three, by strength then count)
local function template_signals(list, f, class, weight, group)
  local hits = {}
  for _, t in ipairs(f.templates) do
    if t.class[class] then hits[#hits + 1] = t end
  end
  for _, t in ipairs(hits) do t._s = F.template_strength(t, f.log_total) end
  table.sort(hits, function(a, b)
    if a._s ~= b._s then return a._s > b._s end
    if a.count ~= b.count then return a.count > b.count end
    return a.i < b.i
  end)
  for k = 1, min(3, #hits) do
    -- more distinct templates of the same kind: a little more certain
    local bonus = k == 1 and 0.05 * (min(#hits, 3) - 1) or 0
    signal(list, group or "logs", "logs", weight, hits[k]._s + bonus, F.template_line(hits[k], f.log_total))
  end
  return hits
end

local function alert_signal(list, f, patterns, weight, need)
  local hit = any(f.alert_text, patterns)
  if hit and (not need or any(f.alert_text, need)) then
    local name = f.alertname or "alert"
    local sev = str(f.alert.severity)
    signal(list, "alert", "alert", weight, 1.0,
      "alert rule " .. name .. " fired" .. (F.short_time(f.alert.started_at) and (" at " .. F.short_time(f.alert.started_at)) or "")
      .. (sev and (" (severity " .. sev .. ")") or "")
      .. (str(f.alert.summary) and (": " .. F.quote(str(f.alert.summary), 80)) or ""))
  end
end

-- error-rate spike and latency rise: supporting only (never specific)
local function support(list, f, w_err, w_lat)
  local e = f.error_metric
  if w_err and e and e.current then
    local s = change_strength(e, 100)
    if s == 0 and not e.change_24h_pct and not e.baseline_24h and e.is_pct and e.current >= 5 then s = 0.5 end
    if s > 0 and e.is_pct and e.current < 1 then s = s * 0.5 end
    signal(list, "errors", "metrics", w_err, s, F.metric_line(e), false)
    if list[#list] and list[#list].group == "errors" then list[#list].support = true end
  end
  local l = f.latency_metric
  if w_lat and l and l.current then
    local ch = l.change_24h_pct
    if ch and ch >= 50 then
      signal(list, "latency", "metrics", w_lat, ramp(ch, 50, 500, 0.4, 1.0), F.metric_line(l), false)
      list[#list].support = true
    end
  end
end

local function best_by(list, key)
  local best
  for _, x in ipairs(list) do
    if x[key] and (not best or x[key] > best[key]) then best = x end
  end
  return best
end

local function span_statement(sp)
  return sp.statement and F.quote(sp.statement, 70) or nil
end

-- ---- the rules -------------------------------------------------------
-- Each rule: id, title, description, sources (static weight per data source,
-- for the coverage factor), eval(f) -> signals, info.

local RULES = {}

RULES[#RULES + 1] = {
  id = "db_pool_exhaustion",
  title = "Database connection pool exhaustion",
  description = "The service's DB connection pool is (nearly) full: pool usage >= 90%, log templates such as "
    .. "\"connection pool exhausted\", \"timeout waiting for connection\" or \"too many connections\", "
    .. "pool-acquire spans failing, usually with an error-rate spike.",
  sources = { metrics = 0.7, logs = 0.6, traces = 0.4 },
  eval = function(f)
    local s, info = {}, {}
    for _, m in ipairs(F.find_metrics(f.metrics,
      { "pool.*usage", "pool.*util", "pool.*used", "pool.*saturation", "hikari.*usage", "hikaricp.*active",
        "connections_usage", "connection_usage", "db_connections.*ratio", "conn.*pool" },
      { "redis", "cache", "thread", "worker" })) do
      local st = level_strength(m, 90, 100, 0.6, 80, 0.3)
      if st > 0 then
        signal(s, "pool_metric", "metrics", 0.7, st, F.metric_line(m))
        if not info.metric or m.current > info.metric.current then info.metric = m end
      end
    end
    template_signals(s, f, "pool", 0.6)
    for _, sp in ipairs(f.all_spans) do
      if not is_redis_text(sp.text) and (any(sp.text, P.pool) or sfind(sp.text, "acquire") or sfind(sp.text, "getconnection")
          or sfind(sp.text, "get_connection") or sfind(sp.text, "pool%.")) then
        if sp.kind == "error" and (sp.count or 1) > 0 then
          signal(s, "traces", "traces", 0.4, ramp(sp.count or 1, 1, 50, 0.5, 1.0),
            F.span_name(sp) .. ": " .. fmt(sp.count or 1) .. " errors waiting for a DB connection")
        elseif sp.kind == "slow" and sp.p99_ms and sp.p99_ms >= 200 then
          signal(s, "traces", "traces", 0.4, ramp(sp.p99_ms, 200, 2000, 0.5, 1.0),
            F.span_name(sp) .. ": p99 " .. fmt(sp.p99_ms) .. " ms to get a DB connection")
        end
      end
    end
    alert_signal(s, f, { "pool" }, 0.35, { "exhaust", "saturat", "usage", "full", "connection" })
    support(s, f, 0.25, 0.15)
    return s, info
  end,
  root_cause = function(f, info)
    local what = info.metric and (" (" .. F.metric_value(info.metric) .. " in use"
      .. (info.metric.baseline_24h and (", " .. F.metric_value(info.metric, "baseline_24h") .. " a day ago") or "") .. ")") or ""
    return f.service .. " has exhausted its database connection pool" .. what
      .. ": requests wait for a free connection, time out and fail."
  end,
  actions = function(f, info, A)
    return {
      A.restart(f, "Restart " .. f.service .. " to release held database connections",
        "Rolling restart: drops connections leaked or stuck in the pool and lets requests through again. "
        .. "Buys time; if the load itself is the cause the pool fills up again.", "low"),
      A.reduce(f, 30, "Shed 30% of " .. f.service .. "'s traffic so the pool can drain",
        "Fewer concurrent requests need fewer connections; the rejected share gets fast errors instead of timeouts.",
        "medium"),
      A.scale(f, "Add replicas of " .. f.service .. " (each brings its own pool)",
        "More pools in total, but also more connections on the database: check the database's max_connections "
        .. "and headroom first.", "medium"),
    }
  end,
}

RULES[#RULES + 1] = {
  id = "redis_timeout",
  title = "Cache / Redis timeouts",
  description = "Calls to Redis or another cache time out or fail: redis/cache timeout log templates, "
    .. "spans with peer.service=redis slow (p99 >= 50 ms) or failing, cache latency metrics up.",
  sources = { logs = 0.6, traces = 0.55, metrics = 0.45 },
  eval = function(f)
    local s, info = {}, {}
    local hits = template_signals(s, f, "redis", 0.6)
    if hits[1] then info.template = hits[1] end
    for _, sp in ipairs(f.all_spans) do
      local is_redis = is_redis_text(sp.lpeer) or is_redis_text(slower(sp.db_system or ""))
        or (sp.peer == nil and is_redis_text(sp.text))
      if is_redis then
        if sp.kind == "slow" and sp.p99_ms and sp.p99_ms >= 50 then
          signal(s, "traces", "traces", 0.55, ramp(sp.p99_ms, 50, 1000, 0.5, 1.0),
            F.span_name(sp) .. ": p99 " .. fmt(sp.p99_ms) .. " ms (a cache call normally takes < 5 ms)")
          info.peer = info.peer or sp.peer
          if not info.p99 or sp.p99_ms > info.p99 then info.p99 = sp.p99_ms end
        elseif sp.kind == "error" and (sp.count or 1) > 0 then
          signal(s, "traces", "traces", 0.55, ramp(sp.count or 1, 1, 100, 0.5, 1.0),
            F.span_name(sp) .. ": " .. fmt(sp.count or 1) .. " errors")
          info.peer = info.peer or sp.peer
        end
      end
    end
    for _, m in ipairs(F.find_metrics(f.metrics, { "redis", "cache", "memcache", "valkey" }, { "hit", "miss", "size", "evict" })) do
      if any(m.lname, { "latency", "duration", "timeout", "error", "p99", "p95" }) then
        local st = change_strength(m, 100)
        if st > 0 then signal(s, "metrics", "metrics", 0.45, st, F.metric_line(m)) end
      end
    end
    alert_signal(s, f, P.redis_kw, 0.35, { "timeout", "latency", "slow", "error", "down", "unavailable" })
    support(s, f, 0.2, 0.15)
    return s, info
  end,
  root_cause = function(f, info)
    local peer = info.peer or "Redis"
    local what = info.p99 and (" (p99 " .. fmt(info.p99) .. " ms)") or ""
    return f.service .. " is timing out on its cache " .. peer .. what
      .. ": slow or failing cache calls block request threads, so requests stall and fail."
  end,
  actions = function(f, info, A)
    local peer = info.peer or "redis"
    return {
      A.restart(f, "Restart " .. f.service .. " to reset its cache connections",
        "Recreates the Redis client pool: clears stuck or half-open connections to " .. peer .. ". "
        .. "If " .. peer .. " itself is overloaded this helps only briefly.", "low"),
      A.reduce(f, 20, "Shed 20% of " .. f.service .. "'s traffic to relieve " .. peer,
        "Fewer requests mean fewer cache calls queuing on " .. peer .. ".", "medium"),
      { title = "Clear the cache on " .. peer,
        description = "Drops cached data (e.g. an oversized hot key slowing " .. peer .. " down). Every miss then "
          .. "goes to the database: expect a load spike there. Only if the cache content is the problem.",
        risk = "high", eta = 60, tools = { { name = "clear_cache", args = { service = peer } } } },
    }
  end,
}

RULES[#RULES + 1] = {
  id = "upstream_rate_limit",
  title = "Upstream rate limiting (HTTP 429)",
  description = "An external dependency rejects the service's calls with HTTP 429 Too Many Requests: "
    .. "429/rate-limit log templates, spans to an external peer.service (e.g. stripe) with status 429.",
  sources = { logs = 0.55, traces = 0.6, metrics = 0.5 },
  eval = function(f)
    local s, info = {}, {}
    template_signals(s, f, "r429", 0.55)
    local peers = {}
    for _, sp in ipairs(f.all_spans) do
      local lp = sp.lpeer
      local external = sp.peer and lp ~= slower(f.service) and not is_redis_text(lp) and not any(lp, P.db_kw)
      local is429 = sp.status == 429 or any(sp.text, P.r429)
      if is429 and (external or not sp.peer) then
        local n = sp.count or 1
        if sp.kind == "error" or sp.status == 429 then
          signal(s, "traces", "traces", 0.6, ramp(n, 1, 50, 0.5, 1.0),
            F.span_name(sp) .. ": " .. fmt(n) .. " calls answered HTTP 429"
            .. (sp.p99_ms and (", p99 " .. fmt(sp.p99_ms) .. " ms") or ""))
        else
          signal(s, "traces", "traces", 0.6, 0.5, F.span_name(sp) .. ": p99 " .. fmt(sp.p99_ms or 0) .. " ms, rate limited")
        end
        if sp.peer then peers[#peers + 1] = { peer = sp.peer, n = n, i = #peers } end
      end
    end
    table.sort(peers, function(a, b) if a.n ~= b.n then return a.n > b.n end return a.i < b.i end)
    info.peer = peers[1] and peers[1].peer
    for _, m in ipairs(F.find_metrics(f.metrics, { "429", "rate_limit", "ratelimit", "throttled_requests" }, nil)) do
      local st = change_strength(m, 100)
      if st > 0 then signal(s, "metrics", "metrics", 0.5, st, F.metric_line(m)) end
    end
    alert_signal(s, f, { "%f[%w]429%f[%W]", "rate.?limit", "too many requests" }, 0.35)
    support(s, f, 0.2, nil)
    return s, info
  end,
  root_cause = function(f, info)
    local peer = info.peer or "an upstream API"
    return f.service .. " is being rate limited by " .. peer
      .. " (HTTP 429 Too Many Requests): calls to " .. peer .. " are rejected, so requests that need them fail."
  end,
  actions = function(f, info, A)
    local peer = info.peer or "the upstream"
    local acts = {
      A.reduce(f, 25, "Shed 25% of " .. f.service .. "'s traffic to get under " .. peer .. "'s limit",
        "Fewer outgoing calls to " .. peer .. "; retries of 429s multiply the load, so less traffic lowers the "
        .. "rejections more than proportionally. Check the client's retry/backoff settings afterwards.", "medium"),
    }
    if f.deploy and f.deploy_own then
      acts[#acts + 1] = A.rollback(f, "Roll back the recent deploy of " .. f.service,
        "The deploy shortly before the alert may call " .. peer .. " more often (retries, a loop, a new feature).", "medium")
    end
    acts[#acts + 1] = A.health(f, "Check " .. f.service .. "'s health and " .. peer .. "'s status",
      "Confirm the 429s come from " .. peer .. "'s limits (their status page, the Retry-After header) and "
      .. "ask for a higher quota if the traffic is legitimate. Do not scale up: more replicas send more calls.")
    return acts
  end,
}

RULES[#RULES + 1] = {
  id = "oom_memory",
  title = "OOM kill or memory saturation",
  description = "The service runs out of memory: host.oom_kills, \"OOMKilled\"/\"Out of memory\" log "
    .. "templates, memory usage >= 90% of the limit, container restarts.",
  sources = { host = 0.8, logs = 0.6, metrics = 0.6 },
  eval = function(f)
    local s, info = {}, {}
    if #f.oom_kills > 0 then
      local n, names = 0, {}
      for _, e in ipairs(f.oom_kills) do n = n + e.count end
      local top = f.oom_kills[1]
      for _, e in ipairs(f.oom_kills) do
        if e.rss_mb and (not top.rss_mb or e.rss_mb > top.rss_mb) then top = e end
      end
      if top.name then names[#names + 1] = top.name .. (top.pid and (" pid " .. fmt(top.pid)) or "")
        .. (top.rss_mb and (", rss " .. fmt(top.rss_mb) .. " MB") or "")
        .. (top.cgroup and (", memory cgroup " .. top.cgroup) or "") end
      signal(s, "host_oom", "host", 0.8, ramp(n, 1, 5, 0.8, 1.0),
        "host: " .. fmt(n) .. " OOM kill" .. (n == 1 and "" or "s") .. (names[1] and (" (" .. names[1] .. ")") or ""))
      info.kills, info.proc = n, top.name
      -- a helper process (not the container's main one) that was killed
      if top.name and top.service and top.name ~= top.service then info.helper = top.name end
    end
    template_signals(s, f, "oom", 0.6)
    for _, m in ipairs(F.find_metrics(f.metrics, { "mem" }, { "redis", "cache", "swap", "free", "avail" })) do
      if any(m.lname, { "usage", "util", "used", "working_set", "saturation", "ratio", "pct", "percent" }) then
        local st = level_strength(m, 90, 100, 0.6, 85, 0.3)
        if st > 0 then
          signal(s, "mem_metric", "metrics", 0.6, st, F.metric_line(m))
          if not info.metric or m.current > info.metric.current then info.metric = m end
        end
      end
    end
    local restarts = 0
    for _, e in ipairs(f.crash_loops) do restarts = restarts + e.count end
    info.restarts = restarts
    if restarts > 0 then
      signal(s, "restarts", "host", 0.35, ramp(restarts, 1, 10, 0.6, 1.0),
        "host: " .. fmt(restarts) .. " container restart" .. (restarts == 1 and "" or "s") .. " in crash loops", false)
    end
    for _, m in ipairs(F.find_metrics(f.metrics, { "restart" }, nil)) do
      local inc = m.current - (m.baseline_24h or 0)
      if inc >= 1 then
        signal(s, "restarts", "metrics", 0.35, ramp(inc, 1, 10, 0.6, 1.0), F.metric_line(m), false)
        info.restarts = max(info.restarts, inc)
      end
    end
    alert_signal(s, f, { "%f[%a]oom", "out of memory", "memory" }, 0.35)
    support(s, f, 0.2, nil)
    return s, info
  end,
  root_cause = function(f, info)
    local parts = {}
    if info.kills then parts[#parts + 1] = fmt(info.kills) .. " OOM kill" .. (info.kills == 1 and "" or "s")
      .. (info.proc and (" of " .. info.proc) or "") end
    if info.metric then parts[#parts + 1] = "memory at " .. F.metric_value(info.metric) .. " of its limit" end
    local what = #parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or ""
    return f.service .. " is running out of memory" .. what
      .. ": the kernel kills the process at its memory limit, in-flight requests fail and the container restarts."
  end,
  actions = function(f, info, A)
    local acts = {}
    if f.deploy and f.deploy_own then
      acts[#acts + 1] = A.rollback(f, "Roll back " .. f.service .. " (memory growth after the deploy)",
        "The deploy shortly before the alert is the likeliest source of a leak or a larger footprint.", "medium")
    end
    local looping = (info.kills or 0) >= 2 or (info.restarts or 0) >= 3
    local restart = A.restart(f, "Restart " .. f.service .. " to reclaim memory",
      "Rolling restart: every replica starts with a fresh heap. A leak will fill it again; watch the memory curve.", "low")
    local scale = A.scale(f, "Add replicas of " .. f.service .. " to spread the memory load",
      "Less traffic per replica lowers each one's working set.", "medium")
    if looping then
      -- already being killed and restarted: another restart changes nothing
      acts[#acts + 1] = scale
      acts[#acts + 1] = A.reduce(f, 20, "Shed 20% of " .. f.service .. "'s traffic while it crash-loops",
        "Less load per replica while the memory limit or the leak is dealt with.", "medium")
    else
      acts[#acts + 1] = restart
      acts[#acts + 1] = scale
    end
    if #acts < 3 and info.helper then
      acts[#acts + 1] = { title = "Kill the runaway process " .. info.helper,
        description = info.helper .. " is not " .. f.service .. "'s main process and was OOM-killed; killing it "
          .. "frees memory for the rest of the container.", risk = "medium", eta = 30,
        tools = { { name = "kill_process", args = { service = f.service, name = info.helper } } } }
    end
    return acts
  end,
}

RULES[#RULES + 1] = {
  id = "cpu_throttling",
  title = "CPU throttling",
  description = "The container hits its CPU limit: cpu throttled ratio >= 25% of CFS periods, CPU usage "
    .. "near the limit, latency up.",
  sources = { metrics = 0.75, logs = 0.3 },
  eval = function(f)
    local s, info = {}, {}
    for _, m in ipairs(F.find_metrics(f.metrics, { "throttl" }, { "rate_limit", "429", "request", "api" })) do
      local st = level_strength(m, 25, 75, 0.6, 10, 0.35)
      if st > 0 then
        signal(s, "throttle", "metrics", 0.75, st, F.metric_line(m))
        if not info.metric or m.current > info.metric.current then info.metric = m end
      end
    end
    for _, m in ipairs(F.find_metrics(f.metrics, { "cpu" }, { "throttl" })) do
      if any(m.lname, { "usage", "util", "saturation", "limit" }) then
        local st = level_strength(m, 90, 100, 0.5, 80, 0.25)
        if st > 0 then
          signal(s, "cpu_usage", "metrics", 0.45, st, F.metric_line(m))
          info.cpu = info.cpu or m
        end
      end
    end
    template_signals(s, f, "cpu", 0.3)
    alert_signal(s, f, { "throttl", "cpu" }, 0.35)
    support(s, f, 0.15, 0.25)
    return s, info
  end,
  root_cause = function(f, info)
    local parts = {}
    if info.metric then parts[#parts + 1] = F.metric_value(info.metric) .. " of CPU periods throttled" end
    if info.cpu then parts[#parts + 1] = "CPU at " .. F.metric_value(info.cpu) .. " of its limit" end
    local what = #parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or ""
    return f.service .. " is CPU-throttled by its container limit" .. what
      .. ": requests queue for CPU time, so latency rises and timeouts follow."
  end,
  actions = function(f, info, A)
    local acts = {
      A.scale(f, "Add replicas of " .. f.service .. " to spread the CPU load",
        "More replicas, less CPU per replica: the throttling stops once each stays under its limit.", "low"),
      A.reduce(f, 20, "Shed 20% of " .. f.service .. "'s traffic",
        "Immediate relief while the new replicas start.", "medium"),
    }
    if f.deploy and f.deploy_own then
      acts[#acts + 1] = A.rollback(f, "Roll back " .. f.service .. " (CPU use changed with the deploy)",
        "The deploy shortly before the alert may have made requests more expensive.", "medium")
    else
      acts[#acts + 1] = A.restart(f, "Restart " .. f.service,
        "Helps only if a replica is stuck in a busy loop; otherwise the throttling comes back.", "low")
    end
    return acts
  end,
}

RULES[#RULES + 1] = {
  id = "slow_sql",
  title = "Slow SQL queries",
  description = "Database statements are slow: slowest trace spans carrying db.statement (p99 >= 500 ms), "
    .. "\"slow query\"/statement-timeout log templates, a SlowSQL alert rule, DB query latency up.",
  sources = { traces = 0.65, logs = 0.55, metrics = 0.5 },
  eval = function(f)
    local s, info = {}, {}
    for _, sp in ipairs(f.all_spans) do
      local sqlish = sp.statement or (any(slower(sp.db_system or ""), P.sql_systems)
        and not any(sp.text, P.pool) and not any(sp.text, { "acquire", "getconnection", "get_connection", "pool" }))
      if sqlish and not is_redis_text(slower(sp.db_system or "")) then
        if sp.kind == "slow" and sp.p99_ms and sp.p99_ms >= 500 then
          signal(s, "traces", "traces", 0.65, ramp(sp.p99_ms, 500, 5000, 0.5, 1.0),
            F.span_name(sp) .. ": p99 " .. fmt(sp.p99_ms) .. " ms"
            .. (span_statement(sp) and (", db.statement " .. span_statement(sp)) or ""))
          if not info.span or sp.p99_ms > info.span.p99_ms then info.span = sp end
        elseif sp.kind == "error" and any(sp.text, { "statement timeout", "canceling statement", "query timeout",
            "lock wait", "deadlock", "query execution was interrupted" }) then
          signal(s, "traces", "traces", 0.65, ramp(sp.count or 1, 1, 50, 0.5, 0.9),
            F.span_name(sp) .. ": " .. fmt(sp.count or 1) .. " statement timeouts"
            .. (span_statement(sp) and (", db.statement " .. span_statement(sp)) or ""))
        end
      end
    end
    template_signals(s, f, "sql", 0.55)
    for _, m in ipairs(F.find_metrics(f.metrics,
      { "query_duration", "query_latency", "sql.*latency", "sql.*duration", "db.*latency", "db.*duration", "slow_quer" },
      { "pool", "redis", "cache" })) do
      local st = change_strength(m, 100)
      if st > 0 then signal(s, "metrics", "metrics", 0.5, st, F.metric_line(m)) end
    end
    alert_signal(s, f, { "slow.?sql", "slow.?quer", "slowsql", "slowquer", "query.?latency" }, 0.45)
    support(s, f, 0.15, 0.2)
    return s, info
  end,
  root_cause = function(f, info)
    local sp = info.span
    local what = sp and (" (" .. (sp.statement and F.quote(sp.statement, 60) or F.quote(sp.operation, 60))
      .. " at p99 " .. fmt(sp.p99_ms) .. " ms)") or ""
    return f.service .. " is slowed down by slow SQL queries" .. what
      .. ": long-running statements hold database connections and delay every request that needs them."
  end,
  actions = function(f, info, A)
    local acts = {}
    if f.deploy and f.deploy_own then
      acts[#acts + 1] = A.rollback(f, "Roll back " .. f.service .. " (new or changed query)",
        "The deploy shortly before the alert may have introduced the slow statement or dropped an index hint.", "medium")
    end
    acts[#acts + 1] = A.reduce(f, 20, "Shed 20% of " .. f.service .. "'s traffic to unload the database",
      "Fewer concurrent slow statements; lock and I/O contention drop with them.", "medium")
    acts[#acts + 1] = A.health(f, "Check " .. f.service .. " and find the slow statement's plan",
      "Manual follow-up: run EXPLAIN on the statement from the trace, look for a missing index, a lock or "
      .. "table bloat. Do not scale up: more replicas send more queries.")
    return acts
  end,
}

RULES[#RULES + 1] = {
  id = "deploy_regression",
  title = "Error spike right after a deploy",
  description = "A deploy of the service landed within the deploy window (30 min by default) before the alert "
    .. "started, and the error rate rose by >= 200% against 24 h ago or new error log templates appeared after it.",
  sources = { deploys = 0.5, metrics = 0.6, logs = 0.45 },
  eval = function(f)
    local s, info = {}, {}
    local d = f.deploy
    if not d then return s, info end
    local mins = f.deploy_delta / 60
    local st = ramp(mins, 5, f.window_s / 60, 1.0, 0.6)
    if not f.deploy_own then st = st * 0.5 end
    local when = mins >= 0 and (fmt(floor(mins + 0.5)) .. " min before the alert") or "at the alert's start"
    signal(s, "deploy", "deploys", 0.5, st,
      "deploy of " .. (d.service or f.service) .. (d.version and (" " .. d.version) or "") .. " at "
      .. (F.short_time(d.at) or "?") .. ", " .. when
      .. (f.deploy_prev and (" (previous version " .. f.deploy_prev .. ")") or ""), false)
    info.deploy, info.mins = d, mins
    local e = f.error_metric
    if e and e.change_24h_pct and e.change_24h_pct >= 200 then
      signal(s, "error_spike", "metrics", 0.6, ramp(e.change_24h_pct, 200, 2000, 0.5, 1.0), F.metric_line(e))
      info.error = e
    end
    local news = {}
    for _, t in ipairs(f.templates) do
      local errlvl = t.level == "error" or t.level == "fatal" or t.level == "critical" or t.level == "panic" or t.level == ""
      if t.new and errlvl and (not t.first_seen_t or not d.t or t.first_seen_t >= d.t - 60) then news[#news + 1] = t end
    end
    table.sort(news, function(a, b) if a.count ~= b.count then return a.count > b.count end return a.i < b.i end)
    for k = 1, min(2, #news) do
      signal(s, "new_errors", "logs", 0.45, 0.6 + 0.4 * F.clamp(news[k].count / 200, 0, 1),
        F.template_line(news[k], f.log_total) .. " (after the deploy)")
    end
    return s, info
  end,
  requires = function(groups) return groups.deploy and (groups.error_spike or groups.new_errors) end,
  root_cause = function(f, info)
    local d = info.deploy
    local e = info.error
    local what = ", and new errors appeared"
    if e and e.baseline_24h then
      what = ", and the error rate rose from " .. F.metric_value(e, "baseline_24h") .. " to " .. F.metric_value(e)
    elseif e then
      what = ", and the error rate rose " .. F.fmt_pct_change(e.change_24h_pct) .. " to " .. F.metric_value(e)
    end
    local v = d.version and (" " .. d.version) or ""
    return f.service .. " started failing right after deploy" .. v .. " of " .. (d.service or f.service) .. " ("
      .. fmt(floor(max(info.mins, 0) + 0.5)) .. " min before the alert)" .. what
      .. ": the new version most likely introduced the regression."
  end,
  actions = function(f, info, A)
    return {
      A.rollback(f, "Roll back " .. f.service .. " to the previous version",
        "Returns to the version that ran without these errors; the quickest way to confirm the deploy is the cause.",
        "low"),
      A.reduce(f, 50, "Shed 50% of " .. f.service .. "'s traffic until the rollback is done",
        "Limits the number of failing requests meanwhile.", "medium"),
      A.restart(f, "Restart " .. f.service,
        "Only helps if the new version got into a bad state at startup (config, caches); a code bug stays.", "low"),
    }
  end,
}

RULES[#RULES + 1] = {
  id = "network_loss",
  title = "Network loss / TCP retransmits",
  description = "Packets are lost between the service and its peers: host.tcp_retransmits, retransmit or "
    .. "packet-loss metrics up, \"connection reset\"/\"i/o timeout\" log templates.",
  sources = { host = 0.75, metrics = 0.6, logs = 0.45, traces = 0.3 },
  eval = function(f)
    local s, info = {}, {}
    if #f.retransmits > 0 then
      local n, rate, peers = 0, nil, {}
      for _, e in ipairs(f.retransmits) do
        n = n + e.count
        if e.rate_pct and (not rate or e.rate_pct > rate) then rate = e.rate_pct end
      end
      local sorted = {}
      for _, e in ipairs(f.retransmits) do sorted[#sorted + 1] = e end
      table.sort(sorted, function(a, b) if a.count ~= b.count then return a.count > b.count end return a.i < b.i end)
      for k = 1, min(2, #sorted) do
        if sorted[k].peer then peers[#peers + 1] = sorted[k].peer .. (sorted[k].port and (":" .. fmt(sorted[k].port)) or "") end
      end
      local st = ramp(n, 10, 1000, 0.5, 1.0)
      if rate then st = max(st, ramp(rate, 1, 10, 0.5, 1.0)) end
      signal(s, "retransmits", "host", 0.75, st,
        "host: " .. fmt(n) .. " TCP retransmits" .. (rate and (" (" .. fmt(rate) .. "% of segments)") or "")
        .. (#peers > 0 and (", mostly to " .. table.concat(peers, ", ")) or ""))
      info.retrans, info.peer = n, peers[1]
    end
    local failed, fpeer = 0, nil
    for _, e in ipairs(f.connects) do
      if (e.failed or 0) > 0 then
        failed = failed + e.failed
        if not fpeer and e.peer then fpeer = e.peer .. (e.port and (":" .. fmt(e.port)) or "") end
      end
    end
    if failed > 0 then
      signal(s, "connects", "host", 0.4, ramp(failed, 1, 20, 0.5, 1.0),
        "host: " .. fmt(failed) .. " TCP connect" .. (failed == 1 and "" or "s") .. " failed"
        .. (fpeer and (", first to " .. fpeer) or ""))
      info.peer = info.peer or fpeer
    end
    for _, m in ipairs(F.find_metrics(f.metrics, { "retransmi", "packet_loss", "packet_drop", "tcp_drop", "pkt_loss" }, nil)) do
      local st = change_strength(m, 100)
      if st > 0 then
        signal(s, "retransmits", "metrics", 0.6, st, F.metric_line(m))
        info.metric = info.metric or m
      end
    end
    template_signals(s, f, "net", 0.45)
    for _, sp in ipairs(f.spans.errors) do
      if any(sp.text, P.net) and not is_redis_text(sp.text) then
        signal(s, "traces", "traces", 0.3, ramp(sp.count or 1, 1, 50, 0.5, 1.0),
          F.span_name(sp) .. ": " .. fmt(sp.count or 1) .. " connection errors")
      end
    end
    alert_signal(s, f, { "retransmi", "packet.?loss", "network" }, 0.35)
    support(s, f, 0.15, 0.15)
    return s, info
  end,
  root_cause = function(f, info)
    local parts = {}
    if info.retrans then parts[#parts + 1] = fmt(info.retrans) .. " TCP retransmits" end
    if info.metric then parts[#parts + 1] = F.metric_value(info.metric) .. " " .. info.metric.name end
    if info.peer then parts[#parts + 1] = "mostly to " .. info.peer end
    local what = #parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or ""
    return f.service .. " is losing network packets" .. what
      .. ": retransmits, connection resets and I/O timeouts slow down and fail its calls."
  end,
  actions = function(f, info, A)
    return {
      A.restart(f, "Restart " .. f.service .. " (moves pods, resets connections)",
        "New pods may land on healthy nodes and open fresh connections; does not fix a faulty link.", "low"),
      A.reduce(f, 20, "Shed 20% of " .. f.service .. "'s traffic",
        "Fewer connections over the lossy path while the network is investigated.", "medium"),
      A.health(f, "Check " .. f.service .. "'s health and the network path",
        "Manual follow-up: check the node's NIC errors, the CNI, MTU and the peer's load balancer.")
    }
  end,
}

RULES[#RULES + 1] = {
  id = "disk_full",
  title = "Disk full",
  description = "A filesystem of the service is (nearly) full: disk usage >= 95%, \"No space left on device\" "
    .. "log templates.",
  sources = { metrics = 0.7, logs = 0.7 },
  eval = function(f)
    local s, info = {}, {}
    for _, m in ipairs(F.find_metrics(f.metrics, { "disk", "filesystem", "fs_", "volume", "pvc", "inode" }, { "io", "latency", "read", "write" })) do
      if any(m.lname, { "usage", "used", "util", "full", "pct", "percent", "ratio" }) then
        local st = level_strength(m, 95, 100, 0.7, 90, 0.35)
        if st > 0 then
          signal(s, "disk_metric", "metrics", 0.7, st, F.metric_line(m)
            .. (m.labels.mountpoint and (" on " .. m.labels.mountpoint) or (m.labels.path and (" on " .. m.labels.path) or "")))
          if not info.metric or m.current > info.metric.current then info.metric = m end
        end
      end
    end
    local hits = template_signals(s, f, "disk", 0.7)
    -- a path to clean: the metric's mountpoint, else a path in the log example
    local path = info.metric and (info.metric.labels.mountpoint or info.metric.labels.path)
    if not path then
      for _, t in ipairs(hits) do
        local p = smatch((t.example or "") .. " " .. t.template, "(/[%w%._%-/]+)")
        if p then
          path = smatch(p, "^(.*)/[^/]*$")
          if path == "" then path = "/" end
          break
        end
      end
    end
    info.path = path
    alert_signal(s, f, { "disk", "filesystem", "no space", "volume" }, 0.35, { "full", "space", "usage", "fill" })
    support(s, f, 0.15, nil)
    return s, info
  end,
  root_cause = function(f, info)
    local parts = {}
    if info.metric then parts[#parts + 1] = F.metric_value(info.metric) .. " used" end
    if info.path then parts[#parts + 1] = "on " .. info.path end
    local what = #parts > 0 and (" (" .. table.concat(parts, " ") .. ")") or ""
    return f.service .. " has run out of disk space" .. what
      .. ": writes fail with \"No space left on device\", so requests that write (logs, temp files, data) fail."
  end,
  actions = function(f, info, A)
    local path = info.path or "/"
    local logish = info.path == nil or sfind(info.path, "log") ~= nil
    local logs = (info.path and sfind(info.path, "log")) and info.path or "/var/log"
    local rotate = { title = "Rotate and compress " .. f.service .. "'s logs in " .. logs,
      description = (logish and "Usually the quickest space to win back, and nothing of value is lost."
        or ("Helps only if " .. logs .. " shares the full filesystem with " .. path .. ".")),
      risk = "low", eta = 30, tools = { { name = "rotate_logs", args = { service = f.service, path = logs } } } }
    local free = { title = "Free disk space under " .. path,
      description = "Deletes temporary files, old rotated logs and caches under " .. path .. "."
        .. (logish and "" or " The full filesystem is not a log directory, so this is where space comes back."),
      risk = "medium", eta = 60, tools = { { name = "free_disk", args = { service = f.service, path = path } } } }
    local restart = A.restart(f, "Restart " .. f.service .. " to release deleted but still open files",
      "Space held by files deleted while open comes back only when the process closes them.", "medium")
    if logish then return { rotate, free, restart } end
    return { free, rotate, restart }
  end,
}

RULES[#RULES + 1] = {
  id = "crash_loop",
  title = "Crash loop (repeated abnormal exits)",
  description = "A process of the service keeps dying: host.crash_loops (the eBPF exit collector: the same "
    .. "command exiting non-zero or killed by a signal 3+ times in the window), restart metrics up. "
    .. "Weaker when OOM kills explain the deaths.",
  sources = { host = 0.75, metrics = 0.4, logs = 0.3 },
  eval = function(f)
    local s, info = {}, {}
    local best
    for _, e in ipairs(f.crash_loops) do
      if e.count >= 3 and (not best or e.count > best.count) then best = e end
    end
    if best then
      local how = best.signal and ("killed by signal " .. fmt(best.signal) .. (best.signal == 11 and " (SIGSEGV)"
        or best.signal == 6 and " (SIGABRT)" or best.signal == 9 and " (SIGKILL)" or ""))
        or best.exit_code and ("exit code " .. fmt(best.exit_code)) or "abnormal exits"
      local st = ramp(best.count, 3, 20, 0.6, 1.0)
      -- OOM kills are the likelier story for deaths by SIGKILL
      if #f.oom_kills > 0 then st = st * 0.5 end
      signal(s, "crash_loop", "host", 0.75, st, "host: " .. (best.name or "a process") .. " exited " .. fmt(best.count)
        .. " times (" .. how .. ")" .. (best.interval_s and (", every " .. fmt(best.interval_s) .. " s") or ""))
      info.proc, info.count, info.how = best.name, best.count, how
    end
    for _, m in ipairs(F.find_metrics(f.metrics, { "restart" }, nil)) do
      local inc = m.current - (m.baseline_24h or 0)
      if inc >= 3 then signal(s, "restarts", "metrics", 0.4, ramp(inc, 3, 20, 0.5, 1.0), F.metric_line(m), false) end
    end
    alert_signal(s, f, { "crash", "crashloop", "backoff", "restart" }, 0.35)
    support(s, f, 0.15, nil)
    return s, info
  end,
  root_cause = function(f, info)
    return f.service .. " is crash-looping" .. (info.proc and (": " .. info.proc .. " exited " .. fmt(info.count)
      .. " times (" .. info.how .. ")") or "")
      .. "; each crash drops in-flight requests and the restarts leave too little capacity."
  end,
  actions = function(f, info, A)
    local acts = {}
    if f.deploy and f.deploy_own then
      acts[#acts + 1] = A.rollback(f, "Roll back " .. f.service .. " (it crashes since the deploy)",
        "The deploy shortly before the alert is the likeliest cause of a new crash.", "medium")
    end
    acts[#acts + 1] = A.health(f, "Check why " .. (info.proc or f.service) .. " dies",
      "Manual follow-up: the exit code or signal above, the last log lines before each exit, a core dump; "
      .. "restarting again changes nothing while the cause stays.")
    acts[#acts + 1] = A.reduce(f, 20, "Shed 20% of " .. f.service .. "'s traffic while it crash-loops",
      "Fewer requests lost per crash, less load on the replicas still up.", "medium")
    return acts
  end,
}

RULES[#RULES + 1] = {
  id = "runq_saturation",
  title = "CPU run-queue saturation on the host",
  description = "Runnable tasks wait for a CPU: host.runq_latency (the eBPF scheduler histogram) p99 >= 10 ms "
    .. "or >= 5% of waits over 1 ms; a noisy neighbour or too little CPU on the node, unlike cpu_throttling "
    .. "(the container's own limit).",
  sources = { host = 0.7, metrics = 0.3 },
  eval = function(f)
    local s, info = {}, {}
    local r = f.runq
    if r and (r.samples or 0) >= 100 then
      local st = 0
      if r.p99_us and r.p99_us >= 10000 then st = ramp(r.p99_us, 10000, 100000, 0.6, 1.0) end
      if r.over_1ms_pct and r.over_1ms_pct >= 5 then st = max(st, ramp(r.over_1ms_pct, 5, 50, 0.5, 1.0)) end
      if st > 0 then
        signal(s, "runq", "host", 0.7, st, "host: run-queue latency p99 < " .. fmt(floor((r.p99_us or 0) / 100 + 0.5) / 10)
          .. " ms, " .. fmt(r.over_1ms_pct or 0) .. "% of " .. fmt(r.samples) .. " waits over 1 ms")
        info.p99_ms, info.over1 = floor((r.p99_us or 0) / 100 + 0.5) / 10, r.over_1ms_pct
      end
    end
    for _, m in ipairs(F.find_metrics(f.metrics, { "load", "cpu_pressure", "psi_cpu", "runq" }, { "balancer", "upload", "download" })) do
      local st = change_strength(m, 100)
      if st > 0 then signal(s, "load", "metrics", 0.3, st, F.metric_line(m)) end
    end
    alert_signal(s, f, { "load", "run.?queue", "cpu pressure", "saturat" }, 0.3, { "cpu", "load", "queue" })
    support(s, f, 0.1, 0.25)
    return s, info
  end,
  root_cause = function(f, info)
    return f.service .. "'s node is CPU-saturated" .. (info.p99_ms and (" (run-queue p99 " .. fmt(info.p99_ms)
      .. " ms, " .. fmt(info.over1 or 0) .. "% of waits over 1 ms)") or "")
      .. ": its threads wait for a CPU before they run, so every request gets slower."
  end,
  actions = function(f, info, A)
    return {
      A.scale(f, "Add replicas of " .. f.service .. " (new pods land on other nodes)",
        "Spreads the work to nodes with idle CPUs; check the scheduler places them elsewhere.", "low"),
      A.reduce(f, 20, "Shed 20% of " .. f.service .. "'s traffic", "Less work while the node is saturated.", "medium"),
      A.health(f, "Find what else runs on " .. f.service .. "'s node",
        "Manual follow-up: a noisy neighbour (batch job, backup, another service) holds the CPUs; top, "
        .. "per-cgroup cpu.pressure."),
    }
  end,
}

local RULE_BY_ID = {}
for i, r in ipairs(RULES) do r.order = i RULE_BY_ID[r.id] = r end

-- ---- action builders ---------------------------------------------------

local function replicas_target(f)
  local cur = num(f.opts.replicas) or num(f.labels.replicas)
  if not cur then
    for _, m in ipairs(F.find_metrics(f.metrics, { "replicas" }, { "desired", "max" })) do
      cur = m.current
      break
    end
  end
  if cur and cur >= 1 then
    cur = floor(cur)
    return max(cur + 1, ceil(cur * 1.5)), cur
  end
  return 4, nil
end

local A = {}
function A.restart(f, title, desc, risk)
  return { title = title, description = desc, risk = risk or "low", eta = 120,
    tools = { { name = "restart_service", args = { service = f.service } } } }
end
function A.reduce(f, pct, title, desc, risk)
  return { title = title, description = desc, risk = risk or "medium", eta = 60,
    tools = { { name = "reduce_traffic", args = { service = f.service, percent = pct } } } }
end
function A.scale(f, title, desc, risk)
  local target, cur = replicas_target(f)
  local how = cur and (" From " .. fmt(cur) .. " to " .. fmt(target) .. " replicas.")
    or (" The current replica count is unknown: " .. fmt(target) .. " is a guess, check it before approving.")
  return { title = title, description = desc .. how, risk = cur and (risk or "medium") or "medium", eta = 180,
    tools = { { name = "scale_replicas", args = { service = f.service, replicas = target } } } }
end
function A.rollback(f, title, desc, risk)
  local d = f.deploy
  local args = { service = (d and d.service) or f.service, to_version = f.deploy_prev }
  local extra = d and (" Deployed " .. (d.version or "a new version") .. " at " .. (F.short_time(d.at) or "?")
    .. (f.deploy_prev and ("; rolls back to " .. f.deploy_prev) or "; rolls back to the previous version") .. ".") or ""
  return { title = title, description = desc .. extra, risk = risk or "low", eta = 300,
    tools = { { name = "rollback_deploy", args = args } } }
end
function A.health(f, title, desc)
  return { title = title, description = desc, risk = "low", eta = 15,
    tools = { { name = "check_health", args = { service = f.service } } } }
end

-- keep only allowed tools and well-formed fields; at most 3
local function sanitize(acts)
  local out = {}
  for _, a in ipairs(acts) do
    if #out >= 3 then break end
    local tools = {}
    for _, t in ipairs(a.tools or {}) do
      if ALLOWED[t.name] then tools[#tools + 1] = { name = t.name, args = t.args or {} } end
    end
    if #tools > 0 then
      local risk = (a.risk == "low" or a.risk == "medium" or a.risk == "high") and a.risk or "medium"
      out[#out + 1] = { title = a.title, description = a.description, risk = risk,
        eta = floor(num(a.eta) or 60), tools = tools }
    end
  end
  return out
end

-- ---- impact ------------------------------------------------------------

local function impact(f)
  local parts = {}
  local e, l = f.error_metric, f.latency_metric
  if e and e.current then
    local s = (e.is_pct and ("about " .. F.metric_value(e) .. " of requests fail") or (e.name .. " at " .. F.metric_value(e)))
    if e.baseline_24h then s = s .. " (normally " .. F.metric_value(e, "baseline_24h") .. ")" end
    parts[#parts + 1] = s
  end
  if l and l.current then
    local s = (sfind(l.lname, "p99") and "p99 latency" or sfind(l.lname, "p95") and "p95 latency" or l.name)
      .. " is " .. F.metric_value(l)
    if l.baseline_24h then s = s .. " (normally " .. F.metric_value(l, "baseline_24h") .. ")" end
    parts[#parts + 1] = s
  end
  if #parts > 0 then
    return "Users of " .. f.service .. " are affected: " .. table.concat(parts, "; ") .. "."
  end
  local summary = str(f.alert.summary)
  return "Impact not measured (no error-rate or latency metric in the context)"
    .. (summary and ("; the alert says: " .. F.quote(summary, 120)) or "") .. "."
end

-- ---- evaluation --------------------------------------------------------

local function evaluate(rule, f)
  local signals, info = rule.eval(f)
  info = info or {}
  table.sort(signals, function(a, b)
    local sa, sb = a.weight * a.strength, b.weight * b.strength
    if sa ~= sb then return sa > sb end
    if a.group ~= b.group then return a.group < b.group end
    return a.line < b.line
  end)
  local best, groups, specific = {}, {}, false
  for _, s in ipairs(signals) do
    s.score = s.weight * s.strength
    if not best[s.group] then best[s.group] = s end
    groups[s.group] = true
    if s.specific then specific = true end
  end
  local prod = 1
  for _, g in ipairs(F.sorted_keys(best)) do prod = prod * (1 - best[g].score) end
  local raw = 1 - prod
  local total, lost, gaps = 0, 0, {}
  for _, src in ipairs(F.sorted_keys(rule.sources)) do
    total = total + rule.sources[src]
    local fl = f.failed[src]
    if fl then
      lost = lost + rule.sources[src] * fl.weight
      gaps[#gaps + 1] = src
    end
  end
  local coverage = total > 0 and (1 - 0.5 * lost / total) or 1
  local conf = F.round2(min(M.MAX_CONFIDENCE, raw * coverage))
  local ok = specific and (not rule.requires or rule.requires(groups)) and conf >= M.MATCH_THRESHOLD
  return { rule = rule, signals = signals, info = info, raw = raw, coverage = coverage, confidence = conf,
    matched = ok and true or false, gaps = gaps, specific = specific }
end

local function no_match(f, results)
  local ev = {}
  -- the largest metric changes
  local ms = {}
  for _, m in ipairs(f.metrics) do
    if m.change_24h_pct and abs(m.change_24h_pct) >= 25 then ms[#ms + 1] = m end
  end
  table.sort(ms, function(a, b)
    local ca, cb = abs(a.change_24h_pct), abs(b.change_24h_pct)
    if ca ~= cb then return ca > cb end
    return a.name < b.name
  end)
  for k = 1, min(3, #ms) do ev[#ev + 1] = "largest change: " .. F.metric_line(ms[k]) end
  -- new log templates
  local news = {}
  for _, t in ipairs(f.templates) do if t.new then news[#news + 1] = t end end
  table.sort(news, function(a, b) if a.count ~= b.count then return a.count > b.count end return a.i < b.i end)
  for k = 1, min(2, #news) do ev[#ev + 1] = "new " .. F.template_line(news[k], f.log_total) end
  -- the top failing and slowest spans
  local errs = {}
  for _, s in ipairs(f.spans.errors) do errs[#errs + 1] = s end
  table.sort(errs, function(a, b)
    local ca, cb = a.count or 0, b.count or 0
    if ca ~= cb then return ca > cb end
    return a.i < b.i
  end)
  if errs[1] then ev[#ev + 1] = "top error " .. F.span_name(errs[1]) .. ": " .. fmt(errs[1].count or 1) .. " errors" end
  local slow = best_by(f.spans.slowest, "p99_ms")
  if slow and slow.p99_ms >= 1000 then ev[#ev + 1] = "slowest " .. F.span_name(slow) .. ": p99 " .. fmt(slow.p99_ms) .. " ms" end
  if f.deploy then
    local d = f.deploy
    ev[#ev + 1] = "recent deploy: " .. (d.service or f.service) .. (d.version and (" " .. d.version) or "") .. " at "
      .. (F.short_time(d.at) or "?") .. ", " .. fmt(floor(max(f.deploy_delta, 0) / 60 + 0.5)) .. " min before the alert"
  end
  -- the closest miss
  local near
  for _, r in ipairs(results) do
    if r.specific and r.confidence > 0 and (not near or r.confidence > near.confidence) then near = r end
  end
  if near then
    ev[#ev + 1] = "closest signature: " .. near.rule.id .. " at " .. fmt(near.confidence)
      .. " (below the " .. fmt(M.MATCH_THRESHOLD) .. " match threshold"
      .. (near.rule.requires and " or missing a required signal" or "") .. ")"
  end
  if #ev == 0 then
    ev[#ev + 1] = "no anomaly found in " .. fmt(#f.metrics) .. " metrics, " .. fmt(#f.templates) .. " log templates, "
      .. fmt(#f.all_spans) .. " trace spans, " .. fmt(#f.deploys) .. " deploys"
  end
  return ev
end

local function gap_lines(f, rule)
  local out = {}
  for _, src in ipairs(F.sorted_keys(f.failed)) do
    local fl = f.failed[src]
    out[#out + 1] = "data gap: " .. src .. (fl.weight < 1 and " partly" or "") .. " unavailable ("
      .. F.quote(fl.note, 100) .. ")" .. ((not rule or rule.sources[src]) and "; confidence lowered" or "")
  end
  return out
end

function M.analyze(alert, context, opts)
  local f = build_facts(alert, context, opts)
  local results, matched = {}, {}
  for _, rule in ipairs(RULES) do
    local r = evaluate(rule, f)
    results[#results + 1] = r
    if r.matched then matched[#matched + 1] = r end
  end
  -- a close rival makes each explanation less certain (order is kept:
  -- the strongest loses the least)
  local pattern_conf = {}
  for i, r in ipairs(matched) do pattern_conf[i] = r.confidence end
  for i, r in ipairs(matched) do
    local rival = 0
    for j, c in ipairs(pattern_conf) do if j ~= i and c > rival then rival = c end end
    if rival > 0.5 then r.confidence = F.round2(r.confidence * (1 - M.COMPETITION * (rival - 0.5))) end
  end
  table.sort(matched, function(a, b)
    if a.confidence ~= b.confidence then return a.confidence > b.confidence end
    if a.raw ~= b.raw then return a.raw > b.raw end
    return a.rule.order < b.rule.order
  end)

  if #matched == 0 then
    local failed_any = next(f.failed) ~= nil
    local evidence = no_match(f, results)
    for _, g in ipairs(gap_lines(f)) do evidence[#evidence + 1] = g end
    local rca = {
      root_cause = "no known signature matched",
      evidence = evidence,
      impact = impact(f),
      confidence = failed_any and 0.05 or M.NO_MATCH_CONFIDENCE,
      analyzer = "builtin",
      signature = "none",
      also = og_array({}),
    }
    local cands = sanitize({ A.health(f, "Check " .. f.service .. "'s health and investigate manually",
      "No known signature matched. Manual investigation: compare the largest metric changes and the new log "
      .. "templates in the evidence with recent changes (deploys, config, traffic), look at the service's "
      .. "dependencies, and re-run the analysis with an LLM or more data sources.") })
    return rca, cands
  end

  local top = matched[1]
  local evidence, seen = {}, {}
  local function known(line)
    for l in pairs(seen) do
      if string.sub(line, 1, #l) == l then return true end
    end
    return false
  end
  local function add(line)
    if line and not seen[line] then seen[line] = true evidence[#evidence + 1] = line end
  end
  for k = 1, min(6, #top.signals) do add(top.signals[k].line) end
  local also = {}
  for i = 2, #matched do
    local r = matched[i]
    also[#also + 1] = { signature = r.rule.id, title = r.rule.title, confidence = r.confidence }
    local n = 0
    for _, s in ipairs(r.signals) do
      if n >= 2 then break end
      if not s.support and not known(s.line) then
        add("also " .. r.rule.id .. " (confidence " .. fmt(r.confidence) .. "): " .. s.line)
        seen[s.line] = true
        n = n + 1
      end
    end
  end
  for _, g in ipairs(gap_lines(f, top.rule)) do add(g) end

  local acts = top.rule.actions(f, top.info, A)
  -- a recent deploy that matched too: offer the rollback if the top rule did not
  local dep = nil
  for i = 2, #matched do if matched[i].rule.id == "deploy_regression" and matched[i].confidence >= 0.5 then dep = matched[i] end end
  if dep then
    local has = false
    for _, a in ipairs(acts) do for _, t in ipairs(a.tools) do if t.name == "rollback_deploy" then has = true end end end
    if not has then
      -- second: after the top rule's quickest fix, before its heavier ones
      local cut = { acts[1] }
      cut[#cut + 1] = A.rollback(f, "Roll back the recent deploy of " .. f.service,
        "A deploy landed shortly before the alert and the error spike matches it too (deploy_regression, confidence "
        .. fmt(dep.confidence) .. "); the new version may be what drives this.", "medium")
      if acts[2] then cut[#cut + 1] = acts[2] end
      acts = cut
    end
  end

  local rca = {
    root_cause = top.rule.root_cause(f, top.info),
    evidence = evidence,
    impact = impact(f),
    confidence = top.confidence,
    analyzer = "builtin",
    signature = top.rule.id,
    also = og_array(also),
  }
  return rca, sanitize(acts)
end

function M.signatures()
  local out = {}
  for _, r in ipairs(RULES) do out[#out + 1] = { id = r.id, title = r.title, description = r.description } end
  return out
end

return M
