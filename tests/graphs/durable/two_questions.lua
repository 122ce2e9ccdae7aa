-- two_questions.lua: one node asks twice; parallel nodes ask at once.
local og = require("opsgraph")
local g = og.graph{ name = "two_questions", state = { answers = og.append() } }
g:node("ask", function(s)
  local a = og.interrupt("first?")
  local b = og.interrupt("second?")
  return { answers = { "ask:" .. a .. "," .. b } }
end)
g:node("left", function(s) return { answers = { "left:" .. og.interrupt("left?") } } end)
g:node("right", function(s) return { answers = { "right:" .. og.interrupt("right?") } } end)
g:edge(og.START, "ask"); g:edge("ask", "left"); g:edge("ask", "right")
return g
