/*
 * lapi_http.c: ctx.http, the nodes' HTTP client (engine/net/http_client.h
 * does the transfer).
 *
 *   ctx.http.request{ method=, url=, headers={...}, body=, query={...}, timeout_ms=,
 *                     connect_timeout_ms=, max_bytes=, follow_redirects=, proxy= }
 *   ctx.http.get(url [, opts])
 *   ctx.http.post_json(url, value [, opts])
 *   ctx.http.get_many({ {url=, ...}, ... } [, { parallel = N }])
 *
 * Each returns the response table { status, headers (lower-cased names),
 * body, duration_ms } for any HTTP status, or nil, message, kind when the
 * transfer failed (kind: timeout, connect, dns, too_large, invalid, tls,
 * other). get, post_json and get_many also decode a JSON response (content-type
 * application/json or any type ending in +json) into response.json, or set
 * response.json_error when it does not parse. Bad arguments (types, unknown
 * options, out-of-range numbers) raise.
 *
 * get_many performs 1..64 requests (each a table of ctx.http.request's
 * options; method GET unless given) concurrently, at most `parallel` at once
 * (default 8, 1..32; engine/net/http_client.h og_http_request_many), and
 * returns an array in request order: each element the response as get
 * returns it, or { error = message, kind = kind } for a failed transfer.
 * The bodies of a batch together are capped at the memory budget left to
 * the node (a transfer that would go over fails as too_large): a batch
 * never holds 64 times max_bytes in C memory.
 * All arguments are checked before any request is sent. Each outcome is
 * journaled as its own "http" entry in request order, as request journals
 * one; a re-run replays the recorded ones and performs the rest.
 *
 * The call blocks the node; it runs no VM instructions, so its wall time
 * counts against no budget. The body is copied into Lua and counts against
 * the memory budget. Every outcome is journaled under kind "http" (the
 * response, or {ok=false, err, kind}), so a node re-run after an interrupt
 * gets the recorded answer back and the server sees one request. A body that
 * is not UTF-8 text (or holds NUL) is journaled as base64 (body_b64).
 *
 * C memory that must not leak when Lua raises (the C response, a cJSON
 * tree, printed JSON) is held by a "box" userdata whose __gc frees it.
 */
#include "lvm_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "../core/json.h"
#include "../core/utf8.h"
#include "../net/http_client.h"
#include "lconv.h"

/* ---- boxes: C memory owned by a userdata ---------------------------------- */

struct box {
	void *p;
	void (*free_fn)(void *);
};

static const char box_mt_key;

static int box_gc(lua_State *L)
{
	struct box *b = lua_touserdata(L, 1);

	if (b && b->p) {
		b->free_fn(b->p);
		b->p = NULL;
	}
	return 0;
}

/* [-0, +1, m] a new empty box */
static struct box *box_push(lua_State *L, void (*free_fn)(void *))
{
	struct box *b = lapi_push_gc_box(L, sizeof(*b), box_gc, &box_mt_key);

	b->free_fn = free_fn;
	return b;
}

/* frees now what the box holds */
static void box_empty(struct box *b)
{
	if (b->p) {
		b->free_fn(b->p);
		b->p = NULL;
	}
}

static void free_response(void *p)
{
	og_http_response_release(p);
	free(p);
}

static void free_cjson(void *p)
{
	cJSON_Delete(p);
}

/* ---- arguments --------------------------------------------------------------- */

static const char *const opt_names[] = {
	"method", "url", "headers", "body", "query", "timeout_ms", "connect_timeout_ms",
	"max_bytes", "follow_redirects", "proxy", NULL
};

enum { OPT_METHOD, OPT_URL, OPT_HEADERS, OPT_BODY, OPT_QUERY, OPT_TIMEOUT, OPT_CONNECT_TIMEOUT,
       OPT_MAX_BYTES, OPT_FOLLOW, OPT_PROXY };

struct call {
	const char *fname;		/* "ctx.http.request", for messages */
	unsigned not_allowed;		/* 1 << OPT_*: options the convenience call sets itself */
	struct og_http_request req;
	struct og_http_pair *headers;	/* in a userdata on the stack */
	struct og_http_pair *query;	/* idem */
	int anchor;			/* a table on the stack keeping strings alive */
	int nanchor;
	bool json;			/* decode a JSON response */
	bool has_ct, has_accept;	/* the caller set content-type / accept */
};

/* [-1, +0, -] moves the string on top into the anchor; returns it */
static const char *anchor(lua_State *L, struct call *c)
{
	const char *s = lua_tostring(L, -1);

	lua_rawseti(L, c->anchor, ++c->nanchor);
	return s;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, row[32];

	if (la >= 31 || lb >= 31)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], tmp;
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

/* raises "unknown option 'x' (did you mean y?)" */
static int unknown_option(lua_State *L, const struct call *c, const char *name)
{
	const char *best = NULL;
	size_t bestd = 3, d, n = strlen(name);
	int i;

	for (i = 0; opt_names[i]; i++) {
		if (c->not_allowed & (1u << i))
			continue;
		if (n >= 3 && (!strncasecmp(opt_names[i], name, n) || !strncasecmp(name, opt_names[i], strlen(opt_names[i])))) {
			best = opt_names[i];
			break;
		}
		if ((d = edit_distance(name, opt_names[i])) < bestd) {
			bestd = d;
			best = opt_names[i];
		}
	}
	if (best)
		return luaL_error(L, "%s: unknown option '%s' (did you mean %s?)", c->fname, name, best);
	return luaL_error(L, "%s: unknown option '%s' (known: method, url, headers, body, query, timeout_ms, "
			  "connect_timeout_ms, max_bytes, follow_redirects, proxy)", c->fname, name);
}

static int64_t int_opt(lua_State *L, const struct call *c, int idx, const char *name, int64_t lo, int64_t hi)
{
	int isint = 0;
	lua_Integer v = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &isint) : 0;

	if (!isint)
		luaL_error(L, "%s: %s must be an integer number of %s (got %s)", c->fname, name,
			   strstr(name, "_ms") ? "milliseconds" : "bytes",
			   lua_type(L, idx) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, idx));
	if (v < lo || v > hi)
		luaL_error(L, "%s: %s must be between %I and %I (got %I)", c->fname, name, (lua_Integer)lo,
			   (lua_Integer)hi, v);
	return v;
}

/* a string, or a number/boolean made into one, for query values */
static const char *scalar(lua_State *L, struct call *c, int idx, const char *what, const char *key)
{
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
	case LUA_TNUMBER:
		lua_pushvalue(L, idx);
		lua_tostring(L, -1);		/* converts the copy */
		return anchor(L, c);
	case LUA_TBOOLEAN:
		lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
		return anchor(L, c);
	default:
		luaL_error(L, "%s: %s['%s'] must be a string, number or boolean (got %s)", c->fname, what, key,
			   luaL_typename(L, idx));
		return NULL;
	}
}

/* [-0, +0, e] headers = { ["Name"] = "value" } */
static void parse_headers(lua_State *L, struct call *c, int t)
{
	size_t n = 0, cap;

	if (!lua_istable(L, t))
		luaL_error(L, "%s: headers must be a table of name = value (got %s)", c->fname, luaL_typename(L, t));
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		n++;
	}
	if (n > 200)
		luaL_error(L, "%s: %d headers is too many (at most 200)", c->fname, (int)n);
	cap = n + 2;				/* room for post_json's content-type and accept */
	c->headers = lua_newuserdatauv(L, cap * sizeof(*c->headers), 0);
	lua_rawseti(L, c->anchor, ++c->nanchor);
	n = 0;
	lua_pushnil(L);
	while (lua_next(L, t)) {		/* key value */
		const char *name, *value;
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "%s: header names must be strings (got a %s key)", c->fname,
				   luaL_typename(L, -2));
		name = lua_tostring(L, -2);
		if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
			luaL_error(L, "%s: headers['%s'] must be a string (got %s)", c->fname, name,
				   luaL_typename(L, -1));
		lua_tostring(L, -1);		/* a number becomes a string in place: the table's copy is untouched */
		value = anchor(L, c);		/* pops the value */
		if (!strcasecmp(name, "content-type"))
			c->has_ct = true;
		if (!strcasecmp(name, "accept"))
			c->has_accept = true;
		c->headers[n].name = name;	/* the key stays alive in the table */
		c->headers[n++].value = value;
	}
	c->req.headers = c->headers;
	c->req.nheaders = n;
}

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const struct og_http_pair *)a)->name, ((const struct og_http_pair *)b)->name);
}

/* [-0, +0, e] query = { k = v | {v1, v2} }: sorted by key, lists repeat the key */
static void parse_query(lua_State *L, struct call *c, int t)
{
	size_t n = 0, i = 0;

	if (!lua_istable(L, t))
		luaL_error(L, "%s: query must be a table of key = value (got %s)", c->fname, luaL_typename(L, t));
	lua_pushnil(L);
	while (lua_next(L, t)) {
		n += lua_istable(L, -1) ? lua_rawlen(L, -1) : 1;
		lua_pop(L, 1);
	}
	if (n > 1000)
		luaL_error(L, "%s: %d query parameters is too many (at most 1000)", c->fname, (int)n);
	c->query = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*c->query), 0);
	lua_rawseti(L, c->anchor, ++c->nanchor);
	lua_pushnil(L);
	while (lua_next(L, t)) {		/* key value */
		const char *k;
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "%s: query keys must be strings (got a %s key)", c->fname, luaL_typename(L, -2));
		k = lua_tostring(L, -2);
		if (lua_istable(L, -1)) {
			lua_Integer j, len = (lua_Integer)lua_rawlen(L, -1);
			for (j = 1; j <= len && i < n; j++) {
				lua_rawgeti(L, -1, j);
				c->query[i].name = k;
				c->query[i++].value = scalar(L, c, lua_gettop(L), "query", k);
				lua_pop(L, 1);
			}
		} else if (i < n) {
			c->query[i].name = k;
			c->query[i++].value = scalar(L, c, lua_gettop(L), "query", k);
		}
		lua_pop(L, 1);
	}
	/* stable order: same key order on every run, values of a key in list order */
	if (i > 1) {
		/* qsort is not stable: sort (key, position) by giving each a unique rank */
		size_t a, b;
		for (a = 1; a < i; a++)		/* insertion sort: stable, and n is small */
			for (b = a; b > 0 && cmp_pair(&c->query[b - 1], &c->query[b]) > 0; b--) {
				struct og_http_pair tmp = c->query[b];
				c->query[b] = c->query[b - 1];
				c->query[b - 1] = tmp;
			}
	}
	c->req.query = c->query;
	c->req.nquery = i;
}

/* [-0, +0, e] reads the options table at idx into c (nil: none) */
static void parse_opts(lua_State *L, struct call *c, int idx)
{
	if (lua_isnoneornil(L, idx))
		return;
	if (!lua_istable(L, idx))
		luaL_error(L, "%s: options must be a table (got %s)", c->fname, luaL_typename(L, idx));
	lua_pushnil(L);
	while (lua_next(L, idx)) {		/* key value */
		int v = lua_gettop(L), o;
		const char *name;

		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "%s: option names must be strings (got a %s key)", c->fname, luaL_typename(L, -2));
		name = lua_tostring(L, -2);
		for (o = 0; opt_names[o] && strcmp(opt_names[o], name); o++)
			;
		if (!opt_names[o])
			unknown_option(L, c, name);
		if (c->not_allowed & (1u << o))
			luaL_error(L, "%s: option '%s' is not allowed here (%s)", c->fname, name,
				   o == OPT_URL ? "the URL is the first argument" :
				   o == OPT_BODY && c->json && c->req.body ? "the body is the encoded second argument" :
				   "use ctx.http.request for that");
		switch (o) {
		case OPT_METHOD: {
			char m[16];
			size_t len, i;
			const char *s;
			if (lua_type(L, v) != LUA_TSTRING)
				luaL_error(L, "%s: method must be a string such as \"GET\" (got %s)", c->fname,
					   luaL_typename(L, v));
			s = lua_tolstring(L, v, &len);
			for (i = 0; i < len && i < sizeof(m) - 1; i++)
				m[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
			m[i] = '\0';
			if (len >= sizeof(m) || (strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "POST") &&
			    strcmp(m, "PUT") && strcmp(m, "PATCH") && strcmp(m, "DELETE") && strcmp(m, "OPTIONS")))
				luaL_error(L, "%s: method '%s' is not supported (use GET, HEAD, POST, PUT, PATCH, "
					   "DELETE or OPTIONS)", c->fname, s);
			lua_pushstring(L, m);
			c->req.method = anchor(L, c);
			break;
		}
		case OPT_URL:
			if (lua_type(L, v) != LUA_TSTRING)
				luaL_error(L, "%s: url must be a string (got %s)", c->fname, luaL_typename(L, v));
			c->req.url = lua_tostring(L, v);
			break;
		case OPT_HEADERS:
			parse_headers(L, c, v);
			break;
		case OPT_BODY:
			if (lua_type(L, v) != LUA_TSTRING)
				luaL_error(L, "%s: body must be a string (got %s; use ctx.http.post_json for JSON, "
					   "or ctx.json.encode)", c->fname, luaL_typename(L, v));
			c->req.body = lua_tolstring(L, v, &c->req.body_len);
			break;
		case OPT_QUERY:
			parse_query(L, c, v);
			break;
		case OPT_TIMEOUT:
			c->req.timeout_ms = (long)int_opt(L, c, v, "timeout_ms", 1, OG_HTTP_TIMEOUT_MAX_MS);
			break;
		case OPT_CONNECT_TIMEOUT:
			c->req.connect_timeout_ms = (long)int_opt(L, c, v, "connect_timeout_ms", 1, OG_HTTP_TIMEOUT_MAX_MS);
			break;
		case OPT_MAX_BYTES:
			c->req.max_bytes = (size_t)int_opt(L, c, v, "max_bytes", 1, OG_HTTP_MAX_BYTES_LIMIT);
			break;
		case OPT_FOLLOW:
			if (!lua_isboolean(L, v))
				luaL_error(L, "%s: follow_redirects must be true or false (got %s)", c->fname,
					   luaL_typename(L, v));
			c->req.follow_redirects = lua_toboolean(L, v);
			break;
		case OPT_PROXY:
			if (lua_type(L, v) != LUA_TSTRING)
				luaL_error(L, "%s: proxy must be a string such as \"http://proxy:3128\" (got %s)",
					   c->fname, luaL_typename(L, v));
			c->req.proxy = lua_tostring(L, v);
			break;
		}
		lua_settop(L, v - 1);		/* key */
	}
}

/* ---- base64, for bodies that are not text ------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* [-0, +1, m] */
static void push_base64(lua_State *L, const unsigned char *s, size_t n)
{
	luaL_Buffer b;
	size_t i;

	luaL_buffinit(L, &b);
	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? s[i + 2] : 0);
		luaL_addchar(&b, b64[v >> 18 & 63]);
		luaL_addchar(&b, b64[v >> 12 & 63]);
		luaL_addchar(&b, i + 1 < n ? b64[v >> 6 & 63] : '=');
		luaL_addchar(&b, i + 2 < n ? b64[v & 63] : '=');
	}
	luaL_pushresult(&b);
}

/* [-0, +1, m] decodes; stops at the first character that is not base64 */
static void push_unbase64(lua_State *L, const char *s, size_t n)
{
	luaL_Buffer b;
	uint32_t acc = 0;
	int bits = 0;
	size_t i;

	luaL_buffinit(L, &b);
	for (i = 0; i < n; i++) {
		const char *p = s[i] ? strchr(b64, s[i]) : NULL;
		if (!p)
			break;
		acc = acc << 6 | (uint32_t)(p - b64);
		if ((bits += 6) >= 8) {
			bits -= 8;
			luaL_addchar(&b, (char)(acc >> bits & 0xff));
		}
	}
	luaL_pushresult(&b);
}

/* valid UTF-8 without NUL: can go into the JSON journal as it is */
static bool is_text(const unsigned char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		if (!(len = og_utf8_seq_len(s + i, n - i)))
			return false;
		i += len;
	}
	return true;
}

/* ---- the call ---------------------------------------------------------------- */

/* the journal's name of a request: "GET http://host/path" (no query, no secrets) */
static void request_name(const struct call *c, char *out, size_t cap)
{
	char u[256];

	snprintf(out, cap, "%s %s", c->req.method ? c->req.method : "GET",
		 og_http_url_redact(c->req.url, u, sizeof(u)));
}

static bool is_json_type(const char *ct)
{
	size_t n;
	const char *slash;

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	n = strcspn(ct, "; ");
	if (!(slash = memchr(ct, '/', n)))
		return false;
	n -= (size_t)(slash + 1 - ct);
	slash++;
	return (n == 4 && !strncasecmp(slash, "json", 4)) || (n > 5 && !strncasecmp(slash + n - 5, "+json", 5));
}

/* [-0, +0, e] response at idx: sets json, or json_error, when the
 * content-type is JSON */
static void decode_json(lua_State *L, int idx)
{
	int top = lua_gettop(L);
	const char *body, *end = NULL;
	struct box *b;
	size_t len;

	idx = lua_absindex(L, idx);
	lua_getfield(L, idx, "headers");
	if (!lua_istable(L, -1) || lua_getfield(L, -1, "content-type") != LUA_TSTRING ||
	    !is_json_type(lua_tostring(L, -1)) || lua_getfield(L, idx, "body") != LUA_TSTRING) {
		lua_settop(L, top);
		return;
	}
	body = lua_tolstring(L, -1, &len);
	b = box_push(L, free_cjson);
	if (!(b->p = cJSON_ParseWithLengthOpts(body, len, &end, 0))) {
		lua_pushfstring(L, "invalid JSON near byte %d", end ? (int)(end - body) : 0);
		lua_setfield(L, idx, "json_error");
	} else {
		lua_pushcfunction(L, lapi_push_json_protected);
		lua_pushlightuserdata(L, b->p);
		/* protected: a tree nested too deep raises; it becomes json_error */
		int ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
		lua_setfield(L, idx, ok ? "json" : "json_error");
	}
	box_empty(b);
	lua_settop(L, top);
}

/* [-0, +1, m] the response table of res */
static void push_response(lua_State *L, const struct og_http_response *res)
{
	size_t i;

	lua_createtable(L, 0, 6);
	lua_pushinteger(L, res->status);
	lua_setfield(L, -2, "status");
	lua_createtable(L, 0, (int)res->nheaders);
	for (i = 0; i < res->nheaders; i++) {
		lua_pushstring(L, res->headers[i].value);
		lua_setfield(L, -2, res->headers[i].name);
	}
	lua_setfield(L, -2, "headers");
	lua_pushlstring(L, res->body ? res->body : "", res->body_len);
	lua_setfield(L, -2, "body");
	lua_pushinteger(L, (lua_Integer)res->duration_ms);
	lua_setfield(L, -2, "duration_ms");
}

/* [-0, +0, m] journals the response table at idx */
static void record_response(lua_State *L, int idx, const char *reqname)
{
	size_t len;
	const char *body;

	idx = lua_absindex(L, idx);
	lua_createtable(L, 0, 6);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "ok");
	lua_pushstring(L, reqname);
	lua_setfield(L, -2, "req");
	lua_getfield(L, idx, "status");
	lua_setfield(L, -2, "status");
	lua_getfield(L, idx, "headers");
	lua_setfield(L, -2, "headers");
	lua_getfield(L, idx, "duration_ms");
	lua_setfield(L, -2, "duration_ms");
	lua_getfield(L, idx, "body");
	body = lua_tolstring(L, -1, &len);
	if (is_text((const unsigned char *)body, len)) {
		lua_setfield(L, -2, "body");
	} else {
		push_base64(L, (const unsigned char *)body, len);
		lua_setfield(L, -3, "body_b64");
		lua_pop(L, 1);
	}
	lapi_journal_record(L, "http", -1);
	lua_pop(L, 1);
}

/* [-0, +3, m] nil, msg, kind; journaled */
static int push_failure(lua_State *L, const char *msg, const char *kind, const char *reqname, bool record)
{
	if (record) {
		lua_createtable(L, 0, 4);
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "ok");
		lua_pushstring(L, reqname);
		lua_setfield(L, -2, "req");
		lua_pushstring(L, msg);
		lua_setfield(L, -2, "err");
		lua_pushstring(L, kind);
		lua_setfield(L, -2, "kind");
		lapi_journal_record(L, "http", -1);
		lua_pop(L, 1);
	}
	luaL_pushfail(L);
	lua_pushstring(L, msg);
	lua_pushstring(L, kind);
	return 3;
}

/* [-1, +(1|3), e] the recorded entry on top, as the call's results */
static int replay(lua_State *L, const struct call *c, const char *reqname)
{
	int e = lua_gettop(L);
	const char *was;

	if (!lua_istable(L, e))
		return luaL_error(L, "%s: the journal entry of this call is damaged (not a table)", c->fname);
	lua_getfield(L, e, "req");
	was = lua_tostring(L, -1);
	if (was && strcmp(was, reqname))
		return luaL_error(L, "%s re-ran differently: this ctx.http call was %s, now it is %s; a node must "
				  "make the same ctx calls in the same order when it re-runs after an interrupt "
				  "(move the varying part after og.interrupt or into another node)",
				  lvm_from(L)->what, was, reqname);
	lua_pop(L, 1);
	lua_getfield(L, e, "ok");
	if (!lua_toboolean(L, -1)) {
		lua_getfield(L, e, "err");		/* e ok err */
		lua_getfield(L, e, "kind");		/* e ok err kind */
		luaL_pushfail(L);
		lua_pushstring(L, lua_type(L, e + 2) == LUA_TSTRING ? lua_tostring(L, e + 2) : "recorded failure");
		lua_pushstring(L, lua_type(L, e + 3) == LUA_TSTRING ? lua_tostring(L, e + 3) : "other");
		return 3;
	}
	lua_pop(L, 1);
	lua_createtable(L, 0, 6);			/* e resp */
	lua_getfield(L, e, "status");
	lua_setfield(L, -2, "status");
	if (lua_getfield(L, e, "headers") != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
	}
	lua_setfield(L, -2, "headers");
	if (lua_getfield(L, e, "body") != LUA_TSTRING) {
		size_t n;
		const char *s;
		lua_pop(L, 1);
		lua_getfield(L, e, "body_b64");
		s = lua_tolstring(L, -1, &n);
		push_unbase64(L, s ? s : "", s ? n : 0);
		lua_remove(L, -2);
	}
	lua_setfield(L, -2, "body");
	lua_getfield(L, e, "duration_ms");
	lua_setfield(L, -2, "duration_ms");
	if (c->json)
		decode_json(L, lua_gettop(L));
	return 1;
}

/* [-0, +(1|3), e] performs c (arguments parsed), or replays it */
static int perform(lua_State *L, struct call *c)
{
	struct og_err err = { 0 };
	struct og_http_response *res;
	char reqname[300];
	struct box *b;
	int rc;

	if (!c->req.url)
		return luaL_error(L, "%s: url is required (url = \"http://host:port/path\")", c->fname);
	request_name(c, reqname, sizeof(reqname));
	if (lapi_journal_replay(L, "http"))
		return replay(L, c, reqname);
	b = box_push(L, free_response);
	if (!(res = calloc(1, sizeof(*res))))
		return luaL_error(L, "%s: out of memory", c->fname);
	b->p = res;
	/* no Lua runs from here to the end of the transfer: the borrowed
	 * strings of c->req stay where they are */
	rc = og_http_request(&c->req, res, &err);
	if (rc) {
		const char *kind = og_http_fail_name(res->fail);
		box_empty(b);
		return push_failure(L, err.msg, kind, reqname, true);
	}
	push_response(L, res);
	box_empty(b);
	record_response(L, -1, reqname);
	if (c->json)
		decode_json(L, lua_gettop(L));
	return 1;
}

/* [-0, +1, m] c set up, with its anchor table pushed */
static void call_init(lua_State *L, struct call *c, const char *fname)
{
	memset(c, 0, sizeof(*c));
	c->fname = fname;
	lua_newtable(L);
	c->anchor = lua_gettop(L);
}

/* ctx.http.request(opts) -> response | nil, err, kind */
static int lapi_http_request(lua_State *L)
{
	struct call c;

	if (!lua_istable(L, 1))
		return luaL_error(L, "ctx.http.request: expects a table such as { url = \"http://...\", "
				  "method = \"GET\" } (got %s)", luaL_typename(L, 1));
	lua_settop(L, 1);
	call_init(L, &c, "ctx.http.request");
	parse_opts(L, &c, 1);
	return perform(L, &c);
}

/* ctx.http.get(url [, opts]) -> response (with json) | nil, err, kind */
static int lapi_http_get(lua_State *L)
{
	struct call c;

	lua_settop(L, 2);
	call_init(L, &c, "ctx.http.get");
	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_error(L, "ctx.http.get: the first argument must be the URL string (got %s)",
				  luaL_typename(L, 1));
	c.req.url = lua_tostring(L, 1);
	c.req.method = "GET";
	c.not_allowed = 1u << OPT_URL | 1u << OPT_METHOD | 1u << OPT_BODY;
	c.json = true;
	parse_opts(L, &c, 2);
	return perform(L, &c);
}

/* ctx.http.post_json(url, value [, opts]) -> response (with json) | nil, err, kind */
static int lapi_http_post_json(lua_State *L)
{
	struct og_err err = { 0 };
	struct call c;
	struct box *b;
	cJSON *v;
	char *text;
	size_t len;

	lua_settop(L, 3);
	call_init(L, &c, "ctx.http.post_json");
	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_error(L, "ctx.http.post_json: the first argument must be the URL string (got %s)",
				  luaL_typename(L, 1));
	c.req.url = lua_tostring(L, 1);
	c.req.method = "POST";
	c.not_allowed = 1u << OPT_URL | 1u << OPT_METHOD | 1u << OPT_BODY;
	c.json = true;
	b = box_push(L, free);
	if (!(v = og_lconv_to_json(L, 2, "body", &err)))
		return luaL_error(L, "ctx.http.post_json: %s", err.msg);
	text = og_json_print(v, &len);
	cJSON_Delete(v);
	if (!(b->p = text))
		return luaL_error(L, "ctx.http.post_json: out of memory encoding the body");
	lua_pushlstring(L, text, len);
	box_empty(b);
	c.req.body = anchor(L, &c);
	c.req.body_len = len;
	parse_opts(L, &c, 3);
	if (!c.headers) {
		c.headers = lua_newuserdatauv(L, 2 * sizeof(*c.headers), 0);
		lua_rawseti(L, c.anchor, ++c.nanchor);
		c.req.headers = c.headers;
	}
	if (!c.has_ct)
		c.headers[c.req.nheaders++] = (struct og_http_pair){ "Content-Type", "application/json" };
	if (!c.has_accept)
		c.headers[c.req.nheaders++] = (struct og_http_pair){ "Accept", "application/json" };
	return perform(L, &c);
}

/* ---- many requests at once ------------------------------------------------------ */

#define GET_MANY_MAX 64			/* requests in one ctx.http.get_many */

/* the C side of one get_many batch, owned by a box */
struct batch {
	size_t n;
	struct og_http_request *reqs;
	struct og_http_response *res;
	struct og_err *errs;
};

static void free_batch(void *p)
{
	struct batch *bt = p;
	size_t i;

	for (i = 0; i < bt->n; i++)
		og_http_response_release(&bt->res[i]);
	free(bt->reqs);
	free(bt->res);
	free(bt->errs);
	free(bt);
}

/* [-3, +1, m] nil, msg, kind on top become { error = msg, kind = kind } */
static void failure_to_table(lua_State *L)
{
	lua_createtable(L, 0, 2);		/* nil msg kind t */
	lua_rotate(L, -4, 1);			/* t nil msg kind */
	lua_setfield(L, -4, "kind");
	lua_setfield(L, -3, "error");
	lua_pop(L, 1);
}

/* [-0, +0, e] opts = { parallel = N }: N, or 0 for the default */
static int many_parallel(lua_State *L, int idx)
{
	int parallel = 0;

	if (lua_isnoneornil(L, idx))
		return 0;
	if (!lua_istable(L, idx))
		luaL_error(L, "ctx.http.get_many: the second argument must be an options table such as "
			   "{ parallel = 4 } (got %s)", luaL_typename(L, idx));
	lua_pushnil(L);
	while (lua_next(L, idx)) {		/* key value */
		if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "parallel"))
			luaL_error(L, "ctx.http.get_many: unknown option '%s' in opts (known: parallel; the "
				   "request options go into each request's table)",
				   lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2));
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > OG_HTTP_PARALLEL_MAX)
			luaL_error(L, "ctx.http.get_many: opts: parallel must be a whole number of transfers from 1 to %d "
				   "(got %s)", OG_HTTP_PARALLEL_MAX, luaL_tolstring(L, -1, NULL));
		parallel = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	return parallel;
}

/* ctx.http.get_many(requests [, opts]) -> { response | { error, kind }, ... } */
static int lapi_http_get_many(lua_State *L)
{
	struct og_lvm *vm;
	struct call *calls;
	struct batch *bt;
	struct box *b;
	lua_Integer n, i, k;
	int parallel, out, first;
	char reqname[300];

	lua_settop(L, 2);
	if (!lua_istable(L, 1))
		return luaL_error(L, "ctx.http.get_many: expects an array of request tables such as "
				  "{ { url = \"http://...\" }, ... } (got %s)", luaL_typename(L, 1));
	n = (lua_Integer)lua_rawlen(L, 1);
	if (n < 1 || n > GET_MANY_MAX)
		return luaL_error(L, "ctx.http.get_many: give 1 to %d requests (got %I); split longer lists",
				  GET_MANY_MAX, n);
	lua_pushnil(L);
	for (k = 0; lua_next(L, 1); k++)
		lua_pop(L, 1);
	if (k != n)
		return luaL_error(L, "ctx.http.get_many: requests must be an array { {...}, {...} } without other "
				  "keys or holes (it has %I entries, %I in sequence)", k, n);
	parallel = many_parallel(L, 2);
	/* each request keeps its table, its name for messages and its anchor on the stack */
	if (!lua_checkstack(L, (int)(3 * n + 20)))
		return luaL_error(L, "ctx.http.get_many: out of stack space");
	calls = lua_newuserdatauv(L, (size_t)n * sizeof(*calls), 0);
	for (i = 0; i < n; i++) {
		int t;
		lua_rawgeti(L, 1, i + 1);
		t = lua_gettop(L);
		if (!lua_istable(L, t))
			return luaL_error(L, "ctx.http.get_many: requests[%I] must be a table such as "
					  "{ url = \"http://...\" } (got %s)", i + 1, luaL_typename(L, t));
		call_init(L, &calls[i], lua_pushfstring(L, "ctx.http.get_many: requests[%I]", i + 1));
		calls[i].json = true;
		parse_opts(L, &calls[i], t);
		if (!calls[i].req.url)
			return luaL_error(L, "%s: url is required (url = \"http://host:port/path\")", calls[i].fname);
	}
	lua_createtable(L, (int)n, 0);
	out = lua_gettop(L);

	/* a re-run gets the recorded outcomes back, as far as they were recorded */
	for (first = 0; first < n; first++) {
		int top = lua_gettop(L);
		request_name(&calls[first], reqname, sizeof(reqname));
		if (!lapi_journal_replay(L, "http"))
			break;
		if (replay(L, &calls[first], reqname) == 3)
			failure_to_table(L);
		lua_rawseti(L, out, first + 1);
		lua_settop(L, top);
	}
	if (first == n)
		return 1;

	/* the rest at once */
	b = box_push(L, free_batch);
	if (!(bt = calloc(1, sizeof(*bt))))
		return luaL_error(L, "ctx.http.get_many: out of memory");
	b->p = bt;
	bt->n = (size_t)(n - first);
	if (!(bt->reqs = calloc(bt->n, sizeof(*bt->reqs))) || !(bt->res = calloc(bt->n, sizeof(*bt->res))) ||
	    !(bt->errs = calloc(bt->n, sizeof(*bt->errs))))
		return luaL_error(L, "ctx.http.get_many: out of memory");
	for (i = first; i < n; i++)
		bt->reqs[i - first] = calls[i].req;
	/* no Lua runs until the batch has ended: the borrowed strings stay put.
	 * The bodies together get no more than the memory budget left: they are
	 * copied into Lua next, where more would raise anyway */
	vm = lvm_from(L);
	og_http_request_many(bt->reqs, bt->n, bt->res, parallel,
			     vm->mem_limit ? (vm->mem_limit > vm->mem_used ? vm->mem_limit - vm->mem_used : 1) : 0,
			     bt->errs);

	/* journaled one by one in request order, as ctx.http.request records them */
	for (i = first; i < n; i++) {
		struct og_http_response *res = &bt->res[i - first];
		request_name(&calls[i], reqname, sizeof(reqname));
		if (res->fail != OG_HTTP_OK) {
			push_failure(L, bt->errs[i - first].msg, og_http_fail_name(res->fail), reqname, true);
			failure_to_table(L);
		} else {
			push_response(L, res);
			og_http_response_release(res);	/* the copy in Lua is the one that counts */
			record_response(L, -1, reqname);
			decode_json(L, lua_gettop(L));
		}
		lua_rawseti(L, out, i + 1);
	}
	box_empty(b);
	lua_pushvalue(L, out);
	return 1;
}

#define LAPI_FN(ns, name) { #name, lapi_##ns##_##name }

static const luaL_Reg lapi_http_fns[] = {
	LAPI_FN(http, request),
	LAPI_FN(http, get),
	LAPI_FN(http, post_json),
	LAPI_FN(http, get_many),
	{ NULL, NULL }
};

/* [-0, +0, m] sets t.http, t being the table on top: the namespace, read-only */
void lapi_http_install(lua_State *L)
{
	luaL_newlib(L, lapi_http_fns);			/* t fns */
	lapi_push_readonly(L);				/* t view */
	lua_setfield(L, -2, "http");			/* t */
}
