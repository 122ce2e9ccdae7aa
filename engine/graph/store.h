/*
 * store.h: where checkpoints go. The runner calls these through a vtable so it
 * knows nothing of LMDB; store/store_mem.c keeps records in memory (tests,
 * one-shot `opsgraph run`), store/store_lmdb.c makes them durable.
 */
#ifndef OG_STORE_H
#define OG_STORE_H

#include <stdint.h>

#include <cJSON.h>

#include "ckpt.h"

struct og_store_ops {
	/* Persists one checkpoint atomically: values, next tasks, pending
	 * writes and the thread's index entry commit together or not at all.
	 * Borrowed record; the store copies what it keeps. */
	int (*put)(void *self, const struct og_ckpt *ck, struct og_err *err);

	/* Records that a task of the step in progress finished, before its
	 * siblings do, so a crash mid-step does not lose its work. `rec` is
	 * {"task","node","writes","next"}. May be NULL in stores that only
	 * keep whole steps. */
	int (*put_writes)(void *self, const char *thread_id, uint64_t ckpt_id,
			  const cJSON *rec, struct og_err *err);

	/* The checkpoint `id` of a thread (0 = latest) in og_ckpt_to_json form;
	 * caller owns *out. -OG_ENOENT when there is none. */
	int (*get)(void *self, const char *thread_id, uint64_t id, cJSON **out, struct og_err *err);
};

#endif
