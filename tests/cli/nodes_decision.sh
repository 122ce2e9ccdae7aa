#!/usr/bin/env bash
# tests/cli/nodes_decision.sh: nodes/human_decision.lua and `opsgraph tick`,
# through the real binary, in tests/nodes/decision/graph.lua (plan ->
# human_decision -> act | END | plan again), on an LMDB database per case.
#
# Covered: the interrupt value (rca, actions with risk/eta/tools, plan hash,
# choices, fill_by, no deadline); each choice "1" "2" "3" (string, number,
# object with plan_hash/by/note), "manual" with the runbook as text, as a
# file under the root, missing, or outside the root (refused at load);
# refused answers (another plan hash, not a choice, a choice the plan does
# not have, an unknown field, a hint without re_analyze, an early system
# answer) exit 2, say why, keep the thread interrupted with the same
# question and a decision_refused timeline entry, and a good answer then
# works; re_analyze with a hint (operator_hint, a new plan and hash, the old
# hash refused), at most 3 times, then not offered and refused; deadlines:
# tick before the deadline does nothing, after ttl_s escalates (webhook POST
# or log, recorded on the timeline, the same question again), after final_s
# takes decision.default with by "opsgraph (deadline)" (manual with the
# escalation target as handler, or an action that then runs); a late tick
# does both in one go; a thread answered by a human is left alone; bad
# decision config fails the run with the fix.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/nodes_decision.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
G=tests/nodes/decision/graph.lua
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-decision.XXXXXX") || exit 2
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
# q DB THREAD EXPR: EXPR in Python over the latest checkpoint: s = its
# values, c = the checkpoint, i = the first pending interrupt's value
q() {
	"$OPSGRAPH" state "$2" --db "$1" --output json 2>/dev/null | python3 -c '
import json, sys
c = json.load(sys.stdin); s = c.get("values") or {}
ints = c.get("interrupts") or []
i = ints[0]["value"] if ints else {}
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$3"
}
# check WHAT GOT WANT
check() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
# start DB [opsgraph run args...]: a new thread paused at the decision; sets T
start() {
	local db=$1; shift
	og run "$G" --db "$db" --output json "$@"
	T=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["thread_id"])' 2>/dev/null)
	if [ "$rc" -ne 0 ] || [ -z "$T" ]; then bad "$last: exit $rc: $err"; T=none; fi
}
config() { printf '%s\n' "$2" >"$tmp/$1.json"; }
# wait_timer DB THREAD K: sleeps until the K-th timer of the pending
# decision is due (bounded: at most 10 s)
wait_timer() {
	python3 -c 'import sys, time; time.sleep(max(0, min(float(sys.argv[1]) - time.time() + 0.2, 10)))' \
		"$(q "$1" "$2" "i[\"timers\"][$3][\"at\"]")"
}

# ---- the question ---------------------------------------------------------
DB=$tmp/q.db
start "$DB"
check "status" "$(q "$DB" "$T" 'c["status"]')" interrupted
check "kind" "$(q "$DB" "$T" 'i["kind"]')" decision
check "plan hash shown" "$(q "$DB" "$T" 'i["plan_hash"] == s["plan"]["hash"]')" true
check "choices" "$(q "$DB" "$T" 'i["choices"]')" '["1", "2", "3", "manual", "re_analyze"]'
check "actions" "$(q "$DB" "$T" '[(a["id"], a["risk"], a["eta"], a["tools"][0]["name"]) for a in i["actions"]]')" \
	'[["1", "low", 30, "restart_service"], ["2", "low", 60, "restart_service"], ["3", "high", 90, "restart_service"]]'
check "rca" "$(q "$DB" "$T" '[i["rca"]["root_cause"], i["rca"]["evidence"]]')" '["DB connection pool exhausted", ["pool 98%", "timeouts x4100"]]'
check "fill_by" "$(q "$DB" "$T" 'i["fill_by"]')" true
check "no deadline" "$(q "$DB" "$T" '[i["deadlines"], "no deadline configured" in i["no_deadline"], "timers" in i]')" '[null, true, false]'
check "re_analyses shown" "$(q "$DB" "$T" 'i["re_analyses"]')" '{"done": 0, "max": 3}'
# the text output shows the question and how to answer
og resume "$T" --db "$DB" --value '"1"' --by alice
expect_rc 0
check "choice 1 done" "$(q "$DB" "$T" '[c["status"], s["executed"], s["decision"]["choice"], s["decision"]["by"]]')" '["done", "1", "1", "alice"]'
check "decision names the hash" "$(q "$DB" "$T" 's["decision"]["plan_hash"] == s["plan"]["hash"] and "T" in s["decision"]["at"]')" true
check "timeline" "$(q "$DB" "$T" '[e["event"] for e in s["timeline"]]')" '["decision_asked", "decision"]'
check "timeline detail" "$(q "$DB" "$T" 's["timeline"][1]["detail"]')" "action 1 approved by alice: action 1"
check "request closed" "$(q "$DB" "$T" 's["decision_request"]["open"]')" false
og resume "$T" --db "$DB" --value '"2"'
expect_rc 1
expect_in "not waiting for a decision" "$err" "stderr"

# a number, and an object with the hash, by and note
start "$DB"
og resume "$T" --db "$DB" --value '2'
expect_rc 0
check "number 2" "$(q "$DB" "$T" '[s["executed"], s["decision"]["choice"]]')" '["2", "2"]'
start "$DB"
H=$(q "$DB" "$T" 's["plan"]["hash"]')
og resume "$T" --db "$DB" --value "{\"choice\": \"3\", \"plan_hash\": \"$H\", \"by\": \"bob\", \"note\": \"high risk, ok\"}" --by carol
expect_rc 0
check "object 3" "$(q "$DB" "$T" '[s["executed"], s["decision"]["by"], s["decision"]["note"]]')" '["3", "bob", "high risk, ok"]'

# ---- manual: the runbook --------------------------------------------------
config rb_text '{"services": {"payment-service": {"runbook": "1. look at the pool\n2. page the DBA"}}}'
start "$DB" --config "$tmp/rb_text.json"
og resume "$T" --db "$DB" --config "$tmp/rb_text.json" --value '"manual"' --by dave
expect_rc 0
check "manual ends" "$(q "$DB" "$T" '[c["status"], "executed" in s, s["decision"]["choice"], s["decision"]["handler"]]')" '["done", false, "manual", "dave"]'
check "runbook text" "$(q "$DB" "$T" 's["decision"]["runbook"]')" '{"source": "config", "text": "1. look at the pool\n2. page the DBA"}'
config rb_file '{"services": {"payment-service": {"runbook": "tests/nodes/decision/runbook.md"}}}'
start "$DB" --config "$tmp/rb_file.json"
og resume "$T" --db "$DB" --config "$tmp/rb_file.json" --value '"manual"'
expect_rc 0
check "runbook file" "$(q "$DB" "$T" '[s["decision"]["runbook"]["source"], s["decision"]["runbook"]["text"] == open("tests/nodes/decision/runbook.md").read()]')" '["tests/nodes/decision/runbook.md", true]'
start "$DB"
og resume "$T" --db "$DB" --value '"manual"'
expect_rc 0
check "no runbook: said why" "$(q "$DB" "$T" '"runbook" not in s["decision"] and "services.payment-service.runbook" in s["decision"]["runbook_note"]')" true
printf 'secret\n' >"$tmp/outside.md"
config rb_out "{\"services\": {\"payment-service\": {\"runbook\": {\"file\": \"$tmp/outside.md\"}}}}"
og run "$G" --db "$DB" --config "$tmp/rb_out.json"
expect_rc 2
expect_in "outside the project root" "$err" "stderr"
config rb_missing '{"services": {"payment-service": {"runbook": "runbooks/nope.md"}}}'
og run "$G" --db "$DB" --config "$tmp/rb_missing.json"
expect_rc 2
expect_in "runbooks/nope.md" "$err" "stderr"

# ---- refused answers: exit 2, nothing lost, the same question ---------------
start "$DB"
H=$(q "$DB" "$T" 's["plan"]["hash"]')
IID=$(q "$DB" "$T" 'c["interrupts"][0]["id"]')
refused() {   # refused VALUE NEEDLE
	og resume "$T" --db "$DB" --value "$1"
	expect_rc 2
	expect_in "the answer was refused" "$err" "stderr"
	expect_in "$2" "$err" "stderr"
	check "still interrupted after $1" "$(q "$DB" "$T" '[c["status"], i["plan_hash"], i["rejected"]["reason"] != ""]')" "[\"interrupted\", \"$H\", true]"
}
refused '{"choice": "2", "plan_hash": "fnv1a64:0000000000000bad"}' "the plan changed: the answer names fnv1a64:0000000000000bad but the plan shown is $H"
refused '"7"' "'7' is not one of the choices: 1, 2, 3, manual, re_analyze"
refused '{"choice": "1", "approve": true}' 'unknown field "approve"'
refused '{"choice": "1", "hint": "look at redis"}' "a hint goes with re_analyze only"
refused '[1]' "an answer is a choice string or an object"
refused '{"system": "deadline"}' "no deadline is configured"
refused '{"system": "reboot"}' "unknown system answer 'reboot'"
check "refusals on the timeline" "$(q "$DB" "$T" '[e["event"] for e in s["timeline"]].count("decision_refused")')" 7
check "not executed" "$(q "$DB" "$T" '"executed" in s or "decision" in s')" false
og resume "$T" --db "$DB" --value "{\"choice\": \"2\", \"plan_hash\": \"$H\"}"
expect_rc 0
check "then accepted" "$(q "$DB" "$T" '[c["status"], s["executed"]]')" '["done", "2"]'
# a plan of one action: "3" is not offered
start "$DB" --input '{"n_actions": 1}'
check "one action: choices" "$(q "$DB" "$T" 'i["choices"]')" '["1", "manual", "re_analyze"]'
og resume "$T" --db "$DB" --value '"3"'
expect_rc 2
expect_in "'3' is not one of the choices: 1, manual, re_analyze" "$err" "stderr"

# ---- re_analyze: a hint, a new plan, at most 3 times -------------------------
start "$DB"
H0=$(q "$DB" "$T" 's["plan"]["hash"]')
for n in 1 2 3; do
	og resume "$T" --db "$DB" --value "{\"choice\": \"re_analyze\", \"hint\": \"look at redis $n\"}"
	expect_rc 0
	check "re_analyze $n" "$(q "$DB" "$T" '[c["status"], s["re_analyses"], s["plans_made"], s["operator_hint"], i["re_analyses"]["done"]]')" \
		"[\"interrupted\", $n, $((n + 1)), \"look at redis $n\", $n]"
done
check "new plan hash" "$(q "$DB" "$T" 's["plan"]["hash"] != "'"$H0"'" and i["plan_hash"] == s["plan"]["hash"]')" true
check "re_analyze no longer offered" "$(q "$DB" "$T" 'i["choices"]')" '["1", "2", "3", "manual"]'
og resume "$T" --db "$DB" --value '"re_analyze"'
expect_rc 2
expect_in "re_analyze was already asked 3 times (the limit); choose one of 1, 2, 3, manual" "$err" "stderr"
og resume "$T" --db "$DB" --value "{\"choice\": \"1\", \"plan_hash\": \"$H0\"}"
expect_rc 2
expect_in "the plan changed" "$err" "stderr"
og resume "$T" --db "$DB" --value '"1"'
expect_rc 0
check "after re-analyses" "$(q "$DB" "$T" '[c["status"], s["executed"], s["plans_made"]]')" '["done", "1", 4]'
check "re-analyses on the timeline" "$(q "$DB" "$T" '[e["detail"] for e in s["timeline"] if e["event"] == "decision" and "re-analysis" in e["detail"]][2]')" \
	"re-analysis 3 of 3 asked by ${USER:-operator}@$(hostname): look at redis 3"

# ---- deadlines and `opsgraph tick` -----------------------------------------
start_server "webhook server" tests/tools/http_server.py "$tmp"
DB=$tmp/tick.db
config ttl "{\"decision\": {\"ttl_s\": 3, \"final_s\": 6, \"default\": \"manual\",
  \"escalation\": {\"target\": \"#sre-leads\", \"webhook_url\": \"$BASE/echo/escalate\"}}}"
start "$DB" --config "$tmp/ttl.json"
check "deadlines shown" "$(q "$DB" "$T" '[i["deadlines"]["default"], i["deadlines"]["escalation_target"], [t["resume"]["system"] for t in i["timers"]]]')" \
	'["manual", "#sre-leads", ["escalate", "deadline"]]'
check "final_s - ttl_s apart" "$(q "$DB" "$T" 'i["timers"][1]["at"] - i["timers"][0]["at"]')" 3
og tick --db "$DB" --config "$tmp/ttl.json"
expect_rc 0
expect_in "no deadline is due" "$out" "tick output"
check "not due: still waiting" "$(q "$DB" "$T" '[c["status"], len(i["timers"])]')" '["interrupted", 2]'
# someone sending the system answer by hand, too early
og resume "$T" --db "$DB" --config "$tmp/ttl.json" --value '{"system": "escalate"}'
expect_rc 2
expect_in "too early to escalate" "$err" "stderr"
wait_timer "$DB" "$T" 0
og tick --db "$DB" --config "$tmp/ttl.json"
expect_rc 0
expect_in '{"system":"escalate"}' "$out" "tick output"
expect_in "fired: now interrupted" "$out" "tick output"
check "escalated" "$(q "$DB" "$T" '[c["status"], i["deadlines"]["escalated"], [t["resume"]["system"] for t in i["timers"]]]')" '["interrupted", true, ["deadline"]]'
check "escalation posted" "$(grep -c 'POST /echo/escalate' "$tmp/log")" 1
check "escalation on the timeline" "$(q "$DB" "$T" '[e["detail"] for e in s["timeline"] if e["event"] == "decision_escalated"][0].split("; ")[1]')" "notified #sre-leads (HTTP 200)"
og tick --db "$DB" --config "$tmp/ttl.json"
expect_in "no deadline is due" "$out" "tick output"
wait_timer "$DB" "$T" 0
og tick --db "$DB" --config "$tmp/ttl.json" --output json
expect_rc 0
check "tick json" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print([(x["resume"]["system"], x["fired"], x["status"]) for x in d])')" "[('deadline', True, 'done')]"
check "default taken" "$(q "$DB" "$T" '[c["status"], s["decision"]["choice"], s["decision"]["by"], s["decision"]["handler"], "executed" in s]')" \
	'["done", "manual", "opsgraph (deadline)", "#sre-leads", false]'
check "timeline order" "$(q "$DB" "$T" '[e["event"] for e in s["timeline"]]')" '["decision_asked", "decision_refused", "decision_escalated", "decision"]'
check "one escalation only" "$(grep -c 'POST /echo/escalate' "$tmp/log")" 1

# a late tick: escalation and default in one go; default "2" runs action 2;
# a failing webhook is recorded, not fatal
config ttl2 "{\"decision\": {\"ttl_s\": 1, \"final_s\": 2, \"default\": \"2\",
  \"escalation\": {\"target\": \"#leads\", \"webhook_url\": \"$BASE/status/500\"}}}"
start "$DB" --config "$tmp/ttl2.json"
T2=$T
# and a thread a human answers in time: tick leaves it alone
start "$DB" --config "$tmp/ttl2.json"
T3=$T
og resume "$T3" --db "$DB" --config "$tmp/ttl2.json" --value '"1"'
expect_rc 0
wait_timer "$DB" "$T2" 1
og tick --db "$DB" --config "$tmp/ttl2.json"
expect_rc 0
check "late tick: two fires" "$(printf '%s\n' "$out" | grep -c "$T2")" 2
check "late tick: default 2 ran" "$(q "$DB" "$T2" '[c["status"], s["decision"]["choice"], s["decision"]["by"], s["executed"]]')" '["done", "2", "opsgraph (deadline)", "2"]'
check "webhook failure recorded" "$(q "$DB" "$T2" '[e["detail"] for e in s["timeline"] if e["event"] == "decision_escalated"][0].split("; ")[1]')" "notifying #leads failed: HTTP 500"
check "answered thread untouched" "$(q "$DB" "$T3" '[c["status"], s["decision"]["by"] != "opsgraph (deadline)"]')" '["done", true]'
check "tick skipped the answered one" "$(printf '%s\n' "$out" | grep -c "$T3")" 0
# without a webhook: logged for the target
config ttl3 '{"decision": {"ttl_s": 1, "final_s": 60, "escalation": {"target": "#ops"}}}'
start "$DB" --config "$tmp/ttl3.json"
wait_timer "$DB" "$T" 0
og tick --db "$DB" --config "$tmp/ttl3.json"
expect_rc 0
expect_in "decision escalated" "$err" "the node's log line"
check "logged escalation" "$(q "$DB" "$T" '[c["status"], [e["detail"] for e in s["timeline"] if e["event"] == "decision_escalated"][0].split("; ")[1]]')" \
	'["interrupted", "logged for #ops (config decision.escalation.webhook_url is not set)"]'
# a human may still answer after the escalation
og resume "$T" --db "$DB" --config "$tmp/ttl3.json" --value '"3"'
expect_rc 0
check "answer after escalation" "$(q "$DB" "$T" '[c["status"], s["executed"], s["decision_request"]["escalated"]]')" '["done", "3", true]'

og tick --db "$tmp/no-such-db"
expect_rc 0
expect_in "no deadline is due (no database at $tmp/no-such-db yet)" "$out" "tick output"
og tick --db :memory:
expect_rc 2
expect_in "tick needs the database" "$err" "stderr"
og tick --db "$DB" --bogus
expect_rc 2

# ---- bad decision config: the run fails with the fix --------------------------
config bad_default '{"decision": {"default": "approve"}}'
og run "$G" --db "$tmp/bad.db" --config "$tmp/bad_default.json"
expect_rc 1
expect_in 'config decision.default must be "manual", "1", "2" or "3" (got approve)' "$err" "stderr"
config bad_final '{"decision": {"ttl_s": 60, "final_s": 30}}'
og run "$G" --db "$tmp/bad.db" --config "$tmp/bad_final.json"
expect_rc 1
expect_in "decision.final_s must be a number of seconds greater than ttl_s" "$err" "stderr"
config bad_hook '{"decision": {"ttl_s": 1, "final_s": 2, "escalation": {"target": "#x", "webhook_url": "ftp://x"}}}'
og run "$G" --db "$tmp/bad.db" --config "$tmp/bad_hook.json"
expect_rc 1
expect_in "webhook_url must be an http(s) URL" "$err" "stderr"

finish
