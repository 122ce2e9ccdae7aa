-- tests/nodes/planner/schema_test.lua: unit cases of nodes/lib/schema.lua
-- (and of the tool registry's validate_args), for tests/cli/nodes_planner.sh.
-- Each case: {name, schema, value, ok, errors (the exact list, when given),
-- note (a substring of the notes, when given)}. The node writes
-- results = [{name, pass, got}] into the state. Run from the repo root:
--   bin/opsgraph run tests/nodes/planner/schema_test.lua --db :memory: \
--     --config tests/nodes/planner/config.json --output json
local og = require("opsgraph")
local schema = require("nodes.lib.schema")
local registry = require("nodes.lib.tool_registry")
local null = og.null

local g = og.graph{ name = "schema_test", state = { results = og.last() } }

local RISK = { enum = { "low", "medium", "high" } }
local PLAN = { type = "object", required = { "actions" }, properties = {
  actions = { type = "array", maxItems = 3, items = { type = "object", required = { "id", "risk" },
    properties = { id = { type = "string" }, risk = RISK,
      tools = { type = "array", items = { type = "object", required = { "name" },
        properties = { name = { type = "string" }, args = { type = "object", additionalProperties = false,
          properties = { replicas = { type = "integer", minimum = 1 } } } } } } } } } } }

local cases = {
  -- type
  { "type string ok", { type = "string" }, "x", true },
  { "type string bad", { type = "string" }, 5, false, { "(root): must be string (got number)" } },
  { "type integer ok", { type = "integer" }, 3, true },
  { "type integer float-integral ok", { type = "integer" }, 3.0, true },
  { "type integer bad", { type = "integer" }, 2.5, false, { "(root): must be integer (got number)" } },
  { "type number accepts integer", { type = "number" }, 7, true },
  { "type boolean bad", { type = "boolean" }, "true", false, { "(root): must be boolean (got string)" } },
  { "type null og.null", { type = "null" }, null, true },
  { "type null bad", { type = "null" }, 0, false, { "(root): must be null (got number)" } },
  { "type list ok null", { type = { "string", "null" } }, null, true },
  { "type list bad", { type = { "string", "null" } }, 1, false, { "(root): must be one of types string, null (got number)" } },
  { "type array ok", { type = "array" }, { 1, 2 }, true },
  { "type array rejects object", { type = "array" }, { a = 1 }, false, { "(root): must be array (got object)" } },
  { "type object rejects array", { type = "object" }, { 1 }, false, { "(root): must be object (got array)" } },
  { "empty table is an array", { type = "array" }, {}, true },
  { "empty table is an object", { type = "object" }, {}, true },
  { "og.array{} is not an object", { type = "object" }, og.array{}, false, { "(root): must be object (got array)" } },
  -- enum / const
  { "enum ok", RISK, "low", true },
  { "enum bad", RISK, "extreme", false, { "(root): must be one of low, medium, high (got 'extreme')" } },
  { "enum numbers", { enum = { 1, 2 } }, 3, false, { "(root): must be one of 1, 2 (got 3)" } },
  { "const bad", { const = "x" }, "y", false, { "(root): must be 'x' (got 'y')" } },
  -- numbers
  { "minimum ok (edge)", { type = "integer", minimum = 1 }, 1, true },
  { "minimum bad", { type = "integer", minimum = 1 }, 0, false, { "(root): must be ≥ 1 (got 0)" } },
  { "maximum bad", { maximum = 99 }, 100, false, { "(root): must be ≤ 99 (got 100)" } },
  { "maximum float", { maximum = 0.5 }, 0.75, false, { "(root): must be ≤ 0.5 (got 0.75)" } },
  { "exclusiveMinimum bad", { exclusiveMinimum = 0 }, 0, false, { "(root): must be > 0 (got 0)" } },
  -- strings
  { "minLength bad", { minLength = 3 }, "ab", false, { "(root): must be at least 3 characters long (got 2)" } },
  { "maxLength counts UTF-8 characters", { maxLength = 3 }, "äöü", true },
  { "maxLength bad", { maxLength = 3 }, "abcd", false, { "(root): must be at most 3 characters long (got 4)" } },
  { "pattern ok", { pattern = "^[a-z0-9][a-z0-9._-]*$" }, "payment-service", true },
  { "pattern bad", { pattern = "^[a-z0-9][a-z0-9._-]*$" }, "Payment Service", false,
    { "(root): must match pattern ^[a-z0-9][a-z0-9._-]*$ (got 'Payment Service')" } },
  { "pattern \\d+ escapes", { pattern = "^v\\d+\\.\\d+$" }, "v1.2", true },
  { "pattern \\d+ bad", { pattern = "^v\\d+\\.\\d+$" }, "v1x2", false },
  { "pattern unanchored search", { pattern = "err" }, "an error", true },
  { "pattern literal %", { pattern = "^100%$" }, "100%", true },
  { "pattern with a group is skipped", { pattern = "^(a|b)$" }, "zzz", true, nil, "pattern ^(a|b)$ not checked" },
  { "pattern with {n} is skipped", { pattern = "^a{3}$" }, "b", true, nil, "not a simple pattern" },
  -- arrays
  { "maxItems bad", { maxItems = 3 }, { 1, 2, 3, 4 }, false, { "(root): must have at most 3 items (got 4)" } },
  { "minItems bad", { type = "array", minItems = 1 }, {}, false, { "(root): must have at least 1 item (got 0)" } },
  { "items bad", { items = { type = "string" } }, { "a", 2, "c" }, false, { "[2]: must be string (got number)" } },
  -- objects
  { "required missing", { type = "object", required = { "a", "b" } }, { a = 1 }, false, { "b: is required" } },
  { "required on empty table", { type = "object", required = { "a" } }, {}, false, { "a: is required" } },
  { "properties nested", { properties = { a = { properties = { b = { type = "string" } } } } }, { a = { b = 1 } }, false,
    { "a.b: must be string (got number)" } },
  { "additionalProperties false", { properties = { a = {} }, additionalProperties = false }, { a = 1, z = 2 }, false,
    { "z: is not allowed (no such property)" } },
  { "additionalProperties schema", { additionalProperties = { type = "number" } }, { x = 1, y = "2" }, false,
    { "y: must be number (got string)" } },
  { "errors in sorted key order", { properties = { a = { type = "string" }, b = { type = "string" } } }, { b = 1, a = 2 }, false,
    { "a: must be string (got number)", "b: must be string (got number)" } },
  -- nested paths with a root
  { "plan path", PLAN, { actions = { { id = "1", risk = "low" }, { id = "2", risk = "extreme" } } }, false,
    { "plan.actions[2].risk: must be one of low, medium, high (got 'extreme')" }, nil, "plan" },
  { "plan deep path", PLAN, { actions = { { id = "1", risk = "low", tools = { { name = "x", args = { replicas = 0, foo = 1 } } } } } }, false,
    { "plan.actions[1].tools[1].args.foo: is not allowed (no such property)", "plan.actions[1].tools[1].args.replicas: must be ≥ 1 (got 0)" }, nil, "plan" },
  { "plan maxItems", PLAN, { actions = { { id = "1", risk = "low" }, { id = "2", risk = "low" }, { id = "3", risk = "low" }, { id = "4", risk = "low" } } }, false,
    { "plan.actions: must have at most 3 items (got 4)" }, nil, "plan" },
  { "plan missing required", PLAN, { actions = { { risk = "low" } } }, false, { "plan.actions[1].id: is required" }, nil, "plan" },
  { "true schema accepts anything", true, { 1 }, true },
  { "false schema rejects", false, 1, false, { "(root): no value is allowed here" } },
}

local function same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

g:node("run", function(_, ctx)
  local results = {}
  for _, c in ipairs(cases) do
    local name, s, v, want_ok, want_errs, want_note, root = c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    local ok, errs, notes = schema.validate(s, v, root and { root = root } or nil)
    local pass = ok == want_ok and (want_errs == nil or same_list(errs, want_errs))
    if want_note then
      local found = false
      for _, n in ipairs(notes) do if n:find(want_note, 1, true) then found = true end end
      pass = pass and found
    end
    results[#results + 1] = { name = name, pass = pass,
      got = { ok = ok, errors = og.array(errs), notes = og.array(notes) } }
  end
  -- the registry's validate_args, on the config's real tool specs
  local reg, err = registry.load(ctx.config)
  local function arg_case(name, tool, args, want_ok, want_errs)
    if not reg then results[#results + 1] = { name = name, pass = false, got = err } return end
    local ok, errs = reg:validate_args(tool, args)
    results[#results + 1] = { name = name, pass = ok == want_ok and (want_errs == nil or same_list(errs, want_errs)),
      got = { ok = ok, errors = og.array(errs) } }
  end
  arg_case("args: scale ok", "scale_replicas", { service = "payment-service", replicas = 4 }, true)
  arg_case("args: scale 0", "scale_replicas", { service = "payment-service", replicas = 0 }, false, { "replicas: must be ≥ 1 (got 0)" })
  arg_case("args: scale missing replicas", "scale_replicas", { service = "payment-service" }, false, { "replicas: is required" })
  arg_case("args: restart extra arg", "restart_service", { service = "a", force = true }, false, { "force: is not allowed (no such property)" })
  arg_case("args: reduce 100%", "reduce_traffic", { service = "a", percent = 100 }, false, { "percent: must be ≤ 99 (got 100)" })
  arg_case("args: free_disk relative path", "free_disk", { service = "a", path = "var/log" }, false,
    { "path: must match pattern ^/ (got 'var/log')" })
  arg_case("args: rollback without version", "rollback_deploy", { service = "a" }, true)
  arg_case("args: rollback null version", "rollback_deploy", { service = "a", to_version = null }, true)
  arg_case("args: unknown tool", "format_disk", { service = "a" }, false, { "unknown tool 'format_disk' (not in the registry)" })
  arg_case("args: bad service name", "check_health", { service = "Payment Service" }, false,
    { "service: must match pattern ^[a-z0-9][a-z0-9._-]*$ (got 'Payment Service')" })
  return { results = og.array(results) }
end)
g:edge(og.START, "run")
return g
