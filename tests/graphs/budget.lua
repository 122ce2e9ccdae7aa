-- budget.lua: nodes that spend their budgets, chosen by state.mode through
-- the START router. Each must end with a budget error naming the node and
-- the budget; "ok" must still work afterwards in the same VM.
local og = require("opsgraph")

local g = og.graph{
  name = "budget",
  state = { mode = og.last("ok"), out = og.last(), caught = og.last() },
}

local small = { instructions = 200000, memory_mb = 8 }
local mem = { instructions = 1e9, memory_mb = 8 }  -- memory runs out first

-- instructions
g:node("spin", function(s) while true do end end, { budget = small })
g:node("spin_pcall", function(s)
  local caught = 0
  while true do
    local ok = pcall(function() while true do end end)
    if not ok then caught = caught + 1 end
  end
end, { budget = small })
g:node("spin_swallow", function(s)
  -- catches the budget error once and tries to return normally
  local ok, err = pcall(function() while true do end end)
  return { caught = tostring(err) }
end, { budget = small })

-- memory
g:node("grow", function(s)
  local t = {}
  for i = 1, 1e9 do t[i] = { i } end
end, { budget = mem })
g:node("bomb", function(s) return { out = #string.rep("x", 1 << 30) } end, { budget = mem })
g:node("bomb_concat", function(s)
  local x = "0123456789abcdef"
  while true do x = x .. x end
end, { budget = { memory_mb = 8 } })
g:node("grow_pcall", function(s)
  local caught = 0
  for round = 1, 5 do
    local ok = pcall(function()
      local t = {}
      while true do t[#t + 1] = string.rep("y", 1000) .. #t end
    end)
    if not ok then caught = caught + 1 end
  end
  return { caught = caught }
end, { budget = mem })
-- within budget: 4 MB of live data under an 8 MB cap, after the failures above
g:node("ok", function(s)
  local t = {}
  for i = 1, 4 do t[i] = string.rep(tostring(i), 1 << 20) end
  local n = 0
  for i = 1, 50000 do n = n + i end
  return { out = n + #t[4] }
end, { budget = small })

local modes = { "spin", "spin_pcall", "spin_swallow", "grow", "bomb", "bomb_concat", "grow_pcall", "ok" }
g:route(og.START, function(s) return s.mode end, modes)
return g
