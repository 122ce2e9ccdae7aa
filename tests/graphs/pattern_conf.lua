-- pattern_conf.lua: runs the conformance cases of pattern_cases.lua with the
-- sandbox's string library (lpattern.c's budgeted find/match/gmatch/gsub);
-- test_lua.c compares the lines with Lua's own string library.
local og = require("opsgraph")
local run = require("pattern_cases")

local g = og.graph{ name = "pattern_conf", state = { results = og.last() } }
g:node("cases", function(s)
  return { results = run(string) }
end)
g:edge(og.START, "cases")
return g
