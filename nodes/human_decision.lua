-- nodes/human_decision.lua: the human decision of the incident graph (issue 4).
--
-- Reads state.alert, state.rca, state.plan (with plan.hash, made by
-- nodes/action_planner.lua and recomputed over the dry-run reports by
-- nodes/dry_run_actions.lua), state.dry_runs (each action's fidelity and
-- verdict go into the question), state.decision_request, state.re_analyses and
-- ctx.config.decision / ctx.config.services[<service>].runbook. Asks with
-- og.interrupt and writes
--   decision          {choice, by, at, note, plan_hash, hint?, handler?, runbook?}
--   decision_request  the open question: {open, plan_hash, asked_at, escalate_at?,
--                     final_at?, escalated, escalated_at?, rejected?}
--   operator_hint     the hint of a re_analyze answer (the collector and the
--                     analyzer may read it), else unchanged
--   re_analyses       how many re-analyses were asked so far (at most 3)
--   timeline          decision_asked / decision_refused / decision_escalated /
--                     decision entries
-- graphs/incident.lua routes on what it wrote: decision_request.open -> this
-- node again (the same question, after a refused answer or an escalation);
-- "1" | "2" | "3" -> action_executor; "re_analyze" -> context_collector;
-- "manual" -> END.
--
-- Answers (the resume value):
--   "1" | "2" | "3" | "manual" | "re_analyze"           (a number 1-3 is taken as "1"-"3")
--   {choice, plan_hash?, by?, note?, hint?}             hint: for re_analyze
--   {system = "escalate"} | {system = "deadline"}       sent by `opsgraph tick`
-- An object naming a plan_hash other than the plan shown is refused: the plan
-- changed (re-analysis, fork) since the approver looked at it. A refused
-- answer loses nothing: the node writes a decision_refused timeline entry and
-- asks the same question again (same plan hash, same deadlines), with
-- `rejected = {value, reason, at}` in the interrupt value; `opsgraph resume`
-- prints the reason and exits 2. Raising instead would leave the thread
-- failed with the bad answer recorded, and a retry would fail the same way.
--
-- Who decided: `by` of an object answer; the interrupt value sets
-- fill_by = true, so `opsgraph resume --by NAME` (default user@host) fills it
-- in for answers that do not name one.
--
-- Deadlines (all optional; without decision.ttl_s the question waits forever
-- and the interrupt value says so):
--   decision = { ttl_s = 900, final_s = 1800, default = "manual",
--                escalation = { target = "#sre-leads", webhook_url = "http://..." } }
-- escalate_at = asked_at + ttl_s, final_at = asked_at + final_s (final_s >
-- ttl_s). asked_at comes from ctx.now() on the first ask (journaled, so a
-- re-executed task computes the same deadlines) and is kept in
-- decision_request while the question stays open. The interrupt value lists
-- them as `timers` ({at = epoch seconds, resume = {system = ...}}), which
-- `opsgraph tick` reads: past escalate_at it answers {system = "escalate"}:
-- the node posts {text, target, thread_id, service, plan_hash, final_at} to
-- escalation.webhook_url (a Slack incoming webhook takes `text`), or, without
-- a webhook_url, logs it, records either outcome on the timeline, and asks
-- again. Past final_at it answers {system = "deadline"}: the node takes
-- decision.default ("manual" unless configured; an action id that the plan
-- does not hold falls back to "manual", with a note) with
-- by = "opsgraph (deadline)". A system answer that comes too early is refused.
--
-- "manual": the decision records who handles it (`handler`: the answerer, or
-- the escalation target after a deadline) and attaches the runbook of
-- config services[<service>].runbook: text, or a file under the project root
-- that the CLI reads into {file, text} (nodes have no io).
--
-- "re_analyze": at most MAX_RE_ANALYSES times per thread; after that the
-- choice is no longer offered and is refused.
local og = require("opsgraph")
local time = require("nodes.lib.time")

local MAX_RE_ANALYSES = 3
local ACTION_IDS = { ["1"] = true, ["2"] = true, ["3"] = true }
local DEFAULTS_ALLOWED = { ["1"] = true, ["2"] = true, ["3"] = true, manual = true }

local function copy(v)   -- plain deep copy: state and config are read-only views
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end

local function iso(t) return time.format(math.floor(t)) end

local function str(v) return type(v) == "string" and v ~= "" and v or nil end

-- ---- configuration -----------------------------------------------------------

-- the decision section of the config, checked; raises on a bad config (before
-- the question is asked, so fixing the config and resuming retries it)
local function decision_config(ctx)
  local c = type(ctx.config) == "table" and ctx.config.decision or nil
  if c == nil then return { default = "manual" } end
  if type(c) ~= "table" then
    error("human_decision: config decision must be an object {ttl_s, final_s, default, escalation}", 0)
  end
  local out = { default = c.default == nil and "manual" or c.default }
  if not DEFAULTS_ALLOWED[out.default] then
    error(("human_decision: config decision.default must be \"manual\", \"1\", \"2\" or \"3\" (got %s)"):format(
      tostring(c.default)), 0)
  end
  if c.ttl_s ~= nil or c.final_s ~= nil then
    if type(c.ttl_s) ~= "number" or c.ttl_s <= 0 then
      error(("human_decision: config decision.ttl_s must be a number of seconds > 0 (got %s)"):format(
        tostring(c.ttl_s)), 0)
    end
    if type(c.final_s) ~= "number" or c.final_s <= c.ttl_s then
      error(("human_decision: config decision.final_s must be a number of seconds greater than ttl_s (%g) "
        .. "(got %s): after ttl_s the run escalates, after final_s it takes decision.default"):format(
        c.ttl_s, tostring(c.final_s)), 0)
    end
    out.ttl_s, out.final_s = c.ttl_s, c.final_s
  end
  local e = c.escalation
  if e ~= nil then
    if type(e) ~= "table" or not str(e.target) then
      error("human_decision: config decision.escalation must be {target = \"who\", webhook_url? = \"http...\"}", 0)
    end
    if e.webhook_url ~= nil and not (type(e.webhook_url) == "string" and e.webhook_url:match("^https?://")) then
      error(("human_decision: config decision.escalation.webhook_url must be an http(s) URL (got %s)"):format(
        tostring(e.webhook_url)), 0)
    end
    out.escalation = { target = e.target, webhook_url = e.webhook_url }
  end
  return out
end

-- the runbook of the service: {source, text} or nil, why
local function runbook_of(ctx, service)
  local svcs = type(ctx.config) == "table" and ctx.config.services or nil
  local s = type(svcs) == "table" and service and svcs[service] or nil
  local rb = type(s) == "table" and s.runbook or nil
  if type(rb) == "string" and rb ~= "" then return { source = "config", text = rb } end
  if type(rb) == "table" and type(rb.text) == "string" then
    return { source = str(rb.file) or "config", text = rb.text }
  end
  if type(rb) == "table" then
    return nil, ("config services.%s.runbook.file was not read (run through the opsgraph CLI, which reads it)"):format(service)
  end
  return nil, ("no runbook configured for %s (config services.%s.runbook: text or a file under the project root)")
    :format(tostring(service), tostring(service))
end

-- ---- the question ------------------------------------------------------------

local function allowed_choices(plan, re_analyses)
  local out = {}
  for _, a in ipairs(type(plan) == "table" and type(plan.actions) == "table" and plan.actions or {}) do
    if type(a) == "table" and ACTION_IDS[a.id] then out[#out + 1] = a.id end
  end
  out[#out + 1] = "manual"
  if re_analyses < MAX_RE_ANALYSES then out[#out + 1] = "re_analyze" end
  return out
end

local function contains(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

-- what the approver sees of an action's dry-run (nodes/dry_run_actions.lua;
-- the whole reports stay in state.dry_runs): {fidelity, verdict}
local function dry_run_line(state, id)
  local runs = type(state.dry_runs) == "table" and state.dry_runs.actions or nil
  local d = type(runs) == "table" and runs[tostring(id)] or nil
  if type(d) ~= "table" then
    return { fidelity = "none", verdict = "not dry-run: no dry-run ran for this plan (graph without dry_run_actions)" }
  end
  return { fidelity = d.fidelity, verdict = d.verdict }
end

local function build_question(state, ctx, req, cfg, choices)
  local alert = type(state.alert) == "table" and state.alert or {}
  local rca = type(state.rca) == "table" and state.rca or {}
  local plan = type(state.plan) == "table" and state.plan or {}
  local evidence = {}
  for i, e in ipairs(type(rca.evidence) == "table" and rca.evidence or {}) do
    if i > 5 then break end
    evidence[#evidence + 1] = e
  end
  local actions = {}
  for _, a in ipairs(type(plan.actions) == "table" and plan.actions or {}) do
    local tools = {}
    for _, t in ipairs(type(a.tools) == "table" and a.tools or {}) do
      tools[#tools + 1] = { name = t.name, args = copy(t.args) }
    end
    actions[#actions + 1] = { id = a.id, title = a.title, description = a.description, risk = a.risk,
      eta = a.eta, tools = og.array(tools), dry_run = dry_run_line(state, a.id) }
  end
  local n_re = tonumber(state.re_analyses) or 0
  local q = {
    kind = "decision",
    question = ("%s: approve one action (%s), handle it manually, or re-analyze"):format(
      tostring(alert.service or "the service"), #actions > 0 and table.concat(choices, ", ", 1, #actions) or "none planned"),
    service = alert.service, severity = alert.severity, summary = alert.summary,
    rca = { root_cause = rca.root_cause, confidence = rca.confidence, analyzer = rca.analyzer,
            impact = rca.impact, evidence = og.array(evidence) },
    actions = og.array(actions),
    notes = og.array(copy(type(plan.notes) == "table" and plan.notes or {})),
    plan_hash = req.plan_hash,
    choices = og.array(copy(choices)),
    re_analyses = { done = n_re, max = MAX_RE_ANALYSES },
    asked_at = iso(req.asked_at),
    fill_by = true,
    answer = ('a choice as a string ("1", "manual", ...) or {"choice": ..., "plan_hash": "%s", "note": ..., '
      .. '"hint": ... (for re_analyze)}'):format(tostring(req.plan_hash)),
  }
  if req.escalate_at then
    q.deadlines = { escalate_at = iso(req.escalate_at), final_at = iso(req.final_at), default = cfg.default,
      escalation_target = cfg.escalation and cfg.escalation.target or og.null,
      escalated = req.escalated and true or false }
    local timers = {}
    if not req.escalated then timers[#timers + 1] = { at = req.escalate_at, resume = { system = "escalate" } } end
    timers[#timers + 1] = { at = req.final_at, resume = { system = "deadline" } }
    q.timers = og.array(timers)
  else
    q.deadlines = og.null
    q.no_deadline = "no deadline configured (config decision.ttl_s and decision.final_s): the question waits for an answer"
  end
  if type(req.rejected) == "table" then q.rejected = copy(req.rejected) end
  return q
end

-- ---- answers -----------------------------------------------------------------

-- parse a resume value: {choice, plan_hash, by, note, hint} | {system} | nil, reason
local function parse_answer(v)
  if math.type(v) == "integer" and v >= 1 and v <= 3 then v = tostring(v) end
  if type(v) == "string" then return { choice = v } end
  if type(v) ~= "table" then
    return nil, ("an answer is a choice string or an object {choice, plan_hash, by, note, hint}, not a %s"):format(type(v))
  end
  if v.system ~= nil then
    if v.system ~= "escalate" and v.system ~= "deadline" then
      return nil, ("unknown system answer '%s' (escalate, deadline)"):format(tostring(v.system))
    end
    return { system = v.system }
  end
  local a = { choice = v.choice, plan_hash = v.plan_hash, by = v.by, note = v.note, hint = v.hint }
  if math.type(a.choice) == "integer" and a.choice >= 1 and a.choice <= 3 then a.choice = tostring(a.choice) end
  if a.choice == nil and v.answer ~= nil then   -- {answer = V, by = NAME}: a plain answer with fill_by
    local inner = v.answer
    if math.type(inner) == "integer" then inner = tostring(inner) end
    if type(inner) ~= "string" then
      return nil, ("an answer is a choice string or an object {choice, plan_hash, by, note, hint}, not a %s"):format(
        type(inner) == "table" and "list" or type(inner))
    end
    a.choice = inner
  end
  if type(a.choice) ~= "string" then return nil, "the answer names no choice (field \"choice\")" end
  for _, k in ipairs({ "plan_hash", "by", "note", "hint" }) do
    if a[k] ~= nil and type(a[k]) ~= "string" then
      return nil, ("field \"%s\" must be a string (got %s)"):format(k, type(a[k]))
    end
  end
  for k in pairs(v) do
    if k ~= "choice" and k ~= "plan_hash" and k ~= "by" and k ~= "note" and k ~= "hint" and k ~= "answer" then
      return nil, ("unknown field \"%s\" (choice, plan_hash, by, note, hint)"):format(tostring(k))
    end
  end
  return a
end

-- ---- the node ----------------------------------------------------------------

return function(state, ctx)
  local plan = type(state.plan) == "table" and state.plan or nil
  if not plan or type(plan.hash) ~= "string" then
    error("human_decision: state.plan has no hash: nodes/action_planner.lua must run before the decision", 0)
  end
  local cfg = decision_config(ctx)
  local alert = type(state.alert) == "table" and state.alert or {}
  local n_re = tonumber(state.re_analyses) or 0
  local choices = allowed_choices(plan, n_re)

  -- the open question, or a new one for this plan
  local prev = type(state.decision_request) == "table" and state.decision_request or nil
  local req, timeline = nil, {}
  if prev and prev.open and prev.plan_hash == plan.hash then
    req = copy(prev)   -- keeps `rejected` for this ask only: cleared below
  else
    local now = ctx.now()
    req = { open = true, plan_hash = plan.hash, asked_at = now, escalated = false }
    if cfg.ttl_s then
      req.escalate_at = math.ceil(now + cfg.ttl_s)
      req.final_at = math.ceil(now + cfg.final_s)
    end
    timeline[#timeline + 1] = { at = iso(now), node = ctx.node, event = "decision_asked",
      detail = ("%d action%s, %s; choices %s%s"):format(#(plan.actions or {}), #(plan.actions or {}) == 1 and "" or "s",
        plan.hash, table.concat(choices, ", "),
        req.escalate_at and (", escalates at " .. iso(req.escalate_at) .. ", default '" .. cfg.default ..
          "' at " .. iso(req.final_at)) or ", no deadline") }
  end
  local question = build_question(state, ctx, req, cfg, choices)
  req.rejected = nil

  local raw = og.interrupt(question)
  local now = ctx.now()

  -- refuse: record it and ask the same question again
  local function refuse(reason)
    local shown = ctx.json.encode(raw) or tostring(raw)
    req.rejected = { value = copy(raw), reason = reason, at = iso(now) }
    timeline[#timeline + 1] = { at = iso(now), node = ctx.node, event = "decision_refused",
      detail = ("%s refused: %s"):format(shown, reason) }
    ctx.log.warn("decision refused", { value = shown, reason = reason })
    return { decision_request = req, timeline = og.array(timeline) }
  end

  local a, why = parse_answer(raw)
  if not a then return refuse(why) end

  if a.system == "escalate" then
    if not req.escalate_at then return refuse("no deadline is configured (config decision.ttl_s): nothing to escalate") end
    if req.escalated then return refuse("already escalated at " .. tostring(req.escalated_at)) end
    if now < req.escalate_at then
      return refuse(("too early to escalate: the deadline is %s"):format(iso(req.escalate_at)))
    end
    local target = cfg.escalation and cfg.escalation.target or nil
    local text = ("[opsgraph] no decision yet for %s (%s): %s. Plan %s, %d action(s). Default '%s' will be "
      .. "taken at %s. Answer: opsgraph resume %s"):format(tostring(alert.service), tostring(alert.severity),
      tostring(type(state.rca) == "table" and state.rca.root_cause or "root cause unknown"), plan.hash,
      #(plan.actions or {}), cfg.default, iso(req.final_at), ctx.thread_id)
    local outcome
    if cfg.escalation and cfg.escalation.webhook_url then
      local res, err = ctx.http.post_json(cfg.escalation.webhook_url, { text = text, target = target,
        thread_id = ctx.thread_id, service = alert.service, plan_hash = plan.hash, final_at = iso(req.final_at) },
        { timeout_ms = 10000 })
      if res and res.status >= 200 and res.status < 300 then
        outcome = ("notified %s (HTTP %d)"):format(target, res.status)
      else
        outcome = ("notifying %s failed: %s"):format(tostring(target), res and ("HTTP " .. res.status) or tostring(err))
      end
    else
      ctx.log.warn("decision escalated", { target = target, thread = ctx.thread_id, text = text })
      outcome = target and ("logged for %s (config decision.escalation.webhook_url is not set)"):format(target)
        or "logged (no config decision.escalation: no target to notify)"
    end
    req.escalated, req.escalated_at = true, iso(now)
    timeline[#timeline + 1] = { at = iso(now), node = ctx.node, event = "decision_escalated",
      detail = ("no answer by %s; %s"):format(iso(req.escalate_at), outcome) }
    return { decision_request = req, timeline = og.array(timeline) }
  end

  local decision
  if a.system == "deadline" then
    if not req.final_at then return refuse("no deadline is configured (config decision.final_s)") end
    if now < req.final_at then
      return refuse(("too early for the default: the final deadline is %s"):format(iso(req.final_at)))
    end
    local choice, note = cfg.default, ("no answer by %s: took the configured default '%s'"):format(
      iso(req.final_at), cfg.default)
    if ACTION_IDS[choice] and not contains(choices, choice) then
      note = note .. (" but the plan has no action %s, so: manual"):format(choice)
      choice = "manual"
    end
    decision = { choice = choice, by = "opsgraph (deadline)", note = note }
  else
    if a.plan_hash and a.plan_hash ~= plan.hash then
      return refuse(("the plan changed: the answer names %s but the plan shown is %s; read the actions again"):format(
        a.plan_hash, plan.hash))
    end
    if a.choice == "re_analyze" and n_re >= MAX_RE_ANALYSES then
      return refuse(("re_analyze was already asked %d times (the limit); choose one of %s"):format(
        n_re, table.concat(choices, ", ")))
    end
    if not contains(choices, a.choice) then
      return refuse(("'%s' is not one of the choices: %s"):format(a.choice, table.concat(choices, ", ")))
    end
    if a.hint and a.choice ~= "re_analyze" then
      return refuse("a hint goes with re_analyze only (use note for a remark)")
    end
    decision = { choice = a.choice, by = a.by or "unknown", note = a.note }
  end

  decision.at = iso(now)
  decision.plan_hash = plan.hash
  local out = { decision_request = { open = false, plan_hash = plan.hash, asked_at = req.asked_at,
    escalated = req.escalated, escalated_at = req.escalated_at, closed_at = iso(now) } }
  local detail
  if ACTION_IDS[decision.choice] then
    local act
    for _, x in ipairs(plan.actions) do if x.id == decision.choice then act = x end end
    detail = ("action %s approved by %s: %s"):format(decision.choice, decision.by, tostring(act and act.title))
  elseif decision.choice == "manual" then
    decision.handler = decision.by
    if decision.by == "opsgraph (deadline)" then
      decision.handler = cfg.escalation and cfg.escalation.target or "the on-call engineer (no escalation target configured)"
    end
    local rb, rb_why = runbook_of(ctx, alert.service)
    decision.runbook = rb
    if not rb then decision.runbook_note = rb_why end
    detail = ("handled manually by %s%s"):format(decision.handler, rb and ("; runbook from " .. rb.source) or ("; " .. rb_why))
  else   -- re_analyze
    out.re_analyses = n_re + 1
    decision.hint = a.hint
    out.operator_hint = a.hint or og.null
    detail = ("re-analysis %d of %d asked by %s%s"):format(n_re + 1, MAX_RE_ANALYSES, decision.by,
      a.hint and (": " .. a.hint) or "")
  end
  if decision.note then detail = detail .. " (" .. decision.note .. ")" end
  timeline[#timeline + 1] = { at = iso(now), node = ctx.node, event = "decision", detail = detail }
  out.decision = decision
  out.timeline = og.array(timeline)
  return out
end
