/*
 * cli_trace.c: the spans of one run, recorded as the run goes and sent at
 * its end (see cli_trace.h). Spans are kept in a flat list, each naming
 * its parent by index; ids are assigned at export, once the trace id (which
 * needs the run's first checkpoint) is known.
 */
#include "cli_trace.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "../net/otlp.h"

#define PARENT_NEXT_TASK (-2)	/* an LLM or tool span whose task has not ended yet */
#define TRACE_MAX_SPANS 10000	/* a runaway loop must not grow the export without bound */

struct tspan {
	int parent;			/* index, -1 for the root, PARENT_NEXT_TASK */
	char *name;
	enum og_otlp_kind kind;
	int64_t start_ns, end_ns;
	enum og_otlp_status status;
	char *msg;
	cJSON *attrs;			/* {key: string | number | bool} */
	bool is_task, has_ckpt;
};

struct cli_trace {
	cJSON *conf;			/* a copy of the config's otlp object */
	char graph[128];
	og_event_fn next;
	void *next_ud;
	struct tspan *spans;
	int n, cap, dropped, tasks;
	uint64_t first_ckpt, last_ckpt;
	int64_t start_ms;
	/* the tool the ledger started and has not finished: its start time */
	int64_t tool_start_ns;
};

/* Span times want more than clock.h's wall milliseconds: a node takes
 * microseconds. */
static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A new span (index) or -1 when the list is full or memory ran out. */
static int span_add(struct cli_trace *t, int parent, const char *name, enum og_otlp_kind kind, int64_t start_ns,
		    int64_t end_ns)
{
	struct tspan *s;

	if (t->n >= TRACE_MAX_SPANS) {
		t->dropped++;
		return -1;
	}
	if (t->n == t->cap) {
		int cap = t->cap ? 2 * t->cap : 32;
		struct tspan *p = realloc(t->spans, (size_t)cap * sizeof(*p));
		if (!p) {
			t->dropped++;
			return -1;
		}
		t->spans = p;
		t->cap = cap;
	}
	s = &t->spans[t->n];
	memset(s, 0, sizeof(*s));
	s->parent = parent;
	s->kind = kind;
	s->start_ns = start_ns;
	s->end_ns = end_ns;
	s->name = strdup(name);
	s->attrs = cJSON_CreateObject();
	if (!s->name || !s->attrs) {
		free(s->name);
		cJSON_Delete(s->attrs);
		t->dropped++;
		return -1;
	}
	return t->n++;
}

int cli_trace_new(const cJSON *conf, const char *graph, og_event_fn next, void *next_ud, struct cli_trace **out,
		  struct og_err *err)
{
	struct cli_trace *t;
	int rc;

	*out = NULL;
	if ((rc = og_otlp_config_check(conf, err)) < 0)
		return rc;
	if (!(t = calloc(1, sizeof(*t))) || !(t->conf = cJSON_Duplicate(conf, 1))) {
		free(t);
		return og_err_set(err, -OG_ENOMEM, "otlp: out of memory");
	}
	snprintf(t->graph, sizeof(t->graph), "%s", graph && *graph ? graph : "graph");
	t->next = next;
	t->next_ud = next_ud;
	t->start_ms = og_clock_wall_ms();
	if (span_add(t, -1, "run", OG_OTLP_INTERNAL, now_ns(), 0) != 0) {
		cJSON_Delete(t->conf);
		free(t);
		return og_err_set(err, -OG_ENOMEM, "otlp: out of memory");
	}
	*out = t;
	return 0;
}

static void task_event(struct cli_trace *t, const cJSON *ev)
{
	const char *node = og_json_get_str(ev, "node"), *st = og_json_get_str(ev, "status");
	int64_t end = now_ns(), dur = (int64_t)(og_json_get_num(ev, "duration_ms") * 1e6);
	char name[160];
	int i, k;

	snprintf(name, sizeof(name), "node %s", node);
	if ((k = span_add(t, 0, name, OG_OTLP_INTERNAL, end - dur, end)) < 0)
		return;
	t->spans[k].is_task = true;
	t->tasks++;
	cJSON_AddStringToObject(t->spans[k].attrs, "opsgraph.node", node);
	cJSON_AddNumberToObject(t->spans[k].attrs, "opsgraph.step", og_json_get_num(ev, "step"));
	cJSON_AddStringToObject(t->spans[k].attrs, "opsgraph.task_id", og_json_get_str(ev, "task"));
	cJSON_AddNumberToObject(t->spans[k].attrs, "opsgraph.attempt", og_json_get_num(ev, "attempt"));
	cJSON_AddStringToObject(t->spans[k].attrs, "opsgraph.task_status", st);
	if (strcmp(st, "ok") && strcmp(st, "interrupt")) {
		t->spans[k].status = OG_OTLP_ERROR;
		t->spans[k].msg = strdup(og_json_get_str(ev, "error"));
	} else {
		t->spans[k].status = OG_OTLP_OK;
	}
	/* what ran inside this task: its LLM calls and tools */
	for (i = 0; i < k; i++)
		if (t->spans[i].parent == PARENT_NEXT_TASK)
			t->spans[i].parent = k;
	t->tool_start_ns = 0;
}

void cli_trace_on_event(void *ud, const cJSON *ev)
{
	struct cli_trace *t = ud;

	if (!strcmp(og_json_get_str(ev, "event"), "task"))
		task_event(t, ev);
	if (t->next)
		t->next(t->next_ud, ev);
}

void cli_trace_llm(struct cli_trace *t, const cJSON *e)
{
	const char *model = og_json_get_str(e, "model"), *outcome = og_json_get_str(e, "outcome");
	int64_t end = now_ns(), lat = (int64_t)(og_json_get_num(e, "latency_ms") * 1e6);
	char name[200];
	cJSON *a;
	int k;

	if (!t)
		return;
	snprintf(name, sizeof(name), "chat %s", model);
	if ((k = span_add(t, PARENT_NEXT_TASK, name, OG_OTLP_CLIENT, end - lat, end)) < 0)
		return;
	a = t->spans[k].attrs;
	cJSON_AddStringToObject(a, "gen_ai.operation.name", "chat");
	cJSON_AddStringToObject(a, "gen_ai.system", og_json_get_str(e, "provider"));
	cJSON_AddStringToObject(a, "gen_ai.provider.name", og_json_get_str(e, "provider"));
	cJSON_AddStringToObject(a, "gen_ai.request.model", model);
	/* the model the answer named; a server that names none gets none */
	if (*og_json_get_str(e, "response_model"))
		cJSON_AddStringToObject(a, "gen_ai.response.model", og_json_get_str(e, "response_model"));
	cJSON_AddNumberToObject(a, "gen_ai.usage.input_tokens", og_json_get_num(e, "tokens_in"));
	cJSON_AddNumberToObject(a, "gen_ai.usage.output_tokens", og_json_get_num(e, "tokens_out"));
	{
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "params"), *v;
		if ((v = cJSON_GetObjectItemCaseSensitive(p, "temperature")) && cJSON_IsNumber(v))
			cJSON_AddNumberToObject(a, "gen_ai.request.temperature", v->valuedouble);
		if ((v = cJSON_GetObjectItemCaseSensitive(p, "max_tokens")) && cJSON_IsNumber(v))
			cJSON_AddNumberToObject(a, "gen_ai.request.max_tokens", v->valuedouble);
		if ((v = cJSON_GetObjectItemCaseSensitive(e, "cost")) && cJSON_IsNumber(v))
			cJSON_AddNumberToObject(a, "opsgraph.llm.cost", v->valuedouble);
	}
	cJSON_AddStringToObject(a, "opsgraph.llm.role", og_json_get_str(e, "role"));
	cJSON_AddStringToObject(a, "opsgraph.llm.outcome", outcome);
	if (strcmp(outcome, "ok") && strcmp(outcome, "repaired")) {	/* a repaired answer is an answer */
		t->spans[k].status = OG_OTLP_ERROR;
		t->spans[k].msg = strdup(outcome);
		cJSON_AddStringToObject(a, "error.type", outcome);
	}
}

void cli_trace_put(struct cli_trace *t, const struct og_ckpt *ck)
{
	int i;

	if (!t)
		return;
	if (!t->first_ckpt)
		t->first_ckpt = ck->id;
	t->last_ckpt = ck->id;
	/* the tasks since the last checkpoint are this step's */
	for (i = 1; i < t->n; i++) {
		if (!t->spans[i].is_task || t->spans[i].has_ckpt)
			continue;
		t->spans[i].has_ckpt = true;
		cJSON_AddNumberToObject(t->spans[i].attrs, "opsgraph.checkpoint_id", (double)ck->id);
	}
}

/* A tool's result entry {kind, tool, exit_code | status, timed_out, ...}. */
static void tool_span(struct cli_trace *t, const cJSON *v, int64_t start_ns)
{
	const char *tool = og_json_get_str(v, "tool");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(v, "exit_code");
	const cJSON *http = cJSON_GetObjectItemCaseSensitive(v, "status");
	const cJSON *timed = cJSON_GetObjectItemCaseSensitive(v, "timed_out");
	int64_t end = now_ns();
	char name[200];
	cJSON *a;
	int k;

	snprintf(name, sizeof(name), "execute_tool %s", tool);
	if ((k = span_add(t, PARENT_NEXT_TASK, name, OG_OTLP_INTERNAL, start_ns ? start_ns : end, end)) < 0)
		return;
	a = t->spans[k].attrs;
	cJSON_AddStringToObject(a, "gen_ai.operation.name", "execute_tool");
	cJSON_AddStringToObject(a, "gen_ai.tool.name", tool);
	cJSON_AddStringToObject(a, "opsgraph.tool.kind", og_json_get_str(v, "kind"));
	if (cJSON_IsNumber(code))
		cJSON_AddNumberToObject(a, "opsgraph.tool.exit_code", code->valuedouble);
	if (cJSON_IsNumber(http))
		cJSON_AddNumberToObject(a, "http.response.status_code", http->valuedouble);
	if (cJSON_IsTrue(timed))
		cJSON_AddBoolToObject(a, "opsgraph.tool.timed_out", 1);
	if ((cJSON_IsNumber(code) && code->valuedouble != 0) || cJSON_IsTrue(timed) ||
	    (cJSON_IsNumber(http) && (http->valuedouble < 200 || http->valuedouble > 399))) {
		char msg[96];
		snprintf(msg, sizeof(msg), cJSON_IsTrue(timed) ? "timed out" : cJSON_IsNumber(code) ? "exit code %.0f" :
			 "HTTP status %.0f", cJSON_IsNumber(code) ? code->valuedouble : http->valuedouble);
		t->spans[k].status = OG_OTLP_ERROR;
		t->spans[k].msg = strdup(msg);
	}
}

void cli_trace_put_writes(struct cli_trace *t, const cJSON *rec)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(rec, "journal"), *e;
	const char *k;

	if (!t || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "partial")))
		return;
	/* the ledger flushes right after it records "tool_start" and again
	 * right after "tool", so the newest entry is the one that happened
	 * now; entries replayed from an earlier execution are never flushed */
	if (!(e = cJSON_GetArrayItem(j, cJSON_GetArraySize(j) - 1)))
		return;
	k = og_json_get_str(e, "k");
	if (!strcmp(k, "tool_start")) {
		t->tool_start_ns = now_ns();
	} else if (!strcmp(k, "tool") && t->tool_start_ns) {
		tool_span(t, cJSON_GetObjectItemCaseSensitive(e, "v"), t->tool_start_ns);
		t->tool_start_ns = 0;
	}
}

/* Id bytes: SHA-256 of the given parts, cut to n bytes (never all zero). */
static void derive(uint8_t *out, int n, const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int i, zero = 1;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) || !EVP_DigestUpdate(c, a, alen) ||
	    !EVP_DigestUpdate(c, b, blen) || !EVP_DigestFinal_ex(c, md, &mdlen) || mdlen < (unsigned)n)
		memset(md, 0x5a, sizeof(md));
	EVP_MD_CTX_free(c);
	memcpy(out, md, (size_t)n);
	for (i = 0; i < n; i++)
		zero &= out[i] == 0;
	if (zero)
		out[n - 1] = 1;
}

static cJSON *span_json(const struct cli_trace *t, const uint8_t trace[16], int i)
{
	const struct tspan *s = &t->spans[i];
	uint8_t id[8], pid[8];
	uint32_t ix = (uint32_t)i, px = (uint32_t)s->parent;
	const cJSON *a;
	cJSON *o;

	derive(id, 8, trace, 16, &ix, sizeof(ix));
	if (s->parent >= 0)
		derive(pid, 8, trace, 16, &px, sizeof(px));
	if (!(o = og_otlp_span_new(trace, id, s->parent >= 0 ? pid : NULL, s->name, s->kind, s->start_ns, s->end_ns)))
		return NULL;
	cJSON_ArrayForEach(a, s->attrs) {
		if (cJSON_IsString(a))
			og_otlp_attr_str(o, a->string, a->valuestring);
		else if (cJSON_IsBool(a))
			og_otlp_attr_bool(o, a->string, cJSON_IsTrue(a));
		else if (cJSON_IsNumber(a) && a->valuedouble == (double)(int64_t)a->valuedouble)
			og_otlp_attr_int(o, a->string, (int64_t)a->valuedouble);
		else if (cJSON_IsNumber(a))
			og_otlp_attr_double(o, a->string, a->valuedouble);
	}
	og_otlp_status(o, s->status, s->msg);
	return o;
}

static void trace_free(struct cli_trace *t)
{
	int i;

	for (i = 0; i < t->n; i++) {
		free(t->spans[i].name);
		free(t->spans[i].msg);
		cJSON_Delete(t->spans[i].attrs);
	}
	free(t->spans);
	cJSON_Delete(t->conf);
	free(t);
}

void cli_trace_finish(struct cli_trace *t, const struct og_run *run)
{
	struct og_err err = { 0 };
	const char *thread = run ? og_run_thread_id(run) : "";
	const cJSON *sn;
	uint8_t trace[16];
	char name[160], key[64];
	cJSON *spans = NULL, *body = NULL;
	struct tspan *root;
	int i;

	if (!t)
		return;
	if (!run || t->tasks == 0)
		goto out;	/* a fork or an update without a step: no run to show */
	root = &t->spans[0];
	root->end_ns = now_ns();
	snprintf(name, sizeof(name), "run %s", t->graph);
	free(root->name);
	root->name = strdup(name);
	cJSON_AddStringToObject(root->attrs, "opsgraph.thread_id", thread);
	cJSON_AddStringToObject(root->attrs, "opsgraph.graph", t->graph);
	cJSON_AddStringToObject(root->attrs, "opsgraph.status", og_run_status_name(og_run_status(run)));
	cJSON_AddNumberToObject(root->attrs, "opsgraph.first_checkpoint_id", (double)t->first_ckpt);
	cJSON_AddNumberToObject(root->attrs, "opsgraph.checkpoint_id", (double)t->last_ckpt);
	if (t->dropped)
		cJSON_AddNumberToObject(root->attrs, "opsgraph.dropped_spans", t->dropped);
	if (og_run_status(run) == OG_RUN_ERROR) {
		const cJSON *e = og_run_error(run);
		root->status = OG_OTLP_ERROR;
		root->msg = strdup(e ? og_json_get_str(e, "message") : "the run failed");
	} else {
		root->status = OG_OTLP_OK;
	}
	/* the run is the first checkpoint it wrote; a run that wrote none is
	 * its start time */
	if (t->first_ckpt)
		snprintf(key, sizeof(key), "ckpt:%" PRIu64, t->first_ckpt);
	else
		snprintf(key, sizeof(key), "start:%" PRId64, t->start_ms);
	derive(trace, 16, thread, strlen(thread) + 1, key, strlen(key));
	if (!(spans = cJSON_CreateArray()))
		goto oom;
	for (i = 0; i < t->n; i++) {
		cJSON *s;
		if (t->spans[i].parent == PARENT_NEXT_TASK)
			t->spans[i].parent = 0;	/* its task never ended (the run stopped in it) */
		if (t->spans[i].is_task)
			cJSON_AddStringToObject(t->spans[i].attrs, "opsgraph.thread_id", thread);
		if (!(s = span_json(t, trace, i)))
			goto oom;
		cJSON_AddItemToArray(spans, s);
	}
	sn = cJSON_GetObjectItemCaseSensitive(t->conf, "service_name");
	body = og_otlp_request(cJSON_IsString(sn) ? sn->valuestring : "opsgraph", "opsgraph", spans);
	spans = NULL;
	if (!body)
		goto oom;
	if (og_otlp_post(t->conf, body, &err) < 0)
		fprintf(stderr, "opsgraph: otlp export of thread %s failed: %s (the run is not affected)\n", thread,
			err.msg);
	goto out;
oom:
	fprintf(stderr, "opsgraph: otlp export of thread %s: out of memory\n", thread);
out:
	cJSON_Delete(spans);
	cJSON_Delete(body);
	trace_free(t);
}
