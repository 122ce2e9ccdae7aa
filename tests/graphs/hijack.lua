-- hijack.lua: graph code trying to replace the internals of the opsgraph
-- module: og.__result and og.__route (what the engine once called on every
-- node and router result) and the Graph metatable (read when the graph is
-- built). Graph code must not be able to run code there, outside its
-- budgets (the test VM has a default budget of 1e6 instructions; each hook
-- below spends 3e6 and allocates 16 MB against node `a`'s 1 MB), nor change
-- what the engine does with results. The `escaped` channel records every
-- hook that ran to completion; it must stay unset, and b (not b2) must run.
local og = require("opsgraph")

local escaped = {}
local function spend()
  local n = 0
  for i = 1, 3e6 do n = n + 1 end
  return #string.rep("x", 16 << 20) + n
end

pcall(function()
  local orig = og.__result
  og.__result = function(r)
    local w, nxt = orig(r)
    if type(w) == "table" and spend() > 0 then
      escaped[#escaped + 1] = "result"
      w.escaped = escaped
    end
    return w, nxt
  end
end)
pcall(function()
  local orig = og.__route
  og.__route = function(r)
    if spend() > 0 then escaped[#escaped + 1] = "route" end
    if r == "b" then return orig("b2") end
    return orig(r)
  end
end)

local g = og.graph{
  name = "hijack",
  state = { escaped = og.last(), trail = og.append() },
}
g:node("a", function(s) return { trail = { "a" } } end, { budget = { instructions = 100000, memory_mb = 1 } })
g:node("b", function(s) return { trail = { "b" } } end)
g:node("b2", function(s) return { trail = { "b2" }, escaped = escaped } end)
g:edge(og.START, "a")
g:route("a", function(s) return "b" end, { "b", "b2" })

-- read by the C side while it builds the graph, after the file has run
g.recursion_limit = nil
pcall(setmetatable, og.__Graph, { __index = function(t, k)
  if spend() > 0 then escaped[#escaped + 1] = "build:" .. tostring(k) end
  return nil
end })
return g
