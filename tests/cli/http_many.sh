#!/usr/bin/env bash
# tests/cli/http_many.sh: ctx.http.get_many from node code, through the real
# binary, against tests/tools/http_server.py on 127.0.0.1 (a free port the
# kernel picks; the server logs one line per request, killed on exit).
#
# Covered: results in request order, each as ctx.http.get gives it (a mix of
# 200 with JSON decoded, 404, invalid JSON, binary, a POST with a body and
# a query, connection refused, a timeout, an invalid URL), failures as
# {error, kind} with the same messages as single calls; concurrency without
# timing: the server's barrier answers only once K requests are open at the
# same time (or 503 after its own bounded wait), so get_many with
# parallel >= K gets 200s, while one after another, or parallel < K, gets
# 503s; the bodies of a batch together capped at the node's memory budget
# left (one 3 MB body fits a 5 MiB budget, the next ones are too_large);
# argument errors that raise, naming the element and the option; the
# journal: a node calls get_many then og.interrupt, and after resume the
# server saw each request once and the re-run got the same answers; a
# partially recorded batch (the re-run asks one request more) replays the
# recorded one and performs only the new one.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/http_many.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-many.XXXXXX") || exit 2
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
DB=$tmp/db

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
count() { grep -cF -- "$1" "$tmp/log" 2>/dev/null || true; }
# runs $tmp/NAME.lua once on an in-memory store and keeps its JSON output as
# $tmp/NAME.json for pycheck
run_lua() {
	og run "$tmp/$1.lua" --db :memory: --input "$INPUT" --output json
	expect_rc 0
	printf '%s' "$out" >"$tmp/$1.json"
}
# runs the python from stdin with $1 as argv[1]: it fills `checks`, a list of
# (name, good), and `detail`, shown with each failure
pycheck() {
	{ cat; printf '%s\n' 'for name, good in checks:' \
		'    print(("ok " if good else "FAIL ") + name + ("" if good else ": " + json.dumps(detail)[:3000]))'
	} >"$tmp/check.py"
	python3 "$tmp/check.py" "$@" >"$tmp/checks" 2>&1
	while read -r verdict rest; do
		if [ "$verdict" = ok ]; then ok; else bad "$rest"; fi
	done <"$tmp/checks"
	grep -q . "$tmp/checks" || bad "no checks ran: $out $err"
}

start_server "test server" tests/tools/http_server.py "$tmp"
INPUT="{\"base\": \"$BASE\", \"closed\": \"$CLOSED\"}"

# --- a mixed batch, compared with the same requests made one by one -----------
cat >"$tmp/mix.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "many_mix", state = { base = og.last(), closed = og.last(), r = og.last() } }
g:node("calls", function(s, ctx)
  local reqs = {
    { url = s.base .. "/json" },
    { url = s.base .. "/status/404" },
    { url = s.closed .. "/api" },
    { url = s.base .. "/slow", timeout_ms = 300 },
    { url = s.base .. "/badjson" },
    { url = s.base .. "/binary" },
    { url = s.base .. "/echo/many", method = "post", body = "raw", query = { q = "a b" },
      headers = { ["X-Trace"] = "t2" } },
    { url = "ftp://127.0.0.1/x" },
    { url = s.base .. "/big", max_bytes = 1000 },
  }
  local many = ctx.http.get_many(reqs, { parallel = 3 })
  local one = {}
  for i, q in ipairs(reqs) do
    local o = {}
    for k, v in pairs(q) do o[k] = v end
    local url = o.url; o.url = nil
    if o.method or o.body then o.url = url; one[i] = { ctx.http.request(o) }
    else one[i] = { ctx.http.get(url, o) } end
  end
  local function shape(x)
    if x == nil then return nil end
    return { status = x.status, body = x.body and #x.body, json = x.json, json_error = x.json_error,
             error = x.error, kind = x.kind, ct = x.headers and x.headers["content-type"] }
  end
  local r = { n = #many, many = {}, one = {}, echo = many[7].json }
  for i = 1, #reqs do
    r.many[i] = shape(many[i])
    local a, msg, kind = table.unpack(one[i], 1, 3)
    r.one[i] = a and shape(a) or { error = msg, kind = kind }
  end
  r.bin = { many[6].body:byte(1, -1) }
  return { r = r }
end)
g:edge(og.START, "calls")
return g
EOF
run_lua mix
CLOSED="$CLOSED" pycheck "$tmp/mix.json" <<'EOF'
import json, os, sys
closed = os.environ["CLOSED"]
r = json.load(open(sys.argv[1]))["state"]["r"]
m, o = r["many"], r["one"]
checks = [
  ("mix: one result per request", r["n"] == 9 and len(m) == 9),
  ("mix: 200 json decoded", m[0]["status"] == 200 and m[0]["json"] == {"ok": True, "n": 1, "list": [1, 2]}),
  ("mix: 404 is a response", m[1]["status"] == 404 and m[1]["body"] == len("status 404")),
  ("mix: refused", m[2] == {"error": "GET %s/api: connection refused (is the server running? check the URL)" % closed,
                            "kind": "connect"}),
  ("mix: timeout", m[3]["kind"] == "timeout" and "timed out after 300 ms" in m[3]["error"]),
  ("mix: bad json", "invalid JSON near byte" in (m[4].get("json_error") or "") and "json" not in m[4]),
  ("mix: binary body", r["bin"] == [0, 255, 97, 0]),
  ("mix: post with method, body, query, header", r["echo"]["method"] == "POST" and r["echo"]["body"] == "raw"
   and r["echo"]["path"] == "/echo/many?q=a%20b" and r["echo"]["headers"].get("x-trace") == "t2"),
  ("mix: +json decoded", m[6]["ct"] == "application/problem+json"),
  ("mix: invalid", m[7]["kind"] == "invalid" and "unsupported scheme 'ftp'" in m[7]["error"]),
  ("mix: too_large", m[8]["kind"] == "too_large" and "larger than max_bytes (1000 bytes)" in m[8]["error"]),
]
# ctx.http.request (element 7, a POST) does not decode JSON; get_many does, as get does
m6 = dict(m[6]); m6.pop("json", None)
for i in range(9):
    checks.append(("mix: element %d as the single call gives it" % (i + 1), (m6 if i == 6 else m[i]) == o[i]))
detail = {"many": m, "one": o}
EOF
[ "$(count 'ftp')" = 0 ] && ok || bad "an ftp URL reached the server"

# --- concurrency, without timing: the barrier -----------------------------------
cat >"$tmp/barrier.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "many_barrier", state = { base = og.last(), closed = og.last(), r = og.last() } }
g:node("calls", function(s, ctx)
  local function batch(group, k, ms, n, opts)
    local reqs = {}
    for i = 1, n do reqs[i] = { url = ("%s/barrier/%s/%d/%d?i=%d"):format(s.base, group, k, ms, i) } end
    local out = {}
    for i, x in ipairs(ctx.http.get_many(reqs, opts)) do out[i] = x.status or x.kind end
    return out
  end
  local r = {}
  r.par4 = batch("a", 4, 8000, 4, { parallel = 4 })
  r.default = batch("b", 6, 8000, 6)
  r.par2 = batch("c", 3, 700, 3, { parallel = 2 })
  r.seq = {}
  for i = 1, 2 do r.seq[i] = ctx.http.get(("%s/barrier/d/2/700?i=%d"):format(s.base, i)).status end
  return { r = r }
end)
g:edge(og.START, "calls")
return g
EOF
run_lua barrier
pycheck "$tmp/barrier.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["state"]["r"]
checks = [
  ("barrier: 4 requests with parallel = 4 were open at once", r["par4"] == [200] * 4),
  ("barrier: 6 requests with the default parallel were open at once", r["default"] == [200] * 6),
  ("barrier: parallel = 2 never had 3 open", r["par2"] == [503] * 3),
  ("barrier: one after another never had 2 open", r["seq"] == [503] * 2),
]
detail = r
EOF

# --- the bodies of a batch together stay within the node's memory budget ----------
cat >"$tmp/budget.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "many_budget", state = { base = og.last(), closed = og.last(), r = og.last() } }
g:node("calls", function(s, ctx)
  local reqs = {}
  for i = 1, 3 do reqs[i] = { url = ("%s/bytes/3000000?i=%d"):format(s.base, i), max_bytes = 4000000 } end
  local r = {}
  for i, x in ipairs(ctx.http.get_many(reqs, { parallel = 1 })) do
    r[i] = { len = x.body and #x.body, kind = x.kind, error = x.error }
  end
  return { r = r }
end, { budget = { memory_mb = 5 } })
g:edge(og.START, "calls")
return g
EOF
run_lua budget
pycheck "$tmp/budget.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["state"]["r"]
checks = [
  ("budget: the first body fits", r[0].get("len") == 3000000),
  ("budget: the next ones would go over: too_large, saying why", all(x.get("kind") == "too_large"
   and "the batch's response bodies together went over" in x.get("error", "") for x in r[1:])),
]
detail = r
EOF

# --- argument errors raise, naming the element and the option -------------------
cat >"$tmp/argerr.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "many_argerr", state = { base = og.last(), closed = og.last(), case = og.last() } }
local cases = {
  notable = function(s, ctx) return ctx.http.get_many("http://x") end,
  empty = function(s, ctx) return ctx.http.get_many({}) end,
  toomany = function(s, ctx)
    local t = {}
    for i = 1, 65 do t[i] = { url = s.base } end
    return ctx.http.get_many(t)
  end,
  hashkeys = function(s, ctx) return ctx.http.get_many({ { url = s.base }, x = { url = s.base } }) end,
  elem = function(s, ctx) return ctx.http.get_many({ { url = s.base }, s.base }) end,
  unknown = function(s, ctx) return ctx.http.get_many({ { url = s.base }, { urll = s.base } }) end,
  nourl = function(s, ctx) return ctx.http.get_many({ { url = s.base }, {}, { url = s.base } }) end,
  range = function(s, ctx) return ctx.http.get_many({ { url = s.base, timeout_ms = 0 } }) end,
  par0 = function(s, ctx) return ctx.http.get_many({ { url = s.base } }, { parallel = 0 }) end,
  par33 = function(s, ctx) return ctx.http.get_many({ { url = s.base } }, { parallel = 33 }) end,
  parfrac = function(s, ctx) return ctx.http.get_many({ { url = s.base } }, { parallel = 1.5 }) end,
  optkey = function(s, ctx) return ctx.http.get_many({ { url = s.base } }, { timeout_ms = 5 }) end,
  opttype = function(s, ctx) return ctx.http.get_many({ { url = s.base } }, 4) end,
}
g:node("call", function(s, ctx) cases[s.case](s, ctx); return {} end)
g:edge(og.START, "call")
return g
EOF
argerr() {	# case, expected message part
	og run "$tmp/argerr.lua" --db :memory: --input "{\"base\": \"$BASE/argerr\", \"case\": \"$1\"}"
	expect_rc 1
	expect_in "$2" "$err" "error of case $1"
}
argerr notable "ctx.http.get_many: expects an array of request tables"
argerr empty "ctx.http.get_many: give 1 to 64 requests (got 0)"
argerr toomany "ctx.http.get_many: give 1 to 64 requests (got 65)"
argerr hashkeys "ctx.http.get_many: requests must be an array"
argerr elem "ctx.http.get_many: requests[2] must be a table such as { url = "
argerr unknown "ctx.http.get_many: requests[2]: unknown option 'urll' (did you mean url?)"
argerr nourl "ctx.http.get_many: requests[2]: url is required"
argerr range "ctx.http.get_many: requests[1]: timeout_ms must be between 1 and 120000 (got 0)"
argerr par0 "ctx.http.get_many: opts: parallel must be a whole number of transfers from 1 to 32 (got 0)"
argerr par33 "ctx.http.get_many: opts: parallel must be a whole number of transfers from 1 to 32 (got 33)"
argerr parfrac "ctx.http.get_many: opts: parallel must be a whole number of transfers from 1 to 32 (got 1.5)"
argerr optkey "ctx.http.get_many: unknown option 'timeout_ms' in opts (known: parallel"
argerr opttype "ctx.http.get_many: the second argument must be an options table"
[ "$(count '/argerr')" = 0 ] && ok || bad "a request was sent although an argument was bad: $(grep argerr "$tmp/log")"

# --- the journal: each request once however often the node re-runs ---------------
: >"$tmp/log"			# the server appends: count this part's requests only
cat >"$tmp/journal.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "many_journal", state = { base = og.last(), closed = og.last(), more = og.last(),
                                                    out = og.last() } }
g:node("call", function(s, ctx)
  local reqs = {
    { url = s.base .. "/once?id=m1" },
    { url = s.closed .. "/down" },
    { url = s.base .. "/binary" },
    { url = s.base .. "/echo/once", method = "POST", body = "{\"n\": 1}",
      headers = { ["Content-Type"] = "application/json" } },
  }
  if s.more then reqs[5] = { url = s.base .. "/once?id=m5" } end
  local r = ctx.http.get_many(reqs)
  local answer = og.interrupt({ n = #r })
  return { out = { n = #r, body1 = r[1].body, dur1 = r[1].duration_ms, err2 = r[2].error, kind2 = r[2].kind,
                   bin = { r[3].body:byte(1, -1) }, echo_n = r[4].json and ctx.json.decode(r[4].json.body).n,
                   body5 = r[5] and r[5].body, answer = answer } }
end)
g:edge(og.START, "call")
return g
EOF
og run "$tmp/journal.lua" --db "$DB" --thread j1 --input "$INPUT" --output json
expect_rc 0
expect_in '"status":"interrupted"' "$out" "first run"
og state j1 --db "$DB" --output json
printf '%s' "$out" >"$tmp/state.json"
pycheck "$tmp/state.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))["pending"][0]["journal"]
v = [e["v"] for e in j]
checks = [
  ("journal: 4 http entries", [e["k"] for e in j] == ["http"] * 4),
  ("journal: in request order", [x["req"].split(" ", 1)[1].rsplit("/", 1)[-1] for x in v] == ["once", "down", "binary", "once"]),
  ("journal: a success as ctx.http records it", v[0]["ok"] is True and v[0]["body"] == "once" and v[0]["status"] == 200),
  ("journal: a failure as ctx.http records it", v[1]["ok"] is False and v[1]["kind"] == "connect"),
  ("journal: binary as base64", v[2].get("body_b64") == "AP9hAA==" and "body" not in v[2]),
  ("journal: the POST", v[3]["req"].startswith("POST http://127.0.0.1:")),
]
detail = j
EOF
og resume j1 --db "$DB" --value '"go"' --output json
expect_rc 0
printf '%s' "$out" >"$tmp/resumed.json"
expect_in '"status":"done"' "$out" "resume"
for u in '/once?id=m1' '/binary' 'POST /echo/once'; do
	[ "$(count "$u")" = 1 ] && ok || bad "after resume: $u requested $(count "$u") times, want 1"
done
pycheck "$tmp/resumed.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))["state"]["out"]
checks = [
  ("replay: response", o["n"] == 4 and o["body1"] == "once" and isinstance(o["dur1"], int)),
  ("replay: failure as {error, kind}", o["kind2"] == "connect" and "connection refused" in o["err2"]),
  ("replay: binary body", o["bin"] == [0, 255, 97, 0]),
  ("replay: json decoded again", o["echo_n"] == 1),
  ("replay: answer", o["answer"] == "go"),
]
detail = o
EOF

# --- a partially recorded batch: the recorded part replays, the rest is performed --
og run "$tmp/journal.lua" --db "$DB" --thread j2 --input "$INPUT" --output json
expect_rc 0
og resume j2 --db "$DB" --command '{"resume": "more", "update": {"more": true}}' --output json
expect_rc 0
printf '%s' "$out" >"$tmp/partial.json"
[ "$(count '/once?id=m1')" = 2 ] && ok || bad "partial: /once?id=m1 requested $(count '/once?id=m1') times in two threads, want 2"
[ "$(count '/once?id=m5')" = 1 ] && ok || bad "partial: the new request was sent $(count '/once?id=m5') times, want 1"
pycheck "$tmp/partial.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
o = d["state"]["out"]
checks = [
  ("partial: done", d["status"] == "done"),
  ("partial: 5 results, the new one performed", o["n"] == 5 and o["body5"] == "once" and o["body1"] == "once"),
]
detail = d
EOF

finish
