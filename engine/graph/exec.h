/*
 * exec.h: how the runner calls code it does not understand. The runner knows
 * nodes, routers and custom reducers only by the integer handles stored in the
 * graph; an executor (lua/lexec.c for Lua graphs, a C fake in tests) turns a
 * handle plus a state view into results. This seam keeps graph/ free of Lua.
 */
#ifndef OG_EXEC_H
#define OG_EXEC_H

#include <cJSON.h>

#include "graph.h"

/* A read-only view of the state: vals[i] is channel i's value (NULL = unset).
 * Borrowed from the runner for the duration of one call. */
struct og_view {
	int n;
	const cJSON *const *vals;
};

enum og_task_status {
	OG_TASK_OK,
	OG_TASK_ERROR,		/* the node raised; may be retried */
	OG_TASK_BUDGET,		/* instruction or memory budget spent; not retried */
	OG_TASK_INVALID,	/* the node returned something malformed; not retried */
	OG_TASK_INTERRUPT,	/* the node called og.interrupt(value) */
};

/* One node call. Everything is borrowed for the duration of the call. */
struct og_call {
	const struct og_graph *g;
	int node;
	const struct og_view *view;	/* the step's snapshot */
	const cJSON *input;		/* Send input, or NULL: then the node gets the state */
	int step;
	int attempt;			/* 1 on the first try */
	const char *task_id;
	const char *thread_id;
	const cJSON *resume;		/* resume values for og.interrupt, in call order, or NULL */
	const cJSON *journal;		/* results of the side-effecting ctx calls an earlier
					 * execution of this task made, in order, or NULL:
					 * a re-execution gets them back instead of calling again */
	/* Effect ledger: commits `journal` (this execution's journal so far,
	 * borrowed) durably as the task's partial record, before and after an
	 * effect such as a tool run, so that a re-execution after a crash
	 * replays it and sees an effect that started without a result. NULL
	 * when the runner persists nothing; returns 0 or -OG_E* with err set. */
	int (*flush_journal)(const struct og_call *call, const cJSON *journal, struct og_err *err);
	void *flush_ud;			/* the runner's, for flush_journal */
};

/* What a node call produced. The executor fills it; the runner owns it after
 * the call and releases it with og_task_result_release. */
struct og_task_result {
	enum og_task_status status;
	cJSON *writes;		/* object: channel name -> value; NULL = no writes */
	cJSON *next;		/* array of "node" names and {"node":..., "input":...}
				 * Sends (from og.send and Command goto); NULL = none */
	cJSON *interrupt;	/* the og.interrupt value when status is INTERRUPT */
	cJSON *journal;		/* every side-effecting ctx call of this execution, in
				 * order (replayed ones included); NULL = none */
	struct og_err err;	/* message (with file:line and traceback) on failure */
};

struct og_exec_ops {
	/* Runs a node. Returns 0 when res was filled (whatever res->status
	 * says), or -OG_E* when the executor itself failed. */
	int (*call_node)(void *self, const struct og_call *call, struct og_task_result *res);

	/* Runs route `route` of g against `view`; *out receives a new array of
	 * "node" names and {"node","input"} Sends (caller owns). */
	int (*call_route)(void *self, const struct og_graph *g, int route,
			  const struct og_view *view, cJSON **out, struct og_err *err);

	/* Custom reducer of channel `channel`: *out = fn(old, update), a new
	 * value the caller owns. old may be NULL (unset). */
	int (*reduce)(void *self, const struct og_graph *g, int channel, const cJSON *old,
		      const cJSON *update, cJSON **out, struct og_err *err);
};

void og_task_result_release(struct og_task_result *res);	/* keeps the struct */

/* Empties res for a call: what memset(res, 0, ...) gave, but of the message
 * only its first byte (og_err.msg is 2 KB, and clearing it three times was
 * 1% of a benchmarked node call). */
static inline void og_task_result_clear(struct og_task_result *res)
{
	res->status = OG_TASK_OK;
	res->writes = res->next = res->interrupt = res->journal = NULL;
	res->err.code = 0;
	res->err.msg[0] = '\0';
}

#endif
