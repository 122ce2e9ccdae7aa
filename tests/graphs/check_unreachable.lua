-- check_unreachable.lua: node "island" (line 6) has no way in.
local og = require("opsgraph")
local g = og.graph{ name = "check_unreachable", state = { x = og.last() } }
g:node("a", function(s) return {} end)
g:edge(og.START, "a")
g:node("island", function(s) return {} end)
g:edge("island", og.END)
return g
