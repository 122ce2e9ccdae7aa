-- s1_incident.lua: benchmark S1/S4, the incident pipeline of the peer
-- benchmark (/work/shared/peer-bench/langgraphjs/bench.mjs, buildIncident):
--   slack_alert -> context_collector -> root_cause_analyzer -> action_planner
--     -> human_decision (og.interrupt) -> action_executor -> END
-- Every node writes a ~200-byte object (its JSON encoding is 200 bytes, as the
-- peer's payload(); human_decision's is ~213 with `choice`) into its key and
-- appends one string to `log`.
local og = require("opsgraph")

local g = og.graph{ name = "s1_incident", state = {
  alert = og.last(), context = og.last(), rca = og.last(), plan = og.last(),
  decision = og.last(), result = og.last(),
  log = og.append(),
}}

-- the peer's payload(node, i): {node, thread, ts, status, text = "x" * fill}
-- where fill makes JSON.stringify(base) 200 bytes long
local function payload(ctx, node, i)
  local base = { node = node, thread = i, ts = 1700000000000 + i, status = "ok", text = "" }
  local fill = 200 - #ctx.json.encode(base)
  base.text = string.rep("x", fill > 0 and fill or 0)
  return base
end

local function thread_of(s)
  return s.alert and s.alert.thread or 0
end

local function step(name, key)
  return function(s, ctx)
    return { [key] = payload(ctx, name, thread_of(s)), log = { name .. ": ok" } }
  end
end

g:node("slack_alert", step("slack_alert", "alert"))
g:node("context_collector", step("context_collector", "context"))
g:node("root_cause_analyzer", step("root_cause_analyzer", "rca"))
g:node("action_planner", step("action_planner", "plan"))
g:node("human_decision", function(s, ctx)
  local choice = og.interrupt({
    question = "Which remediation should be executed?",
    options = { ["1"] = "restart service", ["2"] = "roll back deploy", ["3"] = "page on-call" },
    plan = s.plan and s.plan.node,
  })
  local d = payload(ctx, "human_decision", thread_of(s))
  d.choice = choice
  return { decision = d, log = { "human_decision: chose " .. tostring(choice) } }
end)
g:node("action_executor", step("action_executor", "result"))

g:edge(og.START, "slack_alert")
g:edge("slack_alert", "context_collector")
g:edge("context_collector", "root_cause_analyzer")
g:edge("root_cause_analyzer", "action_planner")
g:edge("action_planner", "human_decision")
g:edge("human_decision", "action_executor")
g:edge("action_executor", og.END)
return g
