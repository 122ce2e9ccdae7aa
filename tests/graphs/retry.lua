-- retry.lua: `flaky` fails on its first two attempts and succeeds on the
-- third (max_attempts = 3); `doomed` always fails (max_attempts = 2).
-- The failure count is an upvalue: writes of a failed attempt never land.
-- backoff_ms = 0 keeps the test fast.
local og = require("opsgraph")

local g = og.graph{
  name = "retry",
  state = { doom = og.last(false), attempts = og.append(), failures = og.last(0) },
}

local failures = 0
g:node("flaky", function(s, ctx)
  if failures < 2 then
    failures = failures + 1
    error("flaky failure #" .. failures)
  end
  return { attempts = { ctx.attempt }, failures = failures }
end, { retry = { max_attempts = 3, backoff_ms = 0 } })
g:node("doomed", function(s, ctx)
  error("doomed attempt " .. ctx.attempt)
end, { retry = { max_attempts = 2, backoff_ms = 0 } })

g:edge(og.START, "flaky")
g:route("flaky", function(s) return s.doom and "doomed" or og.END end, { "doomed", og.END })
return g
