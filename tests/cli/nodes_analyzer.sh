#!/usr/bin/env bash
# tests/cli/nodes_analyzer.sh: the built-in root-cause analyzer
# (nodes/lib/builtin_analyzer.lua) against every fixture in examples/contexts/.
#
# Each fixture is {"alert", "context", "expect": {signature, min_confidence,
# max_confidence, first_tool, also?, tools_include?}} (plus "opts" when it
# needs one). It is fed to tests/nodes/analyzer/analyzer_test.lua, a graph
# that calls analyzer.analyze and writes rca and candidates into the state.
# Checked per fixture: the signature, the confidence bounds, the first tool,
# 1 to 3 candidates with well-formed fields and only the allowed tool names,
# non-empty evidence quoting numbers, the rca fields, the no-match shape,
# `also`, determinism inside one run (inputs rebuilt with another key order)
# and across two runs (identical JSON). Then: every signature has a fixture,
# and analyzer.signatures() lists them all.
#
# The graph is run from the project root: its directory is not named graphs/,
# so require("nodes.lib...") resolves against the current directory.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/nodes_analyzer.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
GRAPH=tests/nodes/analyzer/analyzer_test.lua
FIXTURES=${ANALYZER_FIXTURES:-examples/contexts}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-analyzer.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT


# run FIXTURE OUT: runs the test graph on one fixture; sets rc
run() {
	timeout 30 "$OPSGRAPH" run "$GRAPH" --db :memory: --input "@$1" --output json >"$2" 2>"$2.err"
	rc=$?
}

# the checks of one run's output, one line each: "ok NAME" or "FAIL NAME: why"
cat >"$tmp/check.py" <<'EOF'
import json, re, sys

ALLOWED = {"restart_service", "scale_replicas", "rollback_deploy", "reduce_traffic", "clear_cache",
           "kill_process", "free_disk", "rotate_logs", "check_health"}
out_path, fixture_path = sys.argv[1], sys.argv[2]
name = fixture_path.rsplit("/", 1)[-1]
fixture = json.load(open(fixture_path))
exp = fixture["expect"]
try:
    doc = json.load(open(out_path))
except Exception as e:
    print(f"FAIL {name} output: not JSON ({e})")
    sys.exit()

def check(what, cond, why=""):
    print(f"ok {name} {what}" if cond else f"FAIL {name} {what}: {why}")

check("status", doc.get("status") == "done", f"status {doc.get('status')}, error {doc.get('error')}")
state = doc.get("state") or {}
rca = state.get("rca") or {}
cands = state.get("candidates") or []
conf = rca.get("confidence")
sig = rca.get("signature")
ev = rca.get("evidence") or []

check("signature", sig == exp["signature"], f"got {sig!r}, want {exp['signature']!r}")
check("confidence", isinstance(conf, (int, float)) and exp["min_confidence"] <= conf <= exp["max_confidence"],
      f"got {conf}, want [{exp['min_confidence']}, {exp['max_confidence']}]")
first = cands[0]["tools"][0]["name"] if cands and cands[0].get("tools") else None
check("first_tool", first == exp["first_tool"], f"got {first!r}, want {exp['first_tool']!r}")
check("candidates_count", 1 <= len(cands) <= 3, f"{len(cands)} candidates")
check("evidence", isinstance(ev, list) and len(ev) > 0 and all(isinstance(l, str) and l for l in ev)
      and re.search(r"\d", ev[0]) is not None, f"evidence {ev!r}")

problems = []
for i, c in enumerate(cands):
    for k in ("title", "description"):
        if not isinstance(c.get(k), str) or not c[k]:
            problems.append(f"candidate {i + 1}: no {k}")
    if c.get("risk") not in ("low", "medium", "high"):
        problems.append(f"candidate {i + 1}: risk {c.get('risk')!r}")
    if not isinstance(c.get("eta"), int) or c["eta"] <= 0:
        problems.append(f"candidate {i + 1}: eta {c.get('eta')!r}")
    tools = c.get("tools")
    if not isinstance(tools, list) or not tools:
        problems.append(f"candidate {i + 1}: no tools")
        continue
    for t in tools:
        if t.get("name") not in ALLOWED:
            problems.append(f"candidate {i + 1}: tool {t.get('name')!r} not allowed")
        args = t.get("args")
        if not isinstance(args, dict) or not isinstance(args.get("service"), str) or not args["service"]:
            problems.append(f"candidate {i + 1}: {t.get('name')} without args.service")
        elif t["name"] == "scale_replicas" and not (isinstance(args.get("replicas"), int) and args["replicas"] >= 1):
            problems.append("scale_replicas without a replica count")
        elif t["name"] == "reduce_traffic" and not (isinstance(args.get("percent"), int) and 0 < args["percent"] < 100):
            problems.append("reduce_traffic without a percent in 1..99")
        elif t["name"] in ("free_disk", "rotate_logs") and not str(args.get("path", "")).startswith("/"):
            problems.append(f"{t['name']} without an absolute path")
check("candidates_wellformed", not problems, "; ".join(problems))

rca_ok = (rca.get("analyzer") == "builtin" and isinstance(rca.get("root_cause"), str) and rca["root_cause"]
          and isinstance(rca.get("impact"), str) and rca["impact"] and isinstance(rca.get("also"), list)
          and isinstance(conf, (int, float)) and 0 <= conf <= 1)
check("rca_fields", rca_ok, f"rca {json.dumps(rca)[:300]}")

service = (fixture.get("alert") or {}).get("service")
if exp["signature"] == "none":
    check("no_match_shape", rca.get("root_cause") == "no known signature matched" and conf <= 0.2
          and len(cands) == 1 and cands[0]["tools"][0]["name"] == "check_health"
          and "manual" in cands[0]["description"].lower() and rca.get("also") == [],
          f"rca {rca.get('root_cause')!r} conf {conf}, candidates {[c['title'] for c in cands]}")
else:
    check("root_cause_names_service", service in rca.get("root_cause", ""), f"{rca.get('root_cause')!r} lacks {service!r}")
    also = [a.get("signature") for a in rca.get("also", [])]
    check("also_excludes_top", sig not in also and all(isinstance(a.get("confidence"), (int, float))
          and a["confidence"] <= conf for a in rca.get("also", [])), f"also {rca.get('also')}")

for a in exp.get("also", []):
    got = [x.get("signature") for x in rca.get("also", [])]
    check(f"also_{a}", a in got and any(a in l for l in ev), f"also {got}, evidence lacks or has {a}")
for t in exp.get("tools_include", []):
    got = [tt["name"] for c in cands for tt in c.get("tools", [])]
    check(f"tools_include_{t}", t in got, f"tools {got}")
check("deterministic_in_run", state.get("same") is True, "a reordered copy of the input gave another answer")
EOF

# canonical form of rca + candidates, for the run-to-run comparison
canon() {
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["state"]
print(json.dumps({"rca": s.get("rca"), "candidates": s.get("candidates")}, sort_keys=True))' "$1" 2>/dev/null
}

"$OPSGRAPH" check "$GRAPH" >"$tmp/check.out" 2>&1 && ok || bad "opsgraph check $GRAPH: $(cat "$tmp/check.out")"

n=0 seen_sigs=""
for f in "$FIXTURES"/*.json; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	name=$(basename "$f")
	run "$f" "$tmp/a.json"
	if [ "$rc" -ne 0 ]; then
		bad "$name: exit $rc: $(head -c 400 "$tmp/a.json.err")"
		continue
	fi
	ok
	while IFS= read -r line; do
		case "$line" in
		ok\ *) ok ;;
		*) bad "$line" ;;
		esac
	done < <(python3 "$tmp/check.py" "$tmp/a.json" "$f" 2>&1)
	run "$f" "$tmp/b.json"
	a=$(canon "$tmp/a.json") b=$(canon "$tmp/b.json")
	if [ "$rc" -eq 0 ] && [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else bad "$name: two runs differ"; fi
	seen_sigs="$seen_sigs $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["expect"]["signature"])' "$f")"
	sigs_file=$tmp/a.json
done
[ "$n" -ge 12 ] && ok || bad "only $n fixtures in $FIXTURES"

# robustness: every fixture again with 1-6 fields replaced by null, a wrong
# type or nothing (fixed seed, so the same variants every run). The analyzer
# must still answer with a well-formed rca and 1-3 allowed candidates.
mkdir -p "$tmp/fuzz"
python3 - "$FIXTURES" "$tmp/fuzz" <<'EOF'
import glob, json, os, random, sys
rnd = random.Random(4)
JUNK = [None, "", "x", 0, -1, 1e300, 0.5, True, [], {}, [None], {"a": None}, "NaN", "99%", [1, "two"]]
DEL = object()
def paths(v, p=()):
    if p:
        yield p
    if isinstance(v, dict):
        for k in sorted(v):
            yield from paths(v[k], p + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from paths(x, p + (i,))
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    base = json.load(open(f))
    base.pop("expect", None)
    for j in range(3):
        d = json.loads(json.dumps(base))
        for _ in range(rnd.randint(1, 6)):
            p = rnd.choice(list(paths(d)))
            c = rnd.choice(JUNK + [DEL])
            v = d
            for k in p[:-1]:
                v = v[k]
            if c is DEL and isinstance(v, dict):
                del v[p[-1]]
            else:
                v[p[-1]] = None if c is DEL else json.loads(json.dumps(c))
        json.dump(d, open(os.path.join(sys.argv[2], f"{os.path.basename(f)[:-5]}_{j}.json"), "w"))
EOF
for f in "$tmp"/fuzz/*.json; do
	[ -f "$f" ] || continue
	run "$f" "$tmp/z.json"
	res=$(python3 -c '
import json, sys
ALLOWED = "restart_service scale_replicas rollback_deploy reduce_traffic clear_cache kill_process free_disk rotate_logs check_health".split()
d = json.load(open(sys.argv[1]))
s = d.get("state") or {}
r, c = s.get("rca") or {}, s.get("candidates") or []
ok = (d.get("status") == "done" and s.get("same") is True and 1 <= len(c) <= 3 and r.get("evidence")
      and r.get("analyzer") == "builtin" and isinstance(r.get("root_cause"), str)
      and 0 <= r.get("confidence", -1) <= 1
      and all(t["name"] in ALLOWED for x in c for t in x["tools"]))
print("ok" if ok else "bad: " + json.dumps(d)[:400])' "$tmp/z.json" 2>&1)
	if [ "$rc" -eq 0 ] && [ "$res" = ok ]; then ok; else bad "fuzzed $(basename "$f"): exit $rc, $res $(head -c 300 "$tmp/z.json.err")"; fi
done

# every signature has a fixture; signatures() lists them all, with text
ids="db_pool_exhaustion redis_timeout upstream_rate_limit oom_memory cpu_throttling slow_sql deploy_regression network_loss disk_full crash_loop runq_saturation none"
for id in $ids; do
	case " $seen_sigs " in
	*" $id "*) ok ;;
	*) bad "no fixture expects signature $id" ;;
	esac
done
if [ -n "${sigs_file:-}" ]; then
	res=$(python3 -c '
import json, sys
sigs = json.load(open(sys.argv[1]))["state"]["signatures"]
want = sys.argv[2].split()[:-1]
got = [s.get("id") for s in sigs]
bad = [s for s in sigs if not (s.get("title") and s.get("description"))]
print("ok" if got == want and not bad else f"signatures() ids {got}, want {want}; missing text: {bad}")' "$sigs_file" "$ids" 2>&1)
	[ "$res" = ok ] && ok || bad "$res"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
