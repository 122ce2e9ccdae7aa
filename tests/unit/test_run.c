/*
 * test_run.c: the superstep loop, driven by a fake executor written in C (no
 * Lua). Node, router and reducer handles (`fn`) index the tables below.
 *
 * Covered: linear chains, fan-out on one snapshot, joins (even and uneven),
 * barrier order, og.last conflicts, unknown channels, Send map-reduce,
 * Command goto, route target checks, the recursion limit, retries and
 * budgets, checkpoints in og_store_mem, determinism, and events.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "graph/channel.h"
#include "graph/run.h"
#include "store/store_mem.h"
#include "../test.h"

/* ---- helpers ------------------------------------------------------------- */

static cJSON *J(const char *text)
{
	cJSON *v = cJSON_Parse(text);

	if (!v) {
		fprintf(stderr, "bad JSON in test: %s\n", text);
		abort();
	}
	return v;
}

/* Compares a value with JSON text; prints both when they differ. */
static int json_is(const cJSON *v, const char *text)
{
	cJSON *want = J(text);
	int eq = v && cJSON_Compare(v, want, 1);

	if (!eq) {
		char *s = v ? cJSON_PrintUnformatted(v) : NULL;
		fprintf(stderr, "  value %s, want %s\n", s ? s : "(null)", text);
		free(s);
	}
	cJSON_Delete(want);
	return eq;
}

static const cJSON *view_get(const struct og_graph *g, const struct og_view *v, const char *ch)
{
	int i = og_graph_find_channel(g, ch);

	return i >= 0 && i < v->n ? v->vals[i] : NULL;
}

/* The trace: every node call as "name" (or "name#attempt" after the first),
 * space separated, in call order. */
static char trace[65536];
static int ncalls;

static void trace_add(const char *fmt, ...)
{
	size_t len = strlen(trace);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(trace + len, sizeof(trace) - len, fmt, ap);
	va_end(ap);
}

static void trace_reset(void)
{
	trace[0] = '\0';
	ncalls = 0;
}

static int calls_of(const char *node)
{
	const char *p = trace;
	size_t n = strlen(node);
	int count = 0;

	while ((p = strstr(p, node))) {
		if ((p == trace || p[-1] == ' ') && (p[n] == ' ' || p[n] == '#' || p[n] == '@'))
			count++;
		p += n;
	}
	return count;
}

static void set_writes(struct og_task_result *res, const char *json)
{
	cJSON_Delete(res->writes);
	res->writes = J(json);
}

static void fail(struct og_task_result *res, enum og_task_status st, const char *msg)
{
	res->status = st;
	snprintf(res->err.msg, sizeof(res->err.msg), "%s", msg);
	res->err.code = -OG_ENODE;
}

/* ---- nodes --------------------------------------------------------------- */

typedef int (*node_fn)(const struct og_call *c, struct og_task_result *res);

static const char *me(const struct og_call *c)
{
	return og_graph_node_name(c->g, c->node);
}

/* writes nothing */
static int n_noop(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	(void)res;
	return 0;
}

/* log += [name] */
static int n_log(const struct og_call *c, struct og_task_result *res)
{
	res->writes = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(res->writes, "log"), cJSON_CreateString(me(c)));
	return 0;
}

/* x = 1 */
static int n_write_x(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	set_writes(res, "{\"x\": 1}");
	return 0;
}

/* seen = x (as the node saw it) */
static int n_read_x(const struct og_call *c, struct og_task_result *res)
{
	const cJSON *x = view_get(c->g, c->view, "x");

	res->writes = cJSON_CreateObject();
	cJSON_AddItemToObject(res->writes, "seen", x ? cJSON_Duplicate(x, 1) : cJSON_CreateString("unset"));
	return 0;
}

/* count = 1 */
static int n_count(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	set_writes(res, "{\"count\": 1}");
	return 0;
}

/* nope = 1 (undeclared channel) */
static int n_bad_channel(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	set_writes(res, "{\"log\": [\"bad\"], \"nope\": 1}");
	return 0;
}

/* total = input (a Send worker) */
static int n_worker(const struct og_call *c, struct og_task_result *res)
{
	res->writes = cJSON_CreateObject();
	cJSON_AddItemToObject(res->writes, "total",
			      c->input ? cJSON_Duplicate(c->input, 1) : cJSON_CreateString("no input"));
	return 0;
}

/* log += [name], then Command goto "c" */
static int n_goto_c(const struct og_call *c, struct og_task_result *res)
{
	n_log(c, res);
	res->next = J("[\"c\"]");
	return 0;
}

/* Command goto with a Send: {"node":"c","input":{"k":5}} (no list) */
static int n_send_c(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	res->next = J("{\"node\": \"c\", \"input\": {\"k\": 5}}");
	return 0;
}

/* log += [name or name:input] */
static int n_log_input(const struct og_call *c, struct og_task_result *res)
{
	char buf[256];
	char *in = c->input ? cJSON_PrintUnformatted(c->input) : NULL;

	snprintf(buf, sizeof(buf), "%s%s%s", me(c), in ? ":" : "", in ? in : "");
	free(in);
	res->writes = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(res->writes, "log"), cJSON_CreateString(buf));
	return 0;
}

/* fails on attempts 1 and 2, succeeds on 3 */
static int n_flaky(const struct og_call *c, struct og_task_result *res)
{
	char msg[64];

	if (c->attempt < 3) {
		snprintf(msg, sizeof(msg), "flaky.lua:3: transient failure %d", c->attempt);
		fail(res, OG_TASK_ERROR, msg);
		set_writes(res, "{\"log\": [\"lost\"]}");	/* a failed attempt's writes are dropped */
		return 0;
	}
	return n_log(c, res);
}

static int n_fail(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	fail(res, OG_TASK_ERROR, "x.lua:9: boom");
	return 0;
}

static int n_budget(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	fail(res, OG_TASK_BUDGET, "node 'hog' exceeded its instruction budget of 1000");
	return 0;
}

/* The executor itself fails: a negative return, message in res->err. */
static int n_exec_fail(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	snprintf(res->err.msg, sizeof(res->err.msg), "executor: state view could not be built");
	return -OG_EIO;
}

static int n_interrupt(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	res->status = OG_TASK_INTERRUPT;
	res->interrupt = J("\"approve?\"");
	return 0;
}

/* log += [name] after ~3 ms: tasks of one step get spans that cannot coincide */
static int n_slow_log(const struct og_call *c, struct og_task_result *res)
{
	og_clock_sleep_ms(3);
	return n_log(c, res);
}

/* interrupts until resumed, then logs its name */
static int n_ask(const struct og_call *c, struct og_task_result *res)
{
	if (cJSON_GetArraySize(c->resume) > 0)
		return n_slow_log(c, res);
	return n_interrupt(c, res);
}

/* n += 1 (sum channel), for loops */
static int n_inc(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	set_writes(res, "{\"n\": 1}");
	return 0;
}

/* best = "high" (the max reducer raises on it) */
static int n_best_bad(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	set_writes(res, "{\"best\": \"high\", \"log\": [\"bb\"]}");
	return 0;
}

/* writes a non-object */
static int n_bad_writes(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	set_writes(res, "[1, 2]");
	return 0;
}

/* log += "oops" (wrong shape for og.append) */
static int n_bad_shape(const struct og_call *c, struct og_task_result *res)
{
	(void)c;
	set_writes(res, "{\"log\": \"oops\"}");
	return 0;
}

/* best = step (custom reducer) */
static int n_best(const struct og_call *c, struct og_task_result *res)
{
	res->writes = cJSON_CreateObject();
	cJSON_AddNumberToObject(res->writes, "best", c->step * 10 + (c->input ? c->input->valuedouble : 0));
	return 0;
}

enum {
	N_NOOP, N_LOG, N_WRITE_X, N_READ_X, N_COUNT, N_BAD_CHANNEL, N_WORKER, N_GOTO_C, N_SEND_C,
	N_LOG_INPUT, N_FLAKY, N_FAIL, N_BUDGET, N_EXEC_FAIL, N_INTERRUPT, N_INC, N_BAD_WRITES,
	N_BAD_SHAPE, N_BEST, N_BEST_BAD, N_SLOW_LOG, N_ASK,
};

static const node_fn nodes[] = {
	[N_NOOP] = n_noop, [N_LOG] = n_log, [N_WRITE_X] = n_write_x, [N_READ_X] = n_read_x,
	[N_COUNT] = n_count, [N_BAD_CHANNEL] = n_bad_channel, [N_WORKER] = n_worker,
	[N_GOTO_C] = n_goto_c, [N_SEND_C] = n_send_c, [N_LOG_INPUT] = n_log_input,
	[N_FLAKY] = n_flaky, [N_FAIL] = n_fail, [N_BUDGET] = n_budget, [N_EXEC_FAIL] = n_exec_fail,
	[N_INTERRUPT] = n_interrupt, [N_INC] = n_inc, [N_BAD_WRITES] = n_bad_writes,
	[N_BAD_SHAPE] = n_bad_shape, [N_BEST] = n_best, [N_BEST_BAD] = n_best_bad,
	[N_SLOW_LOG] = n_slow_log, [N_ASK] = n_ask,
};

/* ---- routers ------------------------------------------------------------- */

typedef int (*route_fn)(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err);

/* 100 Sends to "w" with inputs 1..100 */
static int r_sends100(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err)
{
	int i;

	(void)g, (void)v, (void)err;
	*out = cJSON_CreateArray();
	for (i = 1; i <= 100; i++) {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "node", "w");
		cJSON_AddNumberToObject(s, "input", i);
		cJSON_AddItemToArray(*out, s);
	}
	return 0;
}

/* "yes" when x == 1 else "no" */
static int r_on_x(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err)
{
	const cJSON *x = view_get(g, v, "x");

	(void)err;
	*out = cJSON_CreateString(x && cJSON_IsNumber(x) && x->valuedouble == 1 ? "yes" : "no");
	return 0;
}

static int r_to_b(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err)
{
	(void)g, (void)v, (void)err;
	*out = J("[\"b\"]");
	return 0;
}

static int r_to_ghost(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err)
{
	(void)g, (void)v, (void)err;
	*out = J("\"ghost\"");
	return 0;
}

static int r_fail(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err)
{
	(void)g, (void)v, (void)out;
	return og_err_set(err, -OG_ENODE, "router raised: no decision");
}

/* loop back to "a" until n reaches 3, then END */
static int r_until3(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err)
{
	const cJSON *n = view_get(g, v, "n");

	(void)err;
	*out = cJSON_CreateString(n && n->valuedouble >= 3 ? OG_END_NAME : "a");
	return 0;
}

/* Sends to "s" (inputs 1, 2) plus a pull of "p" */
static int r_mixed(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err)
{
	(void)g, (void)v, (void)err;
	*out = J("[{\"node\": \"s\", \"input\": 2}, \"p\", {\"node\": \"s\", \"input\": 1}, {\"node\": \"s\"}]");
	return 0;
}

static int r_not_a_list(const struct og_graph *g, const struct og_view *v, cJSON **out, struct og_err *err)
{
	(void)g, (void)v, (void)err;
	*out = J("42");
	return 0;
}

enum { R_SENDS100, R_ON_X, R_TO_B, R_TO_GHOST, R_FAIL, R_UNTIL3, R_MIXED, R_NOT_A_LIST };

static const route_fn routes[] = {
	[R_SENDS100] = r_sends100, [R_ON_X] = r_on_x, [R_TO_B] = r_to_b, [R_TO_GHOST] = r_to_ghost,
	[R_FAIL] = r_fail, [R_UNTIL3] = r_until3, [R_MIXED] = r_mixed, [R_NOT_A_LIST] = r_not_a_list,
};

/* ---- the fake executor --------------------------------------------------- */

enum { RED_MAX = 0 };

static int route_calls;

static int fake_call_node(void *self, const struct og_call *c, struct og_task_result *res)
{
	(void)self;
	ncalls++;
	if (c->attempt > 1)
		trace_add("%s%s#%d", trace[0] ? " " : "", me(c), c->attempt);
	else
		trace_add("%s%s@%d", trace[0] ? " " : "", me(c), c->step);
	if (!c->task_id || strlen(c->task_id) != 16 || !c->thread_id || !c->view || c->g->nodes[c->node].fn < 0)
		return -OG_EINVAL;
	return nodes[c->g->nodes[c->node].fn](c, res);
}

static int fake_call_route(void *self, const struct og_graph *g, int route, const struct og_view *view,
			   cJSON **out, struct og_err *err)
{
	(void)self;
	route_calls++;
	return routes[g->routes[route].fn](g, view, out, err);
}

static int fake_reduce(void *self, const struct og_graph *g, int channel, const cJSON *old,
		       const cJSON *update, cJSON **out, struct og_err *err)
{
	(void)self;
	if (g->channels[channel].fn != RED_MAX)
		return og_err_set(err, -OG_EINVAL, "unknown reducer");
	if (!cJSON_IsNumber(update))
		return og_err_set(err, -OG_ENODE, "max.lua:2: attempt to compare number with %s",
				  cJSON_IsString(update) ? "string" : "other");
	*out = cJSON_Duplicate(old && old->valuedouble > update->valuedouble ? old : update, 1);
	return 0;
}

static const struct og_exec_ops fake_ops = { fake_call_node, fake_call_route, fake_reduce };

/* ---- graph building ------------------------------------------------------ */

static struct og_graph *G;

static void graph(const char *name)
{
	G = og_graph_new(name, NULL);
	og_graph_add_channel(G, "log", OG_RED_APPEND, cJSON_CreateArray(), -1, NULL, NULL);
	og_graph_add_channel(G, "x", OG_RED_LAST, cJSON_CreateNumber(0), -1, NULL, NULL);
	og_graph_add_channel(G, "seen", OG_RED_LAST, NULL, -1, NULL, NULL);
	og_graph_add_channel(G, "count", OG_RED_LAST, NULL, -1, NULL, NULL);
	og_graph_add_channel(G, "total", OG_RED_SUM, cJSON_CreateNumber(0), -1, NULL, NULL);
	og_graph_add_channel(G, "n", OG_RED_SUM, NULL, -1, NULL, NULL);
	og_graph_add_channel(G, "best", OG_RED_CUSTOM, NULL, RED_MAX, NULL, NULL);
}

static int node(const char *name, int fn)
{
	struct og_srcpos p = { (char *)"t.lua", 100 + G->nnodes };
	return og_graph_add_node(G, name, fn, &p, NULL);
}

static void edge(const char *from, const char *to)
{
	og_graph_add_edge(G, &from, 1, to, NULL, NULL);
}

static void join2(const char *a, const char *b, const char *to)
{
	const char *from[2] = { a, b };
	og_graph_add_edge(G, from, 2, to, NULL, NULL);
}

static void route(const char *from, int fn, const char *const *targets, int n, int line)
{
	struct og_srcpos p = { (char *)"t.lua", line };
	og_graph_add_route(G, from, fn, targets, n, &p, NULL);
}

static int compile(void)
{
	struct og_err err = { 0 };
	int rc = og_graph_validate(G, &err);

	if (rc < 0)
		fprintf(stderr, "graph '%s' does not validate:\n%s\n", G->name, err.msg);
	CHECK_INT(rc, ==, 0);
	return rc;
}

/* Runs G with `input` to the end. Returns og_run_invoke's code; *runp gets
 * the run (caller frees) when runp is given. */
static int run_graph(const char *input, const struct og_run_opts *opts, struct og_run **runp, struct og_err *err)
{
	struct og_run *run;
	cJSON *in = input ? J(input) : NULL;
	int rc;

	trace_reset();
	route_calls = 0;
	og_err_clear(err);
	run = og_run_new(G, &fake_ops, NULL, opts, err);
	if (!run) {
		cJSON_Delete(in);
		return err->code ? err->code : -OG_ENOMEM;
	}
	rc = og_run_start(run, in, err);
	cJSON_Delete(in);
	if (rc == 0)
		rc = og_run_invoke(run, err);
	if (runp)
		*runp = run;
	else
		og_run_free(run);
	return rc;
}

static int state_is(const struct og_run *run, const char *channel, const char *json)
{
	cJSON *st = og_run_state_json(run);
	int eq = json_is(cJSON_GetObjectItemCaseSensitive(st, channel), json);

	cJSON_Delete(st);
	return eq;
}

static void done(struct og_run *run)
{
	og_run_free(run);
	og_graph_free(G);
	G = NULL;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_linear(void)
{
	struct og_err err = { 0 };
	struct og_run *run;

	graph("linear");
	node("a", N_LOG);
	node("b", N_LOG);
	node("c", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("b", "c");
	edge("c", OG_END_NAME);
	compile();
	CHECK_INT(run_graph("{\"log\": [\"in\"]}", NULL, &run, &err), ==, 0);
	CHECK_STR(err.msg, "");
	CHECK_INT(og_run_status(run), ==, OG_RUN_DONE);
	CHECK_STR(og_run_status_name(og_run_status(run)), "done");
	CHECK(state_is(run, "log", "[\"in\", \"a\", \"b\", \"c\"]"));
	CHECK(state_is(run, "x", "0"));		/* the initial value */
	CHECK_STR(trace, "a@0 b@1 c@2");
	CHECK_INT(og_run_step(run), ==, 3);
	CHECK(og_run_error(run) == NULL);
	CHECK_INT(strlen(og_run_thread_id(run)), ==, 27);
	/* unset channels are omitted from the state */
	{
		cJSON *st = og_run_state_json(run);
		CHECK(!cJSON_HasObjectItem(st, "seen"));
		CHECK(cJSON_HasObjectItem(st, "total"));
		cJSON_Delete(st);
	}
	/* invoking a finished run is a no-op; starting it again is an error */
	CHECK_INT(og_run_invoke(run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@2");
	CHECK_INT(og_run_start(run, NULL, &err), ==, -OG_ESTATE);
	done(run);
}

static void test_run_api_errors(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct og_graph *g = og_graph_new("raw", NULL);
	cJSON *in;

	/* an unvalidated graph cannot run */
	CHECK(og_run_new(g, &fake_ops, NULL, NULL, &err) == NULL);
	CHECK_INT(err.code, ==, -OG_ESTATE);
	CHECK_CONTAINS(err.msg, "must be validated");
	og_graph_free(g);

	graph("api");
	node("a", N_LOG);
	edge(OG_START_NAME, "a");
	compile();
	run = og_run_new(G, &fake_ops, NULL, NULL, &err);
	CHECK_INT(og_run_status(run), ==, OG_RUN_PENDING);
	CHECK_INT(og_run_invoke(run, &err), ==, -OG_ESTATE);
	CHECK_CONTAINS(err.msg, "has no input yet");
	in = J("[1]");
	CHECK_INT(og_run_start(run, in, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "input must be a JSON object");
	cJSON_Delete(in);
	in = J("{\"log\": [1], \"zz\": 2}");
	CHECK_INT(og_run_start(run, in, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "input wrote unknown channel 'zz' (graph 'api' declares: log, x, seen, count, total, n, best)");
	cJSON_Delete(in);
	in = J("{\"total\": \"lots\"}");
	CHECK_INT(og_run_start(run, in, &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "input: channel 'total' (og.sum) takes a number, got a string");
	cJSON_Delete(in);
	CHECK_INT(og_run_status(run), ==, OG_RUN_PENDING);
	/* nothing of the rejected inputs was applied */
	CHECK(state_is(run, "log", "[]"));
	CHECK(state_is(run, "total", "0"));
	/* null input is no input */
	in = J("null");
	CHECK_INT(og_run_start(run, in, &err), ==, 0);
	cJSON_Delete(in);
	CHECK_INT(og_run_status(run), ==, OG_RUN_RUNNING);
	CHECK_INT(og_run_invoke(run, &err), ==, 0);
	CHECK(state_is(run, "log", "[\"a\"]"));
	done(run);

	/* START -> END: done at once, no step runs */
	graph("empty");
	edge(OG_START_NAME, OG_END_NAME);
	compile();
	CHECK_INT(run_graph("{\"total\": 2}", NULL, &run, &err), ==, 0);
	CHECK_INT(og_run_status(run), ==, OG_RUN_DONE);
	CHECK_INT(og_run_step(run), ==, 0);
	CHECK_STR(trace, "");
	CHECK(state_is(run, "total", "2"));
	done(run);

	/* a given thread id is kept */
	graph("tid");
	node("a", N_NOOP);
	edge(OG_START_NAME, "a");
	compile();
	{
		struct og_run_opts opts = { .thread_id = "thread-42" };
		CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, 0);
		CHECK_STR(og_run_thread_id(run), "thread-42");
	}
	done(run);
}

static void test_fanout_snapshot(void)
{
	struct og_err err = { 0 };
	struct og_run *run;

	graph("fanout");
	node("a", N_NOOP);
	node("b", N_WRITE_X);
	node("c", N_READ_X);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	edge("b", OG_END_NAME);
	edge("c", OG_END_NAME);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1");
	CHECK(state_is(run, "x", "1"));
	CHECK(state_is(run, "seen", "0"));	/* c saw the snapshot, not b's write */
	CHECK_INT(og_run_step(run), ==, 2);
	done(run);

	/* the same with c declared first: order does not change what c sees */
	graph("fanout2");
	node("a", N_NOOP);
	node("c", N_READ_X);
	node("b", N_WRITE_X);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	compile();
	CHECK_INT(run_graph("{\"x\": 7}", NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 c@1 b@1");
	CHECK(state_is(run, "x", "1"));
	CHECK(state_is(run, "seen", "7"));
	done(run);
}

static void test_join(void)
{
	struct og_err err = { 0 };
	struct og_run *run;

	graph("join");
	node("a", N_LOG);
	node("b", N_LOG);
	node("c", N_LOG);
	node("d", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	join2("b", "c", "d");
	edge("d", OG_END_NAME);
	compile();
	CHECK_INT(G->njoins, ==, 1);
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1 d@2");
	CHECK_INT(calls_of("d"), ==, 1);
	CHECK(state_is(run, "log", "[\"a\", \"b\", \"c\", \"d\"]"));
	CHECK_INT(og_run_step(run), ==, 3);
	done(run);

	/* plain edges b->d and c->d instead: d also runs once (one task per step) */
	graph("nojoin");
	node("a", N_LOG);
	node("b", N_LOG);
	node("c", N_LOG);
	node("d", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	edge("b", "d");
	edge("c", "d");
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1 d@2");
	done(run);
}

static void test_uneven_join(void)
{
	struct og_err err = { 0 };
	struct og_run *run;

	graph("uneven");
	node("a", N_LOG);
	node("b", N_LOG);
	node("b2", N_LOG);
	node("c", N_LOG);
	node("d", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	edge("b", "b2");
	join2("b2", "c", "d");
	edge("d", OG_END_NAME);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1 b2@2 d@3");
	CHECK_INT(calls_of("d"), ==, 1);
	CHECK(state_is(run, "log", "[\"a\", \"b\", \"c\", \"b2\", \"d\"]"));
	done(run);

	/* Without the join (plain edges b2->d, c->d), d runs twice: after c in
	 * step 2 and after b2 in step 3. This is why joins exist. */
	graph("uneven_plain");
	node("a", N_LOG);
	node("b", N_LOG);
	node("b2", N_LOG);
	node("c", N_LOG);
	node("d", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	edge("b", "b2");
	edge("b2", "d");
	edge("c", "d");
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1 b2@2 d@2 d@3");
	done(run);

	/* A join fires again each time all of its sources have finished anew. */
	graph("join_loop");
	node("a", N_INC);
	node("b", N_NOOP);
	node("c", N_NOOP);
	node("d", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	join2("b", "c", "d");
	route("d", R_UNTIL3, (const char *[]){ "a", OG_END_NAME }, 2, 50);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1 d@2 a@3 b@4 c@4 d@5 a@6 b@7 c@7 d@8");
	CHECK(state_is(run, "n", "3"));
	done(run);
}

static void test_barrier_order(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct og_run_opts opts = { .thread_id = "t" };

	graph("order");
	node("a", N_NOOP);
	node("b", N_LOG);
	node("c", N_LOG);
	node("d", N_LOG);
	edge(OG_START_NAME, "a");
	/* edges declared in reverse: tasks still follow node declaration order */
	edge("a", "d");
	edge("a", "c");
	edge("a", "b");
	compile();
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1 d@1");
	CHECK(state_is(run, "log", "[\"b\", \"c\", \"d\"]"));
	done(run);

	/* Sends come after pull tasks, in creation order; a Send without
	 * "input" gets null, a task of its own. */
	graph("mixed");
	node("a", N_NOOP);
	node("s", N_LOG_INPUT);
	node("p", N_LOG_INPUT);
	edge(OG_START_NAME, "a");
	route("a", R_MIXED, (const char *[]){ "s", "p" }, 2, 60);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 p@1 s@1 s@1 s@1");
	CHECK(state_is(run, "log", "[\"p\", \"s:2\", \"s:1\", \"s:null\"]"));
	done(run);
}

static void test_last_conflict(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	const cJSON *e;

	graph("conflict");
	node("a", N_LOG);
	node("b", N_COUNT);
	node("c", N_COUNT);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	compile();
	CHECK_INT(run_graph("{\"count\": 5}", NULL, &run, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "concurrent writes to 'count' by b and c in step 1");
	CHECK_CONTAINS(err.msg, "og.append");
	CHECK_INT(og_run_status(run), ==, OG_RUN_ERROR);
	e = og_run_error(run);
	CHECK(e != NULL);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(e, "message")), err.msg);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")), "invalid input");
	CHECK(json_is(cJSON_GetObjectItem(e, "step"), "1"));
	/* the failed step left the state as it was */
	CHECK(state_is(run, "count", "5"));
	CHECK(state_is(run, "log", "[\"a\"]"));
	CHECK_INT(og_run_step(run), ==, 1);
	/* a failed run is not invoked again */
	CHECK_INT(og_run_invoke(run, &err), ==, -OG_ESTATE);
	CHECK_CONTAINS(err.msg, "has failed");
	done(run);

	/* a sum channel takes any number of writes */
	graph("noconflict");
	node("a", N_NOOP);
	node("b", N_INC);
	node("c", N_INC);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK(state_is(run, "n", "2"));
	done(run);
}

static void test_bad_writes(void)
{
	struct og_err err = { 0 };
	struct og_run *run;

	graph("unknown");
	node("a", N_BAD_CHANNEL);
	edge(OG_START_NAME, "a");
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "node 'a' wrote unknown channel 'nope'");
	CHECK_CONTAINS(err.msg, "declares: log, x,");
	CHECK_INT(og_run_status(run), ==, OG_RUN_ERROR);
	CHECK(state_is(run, "log", "[]"));	/* no partial writes */
	done(run);

	graph("notobject");
	node("a", N_BAD_WRITES);
	edge(OG_START_NAME, "a");
	compile();
	CHECK_INT(run_graph(NULL, NULL, NULL, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "node 'a' must return a table of channel writes");
	og_graph_free(G);

	graph("shape");
	node("a", N_BAD_SHAPE);
	edge(OG_START_NAME, "a");
	compile();
	CHECK_INT(run_graph(NULL, NULL, NULL, &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "node 'a': channel 'log' (og.append) takes a list, got a string (wrap a single item: {value})");
	og_graph_free(G);
}

static void test_send_map_reduce(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct og_store_mem *mem = og_store_mem_new();
	struct og_run_opts opts = { .store = &og_store_mem_ops, .store_self = mem };
	const cJSON *ck;

	graph("mapreduce");
	node("a", N_NOOP);
	node("w", N_WORKER);
	edge(OG_START_NAME, "a");
	route("a", R_SENDS100, (const char *[]){ "w" }, 1, 70);
	edge("w", OG_END_NAME);
	compile();
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, 0);
	CHECK_STR(err.msg, "");
	CHECK(state_is(run, "total", "5050"));
	CHECK_INT(calls_of("w"), ==, 100);
	CHECK_INT(ncalls, ==, 101);
	CHECK_INT(route_calls, ==, 1);
	/* a in step 0, all 100 workers in step 1, then done */
	CHECK_INT(og_run_step(run), ==, 2);
	CHECK(strstr(trace, "w@2") == NULL);
	/* the input checkpoint, after step 0 (100 tasks next), after step 1 */
	CHECK_INT(og_store_mem_count(mem), ==, 3);
	ck = og_store_mem_at(mem, 1);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(ck, "next")), ==, 100);
	CHECK(json_is(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ck, "next"), 99), "input"), "100"));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ck, "next"), 0), "node")), "w");
	/* every task of the step has its own id */
	{
		const cJSON *next = cJSON_GetObjectItem(ck, "next"), *t, *u;
		int dups = 0;
		cJSON_ArrayForEach(t, next)
			for (u = t->next; u; u = u->next)
				dups += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "id")),
						cJSON_GetStringValue(cJSON_GetObjectItem(u, "id")));
		CHECK_INT(dups, ==, 0);
	}
	/* the step's writes: one list for the node, with its 100 tasks' writes;
	 * a span per task */
	ck = og_store_mem_at(mem, 2);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(ck, "writes")), ==, 1);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(ck, "writes"), "w")), ==, 100);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(ck, "times")), ==, 100);
	done(run);
	og_store_mem_free(mem);

	/* Sends through a route must name a declared target */
	graph("sendbad");
	node("a", N_NOOP);
	node("w", N_WORKER);
	node("v", N_NOOP);
	edge(OG_START_NAME, "a");
	edge("a", "v");
	og_graph_add_destination(G, 0, "w", NULL);	/* reachable, but not a target of the route */
	route("a", R_SENDS100, (const char *[]){ "v" }, 1, 71);
	compile();
	CHECK_INT(run_graph(NULL, NULL, NULL, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "t.lua:71: route from 'a' returned 'w', which is not among its declared targets");
	og_graph_free(G);
}

static void test_command_goto(void)
{
	struct og_err err = { 0 };
	struct og_run *run;

	graph("goto");
	node("a", N_GOTO_C);
	node("b", N_LOG);
	node("c", N_LOG);
	edge(OG_START_NAME, "a");
	edge("b", OG_END_NAME);
	og_graph_add_destination(G, 0, "c", NULL);
	og_graph_add_destination(G, 0, "b", NULL);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 c@1");
	CHECK_INT(calls_of("b"), ==, 0);
	CHECK(state_is(run, "log", "[\"a\", \"c\"]"));
	done(run);

	/* goto plus a static edge: both run */
	graph("goto_edge");
	node("a", N_GOTO_C);
	node("b", N_LOG);
	node("c", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	og_graph_add_destination(G, 0, "c", NULL);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1");
	done(run);

	/* a Command Send (one object, not a list) carries its input */
	graph("goto_send");
	node("a", N_SEND_C);
	node("c", N_LOG_INPUT);
	edge(OG_START_NAME, "a");
	og_graph_add_destination(G, 0, "c", NULL);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK(state_is(run, "log", "[\"c:{\\\"k\\\":5}\"]"));
	done(run);
}

static void test_route_targets(void)
{
	struct og_err err = { 0 };
	struct og_run *run;

	/* the route sees the node's own write (a "fresh" read), not its peers' */
	graph("fresh");
	node("a", N_WRITE_X);
	node("yes", N_LOG);
	node("no", N_LOG);
	edge(OG_START_NAME, "a");
	route("a", R_ON_X, (const char *[]){ "yes", "no" }, 2, 80);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 yes@1");
	done(run);

	graph("fresh_peer");
	node("a", N_NOOP);
	node("b", N_WRITE_X);
	node("c", N_NOOP);
	node("yes", N_LOG);
	node("no", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	route("c", R_ON_X, (const char *[]){ "yes", "no" }, 2, 81);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 b@1 c@1 no@2");
	done(run);

	/* a node that exists but is not among the route's targets */
	graph("undeclared");
	node("a", N_NOOP);
	node("b", N_LOG);
	node("c", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	route("a", R_TO_B, (const char *[]){ "c", OG_END_NAME }, 2, 82);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "route from 'a' returned 'b', which is not among its declared targets");
	CHECK_CONTAINS(err.msg, "t.lua:82");
	CHECK_INT(og_run_status(run), ==, OG_RUN_ERROR);
	CHECK_STR(trace, "a@0");
	done(run);

	/* a name that is not a node at all */
	graph("ghost");
	node("a", N_NOOP);
	node("b", N_NOOP);
	edge(OG_START_NAME, "a");
	route("a", R_TO_GHOST, (const char *[]){ "b" }, 1, 83);
	compile();
	CHECK_INT(run_graph(NULL, NULL, NULL, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "t.lua:83: route from 'a' returned 'ghost', which is not among its declared targets");
	og_graph_free(G);

	/* a router that raises */
	graph("rfail");
	node("a", N_NOOP);
	node("b", N_NOOP);
	edge(OG_START_NAME, "a");
	route("a", R_FAIL, (const char *[]){ "b" }, 1, 84);
	compile();
	CHECK_INT(run_graph(NULL, NULL, NULL, &err), ==, -OG_ENODE);
	CHECK_STR(err.msg, "route from 'a' (t.lua:84): router raised: no decision");
	og_graph_free(G);

	/* a router that returns neither names nor Sends */
	graph("rshape");
	node("a", N_NOOP);
	node("b", N_NOOP);
	edge(OG_START_NAME, "a");
	route("a", R_NOT_A_LIST, (const char *[]){ "b" }, 1, 85);
	compile();
	CHECK_INT(run_graph(NULL, NULL, NULL, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "route of node 'a' must be a node name, a list of names, or Sends");
	og_graph_free(G);

	/* a route from START (conditional entry) */
	graph("rstart");
	node("a", N_LOG);
	node("b", N_LOG);
	route(OG_START_NAME, R_TO_B, (const char *[]){ "a", "b" }, 2, 86);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "b@0");
	done(run);

	/* a route from START that fails: og_run_start reports it */
	graph("rstartfail");
	node("a", N_LOG);
	route(OG_START_NAME, R_FAIL, (const char *[]){ "a" }, 1, 87);
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, -OG_ENODE);
	CHECK_CONTAINS(err.msg, "route from '__start__' (t.lua:87): router raised");
	CHECK_STR(trace, "");
	done(run);
}

static void test_recursion_limit(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct og_run_opts opts = { .recursion_limit = 5 };
	struct og_store_mem *mem = og_store_mem_new();
	const cJSON *last;

	graph("forever");
	node("a", N_INC);
	edge(OG_START_NAME, "a");
	edge("a", "a");
	compile();
	opts.store = &og_store_mem_ops;
	opts.store_self = mem;
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, -OG_ELIMIT);
	CHECK_CONTAINS(err.msg, "recursion limit of 5");
	CHECK_CONTAINS(err.msg, "next nodes: a");
	CHECK_INT(calls_of("a"), ==, 5);
	CHECK(state_is(run, "n", "5"));
	CHECK_INT(og_run_status(run), ==, OG_RUN_ERROR);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(og_run_error(run), "kind")), "recursion limit");
	/* input + 5 steps + the error record */
	CHECK_INT(og_store_mem_count(mem), ==, 7);
	last = og_store_mem_at(mem, 6);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(last, "status")), "error");
	CHECK(cJSON_IsObject(cJSON_GetObjectItem(last, "error")));
	done(run);
	og_store_mem_free(mem);

	/* the graph's own limit when opts give none */
	graph("forever25");
	node("a", N_INC);
	edge(OG_START_NAME, "a");
	edge("a", "a");
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, -OG_ELIMIT);
	CHECK_CONTAINS(err.msg, "recursion limit of 25");
	CHECK_INT(calls_of("a"), ==, 25);
	done(run);

	/* a loop that ends by itself inside the limit */
	graph("bounded");
	node("a", N_INC);
	edge(OG_START_NAME, "a");
	route("a", R_UNTIL3, (const char *[]){ "a", OG_END_NAME }, 2, 90);
	compile();
	opts.store = NULL;
	opts.recursion_limit = 3;
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, 0);
	CHECK(state_is(run, "n", "3"));
	CHECK_INT(og_run_status(run), ==, OG_RUN_DONE);
	done(run);
}

static void test_retry(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	int n;

	graph("retry");
	node("a", N_NOOP);
	n = node("x", N_FLAKY);
	edge(OG_START_NAME, "a");
	edge("a", "x");
	compile();
	G->nodes[n].max_attempts = 3;
	G->nodes[n].backoff_ms = 1;
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_STR(trace, "a@0 x@1 x#2 x#3");
	CHECK_INT(calls_of("x"), ==, 3);
	CHECK_INT(og_run_status(run), ==, OG_RUN_DONE);
	CHECK(state_is(run, "log", "[\"x\"]"));	/* the failed attempts' writes are gone */
	done(run);

	/* not enough attempts */
	graph("retry2");
	n = node("x", N_FLAKY);
	edge(OG_START_NAME, "x");
	compile();
	G->nodes[n].max_attempts = 2;
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, -OG_ENODE);
	CHECK_STR(trace, "x@0 x#2");
	CHECK_CONTAINS(err.msg, "node 'x' failed after 2 attempts: flaky.lua:3: transient failure 2");
	CHECK(state_is(run, "log", "[]"));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(og_run_error(run), "node")), "x");
	done(run);

	/* no retry policy */
	graph("noretry");
	node("x", N_FAIL);
	edge(OG_START_NAME, "x");
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, -OG_ENODE);
	CHECK_STR(err.msg, "node 'x' failed: x.lua:9: boom");
	CHECK_INT(calls_of("x"), ==, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(og_run_error(run), "kind")), "node error");
	done(run);

	/* a budget overrun is not retried */
	graph("budget");
	n = node("hog", N_BUDGET);
	edge(OG_START_NAME, "hog");
	compile();
	G->nodes[n].max_attempts = 3;
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, -OG_EBUDGET);
	CHECK_INT(calls_of("hog"), ==, 1);
	CHECK_CONTAINS(err.msg, "exceeded its instruction budget");
	CHECK_INT(og_run_status(run), ==, OG_RUN_ERROR);
	done(run);

	/* the executor itself fails: its message reaches the run's error */
	graph("execfail");
	node("x", N_EXEC_FAIL);
	edge(OG_START_NAME, "x");
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, -OG_ENODE);
	CHECK_CONTAINS(err.msg, "node 'x' failed: ");
	CHECK_CONTAINS(err.msg, "executor: state view could not be built");
	done(run);

	/* og.interrupt pauses the run; the interrupt is listed with its node */
	graph("interrupt");
	node("x", N_INTERRUPT);
	edge(OG_START_NAME, "x");
	compile();
	CHECK_INT(run_graph(NULL, NULL, &run, &err), ==, 0);
	CHECK_INT(og_run_status(run), ==, OG_RUN_INTERRUPTED);
	{
		cJSON *ints = og_run_interrupts(run);
		char *s = cJSON_PrintUnformatted(ints);
		CHECK_INT(cJSON_GetArraySize(ints), ==, 1);
		CHECK_CONTAINS(s, "\"node\":\"x\"");
		free(s);
		cJSON_Delete(ints);
	}
	done(run);
}

/* A failing step keeps the finished tasks as pending writes and leaves the
 * state and the join progress as they were before the step. */
static void test_failed_step_checkpoint(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct og_store_mem *mem = og_store_mem_new();
	struct og_run_opts opts = { .store = &og_store_mem_ops, .store_self = mem };
	const cJSON *ck, *pending;

	graph("failstep");
	node("a", N_NOOP);
	node("b", N_LOG);
	node("c", N_FAIL);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	compile();
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, -OG_ENODE);
	CHECK_INT(og_store_mem_count(mem), ==, 3);
	ck = og_store_mem_at(mem, 2);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(ck, "status")), "error");
	CHECK(json_is(cJSON_GetObjectItem(ck, "values"), "{\"log\": [], \"x\": 0, \"total\": 0}"));
	pending = cJSON_GetObjectItem(ck, "pending");
	CHECK_INT(cJSON_GetArraySize(pending), ==, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(pending, 0), "node")), "b");
	CHECK(json_is(cJSON_GetObjectItem(cJSON_GetArrayItem(pending, 0), "writes"), "{\"log\": [\"b\"]}"));
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(ck, "next")), ==, 2);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ck, "error"), "node")), "c");
	done(run);
	og_store_mem_free(mem);

	/* Join progress: b finishes in step 1 (join bit 0 set), c2 in step 2
	 * completes the join but its route fails. The error checkpoint must
	 * still say "b has finished" so a resume of step 2 fires the join. */
	mem = og_store_mem_new();
	opts.store_self = mem;
	graph("failjoin");
	node("a", N_NOOP);
	node("b", N_NOOP);
	node("c", N_NOOP);
	node("c2", N_NOOP);
	node("d", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	edge("c", "c2");
	join2("b", "c2", "d");
	route("c2", R_FAIL, (const char *[]){ "d" }, 1, 95);
	compile();
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, -OG_ENODE);
	CHECK_STR(trace, "a@0 b@1 c@1 c2@2");
	CHECK_INT(og_store_mem_count(mem), ==, 4);
	ck = og_store_mem_at(mem, 2);	/* after step 1 */
	CHECK(json_is(cJSON_GetObjectItem(ck, "joins"), "[\"1\"]"));
	ck = og_store_mem_at(mem, 3);	/* step 2 failed */
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(ck, "status")), "error");
	CHECK(json_is(cJSON_GetObjectItem(ck, "joins"), "[\"1\"]"));
	done(run);
	og_store_mem_free(mem);
}

/* A custom reducer that raises at the barrier fails the run; no checkpoint
 * is written for the half-applied step. */
static void test_reducer_fails_at_barrier(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct og_store_mem *mem = og_store_mem_new();
	struct og_run_opts opts = { .store = &og_store_mem_ops, .store_self = mem };

	graph("redfail");
	node("a", N_BEST);
	node("b", N_BEST_BAD);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	compile();
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, -OG_ENODE);
	CHECK_STR(err.msg, "node 'b' wrote it: channel 'best' reducer: max.lua:2: attempt to compare number with string");
	CHECK_INT(og_run_status(run), ==, OG_RUN_ERROR);
	CHECK_STR(trace, "a@0 b@1");
	/* input, step 0, and the failed step 1 with b's pending write: the state
	 * is that of step 0, as the reducer ran on a copy */
	CHECK_INT(og_store_mem_count(mem), ==, 3);
	CHECK(json_is(cJSON_GetObjectItem(og_run_error(run), "step"), "1"));
	done(run);
	og_store_mem_free(mem);
}

static void test_checkpoints(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct og_store_mem *mem = og_store_mem_new();
	struct og_run_opts opts = { .thread_id = "ck-thread", .store = &og_store_mem_ops, .store_self = mem };
	const cJSON *ck;
	cJSON *got = NULL;
	int i, nck;

	graph("ckpts");
	node("a", N_LOG);
	node("b", N_LOG);
	node("c", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("b", "c");
	edge("c", OG_END_NAME);
	compile();
	CHECK_INT(run_graph("{\"x\": 3}", &opts, &run, &err), ==, 0);
	nck = og_store_mem_count(mem);
	CHECK_INT(nck, ==, og_run_step(run) + 1);	/* one per superstep + the input */
	CHECK_INT(nck, ==, 4);
	for (i = 0; i < nck; i++) {
		ck = og_store_mem_at(mem, i);
		CHECK(json_is(cJSON_GetObjectItem(ck, "step"), i == 0 ? "-1" : i == 1 ? "0" : i == 2 ? "1" : "2"));
		CHECK_INT(cJSON_GetObjectItem(ck, "id")->valueint, ==, i + 1);
		CHECK_INT(cJSON_GetObjectItem(ck, "parent_id")->valueint, ==, i);
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(ck, "source")), i == 0 ? "input" : "loop");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(ck, "thread_id")), "ck-thread");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(ck, "graph")), "ckpts");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(ck, "status")), i == 3 ? "done" : "running");
	}
	ck = og_store_mem_at(mem, 0);
	CHECK(json_is(cJSON_GetObjectItem(ck, "values"), "{\"log\": [], \"x\": 3, \"total\": 0}"));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ck, "next"), 0), "node")), "a");
	CHECK(json_is(cJSON_GetObjectItem(cJSON_GetObjectItem(ck, "versions"), "x"), "1"));
	CHECK(json_is(cJSON_GetObjectItem(cJSON_GetObjectItem(ck, "versions"), "log"), "0"));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(ck, "writes")));
	ck = og_store_mem_at(mem, 1);
	CHECK(json_is(cJSON_GetObjectItem(ck, "writes"), "{\"a\": [\"log\"]}"));
	CHECK(json_is(cJSON_GetObjectItem(cJSON_GetObjectItem(ck, "versions"), "log"), "2"));
	ck = og_store_mem_at(mem, 3);
	CHECK(json_is(cJSON_GetObjectItem(ck, "next"), "[]"));
	CHECK(json_is(cJSON_GetObjectItem(ck, "values"), "{\"log\": [\"a\", \"b\", \"c\"], \"x\": 3, \"total\": 0}"));
	CHECK(json_is(cJSON_GetObjectItem(cJSON_GetObjectItem(ck, "versions"), "log"), "4"));
	CHECK(json_is(cJSON_GetObjectItem(cJSON_GetObjectItem(ck, "versions"), "x"), "1"));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(ck, "error")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(ck, "pending")));
	CHECK_INT(cJSON_GetObjectItem(ck, "format")->valueint, ==, 1);

	/* the store hands back the latest and a given one */
	CHECK_INT(og_store_mem_ops.get(mem, "ck-thread", 0, &got, &err), ==, 0);
	CHECK(cJSON_Compare(got, og_store_mem_at(mem, 3), 1));
	cJSON_Delete(got);
	CHECK_INT(og_store_mem_ops.get(mem, "ck-thread", 2, &got, &err), ==, 0);
	CHECK(json_is(cJSON_GetObjectItem(got, "step"), "0"));
	cJSON_Delete(got);
	CHECK_INT(og_store_mem_ops.get(mem, "other", 0, &got, &err), ==, -OG_ENOENT);
	done(run);
	og_store_mem_free(mem);
}

/* The span [start, end] of the task of `node` in checkpoint ck, whose
 * tasks the parent checkpoint `prev` lists in "next"; 0 when absent. */
static int span_of(const cJSON *prev, const cJSON *ck, const char *node, double *start, double *end)
{
	const cJSON *t, *span = NULL;

	cJSON_ArrayForEach(t, cJSON_GetObjectItem(prev, "next"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "node")), node))
			span = cJSON_GetObjectItem(cJSON_GetObjectItem(ck, "times"),
						   cJSON_GetStringValue(cJSON_GetObjectItem(t, "id")));
	if (cJSON_GetArraySize(span) != 2)
		return 0;
	*start = cJSON_GetArrayItem(span, 0)->valuedouble;
	*end = cJSON_GetArrayItem(span, 1)->valuedouble;
	return 1;
}

/* Tasks of one step run one after another: each checkpoint keeps each
 * task's own span, and a task finished before a pause keeps the span it
 * had (pending write) when the step completes in another run. */
static void test_task_times(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct og_store_mem *mem = og_store_mem_new();
	struct og_run_opts opts = { .thread_id = "tt", .store = &og_store_mem_ops, .store_self = mem };
	const cJSON *ck, *prev, *pend;
	double as = 0, ae = 0, bs = 0, be = 0, cs = 0, ce = 0, ps = 0, pe = 0;
	cJSON *yes;

	graph("times");
	node("a", N_SLOW_LOG);
	node("b", N_SLOW_LOG);
	node("c", N_SLOW_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	compile();
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, 0);
	CHECK_INT(og_store_mem_count(mem), ==, 3);
	CHECK(!cJSON_GetObjectItem(og_store_mem_at(mem, 0), "times"));	/* the input ran no task */
	CHECK(span_of(og_store_mem_at(mem, 0), og_store_mem_at(mem, 1), "a", &as, &ae));
	prev = og_store_mem_at(mem, 1);
	ck = og_store_mem_at(mem, 2);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(ck, "times")), ==, 2);
	CHECK(span_of(prev, ck, "b", &bs, &be));
	CHECK(span_of(prev, ck, "c", &cs, &ce));
	CHECK(as > 0 && ae > as && bs >= ae);
	CHECK(be > bs && ce > cs);
	CHECK(cs >= be);	/* c ran after b, in the same step: distinct, ordered spans */
	done(run);

	/* b finishes, c pauses; a new run loads the pause and completes the step */
	graph("times2");
	node("b", N_SLOW_LOG);
	node("c", N_ASK);
	edge(OG_START_NAME, "b");
	edge(OG_START_NAME, "c");
	compile();
	opts.thread_id = "tt2";
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, 0);
	CHECK_INT(og_run_status(run), ==, OG_RUN_INTERRUPTED);
	og_run_free(run);
	ck = og_store_mem_at(mem, og_store_mem_count(mem) - 1);
	pend = cJSON_GetArrayItem(cJSON_GetObjectItem(ck, "pending"), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(pend, "node")), "b");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(pend, "span")), ==, 2);
	ps = cJSON_GetArrayItem(cJSON_GetObjectItem(pend, "span"), 0)->valuedouble;
	pe = cJSON_GetArrayItem(cJSON_GetObjectItem(pend, "span"), 1)->valuedouble;
	CHECK(ps > 0 && pe > ps);
	run = og_run_new(G, &fake_ops, NULL, &opts, &err);
	CHECK(run != NULL);
	CHECK_INT(og_run_load(run, ck, (uint64_t)og_store_mem_count(mem) + 1, &err), ==, 0);
	yes = J("{\"value\": true}");
	trace_reset();
	CHECK_INT(og_run_resume(run, yes, "test", &err), ==, 0);
	if (err.code)
		fprintf(stderr, "  resume: %s\n", err.msg);
	cJSON_Delete(yes);
	CHECK_INT(og_run_invoke(run, &err), ==, 0);
	CHECK_INT(og_run_status(run), ==, OG_RUN_DONE);
	prev = ck;
	ck = og_store_mem_at(mem, og_store_mem_count(mem) - 1);
	CHECK(span_of(prev, ck, "b", &bs, &be));
	CHECK(bs == ps && be == pe);	/* kept from the pending write, b did not run again */
	CHECK(span_of(prev, ck, "c", &cs, &ce));
	CHECK(cs >= pe && ce > cs);
	CHECK_STR(trace, "c@0");
	done(run);
	og_store_mem_free(mem);
}

static void build_det_graph(void)
{
	graph("det");
	node("a", N_LOG);
	node("b", N_LOG);
	node("c", N_WRITE_X);
	node("w", N_WORKER);
	node("m", N_BEST);
	node("d", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	edge("a", "m");
	route("a", R_SENDS100, (const char *[]){ "w" }, 1, 110);
	join2("b", "c", "d");
	edge("w", "m");
	edge("d", OG_END_NAME);
	compile();
}

static void test_determinism(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	char *out[2];
	char trace1[sizeof(trace)];
	int i;

	for (i = 0; i < 2; i++) {
		cJSON *st;
		build_det_graph();
		CHECK_INT(run_graph("{\"log\": [\"start\"]}", NULL, &run, &err), ==, 0);
		st = og_run_state_json(run);
		out[i] = cJSON_PrintUnformatted(st);
		cJSON_Delete(st);
		if (i == 0)
			memcpy(trace1, trace, sizeof(trace));
		done(run);
	}
	CHECK_STR(out[0], out[1]);
	CHECK_STR(trace1, trace);
	CHECK_STR(out[0], "{\"log\":[\"start\",\"a\",\"b\",\"d\"],\"x\":1,\"total\":5050,\"best\":20}");
	free(out[0]);
	free(out[1]);
}

struct events {
	int task, step, done, error;
	int task_ok, first_step_ran;
	char log[4096];
};

static void on_event(void *ud, const cJSON *ev)
{
	struct events *e = ud;
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "event"));
	size_t len = strlen(e->log);

	if (!kind)
		return;
	snprintf(e->log + len, sizeof(e->log) - len, "%s%s", len ? " " : "", kind);
	if (!strcmp(kind, "task")) {
		e->task++;
		if (cJSON_GetStringValue(cJSON_GetObjectItem(ev, "node")) &&
		    !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "status")), "ok") &&
		    cJSON_IsNumber(cJSON_GetObjectItem(ev, "attempt")) &&
		    cJSON_IsNumber(cJSON_GetObjectItem(ev, "duration_ms")) &&
		    cJSON_GetStringValue(cJSON_GetObjectItem(ev, "task")))
			e->task_ok++;
	} else if (!strcmp(kind, "step")) {
		if (e->step++ == 0 && json_is(cJSON_GetObjectItem(ev, "ran"), "[\"a\"]") &&
		    json_is(cJSON_GetObjectItem(ev, "step"), "0") &&
		    cJSON_GetArraySize(cJSON_GetObjectItem(ev, "next")) == 2)
			e->first_step_ran = 1;
	} else if (!strcmp(kind, "done")) {
		e->done++;
	} else if (!strcmp(kind, "error")) {
		e->error++;
	}
}

static void test_events(void)
{
	struct og_err err = { 0 };
	struct og_run *run;
	struct events ev;
	struct og_run_opts opts = { .on_event = on_event, .event_ud = &ev };

	memset(&ev, 0, sizeof(ev));
	graph("events");
	node("a", N_LOG);
	node("b", N_LOG);
	node("c", N_LOG);
	edge(OG_START_NAME, "a");
	edge("a", "b");
	edge("a", "c");
	compile();
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, 0);
	CHECK_STR(ev.log, "task step task task step done");
	CHECK_INT(ev.task, ==, 3);
	CHECK_INT(ev.task_ok, ==, 3);
	CHECK_INT(ev.step, ==, 2);
	CHECK_INT(ev.done, ==, 1);
	CHECK(ev.first_step_ran);
	done(run);

	/* a retried task reports each attempt, then the run's error */
	memset(&ev, 0, sizeof(ev));
	graph("events_err");
	node("x", N_FAIL);
	edge(OG_START_NAME, "x");
	compile();
	G->nodes[0].max_attempts = 2;
	CHECK_INT(run_graph(NULL, &opts, &run, &err), ==, -OG_ENODE);
	CHECK_STR(ev.log, "task task error");
	CHECK_INT(ev.done, ==, 0);
	done(run);
}

int main(void)
{
	test_linear();
	test_run_api_errors();
	test_fanout_snapshot();
	test_join();
	test_uneven_join();
	test_barrier_order();
	test_last_conflict();
	test_bad_writes();
	test_send_map_reduce();
	test_command_goto();
	test_route_targets();
	test_recursion_limit();
	test_retry();
	test_failed_step_checkpoint();
	test_reducer_fails_at_barrier();
	test_checkpoints();
	test_task_times();
	test_determinism();
	test_events();
	TEST_END();
}
