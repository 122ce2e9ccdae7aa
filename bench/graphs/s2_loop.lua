-- s2_loop.lua: benchmark S2/S3, step overhead, as the peer's buildLoop():
-- one node `inc` (counter + 1) routed back to itself until counter >= 1000,
-- then END. 1000 supersteps; recursion_limit 1100 as the peer's recursionLimit.
local og = require("opsgraph")

local TARGET = 1000

local g = og.graph{ name = "s2_loop", state = { counter = og.last(0) }, recursion_limit = 1100 }
g:node("inc", function(s) return { counter = s.counter + 1 } end)
g:edge(og.START, "inc")
g:route("inc", function(s) return s.counter >= TARGET and og.END or "inc" end, { "inc", og.END })
return g
