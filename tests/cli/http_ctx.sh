#!/usr/bin/env bash
# tests/cli/http_ctx.sh: ctx.http from node code, through the real binary,
# against tests/tools/http_server.py on 127.0.0.1 (a free port the kernel
# picks; the server logs one line per request and is killed on exit).
#
# Covered: ctx.http.get with JSON decoding (json, json_error, non-JSON
# content types), post_json (encoded body, content-type and accept sent,
# caller's headers kept), request (method, raw body, query encoding with
# repeated keys, HEAD), any status is a response, transfer failures as
# nil, message, kind (connection refused on a closed port, timeout,
# too_large, invalid scheme), argument errors that raise (unknown option with
# a suggestion, out-of-range timeout, wrong types, options not allowed in
# the convenience calls, read-only namespace), and the journal: a node calls
# ctx.http (a success, a failure and a binary body), then og.interrupt; after
# `opsgraph resume` the node ran twice but the server saw each request once,
# and the re-run got the recorded answers; a re-run that calls another URL
# (state changed by resume --command) fails and names both calls.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/http_ctx.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-http.XXXXXX") || exit 2
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
# requests the server logged whose line contains $1
count() { grep -cF -- "$1" "$tmp/log" 2>/dev/null || true; }

# --- the server: bounded wait for its port --------------------------------
start_server "test server" tests/tools/http_server.py "$tmp"
INPUT="{\"base\": \"$BASE\", \"closed\": \"$CLOSED\"}"

# --- calls: results written into the state, checked in Python -------------
cat >"$tmp/calls.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "http_calls", state = { base = og.last(), closed = og.last(), r = og.merge() } }
local function fail3(n, err, kind) return { isnil = n == nil, err = err, kind = kind } end
g:node("calls", function(s, ctx)
  local r, resp = {}, nil
  resp = ctx.http.get(s.base .. "/json")
  r.json = { status = resp.status, json = resp.json, ct = resp.headers["content-type"],
             server = resp.headers["x-server"], dur = math.type(resp.duration_ms), body = resp.body,
             upper = resp.headers["Content-Type"] == nil }
  resp = ctx.http.get(s.base .. "/text")
  r.text = { body = resp.body, has_json = resp.json ~= nil, has_err = resp.json_error ~= nil }
  resp = ctx.http.get(s.base .. "/badjson")
  r.badjson = { has_json = resp.json ~= nil, json_error = resp.json_error }
  resp = ctx.http.post_json(s.base .. "/echo", { a = 1, list = { 1, 2 }, s = "é" },
                            { headers = { ["X-Trace"] = "t1" }, timeout_ms = 5000 })
  r.post = resp.json
  resp = ctx.http.post_json(s.base .. "/echo", og.array{}, { headers = { ["content-type"] = "application/vnd+json" } })
  r.post2 = { ct = resp.json.headers["content-type"], body = resp.json.body }
  resp = ctx.http.request{ method = "put", url = s.base .. "/echo", body = "raw\nbody",
                           query = { q = "up{job=\"a b\"}", m = { "x", 2, true } } }
  r.put = { raw = resp.json == nil, echo = ctx.json.decode(resp.body) }
  resp = ctx.http.request{ method = "HEAD", url = s.base .. "/text" }
  r.head = { status = resp.status, body = resp.body, len = resp.headers["content-length"] }
  resp = ctx.http.get(s.base .. "/status/404")
  r.s404 = { status = resp.status, body = resp.body }
  resp = ctx.http.get(s.base .. "/status/503")
  r.s503 = { status = resp.status }
  r.refused = fail3(ctx.http.get(s.closed .. "/api"))
  r.timeout = fail3(ctx.http.get(s.base .. "/slow", { timeout_ms = 300 }))
  r.too_large = fail3(ctx.http.get(s.base .. "/big", { max_bytes = 1000 }))
  r.fits = #ctx.http.get(s.base .. "/big", { max_bytes = 5000 }).body
  r.invalid = fail3(ctx.http.get("ftp://127.0.0.1/x"))
  r.secret = fail3(ctx.http.get(s.closed .. "/hook?token=t0ken"))
  return { r = r }
end)
g:edge(og.START, "calls")
return g
EOF
og run "$tmp/calls.lua" --db :memory: --input "$INPUT" --output json
expect_rc 0
printf '%s' "$out" >"$tmp/calls.json"
CLOSED="$CLOSED" python3 - "$tmp/calls.json" >"$tmp/checks" 2>&1 <<'EOF'
import json, os, sys
closed = os.environ["CLOSED"]
d = json.load(open(sys.argv[1]))
r = d["state"]["r"]
checks = [
  ("status done", d["status"] == "done"),
  ("get json: status", r["json"]["status"] == 200),
  ("get json: decoded", r["json"]["json"] == {"ok": True, "n": 1, "list": [1, 2]}),
  ("get json: content-type", r["json"]["ct"] == "application/json"),
  ("get json: header x-server lower-cased", r["json"]["server"] == "test"),
  ("get json: names are lower-case only", r["json"]["upper"] is True),
  ("get json: duration_ms integer", r["json"]["dur"] == "integer"),
  ("get json: raw body kept", json.loads(r["json"]["body"])["n"] == 1),
  ("get text: body", r["text"]["body"] == "hello"),
  ("get text: no json, no json_error", not r["text"]["has_json"] and not r["text"]["has_err"]),
  ("bad json: json nil", not r["badjson"]["has_json"]),
  ("bad json: json_error", "invalid JSON near byte" in (r["badjson"]["json_error"] or "")),
  ("post_json: method", r["post"]["method"] == "POST"),
  ("post_json: body", json.loads(r["post"]["body"]) == {"a": 1, "list": [1, 2], "s": "é"}),
  ("post_json: content-type", r["post"]["headers"].get("content-type") == "application/json"),
  ("post_json: accept", r["post"]["headers"].get("accept") == "application/json"),
  ("post_json: caller's header", r["post"]["headers"].get("x-trace") == "t1"),
  ("post_json: user agent", r["post"]["headers"].get("user-agent") == "opsgraph"),
  ("post_json: no Expect", "expect" not in r["post"]["headers"]),
  ("post_json: caller's content-type wins", r["post2"]["ct"] == "application/vnd+json"),
  ("post_json: empty array body", r["post2"]["body"] == "[]"),
  ("request: raw, no json", r["put"]["raw"] is True),
  ("request: method upper-cased", r["put"]["echo"]["method"] == "PUT"),
  ("request: body", r["put"]["echo"]["body"] == "raw\nbody"),
  ("request: no content-type made up", "content-type" not in r["put"]["echo"]["headers"]),
  ("request: query sorted, encoded, repeated",
   r["put"]["echo"]["path"].lower() == "/echo?m=x&m=2&m=true&q=up%7bjob%3d%22a%20b%22%7d"),
  ("head: status", r["head"]["status"] == 200),
  ("head: empty body", r["head"]["body"] == ""),
  ("head: content-length", r["head"]["len"] == "5"),
  ("404 is a response", r["s404"] == {"status": 404, "body": "status 404"}),
  ("503 is a response", r["s503"]["status"] == 503),
  ("refused: nil", r["refused"]["isnil"] is True),
  ("refused: kind", r["refused"]["kind"] == "connect"),
  ("refused: message", r["refused"]["err"] == "GET %s/api: connection refused (is the server running? check the URL)" % closed),
  ("timeout: kind", r["timeout"]["kind"] == "timeout" and r["timeout"]["isnil"]),
  ("timeout: message", "timed out after 300 ms" in r["timeout"]["err"]),
  ("too_large: kind", r["too_large"]["kind"] == "too_large" and r["too_large"]["isnil"]),
  ("too_large: message", "larger than max_bytes (1000 bytes)" in r["too_large"]["err"]),
  ("max_bytes exactly", r["fits"] == 5000),
  ("invalid scheme: kind", r["invalid"]["kind"] == "invalid"),
  ("invalid scheme: message", "unsupported scheme 'ftp'" in r["invalid"]["err"]),
  ("query not in messages", "t0ken" not in r["secret"]["err"] and r["secret"]["err"].startswith("GET %s/hook: " % closed)),
]
for name, good in checks:
    print(("ok " if good else "FAIL ") + name + ("" if good else ": " + json.dumps(r)[:2000]))
EOF
while read -r verdict name; do
	if [ "$verdict" = ok ]; then ok; else bad "calls: $name"; fi
done <"$tmp/checks"
[ -s "$tmp/checks" ] || bad "calls: no checks ran: $out $err"
# the HEAD and the slow request reached the server; the invalid one did not
[ "$(count 'HEAD /text')" = 1 ] && ok || bad "HEAD not logged once: $(cat "$tmp/log")"
[ "$(count 'ftp')" = 0 ] && ok || bad "an ftp URL reached the server"

# --- argument errors raise, naming the call ----------------------------------
cat >"$tmp/argerr.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "http_argerr", state = { base = og.last(), closed = og.last(), case = og.last() } }
local cases = {
  timeout = function(s, ctx) return ctx.http.request{ url = s.base, timeout = 5 } end,
  maxbytes = function(s, ctx) return ctx.http.get(s.base, { max_byte = 5 }) end,
  nonsense = function(s, ctx) return ctx.http.get(s.base, { zzz = 1 }) end,
  range = function(s, ctx) return ctx.http.get(s.base, { timeout_ms = 300000 }) end,
  fraction = function(s, ctx) return ctx.http.get(s.base, { timeout_ms = 1.5 }) end,
  numstring = function(s, ctx) return ctx.http.get(s.base, { max_bytes = "100" }) end,
  follow = function(s, ctx) return ctx.http.get(s.base, { follow_redirects = 1 }) end,
  query = function(s, ctx) return ctx.http.get(s.base, { query = { a = { {} } } }) end,
  bodytype = function(s, ctx) return ctx.http.request{ url = s.base, method = "POST", body = {} } end,
  method = function(s, ctx) return ctx.http.request{ url = s.base, method = "FETCH" } end,
  geturl = function(s, ctx) return ctx.http.get(s.base, { url = "http://x" }) end,
  postbody = function(s, ctx) return ctx.http.post_json(s.base, {}, { body = "x" }) end,
  nourl = function(s, ctx) return ctx.http.request{ method = "GET" } end,
  noargs = function(s, ctx) return ctx.http.request("http://x") end,
  postfn = function(s, ctx) return ctx.http.post_json(s.base, { f = function() end }) end,
  headertype = function(s, ctx) return ctx.http.get(s.base, { headers = { X = {} } }) end,
  readonly = function(s, ctx) ctx.http.get = nil end,
}
g:node("call", function(s, ctx) cases[s.case](s, ctx); return {} end)
g:edge(og.START, "call")
return g
EOF
argerr() {	# case, expected message part
	og run "$tmp/argerr.lua" --db :memory: --input "{\"base\": \"$BASE/text\", \"case\": \"$1\"}"
	expect_rc 1
	expect_in "$2" "$err" "error of case $1"
}
argerr timeout "ctx.http.request: unknown option 'timeout' (did you mean timeout_ms?)"
argerr maxbytes "ctx.http.get: unknown option 'max_byte' (did you mean max_bytes?)"
argerr nonsense "ctx.http.get: unknown option 'zzz' (known: method, url,"
argerr range "ctx.http.get: timeout_ms must be between 1 and 120000 (got 300000)"
argerr fraction "ctx.http.get: timeout_ms must be an integer number of milliseconds (got a fraction)"
argerr numstring "ctx.http.get: max_bytes must be an integer number of bytes (got string)"
argerr follow "ctx.http.get: follow_redirects must be true or false (got number)"
argerr query "ctx.http.get: query['a'] must be a string, number or boolean (got table)"
argerr bodytype "ctx.http.request: body must be a string (got table; use ctx.http.post_json"
argerr method "ctx.http.request: method 'FETCH' is not supported (use GET, HEAD, POST"
argerr geturl "ctx.http.get: option 'url' is not allowed here (the URL is the first argument)"
argerr postbody "ctx.http.post_json: option 'body' is not allowed here (the body is the encoded second argument)"
argerr nourl "ctx.http.request: url is required"
argerr noargs "ctx.http.request: expects a table"
argerr postfn "ctx.http.post_json: cannot convert a function to JSON"
argerr headertype "ctx.http.get: headers['X'] must be a string (got table)"
argerr readonly "ctx namespaces are read-only"
expect_in "argerr.lua:" "$err" "the message points at the graph file"

# --- the journal: one request however often the node re-runs ------------------
cat >"$tmp/journal.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "http_journal", state = { base = og.last(), closed = og.last(), out = og.last() } }
g:node("call", function(s, ctx)
  local r = ctx.http.get(s.base .. "/once?id=1")
  local _, err, kind = ctx.http.get(s.closed .. "/down")
  local b = ctx.http.get(s.base .. "/binary")
  local p = ctx.http.post_json(s.base .. "/echo/once", { n = 1 })
  local answer = og.interrupt({ status = r.status })
  return { out = { status = r.status, body = r.body, dur = r.duration_ms, err = err, kind = kind,
                   bin = { b.body:byte(1, -1) }, echo_n = p.json and ctx.json.decode(p.json.body).n,
                   answer = answer } }
end)
g:edge(og.START, "call")
return g
EOF
og run "$tmp/journal.lua" --db "$DB" --thread j1 --input "$INPUT" --output json
expect_rc 0
expect_in '"status":"interrupted"' "$out" "first run"
[ "$(count '/once?id=1')" = 1 ] && ok || bad "before resume: /once requested $(count '/once?id=1') times"
og state j1 --db "$DB" --output json
printf '%s' "$out" >"$tmp/state.json"
python3 - "$tmp/state.json" >"$tmp/jchecks" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
j = d["pending"][0]["journal"]
print("ok" if [e["k"] for e in j] == ["http"] * 4 else "FAIL kinds %r" % j)
print("ok" if j[0]["v"]["ok"] is True and j[0]["v"]["body"] == "once" else "FAIL entry 1 %r" % j[0])
print("ok" if j[1]["v"]["ok"] is False and j[1]["v"]["kind"] == "connect" else "FAIL entry 2 %r" % j[1])
print("ok" if j[2]["v"].get("body_b64") == "AP9hAA==" and "body" not in j[2]["v"] else "FAIL entry 3 %r" % j[2])
print("ok" if j[0]["v"]["req"].endswith("/once") and j[0]["v"]["req"].startswith("GET http://127.0.0.1:") else "FAIL req %r" % j[0])
print("dur %d" % j[0]["v"]["duration_ms"])
EOF
grep -v '^dur ' "$tmp/jchecks" | while read -r verdict rest; do
	[ "$verdict" = ok ] || echo "$rest"
done >"$tmp/jfails"
n_ok=$(grep -c '^ok$' "$tmp/jchecks"); pass=$((pass + n_ok))
[ -s "$tmp/jfails" ] && bad "journal in the checkpoint: $(cat "$tmp/jfails")"
dur=$(sed -n 's/^dur //p' "$tmp/jchecks")
og resume j1 --db "$DB" --value '"go"' --output json
expect_rc 0
printf '%s' "$out" >"$tmp/resumed.json"
expect_in '"status":"done"' "$out" "resume"
[ "$(count '/once?id=1')" = 1 ] && ok || bad "after resume: /once requested $(count '/once?id=1') times, want 1"
[ "$(count 'POST /echo/once')" = 1 ] && ok || bad "after resume: POST /echo/once sent $(count 'POST /echo/once') times, want 1"
[ "$(count '/binary')" = 1 ] && ok || bad "after resume: /binary requested $(count '/binary') times, want 1"
DUR="$dur" python3 - "$tmp/resumed.json" >"$tmp/rchecks" 2>&1 <<'EOF'
import json, os, sys
o = json.load(open(sys.argv[1]))["state"]["out"]
print("ok" if o["status"] == 200 and o["body"] == "once" else "FAIL response %r" % o)
print("ok" if o["dur"] == int(os.environ["DUR"]) else "FAIL duration %r, recorded %s" % (o["dur"], os.environ["DUR"]))
print("ok" if o["kind"] == "connect" and "connection refused" in o["err"] else "FAIL failure %r" % o)
print("ok" if o["bin"] == [0, 255, 97, 0] else "FAIL binary body %r" % o["bin"])
print("ok" if o["echo_n"] == 1 else "FAIL post_json replay (json decoded again) %r" % o)
print("ok" if o["answer"] == "go" else "FAIL answer %r" % o)
EOF
while read -r verdict rest; do
	if [ "$verdict" = ok ]; then ok; else bad "after resume: $rest"; fi
done <"$tmp/rchecks"

# --- a re-run that calls another URL fails, naming both calls -----------------
cat >"$tmp/differ.lua" <<'EOF2'
local og = require("opsgraph")
local g = og.graph{ name = "http_differ", state = { base = og.last(), path = og.last(), out = og.last() } }
g:node("call", function(s, ctx)
  local r = ctx.http.get(s.base .. s.path)
  og.interrupt("?")
  return { out = r.body }
end)
g:edge(og.START, "call")
return g
EOF2
og run "$tmp/differ.lua" --db "$DB" --thread d1 --input "{\"base\": \"$BASE\", \"path\": \"/differ/a\"}"
expect_rc 0
og resume d1 --db "$DB" --command '{"resume": "x", "update": {"path": "/differ/b"}}'
expect_rc 1
expect_in "re-ran differently: this ctx.http call was GET $BASE/differ/a, now it is GET $BASE/differ/b" "$err" "changed call"
[ "$(count '/differ/')" = 1 ] && ok || bad "the changed call reached the server: $(grep differ "$tmp/log")"

finish
