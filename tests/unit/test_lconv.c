/*
 * test_lconv.c: cJSON <-> Lua conversion. Round trips, every refusal with the
 * path it names, key order, depth and cycle limits, and that no call leaves
 * anything on the Lua stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/json.h"
#include "lua/lconv.h"
#include "../test.h"

static lua_State *L;
static struct og_err err;
static char out[8192];

static void set_out(cJSON *j)
{
	char *s;

	if (!j) {
		snprintf(out, sizeof(out), "ERR %d: %s", err.code, err.msg);
		return;
	}
	s = cJSON_PrintUnformatted(j);
	snprintf(out, sizeof(out), "%s", s ? s : "(print failed)");
	free(s);
	cJSON_Delete(j);
}

/* og_lconv_to_json_text of the value at -1 must be og_json_print of
 * og_lconv_to_json's tree, or fail with the same error. */
static void check_text_mode(const char *what)
{
	struct og_err terr = { 0 }, e2 = { 0 };
	int top = lua_gettop(L);
	size_t len = 0;
	char *text = og_lconv_to_json_text(L, -1, what, &len, &terr);
	cJSON *j = og_lconv_to_json(L, -1, what, &e2);
	char *printed = j ? og_json_print(j, NULL) : NULL;

	CHECK_INT(lua_gettop(L), ==, top);
	if (j) {
		CHECK(text != NULL);
		if (text && printed) {
			CHECK_STR(text, printed);
			CHECK_INT(len, ==, strlen(printed));
		}
	} else {
		CHECK(text == NULL);
		CHECK_INT(terr.code, ==, e2.code);
		CHECK_STR(terr.msg, e2.msg);
	}
	free(text);
	free(printed);
	cJSON_Delete(j);
}

/* Runs `code` (which returns one value) and converts that value with `what`.
 * Returns the JSON text, or "ERR <code>: <message>". Checks stack balance,
 * and that the text mode agrees. */
static const char *lua2json(const char *code, const char *what)
{
	int top = lua_gettop(L), before;

	og_err_clear(&err);
	if (luaL_loadstring(L, code) || lua_pcall(L, 0, 1, 0)) {
		snprintf(out, sizeof(out), "LUA ERROR: %s", lua_tostring(L, -1));
		lua_settop(L, top);
		return out;
	}
	before = lua_gettop(L);
	check_text_mode(what);
	set_out(og_lconv_to_json(L, -1, what, &err));
	CHECK_INT(lua_gettop(L), ==, before);
	lua_settop(L, top);
	return out;
}

static int push_in_pcall(lua_State *l)
{
	og_lconv_push(l, lua_touserdata(l, 1));
	return 1;
}

/* Pushes the parsed `json` in protected mode; the value (or the error
 * message) is left on the stack. Returns the lua_pcall status. */
static int push_json(const char *json)
{
	cJSON *j = cJSON_Parse(json);
	int rc, top = lua_gettop(L);

	if (!j) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		lua_pushnil(L);
		return -1;
	}
	lua_pushcfunction(L, push_in_pcall);
	lua_pushlightuserdata(L, j);
	rc = lua_pcall(L, 1, 1, 0);
	cJSON_Delete(j);
	CHECK_INT(lua_gettop(L), ==, top + 1);
	return rc;
}

/* JSON -> Lua -> JSON. */
static const char *roundtrip(const char *json)
{
	int top = lua_gettop(L);

	og_err_clear(&err);
	if (push_json(json) != LUA_OK) {
		snprintf(out, sizeof(out), "PUSH ERROR: %s", lua_tostring(L, -1));
		lua_settop(L, top);
		return out;
	}
	set_out(og_lconv_to_json(L, -1, "state", &err));
	CHECK_INT(lua_gettop(L), ==, top + 1);
	lua_settop(L, top);
	return out;
}

/* Pushes `json` as global v, then runs `code`, which returns a string. */
static const char *json_lua(const char *json, const char *code)
{
	int top = lua_gettop(L);

	if (push_json(json) != LUA_OK) {
		snprintf(out, sizeof(out), "PUSH ERROR: %s", lua_tostring(L, -1));
		lua_settop(L, top);
		return out;
	}
	lua_setglobal(L, "v");
	if (luaL_loadstring(L, code) || lua_pcall(L, 0, 1, 0))
		snprintf(out, sizeof(out), "LUA ERROR: %s", lua_tostring(L, -1));
	else
		snprintf(out, sizeof(out), "%s", lua_tostring(L, -1));
	lua_settop(L, top);
	return out;
}

/* Sets up og.null and og.array the way the ctx API exposes them. */
static int setup(lua_State *l)
{
	og_lconv_init(l);
	lua_createtable(l, 0, 2);
	og_lconv_push_null(l);
	lua_setfield(l, -2, "null");
	og_lconv_push_array_mt(l);
	lua_setfield(l, -2, "_mt");
	lua_setglobal(l, "og");
	return 0;
}

static void test_roundtrip(void)
{
	CHECK_STR(roundtrip("{\"a\":1,\"b\":{\"c\":[1,2,3],\"d\":[]},\"e\":{},\"f\":null,"
			    "\"g\":[null,true,false],\"h\":\"h\\u00e9llo \\u2713 \\ud83d\\ude00\"}"),
		  "{\"a\":1,\"b\":{\"c\":[1,2,3],\"d\":[]},\"e\":{},\"f\":null,"
		  "\"g\":[null,true,false],\"h\":\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\"}");
	CHECK_STR(roundtrip("[]"), "[]");
	CHECK_STR(roundtrip("{}"), "{}");
	CHECK_STR(roundtrip("[[],[[]],{},[{}]]"), "[[],[[]],{},[{}]]");
	CHECK_STR(roundtrip("null"), "null");
	CHECK_STR(roundtrip("-7"), "-7");
	CHECK_STR(roundtrip("\"s\""), "\"s\"");
	/* (cJSON prints only 15 significant digits for integers, so keep
	 * them shorter here; 2^53 is checked on the cJSON value below) */
	CHECK_STR(roundtrip("[1.5,-0.25,1e+300,-123456789012345,12345678901,0]"),
		  "[1.5,-0.25,1e+300,-123456789012345,12345678901,0]");
	/* keys come out sorted, whatever order they came in */
	CHECK_STR(roundtrip("{\"z\":1,\"a\":{\"y\":2,\"b\":3},\"m\":[{\"k\":1,\"c\":2}]}"),
		  "{\"a\":{\"b\":3,\"y\":2},\"m\":[{\"c\":2,\"k\":1}],\"z\":1}");
}

static void test_json_to_lua(void)
{
	const char *doc = "{\"count\":1,\"f\":1.5,\"arr\":[],\"n\":null,\"big\":1e20,"
			  "\"max\":9007199254740992,\"over\":9007199254740994,\"list\":[10,null,30],"
			  "\"s\":\"\\u00e9\"}";

	CHECK_STR(json_lua(doc, "return tostring(v.count + 1)"), "2");
	CHECK_STR(json_lua(doc, "return math.type(v.count)..' '..math.type(v.f)..' '..math.type(v.big)"
			   "..' '..math.type(v.max)..' '..math.type(v.over)"),
		  "integer float float integer float");
	CHECK_STR(json_lua(doc, "return tostring(v.n == og.null)..' '..tostring(getmetatable(v.arr) == og._mt)"
			   "..' '..#v.arr..' '..tostring(getmetatable(v) == nil)"),
		  "true true 0 true");
	CHECK_STR(json_lua(doc, "return #v.list..' '..tostring(v.list[2] == og.null)..' '..v.list[3]"),
		  "3 true 30");
	CHECK_STR(json_lua(doc, "return #v.s"), "2");
	CHECK_STR(json_lua("null", "return tostring(v)"), "nil");
	CHECK_STR(json_lua("[]", "return tostring(v):match('^og.array') or 'no name'"), "og.array");
	/* NULL pushes nil */
	og_lconv_push(L, NULL);
	CHECK(lua_isnil(L, -1));
	lua_pop(L, 1);
}

static void test_lua_to_json(void)
{
	CHECK_STR(lua2json("return {b=1, a={1,2,3}, c={}, d=og.array(), e=og.null, f='x', g=true,"
			   " h=1.5, i=-3, j={1, og.null, 3}, k=og.array({'x'}), [\"1\"]=0}", NULL),
		  "{\"1\":0,\"a\":[1,2,3],\"b\":1,\"c\":{},\"d\":[],\"e\":null,\"f\":\"x\",\"g\":true,"
		  "\"h\":1.5,\"i\":-3,\"j\":[1,null,3],\"k\":[\"x\"]}");
	CHECK_STR(lua2json("return nil", NULL), "null");
	CHECK_STR(lua2json("return og.null", NULL), "null");
	{
		cJSON *j;
		CHECK(luaL_dostring(L, "return {2^53, math.tointeger(2^53), -2^53, 9007199254740993}") == LUA_OK);
		j = og_lconv_to_json(L, -1, NULL, &err);
		CHECK(j && cJSON_GetArrayItem(j, 0)->valuedouble == 9007199254740992.0 &&
		      cJSON_GetArrayItem(j, 1)->valuedouble == 9007199254740992.0 &&
		      cJSON_GetArrayItem(j, 2)->valuedouble == -9007199254740992.0 &&
		      cJSON_GetArrayItem(j, 3)->valuedouble == 9007199254740992.0); /* double rounds */
		cJSON_Delete(j);
		lua_pop(L, 1);
	}
	/* 1.0 as a key is the integer 1 in Lua */
	CHECK_STR(lua2json("return {[1.0]='a', [2]='b'}", NULL), "[\"a\",\"b\"]");
	/* other metatables are ignored, and no metamethod runs */
	CHECK_STR(lua2json("return setmetatable({1,2}, {__index=function() error('ran') end,"
			   " __pairs=function() error('ran') end})", NULL), "[1,2]");
	/* Lua -> JSON -> Lua -> JSON is stable */
	CHECK_STR(lua2json("return {x={y={1,{z=og.array()}}}}", NULL), "{\"x\":{\"y\":[1,{\"z\":[]}]}}");
	CHECK_STR(roundtrip(out), "{\"x\":{\"y\":[1,{\"z\":[]}]}}");

	/* the value need not be on top, and a positive index works too */
	lua_pushboolean(L, 1);
	lua_pushinteger(L, 5);
	set_out(og_lconv_to_json(L, lua_gettop(L) - 1, NULL, &err));
	CHECK_STR(out, "true");
	CHECK_INT(lua_gettop(L), ==, 2);
	lua_pop(L, 2);
}

static void test_errors(void)
{
	const char *s;

	s = lua2json("return {facts={cb={1, function() end}}}", "writes");
	CHECK_CONTAINS(s, "cannot convert a function to JSON at 'writes.facts.cb[2]'");
	CHECK_INT(err.code, ==, -OG_EINVAL);
	CHECK_CONTAINS(lua2json("return {facts={cb={1, print}}}", NULL), "at 'facts.cb[2]'");
	CHECK_CONTAINS(lua2json("return print", NULL), "a function to JSON at the top level");
	CHECK_CONTAINS(lua2json("return print", "state"), "a function to JSON at 'state'");
	CHECK_CONTAINS(lua2json("return {co=coroutine.create(print)}", "w"), "a thread to JSON at 'w.co'");
	CHECK_CONTAINS(lua2json("return {f=io.stdout}", "w"), "a userdata to JSON at 'w.f'");
	CHECK_CONTAINS(lua2json("return {['my key']={['x\"y']={print}}}", "state"),
		       "at 'state[\"my key\"][\"x\\\"y\"][1]'");

	CHECK_CONTAINS(lua2json("return {a={1, 2, x=3}}", "w"),
		       "a table mixing integer and string keys (1 and 'x') to JSON at 'w.a'");
	CHECK_CONTAINS(lua2json("return {1, b=1, a=2, c=3}", "w"), "(1 and 'a')");
	CHECK_CONTAINS(lua2json("return {a={[1]=1, [3]=3}}", "w"),
		       "a sparse array (2 integer keys, from 1 to 3) to JSON at 'w.a'");
	CHECK_CONTAINS(lua2json("return {[0]=1}", "w"), "sparse array");
	CHECK_CONTAINS(lua2json("return {a={[1.5]=1}}", "w"), "non-integer number key (1.5) to JSON at 'w.a'");
	CHECK_CONTAINS(lua2json("return {a={[true]=1}}", "w"), "boolean key (true) to JSON at 'w.a'");
	CHECK_CONTAINS(lua2json("return {[{}]=1}", "w"), "a table key to JSON at 'w'");
	CHECK_CONTAINS(lua2json("return {a=og.array({1, x=2})}", "w"),
		       "an og.array with a string key 'x' to JSON at 'w.a'");
	CHECK_CONTAINS(lua2json("return og.array({[2]=1})", "w"), "sparse array");
	CHECK_CONTAINS(lua2json("return {x={0/0}}", "w"), "cannot convert NaN to JSON at 'w.x[1]'");
	CHECK_CONTAINS(lua2json("return {x=math.huge}", "w"), "cannot convert inf to JSON at 'w.x'");
	CHECK_CONTAINS(lua2json("return {x=-math.huge}", "w"), "cannot convert -inf");
	CHECK_CONTAINS(lua2json("return {s='a\\0b'}", "w"), "a string containing a NUL byte to JSON at 'w.s'");
	CHECK_CONTAINS(lua2json("return {['a\\0b']=1}", "w"), "key containing a NUL byte to JSON at 'w'");

	/* a non-NULL light userdata is not og.null */
	lua_pushlightuserdata(L, &err);
	CHECK(og_lconv_to_json(L, -1, "w", &err) == NULL);
	CHECK_CONTAINS(err.msg, "a userdata to JSON at 'w'");
	CHECK(!og_lconv_is_null(L, -1));
	lua_pop(L, 1);
	og_lconv_push_null(L);
	CHECK(og_lconv_is_null(L, -1));
	lua_pop(L, 1);

	/* err may be NULL */
	lua_pushcfunction(L, setup);
	CHECK(og_lconv_to_json(L, -1, NULL, NULL) == NULL);
	CHECK_INT(lua_gettop(L), ==, 1);
	lua_pop(L, 1);
}

static void test_cycles_and_depth(void)
{
	const char *s;
	char code[256];

	s = lua2json("local t = {a={}}; t.a.b = t; return t", "state");
	CHECK_CONTAINS(s, "cycle to JSON at 'state.a.b'");
	CHECK_CONTAINS(s, "same table as the one at 'state'");
	s = lua2json("local t = {}; t[1] = t; return {x=t}", NULL);
	CHECK_CONTAINS(s, "cycle to JSON at 'x[1]'");
	/* the same table twice, but not inside itself, is fine */
	CHECK_STR(lua2json("local t = {1}; return {a=t, b={t, t}}", NULL), "{\"a\":[1],\"b\":[[1],[1]]}");

	/* 64 nested tables convert; 65 do not */
	snprintf(code, sizeof(code), "local t = 1; for i = 1, %d do t = {x=t} end; return t", OG_LCONV_MAX_DEPTH);
	s = lua2json(code, "s");
	CHECK(strncmp(s, "{\"x\":{\"x\":", 10) == 0);
	CHECK_STR(roundtrip(s), s);     /* and come back: 64 both ways */
	snprintf(code, sizeof(code), "local t = 1; for i = 1, %d do t = {x=t} end; return t", OG_LCONV_MAX_DEPTH + 1);
	s = lua2json(code, "s");
	CHECK_CONTAINS(s, "cannot convert to JSON: nested deeper than 64 levels at 's.x.x.x.x.");
	CHECK_INT(err.code, ==, -OG_EINVAL);
	s = lua2json("local t = 1; for i = 1, 1000 do t = {t} end; return t", NULL);
	CHECK_CONTAINS(s, "nested deeper than 64 levels at '[1][1][1]");

	/* JSON deeper than 64 levels raises a Lua error in push */
	{
		char json[200];
		int i, top = lua_gettop(L);
		for (i = 0; i < OG_LCONV_MAX_DEPTH + 1; i++)
			json[i] = '[';
		for (i = 0; i < OG_LCONV_MAX_DEPTH + 1; i++)
			json[OG_LCONV_MAX_DEPTH + 1 + i] = ']';
		json[2 * (OG_LCONV_MAX_DEPTH + 1)] = '\0';
		CHECK_INT(push_json(json), ==, LUA_ERRRUN);
		CHECK_CONTAINS(lua_tostring(L, -1), "nested deeper than 64 levels");
		lua_settop(L, top);
		CHECK_INT(push_json(json + 1), ==, LUA_OK);  /* 64 is fine */
		lua_settop(L, top);
	}
}

static void test_determinism(void)
{
	char first[8192];

	/* 300 keys: past the insertion sort and the inline key buffer; the
	 * nested tables make children grow the key buffer under their parent */
	lua2json("local t = {} for i = 1, 300 do t['k'..i] = i end "
		 "for i = 1, 100 do t['k'..i] = {a=i, ['k'..i]={b=1, a=2}} end return t", NULL);
	snprintf(first, sizeof(first), "%s", out);
	lua2json("local t = {} for i = 300, 1, -1 do t['k'..i] = i end "
		 "for i = 100, 1, -1 do t['k'..i] = {['k'..i]={a=2, b=1}, a=i} end "
		 "t.zz = 1; t.zz = nil; return t", NULL);
	CHECK_STR(out, first);
	CHECK(strncmp(first, "{\"k1\":{\"a\":1,\"k1\":{\"a\":2,\"b\":1}},\"k10\":", 39) == 0);
	/* byte order: "a" < "aa" < "b"; UTF-8 after ASCII */
	CHECK_STR(lua2json("return {b=1, aa=2, a=3, ['\\u{e9}']=4, B=5}", NULL),
		  "{\"B\":5,\"a\":3,\"aa\":2,\"b\":1,\"\xc3\xa9\":4}");
	/* text mode: escapes, numbers */
	lua2json("return {s='q\"b\\\\n\\n\\t\\1\\31\\127  \\u{e9}/', f={0.1, 1/3, 1e300, -0.0, 2^63, "
		 "math.mininteger, math.maxinteger, 123456789012, -5, 2^-1074}, e={}, a=og.array(), n=og.null}", NULL);
	CHECK(strncmp(out, "{\"a\":[],\"e\":{},\"f\":[0.1,", 24) == 0);
	/* a long array */
	lua2json("local t = {} for i = 1, 1000 do t[i] = i end return t", NULL);
	CHECK(strncmp(out, "[1,2,3,", 7) == 0 && strstr(out, ",999,1000]"));
}

int main(void)
{
	L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "luaL_newstate failed\n");
		return 1;
	}
	luaL_openlibs(L);
	lua_pushcfunction(L, setup);
	CHECK_INT(lua_pcall(L, 0, 0, 0), ==, LUA_OK);
	/* the metatable is made once and shared */
	og_lconv_push_array_mt(L);
	og_lconv_push_array_mt(L);
	CHECK(lua_rawequal(L, -1, -2));
	lua_pop(L, 2);
	CHECK(luaL_dostring(L, "og.array = function(t) return setmetatable(t or {}, og._mt) end") == LUA_OK);
	CHECK_INT(lua_gettop(L), ==, 0);

	test_roundtrip();
	test_json_to_lua();
	test_lua_to_json();
	test_errors();
	test_cycles_and_depth();
	test_determinism();

	CHECK_INT(lua_gettop(L), ==, 0);
	lua_close(L);
	TEST_END();
}
