-- writes.lua: malformed writes, chosen by state.mode. b and c run in the
-- same step; what they write depends on the mode:
--   "conflict" both write the og.last channel count
--   "unknown"  b writes a channel the graph does not declare
--   "append"   b writes a number to the og.append channel
--   "merge"    b writes a string to the og.merge channel
--   "sum"      b writes a string to the og.sum channel
--   "ok"       nothing wrong
local og = require("opsgraph")

local g = og.graph{
  name = "writes",
  state = {
    mode = og.last("ok"),
    count = og.last(0),
    items = og.append(),
    facts = og.merge(),
    total = og.sum(),
  },
}

local bad = {
  conflict = { count = 1 },
  unknown = { nope = 1 },
  append = { items = 5 },
  merge = { facts = "text" },
  sum = { total = "12" },
  ok = { items = { "b" } },
}

g:node("a", function(s) return { items = { "a" } } end)
g:node("b", function(s) return bad[s.mode] end)
g:node("c", function(s)
  if s.mode == "conflict" then return { count = 2 } end
  return { items = { "c" }, total = 1 }
end)
g:edge(og.START, "a")
g:edge("a", "b")
g:edge("a", "c")
return g
