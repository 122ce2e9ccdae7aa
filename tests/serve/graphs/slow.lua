-- tests/serve/graphs/slow.lua: three steps of 700 ms each, so a SIGTERM
-- arrives while a run is in progress.
local og = require("opsgraph")
local g = og.graph{ name = "slow", state = { n = og.sum(0) } }
for _, name in ipairs({ "one", "two", "three" }) do
  g:node(name, function(s, ctx) ctx.sleep(700); return { n = 1 } end)
end
g:edge(og.START, "one")
g:edge("one", "two")
g:edge("two", "three")
g:edge("three", og.END)
return g
