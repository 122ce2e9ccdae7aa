-- nodes/lib/alert_text.lua: reading alerts that arrive as chat text.
--
-- Helpers for nodes/slack_alert.lua (and any node that has to make sense of
-- a monitoring message): Slack mrkdwn decoding, flattening a Slack message
-- (text, attachments, blocks) into lines, label lists in the shapes the
-- common templates print, severity words, service-name heuristics, dates
-- and "[from ~ to]" windows inside text, URL query parameters.
--
-- Nothing here raises: every function returns nil when it finds nothing,
-- and the node decides what is an error.
local time = require("nodes.lib.time")

local M = {}

-- ---------------------------------------------------------------- strings

function M.trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- a non-empty string of v (numbers are turned into strings), else nil
function M.str(v)
  if type(v) == "number" then
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then
      return tostring(math.tointeger(v))
    end
    return tostring(v)
  end
  if type(v) ~= "string" then return nil end
  local s = M.trim(v)
  if s == "" then return nil end
  return s
end

-- collapse whitespace; cut to n characters (on a UTF-8 boundary) with "…"
function M.oneline(s, n)
  s = M.trim((s:gsub("%s+", " ")))
  n = n or 300
  if #s > n then
    local cut = n
    while cut > 0 and (s:byte(cut + 1) or 0) >= 0x80 and (s:byte(cut + 1) or 0) < 0xC0 do
      cut = cut - 1
    end
    s = M.trim(s:sub(1, cut)) .. "…"
  end
  return s
end

-- strip Markdown/mrkdwn emphasis and code marks from a value: "`x`", "*x*", "_x_", "\"x\""
function M.unmark(s)
  s = M.trim(s)
  local prev
  repeat
    prev = s
    s = s:gsub("^`(.*)`$", "%1"):gsub("^%*%*(.*)%*%*$", "%1"):gsub("^%*(.*)%*$", "%1")
      :gsub("^_(.*)_$", "%1"):gsub('^"(.*)"$', "%1"):gsub("^'(.*)'$", "%1")
    s = M.trim(s)
  until s == prev
  return s
end

-- ---------------------------------------------------------------- URLs

function M.url_decode(s)
  s = s:gsub("%+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  return s
end

-- the decoded value of query parameter `name` of url, or nil
function M.query_param(url, name)
  if type(url) ~= "string" then return nil end
  local q = url:match("%?([^#]*)")
  if not q then return nil end
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    if M.url_decode(k) == name then return M.url_decode(v) end
  end
  return nil
end

-- the PromQL of a Prometheus graph link (generatorURL): g0.expr, decoded
function M.expr_from_url(url)
  local e = M.query_param(url, "g0.expr")
  if e then e = M.trim(e) end
  if e == "" then return nil end
  return e
end

-- ---------------------------------------------------------------- Slack mrkdwn

local ENTITIES = { ["&lt;"] = "<", ["&gt;"] = ">", ["&amp;"] = "&", ["&quot;"] = '"', ["&#39;"] = "'" }

function M.entities(s)
  return (s:gsub("&%a+;", ENTITIES):gsub("&#%d+;", ENTITIES))
end

-- Slack's escaped text -> plain text. Links "<url|label>" become the label
-- (the url is appended to `urls`), "<url>" the url, "<@U1>" "@U1",
-- "<!here>" "@here", "<#C1|ops>" "#ops".
function M.decode_slack(s, urls)
  s = s:gsub("<([^<>\n]*)>", function(inner)
    local target, label = inner:match("^([^|]*)|(.*)$")
    target = target or inner
    local c = target:sub(1, 1)
    if c == "@" then return label and ("@" .. label) or target end
    if c == "#" then return "#" .. (label or target:sub(2)) end
    if c == "!" then
      local word = target:sub(2):match("^([%w_]+)") or target:sub(2)
      return "@" .. (label or word)
    end
    local url = M.entities(target)
    if urls and url:match("^%a[%w+.-]*:") then urls[#urls + 1] = url end
    if label and label ~= "" then return M.entities(label) end
    return url
  end)
  return M.entities(s)
end

-- ---------------------------------------------------------------- Slack message

local function add_text(out, s)
  if type(s) ~= "string" or s == "" then return end
  s = M.decode_slack(s, out.urls):gsub("\r\n?", "\n")
  for line in (s .. "\n"):gmatch("([^\n]*)\n") do
    out.lines[#out.lines + 1] = line
  end
end

local function rich_text(el, buf)
  if type(el) ~= "table" then return end
  local t = el.type
  if t == "text" then buf[#buf + 1] = M.str(el.text) and el.text or ""
  elseif t == "link" then
    if type(el.url) == "string" then buf.urls[#buf.urls + 1] = el.url end
    buf[#buf + 1] = (type(el.text) == "string" and el.text ~= "") and el.text or (el.url or "")
  elseif t == "emoji" then buf[#buf + 1] = ":" .. tostring(el.name) .. ":"
  elseif t == "user" then buf[#buf + 1] = "@" .. tostring(el.user_id)
  elseif t == "channel" then buf[#buf + 1] = "#" .. tostring(el.channel_id)
  elseif t == "broadcast" then buf[#buf + 1] = "@" .. tostring(el.range)
  elseif t == "rich_text_list" then
    for _, item in ipairs(type(el.elements) == "table" and el.elements or {}) do
      buf[#buf + 1] = "\n• "
      rich_text(item, buf)
    end
    buf[#buf + 1] = "\n"
  elseif type(el.elements) == "table" then
    for _, sub in ipairs(el.elements) do rich_text(sub, buf) end
    if t == "rich_text_section" or t == "rich_text_preformatted" or t == "rich_text_quote" then
      buf[#buf + 1] = "\n"
    end
  end
end

local function text_of(obj)
  if type(obj) == "table" and type(obj.text) == "string" then return obj.text end
  return nil
end

local function add_blocks(out, blocks)
  if type(blocks) ~= "table" then return end
  for _, b in ipairs(blocks) do
    if type(b) == "table" then
      local t = b.type
      if t == "header" then
        local s = text_of(b.text)
        if s then
          out.titles[#out.titles + 1] = M.decode_slack(s, out.urls)
          add_text(out, s)
        end
      elseif t == "section" then
        add_text(out, text_of(b.text))
        if type(b.fields) == "table" then
          for _, f in ipairs(b.fields) do add_text(out, text_of(f)) end
        end
      elseif t == "context" and type(b.elements) == "table" then
        for _, e in ipairs(b.elements) do add_text(out, text_of(e)) end
      elseif t == "rich_text" then
        local buf = { urls = out.urls }
        rich_text(b, buf)
        local s = table.concat(buf):gsub("\r\n?", "\n")
        for line in (s .. "\n"):gmatch("([^\n]*)\n") do out.lines[#out.lines + 1] = line end
      end
    end
  end
end

-- Flattens a Slack message event into
--   { titles = {...}, lines = {...}, urls = {...}, fields = {key = value},
--     colors = {...}, title_links = {...} }
-- from its text, attachments (title, pretext, text, fields, fallback) and
-- blocks (header, section, context, rich_text). Texts are decoded from
-- Slack's escaping; field keys are lower-cased with "_" for spaces.
function M.flatten_message(ev)
  local out = { titles = {}, lines = {}, urls = {}, fields = {}, colors = {}, title_links = {} }
  -- with blocks, the top-level text is only the notification fallback: read it last
  if type(ev.blocks) == "table" and #ev.blocks > 0 then
    add_blocks(out, ev.blocks)
    add_text(out, ev.text)
  else
    add_text(out, ev.text)
  end
  if type(ev.attachments) == "table" then
    for _, a in ipairs(ev.attachments) do
      if type(a) == "table" then
        if M.str(a.title) then
          local t = M.decode_slack(a.title, out.urls)
          out.titles[#out.titles + 1] = t
          out.lines[#out.lines + 1] = t
        end
        if M.str(a.title_link) then out.title_links[#out.title_links + 1] = M.entities(a.title_link) end
        if M.str(a.color) then out.colors[#out.colors + 1] = a.color end
        add_text(out, a.pretext)
        add_text(out, a.text)
        if type(a.fields) == "table" then
          for _, f in ipairs(a.fields) do
            if type(f) == "table" and M.str(f.title) and M.str(f.value) then
              local k = M.decode_slack(f.title):lower():gsub("[^%w]+", "_"):gsub("^_+", ""):gsub("_+$", "")
              local v = M.unmark(M.decode_slack(M.str(f.value), out.urls))
              if out.fields[k] == nil then out.fields[k] = v end
            end
          end
        end
        if not M.str(a.title) and not M.str(a.text) and type(a.blocks) ~= "table" then
          add_text(out, a.fallback)
        end
        add_blocks(out, a.blocks)
      end
    end
  end
  return out
end

-- ---------------------------------------------------------------- severity

local SEVERITY = {
  critical = "critical", crit = "critical", fatal = "critical", emergency = "critical",
  emerg = "critical", disaster = "critical", page = "critical", high = "critical",
  major = "critical", error = "critical", err = "critical", severe = "critical",
  urgent = "critical", blocker = "critical", highest = "critical",
  p0 = "critical", p1 = "critical", sev0 = "critical", sev1 = "critical", s0 = "critical", s1 = "critical",
  warning = "warning", warn = "warning", medium = "warning", minor = "warning",
  average = "warning", moderate = "warning",
  p2 = "warning", p3 = "warning", sev2 = "warning", sev3 = "warning", s2 = "warning", s3 = "warning",
  info = "info", information = "info", informational = "info", notice = "info", low = "info",
  lowest = "info", none = "info", ok = "info", debug = "info",
  p4 = "info", p5 = "info", sev4 = "info", sev5 = "info", s4 = "info",
}

-- "CRITICAL", "P1", "sev-2", "Warning" -> "critical" | "warning" | "info", or nil
function M.severity(v)
  v = M.str(v)
  if not v then return nil end
  return SEVERITY[v:lower():gsub("[%s_%-`'\"*:]", "")]
end

-- words that name a severity on their own in free text (no "error", "high", "low")
local STRONG = {
  critical = true, fatal = true, emergency = true, warning = true,
  p0 = true, p1 = true, p2 = true, p3 = true, sev1 = true, sev2 = true, sev3 = true,
}
function M.severity_in_text(s)
  for w in s:gmatch("%f[%w][%w]+") do
    local l = w:lower()
    if STRONG[l] then return SEVERITY[l], w end
  end
  return nil
end

local RANK = { info = 1, warning = 2, critical = 3 }
function M.worse(a, b)
  if not a then return b end
  if not b then return a end
  return RANK[b] > RANK[a] and b or a
end

-- ---------------------------------------------------------------- services

local NOT_SERVICE = {
  rule = true, rules = true, name = true, alert = true, alerts = true, alarm = true,
  firing = true, resolved = true, triggered = true, recovered = true, notification = true,
  the = true, a = true, an = true, on = true, at = true, ["in"] = true, of = true, ["for"] = true,
  is = true, has = true, was = true, new = true, monitor = true, monitoring = true, event = true,
  prod = true, production = true, staging = true, stage = true, dev = true, test = true, qa = true,
  ["true"] = true, ["false"] = true, null = true, none = true, unknown = true, default = true,
}

-- could tok be a service name? (an identifier, not a severity, number, date or filler word)
function M.looks_like_service(tok)
  if type(tok) ~= "string" or #tok < 2 or #tok > 128 then return false end
  if not tok:match("^[%w][%w_.%-]*$") or tok:match("[.%-]$") then return false end
  if tok:match("^[%d.%-:]+$") then return false end
  if M.severity(tok) or NOT_SERVICE[tok:lower()] then return false end
  return true
end

-- does tok look like a service name on its face ("payment-service", "orders_api", "authsvc")?
function M.servicey(tok)
  if not M.looks_like_service(tok) then return false end
  local l = tok:lower()
  return l:find("[%-_]") ~= nil or l:match("svc$") ~= nil or l:match("service$") ~= nil
      or l:match("api$") ~= nil or l:match("server$") ~= nil
end

-- the first "<x>-service" / "<x>-svc" / "<x>-api"-like token of s
function M.service_token(s)
  for tok in s:gmatch("[%w][%w_.%-]*[%w]") do
    local l = tok:lower()
    if (l:match("[%-_]service$") or l:match("[%-_]svc$") or l:match("[%-_]api$")
        or l:match("[%-_]server$") or l:match("[%-_]worker$")) and M.looks_like_service(tok) then
      return tok
    end
  end
  return nil
end

-- value of "key: value" / "key = value" in free text, for any key in keys
-- (matched case-insensitively, as a whole word: "service" does not match
-- the end of "order-service"). Returns value (up to , ; | or end of line),
-- the key that matched.
function M.inline_value(s, keys)
  local lower = s:lower()
  for _, key in ipairs(keys) do
    local pat = "%f[%w_.%-]" .. key:gsub("%s+", "%%s*"):gsub("%-", "%%-") .. "%**%s*([:=])%**%s*()"
    local init = 1
    while true do
      local a, _, sep, pos = lower:find(pat, init)
      if not a then break end
      local v
      if sep == "=" then
        v = s:match('^"([^"\n]*)"', pos) or s:match("^([^%s,;|]*)", pos)   -- key=value, key="a b"
      else
        v = s:match("^([^,;|\n]*)", pos)
        -- "Rule Name: X severity: critical": stop before the next "key:" / "key="
        local cut = v and (v:find("%s+[%a_][%w_]*=%S") or v:find("%s+[Ss]everity%s*:") or
          v:find("%s+[Ll]evel%s*:") or v:find("%s+[Pp]riority%s*:") or v:find("%s+[Ss]ervice%s*:"))
        if cut then v = v:sub(1, cut - 1) end
      end
      v = v and M.unmark(v)
      if v and v ~= "" then return v, key end
      init = a + 1
    end
  end
  return nil
end

-- ---------------------------------------------------------------- label lists

-- Reads the label/annotation lists the usual templates print:
--   Grafana and Alertmanager's __text_alert_list:   "Labels:" then " - name = value"
--   the popular Alertmanager Slack template:         "*Details:*" / "*Labels:*" then " • *name:* `value`"
--   one-line lists:                                  "Labels: alertname=X, service=\"y\""
-- and "*Key:* value" / "Key: value" lines outside a list (into fields).
-- Only the first alert's list is kept when a message lists several.
-- Returns { labels = {}, annotations = {}, fields = {}, value = "...", nlabels = n }.
function M.read_lists(lines)
  local r = { labels = {}, annotations = {}, fields = {}, nlabels = 0 }
  local section, done_labels, done_ann = nil, false, false
  local function put(k, v)
    k = k:lower()
    v = M.unmark(v)
    if v == "" then return end
    if section == "labels" then
      if not done_labels and r.labels[k] == nil then r.labels[k] = v; r.nlabels = r.nlabels + 1 end
    elseif section == "annotations" then
      if not done_ann and r.annotations[k] == nil then r.annotations[k] = v end
    elseif r.fields[k] == nil then
      r.fields[k] = v
    end
  end
  for _, raw in ipairs(lines) do
    local line = M.trim((raw:gsub("•", "-"):gsub("◦", "-"):gsub("▪", "-")))
    local head = line:gsub("%*", ""):lower()
    local head_rest
    local h = head:match("^([%a ]+):%s*$")
    if not h then h, head_rest = head:match("^(labels):%s*(%S.*)$") end
    if h == "labels" or h == "details" or h == "alert labels" or h == "additional labels" then
      if r.nlabels > 0 then done_labels = true end
      section = "labels"
      if head_rest then
        -- one-line list: Labels: alertname=X, service="y"  or  {alertname="X", ...}
        local rest = line:match("[Ll]abels%*?:%*?%s*(.*)$") or ""
        for k, v in rest:gmatch('([%a_][%w_]*)%s*=%s*"?([^",{}]*)"?') do put(k, v) end
        section = nil
        if r.nlabels > 0 then done_labels = true end
      end
    elseif h == "annotations" or h == "additional annotations" then
      if next(r.annotations) then done_ann = true end
      section = "annotations"
    elseif line == "" then
      -- a blank line ends nothing by itself in Grafana's list; keep the section
    else
      local k, v = line:match("^[%-*]%s*([%w_.]+)%s*=%s*(.-)$")                 -- " - name = value"
      if not k then k, v = line:match("^%-%s*%*([%w_.%-]+):%*%s*(.-)$") end        -- "• *name:* `value`"
      if not k then k, v = line:match("^%-%s*([%w_.%-]+):%s+(.-)$") end            -- "• name: value"
      if k and (section == "labels" or section == "annotations") then
        put(k, v)
      else
        -- a "Key: value" line closes any list, and is a field
        local fk, fv = line:match("^%**([%a][%w _%-]-)%**:%**%s*(.-)$")
        if fk and #fk <= 40 then
          local key = M.trim(fk):lower():gsub("[%s%-]+", "_")
          if key == "value" or key == "values" then r.value = r.value or M.unmark(fv) end
          section = nil
          if fv ~= "" then put(key, fv) end
          if r.nlabels > 0 then done_labels = true end
        elseif k then
          put(k, v)
        end
      end
    end
  end
  return r
end

-- ---------------------------------------------------------------- "[FIRING:n] ..." titles

-- "[FIRING:2] HighErrorRate (payment-service critical)" ->
--   { status = "firing", count = 2, name = "HighErrorRate",
--     group = {"HighErrorRate"}, common = {"payment-service", "critical"} }
-- Also "[FIRING:1, RESOLVED:1] ...", "*[RESOLVED]* ...", ":fire: [FIRING:1] ...".
function M.parse_title(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("%s+|%s+%S+%s*$", "")          -- Alertmanager's fallback: "<title> | <url>"
  for pos in s:gmatch("()%[") do
    local word, inner, rest = s:match("^%[%s*(%a+)([^%]]*)%]%**%s*(.*)$", pos)
    local status = word and word:lower()
    if status == "firing" or status == "resolved" then
      local r = { status = status, count = tonumber(inner:match("^%s*:%s*(%d+)") or "") }
      rest = M.trim(rest)
      local paren
      local before, p = rest:match("^(.-)%s*%(([^()]*)%)%s*$")
      if before then rest, paren = before, p end
      r.group, r.common = {}, {}
      for tok in rest:gmatch("%S+") do r.group[#r.group + 1] = tok end
      if paren then for tok in paren:gmatch("%S+") do r.common[#r.common + 1] = tok end end
      r.name = r.group[1]
      return r
    end
  end
  return nil
end

-- ---------------------------------------------------------------- dates in text

-- The zone hint of a message: "(UTC+08:00)", "UTC+8", "GMT-5", "Timezone: +08:00"
-- near `at` (just after a window) or anywhere. Seconds east of UTC, or nil.
function M.zone_hint(s, at)
  local function try(str)
    local z = str:match("^%s*%(?%s*(UTC%s*[+-]%s*%d%d?:?%d?%d?)%s*%)?")
      or str:match("^%s*%(?%s*(GMT%s*[+-]%s*%d%d?:?%d?%d?)%s*%)?")
      or str:match("^%s*%(?%s*(UTC)%s*%)?%f[%W]") or str:match("^%s*%(?%s*(GMT)%s*%)?%f[%W]")
      or str:match("^%s*%(?([+-]%d%d:?%d%d)%)?")
    if z then return time.parse_offset((z:gsub("%s+", ""))) end
    return nil
  end
  if at then
    local off = try(s:sub(at))
    if off then return off end
  end
  local z = s:match("%f[%w](UTC%s?[+-]%d%d?:?%d?%d?)") or s:match("%f[%w](GMT%s?[+-]%d%d?:?%d?%d?)")
  if not z then
    local tz = s:lower():match("time%s*zone%s*[:=]%s*()")
    if tz then z = s:match("^%s*([%w+:%-]+)", tz) end
  end
  if z then return time.parse_offset((z:gsub("%s+", ""))) end
  return nil
end

-- Finds the date-times in s: a list of {s = start, e = end, text = ..., zoned = bool},
-- in order. Recognises "2026-11-24 02:13:00", "2026/11/24T02:13", ISO with
-- fractions and zones ("Z", "+08:00", " UTC"), "Nov 24, 2026 02:13:00" and
-- "24 Nov 2026 02:13".
local DATE_STARTS = {
  "%f[%d]%d%d%d%d[-/.]%d%d?[-/.]%d%d?%f[%D]",     -- 2026-11-24
  "%f[%a]%a+%.?%s+%d%d?,?%s+%d%d%d%d%f[%D]",       -- Nov 24, 2026
  "%f[%d]%d%d?%s+%a+%.?,?%s+%d%d%d%d%f[%D]",       -- 24 Nov 2026
}

local function extend_date(s, a, b)
  local e = b
  local t = s:match("^[T ]%d%d?:%d%d", e + 1) or s:match("^,%s*%d%d?:%d%d", e + 1)
  if t then
    e = e + #t
    local sec = s:match("^:%d%d", e + 1); if sec then e = e + #sec end
    local frac = s:match("^[.,]%d+", e + 1); if frac then e = e + #frac end
  end
  local zoned = false
  local z = s:match("^Z%f[%W]", e + 1) or s:match("^%s?[+-]%d%d:?%d%d%f[%D]", e + 1)
    or s:match("^%s?UTC%f[%W]", e + 1) or s:match("^%s?GMT%f[%W]", e + 1)
  if z and t then
    e = e + #z
    zoned = true
  end
  return { s = a, e = e, text = s:sub(a, e), zoned = zoned, has_time = t ~= nil }
end

function M.find_dates(s)
  local found = {}
  for _, pat in ipairs(DATE_STARTS) do
    local init = 1
    while true do
      local a, b = s:find(pat, init)
      if not a then break end
      local d = extend_date(s, a, b)
      if time.parse(d.text) then found[#found + 1] = d end   -- "Rule 12, 2026" is no date
      init = b + 1
    end
  end
  table.sort(found, function(x, y) return x.s < y.s end)
  local out, last_e = {}, 0
  for _, d in ipairs(found) do
    if d.s > last_e then out[#out + 1] = d; last_e = d.e end
  end
  return out
end

-- the offset of a date text's own zone ("...Z", "...+08:00", "... UTC"), or nil
local function date_zone(text)
  local z = text:match("([+-]%d%d:?%d%d)$") or text:match("(Z)$") or text:match("(UTC)$")
    or text:match("(GMT)$")
  return z and time.parse_offset(z) or nil
end

-- The first "from ~ to" window of s: "[2026-11-24 02:13:00 ~ 2026-11-24 02:18:00]",
-- "2026/11/24 11:41:10 ~ 11:46:10 (UTC+08:00)", "from X to Y", "X – Y".
-- Dates without a zone take the zone hint of the text, else UTC.
-- Returns from, to (epoch seconds; to may be nil) or nil.
function M.find_window(s)
  s = s:gsub("～", "~"):gsub(" – ", " ~ "):gsub(" — ", " ~ ")
  local dates = M.find_dates(s)
  for i, d in ipairs(dates) do
    local after = d.e + 1
    local sep = s:match("^%s*~%s*", after) or s:match("^%s+to%s+", after) or s:match("^%s+%-%s+", after)
      or s:match("^%s+until%s+", after)
    if sep then
      local pos = after + #sep
      local nxt = dates[i + 1]
      local end_text, end_e, clock
      if nxt and nxt.s == pos then
        end_text, end_e = nxt.text, nxt.e
      else
        clock = s:match("^(%d%d?:%d%d:?%d?%d?)", pos)
        if clock then
          end_e = pos + #clock - 1
          local z = s:match("^%s?[+-]%d%d:?%d%d%f[%D]", end_e + 1) or s:match("^Z%f[%W]", end_e + 1)
          if z then clock = clock .. z; end_e = end_e + #z end
        end
      end
      if end_text or clock then
        local close = s:match("^%s*%]()", end_e + 1) or (end_e + 1)
        local hint = M.zone_hint(s, close)
        local off = hint or 0
        local from = time.parse(d.text, { offset = off })
        local to
        if end_text then
          to = time.parse(end_text, { offset = off })
        elseif from then
          -- "HH:MM[:SS]" on the start's (local) date; past midnight when it is earlier
          local start_off = d.zoned and date_zone(d.text) or off
          local y, m, dd = time.to_civil(from + start_off)
          local zone = clock:match("([Zz])$") or clock:match("([+-]%d%d:?%d%d)$")
          local hh = zone and clock:sub(1, #clock - #zone) or clock
          local zoff = zone and time.parse_offset(zone) or start_off
          to = time.parse(("%04d-%02d-%02d %s"):format(y, m, dd, M.trim(hh)), { offset = zoff })
          if to and to < from then to = to + 86400 end
        end
        if from then return from, to end
      end
    end
  end
  return nil
end

-- the first date-time of s (with the text's zone hint), or nil
function M.first_date(s)
  local dates = M.find_dates(s)
  if not dates[1] then return nil end
  local hint = M.zone_hint(s, dates[1].e + 1) or 0
  return time.parse(dates[1].text, { offset = hint }), dates[1]
end

return M
