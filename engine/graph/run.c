/*
 * run.c: the superstep loop (see run.h for the contract).
 *
 * One step: call every task against the same snapshot (retrying failed ones
 * per their node's policy), check the writes, evaluate routes against the
 * snapshot plus the task's own writes (LangGraph's "fresh" read), apply all
 * writes at the barrier in task order, plan the next step's tasks, and hand a
 * checkpoint to the store. A failure anywhere before the barrier leaves the
 * state as it was: a superstep is all or nothing, and the writes of tasks that
 * did finish are kept as pending writes so a resume does not run them again.
 *
 * Planning: a node runs in step N+1 when, in step N, a node with an edge to it
 * finished, a route chose it, a Command sent it there, or the last missing
 * source of a join it waits on finished. It runs once per step however many
 * triggers it got. Sends each make their own task with their own input. Pull
 * tasks are ordered by node declaration, Sends after them in creation order.
 */
#include "run.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/id.h"
#include "../core/json.h"
#include "channel.h"

struct og_task {
	int node;
	cJSON *input;			/* owned; a Send's input, NULL for pull tasks */
	char id[17];
	bool done;			/* res holds a finished result */
	bool waiting;			/* paused in og.interrupt, waiting for a resume */
	cJSON *resume;			/* owned; resume values given so far, in order */
	cJSON *journal;			/* owned; side-effect journal of the paused execution */
	cJSON *interrupt;		/* owned; the value of the pending og.interrupt */
	int64_t start_ms, end_ms;	/* wall clock of its execution (first attempt to last);
					 * 0 when unknown (finished under an older opsgraph) */
	struct og_task_result res;
};

struct og_run {
	const struct og_graph *g;
	const struct og_exec_ops *ops;
	void *exec;
	struct og_run_opts opts;
	char thread_id[128];
	int limit;

	enum og_run_status status;
	struct og_state state;
	uint64_t *join_seen;		/* per join: bit k = source k finished */
	uint64_t *join_saved;		/* join_seen before the step, restored if it fails */
	int step;			/* number of the step about to run */
	uint64_t ckpt_id;		/* last checkpoint written or loaded */
	uint64_t next_id;		/* id of the next checkpoint (> every id of the thread) */
	cJSON *error;
	cJSON *resumed;			/* resumes since the last checkpoint, for its record */
	bool resume_unsaved;		/* a resume not committed yet (og_run_resume) */
	char breakpoint;		/* 'b'/'a': paused at a static breakpoint before/after */
	bool pass_before;		/* resumed from a before-breakpoint: run the step */
	char *bp_before, *bp_after;	/* per node: static breakpoints of this run */
	cJSON *bp_opts;			/* the run's own breakpoints, {"before","after"}, or NULL */
	cJSON *step_journals;		/* journals of the step being saved, for its checkpoint */
	struct og_ckpt_span *spans;	/* each task's span of that step (ckpt.h), */
	char (*span_ids)[17];		/* with their task ids: the tasks are gone by save */
	int nspans, capspans;
	struct og_json_out next_text;	/* save's scratch: next, printed (ckpt.h next_text) */
	struct og_json_out writes_text;	/* the step's writes summary, printed before the barrier */
	cJSON *recorded;		/* replay: task id -> recorded journal, or NULL */

	struct og_task *tasks;		/* the step about to run */
	int ntasks, cap;
	struct og_task *next;		/* being planned */
	int nnext, capnext;

	/* per-step scratch, sized once */
	char *pulled;			/* per node: pulled into the next step */
	int *first_writer;		/* per channel: task that wrote it, -1 */
	cJSON **fresh;			/* per channel: snapshot + own writes, for routes */
};

/* snprintf(dst, size, "%s", src) without snprintf: thread and task ids are
 * copied for every run and load */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* memset(t, 0, ...) but for the 2 KB of its result's message (res is
 * the last member) */
static void task_clear(struct og_task *t)
{
	_Static_assert(offsetof(struct og_task, res) + sizeof(t->res) == sizeof(struct og_task),
		       "res is the last member of og_task");
	memset(t, 0, offsetof(struct og_task, res));
	og_task_result_clear(&t->res);
}

static void task_release(struct og_task *t)
{
	cJSON_Delete(t->input);
	cJSON_Delete(t->resume);
	cJSON_Delete(t->journal);
	cJSON_Delete(t->interrupt);
	og_task_result_release(&t->res);
}

static void tasks_clear(struct og_task *t, int *n)
{
	int i;

	for (i = 0; i < *n; i++)
		task_release(&t[i]);
	*n = 0;
}

static int task_push(struct og_task **arr, int *n, int *cap, int node, cJSON *input)
{
	struct og_task *t;

	if (*n == *cap) {
		int ncap = *cap ? *cap * 2 : 8;
		struct og_task *p = realloc(*arr, sizeof(*p) * (size_t)ncap);
		if (!p) {
			cJSON_Delete(input);
			return -OG_ENOMEM;
		}
		*arr = p;
		*cap = ncap;
	}
	t = &(*arr)[(*n)++];
	task_clear(t);
	t->node = node;
	t->input = input;
	return 0;
}

struct og_run *og_run_new(const struct og_graph *g, const struct og_exec_ops *ops, void *exec_self,
			  const struct og_run_opts *opts, struct og_err *err)
{
	struct og_run *run;

	if (!g->validated) {
		og_err_set(err, -OG_ESTATE, "graph '%s' must be validated before it runs", g->name);
		return NULL;
	}
	run = calloc(1, sizeof(*run));
	if (!run)
		goto nomem;
	run->g = g;
	run->ops = ops;
	run->exec = exec_self;
	if (opts)
		run->opts = *opts;
	run->opts.thread_id = NULL;	/* borrowed pointer; we keep our copy */
	run->opts.interrupt_before = run->opts.interrupt_after = NULL;	/* read once, below */
	if (opts && opts->thread_id)
		copy_str(run->thread_id, sizeof(run->thread_id), opts->thread_id);
	else
		og_id_thread(run->thread_id);
	run->limit = opts && opts->recursion_limit > 0 ? opts->recursion_limit : g->recursion_limit;
	run->join_seen = calloc((size_t)g->njoins + 1, sizeof(uint64_t));
	run->join_saved = calloc((size_t)g->njoins + 1, sizeof(uint64_t));
	run->pulled = calloc((size_t)g->nnodes + 1, 1);
	run->first_writer = calloc((size_t)g->nchannels + 1, sizeof(int));
	run->fresh = calloc((size_t)g->nchannels + 1, sizeof(cJSON *));
	run->bp_before = calloc((size_t)g->nnodes + 1, 1);
	run->bp_after = calloc((size_t)g->nnodes + 1, 1);
	run->next_id = 1;
	if (!run->join_seen || !run->join_saved || !run->pulled || !run->first_writer || !run->fresh ||
	    !run->bp_before || !run->bp_after)
		goto nomem;
	{
		int i, k;
		for (i = 0; i < g->nnodes; i++) {
			run->bp_before[i] = g->nodes[i].interrupt_before;
			run->bp_after[i] = g->nodes[i].interrupt_after;
		}
		for (k = 0; k < 2; k++) {
			const char *const *names = opts ? (k ? opts->interrupt_after : opts->interrupt_before) : NULL;
			for (i = 0; names && names[i]; i++) {
				int node = og_graph_find_node(g, names[i]);
				if (!strcmp(names[i], "*")) {
					memset(k ? run->bp_after : run->bp_before, 1, (size_t)g->nnodes);
					continue;
				}
				if (node < 0) {
					og_err_set(err, -OG_EINVAL, "interrupt_%s: '%s' is not a node of graph '%s'",
						   k ? "after" : "before", names[i], g->name);
					goto fail;
				}
				(k ? run->bp_after : run->bp_before)[node] = 1;
			}
			if (names && names[0]) {
				cJSON *list;
				if (!run->bp_opts && !(run->bp_opts = cJSON_CreateObject()))
					goto nomem;
				list = cJSON_AddArrayToObject(run->bp_opts, k ? "after" : "before");
				for (i = 0; names[i]; i++)
					cJSON_AddItemToArray(list, cJSON_CreateString(names[i]));
			}
		}
	}
	if (og_state_init(&run->state, g, err) < 0)
		goto fail;
	return run;
nomem:
	og_err_set(err, -OG_ENOMEM, "run: out of memory");
fail:
	og_run_free(run);
	return NULL;
}

void og_run_free(struct og_run *run)
{
	if (!run)
		return;
	tasks_clear(run->tasks, &run->ntasks);
	tasks_clear(run->next, &run->nnext);
	free(run->tasks);
	free(run->next);
	og_state_release(&run->state);
	cJSON_Delete(run->error);
	free(run->join_seen);
	free(run->join_saved);
	free(run->pulled);
	free(run->first_writer);
	free(run->fresh);
	free(run->bp_before);
	free(run->bp_after);
	cJSON_Delete(run->resumed);
	cJSON_Delete(run->bp_opts);
	cJSON_Delete(run->step_journals);
	free(run->spans);
	free(run->span_ids);
	free(run->next_text.p);
	free(run->writes_text.p);
	cJSON_Delete(run->recorded);
	free(run);
}

enum og_run_status og_run_status(const struct og_run *run) { return run->status; }
const char *og_run_thread_id(const struct og_run *run) { return run->thread_id; }
int og_run_step(const struct og_run *run) { return run->step; }
const cJSON *og_run_error(const struct og_run *run) { return run->error; }

const char *og_run_status_name(enum og_run_status st)
{
	switch (st) {
	case OG_RUN_PENDING: return "pending";
	case OG_RUN_RUNNING: return "running";
	case OG_RUN_DONE: return "done";
	case OG_RUN_INTERRUPTED: return "interrupted";
	case OG_RUN_ERROR: return "error";
	}
	return "?";
}

cJSON *og_run_state_json(const struct og_run *run)
{
	cJSON *obj = cJSON_CreateObject();
	int i;

	if (!obj)
		return NULL;
	for (i = 0; i < run->state.n; i++) {
		cJSON *v;
		if (!run->state.vals[i])
			continue;
		if (!(v = cJSON_Duplicate(run->state.vals[i], 1))) {
			cJSON_Delete(obj);
			return NULL;
		}
		cJSON_AddItemToObject(obj, run->g->channels[i].name, v);
	}
	return obj;
}

const cJSON *og_run_value(const struct og_run *run, const char *channel)
{
	int i = og_graph_find_channel(run->g, channel);

	return i >= 0 && i < run->state.n ? run->state.vals[i] : NULL;
}

/* ---- events and checkpoints ------------------------------------------- */

static void emit(struct og_run *run, cJSON *ev)
{
	if (ev)
		run->opts.on_event(run->opts.event_ud, ev);
	cJSON_Delete(ev);
}

static cJSON *tasks_json(const struct og_run *run, const struct og_task *t, int n)
{
	cJSON *arr = cJSON_CreateArray();
	int i;

	for (i = 0; arr && i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddStringToObject(o, "id", t[i].id);
		cJSON_AddStringToObject(o, "node", og_graph_node_name(run->g, t[i].node));
		if (t[i].input)
			cJSON_AddItemToObject(o, "input", cJSON_Duplicate(t[i].input, 1));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* tasks_json's text into o (reset first), for save: no tree per step.
 * 0, or -1 when memory ran out. */
static int print_tasks(struct og_json_out *o, const struct og_run *run, const struct og_task *t, int n)
{
	int i;

	o->len = 0;
	o->failed = 0;
	og_json_out_raw(o, "[", 1);
	for (i = 0; i < n; i++) {
		og_json_out_raw(o, i ? ",{\"id\":" : "{\"id\":", i ? 7 : 6);
		og_json_out_string(o, t[i].id);
		og_json_out_raw(o, ",\"node\":", 8);
		og_json_out_string(o, og_graph_node_name(run->g, t[i].node));
		if (t[i].input) {
			og_json_out_raw(o, ",\"input\":", 9);
			og_json_out_value(o, t[i].input);
		}
		og_json_out_raw(o, "}", 1);
	}
	og_json_out_raw(o, "]", 1);
	return og_json_out_finish(o, NULL) ? 0 : -1;
}

/* A task's own [start_ms, end_ms]: tasks of one step run one after another,
 * so the step's span alone would give each of them the whole step. */
static void add_span(cJSON *o, const char *key, const struct og_task *t)
{
	cJSON *a;

	if (!t->start_ms || !(a = cJSON_CreateArray()))
		return;
	cJSON_AddItemToArray(a, cJSON_CreateNumber((double)t->start_ms));
	cJSON_AddItemToArray(a, cJSON_CreateNumber((double)t->end_ms));
	cJSON_AddItemToObject(o, key, a);
}

/* Pending writes: what the tasks of the step in progress have done so far:
 * finished tasks' results (not run again on resume) and paused tasks' resume
 * values and side-effect journals (replayed when they run again). */
static cJSON *pending_json(const struct og_run *run)
{
	cJSON *arr = NULL;
	int i;

	for (i = 0; i < run->ntasks; i++) {
		const struct og_task *t = &run->tasks[i];
		cJSON *o;
		if (!t->done && !t->waiting && !t->resume)
			continue;
		if (!arr && !(arr = cJSON_CreateArray()))
			return NULL;
		if (!(o = cJSON_CreateObject()))
			break;
		cJSON_AddStringToObject(o, "task", t->id);
		cJSON_AddStringToObject(o, "node", og_graph_node_name(run->g, t->node));
		if (t->done) {
			if (t->res.writes)
				cJSON_AddItemToObject(o, "writes", cJSON_Duplicate(t->res.writes, 1));
			if (t->res.next)
				cJSON_AddItemToObject(o, "next", cJSON_Duplicate(t->res.next, 1));
			if (t->res.journal)
				cJSON_AddItemToObject(o, "journal", cJSON_Duplicate(t->res.journal, 1));
			add_span(o, "span", t);
		} else {
			if (t->resume)
				cJSON_AddItemToObject(o, "resume", cJSON_Duplicate(t->resume, 1));
			if (t->journal)
				cJSON_AddItemToObject(o, "journal", cJSON_Duplicate(t->journal, 1));
			if (t->waiting) {
				cJSON_AddItemToObject(o, "interrupt", cJSON_Duplicate(t->interrupt, 1));
				add_span(o, "span", t);	/* until it asked (postmortem) */
			}
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* The id of the k-th og.interrupt of a task: stable across re-executions. */
static void interrupt_id(char buf[17], const char *task_id, int k)
{
	uint64_t h = og_id_hash(task_id, strlen(task_id) + 1, OG_ID_HASH_SEED);

	h = og_id_hash(&k, sizeof(k), h);
	og_id_hex16(buf, h);
}

/* [{"id","task","node","value","step"}] of the paused tasks, or the static
 * breakpoint the run stopped at; NULL when not interrupted. */
static cJSON *interrupts_json(const struct og_run *run)
{
	cJSON *arr;
	int i;

	if (run->status != OG_RUN_INTERRUPTED || !(arr = cJSON_CreateArray()))
		return NULL;
	if (run->breakpoint) {
		cJSON *o = cJSON_CreateObject(), *nodes;
		char id[40];
		snprintf(id, sizeof(id), "%s-%d", run->breakpoint == 'b' ? "before" : "after", run->step);
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "kind", run->breakpoint == 'b' ? "interrupt_before" : "interrupt_after");
		nodes = cJSON_AddArrayToObject(o, "nodes");
		for (i = 0; i < run->ntasks; i++)
			cJSON_AddItemToArray(nodes, cJSON_CreateString(og_graph_node_name(run->g, run->tasks[i].node)));
		cJSON_AddNumberToObject(o, "step", run->step);
		cJSON_AddItemToArray(arr, o);
		return arr;
	}
	for (i = 0; i < run->ntasks; i++) {
		const struct og_task *t = &run->tasks[i];
		cJSON *o;
		char id[17];
		if (!t->waiting)
			continue;
		o = cJSON_CreateObject();
		interrupt_id(id, t->id, cJSON_GetArraySize(t->resume));
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "kind", "interrupt");
		cJSON_AddStringToObject(o, "task", t->id);
		cJSON_AddStringToObject(o, "node", og_graph_node_name(run->g, t->node));
		cJSON_AddItemToObject(o, "value", t->interrupt ? cJSON_Duplicate(t->interrupt, 1) : cJSON_CreateNull());
		cJSON_AddNumberToObject(o, "step", run->step);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* writes_text: the step's writes summary (run->writes_text.p), or NULL */
static int save(struct og_run *run, const char *source, const char *writes_text, struct og_err *err)
{
	struct og_ckpt ck;
	cJSON *pending = NULL, *interrupts = NULL;
	int rc, i;

	if (!run->opts.store) {
		run->ckpt_id = run->next_id++;
		cJSON_Delete(run->resumed);
		run->resumed = NULL;
		return 0;
	}
	memset(&ck, 0, sizeof(ck));
	if (print_tasks(&run->next_text, run, run->tasks, run->ntasks) < 0)
		return og_err_set(err, -OG_ENOMEM, "run: out of memory saving thread %s", run->thread_id);
	for (i = 0; i < run->nspans; i++)
		run->spans[i].task = run->span_ids[i];
	pending = pending_json(run);	/* NULL after a completed step */
	interrupts = interrupts_json(run);
	ck.thread_id = run->thread_id;
	ck.graph = run->g->name;
	ck.graph_file = run->opts.graph_file;
	ck.parent_id = run->ckpt_id;
	ck.id = run->next_id;
	ck.step = run->step - 1;
	ck.source = source;
	ck.status = og_run_status_name(run->status);
	ck.created_ms = og_clock_wall_ms();
	ck.g = run->g;
	ck.state = &run->state;
	ck.join_seen = run->join_seen;
	ck.njoins = run->g->njoins;
	ck.next_text = run->next_text.p;
	ck.pending = pending;
	ck.interrupts = interrupts;
	ck.error = run->error;
	ck.writes_text = writes_text;
	ck.resumed = run->resumed;
	ck.journals = run->step_journals;
	ck.spans = run->spans;
	ck.nspans = run->nspans;
	ck.breakpoints = run->bp_opts;
	rc = run->opts.store->put(run->opts.store_self, &ck, err);
	cJSON_Delete(run->step_journals);
	run->step_journals = NULL;
	run->nspans = 0;
	if (rc == 0) {
		run->ckpt_id = ck.id;
		run->next_id = ck.id + 1;
		cJSON_Delete(run->resumed);
		run->resumed = NULL;
		run->resume_unsaved = false;
	}
	cJSON_Delete(pending);
	cJSON_Delete(interrupts);
	return rc;
}

/* Commits a resume that og_run_resume left to the step's checkpoint,
 * before anything else of the step reaches the store (a pending write
 * keyed by the checkpoint the step starts from): a crash after that write
 * must find the decision committed. */
static int save_resume(struct og_run *run, struct og_err *err)
{
	return run->resume_unsaved ? save(run, "resume", NULL, err) : 0;
}

/* Marks the run failed with a structured error and returns code. */
static int fail_run(struct og_run *run, int code, int node, struct og_err *err)
{
	cJSON *e = cJSON_CreateObject();

	run->status = OG_RUN_ERROR;
	cJSON_Delete(run->error);
	run->error = e;
	if (e) {
		cJSON_AddStringToObject(e, "message", err ? err->msg : og_strerror(code));
		cJSON_AddStringToObject(e, "kind", og_strerror(code));
		if (node != OG_START)
			cJSON_AddStringToObject(e, "node", og_graph_node_name(run->g, node));
		cJSON_AddNumberToObject(e, "step", run->step);
	}
	if (run->opts.on_event) {
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "event", "error");
		cJSON_AddNumberToObject(ev, "step", run->step);
		cJSON_AddItemToObject(ev, "error", cJSON_Duplicate(e, 1));
		emit(run, ev);
	}
	return code;
}

/* ---- planning ------------------------------------------------------------ */

/* Adds one item of a `next` list ("node" or {"node","input"}) produced by task
 * `from`. allowed/nallowed restrict targets (routes); NULL = any node. */
static int plan_item(struct og_run *run, int from, const cJSON *item, const int *allowed, int nallowed,
		     const char *what, struct og_err *err)
{
	const struct og_graph *g = run->g;
	const char *name = NULL;
	const cJSON *input = NULL;
	int node, k, ok;
	char where[300];

	if (cJSON_IsString(item)) {
		name = item->valuestring;
	} else if (cJSON_IsObject(item)) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(item, "node");
		input = cJSON_GetObjectItemCaseSensitive(item, "input");
		if (cJSON_IsString(n))
			name = n->valuestring;
	}
	if (!name)
		return og_err_set(err, -OG_EINVAL,
				  "%s of node '%s' returned something that is not a node name or og.send(node, input)",
				  what, og_graph_node_name(g, from));
	node = og_graph_find_node(g, name);
	if (allowed) {
		const struct og_srcpos *pos = NULL;
		int r;
		for (r = 0; g->out_routes[from + 1][r] >= 0; r++)
			if (g->routes[g->out_routes[from + 1][r]].targets == allowed)
				pos = &g->routes[g->out_routes[from + 1][r]].pos;
		for (ok = 0, k = 0; k < nallowed; k++)
			ok |= allowed[k] == node;
		if (!ok) {
			return og_err_set(err, -OG_EINVAL,
					  "%s: route from '%s' returned '%s', which is not among its declared targets; "
					  "add it to the targets list of g:route",
					  og_srcpos_str(pos, where, sizeof(where)), og_graph_node_name(g, from), name);
		}
	}
	if (node < OG_END || node == OG_START)
		return og_err_set(err, -OG_EINVAL, "%s of node '%s' sent to '%s', which is not a node of graph '%s'",
				  what, og_graph_node_name(g, from), name, g->name);
	if (node == OG_END)
		return 0;
	if (input || cJSON_IsObject(item)) {
		cJSON *copy = input ? cJSON_Duplicate(input, 1) : cJSON_CreateNull();
		if (!copy || task_push(&run->next, &run->nnext, &run->capnext, node, copy) < 0)
			return og_err_set(err, -OG_ENOMEM, "run: out of memory");
		return 0;
	}
	run->pulled[node] = 1;
	return 0;
}

static int plan_list(struct og_run *run, int from, const cJSON *list, const int *allowed, int nallowed,
		     const char *what, struct og_err *err)
{
	const cJSON *item;
	int rc;

	if (cJSON_IsString(list) || (cJSON_IsObject(list) && cJSON_GetObjectItemCaseSensitive(list, "node")))
		return plan_item(run, from, list, allowed, nallowed, what, err);
	if (!cJSON_IsArray(list))
		return og_err_set(err, -OG_EINVAL, "%s of node '%s' must be a node name, a list of names, or Sends",
				  what, og_graph_node_name(run->g, from));
	cJSON_ArrayForEach(item, list)
		if ((rc = plan_item(run, from, item, allowed, nallowed, what, err)) < 0)
			return rc;
	return 0;
}

/* Static edges and joins leaving `from` (a node index or OG_START). */
static void plan_edges(struct og_run *run, int from)
{
	const struct og_graph *g = run->g;
	const int *out = g->out_edges[from + 1];
	int i, j, k;

	for (i = 0; out[i] >= 0; i++) {
		const struct og_edge *e = &g->edges[out[i]];
		if (e->nfrom == 1) {
			if (e->to >= 0)
				run->pulled[e->to] = 1;
			continue;
		}
		for (j = 0; j < g->njoins && g->join_edge[j] != out[i]; j++)
			;
		for (k = 0; k < e->nfrom; k++)
			if (e->from[k] == from)
				run->join_seen[j] |= 1ULL << k;
		if (run->join_seen[j] == (e->nfrom == 64 ? ~0ULL : (1ULL << e->nfrom) - 1)) {
			run->join_seen[j] = 0;
			if (e->to >= 0)
				run->pulled[e->to] = 1;
		}
	}
}

/* Runs the routes leaving `from` against `view`. */
static int plan_routes(struct og_run *run, int from, const struct og_view *view, struct og_err *err)
{
	const struct og_graph *g = run->g;
	const int *out = g->out_routes[from + 1];
	int i, rc;

	for (i = 0; out[i] >= 0; i++) {
		const struct og_route *r = &g->routes[out[i]];
		cJSON *targets = NULL;
		char where[300];

		rc = run->ops->call_route(run->exec, g, out[i], view, &targets, err);
		if (rc < 0)
			return og_err_prefix(err, "route from '%s' (%s): ", og_graph_node_name(g, from),
					     og_srcpos_str(&r->pos, where, sizeof(where)));
		rc = plan_list(run, from, targets, r->targets, r->ntargets, "route", err);
		cJSON_Delete(targets);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void step_cancel(struct og_run *run)
{
	tasks_clear(run->next, &run->nnext);
	memset(run->pulled, 0, (size_t)run->g->nnodes);
	/* planning already advanced the joins; the step did not happen */
	memcpy(run->join_seen, run->join_saved, sizeof(uint64_t) * (size_t)run->g->njoins);
}

/* Moves the planned tasks into run->tasks, pull tasks first in node order. */
static int plan_commit(struct og_run *run, struct og_err *err)
{
	struct og_task *sends;
	int nsends = run->nnext, i, rc;

	tasks_clear(run->tasks, &run->ntasks);
	for (i = 0; i < run->g->nnodes; i++) {
		if (!run->pulled[i])
			continue;
		run->pulled[i] = 0;
		if ((rc = task_push(&run->tasks, &run->ntasks, &run->cap, i, NULL)) < 0)
			return og_err_set(err, rc, "run: out of memory");
	}
	sends = run->next;
	for (i = 0; i < nsends; i++) {
		if ((rc = task_push(&run->tasks, &run->ntasks, &run->cap, sends[i].node, sends[i].input)) < 0) {
			sends[i].input = NULL;
			return og_err_set(err, rc, "run: out of memory");
		}
		sends[i].input = NULL;	/* moved */
	}
	run->nnext = 0;
	for (i = 0; i < run->ntasks; i++)
		og_id_task(run->tasks[i].id, run->thread_id, run->step,
			   og_graph_node_name(run->g, run->tasks[i].node), i);
	run->status = run->ntasks ? OG_RUN_RUNNING : OG_RUN_DONE;
	return 0;
}

/* ---- input --------------------------------------------------------------- */

/* "a, b, c" of n names got by name(ctx, i), cut to fit buf */
static const char *join_names(char *buf, size_t size, int n, const char *(*name)(const void *, int),
			      const void *ctx)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && len + 2 < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", name(ctx, i));
	return buf;
}

static const char *channel_name(const void *g, int i)
{
	return ((const struct og_graph *)g)->channels[i].name;
}

static const char *task_node_name(const void *run, int i)
{
	const struct og_run *r = run;
	return og_graph_node_name(r->g, r->tasks[i].node);
}

static int unknown_channel(const struct og_graph *g, const char *who, const char *name, struct og_err *err)
{
	char list[1024];

	return og_err_set(err, -OG_EINVAL, "%s wrote unknown channel '%s' (graph '%s' declares: %s)",
			  who, name, g->name, join_names(list, sizeof(list), g->nchannels, channel_name, g));
}

/* Writes that do not come from a step (the input, an update or fork):
 * all checked first, then applied through the reducers; the channels get
 * the id of the checkpoint about to be saved as their version. */
static int apply_outside_step(struct og_run *run, const cJSON *values, const char *who, struct og_err *err)
{
	const struct og_graph *g = run->g;
	const cJSON *item;
	int ch, rc;

	cJSON_ArrayForEach(item, values) {
		if ((ch = og_graph_find_channel(g, item->string)) < 0)
			return unknown_channel(g, who, item->string, err);
		if ((rc = og_channel_check(&g->channels[ch], item, err)) < 0)
			return og_err_prefix(err, "%s: ", who);
	}
	cJSON_ArrayForEach(item, values) {
		cJSON *copy = cJSON_Duplicate(item, 1);
		ch = og_graph_find_channel(g, item->string);
		if (!copy)
			return og_err_set(err, -OG_ENOMEM, "run: out of memory");
		if ((rc = og_channel_apply(g, ch, &run->state.vals[ch], copy, run->ops, run->exec, err)) < 0)
			return og_err_prefix(err, "%s: ", who);
		run->state.versions[ch] = run->next_id;
	}
	return 0;
}

/* og.graph{input = "c"}: an input that is not an object whose keys are all
 * channels (an alert payload as the monitoring system sent it) goes into
 * channel c. An object of channels is taken as it is, so {"c": payload}
 * keeps working. Returns a new wrapper, or NULL to use input itself. */
static cJSON *wrap_input(const struct og_graph *g, const cJSON *input)
{
	const cJSON *k;
	cJSON *w;

	if (!g->input_channel || !input || cJSON_IsNull(input))
		return NULL;
	if (cJSON_IsObject(input)) {
		bool all = input->child != NULL;
		cJSON_ArrayForEach(k, input)
			if (og_graph_find_channel(g, k->string) < 0)
				all = false;
		if (all)
			return NULL;
	}
	if (!(w = cJSON_CreateObject()))
		return NULL;
	cJSON_AddItemReferenceToObject(w, g->input_channel, (cJSON *)input);
	return w;
}

int og_run_start(struct og_run *run, const cJSON *input, struct og_err *err)
{
	struct og_view view;
	cJSON *wrapped;
	int rc;

	if (run->status != OG_RUN_PENDING)
		return og_err_set(err, -OG_ESTATE, "run %s has already started", run->thread_id);
	if ((wrapped = wrap_input(run->g, input)))
		input = wrapped;
	if (input && !cJSON_IsObject(input) && !cJSON_IsNull(input))
		return og_err_set(err, -OG_EINVAL,
				  "input must be a JSON object of state channels, e.g. {\"count\": 0}");
	rc = apply_outside_step(run, input, "input", err);
	cJSON_Delete(wrapped);
	if (rc < 0)
		return rc;
	plan_edges(run, OG_START);
	view = og_state_view(&run->state);
	if ((rc = plan_routes(run, OG_START, &view, err)) < 0) {
		step_cancel(run);
		return fail_run(run, rc, OG_START, err);	/* the input is applied: no second start */
	}
	if ((rc = plan_commit(run, err)) < 0)
		return rc;
	return save(run, "input", NULL, err);
}

/* ---- one superstep -------------------------------------------------------- */

struct ledger_ctx {
	struct og_run *run;
	const struct og_task *t;
};

/* Effect ledger (exec.h flush_journal): the task's journal so far as a
 * partial pending write, so a re-execution after a crash replays it and the
 * executor sees a tool that started without a result instead of running it
 * again. It carries the resume values too, because it replaces the paused
 * entry of a task that was answered (store_lmdb_ckpt.c merge_pending). */
static int flush_partial(const struct og_call *call, const cJSON *journal, struct og_err *err)
{
	const struct ledger_ctx *lc = call->flush_ud;
	struct og_run *run = lc->run;
	cJSON *rec;
	int rc;

	if ((rc = save_resume(run, err)) < 0)
		return rc;
	if (!(rec = cJSON_CreateObject()))
		return og_err_set(err, -OG_ENOMEM, "run: out of memory");
	cJSON_AddStringToObject(rec, "task", call->task_id);
	cJSON_AddStringToObject(rec, "node", og_graph_node_name(run->g, call->node));
	cJSON_AddBoolToObject(rec, "partial", 1);
	if (lc->t->resume)
		cJSON_AddItemToObject(rec, "resume", cJSON_Duplicate(lc->t->resume, 1));
	if (journal)
		cJSON_AddItemToObject(rec, "journal", cJSON_Duplicate(journal, 1));
	rc = run->opts.store->put_writes(run->opts.store_self, run->thread_id, run->ckpt_id, rec, err);
	cJSON_Delete(rec);
	return rc;
}

static int call_task(struct og_run *run, struct og_task *t, const struct og_view *view, struct og_err *err)
{
	const struct og_node_def *nd = &run->g->nodes[t->node];
	struct ledger_ctx ledger = { run, t };
	struct og_call call;
	int attempt, rc, delay = nd->backoff_ms;
	int64_t t0 = 0;

	memset(&call, 0, sizeof(call));
	call.g = run->g;
	call.node = t->node;
	call.view = view;
	call.input = t->input;
	call.step = run->step;
	call.task_id = t->id;
	call.thread_id = run->thread_id;
	call.resume = t->resume;
	call.journal = t->journal;
	if (!call.journal && run->recorded)
		call.journal = cJSON_GetObjectItemCaseSensitive(run->recorded, t->id);
	if (run->opts.store && run->opts.store->put_writes) {
		call.flush_journal = flush_partial;
		call.flush_ud = &ledger;
	}
	t->start_ms = og_clock_wall_ms();
	for (attempt = 1;; attempt++) {
		call.attempt = attempt;
		og_task_result_release(&t->res);
		og_task_result_clear(&t->res);
		if (run->opts.on_event)
			t0 = og_clock_mono_us();
		rc = run->ops->call_node(run->exec, &call, &t->res);
		if (rc < 0) {
			t->res.status = OG_TASK_ERROR;
			t->res.err.code = rc;
			/* the executor's message is in res->err; err is the caller's */
			if (!t->res.err.msg[0])
				snprintf(t->res.err.msg, sizeof(t->res.err.msg), "executor failed: %s",
					 og_strerror(rc));
		}
		if (run->opts.on_event) {
			cJSON *ev = cJSON_CreateObject();
			static const char *const st[] = { "ok", "error", "budget", "invalid", "interrupt" };
			cJSON_AddStringToObject(ev, "event", "task");
			cJSON_AddNumberToObject(ev, "step", run->step);
			cJSON_AddStringToObject(ev, "task", t->id);
			cJSON_AddStringToObject(ev, "node", nd->name);
			cJSON_AddNumberToObject(ev, "attempt", attempt);
			cJSON_AddStringToObject(ev, "status", st[t->res.status]);
			if (t->res.writes)
				cJSON_AddItemToObject(ev, "writes", cJSON_Duplicate(t->res.writes, 1));
			if (t->res.next)
				cJSON_AddItemToObject(ev, "next", cJSON_Duplicate(t->res.next, 1));
			if (t->res.status != OG_TASK_OK)
				cJSON_AddStringToObject(ev, "error", t->res.err.msg);
			cJSON_AddNumberToObject(ev, "duration_ms", (double)(og_clock_mono_us() - t0) / 1000.0);
			emit(run, ev);
		}
		if (t->res.status != OG_TASK_ERROR || attempt >= nd->max_attempts)
			break;
		if (delay > 0)
			og_clock_sleep_ms(delay);
		delay = delay * 2 > 60000 ? 60000 : delay * 2;
	}
	t->end_ms = og_clock_wall_ms();
	if (t->res.status == OG_TASK_OK) {
		t->done = true;
		return 0;
	}
	if (t->res.status == OG_TASK_INTERRUPT) {
		/* paused: keep what a re-execution needs, drop the rest */
		cJSON_Delete(t->interrupt);
		cJSON_Delete(t->journal);
		t->interrupt = t->res.interrupt;
		t->journal = t->res.journal;
		t->res.interrupt = t->res.journal = NULL;
		og_task_result_release(&t->res);
		t->waiting = true;
		return 1;
	}
	if (t->res.status == OG_TASK_ERROR && nd->max_attempts > 1)
		return og_err_set(err, -OG_ENODE, "node '%s' failed after %d attempts: %s", nd->name,
				  nd->max_attempts, t->res.err.msg);
	if (t->res.status == OG_TASK_BUDGET)
		return og_err_set(err, -OG_EBUDGET, "%s", t->res.err.msg);
	return og_err_set(err, -OG_ENODE, "node '%s' failed: %s", nd->name, t->res.err.msg);
}

/* Checks names and shapes of a finished task's writes; conflicts on og.last
 * channels are caught here too, naming both writers. */
static int check_writes(struct og_run *run, int ti, struct og_err *err)
{
	const struct og_graph *g = run->g;
	struct og_task *t = &run->tasks[ti];
	const char *name = g->nodes[t->node].name;
	const cJSON *w;
	char who[300];
	int ch, rc;

	/* who: "node 'NAME'", printed only for a message (snprintf was ~1% of a step) */
	if (t->res.writes && !cJSON_IsObject(t->res.writes))
		return og_err_set(err, -OG_EINVAL, "node '%s' must return a table of channel writes", name);
	cJSON_ArrayForEach(w, t->res.writes) {
		if ((ch = og_graph_find_channel(g, w->string)) < 0) {
			snprintf(who, sizeof(who), "node '%s'", name);
			return unknown_channel(g, who, w->string, err);
		}
		if ((rc = og_channel_check(&g->channels[ch], w, err)) < 0)
			return og_err_prefix(err, "node '%s': ", name);
		if (g->channels[ch].kind == OG_RED_LAST && run->first_writer[ch] >= 0)
			return og_err_set(err, -OG_EINVAL,
					  "concurrent writes to '%s' by %s and %s in step %d: og.last takes one "
					  "write per step (use og.append, og.merge, og.sum or og.reducer to combine them)",
					  w->string, g->nodes[run->tasks[run->first_writer[ch]].node].name,
					  g->nodes[t->node].name, run->step);
		if (run->first_writer[ch] < 0)
			run->first_writer[ch] = ti;
	}
	return 0;
}

/* The snapshot with only task t's writes applied, for its routes. */
static int route_task(struct og_run *run, struct og_task *t, struct og_err *err)
{
	const struct og_graph *g = run->g;
	const cJSON **vals = (const cJSON **)run->fresh;
	struct og_view view = { run->state.n, (const cJSON *const *)run->fresh };
	const cJSON *w;
	int ch, rc = 0;

	if (g->out_routes[t->node + 1][0] < 0)
		return 0;
	for (ch = 0; ch < run->state.n; ch++)
		vals[ch] = run->state.vals[ch];
	cJSON_ArrayForEach(w, t->res.writes) {
		cJSON *slot, *upd;
		ch = og_graph_find_channel(g, w->string);
		slot = run->state.vals[ch] ? cJSON_Duplicate(run->state.vals[ch], 1) : NULL;
		upd = cJSON_Duplicate(w, 1);
		if ((run->state.vals[ch] && !slot) || !upd) {
			cJSON_Delete(slot);
			cJSON_Delete(upd);
			rc = og_err_set(err, -OG_ENOMEM, "run: out of memory");
			break;
		}
		if ((rc = og_channel_apply(g, ch, &slot, upd, run->ops, run->exec, err)) < 0) {
			cJSON_Delete(slot);
			break;
		}
		run->fresh[ch] = slot;	/* owned until the cleanup below */
	}
	if (rc == 0)
		rc = plan_routes(run, t->node, &view, err);
	cJSON_ArrayForEach(w, t->res.writes) {
		ch = og_graph_find_channel(g, w->string);
		if (ch >= 0 && run->fresh[ch] != run->state.vals[ch])
			cJSON_Delete(run->fresh[ch]);
		run->fresh[ch] = NULL;
	}
	return rc;
}


/* A completed task's journal is kept only for replay with the recorded
 * answers, so it must not make every checkpoint heavy: one whose JSON is
 * larger than this (a node that fetched 2000 log lines) is left out, and a
 * --recorded replay makes that task's calls again. */
#define OG_JOURNAL_KEEP_MAX (256 * 1024)

/* The journals of this step's tasks, kept with its checkpoint. */
static void collect_journals(struct og_run *run)
{
	int i;

	cJSON_Delete(run->step_journals);
	run->step_journals = NULL;
	for (i = 0; i < run->ntasks; i++) {
		const struct og_task *t = &run->tasks[i];
		size_t len = 0;
		char *text;
		if (!t->res.journal || !t->res.journal->child)
			continue;
		if (!(text = og_json_print(t->res.journal, &len)))
			continue;
		free(text);
		if (len > OG_JOURNAL_KEEP_MAX)
			continue;
		if (!run->step_journals && !(run->step_journals = cJSON_CreateObject()))
			return;
		cJSON_AddItemToObject(run->step_journals, t->id, cJSON_Duplicate(t->res.journal, 1));
	}
}

/* Each task's own span, kept with the step's checkpoint (postmortem);
 * tasks without one (finished under an older opsgraph) are left out. */
static void collect_times(struct og_run *run)
{
	int i;

	run->nspans = 0;
	if (run->ntasks > run->capspans) {
		struct og_ckpt_span *s = realloc(run->spans, (size_t)run->ntasks * sizeof(*s));
		char (*ids)[17] = s ? realloc(run->span_ids, (size_t)run->ntasks * sizeof(*ids)) : NULL;
		if (s)
			run->spans = s;
		if (!ids)
			return;		/* the checkpoint goes without times, as a failed add_span did */
		run->span_ids = ids;
		run->capspans = run->ntasks;
	}
	for (i = 0; i < run->ntasks; i++) {
		const struct og_task *t = &run->tasks[i];
		if (!t->start_ms)
			continue;
		memcpy(run->span_ids[run->nspans], t->id, sizeof(t->id));
		run->spans[run->nspans].start_ms = t->start_ms;
		run->spans[run->nspans++].end_ms = t->end_ms;
	}
}

void og_run_use_recorded(struct og_run *run, cJSON *journals)
{
	cJSON_Delete(run->recorded);
	run->recorded = journals;
}

/* The step's writes, {"node": ["channel", ...]} (ckpt.h), printed into
 * run->writes_text: a node's list holds the writes of all its tasks, in
 * task order, the nodes in the order of their first task. The text, or
 * NULL when memory ran out (the checkpoint then goes without it). */
static const char *print_writes(struct og_run *run)
{
	struct og_json_out *o = &run->writes_text;
	int i, j, k, nw;

	o->len = 0;
	o->failed = 0;
	og_json_out_raw(o, "{", 1);
	for (i = 0; i < run->ntasks; i++) {
		int node = run->tasks[i].node;
		for (j = 0; j < i && run->tasks[j].node != node; j++)
			;
		if (j < i)
			continue;			/* listed with its node's first task */
		if (i)
			og_json_out_raw(o, ",", 1);
		og_json_out_string(o, run->g->nodes[node].name);
		og_json_out_raw(o, ":[", 2);
		for (k = i, nw = 0; k < run->ntasks; k++) {
			const cJSON *w;
			if (run->tasks[k].node != node)
				continue;
			cJSON_ArrayForEach(w, run->tasks[k].res.writes) {
				if (nw++)
					og_json_out_raw(o, ",", 1);
				og_json_out_string(o, w->string);
			}
		}
		og_json_out_raw(o, "]", 1);
	}
	og_json_out_raw(o, "}", 1);
	return og_json_out_finish(o, NULL);
}

/* A finished task's writes, committed before its siblings finish, so that a
 * crash mid-step does not run it again (a step of one task needs no such
 * record: its checkpoint follows at once). */
static int save_task(struct og_run *run, const struct og_task *t, struct og_err *err)
{
	cJSON *rec;
	int rc;

	if (!run->opts.store || !run->opts.store->put_writes)
		return 0;
	if (!(rec = cJSON_CreateObject()))
		return og_err_set(err, -OG_ENOMEM, "run: out of memory");
	cJSON_AddStringToObject(rec, "task", t->id);
	cJSON_AddStringToObject(rec, "node", og_graph_node_name(run->g, t->node));
	if (t->res.writes)
		cJSON_AddItemToObject(rec, "writes", cJSON_Duplicate(t->res.writes, 1));
	if (t->res.next)
		cJSON_AddItemToObject(rec, "next", cJSON_Duplicate(t->res.next, 1));
	if (t->res.journal)
		cJSON_AddItemToObject(rec, "journal", cJSON_Duplicate(t->res.journal, 1));
	add_span(rec, "span", t);
	rc = run->opts.store->put_writes(run->opts.store_self, run->thread_id, run->ckpt_id, rec, err);
	cJSON_Delete(rec);
	return rc;
}

static void emit_interrupts(struct og_run *run)
{
	cJSON *ev;

	if (!run->opts.on_event)
		return;
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "event", "interrupt");
	cJSON_AddNumberToObject(ev, "step", run->step);
	cJSON_AddItemToObject(ev, "interrupts", interrupts_json(run));
	emit(run, ev);
}

/* Stops the run at an og.interrupt (kind 0) or a static breakpoint before
 * the step ('b'); the step's finished tasks are kept as pending writes. */
static int pause(struct og_run *run, char kind, struct og_err *err)
{
	int rc;

	run->status = OG_RUN_INTERRUPTED;
	run->breakpoint = kind;
	rc = save(run, "loop", NULL, err);
	if (rc == 0)
		emit_interrupts(run);
	return rc;
}

/* Folds the step's writes to channels with a custom reducer into copies
 * (run->fresh[ch]), in task order; the barrier swaps them in. */
static int fold_custom(struct og_run *run, struct og_err *err)
{
	const struct og_graph *g = run->g;
	int ch, i, rc;

	for (ch = 0; ch < g->nchannels; ch++) {
		if (g->channels[ch].kind != OG_RED_CUSTOM || run->first_writer[ch] < 0)
			continue;
		run->fresh[ch] = run->state.vals[ch] ? cJSON_Duplicate(run->state.vals[ch], 1) : NULL;
		if (run->state.vals[ch] && !run->fresh[ch])
			goto nomem;
		for (i = 0; i < run->ntasks; i++) {
			const cJSON *w = cJSON_GetObjectItemCaseSensitive(run->tasks[i].res.writes, g->channels[ch].name);
			cJSON *copy;
			if (!w)
				continue;
			if (!(copy = cJSON_Duplicate(w, 1)))
				goto nomem;
			if ((rc = og_channel_apply(g, ch, &run->fresh[ch], copy, run->ops, run->exec, err)) < 0) {
				og_err_prefix(err, "node '%s' wrote it: ", g->nodes[run->tasks[i].node].name);
				goto fail;
			}
		}
	}
	return 0;
nomem:
	rc = og_err_set(err, -OG_ENOMEM, "run: out of memory");
fail:
	for (ch = 0; ch < g->nchannels; ch++) {
		cJSON_Delete(run->fresh[ch]);
		run->fresh[ch] = NULL;
	}
	return rc;
}

static int run_superstep(struct og_run *run, struct og_err *err)
{
	const struct og_graph *g = run->g;
	struct og_view view = og_state_view(&run->state);
	const char *summary = NULL;
	int i, rc, ch;
	int64_t t0 = run->opts.on_event ? og_clock_mono_us() : 0;

	/* a static breakpoint before any of this step's nodes */
	if (!run->pass_before) {
		for (i = 0; i < run->ntasks; i++)
			if (run->bp_before[run->tasks[i].node] && !run->tasks[i].done)
				break;
		if (i < run->ntasks)
			return pause(run, 'b', err);
	}
	run->pass_before = false;
	run->breakpoint = 0;
	/* siblings' pending writes are keyed by the checkpoint the step starts
	 * from: with more than one task, that is the resume's (save_resume) */
	if (run->ntasks > 1 && (rc = save_resume(run, err)) < 0)
		return rc;
	for (i = 0; i < run->ntasks; i++) {
		struct og_task *t = &run->tasks[i];
		if (t->done || t->waiting)
			continue;	/* finished before a crash or a sibling's failure,
					 * or still waiting for its own resume */
		if ((rc = call_task(run, t, &view, err)) < 0) {
			int code = fail_run(run, rc, t->node, err);
			save(run, "loop", NULL, NULL);
			return code;
		}
		if (t->done && run->ntasks > 1 && (rc = save_task(run, t, err)) < 0)
			return fail_run(run, rc, t->node, err);
	}
	for (i = 0; i < run->ntasks; i++)
		if (run->tasks[i].waiting)
			return pause(run, 0, err);
	for (ch = 0; ch < g->nchannels; ch++)
		run->first_writer[ch] = -1;
	memcpy(run->join_saved, run->join_seen, sizeof(uint64_t) * (size_t)g->njoins);
	for (i = 0; i < run->ntasks; i++) {
		if ((rc = check_writes(run, i, err)) < 0)
			goto fail;
	}
	for (i = 0; i < run->ntasks; i++) {
		struct og_task *t = &run->tasks[i];
		plan_edges(run, t->node);
		if ((rc = route_task(run, t, err)) < 0)
			goto fail;
		if (t->res.next && (rc = plan_list(run, t->node, t->res.next, NULL, 0, "Command/Send", err)) < 0)
			goto fail;
	}
	/* Before the barrier, which moves the writes out of the results. */
	summary = run->opts.store ? print_writes(run) : NULL;
	if (run->opts.store) {
		collect_journals(run);
		collect_times(run);
	}
	/* Custom reducers are user code and may fail: fold them on copies
	 * first, so that a failure leaves the state untouched. */
	if ((rc = fold_custom(run, err)) < 0)
		goto fail;
	/* The barrier: from here on the step cannot fail but for memory. */
	for (i = 0; i < run->ntasks; i++) {
		struct og_task *t = &run->tasks[i];
		cJSON *w;
		while (t->res.writes && (w = t->res.writes->child)) {
			cJSON_DetachItemViaPointer(t->res.writes, w);
			ch = og_graph_find_channel(g, w->string);
			/* the id of the checkpoint this step produces (ckpt.h) */
			run->state.versions[ch] = run->next_id;
			if (g->channels[ch].kind == OG_RED_CUSTOM) {
				cJSON_Delete(w);	/* folded already */
				continue;
			}
			if ((rc = og_channel_apply(g, ch, &run->state.vals[ch], w, run->ops, run->exec, err)) < 0)
				goto fail_barrier;
		}
	}
	for (ch = 0; ch < g->nchannels; ch++) {
		if (g->channels[ch].kind != OG_RED_CUSTOM || run->first_writer[ch] < 0)
			continue;
		cJSON_Delete(run->state.vals[ch]);
		run->state.vals[ch] = run->fresh[ch];
		run->fresh[ch] = NULL;
	}
	{
		cJSON *ran = NULL;
		if (run->opts.on_event) {
			ran = cJSON_CreateArray();
			for (i = 0; i < run->ntasks; i++)
				cJSON_AddItemToArray(ran, cJSON_CreateString(g->nodes[run->tasks[i].node].name));
		}
		int bp_after = 0;
		for (i = 0; i < run->ntasks; i++)
			bp_after |= run->bp_after[run->tasks[i].node];
		run->step++;
		if ((rc = plan_commit(run, err)) < 0) {
			cJSON_Delete(ran);
			return fail_run(run, rc, OG_START, err);
		}
		if (bp_after && run->status == OG_RUN_RUNNING) {
			run->status = OG_RUN_INTERRUPTED;
			run->breakpoint = 'a';
		}
		if (run->opts.on_event) {
			cJSON *ev = cJSON_CreateObject();
			cJSON_AddStringToObject(ev, "event", "step");
			cJSON_AddNumberToObject(ev, "step", run->step - 1);
			cJSON_AddItemToObject(ev, "ran", ran);
			cJSON_AddItemToObject(ev, "next", tasks_json(run, run->tasks, run->ntasks));
			cJSON_AddNumberToObject(ev, "duration_ms", (double)(og_clock_mono_us() - t0) / 1000.0);
			emit(run, ev);
		}
		rc = save(run, "loop", summary, err);
		if (rc == 0 && run->status == OG_RUN_INTERRUPTED)
			emit_interrupts(run);
		return rc;
	}
fail:
	step_cancel(run);
	rc = fail_run(run, rc, OG_START, err);
	save(run, "loop", NULL, NULL);
	return rc;
fail_barrier:
	/* Only a custom reducer or memory can fail here; the state may be half
	 * updated, so nothing is saved for this step. */
	step_cancel(run);
	return fail_run(run, rc, OG_START, err);
}

int og_run_invoke(struct og_run *run, struct og_err *err)
{
	int steps = 0, rc;

	if (run->status == OG_RUN_PENDING)
		return og_err_set(err, -OG_ESTATE, "run %s has no input yet", run->thread_id);
	if (run->status == OG_RUN_ERROR)
		return og_err_set(err, -OG_ESTATE, "run %s has failed; fix the cause and resume it",
				  run->thread_id);
	while (run->status == OG_RUN_RUNNING) {
		if (steps >= run->limit) {
			char names[512];
			join_names(names, sizeof(names), run->ntasks, task_node_name, run);
			og_err_set(err, -OG_ELIMIT,
				   "recursion limit of %d supersteps reached without reaching END; next nodes: %s "
				   "(raise it with --recursion-limit N or og.graph{recursion_limit = N} if the loop is meant to be this long)",
				   run->limit, names);
			rc = fail_run(run, -OG_ELIMIT, OG_START, err);
			save(run, "loop", NULL, NULL);
			return rc;
		}
		if ((rc = run_superstep(run, err)) < 0)
			return rc;
		steps++;
	}
	if (run->status == OG_RUN_DONE && run->opts.on_event) {
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "event", "done");
		cJSON_AddNumberToObject(ev, "steps", run->step);
		emit(run, ev);
	}
	return 0;
}

/* ---- resume, fork, replay ------------------------------------------------- */

cJSON *og_run_interrupts(const struct og_run *run) { return interrupts_json(run); }
uint64_t og_run_checkpoint_id(const struct og_run *run) { return run->ckpt_id; }

/* cJSON_GetObjectItemCaseSensitive, with the first bytes compared before
 * strcmp: a load looks up some 40 keys in objects of up to 20, and the
 * calls were half of it */
static const cJSON *field(const cJSON *o, const char *name)
{
	const cJSON *c;

	if (!o || !name)
		return NULL;
	for (c = o->child; c; c = c->next)
		if (c->string && c->string[0] == name[0] && !strcmp(c->string, name))
			return c;
	return NULL;
}

/* A pending write's [start_ms, end_ms] (absent in older records). */
static void span_from(struct og_task *t, const cJSON *span)
{
	const cJSON *a = cJSON_GetArrayItem(span, 0), *b = cJSON_GetArrayItem(span, 1);

	if (cJSON_IsNumber(a) && cJSON_IsNumber(b) && a->valuedouble > 0 && b->valuedouble >= a->valuedouble) {
		t->start_ms = (int64_t)a->valuedouble;
		t->end_ms = (int64_t)b->valuedouble;
	}
}

static int load_fail(struct og_err *err, const char *what)
{
	return og_err_set(err, -OG_EINVAL, "checkpoint record: %s is missing or malformed "
			  "(was it written by another opsgraph version?)", what);
}

static enum og_run_status status_from_name(const char *name)
{
	static const enum og_run_status all[] = { OG_RUN_PENDING, OG_RUN_RUNNING, OG_RUN_DONE,
						  OG_RUN_INTERRUPTED, OG_RUN_ERROR };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(og_run_status_name(all[i]), name))
			return all[i];
	return OG_RUN_PENDING;
}

/* The run's own breakpoints, as saved: they hold for the whole thread. */
static int load_breakpoints(struct og_run *run, const cJSON *bp, struct og_err *err)
{
	const cJSON *name;
	int k;

	if (!cJSON_IsObject(bp))
		return 0;
	for (k = 0; k < 2; k++) {
		cJSON_ArrayForEach(name, cJSON_GetObjectItemCaseSensitive(bp, k ? "after" : "before")) {
			int node = cJSON_IsString(name) ? og_graph_find_node(run->g, name->valuestring) : -1;
			if (cJSON_IsString(name) && !strcmp(name->valuestring, "*"))
				memset(k ? run->bp_after : run->bp_before, 1, (size_t)run->g->nnodes);
			else if (node >= 0)
				(k ? run->bp_after : run->bp_before)[node] = 1;
		}
	}
	cJSON_Delete(run->bp_opts);
	if (!(run->bp_opts = cJSON_Duplicate(bp, 1)))
		return og_err_set(err, -OG_ENOMEM, "run: out of memory");
	return 0;
}

static int load(struct og_run *run, cJSON *ck, bool move, uint64_t next_id, struct og_err *err);

int og_run_load(struct og_run *run, const cJSON *ck, uint64_t next_id, struct og_err *err)
{
	return load(run, (cJSON *)ck, false, next_id, err);	/* copies: ck stays as it was */
}

int og_run_load_move(struct og_run *run, cJSON *ck, uint64_t next_id, struct og_err *err)
{
	return load(run, ck, true, next_id, err);
}

static int load(struct og_run *run, cJSON *ck, bool move, uint64_t next_id, struct og_err *err)
{
	const struct og_graph *g = run->g;
	const cJSON *vals = field(ck, "values"), *vers = field(ck, "versions"), *joins = field(ck, "joins");
	const cJSON *next = field(ck, "next"), *pending = field(ck, "pending"), *item;
	const cJSON *status = field(ck, "status"), *step = field(ck, "step"), *id = field(ck, "id");
	const cJSON *ints = field(ck, "interrupts"), *graph = field(ck, "graph"), *thread = field(ck, "thread_id");
	int i, rc;

	if (run->status != OG_RUN_PENDING)
		return og_err_set(err, -OG_ESTATE, "run %s is already in progress", run->thread_id);
	if (!cJSON_IsObject(vals) || !cJSON_IsObject(vers) || !cJSON_IsArray(next) || !cJSON_IsString(status) ||
	    !cJSON_IsNumber(step) || !cJSON_IsNumber(id) || !cJSON_IsString(thread))
		return load_fail(err, "values, versions, next, status, step, id or thread_id");
	if (cJSON_IsString(graph) && strcmp(graph->valuestring, g->name))
		return og_err_set(err, -OG_EINVAL, "thread %s ran graph '%s', not '%s': pass the graph file it "
				  "was started with", thread->valuestring, graph->valuestring, g->name);
	copy_str(run->thread_id, sizeof(run->thread_id), thread->valuestring);
	cJSON_ArrayForEach(item, vals) {
		if (og_graph_find_channel(g, item->string) < 0)
			return og_err_set(err, -OG_EINVAL, "checkpoint of thread %s has channel '%s', which graph '%s' "
					  "no longer declares; restore it in the graph's state to resume",
					  run->thread_id, item->string, g->name);
	}
	for (i = 0; i < g->nchannels; i++) {
		cJSON *v = (cJSON *)field(vals, g->channels[i].name);
		const cJSON *ver = field(vers, g->channels[i].name);
		run->state.versions[i] = cJSON_IsNumber(ver) ? (uint64_t)ver->valuedouble : 0;
		cJSON_Delete(run->state.vals[i]);
		run->state.vals[i] = NULL;	/* unset in the checkpoint: not the graph's initial value */
		if (!v)
			continue;
		/* moving detaches the value from ck: no copy of a large state */
		run->state.vals[i] = move ? cJSON_DetachItemViaPointer((cJSON *)vals, v) : cJSON_Duplicate(v, 1);
		if (!run->state.vals[i])
			return og_err_set(err, -OG_ENOMEM, "run: out of memory");
	}
	if (cJSON_GetArraySize(joins) != g->njoins && cJSON_GetArraySize(joins) != 0)
		return og_err_set(err, -OG_EINVAL, "checkpoint of thread %s has %d joins, graph '%s' has %d: "
				  "the graph changed shape since the thread ran", run->thread_id,
				  cJSON_GetArraySize(joins), g->name, g->njoins);
	for (i = 0; i < cJSON_GetArraySize(joins); i++) {
		const cJSON *j = cJSON_GetArrayItem(joins, i);
		run->join_seen[i] = cJSON_IsString(j) ? strtoull(j->valuestring, NULL, 10) : 0;
	}
	tasks_clear(run->tasks, &run->ntasks);
	cJSON_ArrayForEach(item, next) {
		const cJSON *node = field(item, "node"), *tid = field(item, "id"), *input = field(item, "input");
		int n = cJSON_IsString(node) ? og_graph_find_node(g, node->valuestring) : -1;
		cJSON *copy = NULL;
		if (n < 0 || !cJSON_IsString(tid))
			return og_err_set(err, -OG_EINVAL, "checkpoint of thread %s schedules node '%s', which graph "
					  "'%s' does not have", run->thread_id,
					  cJSON_IsString(node) ? node->valuestring : "?", g->name);
		if (input && !(copy = cJSON_Duplicate(input, 1)))
			return og_err_set(err, -OG_ENOMEM, "run: out of memory");
		if ((rc = task_push(&run->tasks, &run->ntasks, &run->cap, n, copy)) < 0)
			return og_err_set(err, rc, "run: out of memory");
		copy_str(run->tasks[run->ntasks - 1].id, sizeof(run->tasks[0].id), tid->valuestring);
	}
	cJSON_ArrayForEach(item, pending) {
		const cJSON *tid = field(item, "task");
		struct og_task *t = NULL;
		for (i = 0; cJSON_IsString(tid) && i < run->ntasks; i++)
			if (!strcmp(run->tasks[i].id, tid->valuestring))
				t = &run->tasks[i];
		if (!t)
			continue;	/* a record of a task that is no longer scheduled */
		if (field(item, "interrupt") || field(item, "resume") || field(item, "partial")) {
			/* partial: the effect ledger of a task cut short (flush_partial) */
			t->waiting = field(item, "interrupt") != NULL;
			t->resume = cJSON_Duplicate(field(item, "resume"), 1);
			t->journal = cJSON_Duplicate(field(item, "journal"), 1);
			t->interrupt = cJSON_Duplicate(field(item, "interrupt"), 1);
		} else {
			t->done = true;
			t->res.writes = cJSON_Duplicate(field(item, "writes"), 1);
			t->res.next = cJSON_Duplicate(field(item, "next"), 1);
			t->res.journal = cJSON_Duplicate(field(item, "journal"), 1);
			span_from(t, field(item, "span"));
		}
	}
	run->step = (int)step->valuedouble + 1;
	run->ckpt_id = (uint64_t)id->valuedouble;
	run->next_id = next_id > run->ckpt_id ? next_id : run->ckpt_id + 1;
	run->status = status_from_name(status->valuestring);
	run->breakpoint = 0;
	cJSON_ArrayForEach(item, ints) {
		const cJSON *kind = field(item, "kind");
		if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "interrupt_before"))
			run->breakpoint = 'b';
		else if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "interrupt_after"))
			run->breakpoint = 'a';
	}
	if (run->status == OG_RUN_PENDING)
		return load_fail(err, "status");
	if ((rc = load_breakpoints(run, field(ck, "breakpoints"), err)) < 0)
		return rc;
	if (run->status == OG_RUN_INTERRUPTED && !run->breakpoint) {
		/* every answered task finished (its pending write came after the
		 * record): nothing waits any more, the step continues */
		for (i = 0; i < run->ntasks && !run->tasks[i].waiting; i++)
			;
		if (i == run->ntasks)
			run->status = OG_RUN_RUNNING;
	}
	cJSON_Delete(run->error);
	run->error = cJSON_Duplicate(field(ck, "error"), 1);
	if (cJSON_IsNull(run->error)) {
		cJSON_Delete(run->error);
		run->error = NULL;
	}
	return 0;
}

static int add_resume(struct og_run *run, struct og_task *t, const cJSON *value, const char *by)
{
	cJSON *rec, *v = cJSON_Duplicate(value, 1);
	char id[17], ts[40];

	if (!v || (!t->resume && !(t->resume = cJSON_CreateArray()))) {
		cJSON_Delete(v);
		return -OG_ENOMEM;
	}
	interrupt_id(id, t->id, cJSON_GetArraySize(t->resume));
	cJSON_AddItemToArray(t->resume, v);
	t->waiting = false;
	cJSON_Delete(t->interrupt);
	t->interrupt = NULL;
	if (!run->resumed && !(run->resumed = cJSON_CreateArray()))
		return -OG_ENOMEM;
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "interrupt_id", id);
	cJSON_AddStringToObject(rec, "node", og_graph_node_name(run->g, t->node));
	cJSON_AddStringToObject(rec, "by", by ? by : "unknown");
	cJSON_AddStringToObject(rec, "at", og_clock_iso8601(og_clock_wall_ms(), ts, sizeof(ts)));
	cJSON_AddItemToObject(rec, "value", cJSON_Duplicate(value, 1));
	cJSON_AddItemToArray(run->resumed, rec);
	return 0;
}

/* "ID (node NAME), ..." of the pending interrupts into buf: for messages
 * only (printing it for every resume was a fifth of one) */
static const char *pending_ids(const struct og_run *run, char *buf, size_t size)
{
	size_t len = 0;
	char id[17];
	int i;

	buf[0] = '\0';
	for (i = 0; i < run->ntasks; i++) {
		if (!run->tasks[i].waiting)
			continue;
		interrupt_id(id, run->tasks[i].id, cJSON_GetArraySize(run->tasks[i].resume));
		if (len + 40 < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s (node %s)", len ? ", " : "", id,
						og_graph_node_name(run->g, run->tasks[i].node));
	}
	return buf;
}

int og_run_resume(struct og_run *run, const cJSON *resume, const char *by, struct og_err *err)
{
	const cJSON *value = field(resume, "value"), *by_id = field(resume, "by_id"), *item;
	char ids[512], id[17];
	int i, waiting = 0, rc;

	if (!resume) {
		/* continue: after a crash, a fork, a failed step, or past a breakpoint */
		if (run->status == OG_RUN_ERROR) {
			cJSON_Delete(run->error);
			run->error = NULL;
			run->status = OG_RUN_RUNNING;
			return 0;
		}
		if (run->status == OG_RUN_RUNNING)
			return 0;
		if (run->status == OG_RUN_INTERRUPTED && !run->breakpoint)
			return og_err_set(err, -OG_EINVAL, "thread %s is waiting for a decision: give one with "
					  "--value JSON (or --command)", run->thread_id);
		if (run->status != OG_RUN_INTERRUPTED)
			return og_err_set(err, -OG_ESTATE, "thread %s has nothing to continue (status: %s)",
					  run->thread_id, og_run_status_name(run->status));
		goto breakpoint;
	}
	if (run->status != OG_RUN_INTERRUPTED)
		return og_err_set(err, -OG_ESTATE, "thread %s is not waiting at an interrupt (status: %s)",
				  run->thread_id, og_run_status_name(run->status));
	if (run->breakpoint)
		goto breakpoint;
	if (!value && !cJSON_IsObject(by_id))
		return og_err_set(err, -OG_EINVAL, "resume takes {\"value\": V} or {\"by_id\": {ID: V}}");
breakpoint:
	if (run->breakpoint) {
		if (run->breakpoint == 'b')
			run->pass_before = true;
		run->breakpoint = 0;
		run->status = OG_RUN_RUNNING;
		if (!run->resumed)
			run->resumed = cJSON_CreateArray();
		if (run->resumed) {
			cJSON *rec = cJSON_CreateObject();
			char ts[40];
			cJSON_AddStringToObject(rec, "breakpoint", run->pass_before ? "before" : "after");
			cJSON_AddStringToObject(rec, "by", by ? by : "unknown");
			cJSON_AddStringToObject(rec, "at", og_clock_iso8601(og_clock_wall_ms(), ts, sizeof(ts)));
			cJSON_AddItemToArray(run->resumed, rec);
		}
		return 0;
	}
	for (i = 0; i < run->ntasks; i++)
		waiting += run->tasks[i].waiting;
	if (value) {
		if (waiting != 1)
			return og_err_set(err, -OG_EINVAL, "%d interrupts are pending (%s): answer each by its id, "
					  "e.g. --command '{\"resume\": {\"<id>\": VALUE}}'", waiting,
					  pending_ids(run, ids, sizeof(ids)));
		for (i = 0; !run->tasks[i].waiting; i++)
			;
		if ((rc = add_resume(run, &run->tasks[i], value, by)) < 0)
			return og_err_set(err, rc, "run: out of memory");
	} else {
		/* check every id first: all or nothing */
		cJSON_ArrayForEach(item, by_id) {
			for (i = 0; i < run->ntasks; i++) {
				if (!run->tasks[i].waiting)
					continue;
				interrupt_id(id, run->tasks[i].id, cJSON_GetArraySize(run->tasks[i].resume));
				if (!strcmp(id, item->string))
					break;
			}
			if (i == run->ntasks)
				return og_err_set(err, -OG_ENOENT, "no pending interrupt '%s' in thread %s (pending: %s)",
						  item->string, run->thread_id,
						  pending_ids(run, ids, sizeof(ids))[0] ? ids : "none");
		}
		cJSON_ArrayForEach(item, by_id) {
			for (i = 0; i < run->ntasks; i++) {
				if (!run->tasks[i].waiting)
					continue;
				interrupt_id(id, run->tasks[i].id, cJSON_GetArraySize(run->tasks[i].resume));
				if (!strcmp(id, item->string))
					break;
			}
			if ((rc = add_resume(run, &run->tasks[i], item, by)) < 0)
				return og_err_set(err, rc, "run: out of memory");
		}
	}
	run->status = OG_RUN_RUNNING;
	/* No checkpoint of its own (LangGraph writes none either): the decision
	 * and its `resumed` record ride on the step's checkpoint, which is the
	 * first thing the step commits unless the step writes pending writes or
	 * a partial journal first: then save_resume commits the decision before
	 * them. A crash before that commit leaves nothing of the resume on disk:
	 * the thread still waits for its decision, as if the resume had never
	 * been called (it had not returned to its caller's caller: og_run_invoke
	 * is what reports it). A second resumer without a lease is refused when
	 * its step commits the same checkpoint id (-OG_ECONFLICT). */
	if (!run->opts.store)
		return save(run, "resume", NULL, err);
	run->resume_unsaved = true;
	return 0;
}

int og_run_update(struct og_run *run, const cJSON *values, const char *as_node, const char *source,
		  struct og_err *err)
{
	const struct og_graph *g = run->g;
	struct og_view view;
	int node = OG_START, ch, rc;
	char who[300];

	if (run->status == OG_RUN_PENDING)
		return og_err_set(err, -OG_ESTATE, "load a checkpoint before updating it");
	if (values && !cJSON_IsObject(values))
		return og_err_set(err, -OG_EINVAL, "the update must be a JSON object of channel writes, "
				  "e.g. {\"decision\": {\"choice\": \"2\"}}");
	if (as_node) {
		node = og_graph_find_node(g, as_node);
		if (node < 0)
			return og_err_set(err, -OG_EINVAL, "--as-node '%s' is not a node of graph '%s'", as_node, g->name);
	}
	snprintf(who, sizeof(who), "update as '%s'", as_node ? as_node : "(no node)");
	if ((rc = apply_outside_step(run, values, who, err)) < 0)
		return rc;
	cJSON_Delete(run->error);
	run->error = NULL;
	if (as_node) {
		tasks_clear(run->tasks, &run->ntasks);
		plan_edges(run, node);
		view = og_state_view(&run->state);
		if ((rc = plan_routes(run, node, &view, err)) < 0) {
			step_cancel(run);
			return rc;
		}
		if ((rc = plan_commit(run, err)) < 0)
			return rc;
	} else {
		run->status = run->ntasks ? OG_RUN_RUNNING : OG_RUN_DONE;
		for (ch = 0; ch < run->ntasks; ch++)
			if (run->tasks[ch].waiting)
				run->status = OG_RUN_INTERRUPTED;
	}
	run->breakpoint = 0;
	return save(run, source ? source : "update", NULL, err);
}

int og_run_replay(struct og_run *run, struct og_err *err)
{
	int i;

	if (run->status == OG_RUN_PENDING)
		return og_err_set(err, -OG_ESTATE, "load a checkpoint before replaying from it");
	for (i = 0; i < run->ntasks; i++) {
		struct og_task *t = &run->tasks[i];
		int node = t->node;
		cJSON *input = t->input;
		char id[17];
		memcpy(id, t->id, sizeof(id));
		t->input = NULL;
		task_release(t);
		task_clear(t);
		t->node = node;
		t->input = input;
		memcpy(t->id, id, sizeof(id));
	}
	cJSON_Delete(run->error);
	run->error = NULL;
	run->breakpoint = 0;
	run->status = run->ntasks ? OG_RUN_RUNNING : OG_RUN_DONE;
	return 0;
}

int og_run_goto(struct og_run *run, const cJSON *targets, struct og_err *err)
{
	int rc;

	if (run->status == OG_RUN_PENDING)
		return og_err_set(err, -OG_ESTATE, "load a checkpoint before choosing where it goes");
	tasks_clear(run->tasks, &run->ntasks);
	if ((rc = plan_list(run, OG_START, targets, NULL, 0, "goto", err)) < 0) {
		step_cancel(run);
		return rc;
	}
	run->breakpoint = 0;
	return plan_commit(run, err);
}
