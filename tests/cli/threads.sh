#!/usr/bin/env bash
# tests/cli/threads.sh: durable threads through the real binary: interrupt
# and resume (by value, by id, several interrupts in one node, parallel
# interrupts), the side-effect journal, exactly-once decisions under two
# concurrent resumers, static breakpoints, history, state, fork, replay, gc,
# and the errors for bad input (nothing changed). Each case uses its own
# database in a temp dir.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
G=tests/graphs/durable
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-threads.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/db

og() {
	timeout 60 "$OPSGRAPH" "$@" --db "$DB" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}
# jq-like: py EXPR reads JSON from $out, prints eval(EXPR) with j bound
py() { printf '%s' "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" 2>&1; }
expect_py() { local got; got=$(py "$1"); if [ "$got" = "$2" ]; then ok; else bad "$last: $1 = '$got', want '$2'"; fi; }

# --- interrupt, then resume by value; the journal replays ctx.now --------
og run $G/approve.lua --thread t1 --output json
expect_rc 0
expect_py 'j["status"]' interrupted
expect_py 'j["interrupts"][0]["node"]' human
expect_py 'j["interrupts"][0]["value"]["options"]' "['restart', 'scale']"
og state t1 --output json
asked=$(py 'j["pending"][0]["journal"][0]["v"]')
key=$(py 'j["interrupts"][0]["value"]["key"]')
og resume t1 --value '"scale"' --by alice --output json
expect_rc 0
expect_py 'j["status"]' done
expect_py 'j["state"]["log"]' "['plan', 'human', 'exec scale']"
expect_py 'j["state"]["asked_at"]' "$asked"
expect_py 'j["state"]["key"]' "$key"
expect_py 'len(j["state"]["key"])' 16

# --- text output tells the operator how to answer -------------------------
og run $G/approve.lua --thread t2
expect_rc 0
expect_in "waiting at node 'human'" "$out" "text report"
expect_in "opsgraph resume t2 --value" "$out" "text report"

# --- a second answer to the same interrupt is refused, nothing changes ---
og resume t2 --value '"restart"' --by alice
expect_rc 0
og history t2 --output json
before=$out
og resume t2 --value '"scale"' --by bob
expect_rc 1
expect_in "not waiting for a decision" "$err" "second resume"
expect_in "already resumed by alice" "$err" "second resume"
og history t2 --output json
[ "$out" = "$before" ] && ok || bad "history changed after a refused resume"

# --- two resumers at once: exactly one proceeds ---------------------------
og run $G/approve.lua --thread race --output json
for who in r1 r2; do
	timeout 60 "$OPSGRAPH" resume race --value "\"$who\"" --by "$who" --db "$DB" --output json \
		>"$tmp/$who.out" 2>"$tmp/$who.err" &
done
wait
wins=$(cat "$tmp/r1.out" "$tmp/r2.out" | grep -c '"status":"done"')
[ "$wins" = 1 ] && ok || bad "concurrent resumes: $wins winners, want 1"
grep -q "already resumed by" "$tmp/r1.err" "$tmp/r2.err" && ok || bad "the loser was not told who won: $(cat "$tmp"/r?.err)"
og state race --output json
expect_py 'len([x for x in j["values"]["log"] if x.startswith("exec")])' 1

# --- one node asks twice; parallel interrupts answered by id --------------
og run $G/two_questions.lua --thread q --output json
og resume q --value '"x"' --output json
expect_py 'j["interrupts"][0]["value"]' "second?"
og resume q --value '"y"' --output json
expect_py 'len(j["interrupts"])' 2
ids=$(py '" ".join(i["id"] + "=" + i["node"] for i in j["interrupts"])')
og resume q --value '"z"'
expect_rc 2
expect_in "2 interrupts are pending" "$err" "scalar resume with two pending"
left=$(echo "$ids" | tr ' ' '\n' | grep '=left' | cut -d= -f1)
right=$(echo "$ids" | tr ' ' '\n' | grep '=right' | cut -d= -f1)
og resume q --command "{\"resume\": {\"$left\": \"L\"}}" --output json
expect_py 'j["status"]' interrupted
expect_py 'j["state"]["answers"]' "['ask:x,y']"
og resume q --command "{\"resume\": {\"$right\": \"R\"}}" --output json
expect_py 'j["status"]' done
expect_py 'j["state"]["answers"]' "['ask:x,y', 'left:L', 'right:R']"
og resume q --command '{"resume": {"0000000000000000": 1}}'
expect_rc 1

# --- static breakpoints per run -------------------------------------------
og run $G/steps.lua --thread bp --interrupt-before fin --output json
expect_py 'j["status"]' interrupted
expect_py 'j["interrupts"][0]["kind"]' interrupt_before
expect_py 'j["state"]["n"]' 3
og resume bp --output json
expect_py 'j["status"]' done
expect_py 'j["state"]["trail"]' "['inc1', 'inc2', 'inc3', 'fin']"
og run $G/steps.lua --thread bpa --interrupt-after inc --output json
expect_py 'j["state"]["n"]' 1
og resume bpa --output json
expect_py 'j["state"]["n"]' 2

# --- history, state, fork, replay -----------------------------------------
og run $G/steps.lua --thread h --output json
expect_py 'j["status"]' done
og history h --output json
expect_py 'len(j)' 5
expect_py '[c["step"] for c in j]' "[3, 2, 1, 0, -1]"
expect_py 'j[0]["id"] > j[1]["id"]' True
og history h --limit 2 --before 5 --output json
expect_py '[c["id"] for c in j]' "[4, 3]"
og state h --checkpoint 3 --output json
expect_py 'j["values"]["n"]' 2
og fork h --checkpoint 3 --as-node inc --update '{"n": 10}' --output json
expect_rc 0
fid=$(py 'j["checkpoint_id"]')
og state h --output json
expect_py 'j["parent_id"]' 3
expect_py 'j["source"]' fork
og resume h --output json
expect_py 'j["status"]' done
expect_py 'j["state"]["trail"]' "['inc1', 'inc2', 'fin']"
expect_py 'j["state"]["n"]' 10
og replay h --checkpoint 2 --output json
expect_py 'j["status"]' done
expect_py 'j["state"]["trail"]' "['inc1', 'inc2', 'inc3', 'fin']"
og history h --output json
expect_py 'len([c for c in j if c["parent_id"] == 2])' 2

# --- replay with the recorded answers, or calling again ---------------------
og run $G/journal.lua --thread jr --output json
key=$(py 'j["state"]["key"]')
og replay jr --checkpoint 2 --recorded --output json
expect_py 'j["state"]["key"]' "$key"
og replay jr --checkpoint 2 --output json
got=$(py 'j["state"]["key"]')
[ -n "$got" ] && [ "$got" != "$key" ] && ok || bad "replay without --recorded reused the recorded id ($got)"

# --- ctx.config: given by --config, read-only ------------------------------
printf '{"services": {"payment-service": {"prometheus": "http://127.0.0.1:9090"}, "b": {}}, "list": [1, 2, 3]}' >"$tmp/cfg.json"
og run $G/config.lua --config "$tmp/cfg.json" --output json
expect_py 'j["state"]["out"]' "['http://127.0.0.1:9090', 'false', 'read-only', '2', '3']"
og run $G/config.lua --output json
expect_py 'j["state"]["out"][0]' none
printf '[1' >"$tmp/bad.json"
og run $G/config.lua --config "$tmp/bad.json"
expect_rc 2
expect_in "invalid JSON" "$err" "bad --config"

# --- gc keeps what must stay ----------------------------------------------
og gc --keep-last 2 --output json
expect_rc 0
og state h --output json
expect_py 'j["status"]' done
og state t2 --output json
expect_rc 0
og gc
expect_rc 2

# --- bad input: clear error, nothing changed -------------------------------
og threads --output json
threads_before=$out
og resume nosuchthread --value 1
expect_rc 2
expect_in "no thread nosuchthread" "$err" "unknown thread"
og resume t1 --value '"x"'
expect_rc 1
expect_in "not waiting for a decision" "$err" "resume of a done thread"
og state t1 --checkpoint 999
expect_rc 2
og fork t1 --checkpoint 999 --update '{}'
expect_rc 2
og resume t2 --value '{bad json'
expect_rc 2
expect_in "invalid JSON" "$err" "bad --value"
og run $G/approve.lua --thread t1
expect_rc 2
expect_in "already exists" "$err" "run with an existing thread id"
og threads --output json
[ "$out" = "$threads_before" ] && ok || bad "threads changed after refused commands"
printf 'not a database' >"$tmp/file"
timeout 20 "$OPSGRAPH" run $G/approve.lua --db "$tmp/file" >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" = 2 ] && ok || bad "run --db FILE: exit $rc, want 2"
grep -q "not an opsgraph database" "$tmp/err" && ok || bad "run --db FILE: message: $(cat "$tmp/err")"
[ "$(cat "$tmp/file")" = "not a database" ] && ok || bad "the foreign file was changed"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
