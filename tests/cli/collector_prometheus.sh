#!/usr/bin/env bash
# tests/cli/collector_prometheus.sh: the context collector against a REAL
# Prometheus (Debian package `prometheus`, installed by
# scripts/install-deps.sh) scraping tests/tools/fixture_exporter.py.
#
# Setup, all on 127.0.0.1, free ports, temp dirs, stopped on exit:
#   * the exporter: shop_error_ratio 0.01 -> 0.25, shop_queue_depth 3 -> 7 and
#     kube_deployment_status_observed_generation 41 -> 42 when the test
#     creates the switch file; shop_requests_total grows by 100 per second;
#   * history for the baselines, backfilled with `promtool tsdb
#     create-blocks-from openmetrics`: shop_error_ratio 0.02 around the same
#     time 24 h ago and 0.03 7 d ago (nothing for shop_queue_depth);
#   * prometheus with a 1 s scrape interval. Bounded waits: until the calm
#     values are scraped, then (after the switch) until the incident values are.
# Checked: current/peak of the error ratio, its 24 h / 7 d baselines and
# change_% from the backfilled blocks; the request rate from irate() (~100/s);
# a metric without history: current value, no baseline fields, a clear note
# per missing baseline, no crash; a query without data: a note; the deploy
# (generation bump) in context.deploys from the same Prometheus; and the
# deadline: with collect_deadline_ms (1 ms) reached, the queries (one
# concurrent batch) are skipped or cut to what is left of it, one note for
# all, and the run is done.
# Without prometheus/promtool (they cannot be installed) the suite says why
# and counts nothing.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/collector_prometheus.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || true)}
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$PROMETHEUS" ] || [ -z "$PROMTOOL" ]; then
	echo "SKIP collector_prometheus: prometheus/promtool not found; install them with scripts/install-deps.sh (Debian package prometheus)" >&2
	finish
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-prom.XXXXXX") || exit 2
exp= prom=
cleanup() {
	for p in $prom $exp; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# --- the exporter ------------------------------------------------------------------
python3 tests/tools/fixture_exporter.py "$tmp/exp.port" "$tmp/switch" 2>"$tmp/exp.err" &
exp=$!
for _ in $(seq 100); do [ -s "$tmp/exp.port" ] && break; sleep 0.1; done
[ -s "$tmp/exp.port" ] || { bad "the exporter did not start: $(cat "$tmp/exp.err")"; finish; }
EXP_PORT=$(cat "$tmp/exp.port")

# --- history for the baselines (the window is [T0 - 30 s, T0 + ~60 s]) ---------------
T0=$(date +%s)
python3 - "$T0" >"$tmp/history.om" <<'EOF'
import sys
t0 = int(sys.argv[1])
print("# HELP shop_error_ratio share of failed requests")
print("# TYPE shop_error_ratio gauge")
for off, v in ((7 * 86400, 0.03), (86400, 0.02)):      # oldest first
    for t in range(t0 - off - 900, t0 - off + 900, 10):
        print('shop_error_ratio{service="shop-api"} %s %d' % (v, t))
print("# EOF")
EOF
mkdir -p "$tmp/data"
if "$PROMTOOL" tsdb create-blocks-from openmetrics "$tmp/history.om" "$tmp/data" >"$tmp/promtool.out" 2>&1; then ok
else bad "promtool create-blocks-from openmetrics: $(tail -c 600 "$tmp/promtool.out")"; fi

# --- prometheus ----------------------------------------------------------------------
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: fixture
    static_configs:
      - targets: ["127.0.0.1:$EXP_PORT"]
EOF
for attempt in 1 2 3; do	# the port is free when picked; another process may take it first
	PROM_PORT=$(free_port)
	"$PROMETHEUS" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=30d \
		--log.level=warn >"$tmp/prom.log" 2>&1 &
	prom=$!
	up=
	for _ in $(seq 150); do
		kill -0 "$prom" 2>/dev/null || break
		if python3 - "$PROM_PORT" 2>/dev/null <<'EOF'
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/-/ready" % sys.argv[1], timeout=1).read()
EOF
		then up=1; break; fi
		sleep 0.2
	done
	[ -n "$up" ] && break
	kill "$prom" 2>/dev/null; wait "$prom" 2>/dev/null; prom=
done
[ -n "$up" ] || { bad "prometheus did not become ready: $(tail -c 800 "$tmp/prom.log")"; finish; }
ok
PROM="http://127.0.0.1:$PROM_PORT"

# wait_at_least QUERY MIN: until the instant query's first value is >= MIN (at most 30 s)
wait_at_least() {
	python3 - "$PROM" "$1" "$2" <<'EOF'
import json, sys, time, urllib.parse, urllib.request
base, q, want = sys.argv[1], sys.argv[2], float(sys.argv[3])
for _ in range(150):
    try:
        d = json.load(urllib.request.urlopen(base + "/api/v1/query?" + urllib.parse.urlencode({"query": q}), timeout=2))
        r = d["data"]["result"]
        if r and float(r[0]["value"][1]) >= want:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
}
# a few calm samples scraped, then the incident
if wait_at_least 'count_over_time(shop_queue_depth{service="shop-api"}[1m])' 3; then ok
else bad "prometheus did not scrape the exporter's calm values: $(tail -c 800 "$tmp/prom.log")"; fi
SWITCH=$(date +%s)
: >"$tmp/switch"
if wait_at_least 'max(shop_queue_depth{service="shop-api"})' 7 && wait_at_least 'max(shop_error_ratio{service="shop-api", job="fixture"})' 0.25; then ok
else bad "the incident values were not scraped"; fi
sleep 3		# a few incident samples, and irate() over them
TO=$(date +%s)
FROM=$(( T0 - 30 ))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# --- the collector -------------------------------------------------------------------
PROM="$PROM" TMP="$tmp" python3 - <<'EOF'
import json, os
prom, tmp = os.environ["PROM"], os.environ["TMP"]
q = {
  "error_ratio": {"expr": "max(shop_error_ratio{service=\"$service\"})", "unit": "ratio"},
  "queue_depth": {"expr": "max(shop_queue_depth{service=\"$service\"})", "unit": "count"},
  "request_rate": {"expr": "sum(irate(shop_requests_total{service=\"$service\"}[5s]))", "unit": "req/s"},
  "zz_nothing": {"expr": "max(shop_nothing_here{service=\"$service\"})", "unit": "count"},
}
cfg = {"defaults": {"timeout_ms": 5000, "token_budget": 1500},
       "services": {"shop-api": {"prometheus": {"url": prom, "step": "1s", "queries": q},
                                 "deploys": {"prometheus": {"query": "max by (deployment) (kube_deployment_status_observed_generation{deployment=\"$service\"})", "step": "1s"},
                                             "lookback": "10m"}}}}
json.dump(cfg, open(tmp + "/cfg.json", "w"))
cfg["defaults"]["collect_deadline_ms"] = 1       # reached during the queries
json.dump(cfg, open(tmp + "/cfg_deadline.json", "w"))
EOF
ALERT="{\"alert\": {\"service\": \"shop-api\", \"started_at\": \"$(iso "$SWITCH")\", \"window\": {\"from\": \"$(iso "$FROM")\", \"to\": \"$(iso "$TO")\"}}}"
for c in main deadline; do
	cfg=$tmp/cfg.json; [ $c = deadline ] && cfg=$tmp/cfg_deadline.json
	timeout 60 "$OPSGRAPH" run tests/nodes/collector/collector_only.lua --db :memory: --config "$cfg" \
		--input "$ALERT" --output json >"$tmp/$c.json" 2>"$tmp/$c.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then ok; else bad "collector ($c): exit $rc: $(tail -c 600 "$tmp/$c.err")"; fi
done

TMP="$tmp" SWITCH="$SWITCH" python3 - >"$tmp/checks" 2>&1 <<'EOF'
import json, os, calendar, time
tmp, switch = os.environ["TMP"], int(os.environ["SWITCH"])
def load(n):
    try:
        return json.load(open("%s/%s.json" % (tmp, n)))
    except Exception as e:
        return {"error": "no JSON: %s" % e, "state": {}}
def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + str(why).replace("\n", " | ")[:1500]))
d = load("main"); c = (d.get("state") or {}).get("context") or {}
m = c.get("metrics") or {}; notes = c.get("notes") or []
er, qd, rr = m.get("error_ratio") or {}, m.get("queue_depth") or {}, m.get("request_rate") or {}
check("main: done", d.get("status") == "done", d.get("error"))
check("error_ratio: current and peak are the incident value", er.get("current") == 0.25 and er.get("peak") == 0.25, er)
pa = er.get("peak_at") and calendar.timegm(time.strptime(er["peak_at"], "%Y-%m-%dT%H:%M:%SZ"))
check("error_ratio: peak_at after the switch", pa and switch - 1 <= pa <= switch + 15, (er.get("peak_at"), switch))
check("error_ratio: baselines from the backfilled history", er.get("baseline_24h") == 0.02 and er.get("baseline_7d") == 0.03, er)
check("error_ratio: change vs the baselines", er.get("change_24h_pct") == 1150 and er.get("change_7d_pct") == 733, er)
check("queue_depth: current 7, peak 7", qd.get("current") == 7 and qd.get("peak") == 7, qd)
check("queue_depth: no baseline fields without history", not any(k.startswith("baseline") or k.startswith("change") for k in qd), qd)
check("queue_depth: a note per missing baseline",
      "prometheus: no series for query queue_depth in the 24 h baseline (empty result)" in notes
      and "prometheus: no series for query queue_depth in the 7 d baseline (empty result)" in notes, notes)
check("request_rate: irate() of the counter is ~100/s", rr.get("current") is not None and 80 <= rr["current"] <= 120, rr)
check("a query without data: a note, no metric", "zz_nothing" not in m
      and "prometheus: no data for query zz_nothing in the incident window (empty result)" in notes, notes)
deps = c.get("deploys") or []
dt = deps and calendar.timegm(time.strptime(deps[0]["at"], "%Y-%m-%dT%H:%M:%SZ"))
check("deploys: the generation bump", len(deps) == 1 and deps[0].get("version") == "generation 42"
      and deps[0].get("previous_version") == "generation 41" and deps[0].get("service") == "shop-api", deps)
check("deploys: at the switch", dt and switch - 1 <= dt <= switch + 15, (deps, switch))
check("within the token budget", len(json.dumps(c, separators=(",", ":"))) / 4 <= 1500)

d = load("deadline"); c = (d.get("state") or {}).get("context") or {}
notes = c.get("notes") or []
check("deadline: done", d.get("status") == "done", d.get("error"))
dl = [n for n in notes if n.startswith("deadline: ")]
check("deadline: a note naming the skipped source and the limit", dl and "skipped: defaults.collect_deadline_ms (1 ms) was reached after" in dl[0], notes)
# the queries are one concurrent batch with what was left of 1 ms as their
# timeout: which of them a local Prometheus answers that fast varies, so each
# query is either collected or named in a note (timeout, deadline, no data)
pn = [n for n in notes if n.startswith("prometheus: ") or n.startswith("deadline: prometheus quer")]
check("deadline: every query collected or named in a note", all(name in (c.get("metrics") or {})
      or any(("query " + name) in n or (name + ",") in n or n.endswith(" " + name) or (" " + name + " ") in n for n in pn)
      for name in ("error_ratio", "queue_depth", "request_rate", "zz_nothing")), (sorted(c.get("metrics") or {}), pn))
check("deadline: deploys skipped", not c.get("deploys")
      and any(n.startswith("deadline: deploys from prometheus") for n in notes), notes)
EOF
while read -r verdict rest; do
	if [ "$verdict" = ok ]; then ok; else bad "$rest"; fi
done <"$tmp/checks"
[ -s "$tmp/checks" ] || bad "no checks ran"
finish
