#!/usr/bin/env bash
# tests/cli/fuzz_smoke.sh: every libFuzzer target of fuzz/ (the Slack,
# Alertmanager and HTTP request parsers of `opsgraph serve`) built and run
# for a few seconds, so they keep building and a crash in the seed corpora
# or near them fails the suite. `make fuzz` runs them longer (FUZZ_SECONDS,
# 60 s by default).
# Covered, per target: it builds with -fsanitize=fuzzer,address,undefined;
# it runs FUZZ_SMOKE_SECONDS (5) without a crash, leak, UB or timeout; it
# executed more than its seed corpus (a target that stops at its first input
# is broken too).
# Skipped when clang is missing. Run by tests/run.sh; by hand:
#   bash tests/cli/fuzz_smoke.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
if ! command -v clang >/dev/null; then
	echo "fuzz_smoke: SKIP: clang is not installed (scripts/install-deps.sh)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
# beside the build under test, so parallel trees never share objects
FB=${BUILD:-build/rel}/fuzz
for src in fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	FUZZ_BUILD=$FB FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-5} timeout 600 fuzz/run.sh "$t" >"$FB.$t.out" 2>&1
	rc=$?
	out=$(cat "$FB.$t.out"); last="fuzz $t"
	if [ $rc -ne 0 ]; then bad "$last: exit $rc: $(tail -40 "$FB.$t.out")"; continue; fi
	ok
	execs=$(sed -n "s/^fuzz: $t ok: \([0-9]*\) execs.*/\1/p" "$FB.$t.out")
	seeds=$(ls "fuzz/corpus/$t" | wc -l)
	if [ -n "$execs" ] && [ "$execs" -gt $((seeds * 10)) ]; then ok; else bad "$last: only '${execs}' execs: $out"; fi
	echo "$out"
done
finish
