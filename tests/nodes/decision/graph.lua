-- tests/nodes/decision/graph.lua: nodes/human_decision.lua in a small graph
-- of its own (tests/cli/nodes_decision.sh), without the collectors.
--
--   plan -> human_decision -> "1".."3": act -> END | manual: END
--                             re_analyze: plan (a new plan, so a new hash)
--                             still open: human_decision (refused / escalated)
--
-- `plan` writes the alert, an rca and a plan of state.n_actions (default 3)
-- actions; its hash depends on state.re_analyses, as a real re-analysis may
-- give another plan. `act` records which action ran.
local og = require("opsgraph")

local g = og.graph{ name = "decision_test", state = {
  alert = og.last(), rca = og.last(), plan = og.last(), n_actions = og.last(3),
  decision = og.last(), decision_request = og.last(), operator_hint = og.last(),
  re_analyses = og.last(0), executed = og.last(), plans_made = og.sum(0),
  timeline = og.append(),
}}

g:node("plan", function(state)
  local actions = {}
  for i = 1, state.n_actions do
    actions[i] = { id = tostring(i), title = "action " .. i, description = "does thing " .. i,
      risk = i == 3 and "high" or "low", eta = 30 * i,
      tools = og.array{ { name = "restart_service", args = { service = "payment-service" } } } }
  end
  return {
    alert = { service = "payment-service", severity = "critical", summary = "pool exhausted" },
    rca = { root_cause = "DB connection pool exhausted", confidence = 0.8, analyzer = "builtin",
            impact = "checkout fails", evidence = og.array{ "pool 98%", "timeouts x4100" } },
    plan = { actions = og.array(actions), notes = og.array{},
             hash = ("fnv1a64:%016x"):format(1000 + (state.re_analyses or 0)) },
    plans_made = 1,
  }
end)
g:node("human_decision", require("nodes.human_decision"))
g:node("act", function(state) return { executed = state.decision.choice } end)

g:edge(og.START, "plan")
g:edge("plan", "human_decision")
g:route("human_decision", function(s)
  if type(s.decision_request) == "table" and s.decision_request.open then return "human_decision" end
  local c = s.decision and s.decision.choice
  if c == "1" or c == "2" or c == "3" then return "act" end
  if c == "re_analyze" then return "plan" end
  return og.END
end, { "human_decision", "act", "plan", og.END })
g:edge("act", og.END)
return g
