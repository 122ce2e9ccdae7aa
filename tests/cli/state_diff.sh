#!/usr/bin/env bash
# tests/cli/state_diff.sh: `opsgraph diff` and GET /api/threads/{id}/diff on
# a real thread of tests/graphs/diff_state.lua: the paths a step added, a
# fork's edit of a value inside an array inside an object and the changes
# it caused downstream (branch against branch), two threads compared with
# THREAD:ID, text and JSON output, and the errors for bad ids (exit 2 or
# 400/404, naming the fix).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
G=tests/graphs/diff_state.lua
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-diff.XXXXXX") || exit 2
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
DB=$tmp/db

og() {
	timeout 60 "$OPSGRAPH" "$@" --db "$DB" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
py() { printf '%s' "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" 2>&1; }
expect_py() { local got; got=$(py "$1"); if [ "$got" = "$2" ]; then ok; else bad "$last: $1 = '$got', want '$2'"; fi; }

# --- one thread: input -> collect -> analyze -> act ----------------------
og run $G --thread d1 --input '{"service":"api"}' --output json
expect_rc 0
expect_py 'j["status"]' done
# checkpoints: 1 input, 2 collect, 3 analyze, 4 act
og diff d1 --from 2 --to 3 --output json
expect_rc 0
expect_py '[(c["op"], c["path"]) for c in j["changes"]]' "[('added', '/log/1'), ('changed', '/stage'), ('added', '/rca')]"
expect_py 'j["summary"]' "{'added': 2, 'removed': 0, 'changed': 1}"
expect_py '(j["from"]["checkpoint_id"], j["to"]["checkpoint_id"], j["to"]["step"])' "(2, 3, 1)"
# --to defaults to the latest checkpoint
og diff d1 --from 3 --output json
expect_py '[(c["op"], c["path"], c.get("to")) for c in j["changes"]]' "[('added', '/log/2', 'act'), ('changed', '/stage', 'acted'), ('added', '/plan', ['restart api', 'scale db'])]"
expect_py 'j["to"]["status"]' done

# --- a fork edits a value inside an array inside an object ---------------
og fork d1 --checkpoint 2 --update '{"context": {"metrics": [{"name": "p99_ms", "value": 40}, {"name": "errors", "value": 3}], "labels": {"env": "prod"}}}'
expect_rc 0
fork=$(printf '%s' "$out" | grep -o 'checkpoint [0-9]*' | head -1 | cut -d' ' -f2)
[ "$fork" = 5 ] && ok || bad "fork made checkpoint '$fork', want 5: $out"
og diff d1 --from 2 --to 5 --output json
expect_py '[(c["op"], c["path"], c.get("from"), c.get("to")) for c in j["changes"]]' "[('changed', '/context/metrics/0/value', 120, 40)]"
og resume d1 --output json
expect_rc 0
expect_py 'j["state"]["rca"]["cause"]' none
# branch against branch: the original end (4) against the fork's end (latest)
og diff d1 --from 4 --output json
expect_py '[(c["op"], c["path"]) for c in j["changes"]]' "[('changed', '/context/metrics/0/value'), ('removed', '/plan/1'), ('changed', '/rca/cause')]"
# text: one line per path, + - ~
og diff d1 --from 4
expect_rc 0
expect_in "~ /context/metrics/0/value: 120 -> 40" "$out" "text diff"
expect_in '- /plan/1: "scale db"' "$out" "text diff"
expect_in "0 added, 1 removed, 2 changed" "$out" "text diff"

# --- two threads: THREAD:ID on either side --------------------------------
og run $G --thread d2 --input '{"service":"web"}' --output json
og diff d1 --from 4 --to d2:latest --output json
expect_rc 0
expect_py 'sorted((c["op"], c["path"], c.get("to")) for c in j["changes"])' "[('changed', '/plan/0', 'restart web'), ('changed', '/service', 'web')]"
expect_py '(j["from"]["thread_id"], j["to"]["thread_id"])' "('d1', 'd2')"
og diff d2 --from d2:4 --to 4 --output json
expect_py 'len(j["changes"])' 0

# --- errors: exit 2, what and how ----------------------------------------
og diff d1 --from 99
expect_rc 2
expect_in "no checkpoint 99 in thread d1" "$err" "missing checkpoint"
og diff d1 --from x1
expect_rc 2
expect_in "--from takes a checkpoint id" "$err" "bad --from"
og diff nosuch --from 1
expect_rc 2
expect_in "no checkpoint 1 in thread nosuch" "$err" "missing thread"
og diff d1
expect_rc 2
expect_in "usage: opsgraph diff" "$err" "no --from"

# --- over HTTP ------------------------------------------------------------
mkdir -p "$tmp/root/graphs" "$tmp/root/ui-static"
"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$DB" --root "$tmp/root" --workers 1 --no-auth 2>"$tmp/serve.log" &
pid=$!
BASE=
for _ in $(seq 100); do
	BASE=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/serve.log" | sed 's/listening on //')
	[ -n "$BASE" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$BASE" ] && ok || { bad "the server did not start: $(cat "$tmp/serve.log")"; finish; }
get() {
	code=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' "$BASE$1")
	out=$(cat "$tmp/body"); last="GET $1"
}
get "/api/threads/d1/diff?from=2&to=5"
[ "$code" = 200 ] && ok || bad "$last: $code $out"
expect_py '[(c["op"], c["path"], c.get("from"), c.get("to")) for c in j["changes"]]' "[('changed', '/context/metrics/0/value', 120, 40)]"
get "/api/threads/d1/diff?from=4&to=d2:4"
expect_py 'j["summary"]["changed"]' 2
get "/api/threads/d1/diff?from=abc"
[ "$code" = 400 ] && ok || bad "$last: $code, want 400"
expect_in "from takes a checkpoint id" "$out" "400 detail"
get "/api/threads/d1/diff"
[ "$code" = 400 ] && ok || bad "$last: $code, want 400"
get "/api/threads/d1/diff?from=77"
[ "$code" = 404 ] && ok || bad "$last: $code, want 404"
expect_in "no checkpoint 77 in thread d1" "$out" "404 detail"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$BASE/api/threads/d1/diff")
[ "$code" = 405 ] && ok || bad "POST diff: $code, want 405"
finish
