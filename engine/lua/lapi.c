/*
 * lapi.c: the ctx table nodes receive: ctx.json, ctx.log, ctx.now, ctx.random_id. This is
 * the whole C<->Lua surface a node has in this release (README "Node API");
 * later namespaces (http, llm, tools) are added here, one luaL_Reg table per
 * namespace. Every call gets a fresh ctx table (so a node cannot leave
 * things for the next one) holding the shared, read-only namespaces; the
 * per-call fields (node, step, task_id, thread_id, attempt) are set by
 * lexec.c.
 */
#include "lvm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <lauxlib.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "lconv.h"


/* ctx.json.encode(value) -> string | nil, err */
static int lapi_json_encode(lua_State *L)
{
	struct og_err err;	/* set on failure only: not 2 KB of zeros per call */
	size_t len;
	char *s;

	err.code = 0;
	err.msg[0] = '\0';

	luaL_checkany(L, 1);
	/* printed straight from the Lua value: no cJSON tree in between */
	if (!(s = og_lconv_to_json_text(L, 1, "value", &len, &err))) {
		luaL_pushfail(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	lua_pushlstring(L, s, len);
	free(s);
	return 1;
}

/* ctx.json.decode(string) -> value | nil, err */
static int lapi_json_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(s, len, &end, 0);

	if (!v) {
		luaL_pushfail(L);
		lua_pushfstring(L, "invalid JSON near byte %d", end ? (int)(end - s) : 0);
		return 2;
	}
	og_lconv_push(L, v);
	cJSON_Delete(v);
	return 1;
}

int lapi_journal_replay(lua_State *L, const char *kind)
{
	struct og_lvm *vm = lvm_from(L);
	const cJSON *e, *k;

	if (!vm->journal_in || vm->journal_pos >= cJSON_GetArraySize(vm->journal_in))
		return 0;
	e = cJSON_GetArrayItem(vm->journal_in, vm->journal_pos);
	k = cJSON_GetObjectItemCaseSensitive(e, "k");
	if (!cJSON_IsString(k) || strcmp(k->valuestring, kind))
		return luaL_error(L, "%s re-ran differently: call #%d was ctx.%s, now it is ctx.%s; a node must "
				  "make the same ctx calls in the same order when it re-runs after an interrupt "
				  "(move the varying part after og.interrupt or into another node)",
				  vm->what, vm->journal_pos + 1, cJSON_IsString(k) ? k->valuestring : "?", kind);
	vm->journal_pos++;
	og_lconv_push(L, cJSON_GetObjectItemCaseSensitive(e, "v"));
	/* keep the replayed entry: the journal of this execution is complete */
	lapi_journal_record(L, kind, -1);
	return 1;
}

void lapi_journal_record(lua_State *L, const char *kind, int idx)
{
	struct og_lvm *vm = lvm_from(L);
	struct og_err err = { 0 };
	cJSON *e, *v = og_lconv_to_json(L, idx, "journal", &err);

	if (!v)
		return;		/* unrecordable: the call is simply made again on re-run */
	if (!vm->journal_out && !(vm->journal_out = cJSON_CreateArray())) {
		cJSON_Delete(v);
		return;
	}
	if (!(e = cJSON_CreateObject())) {
		cJSON_Delete(v);
		return;
	}
	cJSON_AddStringToObject(e, "k", kind);
	cJSON_AddItemToObject(e, "v", v);
	cJSON_AddItemToArray(vm->journal_out, e);
}

int lapi_journal_flush(lua_State *L, struct og_err *err)
{
	struct og_lvm *vm = lvm_from(L);

	if (!vm->call || !vm->call->flush_journal)
		return 0;
	return vm->call->flush_journal(vm->call, vm->journal_out, err);
}

const char *lapi_journal_peek(lua_State *L)
{
	struct og_lvm *vm = lvm_from(L);
	const cJSON *k;

	if (!vm->journal_in || vm->journal_pos >= cJSON_GetArraySize(vm->journal_in))
		return NULL;
	k = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(vm->journal_in, vm->journal_pos), "k");
	return cJSON_IsString(k) ? k->valuestring : "?";
}

/* Longest ctx.sleep: a node that waits longer (verify_recovery's window)
 * loops, so one call never holds the thread for more than a minute. */
#define LAPI_SLEEP_MAX_MS 60000

/* ctx.sleep(ms): blocks the node for ms milliseconds (0..60000). Journaled:
 * a re-executed node does not wait again, so a node that polled for minutes
 * before an interrupt re-runs at once. */
static int lapi_time_sleep(lua_State *L)
{
	lua_Number ms = luaL_checknumber(L, 1);

	if (!(ms >= 0) || ms > LAPI_SLEEP_MAX_MS)
		return luaL_error(L, "ctx.sleep: %f ms is out of range: give 0 to %d ms and loop for longer waits",
				  (double)ms, LAPI_SLEEP_MAX_MS);
	if (lapi_journal_replay(L, "sleep"))
		return 0;
	og_clock_sleep_ms((int)ms);
	lua_pushinteger(L, (lua_Integer)ms);
	lapi_journal_record(L, "sleep", -1);
	return 0;
}

/* ctx.now() -> seconds since the epoch, with milliseconds. Journaled: a
 * re-executed node sees the time of its first execution. */
static int lapi_time_now(lua_State *L)
{
	if (lapi_journal_replay(L, "now"))
		return 1;
	lua_pushnumber(L, (lua_Number)og_clock_wall_ms() / 1000.0);
	lapi_journal_record(L, "now", -1);
	return 1;
}

/* ctx.random_id() -> 16 hex characters from getrandom. Journaled, like
 * ctx.now: a re-executed node gets the same id (an idempotency key stays
 * the same across the re-run after an interrupt). */
static int lapi_random_id(lua_State *L)
{
	unsigned char b[8];
	char hex[17];
	int i;

	if (lapi_journal_replay(L, "random_id"))
		return 1;
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return luaL_error(L, "ctx.random_id: no randomness available");
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	lua_pushstring(L, hex);
	lapi_journal_record(L, "random_id", -1);
	return 1;
}

/* ctx.log.<level>(msg [, fields]): one JSON line on stderr with the node. */
static int log_at(lua_State *L, const char *level)
{
	struct og_lvm *vm = lvm_from(L);
	const char *msg = luaL_checkstring(L, 1);
	cJSON *line = cJSON_CreateObject(), *fields = NULL;
	struct og_err err = { 0 };
	char ts[40], *s;

	if (!line)
		return luaL_error(L, "ctx.log: out of memory");
	if (!lua_isnoneornil(L, 2) && !(fields = og_lconv_to_json(L, 2, "log fields", &err))) {
		cJSON_Delete(line);
		return luaL_error(L, "ctx.log: %s", err.msg);
	}
	cJSON_AddStringToObject(line, "ts", og_clock_iso8601(og_clock_wall_ms(), ts, sizeof(ts)));
	cJSON_AddStringToObject(line, "level", level);
	cJSON_AddStringToObject(line, "where", vm->what);
	cJSON_AddStringToObject(line, "msg", msg);
	if (fields)
		cJSON_AddItemToObject(line, "fields", fields);
	s = og_json_print_text(line);
	cJSON_Delete(line);
	if (s) {
		fprintf(stderr, "%s\n", s);
		free(s);
	}
	return 0;
}

static int lapi_log_debug(lua_State *L) { return log_at(L, "debug"); }
static int lapi_log_info(lua_State *L) { return log_at(L, "info"); }
static int lapi_log_warn(lua_State *L) { return log_at(L, "warn"); }
static int lapi_log_error(lua_State *L) { return log_at(L, "error"); }

#define LAPI_FN(ns, name) { #name, lapi_##ns##_##name }

static const luaL_Reg lapi_json_fns[] = {
	LAPI_FN(json, encode),
	LAPI_FN(json, decode),
	{ NULL, NULL }
};

static const luaL_Reg lapi_log_fns[] = {
	LAPI_FN(log, debug),
	LAPI_FN(log, info),
	LAPI_FN(log, warn),
	LAPI_FN(log, error),
	{ NULL, NULL }
};

static int lapi_readonly(lua_State *L)
{
	return luaL_error(L, "ctx namespaces are read-only (tried to set '%s')", luaL_optstring(L, 2, "?"));
}

void *lapi_push_gc_box(lua_State *L, size_t size, lua_CFunction gc, const void *key)
{
	void *p = lua_newuserdatauv(L, size, 0);

	memset(p, 0, size);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, 0, 2);
		lua_pushcfunction(L, gc);
		lua_setfield(L, -2, "__gc");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, key);
	}
	lua_setmetatable(L, -2);
	return p;
}

/* [-1, +1, e] under pcall: pushes the cJSON tree (a light userdata) */
int lapi_push_json_protected(lua_State *L)
{
	og_lconv_push(L, lua_touserdata(L, 1));
	return 1;
}

void lapi_push_json_owned(lua_State *L, cJSON *j)
{
	int rc;

	/* neither push allocates: nothing can raise before j is covered */
	lua_pushcfunction(L, lapi_push_json_protected);
	lua_pushlightuserdata(L, j);
	rc = lua_pcall(L, 1, 1, 0);
	cJSON_Delete(j);
	if (rc != LUA_OK)
		lua_error(L);
}

void lapi_push_readonly(lua_State *L)
{
	lua_newtable(L);				/* t view */
	lua_createtable(L, 0, 3);			/* t view mt */
	lua_pushvalue(L, -3);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, lapi_readonly);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);			/* t view */
	lua_remove(L, -2);				/* view */
}

void lapi_push_ctx(lua_State *L)
{
	lua_createtable(L, 0, 4);			/* base */
	luaL_newlib(L, lapi_json_fns);
	lapi_push_readonly(L);
	lua_setfield(L, -2, "json");
	luaL_newlib(L, lapi_log_fns);
	lapi_push_readonly(L);
	lua_setfield(L, -2, "log");
	lua_pushcfunction(L, lapi_time_now);
	lua_setfield(L, -2, "now");
	lua_pushcfunction(L, lapi_random_id);
	lua_setfield(L, -2, "random_id");
	lua_pushcfunction(L, lapi_time_sleep);
	lua_setfield(L, -2, "sleep");
	lapi_http_install(L);				/* ctx.http (lapi_http.c) */
	lapi_tools_install(L);				/* ctx.tools (lapi_tools.c) */
	lapi_files_install(L);				/* ctx.files (lapi_files.c) */
	lapi_host_install(L);				/* ctx.host (lapi_host.c) */
	lapi_llm_install(L);				/* ctx.llm (lapi_llm.c) */
	lapi_incidents_install(L);			/* ctx.incidents (lapi_incidents.c) */
}

/* A node's ctx is a fresh table (the per-call fields: node, step, ...) that
 * falls back to the shared namespaces through __index. Copying the seven
 * namespaces into each call's table cost 5% of a benchmark step. */
void lapi_push_call_ctx(lua_State *L)
{
	static const char ctx_mt_key = 0;

	lua_createtable(L, 0, 5);			/* ctx */
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ctx_mt_key) == LUA_TNIL) {
		lua_pop(L, 1);
		lua_createtable(L, 0, 1);		/* ctx mt */
		lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_ctx);
		lua_setfield(L, -2, "__index");
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &ctx_mt_key);
	}
	lua_setmetatable(L, -2);			/* ctx */
}
