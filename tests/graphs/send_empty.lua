-- send_empty.lua: map-reduce over state.items where the list may be
-- empty. The START router returns one Send per item (possibly none), and
-- `collect` sends on with a Command whose goto list may also be empty.
local og = require("opsgraph")

local g = og.graph{
  name = "send_empty",
  state = { items = og.append(), total = og.sum(), done = og.append() },
}

g:node("work", function(input) return { total = input } end)
g:node("collect", function(s)
  local sends = {}
  for _, v in ipairs(s.items) do sends[#sends + 1] = og.send("work", v * 100) end
  return og.command{ update = { done = { "collect" } }, ["goto"] = sends }
end, { destinations = { "work" } })

g:edge(og.START, "collect")
g:route(og.START, function(s)
  local sends = {}
  for _, v in ipairs(s.items) do sends[#sends + 1] = og.send("work", v) end
  return sends
end, { "work" })
return g
