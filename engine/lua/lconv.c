/*
 * lconv.c: cJSON <-> Lua values. Graph state is JSON (it is checkpointed and
 * diffed as bytes), node code is Lua, and every node call crosses this
 * boundary twice, so the conversion has to be cheap, lossless where JSON and
 * Lua agree, and loud where they do not: a function or a sparse table in a
 * node's writes is a bug in the node, and the error names the exact path.
 *
 * Lua -> JSON never raises and never allocates Lua memory (only cJSON memory,
 * which it frees on every failure path): it is called right after a node ran,
 * possibly with the node's memory budget spent, and a longjmp out of here
 * would leak the half-built tree. Hence lua_checkstack (returns 0) instead of
 * luaL_checkstack (raises), and object values are looked up by keeping them
 * on the stack rather than by re-pushing their keys (which may allocate).
 */
#include "lconv.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "../core/json.h"
#include "../core/utf8.h"

/* Its address is the registry key of the array-marker metatable. */
static const char lconv_array_key;

/* 2^53: beyond it not every integer is a double, so a JSON number there is
 * not known to be an exact integer. */
#define LCONV_INT_EXACT 9007199254740992.0

/* [-0, +1, -] */
void og_lconv_push_null(lua_State *L)
{
	lua_pushlightuserdata(L, NULL);
}

/* [-0, +0, -] */
bool og_lconv_is_null(lua_State *L, int idx)
{
	return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* [-0, +1, m] */
void og_lconv_push_array_mt(lua_State *L)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &lconv_array_key) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_createtable(L, 0, 1);                       /* mt */
	lua_pushliteral(L, "og.array");                 /* mt name; tostring shows it */
	lua_setfield(L, -2, "__name");                  /* mt */
	lua_pushvalue(L, -1);                           /* mt mt */
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lconv_array_key); /* mt */
}

/* [-0, +0, m] */
void og_lconv_init(lua_State *L)
{
	og_lconv_push_array_mt(L);
	lua_pop(L, 1);
}

/* ---- JSON -> Lua ---------------------------------------------------- */

/* [-0, +1, e]  mt is the absolute index of the array-marker metatable. */
static void lconv_push_value(lua_State *L, const cJSON *v, int mt, int depth, bool top)
{
	const cJSON *c;
	int n;

	switch (v->type & 0xff) {
	case cJSON_False:
		lua_pushboolean(L, 0);
		return;
	case cJSON_True:
		lua_pushboolean(L, 1);
		return;
	case cJSON_NULL:
		if (top)
			lua_pushnil(L);
		else
			og_lconv_push_null(L);
		return;
	case cJSON_Number: {
		double d = v->valuedouble;
		/* Integral values become integers so that `count + 1` is 2, not 2.0. */
		if (d >= -LCONV_INT_EXACT && d <= LCONV_INT_EXACT && (double)(int64_t)d == d)
			lua_pushinteger(L, (lua_Integer)d);
		else
			lua_pushnumber(L, d);
		return;
	}
	case cJSON_String:
	case cJSON_Raw:
		lua_pushstring(L, v->valuestring ? v->valuestring : "");
		return;
	case cJSON_Array:
	case cJSON_Object:
		break;
	default:                                        /* cJSON_Invalid */
		lua_pushnil(L);
		return;
	}

	if (depth >= OG_LCONV_MAX_DEPTH)
		luaL_error(L, "cannot convert JSON to Lua: nested deeper than %d levels "
			   "(keep state and inputs at most %d levels deep)",
			   OG_LCONV_MAX_DEPTH, OG_LCONV_MAX_DEPTH);
	luaL_checkstack(L, 3, "converting JSON to Lua");
	n = 0;
	for (c = v->child; c; c = c->next)
		n++;
	if ((v->type & 0xff) == cJSON_Array) {
		lua_createtable(L, n, 0);               /* t */
		n = 0;
		for (c = v->child; c; c = c->next) {
			lconv_push_value(L, c, mt, depth + 1, false); /* t v */
			lua_rawseti(L, -2, ++n);        /* t */
		}
		lua_pushvalue(L, mt);                   /* t mt */
		lua_setmetatable(L, -2);                /* t */
	} else {
		lua_createtable(L, 0, n);               /* t */
		for (c = v->child; c; c = c->next) {
			if (!c->string)                 /* not from a parser; nothing to key it by */
				continue;
			/* the key pushed with its length, then rawset (a fresh table
			 * has no metamethods): lua_setfield would first look the
			 * key's address up in the API's string cache, which a
			 * tree's keys always miss */
			lua_pushlstring(L, c->string, strlen(c->string)); /* t k */
			lconv_push_value(L, c, mt, depth + 1, false); /* t k v */
			lua_rawset(L, -3);              /* t */
		}
	}
}

/* [-0, +1, e] */
void og_lconv_push(lua_State *L, const cJSON *v)
{
	int mt;

	if (!v) {
		lua_pushnil(L);
		return;
	}
	if (!(v->type & (cJSON_Array | cJSON_Object))) {
		lconv_push_value(L, v, 0, 0, true);
		return;
	}
	og_lconv_push_array_mt(L);                      /* mt */
	mt = lua_gettop(L);
	lconv_push_value(L, v, mt, 0, true);            /* mt v */
	lua_remove(L, mt);                              /* v */
}

/* ---- Lua -> JSON ---------------------------------------------------- */

/* One open table on the path from the top-level value to the current one. */
struct lconv_level {
	const void *table;      /* lua_topointer, for cycle detection */
	const char *key;        /* key of the child being converted; */
	size_t keylen;
	lua_Integer index;      /* in an array key is NULL and this is its index */
};

/* A string key of an object and the stack slot holding its value. */
struct lconv_key {
	const char *s;          /* anchored by the table, which is on the stack */
	size_t len;
	int slot;
};

/* Keys of all open objects share one buffer, each object using a range
 * above its parent's. Most conversions fit in the inline part. */
#define LCONV_INLINE_KEYS 64

struct lconv_ctx {
	lua_State *L;
	struct og_err *err;
	const char *what;
	int mt;                 /* index of the array-marker metatable, 0 if none exists */
	int depth;              /* open tables */
	struct lconv_level levels[OG_LCONV_MAX_DEPTH];
	struct lconv_key *keys;
	size_t nkeys, capkeys;
	struct lconv_key inline_keys[LCONV_INLINE_KEYS];
	struct og_json_out *text;	/* text mode: values are printed here, and
					 * &lconv_printed stands for each */
};

/* Text mode's result for a value that was printed (never freed). */
static cJSON lconv_printed;

/* ---- error paths: built only when something fails, never per value */

struct lconv_pbuf {
	char b[512];
	size_t len;
	bool cut;
	char quoted[516];
};

static void pbuf_add(struct lconv_pbuf *p, const char *s, size_t n)
{
	size_t room = sizeof(p->b) - 1 - p->len;

	if (n > room) {
		n = room;
		p->cut = true;
	}
	memcpy(p->b + p->len, s, n);
	p->len += n;
	p->b[p->len] = '\0';
}

static bool lconv_is_ident(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
		      (i > 0 && ch >= '0' && ch <= '9')))
			return false;
	}
	return n > 0;
}

/* Appends a key as Lua code would index it: .name or ["any key"]. Long keys
 * are cut so that one key cannot crowd the rest of the path out. */
static void pbuf_key(struct lconv_pbuf *p, const char *s, size_t n)
{
	char tmp[8];
	size_t i, shown = n > 40 ? 40 : n;

	if (n == shown && lconv_is_ident(s, n)) {
		if (p->len)
			pbuf_add(p, ".", 1);
		pbuf_add(p, s, n);
		return;
	}
	pbuf_add(p, "[\"", 2);
	for (i = 0; i < shown; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)ch;
			pbuf_add(p, tmp, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
			pbuf_add(p, tmp, 4);
		} else {
			pbuf_add(p, s + i, 1);  /* UTF-8 stays readable */
		}
	}
	pbuf_add(p, shown < n ? "...\"]" : "\"]", shown < n ? 5 : 2);
}

/* Where the value inside the first `nlevels` open tables is, for a message:
 * "'writes.facts.cb[2]'" (quoted), or "the top level" when there is neither
 * a path nor a `what`. The result lives in p. */
static const char *lconv_where(const struct lconv_ctx *c, int nlevels, struct lconv_pbuf *p)
{
	char tmp[32];
	int i;

	p->len = 0;
	p->cut = false;
	p->b[0] = '\0';
	if (c->what)
		pbuf_add(p, c->what, strlen(c->what));
	for (i = 0; i < nlevels; i++) {
		const struct lconv_level *lv = &c->levels[i];
		if (lv->key) {
			pbuf_key(p, lv->key, lv->keylen);
		} else {
			snprintf(tmp, sizeof(tmp), "[%lld]", (long long)lv->index);
			pbuf_add(p, tmp, strlen(tmp));
		}
	}
	if (p->len == 0)
		return "the top level";
	if (p->cut)
		memcpy(p->b + p->len - 3, "...", 3);
	snprintf(p->quoted, sizeof(p->quoted), "'%s'", p->b);
	return p->quoted;
}

/*
 * The failure reporters below are out of line on purpose: their message
 * buffers (about 2 KiB) would otherwise sit in every frame of the recursion.
 * Every message reads "cannot convert <what> to JSON at <where> (<hint>)",
 * except the depth one: "cannot convert to JSON: nested deeper than ...".
 */
#define LCONV_COLD __attribute__((noinline, cold))

/* Fills c->err for the value inside the first `nlevels` open tables and
 * returns NULL, so failures take one line. */
LCONV_COLD __attribute__((format(printf, 5, 6)))
static cJSON *lconv_fail(struct lconv_ctx *c, int code, int nlevels, const char *hint,
			 const char *fmt, ...)
{
	struct lconv_pbuf p;
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	og_err_set(c->err, code, "cannot convert %s at %s (%s)",
		   what, lconv_where(c, nlevels, &p), hint);
	return NULL;
}

LCONV_COLD
static cJSON *lconv_nomem(struct lconv_ctx *c)
{
	return lconv_fail(c, -OG_ENOMEM, c->depth,
	    "out of memory, or the Lua stack limit for very large tables", "a value to JSON");
}

LCONV_COLD
static cJSON *lconv_fail_cycle(struct lconv_ctx *c, int again)
{
	struct lconv_pbuf p;
	char hint[sizeof(p.quoted) + 96];

	snprintf(hint, sizeof(hint), "it is the same table as the one at %s, which contains it; "
		 "copy the values instead of linking the table", lconv_where(c, again, &p));
	return lconv_fail(c, -OG_EINVAL, c->depth, hint, "a cycle to JSON");
}

/* The key at stack index k (in the table being walked) cannot be a JSON key. */
LCONV_COLD
static cJSON *lconv_fail_key(struct lconv_ctx *c, int k)
{
	lua_State *L = c->L;

	switch (lua_type(L, k)) {
	case LUA_TBOOLEAN:
		return lconv_fail(c, -OG_EINVAL, c->depth, "object keys must be strings",
		    "a table with a boolean key (%s) to JSON", lua_toboolean(L, k) ? "true" : "false");
	case LUA_TNUMBER:
		/* not lua_tolstring: that would turn the key into a string in
		 * place and break lua_next */
		return lconv_fail(c, -OG_EINVAL, c->depth,
		    "object keys must be strings, array keys 1..n",
		    "a table with a non-integer number key (%.17g) to JSON", (double)lua_tonumber(L, k));
	case LUA_TSTRING:
		return lconv_fail(c, -OG_EINVAL, c->depth, "JSON keys here are C strings",
		    "a table with a key containing a NUL byte to JSON");
	default:
		return lconv_fail(c, -OG_EINVAL, c->depth, "object keys must be strings",
		    "a table with a %s key to JSON", luaL_typename(L, k));
	}
}

/* A table has string keys and also integer keys (imin is the smallest), or
 * is an og.array with string keys; k is its smallest string key. */
LCONV_COLD
static cJSON *lconv_fail_mixed(struct lconv_ctx *c, bool marked, lua_Integer imin,
			       const char *k, size_t klen)
{
	struct lconv_pbuf p = { .len = 0 };

	pbuf_key(&p, k, klen);                  /* name, or ["odd key"] */
	if (marked)
		return lconv_fail(c, -OG_EINVAL, c->depth, "an array takes only the keys 1..n",
		    p.b[0] == '[' ? "an og.array with a string key %s to JSON"
				  : "an og.array with a string key '%s' to JSON", p.b);
	return lconv_fail(c, -OG_EINVAL, c->depth,
	    "use only string keys for an object, or only 1..n for an array",
	    p.b[0] == '[' ? "a table mixing integer and string keys (%lld and %s) to JSON"
			  : "a table mixing integer and string keys (%lld and '%s') to JSON",
	    (long long)imin, p.b);
}

static int lconv_key_cmp(const void *a, const void *b)
{
	const struct lconv_key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r;

	/* most keys of an object differ in the first byte: no memcmp call */
	if (n && x->s[0] != y->s[0])
		return (unsigned char)x->s[0] < (unsigned char)y->s[0] ? -1 : 1;
	r = memcmp(x->s, y->s, n);

	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Byte order, like strcmp on the UTF-8 text: the same keys always give the
 * same JSON bytes, whatever order lua_next walked them in. */
static void lconv_sort_keys(struct lconv_key *k, size_t n)
{
	size_t i, j;

	if (n > 16) {
		qsort(k, n, sizeof(*k), lconv_key_cmp);
		return;
	}
	for (i = 1; i < n; i++) {       /* small objects dominate; skip qsort's calls */
		struct lconv_key t = k[i];
		for (j = i; j > 0 && lconv_key_cmp(&k[j - 1], &t) > 0; j--)
			k[j] = k[j - 1];
		k[j] = t;
	}
}

static bool lconv_add_key(struct lconv_ctx *c, const char *s, size_t len, int slot)
{
	if (c->nkeys == c->capkeys) {
		size_t cap = c->capkeys * 2;
		struct lconv_key *k;
		if (c->keys == c->inline_keys) {
			k = malloc(cap * sizeof(*k));
			if (k)
				memcpy(k, c->keys, c->nkeys * sizeof(*k));
		} else {
			k = realloc(c->keys, cap * sizeof(*k));
		}
		if (!k)
			return false;
		c->keys = k;
		c->capkeys = cap;
	}
	c->keys[c->nkeys].s = s;
	c->keys[c->nkeys].len = len;
	c->keys[c->nkeys].slot = slot;
	c->nkeys++;
	return true;
}

static cJSON *lconv_value(struct lconv_ctx *c, int idx);

/* [-0, +0, -]  t is an absolute index. */
static cJSON *lconv_table(struct lconv_ctx *c, int t)
{
	lua_State *L = c->L;
	const void *self = lua_topointer(L, t);
	struct lconv_level *lv;
	size_t keybase = c->nkeys, nstr, j;
	lua_Integer nint = 0, imin = 0, imax = 0, i;
	cJSON *out = NULL, *item;
	bool marked = false;
	int base, d;

	/* 64 pointer compares at most: cheaper than any set, and exact */
	for (d = 0; d < c->depth; d++)
		if (c->levels[d].table == self)
			return lconv_fail_cycle(c, d);
	if (c->depth >= OG_LCONV_MAX_DEPTH)
		return lconv_fail(c, -OG_EINVAL, c->depth,
		    "flatten the data, or store the deep part as a string",
		    "to JSON: nested deeper than %d levels", OG_LCONV_MAX_DEPTH);
	/* getmetatable, then next's key and value, then rawgeti's value */
	if (!lua_checkstack(L, 4))
		return lconv_nomem(c);
	if (c->mt && lua_getmetatable(L, t)) {          /* mt */
		marked = lua_rawequal(L, -1, c->mt);
		lua_pop(L, 1);                          /* */
	}
	lv = &c->levels[c->depth];
	lv->table = self;
	base = lua_gettop(L);

	/* One walk: classify the keys, and keep the value of each string key
	 * on the stack (under the walking key) for the object case, so that
	 * no key has to be pushed again to look its value up. */
	lua_pushnil(L);                                 /* vals.. k */
	while (lua_next(L, t)) {                        /* vals.. k v */
		if (lua_type(L, -2) == LUA_TSTRING) {
			size_t len;
			const char *s = lua_tolstring(L, -2, &len);
			if (memchr(s, '\0', len)) {
				lconv_fail_key(c, -2);
				goto fail;
			}
			lua_insert(L, -2);              /* vals.. v k */
			if (!lconv_add_key(c, s, len, lua_gettop(L) - 1))
				goto nomem;
		} else if (lua_isinteger(L, -2)) {      /* type check first: no string coercion */
			i = lua_tointeger(L, -2);
			if (nint == 0 || i < imin)
				imin = i;
			if (nint == 0 || i > imax)
				imax = i;
			nint++;
			lua_pop(L, 1);                  /* vals.. k */
		} else {
			lconv_fail_key(c, -2);
			goto fail;
		}
		if (!lua_checkstack(L, 2))
			goto nomem;
	}                                               /* vals.. */
	nstr = c->nkeys - keybase;

	if (nstr && (marked || nint)) {
		/* name the smallest string key, so the message is the same every run */
		const struct lconv_key *k = &c->keys[keybase];
		for (j = 1; j < nstr; j++)
			if (lconv_key_cmp(&c->keys[keybase + j], k) < 0)
				k = &c->keys[keybase + j];
		lconv_fail_mixed(c, marked, imin, k->s, k->len);
		goto fail;
	}

	if (marked || nint) {
		if (nint && (imin < 1 || imax != nint)) {
			lconv_fail(c, -OG_EINVAL, c->depth,
			    "an array needs exactly the keys 1..n: fill holes with og.null, or use string keys",
			    "a sparse array (%lld integer keys, from %lld to %lld) to JSON",
			    (long long)nint, (long long)imin, (long long)imax);
			goto fail;
		}
		if (c->text)
			og_json_out_raw(c->text, "[", 1);
		else if (!(out = cJSON_CreateArray()))
			goto nomem;
		lv->key = NULL;
		for (i = 1; i <= nint; i++) {
			lv->index = i;
			lua_rawgeti(L, t, i);           /* v */
			if (c->text && i > 1)
				og_json_out_raw(c->text, ",", 1);
			c->depth++;
			item = lconv_value(c, lua_gettop(L));
			c->depth--;
			lua_pop(L, 1);                  /* */
			if (!item)
				goto fail;
			if (!c->text)
				cJSON_AddItemToArray(out, item); /* cannot fail: both are non-NULL */
		}
		if (c->text) {
			og_json_out_raw(c->text, "]", 1);
			out = &lconv_printed;
		}
		goto done;
	}

	if (c->text)
		og_json_out_raw(c->text, "{", 1);
	else if (!(out = cJSON_CreateObject()))
		goto nomem;
	lconv_sort_keys(&c->keys[keybase], nstr);
	for (j = 0; j < nstr; j++) {
		/* index, not pointer: a child may move c->keys when it grows it */
		lv->key = c->keys[keybase + j].s;
		lv->keylen = c->keys[keybase + j].len;
		if (c->text) {
			if (j)
				og_json_out_raw(c->text, ",", 1);
			og_json_out_string(c->text, lv->key);	/* NUL-free, checked above */
			og_json_out_raw(c->text, ":", 1);
		}
		c->depth++;
		item = lconv_value(c, c->keys[keybase + j].slot);
		c->depth--;
		if (!item)
			goto fail;
		if (!c->text && !cJSON_AddItemToObject(out, lv->key, item)) { /* copies the key */
			cJSON_Delete(item);
			goto nomem;
		}
	}
	if (c->text) {
		og_json_out_raw(c->text, "}", 1);
		out = &lconv_printed;
	}
done:
	lua_settop(L, base);
	c->nkeys = keybase;
	return out;

nomem:
	lconv_nomem(c);
fail:
	if (out != &lconv_printed)
		cJSON_Delete(out);
	lua_settop(L, base);
	c->nkeys = keybase;
	return NULL;
}

/* lconv_value's text mode for what is not a table: printed as og_json_print
 * prints the node lconv_value would make. [-0, +0, -] */
static cJSON *lconv_print_scalar(struct lconv_ctx *c, int idx)
{
	lua_State *L = c->L;
	struct og_json_out *o = c->text;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		og_json_out_raw(o, "null", 4);
		break;
	case LUA_TBOOLEAN:
		if (lua_toboolean(L, idx))
			og_json_out_raw(o, "true", 4);
		else
			og_json_out_raw(o, "false", 5);
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			og_json_out_number(o, (double)lua_tointeger(L, idx));
		} else {
			double d = lua_tonumber(L, idx);
			if (!isfinite(d))
				return lconv_fail(c, -OG_EINVAL, c->depth,
				    "JSON has no NaN or infinity; use og.null or a string",
				    "%s to JSON", isnan(d) ? "NaN" : d > 0 ? "inf" : "-inf");
			og_json_out_number(o, d);
		}
		break;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		if (memchr(s, '\0', len))
			return lconv_fail(c, -OG_EINVAL, c->depth,
			    "encode binary data, e.g. as hex or base64",
			    "a string containing a NUL byte to JSON");
		og_json_out_string(o, s);
		break;
	}
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == NULL) {   /* og.null */
			og_json_out_raw(o, "null", 4);
			break;
		}
		/* fall through */
	default:
		return lconv_fail(c, -OG_EINVAL, c->depth,
		    "only tables, strings, numbers, booleans and og.null convert",
		    "a %s to JSON", luaL_typename(L, idx));
	}
	return o->failed ? lconv_nomem(c) : &lconv_printed;
}

/* [-0, +0, -]  idx is an absolute index. */
static cJSON *lconv_value(struct lconv_ctx *c, int idx)
{
	lua_State *L = c->L;
	cJSON *out;

	if (c->text && lua_type(L, idx) != LUA_TTABLE)
		return lconv_print_scalar(c, idx);
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		out = cJSON_CreateNull();
		break;
	case LUA_TBOOLEAN:
		out = cJSON_CreateBool(lua_toboolean(L, idx));
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			out = cJSON_CreateNumber((double)lua_tointeger(L, idx));
		} else {
			double d = lua_tonumber(L, idx);
			if (!isfinite(d))
				return lconv_fail(c, -OG_EINVAL, c->depth,
				    "JSON has no NaN or infinity; use og.null or a string",
				    "%s to JSON", isnan(d) ? "NaN" : d > 0 ? "inf" : "-inf");
			out = cJSON_CreateNumber(d);
		}
		break;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		if (memchr(s, '\0', len))
			return lconv_fail(c, -OG_EINVAL, c->depth,
			    "encode binary data, e.g. as hex or base64",
			    "a string containing a NUL byte to JSON");
		out = cJSON_CreateString(s);
		break;
	}
	case LUA_TTABLE:
		return lconv_table(c, idx);
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == NULL) {   /* og.null */
			out = cJSON_CreateNull();
			break;
		}
		/* fall through */
	default:
		return lconv_fail(c, -OG_EINVAL, c->depth,
		    "only tables, strings, numbers, booleans and og.null convert",
		    "a %s to JSON", luaL_typename(L, idx));
	}
	if (!out)
		return lconv_nomem(c);
	return out;
}

/* [-0, +0, -] text: NULL for a tree, else text mode */
static cJSON *lconv_run(lua_State *L, int idx, const char *what, struct og_json_out *text, struct og_err *err)
{
	struct lconv_ctx c;
	int top = lua_gettop(L);
	cJSON *out;

	idx = lua_absindex(L, idx);
	c.text = text;
	c.L = L;
	c.err = err;
	c.what = what && *what ? what : NULL;
	c.mt = 0;
	c.depth = 0;
	c.keys = c.inline_keys;
	c.nkeys = 0;
	c.capkeys = LCONV_INLINE_KEYS;
	if (lua_type(L, idx) == LUA_TTABLE) {
		if (!lua_checkstack(L, 1))
			return lconv_nomem(&c);
		/* looked up once per call, compared by identity per table */
		if (lua_rawgetp(L, LUA_REGISTRYINDEX, &lconv_array_key) == LUA_TTABLE)
			c.mt = lua_gettop(L);
	}
	out = lconv_value(&c, idx);
	lua_settop(L, top);
	if (c.keys != c.inline_keys)
		free(c.keys);
	return out;
}

/* [-0, +0, -] */
cJSON *og_lconv_to_json(lua_State *L, int idx, const char *what, struct og_err *err)
{
	return lconv_run(L, idx, what, NULL, err);
}

/* [-0, +0, -] */
char *og_lconv_to_json_text(lua_State *L, int idx, const char *what, size_t *len, struct og_err *err)
{
	struct og_json_out o = { 0 };
	char *text;

	if (!lconv_run(L, idx, what, &o, err)) {
		free(o.p);
		return NULL;
	}
	if (!(text = og_json_out_finish(&o, len)))
		og_err_set(err, -OG_ENOMEM, "out of memory converting %s to JSON", what && *what ? what : "a value");
	return text;
}

void og_lconv_push_utf8(lua_State *L, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	luaL_Buffer b;
	size_t i = 0, run = 0;

	while (run < n && u[run] && u[run] < 0x80)	/* the common case: plain ASCII */
		run++;
	if (run == n) {
		lua_pushlstring(L, s, n);
		return;
	}
	luaL_buffinit(L, &b);
	while (i < n) {
		size_t len = og_utf8_seq_len(u + i, n - i);

		if (len) {
			luaL_addlstring(&b, s + i, len);
			i += len;
		} else {
			luaL_addstring(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	luaL_pushresult(&b);
}
