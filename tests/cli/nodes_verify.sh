#!/usr/bin/env bash
# tests/cli/nodes_verify.sh: nodes/verify_recovery.lua through the real
# binary (tests/nodes/verify/verify.lua), against tests/nodes/verify/fake_prom.py
# (a Prometheus /api/v1/query whose answers change per request) and
# tests/tools/http_server.py (the rollback's HTTP tool, the shipped
# reduce_traffic with its url overridden by config tool_overrides).
#
# Covered: recovered after a high value and a failed query (HTTP 500) with a
# threshold, $service expanded, polling paced by interval_s, time to
# recovery; the alert's own expression without a threshold (recovered when
# it returns no series); not recovered -> not_recovered interrupt with the
# options (rollback only with undo tools, re_analyze only under the limit);
# a refused answer (exit 2, asked again); "rollback" runs the undo over
# HTTP (percent 0 as a number) and the polling is replayed, not re-queried;
# "manual" with a note; "re_analyze" with a hint goes to context_collector;
# Prometheus failing (HTTP 500, unreachable) ends the polling after
# max_errors failures in a row; no query configured; a malformed verify config.
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-verify.XXXXXX") || exit 2
srvs=
trap 'for p in $srvs; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
G=tests/nodes/verify/verify.lua
DB=$tmp/db

export OG_FAKE_PROM_SCRIPT=$tmp/script.json
cat >"$OG_FAKE_PROM_SCRIPT" <<'JSON'
{"error_rate_q": [0.3, "error", 0.01],
 "up_expr": [[0.2, 0.3], null],
 "stuck_q": [0.5],
 "down_q": ["error"]}
JSON
mkdir -p "$tmp/prom" "$tmp/web"
start_server "fake Prometheus" tests/nodes/verify/fake_prom.py "$tmp/prom"
PROM=$BASE; srvs="$srvs $srv"
start_server "HTTP test server" tests/tools/http_server.py "$tmp/web"
WEB=$BASE; srvs="$srvs $srv"

# cfg FILE VERIFY_JSON: a config with the fake Prometheus and this verify block
cfg() {
	cat >"$1" <<JSON
{"services": {"payment-service": {"prometheus": {"url": "$PROM/"}, "verify": $2}},
 "tool_overrides": {"reduce_traffic": {"url": "$WEB/echo/{service}/shed"}}}
JSON
}
og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
check() {
	if printf '%s' "$out" | python3 -c '
import json, sys, calendar, time
o = json.load(sys.stdin); s = o.get("state") or {}; v = s.get("verification") or {}
ints = o.get("interrupts") or []; iv = ints[0]["value"] if ints else {}
ev = [t["event"] for t in s.get("timeline") or []]
epoch = lambda t: calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" 2>"$tmp/py.err"; then ok; else
		bad "$1: ($2) is false: $(cat "$tmp/py.err") output: ${out:0:1500} stderr: ${err:0:500}"
	fi
}
prom_requests() { grep -c "GET /api/v1/query" "$tmp/prom/log" 2>/dev/null; }
EXEC_UNDO='{"action_id": "2", "status": "succeeded", "ended_at": "2026-11-24T10:00:00Z", "summary": "shed 30 %",
  "undo": [{"tool": "reduce_traffic", "args": {"service": "payment-service", "percent": 0}, "of": "reduce_traffic"}]}'
ALERT='{"service": "payment-service", "started_at": "2026-11-24T09:50:00Z"}'

# --- recovered, threshold ------------------------------------------------------------
cfg "$tmp/c1.json" '{"query": "error_rate_q{service=\"$service\"}", "threshold": 0.05, "window_s": 10, "interval_s": 1}'
t0=$(date +%s)
og run "$G" --db :memory: --config "$tmp/c1.json" --output json --input "{\"alert\": $ALERT, \"execution\": $EXEC_UNDO}"
t1=$(date +%s)
expect_rc 0
check "recovered" 'o["status"] == "done" and v["status"] == "recovered" and v["recovered"] is True and v["checks"] == 3 and v["last_value"] == 0.01'
check "query expanded" 'v["query"] == "error_rate_q{service=\"payment-service\"}" and v["query_from"].startswith("config services[")'
check "history" '[h["ok"] for h in v["history"]] == [False, False, True] and v["history"][0]["value"] == 0.3 and "HTTP 500" in v["history"][1]["error"]'
check "time to recovery" 'v["time_to_recovery_s"] == epoch(v["checked_at"]) - epoch("2026-11-24T09:50:00Z") and v["after_action_s"] == epoch(v["checked_at"]) - epoch("2026-11-24T10:00:00Z")'
check "timeline" 'ev == ["recovery_verified"]'
[ $((t1 - t0)) -ge 2 ] && [ $((t1 - t0)) -lt 10 ] && ok || bad "recovered: 3 checks 1 s apart took $((t1 - t0)) s"
expect_in "query=error_rate_q%7bservice%3d%22payment-service%22%7d" "$(tr 'A-Z' 'a-z' <"$tmp/prom/log")" "the query reached Prometheus"

# --- recovered: the alert's expression, no threshold --------------------------------------
cfg "$tmp/c2.json" '{"window_s": 5, "interval_s": 1}'
og run "$G" --db :memory: --config "$tmp/c2.json" --output json --input "{\"alert\": {\"service\": \"payment-service\", \"expr\": \"up_expr > 0.05\"}, \"execution\": {}}"
expect_rc 0
check "alert expr" 'v["status"] == "recovered" and v["checks"] == 2 and v["query"] == "up_expr > 0.05" and v["query_from"] == "alert.expr" and v["history"][0]["series"] == 2 and v["history"][1]["series"] == 0'
check "no started_at: no time to recovery" '"time_to_recovery_s" not in v'

# --- not recovered -> rollback -------------------------------------------------------------
cfg "$tmp/c3.json" '{"query": "stuck_q", "threshold": 0.05, "window_s": 2, "interval_s": 1}'
og run "$G" --db "$DB" --thread r1 --config "$tmp/c3.json" --output json --input "{\"alert\": $ALERT, \"execution\": $EXEC_UNDO}"
expect_rc 0
check "not recovered" 'o["status"] == "interrupted" and iv["kind"] == "not_recovered" and iv["options"] == ["rollback", "re_analyze", "manual"] and iv["fill_by"] is True'
check "interrupt value" 'iv["checks"] == 2 and iv["last_value"] == 0.5 and "not recovered after 2 checks over 2 s: want every series is below 0.05; last value 0.5" == iv["reason"] and iv["undo"][0]["tool"] == "reduce_traffic" and iv["execution"]["action_id"] == "2"'
n_prom=$(prom_requests)
og resume r1 --db "$DB" --config "$tmp/c3.json" --value '"bogus"' --output json
expect_rc 2
expect_in '"bogus" is not one of the options (rollback, re_analyze, manual)' "$err" "refused answer"
check "asked again" 'o["status"] == "interrupted" and iv["rejected"]["value"]["answer"] == "bogus"'
og resume r1 --db "$DB" --config "$tmp/c3.json" --value '"rollback"' --by bob --output json
expect_rc 0
check "rolled back" 'o["status"] == "done" and v["status"] == "rolled_back" and v["by"] == "bob" and v["rollback"]["status"] == "succeeded"'
check "undo over HTTP" '(lambda e: e["tool"] == "reduce_traffic" and e["http_status"] == 200 and json.loads(json.loads(e["body"])["body"]) == {"percent": 0} and e["undo_of"] == "reduce_traffic")(v["rollback"]["results"][0])'
check "timeline" 'ev == ["not_recovered", "verification_answer", "rollback_finished"]'
expect_in "POST /echo/payment-service/shed" "$(cat "$tmp/web/log")" "the undo reached the gateway"
[ "$(prom_requests)" = "$n_prom" ] && ok || bad "resume queried Prometheus again ($n_prom -> $(prom_requests) requests): the polling must be replayed"

# --- manual --------------------------------------------------------------------------------
og run "$G" --db "$DB" --thread r2 --config "$tmp/c3.json" --output json --input "{\"alert\": $ALERT, \"execution\": $EXEC_UNDO}"
og resume r2 --db "$DB" --config "$tmp/c3.json" --value '{"choice": "manual", "note": "db team paged"}' --by carol --output json
expect_rc 0
check "manual" 'o["status"] == "done" and v["status"] == "manual" and v["note"] == "db team paged" and v["by"] == "carol" and "rollback" not in v'

# --- re_analyze ------------------------------------------------------------------------------
og run "$G" --db "$DB" --thread r3 --config "$tmp/c3.json" --output json --input "{\"alert\": $ALERT, \"execution\": $EXEC_UNDO, \"re_analyses\": 1}"
og resume r3 --db "$DB" --config "$tmp/c3.json" --value '{"choice": "re_analyze", "hint": "look at redis"}' --output json
expect_rc 0
check "re_analyze goes back" 'o["status"] == "done" and ev[-1] == "re_analysis_started" and s["re_analyses"] == 2 and s["operator_hint"] == "look at redis" and s["decision"]["choice"] == "re_analyze" and v["status"] == "re_analyze"'

# --- options: no undo, re-analysis limit reached ------------------------------------------------
og run "$G" --db :memory: --config "$tmp/c3.json" --output json --input "{\"alert\": $ALERT, \"execution\": {\"status\": \"failed\"}, \"re_analyses\": 3}"
check "only manual" 'o["status"] == "interrupted" and iv["options"] == ["manual"] and iv["undo"] == []'

# --- Prometheus failing: the polling ends early ---------------------------------------------
cfg "$tmp/c7.json" '{"query": "down_q", "threshold": 1, "window_s": 30, "interval_s": 1, "max_errors": 2}'
t0=$(date +%s)
og run "$G" --db :memory: --config "$tmp/c7.json" --output json --input "{\"alert\": $ALERT, \"execution\": {}}"
t1=$(date +%s)
check "HTTP 500 twice: stop" 'o["status"] == "interrupted" and iv["checks"] == 2 and "stopped early: 2 queries in a row failed" in iv["reason"] and "HTTP 500" in iv["reason"]'
[ $((t1 - t0)) -lt 10 ] && ok || bad "max_errors: took $((t1 - t0)) s of a 30 s window"
cfg "$tmp/c8.json" "{\"query\": \"stuck_q\", \"threshold\": 1, \"window_s\": 30, \"interval_s\": 1, \"prometheus_url\": \"$CLOSED\"}"
og run "$G" --db :memory: --config "$tmp/c8.json" --output json --input "{\"alert\": $ALERT, \"execution\": {}}"
check "unreachable: 3 failures by default" 'o["status"] == "interrupted" and iv["checks"] == 3 and "(connect)" in iv["reason"]'

# --- cannot verify ------------------------------------------------------------------------------
n_prom=$(prom_requests)
cfg "$tmp/c4.json" '{"window_s": 5}'
og run "$G" --db :memory: --config "$tmp/c4.json" --output json --input "{\"alert\": $ALERT, \"execution\": {}}"
expect_rc 0
check "no query" 'o["status"] == "interrupted" and v == {} and iv["checks"] == 0 and iv["reason"].startswith("cannot verify: no query") and "verify.query" in iv["reason"]'
[ "$(prom_requests)" = "$n_prom" ] && ok || bad "no query: Prometheus was asked anyway"

# --- a malformed config ---------------------------------------------------------------------------
cfg "$tmp/c5.json" '{"query": "stuck_q", "interval_s": 0}'
og run "$G" --db :memory: --config "$tmp/c5.json" --output json --input "{\"alert\": $ALERT, \"execution\": {}}"
expect_rc 1
expect_in 'config services[\"payment-service\"].verify.interval_s = 0 is out of range: give 1 to 60' "$out$err" "bad interval"
cfg "$tmp/c6.json" '{"query": "stuck_q", "treshold": 0.1}'
og run "$G" --db :memory: --config "$tmp/c6.json" --output json --input "{\"alert\": $ALERT, \"execution\": {}}"
expect_rc 1
expect_in 'unknown key \"treshold\"' "$out$err" "typo in a key"

finish
