/*
 * test_hostsig.c: the parts of the host signals that need no kernel:
 * og_hostsig_hist_quantile, og_hostsig_merge (the probe agent's buckets),
 * the top-N cut, and og_hostsig_json (crash loops from repeated exits,
 * codes and signals, the prompt lines, the /proc fallback marking, the
 * collectors' reasons). tests/cli/hostsig.sh runs the real collectors.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsig/hostsig_json.h"
#include "trace/hostsig.h"
#include "trace/hostsig_check.h"
#include "../test.h"

static struct og_hostsig_summary *fresh(bool bpf)
{
	struct og_hostsig_summary *s = calloc(1, sizeof(*s));

	s->from_ms = 1764000000000LL;
	s->to_ms = s->from_ms + 10000;
	s->bpf = bpf;
	for (int i = 0; i < OG_HS_NCOL; i++) {
		s->col[i].active = bpf;
		snprintf(s->col[i].via, sizeof(s->col[i].via), "tracepoint x");
	}
	return s;
}

static void add_exit(struct og_hostsig_summary *s, const char *comm, int code, uint64_t n)
{
	struct og_hostsig_exit *e = &s->exits[s->n_exit++];

	memset(e, 0, sizeof(*e));
	snprintf(e->comm, sizeof(e->comm), "%s", comm);
	e->code = code;
	e->count = n;
	e->first_ms = s->from_ms + 1000;
	e->last_ms = s->from_ms + 1000 + (int64_t)(n - 1) * 500;
	e->last_pid = 4242;
}

static void add_retrans(struct og_hostsig_summary *s, const char *ip, uint16_t port, uint64_t n)
{
	struct og_hostsig_retrans *r = &s->retrans[s->n_retrans++];

	memset(r, 0, sizeof(*r));
	r->dst.family = AF_INET;
	r->dst.port = port;
	inet_pton(AF_INET, ip, r->dst.addr);
	r->count = n;
}

static const cJSON *find(const cJSON *arr, const char *key, const char *val)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		const cJSON *v = cJSON_GetObjectItem(e, key);

		if (cJSON_IsString(v) && !strcmp(v->valuestring, val))
			return e;
	}
	return NULL;
}

static bool any_line(const cJSON *j, const char *needle)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, cJSON_GetObjectItem(j, "lines"))
		if (cJSON_IsString(l) && strstr(l->valuestring, needle))
			return true;
	return false;
}

static void test_quantile(void)
{
	uint64_t h[OG_HS_SLOTS] = { 0 };

	CHECK_INT((int)og_hostsig_hist_quantile(h, 0.5), ==, 0);
	h[2] = 90;	/* [4, 8) us */
	h[10] = 10;	/* [1024, 2048) us */
	CHECK_INT((int)og_hostsig_hist_quantile(h, 0.5), ==, 8);
	CHECK_INT((int)og_hostsig_hist_quantile(h, 0.9), ==, 8);
	CHECK_INT((int)og_hostsig_hist_quantile(h, 0.99), ==, 2048);
	h[OG_HS_SLOTS - 1] = 1000;
	CHECK(og_hostsig_hist_quantile(h, 0.99) == (uint64_t)2 << (OG_HS_SLOTS - 1));
}

static void test_merge(void)
{
	struct og_hostsig_summary *a = fresh(true), *b = fresh(true);
	char buf[64];

	add_retrans(a, "10.0.0.2", 8080, 5);
	add_retrans(b, "10.0.0.2", 8080, 7);
	add_retrans(b, "10.0.0.3", 443, 1);
	add_exit(a, "crashy", 3 << 8, 2);
	add_exit(b, "crashy", 3 << 8, 4);
	b->runq_hist[3] = 5;
	a->runq_hist[3] = 1;
	b->from_ms = a->to_ms;
	b->to_ms = a->to_ms + 10000;
	b->exits[0].first_ms = b->from_ms;
	b->exits[0].last_ms = b->from_ms + 100;
	b->exits[0].last_pid = 99;
	b->proc.have_snmp = true;
	b->proc.retrans_segs = 8;
	og_hostsig_merge(a, b);
	CHECK_INT((int)a->n_retrans, ==, 2);
	CHECK_INT((int)a->retrans[0].count, ==, 12);
	og_hostsig_addr_format(&a->retrans[1].dst, buf, sizeof(buf));
	CHECK_STR(buf, "10.0.0.3:443");
	CHECK_INT((int)a->n_exit, ==, 1);
	CHECK_INT((int)a->exits[0].count, ==, 6);
	CHECK_INT((int)a->exits[0].last_pid, ==, 99);
	CHECK(a->exits[0].first_ms == a->from_ms + 1000);
	CHECK_INT((int)a->runq_hist[3], ==, 6);
	CHECK(a->to_ms == b->to_ms && a->from_ms == b->from_ms - 10000);
	CHECK(a->proc.have_snmp && a->proc.retrans_segs == 8);

	/* a full list keeps the largest counts */
	free(b);
	b = fresh(true);
	for (int i = 0; i < OG_HS_MAX; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 200, i % 200 + 1);
		add_retrans(b, ip, 80, 10);
	}
	free(a);
	a = fresh(true);
	add_retrans(a, "192.168.1.1", 22, 1000);
	og_hostsig_merge(b, a);
	CHECK_INT((int)b->n_retrans, ==, OG_HS_MAX);
	{
		bool found = false;

		for (size_t i = 0; i < b->n_retrans; i++)
			found |= b->retrans[i].count == 1000;
		CHECK(found);
	}
	free(a);
	free(b);
}

static void test_json_ebpf(void)
{
	struct og_hostsig_summary *s = fresh(true);
	cJSON *j, *loops, *exits;
	const cJSON *e;

	add_exit(s, "crashy", 3 << 8, 6);
	add_exit(s, "segvy", 11, 2);
	add_exit(s, "segvy", 6, 2);		/* 4 deaths of one comm, two ways: a loop */
	add_exit(s, "once", 1 << 8, 1);		/* one failure is no loop */
	add_retrans(s, "10.9.0.2", 5432, 3);
	add_retrans(s, "10.9.0.9", 5432, 30);
	s->n_oom = 1;
	s->oom[0].pid = 77;
	s->oom[0].anon_rss_kb = 4096;
	snprintf(s->oom[0].comm, sizeof(s->oom[0].comm), "hog");
	snprintf(s->oom[0].cgroup, sizeof(s->oom[0].cgroup), "svc");
	s->oom[0].at_ms = s->from_ms + 5000;
	s->col[OG_HS_SYSCALLS].active = false;
	snprintf(s->col[OG_HS_SYSCALLS].reason, sizeof(s->col[OG_HS_SYSCALLS].reason), "attaching failed (EPERM)");
	j = og_hostsig_json(s);
	CHECK(j != NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "source")->valuestring, "ebpf");
	loops = cJSON_GetObjectItem(j, "crash_loops");
	CHECK_INT(cJSON_GetArraySize(loops), ==, 2);
	e = find(loops, "comm", "crashy");
	CHECK(e && cJSON_GetObjectItem(e, "count")->valuedouble == 6 &&
	      cJSON_GetObjectItem(e, "exit_code")->valuedouble == 3 &&
	      cJSON_GetObjectItem(e, "interval_s")->valuedouble == 0.5);
	e = find(loops, "comm", "segvy");
	CHECK(e && cJSON_GetObjectItem(e, "count")->valuedouble == 4 && cJSON_GetObjectItem(e, "signal"));
	/* one loop, two causes: both named with their counts, the span over both */
	CHECK(e && cJSON_GetArraySize(cJSON_GetObjectItem(e, "causes")) == 2 &&
	      fabs(cJSON_GetObjectItem(e, "interval_s")->valuedouble - 0.5 / 3) < 1e-9);
	CHECK(any_line(j, "segvy x4 (2x SIGSEGV, 2x SIGABRT)"));
	CHECK(find(loops, "comm", "once") == NULL);
	exits = cJSON_GetObjectItem(j, "abnormal_exits");
	CHECK(find(exits, "comm", "once") != NULL);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tcp_retransmits"), 0);
	CHECK(e && !strcmp(cJSON_GetObjectItem(e, "daddr")->valuestring, "10.9.0.9") &&
	      cJSON_GetObjectItem(e, "count")->valuedouble == 30 && cJSON_GetObjectItem(e, "per_s")->valuedouble == 3);
	e = find(cJSON_GetObjectItem(j, "oom_kills"), "comm", "hog");
	CHECK(e && cJSON_GetObjectItem(e, "rss_kb")->valuedouble == 4096 &&
	      !strcmp(cJSON_GetObjectItem(e, "cgroup")->valuestring, "svc"));
	CHECK(any_line(j, "crashy x6 (exit=3)"));
	CHECK(any_line(j, "10.9.0.9:5432 x30"));
	CHECK(any_line(j, "oom_kills: hog pid=77 (memory cgroup svc)"));
	CHECK(any_line(j, "tcp_connect: none observed"));
	CHECK(cJSON_GetObjectItem(j, "syscall_errors") == NULL);
	CHECK_CONTAINS(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "collectors"), "syscall_errors")->valuestring,
		       "unavailable: attaching failed (EPERM)");
	CHECK_CONTAINS(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "notes"), 0)->valuestring,
		       "host signals: syscall_errors unavailable");
	cJSON_Delete(j);
	free(s);
}

static void test_json_fallback(void)
{
	struct og_hostsig_summary *s = fresh(false);
	cJSON *j;
	const cJSON *e;

	snprintf(s->unavailable, sizeof(s->unavailable), "eBPF off: process lacks CAP_BPF");
	s->proc.have_snmp = s->proc.have_vmstat = true;
	s->proc.retrans_segs = 40;
	s->proc.out_segs = 1000;
	s->proc.oom_kill = 2;
	j = og_hostsig_json(s);
	CHECK_STR(cJSON_GetObjectItem(j, "source")->valuestring, "/proc sampling, reduced fidelity");
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tcp_retransmits"), 0);
	CHECK(e && cJSON_GetObjectItem(e, "count")->valuedouble == 40 &&
	      cJSON_GetObjectItem(e, "rate_pct")->valuedouble == 4 &&
	      !strcmp(cJSON_GetObjectItem(e, "source")->valuestring, OG_HOSTSIG_FALLBACK));
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "oom_kills"), 0);
	CHECK(e && cJSON_GetObjectItem(e, "count")->valuedouble == 2);
	CHECK(cJSON_GetObjectItem(j, "crash_loops") == NULL);
	CHECK_CONTAINS(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "notes"), 0)->valuestring,
		       "eBPF off: process lacks CAP_BPF; (source: /proc sampling, reduced fidelity)");
	CHECK(any_line(j, "crash_loops, syscall_errors: not available without eBPF"));
	cJSON_Delete(j);
	free(s);
}

static void test_collect_args(void)
{
	struct og_hostsig_summary *s = calloc(1, sizeof(*s));
	struct og_err err = { 0 };

	CHECK_INT(og_hostsig_collect(0, NULL, s, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "give 1 ..");
	CHECK_INT(og_hostsig_collect(OG_HS_MAX_WINDOW_MS + 1, NULL, s, &err), ==, -OG_EINVAL);
	free(s);
}

/* a --cgroup / cgroup option that is a plain directory scoped every collector
 * to a group no task is in: an empty summary that looked like a quiet host */
static void test_cgroup_id(void)
{
	struct og_err err = { 0 };
	uint64_t id = 0;
	bool found = false;

	CHECK_INT(og_hostsig_cgroup_id("/etc", &id, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "'/etc' is not a cgroup v2 directory");
	CHECK_INT(og_hostsig_cgroup_id("/nonexistent-og", &id, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "No such file");
	CHECK_INT(og_hostsig_cgroup_id("/proc/self/status", &id, &err), ==, -OG_EINVAL);
	/* the cgroup2 mount itself: hybrid hosts (ours) or pure v2 ones */
	found = og_hostsig_cgroup_id("/sys/fs/cgroup/unified", &id, &err) == 0 ||
		og_hostsig_cgroup_id("/sys/fs/cgroup", &id, &err) == 0;
	CHECK(found);
	CHECK(id != 0);
}

int main(void)
{
	test_quantile();
	test_merge();
	test_json_ebpf();
	test_json_fallback();
	test_collect_args();
	test_cgroup_id();
	TEST_END();
}
