-- steps.lua: a counter loop, for breakpoints, fork and replay.
local og = require("opsgraph")
local g = og.graph{ name = "steps", state = { n = og.last(0), trail = og.append() } }
g:node("inc", function(s) return { n = s.n + 1, trail = { "inc" .. (s.n + 1) } } end)
g:node("fin", function(s) return { trail = { "fin" } } end)
g:edge(og.START, "inc")
g:route("inc", function(s) return s.n < 3 and "inc" or "fin" end, { "inc", "fin" })
g:edge("fin", og.END)
return g
