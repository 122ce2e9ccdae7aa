/*
 * ckpt_diff.h: the state of one checkpoint against another's, for
 * `opsgraph diff` and GET /api/threads/{id}/diff: what changed between two
 * steps of a thread, between a step and a fork of it, or between two
 * threads. It reads both through the store interface, so it works on any
 * store, and diffs their channel values with core/jdiff.
 */
#ifndef OG_CKPT_DIFF_H
#define OG_CKPT_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One side of a diff: a thread and a checkpoint id (0: its latest). */
struct og_ckpt_ref {
	char thread[128];
	uint64_t id;
};

/* Parses "ID", "latest", "THREAD:ID" or "THREAD:latest" (the thread part
 * is what comes before the last ':'; without one, `thread` is used).
 * -OG_EINVAL with a message naming `what` (e.g. "--from") when malformed. */
int og_ckpt_ref_parse(const char *text, const char *thread, const char *what, struct og_ckpt_ref *out,
		      struct og_err *err);

/* {"from": {"thread_id","checkpoint_id","step","status","created_at"},
 *  "to": {...}, "summary": {"added","removed","changed"},
 *  "changes": og_jdiff of the two checkpoints' values}. Caller owns *out.
 * -OG_ENOENT naming the thread and checkpoint that is missing. */
int og_ckpt_diff(const struct og_store_ops *ops, void *self, const struct og_ckpt_ref *from,
		 const struct og_ckpt_ref *to, cJSON **out, struct og_err *err);

#endif
