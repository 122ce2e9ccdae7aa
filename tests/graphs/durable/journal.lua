-- journal.lua: a node whose output depends on side-effecting ctx calls,
-- for replay with and without the recorded answers.
local og = require("opsgraph")
local g = og.graph{ name = "journal", state = { start = og.last(), key = og.last(), at = og.last() } }
g:node("start", function(s) return { start = "x" } end)
g:node("draw", function(s, ctx) return { key = ctx.random_id(), at = ctx.now() } end)
g:edge(og.START, "start"); g:edge("start", "draw")
return g
