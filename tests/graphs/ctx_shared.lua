-- ctx_shared.lua: a node changes its ctx (replaces ctx.json.encode, adds a
-- field). The next node's ctx must be unaffected: ctx is per call.
local og = require("opsgraph")

local g = og.graph{ name = "ctx_shared", state = { out = og.append() } }

g:node("a", function(s, ctx)
  pcall(function() ctx.json.encode = function() return "forged" end end)
  pcall(function() ctx.note = "left by a" end)
  return { out = { ctx.node .. "@" .. ctx.step } }
end)
g:node("b", function(s, ctx)
  return { out = { ctx.node .. "@" .. ctx.step, ctx.json.encode({ 1 }), tostring(ctx.note) } }
end)
g:edge(og.START, "a")
g:edge("a", "b")
return g
