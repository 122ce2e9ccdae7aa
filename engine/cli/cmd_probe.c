/*
 * cmd_probe.c: `opsgraph probe`, the host-signal collectors from the
 * command line.
 *
 *   probe --once [--window 10s] [--cgroup DIR] [--runq-ms N]
 *       one window, the summary JSON (hostsig/hostsig_json.h) on stdout
 *   probe --listen HOST:PORT [--interval 10s] [--keep 30m] [--cgroup DIR] [--runq-ms N]
 *       the agent: windows back to back, one summary kept per interval for
 *       --keep, served as GET /v1/host-signals?since=ISO&until=ISO (the
 *       sum of the intervals that overlap the range) and GET /v1/health.
 *       The programs stay loaded and attached from one interval to the
 *       next (og_hostsig_open), so nothing goes unwatched in between.
 *       An alert has already fired when the context collector asks, so the
 *       window around it must have been watched before: that is the agent.
 *
 * The run-queue hooks (the busiest) are attached for at most --runq-ms of
 * each window (default 2000). SIGTERM/SIGINT end the agent within ~100 ms.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "../hostsig/hostsig_json.h"
#include "../trace/hostsig.h"
#include "../trace/hostsig_check.h"
#include "cli.h"

#define PROBE_MAX_BUCKETS 4000

static void usage(void)
{
	fprintf(stderr, "usage: opsgraph probe --once [--window 10s] [--cgroup DIR] [--runq-ms N]\n"
			"       opsgraph probe --listen HOST:PORT [--interval 10s] [--keep 30m] [--cgroup DIR] "
			"[--runq-ms N]\n");
}

/* "500ms", "10s", "30m", "2h", or a bare number of seconds -> ms; -1 when bad */
static int64_t parse_ms(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	v = strtod(s, &end);
	if (end == s || v < 0 || v > 1e9)
		return -1;
	if (!strcmp(end, "ms"))
		return (int64_t)v;
	if (!*end || !strcmp(end, "s"))
		return (int64_t)(v * 1000);
	if (!strcmp(end, "m"))
		return (int64_t)(v * 60000);
	if (!strcmp(end, "h"))
		return (int64_t)(v * 3600000);
	return -1;
}

/* UTC ISO-8601 "2026-11-24T14:03:05Z" (fraction and Z optional) or epoch
 * seconds -> ms; -1 when malformed */
static int64_t parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *p;
	char *end;
	double frac = 0;

	if (!s || !*s)
		return -1;
	if (!strchr(s, '-')) {
		double v = strtod(s, &end);

		return end != s && !*end && v >= 0 ? (int64_t)(v * 1000) : -1;
	}
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.') {
		frac = strtod(p, &end);
		p = end;
	}
	if (*p == 'Z')
		p++;
	if (*p)
		return -1;
	return (int64_t)timegm(&tm) * 1000 + (int64_t)(frac * 1000);
}

struct probe_opts {
	int64_t window_ms, interval_ms, keep_ms;
	struct og_hostsig_filter filter;
	const char *listen;
};

static int parse_opts(int argc, char **argv, struct probe_opts *o, bool *once)
{
	int i;

	o->window_ms = 10000;
	o->interval_ms = 10000;
	o->keep_ms = 30 * 60000;
	o->filter.runq_ms = 2000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--once")) {
			*once = true;
			continue;
		}
		if (strcmp(a, "--window") && strcmp(a, "--interval") && strcmp(a, "--keep") && strcmp(a, "--runq-ms") &&
		    strcmp(a, "--cgroup") && strcmp(a, "--listen")) {
			usage();
			return cli_fail(2, "probe: unknown option '%s'", a);
		}
		if (!v) {
			usage();
			return cli_fail(2, "probe: %s needs a value", a);
		}
		i++;
		if (!strcmp(a, "--window") || !strcmp(a, "--interval") || !strcmp(a, "--keep")) {
			int64_t ms = parse_ms(v);
			int64_t *dst = a[2] == 'w' ? &o->window_ms : a[2] == 'i' ? &o->interval_ms : &o->keep_ms;

			if (ms < 1 || (dst != &o->keep_ms && ms > OG_HS_MAX_WINDOW_MS))
				return cli_fail(2, "probe: %s '%s' is not a duration like 500ms, 10s, 5m (at most %d min for "
						"a window)", a, v, OG_HS_MAX_WINDOW_MS / 60000);
			*dst = ms;
		} else if (!strcmp(a, "--runq-ms")) {
			char *end;
			/* a bare number is milliseconds here; 2s, 500ms also do */
			int64_t ms = strtoll(v, &end, 10);

			if (end == v || *end)
				ms = parse_ms(v);
			if (ms < 0 || ms > OG_HS_MAX_WINDOW_MS)
				return cli_fail(2, "probe: --runq-ms '%s' must be 0 .. %d ms", v, OG_HS_MAX_WINDOW_MS);
			o->filter.runq_ms = (int)ms;
		} else if (!strcmp(a, "--cgroup")) {
			struct og_err err = { 0 };

			if (og_hostsig_cgroup_id(v, &o->filter.cgroup_id, &err) < 0)
				return cli_fail(2, "probe: --cgroup %s; give e.g. /sys/fs/cgroup/unified/my.service",
						err.msg);
		} else {
			o->listen = v;
		}
	}
	if (*once == (o->listen != NULL)) {
		usage();
		return cli_fail(2, "probe: give either --once or --listen HOST:PORT");
	}
	if (o->keep_ms < o->interval_ms || o->keep_ms / o->interval_ms > PROBE_MAX_BUCKETS)
		return cli_fail(2, "probe: --keep must hold 1 .. %d intervals (--keep %lld ms, --interval %lld ms)",
				PROBE_MAX_BUCKETS, (long long)o->keep_ms, (long long)o->interval_ms);
	return 0;
}

static int print_summary(const struct og_hostsig_summary *s)
{
	cJSON *j = og_hostsig_json(s);
	char *txt = j ? og_json_print(j, NULL) : NULL;

	cJSON_Delete(j);
	if (!txt)
		return cli_fail(1, "probe: out of memory");
	puts(txt);
	free(txt);
	return 0;
}

/* ---- the agent ---- */

struct agent {
	struct probe_opts o;
	pthread_mutex_t mu;
	struct og_hostsig_summary *buckets;	/* ring of nb, oldest at head */
	size_t nb, cap, head;
	volatile sig_atomic_t stop;
	struct event_base *base;
	int64_t started_ms;
};

static void *collector_main(void *arg)
{
	struct agent *A = arg;
	struct og_hostsig_summary *s = malloc(sizeof(*s));
	struct og_hostsig_session *ss = NULL;
	struct og_err err = { 0 };

	if (!s || og_hostsig_open(&A->o.filter, &ss, &err) < 0) {
		fprintf(stderr, "opsgraph probe: %s\n", s ? err.msg : "out of memory");
		free(s);
		event_base_loopexit(A->base, NULL);
		return NULL;
	}
	while (!A->stop) {
		if (og_hostsig_window(ss, (int)A->o.interval_ms, s, &err) < 0) {
			fprintf(stderr, "opsgraph probe: %s\n", err.msg);
			break;
		}
		if (A->stop)
			break;
		pthread_mutex_lock(&A->mu);
		if (A->nb == A->cap) {
			A->buckets[A->head] = *s;
			A->head = (A->head + 1) % A->cap;
		} else {
			A->buckets[(A->head + A->nb) % A->cap] = *s;
			A->nb++;
		}
		pthread_mutex_unlock(&A->mu);
	}
	og_hostsig_close(ss);
	free(s);
	return NULL;
}

static void reply_json(struct evhttp_request *req, int code, cJSON *j)
{
	struct evbuffer *b = evbuffer_new();
	char *txt = j ? og_json_print(j, NULL) : NULL;

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	if (b && txt) {
		evbuffer_add(b, txt, strlen(txt));
		evbuffer_add(b, "\n", 1);
		evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", b);
	} else {
		evhttp_send_error(req, 500, "out of memory");
	}
	free(txt);
	if (b)
		evbuffer_free(b);
	cJSON_Delete(j);
}

static void reply_error(struct evhttp_request *req, int code, const char *msg)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "error", code == 404 ? "not_found" : code == 405 ? "method_not_allowed" : "bad_request");
	cJSON_AddStringToObject(j, "detail", msg);
	reply_json(req, code, j);
}

static void handle_signals(struct evhttp_request *req, struct agent *A, const char *query)
{
	struct evkeyvalq q = { 0 };
	const char *since_s = NULL, *until_s = NULL;
	int64_t since = 0, until = INT64_MAX;
	struct og_hostsig_summary *m = calloc(1, sizeof(*m));
	size_t used = 0, i;
	int64_t counted_to;
	char buf[300], t0[40];
	cJSON *j, *notes;

	if (!m) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	if (query && evhttp_parse_query_str(query, &q) == 0) {
		since_s = evhttp_find_header(&q, "since");
		until_s = evhttp_find_header(&q, "until");
	}
	if ((since_s && (since = parse_time(since_s)) < 0) || (until_s && (until = parse_time(until_s)) < 0)) {
		snprintf(buf, sizeof(buf), "since/until must be ISO-8601 UTC times (2026-11-24T14:03:05Z) or epoch "
			 "seconds (got since=%.60s until=%.60s)", since_s ? since_s : "", until_s ? until_s : "");
		evhttp_clear_headers(&q);
		free(m);
		reply_error(req, 400, buf);
		return;
	}
	if (since > until) {
		/* an empty window would answer "none observed" on every line */
		snprintf(buf, sizeof(buf), "since (%.60s) is after until (%.60s): give the window's start first",
			 since_s, until_s);
		evhttp_clear_headers(&q);
		free(m);
		reply_error(req, 400, buf);
		return;
	}
	pthread_mutex_lock(&A->mu);
	for (i = 0; i < A->nb; i++) {
		const struct og_hostsig_summary *b = &A->buckets[(A->head + i) % A->cap];

		if (b->to_ms >= since && b->from_ms <= until) {
			og_hostsig_merge(m, b);
			used++;
		}
	}
	if (!used && A->nb) {
		/* nothing in range: the collectors' state of the latest bucket, no counts */
		const struct og_hostsig_summary *b = &A->buckets[(A->head + A->nb - 1) % A->cap];

		m->bpf = b->bpf;
		memcpy(m->col, b->col, sizeof(m->col));
		memcpy(m->unavailable, b->unavailable, sizeof(m->unavailable));
	}
	pthread_mutex_unlock(&A->mu);
	if (!used) {
		m->from_ms = since > 0 ? since : og_clock_wall_ms();
		m->to_ms = until != INT64_MAX ? until : og_clock_wall_ms();
	}
	counted_to = m->to_ms;
	j = og_hostsig_json(m);
	free(m);
	if (!j) {
		evhttp_clear_headers(&q);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	cJSON_AddNumberToObject(j, "buckets", (double)used);
	notes = cJSON_GetObjectItem(j, "notes");
	if (!used) {
		snprintf(buf, sizeof(buf), "host signals: the probe agent has no finished %lld s interval in %s .. %s "
			 "(it keeps %lld min since %s)", (long long)(A->o.interval_ms / 1000),
			 since_s ? since_s : "-", until_s ? until_s : "now", (long long)(A->o.keep_ms / 60000),
			 og_clock_iso8601(A->started_ms, t0, sizeof(t0)));
		cJSON_AddItemToArray(notes, cJSON_CreateString(buf));
	} else if (until_s && until > counted_to + 1000) {
		/* the range reaches into the interval still being collected */
		snprintf(buf, sizeof(buf), "host signals: counted up to %s, the end of the last finished interval; "
			 "what came after (up to %s) is not in these counts", og_clock_iso8601(counted_to, t0, sizeof(t0)),
			 until_s);
		cJSON_AddItemToArray(notes, cJSON_CreateString(buf));
	}
	evhttp_clear_headers(&q);	/* since_s and until_s point into it */
	reply_json(req, 200, j);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct agent *A = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evhttp_uri *u = evhttp_uri_parse(uri);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply_error(req, 405, "only GET is served");
	} else if (path && !strcmp(path, "/v1/host-signals")) {
		handle_signals(req, A, evhttp_uri_get_query(u));
	} else if (path && !strcmp(path, "/v1/health")) {
		cJSON *j = cJSON_CreateObject();

		pthread_mutex_lock(&A->mu);
		cJSON_AddNumberToObject(j, "buckets", (double)A->nb);
		cJSON_AddBoolToObject(j, "ebpf", A->nb ? A->buckets[(A->head + A->nb - 1) % A->cap].bpf : false);
		pthread_mutex_unlock(&A->mu);
		cJSON_AddNumberToObject(j, "interval_s", (double)A->o.interval_ms / 1000);
		reply_json(req, 200, j);
	} else {
		reply_error(req, 404, "unknown path: GET /v1/host-signals?since=ISO&until=ISO or /v1/health");
	}
	if (u)
		evhttp_uri_free(u);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct agent *A = arg;

	(void)sig;
	(void)what;
	A->stop = 1;
	event_base_loopexit(A->base, NULL);
}

static int run_agent(struct probe_opts *o)
{
	struct agent A = { .o = *o };
	struct evhttp *http = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	char host[256];
	const char *colon = strrchr(o->listen, ':');
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	pthread_t th;
	int rc = 1;
	bool started = false;

	if (!colon || port < 1 || port > 65535 || (size_t)(colon - o->listen) >= sizeof(host))
		return cli_fail(2, "probe: --listen '%s' is not HOST:PORT (e.g. 127.0.0.1:9464)", o->listen);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - o->listen), o->listen);
	A.o.filter.stop = &A.stop;
	A.cap = (size_t)(o->keep_ms / o->interval_ms);
	A.buckets = calloc(A.cap, sizeof(*A.buckets));
	pthread_mutex_init(&A.mu, NULL);
	A.started_ms = og_clock_wall_ms();
	/* the collector thread ends the loop when it cannot go on */
	if (!A.buckets || evthread_use_pthreads() < 0 || !(A.base = event_base_new()) || !(http = evhttp_new(A.base))) {
		cli_fail(1, "probe: out of memory");
		goto out;
	}
	if (evhttp_bind_socket(http, host, (ev_uint16_t)port) != 0) {
		cli_fail(1, "probe: cannot listen on %s: %s", o->listen, strerror(errno));
		goto out;
	}
	evhttp_set_gencb(http, on_request, &A);
	sigterm = evsignal_new(A.base, SIGTERM, on_signal, &A);
	sigint = evsignal_new(A.base, SIGINT, on_signal, &A);
	if (!sigterm || !sigint || event_add(sigterm, NULL) || event_add(sigint, NULL)) {
		cli_fail(1, "probe: cannot install signal handlers");
		goto out;
	}
	if (pthread_create(&th, NULL, collector_main, &A) != 0) {
		cli_fail(1, "probe: cannot start the collector thread");
		goto out;
	}
	started = true;
	fprintf(stderr, "opsgraph probe: listening on %s (interval %lld ms, keep %lld ms)\n", o->listen,
		(long long)o->interval_ms, (long long)o->keep_ms);
	{
		/* an agent that serves /proc counters only should say so where
		 * whoever started it looks, not only in the summaries it serves */
		char why[512];

		if (og_hostsig_unusable(why, sizeof(why)))
			fprintf(stderr, "opsgraph probe: degraded: %s; serving /proc counters only "
				"(source: /proc sampling, reduced fidelity); `opsgraph doctor` lists every check\n", why);
	}
	event_base_dispatch(A.base);
	rc = 0;
out:
	A.stop = 1;
	if (started)
		pthread_join(th, NULL);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (http)
		evhttp_free(http);
	if (A.base)
		event_base_free(A.base);
	pthread_mutex_destroy(&A.mu);
	free(A.buckets);
	return rc;
}

int cmd_probe(int argc, char **argv)
{
	struct probe_opts o = { 0 };
	bool once = false;
	struct og_hostsig_summary *s;
	struct og_hostsig_session *ss;
	struct og_err err = { 0 };
	int rc;

	if ((rc = parse_opts(argc, argv, &o, &once)) != 0)
		return rc;
	if (!once)
		return run_agent(&o);
	s = malloc(sizeof(*s));
	if (!s || og_hostsig_open(&o.filter, &ss, &err) < 0) {
		free(s);
		return cli_fail(1, "probe: %s", s ? err.msg : "out of memory");
	}
	/* the programs are attached: what happens from here on is counted */
	fprintf(stderr, "opsgraph probe: watching for %lld ms\n", (long long)o.window_ms);
	rc = og_hostsig_window(ss, (int)o.window_ms, s, &err);
	og_hostsig_close(ss);
	if (rc < 0) {
		free(s);
		return cli_fail(2, "probe: %s", err.msg);
	}
	rc = print_summary(s);
	free(s);
	return rc;
}
