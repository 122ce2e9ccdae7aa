-- tests/graphs/past_incidents.lua: root_cause_analyzer alone, on a given
-- alert and context, for tests/cli/similar.sh (run with --root at the
-- project root so nodes.* resolve): what past incidents in context.similar
-- do to the rca's evidence and to the order of the candidate actions.
local og = require("opsgraph")
local g = og.graph{ name = "past_incidents", state = {
  alert = og.last(), context = og.last(), rca = og.last(), candidates = og.last(),
  operator_hint = og.last(), re_analyses = og.last(0), timeline = og.append(),
}}
g:node("root_cause_analyzer", require("nodes.root_cause_analyzer"))
g:edge(og.START, "root_cause_analyzer")
g:edge("root_cause_analyzer", og.END)
return g
