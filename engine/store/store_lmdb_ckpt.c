/*
 * store_lmdb_ckpt.c: checkpoint records in LMDB: put (one write transaction
 * per superstep, values stored only when their version changed), put_writes,
 * get (reassembles og_ckpt_to_json's form), history, the thread index and the
 * latest id. The key layout and record formats are documented at the top of
 * store_lmdb.c.
 */
#include "store_lmdb_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/clock.h"

/* ---- records ------------------------------------------------------------------ */

int ogl_ckrec_decode(const MDB_val *v, struct ogl_ckrec *r, struct og_err *err)
{
	struct ogl_rd rd = { v->mv_data, (const uint8_t *)v->mv_data + v->mv_size, false };
	struct ogl_span name;
	uint64_t i, ver, origin;
	uint8_t tag = ogl_get_u8(&rd);

	if (tag != OGL_REC_VERSION)
		return og_err_set(err, -OG_ESTORE, "store: checkpoint record version %u; this opsgraph reads "
				  "version %d (a newer opsgraph wrote it, or the record is damaged)",
				  tag, OGL_REC_VERSION);
	r->parent_id = ogl_get_varint(&rd);
	r->step = ogl_get_svarint(&rd);
	r->created_ms = ogl_get_svarint(&rd);
	r->graph = ogl_get_bytes(&rd);
	r->graph_file = ogl_get_opt(&rd);
	r->source = ogl_get_bytes(&rd);
	r->status = ogl_get_bytes(&rd);
	r->nch = ogl_get_varint(&rd);
	r->chans = rd;
	for (i = 0; i < r->nch && !rd.bad; i++)
		ogl_ckrec_chan(&rd, &name, &ver, &origin);
	r->njoins = ogl_get_varint(&rd);
	r->joins = rd;
	for (i = 0; i < r->njoins && !rd.bad; i++)
		ogl_get_varint(&rd);
	r->next = ogl_get_opt(&rd);
	r->pending = ogl_get_opt(&rd);
	r->interrupts = ogl_get_opt(&rd);
	r->error = ogl_get_opt(&rd);
	r->writes = ogl_get_opt(&rd);
	r->resumed = ogl_get_opt(&rd);
	r->breakpoints = ogl_get_opt(&rd);
	if (rd.bad)
		return og_err_set(err, -OG_ESTORE, "store: a checkpoint record is truncated or damaged");
	return 0;
}

void ogl_ckrec_chan(struct ogl_rd *rd, struct ogl_span *name, uint64_t *version, uint64_t *origin)
{
	uint64_t oref;

	*name = ogl_get_bytes(rd);
	*version = ogl_get_varint(rd);
	oref = ogl_get_varint(rd);
	*origin = oref == 0 ? 0 : oref == 1 ? *version : oref - 2;
}

static uint64_t oref_of(uint64_t origin, uint64_t version)
{
	return origin == 0 ? 0 : origin == version ? 1 : origin + 2;
}

/* Key of a value row: prefix + be64(origin) + channel. */
static void key_value(struct ogl_buf *k, const char *thread, uint64_t origin, const char *name, size_t nlen)
{
	ogl_key_ckpt(k, thread, origin);
	ogl_put_raw(k, name, nlen);
}

static MDB_val val_of(const struct ogl_buf *b)
{
	MDB_val v = { b->len, b->p };

	return v;
}

static bool has_prefix(const MDB_val *k, const struct ogl_buf *prefix, size_t n)
{
	return k->mv_size >= n && memcmp(k->mv_data, prefix->p, n) == 0;
}

/* Puts a row whose key usually sorts last (ids grow): MDB_APPEND fills pages
 * to the brim instead of splitting them in half; when the key is not the
 * last of the database, a plain put. */
static int put_sorted(MDB_txn *txn, MDB_dbi dbi, MDB_val k, MDB_val v, unsigned flags)
{
	MDB_val k2 = k, v2 = v;
	int rc = mdb_put(txn, dbi, &k2, &v2, flags | MDB_APPEND);

	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn, dbi, &k, &v, flags);
	return rc;
}

/* The highest checkpoint id of a thread, 0 if none. e->key is clobbered
 * unless `key` is another buffer. */
static int latest_in(struct ogl_env *e, MDB_txn *txn, struct ogl_buf *key, const char *thread, uint64_t *id)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t plen;
	int rc;

	*id = 0;
	ogl_key_ckpt(key, thread, UINT64_MAX);
	if (key->failed)
		return ENOMEM;
	plen = key->len - 8;
	if ((rc = mdb_cursor_open(txn, e->db_ckpts, &cur)))
		return rc;
	k = val_of(key);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && has_prefix(&k, key, key->len))	/* id UINT64_MAX itself */
		goto found;
	if (rc && rc != MDB_NOTFOUND) {
		mdb_cursor_close(cur);
		return rc;
	}
	rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
	if (rc == 0 && has_prefix(&k, key, plen) && k.mv_size == plen + 8)
		goto found;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
found:
	*id = ogl_be64((const uint8_t *)k.mv_data + plen);
	mdb_cursor_close(cur);
	return 0;
}

/* ---- put ------------------------------------------------------------------------- */

struct put_ctx {
	const struct og_ckpt *ck;
};

/* Copies the parent's channel table out of the map into e->pch/e->pnames. */
static int load_parent(struct ogl_env *e, MDB_txn *txn, const struct og_ckpt *ck, size_t *npch,
		       struct og_err *err)
{
	struct ogl_ckrec r;
	struct ogl_rd rd;
	MDB_val k, v;
	uint64_t i;
	int rc;

	*npch = 0;
	ogl_buf_reset(&e->pnames);
	if (!ck->parent_id)
		return 0;
	ogl_key_ckpt(&e->key, ck->thread_id, ck->parent_id);
	if (e->key.failed)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	k = val_of(&e->key);
	rc = mdb_get(txn, e->db_ckpts, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;	/* parent unknown: every value is stored */
	if (rc)
		return rc;
	if ((rc = ogl_ckrec_decode(&v, &r, err)) < 0)
		return rc;
	if (r.nch > e->pch_cap) {
		struct ogl_chan *p;
		if (r.nch > (uint64_t)1 << 20 || !(p = realloc(e->pch, (size_t)r.nch * sizeof(*p))))
			return og_err_set(err, -OG_ENOMEM, "store: out of memory");
		e->pch = p;
		e->pch_cap = (size_t)r.nch;
	}
	rd = r.chans;
	for (i = 0; i < r.nch; i++) {
		struct ogl_chan *c = &e->pch[i];
		struct ogl_span name;
		ogl_ckrec_chan(&rd, &name, &c->version, &c->origin);
		c->name_off = e->pnames.len;
		c->name_len = name.n;
		ogl_put_raw(&e->pnames, name.p, name.n);
	}
	if (e->pnames.failed)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	*npch = (size_t)r.nch;
	return 0;
}

/* The value row channel i of ck can share with its parent (origin), or 0 if
 * it needs a new one. */
static uint64_t parent_origin(const struct ogl_env *e, size_t npch, int i, const char *name, uint64_t version)
{
	size_t n = strlen(name), j;
	const struct ogl_chan *c = NULL;

	if ((size_t)i < npch && e->pch[i].name_len == n && !memcmp(e->pnames.p + e->pch[i].name_off, name, n))
		c = &e->pch[i];
	for (j = 0; !c && j < npch; j++)
		if (e->pch[j].name_len == n && !memcmp(e->pnames.p + e->pch[j].name_off, name, n))
			c = &e->pch[j];
	return c && c->version == version ? c->origin : 0;
}

static int put_thread_row(struct ogl_env *e, MDB_txn *txn, const struct og_ckpt *ck, struct og_err *err)
{
	MDB_val k = { strlen(ck->thread_id), (void *)ck->thread_id }, v;
	int64_t created = ck->created_ms;
	int rc;

	rc = mdb_get(txn, e->db_threads, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0) {
		struct ogl_rd r = { v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, false };
		uint64_t latest;
		ogl_get_u8(&r);
		created = ogl_get_svarint(&r);
		ogl_get_svarint(&r);
		latest = ogl_get_varint(&r);
		if (r.bad)
			created = ck->created_ms;	/* rebuild a damaged row */
		else if (latest > ck->id)
			return 0;	/* an older branch: the index shows the newest */
	}
	ogl_buf_reset(&e->row);
	ogl_put_u8(&e->row, OGL_REC_VERSION);
	ogl_put_svarint(&e->row, created);
	ogl_put_svarint(&e->row, ck->created_ms);
	ogl_put_varint(&e->row, ck->id);
	ogl_put_svarint(&e->row, ck->step);
	ogl_put_str(&e->row, ck->graph);
	if (ck->graph_file) {
		ogl_put_varint(&e->row, strlen(ck->graph_file) + 1);
		ogl_put_raw(&e->row, ck->graph_file, strlen(ck->graph_file));
	} else {
		ogl_put_varint(&e->row, 0);
	}
	ogl_put_str(&e->row, ck->status);
	if ((rc = ogl_put_opt_json(&e->row, &e->tmp, ck->interrupts)) < 0 ||
	    (rc = ogl_put_opt_json(&e->row, &e->tmp, ck->error)) < 0 || e->row.failed)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	v = val_of(&e->row);
	return mdb_put(txn, e->db_threads, &k, &v, 0);
}

static int put_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	const struct og_ckpt *ck = ((struct put_ctx *)ctx)->ck;
	const struct og_state *st = ck->state;
	struct ogl_buf *rec = &e->rec;
	size_t npch;
	MDB_val k, v;
	int i, rc, n = st ? st->n : 0;

	if ((rc = load_parent(e, txn, ck, &npch, err)))
		return rc;
	/* the record, with each channel's origin */
	ogl_buf_reset(rec);
	ogl_put_u8(rec, OGL_REC_VERSION);
	ogl_put_varint(rec, ck->parent_id);
	ogl_put_svarint(rec, ck->step);
	ogl_put_svarint(rec, ck->created_ms);
	ogl_put_str(rec, ck->graph);
	if (ck->graph_file) {
		ogl_put_varint(rec, strlen(ck->graph_file) + 1);
		ogl_put_raw(rec, ck->graph_file, strlen(ck->graph_file));
	} else {
		ogl_put_varint(rec, 0);
	}
	ogl_put_str(rec, ck->source);
	ogl_put_str(rec, ck->status);
	ogl_put_varint(rec, (uint64_t)n);
	for (i = 0; i < n; i++) {
		const char *name = ck->g->channels[i].name;
		uint64_t ver = st->versions[i], origin = 0;
		if (st->vals[i] && !(origin = parent_origin(e, npch, i, name, ver)))
			origin = ck->id;
		ogl_put_str(rec, name);
		ogl_put_varint(rec, ver);
		ogl_put_varint(rec, oref_of(origin, ver));
	}
	ogl_put_varint(rec, (uint64_t)(ck->njoins > 0 ? ck->njoins : 0));
	for (i = 0; i < ck->njoins; i++)
		ogl_put_varint(rec, ck->join_seen[i]);
	if ((rc = ogl_put_opt_json(rec, &e->tmp, ck->next)) < 0 ||
	    (rc = ogl_put_opt_json(rec, &e->tmp, ck->pending)) < 0 ||
	    (rc = ogl_put_opt_json(rec, &e->tmp, ck->interrupts)) < 0 ||
	    (rc = ogl_put_opt_json(rec, &e->tmp, ck->error)) < 0 ||
	    (rc = ogl_put_opt_json(rec, &e->tmp, ck->writes)) < 0 ||
	    (rc = ogl_put_opt_json(rec, &e->tmp, ck->resumed)) < 0 ||
	    (rc = ogl_put_opt_json(rec, &e->tmp, ck->breakpoints)) < 0 || rec->failed)
		goto nomem;
	/* the record first: an id that is already stored stops here */
	ogl_key_ckpt(&e->key, ck->thread_id, ck->id);
	if (e->key.failed)
		goto nomem;
	rc = put_sorted(txn, e->db_ckpts, val_of(&e->key), val_of(rec), MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return og_err_set(err, -OG_ECONFLICT, "store: thread %s already has checkpoint %llu: another "
				  "runner advanced the thread (take a lease before running it)", ck->thread_id,
				  (unsigned long long)ck->id);
	if (rc)
		return rc;
	/* then the values whose version changed */
	for (i = 0; i < n; i++) {
		const char *name = ck->g->channels[i].name;
		if (!st->vals[i] || parent_origin(e, npch, i, name, st->versions[i]))
			continue;
		if ((rc = ogl_print_json(&e->tmp, st->vals[i])) < 0)
			goto nomem;
		key_value(&e->key, ck->thread_id, ck->id, name, strlen(name));
		if (e->key.failed)
			goto nomem;
		k = val_of(&e->key);
		v = val_of(&e->tmp);
		if ((rc = put_sorted(txn, e->db_values, k, v, 0)))
			return rc;
	}
	return put_thread_row(e, txn, ck, err);
nomem:
	return og_err_set(err, -OG_ENOMEM, "store: checkpoint %llu of thread %s: out of memory (or a "
			  "value over %u MiB)", (unsigned long long)ck->id, ck->thread_id, OGL_MAX_RECORD >> 20);
}

static int lmdb_put(void *self, const struct og_ckpt *ck, struct og_err *err)
{
	struct put_ctx c = { ck };
	char what[OGL_MAX_NAME + 64];
	int i, rc;

	if (!ck || (rc = ogl_check_name("thread id", ck->thread_id, err)) < 0)
		return ck ? rc : og_err_set(err, -OG_EINVAL, "store: put: no checkpoint");
	if (!ck->id || !ck->source || !ck->status)
		return og_err_set(err, -OG_EINVAL, "store: checkpoint of thread %s: id, source and status "
				  "are required", ck->thread_id);
	if (ck->state && !ck->g)
		return og_err_set(err, -OG_EINVAL, "store: checkpoint of thread %s has a state but no graph "
				  "for its channel names", ck->thread_id);
	for (i = 0; ck->state && i < ck->state->n; i++)
		if ((rc = ogl_check_name("channel name", ck->g->channels[i].name, err)) < 0)
			return rc;
	snprintf(what, sizeof(what), "put checkpoint %llu of thread %s", (unsigned long long)ck->id,
		 ck->thread_id);
	return ogl_write(self, put_txn, &c, what, err);
}

/* ---- put_writes ------------------------------------------------------------------ */

struct writes_ctx {
	const char *thread, *task;
	uint64_t id;
	const cJSON *rec;
};

static int writes_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct writes_ctx *c = ctx;
	MDB_val k, v;
	int rc;

	ogl_key_ckpt(&e->key, c->thread, c->id);
	if (e->key.failed)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	k = val_of(&e->key);
	rc = mdb_get(txn, e->db_ckpts, &k, &v);
	if (rc == MDB_NOTFOUND)
		return og_err_set(err, -OG_ENOENT, "store: thread %s has no checkpoint %llu to record the "
				  "writes of task %s against", c->thread, (unsigned long long)c->id, c->task);
	if (rc)
		return rc;
	ogl_put_raw(&e->key, c->task, strlen(c->task));
	if (e->key.failed || ogl_print_json(&e->tmp, c->rec) < 0)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	k = val_of(&e->key);
	v = val_of(&e->tmp);
	return put_sorted(txn, e->db_writes, k, v, 0);
}

static int lmdb_put_writes(void *self, const char *thread_id, uint64_t ckpt_id, const cJSON *rec,
			   struct og_err *err)
{
	const cJSON *task = cJSON_GetObjectItemCaseSensitive(rec, "task");
	struct writes_ctx c = { thread_id, NULL, ckpt_id, rec };
	char what[2 * OGL_MAX_NAME + 64];
	int rc;

	if ((rc = ogl_check_name("thread id", thread_id, err)) < 0)
		return rc;
	if (!cJSON_IsString(task))
		return og_err_set(err, -OG_EINVAL, "store: pending write for thread %s has no \"task\" "
				  "string", thread_id);
	if ((rc = ogl_check_name("task id", task->valuestring, err)) < 0)
		return rc;
	c.task = task->valuestring;
	snprintf(what, sizeof(what), "save writes of task %s (thread %s)", c.task, thread_id);
	return ogl_write(self, writes_txn, &c, what, err);
}

/* ---- get ------------------------------------------------------------------------- */

struct get_ctx {
	const char *thread;
	uint64_t id;
	cJSON *out;
};

static int corrupt(const char *thread, uint64_t id, const char *what, struct og_err *err)
{
	return og_err_set(err, -OG_ESTORE, "store: checkpoint %llu of thread %s: %s (out of memory, or a "
			  "damaged record)", (unsigned long long)id, thread, what);
}

/* The record's entry for task, or NULL. */
static cJSON *pending_find(cJSON *pending, const char *task, size_t n)
{
	cJSON *p;

	cJSON_ArrayForEach(p, pending) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "task");
		if (cJSON_IsString(t) && strlen(t->valuestring) == n && !memcmp(t->valuestring, task, n))
			return p;
	}
	return NULL;
}

/* The record's pending list, then put_writes rows of tasks not in it. */
static int merge_pending(struct ogl_env *e, MDB_txn *txn, struct ogl_buf *key, struct get_ctx *c,
			 struct ogl_span stored, cJSON **out, struct og_err *err)
{
	cJSON *pending = stored.present ? ogl_json_parse(stored) : NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t plen;
	int rc;

	*out = NULL;
	if (stored.present && !pending)
		return corrupt(c->thread, c->id, "pending", err);
	ogl_key_ckpt(key, c->thread, c->id);
	if (key->failed) {
		rc = og_err_set(err, -OG_ENOMEM, "store: out of memory");
		goto fail;
	}
	plen = key->len;
	if ((rc = mdb_cursor_open(txn, e->db_writes, &cur)))
		goto fail;
	k = val_of(key);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && has_prefix(&k, key, plen);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct ogl_span sv = { v.mv_data, v.mv_size, true };
		cJSON *had = pending_find(pending, (const char *)k.mv_data + plen, k.mv_size - plen);
		/* A row is a finished task. The record's entry wins unless it is a
		 * paused one (interrupt/resume): the task was answered and finished
		 * after the record was written. */
		if (had && !cJSON_HasObjectItem(had, "interrupt") && !cJSON_HasObjectItem(had, "resume"))
			continue;
		if (had) {
			cJSON *row = ogl_json_parse(sv);
			if (!row || !cJSON_ReplaceItemViaPointer(pending, had, row)) {
				cJSON_Delete(row);
				rc = corrupt(c->thread, c->id, "a pending write", err);
				goto fail;
			}
			continue;
		}
		if (!pending && !(pending = cJSON_CreateArray())) {
			rc = og_err_set(err, -OG_ENOMEM, "store: out of memory");
			goto fail;
		}
		if (ogl_push(pending, ogl_json_parse(sv)) < 0) {
			rc = corrupt(c->thread, c->id, "a pending write", err);
			goto fail;
		}
	}
	if (rc != MDB_NOTFOUND && rc != 0)
		goto fail;
	mdb_cursor_close(cur);
	*out = pending ? pending : cJSON_CreateNull();
	return *out ? 0 : og_err_set(err, -OG_ENOMEM, "store: out of memory");
fail:
	mdb_cursor_close(cur);
	cJSON_Delete(pending);
	return rc;
}

static int get_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct get_ctx *c = ctx;
	struct ogl_buf key = { 0 };
	struct ogl_ckrec r;
	struct ogl_rd rd;
	cJSON *o = NULL, *vals, *vers, *joins, *pending;
	char ts[40], name[OGL_MAX_NAME + 1], num[32];
	MDB_val k, v;
	uint64_t i, latest;
	int rc;

	/* Readers run in parallel with the writer, so they use their own key buffer. */
	if (!c->id) {
		if ((rc = latest_in(e, txn, &key, c->thread, &c->id)))
			goto out;
		if (!c->id) {
			rc = og_err_set(err, -OG_ENOENT, "thread %s has no checkpoints (see `opsgraph threads`)",
					c->thread);
			goto out;
		}
	}
	ogl_key_ckpt(&key, c->thread, c->id);
	if (key.failed)
		goto nomem;
	k = val_of(&key);
	if ((rc = mdb_get(txn, e->db_ckpts, &k, &v))) {
		if (rc != MDB_NOTFOUND)
			goto out;
		if ((rc = latest_in(e, txn, &key, c->thread, &latest)))
			goto out;
		if (latest)
			rc = og_err_set(err, -OG_ENOENT, "thread %s has no checkpoint %llu (its latest is "
					"%llu; see `opsgraph history %s`)", c->thread,
					(unsigned long long)c->id, (unsigned long long)latest, c->thread);
		else
			rc = og_err_set(err, -OG_ENOENT, "thread %s has no checkpoints (see `opsgraph "
					"threads`)", c->thread);
		goto out;
	}
	if ((rc = ogl_ckrec_decode(&v, &r, err)) < 0)
		goto out;
	if (!(o = cJSON_CreateObject()))
		goto nomem;
	if (ogl_add(o, "format", cJSON_CreateNumber(OG_CKPT_FORMAT)) < 0 ||
	    ogl_add(o, "thread_id", cJSON_CreateString(c->thread)) < 0 ||
	    ogl_add(o, "graph", ogl_json_str(r.graph)) < 0 ||
	    (r.graph_file.present && ogl_add(o, "graph_file", ogl_json_str(r.graph_file)) < 0) ||
	    ogl_add(o, "id", cJSON_CreateNumber((double)c->id)) < 0 ||
	    ogl_add(o, "parent_id", cJSON_CreateNumber((double)r.parent_id)) < 0 ||
	    ogl_add(o, "step", cJSON_CreateNumber((double)r.step)) < 0 ||
	    ogl_add(o, "source", ogl_json_str(r.source)) < 0 ||
	    ogl_add(o, "status", ogl_json_str(r.status)) < 0 ||
	    ogl_add(o, "created_at", cJSON_CreateString(og_clock_iso8601(r.created_ms, ts, sizeof(ts)))) < 0 ||
	    ogl_add(o, "values", vals = cJSON_CreateObject()) < 0 ||
	    ogl_add(o, "versions", vers = cJSON_CreateObject()) < 0 ||
	    ogl_add(o, "joins", joins = cJSON_CreateArray()) < 0)
		goto nomem;
	rd = r.chans;
	for (i = 0; i < r.nch; i++) {
		struct ogl_span sn, sv = { NULL, 0, true };
		uint64_t ver, origin;
		ogl_ckrec_chan(&rd, &sn, &ver, &origin);
		if (sn.n > OGL_MAX_NAME) {
			rc = corrupt(c->thread, c->id, "a channel name is too long", err);
			goto out;
		}
		memcpy(name, sn.p, sn.n);
		name[sn.n] = '\0';
		if (origin) {
			key_value(&key, c->thread, origin, sn.p, sn.n);
			if (key.failed)
				goto nomem;
			k = val_of(&key);
			if ((rc = mdb_get(txn, e->db_values, &k, &v))) {
				if (rc == MDB_NOTFOUND) {
					snprintf(num, sizeof(num), "%llu", (unsigned long long)origin);
					rc = og_err_set(err, -OG_ESTORE, "store: checkpoint %llu of thread %s: "
							"the value of channel '%s' (stored by checkpoint %s) "
							"is missing; the database is damaged",
							(unsigned long long)c->id, c->thread, name, num);
				}
				goto out;
			}
			sv.p = v.mv_data;
			sv.n = v.mv_size;
			if (ogl_add(vals, name, ogl_json_parse(sv)) < 0) {
				rc = corrupt(c->thread, c->id, "a channel value", err);
				goto out;
			}
		}
		if (ogl_add(vers, name, cJSON_CreateNumber((double)ver)) < 0)
			goto nomem;
	}
	rd = r.joins;
	for (i = 0; i < r.njoins; i++) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)ogl_get_varint(&rd));
		if (ogl_push(joins, cJSON_CreateString(num)) < 0)
			goto nomem;
	}
	if (ogl_add(o, "next", r.next.present ? ogl_json_parse(r.next) : cJSON_CreateArray()) < 0) {
		rc = corrupt(c->thread, c->id, "next", err);
		goto out;
	}
	if ((rc = merge_pending(e, txn, &key, c, r.pending, &pending, err)))
		goto out;
	if (ogl_add(o, "pending", pending) < 0)
		goto nomem;
	if (ogl_add(o, "interrupts", ogl_json_parse(r.interrupts)) < 0 ||
	    ogl_add(o, "error", ogl_json_parse(r.error)) < 0 ||
	    ogl_add(o, "writes", ogl_json_parse(r.writes)) < 0 ||
	    ogl_add(o, "resumed", ogl_json_parse(r.resumed)) < 0 ||
	    ogl_add(o, "breakpoints", ogl_json_parse(r.breakpoints)) < 0) {
		rc = corrupt(c->thread, c->id, "interrupts, error, writes, resumed or breakpoints", err);
		goto out;
	}
	c->out = o;
	o = NULL;
	rc = 0;
	goto out;
nomem:
	rc = og_err_set(err, -OG_ENOMEM, "store: out of memory");
out:
	cJSON_Delete(o);
	ogl_buf_release(&key);
	return rc;
}

static int lmdb_get(void *self, const char *thread_id, uint64_t id, cJSON **out, struct og_err *err)
{
	struct get_ctx c = { thread_id, id, NULL };
	char what[OGL_MAX_NAME + 64];
	int rc;

	if ((rc = ogl_check_name("thread id", thread_id, err)) < 0)
		return rc;
	snprintf(what, sizeof(what), "read checkpoint %llu of thread %s", (unsigned long long)id, thread_id);
	if ((rc = ogl_read(self, get_txn, &c, what, err)) < 0)
		return rc;
	*out = c.out;
	return 0;
}

const struct og_store_ops og_store_lmdb_ops = {
	.put = lmdb_put,
	.put_writes = lmdb_put_writes,
	.get = lmdb_get,
};

/* ---- history ------------------------------------------------------------------- */

struct hist_ctx {
	const char *thread;
	int limit;
	uint64_t before;
	cJSON *out;
};

/* ["a","b"] from next [{"id","node",...}]. */
static cJSON *next_nodes(struct ogl_span next)
{
	cJSON *tasks, *names = cJSON_CreateArray();
	const cJSON *t;

	if (!names || !next.present)
		return names;
	if (!(tasks = ogl_json_parse(next))) {
		cJSON_Delete(names);
		return NULL;
	}
	cJSON_ArrayForEach(t, tasks) {
		const cJSON *node = cJSON_GetObjectItemCaseSensitive(t, "node");
		if (cJSON_IsString(node) && ogl_push(names, cJSON_CreateString(node->valuestring)) < 0) {
			cJSON_Delete(names);
			names = NULL;
			break;
		}
	}
	cJSON_Delete(tasks);
	return names;
}

static int hist_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct hist_ctx *c = ctx;
	struct ogl_buf key = { 0 };
	MDB_cursor *cur = NULL;
	cJSON *arr = cJSON_CreateArray();
	MDB_val k, v;
	size_t plen;
	int rc, n = 0;
	char ts[40];

	ogl_key_ckpt(&key, c->thread, c->before ? c->before : UINT64_MAX);
	if (!arr || key.failed)
		goto nomem;
	plen = key.len - 8;
	if ((rc = mdb_cursor_open(txn, e->db_ckpts, &cur)))
		goto out;
	k = val_of(&key);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && !c->before && has_prefix(&k, &key, key.len))
		;	/* id UINT64_MAX: the latest */
	else if (rc == 0 || rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
	for (; rc == 0 && has_prefix(&k, &key, plen) && k.mv_size == plen + 8 && (!c->limit || n < c->limit);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_PREV), n++) {
		struct ogl_ckrec r;
		cJSON *o;
		if ((rc = ogl_ckrec_decode(&v, &r, err)) < 0)
			goto out;
		if (ogl_push(arr, o = cJSON_CreateObject()) < 0 ||
		    ogl_add(o, "id", cJSON_CreateNumber((double)ogl_be64((uint8_t *)k.mv_data + plen))) < 0 ||
		    ogl_add(o, "parent_id", cJSON_CreateNumber((double)r.parent_id)) < 0 ||
		    ogl_add(o, "step", cJSON_CreateNumber((double)r.step)) < 0 ||
		    ogl_add(o, "source", ogl_json_str(r.source)) < 0 ||
		    ogl_add(o, "status", ogl_json_str(r.status)) < 0 ||
		    ogl_add(o, "writes", ogl_json_parse(r.writes)) < 0 ||
		    ogl_add(o, "created_at", cJSON_CreateString(og_clock_iso8601(r.created_ms, ts,
											 sizeof(ts)))) < 0 ||
		    ogl_add(o, "next", next_nodes(r.next)) < 0)
			goto nomem;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc == 0) {
		c->out = arr;
		arr = NULL;
	}
	goto out;
nomem:
	rc = og_err_set(err, -OG_ENOMEM, "store: history of thread %s: out of memory (or a damaged record)",
			c->thread);
out:
	mdb_cursor_close(cur);
	cJSON_Delete(arr);
	ogl_buf_release(&key);
	return rc;
}

int og_store_lmdb_history(struct og_store_lmdb *s, const char *thread, int limit, uint64_t before_id,
			  cJSON **out, struct og_err *err)
{
	struct hist_ctx c = { thread, limit > 0 ? limit : 0, before_id, NULL };
	char what[OGL_MAX_NAME + 32];
	int rc;

	if ((rc = ogl_check_name("thread id", thread, err)) < 0)
		return rc;
	snprintf(what, sizeof(what), "history of thread %s", thread);
	if ((rc = ogl_read(s, hist_txn, &c, what, err)) < 0)
		return rc;
	*out = c.out;
	return 0;
}

/* ---- latest id ---------------------------------------------------------------------- */

struct latest_ctx {
	const char *thread;
	uint64_t id;
};

static int latest_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct latest_ctx *c = ctx;
	struct ogl_buf key = { 0 };
	int rc = latest_in(e, txn, &key, c->thread, &c->id);

	ogl_buf_release(&key);
	if (rc == ENOMEM)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	return rc;
}

int og_store_lmdb_latest_id(struct og_store_lmdb *s, const char *thread, uint64_t *id, struct og_err *err)
{
	struct latest_ctx c = { thread, 0 };
	int rc;

	if ((rc = ogl_check_name("thread id", thread, err)) < 0)
		return rc;
	if ((rc = ogl_read(s, latest_txn, &c, "latest checkpoint", err)) < 0)
		return rc;
	*id = c.id;
	return 0;
}

/* ---- the thread index --------------------------------------------------------------- */

struct threads_ctx {
	const char *status;
	cJSON *out;
};

struct trow {
	int64_t updated;
	cJSON *o;
};

static int trow_cmp(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;
	const cJSON *tx = cJSON_GetObjectItemCaseSensitive(x->o, "thread_id");
	const cJSON *ty = cJSON_GetObjectItemCaseSensitive(y->o, "thread_id");

	if (x->updated != y->updated)
		return x->updated > y->updated ? -1 : 1;
	return strcmp(tx->valuestring, ty->valuestring);
}

static int threads_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct threads_ctx *c = ctx;
	struct trow *rows = NULL, *grown;
	size_t n = 0, cap = 0, i;
	MDB_cursor *cur = NULL;
	cJSON *arr = NULL;
	MDB_val k, v;
	char ts[40];
	int rc;

	if ((rc = mdb_cursor_open(txn, e->db_threads, &cur)))
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct ogl_rd r = { v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, false };
		struct ogl_span tid = { k.mv_data, k.mv_size, true }, graph, gfile, status, intr, error;
		int64_t created, updated, step;
		uint64_t latest;
		cJSON *o;

		ogl_get_u8(&r);
		created = ogl_get_svarint(&r);
		updated = ogl_get_svarint(&r);
		latest = ogl_get_varint(&r);
		step = ogl_get_svarint(&r);
		graph = ogl_get_bytes(&r);
		gfile = ogl_get_opt(&r);
		status = ogl_get_bytes(&r);
		intr = ogl_get_opt(&r);
		error = ogl_get_opt(&r);
		if (r.bad) {
			rc = og_err_set(err, -OG_ESTORE, "store: the index row of thread %.*s is damaged",
					(int)(tid.n > OGL_MAX_NAME ? OGL_MAX_NAME : tid.n), tid.p);
			goto out;
		}
		if (c->status && !ogl_span_eq(status, c->status))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(grown = realloc(rows, cap * sizeof(*rows))))
				goto nomem;
			rows = grown;
		}
		if (!(o = cJSON_CreateObject()))
			goto nomem;
		rows[n].updated = updated;
		rows[n++].o = o;
		if (ogl_add(o, "thread_id", ogl_json_str(tid)) < 0 ||
		    ogl_add(o, "graph", ogl_json_str(graph)) < 0 ||
		    ogl_add(o, "graph_file", gfile.present ? ogl_json_str(gfile) : cJSON_CreateNull()) < 0 ||
		    ogl_add(o, "status", ogl_json_str(status)) < 0 ||
		    ogl_add(o, "step", cJSON_CreateNumber((double)step)) < 0 ||
		    ogl_add(o, "latest_id", cJSON_CreateNumber((double)latest)) < 0 ||
		    ogl_add(o, "interrupts", ogl_json_parse(intr)) < 0 ||
		    ogl_add(o, "error", ogl_json_parse(error)) < 0 ||
		    ogl_add(o, "created_at", cJSON_CreateString(og_clock_iso8601(created, ts, sizeof(ts)))) < 0 ||
		    ogl_add(o, "updated_at", cJSON_CreateString(og_clock_iso8601(updated, ts, sizeof(ts)))) < 0)
			goto nomem;
	}
	if (rc != MDB_NOTFOUND)
		goto out;
	if (n)
		qsort(rows, n, sizeof(*rows), trow_cmp);
	if (!(arr = cJSON_CreateArray()))
		goto nomem;
	for (i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, rows[i].o);	/* cannot fail: both non-NULL */
		rows[i].o = NULL;
	}
	c->out = arr;
	rc = 0;
	goto out;
nomem:
	rc = og_err_set(err, -OG_ENOMEM, "store: threads: out of memory (or a damaged index row)");
out:
	for (i = 0; i < n; i++)
		cJSON_Delete(rows[i].o);
	free(rows);
	mdb_cursor_close(cur);
	return rc;
}

int og_store_lmdb_threads(struct og_store_lmdb *s, const char *status, cJSON **out, struct og_err *err)
{
	struct threads_ctx c = { status, NULL };
	int rc;

	if ((rc = ogl_read(s, threads_txn, &c, "list threads", err)) < 0)
		return rc;
	*out = c.out;
	return 0;
}
