#!/usr/bin/env bash
# tests/cli/llm_chain.sh: the LLM roles (ctx.llm.chat, engine/lua/lapi_llm.c)
# through the real binary and nodes/root_cause_analyzer.lua, against
# tests/tools/fake_llm.py, a fake OpenAI-compatible server on 127.0.0.1 (a
# free port; the model name of a chain link picks its behaviour; every
# request is logged as JSON and counted).
#
# Covered: the first link answers (analyzer "<provider>/<model>", the answer's
# redaction tokens mapped back to the real JDBC URL and IP); the request (POST
# /v1/chat/completions, response_format json_schema with strict and the role's
# schema, temperature/top_p/max_tokens, the key from the env var the provider
# names as a Bearer header); redaction (no real host, IP, JDBC URL or Slack
# token reached the server, neither from the input, nor the hint, nor the
# system message); 429 -> next link; 500 -> next; a hang past timeout_ms ->
# next, within the timeout; no content or a body that is not a chat completion
# -> next; Retry-After waited out when it fits, and not when it is longer than
# the time left; invalid JSON -> one repair retry (the rejected answer and the
# error go back) -> ok; a schema-invalid answer -> repair naming the JSON
# path; every link failing -> the built-in analyzer with a note naming why; a
# provider key variable not set -> no request, next link; a key written in the
# config refused; no llm config or a disabled role -> built-in analyzer, no
# request; an unknown role -> ok=false naming the configured roles; bad
# arguments raise; the planner's role "plan" (proposals before the analyzer's
# candidates, an invented tool dropped with a note; a failing role leaves the
# analyzer's candidates); min_interval_ms spaces requests; the role shipped in
# config/opsgraph.example.json (enabled) accepts a valid answer, also in
# graphs/incident.lua up to the decision; the config file edited during a run
# is re-read at the next call, and ctx.llm.has_role sees a role added to it
# (no restart); the journal: a node that pauses after its LLM call re-runs on
# resume without a second request; `opsgraph llm-log` entries, totals, cost
# from the price table, --thread, --since, bad --since.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/llm_chain.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-llm.XXXXXX") || exit 2
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
GRAPH=tests/nodes/llm/rca_graph.lua
CHAT=tests/nodes/llm/chat_graph.lua
export OG_TEST_LLM_KEY="sk-test-$RANDOM$RANDOM-secretkey"
unset OG_TEST_UNSET_KEY

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
nreq() { if [ -f "$tmp/log" ]; then wc -l <"$tmp/log" | tr -d ' '; else echo 0; fi; }

start_server "fake LLM server" tests/tools/fake_llm.py "$tmp"

# the incident input: secrets in the alert and the context
cat >"$tmp/input.json" <<'EOF'
{"alert": {"service": "payment-service", "started_at": "2026-11-24T19:30:00Z", "severity": "critical",
           "source": "alertmanager", "summary": "payment-service DB pool exhausted on db-primary.prod.internal",
           "labels": {"alertname": "DBPoolExhausted"}},
 "context": {"metrics": {"db_pool_usage": {"unit": "ratio", "current": 0.98, "baseline_24h": 0.4,
                                           "baseline_7d": 0.42, "change_24h_pct": 145}},
             "logs": {"source": "files", "total": 900, "templates": [{
               "template": "HikariPool-1 - Connection is not available, request timed out after <NUM>ms",
               "count": 800, "new": true, "level": "error",
               "example": "Connection is not available to jdbc:mysql://real-database-url.com:3306/real_db from 10.20.30.40 (token xoxb-1234567890-abcdefghijkl, admin@payments.example.com)"}]},
             "notes": []},
 "operator_hint": "check the replica at 10.20.30.41 too"}
EOF

# config CHAIN [EXTRA_JSON]: writes $tmp/cfg.json; CHAIN = "model[:timeout_ms] ..."
config() {
	python3 - "$BASE" "$tmp/cfg.json" "$1" "${2:-{\}}" <<'EOF'
import json, sys
base, path, chain, extra = sys.argv[1], sys.argv[2], sys.argv[3].split(), json.loads(sys.argv[4])
links = []
for c in chain:
    m, _, t = c.partition(":")
    prov = "fake"
    if m.startswith("nokey/"):
        prov, m = "nokey", m[len("nokey/"):]
    links.append({"provider": prov, "model": m, "timeout_ms": int(t or 2000),
                  "temperature": 0.1, "top_p": 0.9, "max_tokens": 800})
cfg = {"llm": {
    "providers": {"fake": {"base_url": base, "api_key_env": "OG_TEST_LLM_KEY"},
                  "nokey": {"base_url": base, "api_key_env": "OG_TEST_UNSET_KEY"}},
    "roles": {"rca": {
        "system": "You are the SRE on call for db-primary.prod.internal. Explain the root cause.",
        "min_interval_ms": 0,
        "schema": {"type": "object", "additionalProperties": False,
                   "required": ["root_cause", "evidence", "impact", "confidence"],
                   "properties": {
                       "root_cause": {"type": "string", "minLength": 1},
                       "evidence": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 10},
                       "impact": {"type": "string"},
                       "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                       "candidates": {"type": "array", "maxItems": 3, "items": {"type": "object"}}}},
        "chain": links}},
    "prices": {"ok": {"input_per_1k": 0.5, "output_per_1k": 1.5}}}}
cfg.update(extra)
json.dump(cfg, open(path, "w"), indent=1)
EOF
}

# run_rca NAME: runs the analyzer graph on the input (in memory); the state in $tmp/NAME.json
run_rca() {
	og run "$GRAPH" --db :memory: --input "@$tmp/input.json" --config "$tmp/cfg.json" --output json
	cp "$tmp/out" "$tmp/$1.json"
}

# check NAME PYTHON_EXPR...: each expression over rca, cands, doc must be true
check() {
	local name=$1; shift
	local r
	r=$(python3 - "$tmp/$name.json" "$@" <<'EOF'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except Exception as e:
    print("output is not JSON: %s" % e); sys.exit()
state = doc.get("state") or {}
rca = state.get("rca") or {}
cands = state.get("candidates") or []
outcomes = [a["model"] + ":" + a["outcome"] for a in (rca.get("llm") or {}).get("attempts", [])]
notes = " | ".join(rca.get("notes") or [])
for expr in sys.argv[2:]:
    try:
        ok = eval(expr)
    except Exception as e:
        ok, expr = False, "%s (raised %s)" % (expr, e)
    if not ok:
        print("FAIL %s; rca=%s" % (expr, json.dumps(rca)[:1500]))
    else:
        print("ok")
EOF
)
	while IFS= read -r line; do
		case "$line" in
		ok) ok ;;
		*) bad "$name: $line" ;;
		esac
	done <<<"$r"
}

# --- 1. the first link answers --------------------------------------------
config "ok"
n0=$(nreq)
run_rca first_ok
expect_rc 0
check first_ok 'doc["status"] == "done"' 'rca["analyzer"] == "fake/ok"' \
	'rca["root_cause"] == "connection pool exhausted on jdbc:mysql://real-database-url.com:3306/real_db"' \
	'"10.20.30.40" in rca["evidence"][0]' 'rca["confidence"] == 0.82' 'rca["impact"] == "checkout requests fail"' \
	'rca["llm"]["tokens_in"] == 120 and rca["llm"]["tokens_out"] == 30' \
	'abs(rca["llm"]["cost"] - 0.105) < 1e-9' 'outcomes == ["ok:ok"]' '"notes" not in rca' \
	'rca["builtin"]["signature"] == "db_pool_exhaustion"' \
	'cands[0]["tools"][0]["name"] == "restart_service" and len(cands) >= 2'
[ "$(nreq)" -eq $((n0 + 1)) ] && ok || bad "first link: $(($(nreq) - n0)) requests, want 1"

# the request as the server saw it
r=$(python3 - "$tmp/log" "$OG_TEST_LLM_KEY" <<'EOF'
import json, sys
req = json.loads(open(sys.argv[1]).read().splitlines()[-1])
b = req["body"]
rf = b.get("response_format") or {}
js = rf.get("json_schema") or {}
checks = {
    "path": req["path"] == "/v1/chat/completions",
    "bearer": req["authorization"] == "Bearer " + sys.argv[2],
    "model": b.get("model") == "ok",
    "params": b.get("temperature") == 0.1 and b.get("top_p") == 0.9 and b.get("max_tokens") == 800,
    "response_format": rf.get("type") == "json_schema" and js.get("strict") is True and js.get("name") == "rca"
                       and js.get("schema", {}).get("required") == ["root_cause", "evidence", "impact", "confidence"],
    "messages": [m["role"] for m in b["messages"]] == ["system", "user"],
    "system_has_schema": "JSON schema" in b["messages"][0]["content"],
    "hint_sent": "Operator hint:" in b["messages"][1]["content"],
    "builtin_sent": "db_pool_exhaustion" in b["messages"][1]["content"],
    "jdbc_shape_kept": "jdbc:mysql://" in b["messages"][1]["content"] and ":3306/" in b["messages"][1]["content"],
}
print(" ".join(k for k, v in checks.items() if not v) or "ok")
EOF
)
[ "$r" = ok ] && ok || bad "request checks failed: $r"

# --- redaction: nothing real reached the server, in any request -------------
for secret in real-database-url.com real_db 10.20.30.40 10.20.30.41 xoxb-1234567890-abcdefghijkl \
	db-primary.prod.internal admin@payments.example.com; do
	if grep -qF -- "$secret" "$tmp/log"; then bad "redaction: '$secret' reached the LLM server"; else ok; fi
done
if grep -qF -- "$OG_TEST_LLM_KEY" "$tmp/cfg.json"; then bad "the key is in the config file"; else ok; fi

# --- 2-4. 429, 500 and a hang each move on to the next link --------------------
config "rate-limited server-error hang:800 no-content not-openai ok"
n0=$(nreq)
t0=$(date +%s%N)
run_rca fallthrough
t1=$(date +%s%N)
expect_rc 0
check fallthrough 'rca["analyzer"] == "fake/ok"' \
	'outcomes == ["rate-limited:http_429", "server-error:http_5xx", "hang:timeout", "no-content:no_content", "not-openai:bad_body", "ok:ok"]' \
	'"HTTP 429" in notes and "HTTP 500" in notes and "no answer within 800 ms" in notes' \
	'rca["root_cause"].endswith("jdbc:mysql://real-database-url.com:3306/real_db")'
[ "$(nreq)" -eq $((n0 + 6)) ] && ok || bad "fallthrough: $(($(nreq) - n0)) requests, want 6"
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt 4000 ] && ok || bad "the hang was not cut at timeout_ms: the run took $ms ms"

# --- Retry-After: waited out when it fits in the timeout ----------------------
config "retry-after:5000"
n0=$(nreq)
run_rca retry_after
check retry_after 'rca["analyzer"] == "fake/retry-after"' 'outcomes == ["retry-after:ok"]'
[ "$(nreq)" -eq $((n0 + 2)) ] && ok || bad "retry-after: $(($(nreq) - n0)) requests, want 2"

# --- a Retry-After longer than the time left: no wait, next link -----------------
config "retry-after-long:1500 ok"
t0=$(date +%s%N)
run_rca retry_long
t1=$(date +%s%N)
check retry_long 'outcomes == ["retry-after-long:http_429", "ok:ok"]' '"Retry-After is longer than the time left" in notes'
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt 1400 ] && ok || bad "a Retry-After of 30 s was waited for: the run took $ms ms"

# --- 5. invalid JSON -> one repair retry -> ok -----------------------------------
config "invalid-json"
n0=$(nreq)
run_rca repair_json
check repair_json 'rca["analyzer"] == "fake/invalid-json"' \
	'outcomes == ["invalid-json:invalid_json", "invalid-json:repaired"]' \
	'rca["root_cause"].endswith("real_db")'
[ "$(nreq)" -eq $((n0 + 2)) ] && ok || bad "repair: $(($(nreq) - n0)) requests, want 2"
r=$(python3 - "$tmp/log" <<'EOF'
import json, sys
b = json.loads(open(sys.argv[1]).read().splitlines()[-1])["body"]
roles = [m["role"] for m in b["messages"]]
ok = roles == ["system", "user", "assistant", "user"] and "root cause is {probably" in b["messages"][2]["content"] \
     and "not valid" in b["messages"][3]["content"] and "invalid JSON" in b["messages"][3]["content"]
print("ok" if ok else "repair request: %s" % json.dumps(b["messages"][2:])[:600])
EOF
)
[ "$r" = ok ] && ok || bad "$r"

# --- schema-invalid -> repair naming the JSON path ---------------------------------
config "schema-invalid"
run_rca repair_schema
check repair_schema 'outcomes == ["schema-invalid:schema_invalid", "schema-invalid:repaired"]' \
	'rca["analyzer"] == "fake/schema-invalid"'
r=$(python3 - "$tmp/log" <<'EOF'
import json, sys
b = json.loads(open(sys.argv[1]).read().splitlines()[-1])["body"]
t = b["messages"][3]["content"] if len(b["messages"]) == 4 else ""
print("ok" if "$.confidence" in t and "evidence" in t else "repair message: %r" % t[:400])
EOF
)
[ "$r" = ok ] && ok || bad "$r"

# --- 6. every link fails -> the built-in analyzer with a note -------------------
config "server-error always-invalid"
n0=$(nreq)
run_rca all_fail
expect_rc 0
check all_fail 'rca["analyzer"] == "builtin"' 'rca["signature"] == "db_pool_exhaustion"' \
	'"every link of role \"rca\" failed" in notes' '"server-error: http_5xx" in notes' \
	'"always-invalid: invalid_json" in notes' 'len(cands) >= 1' '"llm" not in rca'
[ "$(nreq)" -eq $((n0 + 3)) ] && ok || bad "all fail: $(($(nreq) - n0)) requests, want 3 (1 + 2 with the repair)"

# --- a provider whose key variable is not set: no request, next link -----------
config "nokey/ok ok"
n0=$(nreq)
run_rca nokey
check nokey 'outcomes == ["ok:no_key", "ok:ok"]' '"OG_TEST_UNSET_KEY" in notes and "not set" in notes'
[ "$(nreq)" -eq $((n0 + 1)) ] && ok || bad "no key: $(($(nreq) - n0)) requests, want 1"

# --- a key written in the config is refused: no request, next link -------------
config "ok" '{"llm": {"providers": {"inline": {"base_url": "'"$BASE"'", "api_key": "sk-inline-secret"}, "fake": {"base_url": "'"$BASE"'"}}, "roles": {"rca": {"system": "s", "schema": {"type": "object"}, "chain": [{"provider": "inline", "model": "ok"}, {"provider": "fake", "model": "ok"}]}}}}'
n0=$(nreq)
run_rca inline_key
check inline_key 'outcomes == ["ok:config", "ok:ok"]' '"must not be written in the configuration" in notes'
[ "$(nreq)" -eq $((n0 + 1)) ] && ok || bad "inline key: $(($(nreq) - n0)) requests, want 1"
if grep -qF "sk-inline-secret" "$tmp/log"; then bad "the inline key was sent"; else ok; fi

# --- no llm config: the built-in analyzer directly -------------------------------
echo '{}' >"$tmp/cfg.json"
n0=$(nreq)
run_rca no_llm
check no_llm 'rca["analyzer"] == "builtin"' '"notes" not in rca' 'rca["signature"] == "db_pool_exhaustion"'
[ "$(nreq)" -eq "$n0" ] && ok || bad "no llm config: $(($(nreq) - n0)) requests, want 0"

# --- a disabled role: the built-in analyzer directly; a direct call says why ----
config "ok" '{"llm": {"providers": {"fake": {"base_url": "'"$BASE"'"}}, "roles": {"rca": {"enabled": false, "system": "s", "schema": {"type": "object"}, "chain": [{"provider": "fake", "model": "ok"}]}}}}'
n0=$(nreq)
run_rca disabled
check disabled 'rca["analyzer"] == "builtin"' '"notes" not in rca'
[ "$(nreq)" -eq "$n0" ] && ok || bad "disabled role: $(($(nreq) - n0)) requests, want 0"
og run "$CHAT" --db :memory: --input '{"mode": "reload"}' --config "$tmp/cfg.json" --output json
expect_rc 0
expect_in 'role \"rca\" is disabled' "$out" "disabled role result"
[ "$(nreq)" -eq "$n0" ] && ok || bad "disabled role, direct: $(($(nreq) - n0)) requests, want 0"

# --- the planner's role "plan": proposals checked against the registry ------------
config "ok" '{"llm": {"providers": {"fake": {"base_url": "'"$BASE"'"}}, "roles": {"plan": {"system": "Plan.", "schema": {"type": "object", "required": ["actions"], "properties": {"actions": {"type": "array", "maxItems": 3, "items": {"type": "object"}}}}, "chain": [{"provider": "fake", "model": "plan-ok"}]}}}}'
n0=$(nreq)
og run tests/nodes/llm/plan_graph.lua --db :memory: --input "@$tmp/input.json" --config "$tmp/cfg.json" --output json
cp "$tmp/out" "$tmp/plan.json"
expect_rc 0
check plan 'rca["analyzer"] == "builtin"' \
	'state["plan"]["actions"][0]["tools"][0] == {"name": "scale_replicas", "args": {"service": "payment-service", "replicas": 6}}' \
	'state["plan"]["actions"][0]["title"] == "Scale payment-service to 6 replicas"' \
	'len(state["plan"]["actions"]) == 3' \
	'state["plan"]["actions"][1]["tools"][0]["name"] == "restart_service"' \
	'any("2 proposals from fake/plan-ok" in n for n in state["plan"]["notes"])' \
	'any("format_disk" in n and "unknown tool" in n for n in state["plan"]["notes"])'
[ "$(nreq)" -eq $((n0 + 1)) ] && ok || bad "plan role: $(($(nreq) - n0)) requests, want 1"
r=$(python3 - "$tmp/log" <<'EOF'
import json, sys
b = json.loads(open(sys.argv[1]).read().splitlines()[-1])["body"]
u = json.loads(b["messages"][1]["content"])
names = [t["name"] for t in u.get("tools", [])]
ok = b["response_format"]["json_schema"]["name"] == "plan" and "restart_service" in names \
     and "params" in u["tools"][0] and u["rca"]["signature"] == "db_pool_exhaustion" and len(u["candidates"]) >= 1
print("ok" if ok else "plan request: %s" % json.dumps(u)[:500])
EOF
)
[ "$r" = ok ] && ok || bad "$r"
# the plan role failing: the analyzer's candidates, with a note
config "ok" '{"llm": {"providers": {"fake": {"base_url": "'"$BASE"'"}}, "roles": {"plan": {"system": "Plan.", "schema": {"type": "object"}, "chain": [{"provider": "fake", "model": "server-error"}]}}}}'
og run tests/nodes/llm/plan_graph.lua --db :memory: --input "@$tmp/input.json" --config "$tmp/cfg.json" --output json
cp "$tmp/out" "$tmp/plan_fail.json"
expect_rc 0
check plan_fail 'state["plan"]["actions"][0]["tools"][0]["name"] == "restart_service"' \
	'any(n.startswith("llm plan: every link of role \"plan\" failed") for n in state["plan"]["notes"])'

# --- min_interval_ms spaces a role's requests ------------------------------------
config "ok" '{"llm": {"providers": {"fake": {"base_url": "'"$BASE"'"}}, "roles": {"rca": {"system": "s", "min_interval_ms": 700, "schema": {"type": "object"}, "chain": [{"provider": "fake", "model": "server-error"}, {"provider": "fake", "model": "ok"}]}}}}'
run_rca interval
check interval 'outcomes == ["server-error:http_5xx", "ok:ok"]'
r=$(python3 -c '
import json, sys
t = [json.loads(l)["t"] for l in open(sys.argv[1]).read().splitlines()[-2:]]
print("ok" if t[1] - t[0] >= 0.65 else "requests %.3f s apart, want >= 0.7" % (t[1] - t[0]))' "$tmp/log")
[ "$r" = ok ] && ok || bad "min_interval_ms: $r"

# --- the shipped example role (config/opsgraph.example.json), enabled ----------
python3 - "$BASE" "$tmp/cfg.json" <<'EOF'
import json, sys
cfg = json.load(open("config/opsgraph.example.json"))
rca = cfg["llm"]["roles"]["rca"]
rca["enabled"] = True
rca["chain"] = [{"provider": "ollama", "model": "ok", "temperature": 0.1}]
cfg["llm"]["providers"]["ollama"]["base_url"] = sys.argv[1]
json.dump({"llm": cfg["llm"]}, open(sys.argv[2], "w"))
EOF
run_rca example_role
check example_role 'rca["analyzer"] == "ollama/ok"' 'outcomes == ["ok:ok"]' \
	'cands[0]["title"] == "Restart the service"'
r=$(python3 -c 'import json,sys; b=json.loads(open(sys.argv[1]).read().splitlines()[-1])["body"]; print(b["response_format"]["json_schema"]["strict"])' "$tmp/log")
[ "$r" = False ] && ok || bad "the example role (strict: false) sent strict $r"

# --- the incident graph (graphs/incident.lua) with the example config and role rca ---
python3 - "$BASE" "$CLOSED" "$tmp/cfg.json" <<'EOF'
import json, re, sys
base, closed, out = sys.argv[1:4]
text = open("config/opsgraph.example.json").read()
text = re.sub(r'"http://127\.0\.0\.1:\d+', '"' + closed, text)  # no observability server: notes
cfg = json.loads(text)
cfg["llm"]["roles"]["rca"]["enabled"] = True
cfg["llm"]["roles"]["rca"]["chain"] = [{"provider": "ollama", "model": "ok"}]
cfg["llm"]["providers"]["ollama"]["base_url"] = base
json.dump(cfg, open(out, "w"))
EOF
n0=$(nreq)
og run graphs/incident.lua --db :memory: --config "$tmp/cfg.json" --output json \
	--input '{"trigger": {"service": "payment-service", "time": "2026-11-24T19:30:00Z"}}'
cp "$tmp/out" "$tmp/incident.json"
expect_rc 0
check incident 'doc["status"] == "interrupted"' 'rca["analyzer"] == "ollama/ok"' \
	'state["plan"]["actions"][0]["title"] == "Restart the service"' \
	'any(e.get("event") == "rca" and "ollama/ok" in e.get("detail", "") for e in state["timeline"])'
[ "$(nreq)" -eq $((n0 + 1)) ] && ok || bad "incident graph: $(($(nreq) - n0)) requests, want 1"

# --- direct calls: unknown role, bad arguments ----------------------------------------
config "ok"
og run "$CHAT" --db :memory: --input '{"mode": "badrole"}' --config "$tmp/cfg.json" --output json
expect_rc 0
expect_in 'no role \"nope\" in config llm.roles (configured: rca)' "$out" "unknown role result"
og run "$CHAT" --db :memory: --input '{"mode": "badinput"}' --config "$tmp/cfg.json"
expect_rc 1
expect_in "input must be a string or a table (got number)" "$out$err" "bad input error"
# the model option (a fork's operator_model): a link asked first, another
# model of a configured provider, refused otherwise
config "server-error ok"
n0=$(nreq)
og run "$CHAT" --db :memory: --input '{"mode": "model"}' --config "$tmp/cfg.json" --output json
expect_rc 0
printf '%s' "$out" >"$tmp/model.json"
r=$(python3 - "$tmp/model.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["state"]["r"]
checks = [
    (r["link"]["ok"] and r["link"]["model"] == "ok" and r["link"]["outcomes"] == ["ok:ok"], "link first: %r" % r["link"]),
    (r["prov"]["ok"] and r["prov"]["model"] == "invalid-json" and r["prov"]["outcomes"] == ["invalid-json:invalid_json", "invalid-json:repaired"], "provider/model: %r" % r["prov"]),
    (not r["none"]["ok"] and 'model "nosuch/ok" is not a link of role "rca" (fake/server-error, fake/ok) and names no provider' in r["none"]["error"], "unknown provider: %r" % r["none"]),
    (not r["bare"]["ok"] and 'give "provider/model"' in r["bare"]["error"], "bare unknown model: %r" % r["bare"]),
]
print(" | ".join(m for c, m in checks if not c) or "ok")
PY
)
[ "$r" = ok ] && ok || bad "model option: $r"
[ "$(nreq)" -eq $((n0 + 3)) ] && ok || bad "model option: $(($(nreq) - n0)) requests, want 3 (server-error never asked)"
og run "$CHAT" --db :memory: --input '{"mode": "badmodel"}' --config "$tmp/cfg.json"
expect_rc 1
expect_in 'model must be a string such as "openai/gpt-4o" (got number)' "$out$err" "bad model option"
og run "$CHAT" --db :memory: --input '{"mode": "unknown"}' --config "$tmp/cfg.json"
expect_rc 1
expect_in "unknown option 'temperature'" "$out$err" "unknown option error"

# --- the config file edited during a run is re-read at the next call ----------------
config "ok"
cp "$tmp/cfg.json" "$tmp/cfg_ok.json"
config "server-error"
cp "$tmp/cfg.json" "$tmp/cfg_err.json"
cp "$tmp/cfg_ok.json" "$tmp/live.json"
( sleep 1; cp "$tmp/cfg_err.json" "$tmp/live.json.new" && mv "$tmp/live.json.new" "$tmp/live.json" ) &
editor=$!
og run "$CHAT" --db :memory: --input '{"mode": "reload"}' --config "$tmp/live.json" --output json
wait "$editor"
expect_rc 0
r=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["state"]["r"]
ok = r["first"]["outcomes"] == ["ok:ok"] and r["first"]["ok"] and r["second"]["outcomes"] == ["server-error:http_5xx"] \
     and not r["second"]["ok"]
print("ok" if ok else json.dumps(r))' "$tmp/out")
[ "$r" = ok ] && ok || bad "config reload: $r"

# has_role sees a role added to the file while the process runs
echo '{}' >"$tmp/live.json"
( sleep 1; cp "$tmp/cfg_ok.json" "$tmp/live.json.new" && mv "$tmp/live.json.new" "$tmp/live.json" ) &
editor=$!
og run "$CHAT" --db :memory: --input '{"mode": "has_role"}' --config "$tmp/live.json" --output json
wait "$editor"
expect_rc 0
r=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["state"]["r"]; print(r["before"], r["after"], r["plan"])' "$tmp/out")
[ "$r" = "False True False" ] && ok || bad "has_role before/after the edit, plan: $r, want False True False"

# --- the journal: resume re-runs the node without a second request ---------------------
config "ok"
DB=$tmp/db
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["ask"]=True; json.dump(d, open(sys.argv[2], "w"))' \
	"$tmp/input.json" "$tmp/input_ask.json"
n0=$(nreq)
og run "$GRAPH" --db "$DB" --input "@$tmp/input_ask.json" --config "$tmp/cfg.json" --output json
expect_rc 0
thread=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["thread_id"] if d["status"] == "interrupted" else "")' "$tmp/out")
[ -n "$thread" ] && ok || bad "the run did not pause: $out"
[ "$(nreq)" -eq $((n0 + 1)) ] && ok || bad "before resume: $(($(nreq) - n0)) requests, want 1"
og resume "$thread" --db "$DB" --value '"yes"' --config "$tmp/cfg.json" --output json
cp "$tmp/out" "$tmp/resumed.json"
expect_rc 0
check resumed 'doc["status"] == "done"' 'state["confirmed"] == "yes"' 'rca["analyzer"] == "fake/ok"' \
	'rca["root_cause"].endswith("real_db")'
[ "$(nreq)" -eq $((n0 + 1)) ] && ok || bad "after resume: $(($(nreq) - n0)) requests, want still 1 (journal replay)"

# a second thread in the same database: 429 then ok
config "rate-limited ok"
og run "$GRAPH" --db "$DB" --input "@$tmp/input.json" --config "$tmp/cfg.json" --output json
expect_rc 0
thread2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["thread_id"])' "$tmp/out")

# --- opsgraph llm-log ------------------------------------------------------------------
og llm-log --db "$DB" --output json
expect_rc 0
r=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); t = d["totals"]; e = d["entries"]
want = {"calls": 3, "ok": 2, "tokens_in": 240, "tokens_out": 60, "unpriced": 1}
bad = [k for k, v in want.items() if t.get(k) != v]
if abs(t.get("cost", 0) - 0.21) > 1e-9: bad.append("cost %r" % t.get("cost"))
if [x["outcome"] for x in e] != ["ok", "http_429", "ok"]: bad.append("outcomes")
if [x["run"] for x in e] != [sys.argv[2], sys.argv[3], sys.argv[3]]: bad.append("runs")
x = e[0]
if x["role"] != "rca" or x["provider"] != "fake" or x["model"] != "ok" or len(x["prompt_hash"]) != 16: bad.append("fields")
if x["params"] != {"temperature": 0.1, "top_p": 0.9, "max_tokens": 800, "timeout_ms": 2000}: bad.append("params")
if not isinstance(x["latency_ms"], (int, float)) or not x["at"].endswith("Z"): bad.append("latency/at")
if e[1]["cost"] is not None: bad.append("unpriced cost not null")
print(" ".join(bad) or "ok")' "$tmp/out" "$thread" "$thread2")
[ "$r" = ok ] && ok || bad "llm-log totals: $r; $out"
for secret in real-database-url.com 10.20.30.40 "$OG_TEST_LLM_KEY" "You are the SRE" "Operator hint"; do
	if grep -qF -- "$secret" "$tmp/out"; then bad "llm-log holds '$secret'"; else ok; fi
done
og llm-log --db "$DB" --thread "$thread2" --output json
expect_rc 0
r=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["calls"], t["ok"])' "$tmp/out")
[ "$r" = "2 1" ] && ok || bad "llm-log --thread: calls, ok = $r, want 2 1"
og llm-log --db "$DB"
expect_rc 0
expect_in "total: 3 calls (2 answered), tokens in 240, out 60, estimated cost 0.210000" "$out" "text totals"
expect_in "fake/rate-limited" "$out" "text rows"
og llm-log --db "$DB" --since 1h --output json
expect_rc 0
expect_in '"calls":3' "$out" "--since 1h"
og llm-log --db "$DB" --since 2099-01-01T00:00:00Z --output json
expect_rc 0
expect_in '"calls":0' "$out" "--since in the future"
og llm-log --db "$DB" --since yesterday
expect_rc 2
expect_in "--since takes an age like 24h" "$err" "bad --since"

finish
