#!/usr/bin/env bash
# tests/cli/otlp_export.sh: config `otlp` exports each run as an OTLP/HTTP
# JSON trace (engine/cli/cli_trace.c, engine/net/otlp.c) to
# tests/tools/fake_otlp.py, a fake collector on 127.0.0.1 (a free port)
# that logs every request; the LLM is tests/tools/fake_llm.py, as in
# llm_chain.sh.
#
# Covered: the incident graph up to its decision is one trace: POST
# /v1/traces, application/json, the config's headers, resource service.name;
# a root span "run incident" and one span per node task under it, with node,
# step, task id and the checkpoint its step was saved in (checked against
# the history); one LLM child span "chat ok" under root_cause_analyzer with
# the GenAI attributes (system, request and response model, input/output
# tokens as in the usage log, operation chat) and kind CLIENT; trace id
# = SHA-256(thread, first checkpoint) cut to 16 bytes, 32 and 16 lowercase
# hex digits, unique span ids, every parent present, times ordered (children
# inside their parent, tasks in step order). A tools graph: one span per
# tool execution under its node (exit code; a failing tool has error
# status). A failing node: error status on its span and on the root. A
# resume is a trace of its own. A fork (no step) exports nothing. A
# collector that is down: the run is done anyway and the failure is logged.
# A bad otlp config: exit 2 naming the key. A run started over HTTP
# (`opsgraph serve`, whose jobs use the same session) is exported too; a
# bad otlp block stops the server at start.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-otlp.XXXXXX") || exit 2
llm=
srv=
og_srv=
cleanup() {
	[ -n "$og_srv" ] && kill "$og_srv" 2>/dev/null && wait "$og_srv" 2>/dev/null
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	[ -n "$llm" ] && kill "$llm" 2>/dev/null && wait "$llm" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
DB=$tmp/db

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
nexp() { if [ -f "$tmp/otlp/log" ]; then wc -l <"$tmp/otlp/log" | tr -d ' '; else echo 0; fi; }

mkdir -p "$tmp/llm" "$tmp/otlp"
start_server "fake LLM server" tests/tools/fake_llm.py "$tmp/llm"
llm=$srv
LLM=$BASE
start_server "fake OTLP collector" tests/tools/fake_otlp.py "$tmp/otlp"
OTLP=$BASE

# the example config: no observability server, role rca on the fake LLM,
# the tools of tests/graphs/otlp_tools.lua, otlp to the fake collector
python3 - "$LLM" "$CLOSED" "$OTLP" "$tmp" <<'PY'
import json, re, sys
llm, closed, otlp, tmp = sys.argv[1:5]
text = open("config/opsgraph.example.json").read()
text = re.sub(r'"http://127\.0\.0\.1:\d+', '"' + closed, text)
cfg = json.loads(text)
cfg["llm"]["roles"]["rca"]["enabled"] = True
cfg["llm"]["roles"]["rca"]["chain"] = [{"provider": "ollama", "model": "ok"}]
cfg["llm"]["providers"]["ollama"]["base_url"] = llm
cfg["otlp"] = {"endpoint": otlp + "/", "headers": {"x-otlp-token": "tok-123"}, "timeout_ms": 2000}
json.dump(cfg, open(tmp + "/cfg.json", "w"))
tools = {"otlp": cfg["otlp"], "tools": {
    "echo_tool": {"name": "echo_tool", "command": ["echo", "restart", "{service}"]},
    "fail_tool": {"name": "fail_tool", "command": ["sh", "-c", "exit \"$1\"", "sh", "{code}"]}}}
json.dump(tools, open(tmp + "/tools.json", "w"))
down = dict(tools, otlp={"endpoint": closed, "timeout_ms": 1000})
json.dump(down, open(tmp + "/down.json", "w"))
json.dump(dict(tools, otlp={"endpoint": "ftp://127.0.0.1:4318"}), open(tmp + "/bad.json", "w"))
json.dump(dict(tools, otlp={"endpoint": otlp, "headers": {"x": 1}}), open(tmp + "/badh.json", "w"))
PY

# check N THREAD EXPR...: python checks over the N-th export (1-based);
# spans by name in `by`, every span in `spans`; prints FAIL lines
check() {
	local n=$1 thread=$2; shift 2
	og history "$thread" --output json --db "$DB"
	printf '%s' "$out" >"$tmp/hist.json"
	python3 - "$tmp/otlp/log" "$n" "$tmp/hist.json" "$tmp/llmlog.json" "$@" <<'PY' >"$tmp/checks" 2>&1
import hashlib, json, re, sys
log, n, hist_path, llmlog_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
req = json.loads(open(log).read().splitlines()[n - 1])
hist = json.load(open(hist_path))
try:
    llmlog = json.load(open(llmlog_path))
except Exception:
    llmlog = None
body = req["body"]
rs = body["resourceSpans"][0]
spans = rs["scopeSpans"][0]["spans"]
def attrs(s):
    out = {}
    for a in s["attributes"]:
        v = a["value"]
        out[a["key"]] = int(v["intValue"]) if "intValue" in v else next(iter(v.values()))
    return out
for s in spans:
    s["a"] = attrs(s)
    s["start"], s["end"] = int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])
by = {}
for s in spans:
    by.setdefault(s["name"], []).append(s)
ids = {s["spanId"]: s for s in spans}
root = [s for s in spans if "parentSpanId" not in s]
nodes = [s for s in spans if s["name"].startswith("node ")]
def node(name): return by["node " + name][0]
def parent(s): return ids.get(s.get("parentSpanId"))
for expr in sys.argv[5:]:
    try:
        r = eval(expr)
    except Exception as e:
        r = "%s: %s" % (type(e).__name__, e)
    print("ok" if r is True else "FAIL %s -> %s" % (expr, r))
PY
	while read -r verdict rest; do
		if [ "$verdict" = ok ]; then ok; else bad "export $n ($thread): $verdict $rest"; fi
	done <"$tmp/checks"
}
# the shape every export must have
SHAPE=(
	'req["path"] == "/v1/traces" and req["content_type"] == "application/json"'
	'req["headers"].get("x-otlp-token") == "tok-123"'
	'rs["resource"]["attributes"] == [{"key": "service.name", "value": {"stringValue": "opsgraph"}}]'
	'rs["scopeSpans"][0]["scope"]["name"] == "opsgraph"'
	'len(root) == 1'
	'all(re.fullmatch("[0-9a-f]{32}", s["traceId"]) and s["traceId"] != "0" * 32 for s in spans)'
	'len({s["traceId"] for s in spans}) == 1'
	'all(re.fullmatch("[0-9a-f]{16}", s["spanId"]) and s["spanId"] != "0" * 16 for s in spans)'
	'len(ids) == len(spans)'
	'all(parent(s) is not None for s in spans if s is not root[0])'
	'all(isinstance(s["startTimeUnixNano"], str) and 0 < s["start"] <= s["end"] for s in spans)'
	'all(parent(s)["start"] <= s["start"] and s["end"] <= parent(s)["end"] for s in spans if s is not root[0])'
	'all(parent(s) is root[0] and s["kind"] == 1 for s in nodes)'
	'[s["a"]["opsgraph.step"] for s in sorted(nodes, key=lambda s: s["start"])] == sorted(s["a"]["opsgraph.step"] for s in nodes)'
	'all(any(h["id"] == s["a"]["opsgraph.checkpoint_id"] and h["step"] == s["a"]["opsgraph.step"] and s["a"]["opsgraph.node"] in (h["writes"] or {}) for h in hist) for s in nodes if s["a"]["opsgraph.task_status"] == "ok")'
)

# --- the incident graph up to the decision: nodes and one LLM call --------
og run graphs/incident.lua --db "$DB" --thread inc-1 --config "$tmp/cfg.json" --output json \
	--input '{"trigger": {"service": "payment-service", "time": "2026-11-24T19:30:00Z"}}'
expect_rc 0
expect_in '"status":"interrupted"' "$out" "incident run"
[ "$(nexp)" = 1 ] && ok || bad "incident run: $(nexp) exports, want 1"
og llm-log --thread inc-1 --output json --db "$DB"
printf '%s' "$out" >"$tmp/llmlog.json"
check 1 inc-1 "${SHAPE[@]}" \
	'root[0]["name"] == "run incident"' \
	'root[0]["a"]["opsgraph.thread_id"] == "inc-1" and root[0]["a"]["opsgraph.status"] == "interrupted"' \
	'root[0]["traceId"] == hashlib.sha256(b"inc-1\0ckpt:%d" % root[0]["a"]["opsgraph.first_checkpoint_id"]).hexdigest()[:32]' \
	'root[0]["a"]["opsgraph.first_checkpoint_id"] == 1 and root[0]["a"]["opsgraph.checkpoint_id"] == hist[0]["id"]' \
	'[s["name"] for s in sorted(nodes, key=lambda s: s["start"])][:3] == ["node slack_alert", "node context_collector", "node root_cause_analyzer"]' \
	'node("human_decision")["a"]["opsgraph.task_status"] == "interrupt"' \
	'all(s["a"]["opsgraph.thread_id"] == "inc-1" and re.fullmatch("[0-9a-f]{16}", s["a"]["opsgraph.task_id"]) for s in nodes)' \
	'len(by["chat ok"]) == 1 and len([s for s in spans if s["name"].startswith("chat ")]) == 1' \
	'parent(by["chat ok"][0]) is node("root_cause_analyzer")' \
	'by["chat ok"][0]["kind"] == 3' \
	'by["chat ok"][0]["a"]["gen_ai.operation.name"] == "chat" and by["chat ok"][0]["a"]["gen_ai.system"] == "ollama"' \
	'by["chat ok"][0]["a"]["gen_ai.request.model"] == "ok" and by["chat ok"][0]["a"]["gen_ai.response.model"] == "ok"' \
	'(by["chat ok"][0]["a"]["gen_ai.usage.input_tokens"], by["chat ok"][0]["a"]["gen_ai.usage.output_tokens"]) == (120, 30)' \
	'(llmlog["entries"][0]["tokens_in"], llmlog["entries"][0]["tokens_out"]) == (120, 30)' \
	'llmlog["entries"][0]["response_model"] == "ok"' \
	'not any(s.get("status", {}).get("code") == 2 for s in spans)'

# --- tools: one span per execution under its node -----------------------
og run tests/graphs/otlp_tools.lua --db "$DB" --thread tools-1 --config "$tmp/tools.json" --output json
expect_rc 0
[ "$(nexp)" = 2 ] && ok || bad "tools run: $(nexp) exports, want 2"
check 2 tools-1 "${SHAPE[@]}" \
	'root[0]["name"] == "run otlp_tools" and root[0]["status"]["code"] == 1' \
	'[s["name"] for s in spans if s["name"].startswith("execute_tool")] == ["execute_tool echo_tool", "execute_tool fail_tool"]' \
	'all(parent(s) is node("fix") for s in spans if s["name"].startswith("execute_tool"))' \
	'by["execute_tool echo_tool"][0]["a"]["opsgraph.tool.exit_code"] == 0 and by["execute_tool echo_tool"][0]["status"]["code"] == 0' \
	'by["execute_tool fail_tool"][0]["a"]["opsgraph.tool.exit_code"] == 3' \
	'by["execute_tool fail_tool"][0]["status"] == {"code": 2, "message": "exit code 3"}' \
	'by["execute_tool echo_tool"][0]["a"]["gen_ai.tool.name"] == "echo_tool"' \
	'by["execute_tool echo_tool"][0]["end"] <= by["execute_tool fail_tool"][0]["start"]' \
	'node("fix")["end"] <= node("check")["start"]'

# --- a failing node: error on its span and on the root --------------------
og run tests/graphs/otlp_tools.lua --db "$DB" --thread tools-2 --config "$tmp/tools.json" --input '{"boom": true, "code": 0}'
expect_rc 1
[ "$(nexp)" = 3 ] && ok || bad "failing run: $(nexp) exports, want 3"
check 3 tools-2 "${SHAPE[@]}" \
	'node("check")["status"]["code"] == 2 and "on purpose" in node("check")["status"]["message"]' \
	'root[0]["status"]["code"] == 2 and "on purpose" in root[0]["status"]["message"]' \
	'root[0]["a"]["opsgraph.status"] == "error"' \
	'node("fix")["status"]["code"] == 1' \
	'by["execute_tool fail_tool"][0]["status"]["code"] == 0'

# --- a resume is a trace of its own; a fork exports nothing ----------------
og run tests/graphs/durable/approve.lua --db "$DB" --thread ap-1 --config "$tmp/tools.json"
expect_rc 0
og resume ap-1 --value '"scale"' --db "$DB" --config "$tmp/tools.json"
expect_rc 0
[ "$(nexp)" = 5 ] && ok || bad "run + resume: $(nexp) exports, want 5"
check 5 ap-1 "${SHAPE[@]}" \
	'[s["name"] for s in sorted(nodes, key=lambda s: s["start"])] == ["node human", "node exec"]' \
	'root[0]["traceId"] == hashlib.sha256(b"ap-1\0ckpt:%d" % root[0]["a"]["opsgraph.first_checkpoint_id"]).hexdigest()[:32]' \
	'root[0]["traceId"] != json.loads(open(log).read().splitlines()[3])["body"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]' \
	'root[0]["a"]["opsgraph.first_checkpoint_id"] > 1'
og fork ap-1 --checkpoint 2 --update '{"note": "x"}' --db "$DB" --config "$tmp/tools.json"
expect_rc 0
[ "$(nexp)" = 5 ] && ok || bad "a fork without a step exported something ($(nexp) exports)"

# --- the collector is down: the run is not affected ----------------------
og run tests/graphs/otlp_tools.lua --db "$DB" --thread down-1 --config "$tmp/down.json" --output json
expect_rc 0
expect_in '"status":"done"' "$out" "run with the collector down"
expect_in "otlp export of thread down-1 failed" "$err" "collector down"
expect_in "the run is not affected" "$err" "collector down"

# --- bad config: exit 2, naming the key --------------------------------------
og run tests/graphs/otlp_tools.lua --db "$DB" --thread bad-1 --config "$tmp/bad.json"
expect_rc 2
expect_in "config otlp.endpoint" "$err" "bad endpoint"
og run tests/graphs/otlp_tools.lua --db "$DB" --thread bad-2 --config "$tmp/badh.json"
expect_rc 2
expect_in "config otlp.headers.x: a header value is a string" "$err" "bad header"
og state bad-1 --db "$DB"
expect_rc 2

# --- a run of the server: its job's session exports it -----------------------
mkdir -p "$tmp/root/graphs" "$tmp/root/ui-static"
cp tests/graphs/otlp_tools.lua "$tmp/root/graphs/"
# a bad otlp block stops the server at start
timeout 10 "$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$DB" --root "$tmp/root" --config "$tmp/bad.json" \
	>/dev/null 2>"$tmp/bad_serve.log"
rc=$?; err=$(cat "$tmp/bad_serve.log"); last="serve --config bad.json"
expect_rc 2
expect_in "config otlp.endpoint" "$err" "serve with a bad otlp block"
# "otlp": null is no export, for the server as for the CLI
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["otlp"]=None; json.dump(c, open(sys.argv[2], "w"))' \
	"$tmp/tools.json" "$tmp/null.json"
n0=$(nexp)
og run tests/graphs/otlp_tools.lua --db "$DB" --thread null-1 --config "$tmp/null.json"
expect_rc 0
[ "$(nexp)" = "$n0" ] && ok || bad "otlp null exported something"
: >"$tmp/null_serve.log"
"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$DB" --root "$tmp/root" --config "$tmp/null.json" 2>"$tmp/null_serve.log" &
og_srv=$!
for _ in $(seq 100); do grep -q 'listening on' "$tmp/null_serve.log" && break; kill -0 "$og_srv" 2>/dev/null || break; sleep 0.1; done
grep -q 'listening on' "$tmp/null_serve.log" && ok || bad "serve with otlp null did not start: $(cat "$tmp/null_serve.log")"
kill "$og_srv" 2>/dev/null; wait "$og_srv" 2>/dev/null; og_srv=
"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$DB" --root "$tmp/root" --config "$tmp/tools.json" --workers 1 \
	--no-auth 2>"$tmp/serve.log" &	# the exports of this server's runs are the otlp block of tools.json
og_srv=$!
SRV=
for _ in $(seq 100); do
	SRV=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/serve.log" | sed 's/listening on //')
	[ -n "$SRV" ] && break
	kill -0 "$og_srv" 2>/dev/null || break
	sleep 0.1
done
[ -n "$SRV" ] && ok || { bad "the server did not start: $(cat "$tmp/serve.log")"; finish; }
code=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary '{"graph": "otlp_tools", "thread_id": "srv-1"}' "$SRV/api/runs")
[ "$code" = 202 ] && ok || bad "POST /api/runs: $code $(cat "$tmp/body")"
for _ in $(seq 100); do [ "$(nexp)" -ge 6 ] && break; sleep 0.1; done
[ "$(nexp)" = 6 ] && ok || bad "server run: $(nexp) exports, want 6; $(tail -3 "$tmp/serve.log")"
check 6 srv-1 "${SHAPE[@]}" \
	'root[0]["name"] == "run otlp_tools" and root[0]["a"]["opsgraph.thread_id"] == "srv-1"' \
	'[s["name"] for s in spans if s["name"].startswith("execute_tool")] == ["execute_tool echo_tool", "execute_tool fail_tool"]'

# --- a fork that re-runs the analysis with another model (operator_model) ----
og history inc-1 --output json --db "$DB"
at=$(printf '%s' "$out" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if "dry_run_actions" in (r["writes"] or {})][0])')
og fork inc-1 --checkpoint "$at" --as-node context_collector --update '{"operator_model": "ollama/invalid-json"}' \
	--db "$DB" --config "$tmp/cfg.json"
expect_rc 0
og resume inc-1 --db "$DB" --config "$tmp/cfg.json" --output json
expect_rc 0
expect_in '"analyzer":"ollama/invalid-json"' "$out" "the re-analysis used the fork's model"
[ "$(nexp)" = 7 ] && ok || bad "fork + resume: $(nexp) exports, want 7"
check 7 inc-1 "${SHAPE[@]}" \
	'[s["name"] for s in spans if s["name"].startswith("chat ")] == ["chat invalid-json", "chat invalid-json"]' \
	'all(parent(s) is node("root_cause_analyzer") for s in spans if s["name"].startswith("chat "))' \
	'[(s["status"].get("code"), s["a"]["opsgraph.llm.outcome"]) for s in spans if s["name"].startswith("chat ")] == [(2, "invalid_json"), (0, "repaired")]'
finish
