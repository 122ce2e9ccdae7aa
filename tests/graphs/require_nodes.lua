-- require_nodes.lua: require("nodes.greet") resolves under the project
-- root's nodes/ directory. The test sets the root to tests/graphs/proj.
local og = require("opsgraph")
local greet = require("nodes.greet")

local g = og.graph{ name = "require_nodes", state = { out = og.last() } }
g:node("hello", function(s) return { out = greet.hello("graph") } end)
g:edge(og.START, "hello")
return g
