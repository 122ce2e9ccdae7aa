#!/usr/bin/env bash
# tests/cli/graph_cli.sh: the opsgraph binary's check, graph and run
# commands, driven through the real executable against the graph files in
# tests/graphs/. Exit statuses (0 done, 1 run/check failed, 2 usage or
# input error), message shapes (file:line, byte offsets, usage) and output
# formats (mermaid, dot, --output json, --stream) are checked; JSON is
# validated with python3.
#
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/graph_cli.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
G=tests/graphs
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-cli.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/start"


# og ARGS...: runs the binary (bounded in time), sets rc, out, err.
# `run` keeps its checkpoints in a database of the test's own ($tmp/db),
# never in the default ./var/opsgraph.db of the working tree.
og() {
	if [ "${1:-}" = run ] && [ $# -gt 1 ]; then
		set -- "$@" --db "$tmp/db"
	fi
	timeout 30 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	last="opsgraph $*"
}

# expect_re REGEX HAYSTACK WHAT (extended regex, any line)
expect_re() {
	if printf '%s\n' "$2" | grep -Eq -- "$1"; then ok; else bad "$last: $3 does not match /$1/; got: $2"; fi
}

# py SCRIPT: runs a python3 check on $tmp/out; prints "ok" or a reason.
py() {
	local res
	res=$(python3 -c "$1" "$tmp/out" 2>&1)
	if [ "$res" = "ok" ]; then ok; else bad "$last: $res"; fi
}

if [ ! -x "$OPSGRAPH" ]; then
	echo "no binary at $OPSGRAPH (run make first)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if ! command -v python3 >/dev/null; then
	echo "python3 is needed to validate JSON" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# ---- check -------------------------------------------------------------------

og check $G/barrier.lua
expect_rc 0
expect_in "ok" "$out" "stdout"
expect_in "graph 'barrier', 4 nodes" "$out" "stdout"

# file:line of the line that holds $2 in file $1
line_of() { echo "$1:$(grep -nF -- "$2" "$1" | head -n 1 | cut -d: -f1):"; }

og check $G/check_unknown_edge.lua
expect_rc 1
expect_in "$(line_of $G/check_unknown_edge.lua 'g:edge("a", "ghost")')" "$err" "stderr"
expect_in "no node named 'ghost'" "$err" "stderr"

og check $G/check_unreachable.lua
expect_rc 1
expect_in "$(line_of $G/check_unreachable.lua 'g:node("island"')" "$err" "stderr"
expect_in "node 'island' is unreachable from START" "$err" "stderr"

og check $G/check_route_no_targets.lua
expect_rc 1
expect_in "$(line_of $G/check_route_no_targets.lua 'g:route("a"')" "$err" "stderr"
expect_in "route from 'a' declares no targets" "$err" "stderr"

# graph-file errors are check failures too, with file:line
og check $G/bad_syntax.lua
expect_rc 1
expect_in "$G/bad_syntax.lua:4:" "$err" "stderr"
og check $G/bad_node_fn.lua
expect_rc 1
expect_in "$(line_of $G/bad_node_fn.lua '"not a function"')" "$err" "stderr"
expect_in "g:node: node 'b': the second argument must be a function" "$err" "stderr"

og check $G/no_such_graph.lua
expect_rc 2
expect_in "graph file '$G/no_such_graph.lua'" "$err" "stderr"
expect_re "(No such file|does not exist)" "$err" "stderr"

og check
expect_rc 2
expect_in "usage: opsgraph check" "$err" "stderr"

# ---- graph ------------------------------------------------------------------

# The edges of barrier.lua, by label: START->a, a->b, a->c, b->z, c->z, z->END.
want_edges='{("START","a"),("a","b"),("a","c"),("b","z"),("c","z"),("z","END")}'

og graph $G/barrier.lua --format mermaid
expect_rc 0
expect_re '^(flowchart|graph) ' "$out" "mermaid output"
py "
import re, sys
text = open(sys.argv[1]).read()
labels, edges = {}, set()
for line in text.splitlines():
    m = re.match(r'\s*([\w]+)\s*(?:\[\"([^\"]*)\"\]|\(\[([^\])]*)\]\)|\(\(\"?([^\")]*)\"?\)\))', line)
    if m and '-->' not in line and '-.->' not in line:
        labels[m.group(1)] = m.group(2) or m.group(3) or m.group(4) or ''
    m = re.match(r'\s*(\w+)\s*(-->|-\.->|==>)\s*(\w+)', line)
    if m:
        edges.add((m.group(1), m.group(3)))
named = {(labels.get(a, a), labels.get(b, b)) for a, b in edges}
want = $want_edges
missing = want - named
print('ok' if not missing else 'mermaid lacks edges %s; has %s' % (sorted(missing), sorted(named)))
"

og graph $G/barrier.lua --format dot
expect_rc 0
expect_re '^digraph ' "$out" "dot output"
py "
import re, sys
text = open(sys.argv[1]).read()
labels = dict(re.findall(r'\"([^\"]+)\"\s*\[label=\"([^\"]*)\"', text))
edges = set(re.findall(r'\"([^\"]+)\"\s*->\s*\"([^\"]+)\"', text))
named = {(labels.get(a, a), labels.get(b, b)) for a, b in edges}
want = $want_edges
missing = want - named
ok = not missing and text.rstrip().endswith('}')
print('ok' if ok else 'dot lacks edges %s; has %s' % (sorted(missing), sorted(named)))
"

# routes are drawn too (to every declared target)
og graph $G/route.lua --format dot
expect_rc 0
py "
import re, sys
text = open(sys.argv[1]).read()
labels = dict(re.findall(r'\"([^\"]+)\"\s*\[label=\"([^\"]*)\"', text))
edges = {(labels.get(a, a), labels.get(b, b)) for a, b in re.findall(r'\"([^\"]+)\"\s*->\s*\"([^\"]+)\"', text)}
want = {('pick', 'b'), ('pick', 'c'), ('pick', 'END'), ('c', 'c_only')}
print('ok' if want <= edges else 'route edges missing: %s' % sorted(want - edges))
"

# mermaid is the default
og graph $G/barrier.lua
expect_rc 0
expect_re '^(flowchart|graph) ' "$out" "default format"

og graph $G/barrier.lua --format png
expect_rc 2
expect_in "png" "$err" "stderr"
expect_in "mermaid" "$err" "stderr (lists the valid formats)"

og graph $G/barrier.lua --format
expect_rc 2
expect_in "usage: opsgraph graph" "$err" "stderr"

og graph $G/check_unknown_edge.lua
expect_rc 1
expect_in "no node named 'ghost'" "$err" "stderr"

# ---- run ---------------------------------------------------------------------

og run $G/barrier.lua --output json
expect_rc 0
py "
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, 'want one line, got %d' % len(lines)
d = json.loads(lines[0])
assert isinstance(d, dict), 'not an object'
assert isinstance(d.get('thread_id'), str) and d['thread_id'], 'thread_id'
assert d.get('status') == 'done', 'status %r' % d.get('status')
want = {'count': 11, 'log': ['a', 'c saw 1', 'b saw 1', 'z saw 11'], 'seen': {'c': 1, 'b': 1}}
assert d.get('state') == want, 'state %r' % d.get('state')
assert d.get('steps') == 3, 'steps %r' % d.get('steps')
assert d.get('error') is None, 'error %r' % d.get('error')
print('ok')
"

# --thread names the thread; a second run may not reuse it
og run $G/barrier.lua --output json --thread my-thread-1
expect_rc 0
py "
import json, sys
d = json.load(open(sys.argv[1]))
print('ok' if d['thread_id'] == 'my-thread-1' else 'thread_id %r' % d['thread_id'])
"
og run $G/barrier.lua --output json --thread my-thread-1
expect_rc 2
expect_in "my-thread-1" "$err" "stderr"

# text output: a summary line and the state
og run $G/barrier.lua
expect_rc 0
expect_re '^thread [^ ]+: done' "$out" "text output"
expect_in '"count":' "$out" "text output"

# --stream: one JSON object per line, task/step/done events
og run $G/send_map.lua --stream --input '{"n": 5}'
expect_rc 0
py "
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, 'no output'
evs = []
for i, line in enumerate(lines):
    try:
        d = json.loads(line)
    except ValueError as e:
        raise SystemExit('line %d is not JSON: %r (%s)' % (i + 1, line, e))
    assert isinstance(d, dict) and 'event' in d, 'line %d has no event: %r' % (i + 1, line)
    evs.append(d)
kinds = [d['event'] for d in evs]
tasks = [d for d in evs if d['event'] == 'task']
assert len(tasks) == 6, 'want 6 task events, got %d' % len(tasks)
for t in tasks:
    for k in ('task', 'step', 'node', 'status'):
        assert k in t, 'task event lacks %s: %r' % (k, t)
assert all(t['status'] == 'ok' for t in tasks), 'a task failed'
assert [t['step'] for t in tasks] == [0] * 5 + [1], 'task steps %r' % [t['step'] for t in tasks]
steps = [d for d in evs if d['event'] == 'step']
assert [s['step'] for s in steps] == [0, 1], 'step events %r' % [s['step'] for s in steps]
assert kinds[-1] == 'done', 'last event is %r' % kinds[-1]
assert kinds.count('done') == 1
print('ok')
"

# a failing run streams an error event and exits 1
og run $G/errors.lua --stream --input '{"mode": "raise"}'
expect_rc 1
py "
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
errs = [d for d in evs if d['event'] == 'error']
assert len(errs) == 1, 'want one error event, got %r' % evs
e = errs[0].get('error', {})
assert e.get('node') == 'boom', 'error node %r' % e
assert 'kaboom' in e.get('message', ''), 'error message %r' % e
assert not any(d['event'] == 'done' for d in evs), 'done after an error'
print('ok')
"

# --input @file
printf '{"mode": "list"}\n' >"$tmp/in.json"
og run $G/route.lua --input @"$tmp/in.json" --output json
expect_rc 0
py "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['status'] == 'done', d
assert d['state']['trail'] == ['pick', 'b', 'c', 'c_only'], d['state']
print('ok')
"

og run $G/route.lua --input @"$tmp/no-such-input.json"
expect_rc 2
expect_in "cannot open '$tmp/no-such-input.json'" "$err" "stderr"

# invalid JSON: exit 2 and the byte offset of the mistake
og run $G/barrier.lua --input '{"count": x, "log": []}'
expect_rc 2
expect_in "invalid JSON at byte 10" "$err" "stderr"
printf '{"count": 1, "log": [1, 2,, 3]}' >"$tmp/bad.json"
og run $G/barrier.lua --input @"$tmp/bad.json"
expect_rc 2
expect_in "invalid JSON in $tmp/bad.json at byte 26" "$err" "stderr"

# input the graph cannot take: exit 2
og run $G/barrier.lua --input '{"nope": 1}'
expect_rc 2
expect_in "input wrote unknown channel 'nope'" "$err" "stderr"
expect_in "declares: count, log, seen" "$err" "stderr"
og run $G/barrier.lua --input '{"log": 5}'
expect_rc 2
expect_in "takes a list" "$err" "stderr"
og run $G/barrier.lua --input '[1]'
expect_rc 2
expect_in "input must be a JSON object" "$err" "stderr"

# a run that fails: exit 1, status error, the message
og run $G/writes.lua --input '{"mode": "conflict"}' --output json
expect_rc 1
py "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['status'] == 'error', d
assert 'concurrent writes to \'count\' by b and c in step 1' in d['error'], d['error']
assert d['state']['items'] == ['a'], d['state']
print('ok')
"
og run $G/errors.lua --input '{"mode": "raise"}'
expect_rc 1
expect_in "opsgraph: run failed: node 'boom' failed: " "$err" "stderr"
expect_in "$(line_of $G/errors.lua '-- @raise')" "$err" "stderr"
expect_in "stack traceback" "$err" "stderr"

# the recursion limit, from the graph default and from --recursion-limit
og run $G/loop.lua --output json
expect_rc 1
expect_in "recursion limit of 25 supersteps" "$out" "json error"
og run $G/loop.lua --recursion-limit 4 --output json
expect_rc 1
py "
import json, sys
d = json.load(open(sys.argv[1]))
assert 'recursion limit of 4 supersteps' in d['error'] and 'next nodes: tick' in d['error'], d['error']
assert d['state']['count'] == 4, d['state']
print('ok')
"
og run $G/loop.lua --recursion-limit 0
expect_rc 2
expect_in "--recursion-limit takes a whole number" "$err" "stderr"
og run $G/loop.lua --recursion-limit many
expect_rc 2

# budgets end the run with exit 1
og run $G/budget.lua --input '{"mode": "spin"}'
expect_rc 1
expect_in "node 'spin' exceeded its instruction budget" "$err" "stderr"

# a graph that does not load
og run $G/bad_no_return.lua
expect_rc 1
expect_in 'the graph file must end with `return g`' "$err" "stderr"

# missing graph file: exit 2 and a clear message
og run $G/no_such_graph.lua
expect_rc 2
expect_in "graph file '$G/no_such_graph.lua'" "$err" "stderr"
expect_re "(No such file|does not exist)" "$err" "stderr"

# ---- usage ---------------------------------------------------------------------

og frobnicate
expect_rc 2
expect_in "unknown command 'frobnicate'" "$err" "stderr"
expect_in "usage: opsgraph COMMAND" "$err" "stderr"

og
expect_rc 2
expect_in "usage: opsgraph COMMAND" "$err" "stderr"

og --help
expect_rc 0
expect_in "usage: opsgraph COMMAND" "$out" "stdout"

og run $G/barrier.lua --frob
expect_rc 2
expect_in "unknown or incomplete option '--frob'" "$err" "stderr"
expect_in "usage: opsgraph run" "$err" "stderr"

og run $G/barrier.lua --input
expect_rc 2
expect_in "usage: opsgraph run" "$err" "stderr"

og run $G/barrier.lua --output xml
expect_rc 2
expect_in "--output takes json or text" "$err" "stderr"

og run
expect_rc 2
expect_in "usage: opsgraph run" "$err" "stderr"

og run $G/barrier.lua $G/join.lua
expect_rc 2
expect_in "usage: opsgraph run" "$err" "stderr"

# nothing was written outside the test's own directory
if [ -n "$(find var -newer "$tmp/start" 2>/dev/null | head -n 1)" ]; then
	bad "a command wrote under ./var"
else
	ok
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
