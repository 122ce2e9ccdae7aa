-- graphs/demo.lua: the README's example graph: a loop of a fan-out and a join.
local og = require("opsgraph")
local g = og.graph{ name = "demo", state = {
  count = og.last(0),      -- last value wins
  log   = og.append(),     -- list concatenation
  facts = og.merge(),      -- shallow object merge
  total = og.sum(0),       -- numeric addition
  best  = og.reducer(function(old, new) return math.max(old or 0, new) end, 0),
}}
g:node("a", function(state, ctx) return { count = state.count + 1, log = {"a"} } end)
g:node("b", require("nodes.example"))
g:node("c", function(state) return { log = {"c"}, total = state.count, best = state.count * 10 } end,
       { retry = { max_attempts = 3, backoff_ms = 50 }, budget = { instructions = 1e7, memory_mb = 64 } })
g:node("d", function(state) return { log = {"d"} } end)
g:edge(og.START, "a")
g:edge("a", "b"); g:edge("a", "c")               -- fan-out: b and c run in the same superstep
g:edge({"b", "c"}, "d")                          -- join: d runs once, after both finished
g:route("d", function(s) return s.count < 3 and "a" or og.END end, {"a", og.END})
return g
