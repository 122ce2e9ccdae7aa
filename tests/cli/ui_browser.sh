#!/usr/bin/env bash
# tests/cli/ui_browser.sh: the web UI (ui-static/) in headless Chromium
# (Debian's /usr/bin/chromium driven by npm's playwright-core; set up with
# scripts/install-browser-tools.sh, which `make test` runs), against a real
# `opsgraph serve` on 127.0.0.1 with the incident graph, the recorded
# observability data (tests/tools/fake_observability.py) and the demo
# payment-service (examples/demo-service/ctl.py) that the tools act on.
#
# Here: an incident from the Alertmanager webhook (Black Friday) waiting for
# its decision, and a second incident answered "manual" (done, updated later)
# so that "waiting first" is an ordering and not an accident. The browser
# part is tests/browser/ui.test.mjs (what it checks is listed at its top);
# afterwards the thread's decision is checked over the API: choice 2 with the
# note typed in the dialog, by the operator the browser logged in as (tokens
# made with `opsgraph token create` first: auth is on). A screenshot of each page is kept in
# $BUILD/test-artifacts/ui/ (build/rel unless BUILD is set).
# Skipped, with the reason, when chromium, node or playwright-core is missing.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   OPSGRAPH=$PWD/bin/opsgraph bash tests/cli/ui_browser.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
unset OPSGRAPH_CONFIG OPSGRAPH_ROOT
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
skip() {
	echo "ui_browser: skipped: $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}
[ -x "$CHROMIUM" ] || skip "no $CHROMIUM (run scripts/install-browser-tools.sh)"
command -v node >/dev/null || skip "no node (run scripts/install-browser-tools.sh)"
[ -f tests/browser/node_modules/playwright-core/package.json ] ||
	skip "no playwright-core in tests/browser/node_modules (run scripts/install-browser-tools.sh)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-ui.XXXXXX") || exit 2
ART=${BUILD:-build/rel}/test-artifacts/ui
mkdir -p "$ART"
srv= og=
CTL="python3 examples/demo-service/ctl.py --state-dir $tmp/demo/payment-service"
cleanup() {
	if [ -n "$og" ]; then
		kill "$og" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$og" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$og" 2>/dev/null
		wait "$og" 2>/dev/null
	fi
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	[ -s "$tmp/demo/payment-service/pid" ] && $CTL stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the recorded data, the demo service, the config, the server -------------
start_server "fake observability server" tests/tools/fake_observability.py "$tmp"
OBS=$BASE
$CTL start --fault pool_leak >"$tmp/ctl.out" 2>&1 || { bad "the demo service did not start: $(cat "$tmp/ctl.out")"; finish; }
CFG=$tmp/config.json
python3 examples/demo/make_config.py "$OBS" "$tmp/demo" "$CFG" || { bad "make_config.py failed"; finish; }
# operators (auth is on): the browser logs in as ops-alice, this script's API calls are ci-bot's
TOKEN=$("$OPSGRAPH" token create ops-alice --db "$tmp/db" 2>"$tmp/tok.err") || { bad "token create: $(cat "$tmp/tok.err")"; finish; }
BOT=$("$OPSGRAPH" token create ci-bot --db "$tmp/db" 2>"$tmp/tok.err") || { bad "token create: $(cat "$tmp/tok.err")"; finish; }
"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$tmp/db" --root "$PWD" --config "$CFG" --workers 2 --grace 2 \
	2>"$tmp/serve.log" &
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

# req METHOD PATH [BODY]: sets code and body
req() {
	if [ -n "${3-}" ]; then
		code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
			-b "$tmp/bot.jar" -H "X-CSRF-Token: $CSRF" --data-binary "$3" "$BASE$2")
	else
		code=$(curl -s -m 15 -o "$tmp/body" -w '%{http_code}' -X "$1" "$BASE$2")
	fi
	body=$(cat "$tmp/body" 2>/dev/null)
}
jget() { python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k) if isinstance(v, dict) else None
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2" 2>/dev/null; }
# wait_status THREAD STATUS [TRIES]: bounded poll (0.2 s apart)
wait_status() {
	local s=
	for _ in $(seq "${3:-150}"); do
		req GET "/api/threads/$1"
		s=$(jget "$body" status)
		[ "$s" = "$2" ] && break
		sleep 0.2
	done
	if [ "$s" = "$2" ]; then ok; else bad "thread $1: status '$s', want '$2'; $(tail -5 "$tmp/serve.log")"; fi
}

# ---- a second incident, answered "manual": done, and updated last ---------------
req POST /api/runs "{\"graph\": \"incident\", \"input\": $(cat examples/alerts/manual_checkout.json)}"
[ "$code" = 202 ] && ok || bad "POST /api/runs: HTTP $code $body"
T2=$(jget "$body" thread_id)
wait_status "$T2" interrupted

# ---- the incident under test: Alertmanager's webhook ---------------------------
req POST /alerts/alertmanager "$(cat examples/alerts/am_black_friday_payment.json)"
[ "$code" = 200 ] && ok || bad "POST /alerts/alertmanager: HTTP $code $body"
T=$(jget "$body" thread_id)
wait_status "$T" interrupted
req POST "/api/threads/$T2/resume" '{"value": "manual"}'
[ "$code" = 200 ] && ok || bad "resume $T2 manual: HTTP $code $body"
wait_status "$T2" done

# ---- the browser ------------------------------------------------------------------
OG_TOKEN=$TOKEN OG_OPERATOR=ops-alice timeout 180 node tests/browser/ui.test.mjs "$BASE" "$T" "$T2" "$ART" \
	>"$tmp/browser.out" 2>&1
brc=$?
cat "$tmp/browser.out"
p=$(grep -c '^ok ' "$tmp/browser.out"); f=$(grep -c '^FAIL' "$tmp/browser.out")
pass=$((pass + p)); fail=$((fail + f))
[ "$brc" -ne 0 ] && [ "$f" -eq 0 ] && bad "tests/browser/ui.test.mjs exited $brc"
[ "$p" -lt 10 ] && bad "only $p browser checks passed"

# ---- what the browser did, seen over the API ---------------------------------------
req GET "/api/threads/$T"
[ "$(jget "$body" state.decision.choice)" = 2 ] && ok || bad "decision.choice: $(jget "$body" state.decision)"
case "$(jget "$body" state.decision.note)" in
*"approved in the browser test"*) ok ;;
*) bad "decision.note: $(jget "$body" state.decision)" ;;
esac
[ "$(jget "$body" state.re_analyses)" = 1 ] && ok || bad "re_analyses: $(jget "$body" state.re_analyses)"
[ "$(jget "$body" state.decision.by)" = ops-alice ] && ok || bad "decision.by (the logged-in operator): $(jget "$body" state.decision)"
finish
