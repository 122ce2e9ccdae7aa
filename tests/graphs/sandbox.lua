-- sandbox.lua: one node that tries what state.probe names and returns
-- what it got (as text). The denied ones must fail with an explanatory
-- message; the allowed ones must work.
local og = require("opsgraph")

local probes = {
  io = function() return io.open("/etc/passwd") end,
  os_execute = function() return os.execute("true") end,
  os_getenv = function() return os.getenv("HOME") end,
  os_exit = function() return os.exit(3) end,
  os_remove = function() return os.remove("/tmp/x") end,
  os_write = function() os.foo = 1 end,
  os_time = function() return math.type(os.time()) end,
  debug = function() return debug.getinfo(1) end,
  load = function() return load("return 1")() end,
  loadfile = function() return loadfile("/etc/passwd") end,
  dofile = function() return dofile("/etc/passwd") end,
  loadstring = function() return loadstring("return 1") end,
  package = function() return package.loadlib("libc.so.6", "system") end,
  collectgarbage = function() return collectgarbage("count") end,
  print = function() print("hello") end,
  string_dump = function() return string.dump(function() end) end,
  string_mt = function() return tostring(getmetatable("")) end,
  string_method = function() return ("abc"):upper() .. ("%d"):format(7) end,
  string_mt_set = function() return setmetatable("", {}) end,
  require_dotdot = function() return require("..secret") end,
  require_inner_dotdot = function() return require("nodes..secret") end,
  require_slash = function() return require("../../etc/passwd") end,
  require_abs = function() return require("/etc/passwd") end,
  require_missing = function() return require("nodes.no_such_module") end,
  require_outside = function() return require("engine.lua.prelude") end,
  rawget_io = function() return tostring(rawget(_G, "io")) .. "," .. tostring(_G == _ENV) end,
  globals_isolated = function()
    string.upper = nil          -- this chunk's own copy of string
    return "ok"
  end,
  undefined_global = function() return tostring(undefined_thing) end,
}

local g = og.graph{
  name = "sandbox",
  state = { probe = og.last("string_method"), out = og.last() },
}

g:node("try", function(s)
  local fn = probes[s.probe]
  if not fn then error("no probe " .. tostring(s.probe)) end
  local r = fn()
  return { out = tostring(r) }
end)
g:edge(og.START, "try")
return g
