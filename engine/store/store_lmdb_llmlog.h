/*
 * store_lmdb_llmlog.h: the LLM usage log, in its own named database
 * ("llmlog") of the checkpoint environment. One small write transaction per
 * request sent to an LLM provider (ctx.llm, engine/lua/lapi_llm.c, reports
 * them through the VM's usage-log sink, which the CLI points here), so the
 * checkpoint path pays nothing. `opsgraph llm-log` reads it.
 *
 * Key: be64 wall-clock ms * 1000 (plus the monotonic clock's microseconds
 * as a tiebreak), be32 pid, be32 per-process counter: time order, unique
 * across processes. Value: the entry as JSON text:
 * run, node, role, provider, model, params, prompt_hash, latency_ms,
 * tokens_in, tokens_out, cost (null when the model has no price),
 * outcome, at. Never a prompt or an answer.
 *
 * The database is created by the first put, so stores made before it
 * existed open unchanged (the format marker stays opsgraph-store/2) and
 * read as an empty log. Entries are not pruned by `opsgraph gc`.
 */
#ifndef OG_STORE_LMDB_LLMLOG_H
#define OG_STORE_LMDB_LLMLOG_H

#include <stdint.h>

#include <cJSON.h>

#include "../core/err.h"
#include "store_lmdb.h"

/* Appends entry (an object; borrowed). 0 or -OG_E* with err set. */
int og_store_lmdb_llmlog_put(struct og_store_lmdb *s, const cJSON *entry, struct og_err *err);

/* The entries at or after since_ms (epoch ms; 0 = all) whose run is thread
 * (NULL = any), oldest first, as a new array (caller owns). */
int og_store_lmdb_llmlog_list(struct og_store_lmdb *s, int64_t since_ms, const char *thread, cJSON **out,
			      struct og_err *err);

#endif
