#!/usr/bin/env bash
# tests/cli/similar.sh: similar past incidents, from the index to the
# analyzer's answer.
# Covered:
#  * a finished incident thread is indexed when its run ends ("manual");
#    the next thread on the same alert gets it in context.similar (service,
#    signature, outcome "manual", its thread id), the first thread had none;
#  * `opsgraph similar THREAD` and `--text` rank it; `index rebuild` counts
#    the finished threads (not the one still waiting) and keeps the ranking;
#  * root_cause_analyzer with past incidents of the same signature
#    (tests/graphs/past_incidents.lua): the action that fixed it last time
#    goes first with "Last time (incident ...)" in its description, the one
#    that did not goes last, the evidence names both, rca.past lists them;
#    past incidents of another signature change nothing;
#  * the postmortem of the second thread lists the past incident;
#  * usage errors exit 2 with a message.
# Ranking itself (BM25, boosts, 30 fixture incidents): tests/unit/test_similar.c.
# Run by tests/run.sh with OPSGRAPH set; by hand: bash tests/cli/similar.sh
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-similar.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/db
ALERT=@examples/alerts/am_black_friday_payment.json

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
check() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
# q THREAD EXPR: EXPR over the latest checkpoint's values (v)
q() {
	"$OPSGRAPH" state "$1" --db "$DB" --output json 2>/dev/null |
		python3 -c 'import json,sys; v=json.load(sys.stdin)["values"]; print(eval(sys.argv[1]))' "$2" 2>&1
}
tid() { printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["thread_id"])' 2>/dev/null; }

# ---- the index, filled as threads end ------------------------------------------
og run graphs/incident.lua --db "$DB" --input "$ALERT" --output json
expect_rc 0
A=$(tid)
check "the first thread has no past" "$(q "$A" 'v["context"]["similar"]')" "[]"
og resume "$A" --db "$DB" --by alice --value '"manual"'
expect_rc 0
og run graphs/incident.lua --db "$DB" --input "$ALERT" --output json
expect_rc 0
B=$(tid)
check "the second thread sees the first" \
	"$(q "$B" '[(s["thread_id"], s["service"], s["signature"], s["outcome"], s["fixed"], s["action"]["choice"]) for s in v["context"]["similar"]]')" \
	"[('$A', 'payment-service', 'db_pool_exhaustion', 'manual', False, 'manual')]"
check "a manual hand-over changes no candidate" "$(q "$B" 'v["rca"].get("past")')" "None"

og similar "$B" --db "$DB" --output json
expect_rc 0
check "similar THREAD" "$(printf '%s' "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print([(x["thread_id"], x["matched"]["service"], x["matched"]["signature"], x["matched"]["alertname"], x["score"] > x["bm25"] > 0) for x in r])')" \
	"[('$A', True, True, True, True)]"
og similar --text "database connection pool exhausted" --db "$DB"
expect_rc 0
expect_in "1. $A" "$out" "similar --text"
expect_in "outcome: manual" "$out" "similar --text"
og similar --text "quantum flux" --db "$DB"
expect_rc 0
expect_in "no similar finished incident" "$out" "no match"
og index rebuild --db "$DB"
expect_rc 0
check "index rebuild counts the finished thread only" "$out" "1 finished incident indexed"
og similar --text "database connection pool exhausted" --db "$DB" --output json
check "the ranking after a rebuild" "$(printf '%s' "$out" | python3 -c 'import json,sys; print([x["thread_id"] for x in json.load(sys.stdin)])')" "['$A']"

# ---- the postmortem shows what the run was shown -------------------------------
og postmortem "$B" --db "$DB"
expect_rc 0
expect_in "## Similar past incidents" "$out" "postmortem"
expect_in "\`$A\`" "$out" "postmortem"

# ---- the analyzer: last time, action X fixed it --------------------------------
# B's alert, and a context whose similar list has a fix and a failure of the
# same signature, and a fix of another signature
python3 - "$tmp/input.json" "$("$OPSGRAPH" state "$B" --db "$DB" --output json)" <<'PY'
import json, sys
v = json.loads(sys.argv[2])["values"]
def past(tid, sig, title, tools, outcome):
    return {"thread_id": tid, "score": 9.5, "service": "payment-service", "signature": sig,
            "root_cause": "...", "ended_at": "2025-10-02T10:11:00Z", "outcome": outcome,
            "fixed": outcome == "recovered",
            "action": {"choice": "2", "id": "2", "title": title, "tools": tools}}
ctx = dict(v["context"])
ctx["similar"] = [past("past-fix", "db_pool_exhaustion", "Shed 30% of the traffic", ["reduce_traffic"], "recovered"),
                  past("past-fail", "db_pool_exhaustion", "Restart payment-service", ["restart_service"], "not_recovered"),
                  past("past-other", "redis_timeout", "Add replicas", ["scale_replicas"], "recovered")]
json.dump({"alert": v["alert"], "context": ctx}, open(sys.argv[1], "w"))
PY
og run tests/graphs/past_incidents.lua --root "$PWD" --db :memory: --input "@$tmp/input.json" --output json
expect_rc 0
printf '%s' "$out" >"$tmp/rca.json"
r() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["state"]; print(eval(sys.argv[2]))' "$tmp/rca.json" "$1" 2>&1; }
check "the past fix first, the past failure last" "$(r '[c["tools"][0]["name"] for c in s["candidates"]]')" \
	"['reduce_traffic', 'scale_replicas', 'restart_service']"
expect_in "Last time (incident past-fix, 2025-10-02) this action fixed the same db_pool_exhaustion signature." \
	"$(r 's["candidates"][0]["description"]')" "the fix's description"
expect_in "In incident past-fail (2025-10-02) it did not fix the same signature (not_recovered)." \
	"$(r 's["candidates"][2]["description"]')" "the failure's description"
check "evidence" "$(r '[e for e in s["rca"]["evidence"] if e.startswith("past incident")]')" \
	"['past incident past-fix (2025-10-02): action \"Shed 30% of the traffic\" fixed the same signature (verified recovered)', 'past incident past-fail (2025-10-02): action \"Restart payment-service\" did not fix the same signature (not_recovered)']"
check "rca.past" "$(r '[(p["thread_id"], p["fixed"]) for p in s["rca"]["past"]]')" "[('past-fix', True), ('past-fail', False)]"
# another signature only: nothing moves
python3 - "$tmp/input.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["context"]["similar"] = d["context"]["similar"][2:]
json.dump(d, open(sys.argv[1], "w"))
PY
og run tests/graphs/past_incidents.lua --root "$PWD" --db :memory: --input "@$tmp/input.json" --output json
printf '%s' "$out" >"$tmp/rca.json"
check "another signature changes nothing" "$(r '([c["tools"][0]["name"] for c in s["candidates"]], s["rca"].get("past"))')" \
	"(['restart_service', 'reduce_traffic', 'scale_replicas'], None)"

# ---- usage --------------------------------------------------------------------
og similar --db "$DB"
expect_rc 2
expect_in "a thread or --text" "$err" "stderr"
og similar "$A" --text x --db "$DB"
expect_rc 2
og similar nope --db "$DB"
expect_rc 2
expect_in "nope" "$err" "stderr"
og similar --text x --limit 0 --db "$DB"
expect_rc 2
og similar --text x --db "$tmp/missing"
expect_rc 2
og index --db "$DB"
expect_rc 2
expect_in "index rebuild" "$err" "stderr"
finish
