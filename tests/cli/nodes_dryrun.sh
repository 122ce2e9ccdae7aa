#!/usr/bin/env bash
# tests/cli/nodes_dryrun.sh: nodes/dry_run_actions.lua and ctx.tools.dry_run
# through the real binary: tests/nodes/dryrun/graph.lua (a plan given as
# input -> dry_run_actions -> human_decision) with the test tools of
# tests/nodes/dryrun/tools (config tools_dir).
#
# Covered: a sandbox tool that deletes a log, rewrites a config and adds a
# file under a fixture directory: its report lists each (and the added file
# as a surprise against expect_writes), and the host is unchanged; a native
# tool (only its own dry-run ran: fidelity native, the real command kept as
# run_argv); a tool declared "none" (its reason); an http tool without a
# declaration ("HTTP tool: would POST <url> ..."); an action of two tools
# (verdict per tool, fidelity mixed); the question carries each action's
# verdict; the plan hash covers the reports (the planner's hash is refused
# as "the plan changed", the shown one accepted); config dry_run = false
# (every card "not dry-run: dry-runs are off ...") and a bad dry_run value;
# the same run as a user who is not root (setpriv; the cards say why there
# is no dry-run); bad calls (unknown tool, missing arg, args not a table,
# unknown option, an inline http tool declared sandbox, native without
# argv) raise with the fix, and in the node become the card's reason; the journal: a node that dry-runs, is interrupted and
# re-runs gets the recorded report back (same cgroup id: no second run).
# The sandbox tests need root and are skipped with the reason otherwise.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/nodes_dryrun.sh
# Last line: "N passed, N failed[, N skipped]"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT OG_SANDBOX_DISABLE
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
G=tests/nodes/dryrun/graph.lua
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-dryrun.XXXXXX") || exit 2
# the fixture lives under var/: the sandbox masks /tmp
mkdir -p var && fx=$(mktemp -d "$PWD/var/og-dryrun-fx.XXXXXX") || exit 2
trap 'rm -rf "$tmp" "$fx"' EXIT
chmod 755 "$tmp" "$fx"

if [ "$(id -u)" != 0 ]; then
	echo "skipped: not root (dry-runs need the sandbox: namespaces, overlay mounts and cgroups)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! "$OPSGRAPH" sandbox check >"$tmp/why" 2>&1; then
	echo "skipped: the sandbox cannot run here: $(head -c 300 "$tmp/why")"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
check() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
# py EXPR: EXPR over the last --output json: s = state, i = the first interrupt's value
py() {
	printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin); s = d.get("state") or d.get("values") or {}
ints = d.get("interrupts") or []
i = ints[0]["value"] if ints else {}
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$1" 2>&1
}
printf 'line 1\nline 2\n' >"$fx/app.log"
printf 'pool_size = 10\n' >"$fx/app.conf"
chmod 644 "$fx/app.log" "$fx/app.conf"
before=$(cd "$fx" && ls -l --time-style=+%s && md5sum app.log app.conf)

cfg() { printf '%s\n' "$2" >"$tmp/$1.json"; chmod 644 "$tmp/$1.json"; }
TOOLS=$PWD/tests/nodes/dryrun/tools
cfg on "{\"tools_dir\": \"$TOOLS\"}"
INPUT=$(python3 -c '
import json, sys
a = lambda i, t, tools: {"id": i, "title": t, "description": t, "risk": "medium", "eta": 10, "tools": tools}
print(json.dumps({"alert": {"service": "svc", "severity": "critical", "summary": "pool"},
  "rca": {"root_cause": "pool", "confidence": 0.8, "analyzer": "builtin", "evidence": []},
  "plan": {"actions": [a("1", "Wipe", [{"name": "wipe", "args": {"dir": sys.argv[1]}}]),
                       a("2", "Preview, then remote", [{"name": "preview", "args": {"target": "db"}}, {"name": "remote", "args": {"x": 1}}]),
                       a("3", "Shed", [{"name": "shed", "args": {"percent": 20}}])],
           "notes": [], "hash": "fnv1a64:0000000000000000"}}))' "$fx")

# ---- the dry-runs -------------------------------------------------------------
og run "$G" --db "$tmp/db" --config "$tmp/on.json" --input "$INPUT" --output json
expect_rc 0
T=$(py 'd["thread_id"]')
check "paused at the question" "$(py '[d["status"], d["interrupts"][0]["node"], i["kind"]]')" '["interrupted", "human_decision", "decision"]'
check "fidelity per action" "$(py '[(k, s["dry_runs"]["actions"][k]["fidelity"]) for k in ("1", "2", "3")]')" \
	'[["1", "sandbox"], ["2", "mixed"], ["3", "none"]]'
W='s["dry_runs"]["actions"]["1"]["reports"][0]'
check "sandbox: deleted" "$(py "[f['path'] for f in $W['files']['deleted']]")" "[\"$fx/app.log\"]"
check "sandbox: modified with sizes" "$(py "[(f['path'], f['size'], f['old_size']) for f in $W['files']['modified']]")" "[[\"$fx/app.conf\", 15, 15]]"
check "sandbox: created" "$(py "[(f['path'], f['size']) for f in $W['files']['created']]")" "[[\"$fx/new.txt\", 4]]"
check "sandbox: the undeclared write is a surprise" "$(py "[x['path'] for x in $W['surprises']]")" "[\"$fx/new.txt\"]"
check "sandbox: exit and output" "$(py "[$W['exit_code'], $W['stdout'], $W['mode'], $W['argv'][0]]")" '[0, "wiped\n", "sandbox", "bash"]'
check "sandbox: verdict" "$(py "$W['verdict'] == s['dry_runs']['actions']['1']['verdict'] and '$fx' in $W['verdict']")" true
after=$(cd "$fx" && ls -l --time-style=+%s && md5sum app.log app.conf)
check "the host is unchanged" "$after" "$before"
P='s["dry_runs"]["actions"]["2"]["reports"]'
check "native: only the tool's own dry-run ran" "$(py "[$P[0]['fidelity'], $P[0]['argv'], $P[0]['run_argv'][-1], $P[0]['stdout']]")" \
	'["native", ["echo", "would change db"], "echo really db; exit 3", "would change db\n"]'
check "none: the declared reason" "$(py "[$P[1]['fidelity'], $P[1]['verdict']]")" \
	'["none", "not dry-run: acts on a remote cluster with no dry-run mode"]'
check "two tools: a verdict each" "$(py 's["dry_runs"]["actions"]["2"]["verdict"].split("; ")[1]')" \
	"remote: not dry-run: acts on a remote cluster with no dry-run mode"
check "http: what it would send" "$(py 's["dry_runs"]["actions"]["3"]["verdict"]')" \
	"not dry-run: HTTP tool: would POST http://gateway.invalid/shed/20 (no dry-run endpoint)"
check "the question carries each verdict" "$(py '[a["dry_run"] == {"fidelity": s["dry_runs"]["actions"][a["id"]]["fidelity"], "verdict": s["dry_runs"]["actions"][a["id"]]["verdict"]} for a in i["actions"]]')" \
	'[true, true, true]'
check "timeline" "$(py '[(e["node"], e["event"], e["detail"].startswith("1: touches")) for e in s["timeline"] if e["event"] == "dry_run"]')" \
	'[["dry_run_actions", "dry_run", true]]'
check "the hash covers the dry-runs" "$(py '[s["plan"]["planned_hash"], i["plan_hash"] == s["plan"]["hash"] != s["plan"]["planned_hash"]]')" \
	'["fnv1a64:0000000000000000", true]'
HASH=$(py 'i["plan_hash"]')
og resume "$T" --db "$tmp/db" --config "$tmp/on.json" --value '{"choice": "manual", "plan_hash": "fnv1a64:0000000000000000"}' --by t
expect_rc 2
expect_in "the plan changed" "$err" "stderr (the planner's hash, without the dry-runs)"
og resume "$T" --db "$tmp/db" --config "$tmp/on.json" --value "{\"choice\": \"manual\", \"plan_hash\": \"$HASH\"}" --by t --output json
expect_rc 0
check "the shown hash is accepted" "$(py '[d["status"], s["decision"]["plan_hash"]]')" "[\"done\", \"$HASH\"]"

# ---- the switch --------------------------------------------------------------------
cfg off "{\"tools_dir\": \"$TOOLS\", \"dry_run\": false}"
og run "$G" --db :memory: --config "$tmp/off.json" --input "$INPUT" --output json
expect_rc 0
check "dry_run = false: every card says so" "$(py 'sorted(set(a["dry_run"]["verdict"].split("; ")[-1] for a in i["actions"]))')" \
	'["not dry-run: dry-runs are off (config dry_run = false)", "remote: not dry-run: dry-runs are off (config dry_run = false)"]'
check "dry_run = false: recorded" "$(py '[s["dry_runs"]["enabled"], s["dry_runs"]["reason"]]')" '[false, "dry-runs are off (config dry_run = false)"]'
cfg bad "{\"tools_dir\": \"$TOOLS\", \"dry_run\": \"yes\"}"
og run "$G" --db :memory: --config "$tmp/bad.json" --input "$INPUT" --output json
expect_in "config dry_run must be true or false (got yes)" "$out$err" "output"

# ---- not root ----------------------------------------------------------------------
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	NB=$(id -u nobody)
	timeout 60 setpriv --reuid="$NB" --regid="$(id -g nobody)" --clear-groups \
		"$OPSGRAPH" run "$G" --db :memory: --config "$tmp/on.json" --input "$INPUT" --output json >"$tmp/out" 2>"$tmp/err"
	out=$(cat "$tmp/out")
	check "not root: no dry-run, and why" "$(py '[s["dry_runs"]["actions"]["1"]["fidelity"], i["actions"][0]["dry_run"]["verdict"].startswith("not dry-run: "), "not root (euid '"$NB"')" in i["actions"][0]["dry_run"]["verdict"]]')" \
		'["none", true, true]'
else
	echo "skipped: not-root case (no setpriv or no user nobody)"
fi

# ---- bad calls: clear errors ----------------------------------------------------------
C=tests/nodes/dryrun/call.lua
call_err() {	# WHAT INPUT NEEDLE [CONFIG]
	og run "$C" --db :memory: --config "${4:-$tmp/on.json}" --input "$2" --output json
	expect_in "$3" "$out$err" "$1"
}
call_err "unknown tool" '{"name": "nope"}' "ctx.tools.dry_run: no tool 'nope' in the registry (known: preview, remote, shed, wipe)"
call_err "missing arg" '{"name": "wipe", "args": {}}' "ctx.tools.dry_run: tool 'wipe': command[3]"
call_err "missing arg names it" '{"name": "wipe", "args": {}}' "needs args.dir, which is missing"
call_err "args not a table" '{"name": "wipe", "args": "x"}' "ctx.tools.dry_run: tool 'wipe': args must be a table"
call_err "unknown option" '{"name": "remote", "args": {}, "opts": {"bogus": 1}}' "unknown option 'bogus' (known: trace)"
# an inline registry is not checked at load: the call checks what it uses
cfg inline '{"tools": {"web": {"name": "web", "risk": "low", "params": {"type": "object"}, "http": {"method": "POST", "url": "http://x.invalid/"}, "dry_run": {"mode": "sandbox"}},
  "nat": {"name": "nat", "risk": "low", "params": {"type": "object"}, "command": ["true"], "dry_run": {"mode": "native"}}}}'
call_err "inline: http in the sandbox" '{"name": "web"}' 'dry_run.mode "sandbox" cannot apply to an http tool' "$tmp/inline.json"
call_err "inline: native without argv" '{"name": "nat"}' 'dry_run.mode "native" needs dry_run.argv' "$tmp/inline.json"
# in the node, such an error becomes the card's reason and the question is still asked
og run "$G" --db :memory: --config "$tmp/inline.json" --output json --input \
	'{"plan": {"actions": [{"id": "1", "title": "t", "description": "d", "risk": "low", "eta": 1, "tools": [{"name": "web", "args": {}}]}], "notes": [], "hash": "fnv1a64:0000000000000000"}}'
check "a raising dry-run becomes a reason" "$(py '[d["status"], i["actions"][0]["dry_run"]["fidelity"], "cannot apply to an http tool" in i["actions"][0]["dry_run"]["verdict"], i["actions"][0]["dry_run"]["verdict"].startswith("not dry-run: ")]')" \
	'["interrupted", "none", true, true]'

# ---- the journal: no second dry-run ---------------------------------------------------
og run tests/nodes/dryrun/journal.lua --db "$tmp/j.db" --config "$tmp/on.json" --input "{\"first\": \"$fx\"}" --output json
expect_rc 0
JT=$(py 'd["thread_id"]')
CG=$(py 'i["cgroup_id"]')
og resume "$JT" --db "$tmp/j.db" --config "$tmp/on.json" --value '"ok"' --output json
expect_rc 0
check "re-run gets the recorded report" "$(py '[s["second"]["answer"], s["second"]["report"]["cgroup_id"] == '"$CG"', s["second"]["report"]["fidelity"]]')" \
	'["ok", true, "sandbox"]'
og history "$JT" --db "$tmp/j.db" --output json
finish
