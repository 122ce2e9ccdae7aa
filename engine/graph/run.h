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
	const char *graph_file;		/* recorded in checkpoints so `resume` can find the graph */
	int recursion_limit;		/* supersteps per invocation; 0: the graph's */
	const struct og_store_ops *store;	/* NULL: nothing is persisted */
	void *store_self;
	og_event_fn on_event;		/* NULL: no events are built */
	void *event_ud;
	const char *const *interrupt_before;	/* NULL-terminated node names ("*" = all) */
	const char *const *interrupt_after;	/* added to the graph's own breakpoints */
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

/* Restores a run from a checkpoint in og_ckpt_to_json form (from a store),
 * for resume, fork or replay. The run must be new (no start). next_id must
 * exceed every checkpoint id of the thread (the store's latest id + 1). */
int og_run_load(struct og_run *run, const cJSON *ckpt, uint64_t next_id, struct og_err *err);
/* The same, moving the channel values out of ckpt instead of copying them;
 * the caller still frees what is left of ckpt. */
int og_run_load_move(struct og_run *run, cJSON *ckpt, uint64_t next_id, struct og_err *err);

/* Answers pending interrupts so that og_run_invoke continues. `resume` is
 * {"value": V} (there must be exactly one pending interrupt) or
 * {"by_id": {"<interrupt id>": V, ...}}. The interrupted node re-runs from
 * its first line and its k-th og.interrupt call returns the k-th value. A
 * static breakpoint is passed with any value. resume NULL continues a run that
 * needs no answer: after a crash or a fork, past a breakpoint, or retrying
 * a failed step. `by` names who decided (kept
 * in the next checkpoint's record). With a store, an answer writes no
 * checkpoint of its own: it is committed with the next one (og_run_invoke's
 * step, og_run_update), or before the step's first pending write, so a run
 * freed before that leaves the thread waiting. -OG_ESTATE when not
 * interrupted, -OG_ENOENT for an unknown interrupt id. */
int og_run_resume(struct og_run *run, const cJSON *resume, const char *by, struct og_err *err);

/* Writes `values` (an object of channel writes) through the reducers as if
 * node `as_node` had returned them, and plans the next step from that node's
 * edges and routes; with as_node NULL the next step stays as it was. Saves a
 * checkpoint with the given source ("update" or "fork") whose parent is the
 * loaded checkpoint. Paused tasks are dropped when as_node is given. */
int og_run_update(struct og_run *run, const cJSON *values, const char *as_node, const char *source,
		  struct og_err *err);

/* Replaces the next step's tasks by `targets` (a node name, a list of names,
 * or Sends), as Command(goto=...) does on resume; paused tasks are dropped. */
int og_run_goto(struct og_run *run, const cJSON *targets, struct og_err *err);

/* Replay with the recorded answers: `journals` ({"<task id>": [entries]},
 * gathered from the thread's checkpoints) is taken by the run; a task that
 * re-executes gets its recorded ctx results back instead of calling out. */
void og_run_use_recorded(struct og_run *run, cJSON *journals);

/* Prepares a loaded run to re-execute from its checkpoint: pending writes
 * and resume values are dropped, so every later step runs again (and
 * interrupts fire again) on a new branch. */
int og_run_replay(struct og_run *run, struct og_err *err);

/* The pending interrupts as [{"id","kind","task","node","value","step"}], or
 * NULL when the run is not interrupted; caller owns. */
cJSON *og_run_interrupts(const struct og_run *run);
uint64_t og_run_checkpoint_id(const struct og_run *run);

enum og_run_status og_run_status(const struct og_run *run);
const char *og_run_status_name(enum og_run_status st);
const char *og_run_thread_id(const struct og_run *run);
int og_run_step(const struct og_run *run);	/* the next superstep's number */

/* The state as an object {channel: value} (unset channels omitted); caller owns. */
cJSON *og_run_state_json(const struct og_run *run);
/* The value of one channel (borrowed, valid until the run changes), or NULL
 * when the channel is unset or unknown: a look at one key without copying
 * the whole state. */
const cJSON *og_run_value(const struct og_run *run, const char *channel);
/* The run's error as {"message","node","step","kind"} or NULL (borrowed). */
const cJSON *og_run_error(const struct og_run *run);

#endif
