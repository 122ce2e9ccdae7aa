#!/usr/bin/env bash
# tests/cli/effect_ledger.sh: the effect ledger across a real crash
# (engine/lua/lapi_tools.c, engine/graph/run.c flush_partial,
# nodes/lib/tool_exec.lua, nodes/action_executor.lua), on an LMDB database.
#
# A tool cannot kill opsgraph itself (it runs in its own process group with
# a clean environment), so the test does: opsgraph runs in the background the
# executor graph (tests/nodes/executor/executor.lua) on an action
# [note_tool, crash_tool, note_tool]; crash_tool appends to a count file,
# creates a "started" file and hangs while a "hold" file exists; the test
# waits for "started" (bounded), SIGKILLs opsgraph, then ends the tool.
# Then:
#   * non-idempotent tool: `opsgraph resume` raises effect_unknown (tool,
#     started_at, options rerun/skip) and does not run the tool again;
#     "skip" finishes the action without running it (status partial, the
#     entry "skipped"), the first note_tool is not re-run either;
#   * the same with "rerun": the tool runs a second time, on purpose;
#   * a "rerun" that is itself cut short by a crash: asked again, not repeated;
#   * an idempotent tool: resume re-runs it by itself, no question.
# The count file says how often each tool really ran.
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-ledger.XXXXXX") || exit 2
bg=
toolpid=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
	[ -n "$toolpid" ] && kill -9 -- "-$toolpid" "$toolpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
G=tests/nodes/executor/executor.lua
DB=$tmp/db
CFG=$tmp/cfg.json
echo '{"tools_dir": "tests/nodes/executor/tools"}' >"$CFG"

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
# jq-less checks: check WHAT PYTHON-EXPR over o = the JSON output
check() {
	if printf '%s' "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin); s = o.get("state") or {}; ex = s.get("execution") or {}; r = ex.get("results") or []
ints = o.get("interrupts") or []
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" 2>"$tmp/py.err"; then ok; else
		bad "$1: ($2) is false: $(cat "$tmp/py.err") output: ${out:0:1500}"
	fi
}
count() { wc -l <"$1" 2>/dev/null | tr -d ' '; }

# crash THREAD TOOL: runs the action in the background and kills opsgraph
# while TOOL hangs; sets C (count file) and N (notes file)
crash() {
	local t=$1 tool=$2 d=$tmp/$1
	mkdir -p "$d"
	C=$d/count N=$d/notes
	: >"$d/hold"
	"$OPSGRAPH" run "$G" --db "$DB" --thread "$t" --config "$CFG" --output json --input "{
	  \"alert\": {\"service\": \"payment-service\"}, \"decision\": {\"choice\": \"1\"},
	  \"plan\": {\"actions\": [{\"id\": \"1\", \"title\": \"crash\", \"tools\": [
	    {\"name\": \"note_tool\", \"args\": {\"file\": \"$N\", \"word\": \"first\"}},
	    {\"name\": \"$tool\", \"args\": {\"count\": \"$C\", \"started\": \"$d/started\", \"hold\": \"$d/hold\"}},
	    {\"name\": \"note_tool\", \"args\": {\"file\": \"$N\", \"word\": \"last\"}}]}]}}" \
		>"$d/run.out" 2>"$d/run.err" &
	bg=$!
	for _ in $(seq 200); do
		[ -e "$d/started" ] && break
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -e "$d/started" ]; then
		bad "$t: $tool never started: $(cat "$d/run.out" "$d/run.err")"
		finish
	fi
	kill -9 "$bg"
	wait "$bg" 2>/dev/null
	bg=
	# the tool outlives opsgraph (its own process group): end it
	toolpid=$(cat "$d/started.pid")
	kill -9 -- "-$toolpid" 2>/dev/null || kill -9 "$toolpid" 2>/dev/null
	toolpid=
	rm -f "$d/hold"
	[ "$(count "$C")" = 1 ] && ok || bad "$t: $tool ran $(count "$C") times before the crash, want 1"
	[ "$(count "$N")" = 1 ] && ok || bad "$t: note_tool ran $(count "$N") times before the crash, want 1"
}

# --- a non-idempotent tool: ask, then skip -----------------------------------------
crash t1 crash_tool
og state t1 --db "$DB" --output json
expect_in '"tool_start"' "$out$err" "the tool's start is in the store"
og resume t1 --db "$DB" --config "$CFG" --output json
expect_rc 0
check "effect_unknown interrupt" 'o["status"] == "interrupted" and len(ints) == 1 and ints[0]["value"]["kind"] == "effect_unknown"'
check "interrupt value" '(lambda v: v["tool"] == "crash_tool" and v["options"] == ["rerun", "skip"] and v["started_at"].startswith("20") and v["action_id"] == "1" and v["args"]["count"].endswith("/count"))(ints[0]["value"])'
[ "$(count "$C")" = 1 ] && ok || bad "t1: resume ran crash_tool again ($(count "$C") runs)"
expect_in "started at" "$err" "the node logs the unknown outcome"
og resume t1 --db "$DB" --config "$CFG" --value '"skip"' --output json
expect_rc 0
check "skip: done" 'o["status"] == "done" and ex["status"] == "partial" and [x["status"] for x in r] == ["succeeded", "skipped", "succeeded"]'
check "skip: recorded" 'r[1]["unknown_outcome_started_at"].startswith("20") and "operator chose skip" in r[1]["error"]'
[ "$(count "$C")" = 1 ] && ok || bad "t1: skip ran crash_tool ($(count "$C") runs)"
[ "$(cat "$N" | tr '\n' ' ')" = "first last " ] && ok || bad "t1: notes '$(cat "$N" | tr '\n' ' ')', want 'first last ' (the first tool must not re-run)"

# --- the same, "rerun" -------------------------------------------------------------------
crash t2 crash_tool
og resume t2 --db "$DB" --config "$CFG" --output json
check "t2 asks" 'o["status"] == "interrupted" and ints[0]["value"]["kind"] == "effect_unknown"'
og resume t2 --db "$DB" --config "$CFG" --value '"rerun"' --output json
expect_rc 0
check "rerun: done" 'o["status"] == "done" and ex["status"] == "succeeded" and r[1]["rerun"] == "operator" and r[1]["stdout"] == "finished\n"'
[ "$(count "$C")" = 2 ] && ok || bad "t2: after rerun crash_tool ran $(count "$C") times, want 2"
og resume t2 --db "$DB" --config "$CFG" --output json
[ "$(count "$C")" = 2 ] && ok || bad "t2: a resume of the finished thread ran the tool again"

# --- the operator's re-run is cut short too: asked again, not repeated --------------------
crash t4 crash_tool
d=$tmp/t4
og resume t4 --db "$DB" --config "$CFG" --output json
check "t4 asks" 'o["status"] == "interrupted" and ints[0]["value"]["kind"] == "effect_unknown"'
first_start=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["interrupts"][0]["value"]["started_at"])')
: >"$d/hold"
rm -f "$d/started"
"$OPSGRAPH" resume t4 --db "$DB" --config "$CFG" --value '"rerun"' --output json >"$d/rerun.out" 2>"$d/rerun.err" &
bg=$!
for _ in $(seq 200); do
	[ -e "$d/started" ] && break
	kill -0 "$bg" 2>/dev/null || break
	sleep 0.05
done
if [ -e "$d/started" ]; then ok; else bad "t4: the re-run never started: $(cat "$d/rerun.out" "$d/rerun.err")"; fi
kill -9 "$bg"; wait "$bg" 2>/dev/null; bg=
toolpid=$(cat "$d/started.pid"); kill -9 -- "-$toolpid" 2>/dev/null || kill -9 "$toolpid" 2>/dev/null; toolpid=
rm -f "$d/hold"
[ "$(count "$C")" = 2 ] && ok || bad "t4: crash_tool ran $(count "$C") times, want 2 (cut short twice)"
og resume t4 --db "$DB" --config "$CFG" --output json
expect_rc 0
check "t4 asks again about the re-run" 'o["status"] == "interrupted" and ints[0]["value"]["kind"] == "effect_unknown" and ints[0]["value"]["started_at"] != "'"$first_start"'"'
[ "$(count "$C")" = 2 ] && ok || bad "t4: the cut-short re-run was repeated without asking ($(count "$C") runs)"
og resume t4 --db "$DB" --config "$CFG" --value '"skip"' --output json
expect_rc 0
check "t4 skip" 'o["status"] == "done" and r[1]["status"] == "skipped" and r[1]["unknown_outcome_started_at"] != "'"$first_start"'"'
[ "$(count "$C")" = 2 ] && ok || bad "t4: skip ran the tool ($(count "$C") runs)"

# --- an idempotent tool is re-run without a question ----------------------------------------
crash t3 crash_idem_tool
og resume t3 --db "$DB" --config "$CFG" --output json
expect_rc 0
check "idempotent: done, no interrupt" 'o["status"] == "done" and ints == [] and ex["status"] == "succeeded" and r[1]["rerun"] == "idempotent"'
[ "$(count "$C")" = 2 ] && ok || bad "t3: crash_idem_tool ran $(count "$C") times, want 2 (once cut short, once re-run)"
[ "$(cat "$N" | tr '\n' ' ')" = "first last " ] && ok || bad "t3: notes '$(cat "$N" | tr '\n' ' ')'"

finish
