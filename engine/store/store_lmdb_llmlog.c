/*
 * store_lmdb_llmlog.c: the LLM usage log (store_lmdb_llmlog.h). It only adds
 * a named database to the environment of store_lmdb.c and uses its
 * transaction wrappers, so map growth, group commit and read-only opening
 * behave as they do for checkpoints.
 */
#include "store_lmdb_llmlog.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "store_lmdb_int.h"

#define LLMLOG_DB "llmlog"
#define LLMLOG_KEY_LEN 16

struct put_ctx {
	uint8_t key[LLMLOG_KEY_LEN];
	const char *text;
	size_t len;
};

static void be_put(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

static int put_fn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct put_ctx *p = ctx;
	MDB_dbi dbi;
	MDB_val k = { LLMLOG_KEY_LEN, p->key }, v = { p->len, (void *)p->text };
	int rc;

	(void)e;
	(void)err;
	if ((rc = mdb_dbi_open(txn, LLMLOG_DB, MDB_CREATE, &dbi)))
		return rc;
	return mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
}

int og_store_lmdb_llmlog_put(struct og_store_lmdb *s, const cJSON *entry, struct og_err *err)
{
	static uint32_t counter;
	static uint64_t last_us;
	uint64_t now_us, prev;
	struct put_ctx p;
	char *text;
	int rc;

	if (!cJSON_IsObject(entry))
		return og_err_set(err, -OG_EINVAL, "llm log: an entry must be a JSON object");
	if (!(text = og_json_print(entry, &p.len)))
		return og_err_set(err, -OG_ENOMEM, "llm log: out of memory");
	p.text = text;
	/* microsecond keys that never go backwards within this process, so
	 * two calls in the same millisecond list in the order they were made */
	now_us = (uint64_t)og_clock_wall_ms() * 1000;
	prev = __atomic_load_n(&last_us, __ATOMIC_RELAXED);
	do {
		if (now_us <= prev)
			now_us = prev + 1;
	} while (!__atomic_compare_exchange_n(&last_us, &prev, now_us, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	be_put(p.key, now_us, 8);
	be_put(p.key + 8, (uint64_t)getpid(), 4);
	be_put(p.key + 12, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), 4);
	rc = ogl_write(s, put_fn, &p, "append to the llm usage log", err);
	free(text);
	return rc;
}

struct list_ctx {
	int64_t since_ms;
	const char *thread;
	cJSON *out;
};

static int list_fn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct list_ctx *l = ctx;
	uint8_t from[LLMLOG_KEY_LEN] = { 0 };
	MDB_val k = { sizeof(from), from }, v;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	int rc;

	(void)e;
	cJSON_Delete(l->out);
	if (!(l->out = cJSON_CreateArray()))
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	rc = mdb_dbi_open(txn, LLMLOG_DB, 0, &dbi);
	if (rc == MDB_NOTFOUND)
		return 0;		/* nothing was ever logged */
	if (rc || (rc = mdb_cursor_open(txn, dbi, &cur)))
		return rc;
	be_put(from, l->since_ms > 0 ? (uint64_t)l->since_ms * 1000 : 0, 8);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *end = NULL;
		cJSON *entry = cJSON_ParseWithLengthOpts(v.mv_data, v.mv_size, &end, 0), *run;
		if (!entry) {
			mdb_cursor_close(cur);
			return og_err_set(err, -OG_ESTORE, "llm log: an entry is not JSON (damaged database?)");
		}
		run = cJSON_GetObjectItemCaseSensitive(entry, "run");
		if (l->thread && (!cJSON_IsString(run) || strcmp(run->valuestring, l->thread))) {
			cJSON_Delete(entry);
			continue;
		}
		cJSON_AddItemToArray(l->out, entry);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int og_store_lmdb_llmlog_list(struct og_store_lmdb *s, int64_t since_ms, const char *thread, cJSON **out,
			      struct og_err *err)
{
	struct list_ctx l = { since_ms, thread, NULL };
	int rc = ogl_read(s, list_fn, &l, "read the llm usage log", err);

	if (rc) {
		cJSON_Delete(l.out);
		return rc;
	}
	*out = l.out;
	return 0;
}
