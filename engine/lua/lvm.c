/*
 * lvm.c: Lua state lifecycle, budgets and protected calls.
 *
 * Budgets follow Redis and HAProxy: memory is capped in the allocator (a
 * failed allocation becomes a Lua memory error), instructions by a count
 * hook. Once a budget is spent the hook fires on every instruction and the
 * allocator keeps refusing, so a node that catches the error with pcall
 * cannot keep running; and the flags are checked after the call, so a node
 * that swallowed the error still fails. C library calls (string.rep,
 * table.concat) do not tick the hook; the memory cap is what bounds them,
 * except pattern matching, which allocates nothing: lpattern.c charges its
 * matching steps to the same instruction budget.
 */
#include "lvm_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lconv.h"

const char lvm_key_og;
const char lvm_key_graph_mt;
const char lvm_key_result;
const char lvm_key_route;
const char lvm_key_fns;
const char lvm_key_interrupt_mt;
const char lvm_key_ctx;
const char lvm_key_state_mt;

/* Hook granularity. Every 1000 VM instructions costs ~1% on a tight loop
 * and lets a runaway node overshoot its budget by at most 1000 instructions. */
#define LVM_HOOK_EVERY 1000

/* Room given back to the VM once a memory budget is hit, so the error
 * message and traceback can still be built. */
#define LVM_MEM_GRACE (256 * 1024)

static const unsigned char lvm_prelude[] = {
#include "prelude.inc"
};

/* POOL. Lua tells its allocator the size of every block it frees or
 * grows, so the VM keeps the small blocks it frees on a free list per
 * 16-byte size class, with no header, and takes its next blocks of that
 * class from there: a pop or a push where jemalloc's malloc and free cost
 * some 35 instructions each (a node call allocates and frees ~40 objects:
 * tables, strings, closures; 3% of a benchmark step). A block is malloc'd
 * at its class's full size so any request of the class fits it; at most
 * LVM_POOL_MAX bytes are kept, the rest is freed, and og_lvm_free frees
 * the lists. mem_used still counts the sizes Lua asked for, so budgets are
 * what they were. One VM runs on one thread at a time: no lock. */
#define LVM_POOL_STEP 16
#define LVM_POOL_SMALL (LVM_POOL_STEP * (sizeof(((struct og_lvm *)0)->pool) / sizeof(void *)))
/* Under AddressSanitizer nothing is kept: a block Lua frees goes back to
 * the allocator at once, so a use after free is still caught. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LVM_POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(LVM_POOL_ASAN)
#define LVM_POOL_MAX 0
#else
#define LVM_POOL_MAX (64 * 1024)
#endif

static void *pool_get(struct og_lvm *vm, size_t n)
{
	size_t c = (n - 1) / LVM_POOL_STEP;
	void *p = vm->pool[c];

	if (!p)
		return malloc((c + 1) * LVM_POOL_STEP);
	vm->pool[c] = *(void **)p;
	vm->pooled -= (c + 1) * LVM_POOL_STEP;
	return p;
}

static void pool_put(struct og_lvm *vm, void *p, size_t n)
{
	size_t c = (n - 1) / LVM_POOL_STEP, size = (c + 1) * LVM_POOL_STEP;

	if (vm->pooled + size > LVM_POOL_MAX) {
		free(p);
		return;
	}
	*(void **)p = vm->pool[c];
	vm->pool[c] = p;
	vm->pooled += size;
}

static void pool_release(struct og_lvm *vm)
{
	size_t c;

	for (c = 0; c < sizeof(vm->pool) / sizeof(*vm->pool); c++) {
		while (vm->pool[c]) {
			void *next = *(void **)vm->pool[c];
			free(vm->pool[c]);
			vm->pool[c] = next;
		}
	}
	vm->pooled = 0;
}

/* a block of n bytes (1..): from the pool when small */
static void *block_new(struct og_lvm *vm, size_t n)
{
	return n <= LVM_POOL_SMALL ? pool_get(vm, n) : malloc(n);
}

/* frees a block Lua allocated with size n */
static void block_free(struct og_lvm *vm, void *p, size_t n)
{
	if (n && n <= LVM_POOL_SMALL)
		pool_put(vm, p, n);
	else
		free(p);
}

static void *lvm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct og_lvm *vm = ud;
	size_t old = ptr ? osize : 0;	/* osize is a type tag when ptr == NULL */
	void *p;

	if (nsize == 0) {
		if (ptr)
			block_free(vm, ptr, old);
		vm->mem_used -= old;
		return NULL;
	}
	if (vm->mem_limit && nsize > old && vm->mem_used - old + nsize > vm->mem_limit) {
		if (!vm->mem_hit) {
			vm->mem_hit = true;
			vm->mem_limit += LVM_MEM_GRACE;
		}
		return NULL;
	}
	if (!ptr) {
		p = block_new(vm, nsize);
	} else if (old > LVM_POOL_SMALL && nsize > LVM_POOL_SMALL) {
		p = realloc(ptr, nsize);
	} else if (old && old <= LVM_POOL_SMALL && nsize <= LVM_POOL_SMALL &&
		   (old - 1) / LVM_POOL_STEP == (nsize - 1) / LVM_POOL_STEP) {
		p = ptr;			/* the block's class holds the new size too */
	} else if ((p = block_new(vm, nsize))) {
		memcpy(p, ptr, old < nsize ? old : nsize);
		block_free(vm, ptr, old);
	}
	if (p)
		vm->mem_used = vm->mem_used - old + nsize;
	return p;
}

static void lvm_hook(lua_State *L, lua_Debug *ar)
{
	struct og_lvm *vm = lvm_from(L);

	(void)ar;
	vm->ticks_left -= vm->instr_hit ? 1 : LVM_HOOK_EVERY;
	if (vm->ticks_left > 0 && !vm->instr_hit)
		return;
	if (!vm->instr_hit) {
		vm->instr_hit = true;
		/* from now on fire on every instruction: a pcall in the node
		 * cannot swallow the error and loop on */
		lua_sethook(L, lvm_hook, LUA_MASKCOUNT, 1);
	}
	luaL_error(L, "%s: instruction budget exhausted", vm->what);
}

/* [-1, +1, m] Message handler: keeps og.interrupt objects as they are and
 * turns anything else into "message\nstack traceback:...". It is C and lives
 * below the call, so graph code cannot replace it. */
static int lvm_msgh(lua_State *L)
{
	const char *msg;

	if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_interrupt_mt);
		if (lua_rawequal(L, -1, -2)) {
			lua_settop(L, 1);
			return 1;
		}
		lua_pop(L, 2);
	}
	msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static void format_mem(char *buf, size_t len, int64_t bytes)
{
	if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
		snprintf(buf, len, "%lld MB", (long long)(bytes >> 20));
	else
		snprintf(buf, len, "%lld bytes", (long long)bytes);
}

int lvm_call(struct og_lvm *vm, int nargs, int nres, int64_t instructions, int64_t memory,
	     const char *what, enum og_task_status *kind, cJSON **interrupt, struct og_err *err)
{
	lua_State *L = vm->L;
	int base = lua_gettop(L) - nargs, status;
	bool instr_hit, mem_hit;

	{
		/* snprintf(vm->what, sizeof(vm->what), "%s", what): a copy by hand,
		 * as it runs for every node call */
		size_t n = strlen(what);
		if (n >= sizeof(vm->what))
			n = sizeof(vm->what) - 1;
		memcpy(vm->what, what, n);
		vm->what[n] = '\0';
	}
	vm->cur_instructions = instructions > 0 ? instructions : vm->def_instructions;
	vm->cur_memory = memory > 0 ? memory : vm->def_memory;
	lua_pushcfunction(L, lvm_msgh);
	lua_insert(L, base);				/* msgh fn args */
	vm->mem_hit = vm->instr_hit = false;
	vm->ticks_left = vm->cur_instructions;
	vm->mem_limit = vm->mem_used + (size_t)vm->cur_memory;
	lua_sethook(L, lvm_hook, LUA_MASKCOUNT, LVM_HOOK_EVERY);
	status = lua_pcall(L, nargs, nres, base);	/* msgh results | msgh err */
	lua_sethook(L, NULL, 0, 0);
	vm->mem_limit = 0;
	instr_hit = vm->instr_hit;
	mem_hit = vm->mem_hit;
	vm->instr_hit = vm->mem_hit = false;

	if (status == LUA_OK && !instr_hit && !mem_hit) {
		lua_remove(L, base);			/* results */
		*kind = OG_TASK_OK;
		return 0;
	}
	if (instr_hit || mem_hit) {
		char mem[64];
		format_mem(mem, sizeof(mem), vm->cur_memory);
		*kind = OG_TASK_BUDGET;
		if (instr_hit)
			og_err_set(err, -OG_EBUDGET,
				   "%s exceeded its instruction budget of %lld instructions and was stopped "
				   "(an endless loop? if the work is real, raise it: g:node(name, fn, "
				   "{ budget = { instructions = N } }))", what, (long long)vm->cur_instructions);
		else
			og_err_set(err, -OG_EBUDGET,
				   "%s exceeded its memory budget of %s and was stopped (raise it: "
				   "g:node(name, fn, { budget = { memory_mb = N } }))", what, mem);
		lua_settop(L, base - 1);
		lua_gc(L, LUA_GCCOLLECT);
		return -OG_EBUDGET;
	}
	/* status != OK: msgh err */
	if (lua_type(L, -1) == LUA_TTABLE) {
		*kind = OG_TASK_INTERRUPT;
		lua_getfield(L, -1, "value");		/* msgh err value */
		if (interrupt) {
			struct og_err cerr;	/* set on failure only */
			cerr.code = 0;
			cerr.msg[0] = '\0';
			*interrupt = og_lconv_to_json(L, -1, "og.interrupt value", &cerr);
			if (!*interrupt && !lua_isnil(L, -1)) {
				*kind = OG_TASK_INVALID;
				og_err_set(err, -OG_EINVAL, "%s: %s", what, cerr.msg);
			} else if (!*interrupt) {
				*interrupt = cJSON_CreateNull();
			}
		}
		lua_settop(L, base - 1);
		return *kind == OG_TASK_INTERRUPT ? 0 : -OG_EINVAL;
	}
	*kind = OG_TASK_ERROR;
	og_err_set(err, status == LUA_ERRMEM ? -OG_ENOMEM : -OG_ENODE, "%s",
		   lua_tostring(L, -1) ? lua_tostring(L, -1) : "error without a message");
	lua_settop(L, base - 1);
	return err ? err->code : -OG_ENODE;
}

/* ---- the C primitives the prelude closes over ---------------------------- */

static int lvm_c_getinfo(lua_State *L)
{
	lua_Debug ar;
	int level = (int)luaL_checkinteger(L, 1);

	if (!lua_getstack(L, level, &ar))
		return 0;
	lua_getinfo(L, "Sl", &ar);
	lua_createtable(L, 0, 2);
	lua_pushstring(L, ar.short_src);
	lua_setfield(L, -2, "short_src");
	lua_pushinteger(L, ar.currentline);
	lua_setfield(L, -2, "currentline");
	return 1;
}

/* og.interrupt's resume values: (true, value) for the next one, or false. */
static int lvm_c_resume_next(lua_State *L)
{
	struct og_lvm *vm = lvm_from(L);
	const cJSON *v;

	if (!vm->resume || vm->resume_pos >= cJSON_GetArraySize(vm->resume)) {
		lua_pushboolean(L, 0);
		return 1;
	}
	v = cJSON_GetArrayItem(vm->resume, vm->resume_pos++);
	lua_pushboolean(L, 1);
	og_lconv_push(L, v);
	return 2;
}

/* getmetatable ignoring __metatable: the prelude identifies its own objects
 * by metatables that graph code cannot see. */
static int lvm_c_rawmetatable(lua_State *L)
{
	if (!lua_getmetatable(L, 1))
		lua_pushnil(L);
	return 1;
}

/* [-0, +0, e] Runs under lua_pcall: libraries, prelude, registry entries. */
static int lvm_setup(lua_State *L)
{
	luaL_openlibs(L);
	og_lconv_init(L);

	/* every string shares one metatable: hide it from graph code */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);

	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lvm_key_fns);

	if (luaL_loadbufferx(L, (const char *)lvm_prelude, sizeof(lvm_prelude) - 1, "=prelude", "t"))
		return lua_error(L);
	lua_createtable(L, 0, 4);			/* prelude C */
	og_lconv_push_null(L);
	lua_setfield(L, -2, "null");
	og_lconv_push_array_mt(L);
	lua_setfield(L, -2, "array_mt");
	lua_pushcfunction(L, lvm_c_getinfo);
	lua_setfield(L, -2, "getinfo");
	lua_pushcfunction(L, lvm_c_resume_next);
	lua_setfield(L, -2, "resume_next");
	lua_pushcfunction(L, lvm_c_rawmetatable);
	lua_setfield(L, -2, "rawmetatable");
	lua_call(L, 1, 2);				/* og internal */
	lua_getfield(L, -1, "Interrupt");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lvm_key_interrupt_mt);
	lua_getfield(L, -1, "Graph");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lvm_key_graph_mt);
	lua_getfield(L, -1, "result");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lvm_key_result);
	lua_getfield(L, -1, "route");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lvm_key_route);
	lua_getfield(L, -1, "readonly");		/* og internal readonly */
	lua_insert(L, -3);				/* readonly og internal */
	lua_pop(L, 1);					/* readonly og */
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lvm_key_og);	/* readonly */

	lapi_push_ctx(L);				/* readonly base */
	lua_insert(L, -2);				/* base readonly */
	{
		struct og_lvm *vm = lvm_from(L);
		if (vm->config)
			og_lconv_push(L, vm->config);
		else
			lua_newtable(L);
		lua_call(L, 1, 1);			/* base config_view */
	}
	lua_setfield(L, -2, "config");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lvm_key_ctx);
	lexec_push_state_mt(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lvm_key_state_mt);
	return 0;
}

struct og_lvm *og_lvm_new(const struct og_lvm_opts *opts, struct og_err *err)
{
	struct og_lvm *vm = calloc(1, sizeof(*vm));
	int n = 0;

	if (!vm)
		goto nomem;
	vm->def_instructions = opts && opts->default_instructions > 0 ? opts->default_instructions
								   : OG_LVM_DEFAULT_INSTRUCTIONS;
	vm->def_memory = opts && opts->default_memory > 0 ? opts->default_memory : OG_LVM_DEFAULT_MEMORY;
	if (opts && opts->root)
		snprintf(vm->root, sizeof(vm->root), "%s", opts->root);
	while (opts && opts->extra_paths && opts->extra_paths[n])
		n++;
	if (n) {
		if (!(vm->extra = calloc((size_t)n, sizeof(char *))))
			goto nomem;
		for (vm->nextra = 0; vm->nextra < n; vm->nextra++)
			if (!(vm->extra[vm->nextra] = strdup(opts->extra_paths[vm->nextra])))
				goto nomem;
	}
	vm->L = lua_newstate(lvm_alloc, vm);
	if (!vm->L)
		goto nomem;
	*(struct og_lvm **)lua_getextraspace(vm->L) = vm;
	vm->config = opts ? opts->config : NULL;
	if (opts && opts->config_path)
		snprintf(vm->config_path, sizeof(vm->config_path), "%s", opts->config_path);
	if (vm->config && cJSON_GetObjectItemCaseSensitive(vm->config, "llm") &&
	    !(vm->llm_conf = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(vm->config, "llm"), 1)))
		goto nomem;
	lua_pushcfunction(vm->L, lvm_setup);
	if (lua_pcall(vm->L, 0, 0, 0) != LUA_OK) {
		vm->config = NULL;
		og_err_set(err, -OG_ENOMEM, "lua: setup failed: %s", lua_tostring(vm->L, -1));
		og_lvm_free(vm);
		return NULL;
	}
	vm->config = NULL;
	return vm;
nomem:
	og_lvm_free(vm);
	og_err_set(err, -OG_ENOMEM, "lua: out of memory");
	return NULL;
}

void og_lvm_free(struct og_lvm *vm)
{
	int i;

	if (!vm)
		return;
	if (vm->L)
		lua_close(vm->L);
	pool_release(vm);
	cJSON_Delete(vm->llm_conf);
	for (i = 0; i < vm->nextra; i++)
		free(vm->extra[i]);
	free(vm->extra);
	free(vm);
}

void og_lvm_set_llm_log(struct og_lvm *vm, og_lvm_llm_log_fn fn, void *ud)
{
	vm->llm_log = fn;
	vm->llm_log_ud = ud;
}

void og_lvm_set_similar(struct og_lvm *vm, og_lvm_similar_fn fn, void *ud)
{
	vm->similar = fn;
	vm->similar_ud = ud;
}

/* The project root for require: the parent of a graphs/ directory holding
 * the file, else the current directory. */
static void guess_root(struct og_lvm *vm, const char *path)
{
	char *slash;

	snprintf(vm->graph_dir, sizeof(vm->graph_dir), "%s", path);
	slash = strrchr(vm->graph_dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(vm->graph_dir, sizeof(vm->graph_dir), ".");
	if (vm->root[0])
		return;
	slash = strrchr(vm->graph_dir, '/');
	if (!strcmp(slash ? slash + 1 : vm->graph_dir, "graphs")) {
		if (slash)
			snprintf(vm->root, sizeof(vm->root), "%.*s", (int)(slash - vm->graph_dir), vm->graph_dir);
		else
			snprintf(vm->root, sizeof(vm->root), ".");
	} else {
		snprintf(vm->root, sizeof(vm->root), ".");
	}
}

/* [-0, +1, e] under pcall: load and run the graph file; leaves its result. */
static int lvm_run_graph_file(lua_State *L)
{
	const char *path = lua_tostring(L, 1);
	char chunk[1100];

	snprintf(chunk, sizeof(chunk), "@%s", path);
	lvm_load_file(L, path, chunk);
	lua_call(L, 0, 1);
	return 1;
}

static int load_graph(struct og_lvm *vm, const char *path, struct og_graph **out, bool validate,
		      struct og_err *err)
{
	lua_State *L = vm->L;
	enum og_task_status kind;
	char what[1100];
	int rc, top = lua_gettop(L);
	FILE *f;

	*out = NULL;
	if (!(f = fopen(path, "r")))
		return og_err_set(err, -OG_ENOENT, "graph file '%s': %s", path, strerror(errno));
	fclose(f);
	guess_root(vm, path);
	snprintf(vm->graph_file, sizeof(vm->graph_file), "%s", path);
	snprintf(what, sizeof(what), "graph file '%s'", path);
	lua_pushcfunction(L, lvm_run_graph_file);
	lua_pushstring(L, path);
	rc = lvm_call(vm, 1, 1, 0, 256LL << 20, what, &kind, NULL, err);
	if (rc < 0 || kind != OG_TASK_OK) {
		lua_settop(L, top);
		if (kind == OG_TASK_INTERRUPT)
			return og_err_set(err, -OG_EGRAPH, "%s: og.interrupt may only be called inside a node", what);
		if (err)
			err->code = -OG_EGRAPH;
		return -OG_EGRAPH;
	}
	rc = lgraph_build(vm, out, err);
	lua_settop(L, top);
	if (rc < 0)
		return rc;
	if (validate && (rc = og_graph_validate(*out, err)) < 0) {
		og_graph_free(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

int og_lvm_load_graph(struct og_lvm *vm, const char *path, struct og_graph **out, struct og_err *err)
{
	return load_graph(vm, path, out, true, err);
}

int og_lvm_load_graph_unchecked(struct og_lvm *vm, const char *path, struct og_graph **out,
				struct og_err *err)
{
	return load_graph(vm, path, out, false, err);
}
