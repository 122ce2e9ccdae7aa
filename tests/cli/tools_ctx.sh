#!/usr/bin/env bash
# tests/cli/tools_ctx.sh: ctx.tools.run from node code, through the real
# binary, with a config of small tools (tests/nodes/tools/*.lua).
#
# Covered: a command tool with a placeholder (the value, spaces and ';'
# included, is one argv element: no shell), stdout/stderr/exit code, a
# failing tool is a result, the timeout (timeout_s 1 on `sleep 30`), a
# command that does not exist (127); argument errors that raise: missing
# placeholder value, unknown tool (names the known ones), an http tool
# (connection refused is a result; tests/cli/nodes_executor.sh has the rest),
# wrong value type, NUL byte; and the journal: a node runs a tool that
# appends a line to a file, then og.interrupt; after `opsgraph resume` the
# node ran twice but the file holds one line, and the re-run got the result.
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-tools.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
CFG=$tmp/config.json
G=tests/nodes/tools/run_tools.lua

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}

cat >"$CFG" <<'JSON'
{"tools": {
  "echo_tool":   {"name": "echo_tool", "timeout_s": 10, "command": ["echo", "restart", "{service}"]},
  "fail_tool":   {"name": "fail_tool", "command": ["sh", "-c", "echo oops >&2; exit \"$1\"", "sh", "{code}"]},
  "slow_tool":   {"name": "slow_tool", "timeout_s": 1, "command": ["sleep", "{seconds}"]},
  "missing_cmd": {"name": "missing_cmd", "command": ["no-such-command-og"]},
  "web_tool":    {"name": "web_tool", "http": {"method": "GET", "url": "http://127.0.0.1:1/"}},
  "append_tool": {"name": "append_tool", "timeout_s": 5, "command": ["sh", "-c", "echo x >> \"$1\"", "sh", "{file}"]}
}}
JSON

# --- results ----------------------------------------------------------------
og run "$G" --db :memory: --config "$CFG" --output json
expect_rc 0
printf '%s' "$out" >"$tmp/run.json"
python3 - "$tmp/run.json" >"$tmp/checks" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["state"]["r"]
e = r["echo"]
print("ok" if e["stdout"] == "restart api gateway; rm -rf /\n" else "FAIL stdout %r" % e)
print("ok" if e["exit_code"] == 0 and e["signal"] == 0 and e["timed_out"] is False and e["truncated"] is False else "FAIL status %r" % e)
print("ok" if e["argv"] == ["echo", "restart", "api gateway; rm -rf /"] and e["stderr"] == "" and e["dur"] == "integer" else "FAIL argv %r" % e)
print("ok" if r["fail"] == {"exit_code": 3, "stderr": "oops\n"} else "FAIL failing tool %r" % r["fail"])
s = r["slow"]
print("ok" if s["timed_out"] is True and s["signal"] == 15 and s["exit_code"] == -1 and s["fast"] else "FAIL timeout %r" % s)
m = r["missing"]
print("ok" if m["exit_code"] == 127 and "command not found" in m["stderr"] else "FAIL missing command %r" % m)
PY
while read -r verdict rest; do
	if [ "$verdict" = ok ]; then ok; else bad "results: $verdict $rest"; fi
done <"$tmp/checks"

# --- argument errors raise -------------------------------------------------
og run "$G" --db :memory: --config "$CFG" --input '{"mode": "no_placeholder"}' --output json
expect_rc 1
expect_in "tool 'echo_tool': command[3] \"{service}\" needs args.service, which is missing" "$out$err" "missing placeholder"
og run "$G" --db :memory: --config "$CFG" --input '{"mode": "unknown"}' --output json
expect_rc 1
expect_in "ctx.tools.run: no tool 'nope_tool' in the registry (known: append_tool, echo_tool, fail_tool, missing_cmd, slow_tool, web_tool)" "$out$err" "unknown tool"
og run "$G" --db :memory: --input '{"mode": "unknown"}' --output json
expect_rc 1
expect_in "no tool 'nope_tool' in the registry (known: check_health, clear_cache," "$out$err" "no config: the shipped registry"
og run "$G" --db :memory: --config "$CFG" --input '{"mode": "http_tool"}' --output json
expect_rc 0
expect_in '"http":{"error_kind":"connect","kind":"http","method":"GET","status":0,"url":"http://127.0.0.1:1/"}' "$out" "http tool (refused: a result, not an error)"
og run "$G" --db :memory: --config "$CFG" --input '{"mode": "bad_type"}' --output json
expect_rc 1
expect_in "args.service must be a string, number or boolean (got table)" "$out$err" "bad type"
og run "$G" --db :memory: --config "$CFG" --input '{"mode": "nul"}' --output json
expect_rc 1
expect_in "args.service contains a NUL byte" "$out$err" "NUL byte"

# --- the journal: the tool runs once across interrupt + resume --------------
DB=$tmp/db
F=$tmp/effects/ledger.txt
mkdir -p "$tmp/effects"
og run tests/nodes/tools/journal.lua --db "$DB" --thread t1 --config "$CFG" --input "{\"file\": \"$F\"}" --output json
expect_rc 0
expect_in '"status":"interrupted"' "$out" "first run"
[ "$(wc -l <"$F" 2>/dev/null)" = 1 ] && ok || bad "before resume: $F has $(wc -l <"$F" 2>/dev/null) lines"
og state t1 --db "$DB" --output json
expect_in '"k":"tool"' "$out" "journal in the checkpoint"
og resume t1 --db "$DB" --config "$CFG" --value '"go"' --output json
expect_rc 0
expect_in '"status":"done"' "$out" "resume"
expect_in '"answer":"go"' "$out" "resume value"
expect_in "\"argv\":[\"sh\",\"-c\",\"echo x >> \\\"\$1\\\"\",\"sh\",\"$F\"]" "$out" "replayed argv"
[ "$(wc -l <"$F")" = 1 ] && ok || bad "after resume: $F has $(wc -l <"$F") lines, want exactly 1"

finish
