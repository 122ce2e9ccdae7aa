-- tests/nodes/llm/rca_graph.lua: nodes/root_cause_analyzer.lua alone, for
-- tests/cli/llm_chain.sh. With state.ask = true the node pauses after the
-- analysis (og.interrupt), so a resume re-executes it and its ctx.llm.chat
-- call must come from the journal, not from the server.
local og = require("opsgraph")
local rca_node = require("nodes.root_cause_analyzer")
local g = og.graph{ name = "llm_rca", state = {
  alert = og.last(), context = og.last(), operator_hint = og.last(), ask = og.last(false),
  rca = og.last(), candidates = og.last(), confirmed = og.last(), timeline = og.append(),
} }
g:node("analyze", function(s, ctx)
  local out = rca_node(s, ctx)
  if s.ask then out.confirmed = og.interrupt({ question = "is this the root cause?" }) end
  return out
end)
g:edge(og.START, "analyze")
g:edge("analyze", og.END)
return g
