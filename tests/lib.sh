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
