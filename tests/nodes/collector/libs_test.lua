-- tests/nodes/collector/libs_test.lua: the pure helpers of the collector's
-- file and deploy sources (nodes/lib/log_files.lua, nodes/lib/deploys.lua,
-- nodes/lib/traces.lua's OTLP reader) on fixed inputs; the results go into
-- the state for tests/cli/collector_sources.sh to check.
local og = require("opsgraph")
local lf = require("nodes.lib.log_files")
local dp = require("nodes.lib.deploys")
local tr = require("nodes.lib.traces")
local time = require("nodes.lib.time")
local g = og.graph{ name = "collector_libs", state = { out = og.last() } }
g:node("libs", function(_, ctx)
  local o = {}
  -- log_files.spec
  local _, e1 = lf.spec({ format = "jsonl" })
  local _, e2 = lf.spec({ path = "/x.log", format = "csv" })
  local _, e3 = lf.spec({ path = "/x.log", time_field = 5 })
  o.spec_errors = { e1, e2, e3 }
  o.spec_guess = { lf.spec("/var/log/a.jsonl").format, lf.spec("/var/log/a.ndjson").format, lf.spec("/var/log/a.log").format }
  -- log_files.entry
  local js = lf.spec({ path = "/a.jsonl", format = "jsonl", time_field = "when", message_field = "text", level_field = "sev" })
  local t, msg, lb = lf.entry('{"when": 1764338533123, "text": "pool exhausted", "sev": "ERROR"}', js, ctx.json.decode)
  o.jsonl_epoch_ms = { t = t, msg = msg, level = lb and lb.level }
  t, msg = lf.entry('{"ts": "2025-11-28T14:02:13+01:00", "msg": "x"}', lf.spec("/a.jsonl"), ctx.json.decode)
  o.jsonl_default_keys = { t = t, msg = msg }
  o.jsonl_no_time = lf.entry('{"msg": "no time"}', lf.spec("/a.jsonl"), ctx.json.decode) == nil
  o.jsonl_not_json = lf.entry('not json', lf.spec("/a.jsonl"), ctx.json.decode) == nil
  local tx = lf.spec("/a.log")
  o.text_iso = lf.entry("2025-11-28T14:02:13.250Z ERROR boom", tx)
  o.text_bracket = lf.entry("[2025/11/28 14:02:13] WARN slow", tx)
  o.text_cont = lf.entry("\tat com.x.Y(Y.java:1)", tx) == nil
  local tp = lf.spec({ path = "/a.log", time_pattern = "^%S+ %S+ (%d+%-%d+%-%d+T%d+:%d+:%d+Z)" })
  o.text_pattern = lf.entry("host-1 app 2025-11-28T14:02:13Z started", tp)
  -- deploys
  local series = { { labels = { deployment = "api" }, points = { { 100, 3 }, { 160, 4 }, { 220, 4 }, { 280, 1 }, { 340, 2 } } } }
  o.from_series = dp.from_series(series, "svc")
  local l1, le1, bad1 = dp.from_list({ items = { { time = "2025-11-28T14:00:00Z", revision = 7, app = "web" },
    { time = "soon" }, { created_at = 1764338400, image = "web:1.2" } } }, "svc")
  o.from_list = { list = l1, err = le1, bad = bad1 }
  local _, le2 = dp.from_list("nope", "svc")
  o.from_list_err = le2
  o.finish = dp.finish({ { t = 50, version = "a" }, { t = 100, version = "b", service = "s" }, { t = 100, version = "b", service = "s" },
    { t = 200, version = "c" }, { t = 300, version = "d" }, { t = 900, version = "late" } }, 60, 400, time.format, 2)
  -- OTLP
  local spans, oerr = tr.otlp_spans({ data = {} })
  o.otlp_err = { isnil = spans == nil, err = oerr }
  local doc = { resourceSpans = { { resource = { attributes = { { key = "service.name", value = { stringValue = "api" } } } },
    scopeSpans = { { spans = {
      { traceId = "t1", name = "q", startTimeUnixNano = "1764338533000000000", endTimeUnixNano = "1764338534500000000",
        attributes = { { key = "db.query.text", value = { stringValue = "SELECT 1" } },
                       { key = "url.full", value = { stringValue = "http://x/y" } },
                       { key = "n", value = { intValue = "42" } } },
        status = { code = 2, message = "deadlock detected" } } } } } } } }
  local sp = tr.otlp_spans(doc)
  o.otlp = { n = #sp, service = sp[1].service, ms = sp[1].duration_ms, err = sp[1].error,
    stmt = sp[1].tags["db.statement"], url = sp[1].tags["http.url"], n42 = sp[1].tags.n, msg = sp[1].tags["error.message"] }
  return { out = o }
end)
g:edge(og.START, "libs")
return g
