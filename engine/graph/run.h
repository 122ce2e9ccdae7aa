/*
 * run.h: the superstep loop. A run executes one thread of a validated graph:
 * plan the step's tasks, call every task against the same snapshot, apply all
 * writes at the barrier through the reducers in task order, route, and hand a
 * checkpoint record to the store. Tasks of a step run one after another on
 * the calling thread; because writes only land at the barrier the result is
 * the same as running them in parallel, and the same input gives the same run.
 */
#ifndef OG_RUN_H
#define OG_RUN_H

#include <cJSON.h>

#include "exec.h"
#include "graph.h"
#include "store.h"

enum og_run_status {
	OG_RUN_PENDING,		/* created, no input yet */
	OG_RUN_RUNNING,		/* has tasks to run */
	OG_RUN_DONE,
	OG_RUN_INTERRUPTED,
	OG_RUN_ERROR,
};

/* Receives one event as JSON: {"event":"task"|"step"|"error"|"done", ...}.
 * Borrowed for the call. */
typedef void (*og_event_fn)(void *ud, const cJSON *ev);

struct og_run_opts {
	const char *thread_id;		/* NULL: a new id is generated */
	int recursion_limit;		/* supersteps per invocation; 0: the graph's */
	const struct og_store_ops *store;	/* NULL: nothing is persisted */
	void *store_self;
	og_event_fn on_event;		/* NULL: no events are built */
	void *event_ud;
};

struct og_run;

/* g must be validated and outlive the run. ops/exec_self call node code. */
struct og_run *og_run_new(const struct og_graph *g, const struct og_exec_ops *ops, void *exec_self,
			  const struct og_run_opts *opts, struct og_err *err);
void og_run_free(struct og_run *run);		/* NULL is a no-op */

/* Applies `input` (an object of channel writes, or NULL) as the input step
 * and plans the first superstep. */
int og_run_start(struct og_run *run, const cJSON *input, struct og_err *err);

/* Runs supersteps until the run is done, interrupted or failed. Returns 0
 * when done or interrupted, -OG_E* when the run failed (err says why; the
 * run's status is OG_RUN_ERROR and its state is that of the last completed
 * step). */
int og_run_invoke(struct og_run *run, struct og_err *err);

enum og_run_status og_run_status(const struct og_run *run);
const char *og_run_status_name(enum og_run_status st);
const char *og_run_thread_id(const struct og_run *run);
int og_run_step(const struct og_run *run);	/* the next superstep's number */

/* The state as an object {channel: value} (unset channels omitted); caller owns. */
cJSON *og_run_state_json(const struct og_run *run);
/* The run's error as {"message","node","step","kind"} or NULL (borrowed). */
const cJSON *og_run_error(const struct og_run *run);

#endif
