-- gc_finalizer.lua: a __gc finalizer set by node code. Lua 5.4 turns debug
-- hooks off while finalizers run, so the instruction budget cannot stop
-- one: the sandbox must not let graph code set __gc. The finalizer spends
-- 2e7 instructions (node budgets: 1e5 for `a`, 1e7 for `b`, which makes
-- garbage until the collector has run it); `fin` records that it ran.
local og = require("opsgraph")

local ran = false
local g = og.graph{ name = "gc_finalizer", state = { fin = og.last(false), set = og.last() } }

g:node("a", function(s)
  local ok, err = pcall(setmetatable, {}, { __gc = function()
    local n = 0
    for i = 1, 2e7 do n = n + 1 end
    ran = true
  end })
  return { set = ok and "accepted" or tostring(err) }
end, { budget = { instructions = 100000 } })
g:node("b", function(s)
  for i = 1, 200000 do
    local t = { i, i, i }
    if ran then break end
  end
  return { fin = ran }
end, { budget = { instructions = 1e7 } })
g:edge(og.START, "a")
g:edge("a", "b")
return g
