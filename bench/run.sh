#!/bin/sh
# bench/run.sh: builds bench/bench.c against the library and runs it (what
# `make bench` calls). JSON lines go to stdout and build/bench/results.jsonl;
# then bench/compare.py prints ours vs the peer (LangGraph.js) with the targets.
#
#   bench/run.sh [bench args: --only S1,S1c,S2,S3,S4 --reps N --db DIR]
#   BENCH_QUICK=1   smaller sizes (both ours and the peer's)
#   BENCH_PEER=1    also run the peer live (bench/peer.sh, node + npm; ~4-8 min
#                   at full size, ~1.5 min with BENCH_QUICK=1, plus ~1 min for
#                   the first npm ci). The table always shows the recorded peer
#                   medians, and the live ones when build/peer-bench/results.jsonl
#                   is there (from this run or an earlier one)
# Prints figures only: it never fails on a timing.
set -eu
cd "$(dirname "$0")/.."

OUT=build/bench
mkdir -p "$OUT"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_REPS:=1}" "${BENCH_S1_N:=300}" "${BENCH_S1_WARMUP_N:=100}" "${BENCH_S1C_N:=300}"
	: "${BENCH_S1C_P:=1,8,64}" "${BENCH_S2_THREADS:=3}" "${BENCH_S4_N:=1000}" "${BENCH_S4_WARMUP_N:=200}"
	: "${BENCH_S4_REPS:=1}"
	export BENCH_REPS BENCH_S1_N BENCH_S1_WARMUP_N BENCH_S1C_N BENCH_S1C_P BENCH_S2_THREADS BENCH_S4_N \
		BENCH_S4_WARMUP_N BENCH_S4_REPS
fi

# the library, with the Makefile's own rule; then the bench binary with the
# flags the Makefile uses for unit tests
make -s build/rel/libopsgraph.a
PKGS="lua5.4 libcjson lmdb libcurl libbpf jemalloc"
# shellcheck disable=SC2046,SC2086
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers $(pkg-config --cflags $PKGS) -Iengine -o "$OUT/bench" bench/bench.c \
	build/rel/libopsgraph.a $(pkg-config --libs $PKGS) -lm -lpthread

BENCH_GIT_REV=$(git describe --always --dirty 2>/dev/null || echo unknown)
export BENCH_GIT_REV
echo "bench: $OUT/bench $* (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
{ rc=0; "$OUT/bench" "$@" || rc=$?; echo $rc >"$OUT/rc"; } | tee "$OUT/results.jsonl"
rc=$(cat "$OUT/rc")
[ "$rc" -eq 0 ] || echo "bench: some scenarios failed (error lines above)" >&2

LIVE=build/peer-bench/results.jsonl
if [ "${BENCH_PEER:-0}" = 1 ]; then
	prc=0
	bench/peer.sh || prc=$?
	[ $prc -eq 0 ] || echo "bench: the live peer run did not complete (status $prc)" >&2
fi
# live peer figures (from this run or an earlier BENCH_PEER=1 one; the table
# gives their date and sizes) next to the recorded ones, else recorded only
PEER_ARGS=""
if [ -s "$LIVE" ] && ! grep -q '"error"' "$LIVE"; then
	PEER_ARGS="--peer $LIVE"
	echo "bench: peer figures: recorded + live ($LIVE)" >&2
else
	echo "bench: peer figures: recorded only (BENCH_PEER=1 runs the peer here)" >&2
fi
echo >&2
# shellcheck disable=SC2086
python3 bench/compare.py --ours "$OUT/results.jsonl" $PEER_ARGS | tee "$OUT/compare.md"
exit "$rc"
