-- tests/nodes/collector/collector_only.lua: START -> context_collector, with the
-- incident state of nodes/README.md. Run from the project root:
--   bin/opsgraph run tests/nodes/collector/collector_only.lua --db :memory: \
--     --config CFG --input '{"alert": {...}}' --output json
local og = require("opsgraph")
local g = og.graph{ name = "collector_only", state = {
  trigger = og.last(), alert = og.last(), context = og.last(), rca = og.last(), plan = og.last(),
  decision = og.last(), execution = og.last(), timeline = og.append(),
}}
g:node("context_collector", require("nodes.context_collector"))
g:edge(og.START, "context_collector")
return g
