/*
 * store_lmdb_notes.c: small durable notes next to the checkpoints, for what
 * happens to a thread outside its steps (an alert notification, a resolved
 * alert, the note an approver typed) and for idempotency keys (a Slack
 * event id seen once). A note is written once and never replaced, so the
 * put-if-absent answer doubles as a deduplication test that holds across
 * processes and restarts. Notes live in the meta database under the prefix
 * "note\0NS\0KEY", which no other key starts with; gc leaves them alone.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "store_lmdb_int.h"

#define NOTE_PREFIX "note"
#define NOTE_MAX_KEY 400	/* LMDB's default key limit is 511 bytes */

struct note_ctx {
	const char *ns, *key;
	const char *text;
	size_t text_len;
	bool added;
	cJSON *out;
};

static size_t note_key(char *buf, const char *ns, const char *key)
{
	size_t np = sizeof(NOTE_PREFIX), nn = strlen(ns) + 1, nk = key ? strlen(key) : 0;

	memcpy(buf, NOTE_PREFIX, np);
	memcpy(buf + np, ns, nn);
	if (nk)
		memcpy(buf + np + nn, key, nk);
	return np + nn + nk;
}

static int check(const char *ns, const char *key, struct og_err *err)
{
	if (!ns || !*ns || strlen(ns) + (key ? strlen(key) : 0) > NOTE_MAX_KEY - sizeof(NOTE_PREFIX) - 1)
		return og_err_set(err, -OG_EINVAL, "store: a note needs a namespace and key of at most %d bytes",
				  NOTE_MAX_KEY - 8);
	if (key && (!*key || memchr(key, 0, strlen(key))))
		return og_err_set(err, -OG_EINVAL, "store: empty note key");
	return 0;
}

static int add_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct note_ctx *c = ctx;
	char kb[NOTE_MAX_KEY];
	MDB_val k, v = { c->text_len, (void *)c->text };
	int rc;

	(void)err;
	c->added = false;	/* a rerun of the batch starts from scratch */
	k.mv_size = note_key(kb, c->ns, c->key);
	k.mv_data = kb;
	rc = mdb_put(txn, e->db_meta, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 0;
	if (rc == 0)
		c->added = true;
	return rc;
}

int og_store_lmdb_note_add(struct og_store_lmdb *s, const char *ns, const char *key, const cJSON *value,
			   bool *added, struct og_err *err)
{
	struct note_ctx c = { ns, key, NULL, 0, false, NULL };
	char *text;
	int rc;

	if ((rc = check(ns, key, err)) < 0)
		return rc;
	if (!(text = og_json_print(value, &c.text_len)))
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	c.text = text;
	rc = ogl_write(s, add_txn, &c, "add note", err);
	free(text);
	if (rc == 0 && added)
		*added = c.added;
	return rc;
}

int ogl_meta_list(struct ogl_env *e, MDB_txn *txn, const char *prefix, size_t plen, cJSON **out,
		  struct og_err *err)
{
	MDB_cursor *cur = NULL;
	MDB_val k = { plen, (void *)prefix }, v;
	int rc;

	cJSON_Delete(*out);
	if (!(*out = cJSON_CreateArray()))
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	if ((rc = mdb_cursor_open(txn, e->db_meta, &cur)))
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		cJSON *o, *val;
		char *key;
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen))
			break;
		val = cJSON_ParseWithLength(v.mv_data, v.mv_size);
		key = strndup((const char *)k.mv_data + plen, k.mv_size - plen);
		o = cJSON_CreateObject();
		if (!o || !key || !cJSON_AddStringToObject(o, "key", key)) {
			cJSON_Delete(o);
			cJSON_Delete(val);
			free(key);
			mdb_cursor_close(cur);
			return og_err_set(err, -OG_ENOMEM, "store: out of memory");
		}
		free(key);
		cJSON_AddItemToObject(o, "value", val ? val : cJSON_CreateNull());
		cJSON_AddItemToArray(*out, o);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int list_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct note_ctx *c = ctx;
	char kb[NOTE_MAX_KEY];
	size_t plen = note_key(kb, c->ns, NULL);

	return ogl_meta_list(e, txn, kb, plen, &c->out, err);
}

int og_store_lmdb_notes(struct og_store_lmdb *s, const char *ns, cJSON **out, struct og_err *err)
{
	struct note_ctx c = { ns, NULL, NULL, 0, false, NULL };
	int rc;

	if ((rc = check(ns, NULL, err)) < 0)
		return rc;
	if ((rc = ogl_read(s, list_txn, &c, "list notes", err)) < 0) {
		cJSON_Delete(c.out);
		return rc;
	}
	*out = c.out;
	return 0;
}
