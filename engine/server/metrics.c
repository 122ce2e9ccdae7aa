/*
 * metrics.c: GET /metrics in Prometheus' text format. HTTP answers are
 * counted by route and status as they leave (routes.c); node durations come
 * from the runs' task events and checkpoint commit latency from the
 * session's put (both in this process); thread counts by status are read
 * from the store's thread index at scrape time, so they include threads
 * other processes advanced and survive a restart.
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
#define M_NODES 64	/* node names kept; later ones are counted as "other" */
#define M_BUCKETS 11

static const double bounds[M_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30 };

struct hist {
	unsigned long long n[M_BUCKETS + 1];	/* the last: above every bound */
	unsigned long long count;
	double sum;
};

struct srv_metrics {
	pthread_mutex_t mu;
	struct hist commit;
	struct {
		char name[48];
		struct hist h;
	} node[M_NODES];
	int nnodes;
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

static void hist_add(struct hist *h, double v)
{
	int i;

	for (i = 0; i < M_BUCKETS && v > bounds[i]; i++)
		;
	h->n[i]++;
	h->count++;
	h->sum += v;
}

static void hist_print(struct evbuffer *b, const char *name, const char *labels, const struct hist *h)
{
	unsigned long long cum = 0;
	int i;

	for (i = 0; i < M_BUCKETS; i++) {
		cum += h->n[i];
		evbuffer_add_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, *labels ? "," : "", bounds[i], cum);
	}
	evbuffer_add_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, *labels ? "," : "", h->count);
	evbuffer_add_printf(b, "%s_sum%s%s%s %.6f\n", name, *labels ? "{" : "", labels, *labels ? "}" : "", h->sum);
	evbuffer_add_printf(b, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "", h->count);
}

void metrics_commit(struct srv_metrics *m, double seconds)
{
	pthread_mutex_lock(&m->mu);
	hist_add(&m->commit, seconds);
	pthread_mutex_unlock(&m->mu);
}

void metrics_node(struct srv_metrics *m, const char *node, double seconds)
{
	int i;

	pthread_mutex_lock(&m->mu);
	for (i = 0; i < m->nnodes && strcmp(m->node[i].name, node); i++)
		;
	if (i == m->nnodes && m->nnodes < M_NODES) {
		/* a label value: keep it to characters that need no escaping */
		size_t k;
		snprintf(m->node[i].name, sizeof(m->node[i].name), "%s", node);
		for (k = 0; m->node[i].name[k]; k++)
			if (m->node[i].name[k] == '"' || m->node[i].name[k] == '\\' || m->node[i].name[k] == '\n')
				m->node[i].name[k] = '_';
		if (strcmp(m->node[i].name, node))
			i = M_NODES;	/* a mangled name could collide: not kept */
		else
			m->nnodes++;
	}
	if (i < m->nnodes)
		hist_add(&m->node[i].h, seconds);
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
	evbuffer_add_printf(b, "# HELP opsgraph_node_duration_seconds Node calls (tasks) run by this server, by node.\n"
			       "# TYPE opsgraph_node_duration_seconds histogram\n");
	for (i = 0; i < m->nnodes; i++) {
		char label[64];
		snprintf(label, sizeof(label), "node=\"%s\"", m->node[i].name);
		hist_print(b, "opsgraph_node_duration_seconds", label, &m->node[i].h);
	}
	evbuffer_add_printf(b, "# HELP opsgraph_checkpoint_commit_seconds Checkpoint puts of this server's runs "
			       "(sync: until on disk).\n# TYPE opsgraph_checkpoint_commit_seconds histogram\n");
	hist_print(b, "opsgraph_checkpoint_commit_seconds", "", &m->commit);
	pthread_mutex_unlock(&m->mu);
	evbuffer_add_printf(b, "# HELP opsgraph_sse_clients Open event streams.\n# TYPE opsgraph_sse_clients gauge\n"
			       "opsgraph_sse_clients %d\n", sse_count(S->sse));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}
