/*
 * store_lmdb_int.h: what the store_lmdb*.c files share and nobody else sees:
 * the shared environment, transaction wrappers that handle map growth, key
 * builders and the small binary codec of records. The key layout itself is
 * documented at the top of store_lmdb.c.
 */
#ifndef OG_STORE_LMDB_INT_H
#define OG_STORE_LMDB_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <lmdb.h>

#include "../core/json.h"
#include "store_lmdb.h"

#define OGL_MAX_NAME 200		/* thread ids, channel, task, owner, graph names */
#define OGL_MAX_RECORD (256u << 20)	/* one value or record; LMDB allows 4 GiB */
#define OGL_REC_VERSION 2		/* first byte of every record */
#define OGL_NEXT_THREAD_KEY "next_thread"	/* meta: be64 handle of the next new thread */

/* A growable byte buffer with a sticky failure flag: appends after a failure
 * are no-ops, so a builder checks once at the end. */
struct ogl_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;		/* allocation failed or OGL_MAX_RECORD exceeded */
};

/* A parent checkpoint's channel, copied out of the map (see put). */
struct ogl_chan {
	uint64_t idx;			/* into the thread row's channel names */
	uint64_t version, origin;
};

struct ogl_req;		/* one queued write (store_lmdb.c) */

/* put cache entries: one per thread in flight (64 in S1c), hashed */
#define OGL_PC_SLOTS 128

/* One LMDB environment, shared by every handle of this process that opened
 * the same directory. */
struct ogl_env {
	struct ogl_env *next;		/* registry list */
	dev_t dev;
	ino_t ino;
	pid_t pid;			/* a forked child must not reuse it */
	int refs;
	char *path;
	int dirfd;			/* the directory, flock'ed around map resizes */
	MDB_env *env;
	bool read_only;
	bool nosync;			/* MDB_NOSYNC is set (under write_lock) */
	MDB_dbi db_main, db_meta, db_thread_ids, db_threads, db_ckpts, db_values, db_writes, db_leases;

	pthread_rwlock_t map_lock;	/* txns hold it shared; a map resize exclusive */
	pthread_mutex_t write_lock;	/* one write txn at a time in this process */

	/* scratch, used only under write_lock */
	struct ogl_buf key, rec, tmp, row;
	struct og_json_out jout;	/* put: JSON texts */
	struct ogl_chan *pch;		/* the parent's channels */
	size_t pch_cap;
	uint64_t *cidx;			/* put: channel i of the state -> row index */
	size_t cidx_cap;
	struct ogl_span *rnames;	/* put: the thread row's channel names */
	size_t rnames_cap;
	uint64_t max_handle;		/* highest thread handle seen: puts of that
					 * thread try MDB_APPEND (a hint only) */
	/* put: what recent puts left in the store, one entry a thread (a
	 * thread's slot is its id's hash), so that its next put need not read
	 * it back (PUT CACHE in store_lmdb_ckpt.c); an entry is valid only
	 * while no other process committed and this one ran only puts and
	 * put_writes */
	struct ogl_pc {
		size_t txnid;		/* the put's transaction, or the get's
					 * snapshot (0: empty) */
		bool primed;		/* filled by a get: committed by definition */
		uint64_t h0, id;	/* the thread's handle, the checkpoint's id */
		struct ogl_buf tid, row;	/* thread id; its row after the put */
		struct ogl_chan *ch;	/* the record's channel table */
		size_t nch, cap;
	} pc[OGL_PC_SLOTS];
	size_t pc_last_commit;		/* this process's last committed write txn */
	size_t pc_valid_from;		/* entries of older transactions are stale */
	bool pc_txn_clean;		/* the running txn ran only puts and put_writes */
	bool pc_fn_clean;		/* set by a put or put_writes for run_batch */

	/* group commit of sync-mode writes (GROUP COMMIT in store_lmdb.c) */
	pthread_mutex_t q_mu;		/* guards the fields below */
	struct ogl_req *q_head, **q_tail;	/* writes waiting for a leader */
	bool leading;			/* a leader is running a batch */
	/* what sync commits cost, since the open (og_store_lmdb_sync_stats):
	 * added under write_lock, read without it (relaxed atomics) */
	uint64_t sc_commits, sc_writes, sc_flush_us;

	/* async flusher */
	pthread_mutex_t flush_mu;
	pthread_cond_t flush_cv;
	pthread_t flusher;
	bool flusher_on, flush_stop, dirty;
	int flush_ms;
};

struct og_store_lmdb {
	struct ogl_env *e;
	enum og_durability durability;
	bool read_only;
};

/* Body of a transaction. Returns 0, -OG_E* (err set), or an LMDB code (a
 * positive errno or MDB_*), which the wrapper turns into a message, or acts
 * on: MDB_MAP_FULL grows the map and runs fn again, so fn must start from
 * scratch each time it is called. */
typedef int (*ogl_txn_fn)(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err);

/* Runs fn in a write transaction and commits it. `what` names the
 * operation for messages ("put checkpoint 3 of thread t"). In sync mode the
 * transaction may be shared with other callers' fns (group commit, see
 * store_lmdb.c): fn then runs in another thread, after other fns and before
 * others, in the same transaction. So fn must touch only e, txn, its ctx and
 * its err, must start from scratch each time it is called (it is rerun when
 * the map grows, and when another fn of the batch fails), and must not hold
 * anything of the transaction after it returns. Returns when the commit is
 * durable (sync) or in the page cache (async); the result is fn's. */
int ogl_write(struct og_store_lmdb *s, ogl_txn_fn fn, void *ctx, const char *what, struct og_err *err);
/* Runs fn in a read-only transaction. */
int ogl_read(struct og_store_lmdb *s, ogl_txn_fn fn, void *ctx, const char *what, struct og_err *err);
/* The meta records whose key starts with prefix (plen bytes), in key order,
 * as *out = [{"key": the rest of the key, "value": parsed JSON or null}]
 * (replacing *out). For the small record families kept in the meta DB:
 * notes (store_lmdb_notes.c), tokens and sessions (store_lmdb_tokens.c). */
int ogl_meta_list(struct ogl_env *e, MDB_txn *txn, const char *prefix, size_t plen, cJSON **out,
		  struct og_err *err);
/* -OG_ESTORE "store: WHAT: mdb_strerror(rc)" for an LMDB code; others unchanged. */
int ogl_fail(int rc, const char *what, struct og_err *err);
/* True for an LMDB (or errno) code, false for 0 and -OG_E*. */
static inline bool ogl_is_mdb(int rc)
{
	return rc > 0 || rc <= MDB_LAST_ERRCODE;
}
/* Live pages * page size, for stat and gc. */
int ogl_bytes_used(struct ogl_env *e, MDB_txn *txn, uint64_t *bytes);

/* Validates a name (thread id, owner, ...): non-empty, at most OGL_MAX_NAME bytes. */
int ogl_check_name(const char *kind, const char *s, struct og_err *err);

/* ---- buffers and codec --------------------------------------------------- */

int ogl_buf_reserve(struct ogl_buf *b, size_t extra);
void ogl_buf_release(struct ogl_buf *b);

static inline void ogl_buf_reset(struct ogl_buf *b)
{
	b->len = 0;
	b->failed = false;
}

static inline void ogl_put_raw(struct ogl_buf *b, const void *p, size_t n)
{
	if (b->failed || (b->cap - b->len < n && ogl_buf_reserve(b, n) < 0))
		return;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void ogl_put_u8(struct ogl_buf *b, uint8_t v)
{
	ogl_put_raw(b, &v, 1);
}

static inline void ogl_put_varint(struct ogl_buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	while (v >= 0x80) {
		t[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (uint8_t)v;
	ogl_put_raw(b, t, n);
}

static inline void ogl_put_svarint(struct ogl_buf *b, int64_t v)
{
	ogl_put_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));	/* zigzag */
}

static inline void ogl_put_bytes(struct ogl_buf *b, const void *p, size_t n)
{
	ogl_put_varint(b, n);
	ogl_put_raw(b, p, n);
}

static inline void ogl_put_str(struct ogl_buf *b, const char *s)
{
	ogl_put_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

static inline void ogl_put_be64(struct ogl_buf *b, uint64_t v)
{
	uint8_t t[8];
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* one byte swap: the byte loop was most of building a key (2 per put
	 * of a row), as the compiler kept it a loop */
	v = __builtin_bswap64(v);
	memcpy(t, &v, 8);
#else
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		t[i] = (uint8_t)v;
#endif
	ogl_put_raw(b, t, 8);
}

/* JSON text of v (og_json_print: exact numbers, no formatting), a new
 * string to free(); NULL when memory runs out. */
char *ogl_json_text(const cJSON *v, size_t *len);
/* Optional JSON: varint 0 for NULL, else varint len+1 and the text. */
int ogl_put_opt_json(struct ogl_buf *b, const cJSON *v);

/* A reader over bytes owned by LMDB (valid until the txn ends or the next
 * write). `bad` is sticky: reads past the end return zeros. */
struct ogl_rd {
	const uint8_t *p, *end;
	bool bad;
};

struct ogl_span {
	const char *p;
	size_t n;
	bool present;		/* for optional fields: false = null */
};

static inline uint64_t ogl_get_varint(struct ogl_rd *r)
{
	uint64_t v = 0;
	int shift = 0;

	while (r->p < r->end && shift < 64) {
		uint8_t c = *r->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
		shift += 7;
	}
	r->bad = true;
	return 0;
}

static inline int64_t ogl_get_svarint(struct ogl_rd *r)
{
	uint64_t u = ogl_get_varint(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static inline uint8_t ogl_get_u8(struct ogl_rd *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

static inline struct ogl_span ogl_get_bytes(struct ogl_rd *r)
{
	struct ogl_span s = { "", 0, true };
	uint64_t n = ogl_get_varint(r);

	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		s.present = false;
		return s;
	}
	s.p = (const char *)r->p;
	s.n = (size_t)n;
	r->p += n;
	return s;
}

static inline struct ogl_span ogl_get_opt(struct ogl_rd *r)
{
	struct ogl_span s = { "", 0, false };
	uint64_t n = ogl_get_varint(r);

	if (r->bad || n == 0)
		return s;
	if (n - 1 > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return s;
	}
	s.p = (const char *)r->p;
	s.n = (size_t)(n - 1);
	s.present = true;
	r->p += n - 1;
	return s;
}

static inline uint64_t ogl_be64(const void *p)
{
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
#else
	const uint8_t *b = p;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
#endif
}

static inline bool ogl_span_eq(struct ogl_span s, const char *z)
{
	size_t n = strlen(z);

	return s.n == n && memcmp(s.p, z, n) == 0;
}

/* ---- keys ---------------------------------------------------------------- */

/* be64(handle) + be64(id): a checkpoint's key, and the prefix of the value
 * rows it stored (origin = id) and of its pending writes. */
void ogl_key_ckpt(struct ogl_buf *k, uint64_t h, uint64_t id);

/* The handle of thread `tid` (thread_ids), or MDB_NOTFOUND. */
int ogl_handle(struct ogl_env *e, MDB_txn *txn, const char *tid, uint64_t *h);

/* ---- thread rows ------------------------------------------------------- */

/* A decoded thread row; spans point into the row's bytes (LMDB memory, or
 * a copy: see ogl_trow_get). */
struct ogl_trow {
	uint64_t h0;			/* the row's key: the thread's first handle */
	const uint8_t *start;		/* of the row */
	struct ogl_span tid;
	int64_t created_ms;
	uint64_t ngraphs;
	struct ogl_rd graphs;		/* at the first (graph, opt graph_file) */
	const uint8_t *graphs_end;	/* after the last graph */
	uint64_t nch;
	struct ogl_rd chans;		/* at the first channel name */
	const uint8_t *chans_end;
	uint64_t nseg;			/* segments after the first (h0, from id 0) */
	struct ogl_rd segs;		/* at the first (handle, first id) */
	const uint8_t *end;		/* of the row */
};

/* Decodes the thread row v of handle h0. -OG_ESTORE when it is malformed. */
int ogl_trow_decode(uint64_t h0, const MDB_val *v, struct ogl_trow *t, struct og_err *err);
/* Reads the thread row of handle h0 (MDB_NOTFOUND if there is none). With
 * copy, the row is first copied into it, so t stays valid across writes. */
int ogl_trow_get(struct ogl_env *e, MDB_txn *txn, uint64_t h0, struct ogl_trow *t, struct ogl_buf *copy,
		 struct og_err *err);
/* Graph variant i of the row: name and graph_file (present false: none).
 * false when i is out of range. */
bool ogl_trow_graph(const struct ogl_trow *t, uint64_t i, struct ogl_span *graph, struct ogl_span *file);
/* Segment k (0 .. nseg) of the row: its handle and first id. */
void ogl_trow_seg_at(const struct ogl_trow *t, uint64_t k, uint64_t *h, uint64_t *first);
/* The handle whose keys hold checkpoint id of the thread. */
uint64_t ogl_trow_seg(const struct ogl_trow *t, uint64_t id);

/* ---- checkpoint records -------------------------------------------------- */

/* A decoded checkpoint record; spans point into LMDB memory. The source
 * and status are stored as codes for the usual words (see ogl_word). */
struct ogl_ckrec {
	uint64_t parent_id;
	int64_t step, created_delta;	/* created_ms - the thread row's created_ms */
	uint64_t graph;			/* index into the thread row's graphs */
	struct ogl_span source, status;
	uint64_t nch;
	struct ogl_rd chans;		/* positioned at the first channel entry */
	uint64_t njoins;
	struct ogl_rd joins;
	struct ogl_span next, pending, interrupts, error, writes, resumed, journals, breakpoints,
			 times;	/* optional trailing field: absent in older records */
};

/* Decodes a checkpoint record. -OG_ESTORE when it is malformed. */
int ogl_ckrec_decode(const MDB_val *v, struct ogl_ckrec *r, struct og_err *err);
/* Next channel entry of r->chans: row index, version, origin (0: no value). */
void ogl_ckrec_chan(struct ogl_rd *rd, uint64_t *idx, uint64_t *version, uint64_t *origin);

/* New JSON string from a span (not NUL-terminated); NULL on failure. */
cJSON *ogl_json_str(struct ogl_span s);
/* Parses a stored JSON span into what cJSON_ParseWithLength gives (a
 * faster parser first, cJSON's when it gives up); a NULL (JSON null) span
 * gives cJSON null. */
cJSON *ogl_json_parse(struct ogl_span s);
/* Adds v to o under k, deleting v on failure; -1 on failure (v NULL too). */
int ogl_add(cJSON *o, const char *k, cJSON *v);
/* ogl_add for a key that is a string literal: not copied (cJSON's "CS"). */
int ogl_add_cs(cJSON *o, const char *k, cJSON *v);
/* Forgets the put cache entries (PUT CACHE in store_lmdb_ckpt.c) that write
 * transaction txnid filled: it did not commit. Under write_lock. */
void ogl_pc_drop(struct ogl_env *e, size_t txnid);
int ogl_push(cJSON *a, cJSON *v);

#endif
