#!/usr/bin/env bash
# tests/cli/dryrun_impact.sh: the dry-run impact report (engine/dryrun/, the
# eBPF trace of bpf/impact.bpf.c) through `opsgraph sandbox run --trace`.
# Needs root, the sandbox and a kernel that loads the trace; skipped with the
# reason otherwise.
#
# Covered: sandbox/demo/destroy.sh against a fixture and a real host `sleep`:
# the host is unchanged afterwards (checksums, modes, the sleep alive) and the
# report lists each effect exactly: deleted paths, the rewritten config with
# old and new size, the rename, the chmod, one exec per program with its argv,
# the connect address:port and its error, the signal with the host pid and
# comm of its target, and the verdict line. expect_writes: a write outside
# the declared glob is a surprise. A fork bomb held by pids and a memory bomb
# held by memory (limits_hit, verdict); a mount attempt, a module load
# (finit_module), unshare and overlay escapes (umount of /, open_by_handle_at,
# pivot_root, chroot) denied with EPERM and listed in "denied", each once,
# traced or not (the sandbox's seccomp supervisor records every denial, with
# or without a tracepoint for the syscall). Opens for writing the overlay
# diff cannot show (EROFS on /proc/sys) are listed and in the verdict; a
# /dev/null or /dev/tty open is not; opens and unlinks are counted.
# A bad spec is refused. Last line: "N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
export OG_DRYRUN_SUITE=dryrun-impact-$$

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: not root (dry-runs need namespaces, overlay mounts, cgroups; the trace needs CAP_BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! why=$("$OPSGRAPH" sandbox check 2>&1); then
	echo "skipped: $why"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
probe=$(timeout 60 "$OPSGRAPH" sandbox run --trace -- /bin/true 2>&1)
case "$probe" in
*'"processes":'*) ;;
*)
	echo "skipped: no impact trace on this host: $(printf '%s' "$probe" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("reason"))' 2>&1)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
	;;
esac

# the fixture lives on the root filesystem (the overlay's lower layer); /tmp is masked inside
fix=$(mktemp -d /var/tmp/og-dry-fixture.XXXXXX) || exit 2
tmp=$(mktemp -d /var/tmp/og-dry.XXXXXX) || exit 2
sleep 300 &
victim=$!
trap 'kill $victim 2>/dev/null; rm -rf "$tmp" "$fix"' EXIT
# the sandbox masks /tmp, where a checkout may live: the demo runs from $tmp
cp sandbox/demo/destroy.sh "$tmp/destroy.sh" || exit 2

dry() {	# dry ARGS...: opsgraph sandbox run --trace ARGS, report in $tmp/out
	timeout 60 "$OPSGRAPH" sandbox run --trace "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph sandbox run --trace $*"
}
json() {	# json PYTHON-EXPRESSION over the report r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/out" "$1" 2>&1
}
expect_eq() {	# WANT GOT WHAT
	if [ "$1" = "$2" ]; then ok; else bad "$last: $3: want '$1', got '$2'; stderr: $err"; fi
}

# --- the destructive demo ---
mkdir -p "$fix/data"
echo "one" >"$fix/data/victim1.txt"
echo "two" >"$fix/data/victim2.txt"
echo "keep" >"$fix/data/keep.txt"
printf 'listen 80;\nworkers 4;\n' >"$fix/app.conf"
echo "log line" >"$fix/old.log"
echo "s3cr3t" >"$fix/secret.key"
chmod 644 "$fix/secret.key"
snapshot() { (cd "$fix" && find . -printf '%p %y %s %m\n' | sort; find . -type f -exec md5sum {} + | sort); }
before=$(snapshot)

dry --tool destroy --expect-writes "$fix/data/**" --timeout 20 -- \
	bash "$tmp/destroy.sh" "$fix" "$victim" 10.0.0.1 5432
expect_rc 0
expect_eq "$before" "$(snapshot)" "host fixture after the dry-run"
if kill -0 "$victim" 2>/dev/null; then ok; else bad "the host's sleep $victim died in a dry-run"; fi
expect_eq "sandbox destroy 3" "$(json 'r["fidelity"], r["tool"], r["exit_code"]' | tr -d "(),'")" "fidelity, tool, exit code"
expect_eq "['$fix/data/victim1.txt', '$fix/data/victim2.txt']" \
	"$(json 'sorted(d["path"] for d in r["files"]["deleted"])')" "deleted"
expect_eq "[('$fix/app.conf', 49, 22), ('$fix/secret.key', 7, 7)]" \
	"$(json 'sorted((m["path"], m["size"], m["old_size"]) for m in r["files"]["modified"])')" "modified (size, old_size)"
expect_eq "[]" "$(json 'r["files"]["created"]')" "created (the rename is not a create)"
expect_eq "[('$fix/old.log', '$fix/old.log.1')]" \
	"$(json '[(x["from"], x["to"]) for x in r["files"]["renamed"]]')" "renamed"
expect_eq "[('$fix/secret.key', '0600')]" "$(json '[(x["path"], x["mode"]) for x in r["files"]["chmod"]]')" "chmod"
expect_eq "bash:bash $tmp/destroy.sh $fix $victim 10.0.0.1 5432|rm:rm -f $fix/data/victim1.txt $fix/data/victim2.txt|mv:mv $fix/old.log $fix/old.log.1|chmod:chmod 600 $fix/secret.key|kill:/bin/kill -TERM $victim|curl:curl -sS --max-time 2 http://10.0.0.1:5432/" \
	"$(json '"|".join(p["comm"] + ":" + " ".join(p["argv"]) for p in r["processes"])')" "one exec per program, with argv"
expect_eq "[3, 0, 0, 0, 1, 7]" "$(json '[p["exit_code"] for p in r["processes"]]')" "exit codes (kill 1: ESRCH, curl 7: no route)"
expect_eq "[('inet', '10.0.0.1', 5432, 'ENETUNREACH', 'curl')]" \
	"$(json '[(n["family"], n["addr"], n["port"], n["result"], n["comm"]) for n in r["network"] if n["family"] != "unix"]')" "network"
expect_eq "[('kill', $victim, 'sleep', 15, 'ESRCH', 'host', 'kill')]" \
	"$(json '[(s["call"], s["target_pid"], s["target_comm"], s["signal"], s["result"], s["scope"], s["comm"]) for s in r["signals"]]')" "signals"
expect_eq "[]" "$(json 'r["denied"]')" "denied"
expect_eq "['$fix/app.conf', '$fix/old.log renamed to $fix/old.log.1', '$fix/secret.key']" \
	"$(json 'sorted(s["path"] + (" renamed to " + s["to"] if "to" in s else "") for s in r["surprises"])')" "surprises (writes outside $fix/data/**; the rename once)"
expect_eq "touches 5 files under $fix (2 modified, 2 deleted, 1 renamed, 1 mode changed), starts curl, signals sleep (pid $victim) with SIGTERM, connects to 10.0.0.1:5432 (no network in the dry-run, so it failed there; exit 3 may be that), writes outside its declared paths: $fix/app.conf and 2 more" \
	"$(json 'r["verdict"]')" "verdict"
expect_eq "0" "$(json 'r["trace"]["lost"]')" "events lost"

# --- atomic writes (temp file, then rename) are no renames; a rename is one surprise ---
mkdir -p "$fix/aw"
echo "k" >"$fix/aw/key"
echo "c" >"$fix/aw/conf"
dry --expect-writes "$fix/aw/conf" --timeout 10 -- bash -c "cd $fix/aw && echo x >conf.tmp && mv conf.tmp conf && echo y >$fix/aw/new.tmp && mv $fix/aw/new.tmp $fix/aw/new && mv key key.old && mv key.old key.old2"
expect_rc 0
expect_eq "[('$fix/aw/key', '$fix/aw/key.old2')]" \
	"$(json '[(x["from"], x["to"]) for x in r["files"]["renamed"]]')" "renamed (temp files dropped; a chain is one rename)"
expect_eq "['$fix/aw/conf'] ['$fix/aw/new'] []" \
	"$(json '" ".join(str([x["path"] for x in r["files"][k]]) for k in ("modified", "created", "deleted"))')" "modified created deleted"
expect_eq "[('$fix/aw/new', 'created'), ('$fix/aw/key', 'renamed to $fix/aw/key.old2')]" \
	"$(json '[(s["path"], s["why"].replace(" outside the declared expect_writes", "")) for s in r["surprises"]]')" "surprises"
expect_eq "touches 3 files under $fix/aw (1 created, 1 modified, 1 renamed), no network, writes outside its declared paths: $fix/aw/new and 1 more" \
	"$(json 'r["verdict"]')" "verdict"

# --- the tool signalling its own child: scope sandbox, not in the verdict ---
dry --timeout 10 -- bash -c 'sleep 5 & for i in $(seq 10000); do [ "$(cat /proc/$!/comm)" = sleep ] && break; done; kill -TERM $!; wait; exit 0'
expect_rc 0
expect_eq "[('kill', 'sleep', 2, 15, 'ok', 'sandbox')]" \
	"$(json '[(s["call"], s["target_comm"], s["target_nspid"], s["signal"], s["result"], s["scope"]) for s in r["signals"]]')" "signals"
expect_eq "touches no files, no network" "$(json 'r["verdict"]')" "verdict"

dry --timeout 10 -- python3 -c '
import os, signal, subprocess
import time
p = subprocess.Popen(["sleep", "5"])
for _ in range(100000):
    if open("/proc/%d/comm" % p.pid).read().strip() == "sleep":
        break
# exec sets the new comm before its sched_process_exec tracepoint fires: a
# signal sent at once can reach the ring buffer before the exec event, and
# the report then names the target by its comm before exec (python3)
time.sleep(0.2)
signal.pidfd_send_signal(os.pidfd_open(p.pid), signal.SIGTERM)
p.wait()'
expect_rc 0
expect_eq "[('pidfd_send_signal', 'sleep', 15, 'ok', 'sandbox', True)]" \
	"$(json '[(s["call"], s["target_comm"], s["signal"], s["result"], s["scope"], s["target_pid"] == [p["pid"] for p in r["processes"] if p["comm"] == "sleep"][0]) for s in r["signals"]]')" "pidfd signal"

# --- a fork bomb, held by the pids limit ---
dry --pids 24 --timeout 20 -- bash -c 'for i in $(seq 100); do sleep 1 & done 2>/dev/null; wait'
expect_rc 0
expect_in "'pids'" "$(json 'r["limits_hit"]')" "limits_hit"
expect_in "hit the pids limit" "$(json 'r["verdict"]')" "verdict"
expect_eq True "$(json 'len([p for p in r["processes"] if p["comm"] == "sleep"]) >= 20')" "the bomb's sleeps are in processes"

# --- a memory bomb, held by the memory limit ---
dry --memory 64 --timeout 20 -- python3 -c 'b=[]
while True: b.append(bytearray(1 << 20))'
expect_rc 0
expect_in "'memory'" "$(json 'r["limits_hit"]')" "limits_hit"
expect_in "killed by SIGKILL, hit the memory limit" "$(json 'r["verdict"]')" "verdict"
expect_eq "[('python3', None, 9)]" "$(json '[(p["comm"], p["exit_code"], p.get("signal")) for p in r["processes"]]')" "the process killed by the OOM killer"

# --- mount: denied ---
dry --timeout 10 -- mount -t tmpfs none /mnt
expect_rc 0
expect_eq "[('mount', 'mount')]" "$(json '[(d["syscall"], d["comm"]) for d in r["denied"]]')" "denied"
expect_in "denied: mount" "$(json 'r["verdict"]')" "verdict"

# --- a module load: EPERM and denied, also on a kernel built without modules
# (no tracepoint: the sandbox's seccomp supervisor records it) ---
dry --timeout 10 -- python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(313, 0, b"", 0)    # finit_module
print("finit_module", r, ctypes.get_errno())'
expect_rc 0
expect_eq "finit_module -1 1" "$(json 'r["stdout"].strip()')" "finit_module result inside"
expect_eq "[('finit_module', 'python3')]" "$(json '[(d["syscall"], d["comm"]) for d in r["denied"]]')" "denied"
expect_in "denied: finit_module" "$(json 'r["verdict"]')" "verdict"
expect_eq "None" "$(json 'r.get("reason")')" "no reason: the trace is whole (denials are not traced)"

# --- writes the overlay diff cannot show: a sysctl (EROFS in the dry-run,
# a real change on the host), next to ones it shows or that mean nothing ---
dry --timeout 10 -- bash -c 'echo 10 >/proc/sys/vm/swappiness; echo 20 >/proc/sys/vm/swappiness
echo x >/dev/null; echo e >/dev/stderr; echo 0 >/proc/self/oom_score_adj
for i in 1 2 3; do echo $i >/var/tmp/og-dry-count; done; rm -f /var/tmp/og-dry-count; exit 0'
expect_rc 0
expect_eq "[('/proc/sys/vm/swappiness', 'EROFS', 'bash')]" \
	"$(json '[(w["path"], w["result"], w["comm"]) for w in r.get("writes_not_in_diff", [])]')" "writes_not_in_diff (each path once)"
expect_in "tries to write /proc/sys/vm/swappiness (EROFS in the dry-run; the real run may change it)" \
	"$(json 'r["verdict"]')" "verdict"
expect_eq "9 1" "$(json 'r["trace"]["opens_for_write"], r["trace"]["unlinks"]' | tr -d '(),')" \
	"opens for writing (bash's /dev/tty probe, 2 sysctl, /dev/null, the pipe of /dev/stderr, its own oom_score_adj, 3) and unlinks, counted in the kernel"
expect_eq "[]" "$(json 'r["files"]["created"]')" "nothing left behind in the diff"

# --- unshare: denied, each call listed once ---
dry --timeout 10 -- sh -c 'unshare -m true; unshare -n true; exit 0'
expect_rc 0
expect_eq "[('unshare', 'unshare'), ('unshare', 'unshare')]" "$(json '[(d["syscall"], d["comm"]) for d in r["denied"]]')" "denied"
expect_in "denied: unshare" "$(json 'r["verdict"]')" "verdict"

# --- denials recorded without the trace too ---
timeout 60 "$OPSGRAPH" sandbox run --timeout 10 -- mount -t tmpfs none /mnt >"$tmp/out" 2>"$tmp/err"
rc=$?; err=$(cat "$tmp/err"); last="opsgraph sandbox run (untraced) -- mount"
expect_rc 0
expect_eq "[('mount', 'mount')]" "$(json '[(d["syscall"], d["comm"]) for d in r["denied"]]')" "denied, untraced"

# --- escapes from the overlay: umount of /, open_by_handle_at (shocker), pivot_root, chroot ---
echo "host" >"$fix/escape.txt"
before=$(snapshot)
dry --timeout 10 -- python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def t(name, rc):
    print(name, rc, ctypes.get_errno())
t("umount", libc.umount2(b"/", 2))
h = ctypes.create_string_buffer(b"\x08\x00\x00\x00\x01\x00\x00\x00" + b"\x02\x00\x00\x00\x00\x00\x00\x00")
t("open_by_handle_at", libc.syscall(304, os.open("/", os.O_RDONLY), h, 0))
t("pivot_root", libc.syscall(155, b"/", b"/"))
t("chroot", libc.chroot(b"/proc/1/root"))
open("'"$fix"'/escape.txt", "w").write("escaped\n")'
expect_rc 0
expect_eq "umount -1 1|open_by_handle_at -1 1|pivot_root -1 1|chroot -1 1" "$(json '"|".join(r["stdout"].split(chr(10))[:4])')" "each escape got EPERM"
expect_eq "['umount', 'open_by_handle_at', 'pivot_root', 'chroot']" "$(json '[d["syscall"] for d in r["denied"]]')" "denied"
expect_in "denied: umount, open_by_handle_at, pivot_root, ..." "$(json 'r["verdict"]')" "verdict"
expect_eq "[('$fix/escape.txt', 8, 5)]" "$(json '[(m["path"], m["size"], m["old_size"]) for m in r["files"]["modified"]]')" "the write landed in the overlay"
expect_eq "$before" "$(snapshot)" "host fixture after the escapes"

# --- a bad spec ---
dry --expect-writes relative/path -- /bin/true
expect_rc 2
expect_in "not an absolute path glob" "$err" "stderr"
dry --tool x -- 
expect_rc 2

# the holders of the tracepoints (trace/trace_impact.c) this suite's
# dry-runs left detach them in the background for a few seconds: wait, so the
# next suite's tracer does not (they carry this suite's tag in their environ)
for _ in $(seq 150); do
	mine=0
	for p in $(pgrep -x og-impact-hold); do
		grep -qz "^OG_DRYRUN_SUITE=$OG_DRYRUN_SUITE\$" "/proc/$p/environ" 2>/dev/null && mine=1
	done
	[ "$mine" = 0 ] && break
	sleep 0.1
done

finish
