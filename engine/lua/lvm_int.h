/*
 * lvm_int.h: what the files of engine/lua/ share about a VM. Not for use
 * outside engine/lua/.
 */
#ifndef OG_LVM_INT_H
#define OG_LVM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "lvm.h"

struct og_lvm {
	lua_State *L;

	/* allocator accounting (lvm_alloc) */
	size_t mem_used;
	size_t mem_limit;		/* 0 = none; set per budgeted call */
	bool mem_hit;
	/* small blocks the VM freed, kept for its next allocations: a free
	 * list per 16-byte size class (lvm.c, LVM_POOL_*) */
	void *pool[16];
	size_t pooled;			/* bytes on the lists */

	/* instruction budget (lvm_hook) */
	int64_t ticks_left;
	bool instr_hit;
	int64_t cur_instructions;	/* budgets of the call in progress, for messages */
	int64_t cur_memory;

	int64_t def_instructions, def_memory;
	char root[1024];		/* require: nodes/ and graphs/ under it */
	char graph_dir[1024];		/* require: the graph file's own directory */
	char graph_file[1024];		/* the graph file being loaded, for messages */
	char **extra;			/* more require directories */
	int nextra;
	int nfns;			/* handles handed out so far */

	/* og.interrupt resume values of the task being called */
	const cJSON *resume;
	int resume_pos;

	/* side-effect journal of the task being called (see lapi_journal_*) */
	const cJSON *journal_in;	/* recorded by an earlier execution */
	int journal_pos;
	cJSON *journal_out;		/* this execution's, handed to the result */
	const struct og_call *call;	/* the node call in progress, for lapi_journal_flush */

	char what[320];			/* "node 'x'" while calling user code */
	const cJSON *config;		/* borrowed during og_lvm_new only */

	/* ctx.llm (lapi_llm.c) */
	cJSON *llm_conf;		/* a copy of config.llm, owned; NULL = none */
	char config_path[1024];		/* "" = unknown: no reload */
	og_lvm_llm_log_fn llm_log;	/* usage log sink, or NULL */
	void *llm_log_ud;

	/* ctx.incidents (lapi_incidents.c) */
	og_lvm_similar_fn similar;	/* past-incident ranking, or NULL */
	void *similar_ud;

	/* the state view of the call in progress, read lazily (lexec.c) */
	const struct og_graph *view_g;
	const struct og_view *view;
};

/* Registry keys: their addresses are the keys. */
extern const char lvm_key_og;		/* the read-only opsgraph module graph code sees */
extern const char lvm_key_graph_mt;	/* metatable of Graph objects */
extern const char lvm_key_result;	/* classify a node's return value */
extern const char lvm_key_route;	/* classify a router's return value */
extern const char lvm_key_fns;		/* handle -> function */
extern const char lvm_key_interrupt_mt;	/* metatable of og.interrupt's error */
extern const char lvm_key_ctx;		/* the shared ctx namespaces */
extern const char lvm_key_state_mt;	/* metatable of lazy state tables */

static inline struct og_lvm *lvm_from(lua_State *L)
{
	return *(struct og_lvm **)lua_getextraspace(L);
}

/* [-(nargs+1), +(nres|0), -] Calls the function below its nargs arguments
 * with the budgets given (0 = the vm's defaults), setting what = "node 'x'"
 * for messages. On success the nres results are on the stack and *kind is
 * OG_TASK_OK. On failure nothing is left on the stack, *kind says why
 * (ERROR, BUDGET, INTERRUPT) and err holds the message with traceback; for
 * INTERRUPT, *interrupt receives the og.interrupt value as JSON. */
int lvm_call(struct og_lvm *vm, int nargs, int nres, int64_t instructions, int64_t memory,
	     const char *what, enum og_task_status *kind, cJSON **interrupt, struct og_err *err);

/* [-0, +1, m] A new sandbox environment for one chunk (lsandbox.c). */
void lvm_push_env(lua_State *L);

/* [-0, +0, m] Budgeted string.find/match/gmatch/gsub (lpattern.c) into the table at idx and the string metatable's __index. */
void lpattern_install(lua_State *L, int idx);

/* [-0, +0, m] string.rep by doubling (lstrrep.c) into the table at idx and the string metatable's __index. */
void lstrrep_install(lua_State *L, int idx);

/* [-0, +1, e] Loads file `path` (text only) with a fresh sandbox _ENV and
 * pushes the chunk; raises on syntax errors. chunkname is shown in errors. */
void lvm_load_file(lua_State *L, const char *path, const char *chunkname);

/* [-0, +1, m] The shared ctx namespaces (json, log, now), read-only, in a
 * new table; stored once per VM under lvm_key_ctx (lapi.c). */
void lapi_push_ctx(lua_State *L);
/* [-0, +1, m] A zeroed userdata of `size` bytes whose metatable (made once,
 * cached in the registry under `key`) runs `gc` when it is collected: C
 * memory a ctx call holds stays owned even if Lua raises midway (lapi.c). */
void *lapi_push_gc_box(lua_State *L, size_t size, lua_CFunction gc, const void *key);
/* [-0, +1, e] pushes j (owned: freed here) as Lua values. The conversion
 * runs under lua_pcall, so a memory error or a tree nested too deep frees j
 * before the error goes on up. */
void lapi_push_json_owned(lua_State *L, cJSON *j);
/* [-1, +1, e] a lua_CFunction for lua_pcall: pushes the cJSON tree given as
 * a light userdata (for callers that map the error themselves) */
int lapi_push_json_protected(lua_State *L);
/* [-1, +1, m] Replaces the table on top by a read-only view of it, for ctx
 * namespaces shared by every call (lapi.c). */
void lapi_push_readonly(lua_State *L);
/* [-0, +0, m] Sets ctx.http on the ctx base table on top (lapi_http.c). */
void lapi_http_install(lua_State *L);
/* [-0, +0, m] Sets ctx.tools on the ctx base table on top (lapi_tools.c). */
void lapi_tools_install(lua_State *L);
/* What ctx.tools.run and ctx.tools.dry_run (lapi_dryrun.c) share
 * (lapi_tools.c): [-0, +1, e] the tool's spec, a plain copy with
 * tool_overrides applied (fn: the ctx function named in messages); the
 * argv list at tbl[field] with {placeholders} filled, returning its length;
 * an http tool's request {method, url, shown_url, headers, body?}; one
 * template filled as text. */
void lapi_tools_push_spec(lua_State *L, const char *fn, const char *name);
int lapi_tools_push_argv(lua_State *L, const char *name, int tbl, const char *field, const char *where, int args);
void lapi_tools_push_request(lua_State *L, const char *name, int spec, int args);
void lapi_tools_push_filled(lua_State *L, const char *name, const char *where, const char *tmpl, int args);
/* ctx.tools.dry_run(name, args) -> report (lapi_dryrun.c) */
int lapi_tools_dry_run(lua_State *L);
/* [-0, +0, m] Sets ctx.files on the ctx base table on top (lapi_files.c). */
void lapi_files_install(lua_State *L);
/* [-0, +0, m] Sets ctx.host on the ctx base table on top (lapi_host.c). */
void lapi_host_install(lua_State *L);
/* [-0, +0, m] Sets ctx.llm on the ctx base table on top (lapi_llm.c). */
void lapi_llm_install(lua_State *L);
/* [-0, +0, m] Sets ctx.incidents on the ctx base table on top (lapi_incidents.c). */
void lapi_incidents_install(lua_State *L);
/* [-0, +1, m] A fresh ctx for one call, holding the shared namespaces. */
void lapi_push_call_ctx(lua_State *L);

/* [-0, +(0|1), m] Side-effecting ctx calls go through these two, so that a
 * re-executed task (after an interrupt or a crash) gets the recorded results
 * back instead of acting again. replay pushes the recorded result of the next
 * call and returns 1 when there is one (0 when the call must really happen);
 * it raises if the recorded call was of another kind (the node is not
 * deterministic). record appends the result at stack index idx. */
int lapi_journal_replay(lua_State *L, const char *kind);
void lapi_journal_record(lua_State *L, const char *kind, int idx);
/* [-0, +0, -] Effect ledger: commits this execution's journal so far durably
 * through the runner (exec.h flush_journal), before and after an effect.
 * 0 when done or when nothing persists; -OG_E* with err set otherwise. */
int lapi_journal_flush(lua_State *L, struct og_err *err);
/* The kind ("tool", "tool_start", ...) of the next recorded entry a replay
 * would return, or NULL when the recorded journal is used up. */
const char *lapi_journal_peek(lua_State *L);

/* [-0, +1, m] The metatable of state tables (lexec.c), made once per VM. */
void lexec_push_state_mt(lua_State *L);

/* Reads the Graph table at the top of the stack into a new og_graph
 * (lgraph.c). Does not validate. */
int lgraph_build(struct og_lvm *vm, struct og_graph **out, struct og_err *err);

#endif
