/*
 * store_lmdb.c: the LMDB implementation of og_store (see graph/store.h and
 * store_lmdb.h): the environment (open, checks, sharing, map growth, async
 * flushing), transaction wrappers, leases, statistics and the JSON helpers
 * (printing, a fast parser for stored texts). Checkpoint records, thread
 * rows and handles are in store_lmdb_ckpt.c, retention in store_lmdb_gc.c.
 * Knows nothing about Lua, HTTP or what a graph means.
 *
 * KEY LAYOUT (format "opsgraph-store/2"). One environment (a directory with
 * data.mdb and lock.mdb), seven named databases. `be64` is an 8-byte
 * big-endian number, so memcmp order is numeric order.
 *
 * Every thread gets a HANDLE, a number from a counter in meta, in creation
 * order; its checkpoints, values and pending writes are keyed by the handle
 * rather than the thread id. New threads therefore append at the right edge
 * of every B-tree, and puts there use MDB_APPEND, which fills pages to the
 * brim where an insert in the middle splits a full page in half. A thread
 * that is resumed long after newer threads were created starts a new
 * SEGMENT: one more handle for its checkpoints from then on (SEGMENTS
 * below).
 *
 *   meta       "format"               -> "opsgraph-store/2"
 *              Written when the environment is created; checked on every
 *              open, so a foreign LMDB environment is refused before
 *              anything is written to it, and a store of another format
 *              with a message that says which.
 *              "next_thread"          -> be64: the next handle to hand out
 *   llmlog     (store_lmdb_llmlog.c)  the LLM usage log; created by its first
 *              write, so it may be missing
 *   incidents  (store_lmdb_incidents.c) the index of finished incidents for
 *              the similar-incident search; created by its first write
 *   thread_ids T                      -> be64(h0), T the thread id
 *   threads    be64(h0)               -> thread row
 *              What does not change from one checkpoint to the next: the
 *              thread id, its creation time, the graphs it ran (name and
 *              graph_file: a list, as a thread may be resumed with another
 *              file), its channel names in first-seen order, its segments.
 *              Written when the thread is created and when one of those
 *              lists grows (a new channel, graph or segment), not by every
 *              put: the thread index (og_store_lmdb_threads) takes status,
 *              step, latest id, interrupts, error and updated_at from the
 *              thread's latest checkpoint, the last key of its last
 *              segment (MDB_SET_RANGE, MDB_PREV).
 *   ckpts      be64(h) be64(id)       -> checkpoint record
 *              h the segment holding id. Ordered by thread and id: history
 *              is one backward cursor walk per segment, the latest is the
 *              last key. The record holds the parent link and, per channel,
 *              (index into the row's names, version, origin) where origin is
 *              the id of the checkpoint whose put stored the value: never
 *              the value itself.
 *   values     be64(h) be64(origin) varint(c) -> JSON text of channel c's value
 *              h the segment holding origin. Written only by the put whose
 *              channel version differs from the parent's (the version
 *              changes only in a step that wrote the channel), so a
 *              7-channel state where one channel changed costs one value
 *              row, not seven (pain point B1: O(N^2) bloat). Keying by
 *              origin id rather than version keeps forks apart: two
 *              branches that both reach version v of c after a fork store
 *              two rows. A put's rows follow its record's key order, so
 *              they append too.
 *   writes     be64(h) be64(id) task  -> JSON {"task","node","writes","next"}
 *              Pending writes: a task of the step that started from
 *              checkpoint `id` finished before its siblings. One row per
 *              task, so a retry of the same task replaces its row
 *              (idempotent).
 *   leases     T                      -> lease row (owner, until)
 *   (main)     LMDB's catalogue of the named databases above.
 * Subgraph namespaces, when they come, get handles of their own (a
 * thread_ids key "T\0ns"), so the keys above stay fixed-size.
 *
 * Records are a small binary format (the codec in store_lmdb_int.h: varints,
 * length-prefixed strings, optional JSON texts), each starting with a version
 * byte (2). Free-form JSON parts (next tasks, pending, interrupts, error,
 * writes summary, resumed, journals, breakpoints, channel values) are
 * og_json_print's text (core/json.h: cJSON's, with exact numbers, several
 * times faster), read back by ogl_json_parse (a parser for that text that
 * builds cJSON's tree, cJSON's parser as its fallback).
 *
 *   checkpoint: u8 2, varint parent_id, zigzag step,
 *     zigzag (created_ms - the row's created_ms), varint graph index,
 *     word source, word status,
 *     varint nch, nch * (varint name index, varint version, varint oref),
 *     varint njoins, njoins * varint seen,
 *     opt next, opt pending, opt interrupts, opt error, opt writes,
 *     opt resumed, opt journals, opt breakpoints
 *     [times: varint n, n * (bytes task id, zigzag created_ms - start_ms,
 *      varint end_ms - start_ms)]  (added later; absent = the record ends)
 *     where oref 0 = no value, 1 = origin is the version (the runner's
 *     versions are checkpoint ids, so that is the usual case), n = origin n-2;
 *     word = varint code of input/loop/update/fork/resume/running/done/
 *     interrupted/error (1..9), or 0 and the bytes;
 *     opt = varint 0 for null, else varint len+1 and the text.
 *   thread row: u8 2, bytes thread id, zigzag created_ms,
 *     varint ngraphs, ngraphs * (bytes graph, opt graph_file),
 *     varint nch, nch * bytes name,
 *     varint nseg, nseg * (varint handle, varint first id)
 *   lease row: u8 2, zigzag until_ms, bytes owner
 *
 * SEGMENTS. Appends keep pages full, and full pages are what a later insert
 * in the middle splits in half. In S4 (10,000 threads paused, then each
 * resumed) every resume inserted 3 checkpoints and 4 values into pages
 * filled to the brim by the pause phase: the store grew from 29.6 MB to
 * 57.3 MB for 50% more checkpoints (636 B/checkpoint after resume against
 * 493 after the pause), and RSS with it. So a put at the end of a thread
 * whose last segment's handle is more than OGL_SEG_GAP (256) handles behind
 * the newest starts a segment: a new handle h, appended to the thread row
 * as (h, first id = the put's id); ids from there on are keyed under h and
 * append. Segments hold ascending id ranges, so the handle of an id is the
 * last segment whose first id is <= id, and no id ever changes segment (a
 * segment starts only above every id of the thread). A thread gets at most
 * one segment per 4 << nseg checkpoints, so puts that interleave with many
 * other threads' make O(log n) of them. With them S4 after resume: 45.1 MB,
 * 501 B/checkpoint; resume phase 24,100 -> 27,100-27,300 threads/s; peak
 * RSS 67.2 -> 55.2 MB (with a libcurl-linked binary: 8 MB at start).
 * Sync group commits (GROUP COMMIT below) use segments for another end: a
 * batch of 30-60 puts of as many threads dirtied one leaf page of ckpts
 * and one of values per put, each in its thread's part of the tree, and
 * pages written are what a sync commit costs (~1.6 pages a put, written as
 * ~24 separate requests of a commit's data flush). So in a sync commit a
 * put starts a segment whenever its thread's last segment is not the
 * newest handle, at most one per 1 << (nseg / 4) checkpoints (about
 * 4 log2(n / 4) segments for n checkpoints: 5 for the 8 of an S1 thread,
 * 9 for 20, 31 for 1,000): the
 * batch's records and values then append side by side at the right edge,
 * and what the batch dirties in the middle is the threads' rows, which
 * sit together when the threads are recent. Measured on S1c at 64
 * threads: 24 -> 13.5 write requests and 204 -> 116 KB per data flush.
 *
 * WHY, WITH FIGURES (bench/run.sh, 2 vCPUs; before -> after this layout).
 * Format 1 keyed everything by "T\0N\0" + be64 id, wrote the thread row on
 * every put, repeated the graph name, graph_file (~52 B) and channel names
 * (~45 B) in every record, and printed JSON with cJSON.
 *  - Bytes: S1 977 -> 505 B/checkpoint: rows ~600 -> 465 B (with LMDB's
 *    10 B per row; 16-byte keys instead of ~30, 17 instead of ~34 for
 *    values, no names in records, the thread row written once), pages
 *    55-65% full -> 92% with appends; S2 260 -> 144 B; S4 after resume
 *    869 -> 501 B.
 *  - S1 async: 10,000 -> 11,900-12,300 runs/s. Per put (callgrind): one
 *    mdb_put fewer (the thread row), og_json_print instead of cJSON's
 *    printer, no snprintf of the message text up front. get: ogl_json_parse
 *    (cJSON's parse_number goes through strtod for every number),
 *    a hand-made ISO-8601 time instead of gmtime_r + snprintf (a sixth of
 *    a get; og_clock_iso8601 since), literal
 *    keys not copied, no writes cursor when there are no pending writes.
 *  - maxdbs stays under 16: at 16, LMDB's read transaction calloc passes
 *    glibc's small-bin limit (1 KiB) and every get paid a malloc_consolidate
 *    (S1 get: 39 -> 33 M instructions). 12 (for the incident index) gives
 *    a block of 824 B, measured with malloc_usable_size on a read txn.
 *  - S4: pause 16,100 -> 19,400-19,900 threads/s, resume 19,600 ->
 *    27,100-27,300, peak RSS 69.8 -> 55.2 MB. RSS is the process's
 *    resident pages: the anonymous part (heap: 3-4 MB, flat over the
 *    pause phase, so a paused thread costs no memory) plus the file-backed
 *    pages of data.mdb that the map has touched (RssFile, ~all of the
 *    store) plus the binary and its libraries. Nothing evicts map pages to
 *    look smaller (no madvise(MADV_DONTNEED)): the store is smaller.
 *  - S2 5.0 -> 4.35 us/step; S3 history 0.68 -> 0.46 ms, with values
 *    2.72 -> 1.93 ms.
 * Measured and not taken:
 *  - Opening without MDB_WRITEMAP (commits write(2) malloc'd pages): S1
 *    12,470 -> 7,740 runs/s, S4 pause 20,400 -> 12,100, and no RSS saved
 *    (reads still fault the pages into the map). Taken for sync
 *    environments only (GROUP COMMIT below).
 *  - A longer async flush interval: flush_ms 1000 gives S4 +10-13% (fewer
 *    msyncs writing back the same hot pages and write-protecting them) and
 *    nothing in S1 (a rep is shorter than 100 ms); the default stays 100
 *    ms, as the issue asks for "at least every N ms". MS_ASYNC would not
 *    flush at all on Linux: not the contract.
 *
 * TRANSACTIONS. put is one write transaction: values, record, and the
 * thread's handle and row when they change, commit together or not at all
 * (in sync mode the transaction may carry other callers' writes too: GROUP
 * COMMIT below). An environment whose first handle in the process is
 * async is opened MDB_WRITEMAP (commits do not copy dirty pages through
 * write(2)); one whose first handle is sync is not (see GROUP COMMIT: a
 * sync commit is bound by its flushes, which write(2)'s pages make
 * cheaper). Handles of the other kind share it as it is. Both are opened
 * MDB_NOTLS (read transactions are not tied to a thread). Async durability
 * sets MDB_NOSYNC on the environment and a flusher thread calls
 * mdb_env_sync every flush_ms and at close.
 * MDB_MAP_FULL aborts, doubles the map and reruns the transaction;
 * MDB_MAP_RESIZED (another process grew it) adopts the new size and reruns.
 * Resizing needs no transaction of this process active, so every transaction
 * holds map_lock shared and a resize holds it exclusive; and the file must
 * never shrink under another process's map (see map_grow), so resizes and
 * opens of all processes take an flock on the directory.
 *
 * GROUP COMMIT (sync durability). A sync commit costs two flushes: with
 * MDB_WRITEMAP, mdb_txn_commit msyncs the map (the transaction's pages),
 * then writes the meta page that makes them the current state and msyncs
 * that page (without it, as sync environments are now opened: pwritev of
 * the pages and fdatasync, then the meta page through an O_DSYNC
 * descriptor). One flush of a dirty page takes 85 us on the disk these figures
 * come from (ext4 on virtio, 2 vCPUs), so a sync put took 185-210 us, and
 * since LMDB has one writer at a time, every runner of every process shared
 * one ceiling of ~4,500 durable writes/s, whatever the number of threads
 * (measured: 4,400 at 1 thread, 4,100 at 64).
 *
 * So concurrent sync writers of a process share a transaction: ogl_write
 * queues the caller's fn; the first caller that finds no leader becomes it,
 * takes write_lock, begins the write transaction (which waits for other
 * processes' writers), and only then takes the whole queue as its batch, so
 * what queued up while it waited rides along. It runs every fn of the batch
 * in queue order in that one transaction, commits it with LMDB's ordinary
 * sync commit, hands leadership to the head of the queue (what arrived
 * during the commit), and wakes its batch. Each caller still returns only
 * after the commit holding its write is on disk: the sync contract is
 * unchanged, and a single caller runs exactly as before (a batch of one; no
 * waiting for company). The average batch is about half the callers in
 * flight (one half is committing while the other queues), so fsyncs per
 * write is about 4/P: measured 2.0 at 1 thread, 0.92 at 4, 0.25 at 16, 0.065
 * at 64, for 4,500 / 8,500 / 19,000-25,000 / 39,000-57,000 durable writes/s
 * (puts and put_writes, in runs of 8 puts + 2 put_writes: 3,900-5,700 runs/s
 * at 64 threads, against 410). With every flush slowed to ~250 us
 * (OG_TEST_SYNC_US=40 in the unit test; the disk takes 150-200 us),
 * 64 threads still do ~31,000 writes/s, 3,100 runs/s, against 2,100 writes/s
 * before. Two processes of 8 threads: 15,000-18,000 writes/s together,
 * against 4,600. Single-threaded sync put: 206-215 us, as before (212-214
 * us). End to end, bench S1c (the S1 incident pipeline in sync mode, P
 * threads on one handle): 3,200-3,500 runs/s at 64 threads against 340-390,
 * 1,240 at 8 against 405, 411 at 1 against 417. At 64 threads the disk is still the limit: 65-80%
 * of the wall time is in msync, because a batch's data flush writes ~30
 * writes' pages (~465 us; the meta flush stays ~87 us). Callers
 * are woken through a mutex of their own each, not under q_mu: waking
 * 64 of them under one lock had them all queue on it again (a third of the
 * time in futex waits; 37,000 -> 45,000 writes/s once removed).
 *
 * Failures stay each caller's own. A fn failing with -OG_E* (a conflicting
 * checkpoint id, put_writes without its checkpoint, a lease held by another,
 * a value too large) may have written part of its work first, and LMDB 0.9
 * has no nested transactions with MDB_WRITEMAP to undo just that part; so
 * the transaction is aborted, that caller gets its error, and the rest of the
 * batch reruns without it (fns start from scratch each call, as map growth
 * already required). Its result is what it would have been alone at its
 * place in the queue. An LMDB failure (MDB_MAP_FULL grows the map and reruns
 * the batch) that cannot be pinned on one fn makes each caller run alone.
 * Async writes are not queued: an async commit has no flush to share.
 *
 * Why not the alternatives, which keep one transaction per caller:
 *  - Commit with MDB_NOSYNC and have a leader call mdb_env_sync for everyone
 *    committed so far. lmdb.h: MDB_NOSYNC "means a system crash can corrupt
 *    the database", and with MDB_WRITEMAP even a write-ordering filesystem
 *    does not help. Concretely: mdb_env_sync is one msync of the whole map,
 *    which writes the new meta page (page 0 or 1) and the data pages it
 *    points to with no ordering between them, while other threads keep
 *    committing; the kernel may also write the meta page back before the data
 *    at any time. A power loss in between leaves a meta page pointing at pages
 *    never written: not lost transactions but a corrupt environment (and
 *    writes of later transactions may reuse pages of the last durable
 *    state). Rejected: sync must survive power loss intact.
 *  - MDB_NOMETASYNC and a shared mdb_env_sync. Safe (lmdb.h: it "maintains
 *    database integrity"; each commit still flushes its data before writing
 *    its meta page), but each commit keeps one flush of its own inside LMDB's
 *    writer lock: at 85-200 us that caps every process together at
 *    5,000-12,000 commits/s, short of the ~25,000/s wanted.
 * One transaction for many callers keeps LMDB's own sync commit, so power
 * loss after a caller returned loses nothing it wrote, and a crash at any
 * point (SIGKILL of the leader mid-batch included) leaves the previous
 * committed state, the batch being one transaction. Not done: the same
 * batches with MDB_NOMETASYNC, each commit's data msync also flushing the
 * previous commit's meta page, would save the meta flush: ~16% of the flush
 * time at 64 threads (87 of ~550 us per commit), ~35% at 4, at the price of
 * callers waiting for the next batch or an extra mdb_env_sync.
 *
 * WHAT A SYNC COMMIT COSTS NOW (2026-11-24, S1c at 64 threads, traced at
 * the block layer with perf): the flushes are not the cost (a cache flush
 * takes ~25 us here) but the write requests a data flush issues, ~20 us
 * each on this virtio disk, one per run of adjacent dirty pages, plus the
 * kernel's work per page before them (write-protecting each page of the
 * map, with a TLB shootdown to the other core, and the write fault that
 * follows on the page's next use). Per batch of ~30 writes: 204 KB in 24
 * requests, ~400 us; the meta flush one request, ~60 us; the batch's fns
 * 120-180 us of CPU inside the write lock, and waking the callers ~365 us
 * of one core. Three changes:
 *  - Segments in sync commits (SEGMENTS above): 116 KB in 13.5 requests.
 *  - The batch is woken as a tree (wake_batch): the leader wakes two
 *    callers and each woken caller two more, instead of the leader waking
 *    all of them one by one while the next batch wanted the CPU; the
 *    batch's fns went from 160-180 us to 100-115 us.
 *  - An environment opened sync is not mapped MDB_WRITEMAP: LMDB copies
 *    the dirty pages with pwritev and fdatasyncs, and writes the meta page
 *    through an O_DSYNC descriptor, its standard commit; no write faults
 *    in the fns and no write-protecting pass in the flush. ~10% in S1c.
 *    Async handles opened later in the same process share the environment
 *    and so commit through write(2) too (slower, correct).
 * Together, S1c at 64 threads, alternating runs of the old and new builds
 * (the VM is shared, and the disk's speed varies by 2x from minute to
 * minute): medians 3,100 -> 3,900 runs/s under load, 4,650 -> 5,500-6,000
 * in quieter minutes. None of them changes what a commit makes durable,
 * when a caller returns, or LMDB's commit order (data pages, then the meta
 * page, each on disk before the next step).
 * Measured and not taken:
 *  - MDB_NOMETASYNC with the leader flushing the meta page outside the
 *    write lock (msync of the first two pages, through a mapping of its
 *    own) while the next batch builds. Safe (LMDB writes a meta page into
 *    the map only after its data pages are on disk, and keeps the previous
 *    meta page), but no faster: the meta write queued behind the next
 *    batch's data writes on the disk, so callers waited as long, and the
 *    next batches were smaller (25 against 30 writes): -5 to -10%.
 *  - Gathering (PostgreSQL's commit_delay): the next leader waits, up to
 *    half the last commit's duration, for the last batch's callers to queue
 *    again. Batches of 45-60 instead of 30, but the waits ate the gain:
 *    within the noise, either way.
 *  - Channel values in the ckpts tree right after their record (values
 *    and record on one leaf page): 204 -> 152 KB per flush, no gain seen in
 *    throughput, and a format change.
 *
 * WHAT BOUNDS IT (2026-11-25, S1c sync at 64 threads, block layer traced
 * with perf; og_store_lmdb_sync_stats counts commits and their flush time).
 * A commit carries ~30 writes and writes ~96 KB of pages; it takes 400-500
 * us: the data flush ~230-320 us (its requests, then a cache flush), the
 * meta page ~100 us (a write and a cache flush), LMDB's pwrites ~25 us. The
 * cost follows the bytes, not the number of requests: with a read
 * transaction pinned so that no page was reused, the same ~96 KB went out
 * contiguous in 2 requests instead of 14 and took as long (the disk does
 * ~0.4-0.5 GB/s of such writes, while a lone 4 KiB write + fdatasync takes
 * ~70 us). The cycle is the batch's fns (~75 us) then its commit, and the
 * process used 1.1 of the 2 cores. Measured and not taken, none faster
 * than the noise (alternating runs of 3 reps):
 *  - the leader committing as SCHED_FIFO (no run-queue wait after its I/O);
 *  - zeros written past the file's end ahead of the pages (the data flush
 *    then had no inode write: 345 -> 235 us median, yet the commits took
 *    as long);
 *  - a futex word per caller instead of a mutex and condition variable
 *    (fewer wakes and context switches; CPU was not the limit);
 *  - MDB_NOMETASYNC with the meta flush after the write lock, again: 315
 *    us commits, but callers woken later, so batches of 25.
 * What would move it: fewer bytes per commit (pages dirtied per write).
 *
 * Processes: each process batches its own callers; LMDB's writer lock
 * serialises their commits. While one process commits, the others' queues
 * grow, and since a leader takes its batch after it got the writer lock,
 * their next commits carry more. Sharing one flush between processes would
 * need NOSYNC-style commits, rejected above.
 */
#include "store_lmdb_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/json.h"

#define OGL_FORMAT_KEY "format"
#define OGL_FORMAT_MAGIC "opsgraph-store/"
#define OGL_FORMAT_VERSION 2
#define OGL_DEFAULT_MAP ((size_t)64 << 20)
#define OGL_DEFAULT_FLUSH_MS 100
#define OGL_LMDB_MAGIC 0xBEEFC0DEu	/* mm_magic of an LMDB meta page */
#define OGL_MAX_TRIES 64		/* map growths per transaction */

/* ---- buffers, codec and JSON helpers -------------------------------------- */

int ogl_buf_reserve(struct ogl_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *p;

	if (b->failed)
		return -1;
	if (extra > OGL_MAX_RECORD || b->len > OGL_MAX_RECORD - extra)
		goto fail;
	while (cap - b->len < extra)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	if (!(p = realloc(b->p, cap)))
		goto fail;
	b->p = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = true;
	return -1;
}

void ogl_buf_release(struct ogl_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

char *ogl_json_text(const cJSON *v, size_t *len)
{
	return og_json_print(v, len);
}

int ogl_put_opt_json(struct ogl_buf *b, const cJSON *v)
{
	size_t n;
	char *text;

	if (!v) {
		ogl_put_varint(b, 0);
		return 0;
	}
	if (!(text = og_json_print(v, &n)))
		return -OG_ENOMEM;
	ogl_put_varint(b, n + 1);
	ogl_put_raw(b, text, n);
	free(text);
	return b->failed ? -OG_ENOMEM : 0;
}

void ogl_key_ckpt(struct ogl_buf *k, uint64_t h, uint64_t id)
{
	ogl_buf_reset(k);
	ogl_put_be64(k, h);
	ogl_put_be64(k, id);
}

cJSON *ogl_json_str(struct ogl_span s)
{
	char small[256], *z = small;
	cJSON *v;

	if (s.n >= sizeof(small) && !(z = malloc(s.n + 1)))
		return NULL;
	memcpy(z, s.p, s.n);
	z[s.n] = '\0';
	v = cJSON_CreateString(z);
	if (z != small)
		free(z);
	return v;
}

/* ---- parsing stored JSON ------------------------------------------------------ */

/* A parser for the texts this store wrote (og_json_print's), building the
 * tree cJSON_ParseWithLength would: the same types, values, valueint
 * saturation, key order and child links (the first child's prev is the
 * last, which cJSON's appends rely on), items from the allocator cJSON
 * frees with (malloc; no hooks are installed). cJSON's parser formats every
 * number through strtod and grows nothing in place; this one reads integers
 * of up to 15 digits by hand (exact: below 2^53) and hands only other
 * numbers to strtod, as cJSON does. Anything it does not expect (bad
 * escapes, \u0000, deep nesting, malformed text) makes it give up, and
 * ogl_json_parse asks cJSON instead, so the answer is always cJSON's. */
struct jp {
	const char *p, *end;
	int depth;
};

static cJSON *jp_new(int type)
{
	cJSON *c = calloc(1, sizeof(*c));

	if (c)
		c->type = type;
	return c;
}

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (unsigned char)*j->p <= 32)
		j->p++;
}

static int jp_hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* The string at j->p (its opening quote), decoded into a new buffer. */
static char *jp_string(struct jp *j)
{
	const char *s = j->p + 1, *q;
	bool esc = false;
	char *out, *w;

	/* the closing quote: memchr (a word at a time) finds the first '"',
	 * which closes the string unless a backslash comes before it; then
	 * the walk is byte by byte */
	if (!(q = memchr(s, '"', (size_t)(j->end - s))))
		return NULL;
	if (memchr(s, '\\', (size_t)(q - s))) {
		esc = true;
		for (q = s; q < j->end && *q != '"'; q++)
			if (*q == '\\')
				q++;
	}
	if (q >= j->end || !(out = malloc((size_t)(q - s) + 1)))
		return NULL;
	j->p = q + 1;
	if (!esc) {
		memcpy(out, s, (size_t)(q - s));
		out[q - s] = '\0';
		return out;
	}
	for (w = out; s < q; s++) {
		unsigned cp, lo;
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		switch (*++s) {
		case 'b': *w++ = '\b'; continue;
		case 'f': *w++ = '\f'; continue;
		case 'n': *w++ = '\n'; continue;
		case 'r': *w++ = '\r'; continue;
		case 't': *w++ = '\t'; continue;
		case '"': case '\\': case '/': *w++ = *s; continue;
		case 'u': break;
		default: goto fail;
		}
		if (q - s < 5 || jp_hex4(s + 1, &cp) < 0 || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
			goto fail;
		s += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (q - s < 7 || s[1] != '\\' || s[2] != 'u' || jp_hex4(s + 3, &lo) < 0 ||
			    lo < 0xDC00 || lo > 0xDFFF)
				goto fail;
			cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
			s += 6;
		}
		/* at most as long as the escape it replaces */
		if (cp < 0x80) {
			*w++ = (char)cp;
		} else if (cp < 0x800) {
			*w++ = (char)(0xC0 | (cp >> 6));
			*w++ = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			*w++ = (char)(0xE0 | (cp >> 12));
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*w++ = (char)(0x80 | (cp & 0x3F));
		} else {
			*w++ = (char)(0xF0 | (cp >> 18));
			*w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*w++ = (char)(0x80 | (cp & 0x3F));
		}
	}
	*w = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

static cJSON *jp_number(struct jp *j)
{
	const char *p = j->p;
	uint64_t v = 0;
	int nd = 0;
	bool neg = false;
	double d;
	cJSON *c;

	if (p < j->end && *p == '-') {
		neg = true;
		p++;
	}
	for (; p < j->end && *p >= '0' && *p <= '9'; p++, nd++)
		v = nd < 18 ? v * 10 + (uint64_t)(*p - '0') : v;
	if (nd > 0 && nd <= 15 && (p == j->end || (*p != '.' && *p != 'e' && *p != 'E'))) {
		d = neg ? -(double)v : (double)v;
		j->p = p;
	} else {
		/* cJSON's way: the run of number characters, through strtod */
		char buf[64], *after;
		size_t n = 0;
		for (p = j->p; p < j->end && n < sizeof(buf) - 1 && *p && strchr("0123456789+-eE.", *p); p++)
			buf[n++] = *p;
		buf[n] = '\0';
		d = strtod(buf, &after);
		if (after == buf)
			return NULL;
		j->p += after - buf;
	}
	if (!(c = jp_new(cJSON_Number)))
		return NULL;
	c->valuedouble = d;
	c->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
	return c;
}

static cJSON *jp_value(struct jp *j);

/* An array or object at j->p (its bracket). */
static cJSON *jp_list(struct jp *j, bool obj)
{
	cJSON *c, *tail = NULL, *it;
	char close = obj ? '}' : ']';

	if (++j->depth > CJSON_NESTING_LIMIT || !(c = jp_new(obj ? cJSON_Object : cJSON_Array)))
		return NULL;
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return c;
	}
	for (;;) {
		char *key = NULL;
		if (obj) {
			jp_ws(j);
			if (j->p >= j->end || *j->p != '"' || !(key = jp_string(j)))
				goto fail;
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':') {
				free(key);
				goto fail;
			}
			j->p++;
		}
		jp_ws(j);
		if (!(it = jp_value(j))) {
			free(key);
			goto fail;
		}
		it->string = key;
		if (tail) {
			tail->next = it;
			it->prev = tail;
		} else {
			c->child = it;
		}
		tail = it;
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close)
			break;
		goto fail;
	}
	j->p++;
	c->child->prev = tail;
	j->depth--;
	return c;
fail:
	if (tail)
		c->child->prev = tail;
	cJSON_Delete(c);
	return NULL;
}

static cJSON *jp_value(struct jp *j)
{
	size_t left = (size_t)(j->end - j->p);
	cJSON *c;

	if (!left)
		return NULL;
	switch (*j->p) {
	case '{':
		return jp_list(j, true);
	case '[':
		return jp_list(j, false);
	case '"': {
		char *s = jp_string(j);
		if (!s || !(c = jp_new(cJSON_String))) {
			free(s);
			return NULL;
		}
		c->valuestring = s;
		return c;
	}
	case 'n':
		if (left >= 4 && !memcmp(j->p, "null", 4)) {
			j->p += 4;
			return jp_new(cJSON_NULL);
		}
		return NULL;
	case 't':
		if (left >= 4 && !memcmp(j->p, "true", 4) && (c = jp_new(cJSON_True))) {
			j->p += 4;
			c->valueint = 1;	/* as cJSON sets it */
			return c;
		}
		return NULL;
	case 'f':
		if (left >= 5 && !memcmp(j->p, "false", 5)) {
			j->p += 5;
			return jp_new(cJSON_False);
		}
		return NULL;
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return jp_number(j);
		return NULL;
	}
}

cJSON *ogl_json_parse(struct ogl_span s)
{
	struct jp j = { s.p, s.p + s.n, 0 };
	cJSON *v;

	if (!s.present)
		return cJSON_CreateNull();
	jp_ws(&j);
	if ((v = jp_value(&j)))
		return v;
	return cJSON_ParseWithLength(s.p, s.n);
}

int ogl_add_cs(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return -1;
	if (!cJSON_AddItemToObjectCS(o, k, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

int ogl_add(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return -1;
	if (!cJSON_AddItemToObject(o, k, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

int ogl_push(cJSON *a, cJSON *v)
{
	if (!v)
		return -1;
	if (!cJSON_AddItemToArray(a, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

int ogl_check_name(const char *kind, const char *s, struct og_err *err)
{
	if (!s || !*s)
		return og_err_set(err, -OG_EINVAL, "store: %s is empty", kind);
	if (strlen(s) > OGL_MAX_NAME)
		return og_err_set(err, -OG_EINVAL, "store: %s '%.40s...' is %zu bytes; the limit is %d",
				  kind, s, strlen(s), OGL_MAX_NAME);
	return 0;
}

int ogl_fail(int rc, const char *what, struct og_err *err)
{
	if (!ogl_is_mdb(rc))
		return rc;
	if (rc == MDB_MAP_FULL || rc == ENOSPC)
		return og_err_set(err, -OG_ESTORE, "store: %s: %s; free disk space (or run `opsgraph gc`)",
				  what, mdb_strerror(rc));
	if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_PANIC)
		return og_err_set(err, -OG_ESTORE, "store: %s: %s; the database file is damaged: restore "
				  "a copy (mdb_copy) or move it away", what, mdb_strerror(rc));
	return og_err_set(err, -OG_ESTORE, "store: %s: %s", what, mdb_strerror(rc));
}

/* ---- transactions ---------------------------------------------------------- */

/* The map's file never shrinks. With MDB_WRITEMAP, LMDB ftruncates data.mdb
 * to the map size whenever it maps it (open, mdb_env_set_mapsize), so a
 * process that maps it smaller than another process did would cut pages off
 * under that process (SIGBUS). Every size this store sets is therefore at
 * least the file's current size, read under an flock of the directory that
 * all opsgraph processes take around open and resize. */
static void grow_lock(struct ogl_env *e, int op)
{
	if (e->dirfd >= 0)
		while (flock(e->dirfd, op) < 0 && errno == EINTR)
			;
}

static size_t file_size(struct ogl_env *e)
{
	struct stat st;
	int fd;

	if (mdb_env_get_fd(e->env, &fd) || fstat(fd, &st) < 0)
		return 0;
	return (size_t)st.st_size;
}

/* Grows the map (full) or adopts another process's size (resized). Needs no
 * transaction of this process active: takes map_lock exclusive. */
static int map_grow(struct ogl_env *e, bool full)
{
	MDB_envinfo info;
	size_t fsize, want;
	int rc;

	pthread_rwlock_wrlock(&e->map_lock);
	grow_lock(e, LOCK_EX);
	mdb_env_info(e->env, &info);
	fsize = file_size(e);
	/* another process's larger map first; else double ours (LMDB raises a
	 * size below the data in use to that) */
	want = fsize > info.me_mapsize ? fsize : full ? info.me_mapsize * 2 : info.me_mapsize;
	rc = mdb_env_set_mapsize(e->env, want);
	grow_lock(e, LOCK_UN);
	pthread_rwlock_unlock(&e->map_lock);
	return rc;
}

static void mark_dirty(struct ogl_env *e)
{
	pthread_mutex_lock(&e->flush_mu);
	e->dirty = true;
	pthread_mutex_unlock(&e->flush_mu);
}

/* One write waiting for, or run by, a leader (GROUP COMMIT above). It lives
 * on the caller's stack; another thread touches it only while the caller
 * waits, and its last touch is unlocking mu (see wake). */
struct ogl_req {
	struct ogl_req *next;		/* queue, then batch order */
	ogl_txn_fn fn;
	void *ctx;
	const char *what;
	struct og_err *err;
	int rc;				/* the answer, once settled */
	bool settled;			/* rc is final (the runner's mark) */
	bool done, lead;		/* under mu: return rc / become the leader */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ogl_req *kid[2];		/* once done: the callers this one wakes */
};

/* Tells the waiting caller of r that it is done or is to lead. Its own
 * mutex, not q_mu: waking a whole batch under one lock made every woken
 * caller queue on that lock again (measured: a third of the time at 64
 * threads went to futex waits on it). Once mu is unlocked the caller may
 * return and r is gone, so r is not touched after that. */
static void wake(struct ogl_req *r, bool lead)
{
	pthread_mutex_lock(&r->mu);
	if (lead)
		r->lead = true;
	else
		r->done = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Wakes the callers r is to wake (wake_batch), r itself being done. */
static void wake_kids(struct ogl_req *r)
{
	struct ogl_req *a = r->kid[0], *b = r->kid[1];

	if (a)
		wake(a, false);
	if (b)
		wake(b, false);
}

/* Wakes the callers of a settled batch, whose head is the leader's own
 * request (self), as a binary tree in batch order: each woken caller wakes
 * two more before it returns. The leader waking a batch of 30 one by one
 * took ~12 us a wake, on one of the two cores that the next leader and the
 * woken callers wanted; the tree spreads the wakes over the callers, and
 * the last one wakes after ~log2(n) hops instead of n. */
static void wake_batch(struct ogl_req *batch, struct ogl_req *self)
{
	struct ogl_req *r, *c, *next;

	if (batch != self) {	/* not the shape the tree needs: one by one */
		for (r = batch; r; r = next) {
			next = r->next;	/* before wake: r may be gone after it */
			if (r != self)
				wake(r, false);
		}
		return;
	}
	/* all links first: a woken caller reads its own, and its kids wait
	 * until it wakes them, so none of them has returned yet */
	for (r = batch, c = batch->next; r; r = r->next) {
		r->kid[0] = c;
		c = c ? c->next : NULL;
		r->kid[1] = c;
		c = c ? c->next : NULL;
	}
	wake_kids(self);
}

/* Makes the environment's MDB_NOSYNC flag `nosync`. Under write_lock. */
static int set_nosync(struct ogl_env *e, bool nosync)
{
	int rc;

	if (nosync == e->nosync)
		return 0;
	/* LMDB 0.9 ignores MDB_NOSYNC given to mdb_txn_begin: the flag is the
	 * environment's. Handles of both kinds on one environment switch it,
	 * with no transaction or flush of this process running; one kind alone
	 * never does. */
	pthread_rwlock_wrlock(&e->map_lock);
	rc = mdb_env_set_flags(e->env, MDB_NOSYNC, nosync);
	pthread_rwlock_unlock(&e->map_lock);
	if (rc == 0)
		e->nosync = nosync;
	return rc;
}

static void count_sync_commit(struct ogl_env *e, size_t writes, int64_t us)
{
	__atomic_fetch_add(&e->sc_commits, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->sc_writes, (uint64_t)writes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->sc_flush_us, (uint64_t)(us > 0 ? us : 0), __ATOMIC_RELAXED);
}

void og_store_lmdb_sync_stats(const struct og_store_lmdb *s, struct og_store_sync_stats *out)
{
	out->commits = __atomic_load_n(&s->e->sc_commits, __ATOMIC_RELAXED);
	out->writes = __atomic_load_n(&s->e->sc_writes, __ATOMIC_RELAXED);
	out->flush_s = (double)__atomic_load_n(&s->e->sc_flush_us, __ATOMIC_RELAXED) / 1e6;
}

/* Runs the unsettled requests from `first` up to `stop` (exclusive) in one
 * write transaction, in order, commits it and settles each. Under
 * write_lock. `txn` is one the caller began holding map_lock shared, or NULL
 * (begin here). A request whose fn fails with -OG_E* is settled with that
 * alone: the transaction is aborted (the fn may have written part of its
 * work before failing) and the others rerun without it. An LMDB failure
 * other than map growth cannot be pinned on one fn: each request is then
 * run alone, so each gets its own answer. */
static void run_batch(struct ogl_env *e, struct ogl_req *first, struct ogl_req *stop, MDB_txn *txn)
{
	struct ogl_req *r, *bad;
	size_t left = 0, nfn;
	int rc, tries = 0;

	for (r = first; r != stop; r = r->next)
		left += !r->settled;
	while (left) {
		bad = NULL;
		rc = 0;
		if (!txn) {
			pthread_rwlock_rdlock(&e->map_lock);
			if ((rc = mdb_txn_begin(e->env, NULL, 0, &txn)))
				txn = NULL;
		}
		if (txn) {
			/* PUT CACHE (store_lmdb_ckpt.c): a gap after this
			 * process's last commit is another process's commit */
			size_t id = mdb_txn_id(txn);
			if (id != e->pc_last_commit + 1)
				e->pc_valid_from = id - 1;
			e->pc_txn_clean = true;
		}
		nfn = 0;
		for (r = first; rc == 0 && r != stop; r = r->next) {
			if (r->settled)
				continue;
			nfn++;
			e->pc_fn_clean = false;
			if ((rc = r->fn(e, txn, r->ctx, r->err)) && !ogl_is_mdb(rc))
				bad = r;
			if (!e->pc_fn_clean)
				e->pc_txn_clean = false;
		}
		if (txn) {
			size_t id = mdb_txn_id(txn);
			bool timed = rc == 0 && !e->nosync;
			int64_t t0 = timed ? og_clock_mono_us() : 0;

			if (rc == 0)
				rc = mdb_txn_commit(txn);	/* frees txn, even on failure */
			else
				mdb_txn_abort(txn);
			if (rc == 0 && timed)
				count_sync_commit(e, nfn, og_clock_mono_us() - t0);
			if (rc == 0) {
				e->pc_last_commit = id;
				if (!e->pc_txn_clean)
					e->pc_valid_from = id + 1;
			} else {
				ogl_pc_drop(e, id);	/* none of its puts is in the store */
			}
			txn = NULL;
		}
		pthread_rwlock_unlock(&e->map_lock);
		if (bad) {
			bad->rc = rc;
			bad->settled = true;
			left--;
			continue;
		}
		if (rc == 0)
			break;
		if ((rc == MDB_MAP_FULL || rc == MDB_MAP_RESIZED) && tries++ < OGL_MAX_TRIES &&
		    (rc = map_grow(e, rc == MDB_MAP_FULL)) == 0)
			continue;
		for (r = first; r != stop; r = r->next) {
			if (r->settled)
				continue;
			if (left > 1) {
				run_batch(e, r, r->next, NULL);
			} else {
				r->rc = ogl_fail(rc, r->what, r->err);
				r->settled = true;
			}
		}
		return;
	}
	for (r = first; r != stop; r = r->next) {
		if (!r->settled) {
			r->rc = 0;
			r->settled = true;
		}
	}
}

/* The leader's part: the writes queued by the time this process holds
 * LMDB's writer lock go in one transaction and one commit. Called with
 * e->leading set; self is the leader's own request, in the queue. */
static void lead(struct ogl_env *e, struct ogl_req *self)
{
	struct ogl_req *batch, *r, *next;
	MDB_txn *txn = NULL;
	int rc;

	pthread_mutex_lock(&e->write_lock);
	if ((rc = set_nosync(e, false)) == 0) {
		pthread_rwlock_rdlock(&e->map_lock);
		/* waits for the writers of other processes: whatever queues
		 * meanwhile joins this batch */
		if (mdb_txn_begin(e->env, NULL, 0, &txn)) {
			txn = NULL;	/* run_batch tries again and handles the error */
			pthread_rwlock_unlock(&e->map_lock);
		}
	}
	pthread_mutex_lock(&e->q_mu);
	batch = e->q_head;
	e->q_head = NULL;
	e->q_tail = &e->q_head;
	pthread_mutex_unlock(&e->q_mu);
	if (rc == 0) {
		run_batch(e, batch, NULL, txn);
	} else {
		for (r = batch; r; r = r->next)
			r->rc = ogl_fail(rc, r->what, r->err);
	}
	pthread_mutex_unlock(&e->write_lock);
	/* hand over first, so the next batch starts while this one's callers
	 * wake: the head of the queue leads (e->leading stays set) */
	pthread_mutex_lock(&e->q_mu);
	next = e->q_head;
	if (!next)
		e->leading = false;
	pthread_mutex_unlock(&e->q_mu);
	if (next)
		wake(next, true);
	wake_batch(batch, self);
}

int ogl_write(struct og_store_lmdb *s, ogl_txn_fn fn, void *ctx, const char *what, struct og_err *err)
{
	struct ogl_env *e = s->e;
	struct ogl_req r = { NULL, fn, ctx, what, err, 0, false, false, false };
	bool leader;
	int rc, cancel;

	if (s->read_only)
		return og_err_set(err, -OG_ESTATE, "store: %s: '%s' was opened read-only", what, e->path);
	if (s->durability == OG_DURABLE_ASYNC) {
		/* nothing to share: an async commit costs microseconds */
		pthread_mutex_lock(&e->write_lock);
		if ((rc = set_nosync(e, true)) == 0) {
			run_batch(e, &r, NULL, NULL);
			if ((rc = r.rc) == 0)
				mark_dirty(e);
		} else {
			rc = ogl_fail(rc, what, err);
		}
		pthread_mutex_unlock(&e->write_lock);
		return rc;
	}
	/* a caller cancelled while it waits would leave r, on its stack, in
	 * another thread's batch */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	pthread_mutex_lock(&e->q_mu);
	*e->q_tail = &r;
	e->q_tail = &r.next;
	if ((leader = !e->leading))
		e->leading = true;
	pthread_mutex_unlock(&e->q_mu);
	if (!leader) {
		pthread_mutex_lock(&r.mu);
		while (!r.done && !r.lead)
			pthread_cond_wait(&r.cv, &r.mu);
		leader = r.lead;
		pthread_mutex_unlock(&r.mu);
		if (!leader)
			wake_kids(&r);
	}
	if (leader)
		lead(e, &r);	/* r is in the batch it runs */
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	pthread_setcancelstate(cancel, NULL);
	return r.rc;
}

int ogl_read(struct og_store_lmdb *s, ogl_txn_fn fn, void *ctx, const char *what, struct og_err *err)
{
	struct ogl_env *e = s->e;
	int rc, tries;

	for (tries = 0;; tries++) {
		MDB_txn *txn = NULL;

		pthread_rwlock_rdlock(&e->map_lock);
		rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn);
		if (rc == 0) {
			rc = fn(e, txn, ctx, err);
			mdb_txn_abort(txn);
		}
		pthread_rwlock_unlock(&e->map_lock);
		if (rc != MDB_MAP_RESIZED || tries >= OGL_MAX_TRIES)
			break;
		if ((rc = map_grow(e, false)) != 0)
			break;
	}
	return rc ? ogl_fail(rc, what, err) : 0;
}

/* ---- the async flusher ----------------------------------------------------- */

static void flush_now(struct ogl_env *e)
{
	bool dirty;

	pthread_mutex_lock(&e->flush_mu);
	dirty = e->dirty;
	e->dirty = false;
	pthread_mutex_unlock(&e->flush_mu);
	if (!dirty)
		return;
	pthread_rwlock_rdlock(&e->map_lock);
	mdb_env_sync(e->env, 1);
	pthread_rwlock_unlock(&e->map_lock);
}

static void *flusher_main(void *arg)
{
	struct ogl_env *e = arg;
	struct timespec ts;

	pthread_mutex_lock(&e->flush_mu);
	while (!e->flush_stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += e->flush_ms / 1000;
		ts.tv_nsec += (long)(e->flush_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&e->flush_cv, &e->flush_mu, &ts);
		if (e->dirty && !e->flush_stop) {
			pthread_mutex_unlock(&e->flush_mu);
			flush_now(e);
			pthread_mutex_lock(&e->flush_mu);
		}
	}
	pthread_mutex_unlock(&e->flush_mu);
	return NULL;
}

/* Starts the flusher, or makes it flush at least every flush_ms. */
static int flusher_start(struct ogl_env *e, int flush_ms, struct og_err *err)
{
	int rc;

	if (flush_ms <= 0)
		flush_ms = OGL_DEFAULT_FLUSH_MS;
	pthread_mutex_lock(&e->flush_mu);
	if (!e->flush_ms || flush_ms < e->flush_ms)
		e->flush_ms = flush_ms;
	pthread_mutex_unlock(&e->flush_mu);
	if (e->flusher_on)
		return 0;
	if ((rc = pthread_create(&e->flusher, NULL, flusher_main, e)) != 0)
		return og_err_set(err, -OG_ENOMEM, "store: cannot start the flusher thread: %s", strerror(rc));
	e->flusher_on = true;
	return 0;
}

/* ---- opening ----------------------------------------------------------------- */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ogl_env *reg_head;

static int not_ours(const char *path, const char *why, struct og_err *err)
{
	return og_err_set(err, -OG_EINVAL, "'%s' is not an opsgraph database (%s); move it away or pass "
			  "another --db", path, why);
}

static int cannot_open(const char *path, const char *doing, int e, struct og_err *err)
{
	return og_err_set(err, -OG_EIO, "cannot %s '%s': %s; check its permissions or pass another --db",
			  doing, path, strerror(e));
}

static int mkdir_p(const char *path, struct og_err *err)
{
	char *p = strdup(path), *q;
	int rc = 0;

	if (!p)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	for (q = p + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = cannot_open(p, "create the directory", errno, err);
			break;
		}
		*q = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

/* "DIR/NAME" into buf. */
static int join_path(char *buf, size_t len, const char *dir, const char *name, struct og_err *err)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		return og_err_set(err, -OG_EINVAL, "store: path '%s' is too long", dir);
	return 0;
}

/* Checks what is at `path` before LMDB touches anything: a directory that is
 * missing (created unless ro), empty, or holds an LMDB data.mdb. *fresh is
 * set when there is no data yet. */
static int check_path(const char *path, bool ro, bool *fresh, struct og_err *err)
{
	char data[4096];
	struct stat st;
	unsigned char head[24];
	uint32_t magic;
	DIR *d;
	struct dirent *de;
	int fd, rc;
	ssize_t n;

	*fresh = false;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return cannot_open(path, "open", errno, err);
		if (ro)
			return og_err_set(err, -OG_ENOENT, "no opsgraph database at '%s' (nothing has run "
					  "with this --db yet)", path);
		*fresh = true;
		return mkdir_p(path, err);
	}
	if (!S_ISDIR(st.st_mode))
		return not_ours(path, S_ISREG(st.st_mode) ? "it is a regular file, and a database is a "
				"directory" : "it is not a directory", err);
	if ((rc = join_path(data, sizeof(data), path, "data.mdb", err)) < 0)
		return rc;
	if (stat(data, &st) < 0) {
		if (errno != ENOENT)
			return cannot_open(data, "open", errno, err);
		if (!(d = opendir(path)))
			return cannot_open(path, "list", errno, err);
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "lock.mdb"))
				break;
		}
		closedir(d);
		if (de)
			return not_ours(path, "a directory that holds other files and no data.mdb", err);
		if (ro)
			return og_err_set(err, -OG_ENOENT, "no opsgraph database at '%s' (the directory is "
					  "empty)", path);
		*fresh = true;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return not_ours(path, "its data.mdb is not a regular file", err);
	if (st.st_size == 0) {
		if (ro)
			return og_err_set(err, -OG_ENOENT, "no opsgraph database at '%s' (data.mdb is "
					  "empty)", path);
		*fresh = true;
		return 0;
	}
	if ((fd = open(data, O_RDONLY | O_CLOEXEC)) < 0)
		return cannot_open(data, "open", errno, err);
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n != (ssize_t)sizeof(head))
		return not_ours(path, "data.mdb is too short to be an LMDB file", err);
	memcpy(&magic, head + 16, sizeof(magic));	/* page header, then mm_magic */
	if (magic != OGL_LMDB_MAGIC)
		return not_ours(path, "data.mdb is not an LMDB file", err);
	return 0;
}

/* Opens the named databases; creates them and the format record when `create`. */
static int open_dbis(struct ogl_env *e, MDB_txn *txn, bool create)
{
	unsigned f = create ? MDB_CREATE : 0;
	int rc;

	if ((rc = mdb_dbi_open(txn, "thread_ids", f, &e->db_thread_ids)) ||
	    (rc = mdb_dbi_open(txn, "threads", f, &e->db_threads)) ||
	    (rc = mdb_dbi_open(txn, "ckpts", f, &e->db_ckpts)) ||
	    (rc = mdb_dbi_open(txn, "values", f, &e->db_values)) ||
	    (rc = mdb_dbi_open(txn, "writes", f, &e->db_writes)) ||
	    (rc = mdb_dbi_open(txn, "leases", f, &e->db_leases)))
		return rc;
	return 0;
}

/* Checks the format record, or creates the databases in an empty
 * environment. Anything else is a foreign environment: -OG_EINVAL, and the
 * transaction is aborted so nothing changes. */
static int check_format(struct ogl_env *e, bool ro, struct og_err *err)
{
	char want[32], why[160];
	MDB_txn *txn = NULL;
	MDB_stat ms;
	MDB_val k = { strlen(OGL_FORMAT_KEY), (void *)OGL_FORMAT_KEY }, v;
	size_t ml = strlen(OGL_FORMAT_MAGIC);
	long ver;
	int rc;

	snprintf(want, sizeof(want), "%s%d", OGL_FORMAT_MAGIC, OGL_FORMAT_VERSION);
	/* another process may grow the map between our mdb_env_open and this
	 * first transaction (crash harness, episode with two processes): adopt
	 * its size; no transaction of ours is open yet */
	for (int tries = 0; (rc = mdb_txn_begin(e->env, NULL, ro ? MDB_RDONLY : 0, &txn)) == MDB_MAP_RESIZED &&
			    tries < OGL_MAX_TRIES; tries++)
		if ((rc = map_grow(e, false)))
			break;
	if (rc)
		return ogl_fail(rc, "open", err);
	if ((rc = mdb_dbi_open(txn, NULL, 0, &e->db_main)))
		goto lmdb_fail;
	rc = mdb_dbi_open(txn, "meta", 0, &e->db_meta);
	if (rc == MDB_NOTFOUND) {
		if ((rc = mdb_stat(txn, e->db_main, &ms)))
			goto lmdb_fail;
		if (ms.ms_entries) {
			rc = not_ours(e->path, "an LMDB environment of another program: it has no "
				      "opsgraph format record", err);
			goto fail;
		}
		if (ro) {
			rc = og_err_set(err, -OG_ENOENT, "no opsgraph database at '%s' (the environment "
					"is empty)", e->path);
			goto fail;
		}
		v.mv_size = strlen(want);
		v.mv_data = want;
		if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &e->db_meta)) ||
		    (rc = mdb_put(txn, e->db_meta, &k, &v, 0)) || (rc = open_dbis(e, txn, true)))
			goto lmdb_fail;
		if ((rc = mdb_txn_commit(txn)))
			return ogl_fail(rc, "create the database", err);
		return 0;
	}
	if (rc == MDB_INCOMPATIBLE) {
		rc = not_ours(e->path, "an LMDB environment of another program", err);
		goto fail;
	}
	if (rc)
		goto lmdb_fail;
	if ((rc = mdb_get(txn, e->db_meta, &k, &v))) {
		if (rc != MDB_NOTFOUND)
			goto lmdb_fail;
		rc = not_ours(e->path, "an LMDB environment of another program: its \"meta\" database "
			      "has no opsgraph format record", err);
		goto fail;
	}
	if (v.mv_size <= ml || v.mv_size > 24 || memcmp(v.mv_data, OGL_FORMAT_MAGIC, ml)) {
		rc = not_ours(e->path, "an LMDB environment of another program: its format record "
			      "is not opsgraph's", err);
		goto fail;
	}
	memcpy(why, (char *)v.mv_data + ml, v.mv_size - ml);
	why[v.mv_size - ml] = '\0';
	ver = strtol(why, NULL, 10);
	if (ver != OGL_FORMAT_VERSION) {
		rc = og_err_set(err, -OG_EINVAL, "'%s' holds opsgraph store format %ld and this opsgraph "
				"reads format %d (%s); use the opsgraph that wrote it, or move it "
				"away or pass another --db", e->path, ver, OGL_FORMAT_VERSION,
				ver < OGL_FORMAT_VERSION ? "an older layout, from before the first release, "
				"with no converter" : "a newer opsgraph wrote it");
		goto fail;
	}
	if ((rc = open_dbis(e, txn, false))) {
		if (rc == MDB_NOTFOUND) {
			rc = og_err_set(err, -OG_ESTORE, "'%s' is an opsgraph database with missing parts "
					"(a database of the environment is gone); restore a copy or move "
					"it away", e->path);
			goto fail;
		}
		goto lmdb_fail;
	}
	/* the newest handle so far: puts of that thread append (a hint) */
	k.mv_size = strlen(OGL_NEXT_THREAD_KEY);
	k.mv_data = (void *)OGL_NEXT_THREAD_KEY;
	if (mdb_get(txn, e->db_meta, &k, &v) == 0 && v.mv_size == 8)
		e->max_handle = ogl_be64(v.mv_data) - 1;
	if ((rc = mdb_txn_commit(txn)))	/* keeps the dbi handles; writes nothing */
		return ogl_fail(rc, "open", err);
	return 0;
lmdb_fail:
	rc = ogl_fail(rc, "open", err);
fail:
	mdb_txn_abort(txn);
	return rc;
}

static void env_free(struct ogl_env *e)
{
	if (!e)
		return;
	if (e->flusher_on) {
		pthread_mutex_lock(&e->flush_mu);
		e->flush_stop = true;
		pthread_cond_signal(&e->flush_cv);
		pthread_mutex_unlock(&e->flush_mu);
		pthread_join(e->flusher, NULL);
	}
	if (e->env) {
		flush_now(e);
		mdb_env_close(e->env);
	}
	if (e->dirfd >= 0)
		close(e->dirfd);
	pthread_rwlock_destroy(&e->map_lock);
	pthread_mutex_destroy(&e->write_lock);
	pthread_mutex_destroy(&e->q_mu);
	pthread_mutex_destroy(&e->flush_mu);
	pthread_cond_destroy(&e->flush_cv);
	ogl_buf_release(&e->key);
	ogl_buf_release(&e->rec);
	ogl_buf_release(&e->tmp);
	ogl_buf_release(&e->row);
	free(e->jout.p);
	free(e->pch);
	for (size_t i = 0; i < OGL_PC_SLOTS; i++) {
		ogl_buf_release(&e->pc[i].tid);
		ogl_buf_release(&e->pc[i].row);
		free(e->pc[i].ch);
	}
	free(e->cidx);
	free(e->rnames);
	free(e->path);
	free(e);
}

/* Creates e->env and opens it with `flags`; on failure e->env is NULL. */
static int env_open1(struct ogl_env *e, unsigned flags, size_t map_size, struct og_err *err)
{
	int rc;

	if ((rc = mdb_env_create(&e->env))) {
		e->env = NULL;
		return ogl_fail(rc, "open", err);
	}
	/* 12: room for the incident index and a few more; a read
	 * transaction's block (sizeof(MDB_txn) + 49 B per db, counting LMDB's
	 * own two) stays 824 B, under glibc's 1 KiB large-bin edge (at 16 it
	 * is 1032 B; see "maxdbs" in the notes at the top) */
	mdb_env_set_maxdbs(e->env, 12);
	if (map_size && (rc = mdb_env_set_mapsize(e->env, map_size))) {
		rc = ogl_fail(rc, "set the map size", err);
		goto fail;
	}
	if ((rc = mdb_env_open(e->env, e->path, flags, 0600))) {
		if (rc == EACCES || rc == EPERM || rc == EROFS)
			rc = cannot_open(e->path, flags & MDB_RDONLY ? "read" : "write to", rc, err);
		else if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
			rc = not_ours(e->path, mdb_strerror(rc), err);
		else
			rc = ogl_fail(rc, "open", err);
		goto fail;
	}
	{
		/* free the reader slots of processes that died in a read
		 * transaction; else they pin old pages and, once maxreaders are
		 * stale, every open fails with MDB_READERS_FULL */
		int dead = 0;
		mdb_reader_check(e->env, &dead);
	}
	return 0;
fail:
	mdb_env_close(e->env);
	e->env = NULL;
	return rc;
}

/* Opens the LMDB environment at `path`, after check_path said it is a
 * directory that is empty or holds an LMDB file. Async writers
 * map it MDB_WRITEMAP, which sizes the file to the map at open; so an
 * existing environment is first opened read-only and its format checked, and
 * one that turns out to be foreign is closed untouched (a lock.mdb this call
 * created is removed again). */
static int env_open(const char *path, bool ro, bool async, size_t map_size, const struct stat *dst, bool fresh,
		    struct ogl_env **out, struct og_err *err)
{
	struct ogl_env *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	char lock[4096];
	bool had_lock = true;
	int rc;

	if (!e)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	pthread_rwlock_init(&e->map_lock, NULL);
	pthread_mutex_init(&e->write_lock, NULL);
	pthread_mutex_init(&e->q_mu, NULL);
	e->q_tail = &e->q_head;
	pthread_mutex_init(&e->flush_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);	/* flusher_main's deadlines */
	pthread_cond_init(&e->flush_cv, &ca);
	pthread_condattr_destroy(&ca);
	e->dirfd = -1;
	e->dev = dst->st_dev;
	e->ino = dst->st_ino;
	e->pid = getpid();
	e->refs = 1;
	e->read_only = ro;
	if (!(e->path = strdup(path))) {
		rc = og_err_set(err, -OG_ENOMEM, "store: out of memory");
		goto fail;
	}
	if ((rc = join_path(lock, sizeof(lock), path, "lock.mdb", err)) < 0)
		goto fail;
	had_lock = access(lock, F_OK) == 0;
	if (!map_size)
		map_size = OGL_DEFAULT_MAP;
	if (!ro && (e->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = cannot_open(path, "open", errno, err);
		goto fail;
	}
	if (!ro && !fresh) {
		if ((rc = env_open1(e, MDB_NOTLS | MDB_RDONLY, 0, err)) < 0)
			goto fail;
		rc = check_format(e, true, err);
		mdb_env_close(e->env);
		e->env = NULL;
		if (rc == -OG_ENOENT)		/* an empty environment: ours to fill */
			og_err_clear(err);
		else if (rc < 0)
			goto fail;
	}
	if (!ro) {
		struct stat st;
		char data[4096];

		grow_lock(e, LOCK_EX);
		if (join_path(data, sizeof(data), path, "data.mdb", NULL) == 0 && stat(data, &st) == 0 &&
		    (size_t)st.st_size > map_size)
			map_size = (size_t)st.st_size;	/* never shrink the file */
		rc = env_open1(e, MDB_NOTLS | (async ? MDB_WRITEMAP : 0), map_size, err);
		grow_lock(e, LOCK_UN);
	} else {
		rc = env_open1(e, MDB_NOTLS | MDB_RDONLY, 0, err);
	}
	if (rc < 0 || (rc = check_format(e, ro, err)) < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	if (e->env) {
		mdb_env_close(e->env);
		e->env = NULL;
	}
	if (!had_lock)
		unlink(lock);
	env_free(e);
	return rc;
}

int og_store_lmdb_open(const struct og_store_lmdb_opts *o, struct og_store_lmdb **out, struct og_err *err)
{
	const char *path = o && o->path && *o->path ? o->path : OG_STORE_LMDB_DEFAULT_PATH;
	bool ro = o && o->read_only, async = o && o->durability == OG_DURABLE_ASYNC, fresh;
	struct og_store_lmdb *s = NULL;
	struct ogl_env *e = NULL;
	struct stat st;
	pid_t pid = getpid();
	int rc;

	if (!out)
		return og_err_set(err, -OG_EINVAL, "store: open: no place for the handle");
	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	s->durability = async ? OG_DURABLE_ASYNC : OG_DURABLE_SYNC;
	s->read_only = ro;
	pthread_mutex_lock(&reg_mu);
	if ((rc = check_path(path, ro, &fresh, err)) < 0)
		goto fail;
	if (stat(path, &st) < 0) {
		rc = cannot_open(path, "open", errno, err);
		goto fail;
	}
	for (e = reg_head; e; e = e->next)
		if (e->dev == st.st_dev && e->ino == st.st_ino && e->pid == pid)
			break;
	if (e) {
		if (e->read_only && !ro) {
			e = NULL;
			rc = og_err_set(err, -OG_ESTATE, "'%s' is already open read-only in this process; "
					"open it for writing first", path);
			goto fail;
		}
		e->refs++;
	} else {
		if ((rc = env_open(path, ro, async, o ? o->map_size : 0, &st, fresh, &e, err)) < 0)
			goto fail;
		e->next = reg_head;
		reg_head = e;
	}
	s->e = e;
	if (async && !ro && (rc = flusher_start(e, o->flush_ms, err)) < 0)
		goto fail;
	pthread_mutex_unlock(&reg_mu);
	*out = s;
	return 0;
fail:
	pthread_mutex_unlock(&reg_mu);
	if (s->e)
		og_store_lmdb_close(s);
	else
		free(s);
	return rc;
}

void og_store_lmdb_close(struct og_store_lmdb *s)
{
	struct ogl_env *e, **pp;

	if (!s)
		return;
	e = s->e;
	pthread_mutex_lock(&reg_mu);
	if (--e->refs > 0) {
		pthread_mutex_unlock(&reg_mu);
		if (s->durability == OG_DURABLE_ASYNC && !s->read_only)
			flush_now(e);
		free(s);
		return;
	}
	for (pp = &reg_head; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_mu);
	env_free(e);
	free(s);
}

/* ---- statistics --------------------------------------------------------------- */

struct stat_ctx {
	cJSON *out;
};

int ogl_bytes_used(struct ogl_env *e, MDB_txn *txn, uint64_t *bytes)
{
	MDB_dbi dbs[8] = { e->db_main, e->db_meta, e->db_thread_ids, e->db_threads,
			   e->db_ckpts, e->db_values, e->db_writes, e->db_leases };
	MDB_stat ms;
	uint64_t pages = 2;	/* the meta pages */
	unsigned psize = 0;
	int i, rc;

	for (i = 0; i < 8; i++) {
		if ((rc = mdb_stat(txn, dbs[i], &ms)))
			return rc;
		pages += ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages;
		psize = ms.ms_psize;
	}
	*bytes = pages * psize;
	return 0;
}

static int stat_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	static const char *const names[] = { "threads", "checkpoints", "values", "writes", "leases" };
	MDB_dbi dbs[5] = { e->db_threads, e->db_ckpts, e->db_values, e->db_writes, e->db_leases };
	struct stat_ctx *c = ctx;
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t bytes;
	cJSON *o;
	int i, rc;

	if ((rc = ogl_bytes_used(e, txn, &bytes)) || (rc = mdb_stat(txn, e->db_main, &ms)))
		return rc;
	mdb_env_info(e->env, &info);
	if (!(o = cJSON_CreateObject()))
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	if (ogl_add(o, "page_size", cJSON_CreateNumber(ms.ms_psize)) < 0 ||
	    ogl_add(o, "map_size", cJSON_CreateNumber((double)info.me_mapsize)) < 0 ||
	    ogl_add(o, "pages_used", cJSON_CreateNumber((double)(bytes / ms.ms_psize))) < 0 ||
	    ogl_add(o, "bytes_used", cJSON_CreateNumber((double)bytes)) < 0 ||
	    ogl_add(o, "file_pages", cJSON_CreateNumber((double)info.me_last_pgno + 1)) < 0)
		goto nomem;
	for (i = 0; i < 5; i++) {
		if ((rc = mdb_stat(txn, dbs[i], &ms))) {
			cJSON_Delete(o);
			return rc;
		}
		if (ogl_add(o, names[i], cJSON_CreateNumber((double)ms.ms_entries)) < 0)
			goto nomem;
	}
	if (__atomic_load_n(&e->sc_commits, __ATOMIC_RELAXED)) {
		struct og_store_lmdb h = { .e = e };
		struct og_store_sync_stats sc;
		cJSON *j;

		og_store_lmdb_sync_stats(&h, &sc);
		if (!(j = cJSON_CreateObject()) || ogl_add(o, "sync_commits", j) < 0 ||
		    ogl_add(j, "commits", cJSON_CreateNumber((double)sc.commits)) < 0 ||
		    ogl_add(j, "writes", cJSON_CreateNumber((double)sc.writes)) < 0 ||
		    ogl_add(j, "flush_s", cJSON_CreateNumber(sc.flush_s)) < 0)
			goto nomem;
	}
	c->out = o;
	return 0;
nomem:
	cJSON_Delete(o);
	return og_err_set(err, -OG_ENOMEM, "store: out of memory");
}

int og_store_lmdb_stat(struct og_store_lmdb *s, cJSON **out, struct og_err *err)
{
	struct stat_ctx c = { NULL };
	int rc;

	if ((rc = ogl_read(s, stat_txn, &c, "stat", err)) < 0)
		return rc;
	*out = c.out;
	return 0;
}

/* ---- leases ------------------------------------------------------------------- */

struct lease_ctx {
	const char *thread, *owner;
	int ttl_ms;
	bool acquire;
};

static int lease_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct lease_ctx *c = ctx;
	MDB_val k = { strlen(c->thread), (void *)c->thread }, v;
	int64_t now = og_clock_wall_ms();
	int rc;

	rc = mdb_get(txn, e->db_leases, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0) {
		struct ogl_rd r = { v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, false };
		uint8_t ver = ogl_get_u8(&r);
		int64_t until = ogl_get_svarint(&r);
		struct ogl_span owner = ogl_get_bytes(&r);
		char ts[40], who[OGL_MAX_NAME + 1];

		if (r.bad || ver != OGL_REC_VERSION)
			return og_err_set(err, -OG_ESTORE, "store: the lease row of thread %s is damaged; "
					  "release it with the owner's name or run gc", c->thread);
		if (!ogl_span_eq(owner, c->owner) && until > now) {
			snprintf(who, sizeof(who), "%.*s", (int)(owner.n > OGL_MAX_NAME ? OGL_MAX_NAME : owner.n),
				 owner.p);
			og_clock_iso8601(until, ts, sizeof(ts));
			if (c->acquire)
				return og_err_set(err, -OG_ECONFLICT, "thread %s is being run by %s until %s; "
						  "wait for it, or for the lease to expire", c->thread, who, ts);
			return og_err_set(err, -OG_ECONFLICT, "thread %s is leased by %s until %s, not by %s",
					  c->thread, who, ts, c->owner);
		}
		if (!c->acquire)
			return mdb_del(txn, e->db_leases, &k, NULL);
	}
	if (!c->acquire)
		return 0;
	ogl_buf_reset(&e->row);
	ogl_put_u8(&e->row, OGL_REC_VERSION);
	ogl_put_svarint(&e->row, now + c->ttl_ms);
	ogl_put_str(&e->row, c->owner);
	if (e->row.failed)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	v.mv_size = e->row.len;
	v.mv_data = e->row.p;
	return mdb_put(txn, e->db_leases, &k, &v, 0);
}

static int lease_call(struct og_store_lmdb *s, const char *thread, const char *owner, int ttl_ms,
		      bool acquire, struct og_err *err)
{
	struct lease_ctx c = { thread, owner, ttl_ms, acquire };
	char what[OGL_MAX_NAME + 32];
	int rc;

	if ((rc = ogl_check_name("thread id", thread, err)) < 0 ||
	    (rc = ogl_check_name("lease owner", owner, err)) < 0)
		return rc;
	if (acquire && ttl_ms <= 0)
		return og_err_set(err, -OG_EINVAL, "store: lease of thread %s: ttl must be > 0 ms, not %d",
				  thread, ttl_ms);
	snprintf(what, sizeof(what), "%s thread %s", acquire ? "lease" : "release", thread);
	return ogl_write(s, lease_txn, &c, what, err);
}

int og_store_lmdb_lease(struct og_store_lmdb *s, const char *thread, const char *owner, int ttl_ms,
			struct og_err *err)
{
	return lease_call(s, thread, owner, ttl_ms, true, err);
}

int og_store_lmdb_release(struct og_store_lmdb *s, const char *thread, const char *owner, struct og_err *err)
{
	return lease_call(s, thread, owner, 0, false, err);
}
