-- og.graph{input = "trigger"}: a payload that is not an object of channels
-- goes into channel trigger; node a copies what it saw
local og = require("opsgraph")
local g = og.graph{ name = "input_channel", input = "trigger",
  state = { trigger = og.last(), seen = og.last(), n = og.sum(0) } }
g:node("a", function(s) return { seen = s.trigger, n = 1 } end)
g:edge(og.START, "a")
g:edge("a", og.END)
return g
