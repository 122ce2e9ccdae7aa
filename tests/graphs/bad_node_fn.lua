-- bad_node_fn.lua: g:node with a string where the function goes (line 5).
local og = require("opsgraph")
local g = og.graph{ name = "bad_node_fn", state = { x = og.last() } }
g:node("a", function(s) return {} end)
g:node("b", "not a function")
g:edge(og.START, "a")
return g
