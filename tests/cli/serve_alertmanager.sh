#!/usr/bin/env bash
# tests/cli/serve_alertmanager.sh: a real Prometheus Alertmanager (the
# Debian package prometheus-alertmanager) delivering to `opsgraph serve`.
# Both listen on 127.0.0.1 on ports the kernel picks; Alertmanager runs with
# a temporary config (one webhook receiver at opsgraph's
# /alerts/alertmanager, group_wait 1s, group_interval and repeat_interval
# 2s), a temporary --storage.path and clustering off.
#
# Covered: an alert posted to Alertmanager's API (/api/v2/alerts) becomes
# one am- thread that runs to its interrupt; the same alert posted again,
# and Alertmanager's repeated notifications of it (counted from its own
# /metrics), start no second thread and no second run; the alert resolved
# (endsAt in the past) reaches the thread as an alert_resolved note.
# Skipped (1 skipped) when prometheus-alertmanager is not installed:
# scripts/install-deps.sh, which make test runs, installs it.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   OPSGRAPH=$PWD/bin/opsgraph bash tests/cli/serve_alertmanager.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
AM=$(command -v prometheus-alertmanager || command -v alertmanager || true)
if [ -z "$AM" ]; then
	echo "serve_alertmanager: SKIP: prometheus-alertmanager is not installed (scripts/install-deps.sh)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-am.XXXXXX") || exit 2
pid= ampid=
cleanup() {
	[ -n "$ampid" ] && kill "$ampid" 2>/dev/null && wait "$ampid" 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# --- opsgraph serve over the test graphs -----------------------------------
root=$tmp/root
mkdir -p "$root/graphs"
cp tests/serve/graphs/*.lua "$root/graphs/"
"$OPSGRAPH" serve --listen 127.0.0.1:0 --db "$tmp/db" --root "$root" --workers 2 --alert-graph approve \
	--no-auth 2>"$tmp/serve.log" &
pid=$!
BASE=
for _ in $(seq 100); do
	BASE=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/serve.log" | sed 's/listening on //')
	[ -n "$BASE" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$BASE" ]; then bad "opsgraph serve did not start: $(cat "$tmp/serve.log")"; finish; fi

# --- Alertmanager with a webhook receiver pointing at opsgraph --------------
AMPORT=$(free_port)
AMBASE=http://127.0.0.1:$AMPORT
cat >"$tmp/am.yml" <<YML
route:
  receiver: opsgraph
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 2s
receivers:
  - name: opsgraph
    webhook_configs:
      - url: $BASE/alerts/alertmanager
        send_resolved: true
YML
"$AM" --config.file="$tmp/am.yml" --storage.path="$tmp/am-data" --web.listen-address="127.0.0.1:$AMPORT" \
	--cluster.listen-address= --log.level=info >"$tmp/am.log" 2>&1 &
ampid=$!
up=
for _ in $(seq 150); do
	curl -s -m 2 -o /dev/null "$AMBASE/-/ready" && { up=1; break; }
	kill -0 "$ampid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$up" ]; then bad "alertmanager did not start: $(tail -5 "$tmp/am.log")"; finish; fi
ok

# post_alert ENDS_AT: the alert, as Prometheus would send it, to Alertmanager
post_alert() {
	local data
	data=$(python3 -c 'import json, sys, datetime
now = datetime.datetime.now(datetime.timezone.utc)
a = {"labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
     "annotations": {"summary": "checkout 5xx above 5%"},
     "startsAt": (now - datetime.timedelta(minutes=5)).isoformat(), "generatorURL": "http://prom:9090/graph"}
if sys.argv[1] == "past":
    a["endsAt"] = (now - datetime.timedelta(seconds=10)).isoformat()
print(json.dumps([a]))' "$1")
	code=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary "$data" "$AMBASE/api/v2/alerts")
	last="POST $AMBASE/api/v2/alerts"
	if [ "$code" = 200 ]; then ok; else bad "$last: HTTP $code: $(cat "$tmp/body")"; fi
}
am_threads() { curl -s -m 10 "$BASE/api/threads" | grep -o '"thread_id":"am-[0-9a-f]*"' | sort -u; }
# notifications Alertmanager says it sent to the webhook
am_sent() {
	curl -s -m 10 "$AMBASE/metrics" |
		awk '/^alertmanager_notifications_total\{.*integration="webhook"/ { n += $2 } END { print n + 0 }'
}

# --- firing: one thread ---------------------------------------------------------
post_alert now
th=
for _ in $(seq 150); do
	th=$(am_threads)
	[ -n "$th" ] && break
	sleep 0.2
done
last="thread from Alertmanager"
if [ -n "$th" ]; then ok; else bad "no am- thread after 30 s; opsgraph log: $(tail -5 "$tmp/serve.log"); am log: $(tail -5 "$tmp/am.log")"; finish; fi
tid=$(printf '%s' "$th" | head -1 | sed 's/.*"am-/am-/; s/"$//')
st=
for _ in $(seq 100); do
	st=$(curl -s -m 10 "$BASE/api/threads/$tid" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",""))' 2>/dev/null)
	[ "$st" = interrupted ] && break
	sleep 0.1
done
last="the alert's run"
if [ "$st" = interrupted ]; then ok; else bad "thread $tid status '$st', want interrupted"; fi
thread=$(curl -s -m 10 "$BASE/api/threads/$tid")
expect_in '"kind":"alert_firing"' "$thread" "firing note on the thread"
expect_in 'HighErrorRate' "$thread" "the alert's labels reached the thread"

# --- the same alert again, and Alertmanager's repeats: still one thread -------------
sent1=$(am_sent)
post_alert now
for _ in $(seq 100); do
	[ "$(am_sent)" -ge $((sent1 + 1)) ] && break
	sleep 0.2
done
sent2=$(am_sent); last="Alertmanager repeats the notification"
if [ "$sent2" -gt "$sent1" ]; then ok; else bad "no further webhook notification ($sent1 -> $sent2)"; fi
n=$(am_threads | wc -l); last="repeated notifications"
if [ "$n" -eq 1 ]; then ok; else bad "want 1 am- thread, got $n: $(am_threads)"; fi
hist=$(curl -s -m 10 "$BASE/api/threads/$tid/history" | grep -o '"id":' | wc -l)
runs=$(curl -s -m 10 "$BASE/metrics" | awk '/^opsgraph_http_requests_total\{.*route="alertmanager".*code="200"/ { n += $2 } END { print n + 0 }')
last="opsgraph answered every notification 200"
if [ "$runs" -ge 2 ]; then ok; else bad "want >= 2 alertmanager 200s in /metrics, got $runs"; fi

# --- resolved: recorded on the thread ----------------------------------------------------
post_alert past
got=
for _ in $(seq 150); do
	thread=$(curl -s -m 10 "$BASE/api/threads/$tid")
	case "$thread" in *'"kind":"alert_resolved"'*) got=1; break ;; esac
	sleep 0.2
done
last="resolved reaches the thread"
if [ -n "$got" ]; then ok; else bad "no alert_resolved note on $tid after 30 s: $thread"; fi
n=$(am_threads | wc -l); last="resolved starts no thread"
if [ "$n" -eq 1 ]; then ok; else bad "want 1 am- thread, got $n"; fi
hist2=$(curl -s -m 10 "$BASE/api/threads/$tid/history" | grep -o '"id":' | wc -l)
last="no second run"
if [ "$hist2" -eq "$hist" ]; then ok; else bad "the history grew from $hist to $hist2 checkpoints"; fi
finish
