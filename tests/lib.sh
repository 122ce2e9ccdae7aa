# tests/lib.sh: what every shell suite in tests/cli/ shares. Source it after
# setting -u; it counts checks and prints the closing line tests/run.sh adds
# up ("N passed, N failed"). A check that fails says what it saw on stderr.
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); printf 'FAIL: %s\n' "$*" >&2; }

# expect_rc WANT: compares $rc (set by the suite's runner function) with WANT;
# $last names the command and $err holds its stderr.
expect_rc() {
	if [ "$rc" -eq "$1" ]; then ok; else bad "$last: exit $rc, want $1; stderr: $err"; fi
}

# expect_in NEEDLE HAYSTACK WHAT
expect_in() {
	case "$2" in
	*"$1"*) ok ;;
	*) bad "$last: $3 lacks '$1'; got: $2" ;;
	esac
}

# finish: the closing line, and the exit status the runner checks.
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

# start_server NAME SCRIPT DIR: runs a python3 test server that writes the
# port it bound on 127.0.0.1 to DIR/port and its request log to DIR/log;
# waits at most 10 s. Sets srv (pid), BASE (its URL) and CLOSED (a URL on
# which nothing listens); on failure the suite ends.
start_server() {
	python3 "$2" "$3/port" "$3/log" 2>"$3/srv.err" &
	srv=$!
	for _ in $(seq 100); do
		[ -s "$3/port" ] && break
		kill -0 "$srv" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$3/port" ]; then
		bad "the $1 did not start: $(cat "$3/srv.err")"
		finish
	fi
	BASE="http://127.0.0.1:$(cat "$3/port")"
	# a port nobody listens on: bound by the kernel, then closed
	CLOSED="http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
}
