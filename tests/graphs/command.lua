-- command.lua: og.command{update=, goto=} from nodes. a jumps to b with a
-- string goto; b fans out to c and d with a list (spelled go_to); c sends
-- to e with og.send inside goto; d goes to END with an update only.
local og = require("opsgraph")

local g = og.graph{
  name = "command",
  state = { trail = og.append(), x = og.last(0), via = og.merge() },
}

g:node("a", function(s)
  return og.command{ update = { x = s.x + 1, trail = { "a" } }, ["goto"] = "b" }
end, { destinations = { "b" } })
g:node("b", function(s)
  return og.command{ update = { trail = { "b x=" .. s.x } }, go_to = { "c", "d" } }
end, { destinations = { "c", "d" } })
g:node("c", function(s)
  return og.command{ update = { trail = { "c" } }, ["goto"] = og.send("e", { from = "c" }) }
end, { destinations = { "e" } })
g:node("d", function(s)
  return og.command{ update = { trail = { "d" } }, ["goto"] = og.END }
end)
g:node("e", function(input)
  return og.command{ update = { trail = { "e" }, via = { e = input.from } } }
end)

g:edge(og.START, "a")
return g
