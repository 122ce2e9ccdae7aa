-- nodes/root_cause_analyzer.lua: the root-cause analysis node (issue 4).
--
-- Reads state.alert, state.context, state.operator_hint (re_analyze) and
-- state.operator_model ("provider/model" asked first, e.g. set by a fork from
-- the postmortem page), writes
--   rca        {root_cause, evidence[], impact, confidence, analyzer, signature?, also[],
--               notes[]?, llm?}
--   candidates up to 3 remediation proposals, best first, for the planner
--              ({title, description, risk, eta, tools[{name, args}]})
--   timeline   one entry {at, node, event = "rca", detail}
-- The graph must declare the extra channel `candidates = og.last()` next to
-- the channels of nodes/README.md.
--
-- The analyzer chain: when the configuration has llm.roles.rca (asked with
-- ctx.llm.has_role, so a config file edited while running counts), the LLM role
-- "rca" is asked first (ctx.llm.chat, engine/lua/lapi_llm.c: its own chain
-- of providers/models, schema validation, one repair retry per link,
-- redaction). Its input is the alert, the context summary and the built-in
-- analyzer's finding (signature, confidence, evidence), and the operator's
-- hint when there is one. On success rca.analyzer is "<provider>/<model>"
-- and rca.llm holds {tokens_in, tokens_out, latency_ms, cost, attempts}; the
-- LLM's candidates come first, the built-in analyzer's follow them (the
-- planner keeps the first 3 that are valid against the tool registry). When
-- every LLM link fails, or the answer lacks a field this node needs, the
-- built-in analyzer (nodes/lib/builtin_analyzer.lua) answers, which always
-- ends the chain, and rca.notes says why the LLM chain failed. Without
-- llm.roles.rca (or with its "enabled": false) the built-in analyzer
-- answers directly.
--
-- Options come from ctx.config.analyzer (all optional): deploy_window_min,
-- replicas (the builtin analyzer's opts). opts.now is ctx.now() (journaled,
-- so a resumed or replayed run sees the same time).
local analyzer = require("nodes.lib.builtin_analyzer")
local time = require("nodes.lib.time")
local past = require("nodes.lib.past_incidents")

local og_array = function(t) return t end
do
  local ok, og = pcall(require, "opsgraph")
  if ok and type(og) == "table" and type(og.array) == "function" then og_array = og.array end
end

local function builtin_link(alert, context, _, opts)
  return analyzer.analyze(alert, context, opts)
end

-- asked of the current configuration (a changed config file is re-read), not ctx.config
local function llm_role(ctx)
  return type(ctx.llm) == "table" and ctx.llm.has_role("rca")
end

local function is_str(v) return type(v) == "string" and v ~= "" end

-- the LLM link: ctx.llm.chat{role = "rca"}, its answer checked for the
-- fields this node writes whatever the configured schema says
local function llm_link(alert, context, ctx, opts, state)
  local b = opts.builtin or {}
  local hint = state.operator_hint
  local r = ctx.llm.chat{
    role = "rca",
    input = {
      alert = alert,
      context = context,
      builtin_analysis = b.rca and {
        root_cause = b.rca.root_cause, signature = b.rca.signature,
        confidence = b.rca.confidence, evidence = b.rca.evidence,
      } or nil,
    },
    hint = is_str(hint) and hint or nil,
    model = is_str(state.operator_model) and state.operator_model or nil,
  }
  if not r.ok then return nil, r.error end
  local d = r.data
  if type(d) ~= "table" or not is_str(d.root_cause) or type(d.evidence) ~= "table"
      or type(d.confidence) ~= "number" or d.confidence < 0 or d.confidence > 1 then
    return nil, ("%s/%s answered without root_cause, evidence[] or a confidence in [0, 1]; "
      .. "add them to llm.roles.rca.schema's required list"):format(tostring(r.provider), tostring(r.model))
  end
  local evidence = {}
  for _, e in ipairs(d.evidence) do
    if type(e) == "string" then evidence[#evidence + 1] = e end
  end
  local rca = {
    root_cause = d.root_cause,
    evidence = og_array(evidence),
    impact = is_str(d.impact) and d.impact or "not stated by the model",
    confidence = math.floor(d.confidence * 100 + 0.5) / 100,
    analyzer = ("%s/%s"):format(r.provider, r.model),
    llm = { tokens_in = r.tokens_in, tokens_out = r.tokens_out, latency_ms = r.latency_ms,
            cost = r.cost, attempts = r.attempts },
  }
  if b.rca and b.rca.signature then
    rca.builtin = { signature = b.rca.signature, confidence = b.rca.confidence }
  end
  local cands = {}
  if type(d.candidates) == "table" then
    for _, c in ipairs(d.candidates) do
      if type(c) == "table" then cands[#cands + 1] = c end
    end
  end
  for _, c in ipairs(type(b.candidates) == "table" and b.candidates or {}) do cands[#cands + 1] = c end
  if #r.attempts > 1 then
    local notes = {}
    for _, a in ipairs(r.attempts) do
      if a.outcome ~= "ok" and a.outcome ~= "repaired" then
        notes[#notes + 1] = ("llm %s/%s: %s"):format(a.provider, a.model, a.error or a.outcome)
      end
    end
    if #notes > 0 then rca.notes = og_array(notes) end
  end
  return rca, cands
end

-- the analyzer chain for this run; the builtin analyzer always ends it
local function chain_for(ctx)
  local chain = {}
  if llm_role(ctx) then chain[#chain + 1] = { name = "llm", fn = llm_link } end
  chain[#chain + 1] = { name = "builtin", fn = function(alert, context, c, opts)
    if opts.builtin then return opts.builtin.rca, opts.builtin.candidates end
    return builtin_link(alert, context, c, opts)
  end }
  return chain
end

local function analyzer_opts(ctx)
  local cfg = type(ctx.config) == "table" and ctx.config.analyzer or nil
  local opts = { now = ctx.now() }
  if type(cfg) == "table" then
    if type(cfg.deploy_window_min) == "number" then opts.deploy_window_min = cfg.deploy_window_min end
    if type(cfg.replicas) == "number" then opts.replicas = cfg.replicas end
  end
  return opts
end

return function(state, ctx)
  local alert = type(state.alert) == "table" and state.alert or {}
  local context = type(state.context) == "table" and state.context or {}
  local opts = analyzer_opts(ctx)
  local rca, cands
  local failures = {}
  local chain = chain_for(ctx)
  if #chain > 1 then
    -- pure and cheap: the LLM gets its finding, and it is the fallback
    local ok, r, c = pcall(builtin_link, alert, context, ctx, opts)
    if ok and type(r) == "table" then opts.builtin = { rca = r, candidates = c } end
  end
  for _, link in ipairs(chain) do
    local ok, r, c = pcall(link.fn, alert, context, ctx, opts, state)
    if ok and type(r) == "table" then
      rca, cands = r, c
      break
    end
    failures[#failures + 1] = ("%s: %s"):format(link.name, tostring(ok and (c or "no answer") or r))
  end
  if not rca then error("root_cause_analyzer: every analyzer failed: " .. table.concat(failures, "; ")) end
  if #failures > 0 then
    local notes = type(rca.notes) == "table" and rca.notes or {}
    for _, f in ipairs(failures) do notes[#notes + 1] = f end
    rca.notes = og_array(notes)
  end
  cands = type(cands) == "table" and cands or {}
  -- "last time, action X fixed it": a past fix of the same signature first
  rca, cands = past.apply(rca, cands, context.similar)
  local detail = ("%s (confidence %.2f, %s); %d candidate action%s"):format(
    tostring(rca.root_cause), tonumber(rca.confidence) or 0, tostring(rca.analyzer),
    #cands, #cands == 1 and "" or "s")
  return {
    rca = rca,
    candidates = og_array(cands),
    timeline = { { at = time.format(math.floor(opts.now)), node = ctx.node, event = "rca", detail = detail } },
  }
end
