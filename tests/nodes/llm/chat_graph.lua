-- tests/nodes/llm/chat_graph.lua: ctx.llm.chat called directly, for
-- tests/cli/llm_chain.sh. state.mode picks the calls; results go to state.r.
--   reload   two calls of role rca with a 2 s pause between them (the test
--            edits the config file during the pause)
--   has_role ctx.llm.has_role("rca") before and after a 2 s pause (the
--            test adds the role to the config file during the pause)
--   badrole  a role the config does not have
--   badinput input = 5 (raises)
--   unknown  an unknown option (raises)
--   model    the `model` option: a link of the chain, a model of a configured
--            provider, one that is neither
--   badmodel model = 5 (raises)
local og = require("opsgraph")
local g = og.graph{ name = "llm_chat", state = { mode = og.last(), r = og.merge() } }
local function brief(x)
  local outcomes = {}
  for _, a in ipairs(x.attempts or {}) do outcomes[#outcomes + 1] = a.model .. ":" .. a.outcome end
  return { ok = x.ok, model = x.model, error = x.error, outcomes = og.array(outcomes), warning = x.warning }
end
g:node("call", function(s, ctx)
  local r = {}
  if s.mode == "reload" then
    r.first = brief(ctx.llm.chat{ role = "rca", input = "pool at 98% on 10.1.2.3" })
    ctx.sleep(2000)
    r.second = brief(ctx.llm.chat{ role = "rca", input = "pool at 98% on 10.1.2.3" })
  elseif s.mode == "has_role" then
    r.before = ctx.llm.has_role("rca")
    ctx.sleep(2000)
    r.after = ctx.llm.has_role("rca")
    r.plan = ctx.llm.has_role("plan")
  elseif s.mode == "badrole" then
    r.bad = brief(ctx.llm.chat{ role = "nope", input = "x" })
  elseif s.mode == "badinput" then
    ctx.llm.chat{ role = "rca", input = 5 }
  elseif s.mode == "model" then
    r.link = brief(ctx.llm.chat{ role = "rca", input = "x", model = "ok" })
    r.prov = brief(ctx.llm.chat{ role = "rca", input = "x", model = "fake/invalid-json" })
    r.none = brief(ctx.llm.chat{ role = "rca", input = "x", model = "nosuch/ok" })
    r.bare = brief(ctx.llm.chat{ role = "rca", input = "x", model = "gpt-9" })
  elseif s.mode == "badmodel" then
    ctx.llm.chat{ role = "rca", input = "x", model = 5 }
  elseif s.mode == "unknown" then
    ctx.llm.chat{ role = "rca", input = "x", temperature = 1 }
  end
  return { r = r }
end)
g:edge(og.START, "call")
g:edge("call", og.END)
return g
