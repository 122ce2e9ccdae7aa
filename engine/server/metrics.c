/*
 * metrics.c: GET /metrics in Prometheus' text format. HTTP answers are
 * counted by route and status as they leave (routes.c); node durations come
 * from the runs' task events and checkpoint commit latency from the
 * session's put (both in this process); thread counts by status are read
 * from the store's thread index at scrape time, so they include threads
 * other processes advanced and survive a restart. LLM tokens and cost are
 * summed from the store's LLM usage log (store_lmdb_llmlog.h) at scrape
 * time for the same reason: `opsgraph run` and every server on the
 * database write to it, and it is never pruned, so the sums only grow, as
 * Prometheus counters must. The store's sync commit counters are this
 * process's (og_store_lmdb_sync_stats).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../core/json.h"
#include "../store/store_lmdb.h"
#include "../store/store_lmdb_llmlog.h"
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

/* A label value as Prometheus' text format wants it: \\, \" and \n escaped. */
static void label_value(char *out, size_t len, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			out[n++] = '\\';
			out[n++] = *s == '\n' ? 'n' : *s;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = 0;
}

#define M_LLM_KEYS 256	/* (role, model) pairs shown; the rest are summed as "other" */

/* Tokens by (role, model) and cost by model, summed over the usage log. */
static void llm_print(struct srv *S, struct evbuffer *b)
{
	struct {
		char role[64], model[128];
		double in, out, cost;
		bool priced;
	} *k = NULL;
	struct og_err err = { 0 };
	cJSON *rows = NULL;
	const cJSON *r;
	int n = 0, i, j;

	if (og_store_lmdb_llmlog_list(S->db, 0, NULL, &rows, &err) < 0) {
		fprintf(stderr, "opsgraph serve: /metrics: the LLM usage log cannot be read: %s\n", err.msg);
		return;
	}
	if (!(k = calloc(M_LLM_KEYS + 1, sizeof(*k)))) {
		cJSON_Delete(rows);
		return;
	}
	cJSON_ArrayForEach(r, rows) {
		const char *role = og_json_get_str(r, "role"), *model = og_json_get_str(r, "model");
		const cJSON *cost = cJSON_GetObjectItemCaseSensitive(r, "cost");
		char lr[64], lm[128];
		label_value(lr, sizeof(lr), *role ? role : "none");
		label_value(lm, sizeof(lm), *model ? model : "none");
		for (i = 0; i < n && (strcmp(k[i].role, lr) || strcmp(k[i].model, lm)); i++)
			;
		if (i == n) {
			if (n < M_LLM_KEYS)
				n++;
			else
				i = M_LLM_KEYS;	/* the overflow row */
			snprintf(k[i].role, sizeof(k[i].role), "%s", i < M_LLM_KEYS ? lr : "other");
			snprintf(k[i].model, sizeof(k[i].model), "%s", i < M_LLM_KEYS ? lm : "other");
		}
		k[i].in += og_json_get_num(r, "tokens_in");
		k[i].out += og_json_get_num(r, "tokens_out");
		if (cJSON_IsNumber(cost)) {
			k[i].cost += cost->valuedouble;
			k[i].priced = true;
		}
	}
	if (k[M_LLM_KEYS].role[0])
		k[n++] = k[M_LLM_KEYS];	/* the overflow row goes last */
	evbuffer_add_printf(b, "# HELP opsgraph_llm_tokens_total LLM tokens from the usage log, by role, model and "
			       "direction (in: prompt, out: completion).\n# TYPE opsgraph_llm_tokens_total counter\n");
	for (i = 0; i < n; i++)
		evbuffer_add_printf(b, "opsgraph_llm_tokens_total{role=\"%s\",model=\"%s\",direction=\"in\"} %.0f\n"
				       "opsgraph_llm_tokens_total{role=\"%s\",model=\"%s\",direction=\"out\"} %.0f\n",
				    k[i].role, k[i].model, k[i].in, k[i].role, k[i].model, k[i].out);
	evbuffer_add_printf(b, "# HELP opsgraph_llm_cost_total LLM cost from the usage log and the config's price "
			       "table, by model (models without a price are not listed).\n"
			       "# TYPE opsgraph_llm_cost_total counter\n");
	/* cost is by model alone: the rows of one model under several roles add up */
	for (i = 0; i < n; i++) {
		double sum = 0;
		bool priced = false;
		for (j = 0; j < i && strcmp(k[j].model, k[i].model); j++)
			;
		if (j < i)
			continue;	/* printed with its first row */
		for (j = i; j < n; j++)
			if (!strcmp(k[j].model, k[i].model)) {
				sum += k[j].cost;
				priced |= k[j].priced;
			}
		if (priced)
			evbuffer_add_printf(b, "opsgraph_llm_cost_total{model=\"%s\"} %.6f\n", k[i].model, sum);
	}
	free(k);
	cJSON_Delete(rows);
}

/* Group commit at a glance: writes / commits is how many writes share a
 * flush, flush seconds / commits what the disk charges for one. */
static void sync_commits_print(struct srv *S, struct evbuffer *b)
{
	struct og_store_sync_stats sc;

	og_store_lmdb_sync_stats(S->db, &sc);
	evbuffer_add_printf(b, "# HELP opsgraph_store_sync_commits_total Durable (sync) store commits by this "
			       "server; concurrent writes share one.\n# TYPE opsgraph_store_sync_commits_total counter\n"
			       "opsgraph_store_sync_commits_total %llu\n"
			       "# HELP opsgraph_store_sync_commit_writes_total Writes (checkpoints, pending writes, "
			       "leases) those commits carried.\n# TYPE opsgraph_store_sync_commit_writes_total counter\n"
			       "opsgraph_store_sync_commit_writes_total %llu\n"
			       "# HELP opsgraph_store_sync_commit_flush_seconds_total Time those commits spent flushing "
			       "to disk.\n# TYPE opsgraph_store_sync_commit_flush_seconds_total counter\n"
			       "opsgraph_store_sync_commit_flush_seconds_total %.6f\n",
			    (unsigned long long)sc.commits, (unsigned long long)sc.writes, sc.flush_s);
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
	llm_print(S, b);
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
	sync_commits_print(S, b);
	evbuffer_add_printf(b, "# HELP opsgraph_sse_clients Open event streams.\n# TYPE opsgraph_sse_clients gauge\n"
			       "opsgraph_sse_clients %d\n", sse_count(S->sse));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}
