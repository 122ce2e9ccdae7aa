-- nodes/lib/context_facts.lua: robust, deterministic readers over the incident
-- context summary (nodes/README.md: context{metrics, logs, traces, host,
-- deploys, notes}). Used by nodes/lib/builtin_analyzer.lua.
--
-- Every reader accepts missing or mistyped fields (nil, og.null, a string
-- where a number was expected) and returns plain Lua values. Nothing here
-- depends on pairs() order: object keys are sorted before use, lists keep
-- their order, and every sort has a total order (ties end on the name or
-- the original index). No ctx, no I/O: pure functions.
local M = {}

local floor, abs, huge = math.floor, math.abs, math.huge
local sfind, sformat, slower, sgsub, ssub = string.find, string.format, string.lower, string.gsub, string.sub

-- ---- basic coercions -------------------------------------------------

function M.tbl(x) if type(x) == "table" then return x end return nil end

function M.num(x)
  if type(x) == "number" then
    if x ~= x or x == huge or x == -huge then return nil end
    return x
  end
  if type(x) == "string" then
    local s = sgsub(x, "%%$", "")
    local n = tonumber(s)
    if n and n == n and n ~= huge and n ~= -huge then return n end
  end
  return nil
end

function M.str(x)
  if type(x) == "string" then return x end
  if type(x) == "number" then return M.fmt(x) end
  return nil
end

-- The elements 1..n of a JSON list. A lone object (not a list) counts as a
-- list of one; anything else is an empty list.
function M.list(x)
  if type(x) ~= "table" then return {} end
  local out, n = {}, #x
  if n == 0 and next(x) ~= nil and x[1] == nil then
    local only_int = true
    for k in pairs(x) do if type(k) ~= "string" then only_int = false end end
    if only_int then return { x } end
  end
  for i = 1, n do
    if x[i] ~= nil then out[#out + 1] = x[i] end
  end
  return out
end

function M.sorted_keys(t)
  local keys = {}
  if type(t) ~= "table" then return keys end
  for k in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

function M.clamp(x, lo, hi)
  if x < lo then return lo end
  if x > hi then return hi end
  return x
end

-- Linear ramp: s_lo at x = lo, s_hi at x = hi, clamped outside.
function M.ramp(x, lo, hi, s_lo, s_hi)
  if x <= lo then return s_lo end
  if x >= hi then return s_hi end
  return s_lo + (s_hi - s_lo) * (x - lo) / (hi - lo)
end

function M.round2(x) return floor(x * 100 + 0.5) / 100 end

-- any(text, patterns): the first Lua pattern of the list found in text.
function M.any(text, patterns)
  if type(text) ~= "string" then return nil end
  for i = 1, #patterns do
    if sfind(text, patterns[i]) then return patterns[i] end
  end
  return nil
end

-- ---- number formatting (deterministic, short) ------------------------

local function strip(s)
  if sfind(s, "%.") and not sfind(s, "e") then
    s = sgsub(s, "0+$", "")
    s = sgsub(s, "%.$", "")
  end
  return s
end

function M.fmt(x)
  x = M.num(x)
  if not x then return "?" end
  if x == floor(x) and abs(x) < 1e15 then return sformat("%d", floor(x)) end
  local a = abs(x)
  if a >= 100 then return sformat("%.0f", x) end
  if a >= 10 then return strip(sformat("%.1f", x)) end
  if a >= 1 then return strip(sformat("%.2f", x)) end
  local s = sformat("%.2g", x)
  if sfind(s, "e") then s = strip(sformat("%.6f", x)) end
  return s
end

function M.fmt_pct_change(p)
  p = M.num(p)
  if not p then return nil end
  return (p >= 0 and "+" or "") .. M.fmt(p) .. "%"
end

-- ---- time ------------------------------------------------------------

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- ISO-8601 ("2026-11-24T14:03:05Z", fractions, "+02:00" offsets, a space for
-- the T) or a number of epoch seconds (milliseconds when > 1e12) -> epoch
-- seconds, or nil.
function M.parse_time(v)
  local n = M.num(v)
  if type(v) == "number" and n then
    if n > 1e12 then n = n / 1000 end
    return n
  end
  if type(v) ~= "string" then return nil end
  local y, mo, d, h, mi, s, rest = string.match(v, "^%s*(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):?(%d?%d?)(.*)$")
  if not y then
    y, mo, d = string.match(v, "^%s*(%d%d%d%d)%-(%d%d)%-(%d%d)%s*$")
    if not y then return nil end
    h, mi, s, rest = "0", "0", "0", ""
  end
  y, mo, d, h, mi = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi)
  s = tonumber(s) or 0
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then return nil end
  local frac = string.match(rest, "^[%.,](%d+)")
  if frac then
    s = s + tonumber("0." .. frac)
    rest = string.gsub(rest, "^[%.,]%d+", "")
  end
  local off = 0
  local sign, oh, om = string.match(rest, "^%s*([%+%-])(%d%d):?(%d%d)")
  if sign then
    off = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off
end

-- "14:03:05Z" from an ISO string (the evidence quotes short times).
function M.short_time(v)
  local t = M.parse_time(v)
  if not t then return type(v) == "string" and v or nil end
  local s = floor(t) % 86400
  return sformat("%02d:%02d:%02dZ", s // 3600, (s % 3600) // 60, s % 60)
end

-- ---- metrics ---------------------------------------------------------

local RATIO_UNITS = { ratio = true, fraction = true, ["0-1"] = true }
local PCT_UNITS = { percent = true, ["%"] = true, pct = true, percentage = true }

-- normalized metric records, sorted by name:
-- {name, unit, current, baseline_24h, baseline_7d, change_24h_pct, change_7d_pct,
--  peak, peak_at, is_pct, labels(sorted copy of string labels), raw_unit}
function M.metrics(context)
  local out = {}
  local ms = M.tbl(context and context.metrics)
  if not ms then return out end
  local entries = {}
  if ms[1] ~= nil then            -- tolerate a list of {name=...}
    for i, m in ipairs(M.list(ms)) do
      if M.tbl(m) and M.str(m.name) then entries[#entries + 1] = { name = M.str(m.name), m = m, i = i } end
    end
  else
    for i, k in ipairs(M.sorted_keys(ms)) do
      if M.tbl(ms[k]) then entries[#entries + 1] = { name = k, m = ms[k], i = i }
      elseif M.num(ms[k]) then entries[#entries + 1] = { name = k, m = { current = ms[k] }, i = i } end
    end
  end
  for _, e in ipairs(entries) do
    local m = e.m
    local unit = slower(M.str(m.unit) or "")
    local r = {
      name = e.name, raw_unit = unit,
      current = M.num(m.current), baseline_24h = M.num(m.baseline_24h), baseline_7d = M.num(m.baseline_7d),
      change_24h_pct = M.num(m.change_24h_pct), change_7d_pct = M.num(m.change_7d_pct),
      peak = M.num(m.peak), peak_at = M.str(m.peak_at),
      labels = {},
    }
    local labels = M.tbl(m.labels)
    if labels then
      for _, k in ipairs(M.sorted_keys(labels)) do r.labels[k] = M.str(labels[k]) end
    end
    for _, k in ipairs({ "mountpoint", "path", "device", "pool", "peer" }) do
      if M.str(m[k]) and not r.labels[k] then r.labels[k] = M.str(m[k]) end
    end
    -- scale: ratios become percent so that every threshold is in percent
    local scale = 1
    if RATIO_UNITS[unit] then
      scale, r.is_pct = 100, true
    elseif PCT_UNITS[unit] then
      r.is_pct = true
    elseif unit == "" then
      local lname = slower(e.name)
      if sfind(lname, "usage") or sfind(lname, "util") or sfind(lname, "ratio") or sfind(lname, "pct")
        or sfind(lname, "percent") or sfind(lname, "rate$") or sfind(lname, "_rate") or sfind(lname, "throttl")
        or sfind(lname, "used") then
        local mx = 0
        for _, f in ipairs({ "current", "baseline_24h", "baseline_7d", "peak" }) do
          if r[f] and abs(r[f]) > mx then mx = abs(r[f]) end
        end
        if mx <= 1 then
          scale, r.is_pct = 100, true
        elseif mx <= 100 then
          r.is_pct = true
        end
      end
    end
    if scale ~= 1 then
      for _, f in ipairs({ "current", "baseline_24h", "baseline_7d", "peak" }) do
        if r[f] then r[f] = r[f] * scale end
      end
    end
    if r.is_pct then r.unit = "%" else r.unit = unit end
    if not r.change_24h_pct and r.current and r.baseline_24h and r.baseline_24h > 0 then
      r.change_24h_pct = (r.current - r.baseline_24h) / r.baseline_24h * 100
    end
    if not r.change_7d_pct and r.current and r.baseline_7d and r.baseline_7d > 0 then
      r.change_7d_pct = (r.current - r.baseline_7d) / r.baseline_7d * 100
    end
    r.lname = slower(e.name)
    out[#out + 1] = r
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

local function with_unit(v, unit)
  local s = M.fmt(v)
  if unit == "%" then return s .. "%" end
  if unit == "" or unit == "ratio" or unit == "count" or unit == "1" then return s end
  return s .. " " .. unit
end
M.with_unit = with_unit

function M.metric_value(m, field)
  if not m or not m[field or "current"] then return "?" end
  return with_unit(m[field or "current"], m.unit)
end

-- "db_pool_usage 98% (24 h ago: 41%, 7 d ago: 39%)"
function M.metric_line(m)
  local s = m.name .. " " .. with_unit(m.current, m.unit)
  local parts = {}
  if m.baseline_24h then parts[#parts + 1] = "24 h ago: " .. with_unit(m.baseline_24h, m.unit) end
  if m.baseline_7d then parts[#parts + 1] = "7 d ago: " .. with_unit(m.baseline_7d, m.unit) end
  local tail = {}
  if #parts > 0 then tail[#tail + 1] = table.concat(parts, ", ") end
  if m.change_24h_pct and not m.is_pct then tail[#tail + 1] = M.fmt_pct_change(m.change_24h_pct) .. " vs 24 h" end
  if m.change_24h_pct and not m.baseline_24h and m.is_pct then tail[#tail + 1] = M.fmt_pct_change(m.change_24h_pct) .. " vs 24 h" end
  if m.peak and m.current and m.peak > m.current * 1.05 then
    local at = M.short_time(m.peak_at)
    tail[#tail + 1] = "peak " .. with_unit(m.peak, m.unit) .. (at and (" at " .. at) or "")
  end
  if #tail > 0 then s = s .. " (" .. table.concat(tail, "; ") .. ")" end
  return s
end

-- find_metrics(ms, include, exclude): metrics whose lowercase name matches one
-- of the include patterns and none of the exclude patterns, in name order.
function M.find_metrics(ms, include, exclude)
  local out = {}
  for _, m in ipairs(ms) do
    if m.current and M.any(m.lname, include) and not (exclude and M.any(m.lname, exclude)) then
      out[#out + 1] = m
    end
  end
  return out
end

-- ---- logs ------------------------------------------------------------

-- normalized templates in their given order:
-- {i, template, count, new, level, first_seen, first_seen_t, example, text (lowercase template + example)}
function M.templates(context)
  local logs = M.tbl(context and context.logs)
  local out = {}
  if not logs then return out, nil end
  local total = M.num(logs.total)
  for i, t in ipairs(M.list(logs.templates)) do
    if M.tbl(t) and M.str(t.template) then
      local count = M.num(t.count) or 1
      if count > 0 then
        local example = M.str(t.example)
        out[#out + 1] = {
          i = i, template = M.str(t.template), count = count,
          new = t.new == true, level = slower(M.str(t.level) or ""),
          first_seen = M.str(t.first_seen), first_seen_t = M.parse_time(t.first_seen),
          example = example,
          text = slower(M.str(t.template) .. " " .. (example or "")),
        }
      end
    elseif type(t) == "string" then
      out[#out + 1] = { i = i, template = t, count = 1, new = false, level = "", text = slower(t) }
    end
  end
  return out, total
end

-- strength of one template as evidence: base 0.55, +0.2 new, +0.1 error
-- level, +0.15 by volume (share of all lines, or count when no total).
function M.template_strength(t, total)
  local s = 0.55
  if t.new then s = s + 0.2 end
  local lv = t.level
  if lv == "error" or lv == "fatal" or lv == "critical" or lv == "crit" or lv == "panic" or lv == "err" or lv == "emerg" or lv == "alert" then
    s = s + 0.1
  elseif lv == "warn" or lv == "warning" then
    s = s + 0.05
  end
  if total and total > 0 then
    s = s + 0.15 * M.clamp((t.count / total) / 0.2, 0, 1)
  else
    s = s + 0.15 * M.clamp(t.count / 500, 0, 1)
  end
  if lv == "info" or lv == "debug" or lv == "trace" then s = s * 0.8 end
  return M.clamp(s, 0, 1)
end

local function quote(s, n)
  n = n or 90
  if #s > n then s = ssub(s, 1, n - 3) .. "..." end
  return '"' .. s .. '"'
end
M.quote = quote

-- 'log "connection pool exhausted after <NUM>ms" 4100 times (80% of 5120 lines), new since 14:01:10Z, level error'
function M.template_line(t, total)
  local s = "log " .. quote(t.template) .. " " .. M.fmt(t.count) .. " times"
  if total and total > 0 then
    s = s .. " (" .. M.fmt(t.count / total * 100) .. "% of " .. M.fmt(total) .. " lines)"
  end
  local extra = {}
  if t.new then
    local at = M.short_time(t.first_seen)
    extra[#extra + 1] = at and ("new since " .. at) or "new"
  end
  if t.level ~= "" then extra[#extra + 1] = "level " .. t.level end
  if #extra > 0 then s = s .. ", " .. table.concat(extra, ", ") end
  return s
end

-- ---- traces ----------------------------------------------------------

local function attr_text(attrs)
  local parts = {}
  for _, k in ipairs(M.sorted_keys(attrs)) do
    local v = M.str(attrs[k])
    if v then parts[#parts + 1] = k .. "=" .. v end
  end
  return table.concat(parts, " ")
end

local function span_record(kind, i, sp)
  local attrs = M.tbl(sp.attributes) or M.tbl(sp.attrs) or {}
  local function a(k) return M.str(attrs[k]) end
  local r = {
    kind = kind, i = i,
    operation = M.str(sp.operation) or M.str(sp.name) or "?",
    service = M.str(sp.service),
    count = M.num(sp.count) or M.num(sp.error_count) or M.num(sp.errors),
    p99_ms = M.num(sp.p99_ms) or M.num(sp.duration_ms) or M.num(sp.max_ms) or M.num(sp.p95_ms),
    peer = a("peer.service") or M.str(sp.peer_service) or M.str(sp.peer) or a("net.peer.name") or a("server.address"),
    db_system = a("db.system"),
    statement = a("db.statement") or a("db.query.text"),
    status = M.num(attrs["http.status_code"]) or M.num(attrs["http.response.status_code"]) or M.num(sp.status_code)
      or M.num(sp.http_status),
  }
  r.text = slower(r.operation .. " " .. (r.service or "") .. " " .. attr_text(attrs) .. " " ..
    (M.str(sp.error) or "") .. " " .. (M.str(sp.message) or ""))
  r.lpeer = slower(r.peer or "")
  return r
end

-- {errors = {...}, slowest = {...}} of normalized spans, in their given order
function M.spans(context)
  local tr = M.tbl(context and context.traces)
  local out = { errors = {}, slowest = {} }
  if not tr then return out end
  for i, sp in ipairs(M.list(tr.errors)) do
    if M.tbl(sp) then out.errors[#out.errors + 1] = span_record("error", i, sp) end
  end
  for i, sp in ipairs(M.list(tr.slowest)) do
    if M.tbl(sp) then out.slowest[#out.slowest + 1] = span_record("slow", i, sp) end
  end
  return out
end

function M.span_name(sp)
  local s = "span " .. quote(sp.operation, 60)
  if sp.service then s = s .. " in " .. sp.service end
  if sp.peer then s = s .. " -> " .. sp.peer end
  return s
end

-- ---- host, deploys ---------------------------------------------------

-- host lists, each entry normalized to {count, name, pid, rss_mb, peer, service, text}
function M.host_list(context, key)
  local host = M.tbl(context and context.host)
  local out = {}
  if not host then return out end
  for i, e in ipairs(M.list(host[key])) do
    if M.tbl(e) then
      local rss = M.num(e.rss_mb) or (M.num(e.rss_kb) and M.num(e.rss_kb) / 1024)
        or (M.num(e.rss_bytes) and M.num(e.rss_bytes) / 1048576)
      out[#out + 1] = {
        i = i,
        count = M.num(e.count) or M.num(e.retransmits) or M.num(e.restarts) or M.num(e.kills) or 1,
        rate_pct = M.num(e.rate_pct) or (M.num(e.rate) and M.num(e.rate) <= 1 and M.num(e.rate) * 100) or nil,
        name = M.str(e.comm) or M.str(e.process) or M.str(e.name) or M.str(e.container) or M.str(e.pod),
        pid = M.num(e.pid),
        rss_mb = rss,
        peer = M.str(e.daddr) or M.str(e.dst) or M.str(e.peer) or M.str(e.remote) or M.str(e.raddr),
        port = M.num(e.dport) or M.num(e.port),
        service = M.str(e.service) or M.str(e.container),
        at = M.str(e.at) or M.str(e.time),
        cgroup = M.str(e.cgroup),
        failed = M.num(e.failed),
        signal = M.num(e.signal),
        exit_code = M.num(e.exit_code),
        interval_s = M.num(e.interval_s) and math.floor(M.num(e.interval_s) * 10 + 0.5) / 10 or nil,
      }
    elseif type(e) == "string" or type(e) == "number" then
      out[#out + 1] = { i = i, count = M.num(e) or 1, name = type(e) == "string" and e or nil }
    end
  end
  return out
end

-- host.runq_latency {samples, p50_us, p99_us, over_1ms_pct, over_10ms_pct}, or nil
function M.host_runq(context)
  local host = M.tbl(context and context.host)
  local r = host and M.tbl(host.runq_latency)
  if not r then return nil end
  return { samples = M.num(r.samples), p50_us = M.num(r.p50_us), p99_us = M.num(r.p99_us),
    over_1ms_pct = M.num(r.over_1ms_pct), over_10ms_pct = M.num(r.over_10ms_pct) }
end

-- deploys, normalized to {i, at, t, version, service, previous}, sorted by time then index
function M.deploys(context)
  local out = {}
  for i, d in ipairs(M.list(context and context.deploys)) do
    if M.tbl(d) then
      out[#out + 1] = {
        i = i, at = M.str(d.at) or M.str(d.time), t = M.parse_time(d.at or d.time),
        version = M.str(d.version) or M.str(d.to_version) or M.str(d.revision),
        service = M.str(d.service),
        previous = M.str(d.previous_version) or M.str(d.from_version) or M.str(d.from),
      }
    end
  end
  table.sort(out, function(a, b)
    local ta, tb = a.t or -huge, b.t or -huge
    if ta ~= tb then return ta < tb end
    return a.i < b.i
  end)
  return out
end

-- ---- notes: which data sources failed --------------------------------

local SOURCE_WORDS = {
  { "metrics", { "prometheus", "thanos", "mimir", "victoria", "cortex", "metrics", "promql", "datadog", "graphite" } },
  { "logs", { "loki", "logs", "log file", "logfile", "elasticsearch", "opensearch", "journald", "syslog", "^file" } },
  { "traces", { "jaeger", "tempo", "traces", "tracing", "otlp", "zipkin", "spans" } },
  { "host", { "ebpf", "bpf", "host", "kernel" } },
  { "deploys", { "deploy", "argo", "github", "rollout", "spinnaker", "flux" } },
}
local FAIL_WORDS = { "timeout", "timed out", "error", "fail", "unavailable", "unreachable", "refused",
  "continuing without", "not available", "skipped", "disabled", "denied", "no data", "not configured",
  "missing", "cannot", "could not", "couldn't", "unable", "down", "%f[%d]5%d%d%f[%D]", "not yet", "later" }

-- failed sources: {metrics = {note=..., weight=1|0.5}, ...}; weight 1 when the
-- source has no data at all, 0.5 when it has some (a partial failure).
function M.failed_sources(context)
  local notes = {}
  for _, n in ipairs(M.list(context and context.notes)) do
    if M.str(n) then notes[#notes + 1] = M.str(n) end
  end
  local host = M.tbl(context and context.host)
  if host then
    for _, n in ipairs(M.list(host.notes)) do
      if M.str(n) then notes[#notes + 1] = "host: " .. M.str(n) end
    end
  end
  local present = {
    metrics = #M.metrics(context) > 0,
    logs = #(M.templates(context)) > 0,
    traces = (function() local s = M.spans(context) return #s.errors + #s.slowest > 0 end)(),
    host = (function()
      if not host then return false end
      for _, k in ipairs(M.sorted_keys(host)) do
        if k ~= "notes" and #M.list(host[k]) > 0 then return true end
      end
      return false
    end)(),
    deploys = #M.deploys(context) > 0,
  }
  local failed = {}
  for _, note in ipairs(notes) do
    local l = slower(note)
    if M.any(l, FAIL_WORDS) then
      local head = string.match(l, "^([^:]+):") or l
      local src
      for _, sw in ipairs(SOURCE_WORDS) do
        if M.any(head, sw[2]) then src = sw[1] break end
      end
      if not src then
        for _, sw in ipairs(SOURCE_WORDS) do
          if M.any(l, sw[2]) then src = sw[1] break end
        end
      end
      if src and not failed[src] then
        failed[src] = { note = note, weight = present[src] and 0.5 or 1 }
      end
    end
  end
  return failed, present
end

return M
