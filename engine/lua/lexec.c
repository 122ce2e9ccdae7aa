/*
 * lexec.c: og_exec_ops for Lua graphs. A node call is fn(state, ctx) under
 * the node's budgets; its result is classified by the prelude's classifier
 * into writes and next tasks, then converted to JSON. A malformed result is
 * OG_TASK_INVALID (not retried: running it again gives the same answer).
 */
#include "lvm_int.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "lconv.h"

/* The state a node or router gets is read lazily: an empty table whose
 * __index converts a channel from JSON the first time it is read and keeps
 * it in the table. Most nodes read two or three channels of a state that
 * holds many (an incident's context, timeline, plan...), so converting all
 * of them per call would be most of the call's cost (bench S1: 11%). The
 * view behind it is valid only during the call; reading the table after the
 * call returned raises instead of touching freed memory. */

/* [-0, +1, -] the value of channel `name` (nil when unset or unknown) */
static int state_lookup(lua_State *L, struct og_lvm *vm, const char *name)
{
	int ch = og_graph_find_channel(vm->view_g, name);

	if (ch < 0 || !vm->view->vals[ch] || cJSON_IsNull(vm->view->vals[ch])) {
		lua_pushnil(L);
		return 0;
	}
	og_lconv_push(L, vm->view->vals[ch]);
	return 1;
}

/* __index(t, k) */
static int state_index(lua_State *L)
{
	struct og_lvm *vm = lvm_from(L);

	if (lua_type(L, 2) != LUA_TSTRING)
		return 0;
	if (!vm->view)
		return luaL_error(L, "the state of a call that has returned cannot be read: copy the "
				  "values you need while the node runs");
	if (state_lookup(L, vm, lua_tostring(L, 2))) {
		lua_pushvalue(L, 2);
		lua_pushvalue(L, -2);
		lua_rawset(L, 1);			/* cache: later reads are plain */
	}
	return 1;
}

/* [-0, +0, e] reads every channel not read yet into the table at idx */
static void state_materialize(lua_State *L, int idx)
{
	struct og_lvm *vm = lvm_from(L);
	int i;

	if (!vm->view)
		luaL_error(L, "the state of a call that has returned cannot be read: copy the values "
			   "you need while the node runs");
	idx = lua_absindex(L, idx);
	for (i = 0; i < vm->view->n; i++) {
		const char *name = vm->view_g->channels[i].name;
		if (lua_getfield(L, idx, name) == LUA_TNIL) {	/* through __index: converts */
			lua_pop(L, 1);
			continue;
		}
		lua_pop(L, 1);
	}
}

static int state_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

/* __pairs(t): every channel, as a plain table would give them */
static int state_pairs(lua_State *L)
{
	state_materialize(L, 1);
	lua_pushcfunction(L, state_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

void lexec_push_state_mt(lua_State *L)
{
	lua_createtable(L, 0, 3);
	lua_pushcfunction(L, state_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, state_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pushliteral(L, "og.state");
	lua_setfield(L, -2, "__name");
}

/* [-0, +1, m] a lazy state table over view (see above) */
static void push_state(lua_State *L, struct og_lvm *vm, const struct og_graph *g, const struct og_view *view)
{
	vm->view_g = g;
	vm->view = view;
	lua_createtable(L, 0, 4);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_state_mt);
	lua_setmetatable(L, -2);
}

/* [-0, +1, -] pushes the function behind handle fn */
static void push_fn(lua_State *L, int fn)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_fns);
	lua_rawgeti(L, -1, fn);
	lua_remove(L, -2);
}

struct push_args {
	struct og_lvm *vm;
	const struct og_call *call;
};

/* [-0, +3, e] under pcall: fn, state (or Send input), ctx */
static int push_node_args(lua_State *L)
{
	const struct push_args *a = lua_touserdata(L, 1);
	const struct og_call *c = a->call;

	push_fn(L, c->g->nodes[c->node].fn);
	if (c->input)
		og_lconv_push(L, c->input);
	else
		push_state(L, a->vm, c->g, c->view);
	lapi_push_call_ctx(L);
	lua_pushstring(L, c->g->nodes[c->node].name);
	lua_setfield(L, -2, "node");
	lua_pushinteger(L, c->step);
	lua_setfield(L, -2, "step");
	lua_pushinteger(L, c->attempt);
	lua_setfield(L, -2, "attempt");
	lua_pushstring(L, c->task_id ? c->task_id : "");
	lua_setfield(L, -2, "task_id");
	lua_pushstring(L, c->thread_id ? c->thread_id : "");
	lua_setfield(L, -2, "thread_id");
	return 3;
}

/* [-1, +0, e] under pcall: classifies the result at 1, writes JSON into the
 * result struct at 2 */
static int classify_result(lua_State *L)
{
	struct og_task_result *res = lua_touserdata(L, 2);

	if (lua_getmetatable(L, 1)) {			/* returned the state itself */
		lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_state_mt);
		if (lua_rawequal(L, -1, -2))
			state_materialize(L, 1);
		lua_pop(L, 2);
	}

	if (lua_type(L, 1) == LUA_TTABLE && !lua_getmetatable(L, 1) && lua_rawgeti(L, 1, 1) == LUA_TNIL) {
		/* the usual result, a plain table of writes: the classifier
		 * (prelude.lua) would return it as it is, as it has no
		 * metatable (no Command or Send) and no Send at [1]; deciding
		 * that here saves a Lua call per node (2% of bench S1) */
		lua_pop(L, 1);
		lua_pushvalue(L, 1);
		lua_pushnil(L);				/* writes next */
	} else {
		lua_settop(L, 2);
		lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_result);
		lua_pushvalue(L, 1);
		lua_call(L, 1, 2);			/* writes next */
	}
	if (!lua_isnil(L, -2) && !(res->writes = og_lconv_to_json(L, -2, "writes", &res->err)))
		return luaL_error(L, "%s", res->err.msg);
	if (!lua_isnil(L, -1) && !(res->next = og_lconv_to_json(L, -1, "next", &res->err)))
		return luaL_error(L, "%s", res->err.msg);
	return 0;
}

static int call_node(void *self, const struct og_call *call, struct og_task_result *res)
{
	struct og_lvm *vm = self;
	lua_State *L = vm->L;
	const struct og_node_def *nd = &call->g->nodes[call->node];
	struct push_args a = { vm, call };
	enum og_task_status kind;
	char what[300];
	int top = lua_gettop(L);

	og_task_result_clear(res);
	{
		/* "node 'NAME'" (snprintf's, by hand: this runs for every call) */
		size_t n = strlen(nd->name);
		if (n > sizeof(what) - 9)
			n = sizeof(what) - 9;
		memcpy(what, "node '", 6);
		memcpy(what + 6, nd->name, n);
		memcpy(what + 6 + n, "'", 2);
	}
	lua_pushcfunction(L, push_node_args);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 3, 0) != LUA_OK) {
		res->status = OG_TASK_ERROR;
		og_err_set(&res->err, -OG_ENOMEM, "%s: preparing the call: %s", what, lua_tostring(L, -1));
		lua_settop(L, top);
		return 0;
	}
	vm->resume = call->resume;
	vm->resume_pos = 0;
	vm->journal_in = call->journal;
	vm->journal_pos = 0;
	vm->journal_out = NULL;
	vm->call = call;
	lvm_call(vm, 2, 1, nd->budget_instructions, nd->budget_memory, what, &kind, &res->interrupt, &res->err);
	vm->call = NULL;
	vm->resume = NULL;
	vm->journal_in = NULL;
	res->journal = vm->journal_out;		/* the result owns it now */
	vm->journal_out = NULL;
	res->status = kind;
	if (kind == OG_TASK_ERROR && nd->pos.file && !strstr(res->err.msg, nd->pos.file))
		/* raised where no frame of the graph file was left (a tail call
		 * such as `return og.command{...}`): point at the node */
		og_err_prefix(&res->err, "%s:%d: ", nd->pos.file, nd->pos.line);
	if (kind != OG_TASK_OK) {
		lua_settop(L, top);
		return 0;
	}
	lua_pushcfunction(L, classify_result);
	lua_insert(L, -2);
	lua_pushlightuserdata(L, res);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		char copy[OG_ERR_MSG];
		snprintf(copy, sizeof(copy), "%s", msg ? msg : "invalid result");
		og_task_result_release(res);
		res->status = OG_TASK_INVALID;
		/* release cleared the journal too; an invalid result is not kept */
		og_err_set(&res->err, -OG_EINVAL, "%s:%d: %s",
			   nd->pos.file ? nd->pos.file : "?", nd->pos.line, copy);
	}
	lua_settop(L, top);
	return 0;
}

struct route_args {
	const struct og_graph *g;
	int fn;
	const struct og_view *view;
};

static int push_route_args(lua_State *L)
{
	const struct route_args *a = lua_touserdata(L, 1);

	push_fn(L, a->fn);
	push_state(L, lvm_from(L), a->g, a->view);
	return 2;
}

/* [-1, +0, e] under pcall: classify the router's result -> JSON list into *out */
static int convert_route(lua_State *L)
{
	cJSON **out = lua_touserdata(L, 2);
	struct og_err err = { 0 };

	lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_route);
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	if (!(*out = og_lconv_to_json(L, -1, "route", &err)))
		return luaL_error(L, "%s", err.msg);
	return 0;
}

static int call_route(void *self, const struct og_graph *g, int route, const struct og_view *view,
		      cJSON **out, struct og_err *err)
{
	struct og_lvm *vm = self;
	lua_State *L = vm->L;
	struct route_args a = { g, g->routes[route].fn, view };
	enum og_task_status kind;
	char what[300];
	int top = lua_gettop(L), rc;

	*out = NULL;
	snprintf(what, sizeof(what), "router of '%s'", g->routes[route].from_name);
	lua_pushcfunction(L, push_route_args);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
		rc = og_err_set(err, -OG_ENOMEM, "%s: %s", what, lua_tostring(L, -1));
		lua_settop(L, top);
		return rc;
	}
	rc = lvm_call(vm, 1, 1, 0, 0, what, &kind, NULL, err);
	if (rc < 0 || kind != OG_TASK_OK) {
		lua_settop(L, top);
		return rc < 0 ? rc : og_err_set(err, -OG_EINVAL, "%s: og.interrupt is only allowed in nodes", what);
	}
	lua_pushcfunction(L, convert_route);
	lua_insert(L, -2);
	lua_pushlightuserdata(L, out);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		rc = og_err_set(err, -OG_EINVAL, "%s: %s", what, lua_tostring(L, -1));
		cJSON_Delete(*out);
		*out = NULL;
	}
	lua_settop(L, top);
	return rc;
}

/* The state view dies with the call: the lazy state table must not reach
 * it afterwards (see state_index). */
static int lexec_call_node(void *self, const struct og_call *call, struct og_task_result *res)
{
	struct og_lvm *vm = self;
	int rc = call_node(self, call, res);

	vm->view = NULL;
	vm->view_g = NULL;
	return rc;
}

static int lexec_call_route(void *self, const struct og_graph *g, int route, const struct og_view *view,
			    cJSON **out, struct og_err *err)
{
	struct og_lvm *vm = self;
	int rc = call_route(self, g, route, view, out, err);

	vm->view = NULL;
	vm->view_g = NULL;
	return rc;
}

struct reduce_args {
	int fn;
	const cJSON *old, *update;
	cJSON **out;
	struct og_err *err;
};

static int push_reduce_args(lua_State *L)
{
	const struct reduce_args *a = lua_touserdata(L, 1);

	push_fn(L, a->fn);
	og_lconv_push(L, a->old);
	og_lconv_push(L, a->update);
	return 3;
}

static int convert_reduced(lua_State *L)
{
	struct reduce_args *a = lua_touserdata(L, 2);

	if (lua_isnil(L, 1)) {
		*a->out = NULL;
		return 0;
	}
	if (!(*a->out = og_lconv_to_json(L, 1, "reduced value", a->err)))
		return luaL_error(L, "%s", a->err->msg);
	return 0;
}

static int lexec_reduce(void *self, const struct og_graph *g, int channel, const cJSON *old,
			const cJSON *update, cJSON **out, struct og_err *err)
{
	struct og_lvm *vm = self;
	lua_State *L = vm->L;
	struct reduce_args a = { g->channels[channel].fn, old, update, out, err };
	enum og_task_status kind;
	char what[300];
	int top = lua_gettop(L), rc;

	*out = NULL;
	snprintf(what, sizeof(what), "reducer of '%s'", g->channels[channel].name);
	lua_pushcfunction(L, push_reduce_args);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 3, 0) != LUA_OK) {
		rc = og_err_set(err, -OG_ENOMEM, "%s: %s", what, lua_tostring(L, -1));
		lua_settop(L, top);
		return rc;
	}
	rc = lvm_call(vm, 2, 1, 0, 0, what, &kind, NULL, err);
	if (rc < 0 || kind != OG_TASK_OK) {
		lua_settop(L, top);
		return rc < 0 ? rc : og_err_set(err, -OG_EINVAL, "%s: og.interrupt is only allowed in nodes", what);
	}
	lua_pushcfunction(L, convert_reduced);
	lua_insert(L, -2);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		if (!err || !err->code)
			og_err_set(err, -OG_EINVAL, "%s: %s", what, lua_tostring(L, -1));
		rc = -OG_EINVAL;
	}
	lua_settop(L, top);
	return rc;
}

const struct og_exec_ops og_lvm_exec_ops = {
	.call_node = lexec_call_node,
	.call_route = lexec_call_route,
	.reduce = lexec_reduce,
};
