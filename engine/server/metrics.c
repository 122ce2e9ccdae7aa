/*
 * metrics.c: GET /metrics in Prometheus' text format. HTTP answers are
 * counted by route and status as they leave (routes.c); thread counts by
 * status are read from the store's thread index at scrape time, so they
 * include threads other processes advanced and survive a restart.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "server.h"

#define M_ROUTES 24
#define M_CODES 16

struct srv_metrics {
	pthread_mutex_t mu;
	struct {
		const char *route;	/* static strings only */
		int codes[M_CODES];
		unsigned long long n[M_CODES];
	} r[M_ROUTES];
};

struct srv_metrics *metrics_new(void)
{
	struct srv_metrics *m = calloc(1, sizeof(*m));

	if (m)
		pthread_mutex_init(&m->mu, NULL);
	return m;
}

void metrics_free(struct srv_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void metrics_http(struct srv_metrics *m, const char *route, int code)
{
	int i, k;

	if (!m || !route)
		return;
	pthread_mutex_lock(&m->mu);
	for (i = 0; i < M_ROUTES && m->r[i].route && strcmp(m->r[i].route, route); i++)
		;
	if (i < M_ROUTES) {
		m->r[i].route = route;
		for (k = 0; k < M_CODES && m->r[i].codes[k] && m->r[i].codes[k] != code; k++)
			;
		if (k < M_CODES) {
			m->r[i].codes[k] = code;
			m->r[i].n[k]++;
		}
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_get(struct srv *S, struct evhttp_request *req)
{
	static const char *const sts[] = { "running", "interrupted", "done", "error" };
	struct srv_metrics *m = S->metrics;
	struct evbuffer *b = evbuffer_new();
	cJSON *rows = NULL, *r;
	int counts[4] = { 0 }, other = 0, i, k;

	if (!b) {
		srv_reply_error(S, req, "metrics", 500, "internal", "out of memory");
		return;
	}
	evbuffer_add_printf(b, "# HELP opsgraph_threads Threads in the database by status.\n"
			       "# TYPE opsgraph_threads gauge\n");
	if (og_store_lmdb_threads(S->db, NULL, &rows, NULL) == 0) {
		cJSON_ArrayForEach(r, rows) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
			for (k = 0; k < 4; k++)
				if (cJSON_IsString(st) && !strcmp(st->valuestring, sts[k]))
					break;
			if (k < 4)
				counts[k]++;
			else
				other++;
		}
		for (k = 0; k < 4; k++)
			evbuffer_add_printf(b, "opsgraph_threads{status=\"%s\"} %d\n", sts[k], counts[k]);
		if (other)
			evbuffer_add_printf(b, "opsgraph_threads{status=\"other\"} %d\n", other);
	}
	cJSON_Delete(rows);
	evbuffer_add_printf(b, "# HELP opsgraph_http_requests_total HTTP answers by route and status code.\n"
			       "# TYPE opsgraph_http_requests_total counter\n");
	metrics_http(m, "metrics", 200);	/* this answer counts itself */
	pthread_mutex_lock(&m->mu);
	for (i = 0; i < M_ROUTES && m->r[i].route; i++)
		for (k = 0; k < M_CODES && m->r[i].codes[k]; k++)
			evbuffer_add_printf(b, "opsgraph_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
					    m->r[i].route, m->r[i].codes[k], m->r[i].n[k]);
	pthread_mutex_unlock(&m->mu);
	evbuffer_add_printf(b, "# HELP opsgraph_sse_clients Open event streams.\n# TYPE opsgraph_sse_clients gauge\n"
			       "opsgraph_sse_clients %d\n", sse_count(S->sse));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}
