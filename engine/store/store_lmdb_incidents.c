/*
 * store_lmdb_incidents.c: the incident index (store_lmdb_incidents.h). Like
 * the LLM usage log it only adds a named database to the environment of
 * store_lmdb.c and goes through its transaction wrappers (map growth, group
 * commit, read-only opening).
 */
#include "store_lmdb_incidents.h"

#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "store_lmdb_int.h"

#define INCIDENTS_DB "incidents"
#define INCIDENTS_MAX_KEY 400	/* LMDB's default key limit is 511 bytes */

struct put_ctx {
	const char *thread;
	const char *text;
	size_t len;
};

static int put_fn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct put_ctx *p = ctx;
	MDB_dbi dbi;
	MDB_val k = { strlen(p->thread), (void *)p->thread }, v = { p->len, (void *)p->text };
	int rc;

	(void)e;
	(void)err;
	if ((rc = mdb_dbi_open(txn, INCIDENTS_DB, MDB_CREATE, &dbi)))
		return rc;
	return mdb_put(txn, dbi, &k, &v, 0);
}

int og_store_lmdb_incident_put(struct og_store_lmdb *s, const char *thread, const cJSON *rec,
			       struct og_err *err)
{
	struct put_ctx p = { thread, NULL, 0 };
	char *text;
	int rc;

	if (!thread || !*thread || strlen(thread) > INCIDENTS_MAX_KEY)
		return og_err_set(err, -OG_EINVAL, "incident index: a thread id of 1 to %d bytes is needed",
				  INCIDENTS_MAX_KEY);
	if (!cJSON_IsObject(rec))
		return og_err_set(err, -OG_EINVAL, "incident index: a record must be a JSON object");
	if (!(text = og_json_print(rec, &p.len)))
		return og_err_set(err, -OG_ENOMEM, "incident index: out of memory");
	p.text = text;
	rc = ogl_write(s, put_fn, &p, "write the incident index", err);
	free(text);
	return rc;
}

static int list_fn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	cJSON **out = ctx;
	MDB_val k, v;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	int rc;

	(void)e;
	cJSON_Delete(*out);
	if (!(*out = cJSON_CreateArray()))
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	rc = mdb_dbi_open(txn, INCIDENTS_DB, 0, &dbi);
	if (rc == MDB_NOTFOUND)
		return 0;		/* nothing was ever indexed */
	if (rc || (rc = mdb_cursor_open(txn, dbi, &cur)))
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		cJSON *rec = cJSON_ParseWithLength(v.mv_data, v.mv_size);
		if (!rec) {
			mdb_cursor_close(cur);
			return og_err_set(err, -OG_ESTORE, "incident index: a row is not JSON (damaged database?)");
		}
		cJSON_AddItemToArray(*out, rec);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int og_store_lmdb_incident_list(struct og_store_lmdb *s, cJSON **out, struct og_err *err)
{
	cJSON *l = NULL;
	int rc = ogl_read(s, list_fn, &l, "read the incident index", err);

	if (rc) {
		cJSON_Delete(l);
		return rc;
	}
	*out = l;
	return 0;
}

static int clear_fn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	MDB_dbi dbi;
	int rc;

	(void)e;
	(void)ctx;
	(void)err;
	rc = mdb_dbi_open(txn, INCIDENTS_DB, 0, &dbi);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc ? rc : mdb_drop(txn, dbi, 0);
}

int og_store_lmdb_incident_clear(struct og_store_lmdb *s, struct og_err *err)
{
	return ogl_write(s, clear_fn, NULL, "clear the incident index", err);
}
