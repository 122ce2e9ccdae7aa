/*
 * store_lmdb_gc.c: retention. Per thread, in one write transaction: choose
 * the checkpoints to keep (the latest, the newest keep_last, those younger
 * than older_than_ms), close that set over the parent chains between kept
 * checkpoints, then delete the other checkpoints, their pending writes, and
 * the value rows no kept checkpoint references. Pain point B2: naive "keep
 * latest" elsewhere broke human-in-the-loop threads by deleting the writes a
 * resume needed; here the latest record is self-contained (its values by
 * reference, its pending writes by id), so nothing it needs goes. A thread's
 * rows are found under each of its segments' handles (the row lists them);
 * the row and the handle stay.
 */
#include "store_lmdb_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/clock.h"

struct gc_ref {
	uint64_t origin, idx;		/* a value row: its origin and channel index */
};

struct gc_ctx {
	const char *thread;
	uint64_t h;			/* its handle */
	int keep_last;
	int64_t cutoff_ms;		/* keep created_ms >= cutoff; INT64_MIN: no age rule */
	long ckpts, values, writes;	/* deleted, this thread (reset per attempt) */
};

/* Per-attempt working arrays; freed by gc_arrays_free. */
struct gc_arrays {
	uint64_t *ids, *parent;
	int64_t *created;
	long *cnt, *npos, *pidx;
	bool *keep;
	size_t n, cap;
	struct gc_ref *refs;
	size_t nrefs, refcap;
	struct ogl_buf dels;		/* keys to delete: varint len + bytes */
};

static void gc_arrays_free(struct gc_arrays *a)
{
	free(a->ids);
	free(a->parent);
	free(a->created);
	free(a->cnt);
	free(a->npos);
	free(a->pidx);
	free(a->keep);
	free(a->refs);
	ogl_buf_release(&a->dels);
}

static int gc_grow(struct gc_arrays *a)
{
	size_t cap = a->cap ? a->cap * 2 : 64;
	void *p;

#define GROW(f) do { if (!(p = realloc(a->f, cap * sizeof(*a->f)))) return -1; a->f = p; } while (0)
	GROW(ids);
	GROW(parent);
	GROW(created);
	GROW(cnt);
	GROW(npos);
	GROW(pidx);
	GROW(keep);
#undef GROW
	a->cap = cap;
	return 0;
}

static long find_id(const struct gc_arrays *a, uint64_t id)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->ids[mid] == id)
			return (long)mid;
		if (a->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int ref_cmp(const void *x, const void *y)
{
	const struct gc_ref *a = x, *b = y;

	if (a->origin != b->origin)
		return a->origin < b->origin ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static bool referenced(const struct gc_arrays *a, uint64_t origin, uint64_t idx)
{
	struct gc_ref key = { origin, idx };

	return bsearch(&key, a->refs, a->nrefs, sizeof(key), ref_cmp) != NULL;
}

/* Chooses a->keep: the rules, then the closure over parent chains. Ids are
 * ascending and a child's id is always above its parent's, so counting kept
 * descendants needs one pass down the ids and the closure one pass up. A
 * checkpoint stays if it is kept, or has kept descendants and either its
 * parent stays or kept descendants under two different children (it is
 * where two kept branches meet). */
static void gc_choose(struct gc_arrays *a, const struct gc_ctx *c)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		a->keep[i] = i + 1 == a->n ||
			     (c->keep_last > 0 && a->n - i <= (size_t)c->keep_last) ||
			     (c->cutoff_ms != INT64_MIN && a->created[i] >= c->cutoff_ms);
		a->cnt[i] = a->keep[i];
		a->npos[i] = 0;
		a->pidx[i] = a->parent[i] ? find_id(a, a->parent[i]) : -1;
	}
	for (i = a->n; i-- > 0;) {
		if (a->cnt[i] > 0 && a->pidx[i] >= 0) {
			a->cnt[a->pidx[i]] += a->cnt[i];
			a->npos[a->pidx[i]]++;
		}
	}
	for (i = 0; i < a->n; i++)
		a->keep[i] = a->cnt[i] > 0 &&
			     (a->keep[i] || a->npos[i] >= 2 || (a->pidx[i] >= 0 && a->keep[a->pidx[i]]));
}

static void del_later(struct gc_arrays *a, const MDB_val *k)
{
	ogl_put_bytes(&a->dels, k->mv_data, k->mv_size);
}

/* Deletes the keys collected in a->dels from dbi. */
static int del_collected(struct gc_arrays *a, MDB_txn *txn, MDB_dbi dbi)
{
	struct ogl_rd r = { a->dels.p, a->dels.p + a->dels.len, false };
	int rc;

	while (r.p < r.end) {
		struct ogl_span s = ogl_get_bytes(&r);
		MDB_val k = { s.n, (void *)s.p };
		if (r.bad)
			return EINVAL;
		if ((rc = mdb_del(txn, dbi, &k, NULL)) && rc != MDB_NOTFOUND)
			return rc;
	}
	ogl_buf_reset(&a->dels);
	return 0;
}

/* Points *k at be64(handle of segment seg) in pre, for MDB_SET_RANGE. */
static void seg_prefix(const struct ogl_trow *t, uint64_t seg, struct ogl_buf *pre, MDB_val *k)
{
	uint64_t h, first;

	ogl_trow_seg_at(t, seg, &h, &first);
	ogl_key_ckpt(pre, h, 0);
	pre->len = 8;
	k->mv_size = 8;
	k->mv_data = pre->p;
}

static int gc_thread_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct gc_ctx *c = ctx;
	struct gc_arrays a = { 0 };
	MDB_cursor *cur = NULL;
	struct ogl_buf pre = { 0 }, row = { 0 };
	struct ogl_trow t;
	MDB_val k, v;
	uint64_t seg;
	const size_t plen = 8;	/* be64(segment handle): a prefix in every database */
	size_t i;
	int rc;

	c->ckpts = c->values = c->writes = 0;
	/* the row (a copy: this transaction deletes) gives the segments and
	 * the time created times are relative to */
	if ((rc = ogl_trow_get(e, txn, c->h, &t, &row, err))) {
		if (rc == MDB_NOTFOUND)
			rc = og_err_set(err, -OG_ESTORE, "store: gc: thread %s has no row; the database is "
					"damaged", c->thread);
		goto out;
	}
	ogl_key_ckpt(&pre, c->h, 0);
	if (pre.failed)
		goto nomem;

	/* 1. the thread's checkpoints, ascending: segments hold ascending id
	 * ranges */
	if ((rc = mdb_cursor_open(txn, e->db_ckpts, &cur)))
		goto out;
	for (seg = 0; seg <= t.nseg; seg++) {
		seg_prefix(&t, seg, &pre, &k);
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			struct ogl_ckrec r;
			if (k.mv_size != plen + 8 || memcmp(k.mv_data, pre.p, plen))
				break;
			if ((rc = ogl_ckrec_decode(&v, &r, err)) < 0)
				goto out;
			if (a.n == a.cap && gc_grow(&a) < 0)
				goto nomem;
			a.ids[a.n] = ogl_be64((const uint8_t *)k.mv_data + plen);
			a.parent[a.n] = r.parent_id;
			a.created[a.n++] = t.created_ms + r.created_delta;
		}
		if (rc && rc != MDB_NOTFOUND)
			goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	rc = 0;
	if (!a.n)
		goto out;
	gc_choose(&a, c);

	/* 2. what the kept records reference, and the records to delete
	 * (nothing is deleted before every read of record memory is done) */
	for (i = 0; i < a.n; i++) {
		struct ogl_ckrec r;
		struct ogl_rd rd;
		uint64_t j;

		ogl_key_ckpt(&e->key, ogl_trow_seg(&t, a.ids[i]), a.ids[i]);
		if (e->key.failed)
			goto nomem;
		k.mv_size = e->key.len;
		k.mv_data = e->key.p;
		if (!a.keep[i]) {
			del_later(&a, &k);
			continue;
		}
		if ((rc = mdb_get(txn, e->db_ckpts, &k, &v)) || (rc = ogl_ckrec_decode(&v, &r, err)) < 0)
			goto out;
		rd = r.chans;
		for (j = 0; j < r.nch; j++) {
			uint64_t idx, ver, origin;
			ogl_ckrec_chan(&rd, &idx, &ver, &origin);
			if (!origin)
				continue;
			if (a.nrefs == a.refcap) {
				size_t cap = a.refcap ? a.refcap * 2 : 64;
				struct gc_ref *p = realloc(a.refs, cap * sizeof(*p));
				if (!p)
					goto nomem;
				a.refs = p;
				a.refcap = cap;
			}
			a.refs[a.nrefs].origin = origin;
			a.refs[a.nrefs++].idx = idx;
		}
	}
	if (a.dels.failed)
		goto nomem;
	for (i = 0; i < a.n; i++)
		c->ckpts += !a.keep[i];
	if (!c->ckpts)
		goto out;	/* nothing to delete: no orphan values either */
	if ((rc = del_collected(&a, txn, e->db_ckpts)))
		goto out;
	if (a.nrefs)
		qsort(a.refs, a.nrefs, sizeof(*a.refs), ref_cmp);

	/* 3. pending writes of checkpoints that are gone */
	if ((rc = mdb_cursor_open(txn, e->db_writes, &cur)))
		goto out;
	for (seg = 0; seg <= t.nseg; seg++) {
		seg_prefix(&t, seg, &pre, &k);
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			long at;
			if (k.mv_size < plen + 8 || memcmp(k.mv_data, pre.p, plen))
				break;
			at = find_id(&a, ogl_be64((const uint8_t *)k.mv_data + plen));
			if (at < 0 || !a.keep[at]) {
				del_later(&a, &k);
				c->writes++;
			}
		}
		if (rc && rc != MDB_NOTFOUND)
			goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (a.dels.failed)
		goto nomem;
	if ((rc = del_collected(&a, txn, e->db_writes)))
		goto out;

	/* 4. values no kept checkpoint references */
	if ((rc = mdb_cursor_open(txn, e->db_values, &cur)))
		goto out;
	for (seg = 0; seg <= t.nseg; seg++) {
		seg_prefix(&t, seg, &pre, &k);
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			const uint8_t *kp = k.mv_data;
			struct ogl_rd kr = { kp + plen + 8, kp + k.mv_size, false };
			uint64_t idx;
			if (k.mv_size < plen + 8 || memcmp(kp, pre.p, plen))
				break;
			idx = ogl_get_varint(&kr);
			if (kr.bad || !referenced(&a, ogl_be64(kp + plen), idx)) {
				del_later(&a, &k);
				c->values++;
			}
		}
		if (rc && rc != MDB_NOTFOUND)
			goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (a.dels.failed)
		goto nomem;
	rc = del_collected(&a, txn, e->db_values);
	goto out;
nomem:
	rc = og_err_set(err, -OG_ENOMEM, "store: gc of thread %s: out of memory", c->thread);
out:
	mdb_cursor_close(cur);
	gc_arrays_free(&a);
	ogl_buf_release(&pre);
	ogl_buf_release(&row);
	return rc;
}

/* ---- driver ------------------------------------------------------------------------ */

struct gc_list_ctx {
	char **threads;
	uint64_t *handles;
	size_t n;
	uint64_t bytes;
};

static int gc_list_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct gc_list_ctx *c = ctx;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t cap = 0;
	int rc;

	if ((rc = ogl_bytes_used(e, txn, &c->bytes)) || (rc = mdb_cursor_open(txn, e->db_threads, &cur)))
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct ogl_trow t;
		char *s;
		if (k.mv_size != 8 || (rc = ogl_trow_decode(ogl_be64(k.mv_data), &v, &t, err)) < 0) {
			mdb_cursor_close(cur);
			return k.mv_size != 8 ? og_err_set(err, -OG_ESTORE, "store: gc: the thread index is "
							   "damaged") : rc;
		}
		if (c->n == cap) {
			char **p;
			uint64_t *q;
			cap = cap ? cap * 2 : 16;
			if (!(p = realloc(c->threads, cap * sizeof(*p))))
				goto nomem;
			c->threads = p;
			if (!(q = realloc(c->handles, cap * sizeof(*q))))
				goto nomem;
			c->handles = q;
		}
		if (!(s = malloc(t.tid.n + 1)))
			goto nomem;
		memcpy(s, t.tid.p, t.tid.n);
		s[t.tid.n] = '\0';
		c->handles[c->n] = ogl_be64(k.mv_data);
		c->threads[c->n++] = s;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
nomem:
	mdb_cursor_close(cur);
	return og_err_set(err, -OG_ENOMEM, "store: gc: out of memory");
}

static int bytes_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	(void)err;
	return ogl_bytes_used(e, txn, ctx);
}

int og_store_lmdb_gc(struct og_store_lmdb *s, int keep_last, int64_t older_than_ms, cJSON **report,
		     struct og_err *err)
{
	struct gc_list_ctx list = { NULL, NULL, 0, 0 };
	long ckpts = 0, values = 0, writes = 0;
	uint64_t after = 0;
	cJSON *o = NULL;
	size_t i;
	int rc;

	if (keep_last < 0 || older_than_ms < 0)
		return og_err_set(err, -OG_EINVAL, "store: gc: keep_last (%d) and older_than_ms (%lld) must be "
				  ">= 0", keep_last, (long long)older_than_ms);
	if (s->read_only)
		return og_err_set(err, -OG_ESTATE, "store: gc: '%s' was opened read-only", s->e->path);
	if ((rc = ogl_read(s, gc_list_txn, &list, "gc: list threads", err)) < 0)
		goto out;
	for (i = 0; i < list.n; i++) {
		struct gc_ctx c = { list.threads[i], list.handles[i], keep_last,
				    older_than_ms ? og_clock_wall_ms() - older_than_ms : INT64_MIN, 0, 0, 0 };
		char what[OGL_MAX_NAME + 32];

		snprintf(what, sizeof(what), "gc of thread %.*s", OGL_MAX_NAME, c.thread);
		if ((rc = ogl_write(s, gc_thread_txn, &c, what, err)) < 0)
			goto out;
		ckpts += c.ckpts;
		values += c.values;
		writes += c.writes;
	}
	if ((rc = ogl_read(s, bytes_txn, &after, "gc: stat", err)) < 0)
		goto out;
	if (!(o = cJSON_CreateObject()) ||
	    ogl_add(o, "threads", cJSON_CreateNumber((double)list.n)) < 0 ||
	    ogl_add(o, "checkpoints_deleted", cJSON_CreateNumber((double)ckpts)) < 0 ||
	    ogl_add(o, "values_deleted", cJSON_CreateNumber((double)values)) < 0 ||
	    ogl_add(o, "writes_deleted", cJSON_CreateNumber((double)writes)) < 0 ||
	    ogl_add(o, "bytes_before", cJSON_CreateNumber((double)list.bytes)) < 0 ||
	    ogl_add(o, "bytes_after", cJSON_CreateNumber((double)after)) < 0) {
		rc = og_err_set(err, -OG_ENOMEM, "store: gc: out of memory");
		goto out;
	}
	if (report)
		*report = o;
	else
		cJSON_Delete(o);
	o = NULL;
out:
	cJSON_Delete(o);
	for (i = 0; i < list.n; i++)
		free(list.threads[i]);
	free(list.threads);
	free(list.handles);
	return rc;
}
