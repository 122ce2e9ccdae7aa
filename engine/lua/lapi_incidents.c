/*
 * lapi_incidents.c: ctx.incidents.similar{service, labels, text, signature,
 * limit}: the most similar finished past incidents, ranked by the host
 * (the CLI's sink ranks the store's incident index, report/similar.h; the
 * Lua host knows no store). Returns a list (best first) of
 * {thread_id, score, bm25, matched, service, signature, root_cause, summary,
 *  action{choice, id, title, tools}, outcome, fixed, ended_at}, an empty list
 * when there is no sink or no past, or nil, err when the sink failed.
 * Journaled (kind "incidents"): a re-executed node sees the same past even
 * if incidents finished meanwhile.
 */
#include <lauxlib.h>
#include <lua.h>

#include "lconv.h"
#include "lvm_int.h"

#define SIMILAR_MAX 20

static int lapi_incidents_similar(lua_State *L)
{
	struct og_lvm *vm = lvm_from(L);
	struct og_err err = { 0 };
	cJSON *q, *out = NULL;
	const cJSON *lim;
	int rc;

	luaL_checktype(L, 1, LUA_TTABLE);
	if (lapi_journal_replay(L, "incidents"))
		return 1;
	if (!(q = og_lconv_to_json(L, 1, "ctx.incidents.similar's query", &err)))
		return luaL_error(L, "%s", err.msg);
	lim = cJSON_GetObjectItemCaseSensitive(q, "limit");
	if (lim && (!cJSON_IsNumber(lim) || lim->valuedouble < 1 || lim->valuedouble > SIMILAR_MAX)) {
		cJSON_Delete(q);
		return luaL_error(L, "ctx.incidents.similar: limit must be a number from 1 to %d", SIMILAR_MAX);
	}
	if (!vm->similar) {
		lua_newtable(L);
		og_lconv_push_array_mt(L);
		lua_setmetatable(L, -2);
		cJSON_Delete(q);
		lapi_journal_record(L, "incidents", -1);
		return 1;
	}
	rc = vm->similar(vm->similar_ud, q, &out, &err);
	cJSON_Delete(q);
	if (rc < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "ctx.incidents.similar: %s", err.msg);
		return 2;	/* not journaled: a re-run asks again */
	}
	lapi_push_json_owned(L, out);
	lapi_journal_record(L, "incidents", -1);
	return 1;
}

static const luaL_Reg lapi_incidents_fns[] = {
	{ "similar", lapi_incidents_similar },
	{ NULL, NULL }
};

/* [-0, +0, m] sets t.incidents, t being the table on top: read-only */
void lapi_incidents_install(lua_State *L)
{
	luaL_newlib(L, lapi_incidents_fns);
	lapi_push_readonly(L);
	lua_setfield(L, -2, "incidents");
}
