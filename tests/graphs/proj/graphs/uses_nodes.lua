-- proj/graphs/uses_nodes.lua: a graph under <root>/graphs/; the project
-- root is guessed as its parent, so require("nodes.greet") finds
-- proj/nodes/greet.lua without configuration.
local og = require("opsgraph")
local greet = require("nodes.greet")

local g = og.graph{ name = "uses_nodes", state = { out = og.last() } }
g:node("hello", function(s) return { out = greet.hello("root") } end)
g:edge(og.START, "hello")
return g
