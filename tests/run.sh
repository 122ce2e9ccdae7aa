#!/usr/bin/env bash
# tests/run.sh: runs every test suite and prints one closing line,
# "N passed, N failed" (", N skipped" when some were), adding up the closing
# line each suite prints. A suite that crashes or prints no closing line
# counts as one failure. Called by `make test` with BUILD and BIN set.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/rel}
BIN=${BIN:-bin}
export OPSGRAPH="$PWD/$BIN/opsgraph"
pass=0 fail=0 skip=0
logdir=$BUILD/test-logs
mkdir -p "$logdir/cli"

run_suite() {
	local name=$1; shift
	local log="$logdir/$name.log" line p f s rc
	"$@" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: exit $rc and no result line (log: $log)"
		tail -n 20 "$log" | sed 's/^/    /'
		fail=$((fail + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	if [ "$f" -gt 0 ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
		[ "$f" -eq 0 ] && fail=$((fail + 1))
		echo "FAIL $name: $line (exit $rc, log: $log)"
		grep -vE '^[0-9]+ passed' "$log" | tail -n 30 | sed 's/^/    /'
	else
		echo "ok   $name: $line"
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_suite "$(basename "$t")" "$t"
done
for t in tests/cli/*.sh; do
	[ -f "$t" ] || continue
	run_suite "cli/$(basename "$t" .sh)" bash "$t"
done

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
