-- tests/nodes/collector/log_templates_test.lua: nodes/lib/log_templates.lua on
-- lines of examples/fixtures/loki/*.json (given as input {lines = [[ts, line, labels]],
-- baseline = [...], samples = [strings]}); writes masks, parse results and the
-- clustered templates into the state for tests/cli/nodes_collector.sh.
local og = require("opsgraph")
local lt = require("nodes.lib.log_templates")
local g = og.graph{ name = "log_templates_test", state = {
  lines = og.last(), baseline = og.last(), samples = og.last(),
  masks = og.last(), parsed = og.last(), templates = og.last(), total = og.last(), distinct = og.last(),
}}
g:node("cluster", function(s, ctx)
  local masks, parsed = {}, {}
  for i, l in ipairs(s.samples or {}) do
    local p = lt.parse(l, nil, ctx.json.decode)
    masks[i] = lt.mask(p.message)
    parsed[i] = { message = p.message, level = lt.level(p.message, p.level) }
  end
  local base = lt.new(ctx.json.decode)
  for _, v in ipairs(s.baseline or {}) do base:add(v[2], math.floor(tonumber(v[1]) / 1e9), v[3]) end
  local c = lt.new(ctx.json.decode)
  for _, v in ipairs(s.lines or {}) do c:add(v[2], math.floor(tonumber(v[1]) / 1e9), v[3]) end
  local ts, distinct = c:result{ baseline = base, fmt_time = require("nodes.lib.time").format }
  return { masks = masks, parsed = parsed, templates = og.array(ts), total = c.total, distinct = distinct }
end)
g:edge(og.START, "cluster")
return g
