/*
 * store_lmdb_ckpt.c: checkpoint records in LMDB: thread handles, rows and
 * segments, put (one write transaction per superstep, values stored only
 * when their version changed), put_writes, get (reassembles
 * og_ckpt_to_json's form), history, the thread index and the latest id. The
 * key layout and record formats are documented at the top of store_lmdb.c.
 */
#include "store_lmdb_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/clock.h"

/* ---- words ------------------------------------------------------------------- */

/* The usual sources and statuses are stored as one-byte codes; anything
 * else as code 0 and the text. Codes are part of the format: append only. */
static const char *const words[] = { NULL, "input", "loop", "update", "fork", "resume",
				     "running", "done", "interrupted", "error" };
#define NWORDS (sizeof(words) / sizeof(*words))

static void put_word(struct ogl_buf *b, const char *w)
{
	size_t i;

	for (i = 1; i < NWORDS; i++) {
		if (words[i][0] == w[0] && !strcmp(words[i], w)) {	/* two words a put */
			ogl_put_varint(b, i);
			return;
		}
	}
	ogl_put_varint(b, 0);
	ogl_put_str(b, w);
}

static struct ogl_span get_word(struct ogl_rd *r)
{
	struct ogl_span s = { "", 0, true };
	uint64_t c = ogl_get_varint(r);

	if (c == 0)
		return ogl_get_bytes(r);
	if (c >= NWORDS) {
		r->bad = true;
		s.present = false;
		return s;
	}
	s.p = words[c];
	s.n = strlen(words[c]);
	return s;
}

/* ---- records ------------------------------------------------------------------ */

int ogl_ckrec_decode(const MDB_val *v, struct ogl_ckrec *r, struct og_err *err)
{
	struct ogl_rd rd = { v->mv_data, (const uint8_t *)v->mv_data + v->mv_size, false };
	uint64_t i, idx, ver, origin;
	uint8_t tag = ogl_get_u8(&rd);

	if (tag != OGL_REC_VERSION)
		return og_err_set(err, -OG_ESTORE, "store: checkpoint record version %u; this opsgraph reads "
				  "version %d (a newer opsgraph wrote it, or the record is damaged)",
				  tag, OGL_REC_VERSION);
	r->parent_id = ogl_get_varint(&rd);
	r->step = ogl_get_svarint(&rd);
	r->created_delta = ogl_get_svarint(&rd);
	r->graph = ogl_get_varint(&rd);
	r->source = get_word(&rd);
	r->status = get_word(&rd);
	r->nch = ogl_get_varint(&rd);
	r->chans = rd;
	for (i = 0; i < r->nch && !rd.bad; i++)
		ogl_ckrec_chan(&rd, &idx, &ver, &origin);
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
	r->journals = ogl_get_opt(&rd);
	r->breakpoints = ogl_get_opt(&rd);
	/* appended later, and the record's last bytes (spans_put): a record
	 * written before it ends here */
	r->times.p = (const char *)rd.p;
	r->times.n = (size_t)(rd.end - rd.p);
	r->times.present = rd.p < rd.end;
	if (rd.bad)
		return og_err_set(err, -OG_ESTORE, "store: a checkpoint record is truncated or damaged");
	return 0;
}

void ogl_ckrec_chan(struct ogl_rd *rd, uint64_t *idx, uint64_t *version, uint64_t *origin)
{
	uint64_t oref;

	*idx = ogl_get_varint(rd);
	*version = ogl_get_varint(rd);
	oref = ogl_get_varint(rd);
	*origin = oref == 0 ? 0 : oref == 1 ? *version : oref - 2;
}

static uint64_t oref_of(uint64_t origin, uint64_t version)
{
	return origin == 0 ? 0 : origin == version ? 1 : origin + 2;
}

/* Each task's [start_ms, end_ms] (ckpt.h "times" or its spans), the
 * record's last bytes: varint n, then n * (bytes task id, zigzag
 * created_ms - start, varint end - start): some 20 bytes a task where the
 * JSON took 50. Spans with start > end are not kept. */
static void spans_put(struct ogl_buf *b, const struct og_ckpt_span *s, int n, int64_t created)
{
	uint64_t kept = 0;
	int i;

	for (i = 0; i < n; i++)
		kept += s[i].start_ms <= s[i].end_ms;
	if (!kept)
		return;
	ogl_put_varint(b, kept);
	for (i = 0; i < n; i++) {
		if (s[i].start_ms > s[i].end_ms)
			continue;
		ogl_put_str(b, s[i].task);
		ogl_put_svarint(b, created - s[i].start_ms);
		ogl_put_varint(b, (uint64_t)(s[i].end_ms - s[i].start_ms));
	}
}

/* spans_put for times given as a tree: its [start, end] entries (others
 * are not kept). -1 when memory ran out. */
static int times_put(struct ogl_buf *b, const cJSON *times, int64_t created)
{
	struct og_ckpt_span *s;
	const cJSON *t;
	int n = 0;

	if (!times)
		return 0;
	if (!(s = calloc((size_t)cJSON_GetArraySize(times) + 1, sizeof(*s))))
		return -1;
	cJSON_ArrayForEach(t, times) {
		if (cJSON_GetArraySize(t) != 2 || !cJSON_IsNumber(t->child) || !cJSON_IsNumber(t->child->next) ||
		    t->child->valuedouble > t->child->next->valuedouble)
			continue;
		s[n].task = t->string;
		s[n].start_ms = (int64_t)t->child->valuedouble;
		s[n++].end_ms = (int64_t)t->child->next->valuedouble;
	}
	spans_put(b, s, n, created);
	free(s);
	return 0;
}

/* spans_put's bytes back as {"<task id>": [start_ms, end_ms]}; NULL when
 * damaged or out of memory. */
static cJSON *times_json(struct ogl_span sp, int64_t created)
{
	struct ogl_rd rd = { (const uint8_t *)sp.p, (const uint8_t *)sp.p + sp.n, false };
	cJSON *o = cJSON_CreateObject();
	uint64_t n = ogl_get_varint(&rd), i;

	for (i = 0; o && i < n && !rd.bad; i++) {
		struct ogl_span id = ogl_get_bytes(&rd);
		int64_t a = created - ogl_get_svarint(&rd);
		int64_t e = a + (int64_t)ogl_get_varint(&rd);
		char key[64];
		cJSON *span = cJSON_CreateArray();
		if (!span || id.n >= sizeof(key) || rd.bad) {
			cJSON_Delete(span);
			rd.bad = true;
			break;
		}
		memcpy(key, id.p, id.n);
		key[id.n] = 0;
		cJSON_AddItemToArray(span, cJSON_CreateNumber((double)a));
		cJSON_AddItemToArray(span, cJSON_CreateNumber((double)e));
		cJSON_AddItemToObject(o, key, span);
	}
	if (!o || rd.bad || rd.p != rd.end || n == 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- thread rows and handles ---------------------------------------------------- */

int ogl_trow_decode(uint64_t h0, const MDB_val *v, struct ogl_trow *t, struct og_err *err)
{
	struct ogl_rd rd = { v->mv_data, (const uint8_t *)v->mv_data + v->mv_size, false };
	uint8_t tag = ogl_get_u8(&rd);
	uint64_t i;

	t->h0 = h0;
	t->start = v->mv_data;
	t->tid = ogl_get_bytes(&rd);
	t->created_ms = ogl_get_svarint(&rd);
	t->ngraphs = ogl_get_varint(&rd);
	t->graphs = rd;
	for (i = 0; i < t->ngraphs && !rd.bad; i++) {
		ogl_get_bytes(&rd);
		ogl_get_opt(&rd);
	}
	t->graphs_end = rd.p;
	t->nch = ogl_get_varint(&rd);
	t->chans = rd;
	for (i = 0; i < t->nch && !rd.bad; i++)
		ogl_get_bytes(&rd);
	t->chans_end = rd.p;
	t->nseg = ogl_get_varint(&rd);
	t->segs = rd;
	for (i = 0; i < t->nseg && !rd.bad; i++) {
		ogl_get_varint(&rd);
		ogl_get_varint(&rd);
	}
	t->end = rd.p;
	if (tag != OGL_REC_VERSION || rd.bad || t->tid.n > OGL_MAX_NAME)
		return og_err_set(err, -OG_ESTORE, "store: the row of thread %.*s is damaged (a record of "
				  "another version, or truncated)",
				  (int)(t->tid.n > OGL_MAX_NAME ? OGL_MAX_NAME : t->tid.n), t->tid.p);
	return 0;
}

int ogl_trow_get(struct ogl_env *e, MDB_txn *txn, uint64_t h0, struct ogl_trow *t, struct ogl_buf *copy,
		 struct og_err *err)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	uint64_t x = h0;
	int i, rc;

	for (i = 7; i >= 0; i--, x >>= 8)
		kb[i] = (uint8_t)x;
	if ((rc = mdb_get(txn, e->db_threads, &k, &v)))
		return rc;
	if (copy) {
		ogl_buf_reset(copy);
		ogl_put_raw(copy, v.mv_data, v.mv_size);
		if (copy->failed)
			return og_err_set(err, -OG_ENOMEM, "store: out of memory");
		v.mv_data = copy->p;
	}
	return ogl_trow_decode(h0, &v, t, err);
}

bool ogl_trow_graph(const struct ogl_trow *t, uint64_t i, struct ogl_span *graph, struct ogl_span *file)
{
	struct ogl_rd rd = t->graphs;
	uint64_t j;

	if (i >= t->ngraphs)
		return false;
	for (j = 0; j <= i; j++) {
		*graph = ogl_get_bytes(&rd);
		*file = ogl_get_opt(&rd);
	}
	return !rd.bad;
}

void ogl_trow_seg_at(const struct ogl_trow *t, uint64_t k, uint64_t *h, uint64_t *first)
{
	struct ogl_rd rd = t->segs;
	uint64_t i;

	*h = t->h0;
	*first = 0;
	for (i = 0; i < k && i < t->nseg; i++) {
		*h = ogl_get_varint(&rd);
		*first = ogl_get_varint(&rd);
	}
}

uint64_t ogl_trow_seg(const struct ogl_trow *t, uint64_t id)
{
	struct ogl_rd rd = t->segs;
	uint64_t i, h = t->h0;

	for (i = 0; i < t->nseg; i++) {
		uint64_t sh = ogl_get_varint(&rd);
		if (ogl_get_varint(&rd) > id)
			break;
		h = sh;
	}
	return h;
}

int ogl_handle(struct ogl_env *e, MDB_txn *txn, const char *tid, uint64_t *h)
{
	MDB_val k = { strlen(tid), (void *)tid }, v;
	int rc;

	if ((rc = mdb_get(txn, e->db_thread_ids, &k, &v)))
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	*h = ogl_be64(v.mv_data);
	return 0;
}

static int no_row(const char *tid, struct og_err *err)
{
	return og_err_set(err, -OG_ESTORE, "store: thread %s has a handle but no row; the database is "
			  "damaged", tid);
}

/* ---- keys and cursors ----------------------------------------------------------- */

static MDB_val val_of(const struct ogl_buf *b)
{
	MDB_val v = { b->len, b->p };

	return v;
}

static bool has_prefix(const MDB_val *k, const struct ogl_buf *prefix, size_t n)
{
	return k->mv_size >= n && memcmp(k->mv_data, prefix->p, n) == 0;
}

/* Puts a row. With `append`, the key is expected to sort last in the
 * database (a thread with the newest handle): MDB_APPEND then fills pages to
 * the brim instead of splitting them in half; when the key is not the last,
 * a plain put. */
static int put_row(MDB_txn *txn, MDB_dbi dbi, MDB_val k, MDB_val v, unsigned flags, bool append)
{
	MDB_val k2 = k, v2 = v;
	int rc;

	if (!append)
		return mdb_put(txn, dbi, &k, &v, flags);
	rc = mdb_put(txn, dbi, &k2, &v2, flags | MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn, dbi, &k, &v, flags);
	return rc;
}

/* Positions cur on thread h's checkpoint with the highest id <= id (below id
 * when !incl); *k and *v are its key and record. MDB_NOTFOUND when none. */
static int seek_ckpt(MDB_cursor *cur, uint64_t h, uint64_t id, bool incl, MDB_val *k, MDB_val *v)
{
	uint8_t kb[16];
	MDB_val key = { 16, kb };
	int i, rc;

	for (i = 7; i >= 0; i--, h >>= 8, id >>= 8) {
		kb[i] = (uint8_t)h;
		kb[8 + i] = (uint8_t)id;
	}
	rc = mdb_cursor_get(cur, &key, v, MDB_SET_RANGE);
	if (rc == 0 && incl && key.mv_size == 16 && !memcmp(key.mv_data, kb, 16)) {
		*k = key;
		return 0;
	}
	if (rc == 0)
		rc = mdb_cursor_get(cur, &key, v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &key, v, MDB_LAST);
	if (rc)
		return rc;
	if (key.mv_size != 16 || memcmp(key.mv_data, kb, 8))
		return MDB_NOTFOUND;
	*k = key;
	return 0;
}

/* Positions cur on the thread's latest checkpoint: the last key of the last
 * segment that has any (the latest is always in the last one, which gc
 * never empties; the others are looked at for a damaged store's sake). */
static int seek_latest(MDB_cursor *cur, const struct ogl_trow *t, MDB_val *k, MDB_val *v)
{
	uint64_t s = t->nseg + 1, h, first;
	int rc = MDB_NOTFOUND;

	while (rc == MDB_NOTFOUND && s-- > 0) {
		ogl_trow_seg_at(t, s, &h, &first);
		rc = seek_ckpt(cur, h, UINT64_MAX, true, k, v);
	}
	return rc;
}

/* The highest checkpoint id of the thread, 0 if none. */
static int latest_in(struct ogl_env *e, MDB_txn *txn, const struct ogl_trow *t, uint64_t *id)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	*id = 0;
	if ((rc = mdb_cursor_open(txn, e->db_ckpts, &cur)))
		return rc;
	rc = seek_latest(cur, t, &k, &v);
	if (rc == 0)
		*id = ogl_be64((const uint8_t *)k.mv_data + 8);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- put ------------------------------------------------------------------------- */

#define OGL_SEG_GAP 256		/* newer handles before a thread gets a new segment */

struct put_ctx {
	const struct og_ckpt *ck;
};

static int grow_scratch(void **p, size_t *cap, size_t n, size_t size)
{
	void *q;

	if (n <= *cap)
		return 0;
	if (n > ((size_t)1 << 24) || !(q = realloc(*p, n * size)))
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Copies the parent's channel table out of the map into e->pch; its key
 * is under handle hp. */
static int load_parent(struct ogl_env *e, MDB_txn *txn, uint64_t hp, const struct og_ckpt *ck, size_t *npch,
		       struct og_err *err)
{
	struct ogl_ckrec r;
	struct ogl_rd rd;
	MDB_val k, v;
	uint64_t i;
	int rc;

	*npch = 0;
	if (!ck->parent_id)
		return 0;
	ogl_key_ckpt(&e->key, hp, ck->parent_id);
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
	if (grow_scratch((void **)&e->pch, &e->pch_cap, (size_t)r.nch, sizeof(*e->pch)) < 0)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	rd = r.chans;
	for (i = 0; i < r.nch; i++) {
		struct ogl_chan *c = &e->pch[i];
		ogl_ckrec_chan(&rd, &c->idx, &c->version, &c->origin);
	}
	*npch = (size_t)r.nch;
	return 0;
}

/* The value row channel i (row index idx) can share with the parent
 * (its origin), or 0 if it needs a new one. */
static uint64_t parent_origin(const struct ogl_env *e, size_t npch, int i, uint64_t idx, uint64_t version)
{
	const struct ogl_chan *c = NULL;
	size_t j;

	if ((size_t)i < npch && e->pch[i].idx == idx)
		c = &e->pch[i];
	for (j = 0; !c && j < npch; j++)
		if (e->pch[j].idx == idx)
			c = &e->pch[j];
	return c && c->version == version ? c->origin : 0;
}

static bool span_is(struct ogl_span s, const char *z, size_t n)
{
	return s.n == n && memcmp(s.p, z, n) == 0;
}

/* Resolves ck's graph and channels against the thread row t (NULL: a new
 * thread): *gidx (== t->ngraphs: a new variant) and e->cidx[i]; names the
 * row lacks go to e->rnames[t->nch .. *nr). */
static int resolve(struct ogl_env *e, const struct og_ckpt *ck, const struct ogl_trow *t, uint64_t *gidx,
		   uint64_t *nr, struct og_err *err)
{
	const char *graph = ck->graph ? ck->graph : "";
	size_t glen = strlen(graph), flen = ck->graph_file ? strlen(ck->graph_file) : 0;
	uint64_t ngraphs = t ? t->ngraphs : 0, nold = t ? t->nch : 0, j;
	int i, n = ck->state ? ck->state->n : 0;
	struct ogl_rd rd = { NULL, NULL, false };

	if (grow_scratch((void **)&e->cidx, &e->cidx_cap, 2 * (size_t)n, sizeof(*e->cidx)) < 0 ||
	    grow_scratch((void **)&e->rnames, &e->rnames_cap, (size_t)(nold + (uint64_t)n), sizeof(*e->rnames)) < 0)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	if (t)
		rd = t->graphs;
	for (*gidx = 0; *gidx < ngraphs; ++*gidx) {
		struct ogl_span g = ogl_get_bytes(&rd), f = ogl_get_opt(&rd);
		if (span_is(g, graph, glen) &&
		    (f.present ? ck->graph_file && span_is(f, ck->graph_file, flen) : !ck->graph_file))
			break;
	}
	if (t)
		rd = t->chans;
	for (j = 0; j < nold; j++)
		e->rnames[j] = ogl_get_bytes(&rd);
	*nr = nold;
	for (i = 0; i < n; i++) {
		const char *name = ck->g->channels[i].name;
		size_t len = strlen(name);
		if ((uint64_t)i < *nr && span_is(e->rnames[i], name, len)) {
			e->cidx[i] = (uint64_t)i;
			continue;
		}
		for (j = 0; j < *nr && !span_is(e->rnames[j], name, len); j++)
			;
		if (j == *nr) {
			e->rnames[*nr].p = name;
			e->rnames[(*nr)++].n = len;
		}
		e->cidx[i] = j;
	}
	return 0;
}

/* e->row: the row t (NULL: a new thread's) with graph variant gidx if new,
 * names e->rnames[t->nch .. nr) and segment (seg_h, seg_first) if seg_h. */
static int build_row(struct ogl_env *e, const struct og_ckpt *ck, const struct ogl_trow *t, int64_t created,
		     uint64_t gidx, uint64_t nr, uint64_t seg_h, uint64_t seg_first, struct og_err *err)
{
	struct ogl_buf *b = &e->row;
	uint64_t ngraphs = t ? t->ngraphs : 0, j;

	ogl_buf_reset(b);
	ogl_put_u8(b, OGL_REC_VERSION);
	ogl_put_str(b, ck->thread_id);
	ogl_put_svarint(b, created);
	ogl_put_varint(b, ngraphs + (gidx == ngraphs));
	if (t)
		ogl_put_raw(b, t->graphs.p, (size_t)(t->graphs_end - t->graphs.p));
	if (gidx == ngraphs) {
		ogl_put_str(b, ck->graph);
		if (ck->graph_file) {
			ogl_put_varint(b, strlen(ck->graph_file) + 1);
			ogl_put_raw(b, ck->graph_file, strlen(ck->graph_file));
		} else {
			ogl_put_varint(b, 0);
		}
	}
	ogl_put_varint(b, nr);
	if (t)
		ogl_put_raw(b, t->chans.p, (size_t)(t->chans_end - t->chans.p));
	for (j = t ? t->nch : 0; j < nr; j++)
		ogl_put_bytes(b, e->rnames[j].p, e->rnames[j].n);
	ogl_put_varint(b, (t ? t->nseg : 0) + (seg_h != 0));
	if (t)
		ogl_put_raw(b, t->segs.p, (size_t)(t->end - t->segs.p));
	if (seg_h) {
		ogl_put_varint(b, seg_h);
		ogl_put_varint(b, seg_first);
	}
	return b->failed ? og_err_set(err, -OG_ENOMEM, "store: out of memory") : 0;
}

/* A new handle: the meta counter, bumped. */
static int new_handle(struct ogl_env *e, MDB_txn *txn, uint64_t *h)
{
	MDB_val k = { strlen(OGL_NEXT_THREAD_KEY), (void *)OGL_NEXT_THREAD_KEY }, v;
	uint8_t kb[8];
	uint64_t next;
	int i, rc;

	rc = mdb_get(txn, e->db_meta, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && v.mv_size != 8)
		return MDB_CORRUPTED;
	*h = rc == 0 ? ogl_be64(v.mv_data) : 1;
	for (next = *h + 1, i = 7; i >= 0; i--, next >>= 8)
		kb[i] = (uint8_t)next;
	v.mv_size = 8;
	v.mv_data = kb;
	if ((rc = mdb_put(txn, e->db_meta, &k, &v, 0)))
		return rc;
	if (*h > e->max_handle)
		e->max_handle = *h;
	return 0;
}

/* Whether put ck, at the end of the thread's last segment (handle hl, first
 * id fl), starts a new segment (SEGMENTS in store_lmdb.c). Alone (async
 * commits): when hl is far from the right edge of the B-trees (OGL_SEG_GAP
 * newer handles), its checkpoints would go into pages appends filled to the
 * brim and split them in half; at most one segment per 4 << nseg
 * checkpoints. In a sync group commit: whenever hl is not the newest handle,
 * so the puts of one batch append side by side at the right edge instead of
 * dirtying a leaf page each in the middle (pages written per commit are
 * what a sync commit costs); at most one segment per 1 << (nseg / 4)
 * checkpoints. Either way a thread has O(log n) segments however its puts
 * interleave with others'. */
static int want_segment(struct ogl_env *e, MDB_txn *txn, const struct ogl_trow *t, const struct og_ckpt *ck,
			uint64_t hl, uint64_t fl, bool *yes)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t gap = e->nosync ? OGL_SEG_GAP : 0, every;
	int rc;

	*yes = false;
	every = e->nosync ? (uint64_t)4 << (t->nseg < 40 ? t->nseg : 40) :
			    (uint64_t)1 << (t->nseg / 4 < 40 ? t->nseg / 4 : 40);
	if (hl + gap >= e->max_handle || ck->id <= fl || ck->id - fl < every)
		return 0;
	/* and only above every id of the thread: no id changes segment */
	if ((rc = mdb_cursor_open(txn, e->db_ckpts, &cur)))
		return rc;
	rc = seek_ckpt(cur, hl, UINT64_MAX, true, &k, &v);
	if (rc == 0)
		*yes = ogl_be64((const uint8_t *)k.mv_data + 8) < ck->id;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* PUT CACHE. Before it writes, a put reads the thread's handle
 * (thread_ids), its row (threads) and its parent's channel table (ckpts):
 * three B-tree lookups, about a fifth of a put. A thread's next put nearly
 * always has the previous put's checkpoint as its parent, so a put leaves
 * what it wrote of those in the thread's entry of e->pc (slot: a hash of
 * the thread id), and the thread's next put takes them from there instead
 * of reading them, if
 *  - the entry's transaction committed (pc_last_commit reached it; a
 *    transaction that aborts drops the entries it filled, pc_drop),
 *  - every write transaction committed since, in any process, was this
 *    process's and ran only puts and put_writes, which change no other
 *    thread's handle, row or records: LMDB's transaction ids are the
 *    environment's (a write transaction's id is the last committed one's
 *    + 1; an aborted one leaves the id unused), so run_batch sees another
 *    process's commit as a gap after pc_last_commit and moves
 *    pc_valid_from past every entry, as it does after a transaction of
 *    this process that ran any other write (gc, leases, notes...),
 *  - and its own transaction ran only puts and put_writes before it.
 * Else the put reads as before and refills the entry. A group commit of
 * 64 threads' puts thus reads nothing back, where one entry for the last
 * put served only a thread's consecutive puts (S1c sync at 64 threads:
 * 558 -> 533 K instructions a thread, as many as async now). */
static struct ogl_pc *pc_slot(struct ogl_env *e, const char *tid, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)tid[i]) * 1099511628211ULL;
	return &e->pc[h % OGL_PC_SLOTS];
}

/* c: the slot of thread tid (n bytes) */
static struct ogl_pc *pc_hit(struct ogl_env *e, struct ogl_pc *c, const char *tid, size_t n)
{
	if (!c->txnid || !e->pc_txn_clean || c->txnid < e->pc_valid_from ||
	    (!c->primed && c->txnid > e->pc_last_commit))
		return NULL;
	return c->tid.len == n && memcmp(c->tid.p, tid, n) == 0 ? c : NULL;
}

/* Forgets the entries a transaction that did not commit filled. */
void ogl_pc_drop(struct ogl_env *e, size_t txnid)
{
	size_t i;

	for (i = 0; i < OGL_PC_SLOTS; i++)
		if (e->pc[i].txnid == txnid && !e->pc[i].primed)
			e->pc[i].txnid = 0;
}

/* After a put that wrote everything: row is the thread row as it is now
 * (NULL: the cached one, in the same slot, unchanged). Valid once its
 * transaction commits. */
static void pc_fill(struct ogl_pc *c, MDB_txn *txn, const struct og_ckpt *ck, uint64_t h0,
		    const struct ogl_buf *row, const uint64_t *cidx, const uint64_t *corig)
{
	const struct og_state *st = ck->state;
	int i, n = st ? st->n : 0;

	c->txnid = 0;
	c->primed = false;
	if (grow_scratch((void **)&c->ch, &c->cap, (size_t)n, sizeof(*c->ch)) < 0)
		return;
	if (row) {
		ogl_buf_reset(&c->row);
		ogl_put_raw(&c->row, row->p, row->len);
	}
	ogl_buf_reset(&c->tid);
	ogl_put_raw(&c->tid, ck->thread_id, strlen(ck->thread_id));
	if (c->row.failed || c->tid.failed)
		return;
	for (i = 0; i < n; i++) {
		c->ch[i].idx = cidx[i];
		c->ch[i].version = st->versions[i];
		c->ch[i].origin = corig[i];
	}
	c->nch = (size_t)n;
	c->h0 = h0;
	c->id = ck->id;
	c->txnid = mdb_txn_id(txn);
}

/* A get of a thread's checkpoint leaves the put cache what a put with that
 * checkpoint as its parent would read, when this process is not writing
 * (the cache is the writer's) and has committed nothing after the get's
 * snapshot: the handle, the row, the channel table, committed as of the
 * snapshot (a read transaction's id is its snapshot's), so valid if nothing
 * was committed after it. */
static void pc_prime(struct ogl_env *e, MDB_txn *txn, const char *tid, const struct ogl_trow *t, uint64_t id,
		     const struct ogl_ckrec *r)
{
	struct ogl_rd rd = r->chans;
	size_t tl = strlen(tid);
	struct ogl_pc *c;
	uint64_t i;

	if (e->read_only || pthread_mutex_trylock(&e->write_lock))
		return;
	c = pc_slot(e, tid, tl);
	if (mdb_txn_id(txn) < e->pc_last_commit)
		goto out;	/* this process wrote after the snapshot: its entries are newer */
	c->txnid = 0;
	c->primed = false;
	if (grow_scratch((void **)&c->ch, &c->cap, (size_t)r->nch, sizeof(*c->ch)) < 0)
		goto out;
	ogl_buf_reset(&c->row);
	ogl_put_raw(&c->row, t->start, (size_t)(t->end - t->start));
	ogl_buf_reset(&c->tid);
	ogl_put_raw(&c->tid, tid, tl);
	if (c->row.failed || c->tid.failed)
		goto out;
	for (i = 0; i < r->nch; i++)
		ogl_ckrec_chan(&rd, &c->ch[i].idx, &c->ch[i].version, &c->ch[i].origin);
	if (rd.bad)
		goto out;
	c->nch = (size_t)r->nch;
	c->h0 = t->h0;
	c->id = id;
	c->txnid = mdb_txn_id(txn);
	c->primed = true;
out:
	pthread_mutex_unlock(&e->write_lock);
}

/* ogl_put_opt_json through e->jout, which stays allocated from put to put. */
static int put_opt_json(struct ogl_env *e, struct ogl_buf *b, const cJSON *v)
{
	if (!v) {
		ogl_put_varint(b, 0);
		return 0;
	}
	e->jout.len = 0;
	e->jout.failed = 0;
	if (og_json_out_value(&e->jout, v) < 0)
		return -OG_ENOMEM;
	ogl_put_varint(b, e->jout.len + 1);
	ogl_put_raw(b, e->jout.p, e->jout.len);
	return b->failed ? -OG_ENOMEM : 0;
}

/* put_opt_json, or the text when the runner printed it (ckpt.h) */
static int put_opt_text(struct ogl_env *e, struct ogl_buf *b, const cJSON *v, const char *text)
{
	size_t n;

	if (v || !text)
		return put_opt_json(e, b, v);
	n = strlen(text);
	ogl_put_varint(b, n + 1);
	ogl_put_raw(b, text, n);
	return b->failed ? -OG_ENOMEM : 0;
}

static int put_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	const struct og_ckpt *ck = ((struct put_ctx *)ctx)->ck;
	const struct og_state *st = ck->state;
	struct ogl_buf *rec = &e->rec;
	struct ogl_trow t;
	uint64_t h0 = 0, hs = 0, hl = 0, fl = 0, gidx = 0, nr = 0, *cidx, *corig;
	int64_t created;
	size_t npch = 0;
	size_t tl = strlen(ck->thread_id);
	struct ogl_pc *slot = pc_slot(e, ck->thread_id, tl), *hit = pc_hit(e, slot, ck->thread_id, tl);
	bool fresh, newseg = false, append, rebuilt = false;
	MDB_val k, v;
	int i, rc, n = st ? st->n : 0;

	e->pc_fn_clean = true;		/* leaves other threads' entries valid */
	/* reads first; the row is a copy (e->tmp, or the cache's), as writes follow */
	if (hit) {
		MDB_val rv = { hit->row.len, hit->row.p };
		h0 = hit->h0;
		rc = ogl_trow_decode(h0, &rv, &t, err);
	} else {
		rc = ogl_handle(e, txn, ck->thread_id, &h0);
		if (rc && rc != MDB_NOTFOUND)
			return rc;
		if (rc == 0 && (rc = ogl_trow_get(e, txn, h0, &t, &e->tmp, err)) == MDB_NOTFOUND)
			return no_row(ck->thread_id, err);
	}
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (!(fresh = rc == MDB_NOTFOUND)) {
		created = t.created_ms;
		if (h0 > e->max_handle)
			e->max_handle = h0;
	} else {
		created = ck->created_ms;
	}
	if ((rc = resolve(e, ck, fresh ? NULL : &t, &gidx, &nr, err)))
		return rc;
	if (!fresh) {
		hs = ogl_trow_seg(&t, ck->id);
		ogl_trow_seg_at(&t, t.nseg, &hl, &fl);
		if (hit && ck->parent_id && ck->parent_id == hit->id) {
			/* the parent is the cached put's: its channel table */
			if (grow_scratch((void **)&e->pch, &e->pch_cap, hit->nch, sizeof(*e->pch)) < 0)
				return og_err_set(err, -OG_ENOMEM, "store: out of memory");
			if (hit->nch)
				memcpy(e->pch, hit->ch, hit->nch * sizeof(*e->pch));
			npch = hit->nch;
		} else if ((rc = load_parent(e, txn, ogl_trow_seg(&t, ck->parent_id), ck, &npch, err))) {
			return rc;
		}
		if (hs == hl && (rc = want_segment(e, txn, &t, ck, hl, fl, &newseg)))
			return rc;
	}
	cidx = e->cidx;
	corig = e->cidx + n;
	/* the record, with each channel's row index and origin */
	ogl_buf_reset(rec);
	ogl_put_u8(rec, OGL_REC_VERSION);
	ogl_put_varint(rec, ck->parent_id);
	ogl_put_svarint(rec, ck->step);
	ogl_put_svarint(rec, ck->created_ms - created);
	ogl_put_varint(rec, gidx);
	put_word(rec, ck->source);
	put_word(rec, ck->status);
	ogl_put_varint(rec, (uint64_t)n);
	for (i = 0; i < n; i++) {
		uint64_t ver = st->versions[i], origin = 0;
		if (st->vals[i] && !(origin = parent_origin(e, npch, i, cidx[i], ver)))
			origin = ck->id;
		corig[i] = origin;
		ogl_put_varint(rec, cidx[i]);
		ogl_put_varint(rec, ver);
		ogl_put_varint(rec, oref_of(origin, ver));
	}
	ogl_put_varint(rec, (uint64_t)(ck->njoins > 0 ? ck->njoins : 0));
	for (i = 0; i < ck->njoins; i++)
		ogl_put_varint(rec, ck->join_seen[i]);
	if ((rc = put_opt_text(e, rec, ck->next, ck->next_text)) < 0 ||
	    (rc = put_opt_json(e, rec, ck->pending)) < 0 ||
	    (rc = put_opt_json(e, rec, ck->interrupts)) < 0 ||
	    (rc = put_opt_json(e, rec, ck->error)) < 0 ||
	    (rc = put_opt_text(e, rec, ck->writes, ck->writes_text)) < 0 ||
	    (rc = put_opt_json(e, rec, ck->resumed)) < 0 ||
	    (rc = put_opt_json(e, rec, ck->journals)) < 0 ||
	    (rc = put_opt_json(e, rec, ck->breakpoints)) < 0 || rec->failed)
		goto nomem;
	if (ck->times && times_put(rec, ck->times, ck->created_ms) < 0)
		goto nomem;
	if (!ck->times)
		spans_put(rec, ck->spans, ck->nspans, ck->created_ms);
	if (rec->failed)
		goto nomem;
	/* then the writes: a new thread's handle, a new segment's, the row */
	if (fresh) {
		uint8_t hb[8];
		uint64_t x;
		int j;
		if ((rc = new_handle(e, txn, &h0)))
			return rc;
		hs = h0;
		for (x = h0, j = 7; j >= 0; j--, x >>= 8)
			hb[j] = (uint8_t)x;
		k.mv_size = strlen(ck->thread_id);
		k.mv_data = (void *)ck->thread_id;
		v.mv_size = 8;
		v.mv_data = hb;
		if ((rc = mdb_put(txn, e->db_thread_ids, &k, &v, MDB_NOOVERWRITE)))
			return rc;
	} else if (newseg && (rc = new_handle(e, txn, &hs))) {
		return rc;
	}
	if (fresh || newseg || gidx == t.ngraphs || nr > t.nch) {
		if ((rc = build_row(e, ck, fresh ? NULL : &t, created, gidx, nr, newseg ? hs : 0, ck->id, err)))
			return rc;
		ogl_key_ckpt(&e->key, h0, 0);
		if (e->key.failed)
			goto nomem;
		k.mv_size = 8;
		k.mv_data = e->key.p;
		if ((rc = put_row(txn, e->db_threads, k, val_of(&e->row), 0, fresh && h0 == e->max_handle)))
			return rc;
		rebuilt = true;
	}
	append = hs >= e->max_handle;
	/* the record: an id that is already stored stops here */
	ogl_key_ckpt(&e->key, hs, ck->id);
	if (e->key.failed)
		goto nomem;
	rc = put_row(txn, e->db_ckpts, val_of(&e->key), val_of(rec), MDB_NOOVERWRITE, append);
	if (rc == MDB_KEYEXIST)
		return og_err_set(err, -OG_ECONFLICT, "store: thread %s already has checkpoint %llu: another "
				  "runner advanced the thread (take a lease before running it)", ck->thread_id,
				  (unsigned long long)ck->id);
	if (rc)
		return rc;
	/* then the values whose version changed */
	for (i = 0; i < n; i++) {
		if (corig[i] != ck->id)
			continue;
		e->jout.len = 0;
		e->jout.failed = 0;
		if (og_json_out_value(&e->jout, st->vals[i]) < 0 || e->jout.len > OGL_MAX_RECORD)
			goto nomem;
		ogl_key_ckpt(&e->key, hs, ck->id);
		ogl_put_varint(&e->key, cidx[i]);
		if (e->key.failed)
			goto nomem;
		v.mv_size = e->jout.len;
		v.mv_data = e->jout.p;
		if ((rc = put_row(txn, e->db_values, val_of(&e->key), v, 0, append)))
			return rc;
	}
	pc_fill(slot, txn, ck, h0, rebuilt ? &e->row : hit ? NULL : &e->tmp, cidx, corig);
	return 0;
nomem:
	return og_err_set(err, -OG_ENOMEM, "store: checkpoint %llu of thread %s: out of memory (or a "
			  "value over %u MiB)", (unsigned long long)ck->id, ck->thread_id, OGL_MAX_RECORD >> 20);
}

/* "HEAD ID of thread THREAD" into buf (n >= OGL_MAX_NAME + 64), for
 * messages: by hand, as snprintf was 1% of a put. */
static const char *what_ckpt(char *buf, size_t n, const char *head, uint64_t id, const char *thread)
{
	char digits[24], *d = digits + sizeof(digits);
	size_t hl = strlen(head), tl = strlen(thread), dl;

	do
		*--d = (char)('0' + id % 10);
	while (id /= 10);
	dl = (size_t)(digits + sizeof(digits) - d);
	if (hl + dl + 11 + tl + 1 > n)
		return head;
	memcpy(buf, head, hl);
	memcpy(buf + hl, d, dl);
	memcpy(buf + hl + dl, " of thread ", 11);
	memcpy(buf + hl + dl + 11, thread, tl + 1);
	return buf;
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
	return ogl_write(self, put_txn, &c, what_ckpt(what, sizeof(what), "put checkpoint ", ck->id,
							  ck->thread_id), err);
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
	uint64_t h = 0;
	size_t len;
	char *text;
	int rc;

	e->pc_fn_clean = true;		/* writes only the writes database */

	rc = ogl_handle(e, txn, c->thread, &h);
	if (rc == 0) {
		struct ogl_trow t;
		if ((rc = ogl_trow_get(e, txn, h, &t, NULL, err)))
			return rc == MDB_NOTFOUND ? no_row(c->thread, err) : rc;
		h = ogl_trow_seg(&t, c->id);	/* read before any write */
		ogl_key_ckpt(&e->key, h, c->id);
		if (e->key.failed)
			return og_err_set(err, -OG_ENOMEM, "store: out of memory");
		k = val_of(&e->key);
		rc = mdb_get(txn, e->db_ckpts, &k, &v);
	}
	if (rc == MDB_NOTFOUND)
		return og_err_set(err, -OG_ENOENT, "store: thread %s has no checkpoint %llu to record the "
				  "writes of task %s against", c->thread, (unsigned long long)c->id, c->task);
	if (rc)
		return rc;
	ogl_put_raw(&e->key, c->task, strlen(c->task));
	if (e->key.failed || !(text = ogl_json_text(c->rec, &len)))
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	k = val_of(&e->key);
	v.mv_size = len;
	v.mv_data = text;
	rc = len > OGL_MAX_RECORD ? og_err_set(err, -OG_ENOMEM, "store: the writes of task %s are over %u MiB",
					       c->task, OGL_MAX_RECORD >> 20)
				  : put_row(txn, e->db_writes, k, v, 0, h >= e->max_handle);
	free(text);
	return rc;
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
static int merge_pending(struct ogl_env *e, MDB_txn *txn, struct ogl_buf *key, struct get_ctx *c, uint64_t h,
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
	ogl_key_ckpt(key, h, c->id);
	if (key->failed) {
		rc = og_err_set(err, -OG_ENOMEM, "store: out of memory");
		goto fail;
	}
	plen = key->len;
	{
		MDB_stat ms;	/* no pending writes at all: no cursor (a malloc) */
		if (mdb_stat(txn, e->db_writes, &ms) == 0 && ms.ms_entries == 0) {
			*out = pending ? pending : cJSON_CreateNull();
			return *out ? 0 : og_err_set(err, -OG_ENOMEM, "store: out of memory");
		}
	}
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

static int no_ckpts(const char *thread, struct og_err *err)
{
	return og_err_set(err, -OG_ENOENT, "thread %s has no checkpoints (see `opsgraph threads`)", thread);
}

static int get_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct get_ctx *c = ctx;
	struct ogl_buf key = { 0 };
	struct ogl_span small[32], *names = small, gname, gfile;
	struct ogl_trow t;
	struct ogl_ckrec r;
	struct ogl_rd rd;
	cJSON *o = NULL, *vals, *vers, *joins, *pending;
	char ts[40], name[OGL_MAX_NAME + 1], num[32];
	MDB_val k, v;
	uint64_t i, h, latest;
	int rc;

	/* Readers run in parallel with the writer, so they use their own key buffer. */
	if ((rc = ogl_handle(e, txn, c->thread, &h))) {
		if (rc == MDB_NOTFOUND)
			rc = no_ckpts(c->thread, err);
		goto out;
	}
	if ((rc = ogl_trow_get(e, txn, h, &t, NULL, err))) {
		if (rc == MDB_NOTFOUND)
			rc = no_row(c->thread, err);
		goto out;
	}
	if (!c->id) {
		if ((rc = latest_in(e, txn, &t, &c->id)))
			goto out;
		if (!c->id) {
			rc = no_ckpts(c->thread, err);
			goto out;
		}
	}
	ogl_key_ckpt(&key, ogl_trow_seg(&t, c->id), c->id);
	if (key.failed)
		goto nomem;
	k = val_of(&key);
	if ((rc = mdb_get(txn, e->db_ckpts, &k, &v))) {
		if (rc != MDB_NOTFOUND)
			goto out;
		if ((rc = latest_in(e, txn, &t, &latest)))
			goto out;
		if (latest)
			rc = og_err_set(err, -OG_ENOENT, "thread %s has no checkpoint %llu (its latest is "
					"%llu; see `opsgraph history %s`)", c->thread,
					(unsigned long long)c->id, (unsigned long long)latest, c->thread);
		else
			rc = no_ckpts(c->thread, err);
		goto out;
	}
	if ((rc = ogl_ckrec_decode(&v, &r, err)) < 0)
		goto out;
	if (!ogl_trow_graph(&t, r.graph, &gname, &gfile)) {
		rc = corrupt(c->thread, c->id, "its graph is not in the thread row", err);
		goto out;
	}
	if (t.nch > sizeof(small) / sizeof(*small) &&
	    (t.nch > ((uint64_t)1 << 24) || !(names = malloc((size_t)t.nch * sizeof(*names)))))
		goto nomem;
	rd = t.chans;
	for (i = 0; i < t.nch; i++)
		names[i] = ogl_get_bytes(&rd);
	if (!(o = cJSON_CreateObject()))
		goto nomem;
	if (ogl_add_cs(o, "format", cJSON_CreateNumber(OG_CKPT_FORMAT)) < 0 ||
	    ogl_add_cs(o, "thread_id", cJSON_CreateString(c->thread)) < 0 ||
	    ogl_add_cs(o, "graph", ogl_json_str(gname)) < 0 ||
	    (gfile.present && ogl_add_cs(o, "graph_file", ogl_json_str(gfile)) < 0) ||
	    ogl_add_cs(o, "id", cJSON_CreateNumber((double)c->id)) < 0 ||
	    ogl_add_cs(o, "parent_id", cJSON_CreateNumber((double)r.parent_id)) < 0 ||
	    ogl_add_cs(o, "step", cJSON_CreateNumber((double)r.step)) < 0 ||
	    ogl_add_cs(o, "source", ogl_json_str(r.source)) < 0 ||
	    ogl_add_cs(o, "status", ogl_json_str(r.status)) < 0 ||
	    ogl_add_cs(o, "created_at", cJSON_CreateString(og_clock_iso8601(t.created_ms + r.created_delta, ts,
									   sizeof(ts)))) < 0 ||
	    ogl_add_cs(o, "values", vals = cJSON_CreateObject()) < 0 ||
	    ogl_add_cs(o, "versions", vers = cJSON_CreateObject()) < 0 ||
	    ogl_add_cs(o, "joins", joins = cJSON_CreateArray()) < 0)
		goto nomem;
	rd = r.chans;
	for (i = 0; i < r.nch; i++) {
		struct ogl_span sv = { NULL, 0, true };
		uint64_t idx, ver, origin;
		ogl_ckrec_chan(&rd, &idx, &ver, &origin);
		if (idx >= t.nch || names[idx].n > OGL_MAX_NAME) {
			rc = corrupt(c->thread, c->id, "a channel is not in the thread row", err);
			goto out;
		}
		memcpy(name, names[idx].p, names[idx].n);
		name[names[idx].n] = '\0';
		if (origin) {
			ogl_key_ckpt(&key, ogl_trow_seg(&t, origin), origin);
			ogl_put_varint(&key, idx);
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
	if (ogl_add_cs(o, "next", r.next.present ? ogl_json_parse(r.next) : cJSON_CreateArray()) < 0) {
		rc = corrupt(c->thread, c->id, "next", err);
		goto out;
	}
	if ((rc = merge_pending(e, txn, &key, c, ogl_trow_seg(&t, c->id), r.pending, &pending, err)))
		goto out;
	if (ogl_add_cs(o, "pending", pending) < 0)
		goto nomem;
	if (ogl_add_cs(o, "interrupts", ogl_json_parse(r.interrupts)) < 0 ||
	    ogl_add_cs(o, "error", ogl_json_parse(r.error)) < 0 ||
	    ogl_add_cs(o, "writes", ogl_json_parse(r.writes)) < 0 ||
	    ogl_add_cs(o, "resumed", ogl_json_parse(r.resumed)) < 0 ||
	    ogl_add_cs(o, "journals", ogl_json_parse(r.journals)) < 0 ||
	    ogl_add_cs(o, "breakpoints", ogl_json_parse(r.breakpoints)) < 0) {
		rc = corrupt(c->thread, c->id, "interrupts, error, writes, resumed, journals or breakpoints",
			     err);
		goto out;
	}
	if (r.times.present && ogl_add_cs(o, "times", times_json(r.times, t.created_ms + r.created_delta)) < 0) {
		rc = corrupt(c->thread, c->id, "times", err);
		goto out;
	}
	pc_prime(e, txn, c->thread, &t, c->id, &r);
	c->out = o;
	o = NULL;
	rc = 0;
	goto out;
nomem:
	rc = og_err_set(err, -OG_ENOMEM, "store: out of memory");
out:
	cJSON_Delete(o);
	if (names != small)
		free(names);
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
	if ((rc = ogl_read(self, get_txn, &c, what_ckpt(what, sizeof(what), "read checkpoint ", id, thread_id),
			   err)) < 0)
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
	struct ogl_trow t;
	MDB_cursor *cur = NULL;
	cJSON *arr = cJSON_CreateArray();
	MDB_val k, v;
	uint64_t h, first, seg;
	int rc, n = 0;
	char ts[40];

	if (!arr)
		goto nomem;
	if ((rc = ogl_handle(e, txn, c->thread, &h))) {
		if (rc == MDB_NOTFOUND) {
			c->out = arr;	/* no such thread: no checkpoints */
			return 0;
		}
		goto out;
	}
	if ((rc = ogl_trow_get(e, txn, h, &t, NULL, err))) {
		if (rc == MDB_NOTFOUND)
			rc = no_row(c->thread, err);
		goto out;
	}
	if ((rc = mdb_cursor_open(txn, e->db_ckpts, &cur)))
		goto out;
	/* segments newest first, each walked backwards */
	for (seg = t.nseg + 1, rc = MDB_NOTFOUND; rc == MDB_NOTFOUND && seg-- > 0 && (!c->limit || n < c->limit);) {
		ogl_trow_seg_at(&t, seg, &h, &first);
		if (c->before && first >= c->before)
			continue;
		rc = seek_ckpt(cur, h, c->before ? c->before : UINT64_MAX, !c->before, &k, &v);
		for (; rc == 0 && (!c->limit || n < c->limit); n++) {
			struct ogl_ckrec r;
			cJSON *o;
			if ((rc = ogl_ckrec_decode(&v, &r, err)) < 0)
				goto out;
			if (ogl_push(arr, o = cJSON_CreateObject()) < 0 ||
			    ogl_add_cs(o, "id", cJSON_CreateNumber((double)ogl_be64((uint8_t *)k.mv_data + 8))) < 0 ||
			    ogl_add_cs(o, "parent_id", cJSON_CreateNumber((double)r.parent_id)) < 0 ||
			    ogl_add_cs(o, "step", cJSON_CreateNumber((double)r.step)) < 0 ||
			    ogl_add_cs(o, "source", ogl_json_str(r.source)) < 0 ||
			    ogl_add_cs(o, "status", ogl_json_str(r.status)) < 0 ||
			    ogl_add_cs(o, "writes", ogl_json_parse(r.writes)) < 0 ||
			    ogl_add_cs(o, "created_at", cJSON_CreateString(og_clock_iso8601(
					t.created_ms + r.created_delta, ts, sizeof(ts)))) < 0 ||
			    ogl_add_cs(o, "next", next_nodes(r.next)) < 0)
				goto nomem;
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
			if (rc == 0 && (k.mv_size != 16 || ogl_be64(k.mv_data) != h))
				rc = MDB_NOTFOUND;
		}
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
	struct ogl_trow t;
	uint64_t h;
	int rc;

	if ((rc = ogl_handle(e, txn, c->thread, &h)))
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = ogl_trow_get(e, txn, h, &t, NULL, err)))
		return rc == MDB_NOTFOUND ? no_row(c->thread, err) : rc;
	return latest_in(e, txn, &t, &c->id);
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

/* One row per thread: the thread row gives the id and the creation time,
 * the latest checkpoint (the last key of the thread's range) the rest. */
static int threads_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct threads_ctx *c = ctx;
	struct trow *rows = NULL, *grown;
	size_t n = 0, cap = 0, i;
	MDB_cursor *cur = NULL, *ck = NULL;
	cJSON *arr = NULL;
	MDB_val k, v, lk, lv;
	char ts[40];
	int rc;

	if ((rc = mdb_cursor_open(txn, e->db_threads, &cur)) || (rc = mdb_cursor_open(txn, e->db_ckpts, &ck)))
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct ogl_span graph, gfile;
		struct ogl_trow t;
		struct ogl_ckrec r;
		int64_t updated;
		cJSON *o;

		if (k.mv_size != 8) {
			rc = og_err_set(err, -OG_ESTORE, "store: the thread index is damaged (a key of %zu "
					"bytes)", k.mv_size);
			goto out;
		}
		if ((rc = ogl_trow_decode(ogl_be64(k.mv_data), &v, &t, err)) < 0)
			goto out;
		rc = seek_latest(ck, &t, &lk, &lv);
		if (rc == MDB_NOTFOUND)
			continue;	/* no checkpoint (not written by put) */
		if (rc || (rc = ogl_ckrec_decode(&lv, &r, err)) < 0)
			goto out;
		if (c->status && !ogl_span_eq(r.status, c->status))
			continue;
		if (!ogl_trow_graph(&t, r.graph, &graph, &gfile)) {
			rc = og_err_set(err, -OG_ESTORE, "store: the latest checkpoint of thread %.*s names a "
					"graph its row does not have; the database is damaged", (int)t.tid.n,
					t.tid.p);
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(grown = realloc(rows, cap * sizeof(*rows))))
				goto nomem;
			rows = grown;
		}
		if (!(o = cJSON_CreateObject()))
			goto nomem;
		updated = t.created_ms + r.created_delta;
		rows[n].updated = updated;
		rows[n++].o = o;
		if (ogl_add_cs(o, "thread_id", ogl_json_str(t.tid)) < 0 ||
		    ogl_add_cs(o, "graph", ogl_json_str(graph)) < 0 ||
		    ogl_add_cs(o, "graph_file", gfile.present ? ogl_json_str(gfile) : cJSON_CreateNull()) < 0 ||
		    ogl_add_cs(o, "status", ogl_json_str(r.status)) < 0 ||
		    ogl_add_cs(o, "step", cJSON_CreateNumber((double)r.step)) < 0 ||
		    ogl_add_cs(o, "latest_id", cJSON_CreateNumber((double)ogl_be64((uint8_t *)lk.mv_data + 8))) < 0 ||
		    ogl_add_cs(o, "interrupts", ogl_json_parse(r.interrupts)) < 0 ||
		    ogl_add_cs(o, "error", ogl_json_parse(r.error)) < 0 ||
		    ogl_add_cs(o, "created_at", cJSON_CreateString(og_clock_iso8601(t.created_ms, ts, sizeof(ts)))) < 0 ||
		    ogl_add_cs(o, "updated_at", cJSON_CreateString(og_clock_iso8601(updated, ts, sizeof(ts)))) < 0)
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
	rc = og_err_set(err, -OG_ENOMEM, "store: threads: out of memory (or a damaged record)");
out:
	for (i = 0; i < n; i++)
		cJSON_Delete(rows[i].o);
	free(rows);
	mdb_cursor_close(ck);
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
