/*
 * lapi_dryrun.c: ctx.tools.dry_run, what a registered tool would do, without
 * doing it: the node between the planner and the human decision shows it on
 * each action (nodes/dry_run_actions.lua).
 *
 *   ctx.tools.dry_run(name [, args [, {trace = false}]]) -> report
 *
 * The tool is found and its {placeholders} filled as ctx.tools.run does
 * (the same spec, overrides and messages). Its declaration, spec.dry_run
 * (checked at load by engine/cli/cli_config.c), says how:
 *   sandbox         the command itself runs in the dry-run sandbox
 *                   (engine/dryrun/: namespaces, copy-on-write overlay,
 *                   limits, eBPF trace when the host allows it);
 *   native          only the tool's own dry-run (dry_run.argv, e.g.
 *                   `kubectl ... --dry-run=server`) runs, in the sandbox too;
 *                   the command itself does not run, not even there;
 *   native+sandbox  both;
 *   none            nothing runs; dry_run.reason says why.
 * Without a declaration a command tool is dry-run in the sandbox, and an
 * http tool is not dry-run: the sandbox has no network, so the request
 * could not be observed ("HTTP tool: would POST <url> (no dry-run
 * endpoint)").
 *
 * The report is og_dryrun_run's (engine/dryrun/dryrun.h: fidelity, reason,
 * exit_code, processes, files, network, signals, denied, surprises, stdout,
 * stderr, native, verdict), plus `mode` (the declaration's), `note` (the
 * declaration's, e.g. why an override changed it) and, for a native-only
 * run, `run_argv` (the command that was not run). A report that ran
 * nothing has fidelity "none", a reason, and verdict "not dry-run: <reason>";
 * so has one where the host cannot sandbox (no root: "sandbox needs root
 * (uid N)").
 *
 * Journaled (kind "dry_run") and committed at once: a re-executed task gets
 * the recorded report and nothing runs a second time, so what the approver
 * was shown is what the state keeps. A dry-run changes nothing on the host,
 * so unlike ctx.tools.run there is no start entry: a crash during one just
 * runs it again.
 */
#include "lvm_int.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "../dryrun/dryrun.h"
#include "lconv.h"

#define DRYRUN_FN "ctx.tools.dry_run"
#define DRYRUN_MAX_GLOBS 64

static const char report_box_mt_key;

struct report_box {
	cJSON *report;
};

static int report_box_gc(lua_State *L)
{
	struct report_box *b = lua_touserdata(L, 1);

	cJSON_Delete(b->report);
	b->report = NULL;
	return 0;
}

/* [-0, +1, m] a NULL-terminated array of the n strings of the list at idx;
 * the list keeps them alive */
static const char **push_cstrings(lua_State *L, int idx, int n)
{
	const char **v;
	int i;

	idx = lua_absindex(L, idx);
	v = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof(*v), 0);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, i);
		v[i - 1] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	v[n] = NULL;
	return v;
}

/* [-0, +0, e] decl[field] as a whole number >= 0 (0 when absent) */
static int64_t opt_count(lua_State *L, int decl, const char *name, const char *field)
{
	int64_t v = 0;

	if (!decl)
		return 0;
	switch (lua_getfield(L, decl, field)) {
	case LUA_TNIL:
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
			v = (int64_t)lua_tointeger(L, -1);
			break;
		}
		/* fall through */
	default:
		luaL_error(L, DRYRUN_FN ": tool '%s': dry_run.%s must be a whole number > 0", name, field);
	}
	lua_pop(L, 1);
	return v;
}

/* [-0, +1, m] the report of a dry-run that ran nothing */
static void push_none(lua_State *L, const char *name, const char *mode, const char *reason)
{
	lua_createtable(L, 0, 6);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "tool");
	lua_pushstring(L, mode);
	lua_setfield(L, -2, "mode");
	lua_pushliteral(L, "none");
	lua_setfield(L, -2, "fidelity");
	lua_pushstring(L, reason);
	lua_setfield(L, -2, "reason");
	lua_pushfstring(L, "not dry-run: %s", reason);
	lua_setfield(L, -2, "verdict");
}

/* [-0, +1, e] the report of an http tool: nothing runs (the sandbox has no
 * network); it says which request the tool would send */
static void push_http(lua_State *L, const char *name, int spec, int decl, const char *mode, int args)
{
	int req;

	lapi_tools_push_request(L, name, spec, args);
	req = lua_gettop(L);
	lua_getfield(L, req, "method");
	lua_getfield(L, req, "shown_url");
	if (decl && lua_getfield(L, decl, "reason") == LUA_TSTRING) {
		push_none(L, name, mode, lua_tostring(L, -1));
	} else {
		if (decl)
			lua_pop(L, 1);
		lua_pushfstring(L, "HTTP tool: would %s %s (no dry-run endpoint)", lua_tostring(L, req + 1),
				lua_tostring(L, req + 2));
		push_none(L, name, mode, lua_tostring(L, -1));
	}
	lua_pushvalue(L, req + 1);
	lua_setfield(L, -2, "method");
	lua_pushvalue(L, req + 2);
	lua_setfield(L, -2, "url");
	if (lua_getfield(L, req, "body") == LUA_TSTRING)
		lua_setfield(L, -2, "body");
	else
		lua_pop(L, 1);
	lua_replace(L, req);
	lua_settop(L, req);
}

/* [-0, +1, e] the sandboxed dry-run of a command tool (argv list at run,
 * n long) per its declaration */
static void push_sandboxed(lua_State *L, const char *name, int decl, const char *mode, int run, int n, int args,
			   bool trace)
{
	struct og_dryrun_spec ds = { 0 };
	struct og_err err = { 0 };
	struct report_box *box;
	bool native = !strncmp(mode, "native", 6), both = !strcmp(mode, "native+sandbox");
	int top = lua_gettop(L), nat = 0, nn = 0, globs = 0, ng = 0, i;

	if (native) {
		if (!decl || lua_getfield(L, decl, "argv") != LUA_TTABLE)
			luaL_error(L, DRYRUN_FN ": tool '%s': dry_run.mode \"%s\" needs dry_run.argv, the tool's own "
				   "dry-run command", name, mode);
		lua_pop(L, 1);
		nn = lapi_tools_push_argv(L, name, decl, "argv", "dry_run.argv", args);
		nat = lua_gettop(L);
	}
	if (decl && lua_getfield(L, decl, "expect_writes") != LUA_TNIL) {
		int src = lua_gettop(L);
		if (!lua_istable(L, src) || (ng = (int)luaL_len(L, src)) > DRYRUN_MAX_GLOBS)
			luaL_error(L, DRYRUN_FN ": tool '%s': dry_run.expect_writes must be a list of at most %d path "
				   "globs", name, DRYRUN_MAX_GLOBS);
		lua_createtable(L, ng, 0);
		globs = lua_gettop(L);
		for (i = 1; i <= ng; i++) {
			if (lua_rawgeti(L, src, i) != LUA_TSTRING)
				luaL_error(L, DRYRUN_FN ": tool '%s': dry_run.expect_writes[%d] must be a string", name, i);
			lapi_tools_push_filled(L, name, "dry_run.expect_writes", lua_tostring(L, -1), args);
			lua_rawseti(L, globs, i);
			lua_pop(L, 1);
		}
	}
	ds.tool = name;
	if (native && !both) {
		/* the tool's own dry-run is the command of this run */
		ds.argv = push_cstrings(L, nat, nn);
	} else {
		ds.argv = push_cstrings(L, run, n);
		if (native)
			ds.native_argv = push_cstrings(L, nat, nn);
	}
	if (globs)
		ds.expect_writes = push_cstrings(L, globs, ng);
	ds.timeout_ms = opt_count(L, decl, name, "timeout_ms");
	ds.memory_mb = opt_count(L, decl, name, "memory_mb");
	ds.pids = opt_count(L, decl, name, "pids");
	ds.trace = trace;
	box = lapi_push_gc_box(L, sizeof(*box), report_box_gc, &report_box_mt_key);
	if (og_dryrun_run(&ds, &box->report, &err) < 0)
		luaL_error(L, DRYRUN_FN ": tool '%s': %s", name, err.msg);
	if (!box->report)
		luaL_error(L, DRYRUN_FN ": tool '%s': the dry-run returned no report", name);
	og_lconv_push(L, box->report);
	cJSON_Delete(box->report);
	box->report = NULL;
	lua_pushstring(L, mode);
	lua_setfield(L, -2, "mode");
	if (native && !both) {
		/* the sandbox ran the native dry-run only: say so, and keep
		 * the command that would really run beside it */
		if (lua_getfield(L, -1, "fidelity") == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "sandbox")) {
			lua_pushliteral(L, "native");
			lua_setfield(L, -3, "fidelity");
		}
		lua_pop(L, 1);
		lua_pushvalue(L, run);
		lua_setfield(L, -2, "run_argv");
	}
	lua_replace(L, top + 1);
	lua_settop(L, top + 1);
}

/* ctx.tools.dry_run(name [, args [, opts]]) -> report */
int lapi_tools_dry_run(lua_State *L)
{
	struct og_err err = { 0 };
	const char *name, *mode;
	int spec, decl = 0, args = 0, run, n;
	bool http, trace = true;

	lua_settop(L, 3);
	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_error(L, DRYRUN_FN ": the first argument must be the tool name (got %s)",
				  luaL_typename(L, 1));
	name = lua_tostring(L, 1);
	if (!lua_isnil(L, 2)) {
		if (!lua_istable(L, 2))
			return luaL_error(L, DRYRUN_FN ": tool '%s': args must be a table of name = value (got %s)", name,
					  luaL_typename(L, 2));
		args = 2;
	}
	if (!lua_isnil(L, 3)) {
		if (!lua_istable(L, 3))
			return luaL_error(L, DRYRUN_FN ": tool '%s': opts must be a table such as {trace = false} (got %s)",
					  name, luaL_typename(L, 3));
		lua_pushnil(L);
		while (lua_next(L, 3)) {
			if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "trace"))
				return luaL_error(L, DRYRUN_FN ": tool '%s': unknown option '%s' (known: trace)", name,
						  luaL_tolstring(L, -2, NULL));
			lua_pop(L, 1);
		}
		lua_getfield(L, 3, "trace");
		trace = lua_isnil(L, -1) || lua_toboolean(L, -1);
		lua_pop(L, 1);
	}

	if (lapi_journal_replay(L, "dry_run")) {
		if (!lua_istable(L, -1))
			return luaL_error(L, DRYRUN_FN ": the journal entry of this call is damaged (not a table)");
		lua_getfield(L, -1, "tool");
		if (!lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), name))
			return luaL_error(L, "%s re-ran differently: this " DRYRUN_FN " call dry-ran tool '%s', now it is "
					  "'%s'; a node must make the same ctx calls in the same order when it re-runs",
					  lvm_from(L)->what, lua_isstring(L, -1) ? lua_tostring(L, -1) : "?", name);
		lua_pop(L, 1);
		return 1;
	}

	lapi_tools_push_spec(L, DRYRUN_FN, name);		/* 4: spec */
	spec = 4;
	switch (lua_getfield(L, spec, "dry_run")) {		/* 5 */
	case LUA_TNIL:
		break;
	case LUA_TTABLE:
		decl = 5;
		break;
	default:
		return luaL_error(L, DRYRUN_FN ": tool '%s': dry_run must be an object {mode, ...} (got %s)", name,
				  luaL_typename(L, 5));
	}
	http = lua_getfield(L, spec, "command") == LUA_TNIL;	/* 6 */
	if (http && lua_getfield(L, spec, "http") != LUA_TTABLE)
		return luaL_error(L, DRYRUN_FN ": tool '%s' has neither command nor http: give it one (see "
				  "sandbox/tools/*.json)", name);
	lua_settop(L, 5);
	if (decl && lua_getfield(L, decl, "mode") != LUA_TSTRING)
		return luaL_error(L, DRYRUN_FN ": tool '%s': dry_run.mode must be \"sandbox\", \"native\", "
				  "\"native+sandbox\" or \"none\"", name);
	mode = decl ? lua_tostring(L, -1) : http ? "none" : "sandbox";	/* 6 when declared */
	if (strcmp(mode, "sandbox") && strcmp(mode, "native") && strcmp(mode, "native+sandbox") && strcmp(mode, "none"))
		return luaL_error(L, DRYRUN_FN ": tool '%s': dry_run.mode must be \"sandbox\", \"native\", "
				  "\"native+sandbox\" or \"none\" (got %s)", name, mode);

	if (http) {
		if (strcmp(mode, "none"))
			return luaL_error(L, DRYRUN_FN ": tool '%s': dry_run.mode \"%s\" cannot apply to an http tool "
					  "(the sandbox has no network); declare mode \"none\" with a reason", name, mode);
		push_http(L, name, spec, decl, mode, args);
	} else {
		n = lapi_tools_push_argv(L, name, spec, "command", "command", args);
		run = lua_gettop(L);
		if (!strcmp(mode, "none")) {
			if (!decl || lua_getfield(L, decl, "reason") != LUA_TSTRING || !lua_tostring(L, -1)[0])
				return luaL_error(L, DRYRUN_FN ": tool '%s': dry_run.mode \"none\" needs dry_run.reason",
						  name);
			push_none(L, name, mode, lua_tostring(L, -1));
			lua_pushvalue(L, run);
			lua_setfield(L, -2, "argv");
		} else {
			push_sandboxed(L, name, decl, mode, run, n, args, trace);
		}
	}
	if (decl && lua_getfield(L, decl, "note") == LUA_TSTRING)
		lua_setfield(L, -2, "note");
	else if (decl)
		lua_pop(L, 1);

	lapi_journal_record(L, "dry_run", -1);
	if (lapi_journal_flush(L, &err) < 0) {
		lua_pushstring(L, err.msg);
		lua_setfield(L, -2, "ledger_error");
	}
	return 1;
}
