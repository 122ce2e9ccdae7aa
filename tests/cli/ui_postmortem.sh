#!/usr/bin/env bash
# tests/cli/ui_postmortem.sh: the Postmortem page (ui-static/js/postmortem.js)
# in headless Chromium (as tests/cli/ui_browser.sh: Debian's chromium driven
# by playwright-core), against a real `opsgraph serve` on 127.0.0.1 with
# auth on, over a finished thread of tests/graphs/diff_state.lua
# (collect -> analyze -> act on a nested state), and of graphs/incident.lua
# (a second server on the same database, rooted at the project) waiting for
# its decision.
#
# The browser part is tests/browser/postmortem.test.mjs (what it checks is
# listed at its top): the timeline, the diff of two picked checkpoints, a
# fork from a checkpoint with an edited update (refused until the operator
# logs in), the branch run, the branch tree and the side-by-side compare.
# Afterwards the fork is checked over the API: its checkpoint's parent, the
# edited value, and the branch's outcome. Screenshots go to
# $BUILD/test-artifacts/ui/ (build/rel unless BUILD is set).
# Skipped, with the reason, when chromium, node or playwright-core is missing.
#   OPSGRAPH=$PWD/bin/opsgraph bash tests/cli/ui_postmortem.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
skip() {
	echo "ui_postmortem: skipped: $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}
[ -x "$CHROMIUM" ] || skip "no $CHROMIUM (run scripts/install-browser-tools.sh)"
command -v node >/dev/null || skip "no node (run scripts/install-browser-tools.sh)"
[ -f tests/browser/node_modules/playwright-core/package.json ] ||
	skip "no playwright-core in tests/browser/node_modules (run scripts/install-browser-tools.sh)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-uipm.XXXXXX") || exit 2
ART=${BUILD:-build/rel}/test-artifacts/ui
mkdir -p "$ART"
og= og2=
stop() {
	[ -n "$1" ] || return
	kill "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	stop "$og"
	stop "$og2"
	rm -rf "$tmp"
}
trap cleanup EXIT

# a project root with the UI and the one graph
mkdir -p "$tmp/root/graphs"
cp -r ui-static "$tmp/root/ui-static"
cp tests/graphs/diff_state.lua "$tmp/root/graphs/"
TOKEN=$("$OPSGRAPH" token create ops-alice --db "$tmp/db" 2>"$tmp/tok.err") || { bad "token create: $(cat "$tmp/tok.err")"; finish; }
BOT=$("$OPSGRAPH" token create ci-bot --db "$tmp/db" 2>"$tmp/tok.err") || { bad "token create: $(cat "$tmp/tok.err")"; finish; }
# serve_on LOG ARGS...: starts a server on the shared database; sets pid and url
serve_on() {
	local log=$1
	shift
	"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$tmp/db" --workers 2 --grace 2 "$@" 2>"$log" &
	pid=$!
	url=
	for _ in $(seq 100); do
		url=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | sed 's/listening on //')
		[ -n "$url" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$url" ] || { bad "opsgraph serve did not start: $(cat "$log")"; finish; }
	ok
}
serve_on "$tmp/serve.log" --root "$tmp/root"
og=$pid BASE=$url
# the incident graph, on the same database (the session cookie is the same
# host's): the project root, the example config without observability
# servers (their URLs point at a closed port) and without an LLM
CLOSED="http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
python3 - "$CLOSED" "$tmp/incident.json" <<'PY'
import json, re, sys
closed, out = sys.argv[1:3]
text = open("config/opsgraph.example.json").read()
cfg = json.loads(re.sub(r'"http://127\.0\.0\.1:\d+', '"' + closed, text))
cfg["llm"]["roles"]["rca"]["enabled"] = False
json.dump(cfg, open(out, "w"))
PY
serve_on "$tmp/serve2.log" --root "$PWD" --config "$tmp/incident.json"
og2=$pid INC_BASE=$url
curl -s -m 15 -c "$tmp/bot.jar" -o "$tmp/login" -H 'Content-Type: application/json' \
	--data-binary "{\"token\": \"$BOT\"}" "$BASE/api/login"
CSRF=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$tmp/login" 2>/dev/null)
[ -n "$CSRF" ] && ok || bad "login as ci-bot: $(cat "$tmp/login")"
req() {
	if [ -n "${3-}" ]; then
		code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
			-b "$tmp/bot.jar" -H "X-CSRF-Token: $CSRF" --data-binary "$3" "$BASE$2")
	else
		code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X "$1" "$BASE$2")
	fi
	body=$(cat "$tmp/body" 2>/dev/null)
}
py() { printf '%s' "$body" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" 2>&1; }

# ---- the report's timeline, in node (reportTimeline is a pure function) --------------
# A decision reads as its choice, not the stored answer object; a tool sits at
# its own start (ms) among the steps, before the resolution: whole-second
# times sorted as strings went after every ms time of the same second.
out=$(node --input-type=module -e '
const { reportTimeline } = await import(process.argv[1]);
const tl = reportTimeline({
  steps: [{ checkpoint: 9, step: 6, nodes: ["action_executor"], status: "running",
            started_at: "2026-11-24T10:00:01.100Z", ended_at: "2026-11-24T10:00:01.400Z", duration_ms: 300 },
          { checkpoint: 10, step: 7, nodes: ["verify_recovery"], status: "done",
            started_at: "2026-11-24T10:00:01.400Z", ended_at: "2026-11-24T10:00:01.402Z", duration_ms: 2 }],
  decisions: [{ at: "2026-11-24T10:00:01.000Z", by: "alice", node: "human_decision",
                answer: { answer: "1", by: "alice" }, choice: "1" }],
  executions: [{ started_at: "2026-11-24T10:00:01Z", results: [{ tool: "restart_service", status: "succeeded",
                 exit_code: 0, duration_ms: 250, started_at: "2026-11-24T10:00:01.120Z" }] }],
  resolution: { status: "done", outcome: "recovered", source: "verify_recovery", at: "2026-11-24T10:00:01.402Z" },
});
console.log(tl.map((i) => i.kind + ":" + i.text).join(" | "));
' "$PWD/ui-static/js/postmortem.js" 2>&1)
if [ "$out" = "decision:alice answered 1 at human_decision | tool:restart_service: succeeded | step:step 6: action_executor | step:step 7: verify_recovery | resolution:done recovered" ]; then
	ok
else
	bad "reportTimeline: got '$out'"
fi

# ---- the key figures, in node: a replayed alert is 361 days old by its startsAt and
# 1.3 s by opsgraph's receipt; both are shown, each named
out=$(node --input-type=module -e '
const { figuresHtml } = await import(process.argv[1]);
const h = figuresHtml({ metrics: { time_to_acknowledge_s: 31224960, time_to_acknowledge_from_received_s: 1.3,
  time_to_resolve_s: null, time_to_resolve_from_received_s: 95, acknowledged_by: "alice", resolved_at: null },
  root_cause: { root_cause: "pool <exhausted>", confidence: 0.85 } }, "am-1");
const pick = (k) => (h.match(new RegExp(`data-k="${k}">([^<]*)<`)) || [])[1];
console.log([pick("tta-received"), pick("tta-started"), pick("ttr-received"), pick("ttr-started")].join(" | "),
  h.includes("by alice"), h.includes("pool &lt;exhausted&gt;"), h.includes("(not resolved)"),
  h.includes("/api/threads/am-1/postmortem?format=md"));
' "$PWD/ui-static/js/postmortem.js" 2>&1)
if [ "$out" = "1.3 s | 361.4 days | 95.0 s | – true true true true" ]; then
	ok
else
	bad "figuresHtml: got '$out'"
fi

# ---- a finished thread -------------------------------------------------------------
req POST /api/runs '{"graph": "diff_state", "input": {"service": "api"}, "thread_id": "pm-1"}'
[ "$code" = 202 ] && ok || bad "POST /api/runs: HTTP $code $body"
s=
for _ in $(seq 100); do
	req GET /api/threads/pm-1
	s=$(py 'j["status"]')
	[ "$s" = done ] && break
	sleep 0.1
done
[ "$s" = done ] && ok || bad "thread pm-1: status '$s', want done"

# ---- an incident waiting for its decision ---------------------------------------------
code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -b "$tmp/bot.jar" \
	-H "X-CSRF-Token: $CSRF" --data-binary '{"graph": "incident", "thread_id": "inc-1", "input": {"trigger":
	{"service": "payment-service", "time": "2026-11-24T19:30:00Z"}}}' "$INC_BASE/api/runs")
[ "$code" = 202 ] && ok || bad "POST /api/runs incident: HTTP $code $(cat "$tmp/body")"
for _ in $(seq 150); do
	req GET /api/threads/inc-1
	s=$(py 'j["status"]')
	[ "$s" = interrupted ] && break
	sleep 0.2
done
[ "$s" = interrupted ] && ok || bad "thread inc-1: status '$s', want interrupted; $(tail -3 "$tmp/serve2.log")"

# ---- the browser ---------------------------------------------------------------------
OG_TOKEN=$TOKEN OG_OPERATOR=ops-alice OG_INCIDENT_BASE=$INC_BASE OG_INCIDENT=inc-1 \
	timeout 90 node tests/browser/postmortem.test.mjs "$BASE" pm-1 "$ART" \
	>"$tmp/browser.out" 2>&1
brc=$?
cat "$tmp/browser.out"
p=$(grep -c '^ok ' "$tmp/browser.out"); f=$(grep -c '^FAIL' "$tmp/browser.out")
pass=$((pass + p)); fail=$((fail + f))
[ "$brc" -ne 0 ] && [ "$f" -eq 0 ] && bad "tests/browser/postmortem.test.mjs exited $brc"
[ "$p" -lt 10 ] && bad "only $p browser checks passed"

# ---- the fork, seen over the API -----------------------------------------------------------
req GET "/api/threads/pm-1/history?limit=100"
[ "$(py '[(r["parent_id"], r["source"]) for r in j["history"] if r["source"] == "fork"]')" = "[(2, 'fork')]" ] && ok ||
	bad "fork checkpoint: $(py '[(r["id"], r["parent_id"], r["source"]) for r in j["history"]]')"
req GET /api/threads/pm-1
[ "$(py 'j["status"], j["state"]["rca"]["cause"], j["state"]["context"]["metrics"][0]["value"]')" = "done none 40" ] && ok ||
	bad "the branch's end: $(py 'j["status"], j["state"]')"
req GET /api/threads/inc-1
[ "$(py 'j["status"], j["state"]["operator_hint"]')" = "interrupted look at the most recent deploy first" ] && ok ||
	bad "the re-analysis branch of inc-1: $(py 'j["status"], j["state"].get("operator_hint")')"
finish
