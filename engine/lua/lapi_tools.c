/*
 * lapi_tools.c: ctx.tools, running the registered tools (ctx.config.tools,
 * {name: spec}; see nodes/lib/tool_registry.lua), by command or over HTTP,
 * with an effect ledger.
 *
 *   ctx.tools.run(name [, args [, opts]]) -> result
 *
 * A command tool (spec.command, an argv list) runs with no shell
 * (engine/proc/proc.h): clean environment, stdin /dev/null, output capped at
 * 64 KiB a stream. Each "{key}" in an element (key: letters, digits, '_',
 * not starting with a digit) is replaced by args[key], a string, number or
 * boolean. Result: { kind = "command", tool, exit_code, signal, timed_out,
 * stdout, stderr, truncated, duration_ms, argv, started_at, ended_at }.
 * exit_code is -1 when a signal ended the tool; 127: command not found.
 *
 * An HTTP tool (spec.http = {method, url, headers?, body?}) is one request
 * over engine/net/http_client.h. Placeholders in the url are filled
 * percent-encoded, in header values as text. In a body object or list, a
 * string that is exactly "{key}" becomes args[key] with its JSON type (the
 * number 30, not "30"); other strings are filled as text; such a body is
 * sent as JSON (Content-Type application/json unless a header sets one). A
 * string body is sent as it is, filled. The response body is read up to
 * 1 MiB and kept up to 64 KiB. Result: { kind = "http", tool, method, url
 * (without credentials or query), status (0: no response), body, truncated,
 * timed_out, duration_ms, started_at, ended_at, error?, error_kind? };
 * error_kind is http_client's (timeout, connect, dns, too_large, ...).
 *
 * Timeout: spec.timeout_s (default 60; at most 600 for commands, 120 for
 * HTTP). stdout/stderr/body are made valid UTF-8 (a NUL or an invalid byte
 * becomes U+FFFD) so the result can be journaled.
 *
 * Per environment, ctx.config.tool_overrides[name] replaces parts of a spec
 * without editing sandbox/tools: base_url (the scheme://host[:port] of
 * http.url; a path prefix is allowed), url, headers (merged), command (the
 * tool then runs that argv instead), timeout_s.
 *
 * Effect ledger. Before the tool starts, a "tool_start" entry {tool,
 * started_at, argv | method+url} is added to the task's journal and the
 * journal is committed durably (lapi_journal_flush: the runner writes it to
 * the store as a partial pending write); after the tool, its result (kind
 * "tool") is added and committed again. A re-execution of the task (after
 * an interrupt or a crash) replays the journal:
 *   - tool_start then tool: the recorded result; the tool does not run;
 *   - tool_start without a result (the process died while the tool ran):
 *     the tool does NOT run; the call returns the start entry plus
 *     unknown_outcome = true, and the node decides (re-run an idempotent
 *     tool, ask a human otherwise). With opts.rerun = true it runs again in
 *     that case (a new start is committed first).
 * If the start cannot be committed, the tool is not run and the call
 * raises. If the result cannot be committed, result.ledger_error says why
 * (the result still reaches the task's checkpoint when the node ends).
 *
 * Bad arguments (unknown tool, neither command nor http, a placeholder
 * without a value, a value with a NUL byte, wrong types, a bad override)
 * raise; a tool that ran and failed (exit code, HTTP status, timeout,
 * connection refused) is a normal result.
 */
#include "lvm_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "../net/http_client.h"
#include "../proc/proc.h"
#include "lconv.h"

#define TOOLS_MAX_ARGV 256
#define TOOLS_DEFAULT_TIMEOUT_S 60
#define TOOLS_MAX_TIMEOUT_S 600
#define TOOLS_HTTP_MAX_BYTES (1u << 20)		/* read at most; more is a too_large result */
#define TOOLS_KEEP_BYTES (64u << 10)		/* body kept in the result, like a command's output */
#define TOOLS_MAX_HEADERS 64
#define TOOLS_MAX_DEPTH 32			/* nesting of specs and bodies */

/* Which ctx function is running (ctx.tools.run or ctx.tools.dry_run), for
 * the messages of the helpers both share; per lua_State, so per VM. */
static const char tools_fn_key;

static void tools_set_fn(lua_State *L, const char *fn)
{
	lua_pushstring(L, fn);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &tools_fn_key);
}

/* [-0, +0, e] raises "<ctx function>: <message>" */
static int tools_error(lua_State *L, const char *fmt, ...)
{
	va_list ap;

	luaL_where(L, 1);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &tools_fn_key) != LUA_TSTRING) {
		lua_pop(L, 1);
		lua_pushliteral(L, "ctx.tools");
	}
	lua_pushliteral(L, ": ");
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_concat(L, 4);
	return lua_error(L);
}

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

static bool is_key_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* Length of the placeholder "{key}" at tmpl[p] (0 when it is not one); the
 * key is copied into key. */
static size_t placeholder_at(const char *tmpl, size_t tlen, size_t p, char key[128])
{
	size_t q = p + 1;

	if (tmpl[p] != '{')
		return 0;
	while (q < tlen && q - p <= 127 && is_key_char(tmpl[q], q == p + 1))
		q++;
	if (q == p + 1 || q >= tlen || tmpl[q] != '}' || q - p - 1 >= 128)
		return 0;
	memcpy(key, tmpl + p + 1, q - p - 1);
	key[q - p - 1] = '\0';
	return q - p + 1;
}

static void add_percent_encoded(luaL_Buffer *b, const char *v, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~') {
			luaL_addchar(b, (char)c);
		} else {
			luaL_addchar(b, '%');
			luaL_addchar(b, hex[c >> 4]);
			luaL_addchar(b, hex[c & 15]);
		}
	}
}

/* [-0, +1, e] the template tmpl with its {key} placeholders replaced from
 * the args table at a (0: none); `where` names the template in messages
 * ("command[3]", "http.url"); url: values are percent-encoded */
static void push_substituted(lua_State *L, const char *tool, const char *where, const char *tmpl, size_t tlen,
			     int a, bool url)
{
	luaL_Buffer b;
	size_t p = 0, plen;

	luaL_buffinit(L, &b);
	while (p < tlen) {
		size_t vlen;
		const char *v;
		char key[128];

		if (!(plen = placeholder_at(tmpl, tlen, p, key))) {
			luaL_addchar(&b, tmpl[p++]);	/* a literal '{' too */
			continue;
		}
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
			tools_error(L, "tool '%s': %s \"%s\" needs args.%s, which is missing", tool, where,
				   tmpl, key);
			return;
		default:
			tools_error(L, "tool '%s': args.%s must be a string, number or boolean (got %s)",
				   tool, key, luaL_typename(L, -1));
			return;
		}
		if (memchr(v, '\0', vlen))
			tools_error(L, "tool '%s': args.%s contains a NUL byte, which no command argument "
				   "can hold", tool, key);
		if (url) {
			lua_pop(L, 1);	/* v stays alive in the args table */
			add_percent_encoded(&b, v, vlen);
		} else {
			luaL_addvalue(&b);		/* adds and pops the value */
		}
		p += plen;
	}
	luaL_pushresult(&b);
}

/* [-0, +1, e] a plain deep copy of the value at idx, walking __pairs: the
 * config is a read-only view whose tables lua_next cannot see */
static void push_plain(lua_State *L, int idx, int depth)
{
	idx = lua_absindex(L, idx);
	if (!lua_istable(L, idx)) {
		lua_pushvalue(L, idx);
		return;
	}
	if (depth > TOOLS_MAX_DEPTH)
		tools_error(L, "the tool spec nests deeper than %d levels", TOOLS_MAX_DEPTH);
	lua_newtable(L);				/* copy */
	if (luaL_getmetafield(L, idx, "__pairs") != LUA_TNIL) {
		lua_pushvalue(L, idx);
		lua_call(L, 1, 3);			/* copy f s k */
	} else {
		lua_pushcfunction(L, raw_next);
		lua_pushvalue(L, idx);
		lua_pushnil(L);
	}
	for (;;) {					/* copy f s k */
		lua_pushvalue(L, -3);
		lua_pushvalue(L, -3);
		lua_pushvalue(L, -3);
		lua_call(L, 2, 2);			/* copy f s k nk nv */
		if (lua_isnil(L, -2)) {
			lua_pop(L, 5);
			return;
		}
		lua_remove(L, -3);			/* copy f s nk nv */
		push_plain(L, -1, depth + 1);		/* copy f s nk nv pv */
		lua_remove(L, -2);			/* copy f s nk pv */
		lua_pushvalue(L, -2);
		lua_insert(L, -2);			/* copy f s nk nk pv */
		lua_rawset(L, -6);			/* copy f s nk */
	}
}

/* [-0, +1, e] the body value at idx with placeholders filled: "{key}" alone
 * takes args[key] with its type, other strings are filled as text */
static void push_body(lua_State *L, const char *tool, int idx, int a, int depth)
{
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		char key[128];
		if (placeholder_at(s, len, 0, key) == len) {
			if ((a ? lua_getfield(L, a, key) : (lua_pushnil(L), LUA_TNIL)) == LUA_TNIL)
				tools_error(L, "tool '%s': http.body \"%s\" needs args.%s, which is missing",
					   tool, s, key);
			return;
		}
		push_substituted(L, tool, "http.body", s, len, a, false);
		return;
	}
	if (!lua_istable(L, idx)) {
		lua_pushvalue(L, idx);
		return;
	}
	if (depth > TOOLS_MAX_DEPTH)
		tools_error(L, "tool '%s': http.body nests deeper than %d levels", tool, TOOLS_MAX_DEPTH);
	lua_newtable(L);				/* out */
	lua_pushnil(L);
	while (lua_next(L, idx)) {			/* out k v */
		push_body(L, tool, -1, a, depth + 1);	/* out k v fv */
		lua_remove(L, -2);			/* out k fv */
		lua_pushvalue(L, -2);
		lua_insert(L, -2);			/* out k k fv */
		lua_rawset(L, -4);			/* out k */
	}
}

/* [-0, +0, e] t[field] must be nil or of type `type` */
static int opt_field(lua_State *L, int t, const char *field, int type, const char *tool, const char *where,
		     const char *want)
{
	int got = lua_getfield(L, t, field);

	lua_pop(L, 1);
	if (got != LUA_TNIL && got != type)
		tools_error(L, "tool '%s': %s.%s must be %s (got %s)", tool, where, field, want,
			   lua_typename(L, got));
	return got != LUA_TNIL;
}

/* [-0, +0, e] applies ctx.config.tool_overrides[name] to the plain spec at
 * spec (config at cfg): the per-environment parts of a tool */
static void apply_override(lua_State *L, const char *name, int spec, int cfg)
{
	static const char *const allowed[] = { "base_url", "url", "headers", "command", "timeout_s", NULL };
	int top = lua_gettop(L), ov, http;

	if (!lua_istable(L, cfg) || lua_getfield(L, cfg, "tool_overrides") == LUA_TNIL)
		goto out;
	if (!lua_istable(L, -1))
		luaL_error(L, "ctx.config.tool_overrides must be an object {tool name: {base_url, url, headers, "
			   "command, timeout_s}} (got %s)", luaL_typename(L, -1));
	if (lua_getfield(L, -1, name) == LUA_TNIL)
		goto out;
	if (!lua_istable(L, -1))
		luaL_error(L, "ctx.config.tool_overrides.%s must be an object (got %s)", name, luaL_typename(L, -1));
	push_plain(L, -1, 0);
	ov = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, ov)) {
		int i;
		lua_pop(L, 1);
		for (i = 0; allowed[i] && !(lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), allowed[i]));
		     i++)
			;
		if (!allowed[i])
			luaL_error(L, "ctx.config.tool_overrides.%s: unknown key '%s' (allowed: base_url, url, headers, "
				   "command, timeout_s)", name, luaL_tolstring(L, -1, NULL));
	}
	if (opt_field(L, ov, "command", LUA_TTABLE, name, "tool_overrides", "a list of strings")) {
		lua_getfield(L, ov, "command");
		lua_setfield(L, spec, "command");
		lua_pushnil(L);
		lua_setfield(L, spec, "http");
	}
	if (opt_field(L, ov, "timeout_s", LUA_TNUMBER, name, "tool_overrides", "a number of seconds")) {
		lua_getfield(L, ov, "timeout_s");
		lua_setfield(L, spec, "timeout_s");
	}
	opt_field(L, ov, "url", LUA_TSTRING, name, "tool_overrides", "a string");
	opt_field(L, ov, "base_url", LUA_TSTRING, name, "tool_overrides", "a string");
	opt_field(L, ov, "headers", LUA_TTABLE, name, "tool_overrides", "an object of header: value");
	if (lua_getfield(L, ov, "url") == LUA_TNIL && lua_getfield(L, ov, "base_url") == LUA_TNIL &&
	    lua_getfield(L, ov, "headers") == LUA_TNIL)
		goto out;
	lua_settop(L, ov);
	if (lua_getfield(L, spec, "http") != LUA_TTABLE)
		luaL_error(L, "ctx.config.tool_overrides.%s: url, base_url and headers apply to http tools; tool "
			   "'%s' runs a command (override its command instead)", name, name);
	http = lua_gettop(L);
	if (lua_getfield(L, ov, "url") == LUA_TSTRING) {
		lua_setfield(L, http, "url");
	} else if (lua_getfield(L, ov, "base_url") == LUA_TSTRING) {
		size_t blen;
		const char *base = lua_tolstring(L, -1, &blen), *url, *rest = NULL;
		if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8))
			luaL_error(L, "ctx.config.tool_overrides.%s.base_url \"%s\" must start with http:// or https://",
				   name, base);
		while (blen && base[blen - 1] == '/')
			blen--;
		lua_getfield(L, http, "url");
		url = lua_tostring(L, -1);
		if (!url || !(rest = strstr(url, "://")))
			tools_error(L, "tool '%s': http.url must be an absolute http(s) URL", name);
		rest = strchr(rest + 3, '/');
		lua_pushlstring(L, base, blen);
		lua_pushstring(L, rest ? rest : "");
		lua_concat(L, 2);
		lua_setfield(L, http, "url");
	}
	lua_settop(L, http);
	if (lua_getfield(L, ov, "headers") == LUA_TTABLE) {
		int h = lua_gettop(L), hs;
		if (lua_getfield(L, http, "headers") != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_pushvalue(L, -1);
			lua_setfield(L, http, "headers");
		}
		hs = lua_gettop(L);
		lua_pushnil(L);
		while (lua_next(L, h)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, hs);
		}
	}
out:
	lua_settop(L, top);
}

/* ---- running -------------------------------------------------------------- */

struct http_box {
	struct og_http_response res;
};

static const char http_box_mt_key;

static int http_box_gc(lua_State *L)
{
	struct http_box *b = lua_touserdata(L, 1);

	og_http_response_release(&b->res);
	return 0;
}

/* [-0, +1, m] ISO-8601 UTC of now */
static void push_now(lua_State *L)
{
	char ts[40];

	lua_pushstring(L, og_clock_iso8601(og_clock_wall_ms(), ts, sizeof(ts)));
}

/* [-0, +1, m] the command result table; its argv is the list at argv_idx */
static void push_result(lua_State *L, const struct og_proc_result *r, const char *tool, int argv_idx)
{
	lua_createtable(L, 0, 12);
	lua_pushliteral(L, "command");
	lua_setfield(L, -2, "kind");
	lua_pushinteger(L, r->exit_code);
	lua_setfield(L, -2, "exit_code");
	lua_pushinteger(L, r->signal);
	lua_setfield(L, -2, "signal");
	lua_pushboolean(L, r->timed_out);
	lua_setfield(L, -2, "timed_out");
	og_lconv_push_utf8(L, r->out ? r->out : "", r->out_len);
	lua_setfield(L, -2, "stdout");
	og_lconv_push_utf8(L, r->err ? r->err : "", r->err_len);
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

/* [-0, +1, e] the argv list at tbl[field] (a tool's "command", a dry-run
 * declaration's "argv"; where names it in messages) with its {placeholders}
 * filled from args, as a new list; returns its length */
int lapi_tools_push_argv(lua_State *L, const char *name, int tbl, const char *field, const char *where, int args)
{
	int cmd, list, n, i;

	tbl = lua_absindex(L, tbl);
	lua_getfield(L, tbl, field);
	cmd = lua_gettop(L);
	n = lua_istable(L, cmd) ? (int)luaL_len(L, cmd) : 0;
	if (n < 1 || n > TOOLS_MAX_ARGV)
		return tools_error(L, "tool '%s': %s must be a list of 1 to %d strings "
				  "(the program, then its arguments)", name, where, TOOLS_MAX_ARGV);
	lua_createtable(L, n, 0);
	list = lua_gettop(L);
	for (i = 1; i <= n; i++) {
		size_t len;
		const char *t;
		char el[64];
		if (lua_geti(L, cmd, i) != LUA_TSTRING)
			return tools_error(L, "tool '%s': %s[%d] must be a string (got %s)", name, where, i,
					  luaL_typename(L, -1));
		t = lua_tolstring(L, -1, &len);
		if (memchr(t, '\0', len))
			return tools_error(L, "tool '%s': %s[%d] contains a NUL byte", name, where, i);
		snprintf(el, sizeof(el), "%s[%d]", where, i);
		push_substituted(L, name, el, t, len, args, false);
		lua_rawseti(L, list, i);
		lua_pop(L, 1);
	}
	lua_remove(L, cmd);
	return n;
}

/* [-0, +1, e] the spec of tool name from ctx.config.tools, as a plain copy
 * with ctx.config.tool_overrides applied; fn names the calling ctx function
 * in the messages of every helper here */
void lapi_tools_push_spec(lua_State *L, const char *fn, const char *name)
{
	int top = lua_gettop(L);

	tools_set_fn(L, fn);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_ctx);	/* top+1: base */
	lua_getfield(L, top + 1, "config");			/* top+2 */
	if (lua_istable(L, top + 2))
		lua_getfield(L, top + 2, "tools");		/* top+3 */
	else
		lua_pushnil(L);
	if (!lua_istable(L, top + 3) || lua_getfield(L, top + 3, name) == LUA_TNIL) {	/* top+4 */
		push_known(L, top + 3);
		tools_error(L, "no tool '%s' in the registry (known: %s)", name, lua_tostring(L, -1));
	}
	if (!lua_istable(L, top + 4))
		tools_error(L, "tool '%s': its spec must be an object (got %s)", name, luaL_typename(L, top + 4));
	push_plain(L, top + 4, 0);				/* top+5: spec, a plain copy */
	apply_override(L, name, top + 5, top + 2);
	lua_replace(L, top + 1);
	lua_settop(L, top + 1);
}

/* [-0, +1, e] the template with {placeholders} filled from args (as text) */
void lapi_tools_push_filled(lua_State *L, const char *name, const char *where, const char *tmpl, int args)
{
	push_substituted(L, name, where, tmpl, strlen(tmpl), args, false);
}

/* [-0, +1, e] runs the command tool; pushes its result */
static void run_command(lua_State *L, const char *name, int list, int n, lua_Number timeout_s)
{
	struct og_err err = { 0 };
	struct og_proc_opts opts = { 0 };
	struct og_proc_result *r;
	const char **argv;
	int i, top = lua_gettop(L);

	if (timeout_s > TOOLS_MAX_TIMEOUT_S)
		timeout_s = TOOLS_MAX_TIMEOUT_S;
	argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof(*argv), 0);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		argv[i - 1] = lua_tostring(L, -1);	/* the list keeps it alive */
		lua_pop(L, 1);
	}
	argv[n] = NULL;
	r = proc_box_push(L);
	opts.timeout_ms = (int64_t)(timeout_s * 1000.0);
	if (opts.timeout_ms < 1)
		opts.timeout_ms = 1;
	if (og_proc_run(argv, &opts, r, &err))
		tools_error(L, "tool '%s' could not be started: %s", name, err.msg);
	push_result(L, r, name, list);
	og_proc_result_release(r);
	lua_replace(L, top + 1);
	lua_settop(L, top + 1);
}

/* [-0, +1, e] the request of the http tool: {method, url, headers = {{name,
 * value}...} sorted, body?, shown_url} */
void lapi_tools_push_request(lua_State *L, const char *name, int spec, int args)
{
	int http, req, h, n = 0;
	size_t len;
	const char *s;
	bool has_ct = false;

	lua_getfield(L, spec, "http");
	http = lua_gettop(L);
	lua_createtable(L, 0, 5);
	req = lua_gettop(L);
	if (lua_getfield(L, http, "method") == LUA_TNIL) {
		lua_pop(L, 1);
		lua_pushliteral(L, "GET");
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		tools_error(L, "tool '%s': http.method must be a string such as \"POST\"", name);
	lua_setfield(L, req, "method");
	if (lua_getfield(L, http, "url") != LUA_TSTRING)
		tools_error(L, "tool '%s': http.url must be a string", name);
	s = lua_tolstring(L, -1, &len);
	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
		tools_error(L, "tool '%s': http.url \"%s\" must start with http:// or https://", name, s);
	push_substituted(L, name, "http.url", s, len, args, true);
	lua_setfield(L, req, "url");
	lua_pop(L, 1);
	{
		char shown[256];
		lua_getfield(L, req, "url");
		lua_pushstring(L, og_http_url_redact(lua_tostring(L, -1), shown, sizeof(shown)));
		lua_setfield(L, req, "shown_url");
		lua_pop(L, 1);
	}
	lua_newtable(L);				/* headers list */
	h = lua_gettop(L);
	if (lua_getfield(L, http, "headers") != LUA_TNIL) {
		int src = lua_gettop(L);
		if (!lua_istable(L, src))
			tools_error(L, "tool '%s': http.headers must be an object of name: value", name);
		lua_pushnil(L);
		while (lua_next(L, src)) {
			const char *hn;
			if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
				tools_error(L, "tool '%s': http.headers must map names to strings", name);
			if (++n > TOOLS_MAX_HEADERS)
				tools_error(L, "tool '%s': more than %d http.headers", name,
					   TOOLS_MAX_HEADERS);
			hn = lua_tostring(L, -2);
			if (!strcasecmp(hn, "content-type"))
				has_ct = true;
			s = lua_tolstring(L, -1, &len);
			lua_createtable(L, 2, 0);
			lua_pushvalue(L, -3);
			lua_rawseti(L, -2, 1);
			push_substituted(L, name, "http.headers value", s, len, args, false);
			if (strpbrk(lua_tostring(L, -1), "\r\n"))
				tools_error(L, "tool '%s': header %s would hold a line break", name, hn);
			lua_rawseti(L, -2, 2);
			lua_rawseti(L, h, n);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	} else {
		lua_pop(L, 1);
	}
	switch (lua_getfield(L, http, "body")) {
	case LUA_TNIL:
		lua_pop(L, 1);
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, -1, &len);
		push_substituted(L, name, "http.body", s, len, args, false);
		lua_setfield(L, req, "body");
		lua_pop(L, 1);
		break;
	default: {
		struct og_err err = { 0 };
		cJSON *j;
		char *text;
		push_body(L, name, -1, args, 0);
		if (!(j = og_lconv_to_json(L, -1, "http.body", &err)))
			tools_error(L, "tool '%s': %s", name, err.msg);
		text = og_json_print_text(j);
		cJSON_Delete(j);
		if (!text)
			tools_error(L, "out of memory");
		lua_pushstring(L, text);
		free(text);
		lua_setfield(L, req, "body");
		lua_pop(L, 2);
		if (!has_ct) {
			lua_createtable(L, 2, 0);
			lua_pushliteral(L, "Content-Type");
			lua_rawseti(L, -2, 1);
			lua_pushliteral(L, "application/json");
			lua_rawseti(L, -2, 2);
			lua_rawseti(L, h, ++n);
		}
	}
	}
	lua_setfield(L, req, "headers");
	lua_remove(L, http);
}

/* [-0, +1, e] performs the request at req; pushes the result */
static void run_http(lua_State *L, const char *name, int req, lua_Number timeout_s)
{
	struct og_err err = { 0 };
	struct og_http_request rq = { 0 };
	struct og_http_pair *hdr;
	struct http_box *b;
	size_t n, i, keep;
	int rc, top = lua_gettop(L), hl;

	lua_getfield(L, req, "headers");
	hl = lua_gettop(L);
	n = lua_rawlen(L, hl);
	hdr = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*hdr), 0);
	for (i = 0; i < n; i++) {
		lua_rawgeti(L, hl, (lua_Integer)i + 1);
		lua_rawgeti(L, -1, 1);
		hdr[i].name = lua_tostring(L, -1);	/* kept alive by the list */
		lua_rawgeti(L, -2, 2);
		hdr[i].value = lua_tostring(L, -1);
		lua_pop(L, 3);
	}
	lua_getfield(L, req, "method");
	rq.method = lua_tostring(L, -1);
	lua_getfield(L, req, "url");
	rq.url = lua_tostring(L, -1);
	if (lua_getfield(L, req, "body") == LUA_TSTRING)
		rq.body = lua_tolstring(L, -1, &rq.body_len);
	rq.headers = hdr;
	rq.nheaders = n;
	rq.timeout_ms = timeout_s * 1000.0 > OG_HTTP_TIMEOUT_MAX_MS ? OG_HTTP_TIMEOUT_MAX_MS
								     : (long)(timeout_s * 1000.0);
	if (rq.timeout_ms < 1)
		rq.timeout_ms = 1;
	rq.max_bytes = TOOLS_HTTP_MAX_BYTES;
	b = lapi_push_gc_box(L, sizeof(*b), http_box_gc, &http_box_mt_key);
	rc = og_http_request(&rq, &b->res, &err);

	lua_createtable(L, 0, 12);
	lua_pushliteral(L, "http");
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, name);
	lua_setfield(L, -2, "tool");
	lua_pushstring(L, rq.method);
	lua_setfield(L, -2, "method");
	lua_getfield(L, req, "shown_url");
	lua_setfield(L, -2, "url");
	lua_pushinteger(L, rc == 0 ? (lua_Integer)b->res.status : 0);
	lua_setfield(L, -2, "status");
	keep = rc == 0 && b->res.body ? b->res.body_len : 0;
	og_lconv_push_utf8(L, keep ? b->res.body : "", keep > TOOLS_KEEP_BYTES ? TOOLS_KEEP_BYTES : keep);
	lua_setfield(L, -2, "body");
	lua_pushboolean(L, keep > TOOLS_KEEP_BYTES);
	lua_setfield(L, -2, "truncated");
	lua_pushboolean(L, rc != 0 && b->res.fail == OG_HTTP_TIMEOUT);
	lua_setfield(L, -2, "timed_out");
	lua_pushinteger(L, (lua_Integer)b->res.duration_ms);
	lua_setfield(L, -2, "duration_ms");
	if (rc != 0) {
		lua_pushstring(L, err.msg);
		lua_setfield(L, -2, "error");
		lua_pushstring(L, og_http_fail_name(b->res.fail));
		lua_setfield(L, -2, "error_kind");
	}
	og_http_response_release(&b->res);
	lua_replace(L, top + 1);
	lua_settop(L, top + 1);
}

/* [-0, +1, e] the recorded result of this call (kind "tool"), checked to be
 * of the same tool */
static void replay_result(lua_State *L, const char *name)
{
	lapi_journal_replay(L, "tool");
	if (!lua_istable(L, -1))
		luaL_error(L, "ctx.tools.run: the journal entry of this call is damaged (not a table)");
	lua_getfield(L, -1, "tool");
	if (!lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), name))
		luaL_error(L, "%s re-ran differently: this ctx.tools.run call ran tool '%s', now it is '%s'; a node "
			   "must make the same ctx calls in the same order when it re-runs after an interrupt "
			   "(move the varying part after og.interrupt or into another node)", lvm_from(L)->what,
			   lua_isstring(L, -1) ? lua_tostring(L, -1) : "?", name);
	lua_pop(L, 1);
}

/* ctx.tools.run(name [, args [, opts]]) -> result */
static int lapi_tools_run(lua_State *L)
{
	struct og_err err = { 0 };
	const char *name, *next;
	lua_Number timeout_s = TOOLS_DEFAULT_TIMEOUT_S;
	int spec, args = 0, what, n = 0, start;
	bool rerun = false, http;

	lua_settop(L, 3);
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
	if (!lua_isnil(L, 3)) {
		if (!lua_istable(L, 3))
			return luaL_error(L, "ctx.tools.run: tool '%s': opts must be a table such as {rerun = true} "
					  "(got %s)", name, luaL_typename(L, 3));
		lua_pushnil(L);
		while (lua_next(L, 3)) {
			if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "rerun"))
				return luaL_error(L, "ctx.tools.run: tool '%s': unknown option '%s' (known: rerun)", name,
						  luaL_tolstring(L, -2, NULL));
			lua_pop(L, 1);
		}
		lua_getfield(L, 3, "rerun");
		rerun = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	lapi_tools_push_spec(L, "ctx.tools.run", name);	/* 4: spec */
	spec = 4;
	if (lua_getfield(L, spec, "timeout_s") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0))
			return luaL_error(L, "ctx.tools.run: tool '%s': timeout_s must be a positive number of "
					  "seconds", name);
		timeout_s = lua_tonumber(L, -1);
	}
	lua_pop(L, 1);

	/* 5: the argv list, or the request */
	if (lua_getfield(L, spec, "command") != LUA_TNIL) {
		lua_pop(L, 1);
		http = false;
		n = lapi_tools_push_argv(L, name, spec, "command", "command", args);
	} else if (lua_getfield(L, spec, "http") != LUA_TNIL) {
		lua_pop(L, 2);
		http = true;
		if (lua_getfield(L, spec, "http") != LUA_TTABLE)
			return luaL_error(L, "ctx.tools.run: tool '%s': http must be an object {method, url, headers?, "
					  "body?}", name);
		lua_pop(L, 1);
		lapi_tools_push_request(L, name, spec, args);
	} else {
		return luaL_error(L, "ctx.tools.run: tool '%s' has neither command nor http: give it one (see "
				  "sandbox/tools/*.json)", name);
	}
	what = 5;
	lua_settop(L, what);

	/* the effect ledger: what an earlier execution of this task recorded */
	next = lapi_journal_peek(L);
	if (next && !strcmp(next, "tool")) {			/* a journal from before the ledger */
		replay_result(L, name);
		return 1;
	}
	if (next) {
		lapi_journal_replay(L, "tool_start");		/* 6; raises on another kind */
		if (!lua_istable(L, -1))
			return luaL_error(L, "ctx.tools.run: the journal entry of this call is damaged (not a table)");
		lua_getfield(L, -1, "tool");
		if (!lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), name))
			return luaL_error(L, "%s re-ran differently: this ctx.tools.run call started tool '%s', now it "
					  "is '%s'; a node must make the same ctx calls in the same order when it "
					  "re-runs", lvm_from(L)->what, lua_isstring(L, -1) ? lua_tostring(L, -1) : "?",
					  name);
		lua_pop(L, 1);
		next = lapi_journal_peek(L);
		if (next && !strcmp(next, "tool")) {
			replay_result(L, name);
			return 1;
		}
		if (!rerun) {
			/* started, never finished: it may or may not have acted */
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, "unknown_outcome");
			return 1;
		}
		lua_settop(L, what);
	}

	/* run it: its start is committed first */
	lua_createtable(L, 0, 4);				/* 6: the start entry */
	start = lua_gettop(L);
	lua_pushstring(L, name);
	lua_setfield(L, start, "tool");
	push_now(L);
	lua_setfield(L, start, "started_at");
	if (http) {
		lua_getfield(L, what, "method");
		lua_setfield(L, start, "method");
		lua_getfield(L, what, "shown_url");
		lua_setfield(L, start, "url");
	} else {
		lua_pushvalue(L, what);
		lua_setfield(L, start, "argv");
	}
	lapi_journal_record(L, "tool_start", start);
	if (lapi_journal_flush(L, &err) < 0)
		return luaL_error(L, "ctx.tools.run: tool '%s' was not run: its start could not be recorded durably "
				  "(effect ledger): %s", name, err.msg);
	if (http)
		run_http(L, name, what, timeout_s);		/* 7 */
	else
		run_command(L, name, what, n, timeout_s);
	lua_getfield(L, start, "started_at");
	lua_setfield(L, -2, "started_at");
	push_now(L);
	lua_setfield(L, -2, "ended_at");
	lapi_journal_record(L, "tool", -1);
	if (lapi_journal_flush(L, &err) < 0) {
		lua_pushstring(L, err.msg);
		lua_setfield(L, -2, "ledger_error");
	}
	return 1;
}

#define LAPI_FN(ns, name) { #name, lapi_##ns##_##name }

static const luaL_Reg lapi_tools_fns[] = {
	LAPI_FN(tools, run),
	LAPI_FN(tools, dry_run),
	{ NULL, NULL }
};

/* [-0, +0, m] sets t.tools, t being the table on top: the namespace, read-only */
void lapi_tools_install(lua_State *L)
{
	luaL_newlib(L, lapi_tools_fns);
	lapi_push_readonly(L);
	lua_setfield(L, -2, "tools");
}
