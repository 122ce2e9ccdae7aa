-- og.graph{input = ...} must name a declared channel
local og = require("opsgraph")
local g = og.graph{ name = "bad_input", input = "payload", state = { trigger = og.last() } }
g:node("a", function() return {} end)
g:edge(og.START, "a")
return g
