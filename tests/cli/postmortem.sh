#!/usr/bin/env bash
# tests/cli/postmortem.sh: `opsgraph postmortem` on a recorded incident
# thread, against golden files, and the incident index it feeds.
#
# The thread (graphs/incident.lua, built-in analyzer, the Black Friday
# Alertmanager alert; the LLM role rca answered by tests/tools/fake_llm.py;
# restart_service and scale_replicas overridden to /bin/echo, so their
# dry-runs in the sandbox say the same every time):
#   `opsgraph serve` takes the alert: human_decision asks (checkpoint ASK)
#   fork ASK (hint edited), carol answers "manual": a branch that ends
#   fork ASK again, alice answers re_analyze with a hint: the collector,
#     analyzer and planner run again and ask again
#   bob answers "1": the restart tool runs (its stdout is in the report),
#     verify_recovery has no query and asks "not_recovered"; bob: "manual"
#   Alertmanager's resolution arrives (examples/alerts/am_resolved_payment.json)
#  * GET /api/threads/{id}/postmortem?format=json|md|html answers the report;
#    a bad format 400, an unknown thread 404;
# Covered:
#  * md and json equal tests/golden/postmortem.{md,json} once times, ids and
#    durations are replaced by placeholders (tests/tools/pm_normalize.py;
#    the golden still fails on any other change); UPDATE_GOLDEN=1 rewrites;
#  * the json's own facts: 2 decisions on the main path with 5 alternatives
#    offered, one re-analysis loop, one branch with carol's decision, the
#    tool's stdout, time to acknowledge = alice's answer - alert start;
#  * html: one page, parsed by python's html.parser with balanced tags, no
#    http(s) src/href/url(), the editable "What we learned" and the button;
#  * --out FILE; a bad thread id and a missing database exit 2 with a
#    message that says what to do; a bad --format exits 2;
#  * a demo thread's step of two tasks: each node its own span ("timed":
#    "task"), the second starting after the first ended;
#  * the finished thread is in the incident index, with the resolution the
#    server indexed when it arrived: `similar --text` finds it.
# Run by tests/run.sh with OPSGRAPH set; by hand: bash tests/cli/postmortem.sh
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-postmortem.XXXXXX") || exit 2
srv=
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
DB=$tmp/db
G=tests/golden

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
check() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

# the LLM role rca answers from tests/tools/fake_llm.py (120 tokens in, 30 out)
mkdir -p "$tmp/llm"
start_server "fake LLM server" tests/tools/fake_llm.py "$tmp/llm"
llm_srv=$srv
trap 'kill $llm_srv 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
python3 - "$tmp/config.json" "$BASE" <<'PY'
import json, sys
json.dump({
    "tool_overrides": {
        "restart_service": {"command": ["/bin/echo", "deployment.apps/{service} restarted"]},
        "scale_replicas": {"command": ["/bin/echo", "deployment.apps/{service} scaled to {replicas}"]}},
    "llm": {"providers": {"fake": {"base_url": sys.argv[2]}},
            "roles": {"rca": {"system": "You are the SRE on call.", "min_interval_ms": 0,
                              "schema": {"type": "object", "required": ["root_cause", "evidence", "impact", "confidence"]},
                              "chain": [{"provider": "fake", "model": "ok", "timeout_ms": 5000}]}},
            "prices": {"ok": {"input_per_1k": 0.5, "output_per_1k": 1.5}}}}, open(sys.argv[1], "w"))
PY
CFG="--config $tmp/config.json --db $DB"

# ---- the recorded thread ------------------------------------------------------
# serve takes the alert (thread am-<hash of groupKey>) and later its resolution
"$OPSGRAPH" serve --no-auth --listen 127.0.0.1:0 --db "$DB" --root "$PWD" --config "$tmp/config.json" \
	--workers 1 >"$tmp/serve.log" 2>&1 &
srv=$!
trap 'kill $srv $llm_srv 2>/dev/null; wait $srv 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
BASE=
for _ in $(seq 100); do
	BASE=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/serve.log" 2>/dev/null | sed 's/listening on //')
	[ -n "$BASE" ] && break
	kill -0 $srv 2>/dev/null || break
	sleep 0.1
done
[ -n "$BASE" ] || { bad "serve did not start: $(cat "$tmp/serve.log")"; finish; }
post_alert() {
	code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary "@examples/alerts/$1" "$BASE/alerts/alertmanager")
	check "POST $1" "$code" 200
}
post_alert am_black_friday_payment.json
T=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["thread_id"])' "$tmp/body" 2>/dev/null)
[ -n "$T" ] || { bad "no thread id from the alert: $(cat "$tmp/body")"; finish; }
status() { "$OPSGRAPH" state "$T" --db "$DB" --output json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null; }
for _ in $(seq 200); do [ "$(status)" = interrupted ] && break; sleep 0.1; done
check "the alert's run waits for a decision" "$(status)" interrupted
# the checkpoint where human_decision asked (forks start from it)
ASK=$("$OPSGRAPH" state "$T" --db "$DB" --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
og fork "$T" $CFG --checkpoint "$ASK" --update '{"operator_hint": "try the manual path"}'
expect_rc 0
og resume "$T" $CFG --by carol --value '"manual"'
expect_rc 0
og fork "$T" $CFG --checkpoint "$ASK" --update '{"operator_hint": null}'
expect_rc 0
og resume "$T" $CFG --by alice --value '{"choice": "re_analyze", "hint": "check the redis latency too"}'
expect_rc 0
og resume "$T" $CFG --by bob --value '"1"'
expect_rc 0
og resume "$T" $CFG --by bob --value '{"choice": "manual", "note": "restart did not help, DBA paged"}'
expect_rc 0
post_alert am_resolved_payment.json

# the server's route: the same report
for f in json md html; do
	code=$(curl -s -m 15 -o "$tmp/api.$f" -w '%{http_code}' "$BASE/api/threads/$T/postmortem?format=$f")
	check "GET postmortem?format=$f" "$code" 200
done
check "GET postmortem json is the report" "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["format"], r["thread_id"] == sys.argv[2])' "$tmp/api.json" "$T")" "opsgraph-postmortem/1 True"
expect_in "# Postmortem: payment-service" "$(head -c 200 "$tmp/api.md")" "md from the API"
code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' "$BASE/api/threads/$T/postmortem?format=pdf")
check "GET postmortem?format=pdf" "$code" 400
code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' "$BASE/api/threads/am-nope/postmortem")
check "GET postmortem of no thread" "$code" 404
kill $srv 2>/dev/null
wait $srv 2>/dev/null
srv=
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/serve.log"; then
	bad "sanitizer report: $(grep -E -A8 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/serve.log" | head -30)"
fi

# ---- md and json against the golden files -------------------------------------
og postmortem "$T" --db "$DB"
expect_rc 0
printf '%s\n' "$out" >"$tmp/pm.md"
og postmortem "$T" --db "$DB" --format json
expect_rc 0
printf '%s\n' "$out" >"$tmp/pm.json"
for f in md json; do
	python3 tests/tools/pm_normalize.py "$f" "$T" <"$tmp/pm.$f" >"$tmp/norm.$f"
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		cp "$tmp/norm.$f" "$G/postmortem.$f"
	fi
	if diff -u "$G/postmortem.$f" "$tmp/norm.$f" >"$tmp/diff.$f"; then
		ok
	else
		bad "postmortem --format $f differs from $G/postmortem.$f:
$(head -n 40 "$tmp/diff.$f")"
	fi
done

# ---- facts read from the json (independent of the golden) ---------------------
j() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/pm.json" "$1" 2>&1; }
check "decisions on the main path" "$(j '[(d["by"], d["choice"]) for d in r["decisions"]]')" \
	"[('alice', 're_analyze'), ('bob', '1'), ('bob', 'manual')]"
check "alternatives offered to alice" "$(j '[a["id"] for a in r["decisions"][0]["alternatives"]]')" "['1', '2', '3']"
check "choices offered to alice" "$(j 'r["decisions"][0]["choices"]')" "['1', '2', '3', 'manual', 're_analyze']"
check "bob's note" "$(j 'r["decisions"][2]["note"]')" "restart did not help, DBA paged"
check "re-analysis loops" "$(j '(r["re_analyses"]["count"], [l["hint"] for l in r["re_analyses"]["loops"]])')" \
	"(1, ['check the redis latency too'])"
check "analyses" "$(j '[(a["analyzer"], a["hint"]) for a in r["analyses"]]')" \
	"[('fake/ok', None), ('fake/ok', 'check the redis latency too')]"
check "LLM calls" "$(j '[(c["node"], c["role"], c["model"], c["tokens_in"], c["tokens_out"], c["cost"], c["outcome"]) for c in r["llm_calls"]]')" \
	"[('root_cause_analyzer', 'rca', 'ok', 120, 30, 0.105, 'ok'), ('root_cause_analyzer', 'rca', 'ok', 120, 30, 0.105, 'ok')]"
check "LLM totals" "$(j 'r["llm_totals"]')" "{'calls': 2, 'tokens_in': 240, 'tokens_out': 60, 'cost': 0.21}"
check "branch" "$(j '[(b["forked_from"], b["status"], [d["by"] for d in b["decisions"]]) for b in r["branches"]]')" \
	"[($ASK, 'done', ['carol'])]"
check "tool output" "$(j 'r["executions"][0]["results"][0]["stdout"].strip()')" \
	"deployment.apps/payment-service restarted"
check "execution status" "$(j 'r["executions"][0]["status"]')" "succeeded"
check "verification asked" "$(j 'r["verifications"][0]["status"]')" "manual"
check "fork steps" "$(j '[s["parent"] for s in r["steps"] if s["source"] == "fork"]')" "[$ASK]"
check "time to acknowledge" "$(j 'r["metrics"]["acknowledged_by"]')" "carol"
# the recorded alert started in 2025: the times counted from opsgraph's receipt
# of it (the thread's first checkpoint) are the ones this run can answer for
check "received = thread opened" "$(j 'r["metrics"]["received_at"] == r["detection"]["opened_at"]')" "True"
check "times from receipt" "$(python3 - "$tmp/pm.json" <<'PY' 2>&1
import datetime, json, sys
r = json.load(open(sys.argv[1])); m = r["metrics"]; res = r["resolution"]
e = lambda x: datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp()
print(res["received_at"] == r["notes"][-1]["at"],
      abs(m["time_to_acknowledge_from_received_s"] - (e(m["acknowledged_at"]) - e(m["received_at"]))) < 0.11,
      abs(m["time_to_resolve_from_received_s"] - (e(res["received_at"]) - e(m["received_at"]))) < 0.11)
PY
)" "True True True"
check "md names both clocks" "$(grep -c -e '^| Time to acknowledge, from the alert.s startsAt | ' -e '^| Time to acknowledge, from opsgraph.s receipt | ' -e '^| Time to resolve, from the alert.s startsAt | ' -e '^| Time to resolve, from opsgraph.s receipt | ' "$tmp/pm.md")" 4
check "evidence" "$(j 'len(r["root_cause"]["evidence"]) > 0')" "True"
check "outcome" "$(j 'r["resolution"]["outcome"]')" "not_recovered"
check "resolution" "$(j '(r["resolution"]["source"], r["resolution"]["at"], r["metrics"]["time_to_resolve_s"])')" \
	"('alertmanager', '2025-11-28T14:41:13.512Z', 2340.5)"
check "alert notes" "$(j '[n["kind"] for n in r["notes"]]')" "['alert_firing', 'alert_resolved']"
check "learned is a field" "$(j 'r["learned"]')" "[]"

# ---- html ---------------------------------------------------------------------
og postmortem "$T" --db "$DB" --format html --out "$tmp/pm.html"
expect_rc 0
check "--out prints nothing" "$out" ""
python3 - "$tmp/pm.html" <<'PY' >"$tmp/html.check" 2>&1
import sys, re
from html.parser import HTMLParser
text = open(sys.argv[1]).read()
void = {"meta", "br", "link", "img", "input", "hr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.errors = []; self.ext = []; self.ids = set(); self.editable = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href", "action"):
            if a.get(k) and re.match(r"(?i)\s*(https?:)?//", a[k]): self.ext.append((tag, k, a[k]))
        if "id" in a: self.ids.add(a["id"])
        if a.get("id") == "learned" and a.get("contenteditable") == "true": self.editable = True
        if tag not in void: self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag: self.errors.append("unbalanced </%s> (open: %s)" % (tag, self.stack[-3:]))
        else: self.stack.pop()
p = P(); p.feed(text); p.close()
problems = p.errors[:3] + ["external %s %s=%s" % e for e in p.ext]
if p.stack: problems.append("unclosed: %s" % p.stack)
if re.search(r"(?i)url\(\s*['\"]?https?:|@import|<link\b|<script[^>]+src=", text): problems.append("external CSS/JS")
if not p.editable: problems.append("no contenteditable #learned")
if "dl" not in p.ids or "pm-md" not in p.ids: problems.append("no download button or md source")
if text.count("<html") != 1: problems.append("not one page")
for want in ("What we learned", "deployment.apps/payment-service restarted", "re_analyze", "carol", "Root cause"):
    if want not in text: problems.append("missing " + want)
print("\n".join(problems) or "ok")
PY
check "html" "$(cat "$tmp/html.check")" "ok"

# ---- errors -------------------------------------------------------------------
og postmortem no-such-thread --db "$DB"
expect_rc 2
expect_in "no thread 'no-such-thread'" "$err" "stderr"
expect_in "opsgraph threads" "$err" "stderr"
og postmortem "$T" --db "$tmp/missing-db"
expect_rc 2
og postmortem "$T" --db "$DB" --format pdf
expect_rc 2
expect_in "md, html and json" "$err" "stderr"
og postmortem --db "$DB"
expect_rc 2
og postmortem "$T" --db :memory:
expect_rc 2
expect_in "needs the database" "$err" "stderr"
# a thread of another graph: its steps, no incident
og run graphs/demo.lua --db "$DB" --input '{"count": 0}' --output json
D=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["thread_id"])' 2>/dev/null)
og postmortem "$D" --db "$DB"
expect_rc 0
expect_in "# Postmortem: demo thread $D" "$out" "postmortem of a demo thread"
expect_in "| b, c | running |" "$out" "a step of two tasks"
expect_in "| d | done |" "$out" "its last step"
# b and c ran in one step, one after another: each has its own recorded span
og postmortem "$D" --db "$DB" --format json
expect_rc 0
check "the two tasks of a step, each timed by its own span, in the order they ran" \
	"$(printf '%s' "$out" | python3 -c '
import json, sys
st = [s for s in json.load(sys.stdin)["steps"] if len(s["nodes"]) == 2][0]
t = st["tasks"]
print(sorted(x["node"] for x in t), [x["timed"] for x in t],
      t[0]["ended_at"] <= t[1]["started_at"],
      all(x["started_at"] <= x["ended_at"] and 0 <= x["duration_ms"] <= st["duration_ms"] for x in t))')" \
	"['b', 'c'] ['task', 'task'] True True"

# ---- the index ----------------------------------------------------------------
og similar --text "database connection pool exhausted" --db "$DB" --output json
expect_rc 0
# indexed when bob ended it, again when Alertmanager's resolution came; the
# LLM answered, so the signature is the built-in analyzer's it was shown
check "similar finds the finished thread, resolved" \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; print([(x["thread_id"], x["outcome"], x["resolved_at"] is not None, x["signature"]) for x in json.load(sys.stdin)])')" \
	"[('$T', 'not_recovered', True, 'db_pool_exhaustion')]"
og similar "$T" --db "$DB" --output json
expect_rc 0
check "a thread is not similar to itself" "$out" "[]"
finish
