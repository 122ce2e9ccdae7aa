/*
 * auth.c: who may act through the API. Operators hold tokens made by
 * `opsgraph token create NAME`; the database keeps only each token's
 * SHA-256 (store_lmdb_tokens.h). POST /api/login trades a token for a
 * session: a random id in an HttpOnly, SameSite=Strict cookie, and a CSRF
 * token in the answer's body that every later POST under /api/ must echo in
 * X-CSRF-Token. Sessions live in the database too (keyed by the SHA-256 of
 * their id), so a restart keeps them and `opsgraph token revoke` in another
 * process ends them at once: every check also looks the operator's token up
 * again and wants the very token the session was made from.
 *
 * Auth is on unless the server was started with --no-auth (or the config's
 * auth.required is false), which only a loopback listener accepts and the
 * log says loudly. auth.view "login" closes the GET endpoints too. The
 * Slack and Alertmanager webhooks are outside /api/ and keep their own
 * signatures; /healthz, /metrics and the static UI stay open.
 *
 * Everything here runs on the event loop: dispatch checks a request and
 * remembers its operator until the handler has taken it (auth_by).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../cli/cli.h"
#include "../core/clock.h"
#include "../core/json.h"
#include "../store/store_lmdb_tokens.h"
#include "server.h"

#define COOKIE "og_session"

struct srv_auth {
	bool on, view_login, secure;
	int ttl_s;
	char op[AUTH_NAME_MAX + 1];	/* the operator of the request being dispatched */
};

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = 0;
}

int auth_sha256_hex(const char *s, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) || n != 32)
		return -1;
	hex(md, 32, out);
	return 0;
}

int auth_random_hex(char *out, size_t bytes)
{
	unsigned char b[64];

	if (bytes > sizeof(b) || RAND_bytes(b, (int)bytes) != 1)
		return -1;
	hex(b, bytes, out);
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

bool auth_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > AUTH_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._@-", name[i]))
			return false;
	return true;
}

static bool loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

int auth_setup(struct srv *S, const cJSON *cfg)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, "auth"), *v;
	struct srv_auth *au;
	struct og_err err = { 0 };
	cJSON *toks = NULL;

	if (!(au = S->auth = calloc(1, sizeof(*au))))
		return cli_fail(1, "out of memory");
	au->on = !S->conf.no_auth;
	au->ttl_s = 12 * 3600;
	if (a && !cJSON_IsObject(a))
		return cli_fail(2, "%s: \"auth\" must be an object: {\"required\": true, \"view\": \"open\"|\"login\", "
				"\"session_hours\": 12, \"cookie_secure\": false}", S->conf.config);
	if ((v = cJSON_GetObjectItemCaseSensitive(a, "required"))) {
		if (!cJSON_IsBool(v))
			return cli_fail(2, "%s: auth.required must be true or false", S->conf.config);
		if (cJSON_IsFalse(v))
			au->on = false;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(a, "view"))) {
		if (!cJSON_IsString(v) || (strcmp(v->valuestring, "open") && strcmp(v->valuestring, "login")))
			return cli_fail(2, "%s: auth.view is \"open\" (anyone who reaches the server may look) or "
					"\"login\" (GET /api/* needs a session too)", S->conf.config);
		au->view_login = !strcmp(v->valuestring, "login");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(a, "session_hours"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0.01 || v->valuedouble > 24 * 90)
			return cli_fail(2, "%s: auth.session_hours is a number of hours from 0.01 to 2160",
					S->conf.config);
		au->ttl_s = (int)(v->valuedouble * 3600);
		if (au->ttl_s < 1)
			au->ttl_s = 1;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(a, "cookie_secure"))) {
		if (!cJSON_IsBool(v))
			return cli_fail(2, "%s: auth.cookie_secure must be true or false", S->conf.config);
		au->secure = cJSON_IsTrue(v);
	}
	if (!au->on) {
		if (!loopback(S->conf.host))
			return cli_fail(2, "auth can be off (--no-auth or auth.required false) only on a loopback "
					"listener such as 127.0.0.1:8080, not %s: create an operator token with "
					"`opsgraph token create NAME` instead", S->conf.host);
		fprintf(stderr, "opsgraph serve: *** AUTH IS OFF *** anyone who can reach %s may start runs and approve "
			"actions, and \"by\" is whatever the request says; for development only\n", S->conf.host);
		return 0;
	}
	if (og_store_lmdb_auth_list(S->db, OG_AUTH_TOKEN, &toks, &err) < 0)
		return cli_fail(1, "%s", err.msg);
	fprintf(stderr, "opsgraph serve: auth on: POST /api/* needs an operator session (%d token%s in the database); "
		"viewing is %s\n", cJSON_GetArraySize(toks), cJSON_GetArraySize(toks) == 1 ? "" : "s",
		au->view_login ? "login only (auth.view \"login\")" : "open (auth.view \"open\")");
	if (cJSON_GetArraySize(toks) == 0)
		fprintf(stderr, "opsgraph serve: no operator tokens yet: nobody can log in or approve until one exists: "
			"opsgraph token create NAME --db %s\n", S->conf.db);
	cJSON_Delete(toks);
	return 0;
}

void auth_free(struct srv_auth *au)
{
	free(au);
}

bool auth_on(const struct srv *S)
{
	return S->auth && S->auth->on;
}

/* The value of cookie COOKIE in the request, copied into out. */
static bool cookie_sid(struct evhttp_request *req, char *out, size_t len)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie"), *p;
	size_t n;

	for (p = h; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		n = strcspn(p, ";");
		if (n > sizeof(COOKIE) && !strncmp(p, COOKIE "=", sizeof(COOKIE)) && n - sizeof(COOKIE) < len) {
			memcpy(out, p + sizeof(COOKIE), n - sizeof(COOKIE));
			out[n - sizeof(COOKIE)] = 0;
			return true;
		}
		p += n;
	}
	return false;
}

static bool hex_ok(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return false;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The request's live session, as a new object (caller owns), with key its
 * store key in keyhash; NULL with why in msg. Expired sessions and
 * sessions of a revoked (or since re-created) token are refused. */
static cJSON *session_of(struct srv *S, struct evhttp_request *req, char keyhash[65], char *msg, size_t msglen)
{
	struct og_err err = { 0 };
	char sid[80];
	cJSON *ses = NULL, *tok = NULL;
	const cJSON *name, *th, *tth, *exp;

	if (!cookie_sid(req, sid, sizeof(sid)) || !hex_ok(sid, 64)) {
		snprintf(msg, msglen, "log in first: POST /api/login {\"token\": ...} (tokens come from `opsgraph "
			 "token create NAME`)");
		return NULL;
	}
	if (auth_sha256_hex(sid, keyhash) < 0) {
		snprintf(msg, msglen, "SHA-256 failed");
		return NULL;
	}
	OPENSSL_cleanse(sid, sizeof(sid));
	if (og_store_lmdb_auth_get(S->db, OG_AUTH_SESSION, keyhash, &ses, &err) < 0) {
		snprintf(msg, msglen, "%s", err.code == -OG_ENOENT ? "the session is unknown or has ended; log in "
			 "again" : err.msg);
		return NULL;
	}
	name = cJSON_GetObjectItemCaseSensitive(ses, "name");
	th = cJSON_GetObjectItemCaseSensitive(ses, "token_sha256");
	exp = cJSON_GetObjectItemCaseSensitive(ses, "expires");
	if (!cJSON_IsString(name) || !cJSON_IsString(th) || !cJSON_IsNumber(exp) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ses, "csrf"))) {
		snprintf(msg, msglen, "the session record is damaged; log in again");
		goto fail;
	}
	if (exp->valuedouble < (double)time(NULL)) {
		snprintf(msg, msglen, "the session has expired; log in again");
		goto fail;
	}
	if (og_store_lmdb_auth_get(S->db, OG_AUTH_TOKEN, name->valuestring, &tok, &err) < 0 ||
	    !cJSON_IsString(tth = cJSON_GetObjectItemCaseSensitive(tok, "sha256")) ||
	    strcmp(tth->valuestring, th->valuestring)) {
		snprintf(msg, msglen, "the token of operator '%s' was revoked; log in with a current token",
			 name->valuestring);
		goto fail;
	}
	cJSON_Delete(tok);
	return ses;
fail:
	cJSON_Delete(tok);
	cJSON_Delete(ses);
	return NULL;
}

bool auth_check(struct srv *S, struct evhttp_request *req, bool post)
{
	struct srv_auth *au = S->auth;
	char msg[OG_ERR_MSG + 128], kh[65];
	const char *got;
	const cJSON *csrf;
	cJSON *ses;

	if (!au || !au->on)
		return true;
	au->op[0] = 0;
	if (!post && !au->view_login)
		return true;
	if (!(ses = session_of(S, req, kh, msg, sizeof(msg)))) {
		srv_reply_error(S, req, "auth", 401, "login_required", "%s", msg);
		return false;
	}
	csrf = cJSON_GetObjectItemCaseSensitive(ses, "csrf");
	got = evhttp_find_header(evhttp_request_get_input_headers(req), "X-CSRF-Token");
	if (post && (!got || strlen(got) != strlen(csrf->valuestring) ||
		     CRYPTO_memcmp(got, csrf->valuestring, strlen(got)))) {
		srv_reply_error(S, req, "auth", 403, "csrf", "%s: every POST needs the X-CSRF-Token header with the "
				"csrf value POST /api/login (or GET /api/session) answered",
				got ? "the X-CSRF-Token header does not match this session" :
				      "the X-CSRF-Token header is missing");
		cJSON_Delete(ses);
		return false;
	}
	snprintf(au->op, sizeof(au->op), "%s", cJSON_GetObjectItemCaseSensitive(ses, "name")->valuestring);
	cJSON_Delete(ses);
	return true;
}

int auth_by(struct srv *S, const cJSON *body, char *by, size_t len, char *msg, size_t msglen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "value");
	const cJSON *vb = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "by") : NULL;

	if (!auth_on(S))
		return 0;
	if (!S->auth->op[0]) {	/* auth_check let it through, so this is a bug, not a request to serve */
		snprintf(msg, msglen, "no operator session for this request");
		return -1;
	}
	if ((*by && strcmp(by, S->auth->op)) || (vb && (!cJSON_IsString(vb) || strcmp(vb->valuestring, S->auth->op)))) {
		snprintf(msg, msglen, "\"by\" comes from your session (operator '%s') while auth is on; leave it out "
			 "of the request", S->auth->op);
		return -1;
	}
	snprintf(by, len, "%s", S->auth->op);
	return 0;
}

static void set_cookie(struct srv *S, struct evhttp_request *req, const char *sid, int max_age)
{
	char c[256];

	snprintf(c, sizeof(c), COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", sid, max_age,
		 S->auth->secure ? "; Secure" : "");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", c);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
}

static void login(struct srv *S, struct evhttp_request *req)
{
	struct og_err err = { 0 };
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	cJSON *body = NULL, *toks = NULL, *rec = NULL, *o = NULL, *t;
	const cJSON *tok;
	char th[65], sid[65], kh[65], csrf[65], at[40];
	const char *name = NULL, *tokhash = NULL;
	long long now = (long long)time(NULL);

	if (!ct || strncmp(ct, "application/json", 16)) {
		/* a cross-site form cannot send this type without a preflight */
		srv_reply_error(S, req, "login", 415, "content_type", "POST /api/login takes Content-Type: "
				"application/json and {\"token\": \"...\"}");
		return;
	}
	if (!(body = srv_json_body(S, req, "login")))
		return;
	tok = cJSON_GetObjectItemCaseSensitive(body, "token");
	if (!cJSON_IsString(tok) || !*tok->valuestring || strlen(tok->valuestring) > 256) {
		srv_reply_error(S, req, "login", 400, "bad_request", "\"token\" (the text `opsgraph token create NAME` "
				"printed) is required");
		goto out;
	}
	if (auth_sha256_hex(tok->valuestring, th) < 0 ||
	    og_store_lmdb_auth_list(S->db, OG_AUTH_TOKEN, &toks, &err) < 0) {
		srv_reply_error(S, req, "login", 500, "store", "%s", err.msg[0] ? err.msg : "SHA-256 failed");
		goto out;
	}
	cJSON_ArrayForEach(t, toks) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "value"), "sha256");
		if (cJSON_IsString(h) && strlen(h->valuestring) == 64 && !CRYPTO_memcmp(h->valuestring, th, 64)) {
			name = cJSON_GetObjectItemCaseSensitive(t, "key")->valuestring;
			tokhash = h->valuestring;
		}
	}
	if (!name) {
		srv_reply_error(S, req, "login", 401, "bad_token", "no operator has this token (revoked, mistyped, or "
				"from another database); `opsgraph token list` shows the operators");
		goto out;
	}
	/* expired sessions go with each login, so the database does not grow with them */
	og_store_lmdb_auth_del(S->db, OG_AUTH_SESSION, NULL, NULL, now, NULL, NULL, &err);
	if (auth_random_hex(sid, 32) < 0 || auth_random_hex(csrf, 32) < 0 || auth_sha256_hex(sid, kh) < 0) {
		srv_reply_error(S, req, "login", 500, "random", "the random generator failed");
		goto out;
	}
	og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at));
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "name", name);
	cJSON_AddStringToObject(rec, "token_sha256", tokhash);
	cJSON_AddStringToObject(rec, "csrf", csrf);
	cJSON_AddStringToObject(rec, "created", at);
	cJSON_AddNumberToObject(rec, "expires", (double)(now + S->auth->ttl_s));
	if (og_store_lmdb_auth_put(S->db, OG_AUTH_SESSION, kh, rec, false, NULL, &err) < 0) {
		srv_reply_error(S, req, "login", 500, "store", "%s", err.msg);
		goto out;
	}
	fprintf(stderr, "opsgraph serve: operator '%s' logged in\n", name);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "operator", name);
	cJSON_AddStringToObject(o, "csrf", csrf);
	cJSON_AddNumberToObject(o, "expires", (double)(now + S->auth->ttl_s));
	set_cookie(S, req, sid, S->auth->ttl_s);
	srv_reply_json(S, req, "login", 200, o);
out:
	OPENSSL_cleanse(sid, sizeof(sid));
	cJSON_Delete(o);
	cJSON_Delete(rec);
	cJSON_Delete(toks);
	cJSON_Delete(body);
}

static void session_get(struct srv *S, struct evhttp_request *req)
{
	cJSON *o = cJSON_CreateObject(), *ses = NULL;
	char msg[OG_ERR_MSG + 128], kh[65];

	cJSON_AddBoolToObject(o, "auth", auth_on(S));
	cJSON_AddStringToObject(o, "view", auth_on(S) && S->auth->view_login ? "login" : "open");
	if (auth_on(S) && (ses = session_of(S, req, kh, msg, sizeof(msg)))) {
		cJSON_AddStringToObject(o, "operator", cJSON_GetObjectItemCaseSensitive(ses, "name")->valuestring);
		cJSON_AddStringToObject(o, "csrf", cJSON_GetObjectItemCaseSensitive(ses, "csrf")->valuestring);
		cJSON_AddNumberToObject(o, "expires", cJSON_GetObjectItemCaseSensitive(ses, "expires")->valuedouble);
	} else {
		cJSON_AddNullToObject(o, "operator");
		if (auth_on(S))
			cJSON_AddStringToObject(o, "detail", msg);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	srv_reply_json(S, req, "session", 200, o);
	cJSON_Delete(ses);
	cJSON_Delete(o);
}

static void logout(struct srv *S, struct evhttp_request *req)
{
	struct og_err err = { 0 };
	char msg[OG_ERR_MSG + 128], kh[65];
	cJSON *ses, *o;

	if (!auth_check(S, req, true))
		return;
	if (!(ses = session_of(S, req, kh, msg, sizeof(msg)))) {
		srv_reply_error(S, req, "logout", 401, "login_required", "%s", msg);
		return;
	}
	cJSON_Delete(ses);
	if (og_store_lmdb_auth_del(S->db, OG_AUTH_SESSION, kh, NULL, 0, NULL, NULL, &err) < 0) {
		srv_reply_error(S, req, "logout", 500, "store", "%s", err.msg);
		return;
	}
	fprintf(stderr, "opsgraph serve: operator '%s' logged out\n", S->auth->op);
	set_cookie(S, req, "", 0);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "logged_out", S->auth->op);
	srv_reply_json(S, req, "logout", 200, o);
	cJSON_Delete(o);
}

bool auth_route(struct srv *S, struct evhttp_request *req, const char *path)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	bool post = m == EVHTTP_REQ_POST, get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
	const char *route = !strcmp(path, "/api/login") ? "login" : !strcmp(path, "/api/logout") ? "logout"
			  : !strcmp(path, "/api/session") ? "session" : NULL;

	if (!route)
		return false;
	if (route[0] == 's' ? !get : !post) {
		srv_reply_error(S, req, route, 405, "method", "%s takes %s", path, route[0] == 's' ? "GET" : "POST");
	} else if (route[0] == 's') {
		session_get(S, req);
	} else if (!auth_on(S)) {
		srv_reply_error(S, req, route, 409, "auth_off", "auth is off on this server (--no-auth): there is "
				"nothing to log %s", route[5] ? "out of" : "in to");
	} else if (route[5]) {
		logout(S, req);
	} else {
		login(S, req);
	}
	return true;
}
