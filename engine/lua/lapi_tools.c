/*
 * lapi_tools.c: ctx.tools, running the registered tools (ctx.config.tools,
 * {name: spec}; see nodes/lib/tool_registry.lua) whose spec has a command.
 *
 *   ctx.tools.run(name [, args]) -> { exit_code, signal, timed_out, stdout,
 *        stderr, truncated, duration_ms, argv = {...}, tool }
 *
 * spec.command is an argv list; each "{key}" in an element (key: letters,
 * digits, '_', not starting with a digit) is replaced by args[key], a string,
 * number or boolean. The command runs with no shell (engine/proc/proc.h):
 * clean environment, stdin /dev/null, output capped at 64 KiB a stream,
 * timeout spec.timeout_s (default 60, at most 600). exit_code is -1 when a
 * signal ended the tool (signal says which); 127: command not found.
 * stdout/stderr are made valid UTF-8 (a NUL or an invalid byte becomes
 * U+FFFD) so the result can be journaled.
 *
 * Bad arguments (unknown tool, no command, a placeholder without a value, a
 * value with a NUL byte, wrong types) raise; a tool that ran and failed is a
 * normal result. Every result is journaled under kind "tool": a node that
 * re-runs after an interrupt gets the recorded result and the tool does not
 * run again. Tools with `http` instead of `command` are not run here.
 */
#include "lvm_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "../proc/proc.h"

#define TOOLS_MAX_ARGV 256
#define TOOLS_DEFAULT_TIMEOUT_S 60
#define TOOLS_MAX_TIMEOUT_S 600

static const char proc_box_mt_key;

static int proc_box_gc(lua_State *L)
{
	og_proc_result_release(lua_touserdata(L, 1));
	return 0;
}

/* [-0, +1, m] a zeroed og_proc_result released by __gc */
static struct og_proc_result *proc_box_push(lua_State *L)
{
	return lapi_push_gc_box(L, sizeof(struct og_proc_result), proc_box_gc, &proc_box_mt_key);
}

/* next(t, k) without the library */
static int raw_next(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* [-0, +1, e] "a, b, c" (sorted, at most 30) of the keys of the (read-only
 * view) table at idx, or "none" */
static void push_known(lua_State *L, int idx)
{
	const char *names[30];
	int n = 0, more = 0, i, base;
	luaL_Buffer b;

	idx = lua_absindex(L, idx);
	base = lua_gettop(L);
	lua_newtable(L);				/* anchor */
	if (lua_istable(L, idx)) {
		if (luaL_getmetafield(L, idx, "__pairs") != LUA_TNIL) {
			lua_pushvalue(L, idx);
			lua_call(L, 1, 3);		/* anchor f s k */
		} else {
			lua_pushcfunction(L, raw_next);
			lua_pushvalue(L, idx);
			lua_pushnil(L);
		}
		for (;;) {			/* anchor f s k */
			lua_pushvalue(L, -3);
			lua_pushvalue(L, -3);
			lua_pushvalue(L, -3);
			lua_call(L, 2, 1);		/* anchor f s k nk */
			if (lua_isnil(L, -1))
				break;
			lua_remove(L, -2);		/* anchor f s nk */
			if (lua_type(L, -1) == LUA_TSTRING) {
				if (n < 30) {
					lua_pushvalue(L, -1);
					lua_rawseti(L, base + 1, n + 1);
					names[n++] = lua_tostring(L, -1);
				} else {
					more++;
				}
			}
		}
	}
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	luaL_buffinit(L, &b);
	for (i = 0; i < n; i++) {
		if (i)
			luaL_addstring(&b, ", ");
		luaL_addstring(&b, names[i]);
	}
	if (!n)
		luaL_addstring(&b, "none");
	if (more)
		luaL_addstring(&b, ", ...");
	luaL_pushresult(&b);
	lua_replace(L, base + 1);
	lua_settop(L, base + 1);
}

/* [-0, +1, m] s[0..n) as valid UTF-8: NUL and invalid bytes become U+FFFD */
static void push_utf8(lua_State *L, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	luaL_Buffer b;
	size_t i = 0;

	luaL_buffinit(L, &b);
	while (i < n) {
		unsigned char c = s[i];
		size_t k, len = 0;
		uint32_t cp = 0;

		if (c && c < 0x80)
			len = 1, cp = c;
		else if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		if (len && i + len <= n) {
			for (k = 1; k < len && (s[i + k] & 0xc0) == 0x80; k++)
				cp = cp << 6 | (s[i + k] & 0x3f);
			if (k == len && !(len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) &&
			    !(len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
				luaL_addlstring(&b, str + i, len);
				i += len;
				continue;
			}
		}
		luaL_addstring(&b, "\xef\xbf\xbd");
		i++;
	}
	luaL_pushresult(&b);
}

static bool is_key_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* [-0, +1, e] the argv element tmpl with its {key} placeholders replaced
 * from the args table at a (0: none) */
static void push_substituted(lua_State *L, const char *tool, int i, const char *tmpl, size_t tlen, int a)
{
	luaL_Buffer b;
	size_t p = 0;

	luaL_buffinit(L, &b);
	while (p < tlen) {
		size_t q = p + 1, vlen;
		const char *v;
		char key[128];

		if (tmpl[p] != '{') {
			luaL_addchar(&b, tmpl[p++]);
			continue;
		}
		while (q < tlen && q - p <= sizeof(key) - 1 && is_key_char(tmpl[q], q == p + 1))
			q++;
		if (q == p + 1 || q >= tlen || tmpl[q] != '}' || q - p - 1 >= sizeof(key)) {
			luaL_addchar(&b, tmpl[p++]);	/* not a placeholder: a literal '{' */
			continue;
		}
		memcpy(key, tmpl + p + 1, q - p - 1);
		key[q - p - 1] = '\0';
		/* the buffer may sit on the stack: read the value above it, then add it */
		switch (a ? lua_getfield(L, a, key) : (lua_pushnil(L), LUA_TNIL)) {
		case LUA_TSTRING:
		case LUA_TNUMBER:
			v = lua_tolstring(L, -1, &vlen);
			break;
		case LUA_TBOOLEAN:
			v = lua_toboolean(L, -1) ? "true" : "false";
			vlen = strlen(v);
			break;
		case LUA_TNIL:
			luaL_error(L, "ctx.tools.run: tool '%s': command[%d] \"%s\" needs args.%s, which is missing", tool,
				   i, tmpl, key);
			return;
		default:
			luaL_error(L, "ctx.tools.run: tool '%s': args.%s must be a string, number or boolean (got %s)",
				   tool, key, luaL_typename(L, -1));
			return;
		}
		if (memchr(v, '\0', vlen))
			luaL_error(L, "ctx.tools.run: tool '%s': args.%s contains a NUL byte, which no command argument "
				   "can hold", tool, key);
		luaL_addvalue(&b);			/* adds and pops the value */
		p = q + 1;
	}
	luaL_pushresult(&b);
}

/* [-0, +1, m] the result table; its argv is the list at argv_idx */
static void push_result(lua_State *L, const struct og_proc_result *r, const char *tool, int argv_idx)
{
	lua_createtable(L, 0, 9);
	lua_pushinteger(L, r->exit_code);
	lua_setfield(L, -2, "exit_code");
	lua_pushinteger(L, r->signal);
	lua_setfield(L, -2, "signal");
	lua_pushboolean(L, r->timed_out);
	lua_setfield(L, -2, "timed_out");
	push_utf8(L, r->out ? r->out : "", r->out_len);
	lua_setfield(L, -2, "stdout");
	push_utf8(L, r->err ? r->err : "", r->err_len);
	lua_setfield(L, -2, "stderr");
	lua_pushboolean(L, r->out_truncated || r->err_truncated);
	lua_setfield(L, -2, "truncated");
	lua_pushinteger(L, (lua_Integer)r->duration_ms);
	lua_setfield(L, -2, "duration_ms");
	lua_pushvalue(L, argv_idx);
	lua_setfield(L, -2, "argv");
	lua_pushstring(L, tool);
	lua_setfield(L, -2, "tool");
}

/* ctx.tools.run(name [, args]) -> result */
static int lapi_tools_run(lua_State *L)
{
	struct og_err err = { 0 };
	struct og_proc_opts opts = { 0 };
	struct og_proc_result *r;
	const char **argv;
	const char *name;
	lua_Number timeout_s = TOOLS_DEFAULT_TIMEOUT_S;
	int spec, cmd, args = 0, list, n, i;

	lua_settop(L, 2);
	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_error(L, "ctx.tools.run: the first argument must be the tool name (got %s)",
				  luaL_typename(L, 1));
	name = lua_tostring(L, 1);
	if (!lua_isnil(L, 2)) {
		if (!lua_istable(L, 2))
			return luaL_error(L, "ctx.tools.run: tool '%s': args must be a table of name = value (got %s)",
					  name, luaL_typename(L, 2));
		args = 2;
	}
	lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_ctx);	/* 3: base */
	lua_getfield(L, 3, "config");				/* 4 */
	if (lua_istable(L, 4))
		lua_getfield(L, 4, "tools");			/* 5 */
	else
		lua_pushnil(L);
	if (!lua_istable(L, 5) || lua_getfield(L, 5, name) == LUA_TNIL) {	/* 6: spec */
		push_known(L, 5);
		return luaL_error(L, "ctx.tools.run: no tool '%s' in the registry (known: %s)", name,
				  lua_tostring(L, -1));
	}
	spec = 6;
	if (!lua_istable(L, spec))
		return luaL_error(L, "ctx.tools.run: tool '%s': its spec must be an object (got %s)", name,
				  luaL_typename(L, spec));
	if (lua_getfield(L, spec, "command") == LUA_TNIL) {	/* 7 */
		lua_getfield(L, spec, "http");
		return luaL_error(L, "ctx.tools.run: tool '%s' has no command%s", name,
				  lua_isnil(L, -1) ? "" : " (an http tool: call it with ctx.http)");
	}
	cmd = 7;
	n = lua_istable(L, cmd) ? (int)luaL_len(L, cmd) : 0;
	if (n < 1 || n > TOOLS_MAX_ARGV)
		return luaL_error(L, "ctx.tools.run: tool '%s': command must be a list of 1 to %d strings "
				  "(the program, then its arguments)", name, TOOLS_MAX_ARGV);
	if (lua_getfield(L, spec, "timeout_s") != LUA_TNIL) {	/* 8 */
		if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0))
			return luaL_error(L, "ctx.tools.run: tool '%s': timeout_s must be a positive number of "
					  "seconds", name);
		timeout_s = lua_tonumber(L, -1);
	}
	if (timeout_s > TOOLS_MAX_TIMEOUT_S)
		timeout_s = TOOLS_MAX_TIMEOUT_S;
	lua_pop(L, 1);

	/* argv: substituted strings in the list at `list` (kept alive there) */
	lua_createtable(L, n, 0);				/* 8: argv list */
	list = 8;
	for (i = 1; i <= n; i++) {
		size_t len;
		const char *t;
		if (lua_geti(L, cmd, i) != LUA_TSTRING)
			return luaL_error(L, "ctx.tools.run: tool '%s': command[%d] must be a string (got %s)", name, i,
					  luaL_typename(L, -1));
		t = lua_tolstring(L, -1, &len);
		if (memchr(t, '\0', len))
			return luaL_error(L, "ctx.tools.run: tool '%s': command[%d] contains a NUL byte", name, i);
		push_substituted(L, name, i, t, len, args);
		lua_rawseti(L, list, i);
		lua_pop(L, 1);
	}

	if (lapi_journal_replay(L, "tool")) {			/* recorded result */
		if (!lua_istable(L, -1))
			return luaL_error(L, "ctx.tools.run: the journal entry of this call is damaged (not a table)");
		lua_getfield(L, -1, "tool");
		if (!lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), name))
			return luaL_error(L, "%s re-ran differently: this ctx.tools.run call ran tool '%s', now it is "
					  "'%s'; a node must make the same ctx calls in the same order when it re-runs "
					  "after an interrupt (move the varying part after og.interrupt or into another "
					  "node)", lvm_from(L)->what, lua_isstring(L, -1) ? lua_tostring(L, -1) : "?",
					  name);
		lua_pop(L, 1);
		return 1;
	}

	argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof(*argv), 0);	/* 9 */
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		argv[i - 1] = lua_tostring(L, -1);	/* the list keeps it alive */
		lua_pop(L, 1);
	}
	argv[n] = NULL;
	r = proc_box_push(L);					/* 10 */
	opts.timeout_ms = (int64_t)(timeout_s * 1000.0);
	if (opts.timeout_ms < 1)
		opts.timeout_ms = 1;
	if (og_proc_run(argv, &opts, r, &err))
		return luaL_error(L, "ctx.tools.run: tool '%s' could not be started: %s", name, err.msg);
	push_result(L, r, name, list);
	og_proc_result_release(r);
	lapi_journal_record(L, "tool", -1);
	return 1;
}

#define LAPI_FN(ns, name) { #name, lapi_##ns##_##name }

static const luaL_Reg lapi_tools_fns[] = {
	LAPI_FN(tools, run),
	{ NULL, NULL }
};

/* [-0, +0, m] sets t.tools, t being the table on top: the namespace, read-only */
void lapi_tools_install(lua_State *L)
{
	luaL_newlib(L, lapi_tools_fns);
	lapi_push_readonly(L);
	lua_setfield(L, -2, "tools");
}
