-- nodes/action_planner.lua: turns the analyzer's candidates into the plan (issue 4).
--
-- Reads state.candidates (written by nodes/root_cause_analyzer.lua; the graph
-- declares `candidates = og.last()`), state.alert, and the tool registry from
-- ctx.config.tools (nodes/lib/tool_registry.lua). Writes
--   plan     {actions[<=3]: {id, title, description, risk, eta, tools[{name, args}]},
--             notes[], hash}
--   timeline one entry {at, node, event = "plan", detail}
--
-- Rules:
--   * candidates are taken in the analyzer's order, up to 3 actions;
--   * a candidate is kept only when every one of its tools is in the registry
--     and its args are valid against that tool's params schema; otherwise it
--     is dropped whole, with a note in plan.notes, e.g.
--       dropped 'scale_replicas' for payment-service: replicas: must be ≥ 1 (got 0)
--   * ids are "1", "2", "3" in plan order;
--   * risk: the candidate's when it is low/medium/high, else the highest risk
--     of its tools; eta: the candidate's when it is a positive number (rounded
--     down to whole seconds), else the sum of its tools' timeout_s;
--   * no candidate left: actions is [] and a note says to decide manually;
--   * a missing or broken registry fails the node with the registry's error
--     (a plan naming unchecked tools must not reach the decision).
--
-- LLM role "plan" (optional): when ctx.llm.has_role("plan") (llm.roles.plan
-- is configured and not "enabled": false), ctx.llm.chat{role = "plan"} gets the alert, rca, the
-- analyzer's candidates and the registry's tools (name, description, risk,
-- params schema) and answers {actions[{title, description, risk, eta,
-- tools[{name, args}]}]}. Its actions go before the analyzer's candidates
-- and pass the same checks (so an invented tool or a bad argument is dropped
-- with a note, and the analyzer's candidates fill the plan); a note names
-- the model that proposed them. When the role fails, a note says why and the
-- analyzer's candidates are planned as without it.
--
-- plan.hash: "fnv1a64:" .. 16 hex digits, the 64-bit FNV-1a hash of the
-- canonical JSON of {actions = plan.actions}. Canonical: a plain copy
-- encoded with ctx.json.encode, which writes object keys sorted bytewise
-- (engine/lua/lconv.c), lists in order, integers without a fraction. notes
-- are not hashed: they do not change what would run (nodes/lib/plan_hash.lua).
-- nodes/dry_run_actions.lua, next in graphs/incident.lua, replaces the hash
-- by one that also covers the dry-run reports (keeping this one as
-- plan.planned_hash); the decision names that one.
local plan_hash_of = require("nodes.lib.plan_hash")
local registry = require("nodes.lib.tool_registry")
local schema = require("nodes.lib.schema")
local time = require("nodes.lib.time")

local og_array = function(t) return t end
do
  local ok, og = pcall(require, "opsgraph")
  if ok and type(og) == "table" and type(og.array) == "function" then og_array = og.array end
end

local MAX_ACTIONS = 3
local RISK_RANK = { low = 1, medium = 2, high = 3 }
local RISK_NAME = { "low", "medium", "high" }

-- the shape of nodes/README.md, checked on the plan before it is written
local PLAN_SCHEMA = {
  type = "object",
  required = { "actions", "notes", "hash" },
  properties = {
    actions = { type = "array", maxItems = MAX_ACTIONS, items = {
      type = "object",
      required = { "id", "title", "description", "risk", "eta", "tools" },
      additionalProperties = false,
      properties = {
        id = { enum = { "1", "2", "3" } },
        title = { type = "string", minLength = 1 },
        description = { type = "string" },
        risk = { enum = { "low", "medium", "high" } },
        eta = { type = "integer", minimum = 1 },
        tools = { type = "array", minItems = 1, items = {
          type = "object", required = { "name", "args" }, additionalProperties = false,
          properties = { name = { type = "string", minLength = 1 }, args = { type = "object" } } } },
      } } },
    notes = { type = "array", items = { type = "string" } },
    hash = { type = "string", pattern = "^fnv1a64:[0-9a-f]+$" },
  },
}

-- ---- hashing ---------------------------------------------------------------

local function plain_copy(v)   -- no metatables, no proxies; lists stay lists
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = plain_copy(x) end
  return out
end

local function plan_hash(ctx, actions)
  local doc = { actions = og_array(plain_copy(actions)) }
  for _, a in ipairs(doc.actions) do
    a.tools = og_array(a.tools)
  end
  return plan_hash_of.of(ctx, doc, "action_planner")
end

-- ---- planning --------------------------------------------------------------

local function candidate_service(c, alert)
  for _, t in ipairs(type(c.tools) == "table" and c.tools or {}) do
    if type(t) == "table" and type(t.args) == "table" and type(t.args.service) == "string" then
      return t.args.service
    end
  end
  return type(alert.service) == "string" and alert.service or "?"
end

-- check one candidate: returns the action (without id) or nil, reason, tool name
local function check_candidate(reg, c)
  if type(c) ~= "table" then return nil, "not an object", "?" end
  local tools = type(c.tools) == "table" and c.tools or {}
  if #tools == 0 then return nil, "no tools", "?" end
  local out_tools, worst, eta_sum = {}, 0, 0
  for i, t in ipairs(tools) do
    local name = type(t) == "table" and t.name or nil
    if type(name) ~= "string" then return nil, ("tools[%d]: no tool name"):format(i), "?" end
    local spec, err = reg:get(name)
    if not spec then return nil, err, name end
    local args = t.args
    if args == nil then args = {} end
    local ok, errs, notes = reg:validate_args(name, args)
    if not ok then return nil, table.concat(errs, "; "), name end
    out_tools[#out_tools + 1] = { name = name, args = plain_copy(args), notes = notes }
    worst = math.max(worst, RISK_RANK[spec.risk] or 2)
    eta_sum = eta_sum + (tonumber(spec.timeout_s) or 60)
  end
  local risk = RISK_RANK[c.risk] and c.risk or RISK_NAME[worst]
  local eta = (type(c.eta) == "number" and c.eta >= 1) and math.floor(c.eta) or math.ceil(eta_sum)
  local title = (type(c.title) == "string" and c.title ~= "") and c.title or out_tools[1].name
  return { title = title, description = type(c.description) == "string" and c.description or "",
    risk = risk, eta = eta, tools = out_tools }
end

-- asked of the current configuration (a changed config file is re-read), not ctx.config
local function plan_role(ctx)
  return type(ctx.llm) == "table" and ctx.llm.has_role("plan")
end

-- the LLM's proposals (a list, maybe empty) and a note
local function llm_proposals(ctx, reg, state, alert, cands)
  local tools = {}
  for _, name in ipairs(reg:names()) do
    local spec = reg:get(name)
    tools[#tools + 1] = { name = name, description = spec.description, risk = spec.risk, params = spec.params }
  end
  local ok, r = pcall(ctx.llm.chat, { role = "plan", input = {
    alert = alert, rca = state.rca, candidates = og_array(plain_copy(cands)), tools = og_array(tools),
  } })
  if not ok then return {}, "llm plan: " .. tostring(r) .. "; the analyzer's candidates are used" end
  if not r.ok then return {}, "llm plan: " .. tostring(r.error) .. "; the analyzer's candidates are used" end
  local acts = type(r.data) == "table" and r.data.actions or nil
  if type(acts) ~= "table" then
    return {}, ("llm plan: %s/%s answered without an actions list (add \"actions\" to llm.roles.plan.schema's "
      .. "required list); the analyzer's candidates are used"):format(tostring(r.provider), tostring(r.model))
  end
  local out = {}
  for _, a in ipairs(acts) do out[#out + 1] = a end
  return out, ("llm plan: %d proposal%s from %s/%s, checked like the analyzer's candidates"):format(
    #out, #out == 1 and "" or "s", tostring(r.provider), tostring(r.model))
end

return function(state, ctx)
  local reg, err = registry.load(ctx.config)
  if not reg then error("action_planner: " .. err, 0) end
  local alert = type(state.alert) == "table" and state.alert or {}
  local cands = type(state.candidates) == "table" and state.candidates or {}
  local actions, notes = {}, {}
  if plan_role(ctx) then
    local proposals, note = llm_proposals(ctx, reg, state, alert, cands)
    notes[#notes + 1] = note
    if #proposals > 0 then
      local all = {}
      for _, c in ipairs(proposals) do all[#all + 1] = c end
      for _, c in ipairs(cands) do all[#all + 1] = c end
      cands = all
    end
  end
  for _, c in ipairs(cands) do
    if #actions >= MAX_ACTIONS then
      notes[#notes + 1] = ("skipped '%s': the plan holds at most %d actions"):format(
        type(c) == "table" and type(c.title) == "string" and c.title or "?", MAX_ACTIONS)
    else
      local a, why, tool = check_candidate(reg, c)
      if a then
        a.id = tostring(#actions + 1)
        for _, t in ipairs(a.tools) do
          for _, n in ipairs(t.notes or {}) do notes[#notes + 1] = ("action %s, %s: %s"):format(a.id, t.name, n) end
          t.notes = nil
        end
        a.tools = og_array(a.tools)
        actions[#actions + 1] = a
      else
        notes[#notes + 1] = ("dropped '%s' for %s: %s"):format(tool, type(c) == "table" and candidate_service(c, alert) or "?", why)
      end
    end
  end
  if #actions == 0 then
    notes[#notes + 1] = "no valid action could be planned; decide manually"
  end
  local plan = { actions = og_array(actions), notes = og_array(notes) }
  plan.hash = plan_hash(ctx, actions)
  local ok, errs = schema.validate(PLAN_SCHEMA, plan, { root = "plan" })
  if not ok then error("action_planner: the plan does not match its schema: " .. table.concat(errs, "; "), 0) end

  local titles = {}
  for i, a in ipairs(actions) do titles[i] = a.id .. ". " .. a.title end
  local detail = ("%d action%s (%s)%s; %s"):format(#actions, #actions == 1 and "" or "s",
    #titles > 0 and table.concat(titles, "; ") or "none",
    #notes > 0 and (", " .. #notes .. " note" .. (#notes == 1 and "" or "s")) or "", plan.hash)
  return {
    plan = plan,
    timeline = { { at = time.format(math.floor(ctx.now())), node = ctx.node, event = "plan", detail = detail } },
  }
end
