-- tests/nodes/dryrun/journal.lua: ctx.tools.dry_run is journaled: the node
-- dry-runs, asks, and after the answer re-runs from the top; the report it
-- gets the second time is the recorded one (tests/cli/nodes_dryrun.sh).
local og = require("opsgraph")
local g = og.graph{ name = "dryrun_journal", state = { first = og.last(), second = og.last() } }
g:node("twice", function(s, ctx)
  local r = ctx.tools.dry_run("wipe", { dir = s.first })
  local ans = og.interrupt{ kind = "check", cgroup_id = r.cgroup_id, verdict = r.verdict }
  return { second = { report = r, answer = ans } }
end)
g:edge(og.START, "twice")
g:edge("twice", og.END)
return g
