#!/usr/bin/env bash
# tests/cli/serve_api.sh: `opsgraph serve` over real HTTP on 127.0.0.1 (a
# port the kernel picks, a temporary database and project root holding
# tests/serve/graphs and a small ui-static/ made here).
#
# Covered: healthz; the graph list with nodes and Mermaid; POST /api/runs
# (202 and the thread reaching its interrupt; unknown graph 404, missing
# graph 400, bad JSON 400 with a clear detail, trailing garbage, non-object
# input, a taken thread id 409); the thread list and its status filter; one
# thread (state, interrupts) and its history; two concurrent resumes of one
# interrupt: one 200, one 409 naming who won, the winner's note kept; the
# event stream (one event per checkpoint with the checkpoint id, the run's
# later steps arriving live, Last-Event-ID replaying only what came after,
# keepalive comments, an unknown thread 404, the bound on streams); fork;
# Alertmanager (a run per groupKey, a repeated notification recorded once
# and starting nothing, resolved kept on the thread, a wrong version 400);
# Slack (url_verification, a tampered body, a stale and a future timestamp,
# missing headers, an event acknowledged and run, its retry a duplicate
# that starts no second run); static files (content types, ETag and 304,
# Cache-Control, "../" plain and percent-encoded, a NUL, symlinks out of
# the directory, a missing file); /metrics; a body over --max-body 413; an
# unknown endpoint 404, a wrong method 405; SIGTERM while a run is in
# progress: exit 0, the run completed.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   OPSGRAPH=$PWD/bin/opsgraph bash tests/cli/serve_api.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-serve.XXXXXX") || exit 2
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
CLIENT="python3 tests/serve/client.py"
SECRET=test-signing-secret

# --- a project root: the test graphs and a small UI -----------------------
root=$tmp/root
mkdir -p "$root/graphs" "$root/ui-static/js" "$tmp/outside"
cp tests/serve/graphs/*.lua "$root/graphs/"
printf '<!doctype html><title>opsgraph</title><p>incidents</p>\n' >"$root/ui-static/index.html"
printf 'export const x = 1;\n' >"$root/ui-static/js/app.js"
printf 'secret outside\n' >"$tmp/outside/secret.txt"
ln -s "$tmp/outside/secret.txt" "$root/ui-static/leak.txt"
ln -s "$tmp/outside" "$root/ui-static/out"

# --- the server -------------------------------------------------------------
starts=0
start() {	# extra flags...
	starts=$((starts + 1))
	log=$tmp/serve$starts.log
	SLACK_SIGNING_SECRET=$SECRET "$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$tmp/db" --root "$root" \
		--workers 2 --alert-graph approve --slack-graph approve --keepalive 1 --max-body 65536 \
		--max-streams 3 --no-auth "$@" 2>"$log" &	# operators and sessions: serve_auth.sh
	pid=$!
	BASE=
	for _ in $(seq 100); do
		BASE=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | sed 's/listening on //')
		[ -n "$BASE" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$BASE" ]; then
		bad "the server did not start: $(cat "$log")"
		finish
	fi
}
start

# req METHOD PATH [BODY] [curl args...]: sets code, body, last
req() {
	local m=$1 p=$2 data=${3-}
	shift 2; [ $# -gt 0 ] && shift
	if [ -n "$data" ]; then
		code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' \
			--data-binary "$data" "$@" "$BASE$p")
	else
		code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p")
	fi
	body=$(cat "$tmp/body" 2>/dev/null)
	last="$m $p"
}
expect_code() { if [ "$code" = "$1" ]; then ok; else bad "$last: HTTP $code, want $1; body: $body"; fi; }
jget() { python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k) if isinstance(v, dict) else None
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2" 2>/dev/null; }
# wait_status THREAD STATUS: bounded poll of GET /api/threads/THREAD
wait_status() {
	local s=
	for _ in $(seq 100); do
		req GET "/api/threads/$1"
		s=$(jget "$body" status)
		[ "$s" = "$2" ] && break
		sleep 0.1
	done
	if [ "$s" = "$2" ]; then ok; else bad "thread $1: status '$s', want '$2'; $body"; fi
}

# --- health, graphs ---------------------------------------------------------
req GET /healthz; expect_code 200; expect_in '"status":"ok"' "$body" "healthz"
req GET /api/graphs; expect_code 200
expect_in '"name":"approve"' "$body" "graphs"
expect_in '"nodes":["intake","decide","act"]' "$body" "graphs"
expect_in '"name":"loop"' "$body" "graphs"
expect_in 'flowchart' "$body" "graphs mermaid"

# --- runs: errors first -----------------------------------------------------
req POST /api/runs '{"graph": "approve", "input": {'; expect_code 400
expect_in '"error":"bad_json"' "$body" "bad JSON"; expect_in 'not valid JSON' "$body" "bad JSON detail"
req POST /api/runs '{"graph": "approve"} trailing'; expect_code 400
req POST /api/runs '[1,2]'; expect_code 400; expect_in 'must be a JSON object' "$body" "array body"
req POST /api/runs '{"input": {}}'; expect_code 400; expect_in '\"graph\"' "$body" "missing graph"
req POST /api/runs '{"graph": "nope"}'; expect_code 404; expect_in 'no graph' "$body" "unknown graph"
req POST /api/runs '{"graph": "../graphs/approve"}'; expect_code 404
req POST /api/runs '{"graph": "approve", "input": 3}'; expect_code 400
req POST /api/runs '{"graph": "approve", "input": {"nochannel": 1}}'; expect_code 400
expect_in '"error":"bad_input"' "$body" "unknown channel"
req POST /api/runs '{"graph": "approve", "thread_id": "a b"}'; expect_code 400

# --- a run to its interrupt -------------------------------------------------
req POST /api/runs '{"graph": "approve", "input": {"trigger": {"text": "disk full"}}, "thread_id": "inc-1"}'
expect_code 202; expect_in '"thread_id":"inc-1"' "$body" "run"
wait_status inc-1 interrupted
expect_in '"question":"approve the action for disk full?"' "$body" "interrupt value"
expect_in '"alert":"disk full"' "$body" "state"
iid=$(jget "$body" interrupts.0.id)
req POST /api/runs '{"graph": "approve", "thread_id": "inc-1"}'; expect_code 409
expect_in 'already exists' "$body" "taken thread id"
req GET '/api/threads?status=interrupted'; expect_code 200; expect_in '"thread_id":"inc-1"' "$body" "threads filter"
req GET '/api/threads?status=done'; expect_code 200
case "$body" in *inc-1*) bad "status=done lists inc-1: $body" ;; *) ok ;; esac
req GET '/api/threads?status=bogus'; expect_code 400
req GET /api/threads/inc-1/history; expect_code 200; expect_in '"source":"input"' "$body" "history"
req GET '/api/threads/inc-1/history?limit=x'; expect_code 400
# the state as one checkpoint left it (the input step: checkpoint 1)
req GET '/api/threads/inc-1?checkpoint=1'; expect_code 200; expect_in '"checkpoint_id":1,' "$body" "thread at checkpoint 1"
req GET '/api/threads/inc-1?checkpoint=99999'; expect_code 404; expect_in '"error":"no_checkpoint"' "$body" "unknown checkpoint"
req GET '/api/threads/inc-1?checkpoint=x'; expect_code 400; expect_in "checkpoint takes a checkpoint id" "$body" "bad checkpoint"
req GET /api/threads/nope; expect_code 404; expect_in '"error":"no_thread"' "$body" "unknown thread"
req GET /api/threads/inc-1/bogus; expect_code 404
req DELETE /api/threads/inc-1; expect_code 405

# --- the stream: what is there, then live, then Last-Event-ID --------------
out=$($CLIENT "$BASE" sse inc-1 3); last="sse inc-1 3"
expect_in '1:running 2:running 3:interrupted' "$out" "stream backlog"
$CLIENT "$BASE" sse inc-1 5 >"$tmp/sse" &
ssepid=$!
sleep 0.5

# --- two resumes at once: one wins -----------------------------------------
out=$($CLIENT "$BASE" race inc-1); last="two concurrent resumes"
expect_in '200 409' "$out" "race codes"
expect_in '"error":"already_resumed"' "$out" "race loser"
expect_in "interrupt $iid was already resumed by op-" "$out" "race loser names the winner"
wait_status inc-1 done
expect_in '"result":"acted"' "$body" "run finished"
expect_in '"by":"op-' "$body" "decision records who (fill_by)"
expect_in '"kind":"decision_note"' "$body" "note kept"
req POST /api/threads/inc-1/resume '{"value": "yes"}'; expect_code 409
req POST /api/threads/inc-1/resume '{"interrupt_id": "x"}'; expect_code 400
expect_in '\"value\" (the answer) is required' "$body" "an id without a value"
req POST /api/threads/nope/resume '{"value": "yes"}'; expect_code 404
for _ in $(seq 120); do kill -0 $ssepid 2>/dev/null || break; sleep 0.1; done
out=$(cat "$tmp/sse"); last="live stream"
# the decision rides on the resumed step's checkpoint (4), act's is 5
expect_in '1:running 2:running 3:interrupted 4:running 5:done' "$out" "live events"
expect_in ':done' "$out" "live events reach done"
out=$($CLIENT "$BASE" sse inc-1 2 3); last="sse Last-Event-ID 3"
case "$out" in "4:running 5:"*) ok ;; *) bad "$last: want events 4 and 5, got: $out" ;; esac
req GET /api/threads/nope/stream; expect_code 404
req GET /api/threads/inc-1/stream '' -H 'Last-Event-ID: x' -m 2; expect_code 400
# keepalives on an idle stream (--keepalive 1)
code=$(curl -s -N -m 2.5 -o "$tmp/ka" -w '%{http_code}' "$BASE/api/threads/inc-1/stream"); last="idle stream"
expect_in ': keepalive' "$(cat "$tmp/ka")" "keepalive comments"
# the bound: --max-streams 3
cpids=
for i in 1 2 3; do curl -s -N -m 3 "$BASE/api/threads/inc-1/stream" >/dev/null & cpids="$cpids $!"; done
sleep 0.5
req GET /api/threads/inc-1/stream '' -m 2; expect_code 503; expect_in 'too_many_streams' "$body" "stream bound"
wait $cpids

# --- a breakpoint (interrupt_before), passed with any value --------------------
req POST /api/runs '{"graph": "approve", "thread_id": "bp-1", "interrupt_before": ["act"], "input": {"trigger": {"text": "bp"}}}'
expect_code 202
wait_status bp-1 interrupted
out=$($CLIENT "$BASE" race bp-1); last="two concurrent resumes of bp-1"
expect_in '200 409' "$out" "decision race"
wait_status bp-1 interrupted
expect_in '"kind":"interrupt_before"' "$body" "stopped before act"
bid=$(jget "$body" interrupts.0.id)
req POST /api/threads/bp-1/resume "{\"value\": null, \"interrupt_id\": \"$bid\"}"; expect_code 200
wait_status bp-1 done
expect_in '"result":"acted"' "$body" "past the breakpoint"
req POST /api/threads/bp-1/resume "{\"value\": null, \"interrupt_id\": \"$bid\"}"; expect_code 409
req POST /api/runs '{"graph": "approve", "interrupt_before": "act"}'; expect_code 400

# --- a late subscriber to a long thread gets every checkpoint -----------------
req POST /api/runs '{"graph": "loop", "thread_id": "loop-1"}'; expect_code 202
wait_status loop-1 done
out=$($CLIENT "$BASE" sse loop-1 601 | head -n 1 | tr ' ' '\n'); last="sse loop-1 601"
n=$(printf '%s\n' "$out" | grep -c .)
if [ "$n" -eq 601 ] && [ "$(printf '%s\n' "$out" | head -n 1)" = "1:running" ] && \
   [ "$(printf '%s\n' "$out" | tail -n 1)" = "601:done" ]; then ok; else bad "$last: $n events, $(printf '%s\n' "$out" | tail -n 1)"; fi

# --- fork -------------------------------------------------------------------
req POST /api/threads/inc-1/fork '{"checkpoint_id": 3, "update": {"result": "forked"}}'; expect_code 200
expect_in '"parent_id":3' "$body" "fork"
req GET /api/threads/inc-1; expect_in '"result":"forked"' "$body" "forked state"
req POST /api/threads/inc-1/fork '{"checkpoint_id": 999}'; expect_code 404
req POST /api/threads/inc-1/fork '{"checkpoint_id": "3"}'; expect_code 400

# --- Alertmanager -----------------------------------------------------------
am() {	# status groupKey: a webhook as Alertmanager 0.27 sends it
	python3 -c 'import json, sys
st, gk = sys.argv[1], sys.argv[2]
print(json.dumps({"version": "4", "groupKey": gk, "truncatedAlerts": 0, "status": st, "receiver": "opsgraph",
  "groupLabels": {"alertname": "HighErrorRate"}, "commonLabels": {"alertname": "HighErrorRate", "service": "checkout"},
  "commonAnnotations": {}, "externalURL": "http://am:9093",
  "alerts": [{"status": st, "labels": {"alertname": "HighErrorRate", "service": "checkout"}, "annotations": {},
              "startsAt": "2026-11-24T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://prom:9090/graph", "fingerprint": "abc123"}]}))' "$1" "$2"
}
GK='{}/{}:{alertname="HighErrorRate"}'
req POST /alerts/alertmanager "$(am firing "$GK")"; expect_code 200
expect_in '"recorded":true' "$body" "alert recorded"; expect_in '"run":"queued"' "$body" "alert run"
amt=$(jget "$body" thread_id)
case "$amt" in am-*) ok ;; *) bad "alert thread id '$amt'" ;; esac
wait_status "$amt" interrupted
expect_in '"alert":"{}/{}:{alertname=\"HighErrorRate\"}"' "$body" "alert reached the graph"
req POST /alerts/alertmanager "$(am firing "$GK")"; expect_code 200
expect_in '"duplicate":true' "$body" "repeat is a duplicate"; expect_in '"run":"exists"' "$body" "repeat starts nothing"
req GET /api/threads; n=$(printf '%s' "$body" | grep -o '"thread_id":"am-' | wc -l); last="thread count"
if [ "$n" -eq 1 ]; then ok; else bad "want 1 am- thread, got $n: $body"; fi
req GET "/api/threads/$amt/history"; nh=$(printf '%s' "$body" | grep -o '"id":' | wc -l)
if [ "$nh" -eq 3 ]; then ok; else bad "the repeat changed the history ($nh checkpoints)"; fi
$CLIENT "$BASE" sse "$amt" 3 '' 2 >"$tmp/amsse" &
amsse=$!
sleep 0.5
req POST /alerts/alertmanager "$(am resolved "$GK")"; expect_code 200
expect_in '"recorded":true' "$body" "resolved recorded"
for _ in $(seq 50); do kill -0 $amsse 2>/dev/null || break; sleep 0.1; done
out=$(cat "$tmp/amsse"); last="alert thread stream"
expect_in 'notes: alert_firing alert_resolved' "$out" "resolved arrives live on the stream"
req GET "/api/threads/$amt"; expect_in '"kind":"alert_resolved"' "$body" "resolved on the thread"
expect_in '"kind":"alert_firing"' "$body" "firing on the thread"
req POST /alerts/alertmanager "$(am resolved "$GK")"; expect_in '"duplicate":true' "$body" "resolved twice"
# resolved for a group never seen: recorded, no run
req POST /alerts/alertmanager "$(am resolved other-group)"; expect_code 200; expect_in '"run":"none"' "$body" "resolved only"
req POST /alerts/alertmanager '{"version":"3","groupKey":"x","status":"firing","alerts":[]}'; expect_code 400
req POST /alerts/alertmanager '{"version":"4","groupKey":"x","status":"odd","alerts":[]}'; expect_code 400
req POST /alerts/alertmanager 'not json'; expect_code 400

# --- Slack --------------------------------------------------------------------
now=$(date +%s)
UV='{"token":"t","challenge":"ch-42","type":"url_verification"}'
out=$($CLIENT "$BASE" slack "$SECRET" "$now" "$UV"); last="slack url_verification"
expect_in '200 {"challenge":"ch-42"}' "$out" "url_verification"
out=$($CLIENT "$BASE" slack wrong-secret "$now" "$UV"); expect_in '401 ' "$out" "wrong secret"
expect_in 'bad_signature' "$out" "wrong secret"
sig=$($CLIENT "$BASE" sign "$SECRET" "$now" "$UV")
req POST /slack/events "${UV/ch-42/ch-43}" -H "X-Slack-Request-Timestamp: $now" -H "X-Slack-Signature: $sig"
expect_code 401; last="tampered body"
out=$($CLIENT "$BASE" slack "$SECRET" "$((now - 400))" "$UV"); expect_in '401 ' "$out" "stale timestamp"
expect_in 'away from now' "$out" "stale timestamp"
out=$($CLIENT "$BASE" slack "$SECRET" "$((now + 400))" "$UV"); expect_in '401 ' "$out" "future timestamp"
req POST /slack/events "$UV"; expect_code 401; expect_in 'required' "$body" "no signature headers"
EV='{"type":"event_callback","event_id":"Ev0001","team_id":"T1","event":{"type":"message","channel":"C1","text":"checkout 5xx rate high","ts":"1700000000.000100"}}'
out=$($CLIENT "$BASE" slack "$SECRET" "$now" "$EV"); last="slack event"
expect_in '200 ' "$out" "event ack"; expect_in '"duplicate":false' "$out" "first delivery"
st=$(printf '%s' "$out" | sed 's/^200 //'); slt=$(jget "$st" thread_id)
wait_status "$slt" interrupted
expect_in '"alert":"checkout 5xx rate high"' "$body" "slack event reached the graph"
out=$($CLIENT "$BASE" slack "$SECRET" "$now" "$EV" 1); last="slack retry"
expect_in '200 ' "$out" "retry ack"; expect_in '"duplicate":true' "$out" "retry is a duplicate"
req GET /api/threads; n=$(printf '%s' "$body" | grep -o '"thread_id":"slack-' | wc -l); last="slack threads"
if [ "$n" -eq 1 ]; then ok; else bad "want 1 slack- thread, got $n"; fi
EDIT='{"type":"event_callback","event_id":"Ev0002","event":{"type":"message","subtype":"message_changed"}}'
out=$($CLIENT "$BASE" slack "$SECRET" "$now" "$EDIT"); expect_in '200 ' "$out" "edit ack"
case "$out" in *thread_id*) bad "an edit started a run: $out" ;; *) ok ;; esac
out=$($CLIENT "$BASE" slack "$SECRET" "$now" '{"type":"event_callback"}'); expect_in '400 ' "$out" "no event_id"

# --- static files -------------------------------------------------------------
req GET /; expect_code 200; expect_in 'incidents' "$body" "index"
ct=$(curl -s -m 5 -D - -o /dev/null "$BASE/"); last="GET / headers"
expect_in 'Content-Type: text/html; charset=utf-8' "$ct" "html type"
expect_in 'Cache-Control: no-cache' "$ct" "cache header"
etag=$(printf '%s' "$ct" | tr -d '\r' | sed -n 's/^ETag: //p')
req GET /index.html '' -H "If-None-Match: $etag"; expect_code 304
req GET /js/app.js; expect_code 200
ct=$(curl -s -m 5 -D - -o /dev/null "$BASE/js/app.js"); expect_in 'text/javascript' "$ct" "js type"
code=$(curl -s -m 5 --path-as-is -o /dev/null -w '%{http_code}' "$BASE/../../etc/passwd"); last="GET /../../etc/passwd"
case "$code" in 400|404) ok ;; *) bad "$last: HTTP $code" ;; esac
for p in '/%2e%2e/%2e%2e/etc/passwd' '/js/%2e%2e/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2fetc%2fpasswd' '/js%2f..%2f..%2f..%2fetc%2fpasswd' '/index.html%00.js' '/js\..\..\etc\passwd'; do
	code=$(curl -s -m 5 --path-as-is -o "$tmp/body" -w '%{http_code}' "$BASE$p"); last="GET $p"
	case "$code" in 400|404) ok ;; *) bad "$last: HTTP $code: $(cat "$tmp/body")" ;; esac
done
req GET /leak.txt; expect_code 404
req GET /out/secret.txt; expect_code 404
case "$(cat "$tmp/body")" in *"secret outside"*) bad "a symlink led outside ui-static" ;; *) ok ;; esac
req GET /missing.css; expect_code 404
req POST /index.html '{}'; expect_code 405

# --- metrics, limits ------------------------------------------------------------
req GET /metrics; expect_code 200
expect_in 'opsgraph_threads{status="interrupted"} 3' "$body" "runs by status"
expect_in 'opsgraph_threads{status="done"} 2' "$body" "runs by status"
expect_in 'opsgraph_http_requests_total{route="runs",code="202"} 3' "$body" "requests by route and code"
expect_in 'opsgraph_http_requests_total{route="resume",code="409"}' "$body" "409s counted"
expect_in 'opsgraph_node_duration_seconds_count{node="decide"}' "$body" "node durations"
expect_in 'opsgraph_checkpoint_commit_seconds_bucket{le="+Inf"}' "$body" "commit latency"
n=$(printf '%s\n' "$body" | sed -n 's/^opsgraph_checkpoint_commit_seconds_count //p'); last="commit count"
if [ "${n:-0}" -ge 10 ]; then ok; else bad "commit count '$n'"; fi
# group commit counters: every checkpoint put above is a write of some sync
# commit, a commit carries one write or more, and the flushes took time
sc=$(printf '%s\n' "$body" | sed -n 's/^opsgraph_store_sync_commits_total //p')
sw=$(printf '%s\n' "$body" | sed -n 's/^opsgraph_store_sync_commit_writes_total //p')
sf=$(printf '%s\n' "$body" | sed -n 's/^opsgraph_store_sync_commit_flush_seconds_total //p')
last="sync commit counters: commits '$sc', writes '$sw', flush '$sf' s, puts '$n'"
if [ "${sc:-0}" -ge 1 ] && [ "${sw:-0}" -ge "${n:-1}" ] && [ "${sw:-0}" -ge "$sc" ] &&
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "${sf:-0}"; then ok; else bad "$last"; fi
big=$(python3 -c 'import json; print(json.dumps({"graph": "approve", "input": {"trigger": {"text": "x" * 70000}}}))')
req POST /api/runs "$big"; expect_code 413
hdr=$(python3 -c 'print("x" * 20000)')
req GET /healthz '' -H "X-Big: $hdr"; last="GET with 20 kB of headers"
case "$code" in 400|413|431) ok ;; *) bad "$last: HTTP $code" ;; esac
out=$(python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"BLAH / HTTP/9.9\r\n\x00\x01garbage\r\n\r\n")
print(s.recv(200).decode("latin-1").split("\r\n")[0])' "${BASE##*:}" 2>&1); last="a malformed request"
expect_in 'HTTP/1.1 4' "$out" "malformed request"
req GET /api/nothing; expect_code 404
req POST /healthz '{}'; expect_code 405
req GET /healthz; expect_code 200; last="still serving"

# --- flags ---------------------------------------------------------------------
"$OPSGRAPH" serve --db :memory: >"$tmp/out" 2>&1; rc=$?; last="serve --db :memory:"; err=$(cat "$tmp/out")
expect_rc 2; expect_in 'give a directory' "$err" ":memory: refused"
"$OPSGRAPH" serve --listen nope >"$tmp/out" 2>&1; rc=$?; last="serve --listen nope"; err=$(cat "$tmp/out")
expect_rc 2; expect_in 'HOST:PORT' "$err" "bad listen"
"$OPSGRAPH" serve --workers 0 >"$tmp/out" 2>&1; rc=$?; last="serve --workers 0"; err=$(cat "$tmp/out")
expect_rc 2
"$OPSGRAPH" serve --root "$tmp/nope" --db "$tmp/db2" >"$tmp/out" 2>&1; rc=$?; last="serve --root missing"; err=$(cat "$tmp/out")
expect_rc 2; expect_in 'no such directory' "$err" "missing root"

# --- SIGTERM with a run in progress ---------------------------------------------
req POST /api/runs '{"graph": "slow", "thread_id": "slow-1"}'; expect_code 202
sleep 0.3
kill -TERM "$pid"
rc=124
for _ in $(seq 150); do
	if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; break; fi
	sleep 0.1
done
pid=
last="SIGTERM"; err=$(tail -n 5 "$log")
expect_rc 0
expect_in 'stopped' "$err" "orderly end"
timeout 30 "$OPSGRAPH" state slow-1 --db "$tmp/db" --output json >"$tmp/out" 2>&1
expect_in '"status":"done"' "$(cat "$tmp/out")" "the run in progress finished before exit"
expect_in '"n":3' "$(cat "$tmp/out")" "every step of it"
# a second server on the same database sees everything
start
req GET /api/threads/inc-1; expect_code 200; expect_in '"result":"forked"' "$body" "after restart"
req GET /api/threads/slow-1; expect_code 200; expect_in '"status":"done"' "$body" "after restart"
req POST /alerts/alertmanager "$(am firing "$GK")"; expect_in '"duplicate":true' "$body" "dedupe survives a restart"
out=$($CLIENT "$BASE" slack "$SECRET" "$now" "$EV" 2); expect_in '"duplicate":true' "$out" "slack dedupe survives a restart"
kill -INT "$pid"; wait "$pid"; rc=$?; pid=; last="SIGINT"; err=
expect_rc 0
# --grace 0: a run still going is left as after a crash, and resumable
start --grace 0
req POST /api/runs '{"graph": "slow", "thread_id": "slow-2"}'; expect_code 202
req POST /api/runs '{"graph": "slow", "thread_id": "slow-3"}'; expect_code 202
sleep 0.3
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=; last="SIGTERM --grace 0"; err=$(cat "$log")
expect_rc 0
expect_in 'they are resumable' "$err" "grace exceeded"
timeout 30 "$OPSGRAPH" resume slow-2 --db "$tmp/db" --output json >"$tmp/out" 2>&1; rc=$?; last="resume slow-2"; err=$(cat "$tmp/out")
expect_rc 0
expect_in '"status":"done"' "$err" "the cut run resumes to the end"
expect_in '"n":3' "$err" "with each step once"
# ... or over the API, by a resume without a value
start
req POST /api/threads/slow-3/resume '{}'; expect_code 200
wait_status slow-3 done
expect_in '"n":3' "$body" "continued over the API"
req POST /api/threads/slow-3/resume '{}'; expect_code 409
expect_in 'nothing_to_continue' "$body" "a done thread"
req POST /api/threads/bp-1/resume '{}'; expect_code 409
req POST /api/runs '{"graph": "approve", "thread_id": "inc-2"}'; expect_code 202
wait_status inc-2 interrupted
req POST /api/threads/inc-2/resume '{}'; expect_code 400; expect_in 'needs_value' "$body" "a decision needs a value"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=; last="SIGTERM"; err=
expect_rc 0
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp"/serve*.log; then
	bad "sanitizer report: $(grep -E -A8 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp"/serve*.log | head -30)"
else
	ok
fi
finish
