-- reducers.lua: every built-in reducer plus a custom one (og.reducer).
-- b and c run in parallel (one superstep) and both write every combining
-- channel; a and d write the og.last channel alone.
local og = require("opsgraph")

local function keep_max(old, new)
  if old == nil or new > old then return new end
  return old
end

local g = og.graph{
  name = "reducers",
  state = {
    last  = og.last("init"),
    items = og.append({ "seed" }),
    facts = og.merge({ k0 = 0 }),
    total = og.sum(10),
    best  = og.reducer(keep_max, 3),
    words = og.reducer(function(old, new) return (old or "") .. new end),
  },
}

g:node("a", function(s) return { last = "from-a", items = { "a" }, total = 1, best = 2, words = "a" } end)
g:node("b", function(s) return { items = { "b1", "b2" }, facts = { kb = 1, k0 = "b" }, total = 2.5, best = 7, words = "b" } end)
g:node("c", function(s) return { items = { "c" }, facts = { kc = { nested = true } }, total = -1, best = 5, words = "c" } end)
g:node("d", function(s) return { last = s.last .. "+d", items = og.array{}, facts = {} } end)

g:edge(og.START, "a")
g:edge("a", "b")
g:edge("a", "c")
g:edge({ "b", "c" }, "d")
g:edge("d", og.END)
return g
