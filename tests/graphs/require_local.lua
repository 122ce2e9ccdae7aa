-- require_local.lua: modules from the graph's own directory. The same
-- module required twice (and under graphs.* from the guessed project root,
-- which is tests/ here) runs once: the same table comes back.
local og = require("opsgraph")
local h = require("helper_mod")
local h2 = require("helper_mod")

local g = og.graph{
  name = "require_local",
  state = { out = og.last(), same = og.last(), bad = og.last(false) },
}

g:node("use", function(s)
  local out = { out = h.shout("hi"), same = (h == h2) and (h == require("graphs.helper_mod")) }
  if s.bad then require("bad_mod") end
  return out
end)
g:edge(og.START, "use")
return g
