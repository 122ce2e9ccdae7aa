#!/usr/bin/env bash
# tests/cli/nodes_executor.sh: nodes/action_executor.lua through the real
# binary, with the test registry tests/nodes/executor/tools (config
# "tools_dir") and tests/tools/http_server.py for the HTTP tool.
#
# Covered: a chain that succeeds (exit codes, stdout, durations, timeline,
# undo list newest first, summary logged); a failure stops the chain (the
# tools after it are "not_run" and did not act); continue_on_failure runs on
# ("partial"); a tool past its timeout; an HTTP tool whose placeholder base
# URL is replaced by config tool_overrides.base_url, with its body typed
# ("{percent}" -> the number 30) and its header filled, an HTTP 500 from
# it, and its timeout (timeout_s overridden); the checks before anything runs (args against the tool's params,
# a choice that names no action, a decision on another plan, an unknown
# tool): "rejected" and nothing acted; a non-action choice is "skipped".
# The crash between a tool's start and its result: tests/cli/effect_ledger.sh.
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-exec.XXXXXX") || exit 2
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
G=tests/nodes/executor/executor.lua
N=$tmp/notes.txt

start_server "HTTP test server" tests/tools/http_server.py "$tmp"
cat >"$tmp/cfg.json" <<JSON
{"tools_dir": "tests/nodes/executor/tools", "tool_overrides": {"web_tool": {"base_url": "$BASE"}}}
JSON

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
# run_plan CHOICE TOOLS_JSON [DECISION_EXTRA]: one action "1" (and "2": note_tool) with these tools
run_plan() {
	og run "$G" --db :memory: --config "$tmp/cfg.json" --output json --input "{
	  \"alert\": {\"service\": \"payment-service\"},
	  \"decision\": {\"choice\": \"$1\", \"by\": \"alice\"${3:-}},
	  \"plan\": {\"hash\": \"fnv1a64:00000000000000aa\", \"actions\": [
	    {\"id\": \"1\", \"title\": \"the action\", \"tools\": $2},
	    {\"id\": \"2\", \"title\": \"other\", \"tools\": [{\"name\": \"note_tool\", \"args\": {\"file\": \"$N\", \"word\": \"two\"}}]}]}}"
}
# check WHAT PYTHON-EXPR: evaluated with s = the run's state, ex = s["execution"], r = ex["results"]
check() {
	if printf '%s' "$out" | python3 -c '
import json, sys
s = json.load(sys.stdin)["state"]; ex = s.get("execution") or {}; r = ex.get("results") or []
ev = [t["event"] for t in s.get("timeline") or []]
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" 2>"$tmp/py.err"; then ok; else
		bad "$1: ($2) is false or failed: $(cat "$tmp/py.err"); execution: $(printf '%s' "$out" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["state"].get("execution"))[:1500])' 2>&1)"
	fi
}
note() { printf '{"name": "note_tool", "args": {"file": "%s", "word": "%s"}%s}' "$N" "$1" "${2:-}"; }
lines() { cat "$N" 2>/dev/null | tr '\n' ' '; }

# --- success ------------------------------------------------------------------
: >"$N"
run_plan 1 "[$(note alpha), $(note beta)]"
expect_rc 0
check "status" 'ex["status"] == "succeeded" and ex["action_id"] == "1" and ex["title"] == "the action" and ex["by"] == "alice"'
check "results" '[x["tool"] for x in r] == ["note_tool", "note_tool"] and all(x["status"] == "succeeded" and x["exit_code"] == 0 for x in r)'
check "stdout/duration/times" 'r[1]["stdout"] == "noted beta\n" and r[1]["stderr"] == "" and isinstance(r[1]["duration_ms"], int) and r[0]["started_at"] <= r[0]["ended_at"] <= r[1]["started_at"]'
check "undo newest first" '[u["args"]["word"] for u in ex["undo"]] == ["undo-beta", "undo-alpha"] and ex["undo"][0]["of"] == "note_tool"'
check "timeline" 'ev == ["execution_started", "tool_succeeded", "tool_succeeded", "execution_finished"]'
check "summary" 'ex["summary"].startswith("payment-service: action 1 \"the action\" succeeded: note_tool succeeded") and ex["notified"]["via"] == "log"'
[ "$(lines)" = "alpha beta " ] && ok || bad "success: $N holds '$(lines)', want 'alpha beta '"
expect_in '"msg":"payment-service: action 1 \"the action\" succeeded' "$err" "summary logged"

# --- a failure stops the chain --------------------------------------------------
: >"$N"
run_plan 1 "[$(note alpha), {\"name\": \"fail_tool\", \"args\": {\"code\": 3}}, $(note gamma)]"
expect_rc 0
check "failed" 'ex["status"] == "failed" and [x["status"] for x in r] == ["succeeded", "failed", "not_run"]'
check "exit code and stderr" 'r[1]["exit_code"] == 3 and r[1]["stderr"] == "failing with 3\n" and r[1]["error"] == "exit code 3"'
check "only the acted tool has an undo" '[u["args"]["word"] for u in ex["undo"]] == ["undo-alpha"]'
check "timeline of a failure" 'ev == ["execution_started", "tool_succeeded", "tool_failed", "execution_finished"]'
[ "$(lines)" = "alpha " ] && ok || bad "failure: $N holds '$(lines)': the tool after the failure ran"
expect_in '"level":"warn"' "$err" "a failed action is logged as a warning"

# --- continue_on_failure ----------------------------------------------------------
: >"$N"
run_plan 1 "[{\"name\": \"fail_tool\", \"args\": {\"code\": 4}, \"continue_on_failure\": true}, $(note delta)]"
expect_rc 0
check "partial" 'ex["status"] == "partial" and [x["status"] for x in r] == ["failed", "succeeded"] and r[0]["continue_on_failure"] is True'
[ "$(lines)" = "delta " ] && ok || bad "continue_on_failure: $N holds '$(lines)'"

# --- timeout ------------------------------------------------------------------------
t0=$(date +%s)
run_plan 1 "[{\"name\": \"slow_tool\", \"args\": {\"seconds\": 30}}, $(note late)]"
t1=$(date +%s)
expect_rc 0
check "timed out" 'ex["status"] == "failed" and r[0]["status"] == "timed_out" and r[0]["timed_out"] is True and r[0]["error"] and r[1]["status"] == "not_run"'
check "timeout took about 1 s" 'r[0]["duration_ms"] < 5000 and r[0]["duration_ms"] >= 900'
[ $((t1 - t0)) -lt 10 ] && ok || bad "timeout: the run took $((t1 - t0)) s"

# --- HTTP tool ------------------------------------------------------------------------
: >"$tmp/log"
run_plan 1 "[{\"name\": \"web_tool\", \"args\": {\"service\": \"payment-service\", \"percent\": 30}}]"
expect_rc 0
check "http status" 'ex["status"] == "succeeded" and r[0]["kind"] == "http" and r[0]["http_status"] == 200 and r[0]["method"] == "POST"'
check "override base_url" 'r[0]["url"] == "'"$BASE"'/echo/payment-service"'
check "typed JSON body" 'json.loads(json.loads(r[0]["body"])["body"]) == {"percent": 30, "reason": "shed payment-service"}'
check "headers" 'json.loads(r[0]["body"])["headers"]["x-reason"] == "opsgraph payment-service" and json.loads(r[0]["body"])["headers"]["content-type"] == "application/json"'
check "http undo" 'ex["undo"] == [{"tool": "web_tool", "args": {"service": "payment-service", "percent": 0}, "of": "web_tool"}]'
expect_in "POST /echo/payment-service" "$(cat "$tmp/log")" "the server got the request"
# an HTTP error status is a failed tool
cat >"$tmp/cfg500.json" <<JSON
{"tools_dir": "tests/nodes/executor/tools", "tool_overrides": {"web_tool": {"url": "$BASE/status/500"}}}
JSON
cp "$tmp/cfg.json" "$tmp/cfg.keep" && cp "$tmp/cfg500.json" "$tmp/cfg.json"
run_plan 1 "[{\"name\": \"web_tool\", \"args\": {\"service\": \"payment-service\", \"percent\": 30}}, $(note after500)]"
cp "$tmp/cfg.keep" "$tmp/cfg.json"
expect_rc 0
check "http 500" 'ex["status"] == "failed" and r[0]["http_status"] == 500 and r[0]["error"] == "HTTP status 500" and r[1]["status"] == "not_run"'

# an HTTP tool past its timeout (timeout_s overridden per environment)
cat >"$tmp/cfg.json" <<JSON
{"tools_dir": "tests/nodes/executor/tools", "tool_overrides": {"web_tool": {"url": "$BASE/slow", "timeout_s": 1}}}
JSON
run_plan 1 "[{\"name\": \"web_tool\", \"args\": {\"service\": \"payment-service\", \"percent\": 30}}]"
cp "$tmp/cfg.keep" "$tmp/cfg.json"
expect_rc 0
check "http timeout" 'ex["status"] == "failed" and r[0]["status"] == "timed_out" and r[0]["error_kind"] == "timeout" and r[0]["duration_ms"] < 2500'
check "a timed-out tool may have acted: its undo is offered" 'len(ex["undo"]) == 1'

# --- checked before anything runs ------------------------------------------------------
: >"$N"
run_plan 1 "[$(note alpha), {\"name\": \"fail_tool\", \"args\": {\"code\": 300}}]"
expect_rc 0
check "bad args: rejected" 'ex["status"] == "rejected" and r == [] and any("tool 2 (fail_tool): args are not valid" in e and "code" in e for e in ex["errors"])'
[ "$(lines)" = "" ] && ok || bad "bad args: $N holds '$(lines)': a tool ran before the check"
run_plan 1 "[$(note alpha), {\"name\": \"no_such_tool\", \"args\": {}}]"
check "unknown tool: rejected" 'ex["status"] == "rejected" and any("unknown tool '"'no_such_tool'"'" in e for e in ex["errors"])'
run_plan 3 "[$(note alpha)]"
check "choice not in the plan" 'ex["status"] == "rejected" and "decision.choice \"3\" names no action of the plan (plan.actions has 2)" in ex["errors"][0]'
run_plan 1 "[$(note alpha)]" ', "plan_hash": "fnv1a64:00000000000000bb"'
check "decision on another plan" 'ex["status"] == "rejected" and "taken on plan fnv1a64:00000000000000bb but the plan is now fnv1a64:00000000000000aa" in ex["errors"][0]'
run_plan 2 "[$(note alpha)]" ', "plan_hash": "fnv1a64:00000000000000aa"'
check "the chosen action runs, not another" 'ex["status"] == "succeeded" and r[0]["args"]["word"] == "two"'
[ "$(lines)" = "two " ] && ok || bad "choice 2: $N holds '$(lines)'"
run_plan manual "[$(note alpha)]"
check "manual: skipped" 'ex["status"] == "skipped" and r == []'
[ "$(lines)" = "two " ] && ok || bad "rejected/skipped runs acted: $N holds '$(lines)'"

finish
