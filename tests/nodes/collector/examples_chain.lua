-- tests/nodes/collector/examples_chain.lua: slack_alert -> context_collector ->
-- root_cause_analyzer, the real nodes, on a raw trigger ({"trigger": payload}).
-- Used by tests/cli/examples_rca.sh on each example of examples/alerts/ with
-- the example config pointed at tests/tools/fake_observability.py.
local og = require("opsgraph")
local g = og.graph{ name = "examples_chain", state = {
  trigger = og.last(), alert = og.last(), context = og.last(), rca = og.last(), candidates = og.last(),
  plan = og.last(), decision = og.last(), execution = og.last(), operator_hint = og.last(),
  timeline = og.append(),
}}
g:node("slack_alert", require("nodes.slack_alert"))
g:node("context_collector", require("nodes.context_collector"))
g:node("root_cause_analyzer", require("nodes.root_cause_analyzer"))
g:edge(og.START, "slack_alert")
g:edge("slack_alert", "context_collector")
g:edge("context_collector", "root_cause_analyzer")
return g
