/*
 * store_lmdb_tokens.c: operator tokens and web sessions in the meta
 * database (see store_lmdb_tokens.h for the layout and why it lives here).
 */
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "store_lmdb_int.h"
#include "store_lmdb_tokens.h"

#define AUTH_MAX_KEY 256

struct auth_ctx {
	enum og_auth_kind kind;
	const char *key, *name;
	const char *text;
	size_t text_len;
	bool replace, done;
	long long now_s;
	int sessions;
	cJSON *out;
};

static size_t auth_key(char *buf, enum og_auth_kind kind, const char *key)
{
	static const char tok[] = "auth\0tok", ses[] = "auth\0ses";
	size_t nk = key ? strlen(key) : 0;

	memcpy(buf, kind == OG_AUTH_TOKEN ? tok : ses, sizeof(tok));	/* with the separating NUL */
	if (nk)
		memcpy(buf + sizeof(tok), key, nk);
	return sizeof(tok) + nk;
}

static int check(const char *key, struct og_err *err)
{
	if (key && (!*key || strlen(key) > AUTH_MAX_KEY - 16))
		return og_err_set(err, -OG_EINVAL, "store: an auth record key is 1 to %d bytes", AUTH_MAX_KEY - 16);
	return 0;
}

static int put_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct auth_ctx *c = ctx;
	char kb[AUTH_MAX_KEY];
	MDB_val k, v = { c->text_len, (void *)c->text };
	int rc;

	(void)err;
	c->done = false;
	k.mv_size = auth_key(kb, c->kind, c->key);
	k.mv_data = kb;
	rc = mdb_put(txn, e->db_meta, &k, &v, c->replace ? 0 : MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 0;
	c->done = rc == 0;
	return rc;
}

int og_store_lmdb_auth_put(struct og_store_lmdb *s, enum og_auth_kind kind, const char *key, const cJSON *value,
			   bool replace, bool *added, struct og_err *err)
{
	struct auth_ctx c = { .kind = kind, .key = key, .replace = replace };
	char *text;
	int rc;

	if (!key || (rc = check(key, err)) < 0)
		return key ? rc : og_err_set(err, -OG_EINVAL, "store: an auth record needs a key");
	if (!(text = og_json_print(value, &c.text_len)))
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	c.text = text;
	rc = ogl_write(s, put_txn, &c, "put auth record", err);
	free(text);
	if (rc == 0 && added)
		*added = c.done;
	return rc;
}

static int get_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct auth_ctx *c = ctx;
	char kb[AUTH_MAX_KEY];
	MDB_val k, v;
	int rc;

	cJSON_Delete(c->out);
	c->out = NULL;
	k.mv_size = auth_key(kb, c->kind, c->key);
	k.mv_data = kb;
	if ((rc = mdb_get(txn, e->db_meta, &k, &v)) == MDB_NOTFOUND)
		return og_err_set(err, -OG_ENOENT, "store: no such %s", c->kind == OG_AUTH_TOKEN ? "token" : "session");
	if (rc)
		return rc;
	if (!(c->out = cJSON_ParseWithLength(v.mv_data, v.mv_size)))
		return og_err_set(err, -OG_ESTORE, "store: an auth record is not JSON (a damaged database?)");
	return 0;
}

int og_store_lmdb_auth_get(struct og_store_lmdb *s, enum og_auth_kind kind, const char *key, cJSON **out,
			   struct og_err *err)
{
	struct auth_ctx c = { .kind = kind, .key = key };
	int rc;

	if (!key || (rc = check(key, err)) < 0)
		return key ? rc : og_err_set(err, -OG_EINVAL, "store: an auth record needs a key");
	if ((rc = ogl_read(s, get_txn, &c, "get auth record", err)) < 0) {
		cJSON_Delete(c.out);
		return rc;
	}
	*out = c.out;
	return 0;
}

static int list_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct auth_ctx *c = ctx;
	char kb[AUTH_MAX_KEY];
	size_t plen = auth_key(kb, c->kind, NULL);

	return ogl_meta_list(e, txn, kb, plen, &c->out, err);
}

int og_store_lmdb_auth_list(struct og_store_lmdb *s, enum og_auth_kind kind, cJSON **out, struct og_err *err)
{
	struct auth_ctx c = { .kind = kind };
	int rc;

	if ((rc = ogl_read(s, list_txn, &c, "list auth records", err)) < 0) {
		cJSON_Delete(c.out);
		return rc;
	}
	*out = c.out;
	return 0;
}

/* Whether a session record should go: its operator's token was revoked, or
 * it has expired. */
static bool session_goes(const struct auth_ctx *c, const MDB_val *v)
{
	cJSON *o = cJSON_ParseWithLength(v->mv_data, v->mv_size);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "expires");
	bool goes = !o;	/* an unreadable session is no session */

	if (c->name && cJSON_IsString(n) && !strcmp(n->valuestring, c->name))
		goes = true;
	if (c->now_s > 0 && (!cJSON_IsNumber(x) || x->valuedouble < (double)c->now_s))
		goes = true;
	cJSON_Delete(o);
	return goes;
}

static int del_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct auth_ctx *c = ctx;
	char kb[AUTH_MAX_KEY];
	size_t plen;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	(void)err;
	c->done = false;
	c->sessions = 0;
	if (c->key) {
		k.mv_size = auth_key(kb, c->kind, c->key);
		k.mv_data = kb;
		rc = mdb_del(txn, e->db_meta, &k, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return rc;
		c->done = rc == 0;
	}
	if (!c->name && c->now_s <= 0)
		return 0;
	plen = auth_key(kb, OG_AUTH_SESSION, NULL);
	k.mv_size = plen;
	k.mv_data = kb;
	if ((rc = mdb_cursor_open(txn, e->db_meta, &cur)))
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, kb, plen))
			break;
		if (!session_goes(c, &v))
			continue;
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
		c->sessions++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int og_store_lmdb_auth_del(struct og_store_lmdb *s, enum og_auth_kind kind, const char *key, const char *name,
			   long long now_s, bool *deleted, int *sessions, struct og_err *err)
{
	struct auth_ctx c = { .kind = kind, .key = key, .name = name, .now_s = now_s };
	int rc;

	if ((rc = check(key, err)) < 0)
		return rc;
	if ((rc = ogl_write(s, del_txn, &c, "delete auth records", err)) < 0)
		return rc;
	if (deleted)
		*deleted = c.done;
	if (sessions)
		*sessions = c.sessions;
	return 0;
}
