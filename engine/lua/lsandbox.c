/*
 * lsandbox.c: what graph and node code can reach. Built by allow-list: each
 * chunk gets its own _ENV with the safe base functions, its own copies of
 * string/table/math/utf8 (so `string.upper = nil` breaks only that chunk), a
 * read-only os subset, and a require that loads only Lua source files from
 * the project's nodes/ and graphs/ (and the graph file's own directory and
 * configured extra paths). Names that are deliberately missing (io, debug,
 * load, os.execute, ...) raise an error that says why, instead of the
 * puzzling "attempt to index a nil value". Chunks load in text mode only:
 * crafted bytecode can crash the VM.
 */
#include "lvm_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

static const char *const base_allowed[] = {
	"assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select", "tonumber",
	"tostring", "type", "rawequal", "rawget", "rawset", "rawlen", "setmetatable",
	"getmetatable", "_VERSION", NULL
};
static const char *const libs_copied[] = { "string", "table", "math", "utf8", "coroutine", NULL };
static const char *const os_allowed[] = { "time", "clock", "date", "difftime", NULL };

/* Globals that exist in plain Lua but not here, and what to use instead. */
static const char *const denied[][2] = {
	{ "io", "nodes reach the world only through ctx (ctx.http, ctx.tools, ...)" },
	{ "debug", "the debug library can break out of the sandbox" },
	{ "load", "code is loaded only from files under nodes/ and graphs/ with require" },
	{ "loadfile", "use require(\"nodes.name\") for modules under nodes/" },
	{ "dofile", "use require(\"nodes.name\") for modules under nodes/" },
	{ "loadstring", "code is loaded only from files under nodes/ and graphs/ with require" },
	{ "package", "use require(\"nodes.name\"); package.loadlib and C modules are not available" },
	{ "collectgarbage", "memory is managed by the runtime's per-node budget" },
	{ "print", "use ctx.log.info(msg) inside nodes" },
	{ NULL, NULL }
};

static const char *const os_denied[][2] = {
	{ "execute", "nodes run commands only through ctx.tools (registered, sandboxed tools)" },
	{ "exit", "a node ends by returning; an error ends only its task" },
	{ "getenv", "configuration reaches nodes through state and config, secrets never do" },
	{ "remove", "nodes change files only through ctx.tools" },
	{ "rename", "nodes change files only through ctx.tools" },
	{ "tmpname", "nodes have no file system access" },
	{ "setlocale", "the locale is the runtime's" },
	{ NULL, NULL }
};

/* __index of a sandbox _ENV: denied names raise with a reason. */
static int env_index(lua_State *L)
{
	const char *name = lua_tostring(L, 2);
	int i;

	for (i = 0; name && denied[i][0]; i++)
		if (!strcmp(name, denied[i][0]))
			return luaL_error(L, "'%s' is not available to graph code: %s", name, denied[i][1]);
	return 0;
}

static int os_index(lua_State *L)
{
	const char *name = lua_tostring(L, 2);
	int i;

	for (i = 0; name && os_denied[i][0]; i++)
		if (!strcmp(name, os_denied[i][0]))
			return luaL_error(L, "'os.%s' is not available to graph code: %s", name, os_denied[i][1]);
	return 0;
}

static int string_dump_denied(lua_State *L)
{
	return luaL_error(L, "'string.dump' is not available to graph code: bytecode cannot be loaded here");
}

/* setmetatable without __gc: Lua runs finalizers with hooks off, so a
 * finalizer would run outside every budget (and possibly forever). The rest
 * is lbaselib's setmetatable. */
static int sandbox_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "setmetatable: __gc finalizers are not available to graph code "
					  "(they would run outside the node's budget)");
		lua_pop(L, 1);
	}
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
		return luaL_error(L, "cannot change a protected metatable");
	lua_settop(L, 2);
	lua_setmetatable(L, 1);
	return 1;
}

static int os_newindex(lua_State *L)
{
	return luaL_error(L, "os is read-only in graph code");
}

/* [-0, +1, m] a shallow copy of the table in host global `name` */
static void push_lib_copy(lua_State *L, const char *name)
{
	lua_getglobal(L, name);				/* lib */
	lua_newtable(L);				/* lib copy */
	lua_pushnil(L);
	while (lua_next(L, -3)) {			/* lib copy k v */
		lua_pushvalue(L, -2);			/* lib copy k v k */
		lua_insert(L, -2);			/* lib copy k k v */
		lua_rawset(L, -4);			/* lib copy k */
	}
	lua_remove(L, -2);				/* copy */
}

static int sandbox_require(lua_State *L);

void lvm_push_env(lua_State *L)
{
	int i;

	lua_newtable(L);				/* env */
	for (i = 0; base_allowed[i]; i++) {
		lua_getglobal(L, base_allowed[i]);
		lua_setfield(L, -2, base_allowed[i]);
	}
	for (i = 0; libs_copied[i]; i++) {
		push_lib_copy(L, libs_copied[i]);
		lua_setfield(L, -2, libs_copied[i]);
	}
	lua_getfield(L, -1, "string");
	lua_pushcfunction(L, string_dump_denied);	/* bytecode out is useless without load in */
	lua_setfield(L, -2, "dump");
	lpattern_install(L, -1);			/* find/match/gmatch/gsub within the budget */
	lstrrep_install(L, -1);				/* rep without a memcpy per copy */
	lua_pop(L, 1);
	lua_pushcfunction(L, sandbox_setmetatable);
	lua_setfield(L, -2, "setmetatable");

	lua_newtable(L);				/* env os */
	lua_getglobal(L, "os");
	for (i = 0; os_allowed[i]; i++) {
		lua_getfield(L, -1, os_allowed[i]);
		lua_setfield(L, -3, os_allowed[i]);
	}
	lua_pop(L, 1);
	lua_createtable(L, 0, 2);			/* env os mt */
	lua_pushcfunction(L, os_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, os_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_setfield(L, -2, "os");

	lua_pushcfunction(L, sandbox_require);
	lua_setfield(L, -2, "require");
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "_G");

	lua_createtable(L, 0, 1);			/* env mt */
	lua_pushcfunction(L, env_index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
}

void lvm_load_file(lua_State *L, const char *path, const char *chunkname)
{
	FILE *f = fopen(path, "rb");
	luaL_Buffer b;
	char *p;
	size_t n;
	int rc;

	if (!f)
		luaL_error(L, "cannot open '%s': %s", path, strerror(errno));
	luaL_buffinit(L, &b);
	do {
		p = luaL_prepbuffer(&b);
		n = fread(p, 1, LUAL_BUFFERSIZE, f);
		luaL_addsize(&b, n);
	} while (n == LUAL_BUFFERSIZE);
	fclose(f);
	luaL_pushresult(&b);				/* src */
	{
		size_t len;
		const char *src = lua_tolstring(L, -1, &len);
		if (len > 0 && src[0] == '#') {		/* skip a #! line, as lua.c does */
			const char *nl = memchr(src, '\n', len);
			size_t skip = nl ? (size_t)(nl - src) : len;
			lua_pushlstring(L, "--", 2);
			lua_pushlstring(L, src + skip, len - skip);
			lua_concat(L, 2);
			lua_remove(L, -2);
		}
	}
	{
		size_t len;
		const char *src = lua_tolstring(L, -1, &len);
		rc = luaL_loadbufferx(L, src, len, chunkname, "t");	/* src fn|err */
	}
	if (rc != LUA_OK)
		lua_error(L);
	lua_remove(L, -2);				/* fn */
	lvm_push_env(L);				/* fn env */
	if (!lua_setupvalue(L, -2, 1))			/* fn */
		lua_pop(L, 1);
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* require(name): "opsgraph" is the built-in module; "nodes.x" and
 * "graphs.x" are files under the project root; other names are looked up
 * in the graph file's directory and the extra paths. Each module runs once
 * per VM; its result is cached. */
static int sandbox_require(lua_State *L)
{
	struct og_lvm *vm = lvm_from(L);
	const char *name = luaL_checkstring(L, 1);
	char rel[512], path[2048], tried[4096];
	size_t i, len = strlen(name), tlen = 0;
	const char *dirs[66];
	int ndirs = 0, d;

	if (!strcmp(name, "opsgraph")) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_og);
		return 1;
	}
	if (len == 0 || len >= sizeof(rel) - 5)
		return luaL_error(L, "require: bad module name '%s'", name);
	for (i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return luaL_error(L, "require('%s'): module names use letters, digits, '_', '-' and "
					  "dots as separators (like \"nodes.slack_alert\")", name);
		rel[i] = c == '.' ? '/' : c;
	}
	if (name[0] == '.' || strstr(name, ".."))
		return luaL_error(L, "require('%s'): module names use letters, digits, '_', '-' and "
				  "dots as separators (like \"nodes.slack_alert\")", name);
	memcpy(rel + len, ".lua", 5);

	if (!strncmp(name, "nodes.", 6) || !strncmp(name, "graphs.", 7))
		dirs[ndirs++] = vm->root[0] ? vm->root : ".";
	if (vm->graph_dir[0])
		dirs[ndirs++] = vm->graph_dir;
	for (d = 0; d < vm->nextra && ndirs < 64; d++)
		dirs[ndirs++] = vm->extra[d];

	tried[0] = '\0';
	for (d = 0; d < ndirs; d++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[d], rel);
		if (is_file(path))
			break;
		tlen += (size_t)snprintf(tried + tlen, tlen < sizeof(tried) ? sizeof(tried) - tlen : 0,
					 "%s%s", d ? ", " : "", path);
		if (tlen >= sizeof(tried))
			tlen = sizeof(tried) - 1;
	}
	if (d == ndirs)
		return luaL_error(L, "require('%s'): module not found (tried: %s); graph code may load only "
				  "modules under nodes/ and graphs/ of the project, the graph's directory "
				  "and configured extra paths", name, ndirs ? tried : "no allowed directory");

	/* cached by path in the registry table "og.loaded" */
	lua_getfield(L, LUA_REGISTRYINDEX, "og.loaded");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, "og.loaded");
	}						/* loaded */
	if (lua_getfield(L, -1, path) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	{
		char chunk[2100];
		const char *shown = path;
		if (!strncmp(shown, "./", 2))
			shown += 2;
		snprintf(chunk, sizeof(chunk), "@%s", shown);
		lvm_load_file(L, path, chunk);		/* loaded fn */
	}
	lua_pushstring(L, name);
	lua_call(L, 1, 1);				/* loaded mod */
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, path);
	return 1;
}
