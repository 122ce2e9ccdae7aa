/*
 * hostsig.c: the host-signal collectors (see hostsig.h). A session loads the
 * hostsig skeleton once with the cgroup filter as read-only data and
 * attaches each program on its own, so one refused hook costs only its
 * collector (the reason is kept per collector). A window sleeps in short
 * slices (the run-queue hooks come off after runq_ms), then drains the maps,
 * which leaves them empty for the next window. Built with BPF=0 every
 * window reports "built without eBPF" and samples /proc only.
 */
#include "hostsig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/clock.h"
#include "hostsig_check.h"
#include "tracefs.h"

#ifndef OG_NO_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hostsig.skel.h"
#endif

#include "../../bpf/hostsig.h"

_Static_assert(OG_HS_SLOTS == HS_HIST_SLOTS, "histogram sizes of hostsig.h and bpf/hostsig.h differ");

static const char *const col_names[OG_HS_NCOL] = {
	[OG_HS_RETRANS] = "tcp_retransmits", [OG_HS_CONNECT] = "tcp_connect", [OG_HS_OOM] = "oom_kills",
	[OG_HS_EXITS] = "abnormal_exits", [OG_HS_RUNQ] = "runq_latency", [OG_HS_SYSCALLS] = "syscall_errors",
};

static const char *const sys_names[HS_SYS_COUNT] = {
	[HS_SYS_OPENAT] = "openat", [HS_SYS_CONNECT] = "connect", [HS_SYS_ACCEPT4] = "accept4",
	[HS_SYS_READ] = "read", [HS_SYS_WRITE] = "write", [HS_SYS_SENDTO] = "sendto",
	[HS_SYS_RECVFROM] = "recvfrom", [HS_SYS_EXECVE] = "execve",
};

const char *og_hostsig_col_name(enum og_hostsig_col c)
{
	return c < OG_HS_NCOL ? col_names[c] : "?";
}

const char *og_hostsig_sys_name(int sys)
{
	return sys >= 0 && sys < HS_SYS_COUNT ? sys_names[sys] : "?";
}

void og_hostsig_addr_format(const struct og_hostsig_addr *a, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->family == AF_INET6) {
		inet_ntop(AF_INET6, a->addr, ip, sizeof(ip));
		snprintf(buf, n, "[%s]:%u", ip, a->port);
	} else {
		inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
		snprintf(buf, n, "%s:%u", ip, a->port);
	}
}

uint64_t og_hostsig_hist_quantile(const uint64_t *hist, double q)
{
	uint64_t total = 0, seen = 0, want;
	int i;

	for (i = 0; i < OG_HS_SLOTS; i++)
		total += hist[i];
	if (!total)
		return 0;
	want = (uint64_t)(q * (double)total + 0.5);
	if (want < 1)
		want = 1;
	for (i = 0; i < OG_HS_SLOTS; i++) {
		seen += hist[i];
		if (seen >= want)
			break;
	}
	if (i >= OG_HS_SLOTS)
		i = OG_HS_SLOTS - 1;
	return (uint64_t)2 << i;	/* upper bound of [2^i, 2^(i+1)) */
}

/* ---- merging (the agent's buckets, and the top-N cut of one window) ---- */

static bool addr_eq(const struct og_hostsig_addr *a, const struct og_hostsig_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* index of the entry to write for a key not yet in the list: a free slot,
 * or the smallest entry when it is smaller than `count` (else -1) */
static long slot_for(size_t *n, const void *base, size_t size, size_t count_off, uint64_t count)
{
	size_t i, min_i = 0;
	uint64_t min_c = UINT64_MAX;

	if (*n < OG_HS_MAX)
		return (long)(*n)++;
	for (i = 0; i < OG_HS_MAX; i++) {
		uint64_t c;

		memcpy(&c, (const char *)base + i * size + count_off, sizeof(c));
		if (c < min_c) {
			min_c = c;
			min_i = i;
		}
	}
	return count > min_c ? (long)min_i : -1;
}

static void add_retrans(struct og_hostsig_summary *s, const struct og_hostsig_retrans *r)
{
	long k;

	for (size_t i = 0; i < s->n_retrans; i++)
		if (addr_eq(&s->retrans[i].dst, &r->dst)) {
			s->retrans[i].count += r->count;
			return;
		}
	k = slot_for(&s->n_retrans, s->retrans, sizeof(*r), offsetof(struct og_hostsig_retrans, count), r->count);
	if (k >= 0)
		s->retrans[k] = *r;
}

static void add_conn(struct og_hostsig_summary *s, const struct og_hostsig_conn *c)
{
	long k;

	for (size_t i = 0; i < s->n_conn; i++)
		if (addr_eq(&s->conn[i].dst, &c->dst)) {
			s->conn[i].n += c->n;
			s->conn[i].failed += c->failed;
			for (int j = 0; j < OG_HS_SLOTS; j++)
				s->conn[i].hist[j] += c->hist[j];
			return;
		}
	k = slot_for(&s->n_conn, s->conn, sizeof(*c), offsetof(struct og_hostsig_conn, n), c->n + c->failed);
	if (k >= 0)
		s->conn[k] = *c;
}

static void add_oom(struct og_hostsig_summary *s, const struct og_hostsig_oom *o)
{
	for (size_t i = 0; i < s->n_oom; i++)
		if (s->oom[i].pid == o->pid && s->oom[i].at_ms == o->at_ms)
			return;
	if (s->n_oom < OG_HS_MAX)
		s->oom[s->n_oom++] = *o;
}

static void add_exit(struct og_hostsig_summary *s, const struct og_hostsig_exit *e)
{
	long k;

	for (size_t i = 0; i < s->n_exit; i++) {
		struct og_hostsig_exit *x = &s->exits[i];

		if (x->code == e->code && !strncmp(x->comm, e->comm, sizeof(x->comm))) {
			x->count += e->count;
			if (e->first_ms < x->first_ms)
				x->first_ms = e->first_ms;
			if (e->last_ms >= x->last_ms) {
				x->last_ms = e->last_ms;
				x->last_pid = e->last_pid;
			}
			return;
		}
	}
	k = slot_for(&s->n_exit, s->exits, sizeof(*e), offsetof(struct og_hostsig_exit, count), e->count);
	if (k >= 0)
		s->exits[k] = *e;
}

static void add_syserr(struct og_hostsig_summary *s, const struct og_hostsig_syserr *e)
{
	long k;

	for (size_t i = 0; i < s->n_syserr; i++) {
		struct og_hostsig_syserr *x = &s->syserr[i];

		if (x->pid == e->pid && x->sys == e->sys && x->err == e->err &&
		    !strncmp(x->comm, e->comm, sizeof(x->comm))) {
			x->count += e->count;
			return;
		}
	}
	k = slot_for(&s->n_syserr, s->syserr, sizeof(*e), offsetof(struct og_hostsig_syserr, count), e->count);
	if (k >= 0)
		s->syserr[k] = *e;
}

void og_hostsig_merge(struct og_hostsig_summary *dst, const struct og_hostsig_summary *src)
{
	size_t i;

	if (!dst->from_ms || (src->from_ms && src->from_ms < dst->from_ms))
		dst->from_ms = src->from_ms;
	if (src->to_ms > dst->to_ms)
		dst->to_ms = src->to_ms;
	dst->runq_ms += src->runq_ms;
	if (src->bpf)
		dst->bpf = true;
	if (!dst->unavailable[0])
		memcpy(dst->unavailable, src->unavailable, sizeof(dst->unavailable));
	for (i = 0; i < OG_HS_NCOL; i++)
		if (src->col[i].active || (!dst->col[i].active && !dst->col[i].reason[0]))
			dst->col[i] = src->col[i];
	for (i = 0; i < src->n_retrans; i++)
		add_retrans(dst, &src->retrans[i]);
	for (i = 0; i < src->n_conn; i++)
		add_conn(dst, &src->conn[i]);
	for (i = 0; i < src->n_oom; i++)
		add_oom(dst, &src->oom[i]);
	for (i = 0; i < src->n_exit; i++)
		add_exit(dst, &src->exits[i]);
	for (i = 0; i < src->n_syserr; i++)
		add_syserr(dst, &src->syserr[i]);
	for (i = 0; i < OG_HS_SLOTS; i++)
		dst->runq_hist[i] += src->runq_hist[i];
	dst->drops += src->drops;
	dst->proc.have_snmp |= src->proc.have_snmp;
	dst->proc.have_vmstat |= src->proc.have_vmstat;
	dst->proc.retrans_segs += src->proc.retrans_segs;
	dst->proc.out_segs += src->proc.out_segs;
	dst->proc.attempt_fails += src->proc.attempt_fails;
	dst->proc.estab_resets += src->proc.estab_resets;
	dst->proc.oom_kill += src->proc.oom_kill;
	if (src->proc.have_psi) {
		dst->proc.have_psi = true;
		dst->proc.psi_cpu_some_avg10 = src->proc.psi_cpu_some_avg10;
	}
}

/* ---- the window ---- */

static int bad_window(int window_ms, struct og_err *err)
{
	return og_err_set(err, -OG_EINVAL, "host signals: window of %d ms is out of range: give 1 .. %d ms",
			  window_ms, OG_HS_MAX_WINDOW_MS);
}

static bool stopped(const struct og_hostsig_filter *f)
{
	return f && f->stop && *f->stop;
}

/* sleeps until mono deadline (us) in slices of at most 100 ms */
static void wait_until(int64_t deadline_us, const struct og_hostsig_filter *f)
{
	for (;;) {
		int64_t left = deadline_us - og_clock_mono_us();

		if (left <= 0 || stopped(f))
			return;
		og_clock_sleep_ms(left > 100000 ? 100 : (int)((left + 999) / 1000));
	}
}

static void set_reason(struct og_hostsig_status *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(struct og_hostsig_status *st, const char *fmt, ...)
{
	va_list ap;

	st->active = false;
	va_start(ap, fmt);
	vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
	va_end(ap);
}

static void all_unavailable(struct og_hostsig_summary *s, const char *why)
{
	snprintf(s->unavailable, sizeof(s->unavailable), "%s", why);
	for (int i = 0; i < OG_HS_NCOL; i++)
		set_reason(&s->col[i], "%s", why);
}

#ifdef OG_NO_BPF

struct og_hostsig_session {
	struct og_hostsig_filter f;
};

static void session_start(struct og_hostsig_session *ss)
{
	(void)ss;
}

static void session_stop(struct og_hostsig_session *ss)
{
	(void)ss;
}

static void session_window(struct og_hostsig_session *ss, int window_ms, struct og_hostsig_summary *s)
{
	char why[300];

	og_hostsig_unusable(why, sizeof(why));
	all_unavailable(s, why);
	wait_until(og_clock_mono_us() + (int64_t)window_ms * 1000, &ss->f);
}

#else

/* libbpf's last warning, for the reason of a failed load or attach */
static _Thread_local char libbpf_last[200];

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		size_t n;

		vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, ap);
		n = strlen(libbpf_last);
		while (n && libbpf_last[n - 1] == '\n')
			libbpf_last[--n] = 0;
	}
	return 0;
}

struct hs_prog {
	enum og_hostsig_col col;
	const char *via;
	struct bpf_program *(*get)(struct hostsig_bpf *);
	bool classic;		/* a classic tracepoint: needs tracefs */
	bool runq;
};

#define HS_GET(name) \
	static struct bpf_program *get_##name(struct hostsig_bpf *o) { return o->progs.name; }
HS_GET(hs_tcp_retransmit)
HS_GET(hs_sock_state)
HS_GET(hs_oom_victim)
HS_GET(hs_process_exit)
HS_GET(hs_sched_wakeup)
HS_GET(hs_sched_wakeup_new)
HS_GET(hs_sched_switch)
HS_GET(hs_exit_openat)
HS_GET(hs_exit_connect)
HS_GET(hs_exit_accept4)
HS_GET(hs_exit_read)
HS_GET(hs_exit_write)
HS_GET(hs_exit_sendto)
HS_GET(hs_exit_recvfrom)
HS_GET(hs_exit_execve)

static const struct hs_prog progs[] = {
	{ OG_HS_RETRANS, "tracepoint tcp/tcp_retransmit_skb", get_hs_tcp_retransmit, true, false },
	{ OG_HS_CONNECT, "tracepoint sock/inet_sock_set_state", get_hs_sock_state, true, false },
	{ OG_HS_OOM, "tracepoint oom/mark_victim", get_hs_oom_victim, true, false },
	{ OG_HS_EXITS, "tracepoint sched/sched_process_exit", get_hs_process_exit, true, false },
	{ OG_HS_RUNQ, "tp_btf sched_wakeup", get_hs_sched_wakeup, false, true },
	{ OG_HS_RUNQ, "tp_btf sched_wakeup_new", get_hs_sched_wakeup_new, false, true },
	{ OG_HS_RUNQ, "tp_btf sched_switch", get_hs_sched_switch, false, true },
	{ OG_HS_SYSCALLS, "tracepoint syscalls/sys_exit_openat", get_hs_exit_openat, true, false },
	{ OG_HS_SYSCALLS, "tracepoint syscalls/sys_exit_connect", get_hs_exit_connect, true, false },
	{ OG_HS_SYSCALLS, "tracepoint syscalls/sys_exit_accept4", get_hs_exit_accept4, true, false },
	{ OG_HS_SYSCALLS, "tracepoint syscalls/sys_exit_read", get_hs_exit_read, true, false },
	{ OG_HS_SYSCALLS, "tracepoint syscalls/sys_exit_write", get_hs_exit_write, true, false },
	{ OG_HS_SYSCALLS, "tracepoint syscalls/sys_exit_sendto", get_hs_exit_sendto, true, false },
	{ OG_HS_SYSCALLS, "tracepoint syscalls/sys_exit_recvfrom", get_hs_exit_recvfrom, true, false },
	{ OG_HS_SYSCALLS, "tracepoint syscalls/sys_exit_execve", get_hs_exit_execve, true, false },
};
#define NPROGS (sizeof(progs) / sizeof(progs[0]))

static void to_addr(struct og_hostsig_addr *a, const struct hs_addr_key *k)
{
	memset(a, 0, sizeof(*a));
	a->family = k->family == AF_INET6 ? AF_INET6 : AF_INET;
	a->port = k->port;
	memcpy(a->addr, k->addr, a->family == AF_INET6 ? 16 : 4);
}

/* bpf_ktime_get_ns (CLOCK_MONOTONIC) -> epoch ms */
static int64_t mono_to_wall_ms(uint64_t ns)
{
	int64_t now_mono_ms = og_clock_mono_us() / 1000;

	return og_clock_wall_ms() - (now_mono_ms - (int64_t)(ns / 1000000));
}


/* Takes every entry out of a hash map, handing each to fn: one window's
 * counts, and an empty map for the next window. lookup_and_delete (5.14+)
 * loses nothing between the read and the delete; older kernels fall back to
 * the two calls. Bounded: a map refilled as fast as it is drained stops
 * after twice its size. */
static void drain(int fd, uint32_t max, void *key, void *val, void (*fn)(struct og_hostsig_summary *, const void *,
									  const void *), struct og_hostsig_summary *s)
{
	for (uint32_t n = 0; n < 2 * max && bpf_map_get_next_key(fd, NULL, key) == 0; n++) {
		if (bpf_map_lookup_and_delete_elem(fd, key, val) != 0) {
			if (bpf_map_lookup_elem(fd, key, val) != 0) {
				bpf_map_delete_elem(fd, key);
				continue;
			}
			bpf_map_delete_elem(fd, key);
		}
		fn(s, key, val);
	}
}

static void take_retrans(struct og_hostsig_summary *s, const void *k, const void *v)
{
	struct og_hostsig_retrans r;

	to_addr(&r.dst, k);
	memcpy(&r.count, v, sizeof(r.count));
	add_retrans(s, &r);
}

static void take_conn(struct og_hostsig_summary *s, const void *k, const void *v)
{
	const struct hs_conn_val *cv = v;
	struct og_hostsig_conn c;

	to_addr(&c.dst, k);
	c.n = cv->n;
	c.failed = cv->failed;
	memcpy(c.hist, cv->hist, sizeof(c.hist));
	add_conn(s, &c);
}

static void take_oom(struct og_hostsig_summary *s, const void *k, const void *v)
{
	const struct hs_oom_val *ov = v;
	struct og_hostsig_oom x = { 0 };

	(void)k;
	x.at_ms = mono_to_wall_ms(ov->ts);
	x.pid = ov->pid;
	x.anon_rss_kb = ov->anon_rss_kb;	/* the tracepoint reports kB */
	x.cgid = ov->cgid;
	memcpy(x.comm, ov->comm, sizeof(x.comm));
	x.comm[sizeof(x.comm) - 1] = 0;
	memcpy(x.cgroup, ov->cgroup, sizeof(x.cgroup));
	x.cgroup[sizeof(x.cgroup) - 1] = 0;
	add_oom(s, &x);
}

static void take_exit(struct og_hostsig_summary *s, const void *k, const void *v)
{
	const struct hs_exit_key *ek = k;
	const struct hs_exit_val *ev = v;
	struct og_hostsig_exit e = { 0 };

	memcpy(e.comm, ek->comm, sizeof(e.comm));
	e.comm[sizeof(e.comm) - 1] = 0;
	e.code = ek->code;
	e.count = ev->count;
	e.first_ms = mono_to_wall_ms(ev->first_ts);
	e.last_ms = mono_to_wall_ms(ev->last_ts);
	e.last_pid = ev->last_pid;
	add_exit(s, &e);
}

static void take_syserr(struct og_hostsig_summary *s, const void *k, const void *v)
{
	const struct hs_sys_key *sk = k;
	struct og_hostsig_syserr e = { 0 };

	e.pid = sk->tgid;
	memcpy(e.comm, sk->comm, sizeof(e.comm));
	e.comm[sizeof(e.comm) - 1] = 0;
	e.sys = sk->sys;
	e.err = sk->err;
	memcpy(&e.count, v, sizeof(e.count));
	add_syserr(s, &e);
}

struct og_hostsig_session {
	struct og_hostsig_filter f;
	struct hostsig_bpf *o;		/* NULL: eBPF unavailable (why) */
	struct bpf_link *links[NPROGS];
	struct og_hostsig_status col[OG_HS_NCOL];
	char why[300];
	bool have_tracefs;
	char tfs[OG_ERR_MSG / 4];
	uint64_t runq_prev[OG_HS_SLOTS], drops_prev;	/* the array maps are cumulative */
};

static void attach_one(struct og_hostsig_session *ss, size_t i)
{
	const struct hs_prog *p = &progs[i];
	struct og_hostsig_status *st = &ss->col[p->col];

	if (p->classic && !ss->have_tracefs) {
		if (!st->active)
			set_reason(st, "%s", ss->tfs);
		return;
	}
	libbpf_last[0] = 0;
	ss->links[i] = bpf_program__attach(p->get(ss->o));
	if (!ss->links[i]) {
		if (!st->active)
			set_reason(st, "attaching %s failed (%s%s%s)", p->via, strerror(errno), libbpf_last[0] ? ": " : "",
				   libbpf_last);
		return;
	}
	if (!st->active) {
		st->active = true;
		st->reason[0] = 0;
		snprintf(st->via, sizeof(st->via), "%s", p->col == OG_HS_SYSCALLS ? "tracepoint syscalls/sys_exit_*" :
			 p->runq ? "tp_btf sched_wakeup/switch" : p->via);
	}
}

/* Loads and attaches everything but the run-queue hooks, which each window
 * attaches for its runq_ms. On failure the session stays usable: windows
 * then sample /proc only, with ss->why. */
static void session_start(struct og_hostsig_session *ss)
{
	struct og_err terr = { 0 };
	libbpf_print_fn_t old;

	if (og_hostsig_unusable(ss->why, sizeof(ss->why)))
		return;
	ss->have_tracefs = og_tracefs_ensure(NULL, &terr) == 0;
	snprintf(ss->tfs, sizeof(ss->tfs), "%.*s", (int)sizeof(ss->tfs) - 1, terr.msg);
	old = libbpf_set_print(libbpf_log);
	libbpf_last[0] = 0;
	ss->o = hostsig_bpf__open();
	if (!ss->o) {
		snprintf(ss->why, sizeof(ss->why), "eBPF off: opening the hostsig programs failed (%s)", strerror(errno));
		goto out;
	}
	ss->o->rodata->filter_cgid = ss->f.cgroup_id;
	if (hostsig_bpf__load(ss->o) != 0) {
		snprintf(ss->why, sizeof(ss->why), "eBPF off: loading the hostsig programs failed (%s%s%s)",
			 strerror(errno), libbpf_last[0] ? ": " : "", libbpf_last);
		hostsig_bpf__destroy(ss->o);
		ss->o = NULL;
		goto out;
	}
	for (size_t i = 0; i < NPROGS; i++)
		if (!progs[i].runq)
			attach_one(ss, i);
	if (ss->f.runq_ms == 0)
		set_reason(&ss->col[OG_HS_RUNQ], "off for these windows (runq_ms = 0)");
out:
	libbpf_set_print(old);
}

static void session_stop(struct og_hostsig_session *ss)
{
	for (size_t i = 0; i < NPROGS; i++)
		bpf_link__destroy(ss->links[i]);
	hostsig_bpf__destroy(ss->o);
}

static void session_window(struct og_hostsig_session *ss, int window_ms, struct og_hostsig_summary *s)
{
	int64_t start_us, end_us, runq_end_us;
	int runq_ms = ss->f.runq_ms;
	struct og_hostsig_filter *f = &ss->f;
	uint32_t i;
	libbpf_print_fn_t old;

	if (!ss->o) {
		all_unavailable(s, ss->why);
		wait_until(og_clock_mono_us() + (int64_t)window_ms * 1000, f);
		return;
	}
	s->bpf = true;
	old = libbpf_set_print(libbpf_log);
	start_us = og_clock_mono_us();
	if (runq_ms != 0)
		for (i = 0; i < NPROGS; i++)
			if (progs[i].runq)
				attach_one(ss, i);
	libbpf_set_print(old);
	memcpy(s->col, ss->col, sizeof(s->col));
	end_us = start_us + (int64_t)window_ms * 1000;
	runq_end_us = runq_ms < 0 || runq_ms > window_ms ? end_us : start_us + (int64_t)runq_ms * 1000;
	wait_until(runq_end_us, f);
	for (i = 0; i < NPROGS; i++)
		if (progs[i].runq && ss->links[i]) {
			bpf_link__destroy(ss->links[i]);
			ss->links[i] = NULL;
		}
	if (s->col[OG_HS_RUNQ].active)
		s->runq_ms = (uint64_t)((og_clock_mono_us() - start_us) / 1000);
	wait_until(end_us, f);
	{
		struct hs_addr_key ak;
		struct hs_sys_key sk;
		struct hs_exit_key ek;
		uint32_t pk, z = 0;
		uint64_t v64;
		struct hs_conn_val cv;
		struct hs_oom_val ov;
		struct hs_exit_val ev;

		drain(bpf_map__fd(ss->o->maps.retrans), HS_MAX_KEYS, &ak, &v64, take_retrans, s);
		drain(bpf_map__fd(ss->o->maps.conns), HS_MAX_KEYS, &ak, &cv, take_conn, s);
		drain(bpf_map__fd(ss->o->maps.ooms), HS_MAX_OOM, &pk, &ov, take_oom, s);
		drain(bpf_map__fd(ss->o->maps.exits), HS_MAX_KEYS, &ek, &ev, take_exit, s);
		drain(bpf_map__fd(ss->o->maps.syserrs), HS_MAX_SYS_KEYS, &sk, &v64, take_syserr, s);
		for (i = 0; i < OG_HS_SLOTS; i++)
			if (bpf_map_lookup_elem(bpf_map__fd(ss->o->maps.runq_hist), &i, &v64) == 0) {
				s->runq_hist[i] = v64 - ss->runq_prev[i];
				ss->runq_prev[i] = v64;
			}
		if (bpf_map_lookup_elem(bpf_map__fd(ss->o->maps.drops), &z, &v64) == 0) {
			s->drops = v64 - ss->drops_prev;
			ss->drops_prev = v64;
		}
	}
}

#endif

int og_hostsig_open(const struct og_hostsig_filter *f, struct og_hostsig_session **out, struct og_err *err)
{
	struct og_hostsig_session *ss = calloc(1, sizeof(*ss));

	*out = NULL;
	if (!ss)
		return og_err_set(err, -OG_ENOMEM, "host signals: out of memory");
	if (f)
		ss->f = *f;
	else
		ss->f.runq_ms = -1;
	session_start(ss);
	*out = ss;
	return 0;
}

int og_hostsig_window(struct og_hostsig_session *ss, int window_ms, struct og_hostsig_summary *s, struct og_err *err)
{
	struct og_hostsig_proc p0, p1;

	if (window_ms < 1 || window_ms > OG_HS_MAX_WINDOW_MS)
		return bad_window(window_ms, err);
	memset(s, 0, sizeof(*s));
	s->from_ms = og_clock_wall_ms();
	og_hostsig_proc_sample(&p0);
	session_window(ss, window_ms, s);
	og_hostsig_proc_sample(&p1);
	og_hostsig_proc_delta(&p0, &p1, &s->proc);
	s->to_ms = og_clock_wall_ms();
	return 0;
}

void og_hostsig_close(struct og_hostsig_session *ss)
{
	if (!ss)
		return;
	session_stop(ss);
	free(ss);
}

int og_hostsig_collect(int window_ms, const struct og_hostsig_filter *f, struct og_hostsig_summary *s,
		       struct og_err *err)
{
	struct og_hostsig_session *ss;
	int rc;

	if (window_ms < 1 || window_ms > OG_HS_MAX_WINDOW_MS)
		return bad_window(window_ms, err);
	if ((rc = og_hostsig_open(f, &ss, err)) < 0)
		return rc;
	rc = og_hostsig_window(ss, window_ms, s, err);
	og_hostsig_close(ss);
	return rc;
}
