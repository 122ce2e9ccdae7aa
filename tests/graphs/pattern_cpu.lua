-- pattern_cpu.lua: one string.find call whose backtracking grows as n^k
-- (k = 4 here). The matcher is C code, which the instruction hook never
-- sees, and it allocates nothing, so the memory cap does not bound it
-- either: the node's budget (1000 instructions) must still stop it.
-- At n = 60 the call does ~600k backtracking steps (a few ms); n = 300
-- takes minutes, and a longer subject never finishes.
local og = require("opsgraph")

local g = og.graph{ name = "pattern_cpu", state = { n = og.last(60), r = og.last() } }
g:node("match", function(s)
  local r = string.find(string.rep("a", s.n), string.rep("a*", 4) .. "b")
  return { r = tostring(r) }
end, { budget = { instructions = 1000 } })
g:edge(og.START, "match")
return g
