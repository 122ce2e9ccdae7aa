-- pattern_budget.lua: pattern matching against the instruction budget, by
-- state.mode. The exponential and quadratic ones must end with the budget
-- error within the node's 1M instructions, whichever way the matcher is
-- reached (string.x, s:x method calls, pcall); "big" does real work on a
-- 1 MB string under the default budget and must succeed.
local og = require("opsgraph")

local g = og.graph{
  name = "pattern_budget",
  state = { mode = og.last("big"), n = og.last(300), out = og.last() },
}

local small = { instructions = 1000000 }
local function bad(s) return string.rep("a", s.n), string.rep("a*", 4) .. "b" end

g:node("find", function(s)
  local subj, pat = bad(s)
  return { out = tostring(string.find(subj, pat)) }
end, { budget = small })
g:node("method", function(s)
  local subj, pat = bad(s)
  return { out = tostring(subj:match(pat)) }
end, { budget = small })
g:node("gmatch", function(s)
  local subj, pat = bad(s)
  local n = 0
  for _ in subj:gmatch(pat) do n = n + 1 end
  return { out = n }
end, { budget = small })
g:node("gsub", function(s)
  local subj, pat = bad(s)
  return { out = (subj:gsub(pat, "x")) }
end, { budget = small })
g:node("swallow", function(s)
  -- catches the budget error and returns normally: still a budget failure
  local subj, pat = bad(s)
  local ok, err = pcall(string.find, subj, pat)
  return { out = tostring(ok) .. " " .. tostring(err) }
end, { budget = small })
g:node("swallow_loop", function(s)
  local subj, pat = bad(s)
  local caught = 0
  while true do
    if not pcall(string.match, subj, pat) then caught = caught + 1 end
  end
end, { budget = small })
g:node("balance", function(s)
  -- %b() from every '(' scans to the end: quadratic in the subject
  return { out = tostring(string.rep("(", 200000):find("%b()")) }
end, { budget = small })
g:node("backref", function(s)
  -- a back-reference compares ~n bytes at each of n positions
  local subj = string.rep("a", 100000)
  return { out = tostring(subj:find("(a+)%1b")) }
end, { budget = small })
g:node("plain", function(s)
  -- plain find: memcmp of a 50 kB needle at each of 1M positions
  local subj = string.rep("a", 1000000)
  return { out = tostring(subj:find(string.rep("a", 50000) .. "b", 1, true)) }
end, { budget = small })
g:node("gsub_fn", function(s)
  -- Lua code in a replacement function is budgeted by the hook as usual
  return { out = (("abc"):gsub("b", function() while true do end end)) }
end, { budget = small })
g:node("many", function(s)
  -- s.n cheap-looking calls: ~10 instructions of Lua each, ~1000 matcher
  -- steps each; one budget covers both
  local subj = string.rep("x", 1000) .. "42"
  local n = 0
  for i = 1, s.n do n = n + #subj:match("%d+") end
  return { out = n }
end, { budget = small })
g:node("big", function(s)
  -- 1 MB of log-like lines under the default budget (100M instructions)
  local line = "2024-01-15 12:00:00 INFO worker-7 handled request id=123 in 45ms\n"
  local text = string.rep(line, (1 << 20) // #line + 1)
  local squeezed, nspaces = text:gsub("%s+", " ")
  local words = 0
  for _ in text:gmatch("%a+") do words = words + 1 end
  local ids = 0
  for id in text:gmatch("id=(%d+)") do ids = ids + #id end
  local last = text:match(".*in (%d+)ms\n$")
  local total = 0
  text:gsub("in (%d+)ms", function(ms) total = total + tonumber(ms) end)
  local found = text:find("handled request id=123 in 46ms", 1, true)
  return { out = { len = #text, squeezed = #squeezed, nspaces = nspaces, words = words, ids = ids,
                   last = last, total = total, found = tostring(found) } }
end)

local modes = { "find", "method", "gmatch", "gsub", "swallow", "swallow_loop", "balance", "backref",
                "plain", "gsub_fn", "many", "big" }
g:route(og.START, function(s) return s.mode end, modes)
return g
