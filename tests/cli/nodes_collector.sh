#!/usr/bin/env bash
# tests/cli/nodes_collector.sh: nodes/context_collector.lua through the real
# binary against tests/tools/fake_observability.py (Prometheus, Loki and
# Jaeger answers from examples/fixtures/, on a free 127.0.0.1 port, killed on
# exit), with configs written here that point at it.
#
# Checked: metric summaries (current = last sample, peak, baselines 24 h / 7 d
# picked by the start parameter, change_%, max of several series); log
# templates (masking, counts, first_seen, level, `new` vs 24 h earlier);
# traces (error groups with attributes, slowest p99); notes for a Prometheus
# 400, an empty result, a timeout, Loki on a closed port, Prometheus on a
# closed port (one note for all its queries, fetched at once), and for an
# unconfigured service (run still done); the token budget cap; the collected
# context fed to nodes/lib/builtin_analyzer.lua gives db_pool_exhaustion; and
# nodes/lib/log_templates.lua on fixture lines (tests/nodes/collector/log_templates_test.lua).
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/nodes_collector.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-collector.XXXXXX") || exit 2
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# checks FILE: reads "ok NAME" / "FAIL NAME: why" lines
tally() {
	[ -s "$1" ] || { bad "$2: no checks ran"; return; }
	while read -r verdict rest; do
		if [ "$verdict" = ok ]; then ok; else bad "$2: $rest"; fi
	done <"$1"
}

start_server "fake observability server" tests/tools/fake_observability.py "$tmp"

# --- configs: the example config pointed at the fake server ------------------
BASE="$BASE" CLOSED="$CLOSED" TMP="$tmp" python3 - <<'EOF'
import copy, json, os
base, closed, tmp = os.environ["BASE"], os.environ["CLOSED"], os.environ["TMP"]
cfg = json.load(open("config/opsgraph.example.json"))
svc = cfg["services"]["payment-service"]
svc["prometheus"]["url"] = base
svc["logs"]["loki"]["url"] = base + "/"
svc["traces"]["jaeger"]["url"] = base
def save(name, obj):
    with open(tmp + "/" + name, "w") as f:
        json.dump(obj, f)
save("cfg_main.json", cfg)
bad = copy.deepcopy(cfg)
b = bad["services"]["payment-service"]
b["prometheus"]["queries"]["queue_depth"] = {"expr": "sum(queue_depth{service=\"$service\"})", "unit": "count"}
b["prometheus"]["queries"]["broken"] = {"expr": "sum(broken_metric{service=\"$service\"}))", "unit": "count"}
b["prometheus"]["queries"]["zz_slow"] = {"expr": "slow_metric{service=\"$service\"}", "unit": "count"}
b["logs"]["loki"]["url"] = closed
bad["defaults"]["timeout_ms"] = 700
save("cfg_failing.json", bad)
small = copy.deepcopy(cfg)
small["defaults"]["token_budget"] = 700
save("cfg_small.json", small)
down = copy.deepcopy(cfg)
down["services"]["payment-service"]["prometheus"]["url"] = closed
save("cfg_promdown.json", down)
EOF
ALERT='{"alert": {"service": "payment-service", "started_at": "2025-11-28T14:02:13Z", "severity": "critical", "source": "alertmanager", "summary": "DB connection pool of payment-service at 97%", "labels": {"alertname": "DBConnectionPoolExhausted", "service": "payment-service", "pool": "HikariPool-payments"}, "window": {"from": "2025-11-28T13:30:00Z", "to": "2025-11-28T14:30:00Z"}}}'

# run NAME GRAPH CONFIG INPUT: output in $tmp/NAME.json
run() {
	timeout 60 "$OPSGRAPH" run "$2" --db :memory: --config "$3" --input "$4" --output json >"$tmp/$1.json" 2>"$tmp/$1.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then ok; else bad "$1: exit $rc: $(tail -c 600 "$tmp/$1.err")"; fi
}

run main tests/nodes/collector/collector_only.lua "$tmp/cfg_main.json" "$ALERT"
cp "$tmp/log" "$tmp/log.main" 2>/dev/null || : >"$tmp/log.main"
run failing tests/nodes/collector/collector_only.lua "$tmp/cfg_failing.json" "$ALERT"
run unconf tests/nodes/collector/collector_only.lua "$tmp/cfg_main.json" \
	'{"alert": {"service": "billing-service", "window": {"from": "2025-11-28T13:30:00Z", "to": "2025-11-28T14:30:00Z"}}}'
run small tests/nodes/collector/collector_only.lua "$tmp/cfg_small.json" "$ALERT"
run promdown tests/nodes/collector/collector_only.lua "$tmp/cfg_promdown.json" "$ALERT"
run analyzer tests/nodes/collector/collector_analyzer.lua "$tmp/cfg_main.json" "$ALERT"

# log_templates on the fixture lines
python3 - "$tmp/lt_input.json" <<'EOF'
import json, sys
def lines(path):
    out = []
    for s in json.load(open(path))["data"]["result"]:
        for ts, line in s["values"]:
            out.append([ts, line, s["stream"]])
    return out
samples = [
    "2025-11-28T14:01:10.000Z ERROR HikariPool - connection pool exhausted after 5000ms (pool=HikariPool-payments, active=100, idle=0, waiting=57)",
    "user carol@example.net from 10.42.3.18:8080 took 1.5s, trace 4bf92f3577b34da6a3ce929d0e0e4736",
    "order 123e4567-e89b-12d3-a456-426614174000 failed: \"card declined\" code 0xdeadbeef",
    '{"level": "warn", "msg": "retrying job 42 in 300ms"}',
    'ts=2025-11-28T14:02:40Z level=error msg="upstream returned 503 after 2m" attempt=3',
    "[2025-11-28 14:02:40] WARNING: disk 91% full on node-7f3a2b",
]
with open(sys.argv[1], "w") as f:
    json.dump({"lines": lines("examples/fixtures/loki/payment_current.json"),
           "baseline": lines("examples/fixtures/loki/payment_24h.json"), "samples": samples},
          f)
EOF
timeout 60 "$OPSGRAPH" run tests/nodes/collector/log_templates_test.lua --db :memory: --input "@$tmp/lt_input.json" \
	--output json >"$tmp/lt.json" 2>"$tmp/lt.err"
[ $? -eq 0 ] && ok || bad "log_templates_test: $(tail -c 600 "$tmp/lt.err")"

# --- the checks ----------------------------------------------------------------
TMP="$tmp" CLOSED="$CLOSED" python3 - >"$tmp/checks" 2>&1 <<'EOF'
import json, os
tmp, closed = os.environ["TMP"], os.environ["CLOSED"]
def load(n):
    try:
        return json.load(open("%s/%s.json" % (tmp, n)))
    except Exception as e:
        return {"error": "no JSON: %s" % e, "state": {}}
def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + str(why).replace("\n", " | ")[:1500]))

main = load("main"); st = main.get("state") or {}; c = st.get("context") or {}
m = c.get("metrics") or {}
check("main: done", main.get("status") == "done", main.get("error"))
er, lat, pool = m.get("error_rate", {}), m.get("latency_p99", {}), m.get("db_pool_usage", {})
check("error_rate current/peak", er.get("current") == 0.12 and er.get("peak") == 0.2
      and er.get("peak_at") == "2025-11-28T14:05:00Z" and er.get("current_is") == "last", er)
check("error_rate baselines", er.get("baseline_24h") == 0.004 and er.get("baseline_7d") == 0.005, er)
check("error_rate change %", er.get("change_24h_pct") == 2900 and er.get("change_7d_pct") == 2300, er)
check("error_rate unit and expanded query", er.get("unit") == "ratio" and 'service="payment-service"' in er.get("query", "")
      and "$service" not in er.get("query", ""), er)
check("latency_p99", lat.get("current") == 4200 and lat.get("baseline_24h") == 310 and lat.get("baseline_7d") == 295
      and lat.get("change_24h_pct") == 1255 and lat.get("change_7d_pct") == 1324 and lat.get("peak") == 4400, lat)
check("db_pool max series of 3", pool.get("series") == 3 and pool.get("current") == 0.98 and pool.get("peak") == 1
      and (pool.get("labels") or {}).get("pod") == "payment-service-7d9f8b6c5-x7k2p", pool)
check("db_pool baselines", pool.get("baseline_24h") == 0.41 and pool.get("baseline_7d") == 0.39
      and pool.get("change_24h_pct") == 139 and pool.get("change_7d_pct") == 151, pool)
log = open(tmp + "/log.main").read()
check("prometheus asked for 3 windows per query", log.count("GET /api/v1/query_range") == 9
      and log.count("start=1764336600&") + log.count("start=1764336600") >= 3
      and "start=1764250200&" in log and "start=1763731800&" in log, (log.count("GET /api/v1/query_range"), log[:300]))
check("loki asked backward, limit 2000, ns times", "direction=backward" in log and "limit=2000" in log
      and "start=1764336600000000000" in log and "start=1764250200000000000" in log)
check("jaeger asked in microseconds", "/api/traces?" in log and "start=1764336600000000" in log and "service=payment-service" in log)

lg = c.get("logs") or {}
ts = lg.get("templates") or []
by = {t["template"]: t for t in ts}
pool_t = "HikariPool - connection pool exhausted after <DUR> (pool=HikariPool-payments, active=<NUM>, idle=<NUM>, waiting=<NUM>)"
check("logs source/total", lg.get("source") == "loki" and lg.get("total") == 232, {k: lg.get(k) for k in ("source", "total")})
check("top template is the pool, new, error", ts and ts[0]["template"] == pool_t and ts[0]["count"] == 120
      and ts[0]["new"] is True and ts[0]["level"] == "error" and ts[0]["first_seen"] == "2025-11-28T14:01:10Z", ts[:1])
redis = [t for t in ts if t["template"].startswith("redis: i/o timeout (GET session:")]
check("JSON lines: one redis template, 25 lines, new", len(redis) == 1 and redis[0]["count"] == 25 and redis[0]["new"] is True
      and redis[0]["level"] == "error", redis)
stripe = by.get("stripe: POST /v1/payment_intents returned <NUM> Too Many Requests")
check("logfmt line: msg extracted, warn, new", stripe and stripe["count"] == 15 and stripe["level"] == "warn" and stripe["new"] is True
      and "429" in stripe["example"], stripe)
auth = by.get("PaymentService - payment <ID> authorized in <DUR> for <EMAIL> from <IP>")
check("old template: not new, masked id/duration/email/ip", auth and auth["count"] == 40 and auth["new"] is False and auth["level"] == "info", auth)
user = by.get("UserService - user <STR> not found: id=<HEX> session <UUID>")
check("quoted string, hex, uuid masked; two lines one template", user and user["count"] == 2 and user["new"] is False
      and user["level"] == "warn", user)
check("templates sorted by count", [t["count"] for t in ts] == sorted([t["count"] for t in ts], reverse=True), [t["count"] for t in ts])

tr = c.get("traces") or {}
errs = {e["operation"]: e for e in tr.get("errors") or []}
check("traces source/counts", tr.get("source") == "jaeger" and tr.get("traces") == 20 and tr.get("spans") == 74, tr.get("spans"))
pa = errs.get("pool.acquire") or {}
check("error group pool.acquire", pa.get("count") == 10 and pa.get("service") == "payment-service"
      and pa.get("attributes", {}).get("error.message") == "timeout waiting for connection", pa)
check("status >= 500 counts as error", (errs.get("POST /pay") or {}).get("count") == 5, errs.get("POST /pay"))
st_e = errs.get("POST /v1/payment_intents") or {}
check("error tag, peer.service and http.url kept", st_e.get("count") == 4 and st_e["attributes"].get("peer.service") == "stripe"
      and "api.stripe.com" in st_e["attributes"].get("http.url", ""), st_e)
check("errors sorted by count", [e["count"] for e in tr.get("errors") or []] == [10, 5, 4], tr.get("errors"))
slow = tr.get("slowest") or []
check("slowest: p99 per operation, sorted", [s["operation"] for s in slow[:3]] == ["POST /pay", "pool.acquire", "redis GET"]
      and slow[0]["p99_ms"] == 4280 and slow[2]["p99_ms"] == 1150, slow[:3])
sel = [s for s in slow if s["operation"] == "SELECT payments"]
check("slowest keeps db.statement", sel and sel[0]["attributes"].get("db.statement", "").startswith("SELECT * FROM payments"), sel)
check("host empty with a note", c.get("host") == {} and "host signals: not configured for this service (services.<service>.host = {url = <an opsgraph probe --listen agent>} or {local_window_ms = N})" in (c.get("notes") or []), c.get("notes"))
check("main: only the host note", c.get("notes") == ["host signals: not configured for this service (services.<service>.host = {url = <an opsgraph probe --listen agent>} or {local_window_ms = N})"], c.get("notes"))
size = len(json.dumps(c, separators=(",", ":")))
check("main: within the default budget (1500 tokens)", size / 4 <= 1500, size)
tl = st.get("timeline") or []
check("timeline entry", len(tl) == 1 and tl[0].get("node") == "context_collector" and tl[0].get("event") == "context_collected"
      and "metrics 3" in tl[0].get("detail", "") and tl[0].get("at", "").endswith("Z"), tl)

# failing sources
f = load("failing"); fc = (f.get("state") or {}).get("context") or {}
notes = fc.get("notes") or []
def note(*parts):
    return any(all(p in n for p in parts) for n in notes)
check("failing: run done", f.get("status") == "done", f.get("error"))
check("failing: HTTP 400 noted with Prometheus' error", note("prometheus: HTTP 400", "parse error", "query broken", "continuing without it"), notes)
check("failing: empty result noted", note("prometheus: no data for query queue_depth", "empty result"), notes)
check("failing: timeout noted", note("prometheus: timeout after 0.7 s", "query zz_slow"), notes)
check("failing: loki on a closed port noted", note("loki: connection refused", closed, "continuing without logs"), notes)
# Prometheus down: its 9 requests (run at once) fail alike, and one note says so
dn = [n for n in (((load("promdown").get("state") or {}).get("context") or {}).get("notes") or []) if n.startswith("prometheus:")]
check("prometheus down: one note for all queries and windows", dn == ["prometheus: connection refused (is the server running? check the URL) "
      "(query db_pool_usage, incident window; query error_rate, incident window; query latency_p99, incident window); continuing without them"], dn)
fm = fc.get("metrics") or {}
check("failing: the good metrics still there", sorted(fm) == ["db_pool_usage", "error_rate", "latency_p99"], sorted(fm))
check("failing: logs empty, traces still there", fc.get("logs") == {} and len((fc.get("traces") or {}).get("errors") or []) == 3, fc.get("logs"))

# unconfigured service
u = load("unconf"); uc = (u.get("state") or {}).get("context") or {}
check("unconfigured: done", u.get("status") == "done", u.get("error"))
check("unconfigured: note", "no sources configured for service billing-service in config: add services.billing-service to the config file"
      in (uc.get("notes") or []), uc.get("notes"))
check("unconfigured: empty context", uc.get("metrics") == {} and uc.get("logs") == {} and uc.get("traces") == {} and uc.get("host") == {}, uc)

# budget
s = load("small"); sc = (s.get("state") or {}).get("context") or {}
ssize = len(json.dumps(sc, separators=(",", ":"), ensure_ascii=False))
check("budget: JSON under 700 tokens", ssize / 4 <= 700, ssize)
check("budget: note", any(n.startswith("budget: summary cut to fit about 700 tokens") for n in sc.get("notes") or []), sc.get("notes"))
st2 = (sc.get("logs") or {}).get("templates") or []
check("budget: the new pool template survives first", st2 and st2[0]["template"] == pool_t and len(st2) < len(ts), st2)
check("budget: metrics kept", sorted(sc.get("metrics") or {}) == ["db_pool_usage", "error_rate", "latency_p99"], sc.get("metrics"))

# analyzer on the collected context
a = load("analyzer"); rca = (a.get("state") or {}).get("rca") or {}
check("analyzer: done", a.get("status") == "done", a.get("error"))
check("analyzer: db_pool_exhaustion", rca.get("signature") == "db_pool_exhaustion", rca)
check("analyzer: confident", (rca.get("confidence") or 0) >= 0.7, rca.get("confidence"))
cands = (a.get("state") or {}).get("candidates") or []
check("analyzer: restart_service first", cands and cands[0]["tools"][0]["name"] == "restart_service", cands[:1])

# log_templates unit
l = load("lt"); ls = l.get("state") or {}
mk = ls.get("masks") or []
want = [
    "HikariPool - connection pool exhausted after <DUR> (pool=HikariPool-payments, active=<NUM>, idle=<NUM>, waiting=<NUM>)",
    "user <EMAIL> from <IP> took <DUR>, trace <HEX>",
    "order <UUID> failed: <STR> code <HEX>",
    "retrying job <NUM> in <DUR>",
    "upstream returned <NUM> after <DUR>",
    "disk <NUM>% full on <ID>",
]
for i, w in enumerate(want):
    check("mask %d" % (i + 1), i < len(mk) and mk[i] == w, mk[i] if i < len(mk) else None)
lv = [p["level"] for p in ls.get("parsed") or []]
check("levels", lv == ["error", "info", "error", "warn", "error", "warn"], lv)
lts = ls.get("templates") or []
check("lt: total and distinct", ls.get("total") == 232 and ls.get("distinct") == 6, (ls.get("total"), ls.get("distinct")))
check("lt: counts add up", sum(t["count"] for t in lts) == 232, [t["count"] for t in lts])
check("lt: new flags", sorted(t["count"] for t in lts if t["new"]) == [15, 25, 120], [(t["template"], t["new"]) for t in lts])
EOF
tally "$tmp/checks" checks
finish
