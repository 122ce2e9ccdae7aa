-- check_route_no_targets.lua: a route without its targets list (line 7).
local og = require("opsgraph")
local g = og.graph{ name = "check_route_no_targets", state = { x = og.last() } }
g:node("a", function(s) return {} end)
g:node("b", function(s) return {} end)
g:edge(og.START, "a")
g:route("a", function(s) return "b" end)
return g
