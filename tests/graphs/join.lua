-- join.lua: fan-out then a join over uneven branches. a fans out to b1 and
-- c; b1 -> b2 is one step longer than c. The join j waits for b2 and c and
-- runs exactly once.
local og = require("opsgraph")

local g = og.graph{
  name = "join",
  state = {
    trail = og.append(),
    runs = og.merge(),
  },
}

local function visit(name)
  return function(s, ctx)
    return { trail = { name .. "@" .. ctx.step }, runs = { [name] = ((s.runs or {})[name] or 0) + 1 } }
  end
end

g:node("a", visit("a"))
g:node("b1", visit("b1"))
g:node("b2", visit("b2"))
g:node("c", visit("c"))
g:node("j", visit("j"))

g:edge(og.START, "a")
g:edge("a", "b1")
g:edge("a", "c")
g:edge("b1", "b2")
g:edge({ "b2", "c" }, "j")
g:edge("j", og.END)
return g
