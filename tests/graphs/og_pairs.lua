-- og_pairs.lua: iterating the read-only opsgraph module works, but must not
-- hand out the module's own table: writes through what pairs(og) returns
-- would change the engine (og.null is what a nil Send input becomes).
local og = require("opsgraph")

local f, state = pairs(og)
local names = {}
for k in pairs(og) do names[#names + 1] = k end
table.sort(names)
pcall(function() if type(state) == "table" then state.null = "NOT NULL" end end)

local g = og.graph{
  name = "og_pairs",
  state = { got = og.append(), state_type = og.last(type(state)), has_send = og.last(false) },
}
g:node("a", function(s) return { og.send("b") } end, { destinations = { "b" } })
g:node("b", function(input) return { got = { tostring(input) } } end)
g:node("c", function(s)
  local has = false
  for _, n in ipairs(names) do has = has or n == "send" end
  return { has_send = has }
end)
g:edge(og.START, "a")
g:edge(og.START, "c")
return g
