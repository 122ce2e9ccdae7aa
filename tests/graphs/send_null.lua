-- send_null.lua: Sends whose input is og.null or nil: the target node gets
-- nil as its first argument (not the state).
local og = require("opsgraph")

local g = og.graph{
  name = "send_null",
  state = { got = og.append(), x = og.last("state-x") },
}

g:node("fan", function(s)
  return { og.send("w", og.null), og.send("w"), og.send("w", { tag = "t" }), og.send("w", 7) }
end, { destinations = { "w" } })
g:node("w", function(input)
  local desc
  if input == nil then desc = "nil"
  elseif type(input) == "table" then desc = "table:" .. tostring(input.tag) .. ":" .. tostring(input.x)
  else desc = type(input) .. ":" .. tostring(input) end
  return { got = { desc } }
end)

g:edge(og.START, "fan")
return g
