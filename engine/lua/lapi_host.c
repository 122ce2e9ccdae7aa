/*
 * lapi_host.c: ctx.host, host signals sampled now on this machine, for the
 * context collector's `host = {local_window_ms = N}` source:
 *
 *   ctx.host.signals{window_ms = N [, runq_ms = M] [, cgroup = DIR]} -> summary
 *
 * cgroup (a cgroup v2 directory) scopes exits, syscall errors and TCP to
 * that cgroup's tasks and sockets.
 * Runs the eBPF collectors (trace/hostsig.c) for N ms (1 .. 60000; the node
 * waits that long) and returns the JSON summary of hostsig/hostsig_json.h
 * as a table. Never fails for want of eBPF: the summary then holds the /proc
 * counters and a note saying why. Journaled (kind "host.signals"), so a
 * re-executed task gets the same summary instead of sampling again.
 */
#include "lvm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "../hostsig/hostsig_json.h"
#include "../trace/hostsig.h"
#include "../trace/hostsig_check.h"
#include "lconv.h"

#define HOST_MAX_WINDOW_MS 60000

static int int_field(lua_State *L, const char *name, int lo, int hi, int dflt)
{
	int isnum, v;

	if (lua_getfield(L, 1, name) == LUA_TNIL) {
		lua_pop(L, 1);
		return dflt;
	}
	v = (int)lua_tointegerx(L, -1, &isnum);
	if (!isnum || v < lo || v > hi)
		return luaL_error(L, "ctx.host.signals: %s must be an integer from %d to %d (got %s)", name, lo, hi,
				  luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	return v;
}

/* [-0, +1, e] */
static int lapi_host_signals(lua_State *L)
{
	struct og_hostsig_filter f = { 0 };
	struct og_hostsig_summary *s;
	struct og_err err = { 0 };
	int window_ms;
	cJSON *j;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";

		if (strcmp(k, "window_ms") && strcmp(k, "runq_ms") && strcmp(k, "cgroup"))
			return luaL_error(L, "ctx.host.signals: unknown option '%s' (known: window_ms, runq_ms, cgroup)", k);
		lua_pop(L, 1);
	}
	window_ms = int_field(L, "window_ms", 1, HOST_MAX_WINDOW_MS, -1);
	if (window_ms < 0)
		return luaL_error(L, "ctx.host.signals: window_ms is required (1 .. %d)", HOST_MAX_WINDOW_MS);
	f.runq_ms = int_field(L, "runq_ms", 0, HOST_MAX_WINDOW_MS, -1);
	if (lua_getfield(L, 1, "cgroup") != LUA_TNIL) {
		const char *dir = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;

		if (!dir)
			return luaL_error(L, "ctx.host.signals: cgroup must be a cgroup v2 directory path (a string)");
		if (og_hostsig_cgroup_id(dir, &f.cgroup_id, &err) < 0)
			return luaL_error(L, "ctx.host.signals: cgroup %s", err.msg);
	}
	lua_pop(L, 1);
	if (lapi_journal_replay(L, "host.signals"))
		return 1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return luaL_error(L, "ctx.host.signals: out of memory");
	if (og_hostsig_collect(window_ms, &f, s, &err) < 0) {
		free(s);
		return luaL_error(L, "ctx.host.signals: %s", err.msg);
	}
	j = og_hostsig_json(s);
	free(s);
	if (!j)
		return luaL_error(L, "ctx.host.signals: out of memory");
	lapi_push_json_owned(L, j);
	lapi_journal_record(L, "host.signals", -1);
	return 1;
}

static const luaL_Reg lapi_host_fns[] = {
	{ "signals", lapi_host_signals },
	{ NULL, NULL },
};

void lapi_host_install(lua_State *L)
{
	luaL_newlib(L, lapi_host_fns);
	lapi_push_readonly(L);
	lua_setfield(L, -2, "host");
}
