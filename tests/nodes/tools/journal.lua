-- tests/nodes/tools/journal.lua: a tool with an effect, then og.interrupt;
-- after resume the node re-runs but the tool must not (tests/cli/tools_ctx.sh).
local og = require("opsgraph")
local g = og.graph{ name = "tools_journal", state = { file = og.last(), out = og.last() } }
g:node("act", function(s, ctx)
  local x = ctx.tools.run("append_tool", { file = s.file })
  local answer = og.interrupt({ exit_code = x.exit_code })
  return { out = { exit_code = x.exit_code, argv = x.argv, answer = answer } }
end)
g:edge(og.START, "act")
return g
