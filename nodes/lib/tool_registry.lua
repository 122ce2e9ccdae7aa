-- nodes/lib/tool_registry.lua: the remediation tool registry (issue 4).
--
-- One JSON file per tool lives in sandbox/tools/<name>.json:
--   {name, description, params (a JSON schema for the args, see
--    nodes/lib/schema.lua), risk ("low"|"medium"|"high"), timeout_s,
--    idempotent (bool), command: ["argv", "{service}", ...] or
--    http: {method, url, body?}, dry_run?: {mode: "sandbox"|"native"|
--    "native+sandbox"|"none", argv?, reason?, expect_writes?, timeout_ms?,
--    memory_mb?, pids?} (README.md, "Sandbox"), undo?: {tool, args}}
-- Nodes cannot read files, so the registry reaches them through the config:
-- ctx.config.tools = {name: spec} (the CLI fills it from sandbox/tools/*.json or config "tools_dir"; tests/nodes/planner/make_config.py builds
-- such a config from sandbox/tools/*.json; later the CLI loads the directory
-- itself).
--
--   local registry = require("nodes.lib.tool_registry")
--   local reg, err = registry.load(ctx.config)     -- nil, "tool registry: ..." on errors
--   reg:get("scale_replicas")                      -- the spec (a plain copy) or nil, err
--   reg:names()                                    -- sorted names
--   reg:validate_args("scale_replicas", {service = "x", replicas = 0})
--     --> false, {"replicas: must be ≥ 1 (got 0)"}
--
-- load checks every spec against SPEC_SCHEMA below, and that the file's key
-- equals spec.name, and that undo.tool names a registered tool; the first
-- problems are listed in the error (all of them, joined by "; ").
local schema = require("nodes.lib.schema")

local M = {}

local STR = { type = "string", minLength = 1 }
local ARGV = { type = "array", minItems = 1, items = STR }
M.SPEC_SCHEMA = {
  type = "object",
  required = { "name", "description", "params", "risk", "timeout_s", "idempotent" },
  properties = {
    name = { type = "string", pattern = "^[a-z][a-z0-9_]*$", maxLength = 64 },
    description = STR,
    params = { type = "object", required = { "type" }, properties = { type = { enum = { "object" } } } },
    risk = { enum = { "low", "medium", "high" } },
    timeout_s = { type = "number", exclusiveMinimum = 0, maximum = 86400 },
    idempotent = { type = "boolean" },
    command = ARGV,
    http = { type = "object", required = { "method", "url" }, properties = {
      method = { enum = { "GET", "POST", "PUT", "PATCH", "DELETE" } }, url = STR } },
    -- the CLI checks the rest (engine/cli/cli_config.c check_dry_run)
    dry_run = { type = "object", required = { "mode" }, properties = {
      mode = { enum = { "sandbox", "native", "native+sandbox", "none" } }, argv = ARGV, reason = STR,
      expect_writes = { type = "array", items = STR } } },
    undo = { type = "object", required = { "tool" }, properties = { tool = STR, args = { type = "object" } } },
  },
}

-- a plain deep copy (ctx.config is a read-only view: copy what we keep)
local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end
M.copy = copy

local Registry = {}
Registry.__index = Registry

function M.load(config)
  local tools = type(config) == "table" and config.tools or nil
  if tools == nil then
    return nil, "tool registry: ctx.config.tools is missing; opsgraph fills it from sandbox/tools/*.json "
      .. "(or config \"tools_dir\"): run through the opsgraph CLI, or give config \"tools\": {name: spec}"
  end
  if type(tools) ~= "table" then
    return nil, ("tool registry: ctx.config.tools must be an object {name: spec} (got %s)"):format(schema.json_type(tools))
  end
  local specs, names, problems = {}, {}, {}
  for k, spec in pairs(tools) do
    if type(k) ~= "string" then
      problems[#problems + 1] = "ctx.config.tools must be an object {name: spec}, not a list"
      break
    end
    names[#names + 1] = k
    specs[k] = copy(spec)
  end
  table.sort(names)
  if #names == 0 and #problems == 0 then
    problems[#problems + 1] = "ctx.config.tools is empty: no tool is registered"
  end
  for _, k in ipairs(names) do
    local spec = specs[k]
    local ok, errs = schema.validate(M.SPEC_SCHEMA, spec, { root = "tools." .. k })
    for _, e in ipairs(errs) do problems[#problems + 1] = e end
    if ok then
      if spec.name ~= k then
        problems[#problems + 1] = ("tools.%s.name: must equal its key '%s' (got '%s')"):format(k, k, spec.name)
      end
      if (spec.command == nil) == (spec.http == nil) then
        problems[#problems + 1] = ("tools.%s: needs exactly one of command or http"):format(k)
      end
      if spec.undo and tools[spec.undo.tool] == nil then
        problems[#problems + 1] = ("tools.%s.undo.tool: unknown tool '%s'"):format(k, spec.undo.tool)
      end
    end
  end
  if #problems > 0 then return nil, "tool registry: " .. table.concat(problems, "; ") end
  return setmetatable({ specs = specs, list = names }, Registry)
end

function Registry:get(name)
  local s = self.specs[name]
  if not s then return nil, ("unknown tool '%s' (not in the registry)"):format(tostring(name)) end
  return s
end

function Registry:names()
  local out = {}
  for i, n in ipairs(self.list) do out[i] = n end
  return out
end

-- validate_args(name, args) -> ok, errors[, notes]; paths are relative to args
function Registry:validate_args(name, args)
  local s, err = self:get(name)
  if not s then return false, { err }, {} end
  if args == nil then args = {} end
  return schema.validate(s.params, args)
end

return M
