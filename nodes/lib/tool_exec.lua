-- nodes/lib/tool_exec.lua: running registry tools from a node, with the
-- effect ledger's "unknown outcome" protocol and the result shape that
-- `execution.results[]` holds (nodes/README.md). Used by
-- nodes/action_executor.lua (the chosen action) and nodes/verify_recovery.lua
-- (rollback through the tools' `undo`).
--
--   local tool_exec = require("nodes.lib.tool_exec")
--   local entry = tool_exec.run(ctx, reg, name, args, { action_id = "2" })
--   entry.status          --> "succeeded" | "failed" | "timed_out" | "skipped"
--   tool_exec.undo_for(spec, args)   --> {tool, args} with "{key}" filled, or nil
--   tool_exec.clip(s, n)             --> the last n bytes of s at a UTF-8 boundary
--
-- The effect ledger (engine/lua/lapi_tools.c): when the process died while a
-- tool ran, the re-executed node gets {unknown_outcome = true, started_at}
-- from ctx.tools.run instead of a result, and the tool has NOT run again.
-- run() then:
--   * re-runs the tool when its spec says idempotent = true;
--   * otherwise asks the operator with
--       og.interrupt{kind = "effect_unknown", tool, args, started_at,
--                    action_id?, question, options = {"rerun", "skip"}}
--     "rerun" runs it again, "skip" records it as skipped (the operator
--     checked that it acted, or that it is not needed). Another answer asks
--     again (at most 5 times, then the node fails naming the answer).
--     When the re-run is cut short by another crash, the operator is asked
--     again about that start: one "rerun" answer means one more run.
-- The entry records how it went: rerun = "idempotent" | "operator",
-- unknown_outcome_started_at.
local og = require("opsgraph")

local M = {}

-- output kept in the state per stream: the tail, where errors are
M.KEEP_BYTES = 4096
local MAX_ASKS = 5

function M.clip(s, n)
  if type(s) ~= "string" then return s end
  n = n or M.KEEP_BYTES
  if #s <= n then return s end
  local i = #s - n + 1
  -- do not start inside a UTF-8 sequence
  while i <= #s do
    local b = s:byte(i)
    if b < 0x80 or b >= 0xC0 then break end
    i = i + 1
  end
  return "…" .. s:sub(i)
end

-- "{key}" alone takes args[key] with its type; other strings are filled as text
local function fill(v, args)
  if type(v) == "string" then
    local key = v:match("^{([%a_][%w_]*)}$")
    if key then return args[key] end
    return (v:gsub("{([%a_][%w_]*)}", function(k)
      local x = args[k]
      if x == nil then return nil end
      return tostring(x)
    end))
  elseif type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do out[k] = fill(x, args) end
    return out
  end
  return v
end

-- The undo call of a tool that ran with args: {tool, args}, or nil when the
-- spec declares none.
function M.undo_for(spec, args)
  if type(spec) ~= "table" or type(spec.undo) ~= "table" then return nil end
  return { tool = spec.undo.tool, args = fill(spec.undo.args or {}, args or {}) }
end

local function iso(ctx)
  -- ctx.now has milliseconds; the state keeps whole seconds like the other nodes
  local time = require("nodes.lib.time")
  return time.format(math.floor(ctx.now()))
end
M.iso = iso

-- The state entry of one ctx.tools.run result.
function M.entry(name, args, r)
  local e = { tool = name, args = args, kind = r.kind, started_at = r.started_at, ended_at = r.ended_at,
              duration_ms = r.duration_ms, timed_out = r.timed_out and true or false }
  if r.kind == "http" then
    e.http_status = r.status
    e.method, e.url = r.method, r.url
    e.body = M.clip(r.body)
    if r.error then e.error, e.error_kind = r.error, r.error_kind end
    if r.timed_out then e.status = "timed_out"
    elseif r.status and r.status >= 200 and r.status < 300 then e.status = "succeeded"
    else
      e.status = "failed"
      e.error = e.error or ("HTTP status " .. tostring(r.status))
    end
  else
    e.exit_code, e.signal = r.exit_code, r.signal
    e.stdout, e.stderr = M.clip(r.stdout), M.clip(r.stderr)
    if r.timed_out then e.status = "timed_out"
    elseif r.exit_code == 0 then e.status = "succeeded"
    else
      e.status = "failed"
      if r.exit_code == 127 then e.error = "command not found: " .. tostring(r.argv and r.argv[1])
      elseif r.exit_code == -1 then e.error = "ended by signal " .. tostring(r.signal)
      else e.error = "exit code " .. tostring(r.exit_code) end
    end
  end
  if r.timed_out then e.error = e.error or "timed out" end
  if r.truncated then e.truncated = true end
  if r.ledger_error then e.ledger_error = r.ledger_error end
  return e
end

local function answer_of(v)
  if type(v) == "table" then v = v.choice or v.answer or v.value end
  return type(v) == "string" and v:lower() or v
end

-- Runs tool `name` with args through ctx.tools.run; returns its state entry.
-- info: {action_id?, purpose?} copied into the interrupt. spec: the tool's
-- registry spec (for idempotent).
function M.run(ctx, spec, name, args, info)
  info = info or {}
  local r = ctx.tools.run(name, args)
  if not r.unknown_outcome then return M.entry(name, args, r) end
  local how, started
  local asked = 0
  -- a loop: the re-run itself may be cut short by another crash. An
  -- idempotent tool re-runs with rerun = true (cut short again, it runs
  -- again by itself); an operator's "rerun" runs without it, so a re-run
  -- that was cut short is asked about again instead of repeated silently.
  while r.unknown_outcome do
    started = r.started_at
    ctx.log.warn(("tool '%s' started at %s but its result was never recorded (the process stopped while it ran)")
      :format(name, tostring(started)), { tool = name, idempotent = spec.idempotent == true })
    if spec.idempotent == true then
      how = "idempotent"
      r = ctx.tools.run(name, args, { rerun = true })
    else
      while true do
        asked = asked + 1
        local a = answer_of(og.interrupt({
          kind = "effect_unknown", tool = name, args = args, started_at = started, action_id = info.action_id,
          purpose = info.purpose,
          question = ("Tool '%s' started at %s, but opsgraph stopped before its result was recorded, so it may or "
            .. "may not have acted. It is not idempotent: run it again, or skip it?"):format(name, tostring(started)),
          options = og.array{ "rerun", "skip" },
        }))
        if a == "rerun" then break end
        if a == "skip" then
          return { tool = name, args = args, kind = spec.http and "http" or "command", status = "skipped",
                   unknown_outcome_started_at = started,
                   error = "outcome unknown (the process stopped while it ran); the operator chose skip" }
        end
        if asked >= MAX_ASKS then
          error(("effect_unknown for tool '%s': %d answers were neither \"rerun\" nor \"skip\" (last: %s)")
            :format(name, asked, tostring(a)), 0)
        end
      end
      how = "operator"
      r = ctx.tools.run(name, args)
    end
  end
  local e = M.entry(name, args, r)
  e.rerun = how
  e.unknown_outcome_started_at = started
  return e
end

return M
