-- og_readonly.lua: the opsgraph module graph code gets is read-only and
-- keeps its metatable to itself; what it offers still works.
local og = require("opsgraph")

local ok, err = pcall(function() og.last = function() end end)

local g = og.graph{
  name = "og_readonly",
  state = { set = og.last(tostring(err)), mt = og.last(tostring(getmetatable(og))), last_ok = og.last(not ok) },
}
g:node("a", function(s) return {} end)
g:edge(og.START, "a")
return g
