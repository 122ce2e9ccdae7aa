-- tests/nodes/executor/executor.lua: nodes/action_executor.lua alone
-- (tests/cli/nodes_executor.sh, tests/cli/effect_ledger.sh). Input:
-- {alert, plan, decision}; the registry is tests/nodes/executor/tools
-- (config "tools_dir").
local og = require("opsgraph")
local g = og.graph{ name = "executor_test", state = {
  alert = og.last(), plan = og.last(), decision = og.last(),
  execution = og.last(), timeline = og.append(),
}}
g:node("action_executor", require("nodes.action_executor"))
g:edge(og.START, "action_executor")
g:edge("action_executor", og.END)
return g
