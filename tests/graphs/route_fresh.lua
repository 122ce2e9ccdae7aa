-- route_fresh.lua: p and q run in the same step. p's router sees the
-- snapshot plus p's own write (x) but not q's (y); the node after the
-- barrier sees both.
local og = require("opsgraph")

local g = og.graph{
  name = "route_fresh",
  state = { x = og.last(), y = og.last(), seen = og.append() },
}

g:node("p", function(s) return { x = "p" } end)
g:node("q", function(s) return { y = "q" } end)
g:node("after", function(s) return { seen = { "after x=" .. tostring(s.x) .. " y=" .. tostring(s.y) } } end)
g:edge(og.START, "p")
g:edge(og.START, "q")
g:route("p", function(s)
  return og.send("after_route", { x = s.x, y = s.y or "unseen" })
end, { "after_route" })
g:node("after_route", function(input) return { seen = { "route x=" .. input.x .. " y=" .. input.y } } end)
g:edge("q", "after")
return g
