-- loop.lua: a node that routes back to itself until count reaches
-- state.stop (never, by default): the recursion limit ends the run.
local og = require("opsgraph")

local g = og.graph{
  name = "loop",
  state = { count = og.last(0), stop = og.last(-1) },
}

g:node("tick", function(s) return { count = s.count + 1 } end)
g:edge(og.START, "tick")
g:route("tick", function(s)
  if s.count == s.stop then return og.END end
  return "tick"
end, { "tick", og.END })
return g
