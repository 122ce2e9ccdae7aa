-- nodes/lib/time.lua: dates without the local time zone.
--
-- Everything here is integer arithmetic on UTC epoch seconds: the civil
-- calendar conversions are Howard Hinnant's days_from_civil /
-- civil_from_days (proleptic Gregorian, any year), so nothing depends on
-- os.time, os.date or the TZ of the machine the run happens on.
--
--   local time = require("nodes.lib.time")
--   time.parse("2026-11-24T02:13:00+08:00")      --> 1763921580 (epoch seconds, integer)
--   time.format(1763921580)                       --> "2026-11-23T18:13:00Z"
--   time.parse("2026-11-24 02:13:00")             --> no zone: UTC (or opts.offset)
--   time.parse(1763950380000)                     --> epoch milliseconds are recognised
--
-- parse(v, opts) accepts:
--   * numbers and digit strings: epoch seconds, or milli-/micro-/nanoseconds
--     when the value is too large to be seconds (>= 1e11, 1e14, 1e17);
--     fractions are allowed ("1764036780.000200", Slack's ts);
--   * ISO-8601 / RFC 3339 and the common variants of it:
--     "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]", a space instead of T,
--     "/" or "." instead of "-", a zone "Z", "+HH:MM", "+HHMM", "+HH",
--     "UTC", "GMT", "UTC+8", "GMT-03:30", "(UTC+08:00)";
--   * month names: "Nov 24, 2026 02:13:00", "24 Nov 2026 02:13:00 UTC",
--     RFC 2822 "Tue, 24 Nov 2026 02:13:00 +0000".
-- A time without a zone is taken as UTC, or as opts.offset seconds east of
-- UTC when given. It returns the epoch seconds (floored to an integer) or
-- nil and a message saying what was wrong.
local M = {}

M.ACCEPTED = "ISO-8601 ('2026-11-24T02:13:00Z', with an offset such as '+08:00'), " ..
  "'YYYY-MM-DD HH:MM:SS' (taken as UTC), 'Nov 24, 2026 02:13:00', " ..
  "or epoch seconds / milliseconds"

local floor = math.floor

-- Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31).
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400                       -- floor division: right for negative years too
  local yoe = y - era * 400                  -- [0, 399]
  local mp = (m + 9) % 12                    -- March = 0 ... February = 11
  local doy = (153 * mp + 2) // 5 + d - 1    -- [0, 365]
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- The civil date (y, m, d) of day z since 1970-01-01.
function M.civil_from_days(z)
  z = z + 719468
  local era = z // 146097
  local doe = z - era * 146097               -- [0, 146096]
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

function M.is_leap(y)
  return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)
end

local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
function M.days_in_month(y, m)
  if m == 2 and M.is_leap(y) then return 29 end
  return MDAYS[m]
end

-- Epoch seconds of a UTC civil time; nil and a message when a field is out of range.
function M.from_civil(y, m, d, H, Mi, S)
  H, Mi, S = H or 0, Mi or 0, S or 0
  if m < 1 or m > 12 then return nil, ("month %d is not 1..12"):format(m) end
  if d < 1 or d > M.days_in_month(y, m) then
    return nil, ("day %d does not exist in %04d-%02d"):format(d, y, m)
  end
  if H > 24 or (H == 24 and (Mi > 0 or S > 0)) then return nil, ("hour %d is not 0..23"):format(H) end
  if Mi > 59 then return nil, ("minute %d is not 0..59"):format(Mi) end
  if S > 60 then return nil, ("second %d is not 0..59"):format(S) end
  if S == 60 then S = 59 end                 -- a leap second: keep it inside its minute
  return M.days_from_civil(y, m, d) * 86400 + H * 3600 + Mi * 60 + S
end

-- The civil fields of epoch seconds t (UTC): y, m, d, H, M, S, weekday (0 = Sunday).
function M.to_civil(t)
  t = floor(t)
  local days = t // 86400
  local secs = t - days * 86400
  local y, m, d = M.civil_from_days(days)
  return y, m, d, secs // 3600, secs % 3600 // 60, secs % 60, (days + 4) % 7
end

-- "YYYY-MM-DDTHH:MM:SSZ" of epoch seconds t (fractions are dropped).
function M.format(t)
  local y, m, d, H, Mi, S = M.to_civil(t)
  return ("%04d-%02d-%02dT%02d:%02d:%02dZ"):format(y, m, d, H, Mi, S)
end

local MONTHS = {
  jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8, sep = 9, sept = 9,
  oct = 10, nov = 11, dec = 12, january = 1, february = 2, march = 3, april = 4, june = 6,
  july = 7, august = 8, september = 9, october = 10, november = 11, december = 12,
}

-- Seconds east of UTC of a zone text ("Z", "+08:00", "-0330", "+8", "UTC",
-- "UTC+8", "GMT-03:30", "(UTC+08:00)"), or nil when it is not one.
function M.parse_offset(z)
  if type(z) ~= "string" then return nil end
  z = z:gsub("^%s+", ""):gsub("%s+$", ""):gsub("^%((.*)%)$", "%1")
  if z == "" then return nil end
  local u = z:upper()
  if u == "Z" or u == "UTC" or u == "GMT" or u == "UT" then return 0 end
  u = u:gsub("^UTC", ""):gsub("^GMT", "")
  local sign, hh, mm = u:match("^([+-])(%d%d?):?(%d%d)$")
  if not sign then sign, hh = u:match("^([+-])(%d%d?)$"); mm = "0" end
  if not sign then return nil end
  local h, mi = tonumber(hh), tonumber(mm)
  if h > 18 or mi > 59 then return nil end
  local off = h * 3600 + mi * 60
  return sign == "-" and -off or off
end

-- epoch number (seconds, ms, us or ns, by magnitude) -> integer seconds
local function from_epoch(n)
  local a = math.abs(n)
  if a >= 1e17 then n = n / 1e9
  elseif a >= 1e14 then n = n / 1e6
  elseif a >= 1e11 then n = n / 1e3 end
  return floor(n)
end

-- Parses the time-of-day part "HH:MM[:SS[.frac]]" at the start of s;
-- returns H, M, S, rest, or nil.
local function parse_clock(s)
  local H, Mi, rest = s:match("^(%d%d?):(%d%d)(.*)$")
  if not H then return nil end
  local S = rest:match("^:(%d%d)")
  if S then
    rest = rest:sub(4):gsub("^[.,]%d+", "")
  end
  return tonumber(H), tonumber(Mi), tonumber(S or 0), rest
end

-- The zone after a time: "", or an offset text. Returns offset (or nil =
-- none given), and false when the rest is not a zone at all.
local function parse_zone(rest)
  rest = rest:gsub("^%s+", ""):gsub("%s+$", "")
  if rest == "" then return nil, true end
  local off = M.parse_offset(rest)
  if off then return off, true end
  return nil, false
end

function M.parse(v, opts)
  local default_off = opts and opts.offset or 0
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return nil, "not a finite number" end
    return from_epoch(v)
  end
  if type(v) ~= "string" then return nil, ("a %s is not a time"):format(type(v)) end
  local s = v:gsub("^%s+", ""):gsub("%s+$", "")
  if s == "" then return nil, "an empty string is not a time" end
  if s:match("^%-?%d+$") or s:match("^%-?%d+%.%d+$") then
    return from_epoch(tonumber(s))
  end

  local y, m, d, rest
  -- 2026-11-24, 2026/11/24, 2026.11.24 (then T, space or nothing)
  local ys, ms, ds, r = s:match("^(%d%d%d%d)[-/.](%d%d?)[-/.](%d%d?)(.*)$")
  if ys then
    y, m, d, rest = tonumber(ys), tonumber(ms), tonumber(ds), r
  else
    -- optional weekday: "Tue, 24 Nov 2026 ...", "Tuesday 24 Nov ..."
    local t = s:gsub("^%a+,%s*", "")
    local dd, mon, yy, r2 = t:match("^(%d%d?)[%s%-]+(%a+)[,%s%-]+(%d%d%d%d)(.*)$")  -- 24 Nov 2026
    if not dd then
      mon, dd, yy, r2 = t:match("^(%a+)%.?%s+(%d%d?)[a-z]*,?%s+(%d%d%d%d)(.*)$")   -- Nov 24, 2026
    end
    if not dd then
      return nil, ("'%s' is not a date: use %s"):format(v, M.ACCEPTED)
    end
    local mn = MONTHS[mon:lower()]
    if not mn then return nil, ("'%s': unknown month name '%s'"):format(v, mon) end
    y, m, d, rest = tonumber(yy), mn, tonumber(dd), r2
  end

  local H, Mi, S = 0, 0, 0
  local r3 = rest:match("^[Tt](.*)$") or rest:match("^,?%s+(.*)$")
  if r3 then
    local h2, mi2, s2, after = parse_clock(r3)
    if h2 then
      H, Mi, S, rest = h2, mi2, s2, after
    elseif rest:match("^[Tt]") then
      return nil, ("'%s': no HH:MM after the T"):format(v)
    end
  end
  local off, ok = parse_zone(rest)
  if not ok then
    return nil, ("'%s': cannot read '%s' after the date (a zone is Z, +08:00, UTC or UTC+8)"):format(v, rest)
  end
  local t, err = M.from_civil(y, m, d, H, Mi, S)
  if not t then return nil, ("'%s': %s"):format(v, err) end
  return t - (off or default_off)
end

-- parse, then format: "YYYY-MM-DDTHH:MM:SSZ", or nil and the message.
function M.iso(v, opts)
  local t, err = M.parse(v, opts)
  if not t then return nil, err end
  return M.format(t)
end

-- Durations: "15m", "90s", "2h", "1d", "1h30m" or a number of seconds.
function M.duration(v)
  if type(v) == "number" then return v end
  if type(v) ~= "string" then return nil end
  if v:match("^%d+$") then return tonumber(v) end
  local total, seen = 0, false
  local units = { s = 1, m = 60, h = 3600, d = 86400, w = 604800 }
  local rest = v:gsub("(%d+)([smhdw])", function(n, u)
    total = total + tonumber(n) * units[u]; seen = true
    return ""
  end)
  if not seen or rest ~= "" then return nil end
  return total
end

return M
