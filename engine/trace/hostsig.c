/*
 * hostsig.c: og_hostsig_collect (see hostsig.h). Loads the hostsig skeleton
 * once per window with the cgroup filter as read-only data, attaches each
 * program on its own so one refused hook costs only its collector (the
 * reason is kept per collector), sleeps out the window in short slices (the
 * run-queue hooks come off early), then reads the maps once and frees
 * everything. Built with BPF=0 it reports "built without eBPF" and samples
 * /proc only.
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

static int collect_bpf(int window_ms, const struct og_hostsig_filter *f, struct og_hostsig_summary *s)
{
	all_unavailable(s, "eBPF off: opsgraph was built without eBPF (BPF=0: the build host had no "
			   "/sys/kernel/btf/vmlinux); rebuild on a host with BTF");
	wait_until(og_clock_mono_us() + (int64_t)window_ms * 1000, f);
	return 0;
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

static void read_maps(struct hostsig_bpf *o, struct og_hostsig_summary *s)
{
	int fd;

	fd = bpf_map__fd(o->maps.retrans);
	{
		struct hs_addr_key k, next, *prev = NULL;
		uint64_t v;

		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			struct og_hostsig_retrans r;

			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &v) != 0)
				continue;
			to_addr(&r.dst, &k);
			r.count = v;
			add_retrans(s, &r);
		}
	}
	fd = bpf_map__fd(o->maps.conns);
	{
		struct hs_addr_key k, next, *prev = NULL;
		struct hs_conn_val v;

		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			struct og_hostsig_conn c;

			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &v) != 0)
				continue;
			to_addr(&c.dst, &k);
			c.n = v.n;
			c.failed = v.failed;
			memcpy(c.hist, v.hist, sizeof(c.hist));
			add_conn(s, &c);
		}
	}
	fd = bpf_map__fd(o->maps.ooms);
	{
		uint32_t k, next, *prev = NULL;
		struct hs_oom_val v;

		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			struct og_hostsig_oom x = { 0 };

			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &v) != 0)
				continue;
			x.at_ms = mono_to_wall_ms(v.ts);
			x.pid = v.pid;
			x.anon_rss_kb = v.anon_rss_kb;	/* the tracepoint reports kB */
			x.cgid = v.cgid;
			memcpy(x.comm, v.comm, sizeof(x.comm));
			x.comm[sizeof(x.comm) - 1] = 0;
			memcpy(x.cgroup, v.cgroup, sizeof(x.cgroup));
			x.cgroup[sizeof(x.cgroup) - 1] = 0;
			add_oom(s, &x);
		}
	}
	fd = bpf_map__fd(o->maps.exits);
	{
		struct hs_exit_key k, next, *prev = NULL;
		struct hs_exit_val v;

		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			struct og_hostsig_exit e = { 0 };

			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &v) != 0)
				continue;
			memcpy(e.comm, k.comm, sizeof(e.comm));
			e.comm[sizeof(e.comm) - 1] = 0;
			e.code = k.code;
			e.count = v.count;
			e.first_ms = mono_to_wall_ms(v.first_ts);
			e.last_ms = mono_to_wall_ms(v.last_ts);
			e.last_pid = v.last_pid;
			add_exit(s, &e);
		}
	}
	fd = bpf_map__fd(o->maps.syserrs);
	{
		struct hs_sys_key k, next, *prev = NULL;
		uint64_t v;

		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			struct og_hostsig_syserr e = { 0 };

			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &v) != 0)
				continue;
			e.pid = k.tgid;
			memcpy(e.comm, k.comm, sizeof(e.comm));
			e.comm[sizeof(e.comm) - 1] = 0;
			e.sys = k.sys;
			e.err = k.err;
			e.count = v;
			add_syserr(s, &e);
		}
	}
	for (uint32_t i = 0; i < OG_HS_SLOTS; i++) {
		uint64_t v = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(o->maps.runq_hist), &i, &v) == 0)
			s->runq_hist[i] = v;
	}
	{
		uint32_t z = 0;
		uint64_t v = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(o->maps.drops), &z, &v) == 0)
			s->drops = v;
	}
}

static int collect_bpf(int window_ms, const struct og_hostsig_filter *f, struct og_hostsig_summary *s)
{
	struct hostsig_bpf *o = NULL;
	struct bpf_link *links[NPROGS] = { 0 };
	char why[300], tfs[OG_ERR_MSG / 4];
	struct og_err terr = { 0 };
	bool have_tracefs;
	int64_t start_us, end_us, runq_end_us;
	int runq_ms = f ? f->runq_ms : -1;
	libbpf_print_fn_t old;
	size_t i;

	if (og_hostsig_unusable(why, sizeof(why))) {
		all_unavailable(s, why);
		wait_until(og_clock_mono_us() + (int64_t)window_ms * 1000, f);
		return 0;
	}
	have_tracefs = og_tracefs_ensure(NULL, &terr) == 0;
	snprintf(tfs, sizeof(tfs), "%.*s", (int)sizeof(tfs) - 1, terr.msg);
	old = libbpf_set_print(libbpf_log);
	libbpf_last[0] = 0;
	o = hostsig_bpf__open();
	if (!o) {
		snprintf(why, sizeof(why), "eBPF off: opening the hostsig programs failed (%s)", strerror(errno));
		goto unavailable;
	}
	o->rodata->filter_cgid = f ? f->cgroup_id : 0;
	if (hostsig_bpf__load(o) != 0) {
		snprintf(why, sizeof(why), "eBPF off: loading the hostsig programs failed (%s%s%s)", strerror(errno),
			 libbpf_last[0] ? ": " : "", libbpf_last);
		goto unavailable;
	}
	s->bpf = true;
	for (i = 0; i < OG_HS_NCOL; i++)
		s->col[i].reason[0] = 0;
	/* the window is the time the hooks were on, not the load before it */
	s->from_ms = og_clock_wall_ms();
	start_us = og_clock_mono_us();
	for (i = 0; i < NPROGS; i++) {
		const struct hs_prog *p = &progs[i];
		struct og_hostsig_status *st = &s->col[p->col];

		if (p->runq && runq_ms == 0) {
			set_reason(st, "off for this window (runq_ms = 0)");
			continue;
		}
		if (p->classic && !have_tracefs) {
			if (!st->active)
				set_reason(st, "%s", tfs);
			continue;
		}
		libbpf_last[0] = 0;
		links[i] = bpf_program__attach(p->get(o));
		if (!links[i]) {
			links[i] = NULL;
			if (!st->active)
				set_reason(st, "attaching %s failed (%s%s%s)", p->via, strerror(errno),
					   libbpf_last[0] ? ": " : "", libbpf_last);
			continue;
		}
		if (!st->active) {
			st->active = true;
			st->reason[0] = 0;
			snprintf(st->via, sizeof(st->via), "%s", p->via);
			if (p->col == OG_HS_SYSCALLS)
				snprintf(st->via, sizeof(st->via), "tracepoint syscalls/sys_exit_*");
			else if (p->runq)
				snprintf(st->via, sizeof(st->via), "tp_btf sched_wakeup/switch");
		}
	}
	end_us = start_us + (int64_t)window_ms * 1000;
	runq_end_us = runq_ms < 0 || runq_ms > window_ms ? end_us : start_us + (int64_t)runq_ms * 1000;
	wait_until(runq_end_us, f);
	for (i = 0; i < NPROGS; i++)
		if (progs[i].runq && links[i]) {
			bpf_link__destroy(links[i]);
			links[i] = NULL;
		}
	if (s->col[OG_HS_RUNQ].active)
		s->runq_ms = (uint64_t)((og_clock_mono_us() - start_us) / 1000);
	wait_until(end_us, f);
	for (i = 0; i < NPROGS; i++)
		bpf_link__destroy(links[i]);
	read_maps(o, s);
	hostsig_bpf__destroy(o);
	libbpf_set_print(old);
	return 0;

unavailable:
	hostsig_bpf__destroy(o);
	libbpf_set_print(old);
	all_unavailable(s, why);
	wait_until(og_clock_mono_us() + (int64_t)window_ms * 1000, f);
	return 0;
}

#endif

int og_hostsig_collect(int window_ms, const struct og_hostsig_filter *f, struct og_hostsig_summary *s,
		       struct og_err *err)
{
	struct og_hostsig_proc p0, p1;

	if (window_ms < 1 || window_ms > OG_HS_MAX_WINDOW_MS)
		return bad_window(window_ms, err);
	memset(s, 0, sizeof(*s));
	s->from_ms = og_clock_wall_ms();
	og_hostsig_proc_sample(&p0);
	collect_bpf(window_ms, f, s);
	og_hostsig_proc_sample(&p1);
	og_hostsig_proc_delta(&p0, &p1, &s->proc);
	s->to_ms = og_clock_wall_ms();
	return 0;
}
