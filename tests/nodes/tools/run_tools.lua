-- tests/nodes/tools/run_tools.lua: ctx.tools.run from a node (tests/cli/tools_ctx.sh).
-- state.mode picks the call; results go to state.r.
local og = require("opsgraph")
local g = og.graph{ name = "run_tools", state = { mode = og.last("ok"), r = og.merge() } }
g:node("call", function(s, ctx)
  local r = {}
  if s.mode == "ok" then
    local x = ctx.tools.run("echo_tool", { service = "api gateway; rm -rf /" })
    r.echo = { exit_code = x.exit_code, signal = x.signal, timed_out = x.timed_out, stdout = x.stdout,
               stderr = x.stderr, truncated = x.truncated, argv = x.argv, dur = math.type(x.duration_ms) }
    local f = ctx.tools.run("fail_tool", { code = 3 })
    r.fail = { exit_code = f.exit_code, stderr = f.stderr }
    local t = ctx.tools.run("slow_tool", { seconds = 30 })
    r.slow = { exit_code = t.exit_code, signal = t.signal, timed_out = t.timed_out, fast = t.duration_ms < 2500 }
    local m = ctx.tools.run("missing_cmd")
    r.missing = { exit_code = m.exit_code, stderr = m.stderr }
  elseif s.mode == "no_placeholder" then
    ctx.tools.run("echo_tool", {})
  elseif s.mode == "unknown" then
    ctx.tools.run("nope_tool", { service = "x" })
  elseif s.mode == "http_tool" then
    local x = ctx.tools.run("web_tool")
    r.http = { kind = x.kind, status = x.status, error_kind = x.error_kind, method = x.method, url = x.url }
  elseif s.mode == "bad_type" then
    ctx.tools.run("echo_tool", { service = { "x" } })
  elseif s.mode == "nul" then
    ctx.tools.run("echo_tool", { service = "a\0b" })
  end
  return { r = r }
end)
g:edge(og.START, "call")
return g
