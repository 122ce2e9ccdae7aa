#!/usr/bin/env bash
# tests/cli/tools_registry.sh: the CLI loads the tool registry itself
# (engine/cli/cli_config.c): every sandbox/tools/*.json, or those of config
# "tools_dir", into ctx.config.tools, with config "tool_overrides" applied;
# runbook files. Through the real binary, with a graph that reports what
# ctx.config.tools holds and runs one tool.
#
# Covered: the default directory (9 tools, each spec as in its file); a
# tools_dir of our own (relative to the root, or absolute); overrides of a
# command (an http tool then runs the command), of an http tool's base_url,
# url, headers and timeout_s, and the overridden command really runs
# through ctx.tools.run; inline "tools" still wins (files not read);
# errors that stop the command with exit 2 and name the file, the problem
# and the fix: malformed JSON, name != file name, params not a schema, bad
# risk, command not an argv of strings, command and http both or neither,
# http without url, an empty or missing tools_dir, an override of a tool
# that does not exist, an unknown override key, a url override on a
# command tool, "tools" together with tools_dir; the dry_run declaration
# (mode, argv for native modes, reason for none, no sandbox for http tools,
# expect_writes, limits, unknown keys) and its overrides (a command
# override makes a native declaration a sandbox one; dry_run replaces it).
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/tools_registry.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-registry.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
check() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
# py EXPR: EXPR over the last run's final state (s) as JSON
py() {
	printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin); s = d.get("state") or {}
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$1" 2>&1
}

# the graph lives in tests/ (the root is the repository, guessed from the cwd)
cat >"$tmp/show.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "show_tools", state = { run = og.last(), tools = og.last(), result = og.last() } }
-- ctx.config is a read-only view: copy it into plain tables to return it
local function copy(v)
  if type(v) ~= "table" then return v end
  local out, n = {}, 0
  for k, x in pairs(v) do out[k] = copy(x); n = n + 1 end
  return n == 0 and og.array{} or out
end
g:node("show", function(s, ctx)
  local out = {}
  for name, spec in pairs(ctx.config.tools or {}) do out[name] = copy(spec) end
  local res
  if s.run then res = ctx.tools.run(s.run.name, s.run.args) end
  return { tools = out, result = res }
end)
g:edge(og.START, "show")
g:edge("show", og.END)
return g
EOF
G=$tmp/show.lua
cfg() { printf '%s\n' "$2" >"$tmp/$1.json"; }

# ---- the default: sandbox/tools --------------------------------------------
og run "$G" --db :memory: --output json
expect_rc 0
check "default: every file" "$(py 'sorted(s["tools"])')" "$(ls sandbox/tools/*.json | sed 's|.*/||; s|\.json$||' | python3 -c 'import sys, json; print(json.dumps(sorted(sys.stdin.read().split())))')"
check "default: 9 tools" "$(py 'len(s["tools"])')" 9
check "default: as in the file" "$(py 's["tools"]["restart_service"] == json.load(open("sandbox/tools/restart_service.json"))')" true
check "default: no override key left behind" "$(py '"base_url" in s["tools"]["reduce_traffic"]')" false

# ---- a tools_dir of our own, and overrides ------------------------------------
mkdir -p "$tmp/tools"
cp sandbox/tools/restart_service.json sandbox/tools/reduce_traffic.json sandbox/tools/check_health.json "$tmp/tools/"
printf 'not a tool\n' >"$tmp/tools/README.md"
cfg own "{\"tools_dir\": \"$tmp/tools\", \"tool_overrides\": {
  \"restart_service\": {\"command\": [\"echo\", \"restarted {service}\"], \"timeout_s\": 5},
  \"reduce_traffic\": {\"base_url\": \"http://127.0.0.1:8099/\", \"headers\": {\"X-Env\": \"demo\"}},
  \"check_health\": {\"command\": [\"printf\", \"%s healthy\", \"{service}\"]}}}"
og run "$G" --db :memory: --output json --config "$tmp/own.json" --input '{"run": {"name": "restart_service", "args": {"service": "payment-service"}}}'
expect_rc 0
check "own dir: only its *.json" "$(py 'sorted(s["tools"])')" '["check_health", "reduce_traffic", "restart_service"]'
check "command override" "$(py '[s["tools"]["restart_service"]["command"], s["tools"]["restart_service"]["timeout_s"]]')" '[["echo", "restarted {service}"], 5]'
check "the overridden command ran" "$(py '[s["result"]["exit_code"], s["result"]["stdout"]]')" '[0, "restarted payment-service\n"]'
check "base_url override" "$(py 's["tools"]["reduce_traffic"]["http"]["url"]')" "http://127.0.0.1:8099/admin/v1/services/{service}/shed"
check "headers override" "$(py 's["tools"]["reduce_traffic"]["http"]["headers"]')" '{"X-Env": "demo"}'
check "rest of the file kept" "$(py '[s["tools"]["reduce_traffic"]["risk"], s["tools"]["reduce_traffic"]["params"]["required"]]')" '["medium", ["service", "percent"]]'
# an http tool overridden by a command runs the command
cfg http2cmd "{\"tools_dir\": \"$tmp/tools\", \"tool_overrides\": {\"reduce_traffic\": {\"command\": [\"echo\", \"shed {percent}% of {service}\"]}}}"
og run "$G" --db :memory: --output json --config "$tmp/http2cmd.json" --input '{"run": {"name": "reduce_traffic", "args": {"service": "payment-service", "percent": 30}}}'
expect_rc 0
check "http tool -> command" "$(py '["http" in s["tools"]["reduce_traffic"], s["result"]["stdout"]]')" '[false, "shed 30% of payment-service\n"]'
# dry_run: a command override leaves a native declaration of another
# command behind, so its dry-run runs the new command in the sandbox (the
# limits kept); a dry_run override replaces the declaration
cfg drov "{\"tools_dir\": \"$tmp/tools\", \"tool_overrides\": {\"restart_service\": {\"command\": [\"echo\", \"x\"]},
  \"check_health\": {\"command\": [\"true\"], \"dry_run\": {\"mode\": \"none\", \"reason\": \"read-only\"}}}}"
og run "$G" --db :memory: --output json --config "$tmp/drov.json"
expect_rc 0
check "command override: dry-run in the sandbox" "$(py '[s["tools"]["restart_service"]["dry_run"][k] for k in ("mode", "timeout_ms")] + ["argv" in s["tools"]["restart_service"]["dry_run"]]')" '["sandbox", 20000, false]'
check "command override: why" "$(py 's["tools"]["restart_service"]["dry_run"]["note"][:51]')" "config tool_overrides.command replaced the command:"
check "dry_run override" "$(py 's["tools"]["check_health"]["dry_run"]')" '{"mode": "none", "reason": "read-only"}'
check "modes after the overrides" "$(py 'sorted(set(t.get("dry_run", {"mode": "(default)"})["mode"] for t in s["tools"].values()))')" '["(default)", "none", "sandbox"]'
# a url override; tools_dir relative to the root
mkdir -p "$tmp/root/graphs" "$tmp/root/ops/tools"
cp "$G" "$tmp/root/graphs/show.lua"
cp sandbox/tools/reduce_traffic.json "$tmp/root/ops/tools/"
cfg rel '{"tools_dir": "ops/tools", "tool_overrides": {"reduce_traffic": {"url": "http://127.0.0.1:1/shed/{service}"}}}'
og run "$tmp/root/graphs/show.lua" --db :memory: --output json --config "$tmp/rel.json"
expect_rc 0
check "tools_dir relative to the root" "$(py '[sorted(s["tools"]), s["tools"]["reduce_traffic"]["http"]["url"]]')" '[["reduce_traffic"], "http://127.0.0.1:1/shed/{service}"]'
# inline tools win; the files are not read
cfg inline '{"tools": {"only": {"name": "only", "risk": "low", "params": {"type": "object"}, "command": ["true"]}}}'
og run "$G" --db :memory: --output json --config "$tmp/inline.json"
expect_rc 0
check "inline tools" "$(py 'sorted(s["tools"])')" '["only"]'

# ---- errors: exit 2, the file, the problem, the fix --------------------------------
# bad_tool NAME CONTENT NEEDLE: a tools_dir holding restart_service.json and NAME.json
bad_tool() {
	rm -rf "$tmp/bad"; mkdir -p "$tmp/bad"
	cp sandbox/tools/restart_service.json "$tmp/bad/"
	printf '%s\n' "$2" >"$tmp/bad/$1.json"
	cfg bad "{\"tools_dir\": \"$tmp/bad\"}"
	og run "$G" --db :memory: --config "$tmp/bad.json"
	expect_rc 2
	expect_in "$tmp/bad/$1.json" "$err" "stderr (names the file)"
	expect_in "$3" "$err" "stderr"
}
T='"description": "x", "params": {"type": "object", "properties": {}}, "risk": "low"'
bad_tool broken '{"name": "broken", ' "broken.json"
bad_tool other "{\"name\": \"x\", $T, \"command\": [\"true\"]}" '"name" must be "other", the file'"'"'s name without .json (got x)'
bad_tool noparams '{"name": "noparams", "risk": "low", "command": ["true"]}' '"params" must be a JSON schema of the args'
bad_tool risky '{"name": "risky", "params": {"type": "object"}, "risk": "extreme", "command": ["true"]}' '"risk" must be "low", "medium" or "high" (got extreme)'
bad_tool shell "{\"name\": \"shell\", $T, \"command\": \"systemctl restart x\"}" '"command" must be a non-empty argv list of strings'
bad_tool nums "{\"name\": \"nums\", $T, \"command\": [\"sleep\", 5]}" '"command" must hold only strings (argv)'
bad_tool both "{\"name\": \"both\", $T, \"command\": [\"true\"], \"http\": {\"method\": \"GET\", \"url\": \"http://x/\"}}" 'needs exactly one of "command"'
bad_tool neither "{\"name\": \"neither\", $T}" 'needs exactly one of "command"'
bad_tool nourl "{\"name\": \"nourl\", $T, \"http\": {\"method\": \"GET\"}}" '"http" must be an object with "method" and "url" strings'
bad_tool list '[1, 2]' 'a tool spec is a JSON object'
# the dry-run declaration (README, "Sandbox (dry-runs of actions)")
C="\"command\": [\"true\"]"
bad_tool drmode "{\"name\": \"drmode\", $T, $C, \"dry_run\": {\"mode\": \"real\"}}" 'dry_run.mode must be "sandbox" (run the command on a throwaway copy of the host), "native"'
bad_tool drobj "{\"name\": \"drobj\", $T, $C, \"dry_run\": \"sandbox\"}" '"dry_run" must be an object {"mode": "sandbox"|"native"|"native+sandbox"|"none", ...}'
bad_tool drkey "{\"name\": \"drkey\", $T, $C, \"dry_run\": {\"mode\": \"sandbox\", \"command\": [\"x\"]}}" 'dry_run: unknown key "command" (known: mode, argv, reason'
bad_tool drnative "{\"name\": \"drnative\", $T, $C, \"dry_run\": {\"mode\": \"native\"}}" 'dry_run.mode "native" needs dry_run.argv, the tool'"'"'s own dry-run command'
bad_tool drargv "{\"name\": \"drargv\", $T, $C, \"dry_run\": {\"mode\": \"native+sandbox\", \"argv\": [\"x\", 1]}}" 'dry_run.mode "native+sandbox" needs dry_run.argv'
bad_tool drstray "{\"name\": \"drstray\", $T, $C, \"dry_run\": {\"mode\": \"sandbox\", \"argv\": [\"x\"]}}" 'dry_run.argv is the native dry-run command; mode "sandbox" does not run it'
bad_tool drnone "{\"name\": \"drnone\", $T, $C, \"dry_run\": {\"mode\": \"none\"}}" 'dry_run.mode "none" needs dry_run.reason'
bad_tool drhttp "{\"name\": \"drhttp\", $T, \"http\": {\"method\": \"POST\", \"url\": \"http://x/\"}, \"dry_run\": {\"mode\": \"sandbox\"}}" 'dry_run.mode "sandbox" cannot apply to an http tool: the sandbox has no network'
bad_tool drwrites "{\"name\": \"drwrites\", $T, $C, \"dry_run\": {\"mode\": \"sandbox\", \"expect_writes\": \"/tmp\"}}" 'dry_run.expect_writes must be a list of path globs'
bad_tool drwrel "{\"name\": \"drwrel\", $T, $C, \"dry_run\": {\"mode\": \"sandbox\", \"expect_writes\": [\"/var/x/**\", \"var/cache/**\"]}}" 'dry_run.expect_writes[1] "var/cache/**" is not an absolute path glob'
bad_tool drtime "{\"name\": \"drtime\", $T, $C, \"dry_run\": {\"mode\": \"sandbox\", \"timeout_ms\": 1.5}}" 'dry_run.timeout_ms must be a whole number of milliseconds, 1 to 600000'
bad_tool drmem "{\"name\": \"drmem\", $T, $C, \"dry_run\": {\"mode\": \"sandbox\", \"memory_mb\": 0}}" 'dry_run.memory_mb must be a whole number of MiB'
bad_tool drpids "{\"name\": \"drpids\", $T, $C, \"dry_run\": {\"mode\": \"sandbox\", \"pids\": \"64\"}}" 'dry_run.pids must be a whole number of processes'

# bad_cfg CONFIG NEEDLE
bad_cfg() {
	cfg badcfg "$1"
	og run "$G" --db :memory: --config "$tmp/badcfg.json"
	expect_rc 2
	expect_in "$2" "$err" "stderr"
}
mkdir -p "$tmp/empty"
bad_cfg "{\"tools_dir\": \"$tmp/empty\"}" "holds no *.json tool file"
bad_cfg "{\"tools_dir\": \"$tmp/nonexistent\"}" "config \"tools_dir\" names the directory of the tool files"
bad_cfg '{"tools_dir": 5}' "config tools_dir must be a directory path"
bad_cfg '{"tool_overrides": {"restart_servce": {"command": ["true"]}}}' "config tool_overrides.restart_servce: no tool file sandbox/tools/restart_servce.json"
bad_cfg '{"tool_overrides": {"restart_service": {"cmd": ["true"]}}}' "config tool_overrides.restart_service: unknown key 'cmd' (allowed: base_url, url, headers, command, timeout_s, dry_run)"
bad_cfg '{"tool_overrides": {"restart_service": {"url": "http://x/"}}}' "url, base_url and headers apply to http tools; tool 'restart_service' runs a command"
bad_cfg '{"tool_overrides": {"restart_service": {"command": "echo hi"}}}' "config tool_overrides.restart_service.command must be a non-empty argv list"
bad_cfg '{"tool_overrides": {"reduce_traffic": {"base_url": "gateway:8080"}}}' "base_url must start with http:// or https://"
bad_cfg '{"tool_overrides": {"restart_service": {"timeout_s": -1}}}' "timeout_s must be a number of seconds > 0"
bad_cfg '{"tool_overrides": []}' "config tool_overrides must be an object"
bad_cfg '{"tool_overrides": {"restart_service": {"dry_run": {"mode": "none"}}}}' 'with config tool_overrides.restart_service: dry_run.mode "none" needs dry_run.reason'
bad_cfg '{"tool_overrides": {"restart_service": {"dry_run": true}}}' 'config tool_overrides.restart_service.dry_run must be an object'
bad_cfg '{"tools": {}, "tools_dir": "sandbox/tools"}' 'config has "tools" and also "tools_dir"'
# the command did not run a node: nothing was started
og run "$G" --db "$tmp/db" --config "$tmp/badcfg.json"
og threads --db "$tmp/db" --output json
check "no thread after a config error" "$out" "[]"

# the shipped native dry-runs are commands the tool accepts: kubectl's flag
# parser answers before it needs a cluster (rollout restart has no --dry-run)
if command -v kubectl >/dev/null; then
	for f in sandbox/tools/*.json; do
		argv=$(python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1])).get("dry_run", {})
a = d.get("argv") or []
vals = {"service": "demo", "replicas": "2", "path": "/var/log", "name": "x"}
if a[:1] == ["kubectl"]:
    print("\n".join(re.sub(r"\{(\w+)\}", lambda m: vals[m.group(1)], x) for x in a[1:]))
' "$f") || { bad "$f: could not read its dry_run.argv"; continue; }
		[ -n "$argv" ] || continue
		mapfile -t args <<<"$argv"
		err=$(timeout 10 kubectl --server=https://127.0.0.1:1 "${args[@]}" </dev/null 2>&1)
		case "$err" in
		*"unknown flag"*|*"unknown command"*|*"unknown shorthand"*) bad "$f: dry_run.argv refused by kubectl: $err" ;;
		*) ok ;;
		esac
	done
else
	echo "skip: kubectl not installed: the shipped native dry-runs' flags are not checked"
fi

finish
