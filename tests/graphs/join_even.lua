-- join_even.lua: both sources of the join finish in the same step; the
-- join runs once, in the next step. A plain fan-in (edges p->k, q->k) also
-- runs once per step however many of its sources finished.
local og = require("opsgraph")

local g = og.graph{
  name = "join_even",
  state = { trail = og.append(), n = og.sum() },
}

local function visit(name)
  return function(s, ctx) return { trail = { name .. "@" .. ctx.step }, n = 1 } end
end

g:node("x", visit("x"))
g:node("p", visit("p"))
g:node("q", visit("q"))
g:node("j", visit("j"))
g:node("k", visit("k"))

g:edge(og.START, "x")
g:edge("x", "p")
g:edge("x", "q")
g:edge({ "p", "q" }, "j")
g:edge("p", "k")
g:edge("q", "k")
g:edge("j", og.END)
g:edge("k", og.END)
return g
