/*
 * test_lua.c: Lua graphs end to end, through the library: each graph file
 * under tests/graphs/ is loaded into a VM (og_lvm_load_graph), run with the
 * Lua executor and an in-memory store, and its final state, status and
 * error message are checked.
 *
 * Covered: every reducer (last, append, merge, sum, og.reducer), barrier
 * semantics and write order, fan-out and joins (even and uneven), Send
 * map-reduce (100 Sends in one superstep, og.null/nil inputs, no Sends),
 * Command goto/update, routes (lists, END, duplicates, undeclared targets,
 * fresh reads), the recursion limit, og.last conflicts and bad writes, the
 * sandbox (every denied name and its explanation, require rules), budgets
 * (instructions and memory, swallowed by pcall, then the same VM still
 * works), retries, error positions and tracebacks, determinism, graph
 * file errors, graph code against the host (read-only opsgraph module,
 * per-call ctx, code that could run outside a budget: metamethods on the
 * DSL's objects, __gc finalizers, C library calls), and string patterns
 * (the sandbox's budgeted find/match/gmatch/gsub give what Lua's give, and
 * backtracking or quadratic matches end at the instruction budget).
 *
 * Runs from the project root (tests/run.sh cds there); graph paths are
 * relative to it because messages show them as given.
 *
 * KNOWN_BUG(cond, why) marks an engine bug found by these tests: while the
 * bug is there it counts as skipped (with the reason), once fixed it passes.
 * Turn it into CHECK when the fix lands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "graph/run.h"
#include "lua/lvm.h"
#include "store/store_mem.h"
#include "../test.h"

#define G "tests/graphs/"

#define KNOWN_BUG(cond, why) do {                                             \
	if (cond) t_pass++;                                                   \
	else { t_skip++; fprintf(stderr, "%s:%d: known engine bug: %s\n",     \
	       __FILE__, __LINE__, why); }                                    \
} while (0)

/* ---- helpers ------------------------------------------------------------- */

struct res {
	int load_rc;			/* og_lvm_load_graph */
	int start_rc;			/* og_run_start */
	int rc;				/* og_run_invoke (or start_rc when start failed) */
	enum og_run_status status;
	int steps;
	char err[OG_ERR_MSG];		/* load, start or invoke error */
	cJSON *state;			/* NULL when the graph did not load */
	char *text;			/* state, unformatted */
	char enode[64];			/* og_run_error's node */
	int ckpts;			/* checkpoints put */
	int ev_task, ev_step, ev_error, ev_done, ev_ok_tasks;
};

static void res_free(struct res *r)
{
	cJSON_Delete(r->state);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

static void on_event(void *ud, const cJSON *ev)
{
	struct res *r = ud;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "event");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(ev, "status");
	const char *s = cJSON_IsString(e) ? e->valuestring : "";

	if (!strcmp(s, "task")) {
		r->ev_task++;
		if (cJSON_IsString(st) && !strcmp(st->valuestring, "ok"))
			r->ev_ok_tasks++;
	} else if (!strcmp(s, "step")) {
		r->ev_step++;
	} else if (!strcmp(s, "error")) {
		r->ev_error++;
	} else if (!strcmp(s, "done")) {
		r->ev_done++;
	}
}

/* Loads `path` into vm and runs it with `input` (JSON text or NULL) and a
 * recursion limit (0: the graph's). Fills r; returns r->rc or r->load_rc. */
static int run_on(struct og_lvm *vm, const char *path, const char *input, int limit, struct res *r)
{
	struct og_graph *g = NULL;
	struct og_err err = { 0 };
	struct og_run_opts opts = { 0 };
	struct og_store_mem *mem;
	struct og_run *run;
	const cJSON *e;
	cJSON *in = NULL;

	memset(r, 0, sizeof(*r));
	r->load_rc = og_lvm_load_graph(vm, path, &g, &err);
	if (r->load_rc < 0) {
		snprintf(r->err, sizeof(r->err), "%s", err.msg);
		r->rc = r->load_rc;
		return r->load_rc;
	}
	if (input && !(in = cJSON_Parse(input))) {
		fprintf(stderr, "bad JSON in test: %s\n", input);
		abort();
	}
	mem = og_store_mem_new();
	opts.thread_id = "t-lua";
	opts.recursion_limit = limit;
	opts.store = &og_store_mem_ops;
	opts.store_self = mem;
	opts.on_event = on_event;
	opts.event_ud = r;
	run = og_run_new(g, &og_lvm_exec_ops, vm, &opts, &err);
	if (!run || !mem) {
		fprintf(stderr, "og_run_new(%s): %s\n", path, err.msg);
		abort();
	}
	r->start_rc = og_run_start(run, in, &err);
	r->rc = r->start_rc == 0 ? og_run_invoke(run, &err) : r->start_rc;
	if (r->rc < 0)
		snprintf(r->err, sizeof(r->err), "%s", err.msg);
	r->status = og_run_status(run);
	r->steps = og_run_step(run);
	r->state = og_run_state_json(run);
	r->text = r->state ? cJSON_PrintUnformatted(r->state) : NULL;
	if ((e = og_run_error(run))) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "node");
		if (cJSON_IsString(n))
			snprintf(r->enode, sizeof(r->enode), "%s", n->valuestring);
	}
	r->ckpts = og_store_mem_count(mem);
	og_run_free(run);
	og_store_mem_free(mem);
	og_graph_free(g);
	cJSON_Delete(in);
	return r->rc;
}

static struct og_lvm *vm_new(int64_t instructions)
{
	struct og_lvm_opts o = { 0 };
	struct og_err err = { 0 };
	struct og_lvm *vm;

	o.default_instructions = instructions;
	if (!(vm = og_lvm_new(&o, &err))) {
		fprintf(stderr, "og_lvm_new: %s\n", err.msg);
		abort();
	}
	return vm;
}

/* Runs a graph in a VM of its own. */
static int run_graph(const char *path, const char *input, int limit, struct res *r)
{
	struct og_lvm *vm = vm_new(0);
	int rc = run_on(vm, path, input, limit, r);

	og_lvm_free(vm);
	return rc;
}

/* The state equals JSON text (objects compared by key, order-free). */
static int state_is(const struct res *r, const char *text)
{
	cJSON *want = cJSON_Parse(text);
	int eq;

	if (!want) {
		fprintf(stderr, "bad JSON in test: %s\n", text);
		abort();
	}
	eq = r->state && cJSON_Compare(r->state, want, 1);
	if (!eq)
		fprintf(stderr, "  state %s\n  want  %s\n  (error: %s)\n", r->text ? r->text : "(none)", text,
			r->err);
	cJSON_Delete(want);
	return eq;
}

/* A channel of the state as unformatted JSON ("(unset)" when absent). */
static const char *field(const struct res *r, const char *name)
{
	static char bufs[8][4096];
	static int k;
	char *buf = bufs[k++ % 8];
	const cJSON *v = r->state ? cJSON_GetObjectItemCaseSensitive(r->state, name) : NULL;
	char *s;

	if (!v)
		return "(unset)";
	s = cJSON_PrintUnformatted(v);
	snprintf(buf, sizeof(bufs[0]), "%s", s ? s : "(print failed)");
	free(s);
	return buf;
}

/* "tests/graphs/x.lua:N" where N is the first line of the file holding
 * `marker`, so checks do not break when a graph file gains a line. */
static const char *at(const char *path, const char *marker)
{
	static char bufs[8][512];
	static int k;
	char *buf = bufs[k++ % 8], line[1024];
	FILE *f = fopen(path, "r");
	int n = 0, found = 0;

	while (f && fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, marker)) {
			found = n;
			break;
		}
	}
	if (f)
		fclose(f);
	if (!found) {
		fprintf(stderr, "marker '%s' not found in %s\n", marker, path);
		abort();
	}
	snprintf(buf, sizeof(bufs[0]), "%s:%d", path, found);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reducers ------------------------------------------------------------ */

static void test_reducers(void)
{
	struct res r;

	run_graph(G "reducers.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_INT(r.status, ==, OG_RUN_DONE);
	CHECK_INT(r.steps, ==, 3);
	/* last: a wrote it alone, d read it in a later step */
	CHECK_STR(field(&r, "last"), "\"from-a+d\"");
	/* append: init, a, then b's two items before c's (declaration order);
	 * d's empty og.array{} adds nothing */
	CHECK_STR(field(&r, "items"), "[\"seed\",\"a\",\"b1\",\"b2\",\"c\"]");
	/* merge: shallow, b overrides the initial k0, c adds a nested object */
	CHECK(state_is(&r, "{\"best\":7,\"facts\":{\"k0\":\"b\",\"kb\":1,\"kc\":{\"nested\":true}},"
		       "\"items\":[\"seed\",\"a\",\"b1\",\"b2\",\"c\"],\"last\":\"from-a+d\","
		       "\"total\":12.5,\"words\":\"abc\"}"));
	/* sum: 10 + 1 + 2.5 - 1 */
	CHECK_STR(field(&r, "total"), "12.5");
	/* custom: max of 3, 2, 7, 5; concatenation in task order */
	CHECK_STR(field(&r, "best"), "7");
	CHECK_STR(field(&r, "words"), "\"abc\"");
	res_free(&r);

	/* input goes through the reducers too */
	run_graph(G "reducers.lua", "{\"items\":[\"in\"],\"total\":100,\"words\":\"w\",\"best\":1}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "items"), "[\"seed\",\"in\",\"a\",\"b1\",\"b2\",\"c\"]");
	CHECK_STR(field(&r, "total"), "112.5");
	CHECK_STR(field(&r, "words"), "\"wabc\"");
	CHECK_STR(field(&r, "best"), "7");
	res_free(&r);
}

/* ---- barrier, joins ------------------------------------------------------- */

static void test_barrier(void)
{
	struct res r;

	run_graph(G "barrier.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	/* b and c both saw count = 1 (a's write), not b's +10; writes land in
	 * node declaration order (c before b); z sees b's write */
	CHECK_STR(field(&r, "log"), "[\"a\",\"c saw 1\",\"b saw 1\",\"z saw 11\"]");
	CHECK_STR(field(&r, "seen"), "{\"c\":1,\"b\":1}");
	CHECK_STR(field(&r, "count"), "11");
	/* z has two incoming edges finishing in one step: it ran once */
	CHECK_INT(r.steps, ==, 3);
	CHECK_INT(r.ev_ok_tasks, ==, 4);
	CHECK_INT(r.ev_step, ==, 3);
	CHECK_INT(r.ev_done, ==, 1);
	/* one checkpoint for the input, one per step */
	CHECK_INT(r.ckpts, ==, 4);
	res_free(&r);
}

static void test_joins(void)
{
	struct res r;

	/* uneven branches: b1 -> b2 is one step longer than c; j runs once,
	 * after the later one */
	run_graph(G "join.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "trail"), "[\"a@0\",\"b1@1\",\"c@1\",\"b2@2\",\"j@3\"]");
	CHECK_STR(field(&r, "runs"), "{\"a\":1,\"b1\":1,\"c\":1,\"b2\":1,\"j\":1}");
	CHECK_INT(r.steps, ==, 4);
	res_free(&r);

	/* even: both sources in one step; the join and the plain fan-in each
	 * run once, in the next step */
	run_graph(G "join_even.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "trail"), "[\"x@0\",\"p@1\",\"q@1\",\"j@2\",\"k@2\"]");
	CHECK_STR(field(&r, "n"), "5");
	res_free(&r);
}

/* ---- Send, Command, routes ------------------------------------------------ */

static void test_sends(void)
{
	struct res r;

	run_graph(G "send_map.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "total"), "5050");
	CHECK_STR(field(&r, "final"), "5050");
	CHECK_STR(field(&r, "tasks"), "100");
	/* all 100 in superstep 0, reduce alone in step 1 */
	CHECK_STR(field(&r, "steps"), "{\"step0\":true}");
	CHECK_INT(r.steps, ==, 2);
	CHECK_INT(r.ev_ok_tasks, ==, 101);
	/* Sends apply in creation order */
	CHECK(strncmp(field(&r, "order"), "[1,2,3,4,5,", 11) == 0);
	CHECK(strstr(field(&r, "order"), ",98,99,100]") != NULL);
	res_free(&r);

	/* smaller fan-out through the input */
	run_graph(G "send_map.lua", "{\"n\":10}", 0, &r);
	CHECK_STR(field(&r, "total"), "55");
	res_free(&r);

	/* og.null and nil inputs arrive as nil (not the state) */
	run_graph(G "send_null.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "got"), "[\"nil\",\"nil\",\"table:t:nil\",\"number:7\"]");
	res_free(&r);

	/* zero Sends from a router and an empty Command goto list */
	run_graph(G "send_empty.lua", "{\"items\":[]}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK(state_is(&r, "{\"items\":[],\"total\":0,\"done\":[\"collect\"]}"));
	res_free(&r);
	run_graph(G "send_empty.lua", "{\"items\":[1,2]}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "total"), "303");
	res_free(&r);
}

static void test_command(void)
{
	struct res r;

	run_graph(G "command.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	/* a -goto-> b (b saw a's update) -goto list-> c, d; c -Send-> e */
	CHECK_STR(field(&r, "trail"), "[\"a\",\"b x=1\",\"c\",\"d\",\"e\"]");
	CHECK_STR(field(&r, "via"), "{\"e\":\"c\"}");
	CHECK_STR(field(&r, "x"), "1");
	CHECK_INT(r.steps, ==, 4);
	res_free(&r);
}

static void test_routes(void)
{
	const char *route_at = at(G "route.lua", "-- @route");
	struct res r;

	run_graph(G "route.lua", "{\"mode\":\"list\"}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	/* picked = true shows the router saw pick's own write */
	CHECK_STR(field(&r, "trail"), "[\"pick\",\"b\",\"c\",\"c_only\"]");
	CHECK_INT(r.steps, ==, 3);
	res_free(&r);

	run_graph(G "route.lua", "{\"mode\":\"end\"}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_INT(r.status, ==, OG_RUN_DONE);
	CHECK_STR(field(&r, "trail"), "[\"pick\"]");
	CHECK_INT(r.steps, ==, 1);
	res_free(&r);

	run_graph(G "route.lua", "{\"mode\":\"one\"}", 0, &r);
	CHECK_STR(field(&r, "trail"), "[\"pick\",\"b\"]");
	res_free(&r);

	/* a name listed twice still makes one task */
	run_graph(G "route.lua", "{\"mode\":\"dup\"}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "trail"), "[\"pick\",\"b\",\"c\",\"c_only\"]");
	res_free(&r);

	/* a node that is not among the declared targets */
	run_graph(G "route.lua", "{\"mode\":\"stray\"}", 0, &r);
	CHECK_INT(r.rc, ==, -OG_EINVAL);
	CHECK_INT(r.status, ==, OG_RUN_ERROR);
	CHECK_CONTAINS(r.err, "not among its declared targets");
	CHECK_CONTAINS(r.err, "'c_only'");
	/* "file:line: route from ..." */
	CHECK(strncmp(r.err, route_at, strlen(route_at)) == 0 && r.err[strlen(route_at)] == ':');
	/* the failed step left nothing behind */
	CHECK_STR(field(&r, "trail"), "[]");
	CHECK_STR(field(&r, "picked"), "false");
	res_free(&r);

	/* a name that is no node at all */
	run_graph(G "route.lua", "{\"mode\":\"ghost\"}", 0, &r);
	CHECK_INT(r.status, ==, OG_RUN_ERROR);
	CHECK_CONTAINS(r.err, "'nobody'");
	CHECK_CONTAINS(r.err, "not among its declared targets");
	CHECK_CONTAINS(r.err, route_at);
	res_free(&r);

	run_graph(G "route.lua", "{\"mode\":\"number\"}", 0, &r);
	CHECK_INT(r.status, ==, OG_RUN_ERROR);
	CHECK_CONTAINS(r.err, "must be a node name, a list of names or og.send(...)");
	CHECK_CONTAINS(r.err, route_at);
	res_free(&r);

	/* the router raises */
	run_graph(G "route.lua", "{\"mode\":\"what\"}", 0, &r);
	CHECK_INT(r.status, ==, OG_RUN_ERROR);
	CHECK_CONTAINS(r.err, "unknown mode what");
	CHECK_CONTAINS(r.err, "stack traceback");
	CHECK_CONTAINS(r.err, route_at);
	res_free(&r);

	/* the router sees the snapshot plus its node's writes, not a sibling's */
	run_graph(G "route_fresh.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "seen"), "[\"after x=p y=q\",\"route x=p y=unseen\"]");
	res_free(&r);
}

/* ---- limits and bad writes ------------------------------------------------ */

static void test_recursion_limit(void)
{
	struct res r;

	run_graph(G "loop.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, -OG_ELIMIT);
	CHECK_INT(r.status, ==, OG_RUN_ERROR);
	CHECK_CONTAINS(r.err, "recursion limit of 25 supersteps");
	CHECK_CONTAINS(r.err, "next nodes: tick");
	CHECK_STR(field(&r, "count"), "25");
	CHECK_INT(r.ev_error, ==, 1);
	res_free(&r);

	/* exactly 25 steps fit */
	run_graph(G "loop.lua", "{\"stop\":25}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "count"), "25");
	res_free(&r);

	/* per-run limit */
	run_graph(G "loop.lua", NULL, 5, &r);
	CHECK_INT(r.rc, ==, -OG_ELIMIT);
	CHECK_CONTAINS(r.err, "recursion limit of 5 supersteps");
	CHECK_STR(field(&r, "count"), "5");
	res_free(&r);

	/* the graph's own limit, and both next nodes named */
	run_graph(G "loop_limited.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, -OG_ELIMIT);
	CHECK_CONTAINS(r.err, "recursion limit of 3 supersteps");
	CHECK_CONTAINS(r.err, "next nodes: ping, pong");
	CHECK(state_is(&r, "{\"ping\":3,\"pong\":3}"));
	res_free(&r);

	/* the run's limit overrides the graph's */
	run_graph(G "loop_limited.lua", NULL, 6, &r);
	CHECK_CONTAINS(r.err, "recursion limit of 6 supersteps");
	CHECK_STR(field(&r, "ping"), "6");
	res_free(&r);
}

static void test_writes(void)
{
	struct res r;

	run_graph(G "writes.lua", "{\"mode\":\"ok\"}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "items"), "[\"a\",\"b\",\"c\"]");
	res_free(&r);

	run_graph(G "writes.lua", "{\"mode\":\"conflict\"}", 0, &r);
	CHECK_INT(r.rc, ==, -OG_EINVAL);
	CHECK_CONTAINS(r.err, "concurrent writes to 'count' by b and c in step 1");
	/* the step is all or nothing: a's step stays, b's and c's do not */
	CHECK(state_is(&r, "{\"count\":0,\"facts\":{},\"items\":[\"a\"],\"mode\":\"conflict\",\"total\":0}"));
	res_free(&r);

	run_graph(G "writes.lua", "{\"mode\":\"unknown\"}", 0, &r);
	CHECK_INT(r.rc, ==, -OG_EINVAL);
	CHECK_CONTAINS(r.err, "node 'b' wrote unknown channel 'nope'");
	CHECK_CONTAINS(r.err, "declares: count, facts, items, mode, total");
	res_free(&r);

	run_graph(G "writes.lua", "{\"mode\":\"append\"}", 0, &r);
	CHECK_CONTAINS(r.err, "node 'b': channel 'items' (og.append) takes a list, got a number");
	res_free(&r);
	run_graph(G "writes.lua", "{\"mode\":\"merge\"}", 0, &r);
	CHECK_CONTAINS(r.err, "node 'b': channel 'facts' (og.merge) takes an object");
	CHECK_CONTAINS(r.err, "got a string");
	res_free(&r);
	run_graph(G "writes.lua", "{\"mode\":\"sum\"}", 0, &r);
	CHECK_CONTAINS(r.err, "node 'b': channel 'total' (og.sum) takes a number, got a string");
	CHECK_STR(field(&r, "total"), "0");
	res_free(&r);

	/* the same rules for the input */
	run_graph(G "writes.lua", "{\"zzz\":1}", 0, &r);
	CHECK_INT(r.start_rc, ==, -OG_EINVAL);
	CHECK_CONTAINS(r.err, "input wrote unknown channel 'zzz'");
	res_free(&r);
	run_graph(G "writes.lua", "{\"items\":5}", 0, &r);
	CHECK_INT(r.start_rc, ==, -OG_EINVAL);
	CHECK_CONTAINS(r.err, "input: channel 'items' (og.append) takes a list");
	res_free(&r);
	run_graph(G "writes.lua", "[1,2]", 0, &r);
	CHECK_INT(r.start_rc, ==, -OG_EINVAL);
	CHECK_CONTAINS(r.err, "input must be a JSON object");
	res_free(&r);
}

/* ---- sandbox --------------------------------------------------------------- */

static void test_sandbox(void)
{
	static const struct {
		const char *probe, *want;
	} denied[] = {
		{ "io", "'io' is not available to graph code: nodes reach the world only through ctx" },
		{ "os_execute", "'os.execute' is not available to graph code" },
		{ "os_getenv", "'os.getenv' is not available to graph code" },
		{ "os_exit", "'os.exit' is not available to graph code" },
		{ "os_remove", "'os.remove' is not available to graph code" },
		{ "os_write", "os is read-only in graph code" },
		{ "debug", "'debug' is not available to graph code: the debug library can break out of the sandbox" },
		{ "load", "'load' is not available to graph code: code is loaded only from files" },
		{ "loadfile", "'loadfile' is not available to graph code: use require(\"nodes.name\")" },
		{ "dofile", "'dofile' is not available to graph code: use require(\"nodes.name\")" },
		{ "loadstring", "'loadstring' is not available to graph code" },
		{ "package", "'package' is not available to graph code: use require(\"nodes.name\"); package.loadlib" },
		{ "collectgarbage", "'collectgarbage' is not available to graph code: memory is managed" },
		{ "print", "'print' is not available to graph code: use ctx.log.info(msg)" },
		{ "require_dotdot", "require('..secret'): module names use letters, digits" },
		{ "require_inner_dotdot", "require('nodes..secret'): module names use letters, digits" },
		{ "require_slash", "require('../../etc/passwd'): module names use letters, digits" },
		{ "require_abs", "require('/etc/passwd'): module names use letters, digits" },
		{ "require_missing", "require('nodes.no_such_module'): module not found (tried: " },
		{ "require_outside", "require('engine.lua.prelude'): module not found" },
		{ "string_mt_set", "bad argument #1 to 'setmetatable'" },
	};
	static const struct {
		const char *probe, *out;
	} allowed[] = {
		{ "string_mt", "\"false\"" },		/* getmetatable("") is hidden */
		{ "string_method", "\"ABC7\"" },	/* but string methods work */
		{ "os_time", "\"integer\"" },
		{ "rawget_io", "\"nil,true\"" },
		{ "globals_isolated", "\"ok\"" },
		{ "undefined_global", "\"nil\"" },
	};
	struct og_lvm *vm = vm_new(0);
	char input[128];
	struct res r;
	size_t i;

	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		snprintf(input, sizeof(input), "{\"probe\":\"%s\"}", denied[i].probe);
		run_on(vm, G "sandbox.lua", input, 0, &r);
		if (r.status != OG_RUN_ERROR || !strstr(r.err, denied[i].want))
			fprintf(stderr, "sandbox probe %s:\n", denied[i].probe);
		CHECK_INT(r.status, ==, OG_RUN_ERROR);
		CHECK_CONTAINS(r.err, denied[i].want);
		/* every denial points at the line that tried */
		CHECK_CONTAINS(r.err, G "sandbox.lua:");
		res_free(&r);
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		snprintf(input, sizeof(input), "{\"probe\":\"%s\"}", allowed[i].probe);
		run_on(vm, G "sandbox.lua", input, 0, &r);
		if (r.rc != 0)
			fprintf(stderr, "sandbox probe %s: %s\n", allowed[i].probe, r.err);
		CHECK_INT(r.rc, ==, 0);
		CHECK_STR(field(&r, "out"), allowed[i].out);
		res_free(&r);
	}
	/* globals_isolated removed string.upper from sandbox.lua's own copy of
	 * string; a module loaded afterwards in the same VM still has it */
	run_on(vm, G "require_local.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "out"), "\"HI!\"");
	res_free(&r);
	og_lvm_free(vm);

	/* the sandbox covers the graph file itself and the modules it loads */
	run_graph(G "bad_toplevel_io.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, at(G "bad_toplevel_io.lua", "io.open"));
	CHECK_CONTAINS(r.err, "'io' is not available to graph code");
	res_free(&r);
	run_graph(G "require_local.lua", "{\"bad\":true}", 0, &r);
	CHECK_INT(r.status, ==, OG_RUN_ERROR);
	CHECK_CONTAINS(r.err, at(G "bad_mod.lua", "io.open"));
	CHECK_CONTAINS(r.err, "'io' is not available to graph code");
	res_free(&r);
}

static void test_require(void)
{
	static const char *const no_extra[] = { NULL };
	struct og_lvm_opts o = { 0 };
	struct og_err err = { 0 };
	struct og_lvm *vm;
	struct res r;

	/* a module next to the graph; loaded once, the same table under
	 * "helper_mod" and "graphs.helper_mod" (root guessed as tests/) */
	run_graph(G "require_local.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "out"), "\"HI!\"");
	CHECK_STR(field(&r, "same"), "true");
	res_free(&r);

	/* nodes.x under the project root: root guessed from <root>/graphs/ */
	run_graph(G "proj/graphs/uses_nodes.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "out"), "\"hello, root\"");
	res_free(&r);

	/* nodes.x under a configured root */
	o.root = G "proj";
	o.extra_paths = no_extra;
	vm = og_lvm_new(&o, &err);
	CHECK(vm != NULL);
	if (vm) {
		run_on(vm, G "require_nodes.lua", NULL, 0, &r);
		CHECK_INT(r.rc, ==, 0);
		CHECK_STR(field(&r, "out"), "\"hello, graph\"");
		res_free(&r);
		og_lvm_free(vm);
	}

	/* without that root, nodes.greet is nowhere to be found */
	run_graph(G "require_nodes.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, "require('nodes.greet'): module not found");
	CHECK_CONTAINS(r.err, at(G "require_nodes.lua", "local greet = require"));
	res_free(&r);
}

/* ---- budgets -------------------------------------------------------------- */

static void test_budgets(void)
{
	static const struct {
		const char *mode, *want;
	} cases[] = {
		{ "spin", "node 'spin' exceeded its instruction budget of 200000 instructions" },
		{ "spin_pcall", "node 'spin_pcall' exceeded its instruction budget of 200000 instructions" },
		{ "spin_swallow", "node 'spin_swallow' exceeded its instruction budget of 200000 instructions" },
		{ "grow", "node 'grow' exceeded its memory budget of 8 MB" },
		{ "bomb", "node 'bomb' exceeded its memory budget of 8 MB" },
		{ "bomb_concat", "node 'bomb_concat' exceeded its memory budget of 8 MB" },
		{ "grow_pcall", "node 'grow_pcall' exceeded its memory budget of 8 MB" },
	};
	struct og_lvm *vm = vm_new(0);
	char input[128];
	struct res r;
	size_t i;
	int round;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(input, sizeof(input), "{\"mode\":\"%s\"}", cases[i].mode);
		run_on(vm, G "budget.lua", input, 0, &r);
		CHECK_INT(r.rc, ==, -OG_EBUDGET);
		CHECK_INT(r.status, ==, OG_RUN_ERROR);
		CHECK_CONTAINS(r.err, cases[i].want);
		CHECK_STR(r.enode, cases[i].mode);
		/* budgets are not retried and nothing was written */
		CHECK_INT(r.ev_task, ==, 1);
		CHECK_STR(field(&r, "out"), "(unset)");
		/* the same VM still runs a node that needs 4 MB under its 8 MB */
		res_free(&r);
		run_on(vm, G "budget.lua", "{\"mode\":\"ok\"}", 0, &r);
		if (r.rc != 0)
			fprintf(stderr, "after %s: %s\n", cases[i].mode, r.err);
		CHECK_INT(r.rc, ==, 0);
		res_free(&r);
	}
	/* many failures in a row do not wear the VM down */
	for (round = 0; round < 10; round++) {
		run_on(vm, G "budget.lua", round % 2 ? "{\"mode\":\"grow_pcall\"}" : "{\"mode\":\"spin_pcall\"}", 0, &r);
		if (r.rc != -OG_EBUDGET)
			t_fail++, fprintf(stderr, "round %d: %d %s\n", round, r.rc, r.err);
		res_free(&r);
	}
	run_on(vm, G "budget.lua", "{\"mode\":\"ok\"}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "out"), "1251073576");
	res_free(&r);
	/* and another graph file in the same VM */
	run_on(vm, G "reducers.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "total"), "12.5");
	res_free(&r);
	og_lvm_free(vm);

	/* the VM default budget covers graph files, routers and reducers */
	vm = vm_new(1000000);
	run_on(vm, G "bad_toplevel_loop.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, "graph file '" G "bad_toplevel_loop.lua' exceeded its instruction budget of "
		       "1000000 instructions");
	res_free(&r);
	run_on(vm, G "reducer_error.lua", "{\"mode\":\"spin\"}", 0, &r);
	CHECK_INT(r.status, ==, OG_RUN_ERROR);
	CHECK_CONTAINS(r.err, "reducer of 'acc' exceeded its instruction budget of 1000000 instructions");
	res_free(&r);
	run_on(vm, G "reducer_error.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "acc"), "\"aok\"");
	res_free(&r);
	og_lvm_free(vm);
}

/* ---- retries, errors ------------------------------------------------------ */

static void test_retry(void)
{
	struct res r;

	/* fails twice, succeeds on the third of 3 attempts */
	run_graph(G "retry.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "attempts"), "[3]");
	CHECK_STR(field(&r, "failures"), "2");
	CHECK_INT(r.ev_task, ==, 3);
	CHECK_INT(r.ev_ok_tasks, ==, 1);
	res_free(&r);

	/* never succeeds: both attempts ran, the message says so */
	run_graph(G "retry.lua", "{\"doom\":true}", 0, &r);
	CHECK_INT(r.rc, ==, -OG_ENODE);
	CHECK_CONTAINS(r.err, "node 'doomed' failed after 2 attempts");
	CHECK_CONTAINS(r.err, "doomed attempt 2");
	CHECK_CONTAINS(r.err, at(G "retry.lua", "error(\"doomed attempt"));
	CHECK_STR(r.enode, "doomed");
	/* flaky's step stands */
	CHECK_STR(field(&r, "attempts"), "[3]");
	res_free(&r);
}

static void test_errors(void)
{
	struct res r;

	run_graph(G "errors.lua", "{\"mode\":\"raise\"}", 0, &r);
	CHECK_INT(r.rc, ==, -OG_ENODE);
	CHECK_CONTAINS(r.err, "node 'boom' failed: ");
	CHECK_CONTAINS(r.err, at(G "errors.lua", "-- @raise"));
	CHECK_CONTAINS(r.err, "kaboom");
	CHECK_CONTAINS(r.err, "stack traceback");
	CHECK_STR(r.enode, "boom");
	CHECK_INT(r.ev_error, ==, 1);
	res_free(&r);

	/* a runtime error in a helper: its line, and the node's in the traceback */
	run_graph(G "errors.lua", "{\"mode\":\"index\"}", 0, &r);
	CHECK_CONTAINS(r.err, at(G "errors.lua", "-- @index"));
	CHECK_CONTAINS(r.err, "attempt to index a nil value (field 'missing')");
	CHECK_CONTAINS(r.err, "in upvalue 'helper'");
	res_free(&r);

	run_graph(G "errors.lua", "{\"mode\":\"table\"}", 0, &r);
	CHECK_CONTAINS(r.err, "(error object is a table value)");
	CHECK_CONTAINS(r.err, "stack traceback");
	res_free(&r);

	/* malformed results name the node's declaration */
	run_graph(G "errors.lua", "{\"mode\":\"return_string\"}", 0, &r);
	CHECK_CONTAINS(r.err, at(G "errors.lua", "g:node(\"boom\""));
	CHECK_CONTAINS(r.err, "returned a string; return a table of channel writes");
	res_free(&r);
	run_graph(G "errors.lua", "{\"mode\":\"return_function\"}", 0, &r);
	CHECK_CONTAINS(r.err, "cannot convert a function to JSON at 'writes.out'");
	res_free(&r);
	run_graph(G "errors.lua", "{\"mode\":\"command_bad\"}", 0, &r);
	CHECK_CONTAINS(r.err, "og.command: update must be a table of channel writes");
	res_free(&r);
	run_graph(G "errors.lua", "{\"mode\":\"command_ghost\"}", 0, &r);
	CHECK_CONTAINS(r.err, "sent to 'ghost', which is not a node of graph 'errors'");
	res_free(&r);

	/* `return og.command{...}` is a tail call: the caller's line is gone
	 * from the stack, so og.command's argument error has no position */
	run_graph(G "errors.lua", "{\"mode\":\"command_field\"}", 0, &r);
	CHECK_CONTAINS(r.err, "og.command: unknown field 'gotoo' (use update and goto)");
	KNOWN_BUG(strstr(r.err, G "errors.lua:") != NULL,
		  "og.command/og.send argument errors in `return og.command{...}` (a tail call) carry no "
		  "graph file:line (prelude argerror level 3 points at a dropped frame; lexec could add "
		  "the node's position)");
	res_free(&r);

	/* a reducer failing at the barrier: the whole step must not land */
	run_graph(G "reducer_error.lua", "{\"mode\":\"raise\"}", 0, &r);
	CHECK_INT(r.status, ==, OG_RUN_ERROR);
	CHECK_CONTAINS(r.err, "channel 'acc' reducer: ");
	CHECK_CONTAINS(r.err, at(G "reducer_error.lua", "-- @reducer"));
	CHECK_CONTAINS(r.err, "reducer refuses raise");
	CHECK_STR(field(&r, "acc"), "\"a\"");
	/* x's writes reached the barrier first; none of them may stay */
	CHECK_STR(field(&r, "log"), "[]");
	CHECK_STR(field(&r, "count"), "0");
	res_free(&r);
}

/* ---- determinism ----------------------------------------------------------- */

static void test_determinism(void)
{
	static const struct {
		const char *graph, *input;
	} cases[] = {
		{ "reducers.lua", NULL },
		{ "barrier.lua", NULL },
		{ "join.lua", NULL },
		{ "send_map.lua", NULL },
		{ "command.lua", NULL },
		{ "route.lua", "{\"mode\":\"list\"}" },
		{ "send_null.lua", NULL },
	};
	struct og_lvm *vm = vm_new(0);
	char path[256];
	struct res a, b, c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), G "%s", cases[i].graph);
		run_graph(path, cases[i].input, 0, &a);
		run_graph(path, cases[i].input, 0, &b);
		run_on(vm, path, cases[i].input, 0, &c);	/* a reused VM too */
		CHECK(a.text && b.text && c.text);
		if (a.text && b.text && c.text) {
			if (strcmp(a.text, b.text) || strcmp(a.text, c.text))
				fprintf(stderr, "%s differs:\n  %s\n  %s\n  %s\n", path, a.text, b.text, c.text);
			CHECK_STR(a.text, b.text);
			CHECK_STR(a.text, c.text);
		}
		res_free(&a);
		res_free(&b);
		res_free(&c);
	}
	og_lvm_free(vm);
}

/* ---- graph files ----------------------------------------------------------- */

static void test_graph_files(void)
{
	struct res r;

	run_graph(G "bad_syntax.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, G "bad_syntax.lua:4:");
	CHECK_CONTAINS(r.err, "'}' expected");
	res_free(&r);

	run_graph(G "bad_node_fn.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, at(G "bad_node_fn.lua", "\"not a function\""));
	CHECK_CONTAINS(r.err, "g:node: node 'b': the second argument must be a function(state, ctx) (got string)");
	res_free(&r);

	run_graph(G "bad_no_state.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, at(G "bad_no_state.lua", "og.graph{"));
	CHECK_CONTAINS(r.err, "og.graph: state must be a table of channels");
	res_free(&r);

	run_graph(G "bad_channel.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, at(G "bad_channel.lua", "og.graph{"));
	CHECK_CONTAINS(r.err, "state.x must be a channel");
	res_free(&r);

	run_graph(G "bad_input_channel.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, "og.graph: input = 'payload' names no channel of state");
	res_free(&r);

	/* og.graph{input = "trigger"}: a raw payload lands in trigger; an
	 * object of channels is taken as it is */
	run_graph(G "input_channel.lua", "{\"receiver\": \"x\", \"alerts\": [1]}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_CONTAINS(r.text, "\"trigger\":{\"receiver\":\"x\",\"alerts\":[1]}");
	CHECK_CONTAINS(r.text, "\"seen\":{\"alerts\":[1],\"receiver\":\"x\"}");
	res_free(&r);
	run_graph(G "input_channel.lua", "{\"trigger\": {\"service\": \"s\"}, \"n\": 5}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_CONTAINS(r.text, "\"seen\":{\"service\":\"s\"}");
	CHECK_CONTAINS(r.text, "\"n\":6");
	res_free(&r);
	run_graph(G "input_channel.lua", "[1, 2]", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_CONTAINS(r.text, "\"seen\":[1,2]");
	res_free(&r);

	run_graph(G "bad_no_return.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, "the graph file must end with `return g`");
	CHECK_CONTAINS(r.err, "returned a nil");
	res_free(&r);

	run_graph(G "no_such_graph.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_ENOENT);
	CHECK_CONTAINS(r.err, "graph file '" G "no_such_graph.lua'");
	res_free(&r);

	/* og_lvm_load_graph validates */
	run_graph(G "check_unknown_edge.lua", NULL, 0, &r);
	CHECK_INT(r.load_rc, ==, -OG_EGRAPH);
	CHECK_CONTAINS(r.err, at(G "check_unknown_edge.lua", "\"ghost\""));
	CHECK_CONTAINS(r.err, "no node named 'ghost'");
	res_free(&r);
}

/* ---- graph code against the host --------------------------------------------- */

static void test_host_isolation(void)
{
	struct og_lvm *vm = vm_new(1000000);
	struct res r;

	/* graph code trying to replace og.__result / og.__route / the Graph
	 * metatable: none of it may run outside a budget or change routing */
	run_on(vm, G "hijack.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "escaped"), "(unset)");
	CHECK_STR(field(&r, "trail"), "[\"a\",\"b\"]");
	res_free(&r);
	/* the module is read-only, with a message that says so */
	run_on(vm, G "og_readonly.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_CONTAINS(field(&r, "set"), "the opsgraph module is read-only (tried to set og.last)");
	CHECK_STR(field(&r, "mt"), "\"false\"");
	CHECK_STR(field(&r, "last_ok"), "true");
	res_free(&r);
	/* __index on the Send / Command metatables runs while lexec.c
	 * classifies a node's result */
	run_on(vm, G "send_mt.lua", NULL, 0, &r);
	KNOWN_BUG(!strstr(field(&r, "spent"), "send.") && !strstr(field(&r, "spent"), "command."),
		  "graph code runs outside every budget: getmetatable(og.send(...)) / getmetatable("
		  "og.command{...}) give the prelude's Send/Command metatables; an __index set there runs "
		  "in classify_result (lexec.c, plain lua_pcall without the count hook or memory cap) when "
		  "the classifier reads v.input / r.update; with `while true do end` the process hangs");
	res_free(&r);
	/* a __gc finalizer runs with debug hooks off */
	run_on(vm, G "gc_finalizer.lua", NULL, 0, &r);
	KNOWN_BUG(strcmp(field(&r, "set"), "\"accepted\"") || strcmp(field(&r, "fin"), "true"),
		  "graph code runs outside every budget: setmetatable(t, {__gc = fn}) is allowed, and Lua "
		  "5.4 runs finalizers with hooks disabled, so the instruction budget never stops fn (a "
		  "`while true do end` finalizer hangs the process at the next GC or in og_lvm_free); the "
		  "sandbox's setmetatable should refuse metatables with __gc");
	res_free(&r);
	/* CPU spent inside a C library call: string pattern backtracking is
	 * charged to the instruction budget (lpattern.c; see test_patterns) */
	run_on(vm, G "pattern_cpu.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, -OG_EBUDGET);
	CHECK_CONTAINS(r.err, "node 'match' exceeded its instruction budget of 1000 instructions");
	res_free(&r);
	/* pairs(og) lists the module but does not hand out its table */
	run_on(vm, G "og_pairs.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "has_send"), "true");
	CHECK_STR(field(&r, "state_type"), "\"nil\"");
	CHECK_STR(field(&r, "got"), "[\"nil\"]");
	res_free(&r);
	og_lvm_free(vm);

	/* ctx is per call */
	run_graph(G "ctx_shared.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK(strncmp(field(&r, "out"), "[\"a@0\",\"b@1\",", 13) == 0);
	/* a's changes to its ctx do not reach b's */
	CHECK_STR(field(&r, "out"), "[\"a@0\",\"b@1\",\"[1]\",\"nil\"]");
	res_free(&r);
}

/* ---- string patterns (lpattern.c) ----------------------------------------------- */

/* The lines of pattern_cases.lua run with Lua's own string library, in a
 * plain state: what the sandbox's budgeted functions must give. */
static lua_State *reference_cases(int *n)
{
	lua_State *L = luaL_newstate();

	luaL_openlibs(L);
	if (luaL_dofile(L, G "pattern_cases.lua") != LUA_OK) {
		fprintf(stderr, "pattern_cases.lua: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return NULL;
	}
	lua_getglobal(L, "string");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
		fprintf(stderr, "pattern_cases.lua: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return NULL;
	}
	*n = (int)lua_rawlen(L, -1);
	return L;
}

static long long out_int(const struct res *r, const char *name)
{
	const cJSON *out = r->state ? cJSON_GetObjectItemCaseSensitive(r->state, "out") : NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(out, name);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static const char *out_str(const struct res *r, const char *name)
{
	const cJSON *out = r->state ? cJSON_GetObjectItemCaseSensitive(r->state, "out") : NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(out, name);

	return cJSON_IsString(v) ? v->valuestring : "(not a string)";
}

static void test_patterns(void)
{
	static const char *const runaway[] = {
		"find", "method", "gmatch", "gsub", "swallow", "swallow_loop", "balance", "backref", "plain",
		"gsub_fn",
	};
	struct og_lvm *vm;
	const cJSON *got;
	lua_State *L;
	struct res r;
	char input[128], want[256];
	double t0, dt;
	int i, n = 0;
	size_t k;

	/* conformance: every case gives what Lua's string library gives */
	L = reference_cases(&n);
	CHECK(L != NULL);
	CHECK_INT(n, >=, 60);
	run_graph(G "pattern_conf.lua", NULL, 0, &r);
	CHECK_INT(r.rc, ==, 0);
	got = r.state ? cJSON_GetObjectItemCaseSensitive(r.state, "results") : NULL;
	CHECK_INT(cJSON_GetArraySize(got), ==, n);
	for (i = 0; L && i < n && i < cJSON_GetArraySize(got); i++) {
		const cJSON *line = cJSON_GetArrayItem(got, i);
		lua_rawgeti(L, -1, i + 1);
		CHECK_STR(cJSON_IsString(line) ? line->valuestring : "(not a string)", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	if (L)
		lua_close(L);
	res_free(&r);

	/* the catastrophic pattern at the size that took ~100 s: stopped by
	 * a 1000-instruction budget */
	vm = vm_new(0);
	t0 = now_s();
	run_on(vm, G "pattern_cpu.lua", "{\"n\":300}", 0, &r);
	dt = now_s() - t0;
	CHECK_INT(r.rc, ==, -OG_EBUDGET);
	CHECK_CONTAINS(r.err, "node 'match' exceeded its instruction budget of 1000 instructions");
	CHECK(dt < 5.0);
	fprintf(stderr, "figure: pattern_cpu n=300 (was ~100 s): stopped after %.4f s\n", dt);
	res_free(&r);

	/* every way into the matcher, and the superlinear cases beside
	 * backtracking, stop at a 1M-instruction budget; the same VM then
	 * still does real work */
	for (k = 0; k < sizeof(runaway) / sizeof(runaway[0]); k++) {
		snprintf(input, sizeof(input), "{\"mode\":\"%s\"}", runaway[k]);
		t0 = now_s();
		run_on(vm, G "pattern_budget.lua", input, 0, &r);
		dt = now_s() - t0;
		CHECK_INT(r.rc, ==, -OG_EBUDGET);
		CHECK_INT(r.status, ==, OG_RUN_ERROR);
		snprintf(want, sizeof(want), "node '%s' exceeded its instruction budget of 1000000 instructions",
			 runaway[k]);
		CHECK_CONTAINS(r.err, want);
		CHECK_STR(field(&r, "out"), "(unset)");
		CHECK(dt < 5.0);
		fprintf(stderr, "figure: pattern_budget %-12s stopped after %.4f s\n", runaway[k], dt);
		res_free(&r);
	}

	/* matcher steps and Lua instructions add up: 200 calls of ~1000
	 * steps fit in 1M, 2000 do not */
	run_on(vm, G "pattern_budget.lua", "{\"mode\":\"many\",\"n\":200}", 0, &r);
	CHECK_INT(r.rc, ==, 0);
	CHECK_STR(field(&r, "out"), "400");
	res_free(&r);
	run_on(vm, G "pattern_budget.lua", "{\"mode\":\"many\",\"n\":2000}", 0, &r);
	CHECK_INT(r.rc, ==, -OG_EBUDGET);
	CHECK_CONTAINS(r.err, "node 'many' exceeded its instruction budget of 1000000 instructions");
	res_free(&r);

	/* 1 MB of log lines: gsub, gmatch, match, function gsub and a plain
	 * find fit in the default budget (100M instructions) */
	t0 = now_s();
	run_on(vm, G "pattern_budget.lua", "{\"mode\":\"big\"}", 0, &r);
	dt = now_s() - t0;
	if (r.rc != 0)
		fprintf(stderr, "big: %s\n", r.err);
	CHECK_INT(r.rc, ==, 0);
	CHECK_INT(out_int(&r, "len"), ==, 1048580);
	CHECK_INT(out_int(&r, "squeezed"), ==, 1048580);
	CHECK_INT(out_int(&r, "nspaces"), ==, 145188);
	CHECK_INT(out_int(&r, "words"), ==, 112924);
	CHECK_INT(out_int(&r, "ids"), ==, 48396);
	CHECK_INT(out_int(&r, "total"), ==, 725940);
	CHECK_STR(out_str(&r, "last"), "45");
	CHECK_STR(out_str(&r, "found"), "nil");
	fprintf(stderr, "figure: pattern_budget big (1 MB: 2 gsub, 2 gmatch, match, find) %.3f s\n", dt);
	res_free(&r);
	og_lvm_free(vm);
}

int main(int argc, char **argv)
{
	double t0 = now_s();

	(void)argc;
	(void)argv;
	if (access(G "reducers.lua", R_OK) != 0) {
		fprintf(stderr, "run from the project root (tests/graphs/ not found)\n");
		t_fail++;
		TEST_END();
	}
	test_reducers();
	test_barrier();
	test_joins();
	test_sends();
	test_command();
	test_routes();
	test_recursion_limit();
	test_writes();
	test_sandbox();
	test_require();
	test_budgets();
	test_retry();
	test_errors();
	test_determinism();
	test_graph_files();
	test_host_isolation();
	test_patterns();
	fprintf(stderr, "test_lua: %.2f s\n", now_s() - t0);
	TEST_END();
}
