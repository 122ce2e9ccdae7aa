-- tests/nodes/slack_alert_only.lua: a one-node graph around the real
-- nodes/slack_alert.lua, with the incident state of nodes/README.md. Run it
-- from the project root (require("nodes.slack_alert") resolves against the
-- current directory, since this file is not under a graphs/ directory):
--   bin/opsgraph run tests/nodes/slack_alert_only.lua --db :memory: --output json \
--     --input '{"trigger": {"service": "payment-service", "time": "2026-11-24T02:13:00Z"}}'
local og = require("opsgraph")

local g = og.graph{ name = "slack_alert_only", state = {
  trigger   = og.last(),
  alert     = og.last(),
  context   = og.last(),
  rca       = og.last(),
  plan      = og.last(),
  decision  = og.last(),
  execution = og.last(),
  timeline  = og.append(),
}}
g:node("slack_alert", require("nodes.slack_alert"))
g:edge(og.START, "slack_alert")
return g
