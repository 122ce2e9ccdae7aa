#!/usr/bin/env bash
# tests/cli/serve_slack.sh: `opsgraph serve` and Slack, over real HTTP on
# 127.0.0.1: the incident graph (graphs/incident.lua) on the recorded
# observability data (tests/tools/fake_observability.py), a fake Slack Web
# API (tests/tools/fake_slack.py) named by config slack.api_base_url.
#
# Covered: bad config slack (exit 2 naming the key); POST /slack/interactions signed good, tampered, stale, unsigned;
# a form without payload, a payload that is not JSON, a foreign button, an
# unsupported interaction type (400s); a Slack user not in slack.approvers
# refused (ephemeral, on the response_url) and nothing resumed; outbound:
# an incident stopping at its decision posts one chat.postMessage (bot
# token, configured channel, base URL respected) with the RCA, each
# action with its dry-run verdict line (as in the thread's dry_runs), and one
# button per choice (1, 2, 3, manual, re_analyze) whose values name the
# thread, interrupt, choice and plan hash; the message's ts noted on the
# thread; an approver's click resumes the thread (decision by the approver)
# and chat.update replaces the buttons with who decided what; a second
# click is refused, told on its response_url who decided; two approvers
# clicking at once: one resume, one update naming the winner, the loser
# told who won; the result is
# posted in the message's Slack thread (thread_ts) once; a channel Slack
# refuses: logged and noted, the run unharmed; no SLACK_BOT_TOKEN: nothing
# posted, said once in the log; LLM tokens and cost in GET /metrics from
# the usage log.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   OPSGRAPH=$PWD/bin/opsgraph bash tests/cli/serve_slack.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-slack.XXXXXX") || exit 2
og=
slack=
obs=
llm=
stop_og() {
	if [ -n "$og" ]; then
		kill "$og" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$og" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$og" 2>/dev/null
		wait "$og" 2>/dev/null
		og=
		# under ASan/UBSan (a sanitizer build as OPSGRAPH) a report ends up here
		if grep -q 'Sanitizer\|runtime error' "$log"; then bad "sanitizer report: $(grep -A20 'Sanitizer\|runtime error' "$log" | head -40)"; fi
	fi
}
cleanup() {
	stop_og
	[ -n "$slack" ] && kill "$slack" 2>/dev/null && wait "$slack" 2>/dev/null
	[ -n "$obs" ] && kill "$obs" 2>/dev/null && wait "$obs" 2>/dev/null
	[ -n "$llm" ] && kill "$llm" 2>/dev/null && wait "$llm" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
SECRET=test-signing-secret
TOKEN=xoxb-test-bot-token

# ---- the fakes and the config -------------------------------------------------
mkdir -p "$tmp/obs" "$tmp/slack"
start_server "fake observability server" tests/tools/fake_observability.py "$tmp/obs"
obs=$srv; OBS=$BASE
start_server "fake Slack server" tests/tools/fake_slack.py "$tmp/slack"
slack=$srv; SLACK=$BASE
SLOG=$tmp/slack/log
mkdir -p "$tmp/llm"
start_server "fake LLM server" tests/tools/fake_llm.py "$tmp/llm"
llm=$srv; LLM=$BASE
# the incidents here are checkout-service's, answered "manual": no demo
# service runs; make_config.py only wants a port for payment-service's
mkdir -p "$tmp/demo/payment-service" && echo 9 >"$tmp/demo/payment-service/port"
python3 examples/demo/make_config.py "$OBS" "$tmp/demo" "$tmp/base.json" >/dev/null || { bad "make_config.py failed"; finish; }
# config NAME CHANNEL: $tmp/NAME.json with slack settings
config() {
	python3 - "$tmp/base.json" "$tmp/$1.json" "$SLACK/api/" "$2" <<'EOF'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["slack"] = {"api_base_url": sys.argv[3], "channel": sys.argv[4], "timeout_ms": 3000,
                "approvers": {"U0ALICE": "alice", "U0BOB": "bob"}}
json.dump(cfg, open(sys.argv[2], "w"), indent=1)
EOF
}
config ok C0INCIDENTS
config fail C_FAIL

# start CONFIG [env...]: the server on a free port; sets og, BASE, log
starts=0
start() {
	local cfg=$1
	shift
	starts=$((starts + 1))
	log=$tmp/serve$starts.log
	env SLACK_SIGNING_SECRET=$SECRET "$@" "$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$tmp/db" --root "$PWD" \
		--config "$tmp/$cfg.json" --workers 2 --grace 2 --no-auth 2>"$log" &
	og=$!
	BASE=
	for _ in $(seq 100); do
		BASE=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" 2>/dev/null | sed 's/listening on //')
		[ -n "$BASE" ] && break
		kill -0 "$og" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$BASE" ] || { bad "opsgraph serve did not start: $(cat "$log")"; finish; }
}

# req METHOD PATH [BODY]: sets code, body
req() {
	if [ -n "${3-}" ]; then
		code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
			--data-binary "$3" "$BASE$2")
	else
		code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X "$1" "$BASE$2")
	fi
	body=$(cat "$tmp/body" 2>/dev/null)
}
jget() { python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k) if isinstance(v, dict) else None
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2" 2>/dev/null; }
wait_status() {	# THREAD STATUS
	local s=
	for _ in $(seq 150); do
		req GET "/api/threads/$1"
		s=$(jget "$body" status)
		[ "$s" = "$2" ] && break
		sleep 0.2
	done
	if [ "$s" = "$2" ]; then ok; else bad "thread $1: status '$s', want '$2'; $(tail -5 "$log")"; fi
}
# slack_count FILTER: how many logged Slack requests match a python expression over r
slack_count() {
	python3 - "$SLOG" "$1" <<'EOF'
import json, sys
n = 0
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    r = json.loads(line)
    b = r["body"] if isinstance(r["body"], dict) else {}
    if eval(sys.argv[2]):
        n += 1
print(n)
EOF
}
# wait_slack FILTER N: bounded wait until N requests match
wait_slack() {
	local n=0
	for _ in $(seq 100); do
		n=$(slack_count "$1")
		[ "$n" -ge "$2" ] && break
		sleep 0.1
	done
	if [ "$n" -eq "$2" ]; then ok; else bad "Slack requests matching $1: $n, want $2: $(tail -c 1500 "$SLOG" 2>/dev/null)"; fi
}
# click FORM_BODY [TS]: POST /slack/interactions signed (TS: the timestamp to sign with)
# (files of its own per process: two clicks may run at once)
click() {
	local ts=${2:-$(date +%s)} sig f=$tmp/form.$BASHPID
	printf '%s' "$1" >"$f"
	sig="v0=$(python3 -c 'import hmac,hashlib,sys
print(hmac.new(sys.argv[1].encode(), b"v0:" + sys.argv[2].encode() + b":" + open(sys.argv[3],"rb").read(), hashlib.sha256).hexdigest())' \
		"$SECRET" "$ts" "$f")"
	code=$(curl -s -m 15 -o "$f.body" -w '%{http_code}' -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
		-H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $sig" --data-binary "@$f" \
		"$BASE/slack/interactions")
	body=$(cat "$f.body" 2>/dev/null)
}
# form USER CHOICE [VALUE_OVERRIDE]: a block_actions payload clicking CHOICE's button of the
# decision message posted for thread $FORM_THREAD (default: the first one posted)
FORM_THREAD=
form() {
	python3 - "$SLOG" "$1" "$2" "$SLACK" "${3-}" "$FORM_THREAD" <<'EOF'
import json, sys, urllib.parse
log, user, choice, slack, override, thread = sys.argv[1:7]
def actions(m):
    b = m["body"] if isinstance(m["body"], dict) else {}
    return [x for x in b.get("blocks", []) if x["type"] == "actions"]
msgs = [m for m in map(json.loads, open(log)) if m["path"] == "/api/chat.postMessage" and actions(m)]
if thread:
    msgs = [m for m in msgs if json.loads(actions(m)[0]["elements"][0]["value"])["t"] == thread]
msg = msgs[0]
b = msg["body"]
acts = actions(msg)[0]["elements"]
btn = [x for x in acts if x["action_id"] == "opsgraph_decide_" + choice][0]
if override:
    btn = dict(btn, value=override)
p = {"type": "block_actions", "user": {"id": user, "username": user.lower()},
     "channel": {"id": b["channel"]}, "container": {"type": "message", "message_ts": msg["ts"]},
     "message": {"ts": msg["ts"], "blocks": b["blocks"]},
     "response_url": slack + "/response/" + user,
     "actions": [{"action_id": btn["action_id"], "value": btn["value"], "type": "button"}]}
print(urllib.parse.urlencode({"payload": json.dumps(p)}))
EOF
}

# ---- bad slack config: refused at start, exit 2, naming the key ---------------------
badcfg() {	# NAME JSON_OF_SLACK WANT
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["slack"]=json.loads(sys.argv[2]); json.dump(c, open(sys.argv[3], "w"))' \
		"$tmp/base.json" "$2" "$tmp/$1.json"
	SLACK_BOT_TOKEN=$TOKEN timeout 10 "$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$tmp/db" --root "$PWD" \
		--config "$tmp/$1.json" --no-auth >"$tmp/bad.out" 2>&1
	rc=$?
	[ "$rc" = 2 ] && ok || bad "slack config $2: exit $rc, want 2: $(cat "$tmp/bad.out")"
	expect_in "$3" "$(cat "$tmp/bad.out")" "slack config $2"
}
badcfg bad1 '{"approvers": ["U1"]}' 'config slack.approvers: must map Slack user ids'
badcfg bad2 '{"approvers": {"U1": ""}}' 'config slack.approvers.U1'
badcfg bad3 '{"api_base_url": "ftp://x"}' 'config slack.api_base_url'
badcfg bad4 '{"chanel": "C1"}' "unknown key 'chanel'"
badcfg bad5 '{"channel": 5}' 'config slack.channel'
badcfg bad6 '[]' 'config slack: must be an object'

# ---- no bot token: nothing is posted, said once ------------------------------------
start ok
req POST /api/runs "{\"graph\": \"incident\", \"input\": $(cat examples/alerts/manual_checkout.json)}"
[ "$code" = 202 ] && ok || bad "POST /api/runs: HTTP $code $body"
T0=$(jget "$body" thread_id)
wait_status "$T0" interrupted
n=$(grep -c 'SLACK_BOT_TOKEN is not set' "$log")
[ "$n" = 1 ] && ok || bad "the missing token said $n times, want once: $(cat "$log")"
sleep 0.3
[ "$(slack_count True)" = 0 ] && ok || bad "Slack was called without a token: $(cat "$SLOG")"
# interactions are still checked and refused before anything else
click "payload=%7B%7D" 1000
[ "$code" = 401 ] && ok || bad "stale interaction: HTTP $code $body"
expect_in 'away from now' "$body" "stale detail"
stop_og

# ---- with a token: the decision message ----------------------------------------------
start ok SLACK_BOT_TOKEN=$TOKEN
expect_in 'Slack messages to channel C0INCIDENTS' "$(cat "$log")" "outbound announced"
req POST /api/runs "{\"graph\": \"incident\", \"input\": $(cat examples/alerts/manual_checkout.json)}"
[ "$code" = 202 ] && ok || bad "POST /api/runs: HTTP $code $body"
T=$(jget "$body" thread_id)
wait_status "$T" interrupted
wait_slack 'r["path"] == "/api/chat.postMessage"' 1
req GET "/api/threads/$T"
printf '%s' "$body" >"$tmp/thread.json"
python3 - "$SLOG" "$T" "$TOKEN" "$tmp/thread.json" >"$tmp/check.out" 2>&1 <<'EOF'
import json, sys
log, thread, token = sys.argv[1:4]
r = [json.loads(l) for l in open(log)][0]
b = r["body"]
def check(cond, what):
    print(("ok " if cond else "FAIL ") + what)
check(r["authorization"] == "Bearer " + token, "bearer token: %r" % r["authorization"])
check(r["content_type"].startswith("application/json"), "content type")
check(b["channel"] == "C0INCIDENTS", "channel")
check("checkout-service" in b["text"], "fallback text: %r" % b["text"])
kinds = [x["type"] for x in b["blocks"]]
check(kinds[0] == "header" and kinds[-1] == "actions", "blocks: %r" % kinds)
text = json.dumps(b["blocks"])
check("Root cause" in text and "confidence" in text, "RCA in blocks")
acts = [x for x in b["blocks"] if x["type"] == "actions"][0]["elements"]
check([a["action_id"] for a in acts] == ["opsgraph_decide_" + c for c in ["1", "2", "3", "manual", "re_analyze"]],
      "5 buttons: %r" % [a["action_id"] for a in acts])
check([a["text"]["text"] for a in acts][3:] == ["Handle manually", "Re-analyze"], "labels")
vals = [json.loads(a["value"]) for a in acts]
check(all(v["t"] == thread and v["i"] and v["h"] for v in vals), "values name thread, interrupt, plan hash")
check([v["c"] for v in vals] == ["1", "2", "3", "manual", "re_analyze"], "values name choices")
sections = [x for x in b["blocks"] if x["type"] == "section"]
check(sum(1 for s in sections if s["text"]["text"].startswith("*1. ")) == 1, "action 1 described")
check(any("eta: 5 min" in s["text"]["text"] and "`rollback_deploy{" in s["text"]["text"] for s in sections),
      "action 1: eta in minutes from seconds, its tool: %r" % [s["text"]["text"][:200] for s in sections])
check(all(len(s["text"]["text"]) <= 3000 for s in sections), "section texts within 3000")
# each action's dry-run verdict (nodes/dry_run_actions.lua), as the thread's state has it
st = json.load(open(sys.argv[4]))["state"]["dry_runs"]["actions"]
for k in ("1", "2", "3"):
    d = st[k]
    line = d["verdict"] if d["fidelity"] == "none" else "*dry-run* (%s): %s" % (d["fidelity"], d["verdict"])
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    sec = [s["text"]["text"] for s in sections if s["text"]["text"].startswith("*%s. " % k)]
    check(len(sec) == 1 and sec[0].endswith("\n" + line), "action %s: its dry-run verdict %r in %r" % (k, line, sec))
EOF
while read -r line; do case "$line" in ok*) ok ;; *) bad "$line" ;; esac; done <"$tmp/check.out"
grep -q "decision posted to Slack (channel C0INCIDENTS" "$log" && ok || bad "no log line for the post: $(cat "$log")"
PLAN=$(python3 -c 'import json,sys; print(json.loads(json.loads([l for l in open(sys.argv[1])][0])["body"]["blocks"][-1]["elements"][0]["value"])["h"])' "$SLOG")

# ---- interactions: bad input --------------------------------------------------------
F=$(form U0ALICE manual)
printf '%s' "$F" >"$tmp/form"
code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X POST --data-binary "@$tmp/form" "$BASE/slack/interactions")
[ "$code" = 401 ] && ok || bad "unsigned: HTTP $code"
expect_in 'X-Slack-Signature' "$(cat "$tmp/body")" "unsigned detail"
# tampered: signed one body, another sent
ts=$(date +%s)
sig="v0=$(python3 -c 'import hmac,hashlib,sys
print(hmac.new(sys.argv[1].encode(), b"v0:" + sys.argv[2].encode() + b":" + sys.argv[3].encode(), hashlib.sha256).hexdigest())' \
	"$SECRET" "$ts" "$F")"
code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X POST -H "X-Slack-Request-Timestamp: $ts" \
	-H "X-Slack-Signature: $sig" --data-binary "${F}x" "$BASE/slack/interactions")
[ "$code" = 401 ] && ok || bad "tampered: HTTP $code"
expect_in 'does not match' "$(cat "$tmp/body")" "tampered detail"
click "$F" $(( $(date +%s) - 400 ))
[ "$code" = 401 ] && ok || bad "stale: HTTP $code $body"
click "token=abc"
[ "$code" = 400 ] && ok || bad "no payload: HTTP $code $body"
expect_in 'payload' "$body" "no payload detail"
click "payload=%7Bnot%20json"
[ "$code" = 400 ] && ok || bad "payload not JSON: HTTP $code $body"
click "payload=$(python3 -c 'import urllib.parse,json; print(urllib.parse.quote(json.dumps({"type":"view_submission","user":{"id":"U0ALICE"}})))')"
[ "$code" = 400 ] && ok || bad "view_submission: HTTP $code $body"
expect_in 'block_actions' "$body" "unsupported type detail"
click "$(form U0ALICE manual '{"t": "../etc", "i": "x", "c": "manual", "h": ""}')"
[ "$code" = 400 ] && ok || bad "a foreign button value: HTTP $code $body"

# ---- a user who is not an approver ------------------------------------------------------
click "$(form U0MALLORY 1)"
[ "$code" = 200 ] && ok || bad "non-approver: HTTP $code $body"
expect_in 'not an approver' "$body" "non-approver told"
[ "$(jget "$body" response_type)" = ephemeral ] && ok || bad "non-approver answer not ephemeral: $body"
wait_slack 'r["path"] == "/response/U0MALLORY" and "not an approver" in b.get("text", "") and b.get("response_type") == "ephemeral"' 1
req GET "/api/threads/$T"
[ "$(jget "$body" status)" = interrupted ] && ok || bad "a non-approver's click changed the thread: $body"

# ---- alice clicks "manual": resumed, the message updated, the result in its thread ------------
click "$(form U0ALICE manual)"
[ "$code" = 200 ] && ok || bad "alice's click: HTTP $code $body"
[ "$(jget "$body" by)" = alice ] && ok || bad "alice's click: $body"
wait_status "$T" done
[ "$(jget "$body" state.decision.choice)" = manual ] && ok || bad "decision: $(jget "$body" state.decision)"
[ "$(jget "$body" state.decision.by)" = alice ] && ok || bad "decision.by: $(jget "$body" state.decision)"
[ "$(jget "$body" state.decision.plan_hash)" = "$PLAN" ] && ok || bad "decision.plan_hash: $(jget "$body" state.decision) want $PLAN"
wait_slack 'r["path"] == "/api/chat.update" and b.get("channel") == "C0INCIDENTS" and b.get("ts") == "1700000001.000100" and "*alice*" in b.get("text", "") and "chose *manual*" in b.get("text", "") and not any(x["type"] == "actions" for x in b.get("blocks", [])) and any(x["type"] == "header" for x in b.get("blocks", []))' 1
wait_slack 'r["path"] == "/api/chat.postMessage" and b.get("thread_ts") == "1700000001.000100" and "done" in b.get("text", "") and "manual by alice" in b.get("text", "")' 1

# ---- bob clicks too late: refused, told who decided ------------------------------------------
click "$(form U0BOB 1)"
[ "$code" = 200 ] && ok || bad "bob's click: HTTP $code $body"
wait_slack 'r["path"] == "/response/U0BOB" and "Already decided" in b.get("text", "") and "alice" in b.get("text", "") and b.get("response_type") == "ephemeral"' 1
sleep 0.3
[ "$(slack_count 'r["path"] == "/api/chat.update"')" = 1 ] && ok || bad "a second chat.update"
[ "$(slack_count 'r["path"] == "/api/chat.postMessage"')" = 2 ] && ok || bad "posts: want the decision and the result only: $(cat "$SLOG")"
req GET "/api/threads/$T"
[ "$(jget "$body" state.decision.by)" = alice ] && ok || bad "bob changed the decision: $(jget "$body" state.decision)"

# ---- alice and bob click at once: one wins, once -------------------------------------------
req POST /api/runs "{\"graph\": \"incident\", \"input\": $(cat examples/alerts/manual_checkout.json)}"
T2=$(jget "$body" thread_id)
wait_status "$T2" interrupted
wait_slack 'r["path"] == "/api/chat.postMessage" and "Decision needed" in b.get("text", "")' 2
FORM_THREAD=$T2
FA=$(form U0ALICE manual); FB=$(form U0BOB manual)
UPD='r["path"] == "/api/chat.update"'
ALREADY='r["path"].startswith("/response/") and "Already decided" in b.get("text", "")'
n_upd=$(slack_count "$UPD"); n_already=$(slack_count "$ALREADY")
click "$FA" & c1=$!
click "$FB" & c2=$!
wait "$c1" "$c2"
wait_status "$T2" done
WIN=$(jget "$body" state.decision.by)
case "$WIN" in alice | bob) ok ;; *) bad "race: decision.by '$WIN'" ;; esac
# one more update (naming the winner), one more "already decided" (naming the winner)
wait_slack "$UPD" $((n_upd + 1))
wait_slack "$ALREADY" $((n_already + 1))
sleep 0.3
[ "$(slack_count "$UPD")" = $((n_upd + 1)) ] && ok || bad "race: chat.update not exactly once more"
python3 - "$SLOG" "$WIN" >"$tmp/check.out" 2>&1 <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
win = sys.argv[2]
upd = [r for r in rows if r["path"] == "/api/chat.update"][-1]["body"]
told = [r for r in rows if r["path"].startswith("/response/") and "Already decided" in r["body"].get("text", "")][-1]
print(("ok " if "*%s*" % win in upd["text"] else "FAIL the update names %r: %s" % (win, upd["text"])))
print(("ok " if "resumed by %s " % win in told["body"]["text"] and told["path"] != "/response/U0" + win.upper()
       else "FAIL the loser was told %r: %s" % (told["path"], told["body"]["text"])))
EOF
while read -r line; do case "$line" in ok*) ok ;; *) bad "$line" ;; esac; done <"$tmp/check.out"
wait_slack 'r["path"] == "/api/chat.postMessage" and b.get("thread_ts") and "'"$T2"'" in b.get("text", "") and "manual by '"$WIN"'" in b.get("text", "")' 1
stop_og

# ---- a channel Slack refuses: logged, noted, the run unharmed --------------------------------
: >"$SLOG"
start fail SLACK_BOT_TOKEN=$TOKEN
req POST /api/runs "{\"graph\": \"incident\", \"input\": $(cat examples/alerts/manual_checkout.json)}"
T3=$(jget "$body" thread_id)
wait_status "$T3" interrupted
wait_slack 'r["path"] == "/api/chat.postMessage" and b.get("channel") == "C_FAIL"' 1
for _ in $(seq 50); do grep -q 'channel_not_found' "$log" && break; sleep 0.1; done
expect_in 'channel_not_found' "$(cat "$log")" "the failed post logged"
req POST "/api/threads/$T3/resume" '{"value": "manual"}'
[ "$code" = 200 ] && ok || bad "resume after a failed post: HTTP $code $body"
wait_status "$T3" done
req GET /healthz
[ "$code" = 200 ] && ok || bad "healthz after a failed post: $code"

# ---- LLM tokens and cost in /metrics: the usage log of runs by other processes ------------
req GET /metrics
expect_in '# TYPE opsgraph_llm_tokens_total counter' "$body" "llm tokens declared"
case "$body" in *'opsgraph_llm_tokens_total{'*) bad "tokens before any LLM call: $body" ;; *) ok ;; esac
python3 - "$LLM" "$tmp/llm.json" <<'EOF'
import json, sys
schema = {"type": "object", "required": ["root_cause", "evidence", "impact", "confidence"],
          "properties": {"root_cause": {"type": "string"}, "evidence": {"type": "array", "items": {"type": "string"}},
                         "impact": {"type": "string"}, "confidence": {"type": "number"},
                         "candidates": {"type": "array", "items": {"type": "object"}}}}
json.dump({"llm": {"providers": {"fake": {"base_url": sys.argv[1], "api_key_env": "OG_TEST_LLM_KEY"}},
                   "roles": {"rca": {"system": "You are the SRE on call.", "min_interval_ms": 0, "schema": schema,
                                     "chain": [{"provider": "fake", "model": "ok", "timeout_ms": 5000}]}},
                   "prices": {"ok": {"input_per_1k": 0.5, "output_per_1k": 1.5}}}}, open(sys.argv[2], "w"))
EOF
cat >"$tmp/llm_input.json" <<'EOF'
{"alert": {"service": "payment-service", "severity": "critical", "summary": "DB pool exhausted",
           "started_at": "2026-11-24T19:30:00Z", "source": "alertmanager"},
 "context": {"metrics": {"db_pool_usage": {"unit": "ratio", "current": 0.98, "baseline_24h": 0.4}},
             "logs": {"source": "files", "total": 10, "templates": [{"template": "Connection is not available",
                      "count": 8, "new": true, "level": "error", "example": "Connection is not available"}]},
             "notes": []}}
EOF
for i in 1 2; do
	OG_TEST_LLM_KEY=sk-test-metrics timeout 60 "$OPSGRAPH" run tests/nodes/llm/rca_graph.lua --db "$tmp/db" \
		--input "@$tmp/llm_input.json" --config "$tmp/llm.json" >"$tmp/run.out" 2>&1 ||
		bad "the LLM run $i failed: $(tail -5 "$tmp/run.out")"
done
"$OPSGRAPH" llm-log --db "$tmp/db" --output json >"$tmp/llmlog.json" 2>&1 || bad "llm-log: $(cat "$tmp/llmlog.json")"
req GET /metrics
printf '%s\n' "$body" >"$tmp/metrics.txt"
python3 - "$tmp/llmlog.json" "$tmp/metrics.txt" >"$tmp/check.out" 2>&1 <<'EOF'
import json, re, sys
doc = json.load(open(sys.argv[1]))
rows = doc["entries"] if isinstance(doc, dict) else doc
text = open(sys.argv[2]).read()
def check(cond, what):
    print(("ok " if cond else "FAIL ") + what)
check(len(rows) == 2, "two usage entries: %d" % len(rows))
tin = sum(r.get("tokens_in") or 0 for r in rows)
tout = sum(r.get("tokens_out") or 0 for r in rows)
cost = sum(r.get("cost") or 0 for r in rows)
check(tin > 0 and tout > 0 and cost > 0, "the fake LLM reported usage: %r %r %r" % (tin, tout, cost))
def val(name):
    m = re.search("^" + re.escape(name) + r" ([0-9.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else None
check(val('opsgraph_llm_tokens_total{role="rca",model="ok",direction="in"}') == tin, "tokens in = %r" % tin)
check(val('opsgraph_llm_tokens_total{role="rca",model="ok",direction="out"}') == tout, "tokens out = %r" % tout)
c = val('opsgraph_llm_cost_total{model="ok"}')
check(c is not None and abs(c - cost) < 1e-6, "cost %r = %r" % (c, cost))
check("# TYPE opsgraph_llm_cost_total counter" in text, "cost declared")
EOF
while read -r line; do case "$line" in ok*) ok ;; *) bad "$line" ;; esac; done <"$tmp/check.out"
stop_og
finish
