-- barrier.lua: b and c run in the same superstep and must both see the
-- snapshot a left (count = 1), not each other's writes. Nodes are declared
-- c before b, and the edges a->b before a->c: writes land in node
-- declaration order, so the log reads c then b whatever the edge order.
local og = require("opsgraph")

local g = og.graph{
  name = "barrier",
  state = {
    count = og.last(0),
    log = og.append(),
    seen = og.merge(),
  },
}

g:node("a", function(s) return { count = s.count + 1, log = { "a" } } end)
g:node("c", function(s)
  return { log = { "c saw " .. s.count }, seen = { c = s.count } }
end)
g:node("b", function(s)
  return { count = s.count + 10, log = { "b saw " .. s.count }, seen = { b = s.count } }
end)
g:node("z", function(s) return { log = { "z saw " .. s.count } } end)

g:edge(og.START, "a")
g:edge("a", "b")
g:edge("a", "c")
g:edge("b", "z")
g:edge("c", "z")
g:edge("z", og.END)
return g
