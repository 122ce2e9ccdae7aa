-- nodes/lib/alert_intake.lua: the trigger of an incident run -> the `alert` channel.
--
-- The logic behind nodes/slack_alert.lua. Three kinds of trigger are read:
--
--   slack         a Slack Events API body (type "event_callback") whose event
--                 is a message posted by a monitoring bot, or the bare event:
--                 plain text ("[MATRIX-APM] order-service Rule Name: SlowSQL,
--                 severity: critical ... [2026-11-24 02:13:00 ~ 2026-11-24 02:18:00]"),
--                 Alertmanager's Slack notifications ("[FIRING:2] HighErrorRate
--                 (payment-service critical)", "*Alert:*", "• *service:* `x`"),
--                 Grafana's Slack contact point ("Value: ...", "Labels:",
--                 " - service = x"), in text, attachments or blocks;
--   alertmanager  an Alertmanager webhook body, version "4";
--   manual        {"service": ..., "time": ..., "severity"?, "summary"?, "ends_at"?}.
--
-- Anything else is an error that says what was missing and what is accepted.
--
--   local intake = require("nodes.lib.alert_intake")
--   local alert = intake.parse(trigger, now, opts)     -- pure: raises on a bad trigger
--   g:node("slack_alert", intake.node{ lookback = "30m", service_labels = {"app"} })
--
-- Options (all optional; M.DEFAULTS holds the defaults):
--   service_labels    label names that name the service, in order of preference
--   generic_jobs      `job` values that name an exporter, not a service
--   lookback          how far before started_at the window starts (default 15m)
--   lookahead         the shortest window after started_at (default 15m)
--   max_window        the longest window after started_at while still firing (default 6h):
--                     an alert replayed days later must not make the collectors
--                     read days of data
--   default_severity  when the trigger names none (default "warning")
-- Durations are seconds or "15m", "1h30m".
local time = require("nodes.lib.time")
local tx = require("nodes.lib.alert_text")

local M = {}

M.DEFAULTS = {
  service_labels = { "service", "service_name", "app", "application", "app_kubernetes_io_name",
                     "k8s_app", "job" },
  generic_jobs = { "node", "node-exporter", "node_exporter", "kubelet", "cadvisor",
                   "kube-state-metrics", "blackbox", "blackbox-exporter", "prometheus",
                   "alertmanager", "pushgateway", "federate", "apiserver", "kubernetes-*" },
  lookback = 900,
  lookahead = 900,
  max_window = 6 * 3600,
  default_severity = "warning",
}

M.ACCEPTED = "accepted triggers are a Slack Events API body (type \"event_callback\") carrying a " ..
  "monitoring bot's message, an Alertmanager webhook (version \"4\" with alerts[]), or a manual " ..
  "{\"service\": ..., \"time\": ...}"

local function fail(fmt, ...)
  error("slack_alert: " .. fmt:format(...), 0)
end

local function keys_of(t)
  local ks = {}
  if type(t) == "table" then
    for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  end
  table.sort(ks)
  return ks
end

local function options(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do
    if o[k] == nil then fail("unknown option '%s' (known: %s)", tostring(k), table.concat(keys_of(M.DEFAULTS), ", ")) end
    o[k] = v
  end
  for _, k in ipairs({ "lookback", "lookahead", "max_window" }) do
    local d = time.duration(o[k])
    if not d then fail("option %s = %s is not a duration (seconds, or like \"15m\", \"1h30m\")", k, tostring(o[k])) end
    o[k] = d
  end
  if not tx.severity(o.default_severity) then
    fail("option default_severity = %s is not critical, warning or info", tostring(o.default_severity))
  end
  o.default_severity = tx.severity(o.default_severity)
  return o
end

-- a label table with string values only (JSON nulls and tables dropped)
local function string_labels(t, into)
  into = into or {}
  if type(t) == "table" then
    for k, v in pairs(t) do
      local s = tx.str(v)
      if type(k) == "string" and s then into[k] = s end
    end
  end
  return into
end

local function is_generic_job(v, o)
  for _, g in ipairs(o.generic_jobs) do
    if g:sub(-1) == "*" then
      if v:sub(1, #g - 1) == g:sub(1, -2) then return true end
    elseif v == g then
      return true
    end
  end
  return false
end

-- the service named by labels (first of o.service_labels that is set); the
-- second result explains a rejected generic job, for the error message
local function service_from_labels(labels, o)
  local note
  for _, name in ipairs(o.service_labels) do
    local v = tx.str(labels[name])
    if v then
      if name == "job" and is_generic_job(v, o) then
        note = ("job='%s' names an exporter, not a service"):format(v)
      else
        return v, name
      end
    end
  end
  return nil, note
end

-- The incident window: from = started - lookback; to = ends_at when the
-- alert is over, started + lookahead for a manual trigger, else (still
-- firing) now, kept between started + lookahead (or the last time the
-- source saw it) and started + max_window.
local function window(started, ends, last_seen, firing, now, o)
  local to
  if ends then
    to = ends
  else
    local lo = math.max(started + o.lookahead, last_seen or started)
    if firing then
      to = math.min(math.max(now, lo), math.max(started + o.max_window, lo))
    else
      to = lo
    end
  end
  return { from = time.format(started - o.lookback), to = time.format(to) }
end

local function finish(a, started, ends, last_seen, firing, now, o)
  a.started_at = time.format(started)
  if ends then a.ends_at = time.format(ends) end
  a.window = window(started, ends, last_seen, firing, now, o)
  return a
end

-- ---------------------------------------------------------------- Alertmanager

local function parse_alertmanager(t, now, o, raw)
  if t.version ~= nil and tostring(t.version) ~= "4" then
    fail("the Alertmanager webhook has version %s; only version \"4\" is read", tostring(t.version))
  end
  local where = ("the Alertmanager webhook (receiver '%s')"):format(tx.str(t.receiver) or "?")
  if type(t.alerts) ~= "table" or #t.alerts == 0 then
    fail("%s has no alerts: alerts[] is empty or missing, so there is nothing to investigate", where)
  end
  local firing, resolved = {}, {}
  for i, a in ipairs(t.alerts) do
    if type(a) ~= "table" then fail("%s: alerts[%d] is not an object", where, i - 1) end
    local st = tx.str(a.status) or tx.str(t.status) or "firing"
    if st == "resolved" then resolved[#resolved + 1] = a else firing[#firing + 1] = a end
  end
  local is_firing = #firing > 0
  local group = is_firing and firing or resolved

  -- the primary alert: the earliest startsAt of the group
  local primary, started
  for _, a in ipairs(group) do
    local s = time.parse(a.startsAt)
    if s and (not started or s < started) then primary, started = a, s end
  end
  if not started then
    fail("%s: no alert has a readable startsAt (got %s); %s", where,
         tostring(tx.str(group[1].startsAt) or "none"), time.ACCEPTED)
  end

  local labels = string_labels(primary.labels)
  string_labels(t.commonLabels, labels)
  local name = tx.str(labels.alertname) or "alert"

  local service, how = service_from_labels(labels, o)
  if not service then
    for _, a in ipairs(group) do
      service = service_from_labels(string_labels(a.labels), o)
      if service then break end
    end
  end
  if not service then
    service = service_from_labels(string_labels(t.groupLabels), o)
  end
  if not service then
    fail("the Alertmanager alert '%s' names no service: looked for the labels %s%s; its labels are %s; " ..
         "add a service label to the alert rule (or list the label that names it in service_labels)",
         name, table.concat(o.service_labels, ", "), how and (" (" .. how .. ")") or "",
         table.concat(keys_of(labels), ", "))
  end

  local severity
  for _, a in ipairs(group) do
    severity = tx.worse(severity, tx.severity(type(a.labels) == "table" and a.labels.severity or nil))
  end
  severity = severity or tx.severity(labels.severity) or o.default_severity

  local ann = string_labels(primary.annotations)
  local common = string_labels(t.commonAnnotations)
  local summary = ann.summary or common.summary or ann.description or common.description
    or ann.message or common.message or (name .. " on " .. service)
  summary = tx.oneline(summary, 500)
  if #group > 1 then
    summary = ("%s (%d alerts %s)"):format(summary, #group, is_firing and "firing" or "resolved")
  end
  local description = ann.description or common.description

  local expr, generator
  for _, a in ipairs({ primary, table.unpack(group) }) do
    if not expr and tx.str(a.generatorURL) then
      expr = tx.expr_from_url(a.generatorURL)
      generator = generator or a.generatorURL
    end
  end

  local ends
  if not is_firing then
    for _, a in ipairs(resolved) do
      local e = time.parse(a.endsAt)
      if e and e > started and (not ends or e > ends) then ends = e end
    end
  end

  local alert = {
    source = "alertmanager", service = service, severity = severity, summary = summary,
    labels = labels, expr = expr, raw = raw, status = is_firing and "firing" or "resolved",
    name = name, description = description and tx.oneline(description, 1000) or nil,
    group_key = tx.str(t.groupKey), generator_url = generator, alerts = #group,
  }
  return finish(alert, started, ends, nil, is_firing, now, o)
end

-- ---------------------------------------------------------------- manual

local function parse_manual(t, now, o, raw)
  local service = tx.str(t.service)
  if not service then
    fail("the manual trigger has no service (got %s); send {\"service\": \"payment-service\", " ..
         "\"time\": \"2026-11-24T02:13:00Z\"}", t.service == nil and "no 'service' key" or
         ("service = " .. tostring(t.service)))
  end
  local started
  local tv = t.time
  if tv == nil then tv = t.started_at end
  if tv == nil then
    started = math.floor(now)
  else
    local err
    started, err = time.parse(tv)
    if not started then
      fail("the manual trigger's time is not a time: %s; accepted are %s", err, time.ACCEPTED)
    end
  end
  local ends
  local ev = t.ends_at or t["end"]
  if ev ~= nil and tx.str(ev) then
    local err
    ends, err = time.parse(ev)
    if not ends then fail("the manual trigger's ends_at is not a time: %s", err) end
    if ends < started then fail("the manual trigger ends (%s) before it starts (%s)", time.format(ends), time.format(started)) end
  end
  local severity = o.default_severity
  if t.severity ~= nil then
    severity = tx.severity(t.severity)
    if not severity then
      fail("the manual trigger's severity '%s' is not one of critical, warning, info (P1..P4 and " ..
           "sev1..sev4 are understood too)", tostring(t.severity))
    end
  end
  local labels = string_labels(t.labels)
  labels.service = labels.service or service
  local alert = {
    source = "manual", service = service, severity = severity,
    summary = tx.oneline(tx.str(t.summary) or ("manual investigation of " .. service), 500),
    labels = labels, raw = raw, status = ends and "resolved" or "firing",
    name = tx.str(t.name) or "manual",
    expr = tx.str(t.expr),
  }
  return finish(alert, started, ends, nil, false, now, o)
end

-- ---------------------------------------------------------------- Slack

local RULE_KEYS = { "rule name", "rule_name", "alert name", "alertname", "alert rule", "rule", "monitor" }
local SERVICE_KEYS = { "service name", "service_name", "service", "app name", "app_name", "application",
                       "app", "svc", "component" }
local SEVERITY_KEYS = { "severity", "level", "priority", "alert level", "sev" }
local STARTED_KEYS = { "started", "starts_at", "startsat", "start_time", "started_at", "fired_at",
                       "triggered_at", "since", "time", "alert_time", "date" }

local function bot_name(ev)
  return tx.str(ev.username) or (type(ev.bot_profile) == "table" and tx.str(ev.bot_profile.name))
      or tx.str(ev.bot_id) or "unknown bot"
end

local function parse_slack(t, ev, now, o, raw)
  if type(ev) ~= "table" then
    fail("the Slack event_callback has no event object (keys: %s)", table.concat(keys_of(t), ", "))
  end
  if ev.type ~= "message" and ev.type ~= "app_mention" then
    fail("the Slack event is of type '%s', not a message; only messages posted by monitoring bots " ..
         "are read (subscribe the app to message.channels)", tostring(ev.type))
  end
  if ev.subtype == "message_changed" and type(ev.message) == "table" then
    local inner = ev.message
    inner.type = inner.type or "message"
    inner.ts = inner.ts or ev.ts
    ev = inner
  elseif ev.subtype == "message_deleted" or ev.subtype == "channel_join" or ev.subtype == "channel_leave" then
    fail("the Slack message event has subtype '%s', which carries no alert", tostring(ev.subtype))
  end
  local is_bot = tx.str(ev.bot_id) or ev.subtype == "bot_message" or type(ev.bot_profile) == "table"
  if not is_bot then
    fail("the Slack message from user %s was not posted by a bot (no bot_id, subtype is not " ..
         "bot_message); only monitoring bots' alerts start a run", tostring(tx.str(ev.user) or "?"))
  end
  local bot = bot_name(ev)
  local msg = tx.flatten_message(ev)
  local body = table.concat(msg.lines, "\n")
  if not body:match("%S") then
    fail("the Slack message from bot '%s' has no text, attachments or blocks to read", bot)
  end
  local lists = tx.read_lists(msg.lines)
  local fields = lists.fields
  for k, v in pairs(msg.fields) do if fields[k] == nil then fields[k] = v end end

  -- "[FIRING:n] name (values)" title, from the titles first, then any line
  local title
  for _, s in ipairs(msg.titles) do title = title or tx.parse_title(s) end
  if not title then
    for _, s in ipairs(msg.lines) do
      title = tx.parse_title(s)
      if title then break end
    end
  end
  -- "[MATRIX-APM] ..." style monitor tag at the start of the text
  local tag, after_tag
  for _, s in ipairs(msg.lines) do
    local t1, pos = s:match("^%s*%**%[([%w][%w _.%-]*)%]%**()")
    if t1 and not tx.parse_title(s) and not t1:match("^%d") then
      tag, after_tag = t1, s:sub(pos)
      -- more tags ("[MATRIX-APM][P1][prod] ...") are not the text
      local more = after_tag:match("^%s*%[[^%]~]*%]()")
      while more do
        after_tag = after_tag:sub(more)
        more = after_tag:match("^%s*%[[^%]~]*%]()")
      end
      break
    end
  end

  local labels = string_labels(lists.labels)

  -- service: labels, then "Service:"/"App:" fields, then the title, the
  -- name after the monitor tag, a "<name>-service" word
  local service, how = service_from_labels(labels, o)
  if not service then
    for _, k in ipairs(SERVICE_KEYS) do
      local v = fields[(k:gsub(" ", "_"))]
      if v and tx.looks_like_service(v) then service = v; break end
    end
  end
  if not service then
    local v = tx.inline_value(body, SERVICE_KEYS)
    v = v and v:match("^([%w][%w_.%-]*[%w])")
    if v and tx.looks_like_service(v) then service = v end
  end
  if not service and title and lists.nlabels == 0 then
    -- the values in "(...)" are the common labels, then the group labels after the name
    local cands = {}
    for _, v in ipairs(title.common) do cands[#cands + 1] = v end
    for i = 2, #title.group do cands[#cands + 1] = title.group[i] end
    for _, v in ipairs(cands) do
      if tx.servicey(v) then service = v; break end
    end
    if not service then
      local only
      local n = 0
      for _, v in ipairs(title.common) do
        if tx.looks_like_service(v) then only = v; n = n + 1 end
      end
      if n == 1 then service = only end
    end
  end
  if not service and after_tag then
    local tok, rest = after_tag:match("^%s*([%w][%w_.%-]*[%w])(.*)$")
    if tok and not rest:match("^%s*:") and tx.looks_like_service(tok)
        and (tx.servicey(tok) or rest:match("^%s+[Rr]ule") or rest:match("^%s*[,|]")) then
      service = tok
    end
  end
  if not service and not title and lists.nlabels == 0 then
    service = tx.service_token(body)
  end
  if not service then
    local rule = tx.inline_value(body, RULE_KEYS)
    local what = rule and (" (rule '" .. tx.oneline(rule, 80) .. "')")
      or (title and title.name and (" (alert '" .. title.name .. "')")) or ""
    local have = keys_of(labels)
    fail("the Slack message from bot '%s'%s names no service: looked for a %s label%s%s, " ..
         "'Service:'/'App:' fields, '[FIRING:n] name (service)' in the title, the name between " ..
         "'[MONITOR]' and 'Rule Name:', and a '<name>-service' word; add a service label " ..
         "(or 'service: <name>') to the alert rule", bot, what, table.concat(o.service_labels, "/"),
         how and (" (" .. how .. ")") or "",
         #have > 0 and (" (its labels are " .. table.concat(have, ", ") .. ")") or "")
  end

  -- name of the rule
  local name = tx.str(labels.alertname) or (title and title.name)
  if not name then
    local r = tx.inline_value(body, RULE_KEYS)
    name = r and tx.oneline(r, 120)
  end

  -- severity
  local severity = tx.severity(labels.severity)
  if not severity then
    for _, k in ipairs({ "severity", "level", "priority", "alert_level", "sev" }) do
      severity = severity or tx.severity(fields[k])
    end
  end
  if not severity then severity = tx.severity(tx.inline_value(body, SEVERITY_KEYS)) end
  if not severity and title then
    for _, v in ipairs(title.common) do severity = severity or tx.severity(v) end
  end
  if not severity then severity = tx.severity_in_text(body) end
  if not severity then
    for _, c in ipairs(msg.colors) do
      local l = c:lower()
      if l == "danger" or l == "#d63232" or l == "#e01e5a" or l == "#ff0000" then severity = "critical"
      elseif l == "warning" then severity = "warning" end
    end
  end
  severity = severity or o.default_severity

  -- status
  local status = title and title.status
  if not status then
    local st = fields.status or fields.state
    if st and (st:lower():match("resolved") or st:lower():match("recovered") or st:lower():match("^ok")) then
      status = "resolved"
    end
  end
  if not status then
    local has_firing = body:match("%*%*Firing%*%*") or body:match("%*Alerts Firing:%*")
    local has_resolved = body:match("%*%*Resolved%*%*") or body:match("%*Alerts Resolved:%*")
    if has_resolved and not has_firing then status = "resolved" end
  end
  for _, c in ipairs(msg.colors) do
    if not status and (c:lower() == "good" or c:lower() == "#2eb886" or c:lower() == "#36a64f") then status = "resolved" end
  end
  status = status or "firing"

  -- times
  local posted = time.parse(ev.ts) or time.parse(t and t.event_time) or math.floor(now)
  local from, to = tx.find_window(body)
  local started, last_seen = from, to
  if not started then
    for _, k in ipairs(STARTED_KEYS) do
      local v = fields[k]
      if v then
        started = time.parse(v, { offset = tx.zone_hint(v) or 0 })
        if not started then
          local d = tx.first_date(v)
          started = d
        end
        if started then break end
      end
    end
  end
  if not started then
    local d = tx.first_date(body)
    if d and d <= posted + 300 then started = d end
  end
  started = started or posted
  local ends
  if status == "resolved" then
    ends = (last_seen and last_seen > started) and last_seen or (posted >= started and posted or nil)
  end

  -- summary
  local summary = lists.annotations.summary or fields.summary
  if not summary and fields.alert then
    summary = fields.alert:gsub("%s+%-%s+`?%w+`?%s*$", "")       -- "*Alert:* text - `critical`"
  end
  summary = summary or lists.annotations.description or fields.description or fields.content
    or fields.message or fields.detail or fields.details
  if not summary and after_tag then
    -- "[TAG] svc Rule Name: X, severity: Y, <what happened> [from ~ to]" -> "X on svc: <what happened>"
    local rest = after_tag:gsub("%[[^%]]*~[^%]]*%]", ""):gsub("%s*%(UTC[^)]*%)", "")
    rest = tx.trim(rest)
    if rest:sub(1, #service) == service then rest = rest:sub(#service + 1) end
    local prev
    repeat
      prev = rest
      rest = tx.trim(rest):gsub("^[,;|]%s*", "")
      for _, k in ipairs({ "[Rr]ule%s*[Nn]ame", "[Rr]ule", "[Ss]everity", "[Ll]evel", "[Pp]riority",
                           "[Ss]ervice", "[Aa]pp" }) do
        rest = rest:gsub("^" .. k .. "%s*=%s*%S+", "")                    -- key=value
        rest = rest:gsub("^" .. k .. "%s*:%s*[^,;|]*[,;|]?", "")           -- Key: value,
      end
      rest = tx.trim(rest)
      local w = rest:match("^(%a+)%s*:")
      if w and tx.severity(w) then rest = rest:gsub("^%a+%s*:", "") end
    until rest == prev
    rest = tx.trim(rest)
    if rest ~= "" then
      local head = name or service
      if name and not rest:find(service, 1, true) then head = name .. " on " .. service end
      summary = head .. ": " .. rest
    end
  end
  if not summary and title then
    summary = (title.name or "alert") .. " on " .. service
    if title.count and title.count > 1 then
      summary = ("%s (%d alerts %s)"):format(summary, title.count, title.status)
    end
  end
  if not summary then
    summary = msg.lines[1] or ""
    if not summary:match("%S") then summary = body end
  end
  summary = tx.oneline(summary, 500)

  -- expr: a Prometheus graph link anywhere in the message
  local expr = tx.str(fields.expr) or tx.str(fields.query)
  if not expr then
    for _, u in ipairs(msg.urls) do expr = expr or tx.expr_from_url(u) end
    for _, u in ipairs(msg.title_links) do expr = expr or tx.expr_from_url(u) end
  end

  -- labels: what the message said, plus what was derived
  labels.alertname = labels.alertname or name
  labels.service = labels.service or service
  labels.severity = labels.severity or severity
  if tag then labels.monitor = labels.monitor or tag end

  local alert = {
    source = "slack", service = service, severity = severity, summary = summary, labels = labels,
    expr = expr, raw = raw, status = status, name = name, bot = bot,
    value = lists.value, description = lists.annotations.description or fields.description,
  }
  if alert.description then alert.description = tx.oneline(alert.description, 1000) end
  return finish(alert, started, ends, last_seen, status == "firing", now, o)
end

-- ---------------------------------------------------------------- dispatch

-- a copy of v without JSON nulls (og.null), so that `x.y ~= nil` means "given"
local function strip_nulls(v, depth)
  if type(v) ~= "table" then
    if type(v) == "userdata" then return nil end
    return v
  end
  depth = (depth or 0) + 1
  if depth > 64 then return nil end
  local c = {}
  for k, x in pairs(v) do c[k] = strip_nulls(x, depth) end
  return c
end

-- The alert of trigger t at time now (epoch seconds). Raises "slack_alert: ..."
-- naming what was missing when t is not an alert.
function M.parse(t, now, opts, json)
  local o = options(opts)
  now = now or 0
  if t == nil or type(t) == "userdata" then
    fail("state.trigger is empty; %s", M.ACCEPTED)
  end
  if type(t) == "string" then
    local decoded = json and json.decode(t)
    if type(decoded) ~= "table" then
      fail("state.trigger is a string that is not a JSON object (%s); %s", tx.oneline(t, 60), M.ACCEPTED)
    end
    t = decoded
  end
  if type(t) ~= "table" then
    fail("state.trigger is a %s, not an object; %s", type(t), M.ACCEPTED)
  end
  local raw = t
  t = strip_nulls(t)
  local ty = t.type
  if ty == "url_verification" then
    fail("the trigger is Slack's url_verification handshake (a challenge), not an alert: the HTTP " ..
         "receiver answers it and starts no run; %s", M.ACCEPTED)
  end
  if ty == "event_callback" then return parse_slack(t, t.event, now, o, raw) end
  if ty == "app_rate_limited" then
    fail("the trigger is Slack's app_rate_limited notice, not an alert; %s", M.ACCEPTED)
  end
  if (ty == "message" or ty == "app_mention") and t.event == nil then return parse_slack(nil, t, now, o, raw) end
  if type(t.alerts) == "table" and (t.version ~= nil or t.receiver ~= nil or t.groupKey ~= nil or t.status ~= nil) then
    return parse_alertmanager(t, now, o, raw)
  end
  if t.service ~= nil and t.alerts == nil and t.event == nil then
    return parse_manual(t, now, o, raw)
  end
  local ks = keys_of(t)
  fail("unrecognised trigger (keys: %s%s): %s", table.concat(ks, ", "),
       ty ~= nil and (", type = " .. tostring(ty)) or "", M.ACCEPTED)
end

-- A node function (state, ctx) using opts: reads state.trigger, writes
-- `alert` and one `timeline` entry.
function M.node(opts)
  options(opts)                             -- bad options fail when the graph loads
  return function(state, ctx)
    local now = ctx.now()
    local alert = M.parse(state.trigger, now, opts, ctx.json)
    ctx.log.info("alert parsed", { source = alert.source, service = alert.service,
                                   severity = alert.severity, started_at = alert.started_at })
    return {
      alert = alert,
      timeline = { { at = time.format(now), node = "slack_alert", event = "alert parsed",
                     detail = alert.summary } },
    }
  end
end

return M
