-- tests/serve/graphs/approve.lua: the smallest incident shape for the server
-- tests: a trigger comes in, a person decides (og.interrupt, with fill_by so
-- the answer records who gave it), the decision is acted on.
local og = require("opsgraph")
local g = og.graph{ name = "approve", state = {
  trigger = og.last(), alert = og.last(), decision = og.last(), result = og.last(), log = og.append(),
}}
g:node("intake", function(s)
  local t = s.trigger or {}  -- an Alertmanager webhook, a Slack event_callback, or {text}
  return { alert = t.groupKey or (t.event and t.event.text) or t.text or "manual", log = { "intake" } }
end)
g:node("decide", function(s)
  local answer = og.interrupt({ question = "approve the action for " .. tostring(s.alert) .. "?",
                                options = { "yes", "no" }, fill_by = true })
  return { decision = answer, log = { "decide" } }
end)
g:node("act", function(s) return { result = "acted", log = { "act" } } end)
g:edge(og.START, "intake")
g:edge("intake", "decide")
g:edge("decide", "act")
g:edge("act", og.END)
return g
