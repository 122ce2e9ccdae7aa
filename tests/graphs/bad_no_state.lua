-- bad_no_state.lua: og.graph without state (line 3).
local og = require("opsgraph")
local g = og.graph{ name = "bad_no_state" }
g:node("a", function(s) return {} end)
g:edge(og.START, "a")
return g
