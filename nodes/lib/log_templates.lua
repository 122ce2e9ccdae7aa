-- nodes/lib/log_templates.lua: clusters log lines into templates for the
-- context collector (nodes/context_collector.lua). Pure: no ctx, no I/O.
--
--   local lt = require("nodes.lib.log_templates")
--   lt.parse(line [, labels, decode])  --> {message, level?}  (JSON / logfmt / "TS LEVEL msg")
--   lt.mask(message)                   --> "connection pool exhausted after <DUR> (pool=<ID>, ...)"
--   lt.level(message, hint)            --> "error" | "warn" | "info" | "debug"
--   local c = lt.new(); c:add(line, t_seconds, labels); c:result(opts)
--
-- Masks, in this order (the word structure is kept, only values change):
--   "..." and '...'        -> <STR>      user@host.tld            -> <EMAIL>
--   8-4-4-4-12 hex UUIDs   -> <UUID>     IPv4 (with :port)        -> <IP>
--   0x1f3a, long hex runs  -> <HEX>      ISO timestamps           -> <TS>
--   5000ms, 1.5s, 300us... -> <DUR>      words mixing letters and digits
--                                        (pi_3Nx, req_9000AbC, 8f1c) -> <ID>
--   other numbers          -> <NUM>
-- A JSON line ({"msg"|"message"|"log": ...}) or a logfmt line (msg="...") is
-- reduced to its message first, and a leading timestamp and level word are
-- dropped, so the same event in two formats gives one template.
local M = {}

local slower, sfind, smatch, sgsub, ssub = string.lower, string.find, string.match, string.gsub, string.sub

local LEVELS = {
  fatal = "error", panic = "error", critical = "error", crit = "error", emerg = "error", alert = "error",
  error = "error", err = "error", severe = "error", e = "error",
  warning = "warn", warn = "warn", w = "warn",
  info = "info", notice = "info", i = "info", information = "info",
  debug = "debug", trace = "debug", d = "debug", dbug = "debug",
}

local function norm_level(v)
  if type(v) ~= "string" then return nil end
  local l = LEVELS[slower(v)]
  if l and #v == 1 then return nil end   -- single letters only from explicit fields
  return l
end

-- level from explicit fields first (labels level/severity/detected_level),
-- then a level word in the line, then keywords.
function M.level(message, hint)
  local l = type(hint) == "string" and LEVELS[slower(hint)]
  if l then return l end
  local m = slower(message or "")
  for w in m:gmatch("%f[%a](%a+)%f[%A]") do
    if w == "error" or w == "fatal" or w == "panic" or w == "critical" or w == "severe" then return "error" end
    if w == "warn" or w == "warning" then return "warn" end
    break                                  -- only the first word counts as a level token
  end
  if sfind(m, "exception") or sfind(m, "failed") or sfind(m, "fatal") or sfind(m, "%f[%a]error%f[%A]")
    or sfind(m, "timeout") or sfind(m, "timed out") or sfind(m, "refused") or sfind(m, "exhausted")
    or sfind(m, "panic") then
    return "error"
  end
  if sfind(m, "%f[%a]warn") or sfind(m, "deprecated") or sfind(m, "retry") or sfind(m, "slow") then return "warn" end
  if sfind(m, "%f[%a]debug%f[%A]") then return "debug" end
  return "info"
end

local TS = "%d%d%d%d%-%d%d%-%d%d[T ]%d%d:%d%d:%d%d[%.,]?%d*Z?[%+%-]?%d?%d?:?%d?%d?"

-- {message, level?} of one raw line. labels: the Loki stream labels;
-- decode: a JSON decoder (ctx.json.decode), optional.
function M.parse(line, labels, decode)
  local level = labels and (labels.level or labels.severity or labels.detected_level or labels.lvl)
  level = type(level) == "string" and LEVELS[slower(level)] or nil
  local msg = line
  if decode and smatch(line, "^%s*{") then
    local obj = decode(line)
    if type(obj) == "table" then
      local m = obj.msg or obj.message or obj.log or obj.text
      if type(m) == "string" then msg = m end
      local lv = obj.level or obj.severity or obj.lvl or obj.loglevel
      if not level and type(lv) == "string" then level = LEVELS[slower(lv)] end
      return { message = msg, level = level }
    end
  end
  -- logfmt: level=warn msg="..."
  local lf = smatch(line, '%f[%w]msg="(.-[^\\])"') or smatch(line, '%f[%w]message="(.-[^\\])"')
    or smatch(line, "%f[%w]msg=([^%s\"]+)")
  if lf and smatch(line, "^%s*[%w_%.]+=") then
    local lv = smatch(line, "%f[%w]level=\"?(%a+)") or smatch(line, "%f[%w]lvl=\"?(%a+)")
    if not level and lv then level = LEVELS[slower(lv)] end
    return { message = lf, level = level }
  end
  -- "TS LEVEL rest", "[TS] [LEVEL] rest"
  local rest = sgsub(line, "^%s*%[?" .. TS .. "%]?%s*", "", 1)
  local lw, after = smatch(rest, "^%[?(%a+)%]?:?%s+(.*)$")
  if lw and LEVELS[slower(lw)] and #lw > 1 then
    if not level then level = LEVELS[slower(lw)] end
    rest = after
  end
  return { message = rest, level = level }
end

local function piece(w)
  if not sfind(w, "%d") then return w end
  if smatch(w, "^[%d%.%-%+]+$") then return "<NUM>" end
  if smatch(w, "^[vV]%d+$") then return w end     -- v1, V2: API versions stay
  if smatch(w, "^%d+[xX]$") then return "<NUM>x" end
  return "<ID>"
end

function M.mask(s)
  if type(s) ~= "string" then return "" end
  s = sgsub(s, '"[^"]*"', "<STR>")
  s = sgsub(s, "%f[%w']'[^']*'", "<STR>")
  s = sgsub(s, "[%w%._%%%+%-]+@[%w%-]+%.[%w%.%-]*%a", "<EMAIL>")
  s = sgsub(s, "%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x", "<UUID>")
  s = sgsub(s, TS, "<TS>")
  s = sgsub(s, "%f[%d]%d+%.%d+%.%d+%.%d+:%d+%f[%D]", "<IP>")
  s = sgsub(s, "%f[%d]%d+%.%d+%.%d+%.%d+%f[%D]", "<IP>")
  s = sgsub(s, "%f[%w]0[xX]%x+%f[%W]", "<HEX>")
  s = sgsub(s, "%f[%w]%x+%f[%W]", function(h)          -- bare hex runs: 12+ chars with a digit and a letter
    if #h >= 12 and sfind(h, "%d") and sfind(h, "%a") then return "<HEX>" end
    return nil
  end)
  s = sgsub(s, "%f[%w%.]%d+%.?%d*([mun]?s)%f[%W]", "<DUR>")
  s = sgsub(s, "%f[%w%.]%d+%.?%d*(µs)", "<DUR>")
  s = sgsub(s, "%f[%w%.]%d+%.?%d*([mh])%f[%W]", "<DUR>")
  s = sgsub(s, "[%w_%.%-]+", function(w)
    if smatch(w, "^%u+$") then return nil end            -- placeholders and capitals
    local core, dot = smatch(w, "^(.-)(%.*)$")           -- a sentence's final dot is not part of the word
    return piece(core) .. dot
  end)
  s = sgsub(s, "%s+", " ")
  s = sgsub(s, "^ ", "")
  s = sgsub(s, " $", "")
  return s
end

-- ---- the clusterer --------------------------------------------------------

local C = {}
C.__index = C

function M.new(decode)
  return setmetatable({ by = {}, order = {}, total = 0, decode = decode }, C)
end

-- add(line, t, labels): t = epoch seconds of the line (for first_seen)
function C:add(line, t, labels)
  if type(line) ~= "string" then return end
  self.total = self.total + 1
  local p = M.parse(line, labels, self.decode)
  local tpl = M.mask(p.message)
  local key = M.key(tpl)
  local e = self.by[key]
  if not e then
    e = { template = tpl, count = 0, levels = {}, first_t = t, example = line, example_t = t }
    self.by[key] = e
    self.order[#self.order + 1] = e
  end
  e.count = e.count + 1
  local lv = M.level(p.message, p.level)
  e.levels[lv] = (e.levels[lv] or 0) + 1
  if t and (not e.first_t or t < e.first_t) then e.first_t = t end
  if t and e.example_t and t < e.example_t then e.example, e.example_t = line, t end
end

-- the clustering key of a template: <ID> and <NUM> count as one mask, so
-- "session:8f1c" and "session:9070" fall into one template
function M.key(template) return (sgsub(template, "<ID>", "<NUM>")) end

function C:has(template) return self.by[M.key(template)] ~= nil end

local RANK = { error = 4, warn = 3, info = 2, debug = 1 }

-- result{baseline = clusterer or set, max = N, fmt_time = fn, example_max = bytes}:
-- templates sorted by count (ties: the template text), each {template, count,
-- first_seen, level, example, new}. `new` is absent when no baseline is given.
function C:result(opts)
  opts = opts or {}
  local list = {}
  for _, e in ipairs(self.order) do list[#list + 1] = e end
  table.sort(list, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.template < b.template
  end)
  local out = {}
  local max = opts.max or #list
  for i = 1, math.min(max, #list) do
    local e = list[i]
    local lv, best = "info", -1
    for l, n in pairs(e.levels) do
      if n > best or (n == best and RANK[l] > RANK[lv]) then lv, best = l, n end
    end
    local ex = e.example
    local em = opts.example_max or 200
    if #ex > em then ex = ssub(ex, 1, em - 3) .. "..." end
    local r = { template = e.template, count = e.count, level = lv, example = ex,
                first_seen = e.first_t and (opts.fmt_time and opts.fmt_time(e.first_t) or e.first_t) or nil }
    if opts.baseline then
      local b = opts.baseline
      if type(b.has) == "function" then r.new = not b:has(e.template) else r.new = b[e.template] ~= true end
    end
    out[#out + 1] = r
  end
  return out, #list
end

return M
