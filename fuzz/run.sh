#!/usr/bin/env bash
# fuzz/run.sh: builds the libFuzzer targets (clang, -fsanitize=fuzzer with
# ASan and UBSan) into build/fuzz and runs each for FUZZ_SECONDS (60 by
# default) from its seed corpus in fuzz/corpus/<target>/; new inputs go to
# build/fuzz/corpus/<target>/, a crash to build/fuzz/crash-<target>-*.
# Exit status 1 when a target crashed or would not build. FUZZ_BUILD moves
# build/fuzz elsewhere (tests/cli/fuzz_smoke.sh builds beside its own tree).
#   FUZZ_SECONDS=5 fuzz/run.sh            all targets, 5 s each
#   fuzz/run.sh fuzz_slack                one target
set -u
cd "$(dirname "$0")/.."
B=${FUZZ_BUILD:-build/fuzz}
SECS=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (scripts/install-deps.sh installs clang)"; exit 1; }
mkdir -p "$B"
# engine objects instrumented for coverage, in their own tree
make --no-print-directory O=$B CC="$CC" OPT="-O1 -g -fsanitize=fuzzer-no-link $SAN" LDFLAGS="$SAN" \
	$B/bin/opsgraph >$B.log 2>&1 || { cat $B.log; echo "fuzz: the instrumented build failed"; exit 1; }
# the server and cli objects; libFuzzer brings its own main, so main.o's is
# renamed (the commands' shared helpers, cli_fail and co., live there too)
objcopy --redefine-sym main=opsgraph_main $B/engine/cli/main.o $B/main-nomain.o || exit 1
OBJS="$(ls $B/engine/server/*.o $B/engine/cli/*.o | grep -v '/cli/main\.o$') $B/main-nomain.o"
LIBS=$(pkg-config --libs lua5.4 libcjson lmdb libcurl libevent libevent_pthreads libcrypto libbpf)
CFL=$(pkg-config --cflags lua5.4 libcjson libevent libcrypto)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(cd fuzz && ls fuzz_*.c | sed 's/\.c$//'))
fail=0
for t in "${targets[@]}"; do
	"$CC" -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Iengine $CFL -fsanitize=fuzzer $SAN \
		-o $B/$t fuzz/$t.c $OBJS $B/libopsgraph.a $LIBS -lm -lpthread || { echo "fuzz: $t does not build"; fail=1; continue; }
	mkdir -p $B/corpus/$t
	log=$B/$t.log
	# -max_len: the request target keeps inputs inside one socket buffer
	"$B/$t" -max_total_time="$SECS" -max_len=16384 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$B/crash-$t-" $B/corpus/$t fuzz/corpus/$t >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		echo "fuzz: $t CRASHED after ${execs:-?} execs (exit $rc); log $log:"
		grep -m1 -A30 'ERROR:\|runtime error\|deadly signal\|Test unit written' "$log" | head -40
		fail=1
	else
		echo "fuzz: $t ok: ${execs:-?} execs in ${SECS} s, ${cov:-cov ?}, corpus $(ls $B/corpus/$t | wc -l) new inputs"
	fi
done
exit $fail
