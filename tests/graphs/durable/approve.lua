-- approve.lua: plan -> human (og.interrupt) -> exec, for the durable-thread tests.
local og = require("opsgraph")
local g = og.graph{ name = "approve", state = {
  plan = og.last(), decision = og.last(), log = og.append(), asked_at = og.last(), note = og.last(),
  key = og.last(),
}}
g:node("plan", function(s) return { plan = { "restart", "scale" }, log = { "plan" } } end)
g:node("human", function(s, ctx)
  local t = ctx.now()                -- journaled: the re-run sees the first time
  local key = ctx.random_id()        -- journaled too: the same key on the re-run
  local choice = og.interrupt({ question = "which action?", options = s.plan, key = key })
  return { decision = choice, log = { "human" }, asked_at = t, key = key }
end)
g:node("exec", function(s) return { log = { "exec " .. tostring(s.decision) } } end)
g:edge(og.START, "plan"); g:edge("plan", "human"); g:edge("human", "exec")
return g
