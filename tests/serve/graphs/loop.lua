-- tests/serve/graphs/loop.lua: 600 one-step supersteps, more checkpoints
-- than an event stream reads at once, so a late subscriber's catch-up has
-- to page through them.
local og = require("opsgraph")
local g = og.graph{ name = "loop", recursion_limit = 1000, state = { i = og.sum(0) } }
g:node("inc", function() return { i = 1 } end)
g:edge(og.START, "inc")
g:route("inc", function(s) return s.i < 600 and "inc" or og.END end, { "inc", og.END })
return g
