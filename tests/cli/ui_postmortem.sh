#!/usr/bin/env bash
# tests/cli/ui_postmortem.sh: the Postmortem page (ui-static/js/postmortem.js)
# in headless Chromium (as tests/cli/ui_browser.sh: Debian's chromium driven
# by playwright-core), against a real `opsgraph serve` on 127.0.0.1 with
# auth on, over a finished thread of tests/graphs/diff_state.lua
# (collect -> analyze -> act on a nested state).
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
og=
cleanup() {
	if [ -n "$og" ]; then
		kill "$og" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$og" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$og" 2>/dev/null
		wait "$og" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# a project root with the UI and the one graph
mkdir -p "$tmp/root/graphs"
cp -r ui-static "$tmp/root/ui-static"
cp tests/graphs/diff_state.lua "$tmp/root/graphs/"
TOKEN=$("$OPSGRAPH" token create ops-alice --db "$tmp/db" 2>"$tmp/tok.err") || { bad "token create: $(cat "$tmp/tok.err")"; finish; }
BOT=$("$OPSGRAPH" token create ci-bot --db "$tmp/db" 2>"$tmp/tok.err") || { bad "token create: $(cat "$tmp/tok.err")"; finish; }
"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$tmp/db" --root "$tmp/root" --workers 2 --grace 2 2>"$tmp/serve.log" &
og=$!
BASE=
for _ in $(seq 100); do
	BASE=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/serve.log" | sed 's/listening on //')
	[ -n "$BASE" ] && break
	kill -0 "$og" 2>/dev/null || break
	sleep 0.1
done
[ -n "$BASE" ] || { bad "opsgraph serve did not start: $(cat "$tmp/serve.log")"; finish; }
ok
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

# ---- the browser ---------------------------------------------------------------------
OG_TOKEN=$TOKEN OG_OPERATOR=ops-alice timeout 90 node tests/browser/postmortem.test.mjs "$BASE" pm-1 "$ART" \
	>"$tmp/browser.out" 2>&1
brc=$?
cat "$tmp/browser.out"
p=$(grep -c '^ok ' "$tmp/browser.out"); f=$(grep -c '^FAIL' "$tmp/browser.out")
pass=$((pass + p)); fail=$((fail + f))
[ "$brc" -ne 0 ] && [ "$f" -eq 0 ] && bad "tests/browser/postmortem.test.mjs exited $brc"
[ "$p" -lt 7 ] && bad "only $p browser checks passed"

# ---- the fork, seen over the API -----------------------------------------------------------
req GET "/api/threads/pm-1/history?limit=100"
[ "$(py '[(r["parent_id"], r["source"]) for r in j["history"] if r["source"] == "fork"]')" = "[(2, 'fork')]" ] && ok ||
	bad "fork checkpoint: $(py '[(r["id"], r["parent_id"], r["source"]) for r in j["history"]]')"
req GET /api/threads/pm-1
[ "$(py 'j["status"], j["state"]["rca"]["cause"], j["state"]["context"]["metrics"][0]["value"]')" = "done none 40" ] && ok ||
	bad "the branch's end: $(py 'j["status"], j["state"]')"
finish
