/*
 * lvm.h: the Lua host. One og_lvm is one lua_State with one graph file loaded
 * into it; runs borrow it to call nodes, routers and reducers, one call at a
 * time. It owns the sandbox (what graph code may touch), the per-call budgets
 * (instructions through a count hook, memory through the allocator) and the
 * conversion of errors into messages with file:line and a traceback.
 *
 * This is the only module family that includes lua.h. Everything outside
 * engine/lua/ sees a graph (graph.h) and an executor (exec.h).
 */
#ifndef OG_LVM_H
#define OG_LVM_H

#include <stdint.h>

#include "../graph/exec.h"
#include "../graph/graph.h"

/* Defaults per node call; a node's `budget` option overrides them. */
#define OG_LVM_DEFAULT_INSTRUCTIONS 100000000LL		/* ~0.3-1 s of Lua */
#define OG_LVM_DEFAULT_MEMORY (64LL << 20)		/* 64 MiB */

struct og_lvm;

struct og_lvm_opts {
	const char *root;		/* project root: require finds nodes/ and graphs/ here;
					 * NULL: guessed from the graph file (see README) */
	const char *const *extra_paths;	/* more directories require may search; NULL-terminated */
	int64_t default_instructions;	/* 0: OG_LVM_DEFAULT_INSTRUCTIONS */
	int64_t default_memory;		/* bytes; 0: OG_LVM_DEFAULT_MEMORY */
	const cJSON *config;		/* what nodes see as ctx.config (read-only); NULL = {} */
	const char *config_path;	/* the file config came from, or NULL: ctx.llm re-reads its
					 * "llm" section when the file's mtime changes */
};

/* The LLM usage log (ctx.llm, lapi_llm.c): called once per request sent to
 * a provider with one entry (run, role, provider, model, params,
 * prompt_hash, latency_ms, tokens_in, tokens_out, cost, outcome, at;
 * borrowed). Never the prompt, the answer or the redaction mapping. A sink
 * that fails returns -OG_E* with err set: the call goes on, the failure is
 * logged to stderr. */
typedef int (*og_lvm_llm_log_fn)(void *ud, const cJSON *entry, struct og_err *err);

struct og_lvm *og_lvm_new(const struct og_lvm_opts *opts, struct og_err *err);
void og_lvm_free(struct og_lvm *vm);		/* NULL is a no-op */
/* Installs (fn NULL: removes) the LLM usage log sink; ud is borrowed. */
void og_lvm_set_llm_log(struct og_lvm *vm, og_lvm_llm_log_fn fn, void *ud);

/* ctx.incidents.similar (lapi_incidents.c): ranks past incidents for the
 * query {service?, labels?, text?, signature?, limit?} (borrowed) into *out,
 * a new array the VM frees. Without a sink the call returns an empty list. */
typedef int (*og_lvm_similar_fn)(void *ud, const cJSON *query, cJSON **out, struct og_err *err);
/* Installs (fn NULL: removes) that sink; ud is borrowed. */
void og_lvm_set_similar(struct og_lvm *vm, og_lvm_similar_fn fn, void *ud);

/* Runs the graph file at `path` in the sandbox and builds the graph it
 * returns (validated). *out is owned by the caller but refers to functions
 * held by vm: free it before vm. Errors carry file:line. */
int og_lvm_load_graph(struct og_lvm *vm, const char *path, struct og_graph **out, struct og_err *err);

/* Like og_lvm_load_graph but without validation, for `opsgraph check`,
 * which reports validation problems itself. */
int og_lvm_load_graph_unchecked(struct og_lvm *vm, const char *path, struct og_graph **out,
				struct og_err *err);

/* The executor for graphs loaded by this vm; pass vm as `self`. */
extern const struct og_exec_ops og_lvm_exec_ops;

#endif
