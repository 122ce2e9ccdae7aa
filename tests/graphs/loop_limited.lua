-- loop_limited.lua: like loop.lua, with the limit set by the graph. Two
-- nodes run in every step so that the message lists both as next nodes.
local og = require("opsgraph")

local g = og.graph{
  name = "loop_limited",
  recursion_limit = 3,
  state = { ping = og.sum(), pong = og.sum() },
}

g:node("ping", function(s) return { ping = 1 } end)
g:node("pong", function(s) return { pong = 1 } end)
g:edge(og.START, "ping")
g:edge(og.START, "pong")
g:edge("ping", "ping")
g:edge("pong", "pong")
return g
