-- send_mt.lua: the metatables of og.send and og.command objects are
-- reachable with getmetatable. An __index set on them runs when the engine
-- reads a missing field (a Send without input, a Command without update)
-- while it classifies the node's result, after the node returned. That
-- code must not run outside the node's budget: each hook spends 3e6
-- instructions against budgets of 1e5 (node) and 1e6 (test VM default).
-- `spent` records every hook that ran to completion; it must stay empty.
local og = require("opsgraph")

local spent = {}
local function hook(name)
  return function(t, k)
    local n = 0
    for i = 1, 3e6 do n = n + 1 end
    spent[#spent + 1] = name .. "." .. tostring(k)
    return nil
  end
end
pcall(function() getmetatable(og.send("b")).__index = hook("send") end)
pcall(function() getmetatable(og.command{}).__index = hook("command") end)

local g = og.graph{ name = "send_mt", state = { spent = og.append(), got = og.append() } }
local tight = { budget = { instructions = 100000 } }
g:node("a", function(s) return { og.send("b") } end, { destinations = { "b" }, budget = tight.budget })
g:node("b", function(input) return og.command{ ["goto"] = "c" } end, { destinations = { "c" }, budget = tight.budget })
g:node("c", function(s) return { spent = spent, got = { "c" } } end)
g:edge(og.START, "a")
return g
