-- route.lua: conditional routing. The router of `pick` reads state.mode:
--   "list"  -> {"b", "c"} (both run in parallel in the next step)
--   "end"   -> og.END
--   "one"   -> "b"
--   "stray" -> "c_only" (a node, but not among the declared targets)
--   "ghost" -> "nobody" (not a node at all)
--   "number" -> 42 (not a name)
--   "dup"   -> {"b", "b", "c", "b"} (b still runs once)
-- The router sees the snapshot plus pick's own writes (picked = true).
local og = require("opsgraph")

local g = og.graph{
  name = "route",
  state = { mode = og.last("list"), picked = og.last(false), trail = og.append() },
}

g:node("pick", function(s) return { picked = true, trail = { "pick" } } end)
g:node("b", function(s) return { trail = { "b" } } end)
g:node("c", function(s) return { trail = { "c" } } end)
g:node("c_only", function(s) return { trail = { "c_only" } } end)

g:edge(og.START, "pick")
g:route("pick", function(s) -- @route
  if not s.picked then return "b" end
  if s.mode == "list" then return { "b", "c" } end
  if s.mode == "end" then return og.END end
  if s.mode == "one" then return "b" end
  if s.mode == "stray" then return "c_only" end
  if s.mode == "ghost" then return "nobody" end
  if s.mode == "number" then return 42 end
  if s.mode == "dup" then return { "b", "b", "c", "b" } end
  error("unknown mode " .. tostring(s.mode))
end, { "b", "c", og.END })
g:edge("c", "c_only")
return g
