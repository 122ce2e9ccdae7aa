-- tests/nodes/planner/registry_test.lua: registry.load(ctx.config) on whatever
-- config the run was given; writes {ok, err, names} for tests/cli/nodes_planner.sh
-- (load errors: no config, tools not an object, a broken spec...).
local og = require("opsgraph")
local registry = require("nodes.lib.tool_registry")
local g = og.graph{ name = "registry_test", state = { ok = og.last(), err = og.last(), names = og.last() } }
g:node("load", function(_, ctx)
  local reg, err = registry.load(ctx.config)
  if not reg then return { ok = false, err = err } end
  return { ok = true, names = og.array(reg:names()) }
end)
g:edge(og.START, "load")
return g
