#!/usr/bin/env bash
# tests/cli/collector_sources.sh: the context collector's other sources and
# its deadline, through the real binary, against
# tests/tools/fake_observability.py (127.0.0.1, free port, killed on exit) and
# local files under a temp directory allowed by files_allow.
#
# Covered:
#   * Tempo: search + trace by id on the Black Friday traces give the same
#     summary as Jaeger (source "tempo"); a TraceQL query is passed as q=;
#     Tempo on a closed port is a note;
#   * OTLP files: a directory of *.jsonl (the file exporter) and a
#     pretty-printed one-document *.json; a line that is not OTLP-JSON, a path
#     outside files_allow: notes, the rest still read;
#   * log files: a missing file, a file outside files_allow, a file without
#     readable times, a bad entry, logs.files not a list, Loki and files both
#     configured: notes and the run done; a file that does not reach back 24 h:
#     no `new` flags and a note;
#   * deploys: an HTTP list (deploys.url) and a file (deploys.file, also JSON
#     lines) merged, the same deploy once, old ones outside the lookback left
#     out, an event without a time noted; a deploys config without a source;
#   * the deadline: a slow query gets only what is left of
#     collect_deadline_ms as its timeout, the other queries (fetched at the
#     same time, ctx.http.get_many) are collected, Loki and Jaeger are
#     skipped with notes, and the run ends in time; a bad value is a note;
#   * the pure helpers (tests/nodes/collector/libs_test.lua).
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/collector_sources.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-sources.XXXXXX") || exit 2
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

start_server "fake observability server" tests/tools/fake_observability.py "$tmp"

A=$tmp/allowed
mkdir -p "$A/otlp" "$tmp/secret"
cp examples/fixtures/files/otlp/inventory-traces.jsonl "$A/otlp/"
# one pretty-printed document (two of the traces), a line that is not OTLP, a file of another kind
python3 - "$A" <<'EOF'
import json, sys
a = sys.argv[1]
lines = open("examples/fixtures/files/otlp/inventory-traces.jsonl").read().splitlines()
json.dump(json.loads(lines[0]), open(a + "/otlp/pretty.json", "w"), indent=2)
open(a + "/otlp/mixed.jsonl", "w").write(lines[1] + "\n" + '{"hello": "world"}' + "\n")
open(a + "/otlp/README.txt", "w").write("not read\n")
# deploys: a JSON-lines file
with open(a + "/deploys.jsonl", "w") as f:
    f.write(json.dumps({"service": "checkout-service", "version": "v2.15.0", "deployed_at": "2026-11-24T09:12:00Z"}) + "\n")
    f.write(json.dumps({"service": "checkout-service", "version": "v2.14.9", "deployed_at": "2026-11-24T08:40:00Z"}) + "\n")
EOF
cp examples/fixtures/files/inventory-service.log "$A/"
cp examples/fixtures/deploys/checkout.json "$A/deploys.json"
cp examples/fixtures/files/otlp/inventory-traces.jsonl "$tmp/secret/"
printf 'no time here\nnor here\n' >"$A/untimed.log"
cp examples/fixtures/files/checkout-service.log "$tmp/secret/"
# a log that starts at the incident: no 24 h history
grep '2026-11-24T09' examples/fixtures/files/checkout-service.log >"$A/short.log"

BASE="$BASE" CLOSED="$CLOSED" A="$A" TMP="$tmp" python3 - <<'EOF'
import copy, json, os
base, closed, a, tmp = os.environ["BASE"], os.environ["CLOSED"], os.environ["A"], os.environ["TMP"]
cfg = json.load(open("config/opsgraph.example.json"))
def save(name, obj):
    json.dump(obj, open(tmp + "/" + name, "w"))
svcs = cfg["services"]
for s in svcs.values():
    if "prometheus" in s:
        s["prometheus"]["url"] = base
cfg["files_allow"] = [a]
pay = svcs["payment-service"]
pay["logs"]["loki"]["url"] = base
pay["traces"] = {"tempo": {"url": base, "limit": 50}}
save("cfg_tempo.json", cfg)
c = copy.deepcopy(cfg); c["services"]["payment-service"]["traces"] = {"tempo": {"url": base, "query": "{ resource.service.name = \"$service\" }"}}
save("cfg_traceql.json", c)
c = copy.deepcopy(cfg); c["services"]["payment-service"]["traces"] = {"tempo": {"url": closed}}
save("cfg_tempo_down.json", c)
inv = svcs["inventory-service"]
inv["traces"] = {"otlp_files": [a + "/otlp", tmp + "/secret/inventory-traces.jsonl"]}
inv["logs"] = {"files": [{"path": a + "/inventory-service.log", "format": "text"},
                         {"path": a + "/missing.log"},
                         {"path": tmp + "/secret/checkout-service.log"},
                         {"path": a + "/untimed.log", "format": "text"},
                         {"path": a + "/x.log", "format": "csv"}]}
save("cfg_files.json", cfg)
c = copy.deepcopy(cfg); c["defaults"]["token_budget"] = 500
save("cfg_files_small.json", c)
c = copy.deepcopy(cfg)
c["services"]["inventory-service"]["logs"] = {"files": [{"path": a + "/inventory-service.log", "max_bytes": 2000}]}
c["services"]["inventory-service"]["traces"] = {"otlp_files": [a + "/otlp/pretty.json"], "max_bytes": 0}
save("cfg_truncated.json", c)
c = copy.deepcopy(cfg)
c["services"]["inventory-service"]["logs"] = {"loki": {"url": base}, "files": "x"}
save("cfg_both.json", c)
c = copy.deepcopy(cfg)
c["services"]["inventory-service"]["logs"] = {"files": 42}
c["services"]["inventory-service"]["traces"] = {"otlp_files": [a + "/nope"]}
c["services"]["inventory-service"]["deploys"] = {"lookback": "1h"}
save("cfg_badshapes.json", c)
c = json.load(open("config/opsgraph.example.json"))      # the example's own file sources
for sv in c["services"].values():
    sv["prometheus"]["url"] = base
c["defaults"]["token_budget"] = 400
c["services"]["checkout-service"]["deploys"] = {"prometheus": {"query": "kube_deployment_status_observed_generation{deployment=\"$service\"}"},
                                                "url": base + "/deploys?service=$service"}
save("cfg_budget.json", c)
co = svcs["checkout-service"]
co["deploys"] = {"url": base + "/deploys?service=$service", "file": a + "/deploys.json"}
co["logs"] = {"files": [{"path": a + "/short.log", "format": "text"}]}
save("cfg_deploys.json", cfg)
c = copy.deepcopy(cfg)
c["services"]["checkout-service"]["deploys"] = {"file": a + "/deploys.jsonl", "max": 1}
save("cfg_deploys_jsonl.json", c)
c = copy.deepcopy(cfg)
c["services"]["payment-service"]["traces"] = {"jaeger": {"url": base}}
c["services"]["payment-service"]["prometheus"]["queries"]["aa_slow"] = {"expr": "slow_metric{service=\"$service\"}"}
c["defaults"]["collect_deadline_ms"] = 800
save("cfg_deadline.json", c)
c["defaults"]["collect_deadline_ms"] = "soon"
del c["services"]["payment-service"]["prometheus"]["queries"]["aa_slow"]
save("cfg_deadline_bad.json", c)
EOF

PAY='{"alert": {"service": "payment-service", "started_at": "2025-11-28T14:02:13Z", "window": {"from": "2025-11-28T13:30:00Z", "to": "2025-11-28T14:30:00Z"}}}'
INV='{"alert": {"service": "inventory-service", "started_at": "2026-11-24T03:41:10Z", "window": {"from": "2026-11-24T03:26:10Z", "to": "2026-11-24T09:41:10Z"}}}'
CO='{"alert": {"service": "checkout-service", "started_at": "2026-11-24T09:30:00Z", "window": {"from": "2026-11-24T09:15:00Z", "to": "2026-11-24T09:45:00Z"}}}'
run() {	# NAME CONFIG INPUT
	timeout 60 "$OPSGRAPH" run tests/nodes/collector/collector_only.lua --db :memory: --config "$tmp/$2" --input "$3" \
		--output json >"$tmp/$1.json" 2>"$tmp/$1.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then ok; else bad "$1: exit $rc: $(tail -c 600 "$tmp/$1.err")"; fi
}
run tempo cfg_tempo.json "$PAY"
cp "$tmp/log" "$tmp/log.tempo"
run traceql cfg_traceql.json "$PAY"
run tempo_down cfg_tempo_down.json "$PAY"
run files cfg_files.json "$INV"
run both cfg_both.json "$INV"
run files_small cfg_files_small.json "$INV"
run truncated cfg_truncated.json "$INV"
run badshapes cfg_badshapes.json "$INV"
run deploys cfg_deploys.json "$CO"
run deploys_jsonl cfg_deploys_jsonl.json "$CO"
run budget_inv cfg_budget.json "$INV"
run budget_co cfg_budget.json "$CO"
t0=$(date +%s%N)
run deadline cfg_deadline.json "$PAY"
t1=$(date +%s%N)
echo $(( (t1 - t0) / 1000000 )) >"$tmp/deadline.ms"
run deadline_bad cfg_deadline_bad.json "$PAY"
timeout 60 "$OPSGRAPH" run tests/nodes/collector/libs_test.lua --db :memory: --output json >"$tmp/libs.json" 2>"$tmp/libs.err"
[ $? -eq 0 ] && ok || bad "libs_test: $(tail -c 600 "$tmp/libs.err")"

TMP="$tmp" A="$A" CLOSED="$CLOSED" python3 - >"$tmp/checks" 2>&1 <<'EOF'
import json, os, re
tmp, a, closed = os.environ["TMP"], os.path.realpath(os.environ["A"]), os.environ["CLOSED"]
def load(n):
    try:
        return json.load(open("%s/%s.json" % (tmp, n)))
    except Exception as e:
        return {"error": "no JSON: %s" % e, "state": {}}
def ctx(n):
    return (load(n).get("state") or {}).get("context") or {}
def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + str(why).replace("\n", " | ")[:1500]))
def has(notes, *parts):
    return any(all(p in n for p in parts) for n in notes)
for n in ("tempo", "traceql", "tempo_down", "files", "both", "badshapes", "deploys", "deploys_jsonl", "deadline", "deadline_bad"):
    check(n + ": done", load(n).get("status") == "done", load(n).get("error"))

# Tempo
t = ctx("tempo").get("traces") or {}
check("tempo: source and counts as Jaeger's", t.get("source") == "tempo" and t.get("traces") == 20 and t.get("spans") == 74, t)
errs = {e["operation"]: e for e in t.get("errors") or []}
check("tempo: error groups as Jaeger's", [e["count"] for e in t.get("errors") or []] == [10, 5, 4]
      and errs.get("pool.acquire", {}).get("attributes", {}).get("error.message") == "timeout waiting for connection"
      and errs.get("POST /v1/payment_intents", {}).get("attributes", {}).get("peer.service") == "stripe", t.get("errors"))
slow = t.get("slowest") or []
check("tempo: slowest as Jaeger's", [s["operation"] for s in slow[:3]] == ["POST /pay", "pool.acquire", "redis GET"]
      and slow[0]["p99_ms"] == 4280, slow[:3])
log = open(tmp + "/log.tempo").read().lower()
check("tempo: search by service tag, seconds, then traces by id", "get /api/search?" in log and "tags=service.name%3dpayment-service" in log
      and "start=1764336600" in log and log.count("get /api/traces/") == 20, log[-600:])
check("tempo: only the host note", ctx("tempo").get("notes") == ["host signals: not configured for this service (services.<service>.host = {url = <an opsgraph probe --listen agent>} or {local_window_ms = N})"], ctx("tempo").get("notes"))
tq = open(tmp + "/log").read().lower()
check("tempo: TraceQL query sent as q", "q=%7b%20resource.service.name%20%3d%20%22payment-service%22%20%7d" in tq
      and (ctx("traceql").get("traces") or {}).get("traces") == 20, [l for l in tq.splitlines() if "search" in l][-1:])
check("tempo down: a note, no traces", has(ctx("tempo_down").get("notes") or [], "tempo: connection refused", closed, "continuing without traces")
      and ctx("tempo_down").get("traces") == {}, ctx("tempo_down").get("notes"))

# OTLP and log files
c = ctx("files"); notes = c.get("notes") or []
t = c.get("traces") or {}
check("otlp: the directory's jsonl + pretty json read, README.txt not", t.get("source") == "otlp-file" and t.get("files") == 2
      and t.get("traces") == 10, {k: t.get(k) for k in ("source", "files", "traces", "spans")})
check("otlp: the bad line noted", has(notes, "otlp-file: ", "mixed.jsonl: 1 line is not OTLP-JSON", "no resourceSpans"), notes)
check("otlp: outside files_allow noted", has(notes, "otlp-file: ctx.files:", "secret/inventory-traces.jsonl", "files_allow"), notes)
lg = c.get("logs") or {}
araw = os.environ["A"]
check("logs: the readable files listed", lg.get("source") == "file"
      and lg.get("files") == [araw + "/inventory-service.log", araw + "/untimed.log"], lg.get("files"))
check("logs: the good file's templates", any("OutOfMemoryError" in tt["template"] for tt in lg.get("templates") or []), lg.get("templates"))
check("logs: missing file noted", has(notes, "logs: ctx.files: cannot open", "missing.log", "continuing without this file"), notes)
check("logs: outside files_allow noted", has(notes, "logs: ctx.files:", "secret/checkout-service.log", "outside the directories of config files_allow"), notes)
check("logs: untimed file noted", has(notes, "logs: no line of", "untimed.log has a readable time", "time_pattern"), notes)
check("logs: bad format noted", has(notes, "logs: logs.files", "x.log: format \"csv\" is not", "skipped"), notes)
check("logs: new flags dropped when a file lacks the baseline", all("new" not in tt for tt in lg.get("templates") or []) and lg.get("templates"), lg.get("templates"))
check("logs: untimed file cannot give a baseline: noted", has(notes, "untimed.log does not reach back to the 24 h baseline window (no timed lines)"), notes)
check("both: loki used, files ignored, noted", has(ctx("both").get("notes") or [], "logs: both loki and files are configured")
      and (ctx("both").get("logs") or {}).get("source") == "loki", ctx("both").get("notes"))
b = ctx("badshapes"); bn = b.get("notes") or []
check("bad logs.files noted", has(bn, "logs: logs.files must be a list"), bn)
check("otlp: missing directory noted", has(bn, "otlp-file: ctx.files: cannot open", "nope"), bn)
check("otlp: no files: noted", has(bn, "otlp-file: no *.json or *.jsonl files found"), bn)
check("deploys without a source noted", has(bn, "deploys: services.inventory-service.deploys names no source"), bn)

c = ctx("truncated"); tn = c.get("notes") or []
check("max_bytes: only the file's end read, noted", has(tn, "inventory-service.log: only its end was read (max_bytes)")
      and has(tn, "does not reach back to the 24 h baseline window", "only the last 2000 bytes were read")
      and 0 < (c.get("logs") or {}).get("total", 0) < 30, (tn, (c.get("logs") or {}).get("total")))
check("max_bytes 0 for OTLP files: 1 byte, noted, no crash", has(tn, "pretty.json: only the first 1 bytes were read"), tn)

# deploys
c = ctx("deploys"); dn = c.get("notes") or []
check("deploys: url + file merged, once, old one out of the lookback", c.get("deploys") == [{"at": "2026-11-24T09:12:00Z",
      "previous_version": "v2.14.0", "service": "checkout-service", "version": "v2.15.0"}], c.get("deploys"))
check("deploys: the event without a time noted (per source)", sum(1 for n in dn if "1 event without a readable time" in n) == 2, dn)
check("deploys: short log file, no baseline: noted", has(dn, "short.log does not reach back to the 24 h baseline window"), dn)
c = ctx("deploys_jsonl")
check("deploys: JSON lines file, max 1 (the newest)", c.get("deploys") == [{"at": "2026-11-24T09:12:00Z",
      "service": "checkout-service", "version": "v2.15.0"}], c.get("deploys"))

# the token budget with file sources and deploys
for n in ("budget_inv", "budget_co"):
    c = ctx(n)
    size = len(json.dumps(c, separators=(",", ":"), ensure_ascii=False))
    check(n + ": within 400 tokens", load(n).get("status") == "done" and size / 4 <= 400, (size, c))
    check(n + ": budget note", has(c.get("notes") or [], "budget: summary cut to fit about 400 tokens"), c.get("notes"))
    check(n + ": metrics kept, a template kept", len(c.get("metrics") or {}) >= 2 and len((c.get("logs") or {}).get("templates") or []) >= 1, c)
c = ctx("files_small"); size = len(json.dumps(c, separators=(",", ":"), ensure_ascii=False))
fn = c.get("notes") or []
check("budget with many notes: within 500 tokens", size / 4 <= 500, (size, fn))
check("budget with many notes: counted, host note kept, long ones cut", has(fn, "budget: summary cut to fit about 500 tokens", "notes)")
      and "host signals: not configured for this service (services.<service>.host = {url = <an opsgraph probe --listen agent>} or {local_window_ms = N})" in fn and all(len(n) <= 200 for n in fn), fn)
check("budget_co: the deploy kept (two sources, once)", [d.get("version") for d in ctx("budget_co").get("deploys") or []]
      in (["generation 42", "v2.15.0"], ["v2.15.0", "generation 42"]), ctx("budget_co").get("deploys"))

# deadline
c = ctx("deadline"); dn = c.get("notes") or []
ms = int(open(tmp + "/deadline.ms").read())
# the time left is 0.8 s less what the collector spent before the query (a ms or two)
check("deadline: the slow query cut to the time left", any(re.search(r"prometheus: timeout after 0\.(79\d|8) s \(query aa_slow, incident window\)", n) for n in dn), dn)
# the queries run at the same time: the slow one does not hold the others back
check("deadline: the other queries collected alongside", sorted(c.get("metrics") or {}) == ["db_pool_usage", "error_rate", "latency_p99"]
      and not any("skipped quer" in n for n in dn), (dn, sorted(c.get("metrics") or {})))
check("deadline: loki and jaeger skipped with notes", has(dn, "deadline: loki skipped: defaults.collect_deadline_ms (800 ms) was reached after")
      and has(dn, "deadline: jaeger skipped"), dn)
check("deadline: the run ended in time", ms < 3000, ms)
c = ctx("deadline_bad")
check("deadline: a bad value is a note, collecting goes on", has(c.get("notes") or [], "config: defaults.collect_deadline_ms must be a positive number of milliseconds (got soon)")
      and len(c.get("metrics") or {}) == 3, c.get("notes"))

# the pure helpers
o = (load("libs").get("state") or {}).get("out") or {}
check("libs: spec errors", o.get("spec_errors") == ['an entry of logs.files needs a path: {"path": "/var/log/app.log", "format": "jsonl"|"text"}',
      'logs.files /x.log: format "csv" is not "jsonl" or "text"', "logs.files /x.log: time_field must be a string"], o.get("spec_errors"))
check("libs: format from the name", o.get("spec_guess") == ["jsonl", "jsonl", "text"], o.get("spec_guess"))
check("libs: jsonl custom fields, epoch ms", o.get("jsonl_epoch_ms") == {"t": 1764338533, "msg": "pool exhausted", "level": "ERROR"}, o.get("jsonl_epoch_ms"))
check("libs: jsonl default keys, offset", o.get("jsonl_default_keys") == {"t": 1764334933, "msg": "x"}, o.get("jsonl_default_keys"))
check("libs: jsonl without time / not JSON: nil", o.get("jsonl_no_time") is True and o.get("jsonl_not_json") is True)
check("libs: text times", o.get("text_iso") == 1764338533 and o.get("text_bracket") == 1764338533 and o.get("text_pattern") == 1764338533
      and o.get("text_cont") is True, o)
check("libs: generation bumps, a drop is no deploy", o.get("from_series") == [
      {"previous_version": "generation 3", "service": "api", "t": 160, "version": "generation 4"},
      {"previous_version": "generation 1", "service": "api", "t": 340, "version": "generation 2"}], o.get("from_series"))
check("libs: list under items, keys, bad time counted", o.get("from_list") == {"bad": 1, "list": [
      {"service": "web", "t": 1764338400, "version": "7"}, {"service": "svc", "t": 1764338400, "version": "web:1.2"}]}, o.get("from_list"))
check("libs: not a list", "not a list of deploy events" in (o.get("from_list_err") or ""))
check("libs: finish: window, once, newest max", o.get("finish") == [{"at": "1970-01-01T00:03:20Z", "version": "c"},
      {"at": "1970-01-01T00:05:00Z", "version": "d"}], o.get("finish"))
check("libs: otlp error", o.get("otlp_err") == {"isnil": True, "err": "not OTLP-JSON: no resourceSpans (or Tempo's batches) in the document"})
check("libs: otlp span", o.get("otlp") == {"n": 1, "service": "api", "ms": 1500, "err": True, "stmt": "SELECT 1",
      "url": "http://x/y", "n42": 42, "msg": "deadlock detected"}, o.get("otlp"))
EOF
while read -r verdict rest; do
	if [ "$verdict" = ok ]; then ok; else bad "$rest"; fi
done <"$tmp/checks"
[ -s "$tmp/checks" ] || bad "no checks ran"
finish
