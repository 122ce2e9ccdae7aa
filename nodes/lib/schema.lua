-- nodes/lib/schema.lua: a small JSON-schema validator (issue 4).
--
--   local schema = require("nodes.lib.schema")
--   local ok, errors, notes = schema.validate(s, value [, { root = "plan" }])
--
-- ok is true when value is valid. errors is a list of "path: message"
-- strings, in a stable order (properties in sorted key order, items in index
-- order), e.g.
--   plan.actions[2].risk: must be one of low, medium, high (got 'extreme')
-- notes lists what the validator could not check (a `pattern` it skipped,
-- an unknown keyword is NOT noted: unknown keywords are ignored, as JSON
-- schema does). The root path is opts.root ("" by default; an error on the
-- root itself then reads "(root): ...").
--
-- The subset: type (a name or a list of names; "integer" is a number with no
-- fraction), properties, required, enum, const, items (one schema for every
-- item), minItems/maxItems, additionalProperties (false or a schema),
-- minimum/maximum, exclusiveMinimum/exclusiveMaximum (numbers, draft 6+),
-- minLength/maxLength (UTF-8 characters), pattern.
--
-- JSON values in Lua:
--   * og.null is JSON null (so is a nil top-level value);
--   * a table whose keys are exactly 1..n (n >= 1) is an array, any other
--     non-empty table an object;
--   * an empty table is ambiguous in Lua: it is accepted as both [] and {},
--     unless it carries the og.array metatable (then it is only an array).
--
-- pattern: JSON schema patterns are ECMA regexes; the sandbox has only Lua
-- patterns. A pattern is translated when it is "simple": literals, `.`,
-- `^` at the start, `$` at the end, classes `[...]` (ranges, negation),
-- the escapes \d \w \s \D \W \S and escaped punctuation, and the
-- quantifiers `*`, `+`, `?` on one character or class. Anything else
-- (groups, alternation `|`, counted repetition `{n,m}`, lookarounds,
-- backreferences) is not checked: the value passes and a note says
-- "<path>: pattern <p> not checked (not a simple pattern)". Matching runs in
-- C under the node's instruction budget, and translated simple patterns
-- cannot backtrack badly.
local M = {}

local floor, huge, mtype = math.floor, math.huge, math.type
local fmt, concat, sort = string.format, table.concat, table.sort

local NULL, ARRAY_MT
do
  local ok, og = pcall(require, "opsgraph")
  if ok and type(og) == "table" then
    NULL = og.null
    if type(og.array) == "function" then ARRAY_MT = getmetatable(og.array({})) end
  end
end
M.null = NULL

local function is_null(v) return v == nil or (NULL ~= nil and v == NULL) end

-- "array", "object", "empty" (an empty table without the array marker) or nil
local function table_kind(t)
  local n, count = 0, 0
  for k in pairs(t) do
    count = count + 1
    if mtype(k) ~= "integer" or k < 1 then return "object" end
    if k > n then n = k end
  end
  if count == 0 then
    if ARRAY_MT and getmetatable(t) == ARRAY_MT then return "array" end
    return "empty"
  end
  if n == count then return "array" end
  return "object"
end

local function is_integer(v)
  if mtype(v) == "integer" then return true end
  return mtype(v) == "float" and v == v and v ~= huge and v ~= -huge and v == floor(v)
end

-- the JSON type names of a value, most specific first
local function json_type(v)
  if is_null(v) then return "null" end
  local t = type(v)
  if t == "boolean" then return "boolean" end
  if t == "string" then return "string" end
  if t == "number" then return is_integer(v) and "integer" or "number" end
  if t == "table" then
    local k = table_kind(v)
    return k == "empty" and "object" or k
  end
  return t   -- function, userdata...: never valid JSON
end

local function type_matches(v, want)
  if want == "null" then return is_null(v) end
  local t = type(v)
  if is_null(v) then return false end
  if want == "boolean" then return t == "boolean" end
  if want == "string" then return t == "string" end
  if want == "number" then return t == "number" and v == v end
  if want == "integer" then return t == "number" and is_integer(v) end
  if want == "array" or want == "object" then
    if t ~= "table" then return false end
    local k = table_kind(v)
    return k == "empty" or k == want
  end
  return false
end

local function num_str(n)
  if is_integer(n) and n > -1e15 and n < 1e15 then return fmt("%d", floor(n)) end
  return fmt("%.14g", n)
end

-- a short rendering of a value for messages
local function show(v)
  if is_null(v) then return "null" end
  local t = type(v)
  if t == "string" then
    if #v > 40 then v = v:sub(1, 37) .. "..." end
    return "'" .. v .. "'"
  end
  if t == "number" then return num_str(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then
    local k = table_kind(v)
    return k == "array" and "an array" or (k == "empty" and "an empty table" or "an object")
  end
  return t
end

local function plain(v)   -- enum members in messages: low, medium, high
  if type(v) == "string" then return v end
  return show(v)
end

local function deep_equal(a, b)
  if is_null(a) and is_null(b) then return true end
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  sort(ks, function(x, y)
    if type(x) == type(y) and (type(x) == "string" or type(x) == "number") then return x < y end
    return type(x) == "number"
  end)
  return ks
end

local function list_of(t)   -- a plain Lua list from a list-like (possibly read-only proxy) table
  local out = {}
  if type(t) ~= "table" then return out end
  local i = 1
  while t[i] ~= nil do out[i] = t[i]; i = i + 1 end
  return out
end

-- ---- patterns ------------------------------------------------------------

local ESC = { d = "%d", w = "[%w_]", s = "%s", D = "%D", W = "[^%w_]", S = "%S" }
local ESC_IN_CLASS = { d = "%d", w = "%w_", s = "%s" }
local MAGIC = "^$()%.[]*+-?"

local function lua_escape(c)
  if MAGIC:find(c, 1, true) then return "%" .. c end
  return c
end

-- translate an ECMA regex into a Lua pattern, or nil when it is not simple
local pattern_cache = {}
function M.translate_pattern(re)
  if type(re) ~= "string" then return nil end
  local cached = pattern_cache[re]
  if cached ~= nil then return cached or nil end
  local out, i, n = {}, 1, #re
  local atom = false   -- the previous token can take a quantifier
  local ok = true
  while i <= n do
    local c = re:sub(i, i)
    if c == "^" then
      if i ~= 1 then ok = false break end
      out[#out + 1] = "^"; atom = false
    elseif c == "$" then
      if i ~= n then ok = false break end
      out[#out + 1] = "$"; atom = false
    elseif c == "." then
      out[#out + 1] = "."; atom = true
    elseif c == "*" or c == "+" or c == "?" then
      if not atom then ok = false break end
      local nx = re:sub(i + 1, i + 1)
      if nx == "?" or nx == "+" or nx == "*" or nx == "{" then ok = false break end
      out[#out + 1] = c; atom = false
    elseif c == "\\" then
      local e = re:sub(i + 1, i + 1)
      if ESC[e] then out[#out + 1] = ESC[e]
      elseif e ~= "" and e:match("%p") then out[#out + 1] = lua_escape(e)
      else ok = false break end
      i = i + 1; atom = true
    elseif c == "[" then
      local j, parts = i + 1, { "[" }
      if re:sub(j, j) == "^" then parts[#parts + 1] = "^"; j = j + 1 end
      local closed, first = false, true
      while j <= n do
        local d = re:sub(j, j)
        if d == "]" and not first then closed = true break end
        if d == "\\" then
          local e = re:sub(j + 1, j + 1)
          if ESC_IN_CLASS[e] then parts[#parts + 1] = ESC_IN_CLASS[e]
          elseif e ~= "" and e:match("%p") then parts[#parts + 1] = "%" .. e
          else ok = false break end
          j = j + 2
        elseif d == "[" then ok = false break
        elseif d == "%" then parts[#parts + 1] = "%%"; j = j + 1
        elseif d == "-" then
          -- a range a-z, or a literal '-' at either end of the class
          local prev, nx = re:sub(j - 1, j - 1), re:sub(j + 1, j + 1)
          if first or nx == "]" or prev == "[" or prev == "^" then parts[#parts + 1] = "%-"
          else parts[#parts + 1] = "-" end
          j = j + 1
        elseif d == "]" then parts[#parts + 1] = "%]"; j = j + 1
        else parts[#parts + 1] = d; j = j + 1 end
        first = false
      end
      if not ok then break end
      if not closed then ok = false break end
      parts[#parts + 1] = "]"
      out[#out + 1] = concat(parts)
      i = j; atom = true
    elseif c == "(" or c == ")" or c == "|" or c == "{" or c == "}" then
      ok = false break
    else
      out[#out + 1] = lua_escape(c); atom = true
    end
    i = i + 1
  end
  local p = ok and concat(out) or false
  pattern_cache[re] = p
  return p or nil
end

-- ---- the validator ---------------------------------------------------------

local function join(path, key)
  if type(key) == "number" then return path .. "[" .. num_str(key) .. "]" end
  if path == "" then return tostring(key) end
  return path .. "." .. tostring(key)
end

local function ulen(s)
  local n = utf8.len(s)
  return n or #s
end

local function check(s, v, path, errs, notes)
  if s == true or s == nil then return end
  local function err(msg) errs[#errs + 1] = (path == "" and "(root)" or path) .. ": " .. msg end
  if s == false then err("no value is allowed here") return end
  if type(s) ~= "table" then return end

  -- type
  local st = s.type
  if st ~= nil then
    local wants = type(st) == "table" and list_of(st) or { st }
    local matched = false
    for _, w in ipairs(wants) do if type_matches(v, w) then matched = true break end end
    if not matched then
      if #wants == 1 then
        err(fmt("must be %s (got %s)", wants[1], json_type(v) == "integer" and "number" or json_type(v)))
      else
        local names = {}
        for i, w in ipairs(wants) do names[i] = tostring(w) end
        err(fmt("must be one of types %s (got %s)", concat(names, ", "), json_type(v) == "integer" and "number" or json_type(v)))
      end
      return   -- the other keywords would only repeat the type error
    end
  end

  -- enum / const
  if s.enum ~= nil then
    local members, found = list_of(s.enum), false
    for _, m in ipairs(members) do if deep_equal(v, m) then found = true break end end
    if not found then
      local names = {}
      for i, m in ipairs(members) do names[i] = plain(m) end
      err(fmt("must be one of %s (got %s)", concat(names, ", "), show(v)))
    end
  end
  if s.const ~= nil and not deep_equal(v, s.const) then
    err(fmt("must be %s (got %s)", show(s.const), show(v)))
  end

  local t = type(v)
  -- numbers
  if t == "number" then
    if type(s.minimum) == "number" and v < s.minimum then err(fmt("must be ≥ %s (got %s)", num_str(s.minimum), num_str(v))) end
    if type(s.maximum) == "number" and v > s.maximum then err(fmt("must be ≤ %s (got %s)", num_str(s.maximum), num_str(v))) end
    if type(s.exclusiveMinimum) == "number" and v <= s.exclusiveMinimum then
      err(fmt("must be > %s (got %s)", num_str(s.exclusiveMinimum), num_str(v)))
    end
    if type(s.exclusiveMaximum) == "number" and v >= s.exclusiveMaximum then
      err(fmt("must be < %s (got %s)", num_str(s.exclusiveMaximum), num_str(v)))
    end
  end

  -- strings
  if t == "string" then
    local len = ulen(v)
    if type(s.minLength) == "number" and len < s.minLength then
      err(fmt("must be at least %s characters long (got %d)", num_str(s.minLength), len))
    end
    if type(s.maxLength) == "number" and len > s.maxLength then
      err(fmt("must be at most %s characters long (got %d)", num_str(s.maxLength), len))
    end
    if type(s.pattern) == "string" then
      local lp = M.translate_pattern(s.pattern)
      if not lp then
        notes[#notes + 1] = fmt("%s: pattern %s not checked (not a simple pattern)", path == "" and "(root)" or path, s.pattern)
      elseif not v:find(lp) then
        err(fmt("must match pattern %s (got %s)", s.pattern, show(v)))
      end
    end
  end

  if t ~= "table" or is_null(v) then return end
  local kind = table_kind(v)

  -- arrays
  if kind == "array" or kind == "empty" then
    local n = kind == "array" and #v or 0
    local as_array = kind == "array" or s.items ~= nil or s.minItems ~= nil or s.maxItems ~= nil
    if as_array and not (kind == "empty" and (s.properties ~= nil or s.required ~= nil)) then
      if type(s.minItems) == "number" and n < s.minItems then
        err(fmt("must have at least %s item%s (got %d)", num_str(s.minItems), s.minItems == 1 and "" or "s", n))
      end
      if type(s.maxItems) == "number" and n > s.maxItems then
        err(fmt("must have at most %s item%s (got %d)", num_str(s.maxItems), s.maxItems == 1 and "" or "s", n))
      end
      if type(s.items) == "table" or type(s.items) == "boolean" then
        for i = 1, n do check(s.items, v[i], join(path, i), errs, notes) end
      end
    end
  end

  -- objects
  if kind == "object" or kind == "empty" then
    local props = type(s.properties) == "table" and s.properties or nil
    for _, name in ipairs(list_of(s.required)) do
      if v[name] == nil then errs[#errs + 1] = join(path, name) .. ": is required" end
    end
    for _, k in ipairs(sorted_keys(v)) do
      local sub = props and props[k]
      if sub ~= nil then
        check(sub, v[k], join(path, k), errs, notes)
      elseif s.additionalProperties == false then
        errs[#errs + 1] = join(path, k) .. ": is not allowed (no such property)"
      elseif type(s.additionalProperties) == "table" then
        check(s.additionalProperties, v[k], join(path, k), errs, notes)
      end
    end
  end
end

-- validate(schema, value [, opts]) -> ok, errors, notes
function M.validate(schema, value, opts)
  local errs, notes = {}, {}
  local root = type(opts) == "table" and type(opts.root) == "string" and opts.root or ""
  check(schema, value, root, errs, notes)
  return #errs == 0, errs, notes
end

M.json_type = json_type
return M
