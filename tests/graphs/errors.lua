-- errors.lua: Lua errors inside nodes, by state.mode: error() with a
-- string, a runtime error (indexing nil) in a helper, error() with a table,
-- and bad return values or Commands.
local og = require("opsgraph")

local g = og.graph{ name = "errors", state = { mode = og.last("raise"), out = og.last() } }

local function helper(t)
  return t.missing.field -- @index
end

g:node("boom", function(s)
  if s.mode == "raise" then
    error("kaboom") -- @raise
  elseif s.mode == "index" then
    return { out = helper({}) }
  elseif s.mode == "table" then
    error({ code = 42 })
  elseif s.mode == "return_string" then
    return "not a table"
  elseif s.mode == "return_function" then
    return { out = function() end }
  elseif s.mode == "command_bad" then
    return og.command{ update = 5 }
  elseif s.mode == "command_field" then
    return og.command{ gotoo = "boom" }
  elseif s.mode == "command_ghost" then
    return og.command{ ["goto"] = "ghost" }
  end
  return { out = "fine" }
end)
g:edge(og.START, "boom")
return g
