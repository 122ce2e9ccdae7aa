-- tests/nodes/collector/collector_analyzer.lua: START -> context_collector ->
-- analyze (nodes/lib/builtin_analyzer.lua on the collected context): the
-- collector's output is what the analyzer expects. Run from the project root.
local og = require("opsgraph")
local analyzer = require("nodes.lib.builtin_analyzer")
local g = og.graph{ name = "collector_analyzer", state = {
  trigger = og.last(), alert = og.last(), context = og.last(), rca = og.last(), plan = og.last(),
  decision = og.last(), execution = og.last(), timeline = og.append(), candidates = og.last(),
}}
g:node("context_collector", require("nodes.context_collector"))
g:node("analyze", function(s, ctx)
  local rca, cands = analyzer.analyze(s.alert, s.context, { now = s.alert.started_at })
  return { rca = rca, candidates = og.array(cands) }
end)
g:edge(og.START, "context_collector")
g:edge("context_collector", "analyze")
return g
