-- tests/nodes/verify/verify.lua: nodes/verify_recovery.lua alone
-- (tests/cli/nodes_verify.sh). Input: {alert, execution, re_analyses?}.
-- "context_collector" stands in for the real one: it only marks that the
-- re_analyze answer sent the run back there.
local og = require("opsgraph")
local g = og.graph{ name = "verify_test", state = {
  alert = og.last(), execution = og.last(), verification = og.last(), re_analyses = og.last(0),
  decision = og.last(), operator_hint = og.last(), timeline = og.append(),
}}
g:node("verify_recovery", require("nodes.verify_recovery"), { destinations = { "context_collector" } })
g:node("context_collector", function(s, ctx)
  return { timeline = { { at = "-", node = ctx.node, event = "re_analysis_started" } } }
end)
g:edge(og.START, "verify_recovery")
g:edge("verify_recovery", og.END)
g:edge("context_collector", og.END)
return g
