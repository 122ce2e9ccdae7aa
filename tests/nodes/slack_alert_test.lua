-- tests/nodes/slack_alert_test.lua: the slack_alert node and its helper
-- libraries (nodes/lib/time.lua, alert_text.lua, alert_intake.lua), tested
-- inside the sandbox they run in.
--
-- Input (built by tests/cli/nodes_slack_alert.sh with python3):
--   cases  [{name, trigger, expect}]  the fixtures of examples/alerts with
--                                      tests/nodes/slack_alert_expect.json
--   dates  [{text, iso} | {text, bad}] date strings with the UTC time python computed
--   days   [{z, y, m, d}]              civil dates of day numbers, from python
-- Steps: `unit` (inline checks and the dates) and `fan` run first; `fan`
-- sends every case to `one`, which calls the real node; `report` adds up.
-- Output: summary = {passed, failed, failures[]}.
-- Run from the project root (require("nodes.*") resolves against the cwd).
local og = require("opsgraph")
local node = require("nodes.slack_alert")
local time = require("nodes.lib.time")
local tx = require("nodes.lib.alert_text")
local intake = require("nodes.lib.alert_intake")

local g = og.graph{ name = "slack_alert_test", state = {
  cases   = og.last(),
  dates   = og.last(),
  days    = og.last(),
  checks  = og.append(),
  summary = og.last(),
}}

-- a checker that collects {what, ok, detail} rows
local function checker()
  local rows = {}
  local c = {}
  function c.ok(what, cond, detail)
    rows[#rows + 1] = { what = what, ok = cond and true or false,
                        detail = (not cond) and tostring(detail or "") or nil }
  end
  function c.eq(what, got, want)
    c.ok(what, got == want, ("got %s, want %s"):format(tostring(got), tostring(want)))
  end
  function c.has(what, s, sub)
    c.ok(what, type(s) == "string" and s:find(sub, 1, true) ~= nil,
         ("%q lacks %q"):format(tostring(s), sub))
  end
  -- fn raises an error containing each of subs
  function c.raises(what, fn, subs)
    local ok, err = pcall(fn)
    if ok then c.ok(what, false, "no error"); return end
    for _, sub in ipairs(subs) do c.has(what .. " names " .. sub, tostring(err), sub) end
  end
  c.rows = rows
  return c
end

local NOW = 1795528800          -- 2026-11-24T14:00:00Z, for the pure parse calls

local function bot_event(fields)
  local ev = { type = "message", subtype = "bot_message", bot_id = "B1", username = "Bot",
               ts = "1795486380.000100", channel = "C1" }
  for k, v in pairs(fields) do ev[k] = v end
  return { type = "event_callback", team_id = "T1", event = ev, event_id = "Ev1", event_time = 1795486380 }
end

local function am(labels, extra)
  local a = { status = "firing", labels = labels, annotations = { summary = "s" },
              startsAt = "2026-11-24T02:13:00Z", endsAt = "0001-01-01T00:00:00Z",
              generatorURL = "http://p:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1", fingerprint = "f" }
  local t = { version = "4", receiver = "r", status = "firing", alerts = { a },
              groupLabels = {}, commonLabels = labels, commonAnnotations = {}, groupKey = "{}:{}" }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local function unit_checks(state)
  local c = checker()

  -- time: calendar arithmetic
  c.eq("days_from_civil 1970-01-01", time.days_from_civil(1970, 1, 1), 0)
  c.eq("days_from_civil 1969-12-31", time.days_from_civil(1969, 12, 31), -1)
  c.eq("days_from_civil 2000-03-01", time.days_from_civil(2000, 3, 1), 11017)
  c.eq("days_from_civil 2026-11-24", time.days_from_civil(2026, 11, 24), 20781)
  local y, m, d = time.civil_from_days(-719468)
  c.eq("civil_from_days 0000-03-01", ("%d-%d-%d"):format(y, m, d), "0-3-1")
  local bad_rt
  for z = -1000000, 1000000, 1009 do
    local yy, mm, dd = time.civil_from_days(z)
    if time.days_from_civil(yy, mm, dd) ~= z then bad_rt = z; break end
  end
  c.ok("days <-> civil round trip over +-2700 years", not bad_rt, "fails at day " .. tostring(bad_rt))
  local py, pm, pd = time.civil_from_days(time.days_from_civil(1899, 12, 31))
  local walk_ok, walk_at = true, nil
  for z = time.days_from_civil(1900, 1, 1), time.days_from_civil(2101, 1, 1) do
    local yy, mm, dd = time.civil_from_days(z)
    local next_ok = (yy == py and mm == pm and dd == pd + 1)
      or (yy == py and mm == pm + 1 and dd == 1 and pd == time.days_in_month(py, pm))
      or (yy == py + 1 and mm == 1 and dd == 1 and pm == 12 and pd == 31)
    if not next_ok then walk_ok, walk_at = false, ("%d-%d-%d"):format(yy, mm, dd); break end
    py, pm, pd = yy, mm, dd
  end
  c.ok("every day 1900..2100 follows the one before", walk_ok, walk_at)
  c.eq("2000 is leap", time.is_leap(2000), true)
  c.eq("1900 is not leap", time.is_leap(1900), false)
  c.eq("2100 is not leap", time.is_leap(2100), false)
  c.eq("format 0", time.format(0), "1970-01-01T00:00:00Z")
  c.eq("format -1", time.format(-1), "1969-12-31T23:59:59Z")
  c.eq("format 2000-02-29", time.format(951782400), "2000-02-29T00:00:00Z")
  c.eq("format fraction floors", time.format(1795486380.999), "2026-11-24T02:13:00Z")

  for _, row in ipairs(state.days or {}) do
    local yy, mm, dd = time.civil_from_days(row.z)
    c.eq("python day " .. row.z, ("%d-%d-%d"):format(yy, mm, dd), ("%d-%d-%d"):format(row.y, row.m, row.d))
    c.eq("python day back " .. row.z, time.days_from_civil(row.y, row.m, row.d), row.z)
  end

  -- time: parsing
  local P = {
    { "2026-11-24T02:13:00Z", "2026-11-24T02:13:00Z" },
    { "2026-11-24T02:13:00+08:00", "2026-11-23T18:13:00Z" },
    { "2026-11-24T02:13:00-0530", "2026-11-24T07:43:00Z" },
    { "2026-11-24T02:13:00.123456789Z", "2026-11-24T02:13:00Z" },
    { "2026-11-24 02:13:00", "2026-11-24T02:13:00Z" },
    { "2026-11-24 02:13", "2026-11-24T02:13:00Z" },
    { "2026/11/24 02:13:00", "2026-11-24T02:13:00Z" },
    { "2026.11.24 02:13:00 UTC", "2026-11-24T02:13:00Z" },
    { "2026-11-24", "2026-11-24T00:00:00Z" },
    { "2026-11-24 10:13:00 UTC+8", "2026-11-24T02:13:00Z" },
    { "2026-11-24 10:13:00 (UTC+08:00)", "2026-11-24T02:13:00Z" },
    { "Nov 24, 2026 02:13:00", "2026-11-24T02:13:00Z" },
    { "24 Nov 2026 02:13:00 GMT", "2026-11-24T02:13:00Z" },
    { "Tue, 24 Nov 2026 02:13:00 +0000", "2026-11-24T02:13:00Z" },
    { "November 24, 2026", "2026-11-24T00:00:00Z" },
    { "1795486380", "2026-11-24T02:13:00Z" },
    { "1795486380000", "2026-11-24T02:13:00Z" },
    { "1795486380.000200", "2026-11-24T02:13:00Z" },
    { 1795486380, "2026-11-24T02:13:00Z" },
    { 1795486380000, "2026-11-24T02:13:00Z" },
    { 1795486380123456, "2026-11-24T02:13:00Z" },
    { "2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z" },
    { "2026-12-31T23:59:60Z", "2026-12-31T23:59:59Z" },
    { "2026-11-24T24:00:00Z", "2026-11-25T00:00:00Z" },
    { "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z" },
  }
  for _, p in ipairs(P) do c.eq("parse " .. tostring(p[1]), time.iso(p[1]), p[2]) end
  c.eq("parse with default offset", time.iso("2026-11-24 10:13:00", { offset = 8 * 3600 }), "2026-11-24T02:13:00Z")
  c.eq("an explicit zone beats the default offset", time.iso("2026-11-24T02:13:00Z", { offset = 3600 }), "2026-11-24T02:13:00Z")
  for _, bad in ipairs({ "2026-02-30 10:00:00", "2025-02-29", "2026-13-01", "2026-11-24T25:00:00Z",
                         "2026-11-24T02:61:00Z", "yesterday", "", "2026-11-24T02:13:00 Mars",
                         "Smarch 3, 2026", "2026-11-24T" }) do
    local t, err = time.parse(bad)
    c.ok("refuses " .. ("%q"):format(bad), t == nil and type(err) == "string", "got " .. tostring(t))
  end
  local _, perr = time.parse("2026-02-30 10:00:00")
  c.has("the refusal says why", perr, "day 30 does not exist in 2026-02")
  for _, row in ipairs(state.dates or {}) do
    if row.bad then
      c.ok("python refuses " .. row.text, time.parse(row.text) == nil, "parsed " .. tostring(time.iso(row.text)))
    else
      c.eq("python date " .. tostring(row.text), time.iso(row.text), row.iso)
    end
  end
  c.eq("offset +05:30", time.parse_offset("+05:30"), 19800)
  c.eq("offset UTC-3", time.parse_offset("UTC-3"), -10800)
  c.eq("offset (GMT+0800)", time.parse_offset("(GMT+0800)"), 28800)
  c.eq("offset junk", time.parse_offset("CET"), nil)
  c.eq("duration 1h30m", time.duration("1h30m"), 5400)
  c.eq("duration 15m", time.duration("15m"), 900)
  c.eq("duration 600", time.duration(600), 600)
  c.eq("duration junk", time.duration("soon"), nil)

  -- alert_text
  c.eq("severity CRITICAL", tx.severity("CRITICAL"), "critical")
  c.eq("severity P1", tx.severity("P1"), "critical")
  c.eq("severity sev-2", tx.severity("sev-2"), "warning")
  c.eq("severity `warning`", tx.severity("`warning`"), "warning")
  c.eq("severity Info", tx.severity("Info"), "info")
  c.eq("severity junk", tx.severity("purple"), nil)
  c.eq("severity in text", tx.severity_in_text("db on fire: CRITICAL, 3 times"), "critical")
  c.eq("no severity in 'error rate'", tx.severity_in_text("error rate is high"), nil)
  c.eq("url_decode", tx.url_decode("a+b%20c%2B%7B%22x%22%7D"), 'a b c+{"x"}')
  c.eq("query_param", tx.query_param("http://h/p?x=1&g0.expr=rate%28x%5B5m%5D%29&g0.tab=1", "g0.expr"), "rate(x[5m])")
  c.eq("expr_from_url none", tx.expr_from_url("http://h/alerting/list"), nil)
  local urls = {}
  c.eq("decode_slack", tx.decode_slack("see <http://x/g?a=1&amp;b=2|graph> &lt;b&gt; <@U1> <!here> <#C9|ops> <https://y>", urls),
       "see graph <b> @U1 @here #ops https://y")
  c.eq("decode_slack urls", table.concat(urls, " "), "http://x/g?a=1&b=2 https://y")

  local t = tx.parse_title("[FIRING:2] HighErrorRate (payment-service critical)")
  c.ok("title firing", t and t.status == "firing" and t.count == 2 and t.name == "HighErrorRate"
       and t.common[1] == "payment-service" and t.common[2] == "critical", t and t.name)
  t = tx.parse_title("*[RESOLVED]* PaymentLatency Payments (payment-service)")
  c.ok("title resolved", t and t.status == "resolved" and t.group[2] == "Payments" and t.common[1] == "payment-service",
       t and t.status)
  t = tx.parse_title(":fire: [FIRING:1, RESOLVED:1] DiskFull")
  c.ok("title mixed", t and t.status == "firing" and t.count == 1 and t.name == "DiskFull" and #t.common == 0, t and t.name)
  t = tx.parse_title("[FIRING:1] HighCPU (prod web critical) | http://am:9093/#/alerts?receiver=x")
  c.ok("title of Alertmanager's fallback", t and t.name == "HighCPU" and t.common[2] == "web", t and t.name)
  c.eq("a monitor tag is no title", tx.parse_title("[MATRIX-APM] order-service Rule Name: X"), nil)

  local W = {
    { "x [2026-11-24 02:13:00 ~ 2026-11-24 02:18:00]", "2026-11-24T02:13:00Z", "2026-11-24T02:18:00Z" },
    { "Time: [2026/11/24 11:41:10 ~ 11:46:10] (UTC+08:00)", "2026-11-24T03:41:10Z", "2026-11-24T03:46:10Z" },
    { "[2026-11-24T09:02:00-05:00 ~ 2026-11-24T09:07:00-05:00]", "2026-11-24T14:02:00Z", "2026-11-24T14:07:00Z" },
    { "from 2026-11-24 23:50 to 00:10", "2026-11-24T23:50:00Z", "2026-11-25T00:10:00Z" },
    { "2026.11.24 02:13:00 – 2026.11.24 02:18:00 UTC", "2026-11-24T02:13:00Z", "2026-11-24T02:18:00Z" },
    { "[2026-11-24 10:13:00 ~ 2026-11-24 10:18:00] GMT+8", "2026-11-24T02:13:00Z", "2026-11-24T02:18:00Z" },
    { "2026-11-24T02:13:00.123Z ~ 2026-11-24T02:18:00.999Z", "2026-11-24T02:13:00Z", "2026-11-24T02:18:00Z" },
    { "window 2026-11-24 02:13:00 - 2026-11-24 02:18:00 (UTC)", "2026-11-24T02:13:00Z", "2026-11-24T02:18:00Z" },
    { "[2026-11-24 10:13:00 ～ 2026-11-24 10:18:00] Timezone: +08:00", "2026-11-24T02:13:00Z", "2026-11-24T02:18:00Z" },
    { "[Nov 24, 2026 02:00:00 ~ Nov 24, 2026 02:05:00]", "2026-11-24T02:00:00Z", "2026-11-24T02:05:00Z" },
    { "24 Nov 2026 10:00 ~ 24 Nov 2026 10:05 (UTC+8)", "2026-11-24T02:00:00Z", "2026-11-24T02:05:00Z" },
    { "Rule 12, 2026-11-24 02:00 ~ 02:05", "2026-11-24T02:00:00Z", "2026-11-24T02:05:00Z" },
  }
  for _, w in ipairs(W) do
    local a, b = tx.find_window(w[1])
    c.eq("window from: " .. w[1], a and time.format(a), w[2])
    c.eq("window to: " .. w[1], b and time.format(b), w[3])
  end
  c.eq("a single date is no window", tx.find_window("occurred at 2026-11-24 02:13:00"), nil)
  c.eq("first_date", time.format(tx.first_date("occurred at 2026-11-24 10:13:00 (UTC+08:00)")), "2026-11-24T02:13:00Z")

  c.ok("payment-service looks like a service", tx.servicey("payment-service"), "")
  c.ok("authsvc looks like a service", tx.servicey("authsvc"), "")
  c.ok("critical is no service", not tx.looks_like_service("critical"), "")
  c.ok("Rule is no service", not tx.looks_like_service("Rule"), "")
  c.ok("10.0.0.1 is no service", not tx.looks_like_service("10.0.0.1"), "")
  c.eq("'service:' inside order-service: is no key", tx.inline_value("Slow SQL on order-service: x", { "service" }), nil)
  c.eq("inline service key", tx.inline_value("svc: a, Service: payment-service, x", { "service" }), "payment-service")
  c.eq("inline rule name", tx.inline_value("[M] x Rule Name: SlowSQL, severity: critical", { "rule name" }), "SlowSQL")
  c.eq("inline key=value", tx.inline_value("app=cart-service rule=HighLatency level=warning", { "rule" }), "HighLatency")
  c.eq("inline key=\"a b\"", tx.inline_value('rule="High Latency" level=warning', { "rule" }), "High Latency")
  c.eq("inline value stops at the next key", tx.inline_value("Rule Name: SlowSQL severity: critical", { "rule name" }), "SlowSQL")
  c.eq("service_token", tx.service_token("pod cart-service-7f9 restarted; cart-service is down"), "cart-service")

  local lists = tx.read_lists({
    "**Firing**", "", "Value: A=1", "Labels:", " - alertname = A1", " - service = s1", "Annotations:",
    " - summary = first", "Source: http://g/1", "", "Value: A=2", "Labels:", " - alertname = A2",
    " - service = s2", " - extra = e", "Annotations:", " - summary = second",
  })
  c.ok("read_lists keeps the first alert's labels", lists.labels.alertname == "A1" and lists.labels.service == "s1"
       and lists.labels.extra == nil and lists.annotations.summary == "first" and lists.value == "A=1",
       ("labels %s/%s, summary %s"):format(tostring(lists.labels.alertname), tostring(lists.labels.extra),
                                           tostring(lists.annotations.summary)))
  lists = tx.read_lists({ "*Alert:* pool at 98% - `critical`", "*Details:*", "  • *alertname:* `Pool`",
                          "  • *service:* `payment-service`", "", "*Alert:* second", "*Details:*", "  • *service:* `x`" })
  c.ok("read_lists reads the '• *name:* `value`' list", lists.labels.service == "payment-service"
       and lists.labels.alertname == "Pool" and lists.fields.alert == "pool at 98% - `critical`",
       tostring(lists.labels.service))
  lists = tx.read_lists({ 'Labels: {alertname="X", service="pay-api", severity="page"}' })
  c.ok("read_lists reads a one-line label set", lists.labels.service == "pay-api" and lists.labels.severity == "page",
       tostring(lists.labels.service))

  -- alert_intake: triggers that are not alerts
  c.raises("empty trigger", function() intake.parse(nil, NOW) end, { "slack_alert: state.trigger is empty" })
  c.raises("text trigger", function() intake.parse("payment-service is down", NOW, nil, { decode = function() return nil end }) end,
           { "is a string that is not a JSON object" })
  c.raises("number trigger", function() intake.parse(42, NOW) end, { "state.trigger is a number, not an object" })
  c.raises("reaction event", function() intake.parse({ type = "event_callback", event = { type = "reaction_added" } }, NOW) end,
           { "of type 'reaction_added', not a message" })
  c.raises("event_callback without event", function() intake.parse({ type = "event_callback", team_id = "T" }, NOW) end,
           { "has no event object (keys: team_id, type)" })
  c.raises("human message", function()
    intake.parse({ type = "event_callback", event = { type = "message", user = "U42", text = "payment-service is slow" } }, NOW)
  end, { "from user U42 was not posted by a bot" })
  c.raises("bot message without text", function() intake.parse(bot_event({ text = "" }), NOW) end,
           { "from bot 'Bot' has no text, attachments or blocks" })
  c.raises("bot message without service", function()
    intake.parse(bot_event({ text = "[MATRIX-APM] Rule Name: HighCPU, severity: warning, cpu at 97%" }), NOW)
  end, { "from bot 'Bot' (rule 'HighCPU') names no service", "'Rule Name:'", "add a service label" })
  c.raises("rate limited", function() intake.parse({ type = "app_rate_limited", minute_rate_limited = 1 }, NOW) end,
           { "app_rate_limited" })
  c.raises("Alertmanager version 3", function() intake.parse(am({ service = "x" }, { version = "3" }), NOW) end,
           { "has version 3; only version \"4\"" })
  c.raises("Alertmanager without alerts", function() intake.parse(am({ service = "x" }, { alerts = og.array{} }), NOW) end,
           { "(receiver 'r') has no alerts" })
  c.raises("Alertmanager without startsAt", function()
    local t = am({ service = "x" }); t.alerts[1].startsAt = "soon"; intake.parse(t, NOW)
  end, { "no alert has a readable startsAt (got soon)" })
  c.raises("manual without service", function() intake.parse({ service = "", time = "2026-11-24" }, NOW) end,
           { "the manual trigger has no service" })
  c.raises("manual with a bad time", function() intake.parse({ service = "a-svc", time = "last tuesday" }, NOW) end,
           { "the manual trigger's time is not a time: 'last tuesday' is not a date" })
  c.raises("manual with a bad severity", function() intake.parse({ service = "a-svc", severity = "purple" }, NOW) end,
           { "severity 'purple' is not one of critical, warning, info" })
  c.raises("manual ending before it starts", function()
    intake.parse({ service = "a-svc", time = "2026-11-24T02:00:00Z", ends_at = "2026-11-24T01:00:00Z" }, NOW)
  end, { "ends (2026-11-24T01:00:00Z) before it starts (2026-11-24T02:00:00Z)" })
  c.raises("unknown option", function() intake.node{ bogus = 1 } end, { "unknown option 'bogus'" })
  c.raises("bad lookback", function() intake.node{ lookback = "a while" } end, { "option lookback = a while is not a duration" })

  -- alert_intake: accepted variants
  local a = intake.parse('{"service": "a-svc", "time": "2026-11-24T02:13:00Z"}', NOW, nil,
                         { decode = function() return { service = "a-svc", time = "2026-11-24T02:13:00Z" } end })
  c.eq("a JSON string trigger is decoded", a.service, "a-svc")
  a = intake.parse({ service = "a-svc" }, NOW)
  c.eq("manual without time starts now", a.started_at, "2026-11-24T14:00:00Z")
  a = intake.parse(am({ alertname = "Up", app = "cart", job = "kubernetes-pods", severity = "warning" }), NOW)
  c.eq("service from app before job", a.service, "cart")
  a = intake.parse(am({ alertname = "Up", job = "cart-api" }), NOW)
  c.eq("service from job", a.service, "cart-api")
  c.eq("expr from the generatorURL", a.expr, "up == 0")
  c.eq("severity defaults to warning", a.severity, "warning")
  a = intake.parse(am({ alertname = "Up", team = "pay", component = "ledger" }), NOW, { service_labels = { "component" } })
  c.eq("service_labels option", a.service, "ledger")
  a = intake.parse(am({ alertname = "Up", service = "s-api" }), NOW, { lookback = "30m", default_severity = "info" })
  c.eq("lookback option", a.window.from, "2026-11-24T01:43:00Z")
  c.eq("default_severity option", a.severity, "info")
  local started = time.parse("2026-11-24T02:13:00Z")
  a = intake.parse(am({ service = "s-api" }), started + 60)
  c.eq("firing, just started: to = started + 15m", a.window.to, "2026-11-24T02:28:00Z")
  a = intake.parse(am({ service = "s-api" }), started + 3600)
  c.eq("firing for an hour: to = now", a.window.to, "2026-11-24T03:13:00Z")
  a = intake.parse(am({ service = "s-api" }), started + 86400)
  c.eq("firing for a day: to = started + 6h", a.window.to, "2026-11-24T08:13:00Z")
  c.eq("a firing alert has no ends_at", a.ends_at, nil)
  local two = am({ service = "s-api", severity = "warning" })
  two.alerts[2] = { status = "firing", labels = { service = "s-api", severity = "critical" },
                    annotations = { summary = "later" }, startsAt = "2026-11-24T03:00:00Z" }
  a = intake.parse(two, NOW)
  c.eq("severity is the worst of the firing alerts", a.severity, "critical")
  c.eq("summary of the earliest alert", a.summary, "s (2 alerts firing)")

  a = intake.parse({ type = "event_callback", event = { type = "message", subtype = "message_changed",
    ts = "1795486380.000100", message = { type = "message", bot_id = "B2", username = "MATRIX-APM",
    text = "[MATRIX-APM] cart-service Rule Name: Slow, severity: warning [2026-11-24 02:13:00 ~ 2026-11-24 02:18:00]" } } }, NOW)
  c.eq("an edited bot message is read", a.service .. "/" .. a.severity .. "/" .. a.started_at,
       "cart-service/warning/2026-11-24T02:13:00Z")
  a = intake.parse({ type = "message", bot_id = "B3", ts = "1795486380.000100",
                     text = "[FIRING:1] Latency (checkout-api)" }, NOW)
  c.eq("a bare Slack event is read", a.service .. "/" .. a.name .. "/" .. a.started_at,
       "checkout-api/Latency/2026-11-24T02:13:00Z")
  a = intake.parse(bot_event({ text = "", attachments = { { color = "good", title = "Ledger lag",
    fields = { { title = "Service", value = "ledger-svc", short = true }, { title = "Priority", value = "P3", short = true } } } } }), NOW)
  c.eq("attachment fields", a.service .. "/" .. a.severity .. "/" .. a.status, "ledger-svc/warning/resolved")
  a = intake.parse(bot_event({ text = "*[RESOLVED]* HighErrorRate (payment-service critical)" }), NOW)
  c.eq("a resolved Slack message ends when posted", tostring(a.status) .. " " .. tostring(a.ends_at), "resolved 2026-11-24T02:13:00Z")
  a = intake.parse(bot_event({ text = "[MATRIX-APM] payment-service Rule Name: X, severity: warning\n" ..
    "Graph: <http://p:9090/graph?g0.expr=rate%28http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D%29&amp;g0.tab=1|graph>" }), NOW)
  c.eq("expr from a graph link in Slack text", a.expr, 'rate(http_requests_total{code=~"5.."}[5m])')

  a = intake.parse(bot_event({ text = "[MATRIX-APM][P1][prod] payment-service DB pool exhausted 98/100 at 2026-11-24 10:13:00 (UTC+08:00)" }), NOW)
  c.eq("several tags, P1, a single date with a zone hint",
       a.service .. "/" .. a.severity .. "/" .. a.started_at .. "/" .. a.summary,
       "payment-service/critical/2026-11-24T02:13:00Z/payment-service: DB pool exhausted 98/100 at 2026-11-24 10:13:00")
  a = intake.parse(bot_event({ text = "[MATRIX-APM] app=cart-service rule=HighLatency level=warning p99 1.9s [2026-11-24 02:00 ~ 02:05]" }), NOW)
  c.eq("key=value style", a.service .. "/" .. a.name .. "/" .. a.severity .. "/" .. a.summary .. "/" .. a.started_at,
       "cart-service/HighLatency/warning/HighLatency on cart-service: p99 1.9s/2026-11-24T02:00:00Z")
  a = intake.parse(bot_event({ text = "[MATRIX-APM] checkout Rule Name: Apdex low, severity: warning, apdex 0.61 " ..
                                      "[Nov 24, 2026 02:00:00 ~ Nov 24, 2026 02:05:00]" }), NOW)
  c.eq("a lower-case service before 'Rule Name:', month-name window",
       a.service .. "/" .. a.name .. "/" .. a.summary .. "/" .. a.started_at,
       "checkout/Apdex low/Apdex low on checkout: apdex 0.61/2026-11-24T02:00:00Z")
  a = intake.parse(bot_event({ text = "", attachments = { { fallback = "[FIRING:1] HighCPU (prod web critical) | http://am" } } }), NOW)
  c.eq("attachment with only a fallback", a.service .. "/" .. a.severity .. "/" .. a.summary, "web/critical/HighCPU on web")
  a = intake.parse(bot_event({ blocks = { { type = "section", text = { type = "mrkdwn", text = "*Alert:* queue backlog" },
    fields = { { type = "mrkdwn", text = "*Service:*\nbilling-worker" }, { type = "mrkdwn", text = "*Severity:*\nwarning" } } } } }), NOW)
  c.eq("section block with fields", a.service .. "/" .. a.severity .. "/" .. a.summary, "billing-worker/warning/queue backlog")
  a = intake.parse({ version = "4", status = "firing", receiver = "r", alerts = { { status = "firing",
    labels = { service = "a-api", severity = og.null }, annotations = og.null,
    startsAt = "2026-11-24T10:00:00.123456789+01:00", generatorURL = og.null } } }, NOW)
  c.eq("JSON nulls in a webhook", a.service .. "/" .. a.severity .. "/" .. a.started_at .. "/" .. a.summary,
       "a-api/warning/2026-11-24T09:00:00Z/alert on a-api")

  return c.rows
end

g:node("unit", function(state)
  return { checks = unit_checks(state) }
end)

g:node("fan", function(state)
  local sends = {}
  for _, case in ipairs(state.cases or {}) do sends[#sends + 1] = og.send("one", case) end
  return sends
end, { destinations = { "one" } })

-- one fixture through the real node function
g:node("one", function(case, ctx)
  local c = checker()
  local name, exp = case.name, case.expect or {}
  local ok, res = pcall(node, { trigger = case.trigger }, ctx)
  if exp.error then
    c.ok(name .. ": fails", not ok, "no error")
    for _, sub in ipairs(exp.error) do c.has(name .. ": error names " .. sub, tostring(res), sub) end
    return { checks = c.rows }
  end
  c.ok(name .. ": parses", ok and type(res) == "table" and type(res.alert) == "table", tostring(res))
  if not ok then return { checks = c.rows } end
  local a = res.alert
  for _, k in ipairs({ "source", "service", "severity", "status", "name", "started_at", "ends_at", "summary", "expr", "value" }) do
    if exp[k] ~= nil then c.eq(name .. ": " .. k, a[k], exp[k]) end
  end
  if exp.no_expr then c.eq(name .. ": no expr", a.expr, nil) end
  if exp.no_ends_at then c.eq(name .. ": no ends_at", a.ends_at, nil) end
  if exp.window_from then c.eq(name .. ": window.from", a.window.from, exp.window_from) end
  if exp.window_to and exp.window_to ~= "clamp" then c.eq(name .. ": window.to", a.window.to, exp.window_to) end
  if exp.window_to == "clamp" then
    local s = time.parse(a.started_at)
    local lo = math.max(s + 900, exp.last_seen and time.parse(exp.last_seen) or s)
    local to = time.parse(a.window.to)
    c.ok(name .. ": window.to within [started+15m, started+6h]", to and to >= lo and to <= math.max(s + 21600, lo), a.window.to)
  end
  for k, v in pairs(exp.labels or {}) do c.eq(name .. ": labels." .. k, a.labels[k], v) end
  c.ok(name .. ": one timeline entry", #res.timeline == 1 and res.timeline[1].node == "slack_alert"
       and res.timeline[1].detail == a.summary, #res.timeline)
  return { checks = c.rows }
end)

g:node("report", function(state)
  local passed, failed, failures = 0, 0, og.array{}
  for _, row in ipairs(state.checks or {}) do
    if row.ok then passed = passed + 1
    else
      failed = failed + 1
      failures[#failures + 1] = row.what .. ": " .. tostring(row.detail)
    end
  end
  return { summary = { passed = passed, failed = failed, failures = failures } }
end)

g:edge(og.START, "unit")
g:edge(og.START, "fan")
g:edge("one", "report")
return g
