#!/usr/bin/env bash
# tests/cli/incident_e2e.sh: graphs/incident.lua end to end through the real
# binary, with the built-in analyzer (no LLM configured), on the examples:
# the collector reads the recorded fixtures from tests/tools/fake_observability.py,
# the tools run examples/demo-service/ctl.py against a demo payment-service
# started here with its connection-pool leak (examples/demo/make_config.py
# writes the config), and verify_recovery asks that service's metrics.
# Both servers listen on 127.0.0.1 on free ports and are stopped on exit.
#
# Covered:
#  * Black Friday (Alertmanager webhook): stops at human_decision with the
#    db_pool_exhaustion RCA (Redis timeouts and Stripe 429s as runner-up
#    signatures) and 3 actions built from registry tools; "1" restarts the
#    demo service for real (new pid, pool 98 % -> 6 %), verify_recovery sees
#    it recovered, the thread is done, the timeline has every node in order;
#  * the same incident posted to Slack by Alertmanager's template also stops
#    at the decision with 3 actions;
#  * slow SQL (MATRIX-APM text in Slack): slow_sql RCA, "manual" ends it
#    with the handler recorded and no execution;
#  * OOM (inventory-service): oom_memory RCA; "1" runs a tool that fails
#    (no demo instance of inventory-service), execution "failed",
#    verify_recovery asks (not_recovered, no verify query configured),
#    "manual" ends it;
#  * re_analyze loops back to context_collector with the hint, three times,
#    then is no longer offered, and a refused 4th keeps the question;
#  * dry-runs (nodes/dry_run_actions.lua): as root each action's tool ran
#    in the sandbox (fidelity sandbox): the restart's report lists the demo
#    service's state files it would rewrite, the shed and scale calls fail
#    on the sandbox's empty network; the question carries each verdict, the
#    plan hash covers the reports, and the host is unchanged (same pid, still
#    degraded) until the real restart. Not root: each card says why not.
# The demo service's state lives under var/ (not /tmp, which the sandbox
# masks), so that the dry-runs see it.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/incident_e2e.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
G=graphs/incident.lua
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-incident.XXXXXX") || exit 2
mkdir -p var && demo=$(mktemp -d "$PWD/var/og-incident-demo.XXXXXX") || exit 2
srv=
CTL="python3 examples/demo-service/ctl.py --state-dir $demo/payment-service"
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	[ -s "$demo/payment-service/pid" ] && $CTL stop >/dev/null 2>&1
	rm -rf "$tmp" "$demo"
}
trap cleanup EXIT

og() {
	timeout 120 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
check() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
# q THREAD EXPR: EXPR in Python over the latest checkpoint: s = its values,
# c = the checkpoint, i = the first pending interrupt's value
q() {
	"$OPSGRAPH" state "$1" --db "$DB" --output json 2>/dev/null | python3 -c '
import json, sys
c = json.load(sys.stdin); s = c.get("values") or {}
ints = c.get("interrupts") or []
i = ints[0]["value"] if ints else {}
node = ints[0]["node"] if ints else None
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$2" 2>&1
}
# incident ALERT_FILE: a new thread on the alert; sets T
incident() {
	og run "$G" --db "$DB" --config "$CFG" --input "@examples/alerts/$1" --output json
	T=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["thread_id"])' 2>/dev/null)
	if [ "$rc" -ne 0 ] || [ -z "$T" ]; then bad "$last: exit $rc: $err"; T=none; fi
}

# ---- the servers and the config ---------------------------------------------
start_server "fake observability server" tests/tools/fake_observability.py "$tmp"
OBS=$BASE
if ! $CTL start --fault pool_leak >"$tmp/ctl.out" 2>&1; then
	bad "the demo service did not start: $(cat "$tmp/ctl.out")"
	finish
fi
CFG=$tmp/config.json
python3 examples/demo/make_config.py "$OBS" "$demo" "$CFG" || { bad "make_config.py failed"; finish; }
DB=$tmp/db
og check "$G"
expect_rc 0

# ---- Black Friday: decision, restart, recovered ------------------------------
$CTL health payment-service >"$tmp/h" 2>&1
check "demo service degraded before" "$?:$(cat "$tmp/h")" "1:payment-service: degraded, connection pool 98/100"
PID0=$(cat "$demo/payment-service/pid")
incident am_black_friday_payment.json
check "BF: paused at the decision" "$(q "$T" '[c["status"], node, i["kind"]]')" '["interrupted", "human_decision", "decision"]'
check "BF: builtin RCA" "$(q "$T" '[s["rca"]["analyzer"], s["rca"]["signature"], i["rca"]["root_cause"] == s["rca"]["root_cause"]]')" '["builtin", "db_pool_exhaustion", true]'
check "BF: redis and stripe seen too" "$(q "$T" 'sorted(a["signature"] for a in s["rca"]["also"])')" '["redis_timeout", "upstream_rate_limit"]'
check "BF: pool evidence" "$(q "$T" 'any("98" in e for e in i["rca"]["evidence"])')" true
check "BF: 3 actions" "$(q "$T" '[(a["id"], a["tools"][0]["name"], a["risk"] in ("low", "medium", "high"), a["eta"] > 0) for a in i["actions"]]')" \
	'[["1", "restart_service", true, true], ["2", "reduce_traffic", true, true], ["3", "scale_replicas", true, true]]'
check "BF: choices" "$(q "$T" 'i["choices"]')" '["1", "2", "3", "manual", "re_analyze"]'
check "BF: hash of the plan" "$(q "$T" 'i["plan_hash"] == s["plan"]["hash"] and i["plan_hash"].startswith("fnv1a64:")')" true
check "BF: deadlines from config" "$(q "$T" '[i["deadlines"]["escalation_target"], i["deadlines"]["default"]]')" '["#payments-oncall", "manual"]'
# the dry-runs, between the planner and the question
check "BF: dry-run on the timeline" "$(q "$T" '[e["node"] for e in s["timeline"] if e["event"] == "dry_run"]')" '["dry_run_actions"]'
check "BF: the question shows each verdict" "$(q "$T" 'all(a["dry_run"]["verdict"] == s["dry_runs"]["actions"][a["id"]]["verdict"] != "" for a in i["actions"])')" true
check "BF: the hash covers the dry-runs" "$(q "$T" '[s["plan"]["hash"] != s["plan"]["planned_hash"], s["dry_runs"]["planned_hash"] == s["plan"]["planned_hash"]]')" '[true, true]'
if [ "$(id -u)" = 0 ]; then
	check "BF: dry-run in the sandbox" "$(q "$T" '[(a["id"], a["dry_run"]["fidelity"]) for a in i["actions"]]')" \
		'[["1", "sandbox"], ["2", "sandbox"], ["3", "sandbox"]]'
	check "BF: the restart would rewrite the service's state" "$(q "$T" 'sorted(f["path"].rsplit("/", 1)[1] for f in s["dry_runs"]["actions"]["1"]["reports"][0]["files"]["modified"])')" \
		'["args.json", "pid", "service.log"]'
	check "BF: restart verdict names the files" "$(q "$T" 'i["actions"][0]["dry_run"]["verdict"].startswith("touches ") and " files under '"$demo"'/payment-service" in i["actions"][0]["dry_run"]["verdict"]')" true
	check "BF: shed and scale meet no network" "$(q "$T" '[("Network is unreachable" in s["dry_runs"]["actions"][k]["reports"][0]["stderr"], s["dry_runs"]["actions"][k]["reports"][0]["exit_code"]) for k in ("2", "3")]')" \
		'[[true, 1], [true, 1]]'
else
	check "BF: not dry-run without root" "$(q "$T" 'sorted(set(a["dry_run"]["fidelity"] for a in i["actions"]))')" '["none"]'
fi
[ "$(cat "$demo/payment-service/pid")" = "$PID0" ] && ok || bad "a dry-run changed the demo service's pid file"
$CTL health payment-service >"$tmp/h" 2>&1
check "demo service untouched by the dry-runs" "$?:$(cat "$tmp/h")" "1:payment-service: degraded, connection pool 98/100"
# the human-readable form shows the question and how to answer
og state "$T" --db "$DB"
expect_rc 0
og resume "$T" --db "$DB" --config "$CFG" --value '"1"' --by sre-alice
expect_rc 0
expect_in "done after" "$out" "resume output"
check "BF: done" "$(q "$T" 'c["status"]')" done
check "BF: decision" "$(q "$T" '[s["decision"]["choice"], s["decision"]["by"]]')" '["1", "sre-alice"]'
check "BF: executed" "$(q "$T" '[s["execution"]["status"], s["execution"]["results"][0]["tool"], s["execution"]["results"][0]["exit_code"]]')" \
	'["succeeded", "restart_service", 0]'
check "BF: the tool's own words" "$(q "$T" 's["execution"]["results"][0]["stdout"].split(",")[1].strip()')" "connection pool 98/100 -> 6/100"
check "BF: recovered" "$(q "$T" '[s["verification"]["status"], s["verification"]["recovered"], s["verification"]["last_value"] < 0.8]')" '["recovered", true, true]'
check "BF: timeline" "$(q "$T" '[e["event"] for e in s["timeline"] if e["event"] in ("alert parsed", "context_collected", "rca", "plan", "dry_run", "decision", "execution_finished", "recovery_verified")]')" \
	'["alert parsed", "context_collected", "rca", "plan", "dry_run", "decision", "execution_finished", "recovery_verified"]'
# its postmortem: resolved by verify_recovery when opsgraph recorded the
# recovery (the step's commit, to the ms), after alice's answer on both clocks
og postmortem "$T" --db "$DB" --format json
expect_rc 0
check "BF: postmortem resolution" "$(printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin); m = r["metrics"]; res = r["resolution"]
ver = [st for st in r["steps"] if "verify_recovery" in st["nodes"]][-1]
print(res["source"], res["at"] == res["received_at"] == m["resolved_at"] == ver["ended_at"],
      m["resolved_at"] >= m["acknowledged_at"], m["time_to_resolve_s"] >= m["time_to_acknowledge_s"],
      m["time_to_resolve_from_received_s"] >= m["time_to_acknowledge_from_received_s"])' 2>&1)" \
	"verify_recovery True True True True"
$CTL health payment-service >"$tmp/h" 2>&1
check "demo service healthy after" "$?:$(cat "$tmp/h")" "0:payment-service: ok, connection pool 6/100"
[ "$(cat "$demo/payment-service/pid")" != "$PID0" ] && ok || bad "the demo service was not restarted (pid $PID0)"
og resume "$T" --db "$DB" --config "$CFG" --value '"1"'
expect_rc 1
expect_in "not waiting for a decision" "$err" "stderr"

# the same incident as Alertmanager's Slack message
incident slack_am_black_friday_payment.json
check "BF via Slack: 3 actions" "$(q "$T" '[c["status"], node, s["alert"]["source"], s["rca"]["signature"], len(i["actions"])]')" \
	'["interrupted", "human_decision", "slack", "db_pool_exhaustion", 3]'

# ---- slow SQL: manual ---------------------------------------------------------
incident slack_matrix_slowsql_order.json
check "slow SQL: paused" "$(q "$T" '[c["status"], node, s["alert"]["service"], s["rca"]["analyzer"], s["rca"]["signature"], len(i["actions"]) >= 1]')" \
	'["interrupted", "human_decision", "order-service", "builtin", "slow_sql", true]'
og resume "$T" --db "$DB" --config "$CFG" --value '{"choice": "manual", "note": "DBA on it"}' --by sre-bob
expect_rc 0
check "slow SQL: manual" "$(q "$T" '[c["status"], s["decision"]["choice"], s["decision"]["handler"], s["decision"]["note"], "execution" in s]')" \
	'["done", "manual", "sre-bob", "DBA on it", false]'
check "slow SQL: no runbook, said where to add one" "$(q "$T" '"services.order-service.runbook" in s["decision"]["runbook_note"]')" true

# ---- OOM: a tool that fails, verify asks, manual ---------------------------------
incident slack_matrix_oom_inventory.json
check "OOM: paused" "$(q "$T" '[c["status"], node, s["alert"]["service"], s["rca"]["signature"]]')" \
	'["interrupted", "human_decision", "inventory-service", "oom_memory"]'
og resume "$T" --db "$DB" --config "$CFG" --value '"1"'
expect_rc 0
check "OOM: execution failed" "$(q "$T" '[s["execution"]["status"], s["execution"]["results"][0]["exit_code"] != 0, "no demo service" in s["execution"]["results"][0]["stderr"]]')" \
	'["failed", true, true]'
check "OOM: verify asks" "$(q "$T" '[c["status"], node, i["kind"], "manual" in i["options"]]')" '["interrupted", "verify_recovery", "not_recovered", true]'
og resume "$T" --db "$DB" --config "$CFG" --value '"manual"'
expect_rc 0
check "OOM: ended by hand" "$(q "$T" '[c["status"], s["verification"]["status"]]')" '["done", "manual"]'

# ---- re_analyze loops -----------------------------------------------------------
incident am_black_friday_payment.json
for n in 1 2 3; do
	og resume "$T" --db "$DB" --config "$CFG" --value "{\"choice\": \"re_analyze\", \"hint\": \"look at redis ($n)\"}"
	expect_rc 0
	check "re_analyze $n" "$(q "$T" '[c["status"], node, s["re_analyses"], s["operator_hint"], [e["event"] for e in s["timeline"]].count("context_collected")]')" \
		"[\"interrupted\", \"human_decision\", $n, \"look at redis ($n)\", $((n + 1))]"
	check "re_analyze $n: the new plan dry-run too" "$(q "$T" '[[e["event"] for e in s["timeline"]].count("dry_run"), i["plan_hash"] == s["plan"]["hash"], s["dry_runs"]["planned_hash"] == s["plan"]["planned_hash"]]')" \
		"[$((n + 1)), true, true]"
done
check "re_analyze: no longer offered" "$(q "$T" 'i["choices"]')" '["1", "2", "3", "manual"]'
og resume "$T" --db "$DB" --config "$CFG" --value '"re_analyze"'
expect_rc 2
expect_in "re_analyze was already asked 3 times" "$err" "stderr"
check "re_analyze: still asking" "$(q "$T" '[c["status"], node]')" '["interrupted", "human_decision"]'
og resume "$T" --db "$DB" --config "$CFG" --value '"manual"'
expect_rc 0
check "re_analyze: then manual, with the runbook" "$(q "$T" '[c["status"], s["decision"]["choice"], s["decision"]["runbook"]["source"]]')" \
	'["done", "manual", "examples/demo/runbooks/payment-service.md"]'

finish
