-- nodes/action_executor.lua: runs the action the operator chose (issue 4).
--
-- Contract (graphs/incident.lua: human_decision -> action_executor -> verify_recovery)
--   reads   state.plan {actions[{id, title, tools[{name, args, continue_on_failure?}]}], hash}
--           state.decision {choice "1"|"2"|"3", plan_hash?, by?}
--           state.alert.service (for the summary only)
--           ctx.config.tools (the registry, nodes/lib/tool_registry.lua)
--   writes  execution = {
--             action_id, title, status, started_at, ended_at, by?,
--             results[{tool, args, kind, status, exit_code|http_status, stdout, stderr | body,
--                      started_at, ended_at, duration_ms, timed_out, error?, ...}],
--             undo[{tool, args, of}]   the undo calls of the tools that acted, newest first
--                                      (verify_recovery's "rollback" runs them)
--             errors[]                 why nothing ran (status "rejected")
--             summary, notified {via, at}
--           }
--           timeline: execution_started, tool_<status> (one per tool), execution_finished
--   raises  og.interrupt{kind = "effect_unknown", tool, args, started_at, action_id, question,
--           options = {"rerun", "skip"}} through nodes/lib/tool_exec.lua, when the process
--           died while a non-idempotent tool ran (the effect ledger, engine/lua/lapi_tools.c)
--   accepts "rerun" | "skip" (or {answer|choice = ...}) for that interrupt
--
-- execution.status:
--   succeeded  every tool succeeded
--   failed     a tool failed or timed out and the chain stopped there; the
--              tools after it are listed with status "not_run"
--   partial    the chain ran to its end, but a tool marked continue_on_failure
--              failed, or the operator skipped a tool of unknown outcome
--   rejected   nothing ran: the decision names no action of the plan, the
--              decision was taken on another plan (plan_hash), the registry
--              does not load, or a tool's args are not valid against its
--              params (all checked before the first tool runs, so a bad
--              third tool does not leave the first two applied)
--   skipped    the decision is not an action ("manual", "re_analyze"): the
--              graph does not route here then; recorded if it does anyway
-- A tool that fails is a result, not an error: the node always writes
-- `execution`. Tool output is kept bounded (the last 4 KiB per stream,
-- nodes/lib/tool_exec.lua; ctx.tools.run already caps it at 64 KiB).
--
-- Notification: the summary goes to ctx.log (info, or warn when the action
-- did not succeed) and into execution.summary; execution.notified says
-- {via = "log"}. Posting it to Slack is a later issue's job; the Slack
-- notifier will read execution.summary.
local og = require("opsgraph")
local registry = require("nodes.lib.tool_registry")
local tool_exec = require("nodes.lib.tool_exec")

local ACTION_IDS = { ["1"] = true, ["2"] = true, ["3"] = true }

local copy = registry.copy

local function str(v) return type(v) == "string" and v ~= "" and v or nil end

local function timeline(ctx, event, detail)
  return { at = tool_exec.iso(ctx), node = ctx.node, event = event, detail = detail }
end

-- the chosen action and its checked tool list, or nil and the reasons
local function pick_action(state, reg)
  local plan = type(state.plan) == "table" and state.plan or {}
  local decision = type(state.decision) == "table" and state.decision or {}
  local choice = decision.choice
  if math.type(choice) == "integer" then choice = tostring(choice) end
  local errs = {}
  local action
  for _, a in ipairs(type(plan.actions) == "table" and plan.actions or {}) do
    if type(a) == "table" and tostring(a.id) == choice then action = a; break end
  end
  if not action then
    errs[#errs + 1] = ("decision.choice %q names no action of the plan (plan.actions has %d); "
      .. "nothing was run"):format(tostring(choice), type(plan.actions) == "table" and #plan.actions or 0)
    return nil, errs
  end
  if str(decision.plan_hash) and str(plan.hash) and decision.plan_hash ~= plan.hash then
    errs[#errs + 1] = ("the decision was taken on plan %s but the plan is now %s (re-analysis or fork); "
      .. "nothing was run: decide again on the current plan"):format(decision.plan_hash, plan.hash)
    return nil, errs, action
  end
  local tools = type(action.tools) == "table" and action.tools or {}
  if #tools == 0 then
    errs[#errs + 1] = ("action %s has no tools to run"):format(choice)
  end
  if not reg then return nil, errs, action end
  for i, t in ipairs(tools) do
    local name = type(t) == "table" and t.name or nil
    local spec, err = reg:get(name)
    if not spec then
      errs[#errs + 1] = ("action %s tool %d: %s"):format(choice, i, err)
    else
      local ok, verrs = reg:validate_args(name, t.args or {})
      if not ok then
        errs[#errs + 1] = ("action %s tool %d (%s): args are not valid against its params: %s"):format(
          choice, i, name, table.concat(verrs, "; "))
      end
    end
    if type(t) == "table" and t.continue_on_failure ~= nil and type(t.continue_on_failure) ~= "boolean" then
      errs[#errs + 1] = ("action %s tool %d: continue_on_failure must be true or false"):format(choice, i)
    end
  end
  if #errs > 0 then return nil, errs, action end
  return action, nil
end

local function fmt_ms(ms)
  if type(ms) ~= "number" then return "?" end
  if ms < 1000 then return ("%d ms"):format(math.floor(ms)) end
  return ("%.1f s"):format(ms / 1000)
end

local function summarize(service, ex)
  local parts = {}
  for _, r in ipairs(ex.results) do
    local what = r.status
    if r.status ~= "succeeded" and r.status ~= "not_run" then
      what = what .. (r.error and (" (" .. tostring(r.error) .. ")") or "")
    end
    parts[#parts + 1] = ("%s %s%s"):format(r.tool, what, r.duration_ms and (", " .. fmt_ms(r.duration_ms)) or "")
  end
  local head = ("%s: action %s%s %s"):format(tostring(service or "?"), tostring(ex.action_id or "?"),
    ex.title and (" \"" .. ex.title .. "\"") or "", ex.status)
  if #parts > 0 then return head .. ": " .. table.concat(parts, "; ") end
  if ex.errors and #ex.errors > 0 then return head .. ": " .. table.concat(ex.errors, "; ") end
  return head
end

return function(state, ctx)
  local alert = type(state.alert) == "table" and state.alert or {}
  local decision = type(state.decision) == "table" and state.decision or {}
  local choice = decision.choice
  if math.type(choice) == "integer" then choice = tostring(choice) end
  local tl = {}
  local ex = { action_id = choice, by = decision.by, results = og.array{}, undo = og.array{},
               started_at = tool_exec.iso(ctx) }

  local function finish(status)
    ex.status = status
    ex.ended_at = tool_exec.iso(ctx)
    ex.summary = summarize(alert.service, ex)
    local fields = { action_id = ex.action_id, status = status, service = alert.service }
    if status == "succeeded" then ctx.log.info(ex.summary, fields) else ctx.log.warn(ex.summary, fields) end
    ex.notified = { via = "log", at = ex.ended_at }
    tl[#tl + 1] = timeline(ctx, "execution_finished", { action_id = ex.action_id, status = status,
                                                        summary = ex.summary })
    return { execution = ex, timeline = tl }
  end

  if not ACTION_IDS[tostring(choice)] then
    ex.errors = og.array{ ("decision.choice is %q, not an action (\"1\", \"2\" or \"3\"): nothing to run")
      :format(tostring(choice)) }
    return finish("skipped")
  end
  local reg, rerr = registry.load(ctx.config)
  local action, errs, seen = pick_action(state, reg)
  if not reg then errs = errs or {}; table.insert(errs, 1, rerr) end
  if not action or not reg then
    if seen then ex.title = seen.title end
    ex.errors = og.array(errs)
    return finish("rejected")
  end
  ex.title = action.title

  tl[#tl + 1] = timeline(ctx, "execution_started", { action_id = choice, title = action.title,
                                                     tools = #action.tools, by = decision.by })
  local stopped, any_bad = false, false
  for i, t in ipairs(action.tools) do
    local args = copy(t.args or {})
    if stopped then
      ex.results[#ex.results + 1] = { tool = t.name, args = args, status = "not_run",
                                      error = "not run: an earlier tool failed" }
    else
      local spec = reg:get(t.name)
      local e = tool_exec.run(ctx, spec, t.name, args, { action_id = choice, purpose = "action" })
      e.index = i
      if t.continue_on_failure then e.continue_on_failure = true end
      ex.results[#ex.results + 1] = e
      local undo = tool_exec.undo_for(spec, args)
      -- a timed-out tool may have acted: its undo is offered too
      if undo and (e.status == "succeeded" or e.status == "timed_out") then
        undo.of = t.name
        table.insert(ex.undo, 1, undo)
      end
      tl[#tl + 1] = { at = e.ended_at or tool_exec.iso(ctx), node = ctx.node, event = "tool_" .. e.status,
                      detail = { tool = t.name, exit_code = e.exit_code, http_status = e.http_status,
                                 duration_ms = e.duration_ms, error = e.error } }
      if e.status ~= "succeeded" then
        any_bad = true
        if e.status ~= "skipped" and not t.continue_on_failure then stopped = true end
      end
    end
  end
  return finish(stopped and "failed" or (any_bad and "partial" or "succeeded"))
end
