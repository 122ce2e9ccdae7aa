-- send_map.lua: map-reduce with Sends. The START router sends 100 tasks
-- to `work`, each with its own input {i = i}; they all run in one
-- superstep and their writes are summed at the barrier: 1 + ... + 100.
local og = require("opsgraph")

local g = og.graph{
  name = "send_map",
  state = {
    n = og.last(100),
    total = og.sum(),
    tasks = og.sum(),
    steps = og.merge(),
    order = og.append(),
    final = og.last(),
  },
}

g:node("work", function(input, ctx)
  return { total = input.i, tasks = 1, steps = { ["step" .. ctx.step] = true }, order = { input.i } }
end)
g:node("reduce", function(s, ctx) return { final = s.total } end)

g:route(og.START, function(s)
  local sends = {}
  for i = 1, s.n do sends[#sends + 1] = og.send("work", { i = i }) end
  return sends
end, { "work" })
g:edge("work", "reduce")
g:edge("reduce", og.END)
return g
