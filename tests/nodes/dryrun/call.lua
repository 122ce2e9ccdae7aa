-- tests/nodes/dryrun/call.lua: one ctx.tools.dry_run call from the input
-- {name, args, opts}, its report in `report` (tests/cli/nodes_dryrun.sh).
local og = require("opsgraph")
local g = og.graph{ name = "dryrun_call", state = { name = og.last(), args = og.last(), opts = og.last(), report = og.last() } }
g:node("call", function(s, ctx)
  return { report = ctx.tools.dry_run(s.name, s.args, s.opts) }
end)
g:edge(og.START, "call")
g:edge("call", og.END)
return g
