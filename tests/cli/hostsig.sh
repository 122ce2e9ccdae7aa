#!/usr/bin/env bash
# tests/cli/hostsig.sh: the eBPF host signals (engine/trace/hostsig.c),
# `opsgraph doctor`, `opsgraph probe` and the context collector's host source.
#
# Provokes, inside one `probe --once` window: an OOM kill in a memory cgroup
# limited to 48 MiB (v1 memory controller on hybrid hosts like ours, else
# cgroup v2 memory.max), TCP retransmits from this host to a private network
# namespace over a veth made lossy by a tc BPF program dropping ~30 % of the
# IPv4 packets (bpf/test_drop.bpf.c; this kernel has no netem) while a
# python3 client sends to a python3 server, and two crash loops (a shell
# renamed `crashy` exiting 3, one renamed `segvy` killing itself with SIGSEGV).
# Then checks the summary names each: the retransmits to that address and
# port, the OOM victim's comm and cgroup, the crash-loop comms with counts and
# codes. Also: doctor's text, JSON and exit status; the /proc fallback when
# the process is not privileged (setpriv to nobody); the probe agent's
# /v1/host-signals answering the context collector (services.X.host.url) and
# its errors; and ctx.host.signals through services.X.host.local_window_ms.
#
# Needs root (eBPF, namespaces, cgroups); skipped with the reason otherwise.
# Run by tests/run.sh with OPSGRAPH set; by hand:
#   OPSGRAPH=$PWD/build/d/bin/opsgraph bash tests/cli/hostsig.sh
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
OPSGRAPH=$(readlink -f "$OPSGRAPH")
DROP_OBJ=$(dirname "$(dirname "$OPSGRAPH")")/bpf/test_drop.bpf.o
[ "$OPSGRAPH" = "$PWD/bin/opsgraph" ] && DROP_OBJ=$PWD/build/rel/bpf/test_drop.bpf.o

skip() { echo "skipped: $*"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "not root (eBPF, network namespaces and cgroups need it)"
if ! "$OPSGRAPH" doctor >/dev/null 2>&1; then
	skip "opsgraph doctor: eBPF collectors cannot run here: $("$OPSGRAPH" doctor 2>&1 | grep missing | head -3 | tr '\n' ' ')"
fi
for t in ip tc python3 setpriv curl; do
	command -v "$t" >/dev/null || skip "$t is not installed (scripts/install-deps.sh)"
done
[ -f "$DROP_OBJ" ] || skip "$DROP_OBJ not built (make with BPF=1)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-hostsig.XXXXXX") || exit 2
# the interpreter itself, not a version manager's shim (a shell script whose
# own helpers would exit inside the scoped cgroup)
PY=$(python3 -c 'import sys; print(sys.executable)')
chmod 755 "$tmp"
id=$$
NS=og-hs-$id
VA=ohs${id}a VB=ohs${id}b
NET=10.231.$((id % 250)).
PORT=$((20000 + id % 20000))
CG= SC=
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	ip link del "$VA" 2>/dev/null
	for g in "$CG" "${SC:-}"; do
		[ -n "$g" ] && [ -d "$g" ] && { xargs -r kill -9 <"$g/cgroup.procs" 2>/dev/null; sleep 0.1; rmdir "$g"; }
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- doctor ------------------------------------------------------------------
out=$("$OPSGRAPH" doctor 2>&1); rc=$?
[ $rc -eq 0 ] && ok || bad "doctor exit $rc: $out"
for c in privilege btf lockdown tracefs cgroup2 unprivileged_bpf_disabled prog_type.tracepoint prog_type.tp_btf \
	prog_type.raw_tp prog_type.kprobe prog_type.fentry ringbuf sandbox; do
	echo "$out" | grep -qE "^$c +(ok|missing) +[^ ]" && ok || bad "doctor: no line for $c: $out"
done
echo "$out" | grep -qE '^prog_type.tracepoint +ok' && ok || bad "doctor: tracepoints should work here: $out"
"$OPSGRAPH" doctor --output json >"$tmp/doctor.json"; rc=$?
python3 - "$tmp/doctor.json" <<'EOF' && ok || bad "doctor --output json: $(cat "$tmp/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
names = [c["name"] for c in d["checks"]]
assert d["host_signals_ebpf"] is True, d
assert all(c["status"] in ("ok", "missing") and c["detail"] for c in d["checks"]), d
assert "prog_type.fentry" in names and "sandbox" in names, names
EOF
"$OPSGRAPH" doctor --bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "doctor --bogus should exit 2"
out=$("$OPSGRAPH" doctor --output yaml 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "doctor: --output takes json (got 'yaml')" && ok || bad "doctor --output yaml (exit $rc): $out"

# not privileged: doctor fails hard with the reason, probe falls back to /proc
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$OPSGRAPH" doctor 2>&1); rc=$?
[ $rc -eq 1 ] && ok || bad "doctor as nobody: exit $rc, want 1: $out"
echo "$out" | grep -q "lacks CAP_BPF and CAP_PERFMON (CapEff=0000000000000000" && ok || bad "doctor as nobody: $out"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$OPSGRAPH" probe --once --window 300ms \
	>"$tmp/nobody.json" 2>"$tmp/nobody.err"; rc=$?
python3 - "$tmp/nobody.json" <<'EOF' && ok || bad "probe as nobody (exit $rc): $(cat "$tmp/nobody.json" "$tmp/nobody.err")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"] == "/proc sampling, reduced fidelity", d["source"]
assert any("lacks CAP_BPF" in n and "(source: /proc sampling, reduced fidelity)" in n for n in d["notes"]), d["notes"]
assert "retrans_segs" in d["proc"] and "oom_kill" in d["proc"], d["proc"]
assert any("(source: /proc sampling, reduced fidelity)" in l for l in d["lines"]), d["lines"]
assert all(v.startswith("unavailable: eBPF off") for v in d["collectors"].values()), d["collectors"]
EOF
# the agent as nobody says at start that it serves /proc counters only
NPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$OPSGRAPH" probe --listen "127.0.0.1:$NPORT" \
	--interval 1s 2>"$tmp/nobody-agent.err" &
nagent=$!
for _ in $(seq 50); do grep -q "listening" "$tmp/nobody-agent.err" 2>/dev/null && break; sleep 0.1; done
sleep 0.2; kill "$nagent" 2>/dev/null; wait "$nagent" 2>/dev/null
grep -q "degraded: eBPF off: process lacks CAP_BPF" "$tmp/nobody-agent.err" && ok ||
	bad "the agent as nobody does not say it is degraded: $(cat "$tmp/nobody-agent.err")"
"$OPSGRAPH" probe --once --window 0 >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "probe --window 0 should exit 2"
"$OPSGRAPH" probe --window 1s >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "probe without --once/--listen should exit 2"
"$OPSGRAPH" probe --once --window 1s --runq-ms abc >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "probe --runq-ms abc should exit 2"
out=$("$OPSGRAPH" probe --once --bogus 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "unknown option '--bogus'" && ok || bad "probe --once --bogus (exit $rc): $out"
# a plain directory scoped every collector to nothing: an empty, quiet-looking summary
out=$("$OPSGRAPH" probe --once --window 1s --cgroup /etc 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "'/etc' is not a cgroup v2 directory (not on a cgroup2 mount)" && ok ||
	bad "probe --cgroup /etc should be refused (exit $rc): $out"

# ---- the provoked incident ----------------------------------------------------
# the lossy link: veth into a private netns, ~30 % of IPv4 packets dropped on egress
ip netns add "$NS" && ip link add "$VA" type veth peer name "$VB" && ip link set "$VB" netns "$NS" &&
	ip addr add "${NET}1/30" dev "$VA" && ip link set "$VA" up &&
	ip -n "$NS" addr add "${NET}2/30" dev "$VB" && ip -n "$NS" link set "$VB" up && ip -n "$NS" link set lo up &&
	tc qdisc add dev "$VA" clsact && tc filter add dev "$VA" egress bpf da obj "$DROP_OBJ" sec tc
[ $? -eq 0 ] && ok || { bad "could not set up the lossy veth"; finish; }
ip netns exec "$NS" python3 -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8); s.settimeout(20)
open(sys.argv[3], "w").close()
def drain(c):
    c.settimeout(20)
    while c.recv(65536): pass
for _ in range(4):
    c, _ = s.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
threading.Event().wait(15)
' "${NET}2" "$PORT" "$tmp/server.ready" 2>"$tmp/server.err" &
pids+=($!)
for _ in $(seq 100); do [ -e "$tmp/server.ready" ] && break; sleep 0.05; done
[ -e "$tmp/server.ready" ] && ok || bad "the TCP server in $NS did not start: $(cat "$tmp/server.err")"

# the memory cgroup of the OOM victim
if [ -d /sys/fs/cgroup/memory ] && [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	CG=/sys/fs/cgroup/memory/og-hostsig-$id
	mkdir "$CG" && echo $((48 << 20)) >"$CG/memory.limit_in_bytes" &&
		{ [ ! -f "$CG/memory.memsw.limit_in_bytes" ] || echo $((48 << 20)) >"$CG/memory.memsw.limit_in_bytes"; }
else
	CG=/sys/fs/cgroup/og-hostsig-$id
	mkdir "$CG" && echo $((48 << 20)) >"$CG/memory.max" && echo 0 >"$CG/memory.swap.max"
fi
[ $? -eq 0 ] && ok || bad "could not create the memory cgroup $CG"
# the scope: crash loops and the TCP client run in this cgroup v2 group, and the
# probe counts exits, syscall errors and TCP of it only (the host is busy with
# other tests: their exits and connections must not crowd ours out)
if [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then SC=/sys/fs/cgroup/unified/og-hostsig-$id-scope
else SC=/sys/fs/cgroup/og-hostsig-$id-scope; fi
mkdir "$SC" && ok || bad "could not create the cgroup $SC"
inscope() { bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$SC" "$@"; }

"$OPSGRAPH" probe --once --window 8s --runq-ms 1000 --cgroup "$SC" >"$tmp/once.json" 2>"$tmp/once.err" &
probe=$!
pids+=($probe)
for _ in $(seq 200); do
	grep -q "watching" "$tmp/once.err" 2>/dev/null && break
	sleep 0.05
done

# TCP over the lossy link, 4 connections for ~3 s, from the scope cgroup (started first: the
# other provocations run meanwhile, all inside the window)
timeout 10 bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$SC" "$PY" -c '
import socket, sys, threading, time
def send():
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    end = time.time() + 3
    buf = b"x" * 16384
    while time.time() < end:
        try: s.sendall(buf)
        except socket.timeout: pass
    s.close()
ts = [threading.Thread(target=send) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
' "${NET}2" "$PORT" 2>"$tmp/client.err" &
client=$!
# OOM: python3 renamed oomhog allocates past the limit
(bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" -c "
open(\"/proc/self/comm\", \"w\").write(\"oomhog\")
a = []
while True: a.append(bytearray(1 << 20))
"' _ "$CG" "$PY"; exit $?) 2>/dev/null &	# exit: no exec, so no "Killed" job notice
oom=$!
# crash loops: 6 x exit 3, 4 x SIGSEGV
{
	for _ in 1 2 3 4 5 6; do inscope bash -c 'printf crashy >/proc/$$/comm; exit 3'; done
	for _ in 1 2 3 4; do inscope bash -c 'printf segvy >/proc/$$/comm; kill -SEGV $$'; done
} 2>/dev/null
wait "$client" && ok || bad "the TCP client failed: $(cat "$tmp/client.err" "$tmp/server.err")"
{ wait "$oom"; oomrc=$?; } 2>/dev/null
[ "$oomrc" -eq 137 ] && ok || bad "oomhog should have been OOM-killed (exit $oomrc)"
tc -s filter show dev "$VA" egress >"$tmp/tc.txt" 2>&1
wait "$probe"; rc=$?
[ $rc -eq 0 ] && ok || bad "probe --once exit $rc: $(cat "$tmp/once.err")"

NET="$NET" PORT="$PORT" CGNAME="og-hostsig-$id" python3 - "$tmp/once.json" >"$tmp/checks" 2>&1 <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + str(why)[:600]))
dst = os.environ["NET"] + "2"
port = int(os.environ["PORT"])
check("source ebpf", d.get("source") == "ebpf", d.get("source"))
check("every collector active", all(not v.startswith("unavailable") for v in d["collectors"].values()), d["collectors"])
rt = [r for r in d.get("tcp_retransmits", []) if r["daddr"] == dst and r["dport"] == port]
check("retransmits to the lossy peer", rt and rt[0]["count"] >= 3, d.get("tcp_retransmits"))
check("retransmits: the peer first", d["tcp_retransmits"][:1] == rt[:1], d.get("tcp_retransmits"))
check("retransmits line", any(f"{dst}:{port} x" in l for l in d["lines"]), d["lines"])
cn = [c for c in d.get("tcp_connect", []) if c["daddr"] == dst and c["dport"] == port]
# 4 handshakes; a SYN dropped 3 times in a row (2.7 %) fails the 5 s connect
check("connect to the peer measured", cn and cn[0]["n"] + cn[0]["failed"] == 4 and cn[0]["n"] >= 1 and cn[0]["p99_us"] > 0, d.get("tcp_connect"))
# OOM kills are host-wide: another run of this test may have its own oomhog
oo = [o for o in d.get("oom_kills", []) if o["cgroup"] == os.environ["CGNAME"]]
check("oom victim in our cgroup", len(oo) == 1, d.get("oom_kills"))
check("oom victim comm", oo and oo[0]["comm"] == "oomhog", d.get("oom_kills"))
check("oom victim rss", oo and 20000 < oo[0]["rss_kb"] <= 49152 and oo[0]["pid"] > 0, d.get("oom_kills"))
check("proc oom_kill delta", d["proc"].get("oom_kill", 0) >= 1, d["proc"])
loops = {c["comm"]: c for c in d.get("crash_loops", [])}
check("crash loop crashy", loops.get("crashy", {}).get("count") == 6 and loops["crashy"].get("exit_code") == 3, loops)
check("crash loop segvy", loops.get("segvy", {}).get("count") == 4 and loops["segvy"].get("signal") == 11, loops)
check("crash loop interval", loops.get("crashy", {}).get("interval_s", -1) >= 0, loops)
check("only the scope's exits", set(loops) == {"crashy", "segvy"}, sorted(loops))
check("crash loop line", any("crashy x6 (exit=3)" in l for l in d["lines"]) and any("segvy x4 (SIGSEGV)" in l for l in d["lines"]), d["lines"])
rq = d.get("runq_latency", {})
check("runq histogram", rq.get("samples", 0) > 0 and rq.get("p99_us", 0) >= rq.get("p50_us", 0) > 0
      and 900 <= rq.get("sampled_ms", 0) <= 2500, rq)
check("syscall errors list", isinstance(d.get("syscall_errors"), list), d.get("syscall_errors"))
check("window", 7.5 <= d["window"]["seconds"] <= 12, d["window"])
EOF
while read -r verdict rest; do
	if [ "$verdict" = ok ]; then ok; else bad "probe --once: $rest"; fi
done <"$tmp/checks"
grep -q "^FAIL retransmits" "$tmp/checks" && echo "tc egress filter: $(cat "$tmp/tc.txt")" >&2
[ -s "$tmp/checks" ] || bad "probe --once: no checks ran: $(head -c 500 "$tmp/once.json")"

# ---- the agent and the context collector ---------------------------------------
APORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$OPSGRAPH" probe --listen "127.0.0.1:$APORT" --interval 1s --keep 1m --runq-ms 0 --cgroup "$SC" 2>"$tmp/agent.err" &
agent=$!
pids+=($agent)
buckets() { curl -s --max-time 2 "http://127.0.0.1:$APORT/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["buckets"])' 2>/dev/null || echo 0; }
for _ in $(seq 60); do [ "$(buckets)" -ge 1 ] && break; sleep 0.1; done
[ "$(buckets)" -ge 1 ] && ok || bad "the probe agent made no bucket: $(cat "$tmp/agent.err")"
from=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for _ in 1 2 3 4 5; do inscope bash -c 'printf agentcrash >/proc/$$/comm; exit 7'; done
n0=$(buckets)
for _ in $(seq 40); do [ "$(buckets)" -ge $((n0 + 2)) ] && break; sleep 0.1; done
to=$(date -u -d '+2 sec' +%Y-%m-%dT%H:%M:%SZ)

code=$(curl -s -o "$tmp/bad.json" -w '%{http_code}' "http://127.0.0.1:$APORT/v1/host-signals?since=yesterday")
[ "$code" = 400 ] && grep -q "ISO-8601" "$tmp/bad.json" && ok || bad "bad since: HTTP $code $(cat "$tmp/bad.json")"
code=$(curl -s -o "$tmp/inv.json" -w '%{http_code}' "http://127.0.0.1:$APORT/v1/host-signals?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z")
[ "$code" = 400 ] && grep -q "is after until" "$tmp/inv.json" && ok || bad "since after until: HTTP $code $(cat "$tmp/inv.json")"
code=$(curl -s -o "$tmp/nf.json" -w '%{http_code}' "http://127.0.0.1:$APORT/nope")
[ "$code" = 404 ] && ok || bad "unknown path: HTTP $code"
code=$(curl -s -o "$tmp/post.json" -w '%{http_code}' -X POST "http://127.0.0.1:$APORT/v1/host-signals")
[ "$code" = 405 ] && ok || bad "POST: HTTP $code"
curl -s "http://127.0.0.1:$APORT/v1/host-signals?since=2020-01-01T00:00:00Z&until=2020-01-01T01:00:00Z" >"$tmp/old.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["buckets"] == 0 and d["crash_loops"] == [] and any("no finished" in n for n in d["notes"]), d
' "$tmp/old.json" && ok || bad "a range before the agent started: $(head -c 400 "$tmp/old.json")"

cat >"$tmp/cfg.json" <<EOF
{"services": {"web": {"host": {"url": "http://127.0.0.1:$APORT/"}},
              "local": {"host": {"local_window_ms": 1500, "runq_ms": 0, "cgroup": "$SC"}},
              "dead": {"host": {"url": "http://127.0.0.1:1"}},
              "bad": {"host": {"local_window_ms": 0}},
              "both": {"host": {"url": "http://127.0.0.1:1", "local_window_ms": 1000}}}}
EOF
collect() {	# SERVICE FROM TO OUT [GRAPH]
	timeout 25 "$OPSGRAPH" run "${5:-tests/nodes/collector/collector_only.lua}" --db :memory: --config "$tmp/cfg.json" \
		--input "{\"alert\": {\"service\": \"$1\", \"window\": {\"from\": \"$2\", \"to\": \"$3\"}}}" \
		--output json >"$4" 2>"$4.err"
}
# collector -> built-in analyzer: the crash loop the agent saw is the root cause
collect web "$from" "$to" "$tmp/web.json" tests/nodes/collector/collector_analyzer.lua
python3 - "$tmp/web.json" <<'EOF' && ok || bad "collector via the agent: $(head -c 1500 "$tmp/web.json") $(cat "$tmp/web.json.err")"
import json, sys
c = json.load(open(sys.argv[1]))["state"]["context"]
h = c["host"]
loops = {x["comm"]: x for x in h["crash_loops"]}
assert h["source"] == "ebpf", h
assert loops["agentcrash"]["count"] == 5 and loops["agentcrash"]["exit_code"] == 7, loops
assert "runq_latency" not in h or h["runq_latency"]["samples"] == 0, h.get("runq_latency")
assert not any(n.startswith("host signals") and "unavailable" in n for n in c["notes"]), c["notes"]
# the window ends 2 s in the future: the agent says its counts stop at its last finished interval
assert any("the end of the last finished interval" in n for n in c["notes"]), c["notes"]
rca = json.load(open(sys.argv[1]))["state"]["rca"]
if h["oom_kills"]:	# another process on this busy host was OOM-killed meanwhile (OOM kills are host-wide)
    assert "crash_loop" in [rca["signature"]] + [a["signature"] for a in rca["also"]] \
        or any("crash loop" in e for e in rca["evidence"]), rca
else:
    assert rca["signature"] == "crash_loop" and "agentcrash exited 5 times (exit code 7)" in rca["evidence"][0], rca
EOF
# a window the agent did not watch: no host section ("none observed" would be read as evidence), the note why
collect web 2020-01-01T00:00:00Z 2020-01-01T01:00:00Z "$tmp/unwatched.json"
python3 - "$tmp/unwatched.json" <<'EOF' && ok || bad "collector, unwatched window: $(head -c 1500 "$tmp/unwatched.json") $(cat "$tmp/unwatched.json.err")"
import json, sys
c = json.load(open(sys.argv[1]))["state"]["context"]
assert c.get("host") in (None, {}), c["host"]
assert any(n.startswith("host signals: the probe agent has no finished") for n in c["notes"]), c["notes"]
EOF
# the programs stay attached between intervals: the buckets follow each other
# without the second a fresh load would leave unwatched each time
curl -s "http://127.0.0.1:$APORT/v1/host-signals" >"$tmp/all.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["buckets"] >= 3 and d["window"]["seconds"] < 1.15 * d["buckets"] + 0.2, (d["buckets"], d["window"])
' "$tmp/all.json" && ok || bad "agent buckets not back to back: $(head -c 300 "$tmp/all.json")"
kill "$agent"; wait "$agent" 2>/dev/null; rc=$?
[ $rc -eq 0 ] && ok || bad "the agent should exit 0 on SIGTERM (got $rc)"

(sleep 0.7; for _ in 1 2 3; do inscope bash -c 'printf localcrash >/proc/$$/comm; exit 9'; done) &
collect local "$from" "$to" "$tmp/local.json"
python3 - "$tmp/local.json" <<'EOF' && ok || bad "collector via ctx.host.signals: $(head -c 1500 "$tmp/local.json") $(cat "$tmp/local.json.err")"
import json, sys
c = json.load(open(sys.argv[1]))["state"]["context"]
loops = {x["comm"]: x for x in c["host"]["crash_loops"]}
assert loops["localcrash"]["count"] == 3 and loops["localcrash"]["exit_code"] == 9, loops
assert 1.4 <= c["host"]["window"]["seconds"] <= 3, c["host"]["window"]
EOF
collect dead "$from" "$to" "$tmp/dead.json"
python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["state"]["context"]
assert c["host"] == {}, c["host"]
assert any(n.startswith("host signals: ") and "127.0.0.1:1" in n and "continuing without them" in n for n in c["notes"]), c["notes"]
' "$tmp/dead.json" && ok || bad "collector, agent down: $(head -c 800 "$tmp/dead.json")"
collect bad "$from" "$to" "$tmp/bad.json"
python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["state"]["context"]
assert any("local_window_ms must be 1 .. 60000" in n for n in c["notes"]), c["notes"]
' "$tmp/bad.json" && ok || bad "collector, bad local_window_ms: $(head -c 800 "$tmp/bad.json")"
collect both "$from" "$to" "$tmp/both.json"
python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["state"]["context"]
assert c.get("host") in (None, {}), c["host"]
assert any("both url and local_window_ms" in n for n in c["notes"]), c["notes"]
' "$tmp/both.json" && ok || bad "collector, both url and local_window_ms: $(head -c 800 "$tmp/both.json")"

# ctx.host.signals: bad options are errors that say what is wrong
cat >"$tmp/bad_opts.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "host_opts", state = { errs = og.last() } }
g:node("try", function(_, ctx)
  local errs = {}
  for _, o in ipairs({ { window_ms = 0 }, { window_ms = 60001 }, { bogus = 1, window_ms = 5 }, {},
                       { window_ms = 5, cgroup = "/nonexistent-cgroup" }, { window_ms = 5, cgroup = "/etc" } }) do
    local ok, e = pcall(ctx.host.signals, o)
    errs[#errs + 1] = ok and "no error" or tostring(e)
  end
  return { errs = errs }
end)
g:edge(og.START, "try")
return g
EOF
"$OPSGRAPH" run "$tmp/bad_opts.lua" --db :memory: --output json >"$tmp/bad_opts.json" 2>&1
python3 - "$tmp/bad_opts.json" <<'EOF' && ok || bad "ctx.host.signals bad options: $(head -c 800 "$tmp/bad_opts.json")"
import json, sys
e = json.load(open(sys.argv[1]))["state"]["errs"]
assert "window_ms must be an integer from 1 to 60000 (got 0)" in e[0], e
assert "(got 60001)" in e[1], e
assert "unknown option 'bogus'" in e[2], e
assert "window_ms is required" in e[3], e
assert "cgroup '/nonexistent-cgroup' is not a cgroup v2 directory" in e[4], e
assert "cgroup '/etc' is not a cgroup v2 directory (not on a cgroup2 mount)" in e[5], e
EOF

finish
