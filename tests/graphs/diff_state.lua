-- diff_state.lua: collect -> analyze -> act over a nested state (objects in
-- arrays in objects), for tests/cli/state_diff.sh and the postmortem page.
local og = require("opsgraph")
local g = og.graph{ name = "diff_state", state = {
  service = og.last(), stage = og.last(), context = og.last(), rca = og.last(), plan = og.last(), log = og.append(),
}}
g:node("collect", function(s)
  return { context = { metrics = { { name = "p99_ms", value = 120 }, { name = "errors", value = 3 } },
                       labels = { env = "prod" } },
           stage = "collected", log = { "collect" } }
end)
g:node("analyze", function(s)
  local cause = s.context.metrics[1].value > 100 and "slow database" or "none"
  return { rca = { cause = cause, confidence = 0.8 }, stage = "analyzed", log = { "analyze" } }
end)
g:node("act", function(s)
  local plan = { "restart " .. s.service }
  if s.rca.cause == "slow database" then plan[#plan + 1] = "scale db" end
  return { plan = plan, stage = "acted", log = { "act" } }
end)
g:edge(og.START, "collect"); g:edge("collect", "analyze"); g:edge("analyze", "act")
return g
