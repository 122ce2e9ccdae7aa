-- bad_no_return.lua: builds a graph and forgets `return g`.
local og = require("opsgraph")
local g = og.graph{ name = "bad_no_return", state = { x = og.last() } }
g:node("a", function(s) return {} end)
g:edge(og.START, "a")
