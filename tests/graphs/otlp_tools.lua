-- otlp_tools.lua: a node that runs two registered tools (one exits 0, one
-- exits with state.code) and, with state.boom, a node that fails; for
-- tests/cli/otlp_export.sh (tool spans, error status).
local og = require("opsgraph")
local g = og.graph{ name = "otlp_tools", state = { code = og.last(3), boom = og.last(false), r = og.merge() } }
g:node("fix", function(s, ctx)
  local a = ctx.tools.run("echo_tool", { service = "api" })
  local b = ctx.tools.run("fail_tool", { code = s.code })
  return { r = { echo = a.exit_code, fail = b.exit_code } }
end)
g:node("check", function(s)
  if s.boom then error("the check failed on purpose") end
  return { r = { checked = true } }
end)
g:edge(og.START, "fix"); g:edge("fix", "check")
return g
