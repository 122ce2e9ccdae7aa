/*
 * ckpt.h: the checkpoint record the runner produces after every superstep
 * (and for the input, and when a step fails or pauses), and its JSON form.
 * A record holds everything needed to continue the run in another process:
 * channel values and versions, join progress, the tasks of the next step,
 * and the writes of tasks that finished in a step that did not complete
 * (so a resume does not run them again).
 *
 * Stores (store.h) receive the record with borrowed pointers; a store that
 * keeps only changed channels compares `versions` with the parent's.
 */
#ifndef OG_CKPT_H
#define OG_CKPT_H

#include <stdint.h>

#include <cJSON.h>

#include "channel.h"
#include "graph.h"

#define OG_CKPT_FORMAT 1

/* Channel versions are the id of the checkpoint whose step wrote the channel:
 * unique across the branches of a thread, so a store can key values by
 * (thread, channel, version) and share unchanged ones between checkpoints. */

/* A task's wall-clock span, for og_ckpt.spans. */
struct og_ckpt_span {
	const char *task;		/* task id */
	int64_t start_ms, end_ms;
};

struct og_ckpt {
	const char *thread_id;
	const char *graph;		/* graph name */
	const char *graph_file;		/* the graph file the thread runs, for resume; may be NULL */
	uint64_t id;			/* 1, 2, 3, ... per thread; never reused */
	uint64_t parent_id;		/* 0 for the first */
	int step;			/* -1 for the input checkpoint */
	const char *source;		/* "input" | "loop" | "update" | "fork" */
	const char *status;		/* "running" | "done" | "interrupted" | "error" */
	int64_t created_ms;		/* wall clock */
	const struct og_graph *g;	/* channel names, for the JSON form */
	const struct og_state *state;	/* values and versions (borrowed) */
	const uint64_t *join_seen;	/* bit k set: source k of join j finished */
	int njoins;
	const cJSON *next;		/* [{"id","node","input"?}] tasks of the next step */
	const cJSON *pending;		/* [{"task","node","writes","next"}] finished tasks
					 * of the step in progress; NULL when none */
	const cJSON *interrupts;	/* [{"id","task","node","value"}] or NULL */
	const cJSON *error;		/* {"message","node","step"} or NULL */
	const cJSON *writes;		/* {"node": ["channel", ...]} written in this step */
	const cJSON *breakpoints;	/* {"before":[..],"after":[..]} set for this run (on top of
					 * the graph's), kept so a resumed run honours them; or NULL */
	const cJSON *journals;		/* {"<task id>": [journal entries]} of the tasks of the
					 * completed step that made side-effecting ctx calls
					 * (for postmortem replay with the recorded answers) */
	const cJSON *times;		/* {"<task id>": [start_ms, end_ms]} wall clock of each task
					 * of the completed step (they run one after another), or NULL */
	const cJSON *resumed;		/* [{"interrupt_id","by","at","value"}] resumes that led
					 * to this checkpoint, or NULL */
	/* next, writes and times as the runner keeps them: it builds no trees
	 * for them per step (building, printing and freeing those was a tenth
	 * of a benchmarked step). next_text and writes_text are the JSON texts
	 * of next and writes (NUL-terminated), spans the entries of times. Of
	 * each pair one is set, or neither; stores and og_ckpt_to_json take
	 * either. */
	const char *next_text;
	const char *writes_text;
	const struct og_ckpt_span *spans;
	int nspans;
};

/* The whole record as JSON (caller owns). Channel values are copied. */
cJSON *og_ckpt_to_json(const struct og_ckpt *ck);

#endif
