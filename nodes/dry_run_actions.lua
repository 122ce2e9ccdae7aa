-- nodes/dry_run_actions.lua: what each planned action would do, before a
-- human approves one (issue 6). Between nodes/action_planner.lua and
-- nodes/human_decision.lua in graphs/incident.lua, and taken again after a
-- re-analysis (the new plan is dry-run too).
--
-- Reads state.plan and ctx.config.dry_run (true unless set to false). For
-- every action, every tool step is dry-run with ctx.tools.dry_run (the
-- tool's declaration in sandbox/tools decides how: in the sandbox, its own
-- native dry-run, or not at all with a reason; README "Sandbox"). Writes
--   dry_runs  {at, enabled, reason?, planned_hash, actions = {[id] = {id, title,
--              fidelity, verdict, reports[]}}}
--             fidelity: the reports' when they agree, else "mixed"; verdict:
--             the report's verdict line, or "<tool>: <verdict>; ..." for an
--             action of several tools. A report that ran nothing has
--             fidelity "none" and verdict "not dry-run: <reason>".
--   plan      the same actions and notes, with hash = the hash of {actions,
--             dry_runs = dry_runs.actions} (nodes/lib/plan_hash.lua) and
--             planned_hash = the planner's: the hash the decision names then
--             covers the reports the approver saw, so a plan whose dry-run
--             changed (a re-run, a fork) is refused like a changed plan.
--   timeline  one entry {event = "dry_run", detail = "1: <verdict> | 2: ..."}
-- A dry-run that raises (a broken declaration in an inline config) becomes
-- a "none" report with the error as its reason: the decision still gets
-- asked, with the card saying why there is no dry-run.
-- Config `dry_run = false` turns dry-runs off: each card then says
-- "not dry-run: dry-runs are off (config dry_run = false)".
local og = require("opsgraph")
local plan_hash = require("nodes.lib.plan_hash")
local time = require("nodes.lib.time")
local copy = require("nodes.lib.tool_registry").copy   -- plain deep copy: state is a read-only view

local OFF_REASON = "dry-runs are off (config dry_run = false)"


local function none_report(tool, reason)
  return { tool = tool, fidelity = "none", reason = reason, verdict = "not dry-run: " .. reason }
end

local function enabled(ctx)
  if type(ctx.config) ~= "table" then return true end
  local v = ctx.config.dry_run
  if v == nil or v == true then return true end
  if v == false then return false end
  error(("dry_run_actions: config dry_run must be true or false (got %s)"):format(tostring(v)), 0)
end

-- the dry-run of one action: {id, title, fidelity, verdict, reports}
local function dry_run_action(ctx, a, on)
  local reports, fid, lines = {}, nil, {}
  local tools = type(a.tools) == "table" and a.tools or {}
  for _, t in ipairs(tools) do
    local r
    if not on then
      r = none_report(t.name, OFF_REASON)
    else
      local ok, res = pcall(ctx.tools.dry_run, t.name, copy(t.args) or {})
      r = ok and res or none_report(t.name, tostring(res))
    end
    reports[#reports + 1] = r
    local f = type(r.fidelity) == "string" and r.fidelity or "none"
    if fid == nil then fid = f elseif fid ~= f then fid = "mixed" end
    local v = type(r.verdict) == "string" and r.verdict or ("not dry-run: " .. tostring(r.reason or "no verdict"))
    lines[#lines + 1] = #tools > 1 and (tostring(t.name) .. ": " .. v) or v
  end
  if #tools == 0 then
    fid, lines[1] = "none", "not dry-run: the action has no tool steps"
  end
  return { id = a.id, title = a.title, fidelity = fid, verdict = table.concat(lines, "; "),
           reports = og.array(reports) }
end

return function(state, ctx)
  local plan = type(state.plan) == "table" and state.plan or nil
  if not plan or type(plan.actions) ~= "table" then
    error("dry_run_actions: state.plan has no actions list; it runs after action_planner", 0)
  end
  local on = enabled(ctx)
  local out = { enabled = on, actions = {} }
  if not on then out.reason = OFF_REASON end
  local details = {}
  for _, a in ipairs(plan.actions) do
    local d = dry_run_action(ctx, a, on)
    out.actions[tostring(a.id)] = d
    details[#details + 1] = ("%s: %s (%s)"):format(tostring(a.id), d.verdict, d.fidelity)
  end

  local new_plan = copy(plan)
  for _, a in ipairs(new_plan.actions) do a.tools = og.array(a.tools or {}) end
  new_plan.actions = og.array(new_plan.actions)
  new_plan.notes = og.array(new_plan.notes or {})
  new_plan.planned_hash = plan.planned_hash or plan.hash
  -- an empty object must not encode as []: no actions, no per-action entries
  local hashed_runs = next(out.actions) and out.actions or og.null
  new_plan.hash = plan_hash.of(ctx, { actions = new_plan.actions, dry_runs = hashed_runs }, "dry_run_actions")
  out.planned_hash = new_plan.planned_hash
  if not next(out.actions) then out.actions = og.null end
  out.at = time.format(math.floor(ctx.now()))

  return {
    dry_runs = out,
    plan = new_plan,
    timeline = { { at = out.at, node = ctx.node, event = "dry_run",
      detail = #details > 0 and table.concat(details, " | ") or "no actions to dry-run" } },
  }
end
