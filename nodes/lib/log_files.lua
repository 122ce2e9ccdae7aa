-- nodes/lib/log_files.lua: one line of a local log file -> (time, message,
-- labels) for the context collector's file source (nodes/context_collector.lua),
-- which reads the file with ctx.files.read_lines and clusters the messages
-- with nodes/lib/log_templates.lua exactly as it does Loki's lines. Pure.
--
--   local lf = require("nodes.lib.log_files")
--   local spec, err = lf.spec(cfg_entry)      -- checked {path, format, time_field, ...}
--   local t, msg, labels = lf.entry(line, spec, ctx.json.decode)
--
-- Formats:
--   jsonl  one JSON object a line; the time, message and level come from
--          time_field / message_field / level_field, or else the usual names
--          (ts, time, timestamp, @timestamp / msg, message, log / level,
--          severity, lvl). The time may be ISO-8601 or epoch (s, ms, us, ns).
--   text   the time is the leading timestamp ("2026-11-24T03:41:10.123Z ...",
--          "[2026-11-24 03:41:10] ..."), or the first capture of time_pattern
--          (a Lua pattern) when given; the whole line is the message (the
--          clusterer drops the timestamp and the level word itself).
-- A line without a readable time returns nil (a continuation line of a stack
-- trace, say); the caller counts those.
local time = require("nodes.lib.time")

local M = {}

local TS = "^%s*%[?(%d%d%d%d[%-/]%d%d[%-/]%d%d[T ]%d%d:%d%d:%d%d[%.,]?%d*Z?[%+%-]?%d?%d?:?%d?%d?)"
local TIME_KEYS = { "ts", "time", "timestamp", "@timestamp", "t", "date" }
local MSG_KEYS = { "msg", "message", "log", "text", "body" }
local LEVEL_KEYS = { "level", "severity", "lvl", "loglevel", "log.level" }

-- the checked spec of one logs.files entry (a path string or a table), or nil
-- and a message naming the problem
function M.spec(e)
  if type(e) == "string" then e = { path = e } end
  if type(e) ~= "table" or type(e.path) ~= "string" or e.path == "" then
    return nil, "an entry of logs.files needs a path: {\"path\": \"/var/log/app.log\", \"format\": \"jsonl\"|\"text\"}"
  end
  local format = e.format or (e.path:match("%.jsonl?$") and "jsonl") or (e.path:match("%.ndjson$") and "jsonl") or "text"
  if format ~= "jsonl" and format ~= "text" then
    return nil, ("logs.files %s: format \"%s\" is not \"jsonl\" or \"text\""):format(e.path, tostring(format))
  end
  for _, k in ipairs({ "time_field", "message_field", "level_field", "time_pattern" }) do
    if e[k] ~= nil and type(e[k]) ~= "string" then
      return nil, ("logs.files %s: %s must be a string"):format(e.path, k)
    end
  end
  return { path = e.path, format = format, time_field = e.time_field, message_field = e.message_field,
           level_field = e.level_field, time_pattern = e.time_pattern, max_bytes = e.max_bytes }
end

local function field(obj, name, defaults)
  if name then return obj[name] end
  for _, k in ipairs(defaults) do
    if obj[k] ~= nil then return obj[k] end
  end
  return nil
end

-- t (epoch seconds), message, labels ({level=...} or nil) of one line; nil
-- when the line has no readable time
function M.entry(line, spec, decode)
  if type(line) ~= "string" or line == "" then return nil end
  if spec.format == "jsonl" then
    local obj = decode and line:match("^%s*{") and decode(line)
    if type(obj) ~= "table" then return nil end
    local tv = field(obj, spec.time_field, TIME_KEYS)
    local t = (type(tv) == "string" or type(tv) == "number") and time.parse(tv) or nil
    if not t then return nil end
    local msg = field(obj, spec.message_field, MSG_KEYS)
    if type(msg) ~= "string" then msg = line end
    local lv = field(obj, spec.level_field, LEVEL_KEYS)
    return t, msg, type(lv) == "string" and { level = lv } or nil
  end
  local ts
  if spec.time_pattern then ts = line:match(spec.time_pattern) else ts = line:match(TS) end
  if not ts then return nil end
  local t = time.parse((ts:gsub("^(%d%d%d%d)/(%d%d)/(%d%d)", "%1-%2-%3")))
  if not t then return nil end
  return t, line, nil
end

return M
