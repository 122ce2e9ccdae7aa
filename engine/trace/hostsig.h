/*
 * hostsig.h: host signals for root-cause analysis. og_hostsig_collect runs
 * the eBPF collectors of bpf/hostsig.bpf.c for a bounded window and returns
 * what they counted as plain C data (layer 1: no JSON here; the JSON and the
 * prompt lines are shaped in cli/hostsig_json.c). Counters of /proc
 * (RetransSegs, AttemptFails, oom_kill, PSI) are sampled in every window;
 * when eBPF cannot run they are all there is, and `bpf` is false with
 * `unavailable` saying why (the same text `opsgraph doctor` prints).
 *
 * Summaries of consecutive windows merge (og_hostsig_merge): the probe agent
 * keeps one per interval and answers a time range with their sum.
 */
#ifndef OG_TRACE_HOSTSIG_H
#define OG_TRACE_HOSTSIG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

#define OG_HS_SLOTS 32		/* log2 us histogram buckets (bpf/hostsig.h HS_HIST_SLOTS) */
#define OG_HS_MAX 64		/* entries kept per list; the largest counts win */
#define OG_HS_MAX_WINDOW_MS (10 * 60 * 1000)

enum og_hostsig_col {
	OG_HS_RETRANS,
	OG_HS_CONNECT,
	OG_HS_OOM,
	OG_HS_EXITS,
	OG_HS_RUNQ,
	OG_HS_SYSCALLS,
	OG_HS_NCOL
};

struct og_hostsig_filter {
	uint64_t cgroup_id;	/* 0: host-wide; else exits, syscall errors and TCP of this cgroup v2 id only */
	int runq_ms;		/* run-queue hooks attached this long (<0: the whole window, 0: off) */
	volatile sig_atomic_t *stop;	/* optional: set to end the window early */
};

struct og_hostsig_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint16_t port;
	uint8_t addr[16];
};

struct og_hostsig_retrans {
	struct og_hostsig_addr dst;
	uint64_t count;
};

struct og_hostsig_conn {
	struct og_hostsig_addr dst;
	uint64_t n, failed;
	uint64_t hist[OG_HS_SLOTS];
};

struct og_hostsig_oom {
	int64_t at_ms;		/* epoch ms */
	uint32_t pid;
	uint64_t anon_rss_kb;
	uint64_t cgid;
	char comm[16];
	char cgroup[64];
};

struct og_hostsig_exit {
	char comm[16];
	int code;		/* exit status << 8 | terminating signal */
	uint64_t count;
	int64_t first_ms, last_ms;
	uint32_t last_pid;
};

struct og_hostsig_syserr {
	uint32_t pid;
	char comm[16];
	int sys;		/* enum hs_sys of bpf/hostsig.h; og_hostsig_sys_name */
	int err;
	uint64_t count;
};

/* deltas over the window; have_* false when the file was unreadable */
struct og_hostsig_proc {
	bool have_snmp, have_vmstat, have_psi;
	uint64_t retrans_segs, out_segs, attempt_fails, estab_resets, oom_kill;
	double psi_cpu_some_avg10;	/* at the end of the window, percent */
};

struct og_hostsig_status {
	bool active;
	char via[48];		/* "tracepoint tcp/tcp_retransmit_skb", "tp_btf sched_*" */
	char reason[200];	/* why not active */
};

struct og_hostsig_summary {
	int64_t from_ms, to_ms;	/* epoch ms */
	uint64_t runq_ms;	/* how long the run-queue hooks were attached */
	bool bpf;
	char unavailable[300];
	struct og_hostsig_status col[OG_HS_NCOL];
	size_t n_retrans, n_conn, n_oom, n_exit, n_syserr;
	struct og_hostsig_retrans retrans[OG_HS_MAX];
	struct og_hostsig_conn conn[OG_HS_MAX];
	struct og_hostsig_oom oom[OG_HS_MAX];
	struct og_hostsig_exit exits[OG_HS_MAX];
	struct og_hostsig_syserr syserr[OG_HS_MAX];
	uint64_t runq_hist[OG_HS_SLOTS];
	uint64_t drops;		/* keys the kernel maps had no room for */
	struct og_hostsig_proc proc;
};

/* One window in its own session: runs the collectors for window_ms (1 ..
 * OG_HS_MAX_WINDOW_MS) and fills *s
 * (caller-owned, overwritten). Returns 0 also when eBPF is unavailable (then
 * s->bpf is false, s->unavailable says why, and only s->proc is filled);
 * -OG_EINVAL for a bad window. Every wait is bounded by the window. */
int og_hostsig_collect(int window_ms, const struct og_hostsig_filter *f, struct og_hostsig_summary *s,
		       struct og_err *err);

/* A session keeps the programs loaded and attached across windows (the
 * probe agent: loading takes most of a second, which back-to-back windows
 * would each go blind for). og_hostsig_open never fails for want of eBPF:
 * its windows then sample /proc only. og_hostsig_window runs one window
 * (attaching the run-queue hooks for its first f->runq_ms) and takes the
 * window's counts out of the maps. One thread at a time per session. */
struct og_hostsig_session;
int og_hostsig_open(const struct og_hostsig_filter *f, struct og_hostsig_session **out, struct og_err *err);
int og_hostsig_window(struct og_hostsig_session *ss, int window_ms, struct og_hostsig_summary *s,
		      struct og_err *err);
void og_hostsig_close(struct og_hostsig_session *ss);

/* Adds src into dst (counts summed, histograms added, lists merged by key,
 * the window widened, a collector active when it was in either). */
void og_hostsig_merge(struct og_hostsig_summary *dst, const struct og_hostsig_summary *src);

/* The value at quantile q (0..1) of a log2 histogram, as the upper bound of
 * its bucket in microseconds; 0 when empty. */
uint64_t og_hostsig_hist_quantile(const uint64_t *hist, double q);

const char *og_hostsig_col_name(enum og_hostsig_col c);
const char *og_hostsig_sys_name(int sys);

/* "10.0.0.2:8080" / "[::1]:443" into buf */
void og_hostsig_addr_format(const struct og_hostsig_addr *a, char *buf, size_t n);

/* Samples the /proc counters now (for the deltas of a window). */
void og_hostsig_proc_sample(struct og_hostsig_proc *p);
/* end - start into *d (end's PSI kept) */
void og_hostsig_proc_delta(const struct og_hostsig_proc *start, const struct og_hostsig_proc *end,
			   struct og_hostsig_proc *d);

#endif
