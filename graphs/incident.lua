-- graphs/incident.lua: the incident-response graph (issue 4).
--
--   slack_alert -> context_collector -> root_cause_analyzer -> action_planner
--     -> dry_run_actions (each action's tools dry-run: the impact reports)
--     -> human_decision (og.interrupt)
--          "1" | "2" | "3"  -> action_executor -> verify_recovery -> END
--          "manual"         -> END (who handles it, with the runbook)
--          "re_analyze"     -> context_collector (at most 3 times)
--          still open       -> human_decision (a refused answer or an
--                              escalation: the same question again)
--
-- Run it on an alert as the monitoring system sent it (input = "trigger"
-- below: a payload that is not an object of channels becomes the value of
-- the trigger channel; {"trigger": payload} works too):
--   opsgraph run graphs/incident.lua --config config/opsgraph.example.json \
--     --input @examples/alerts/am_black_friday_payment.json
--   opsgraph run graphs/incident.lua --input '{"service": "payment-service", "time": "2025-11-28T14:02:13Z"}'
--   opsgraph resume THREAD --value '"1"'
-- The channels are those of nodes/README.md ("The incident state").
local og = require("opsgraph")

local g = og.graph{ name = "incident", recursion_limit = 60, input = "trigger", state = {
  trigger = og.last(),
  alert = og.last(),
  context = og.last(),
  rca = og.last(),
  candidates = og.last(),
  plan = og.last(),
  dry_runs = og.last(),
  decision = og.last(),
  decision_request = og.last(),
  operator_hint = og.last(),
  operator_model = og.last(),
  re_analyses = og.last(0),
  execution = og.last(),
  verification = og.last(),
  timeline = og.append(),
}}

g:node("slack_alert", require("nodes.slack_alert"))
g:node("context_collector", require("nodes.context_collector"))
g:node("root_cause_analyzer", require("nodes.root_cause_analyzer"))
g:node("action_planner", require("nodes.action_planner"))
g:node("dry_run_actions", require("nodes.dry_run_actions"))
g:node("human_decision", require("nodes.human_decision"))
g:node("action_executor", require("nodes.action_executor"))
-- verify_recovery sends the run back to context_collector itself
-- (og.command goto) when the operator answers "re_analyze" to "not recovered"
g:node("verify_recovery", require("nodes.verify_recovery"), { destinations = { "context_collector" } })

g:edge(og.START, "slack_alert")
g:edge("slack_alert", "context_collector")
g:edge("context_collector", "root_cause_analyzer")
g:edge("root_cause_analyzer", "action_planner")
g:edge("action_planner", "dry_run_actions")
g:edge("dry_run_actions", "human_decision")

-- nodes/human_decision.lua writes decision_request.open = true when it asks
-- again, else the decision it took
g:route("human_decision", function(s)
  local req = s.decision_request
  if type(req) == "table" and req.open then return "human_decision" end
  local choice = type(s.decision) == "table" and s.decision.choice or nil
  if choice == "1" or choice == "2" or choice == "3" then return "action_executor" end
  if choice == "re_analyze" then return "context_collector" end
  return og.END
end, { "human_decision", "action_executor", "context_collector", og.END })

g:edge("action_executor", "verify_recovery")
g:edge("verify_recovery", og.END)
return g
