#!/usr/bin/env bash
# tests/cli/serve_auth.sh: who may decide (issue 5). `opsgraph token
# create|list|revoke`, then `opsgraph serve` over real HTTP on 127.0.0.1 with
# auth on (the default): login with a good and a bad token, the session
# cookie's flags, POST /api/* without a session 401, without or with a wrong
# X-CSRF-Token 403, auth.view "open" and "login", the session's operator as
# the approver (a "by" in the body naming someone else is refused) and in
# the checkpoint's resumed record, two operators racing on one interrupt
# (one 200, one 409 naming the winner), a revoked token's session refused,
# sessions surviving a restart, logout, and --no-auth refused off loopback.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   OPSGRAPH=$PWD/bin/opsgraph bash tests/cli/serve_auth.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-auth.XXXXXX") || exit 2
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
root=$tmp/root
mkdir -p "$root/graphs" "$root/ui-static"
cp tests/serve/graphs/approve.lua "$root/graphs/"
printf '<!doctype html><title>opsgraph</title>\n' >"$root/ui-static/index.html"
DB=$tmp/db
err=

# --- the CLI ------------------------------------------------------------------
alice=$("$OPSGRAPH" token create alice --db "$DB" 2>"$tmp/err"); rc=$?; last="token create alice"
expect_rc 0 "$rc"; expect_in 'shown this once' "$(cat "$tmp/err")" "create says once"
case "$alice" in ogt_????????????????????????????????????????????????????????????????) ok ;;
*) bad "token create printed '$alice', want ogt_ and 64 hex digits" ;; esac
bob=$("$OPSGRAPH" token create bob --db "$DB" 2>/dev/null); [ -n "$bob" ] && [ "$bob" != "$alice" ] && ok || bad "bob's token '$bob'"
carol=$("$OPSGRAPH" token create carol --db "$DB" 2>/dev/null)
"$OPSGRAPH" token create alice --db "$DB" >"$tmp/out" 2>&1; rc=$?; last="token create alice again"
expect_rc 2 "$rc"; expect_in 'has a token already' "$(cat "$tmp/out")" "duplicate name"
"$OPSGRAPH" token create 'no spaces' --db "$DB" >"$tmp/out" 2>&1; rc=$?; last="token create with a bad name"
expect_rc 2 "$rc"; expect_in 'not an operator name' "$(cat "$tmp/out")" "bad name"
out=$("$OPSGRAPH" token list --db "$DB" --output json); last="token list"
expect_in '"name":"alice"' "$out" "list alice"; expect_in '"name":"carol"' "$out" "list carol"
expect_in '"created":"20' "$out" "list created"
case "$out" in *"$alice"*|*sha256*) bad "token list shows a token or its hash: $out" ;; *) ok ;; esac
if grep -rqa "$alice" "$DB"; then bad "the token itself is in the database"; else ok; fi
h=$(printf %s "$alice" | sha256sum | cut -d' ' -f1)
if grep -rqa "$h" "$DB"; then ok; else bad "the token's SHA-256 is not in the database"; fi
"$OPSGRAPH" token revoke nobody --db "$DB" >"$tmp/out" 2>&1; rc=$?; last="token revoke nobody"
expect_rc 2 "$rc"; expect_in "no operator 'nobody'" "$(cat "$tmp/out")" "revoke unknown"
"$OPSGRAPH" token frob --db "$DB" >"$tmp/out" 2>&1; rc=$?; last="token frob"; expect_rc 2 "$rc"

# --- the server -----------------------------------------------------------------
starts=0
start() {	# extra flags...
	starts=$((starts + 1))
	log=$tmp/serve$starts.log
	"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$DB" --root "$root" --workers 2 --grace 2 "$@" 2>"$log" &
	pid=$!
	BASE=
	for _ in $(seq 100); do
		BASE=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" 2>/dev/null | sed 's/listening on //')
		[ -n "$BASE" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$BASE" ]; then
		bad "the server did not start: $(cat "$log")"
		finish
	fi
}
stop() {
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid" 2>/dev/null
	pid=
}
# req METHOD PATH [BODY] [curl args...]: sets code, body, hdrs, last
req() {
	local m=$1 p=$2 data=${3-}
	shift 2; [ $# -gt 0 ] && shift
	if [ -n "$data" ]; then
		code=$(curl -s -m 15 -D "$tmp/hdrs" -o "$tmp/body" -w '%{http_code}' -X "$m" \
			-H 'Content-Type: application/json' --data-binary "$data" "$@" "$BASE$p")
	else
		code=$(curl -s -m 15 -D "$tmp/hdrs" -o "$tmp/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p")
	fi
	body=$(cat "$tmp/body" 2>/dev/null)
	hdrs=$(cat "$tmp/hdrs" 2>/dev/null)
	last="$m $p"
}
expect_code() { if [ "$code" = "$1" ]; then ok; else bad "$last: HTTP $code, want $1; body: $body"; fi; }
jget() { python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k) if isinstance(v, dict) else None
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2" 2>/dev/null; }
wait_status() {	# THREAD STATUS [curl args...]
	local t=$1 want=$2 s=
	shift 2
	for _ in $(seq 100); do
		req GET "/api/threads/$t" "" "$@"
		s=$(jget "$body" status)
		[ "$s" = "$want" ] && break
		sleep 0.1
	done
	if [ "$s" = "$want" ]; then ok; else bad "thread $t: status '$s', want '$want'; $body"; fi
}
# login NAME TOKEN: a cookie jar $tmp/NAME.jar and the CSRF token in csrf_NAME
login() {
	req POST /api/login "{\"token\": \"$2\"}" -c "$tmp/$1.jar"
	eval "csrf_$1=\$(jget \"\$body\" csrf)"
}

start
expect_in 'auth on' "$(cat "$log")" "log says auth on"
expect_in '3 tokens' "$(cat "$log")" "log counts the tokens"

# open view: GETs need nothing; POSTs need a session
req GET /api/threads; expect_code 200
req GET /api/session; expect_code 200; expect_in '"auth":true' "$body" "session: auth on"
expect_in '"operator":null' "$body" "session: nobody yet"
req POST /api/runs '{"graph": "approve", "input": {"trigger": {"text": "disk"}}, "thread_id": "a-1"}'
expect_code 401; expect_in '"error":"login_required"' "$body" "POST without a session"
expect_in 'POST /api/login' "$body" "401 says how to log in"

# login
req POST /api/login '{"token": "ogt_0000000000000000000000000000000000000000000000000000000000000000"}'
expect_code 401; expect_in '"error":"bad_token"' "$body" "bad token"
case "$hdrs" in *Set-Cookie*|*set-cookie*) bad "a bad token got a cookie: $hdrs" ;; *) ok ;; esac
req POST /api/login '{"token": 5}'; expect_code 400
req POST /api/login '{"token": "x"' ; expect_code 400
req POST /api/login "" --data-binary "token=$alice" -H 'Content-Type: application/x-www-form-urlencoded'
expect_code 415
req GET /api/login; expect_code 405
login alice "$alice"; expect_code 200
expect_in '"operator":"alice"' "$body" "login names the operator"
cookie=$(printf %s "$hdrs" | grep -i '^set-cookie:' | tr -d '\r')
expect_in 'og_session=' "$cookie" "session cookie"
expect_in 'HttpOnly' "$cookie" "cookie HttpOnly"; expect_in 'SameSite=Strict' "$cookie" "cookie SameSite=Strict"
expect_in 'Path=/' "$cookie" "cookie Path=/"; expect_in 'Max-Age=' "$cookie" "cookie Max-Age"
[ ${#csrf_alice} -eq 64 ] && ok || bad "csrf token '$csrf_alice'"
case "$cookie" in *"$csrf_alice"*) bad "the CSRF token is the cookie" ;; *) ok ;; esac
req GET /api/session "" -b "$tmp/alice.jar"; expect_in '"operator":"alice"' "$body" "session: alice"
expect_in "\"csrf\":\"$csrf_alice\"" "$body" "session gives the CSRF token back"

# CSRF
req POST /api/runs '{"graph": "approve", "input": {"trigger": {"text": "disk"}}, "thread_id": "a-1"}' -b "$tmp/alice.jar"
expect_code 403; expect_in '"error":"csrf"' "$body" "no CSRF header"; expect_in 'missing' "$body" "403 says missing"
# a wrong token: the last hex digit changed (to 1 when it is 0, else to 0:
# replacing it with a fixed 0 was the real token once in 16 logins)
case "$csrf_alice" in *0) wrong_csrf=${csrf_alice%?}1 ;; *) wrong_csrf=${csrf_alice%?}0 ;; esac
req POST /api/runs '{"graph": "approve", "input": {"trigger": {"text": "disk"}}, "thread_id": "a-1"}' -b "$tmp/alice.jar" \
	-H "X-CSRF-Token: $wrong_csrf"
expect_code 403; expect_in 'does not match' "$body" "wrong CSRF"
req POST /api/runs '{"graph": "approve", "input": {"trigger": {"text": "disk"}}, "thread_id": "a-1"}' \
	-H "X-CSRF-Token: $csrf_alice"
expect_code 401	# the header alone is no session
req POST /api/runs '{"graph": "approve", "input": {"trigger": {"text": "disk"}}, "thread_id": "a-1"}' -b "$tmp/alice.jar" \
	-H "X-CSRF-Token: $csrf_alice"
expect_code 202
wait_status a-1 interrupted
iid=$(jget "$body" interrupts.0.id)

# the operator is the session's, never the body's
req POST /api/threads/a-1/resume "{\"value\": \"yes\", \"interrupt_id\": \"$iid\", \"by\": \"mallory\"}" \
	-b "$tmp/alice.jar" -H "X-CSRF-Token: $csrf_alice"
expect_code 400; expect_in "operator 'alice'" "$body" "by in the body refused"
req POST /api/threads/a-1/resume "{\"value\": {\"answer\": \"yes\", \"by\": \"mallory\"}, \"interrupt_id\": \"$iid\"}" \
	-b "$tmp/alice.jar" -H "X-CSRF-Token: $csrf_alice"
expect_code 400; expect_in 'comes from your session' "$body" "value.by refused"

# two operators at once: one wins, the other 409 naming the winner
login bob "$bob"; expect_code 200
for who in alice bob; do
	eval "c=\$csrf_$who"
	curl -s -m 15 -o "$tmp/race.$who" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-b "$tmp/$who.jar" -H "X-CSRF-Token: $c" \
		--data-binary "{\"value\": \"yes\", \"interrupt_id\": \"$iid\", \"note\": \"go $who\"}" \
		"$BASE/api/threads/a-1/resume" >"$tmp/race.$who.code" &
done
wait_n=0
while [ "$(cat "$tmp"/race.*.code 2>/dev/null | wc -c)" -lt 6 ] && [ $wait_n -lt 150 ]; do sleep 0.1; wait_n=$((wait_n + 1)); done
codes="$(cat "$tmp/race.alice.code") $(cat "$tmp/race.bob.code")"; last="two operators resume at once"
case "$codes" in "200 409") winner=alice; loser=bob ;; "409 200") winner=bob; loser=alice ;;
*) winner=; bad "race answers: $codes; $(cat "$tmp"/race.alice "$tmp"/race.bob)" ;; esac
if [ -n "$winner" ]; then
	ok
	expect_in "\"by\":\"$winner\"" "$(cat "$tmp/race.$winner")" "the winner's answer names the winner"
	expect_in '"error":"already_resumed"' "$(cat "$tmp/race.$loser")" "the loser 409"
	expect_in "$winner" "$(cat "$tmp/race.$loser")" "the 409 names who won"
fi
wait_status a-1 done -b "$tmp/alice.jar"
expect_in "$winner" "$(jget "$body" state.decision.by)" "the decision records the operator"

# the checkpoint's resumed record: the decision, the operator, the time
stop
resumed=none; last="state a-1: the resumed record"
for id in $("$OPSGRAPH" history a-1 --db "$DB" --output json | python3 -c 'import json,sys
print(" ".join(str(r["id"]) for r in json.load(sys.stdin)))'); do
	r=$("$OPSGRAPH" state a-1 --db "$DB" --checkpoint "$id" --output json | python3 -c 'import json,sys
print(json.dumps(json.load(sys.stdin).get("resumed")))')
	[ "$r" != null ] && { resumed=$r; break; }
done
expect_in "\"by\": \"$winner\"" "$resumed" "resumed.by in the checkpoint"
expect_in '"at": "20' "$resumed" "resumed.at in the checkpoint"
expect_in '"answer": "yes"' "$resumed" "resumed value in the checkpoint"

# sessions outlive a restart; a revoked token's session is refused at once
start
req GET /api/session "" -b "$tmp/alice.jar"; expect_in '"operator":"alice"' "$body" "session after a restart"
req POST /api/runs '{"graph": "approve", "input": {"trigger": {"text": "b"}}, "thread_id": "a-2"}' -b "$tmp/alice.jar" \
	-H "X-CSRF-Token: $csrf_alice"
expect_code 202
"$OPSGRAPH" token revoke alice --db "$DB" >"$tmp/out" 2>&1; rc=$?; last="token revoke alice"
expect_rc 0 "$rc"; expect_in '1 web session ended' "$(cat "$tmp/out")" "revoke ends alice's session"
req POST /api/runs '{"graph": "approve", "input": {"trigger": {"text": "c"}}, "thread_id": "a-3"}' -b "$tmp/alice.jar" \
	-H "X-CSRF-Token: $csrf_alice"
expect_code 401; expect_in 'log in again' "$body" "revoked session refused"
login alice "$alice"; expect_code 401
# a new token under the same name does not revive bob's old session
cp "$tmp/bob.jar" "$tmp/bob-old.jar"
"$OPSGRAPH" token revoke bob --db "$DB" >/dev/null 2>&1
bob2=$("$OPSGRAPH" token create bob --db "$DB" 2>/dev/null)
req POST /api/runs '{"graph": "approve", "thread_id": "a-4"}' -b "$tmp/bob-old.jar" -H "X-CSRF-Token: $csrf_bob"
expect_code 401
login bob "$bob2"; expect_code 200

# logout
req POST /api/logout '{}' -b "$tmp/bob.jar"; expect_code 403
req POST /api/logout '{}' -b "$tmp/bob.jar" -H "X-CSRF-Token: $csrf_bob"; expect_code 200
expect_in 'Max-Age=0' "$(printf %s "$hdrs" | grep -i '^set-cookie:')" "logout clears the cookie"
req GET /api/session "" -b "$tmp/bob.jar"; expect_in '"operator":null' "$body" "no session after logout"
stop

# auth.view "login": GETs need a session too; /healthz and the UI stay open
printf '{"auth": {"view": "login", "session_hours": 1}}\n' >"$tmp/login.json"
start --config "$tmp/login.json"
req GET /api/threads; expect_code 401
req GET /api/threads/a-1; expect_code 401
req GET /api/threads/a-1/stream; expect_code 401
req GET /api/session; expect_code 200; expect_in '"view":"login"' "$body" "session says view login"
req GET /healthz; expect_code 200
req GET /; expect_code 200
login carol "$carol"; expect_code 200
expect_in 'Max-Age=3600' "$(printf %s "$hdrs" | grep -i '^set-cookie:')" "session_hours sets Max-Age"
req GET /api/threads "" -b "$tmp/carol.jar"; expect_code 200; expect_in '"thread_id":"a-1"' "$body" "GET with a session"
stop

# the webhooks are not behind the session: Alertmanager still answers without one
start
req POST /alerts/alertmanager '{"version": "4", "groupKey": "g1", "status": "firing", "alerts": []}'
case "$code" in 401|403) bad "Alertmanager webhook behind the session: $code $body" ;; *) ok ;; esac
stop

# bad configuration and --no-auth
printf '{"auth": {"view": "closed"}}\n' >"$tmp/bad.json"
"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$DB" --root "$root" --config "$tmp/bad.json" >"$tmp/out" 2>&1; rc=$?
last="auth.view closed"; expect_rc 2 "$rc"; expect_in 'auth.view is "open"' "$(cat "$tmp/out")" "bad auth.view"
printf '{"auth": {"required": "no"}}\n' >"$tmp/bad.json"
"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$DB" --root "$root" --config "$tmp/bad.json" >"$tmp/out" 2>&1; rc=$?
last="auth.required no"; expect_rc 2 "$rc"
"$OPSGRAPH" serve --listen 0.0.0.0:0 --db "$DB" --root "$root" --no-auth >"$tmp/out" 2>&1; rc=$?
last="--no-auth on 0.0.0.0"; expect_rc 2 "$rc"; expect_in 'only on a loopback' "$(cat "$tmp/out")" "no-auth off loopback"
start --no-auth
expect_in 'AUTH IS OFF' "$(cat "$log")" "--no-auth is loud"
req POST /api/runs '{"graph": "approve", "thread_id": "n-1", "by": "dev"}'; expect_code 202
req POST /api/login "{\"token\": \"$carol\"}"; expect_code 409
stop

if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp"/serve*.log; then
	bad "sanitizer report: $(grep -E -A8 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp"/serve*.log | head -30)"
else
	ok
fi
finish
