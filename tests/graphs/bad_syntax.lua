-- bad_syntax.lua: a syntax error on line 4.
local og = require("opsgraph")
local g = og.graph{ name = "bad_syntax", state = { x = og.last() } }
g:node("a", function(s) return { x = 1 end)
return g
