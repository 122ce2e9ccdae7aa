-- approve.lua: plan -> human (og.interrupt) -> exec, for the durable-thread tests.
local og = require("opsgraph")
local g = og.graph{ name = "approve", state = {
  plan = og.last(), decision = og.last(), log = og.append(), asked_at = og.last(), note = og.last(),
}}
g:node("plan", function(s) return { plan = { "restart", "scale" }, log = { "plan" } } end)
g:node("human", function(s, ctx)
  local t = ctx.now()                -- journaled: the re-run sees the first time
  local choice = og.interrupt({ question = "which action?", options = s.plan })
  return { decision = choice, log = { "human" }, asked_at = t }
end)
g:node("exec", function(s) return { log = { "exec " .. tostring(s.decision) } } end)
g:edge(og.START, "plan"); g:edge("plan", "human"); g:edge("human", "exec")
return g
