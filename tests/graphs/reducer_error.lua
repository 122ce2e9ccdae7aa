-- reducer_error.lua: a custom reducer that fails at the barrier, by
-- state.mode: "raise" raises, "spin" never returns (the default budget
-- stops it), "ok" concatenates. x and b run in the same step and x is
-- declared first, so its writes (log, count) reach the barrier before b's
-- write to acc fails: a failed step must leave the state as it was.
local og = require("opsgraph")

local g = og.graph{
  name = "reducer_error",
  state = {
    mode = og.last("ok"),
    log = og.append(),
    count = og.last(0),
    acc = og.reducer(function(old, new)
      if new == "raise" then error("reducer refuses " .. new) end -- @reducer
      if new == "spin" then while true do end end
      return (old or "") .. new
    end),
  },
}

g:node("a", function(s) return { acc = "a" } end)
g:node("x", function(s) return { log = { "x" }, count = 99 } end)
g:node("b", function(s) return { acc = s.mode } end)
g:edge(og.START, "a")
g:edge("a", "x")
g:edge("a", "b")
return g
