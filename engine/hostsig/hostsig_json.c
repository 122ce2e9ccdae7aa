/*
 * hostsig_json.c: og_hostsig_json (see hostsig_json.h). Lists are sorted
 * by count with a total order (ties on the text), so the same summary
 * always prints the same JSON; a crash loop is OG_HOSTSIG_CRASH_LOOP_MIN or
 * more non-zero exits of one comm, whatever the codes.
 */
#include "hostsig_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"

#define TOP 5

static double window_s(const struct og_hostsig_summary *s)
{
	double w = (double)(s->to_ms - s->from_ms) / 1000.0;

	return w > 0.001 ? w : 0.001;
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char buf[40];

	cJSON_AddStringToObject(o, k, og_clock_iso8601(ms, buf, sizeof(buf)));
}

static void add_code(cJSON *o, int code)
{
	if (code & 0x7f)
		cJSON_AddNumberToObject(o, "signal", code & 0x7f);
	else
		cJSON_AddNumberToObject(o, "exit_code", (code >> 8) & 0xff);
}

static void code_text(int code, char *buf, size_t n)
{
	if (code & 0x7f) {
		const char *name = sigabbrev_np(code & 0x7f);

		snprintf(buf, n, "SIG%s", name ? name : "?");
	} else {
		snprintf(buf, n, "exit=%d", (code >> 8) & 0xff);
	}
}

/* indexes of the n largest of count(i), largest first, ties by index */
static size_t top(size_t n, uint64_t (*count)(const void *, size_t), const void *base, size_t *idx, size_t max)
{
	size_t k = 0;
	bool used[OG_HS_MAX] = { 0 };

	while (k < max && k < n) {
		size_t best = n;

		for (size_t i = 0; i < n; i++)
			if (!used[i] && (best == n || count(base, i) > count(base, best)))
				best = i;
		used[best] = true;
		idx[k++] = best;
	}
	return k;
}

static uint64_t c_retrans(const void *b, size_t i) { return ((const struct og_hostsig_retrans *)b)[i].count; }
static uint64_t c_conn(const void *b, size_t i)
{
	const struct og_hostsig_conn *c = &((const struct og_hostsig_conn *)b)[i];

	return c->n + c->failed * 1000;		/* failures first */
}
static uint64_t c_exit(const void *b, size_t i) { return ((const struct og_hostsig_exit *)b)[i].count; }
static uint64_t c_sys(const void *b, size_t i) { return ((const struct og_hostsig_syserr *)b)[i].count; }

static void split_addr(const struct og_hostsig_addr *a, cJSON *o)
{
	char buf[64], *colon;

	og_hostsig_addr_format(a, buf, sizeof(buf));
	colon = strrchr(buf, ':');
	if (colon)
		*colon = 0;
	if (buf[0] == '[') {
		memmove(buf, buf + 1, strlen(buf));
		buf[strlen(buf) - 1] = 0;
	}
	cJSON_AddStringToObject(o, "daddr", buf);
	cJSON_AddNumberToObject(o, "dport", a->port);
}

struct lines {
	cJSON *arr;
	char buf[600];
	size_t len;
};

static void line_start(struct lines *l, const char *head)
{
	l->len = (size_t)snprintf(l->buf, sizeof(l->buf), "%s:", head);
}

static void line_add(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_add(struct lines *l, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (w > 0)
		l->len += (size_t)w;
	if (l->len > sizeof(l->buf) - 1)
		l->len = sizeof(l->buf) - 1;
}

static void line_end(struct lines *l, bool any)
{
	if (!any)
		line_add(l, " none observed");
	cJSON_AddItemToArray(l->arr, cJSON_CreateString(l->buf));
}

static void ebpf_lists(const struct og_hostsig_summary *s, cJSON *o, struct lines *l)
{
	size_t idx[OG_HS_MAX], n, i;
	double w = window_s(s);
	char a[64], code[32];

	if (s->col[OG_HS_RETRANS].active) {
		cJSON *arr = cJSON_AddArrayToObject(o, "tcp_retransmits");

		line_start(l, "tcp_retransmits");
		n = top(s->n_retrans, c_retrans, s->retrans, idx, TOP);
		for (i = 0; i < n; i++) {
			const struct og_hostsig_retrans *r = &s->retrans[idx[i]];
			cJSON *e = cJSON_CreateObject();

			split_addr(&r->dst, e);
			cJSON_AddNumberToObject(e, "count", (double)r->count);
			cJSON_AddNumberToObject(e, "per_s", (double)(int64_t)((double)r->count / w * 10 + 0.5) / 10);
			cJSON_AddItemToArray(arr, e);
			og_hostsig_addr_format(&r->dst, a, sizeof(a));
			line_add(l, "%s %s x%llu (%.1f/s)", i ? ";" : "", a, (unsigned long long)r->count,
				 (double)r->count / w);
		}
		if (!n)
			line_add(l, " none observed");
		if (s->proc.have_snmp)
			line_add(l, " | host RetransSegs +%llu of %llu segments", (unsigned long long)s->proc.retrans_segs,
				 (unsigned long long)s->proc.out_segs);
		line_end(l, true);
	}
	if (s->col[OG_HS_CONNECT].active) {
		cJSON *arr = cJSON_AddArrayToObject(o, "tcp_connect");

		line_start(l, "tcp_connect");
		n = top(s->n_conn, c_conn, s->conn, idx, TOP);
		for (i = 0; i < n; i++) {
			const struct og_hostsig_conn *c = &s->conn[idx[i]];
			cJSON *e = cJSON_CreateObject();
			uint64_t p50 = og_hostsig_hist_quantile(c->hist, 0.5), p99 = og_hostsig_hist_quantile(c->hist, 0.99);

			split_addr(&c->dst, e);
			cJSON_AddNumberToObject(e, "n", (double)c->n);
			cJSON_AddNumberToObject(e, "failed", (double)c->failed);
			if (c->n) {
				cJSON_AddNumberToObject(e, "p50_us", (double)p50);
				cJSON_AddNumberToObject(e, "p99_us", (double)p99);
			}
			cJSON_AddItemToArray(arr, e);
			og_hostsig_addr_format(&c->dst, a, sizeof(a));
			line_add(l, "%s %s n=%llu", i ? ";" : "", a, (unsigned long long)c->n);
			if (c->n)
				line_add(l, " p50<%lluus p99<%lluus", (unsigned long long)p50, (unsigned long long)p99);
			if (c->failed)
				line_add(l, " FAILED x%llu", (unsigned long long)c->failed);
		}
		line_end(l, n > 0);
	}
	if (s->col[OG_HS_OOM].active) {
		cJSON *arr = cJSON_AddArrayToObject(o, "oom_kills");

		line_start(l, "oom_kills");
		for (i = 0; i < s->n_oom && i < TOP * 2; i++) {
			const struct og_hostsig_oom *k = &s->oom[i];
			cJSON *e = cJSON_CreateObject();

			add_time(e, "at", k->at_ms);
			cJSON_AddNumberToObject(e, "pid", k->pid);
			cJSON_AddStringToObject(e, "comm", k->comm);
			cJSON_AddStringToObject(e, "cgroup", k->cgroup);
			cJSON_AddNumberToObject(e, "rss_kb", (double)k->anon_rss_kb);
			cJSON_AddItemToArray(arr, e);
			line_add(l, "%s %s pid=%u (memory cgroup %s) anon_rss=%llukB", i ? ";" : "", k->comm, k->pid,
				 k->cgroup[0] ? k->cgroup : "?", (unsigned long long)k->anon_rss_kb);
		}
		line_end(l, s->n_oom > 0);
	}
	if (s->col[OG_HS_EXITS].active) {
		cJSON *loops = cJSON_AddArrayToObject(o, "crash_loops"), *arr = cJSON_AddArrayToObject(o, "abnormal_exits");
		uint64_t per_comm[OG_HS_MAX];
		size_t nl = 0;

		/* one comm's exits summed over its codes: the loop's size */
		for (i = 0; i < s->n_exit; i++) {
			per_comm[i] = 0;
			for (size_t j = 0; j < s->n_exit; j++)
				if (!strncmp(s->exits[i].comm, s->exits[j].comm, sizeof(s->exits[i].comm)))
					per_comm[i] += s->exits[j].count;
		}
		n = top(s->n_exit, c_exit, s->exits, idx, s->n_exit);
		line_start(l, "crash_loops");
		for (i = 0; i < n && nl < TOP; i++) {
			const struct og_hostsig_exit *x = &s->exits[idx[i]];
			bool first_of_comm = true;
			cJSON *e;

			for (size_t j = 0; j < i; j++)
				if (!strncmp(s->exits[idx[j]].comm, x->comm, sizeof(x->comm)))
					first_of_comm = false;
			if (!first_of_comm || per_comm[idx[i]] < OG_HOSTSIG_CRASH_LOOP_MIN)
				continue;
			/* the loop is the comm's, over all its ways of dying: its span,
			 * its latest pid, and each cause with its count (the most
			 * frequent first, as `top` ordered them) */
			{
				int64_t first = x->first_ms, last = x->last_ms;
				uint32_t last_pid = x->last_pid;
				uint64_t total = per_comm[idx[i]];
				cJSON *causes = cJSON_CreateArray();
				char text[256];
				size_t tl = 0, nc = 0;

				for (size_t j = i; j < n; j++) {
					const struct og_hostsig_exit *y = &s->exits[idx[j]];
					cJSON *c;

					if (strncmp(y->comm, x->comm, sizeof(x->comm)))
						continue;
					if (y->first_ms < first)
						first = y->first_ms;
					if (y->last_ms > last) {
						last = y->last_ms;
						last_pid = y->last_pid;
					}
					c = cJSON_CreateObject();
					add_code(c, y->code);
					cJSON_AddNumberToObject(c, "count", (double)y->count);
					cJSON_AddItemToArray(causes, c);
					code_text(y->code, code, sizeof(code));
					if (tl < sizeof(text))
						tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%s%llux %s",
								       nc ? ", " : "", (unsigned long long)y->count, code);
					nc++;
				}
				e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "comm", x->comm);
				cJSON_AddNumberToObject(e, "count", (double)total);
				add_code(e, x->code);	/* the most frequent cause */
				cJSON_AddItemToObject(e, "causes", causes);
				cJSON_AddNumberToObject(e, "last_pid", last_pid);
				add_time(e, "first", first);
				add_time(e, "last", last);
				if (total > 1)
					cJSON_AddNumberToObject(e, "interval_s",
								(double)(last - first) / 1000.0 / (double)(total - 1));
				cJSON_AddItemToArray(loops, e);
				if (nc == 1) {
					code_text(x->code, code, sizeof(code));
					line_add(l, "%s %s x%llu (%s)", nl ? ";" : "", x->comm, (unsigned long long)total, code);
				} else {
					line_add(l, "%s %s x%llu (%s)", nl ? ";" : "", x->comm, (unsigned long long)total, text);
				}
			}
			nl++;
		}
		line_end(l, nl > 0);
		line_start(l, "abnormal_exits");
		for (i = 0; i < n && i < TOP; i++) {
			const struct og_hostsig_exit *x = &s->exits[idx[i]];
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "comm", x->comm);
			cJSON_AddNumberToObject(e, "count", (double)x->count);
			add_code(e, x->code);
			cJSON_AddNumberToObject(e, "last_pid", x->last_pid);
			cJSON_AddItemToArray(arr, e);
			code_text(x->code, code, sizeof(code));
			line_add(l, "%s %s %s x%llu", i ? ";" : "", x->comm, code, (unsigned long long)x->count);
		}
		line_end(l, n > 0);
	}
	if (s->col[OG_HS_RUNQ].active) {
		cJSON *r = cJSON_AddObjectToObject(o, "runq_latency");
		uint64_t total = 0, over1 = 0, over10 = 0;

		for (i = 0; i < OG_HS_SLOTS; i++) {
			total += s->runq_hist[i];
			if (i >= 10)	/* [1024 us, ...) */
				over1 += s->runq_hist[i];
			if (i >= 13)	/* [8192 us, ...): the bucket holding 10 ms counts */
				over10 += s->runq_hist[i];
		}
		cJSON_AddNumberToObject(r, "samples", (double)total);
		cJSON_AddNumberToObject(r, "p50_us", (double)og_hostsig_hist_quantile(s->runq_hist, 0.5));
		cJSON_AddNumberToObject(r, "p99_us", (double)og_hostsig_hist_quantile(s->runq_hist, 0.99));
		cJSON_AddNumberToObject(r, "over_1ms_pct", total ? (double)(int64_t)(over1 * 1000.0 / total) / 10 : 0);
		cJSON_AddNumberToObject(r, "over_10ms_pct", total ? (double)(int64_t)(over10 * 1000.0 / total) / 10 : 0);
		cJSON_AddNumberToObject(r, "sampled_ms", (double)s->runq_ms);
		line_start(l, "runq_latency");
		if (!total)
			line_add(l, " none observed");
		else
			line_add(l, " p50<%lluus p99<%lluus (>1ms: %.1f%% of %llu, sampled %llu ms)",
				 (unsigned long long)og_hostsig_hist_quantile(s->runq_hist, 0.5),
				 (unsigned long long)og_hostsig_hist_quantile(s->runq_hist, 0.99), over1 * 100.0 / total,
				 (unsigned long long)total, (unsigned long long)s->runq_ms);
		if (s->proc.have_psi)
			line_add(l, " | PSI cpu some avg10=%.2f%%", s->proc.psi_cpu_some_avg10);
		line_end(l, true);
	}
	if (s->col[OG_HS_SYSCALLS].active) {
		cJSON *arr = cJSON_AddArrayToObject(o, "syscall_errors");

		line_start(l, "syscall_errors");
		n = top(s->n_syserr, c_sys, s->syserr, idx, TOP);
		for (i = 0; i < n; i++) {
			const struct og_hostsig_syserr *x = &s->syserr[idx[i]];
			const char *en = strerrorname_np(x->err);
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "comm", x->comm);
			cJSON_AddNumberToObject(e, "pid", x->pid);
			cJSON_AddStringToObject(e, "syscall", og_hostsig_sys_name(x->sys));
			if (en)
				cJSON_AddStringToObject(e, "errno", en);
			else
				cJSON_AddNumberToObject(e, "errno", x->err);
			cJSON_AddNumberToObject(e, "count", (double)x->count);
			cJSON_AddItemToArray(arr, e);
			line_add(l, "%s %s %s x%llu (%s pid %u)", i ? ";" : "", og_hostsig_sys_name(x->sys),
				 en ? en : "?", (unsigned long long)x->count, x->comm, x->pid);
		}
		line_end(l, n > 0);
	}
}

/* without eBPF: the /proc deltas where the eBPF lists would be */
static void fallback_lists(const struct og_hostsig_summary *s, cJSON *o, struct lines *l)
{
	const struct og_hostsig_proc *p = &s->proc;
	cJSON *arr, *e;

	if (p->have_snmp) {
		arr = cJSON_AddArrayToObject(o, "tcp_retransmits");
		if (p->retrans_segs) {
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "daddr", "*");
			cJSON_AddNumberToObject(e, "count", (double)p->retrans_segs);
			if (p->out_segs)
				cJSON_AddNumberToObject(e, "rate_pct", (double)p->retrans_segs * 100.0 / (double)p->out_segs);
			cJSON_AddStringToObject(e, "source", OG_HOSTSIG_FALLBACK);
			cJSON_AddItemToArray(arr, e);
		}
		line_start(l, "tcp_retransmits " OG_HOSTSIG_FALLBACK);
		line_add(l, " host RetransSegs +%llu of %llu segments; AttemptFails +%llu, EstabResets +%llu",
			 (unsigned long long)p->retrans_segs, (unsigned long long)p->out_segs,
			 (unsigned long long)p->attempt_fails, (unsigned long long)p->estab_resets);
		line_end(l, true);
	}
	if (p->have_vmstat) {
		arr = cJSON_AddArrayToObject(o, "oom_kills");
		if (p->oom_kill) {
			e = cJSON_CreateObject();
			cJSON_AddNumberToObject(e, "count", (double)p->oom_kill);
			cJSON_AddStringToObject(e, "source", OG_HOSTSIG_FALLBACK);
			cJSON_AddItemToArray(arr, e);
		}
		line_start(l, "oom_kills " OG_HOSTSIG_FALLBACK);
		line_add(l, " /proc/vmstat oom_kill +%llu (no victim names without eBPF)", (unsigned long long)p->oom_kill);
		line_end(l, true);
	}
	if (p->have_psi) {
		line_start(l, "runq_latency " OG_HOSTSIG_FALLBACK);
		line_add(l, " PSI cpu some avg10=%.2f%%", p->psi_cpu_some_avg10);
		line_end(l, true);
	}
	cJSON_AddItemToArray(l->arr, cJSON_CreateString("crash_loops, syscall_errors: not available without eBPF"));
}

cJSON *og_hostsig_json(const struct og_hostsig_summary *s)
{
	cJSON *o = cJSON_CreateObject(), *w, *cols, *notes, *p;
	struct lines l;
	char buf[400];
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "source", s->bpf ? "ebpf" : "/proc sampling, reduced fidelity");
	w = cJSON_AddObjectToObject(o, "window");
	add_time(w, "from", s->from_ms);
	add_time(w, "to", s->to_ms);
	cJSON_AddNumberToObject(w, "seconds", (double)(int64_t)(window_s(s) * 1000) / 1000);
	l.arr = cJSON_CreateArray();
	snprintf(buf, sizeof(buf), "[host signals, window %.1fs%s]", window_s(s), s->bpf ? "" : " " OG_HOSTSIG_FALLBACK);
	cJSON_AddItemToArray(l.arr, cJSON_CreateString(buf));
	if (s->bpf)
		ebpf_lists(s, o, &l);
	else
		fallback_lists(s, o, &l);
	p = cJSON_AddObjectToObject(o, "proc");
	if (s->proc.have_snmp) {
		cJSON_AddNumberToObject(p, "retrans_segs", (double)s->proc.retrans_segs);
		cJSON_AddNumberToObject(p, "out_segs", (double)s->proc.out_segs);
		cJSON_AddNumberToObject(p, "attempt_fails", (double)s->proc.attempt_fails);
		cJSON_AddNumberToObject(p, "estab_resets", (double)s->proc.estab_resets);
	}
	if (s->proc.have_vmstat)
		cJSON_AddNumberToObject(p, "oom_kill", (double)s->proc.oom_kill);
	if (s->proc.have_psi)
		cJSON_AddNumberToObject(p, "psi_cpu_some_avg10", s->proc.psi_cpu_some_avg10);
	cols = cJSON_AddObjectToObject(o, "collectors");
	for (i = 0; i < OG_HS_NCOL; i++) {
		if (s->col[i].active)
			snprintf(buf, sizeof(buf), "%s", s->col[i].via);
		else
			snprintf(buf, sizeof(buf), "unavailable: %s", s->col[i].reason[0] ? s->col[i].reason : "not run");
		cJSON_AddStringToObject(cols, og_hostsig_col_name((enum og_hostsig_col)i), buf);
	}
	cJSON_AddItemToObject(o, "lines", l.arr);
	notes = cJSON_AddArrayToObject(o, "notes");
	if (!s->bpf) {
		snprintf(buf, sizeof(buf), "host signals: %s; %s", s->unavailable[0] ? s->unavailable : "eBPF not used",
			 OG_HOSTSIG_FALLBACK);
		cJSON_AddItemToArray(notes, cJSON_CreateString(buf));
	} else {
		for (i = 0; i < OG_HS_NCOL; i++)
			if (!s->col[i].active && s->col[i].reason[0] && strncmp(s->col[i].reason, "off for", 7)) {
				snprintf(buf, sizeof(buf), "host signals: %s unavailable: %.300s",
					 og_hostsig_col_name((enum og_hostsig_col)i), s->col[i].reason);
				cJSON_AddItemToArray(notes, cJSON_CreateString(buf));
			}
		if (s->drops) {
			snprintf(buf, sizeof(buf), "host signals: %llu keys did not fit the kernel maps; counts are partial",
				 (unsigned long long)s->drops);
			cJSON_AddItemToArray(notes, cJSON_CreateString(buf));
		}
	}
	return o;
}
