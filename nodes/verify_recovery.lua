-- nodes/verify_recovery.lua: did the action fix it? (issue 4)
--
-- Contract (graphs/incident.lua: action_executor -> verify_recovery -> END)
--   reads   state.alert {service, started_at, expr?}, state.execution {action_id, status,
--           ended_at, undo[{tool, args, of}], summary}, state.re_analyses,
--           ctx.config.verify (defaults for every service), ctx.config.services[svc].verify,
--           ctx.config.services[svc].prometheus.url, ctx.config.tools (for rollback)
--   writes  verification = {status, recovered, checked_at, time_to_recovery_s?,
--             after_action_s?, query, condition, last_value, checks, window_s,
--             interval_s, history[], reason?, answer?, by?, note?, rollback?}
--           timeline: recovery_verified | not_recovered, then verification_answer,
--           rollback_finished
--           on "re_analyze" also: re_analyses (+1), operator_hint (the answer's hint),
--           decision {choice = "re_analyze", by, at, note, source = "verify_recovery"}
--   routes  og.command{goto = "context_collector"} on "re_analyze" (the graph
--           should declare destinations = {"context_collector"} for this node);
--           otherwise the graph's edge (END)
--   raises  og.interrupt{kind = "not_recovered", service, question, reason, query,
--           condition, last_value, window_s, checks, execution{action_id, status,
--           summary}, undo[], options = {"rollback"?, "re_analyze"?, "manual"},
--           fill_by = true, rejected?}
--           "rollback" is offered only when execution.undo is not empty (the tools
--           that acted declare `undo`, see sandbox/tools/reduce_traffic.json);
--           "re_analyze" only while re_analyses < 3 (the limit human_decision keeps).
--           The rollback tools may raise tool_exec's effect_unknown interrupt.
--   accepts "rollback" | "re_analyze" | "manual", or {choice|answer, by?, note?, hint?}.
--           Another answer is refused: the node asks again with rejected = {value,
--           reason} (opsgraph resume says why and exits 2), at most 5 times.
--
-- verification.status: "recovered" (the thread ends resolved); otherwise the
-- operator's answer: "rolled_back" (rollback.status says how the undo went),
-- "re_analyze", "manual".
--
-- What is checked, per service (config services.<svc>.verify over config.verify):
--   query        PromQL, $service expanded; default: the alert's own expression
--                (state.alert.expr, from the Alertmanager payload)
--   threshold    a number: recovered when every series of the answer is below it
--                (condition "below", the default) or above it (condition "above");
--                an empty answer is "no data", not recovery.
--                Without a threshold the query is an alert expression: recovered
--                when it returns no series (the alert condition no longer holds).
--   window_s     how long to keep checking (default 300, at most 3600)
--   interval_s   between checks (default 15, 1..60); consecutive: how many
--                passing checks in a row make "recovered" (default 1)
--   timeout_ms   per query (default config.defaults.timeout_ms or 5000)
--   max_errors   failed queries in a row that end the polling early (default 3):
--                an unreachable Prometheus does not hold the thread for the window
--   prometheus_url  default services.<svc>.prometheus.url
-- It asks GET <prometheus>/api/v1/query?query=... every interval_s (ctx.sleep)
-- until it passes or the window is over. A failed query (HTTP error, timeout,
-- a Prometheus error) is a failed check, listed in history, and polling goes
-- on, up to max_errors failures in a row. No query or no Prometheus URL:
-- status is not "recovered", the reason says what to configure, and the
-- operator is asked. A malformed verify config raises, naming the key.
-- ctx.now, ctx.sleep and ctx.http are journaled, so after the operator
-- answers the node replays its polling instantly and ends the same way.
--
-- time_to_recovery_s: from alert.started_at to the passing check;
-- after_action_s: from execution.ended_at to it.
local og = require("opsgraph")
local prom = require("nodes.lib.prom")
local time = require("nodes.lib.time")
local registry = require("nodes.lib.tool_registry")
local tool_exec = require("nodes.lib.tool_exec")

local MAX_RE_ANALYSES = 3
local MAX_ASKS = 5
local MAX_WINDOW_S, MAX_INTERVAL_S = 3600, 60
local KEEP_HISTORY = 20

local copy = registry.copy

local function str(v) return type(v) == "string" and v ~= "" and v or nil end

local function iso(t) return time.format(math.floor(t)) end

-- config: services[svc].verify over config.verify; raises on malformed values
local function settings(ctx, service)
  local cfg = type(ctx.config) == "table" and ctx.config or {}
  local d = type(cfg.defaults) == "table" and cfg.defaults or {}
  local s = {}
  local svc = service and type(cfg.services) == "table" and cfg.services[service] or nil
  for _, src in ipairs({ { cfg.verify, "verify" },
                         { type(svc) == "table" and svc.verify or nil, ("services[%q].verify"):format(tostring(service)) } }) do
    local t, where = src[1], src[2]
    if t ~= nil then
      if type(t) ~= "table" then
        error(("config %s must be an object {query, threshold, condition, window_s, interval_s, consecutive, "
          .. "timeout_ms, max_errors, prometheus_url} (got %s)"):format(where, type(t)), 0)
      end
      for k, v in pairs(t) do
        local want = ({ query = "string", threshold = "number", condition = "string", window_s = "number",
                        interval_s = "number", consecutive = "number", timeout_ms = "number",
                        max_errors = "number", prometheus_url = "string" })[k]
        if not want then
          error(("config %s: unknown key %q (known: query, threshold, condition, window_s, interval_s, "
            .. "consecutive, timeout_ms, max_errors, prometheus_url)"):format(where, tostring(k)), 0)
        end
        if type(v) ~= want then
          error(("config %s.%s must be a %s (got %s)"):format(where, k, want, type(v)), 0)
        end
        s[k] = v
        s[k .. "_from"] = where
      end
    end
  end
  local function range(k, lo, hi, def)
    local v = s[k]
    if v == nil then return def end
    if v < lo or v > hi then
      error(("config %s.%s = %s is out of range: give %s to %s"):format(s[k .. "_from"], k, tostring(v), lo, hi), 0)
    end
    return v
  end
  local out = {
    window_s = range("window_s", 0, MAX_WINDOW_S, 300),
    interval_s = range("interval_s", 1, MAX_INTERVAL_S, 15),
    consecutive = math.floor(range("consecutive", 1, 100, 1)),
    max_errors = math.floor(range("max_errors", 1, 1000, 3)),
    timeout_ms = math.floor(range("timeout_ms", 100, 120000, tonumber(d.timeout_ms) or 5000)),
    threshold = s.threshold,
    condition = s.condition or "below",
  }
  if out.condition ~= "below" and out.condition ~= "above" then
    error(("config %s.condition must be \"below\" or \"above\" (got %q)"):format(s.condition_from, out.condition), 0)
  end
  if s.condition and s.threshold == nil then
    error(("config %s.condition needs a threshold (a number) to compare with"):format(s.condition_from), 0)
  end
  out.query, out.query_from = s.query, s.query and ("config " .. s.query_from .. ".query") or nil
  out.prometheus_url = s.prometheus_url
  if not out.prometheus_url and type(svc) == "table" and type(svc.prometheus) == "table" then
    out.prometheus_url = str(svc.prometheus.url)
  end
  return out
end

local function describe_condition(set)
  if set.threshold == nil then return "the query returns no series (the alert condition no longer holds)" end
  return ("every series is %s %s"):format(set.condition, tostring(set.threshold))
end

-- one check: {at, ok, value?, series, error?}
local function check_once(ctx, set, url, query)
  local c = { at = iso(ctx.now()) }
  local r, err, kind = ctx.http.get(url, { query = { query = query }, timeout_ms = set.timeout_ms,
                                           max_bytes = 4 * 1024 * 1024 })
  if not r then
    c.ok, c.error = false, ("prometheus: %s (%s)"):format(tostring(err), tostring(kind))
    return c
  end
  local body = r.json
  if r.status >= 400 or type(body) ~= "table" then
    local detail = type(body) == "table" and body.error or (type(r.body) == "string" and r.body:sub(1, 160)) or ""
    c.ok, c.error = false, ("prometheus: HTTP %d%s"):format(r.status, detail ~= "" and (": " .. tostring(detail)) or "")
    return c
  end
  local series, serr = prom.series(body)
  if not series then
    c.ok, c.error = false, "prometheus: " .. tostring(serr)
    return c
  end
  c.series = #series
  local worst
  for _, s in ipairs(series) do
    local v = s.points[#s.points][2]
    if worst == nil or (set.condition == "above" and v < worst) or (set.condition ~= "above" and v > worst) then
      worst = v
    end
  end
  c.value = prom.round(worst)
  if set.threshold == nil then
    c.ok = #series == 0
  elseif #series == 0 then
    c.ok, c.error = false, "no data: the query returned no series"
  elseif set.condition == "above" then
    c.ok = worst > set.threshold
  else
    c.ok = worst < set.threshold
  end
  return c
end

local function parse_answer(v)
  if type(v) == "string" then return { choice = v } end
  if type(v) ~= "table" then
    return nil, ("an answer is \"rollback\", \"re_analyze\" or \"manual\", or {choice, by, note, hint}; got a %s"):format(type(v))
  end
  local a = { choice = v.choice, by = v.by, note = v.note, hint = v.hint }
  if a.choice == nil then a.choice = v.answer end
  if type(a.choice) ~= "string" then return nil, "the answer names no choice (field \"choice\")" end
  for _, k in ipairs({ "by", "note", "hint" }) do
    if a[k] ~= nil and type(a[k]) ~= "string" then
      return nil, ("field %q must be a string (got %s)"):format(k, type(a[k]))
    end
  end
  for k in pairs(v) do
    if k ~= "choice" and k ~= "answer" and k ~= "by" and k ~= "note" and k ~= "hint" then
      return nil, ("unknown field %q (choice, by, note, hint)"):format(tostring(k))
    end
  end
  return a
end

-- runs execution.undo (newest first, as the executor listed them); stops at
-- the first failure, like the executor
local function rollback(ctx, undo)
  local rb = { results = og.array{}, started_at = tool_exec.iso(ctx) }
  local reg, rerr = registry.load(ctx.config)
  if not reg then
    rb.status, rb.error = "rejected", rerr
    return rb
  end
  -- undo args come from the tool's own spec (sandbox/tools), not from a
  -- proposal, so they are not checked against params: reduce_traffic's undo
  -- sets percent 0, which no proposal may ask for
  local stopped = false
  for _, u in ipairs(undo) do
    if stopped then
      rb.results[#rb.results + 1] = { tool = u.tool, args = copy(u.args), status = "not_run",
                                      error = "not run: an earlier undo failed" }
    else
      local spec, err = reg:get(u.tool)
      local e
      if not spec then
        e = { tool = u.tool, args = copy(u.args), status = "failed", error = err }
      else
        e = tool_exec.run(ctx, spec, u.tool, copy(u.args or {}), { purpose = "rollback" })
      end
      e.undo_of = u.of
      rb.results[#rb.results + 1] = e
      if e.status ~= "succeeded" and e.status ~= "skipped" then stopped = true end
    end
  end
  rb.ended_at = tool_exec.iso(ctx)
  rb.status = stopped and "failed" or "succeeded"
  return rb
end

return function(state, ctx)
  local alert = type(state.alert) == "table" and state.alert or {}
  local ex = type(state.execution) == "table" and state.execution or {}
  local service = str(alert.service)
  local set = settings(ctx, service)
  local query = set.query and prom.expand(set.query, { service = service }) or str(alert.expr)
  local v = { query = query, query_from = set.query_from or (query and "alert.expr") or nil,
              condition = describe_condition(set), threshold = set.threshold,
              window_s = set.window_s, interval_s = set.interval_s, checks = 0, history = og.array{} }
  local tl = {}

  local reason
  if not query then
    reason = ("cannot verify: no query (the alert carries no expr and config services[%q].verify.query is not set)")
      :format(tostring(service))
  elseif not set.prometheus_url then
    reason = ("cannot verify: no Prometheus URL (set config services[%q].prometheus.url or verify.prometheus_url)")
      :format(tostring(service))
  end

  if not reason then
    local url = set.prometheus_url:gsub("/+$", "") .. "/api/v1/query"
    local t0 = ctx.now()
    local streak, errors = 0, 0
    local max_checks = math.floor(set.window_s / set.interval_s) + 1
    for i = 1, max_checks do
      local c = check_once(ctx, set, url, query)
      v.checks = i
      v.checked_at, v.last_value, v.last_error = c.at, c.value, c.error
      if #v.history >= KEEP_HISTORY then table.remove(v.history, 1) end
      v.history[#v.history + 1] = c
      streak = c.ok and streak + 1 or 0
      if streak >= set.consecutive then
        v.recovered = true
        break
      end
      -- "no data" is an answer; an error is not
      errors = (c.error and c.series == nil) and errors + 1 or 0
      if errors >= set.max_errors then
        v.stopped = ("%d queries in a row failed"):format(errors)
        break
      end
      local elapsed = ctx.now() - t0
      if i == max_checks or elapsed + set.interval_s > set.window_s then break end
      ctx.sleep(set.interval_s * 1000)
    end
    if not v.recovered then
      reason = ("not recovered after %d check%s %s: want %s; last %s"):format(v.checks,
        v.checks == 1 and "" or "s", v.stopped and ("(stopped early: " .. v.stopped .. ")")
        or ("over " .. tostring(set.window_s) .. " s"), v.condition,
        v.last_error or ("value " .. tostring(v.last_value)))
    end
  end

  if v.recovered then
    v.status = "recovered"
    local at = time.parse(v.checked_at)
    local started = time.parse(alert.started_at or "")
    local acted = time.parse(ex.ended_at or "")
    if at and started then v.time_to_recovery_s = at - started end
    if at and acted then v.after_action_s = at - acted end
    tl[#tl + 1] = { at = v.checked_at, node = ctx.node, event = "recovery_verified",
                    detail = { query = query, last_value = v.last_value, time_to_recovery_s = v.time_to_recovery_s } }
    ctx.log.info(("%s recovered (%s)%s"):format(tostring(service), v.condition,
      v.time_to_recovery_s and (", " .. v.time_to_recovery_s .. " s after the alert started") or ""),
      { service = service, query = query })
    return { verification = v, timeline = tl }
  end

  v.recovered = false
  v.reason = reason
  v.checked_at = v.checked_at or tool_exec.iso(ctx)
  tl[#tl + 1] = { at = v.checked_at, node = ctx.node, event = "not_recovered", detail = { reason = reason } }
  ctx.log.warn(tostring(service) .. ": " .. reason, { service = service, query = query })

  local undo = type(ex.undo) == "table" and ex.undo or {}
  local n_re = tonumber(state.re_analyses) or 0
  local options = {}
  if #undo > 0 then options[#options + 1] = "rollback" end
  if n_re < MAX_RE_ANALYSES then options[#options + 1] = "re_analyze" end
  options[#options + 1] = "manual"
  local allowed = {}
  for _, o in ipairs(options) do allowed[o] = true end

  local q = {
    kind = "not_recovered", service = service, reason = reason, query = query, condition = v.condition,
    last_value = v.last_value, window_s = set.window_s, checks = v.checks,
    execution = { action_id = ex.action_id, status = ex.status, summary = ex.summary },
    undo = og.array(copy(undo)),
    question = ("%s has not recovered (%s). %s"):format(tostring(service), reason,
      "Roll back the action (runs the tools' undo), re-analyze, or handle it manually?"),
    options = og.array(copy(options)),
    re_analyses = { done = n_re, max = MAX_RE_ANALYSES },
    fill_by = true,
    answer = 'one of the options as a string, or {"choice": ..., "note": ..., "hint": ... (for re_analyze)}',
  }
  local a
  for asked = 1, MAX_ASKS do
    local raw = og.interrupt(q)
    local why
    a, why = parse_answer(raw)
    if a and not allowed[a.choice] then
      why = ("%q is not one of the options (%s)"):format(a.choice, table.concat(options, ", "))
      a = nil
    end
    if a then break end
    if asked == MAX_ASKS then
      error(("not_recovered: %d answers were refused (last: %s); answer one of: %s"):format(asked, why,
        table.concat(options, ", ")), 0)
    end
    q.rejected = { value = raw, reason = why }
  end

  local now = tool_exec.iso(ctx)
  v.status, v.answer, v.by, v.note, v.answered_at = a.choice == "rollback" and "rolled_back" or a.choice,
    a.choice, a.by, a.note, now
  tl[#tl + 1] = { at = now, node = ctx.node, event = "verification_answer",
                  detail = { choice = a.choice, by = a.by, note = a.note } }

  if a.choice == "rollback" then
    v.rollback = rollback(ctx, undo)
    tl[#tl + 1] = { at = v.rollback.ended_at or now, node = ctx.node, event = "rollback_finished",
                    detail = { status = v.rollback.status, tools = #v.rollback.results } }
    local msg = ("%s: rollback %s (%d undo tool%s)"):format(tostring(service), v.rollback.status,
      #v.rollback.results, #v.rollback.results == 1 and "" or "s")
    if v.rollback.status == "succeeded" then ctx.log.info(msg) else ctx.log.warn(msg) end
    return { verification = v, timeline = tl }
  end
  if a.choice == "re_analyze" then
    local upd = { verification = v, timeline = tl, re_analyses = n_re + 1,
                  decision = { choice = "re_analyze", by = a.by, at = now, note = a.note, hint = a.hint,
                               source = "verify_recovery" } }
    if a.hint then upd.operator_hint = a.hint end
    return og.command{ update = upd, ["goto"] = "context_collector" }
  end
  return { verification = v, timeline = tl }
end
