#!/usr/bin/env bash
# tests/cli/examples_rca.sh: the examples end to end up to the root cause:
# slack_alert -> context_collector -> root_cause_analyzer (the real nodes,
# tests/nodes/collector/examples_chain.lua, built-in analyzer: no LLM in the
# config) on each alert of examples/alerts/ that has fixtures, with
# config/opsgraph.example.json pointed at tests/tools/fake_observability.py
# (Prometheus, Loki, Jaeger, Tempo answers from examples/fixtures/) and the
# local files of examples/fixtures/files/ (logs, OTLP traces).
#
#   am_black_friday_payment        Prometheus + Loki + Jaeger   db_pool_exhaustion
#   slack_matrix_slowsql_order     Prometheus + JSON-lines file + Tempo   slow_sql
#   slack_matrix_oom_inventory     Prometheus + text log file + OTLP file  oom_memory
#   manual_checkout                Prometheus (with the deploy's generation bump) + text log  deploy_regression
#
# Checked per case: the run is done, the expected signature with its
# confidence, the sources the collector used (logs/traces source, deploys),
# no failure notes, and evidence lines from the collected data.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/examples_rca.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-examples.XXXXXX") || exit 2
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

start_server "fake observability server" tests/tools/fake_observability.py "$tmp"

# the example config, every URL pointed at the fake server
BASE="$BASE" python3 - "$tmp/cfg.json" <<'EOF'
import json, os, sys
base = os.environ["BASE"]
cfg = json.load(open("config/opsgraph.example.json"))
def point(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "url" and isinstance(v, str) and v.startswith("http://127.0.0.1:"):
                o[k] = base
            else:
                point(v)
    elif isinstance(o, list):
        for v in o:
            point(v)
point(cfg)
cfg.pop("llm", None)          # the built-in analyzer answers
json.dump(cfg, open(sys.argv[1], "w"))
EOF

for ex in am_black_friday_payment slack_matrix_slowsql_order slack_matrix_oom_inventory manual_checkout; do
	python3 -c 'import json,sys; print(json.dumps({"trigger": json.load(open(sys.argv[1]))}))' \
		"examples/alerts/$ex.json" >"$tmp/$ex.in"
	timeout 60 "$OPSGRAPH" run tests/nodes/collector/examples_chain.lua --db :memory: --config "$tmp/cfg.json" \
		--input "@$tmp/$ex.in" --output json >"$tmp/$ex.json" 2>"$tmp/$ex.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then ok; else bad "$ex: exit $rc: $(tail -c 600 "$tmp/$ex.err")"; fi
done

TMP="$tmp" python3 - >"$tmp/checks" 2>&1 <<'EOF'
import json, os
tmp = os.environ["TMP"]
def load(n):
    try:
        return json.load(open("%s/%s.json" % (tmp, n)))
    except Exception as e:
        return {"error": "no JSON: %s" % e, "state": {}}
def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + str(why).replace("\n", " | ")[:1500]))

HOST = "host signals: not configured for this service (services.<service>.host = {url = <an opsgraph probe --listen agent>} or {local_window_ms = N})"
cases = {
    "am_black_friday_payment": ("db_pool_exhaustion", "loki", "jaeger", 0.7),
    "slack_matrix_slowsql_order": ("slow_sql", "file", "tempo", 0.7),
    "slack_matrix_oom_inventory": ("oom_memory", "file", "otlp-file", 0.6),
    "manual_checkout": ("deploy_regression", "file", None, 0.6),
}
for ex, (sig, logsrc, trsrc, conf) in cases.items():
    d = load(ex); st = d.get("state") or {}
    c, rca = st.get("context") or {}, st.get("rca") or {}
    check(ex + ": done", d.get("status") == "done", d.get("error"))
    check(ex + ": signature " + sig, rca.get("signature") == sig and rca.get("analyzer") == "builtin",
          {k: rca.get(k) for k in ("signature", "root_cause", "confidence", "also", "evidence")})
    check(ex + ": confidence >= %g" % conf, (rca.get("confidence") or 0) >= conf, rca.get("confidence"))
    check(ex + ": logs from " + logsrc, (c.get("logs") or {}).get("source") == logsrc and (c.get("logs") or {}).get("templates"),
          c.get("logs"))
    if trsrc:
        check(ex + ": traces from " + trsrc, (c.get("traces") or {}).get("source") == trsrc
              and (c.get("traces") or {}).get("slowest"), c.get("traces"))
    check(ex + ": no failure notes", c.get("notes") == [HOST], c.get("notes"))
    check(ex + ": within the token budget", len(json.dumps(c, separators=(",", ":"))) / 4 <= 1500, len(json.dumps(c)))
    check(ex + ": evidence", len(rca.get("evidence") or []) >= 2, rca.get("evidence"))

# slow SQL: the statement from Tempo's OTLP (db.query.text -> db.statement), the log file's new template
d = load("slack_matrix_slowsql_order"); c = d["state"]["context"]; rca = d["state"]["rca"]
sel = [s for s in c["traces"]["slowest"] if s["operation"] == "SELECT orders"]
check("slowsql: SELECT orders slowest, db.statement and peer.service", sel and sel[0]["p99_ms"] >= 2000
      and sel[0]["attributes"].get("db.statement", "").startswith("SELECT o.* FROM orders o")
      and sel[0]["attributes"].get("peer.service") == "orders-primary", c["traces"])
check("slowsql: tempo traces counted", c["traces"].get("traces") == 15 and c["traces"].get("spans") == 45, c["traces"])
ts = c["logs"]["templates"]
slow = [t for t in ts if t["template"].startswith("slow query took <DUR> (threshold <DUR>): SELECT")]
check("slowsql: jsonl custom fields: message, severity, @timestamp", slow and slow[0]["count"] == 80 and slow[0]["new"] is True
      and slow[0]["level"] == "warn" and slow[0]["first_seen"] == "2026-11-24T02:13:20Z", ts)
old = [t for t in ts if t["template"].startswith("order <NUM> created")]
check("slowsql: routine template not new", old and old[0]["new"] is False and old[0]["count"] == 60, old)
check("slowsql: query latency metric", (c["metrics"].get("query_latency_p99") or {}).get("current", 0) > 2000
      and (c["metrics"]["query_latency_p99"].get("change_24h_pct") or 0) > 1000, c["metrics"].get("query_latency_p99"))
check("slowsql: evidence names the statement", any("SELECT o.* FROM orders" in e for e in rca.get("evidence") or []), rca.get("evidence"))

# OOM: text log with continuation lines; OTLP file exporter lines; restarts metric
d = load("slack_matrix_oom_inventory"); c = d["state"]["context"]; rca = d["state"]["rca"]
ts = c["logs"]["templates"]
oom = [t for t in ts if "OutOfMemoryError: Java heap space" in t["template"]]
check("oom: OOM template from the text file, new, error", oom and oom[0]["count"] == 3 and oom[0]["new"] is True
      and oom[0]["level"] == "error", ts)
check("oom: continuation lines are not templates", not any(t["template"].startswith("at com.") or "StockRepository.load(" in t["template"] for t in ts), ts)
check("oom: traces from the OTLP file", c["traces"].get("files") == 1 and c["traces"].get("traces") == 10, c["traces"])
errs = {e["operation"]: e for e in c["traces"]["errors"]}
check("oom: exception span with its message", (errs.get("StockRepository.load") or {}).get("count") == 5
      and errs["StockRepository.load"]["attributes"].get("error.message") == "OutOfMemoryError", errs)
check("oom: http.response.status_code 503 is an error", (errs.get("POST /reserve") or {}).get("count") == 5, errs)
check("oom: memory and restarts in the metrics", c["metrics"]["memory_usage"]["current"] >= 0.98
      and c["metrics"]["container_restarts"]["current"] == 3, c["metrics"])

# deploy: generation bump from Prometheus, the new error after it
d = load("manual_checkout"); c = d["state"]["context"]; rca = d["state"]["rca"]
check("deploy: context.deploys from the generation bump", c.get("deploys") == [{"at": "2026-11-24T09:12:00Z",
      "version": "generation 42", "previous_version": "generation 41", "service": "checkout-service"}], c.get("deploys"))
check("deploy: root cause names the deploy", "generation 42" in rca.get("root_cause", "") and "18 min before the alert" in rca.get("root_cause", ""),
      rca.get("root_cause"))
check("deploy: rollback first", (d["state"].get("candidates") or [{}])[0].get("tools", [{}])[0].get("name") == "rollback_deploy",
      d["state"].get("candidates"))
tl = [e for e in d["state"].get("timeline") or [] if e.get("node") == "context_collector"]
check("deploy: timeline counts the deploy", tl and "deploys 1" in tl[0].get("detail", ""), tl)
EOF
tally() {
	[ -s "$1" ] || { bad "$2: no checks ran"; return; }
	while read -r verdict rest; do
		if [ "$verdict" = ok ]; then ok; else bad "$2: $rest"; fi
	done <"$1"
}
tally "$tmp/checks" checks
finish
