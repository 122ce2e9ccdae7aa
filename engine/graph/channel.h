/*
 * channel.h: the state of a run, as one value and one version per channel,
 * and the built-in reducers that fold a step's writes into it. Custom
 * reducers go through the executor (exec.h); everything else here is plain C.
 */
#ifndef OG_CHANNEL_H
#define OG_CHANNEL_H

#include <stdint.h>

#include "exec.h"
#include "graph.h"

struct og_state {
	int n;
	cJSON **vals;		/* owned; NULL = unset */
	uint64_t *versions;	/* bumped once per step in which the channel was written */
};

int og_state_init(struct og_state *s, const struct og_graph *g, struct og_err *err);
void og_state_release(struct og_state *s);
/* A deep copy into an uninitialised *dst. */
int og_state_copy(struct og_state *dst, const struct og_state *src, struct og_err *err);
struct og_view og_state_view(const struct og_state *s);

/* Checks that `update` has the shape channel `def` accepts (append: a list,
 * merge: an object, sum: a number). Returns 0 or -OG_EINVAL with a message
 * naming the channel and what to write instead. */
int og_channel_check(const struct og_channel_def *def, const cJSON *update, struct og_err *err);

/* Folds `update` into *slot through the channel's reducer. Takes ownership of
 * update (even on failure). For OG_RED_CUSTOM, ops/self run the executor. */
int og_channel_apply(const struct og_graph *g, int channel, cJSON **slot, cJSON *update,
		     const struct og_exec_ops *ops, void *self, struct og_err *err);

#endif
