#!/usr/bin/env bash
# demo.sh: what `make demo` runs once the binary is built: the incident graph
# (graphs/incident.lua) on the Black Friday alert, end to end, on this
# machine only (README.md, "make demo", says what each part shows).
#
# It starts two local servers on free 127.0.0.1 ports and stops them at the
# end: tests/tools/fake_observability.py (the recorded Prometheus, Loki and
# Jaeger answers of examples/fixtures/) and examples/demo-service (a
# payment-service with a real connection-pool leak). The threads stay in
# var/demo/db (DEMO_DIR=DIR for another directory) for `opsgraph
# state|history|postmortem --db var/demo/db`; the first incident's postmortem
# is written to var/demo/postmortem-THREAD.{md,html,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
OG="$PWD/$BIN/opsgraph"
W=${DEMO_DIR:-var/demo}
ALERT=examples/alerts/am_black_friday_payment.json
SHOW="python3 examples/demo/show.py"
obs=
rm -rf "$W"
mkdir -p "$W"
CTL="python3 examples/demo-service/ctl.py --state-dir $W/services/payment-service"
stop() {
	# not under set -e: wait returns the killed server's status
	set +e
	if [ -n "$obs" ]; then kill "$obs" 2>/dev/null; wait "$obs" 2>/dev/null; fi
	if [ -s "$W/services/payment-service/pid" ]; then $CTL stop >/dev/null 2>&1; fi
	return 0
}
trap stop EXIT
say() { printf '\n== %s\n' "$*"; }

say "0. the servers: recorded observability data, and the demo payment-service with its leak"
python3 tests/tools/fake_observability.py "$W/obs.port" "$W/obs.log" 2>"$W/obs.err" &
obs=$!
for _ in $(seq 100); do [ -s "$W/obs.port" ] && break; sleep 0.1; done
[ -s "$W/obs.port" ] || { echo "the observability server did not start: $(cat "$W/obs.err")" >&2; exit 1; }
echo "recorded Prometheus/Loki/Jaeger on http://127.0.0.1:$(cat "$W/obs.port")"
$CTL start --fault pool_leak
$CTL load payment-service 5
$CTL health payment-service || true
python3 examples/demo/make_config.py "http://127.0.0.1:$(cat "$W/obs.port")" "$W/services" "$W/config.json"
echo "config: $W/config.json (config/opsgraph.example.json with local URLs, tool_overrides -> ctl.py, verify, deadlines)"

say "1. the graph"
"$OG" check graphs/incident.lua
"$OG" graph graphs/incident.lua --format mermaid

say "2. the alert: $ALERT"
python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["alerts"][0]
print("%s  %s  %s" % (a["labels"]["alertname"], a["labels"].get("service"), a["annotations"].get("summary")))' "$ALERT"

say "3. opsgraph run graphs/incident.lua --input @$ALERT"
echo "(slack_alert -> context_collector -> root_cause_analyzer (built-in analyzer) -> action_planner -> dry_run_actions -> human_decision)"
"$OG" run graphs/incident.lua --db "$W/db" --config "$W/config.json" --input "@$ALERT" \
	--output json >"$W/run1.json" 2>"$W/run1.log"
$SHOW question <"$W/run1.json"
# the dry-runs (nodes/dry_run_actions.lua) ran each action's tool in the
# sandbox; as root they must have: a dry-run that silently did not happen
# would make the verdicts above meaningless
python3 -c '
import json, os, sys
v = json.load(open(sys.argv[1]))["interrupts"][0]["value"]
fids = sorted(set(a["dry_run"]["fidelity"] for a in v["actions"]))
print("dry-runs: fidelity %s (the host is unchanged: the restart above has not happened)" % ", ".join(fids))
if os.geteuid() == 0 and fids != ["sandbox"]:
    sys.exit("demo: as root every action must be dry-run in the sandbox; got %s: %s" % (
        fids, [a["dry_run"]["verdict"] for a in v["actions"]]))' "$W/run1.json"
T1=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["thread_id"])' "$W/run1.json")
RESTART=$(python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["interrupts"][0]["value"]
print(next(a["id"] for a in v["actions"] if a["tools"][0]["name"] == "restart_service"))' "$W/run1.json")

say "4. the on-call engineer approves action $RESTART (the restart): opsgraph resume $T1 --value '\"$RESTART\"'"
echo "(action_executor runs restart_service -> ctl.py restart; verify_recovery asks the service's metrics)"
"$OG" resume "$T1" --db "$W/db" --config "$W/config.json" --value "\"$RESTART\"" --by demo-oncall \
	--output json >"$W/resume1.json" 2>"$W/resume1.log"
$SHOW outcome <"$W/resume1.json"
$CTL health payment-service || true
echo "timeline of $T1:"
"$OG" state "$T1" --db "$W/db" --output json | $SHOW timeline

say "5. a second thread on the same alert: re_analyze with a hint loops back to context_collector"
"$OG" run graphs/incident.lua --db "$W/db" --config "$W/config.json" --input "@$ALERT" \
	--output json >"$W/run2.json" 2>"$W/run2.log"
T2=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["thread_id"])' "$W/run2.json")
echo "opsgraph resume $T2 --value '{\"choice\": \"re_analyze\", \"hint\": \"check the Redis timeouts too\"}'"
"$OG" resume "$T2" --db "$W/db" --config "$W/config.json" --value \
	'{"choice": "re_analyze", "hint": "check the Redis timeouts too"}' --output json >"$W/resume2.json" 2>"$W/resume2.log"
$SHOW question <"$W/resume2.json"
echo "what the analyzer was shown from the first incident ($T1, indexed when it finished):"
"$OG" state "$T2" --db "$W/db" --output json | $SHOW similar
echo "context collected $("$OG" state "$T2" --db "$W/db" --output json | python3 -c '
import json, sys
s = json.load(sys.stdin)["values"]
print("%d times; operator_hint = %r" % ([e["event"] for e in s["timeline"]].count("context_collected"), s["operator_hint"]))')"
echo
echo "opsgraph resume $T2 --value '\"manual\"': the runbook is attached and the thread ends"
"$OG" resume "$T2" --db "$W/db" --config "$W/config.json" --value '"manual"' --by demo-oncall \
	--output json >"$W/resume2b.json" 2>"$W/resume2b.log"
$SHOW outcome <"$W/resume2b.json"
"$OG" state "$T2" --db "$W/db" --output json | $SHOW decision

say "6. nobody answers: the deadlines (ttl 1 s, final 2 s here; 15 and 30 min in the demo config)"
python3 examples/demo/make_config.py "http://127.0.0.1:$(cat "$W/obs.port")" "$W/services" "$W/config-short.json" \
	--ttl-s 1 --final-s 2
"$OG" run graphs/incident.lua --db "$W/db" --config "$W/config-short.json" --input "@$ALERT" \
	--output json >"$W/run3.json" 2>"$W/run3.log"
T3=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["thread_id"])' "$W/run3.json")
sleep 3
echo "opsgraph tick   (run it from cron or a systemd timer)"
"$OG" tick --db "$W/db" --config "$W/config-short.json" 2>"$W/tick.log"
"$OG" state "$T3" --db "$W/db" --output json | $SHOW timeline human_decision

say "7. threads in $W/db"
"$OG" threads --db "$W/db"

say "8. the postmortem of the first incident: opsgraph postmortem $T1"
PM="$W/postmortem-$T1"
"$OG" postmortem "$T1" --db "$W/db" --out "$PM.md"
"$OG" postmortem "$T1" --db "$W/db" --format html --out "$PM.html"
"$OG" postmortem "$T1" --db "$W/db" --format json --out "$PM.json"
echo "written: $PM.md (for a wiki page), $PM.html (one self-contained page), $PM.json"
$SHOW postmortem <"$PM.json"
# the report's own lines the on-call engineer reads first: missing is a bug
for want in "| Time to acknowledge, from opsgraph's receipt |" "| Time to resolve, from opsgraph's receipt |" \
	"## Root cause" "## Decisions" "## Dry runs" "## Actions executed" "## What we learned"; do
	grep -qF -- "$want" "$PM.md" || { echo "demo: $PM.md has no '$want'" >&2; exit 1; }
done
grep -q 'id="learned"' "$PM.html" || { echo "demo: $PM.html has no editable 'What we learned'" >&2; exit 1; }
echo "the second incident's postmortem lists what it was shown: opsgraph postmortem $T2 --db $W/db"

say "9. the web UI on 127.0.0.1 (opsgraph serve over the same database)"
if [ "${DEMO_SERVE:-0}" = 1 ]; then
	# one incident left waiting, to decide in the browser
	"$OG" run graphs/incident.lua --db "$W/db" --config "$W/config.json" --input "@$ALERT" \
		--output json >"$W/run4.json" 2>"$W/run4.log"
	echo "thread $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["thread_id"])' "$W/run4.json") waits for a decision"
	# approving needs an operator: a token for this demo database only
	echo "log in to the UI with this operator token (shown once; opsgraph token revoke demo-oncall --db $W/db):"
	"$OG" token create demo-oncall --db "$W/db"
fi
"$OG" serve --listen 127.0.0.1:${DEMO_PORT:-0} --db "$W/db" --root . --config "$W/config.json" \
	>"$W/serve.log" 2>&1 &
srv=$!
url=
for _ in $(seq 100); do
	url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$W/serve.log" | head -1) && [ -n "$url" ] && break
	sleep 0.1
done
[ -n "$url" ] || { echo "opsgraph serve did not start: $(cat "$W/serve.log")" >&2; kill "$srv"; exit 1; }
python3 - "$url" <<'PY'
import json, sys, urllib.request
url = sys.argv[1]
health = json.load(urllib.request.urlopen(url + "/healthz", timeout=5))
rows = json.load(urllib.request.urlopen(url + "/api/threads", timeout=5))
rows = rows.get("threads", rows) if isinstance(rows, dict) else rows
page = urllib.request.urlopen(url + "/", timeout=5).read()
print("healthz %s; /api/threads lists %d threads; / serves the UI (%d bytes)" % (health.get("status"), len(rows), len(page)))
PY
if [ "${DEMO_SERVE:-0}" = 1 ]; then
	echo "open $url in a browser (Ctrl-C stops the server)"
	wait "$srv" || true
else
	kill -TERM "$srv"
	wait "$srv" || true
	echo "the server is stopped; keep it running with: make demo DEMO_SERVE=1 (DEMO_PORT=8080 for a fixed port)"
fi
echo
echo "Inspect them: $BIN/opsgraph state THREAD --db $W/db; $BIN/opsgraph history THREAD --db $W/db;"
echo "  $BIN/opsgraph postmortem THREAD --db $W/db; $BIN/opsgraph similar THREAD --db $W/db; the UI's #/t/THREAD/postmortem"
