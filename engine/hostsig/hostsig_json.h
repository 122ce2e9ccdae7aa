/*
 * hostsig_json.h: the JSON form of a host-signal summary (trace/hostsig.h),
 * the `context.host` of nodes/README.md, and the same layer's few lines of
 * text for an RCA prompt. Layer 2: core/, trace/ and cJSON. Used by
 * `opsgraph probe` (one-shot and the agent's HTTP answer) and by ctx.host.
 *
 * Shape (lists top 5, largest first; absent keys mean the collector did not
 * run, an empty list that it ran and saw nothing):
 *   {source: "ebpf" | "/proc sampling, reduced fidelity",
 *    window: {from, to, seconds},
 *    tcp_retransmits: [{daddr, dport, count, per_s}],
 *    tcp_connect: [{daddr, dport, n, failed, p50_us, p99_us}],
 *    oom_kills: [{at, pid, comm, cgroup, rss_kb}],
 *    crash_loops: [{comm, count, exit_code | signal, last_pid, first, last, interval_s}],
 *    abnormal_exits: [{comm, count, exit_code | signal, last_pid}],
 *    runq_latency: {samples, p50_us, p99_us, over_1ms_pct, over_10ms_pct, sampled_ms},
 *    syscall_errors: [{comm, pid, syscall, errno, count}],
 *    proc: {retrans_segs, out_segs, attempt_fails, estab_resets, oom_kill, psi_cpu_some_avg10},
 *    collectors: {name: "tracepoint ..." | "unavailable: why"},
 *    lines: ["tcp_retransmits: 10.0.0.2:8080 x13 (1.3/s)", ...],
 *    notes: [...]}
 * Without eBPF the /proc deltas stand in (tcp_retransmits [{daddr: "*",
 * count}], oom_kills [{count}]), each marked "(source: /proc sampling,
 * reduced fidelity)", and notes[0] says why eBPF was not used.
 */
#ifndef OG_HOSTSIG_JSON_H
#define OG_HOSTSIG_JSON_H

#include <cJSON.h>

#include "../trace/hostsig.h"

#define OG_HOSTSIG_CRASH_LOOP_MIN 3	/* non-zero exits of one comm in a window */
#define OG_HOSTSIG_FALLBACK "(source: /proc sampling, reduced fidelity)"

/* A new cJSON object (caller frees), NULL when out of memory. */
cJSON *og_hostsig_json(const struct og_hostsig_summary *s);

#endif
