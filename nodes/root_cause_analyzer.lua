-- nodes/root_cause_analyzer.lua: the root-cause analysis node (issue 4).
--
-- Reads state.alert and state.context, writes
--   rca        {root_cause, evidence[], impact, confidence, analyzer, signature?, also[]}
--   candidates up to 3 remediation proposals, best first, for the planner
--              ({title, description, risk, eta, tools[{name, args}]})
--   timeline   one entry {at, node, event = "rca", detail}
-- The graph must declare the extra channel `candidates = og.last()` next to
-- the channels of nodes/README.md.
--
-- Analyzers form a chain: each link is tried in order and the first that
-- answers wins; the built-in analyzer (nodes/lib/builtin_analyzer.lua) is
-- always the last link, so the node answers without any LLM. Today the chain
-- has only that link: the LLM links (ctx.llm, a later release) go into
-- chain_for() below, as {name, fn(alert, context, ctx, opts) -> rca,
-- candidates | nil, err}; a link that fails adds "<name>: <err>" to
-- rca.notes and the next link runs.
--
-- Options come from ctx.config.analyzer (all optional): deploy_window_min,
-- replicas (the builtin analyzer's opts). opts.now is ctx.now() (journaled,
-- so a resumed or replayed run sees the same time).
local analyzer = require("nodes.lib.builtin_analyzer")
local time = require("nodes.lib.time")

local og_array = function(t) return t end
do
  local ok, og = pcall(require, "opsgraph")
  if ok and type(og) == "table" and type(og.array) == "function" then og_array = og.array end
end

local function builtin_link(alert, context, _, opts)
  return analyzer.analyze(alert, context, opts)
end

-- the analyzer chain for this run; the builtin analyzer always ends it
local function chain_for(ctx)   -- luacheck: ignore ctx (the LLM links will read ctx.config.llm)
  local chain = {}
  chain[#chain + 1] = { name = "builtin", fn = builtin_link }
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
  for _, link in ipairs(chain_for(ctx)) do
    local ok, r, c = pcall(link.fn, alert, context, ctx, opts)
    if ok and type(r) == "table" then
      rca, cands = r, c
      break
    end
    failures[#failures + 1] = ("%s: %s"):format(link.name, tostring(ok and (c or "no answer") or r))
  end
  if not rca then error("root_cause_analyzer: every analyzer failed: " .. table.concat(failures, "; ")) end
  if #failures > 0 then rca.notes = og_array(failures) end
  cands = type(cands) == "table" and cands or {}
  local detail = ("%s (confidence %.2f, %s); %d candidate action%s"):format(
    tostring(rca.root_cause), tonumber(rca.confidence) or 0, tostring(rca.analyzer),
    #cands, #cands == 1 and "" or "s")
  return {
    rca = rca,
    candidates = og_array(cands),
    timeline = { { at = time.format(math.floor(opts.now)), node = ctx.node, event = "rca", detail = detail } },
  }
end
