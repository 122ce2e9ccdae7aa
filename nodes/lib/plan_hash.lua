-- nodes/lib/plan_hash.lua: the hash a decision names (nodes/README.md,
-- `plan.hash`): "fnv1a64:" .. 16 hex digits, the 64-bit FNV-1a hash of the
-- canonical JSON of a document. Canonical: a plain copy encoded with
-- ctx.json.encode, which writes object keys sorted bytewise
-- (engine/lua/lconv.c), lists in order, integers without a fraction.
-- nodes/action_planner.lua hashes {actions}; nodes/dry_run_actions.lua
-- hashes {actions, dry_runs}, so an approval applies to exactly the actions
-- and the dry-run reports that were shown.
--
--   local plan_hash = require("nodes.lib.plan_hash")
--   local h, text = plan_hash.of(ctx, doc, "action_planner")
local M = {}

-- 64-bit FNV-1a over the bytes of s; Lua 5.4 integers wrap around on overflow
local FNV_OFFSET, FNV_PRIME = -3750763034362895579, 1099511628211   -- 0xcbf29ce484222325, 0x100000001b3
function M.fnv1a64(s)
  local h = FNV_OFFSET
  for i = 1, #s do
    h = h ~ s:byte(i)
    h = h * FNV_PRIME
  end
  return ("%016x"):format(h)
end

-- doc must be plain tables (lists marked with og.array where they may be
-- empty, so they encode as []); who names the node in the error
function M.of(ctx, doc, who)
  local s, err = ctx.json.encode(doc)
  if not s then error(("%s: cannot encode the plan for its hash: %s"):format(who, tostring(err)), 0) end
  return "fnv1a64:" .. M.fnv1a64(s), s
end

return M
