-- check_unknown_edge.lua: an edge into a node that is never declared (line 6).
local og = require("opsgraph")
local g = og.graph{ name = "check_unknown_edge", state = { x = og.last() } }
g:node("a", function(s) return {} end)
g:edge(og.START, "a")
g:edge("a", "ghost")
return g
