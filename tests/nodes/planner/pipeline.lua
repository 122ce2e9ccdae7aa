-- tests/nodes/planner/pipeline.lua: root_cause_analyzer -> inject -> action_planner,
-- for tests/cli/nodes_planner.sh. Input: an examples/contexts fixture
-- ({alert, context, expect}) plus, optionally,
--   inject = {mode = "prepend" | "append" | "replace", candidates = [...]}
-- which the test node `inject` applies to the analyzer's candidates (a way to
-- feed the planner proposals with bad args or unknown tools).
-- Run from the repo root:
--   bin/opsgraph run tests/nodes/planner/pipeline.lua --db :memory: \
--     --config tests/nodes/planner/config.json \
--     --input @examples/contexts/black_friday_payment.json --output json
local og = require("opsgraph")

local g = og.graph{ name = "planner_pipeline", state = {
  alert = og.last(), context = og.last(), expect = og.last(), opts = og.last(), inject = og.last(),
  rca = og.last(), candidates = og.last(), plan = og.last(), timeline = og.append(),
} }

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end

g:node("root_cause_analyzer", require("nodes.root_cause_analyzer"))
g:node("inject", function(s)
  local inj = s.inject
  if type(inj) ~= "table" then return nil end
  local base = {}
  for i, c in ipairs(s.candidates or {}) do base[i] = copy(c) end
  local extra = {}
  for i, c in ipairs(inj.candidates or {}) do extra[i] = copy(c) end
  local out = {}
  if inj.mode == "replace" then out = extra
  elseif inj.mode == "append" then
    for _, c in ipairs(base) do out[#out + 1] = c end
    for _, c in ipairs(extra) do out[#out + 1] = c end
  else
    for _, c in ipairs(extra) do out[#out + 1] = c end
    for _, c in ipairs(base) do out[#out + 1] = c end
  end
  return { candidates = og.array(out) }
end)
g:node("action_planner", require("nodes.action_planner"))
g:edge(og.START, "root_cause_analyzer")
g:edge("root_cause_analyzer", "inject")
g:edge("inject", "action_planner")
return g
