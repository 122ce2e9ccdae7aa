/*
 * store_lmdb.h: the durable checkpoint store, on LMDB. It implements
 * og_store_ops (graph/store.h) and adds what the CLI and the API need around
 * it: the per-thread index, history listings, a lease so that one runner
 * advances a thread at a time, retention (gc) and statistics.
 *
 * One environment is one directory (`--db DIR`, default ./var/opsgraph.db)
 * holding LMDB's data.mdb and lock.mdb. Several opsgraph processes may open
 * the same directory at once: LMDB serialises writers and never blocks
 * readers. Inside one process, opening the same directory twice is safe too:
 * the handles share one LMDB environment (LMDB itself forbids two).
 *
 * Errors: every fallible function returns 0 or a negative -OG_E* code and
 * fills the optional struct og_err (core/err.h):
 *   -OG_EINVAL    bad argument, or the path is not an opsgraph database
 *                 (a regular file, a foreign LMDB environment, a corrupt
 *                 file, a directory holding other files); nothing at the
 *                 path is changed in that case
 *   -OG_ENOENT    no such thread or checkpoint; read_only open of a
 *                 missing database
 *   -OG_ECONFLICT a lease held by another owner; a checkpoint id that is
 *                 already stored (another runner advanced the thread)
 *   -OG_ESTATE    a write through a handle opened read_only
 *   -OG_EIO       the directory cannot be created or opened (permissions)
 *   -OG_ESTORE    LMDB failed (disk full, corrupt page, ...): err says which
 *   -OG_ENOMEM    allocation failed
 *
 * Ownership: every cJSON **out is a new tree the caller frees with
 * cJSON_Delete; it is set only on success. Inputs are borrowed for the call.
 *
 * Thread safety: a handle may be used from several threads at once. Write
 * transactions are serialised; reads run in parallel with them. In sync mode
 * the writes (put, put_writes, lease, release, gc) that threads of one
 * process issue at the same time share one transaction and its fsyncs
 * (group commit, see store_lmdb.c): each call still returns only once its
 * own write is on disk, and its result is its own, as if it had run alone
 * (a conflict of one caller is not the others'). Writes of several processes
 * serialise on LMDB's writer lock; each process groups its own.
 *
 * Caveats (as lmdb.h has them):
 *  - fork(): a child must not use a handle its parent opened; it opens its
 *    own (the shared-environment table is per process).
 *  - async durability: a process crash loses nothing (the data is in the
 *    page cache), but a power loss or kernel crash can lose the last
 *    flush_ms of checkpoints and, as LMDB documents for MDB_NOSYNC, may
 *    leave the environment needing recovery from a copy. Use sync where
 *    that matters.
 *  - The map grows by doubling when it is full; the file is sparse, so its
 *    apparent size (ls -l) is the map size, not the bytes used (see stat).
 */
#ifndef OG_STORE_LMDB_H
#define OG_STORE_LMDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "../graph/store.h"

#define OG_STORE_LMDB_DEFAULT_PATH "./var/opsgraph.db"

enum og_durability {
	OG_DURABLE_SYNC,	/* a write returns once on disk: a power loss right after
				 * loses nothing (the default); concurrent writers of a
				 * process share the fsyncs */
	OG_DURABLE_ASYNC,	/* commits skip fsync; flushed every flush_ms and on close */
};

struct og_store_lmdb_opts {
	const char *path;		/* directory; created if missing (mkdir -p); NULL = default */
	enum og_durability durability;
	int flush_ms;			/* async: flush at least this often (0 = 100) */
	size_t map_size;		/* initial map size (0 = 64 MiB); doubles on MDB_MAP_FULL */
	bool read_only;			/* open for reading (history/state commands) */
};

struct og_store_lmdb;

/* Opens (creating if needed and not read_only) the database at o->path.
 * On success *out is a handle to close with og_store_lmdb_close. A path that
 * holds something else is refused with -OG_EINVAL and left as it was. */
int og_store_lmdb_open(const struct og_store_lmdb_opts *o, struct og_store_lmdb **out,
		       struct og_err *err);

/* Flushes (async mode) and closes. NULL is a no-op. */
void og_store_lmdb_close(struct og_store_lmdb *s);

/* put / put_writes / get of graph/store.h; self = struct og_store_lmdb *.
 * put returns -OG_ECONFLICT if the checkpoint id is already stored.
 * put_writes requires the checkpoint to exist (-OG_ENOENT otherwise); a second
 * record for the same task replaces the first. get merges those records into
 * "pending" after the ones put() stored, skipping tasks already there. */
extern const struct og_store_ops og_store_lmdb_ops;

/* The per-thread index, newest updated first; status NULL = all:
 * [{"thread_id","graph","graph_file","status","step","latest_id",
 *   "interrupts":[..]|null,"error":{..}|null,"created_at","updated_at"}]. */
int og_store_lmdb_threads(struct og_store_lmdb *s, const char *status, cJSON **out,
			  struct og_err *err);

/* A thread's checkpoints, newest first: [{"id","parent_id","step","source",
 * "status","writes","created_at","next":[node names]}]. limit 0 = all;
 * before_id 0 = from the latest, else only ids < before_id. A thread with no
 * checkpoints gives an empty array. */
int og_store_lmdb_history(struct og_store_lmdb *s, const char *thread, int limit, uint64_t before_id,
			  cJSON **out, struct og_err *err);

/* Highest checkpoint id of a thread (0 if none). */
int og_store_lmdb_latest_id(struct og_store_lmdb *s, const char *thread, uint64_t *id,
			    struct og_err *err);

/* Exclusive lease so one runner advances a thread at a time. Acquire succeeds
 * if the lease is free, expired, or already `owner`'s (it is then extended to
 * now + ttl_ms); else -OG_ECONFLICT "thread X is being run by OWNER until
 * TIME". Release of a lease held by someone else (and not expired) is
 * -OG_ECONFLICT; of a free lease, 0. */
int og_store_lmdb_lease(struct og_store_lmdb *s, const char *thread, const char *owner, int ttl_ms,
			struct og_err *err);
int og_store_lmdb_release(struct og_store_lmdb *s, const char *thread, const char *owner,
			  struct og_err *err);

/* Retention. Per thread, keeps the newest keep_last checkpoints (0 = no count
 * rule) and those created less than older_than_ms ago (0 = no age rule); with
 * neither rule only the latest is kept. Never deleted: a thread's latest
 * checkpoint (so an interrupted thread keeps its interrupts and pending
 * writes), and any checkpoint on the parent chain between two kept ones (the
 * kept set is closed under "lies on the path from a kept checkpoint to a
 * kept ancestor", so history between kept checkpoints has no holes). Values
 * no kept checkpoint references, and pending writes of deleted checkpoints,
 * go too. One write transaction per thread.
 * *report = {"threads":N,"checkpoints_deleted":N,"values_deleted":N,
 *            "writes_deleted":N,"bytes_before":N,"bytes_after":N}. */
int og_store_lmdb_gc(struct og_store_lmdb *s, int keep_last, int64_t older_than_ms, cJSON **report,
		     struct og_err *err);

/* Notes: small JSON records kept beside a thread's checkpoints (namespace
 * ns, usually the thread id) for what happens outside its steps, such as a
 * resolved alert or an approver's note, and for idempotency keys. A note is
 * written once: note_add stores `value` under (ns, key) only when that key is
 * absent, and says so in *added (false: a note was already there and is kept
 * unchanged). Durable when it returns, like put. notes lists a namespace in
 * key order as [{"key","value"}]. */
int og_store_lmdb_note_add(struct og_store_lmdb *s, const char *ns, const char *key, const cJSON *value,
			   bool *added, struct og_err *err);
int og_store_lmdb_notes(struct og_store_lmdb *s, const char *ns, cJSON **out, struct og_err *err);

/* Statistics: {"page_size","map_size","pages_used","bytes_used","file_pages",
 * "threads","checkpoints","values","writes","leases"}, plus "sync_commits"
 * {"commits","writes","flush_s"} (og_store_lmdb_sync_stats) once this
 * process made one. bytes_used is the pages holding live data (B-tree and
 * overflow pages of every database, plus the two meta pages) times the page
 * size; free pages are not counted. */
int og_store_lmdb_stat(struct og_store_lmdb *s, cJSON **out, struct og_err *err);

/* Sync commits of this process on this environment since it was opened
 * here (every handle of the process on it counts, async ones add nothing):
 * how many, the writes (puts, put_writes, leases...) they carried, and
 * the time spent in their commits, which is the data and meta page flushes
 * on disk. writes / commits is what group commit shares; flush time /
 * commits is the disk's price of one durable commit. */
struct og_store_sync_stats {
	uint64_t commits, writes;
	double flush_s;
};
void og_store_lmdb_sync_stats(const struct og_store_lmdb *s, struct og_store_sync_stats *out);

#endif
