#!/usr/bin/env bash
# tests/cli/sandbox_run.sh: `opsgraph sandbox run` (engine/sandbox/) for real:
# needs root, namespaces, overlayfs and cgroups, and is skipped with the
# reason when this host has none of that.
#
# Covered: a destructive script (deletes fixture files, rewrites a config,
# creates a file, connects with curl and python to 127.0.0.1 and 10.0.0.1)
# leaves the host fixture byte for byte unchanged and the report lists
# exactly its file effects; a fork bomb is held by --pids, a memory bomb by
# --memory (both reported in limits_hit); mount, a module load, bpf and
# unshare and clone of new namespaces fail with EPERM inside; `sleep 100` with --timeout 1 is killed in
# about a second; a missing command is 127; a runner killed with SIGKILL
# takes its sandbox along and the next run removes its cgroups. Afterwards no sandbox mount and no
# sandbox cgroup is left. Prints the /bin/true dry-run wall time (not asserted).
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: not root (the sandbox needs namespaces, overlay mounts and cgroups)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! why=$("$OPSGRAPH" sandbox check 2>&1); then
	echo "skipped: $why"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

# the fixture lives on the root filesystem (the overlay's lower layer), not on /tmp
fix=$(mktemp -d /var/tmp/og-sbx-fixture.XXXXXX) || exit 2
tmp=$(mktemp -d /var/tmp/og-sbx.XXXXXX) || exit 2
trap 'rm -rf "$tmp" "$fix"' EXIT

sbx() {	# sbx ARGS...: runs opsgraph sandbox run ARGS, report in $out
	timeout 60 "$OPSGRAPH" sandbox run "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph sandbox run $*"
}
# jq-less field reader: json FIELD-EXPRESSION (python over the report)
json() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/out" "$1" 2>&1
}
expect_eq() {	# WANT GOT WHAT
	if [ "$1" = "$2" ]; then ok; else bad "$last: $3: want '$1', got '$2'; stderr: $err"; fi
}

# --- the destructive script ---
mkdir -p "$fix/data/keep" "$fix/data/gone"
echo "one" >"$fix/data/victim1.txt"
echo "two" >"$fix/data/victim2.txt"
echo "k" >"$fix/data/keep/file"
echo "g" >"$fix/data/gone/a"
printf 'listen 80;\nworkers 4;\n' >"$fix/app.conf"
before=$(cd "$fix" && find . -printf '%p %y %s %m\n' | sort; find "$fix" -type f -exec md5sum {} + | sort)

cat >"$tmp/destroy.sh" <<EOF
rm -f $fix/data/victim1.txt $fix/data/victim2.txt
rm -rf $fix/data/gone
printf 'listen 8080;\nworkers 64;\nextra on;\n' > $fix/app.conf
echo created > $fix/new.txt
curl -sS --max-time 2 http://127.0.0.1:22/ >/dev/null 2>&1 && echo "curl-local: connected" || echo "curl-local: failed"
curl -sS --max-time 2 http://10.0.0.1/ >/dev/null 2>&1 && echo "curl-remote: connected" || echo "curl-remote: failed"
python3 - <<'PY'
import socket
for host in ("127.0.0.1", "10.0.0.1"):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, 80))
        print("py", host, "connected")
    except OSError as e:
        print("py", host, "failed", e.errno)
PY
exit 3
EOF
sbx --timeout 20 -- bash "$tmp/destroy.sh"
expect_rc 0
expect_eq 3 "$(json 'r["exit_code"]')" "exit code of the script"
expect_in "curl-local: failed" "$out" "report"
expect_in "curl-remote: failed" "$out" "report"
expect_in "py 127.0.0.1 failed" "$out" "report"
expect_in "py 10.0.0.1 failed" "$out" "report"
expect_eq "[('$fix/new.txt', 8)]" "$(json '[(c["path"], c["size"]) for c in r["files"]["created"]]')" "created {path, size}"
expect_eq "[('$fix/app.conf', 35)]" "$(json '[(m["path"], m["size"]) for m in r["files"]["modified"]]')" "modified"
expect_eq "['$fix/data/gone', '$fix/data/gone/a', '$fix/data/victim1.txt', '$fix/data/victim2.txt']" \
	"$(json '[d["path"] for d in r["files"]["deleted"]]')" "deleted {path}"
after=$(cd "$fix" && find . -printf '%p %y %s %m\n' | sort; find "$fix" -type f -exec md5sum {} + | sort)
expect_eq "$before" "$after" "host fixture after the dry-run"

# --- fork bomb held by --pids ---
sbx --pids 32 --timeout 10 -- bash -c 'for i in $(seq 200); do sleep 5 & done 2>/dev/null; echo started; wait'
expect_rc 0
expect_in "'pids'" "$(json 'r.get("limits_hit")')" "limits_hit"
expect_eq False "$(json 'r["timed_out"]')" "timed_out (the bomb ended on its own)"

# --- memory bomb held by --memory ---
sbx --memory 64 --timeout 20 -- python3 -c 'b=[]
while True: b.append(bytearray(1 << 20))'
expect_rc 0
expect_in 'memory' "$(json 'r.get("limits_hit")')" "limits_hit"
expect_eq 9 "$(json 'r["signal"]')" "signal (OOM kill)"

# --- denied: mount, module load, bpf, unshare ---
sbx --timeout 10 -- python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def tryit(name, rc):
    e = ctypes.get_errno()
    print(name, "rc", rc, "errno", e, os.strerror(e), file=sys.stderr)
    return e
bad = 0
bad += tryit("mount", libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)) != 1
bad += tryit("init_module", libc.syscall(175, None, 0, b"")) != 1
bad += tryit("finit_module", libc.syscall(313, 0, b"", 0)) != 1
bad += tryit("bpf", libc.syscall(321, 0, None, 0)) != 1
bad += tryit("unshare", libc.unshare(0x20000)) != 1
bad += tryit("pivot_root", libc.syscall(155, b"/", b"/")) != 1
r = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)   # clone(CLONE_NEWUSER|SIGCHLD)
if r == 0:
    os._exit(0)
bad += tryit("clone_newuser", r) != 1
bad += tryit("clone3", libc.syscall(435, None, 0)) != 38
sys.exit(10 + bad)'
expect_rc 0
expect_eq 10 "$(json 'r["exit_code"]')" "exit code (10 = every call got EPERM)"
expect_in "mount rc -1 errno 1" "$(json 'r["stderr"]')" "stderr"
expect_in "bpf rc -1 errno 1" "$(json 'r["stderr"]')" "stderr"
sbx --timeout 10 -- mount -t tmpfs none /mnt
expect_rc 0
expect_eq True "$(json 'r["exit_code"] != 0')" "mount(8) exit code is non-zero"
expect_in "ermission denied" "$(json 'r["stderr"]')" "mount(8) stderr"
sbx --timeout 10 -- sh -c 'echo 1 > /sys/fs/cgroup/cgroup.procs || echo "no cgroupfs"; echo x > /proc/sys/kernel/hostname || echo "proc/sys ro"'
expect_in "no cgroupfs" "$out" "report"
expect_in "proc/sys ro" "$out" "report"

# --- timeout ---
t0=$(date +%s%N)
sbx --timeout 1 -- sleep 100
t1=$(date +%s%N)
expect_rc 0
expect_eq True "$(json 'r["timed_out"]')" "timed_out"
expect_eq 9 "$(json 'r["signal"]')" "signal"
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -lt 5000 ]; then ok; else bad "sleep 100 --timeout 1 took ${ms} ms"; fi

# --- signals cannot reach host processes (isolated pid namespace) ---
sleep 60 &
victim=$!
sbx --timeout 10 -- sh -c "kill -TERM $victim && echo sent || echo 'kill failed'"
expect_in "kill failed" "$out" "report"
if kill -0 "$victim" 2>/dev/null; then ok; else bad "the host process $victim died"; fi
kill "$victim" 2>/dev/null
wait "$victim" 2>/dev/null

# --- not root: a clear error, no crash, no hang ---
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups "$OPSGRAPH" sandbox run -- /bin/true \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?; err=$(cat "$tmp/err"); last="sandbox run as nobody"
	expect_rc 1
	expect_in "not root" "$err" "stderr"
	# --trace agrees: exit 1, the reason on stderr, the report still on stdout
	timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups "$OPSGRAPH" sandbox run --trace -- /bin/true \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?; err=$(cat "$tmp/err"); last="sandbox run --trace as nobody"
	expect_rc 1
	expect_in "not root" "$err" "stderr"
	expect_eq "none" "$(json 'r["fidelity"]')" "report on stdout"
fi

# --- output: bytes that are not UTF-8 become U+FFFD; the cap holds ---
sbx --max-output 100 -- sh -c 'printf "a\377b\000c"; head -c 5000 /dev/zero | tr "\0" x >&2'
expect_rc 0
expect_eq "'a\ufffdb\ufffdc'" "$(json 'ascii(r["stdout"])')" "stdout"
expect_eq "100 True" "$(json 'len(r["stderr"]), r.get("stderr_truncated")' | tr -d '(),')" "stderr cap"

# --- a command that does not exist ---
sbx -- no-such-command-og
expect_rc 0
expect_eq 127 "$(json 'r["exit_code"]')" "exit code"

# --- bad usage ---
sbx --memory
expect_rc 2

# --- the runner killed mid-run: the sandbox dies with it, the next run sweeps its cgroups ---
"$OPSGRAPH" sandbox run --timeout 60 -- sleep 47 >/dev/null 2>&1 &
runner=$!
for _ in $(seq 50); do pgrep -x -f 'sleep 47' >/dev/null && break; sleep 0.1; done
kill -KILL "$runner"
wait "$runner" 2>/dev/null
sleep 0.3
if pgrep -x -f 'sleep 47' >/dev/null; then bad "the sandboxed sleep outlived its runner"; else ok; fi
sbx -- /bin/true
expect_rc 0

# --- nothing left behind ---
left=$(findmnt -rn -o TARGET,FSTYPE | grep -E 'overlay|opsgraph' || true)
expect_eq "" "$left" "mounts left behind"
left=$(find /sys/fs/cgroup -maxdepth 3 -name 'opsgraph-sandbox*' 2>/dev/null || true)
expect_eq "" "$left" "cgroups left behind"

# --- /tmp is seen through the overlay: a script kept there runs and its
# writes are reported and thrown away; a host Unix socket there refuses ---
ttmp=$(mktemp -d /tmp/og-sbx-tmp.XXXXXX) || exit 2
printf '#!/bin/sh\necho out >"%s/written"\ncat "%s/input"\n' "$ttmp" "$ttmp" >"$ttmp/tool.sh"
chmod +x "$ttmp/tool.sh"; echo "from the host" >"$ttmp/input"
sbx -- "$ttmp/tool.sh"
expect_rc 0 "$rc" "$last"
expect_eq "from the host" "$(json 'r["stdout"].strip()')" "a script under /tmp reads its input"
expect_eq "['$ttmp/written']" "$(json '[c["path"] for c in r["files"]["created"]]')" "its write under /tmp is reported"
[ -e "$ttmp/written" ] && bad "the sandbox wrote $ttmp/written on the host" || ok
python3 - "$ttmp/host.sock" >"$ttmp/listener.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(6)
try:
    c, _ = s.accept(); print("CONNECTED", c.recv(16))
except OSError as e:
    print("no connection:", e)
PY
lpid=$!
for _ in $(seq 50); do [ -S "$ttmp/host.sock" ] && break; sleep 0.1; done
sbx -- python3 -c "
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('$ttmp/host.sock'); s.send(b'escape'); print('connected')
except OSError as e:
    print('refused', e.errno)"
expect_in "refused" "$out" "a host Unix socket under /tmp is out of reach"
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
case "$(cat "$ttmp/listener.out")" in *CONNECTED*) bad "the host socket got a connection from the sandbox" ;; *) ok ;; esac
rm -rf "$ttmp"

# --- the figure: dry-run of /bin/true (printed, not asserted) ---
best=999999
for _ in 1 2 3 4 5; do
	t0=$(date +%s%N)
	"$OPSGRAPH" sandbox run -- /bin/true >/dev/null 2>&1
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	[ "$ms" -lt "$best" ] && best=$ms
	all="${all:-}$ms "
done
echo "figure: dry-run of /bin/true, whole opsgraph process, wall ms: ${all}(best $best, target < 50)"

finish
