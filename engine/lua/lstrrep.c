/*
 * lstrrep.c: string.rep for graph code, with Lua 5.4's results, argument
 * checks and messages, but built by doubling: the first copy (with its
 * separator) is written once, then what is written so far is copied after
 * itself, so n copies take about log2(n) memcpy calls instead of n. Lua's
 * own str_rep calls memcpy once per copy, and string.rep("x", 150), the
 * usual way to pad or fill, was a sixth of a benchmark node's own time.
 * The result is built in a luaL_Buffer as before, so the node's memory
 * budget bounds it the same way.
 */
#include "lvm_int.h"

#include <limits.h>
#include <string.h>

#include <lauxlib.h>

/* lstrlib.c's MAXSIZE on every platform this builds for (size_t >= int) */
#define LSTRREP_MAXSIZE ((size_t)INT_MAX)

static int str_rep(lua_State *L)
{
	size_t l, lsep, unit, body, done;
	const char *s = luaL_checklstring(L, 1, &l);
	lua_Integer n = luaL_checkinteger(L, 2);
	const char *sep = luaL_optlstring(L, 3, "", &lsep);
	luaL_Buffer b;
	char *p;

	if (n <= 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	if (l + lsep < l || l + lsep > LSTRREP_MAXSIZE / (size_t)n)
		return luaL_error(L, "resulting string too large");
	unit = l + lsep;
	body = (size_t)(n - 1) * unit;		/* the n-1 copies followed by sep */
	p = luaL_buffinitsize(L, &b, body + l);
	if (body) {
		memcpy(p, s, l);
		memcpy(p + l, sep, lsep);
		for (done = unit; done < body;) {
			size_t k = done < body - done ? done : body - done;
			memcpy(p + done, p, k);		/* [0, k) and [done, done + k) are apart: k <= done */
			done += k;
		}
	}
	memcpy(p + body, s, l);
	luaL_pushresultsize(&b, body + l);
	return 1;
}

void lstrrep_install(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_pushcfunction(L, str_rep);
	lua_setfield(L, idx, "rep");
	/* ("x"):rep(n) looks in the table every string's metatable indexes
	 * (the host's string library), not in the chunk's copy */
	lua_pushliteral(L, "");				/* "" */
	if (lua_getmetatable(L, -1)) {			/* "" mt */
		if (lua_getfield(L, -1, "__index") == LUA_TTABLE) {	/* "" mt index */
			lua_pushcfunction(L, str_rep);
			lua_setfield(L, -2, "rep");
		}
		lua_pop(L, 2);				/* "" */
	}
	lua_pop(L, 1);
}
