-- prelude.lua: the `opsgraph` module graph files see through require("opsgraph").
-- Runs once per VM in the trusted host environment (it may use debug.getinfo to
-- record where things were declared); graph and node code only ever see the
-- table it returns. The C side (lgraph.c) reads the description a Graph holds;
-- lexec.c calls the classifiers in `internal` (never reachable from graph code)
-- after user code runs.
local C = ...                    -- C primitives: null, array_mt, getinfo, resume_next
local getinfo = C.getinfo
local type, error, pairs, ipairs, select = type, error, pairs, ipairs, select
local setmetatable, tostring, rawget, rawlen, next = setmetatable, tostring, rawget, rawlen, next
-- The metatables below are protected (__metatable), so graph code cannot
-- reach them; the prelude compares them with the raw C lookup, and reads
-- user tables only with raw access: classifying a node's result must not
-- run graph code, which would run outside the node's budget.
local getmetatable = C.rawmetatable
local fmt = string.format

local og = {}
og.START = "__start__"
og.END = "__end__"
og.null = C.null

-- "graphs/x.lua:12" of the graph-file line that called the DSL function
local function where(level)
  local info = getinfo(level + 1, "Sl")
  if not info then return { file = "?", line = 0 } end
  return { file = info.short_src, line = info.currentline }
end

local function argerror(fn, msg)
  error(fmt("%s: %s", fn, msg), 3)
end

-- Channels ---------------------------------------------------------------
local Channel = { __name = "og.channel", __metatable = "og.channel" }
Channel.__index = Channel

local function channel(kind, init, fn)
  return setmetatable({ kind = kind, init = init, fn = fn }, Channel)
end

function og.last(init) return channel("last", init) end
function og.append(init)
  if init ~= nil and type(init) ~= "table" then argerror("og.append", "the initial value must be a list") end
  return channel("append", setmetatable(init or {}, C.array_mt))
end
function og.merge(init)
  if init ~= nil and type(init) ~= "table" then argerror("og.merge", "the initial value must be a table") end
  return channel("merge", init or {})
end
function og.sum(init)
  if init ~= nil and type(init) ~= "number" then argerror("og.sum", "the initial value must be a number") end
  return channel("sum", init or 0)
end
function og.reducer(fn, init)
  if type(fn) ~= "function" then
    argerror("og.reducer", "the first argument must be a function(old, new) returning the new value")
  end
  return channel("custom", init, fn)
end

-- Values -----------------------------------------------------------------
-- og.array{...} marks a table as a JSON list, so an empty one stays a list.
function og.array(t) return setmetatable(t or {}, C.array_mt) end

-- Send and Command --------------------------------------------------------
local Send = { __name = "og.send", __metatable = "og.send" }
local Command = { __name = "og.command", __metatable = "og.command" }

function og.send(node, input)
  if type(node) ~= "string" then argerror("og.send", "the first argument must be a node name") end
  return setmetatable({ node = node, input = input }, Send)
end

function og.command(spec)
  if type(spec) ~= "table" then
    argerror("og.command", 'takes a table: og.command{ update = {...}, ["goto"] = "node" }')
  end
  local go = spec["goto"]
  if go == nil then go = spec.go_to end
  for k in pairs(spec) do
    if k ~= "update" and k ~= "goto" and k ~= "go_to" then
      argerror("og.command", fmt("unknown field '%s' (use update and goto)", tostring(k)))
    end
  end
  return setmetatable({ update = spec.update, go = go }, Command)
end

function og.is_send(v) return getmetatable(v) == Send end
function og.is_command(v) return getmetatable(v) == Command end

-- Interrupts: the C side catches this object (lexec.c) and pauses the task.
local Interrupt = { __name = "og.interrupt", __metatable = "og.interrupt" }
-- A node that is resumed re-runs from its first line; the k-th og.interrupt
-- call then returns the k-th resume value instead of pausing again.
function og.interrupt(value)
  local has, v = C.resume_next()
  if has then return v end
  error(setmetatable({ value = value }, Interrupt), 0)
end

-- Graphs -----------------------------------------------------------------
local Graph = { __name = "og.graph", __metatable = "og.graph" }
Graph.__index = Graph

local function check_name(fn, name, what)
  if type(name) ~= "string" or name == "" then
    argerror(fn, fmt("%s must be a non-empty string (got %s)", what, type(name)))
  end
end

function og.graph(spec)
  if type(spec) ~= "table" then argerror("og.graph", "takes a table: og.graph{ name = ..., state = {...} }") end
  local g = setmetatable({ name = spec.name or "graph", channels = {}, nodes = {}, edges = {}, routes = {},
                           recursion_limit = spec.recursion_limit, input = spec.input, src = where(2) }, Graph)
  check_name("og.graph", g.name, "name")
  if spec.recursion_limit ~= nil and (math.type(spec.recursion_limit) ~= "integer" or spec.recursion_limit < 1) then
    argerror("og.graph", "recursion_limit must be a positive integer")
  end
  if type(spec.state) ~= "table" then
    argerror("og.graph", "state must be a table of channels, e.g. state = { count = og.last(0) }")
  end
  for name, ch in pairs(spec.state) do
    if type(name) ~= "string" then argerror("og.graph", "state keys must be strings") end
    if getmetatable(ch) ~= Channel then
      argerror("og.graph", fmt("state.%s must be a channel: og.last(), og.append(), og.merge(), og.sum() or og.reducer(fn)", name))
    end
    g.channels[#g.channels + 1] = { name = name, kind = ch.kind, init = ch.init, fn = ch.fn, src = g.src }
  end
  table.sort(g.channels, function(a, b) return a.name < b.name end)
  if spec.input ~= nil then
    check_name("og.graph", spec.input, "input")
    if spec.state[spec.input] == nil then
      argerror("og.graph", fmt("input = '%s' names no channel of state (declare it, e.g. %s = og.last())", spec.input, spec.input))
    end
  end
  for _, key in ipairs({ "interrupt_before", "interrupt_after" }) do
    if spec[key] ~= nil and type(spec[key]) ~= "table" then argerror("og.graph", key .. " must be a list of node names") end
  end
  g.interrupt_before = spec.interrupt_before
  g.interrupt_after = spec.interrupt_after
  for k in pairs(spec) do
    if k ~= "name" and k ~= "state" and k ~= "recursion_limit" and k ~= "interrupt_before" and k ~= "interrupt_after"
      and k ~= "input" then
      argerror("og.graph", fmt("unknown field '%s'", tostring(k)))
    end
  end
  return g
end

local node_opts = { retry = true, budget = true, destinations = true, interrupt_before = true, interrupt_after = true }

function Graph:node(name, fn, opts)
  check_name("g:node", name, "the node name")
  if type(fn) ~= "function" then
    argerror("g:node", fmt("node '%s': the second argument must be a function(state, ctx) (got %s)", name, type(fn)))
  end
  if opts ~= nil and type(opts) ~= "table" then argerror("g:node", fmt("node '%s': options must be a table", name)) end
  for k in pairs(opts or {}) do
    if not node_opts[k] then
      argerror("g:node", fmt("node '%s': unknown option '%s' (retry, budget, destinations, interrupt_before, interrupt_after)", name, tostring(k)))
    end
  end
  self.nodes[#self.nodes + 1] = { name = name, fn = fn, opts = opts or {}, src = where(2) }
  return self
end

function Graph:edge(from, to)
  if type(from) == "table" then
    if #from == 0 then argerror("g:edge", "a join needs at least one source node") end
    for _, f in ipairs(from) do check_name("g:edge", f, "each source") end
  else
    check_name("g:edge", from, "the source")
    from = { from }
  end
  check_name("g:edge", to, "the target")
  self.edges[#self.edges + 1] = { from = from, to = to, src = where(2) }
  return self
end

function Graph:route(from, fn, targets)
  check_name("g:route", from, "the source")
  if type(fn) ~= "function" then
    argerror("g:route", fmt("route from '%s': the second argument must be a function(state) returning a node name", from))
  end
  if targets ~= nil and type(targets) ~= "table" then
    argerror("g:route", fmt("route from '%s': targets must be a list of node names", from))
  end
  self.routes[#self.routes + 1] = { from = from, fn = fn, targets = targets or {}, src = where(2) }
  return self
end

-- Running user code (called from lexec.c) ----------------------------------
-- Turns whatever a node returned into (writes, next): writes is a table of
-- channel -> value or nil; next a list of node names and Sends or nil.
local function next_list(go, what)
  if go == nil then return nil end
  if type(go) == "string" or getmetatable(go) == Send then go = { go } end
  if type(go) ~= "table" then error(fmt("%s must be a node name, a list of names or og.send(...)", what), 0) end
  local out = setmetatable({}, C.array_mt)   -- a JSON list even when empty (no Sends)
  for i = 1, rawlen(go) do
    local v = rawget(go, i)
    if getmetatable(v) == Send then
      local input = rawget(v, "input")
      out[i] = { node = rawget(v, "node"), input = input == nil and og.null or input }
    elseif type(v) == "string" then
      out[i] = v
    else
      error(fmt("%s[%d] is a %s; expected a node name or og.send(...)", what, i, type(v)), 0)
    end
  end
  return out
end

local function classify_result(r)
  if r == nil then return nil, nil end
  local mt = getmetatable(r)
  if mt == Command then
    local update = rawget(r, "update")
    if update ~= nil and type(update) ~= "table" then error("og.command: update must be a table of channel writes", 0) end
    return update, next_list(rawget(r, "go"), "og.command goto")
  end
  if mt == Send then return nil, next_list(r, "og.send") end
  if type(r) ~= "table" then
    error(fmt("returned a %s; return a table of channel writes, nil, og.send(...) list or og.command{...}", type(r)), 0)
  end
  if getmetatable(rawget(r, 1)) == Send then
    local n = rawlen(r)
    for k in next, r do
      if math.type(k) ~= "integer" or k < 1 or k > n then
        error("returned Sends and channel writes in one table; return og.command{ update = {...}, " ..
              '["goto"] = { og.send(...), ... } } to do both', 0)
      end
    end
    return nil, next_list(r, "Send list")
  end
  return r, nil
end

local function classify_route(r)
  return next_list(r, "the router's result") or {}
end

-- Graph code gets a read-only view of og; the metatables and classifiers
-- stay with the C side.
-- ctx.config: a read-only view, nested tables included (nodes share it).
local function readonly(t, path)
  local cache = {}
  local function wrap(k, v)
    if type(v) ~= "table" then return v end
    local w = cache[k]
    if not w then w = readonly(v, path .. "." .. tostring(k)); cache[k] = w end
    return w
  end
  return setmetatable({}, {
    __index = function(_, k) return wrap(k, rawget(t, k)) end,
    __newindex = function(_, k)
      error(fmt("%s is read-only (tried to set '%s'); configuration changes go in the config file", path, tostring(k)), 2)
    end,
    __len = function() return rawlen(t) end,
    __pairs = function()
      return function(_, k)
        local nk, nv = next(t, k)
        if nk ~= nil then return nk, wrap(nk, nv) end
      end, nil, nil
    end,
    __metatable = false,
  })
end

local internal = { Graph = Graph, Interrupt = Interrupt, result = classify_result, route = classify_route,
                   readonly = function(t) return readonly(t, "ctx.config") end }
local view = setmetatable({}, {
  __index = og,
  __newindex = function(_, k) error(fmt("the opsgraph module is read-only (tried to set og.%s)", tostring(k)), 2) end,
  __metatable = false,
  __pairs = function() return function(_, k) return next(og, k) end, nil, nil end,  -- never hand out og itself
})
return view, internal
