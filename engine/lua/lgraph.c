/*
 * lgraph.c: from the Graph table a graph file returns (built by the DSL in
 * prelude.lua) to the C graph model. Node, router and reducer functions are
 * stored in a registry table and referred to by integer handles. Everything
 * here runs under lua_pcall: reading tables may raise on memory errors.
 */
#include "lvm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lconv.h"

/* [-0, +1, -] t[k] without metamethods: reading the description must not
 * run graph code (it would run outside any budget). */
static int og_rawfield(lua_State *L, int idx, const char *k)
{
	idx = lua_absindex(L, idx);
	lua_pushstring(L, k);
	return lua_rawget(L, idx);
}

struct build {
	struct og_lvm *vm;
	struct og_graph *g;
	struct og_err *err;
	int rc;
};

/* [-1, +0, -] stores the function on top in the handle table; returns its handle */
static int take_fn(lua_State *L, struct og_lvm *vm)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_fns);	/* fn fns */
	lua_insert(L, -2);					/* fns fn */
	lua_rawseti(L, -2, ++vm->nfns);				/* fns */
	lua_pop(L, 1);
	return vm->nfns;
}

/* [-0, +0, m] reads t.src = {file, line} of the table at idx */
static void read_src(lua_State *L, int idx, struct og_srcpos *pos, char *file, size_t len)
{
	pos->file = NULL;
	pos->line = 0;
	if (og_rawfield(L, idx, "src") == LUA_TTABLE) {
		if (og_rawfield(L, -1, "file") == LUA_TSTRING) {
			snprintf(file, len, "%s", lua_tostring(L, -1));
			pos->file = file;
		}
		lua_pop(L, 1);
		og_rawfield(L, -1, "line");
		pos->line = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* [-0, +0, m] reads a list of strings t[field] into a new char* array */
static int read_names(lua_State *L, int idx, const char *field, const char ***out, int *n)
{
	int i, len;

	*out = NULL;
	*n = 0;
	if (og_rawfield(L, idx, field) != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	len = (int)lua_rawlen(L, -1);
	*out = lua_newuserdatauv(L, sizeof(char *) * ((size_t)len + 1), 0);	/* freed by GC */
	lua_insert(L, -2);				/* ud list */
	for (i = 1; i <= len; i++) {
		if (lua_rawgeti(L, -1, i) != LUA_TSTRING) {
			lua_pop(L, 3);
			return -1;
		}
		(*out)[i - 1] = lua_tostring(L, -1);	/* kept alive by the list */
		lua_pop(L, 1);
	}
	*n = len;
	lua_pop(L, 1);	/* ud stays on the stack: *out lives until the caller pops it */
	return 0;
}

static int opt_int(lua_State *L, int idx, const char *field, lua_Integer *out, bool *present)
{
	int t = og_rawfield(L, idx, field);
	int isnum;

	*present = t != LUA_TNIL;
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	*out = lua_tointegerx(L, -1, &isnum);
	if (!isnum) {
		lua_Number d = lua_tonumberx(L, -1, &isnum);
		if (!isnum || d != (lua_Number)(lua_Integer)d) {
			lua_pop(L, 1);
			return -1;
		}
		*out = (lua_Integer)d;
	}
	lua_pop(L, 1);
	return 0;
}

/* Node options: retry = {max_attempts, backoff_ms}, budget = {instructions,
 * memory_mb}, destinations = {...}, interrupt_before/after = bool. */
static int read_node_opts(lua_State *L, int opts, struct build *b, int ni, const char *where)
{
	struct og_node_def *n = &b->g->nodes[ni];
	lua_Integer v;
	bool present;
	int i;

	if (og_rawfield(L, opts, "retry") == LUA_TTABLE) {
		int t = lua_gettop(L);
		if (opt_int(L, t, "max_attempts", &v, &present) < 0 || (present && (v < 1 || v > 100)))
			return og_err_set(b->err, -OG_EGRAPH, "%s: node '%s': retry.max_attempts must be an integer from 1 to 100",
					  where, n->name);
		if (present)
			n->max_attempts = (int)v;
		if (opt_int(L, t, "backoff_ms", &v, &present) < 0 || (present && (v < 0 || v > 600000)))
			return og_err_set(b->err, -OG_EGRAPH, "%s: node '%s': retry.backoff_ms must be an integer from 0 to 600000",
					  where, n->name);
		if (present)
			n->backoff_ms = (int)v;
	} else if (!lua_isnil(L, -1)) {
		return og_err_set(b->err, -OG_EGRAPH, "%s: node '%s': retry must be a table { max_attempts = N, backoff_ms = MS }",
				  where, n->name);
	}
	lua_pop(L, 1);

	if (og_rawfield(L, opts, "budget") == LUA_TTABLE) {
		int t = lua_gettop(L);
		lua_Number d;
		int isnum;
		if (og_rawfield(L, t, "instructions") != LUA_TNIL) {
			d = lua_tonumberx(L, -1, &isnum);
			if (!isnum || d < 1000 || d > 1e12)
				return og_err_set(b->err, -OG_EGRAPH, "%s: node '%s': budget.instructions must be a number from 1000 to 1e12",
						  where, n->name);
			n->budget_instructions = (int64_t)d;
		}
		lua_pop(L, 1);
		if (og_rawfield(L, t, "memory_mb") != LUA_TNIL) {
			d = lua_tonumberx(L, -1, &isnum);
			if (!isnum || d < 1 || d > 65536)
				return og_err_set(b->err, -OG_EGRAPH, "%s: node '%s': budget.memory_mb must be a number from 1 to 65536",
						  where, n->name);
			n->budget_memory = (int64_t)(d * 1024 * 1024);
		}
		lua_pop(L, 1);
	} else if (!lua_isnil(L, -1)) {
		return og_err_set(b->err, -OG_EGRAPH, "%s: node '%s': budget must be a table { instructions = N, memory_mb = MB }",
				  where, n->name);
	}
	lua_pop(L, 1);

	og_rawfield(L, opts, "interrupt_before");
	n->interrupt_before = lua_toboolean(L, -1);
	og_rawfield(L, opts, "interrupt_after");
	n->interrupt_after = lua_toboolean(L, -1);
	lua_pop(L, 2);

	{
		const char **names;
		int count;
		if (read_names(L, opts, "destinations", &names, &count) < 0)
			return og_err_set(b->err, -OG_EGRAPH, "%s: node '%s': destinations must be a list of node names",
					  where, n->name);
		for (i = 0; i < count; i++)
			if (og_graph_add_destination(b->g, ni, names[i], b->err) < 0)
				return b->err->code;
	}
	return 0;
}

static int set_breakpoints(lua_State *L, int gi, struct build *b, const char *field)
{
	const char **names;
	int count, i, node;

	if (read_names(L, gi, field, &names, &count) < 0)
		return og_err_set(b->err, -OG_EGRAPH, "graph '%s': %s must be a list of node names", b->g->name, field);
	for (i = 0; i < count; i++) {
		if (!strcmp(names[i], "*")) {
			for (node = 0; node < b->g->nnodes; node++)
				*(field[10] == 'b' ? &b->g->nodes[node].interrupt_before
						   : &b->g->nodes[node].interrupt_after) = true;
			continue;
		}
		node = og_graph_find_node(b->g, names[i]);
		if (node < 0)
			return og_err_set(b->err, -OG_EGRAPH, "graph '%s': %s names '%s', which is not a node",
					  b->g->name, field, names[i]);
		if (field[10] == 'b')
			b->g->nodes[node].interrupt_before = true;
		else
			b->g->nodes[node].interrupt_after = true;
	}
	return 0;
}

/* [-0, +0, e] Graph table at index 1, struct build at upvalue-free arg 2 */
static int build_graph(lua_State *L)
{
	struct build *b = lua_touserdata(L, 2);
	struct og_lvm *vm = b->vm;
	char file[1024], where[1100];
	struct og_srcpos pos;
	const char *name;
	int i, len, t;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_graph_mt);
	if (!lua_getmetatable(L, 1) || !lua_rawequal(L, -1, -2)) {
		b->rc = og_err_set(b->err, -OG_EGRAPH,
				   "%s: the graph file must end with `return g`, where g = og.graph{...} (it returned a %s)",
				   vm->graph_file, luaL_typename(L, 1));
		return 0;
	}
	lua_settop(L, 2);

	og_rawfield(L, 1, "name");
	name = lua_tostring(L, -1);
	if (!(b->g = og_graph_new(name, b->err))) {
		b->rc = -OG_ENOMEM;
		return 0;
	}
	lua_pop(L, 1);
	read_src(L, 1, &pos, file, sizeof(file));
	b->g->pos.file = pos.file ? strdup(pos.file) : NULL;
	b->g->pos.line = pos.line;
	og_rawfield(L, 1, "recursion_limit");
	if (lua_isinteger(L, -1))
		b->g->recursion_limit = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	og_rawfield(L, 1, "input");
	if (lua_isstring(L, -1) && !(b->g->input_channel = strdup(lua_tostring(L, -1)))) {
		b->rc = og_err_set(b->err, -OG_ENOMEM, "out of memory");
		return 0;
	}
	lua_pop(L, 1);

	/* channels: already sorted by name in the prelude */
	og_rawfield(L, 1, "channels");
	t = lua_gettop(L);
	len = (int)lua_rawlen(L, t);
	for (i = 1; i <= len; i++) {
		static const char *const kinds[] = { "last", "append", "merge", "sum", "custom", NULL };
		enum og_reducer kind;
		const char *ks;
		cJSON *init = NULL;
		int fn = -1, k;

		lua_rawgeti(L, t, i);
		og_rawfield(L, -1, "name");
		name = lua_tostring(L, -1);
		og_rawfield(L, -2, "kind");
		ks = lua_tostring(L, -1);
		for (k = 0; kinds[k] && strcmp(kinds[k], ks); k++)
			;
		kind = (enum og_reducer)k;
		if (og_rawfield(L, -3, "init") != LUA_TNIL &&
		    !(init = og_lconv_to_json(L, -1, name, b->err))) {
			b->rc = og_err_prefix(b->err, "graph '%s': initial value of state.%s: ", b->g->name, name);
			return 0;
		}
		lua_pop(L, 1);
		if (kind == OG_RED_CUSTOM) {
			og_rawfield(L, t + 1, "fn");
			fn = take_fn(L, vm);
		}
		read_src(L, t + 1, &pos, file, sizeof(file));
		if ((b->rc = og_graph_add_channel(b->g, name, kind, init, fn, &pos, b->err)) < 0)
			return 0;
		lua_settop(L, t);
	}
	lua_settop(L, 2);

	og_rawfield(L, 1, "nodes");
	t = lua_gettop(L);
	len = (int)lua_rawlen(L, t);
	for (i = 1; i <= len; i++) {
		int ni, fn;
		lua_rawgeti(L, t, i);				/* node */
		og_rawfield(L, -1, "name");
		name = lua_tostring(L, -1);
		og_rawfield(L, -2, "fn");
		fn = take_fn(L, vm);
		read_src(L, t + 1, &pos, file, sizeof(file));
		og_srcpos_str(&pos, where, sizeof(where));
		if ((ni = og_graph_add_node(b->g, name, fn, &pos, b->err)) < 0) {
			b->rc = og_err_prefix(b->err, "%s: ", where);
			return 0;
		}
		og_rawfield(L, t + 1, "opts");
		if ((b->rc = read_node_opts(L, lua_gettop(L), b, ni, where)) < 0)
			return 0;
		lua_settop(L, t);
	}
	lua_settop(L, 2);

	og_rawfield(L, 1, "edges");
	t = lua_gettop(L);
	len = (int)lua_rawlen(L, t);
	for (i = 1; i <= len; i++) {
		const char **from;
		int nfrom;
		lua_rawgeti(L, t, i);
		read_names(L, t + 1, "from", &from, &nfrom);
		og_rawfield(L, t + 1, "to");
		read_src(L, t + 1, &pos, file, sizeof(file));
		if ((b->rc = og_graph_add_edge(b->g, from, nfrom, lua_tostring(L, -1), &pos, b->err)) < 0)
			return 0;
		lua_settop(L, t);
	}
	lua_settop(L, 2);

	og_rawfield(L, 1, "routes");
	t = lua_gettop(L);
	len = (int)lua_rawlen(L, t);
	for (i = 1; i <= len; i++) {
		const char **targets;
		int ntargets, fn;
		lua_rawgeti(L, t, i);
		read_src(L, t + 1, &pos, file, sizeof(file));
		if (read_names(L, t + 1, "targets", &targets, &ntargets) < 0) {
			b->rc = og_err_set(b->err, -OG_EGRAPH, "%s: g:route targets must be a list of node names",
					   og_srcpos_str(&pos, where, sizeof(where)));
			return 0;
		}
		og_rawfield(L, t + 1, "fn");
		fn = take_fn(L, vm);
		og_rawfield(L, t + 1, "from");
		if ((b->rc = og_graph_add_route(b->g, lua_tostring(L, -1), fn, targets, ntargets, &pos, b->err)) < 0)
			return 0;
		lua_settop(L, t);
	}
	lua_settop(L, 2);

	if ((b->rc = set_breakpoints(L, 1, b, "interrupt_before")) < 0 ||
	    (b->rc = set_breakpoints(L, 1, b, "interrupt_after")) < 0)
		return 0;
	b->rc = 0;
	return 0;
}

int lgraph_build(struct og_lvm *vm, struct og_graph **out, struct og_err *err)
{
	lua_State *L = vm->L;
	struct build b = { vm, NULL, err, 0 };
	int top = lua_gettop(L);

	lua_pushcfunction(L, build_graph);
	lua_pushvalue(L, -2);
	lua_pushlightuserdata(L, &b);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		og_err_set(err, -OG_ENOMEM, "graph: %s", lua_tostring(L, -1));
		b.rc = -OG_ENOMEM;
	}
	lua_settop(L, top);
	if (b.rc < 0) {
		og_graph_free(b.g);
		return b.rc;
	}
	*out = b.g;
	return 0;
}
