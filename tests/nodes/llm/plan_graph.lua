-- tests/nodes/llm/plan_graph.lua: root_cause_analyzer then action_planner,
-- for the LLM role "plan" of tests/cli/llm_chain.sh.
local og = require("opsgraph")
local g = og.graph{ name = "llm_plan", state = {
  alert = og.last(), context = og.last(), operator_hint = og.last(),
  rca = og.last(), candidates = og.last(), plan = og.last(), timeline = og.append(),
} }
g:node("analyze", require("nodes.root_cause_analyzer"))
g:node("plan", require("nodes.action_planner"))
g:edge(og.START, "analyze")
g:edge("analyze", "plan")
g:edge("plan", og.END)
return g
