-- tests/nodes/dryrun/graph.lua: nodes/dry_run_actions.lua between a plan
-- given as input and nodes/human_decision.lua, as in graphs/incident.lua
-- (tests/cli/nodes_dryrun.sh).
local og = require("opsgraph")
local g = og.graph{ name = "dryrun_test", state = {
  alert = og.last(), rca = og.last(), plan = og.last(), dry_runs = og.last(), decision = og.last(),
  decision_request = og.last(), operator_hint = og.last(), re_analyses = og.last(0), timeline = og.append(),
}}
g:node("dry_run_actions", require("nodes.dry_run_actions"))
g:node("human_decision", require("nodes.human_decision"))
g:edge(og.START, "dry_run_actions")
g:edge("dry_run_actions", "human_decision")
g:route("human_decision", function(s)
  return type(s.decision_request) == "table" and s.decision_request.open and "human_decision" or og.END
end, { "human_decision", og.END })
return g
