/*
 * test_store_lmdb.c: the LMDB checkpoint store. Records are built by hand
 * against a 3-channel graph (no runner), in a temporary directory removed at
 * the end.
 *
 * Covered: put/get round trip equal to og_ckpt_to_json, values stored once
 * per version, duplicate ids, pending writes merged into get, history order,
 * limit and before, the thread index and its status filter, leases, gc (count
 * and age rules, the latest, parent chains, forks, values and writes of
 * deleted checkpoints), reopen (sync and async), refusal of a regular file,
 * a corrupt data.mdb, a foreign LMDB environment and a directory of other
 * files (each left byte for byte as it was), read-only opens, map growth
 * from 1 MiB, two handles in one process, a forked child and the parent
 * both writing and growing the map at once (the case that would SIGBUS if
 * one process shrank the file), and threads of one process writing through
 * a sync and an async handle while another reads. Group commit of sync
 * writes: 1, 4, 16 and 64 threads on one handle, and two processes of 8
 * threads, each doing runs of 8 puts + 2 put_writes, all of it checked
 * through a fresh handle afterwards; threads racing to put the same ids
 * (one wins each), put_writes without a checkpoint and a write that fails
 * after writing, in shared commits (each caller gets its own answer, the
 * failed write leaves nothing); batches that grow the map. Thread segments
 * (a thread resumed after 300 and 600 newer threads: reads, writes, a fork,
 * history, the index, gc and a reopen across its segments; the segments a
 * sync commit starts for threads whose puts interleave), refusal of a
 * store of the previous format, the parser of stored JSON against cJSON's
 * and og_clock_iso8601 against gmtime_r + snprintf. Prints (never
 * asserts) µs per put in async and sync mode, durable writes/s and fsyncs
 * per write for each thread count (fsyncs counted by interposing msync,
 * fsync and fdatasync; OG_TEST_SYNC_US=N adds N µs to each to play a slower
 * disk), bytes per checkpoint for a 7-channel state, and the time to list a
 * 1002-checkpoint history.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "core/clock.h"
#include "graph/ckpt.h"
#include "graph/graph.h"
#include "store/store_lmdb.h"
#include "store/store_lmdb_int.h"	/* ogl_write, for a write that fails midway */
#include "../test.h"

/* ---- helpers ----------------------------------------------------------------- */

static char root[64];
static int dbn;

static cJSON *J(const char *text)
{
	cJSON *v = cJSON_Parse(text);

	if (!v) {
		fprintf(stderr, "bad JSON in test: %s\n", text);
		abort();
	}
	return v;
}

/* A fresh path under the temporary root (not created). */
static const char *newpath(const char *tag)
{
	static char buf[8][128];
	static int k;
	char *p = buf[k++ % 8];

	snprintf(p, 128, "%s/%s%d", root, tag, dbn++);
	return p;
}

static struct og_store_lmdb *open_db(const char *path, enum og_durability d, size_t map, bool ro)
{
	struct og_store_lmdb_opts o = { path, d, 5, map, ro };
	struct og_store_lmdb *s = NULL;
	struct og_err err = { 0 };
	int rc = og_store_lmdb_open(&o, &s, &err);

	if (rc)
		fprintf(stderr, "open %s: %s\n", path, err.msg);
	CHECK_INT(rc, ==, 0);
	return s;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static long stat_num(struct og_store_lmdb *s, const char *key)
{
	struct og_err err = { 0 };
	cJSON *st = NULL;
	long n = -1;

	if (og_store_lmdb_stat(s, &st, &err) == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, key);
		n = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
	} else {
		fprintf(stderr, "stat: %s\n", err.msg);
	}
	cJSON_Delete(st);
	return n;
}

static char *print(const cJSON *v)
{
	return v ? cJSON_PrintUnformatted(v) : strdup("(null)");
}

/* Checks that got prints exactly as want (both borrowed). */
#define CHECK_JSON_EQ(got, want) do {                                          \
	char *g_ = print(got), *w_ = print(want);                              \
	CHECK_STR(g_, w_);                                                     \
	free(g_);                                                              \
	free(w_);                                                              \
} while (0)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *bytes, size_t n)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (f) {
		CHECK_INT(fwrite(bytes, 1, n, f), ==, n);
		fclose(f);
	}
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- a fake graph and hand-built checkpoints ---------------------------------- */

static struct og_graph *graph_n(int n)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g" };
	struct og_err err = { 0 };
	struct og_graph *g = og_graph_new("demo", &err);
	int i;

	for (i = 0; g && i < n; i++)
		if (og_graph_add_channel(g, names[i], OG_RED_LAST, NULL, -1, NULL, &err) < 0)
			abort();
	return g;
}

/* One thread's state as the runner keeps it: values plus versions, where a
 * version is the id of the checkpoint that last wrote the channel. */
struct fake {
	struct og_graph *g;
	struct og_state st;
	cJSON *vals[8];
	uint64_t vers[8];
	uint64_t seen[2];
	struct og_ckpt ck;
	cJSON *next, *pending, *interrupts, *error, *writes, *times;
};

static void fake_init(struct fake *f, struct og_graph *g, const char *thread)
{
	memset(f, 0, sizeof(*f));
	f->g = g;
	f->st.n = g->nchannels;
	f->st.vals = f->vals;
	f->st.versions = f->vers;
	f->ck.thread_id = thread;
	f->ck.graph = g->name;
	f->ck.g = g;
	f->ck.state = &f->st;
	f->ck.source = "loop";
	f->ck.status = "running";
	f->ck.created_ms = 1700000000000;
}

static void fake_release(struct fake *f)
{
	int i;

	for (i = 0; i < 8; i++)
		cJSON_Delete(f->vals[i]);
	cJSON_Delete(f->next);
	cJSON_Delete(f->pending);
	cJSON_Delete(f->interrupts);
	cJSON_Delete(f->error);
	cJSON_Delete(f->writes);
	cJSON_Delete(f->times);
	memset(f->vals, 0, sizeof(f->vals));
}

/* Channel ch gets value text in the checkpoint about to be put. */
static void fake_set(struct fake *f, int ch, const char *text)
{
	cJSON_Delete(f->vals[ch]);
	f->vals[ch] = text ? J(text) : NULL;
	f->vers[ch] = f->ck.id + 1;
}

static void fake_opt(cJSON **slot, const cJSON **field, const char *text)
{
	cJSON_Delete(*slot);
	*slot = text ? J(text) : NULL;
	*field = *slot;
}

/* Puts the next checkpoint (id = previous + 1, parent = previous). */
static int fake_put(struct fake *f, struct og_store_lmdb *s, struct og_err *err)
{
	int rc;

	f->ck.parent_id = f->ck.id;
	f->ck.id++;
	f->ck.step++;
	f->ck.created_ms += 1000;
	rc = og_store_lmdb_ops.put(s, &f->ck, err);
	if (rc && rc != -OG_ESTATE && rc != -OG_ECONFLICT)
		fprintf(stderr, "put %s/%llu: %s\n", f->ck.thread_id, (unsigned long long)f->ck.id, err->msg);
	return rc;
}

static void check_get_eq(struct og_store_lmdb *s, const struct og_ckpt *ck, uint64_t id)
{
	struct og_err err = { 0 };
	cJSON *got = NULL, *want = og_ckpt_to_json(ck);
	int rc = og_store_lmdb_ops.get(s, ck->thread_id, id, &got, &err);

	if (rc)
		fprintf(stderr, "get: %s\n", err.msg);
	CHECK_INT(rc, ==, 0);
	CHECK_JSON_EQ(got, want);
	cJSON_Delete(got);
	cJSON_Delete(want);
}

/* Puts the next checkpoint as `id` with parent `parent` (a fork). */
static int put_at(struct fake *f, struct og_store_lmdb *s, uint64_t id, uint64_t parent, struct og_err *err)
{
	f->ck.id = id;
	f->ck.parent_id = parent;
	f->ck.step++;
	f->ck.created_ms += 1000;
	return og_store_lmdb_ops.put(s, &f->ck, err);
}

/* ---- round trip, dedupe, conflicts ---------------------------------------------- */

static void test_roundtrip(void)
{
	const char *path = newpath("rt");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_SYNC, 0, false);
	struct og_graph *g = graph_n(3);
	struct og_err err = { 0 };
	struct fake f;
	cJSON *got = NULL;
	int rc;

	fake_init(&f, g, "thread-1");
	f.ck.source = "input";
	f.ck.step = -2;		/* fake_put makes it -1 */
	fake_set(&f, 0, "1");
	fake_set(&f, 1, "{\"x\":[1,2.5,\"é\\u0001\"],\"y\":null}");
	fake_opt(&f.next, &f.ck.next, "[{\"id\":\"t1\",\"node\":\"n1\"}]");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	check_get_eq(s, &f.ck, 1);
	CHECK_INT(stat_num(s, "values"), ==, 2);

	/* 2: a changes, b does not; joins, interrupts, error, pending, writes */
	f.ck.source = "loop";
	f.ck.status = "interrupted";
	f.ck.graph_file = "graphs/demo.lua";
	fake_set(&f, 0, "[\"changed\",{\"k\":true}]");
	f.seen[0] = 5;
	f.seen[1] = 0xffffffffffffull;
	f.ck.join_seen = f.seen;
	f.ck.njoins = 2;
	fake_opt(&f.next, &f.ck.next,
		 "[{\"id\":\"t2\",\"node\":\"n2\",\"input\":{\"q\":1}},{\"id\":\"t3\",\"node\":\"n3\"}]");
	fake_opt(&f.pending, &f.ck.pending, "[{\"task\":\"t2\",\"node\":\"n2\",\"writes\":{\"a\":1}}]");
	fake_opt(&f.interrupts, &f.ck.interrupts,
		 "[{\"id\":\"i1\",\"task\":\"t3\",\"node\":\"n3\",\"value\":\"ok?\"}]");
	fake_opt(&f.error, &f.ck.error, "{\"message\":\"boom\",\"node\":\"n1\",\"step\":0}");
	fake_opt(&f.writes, &f.ck.writes, "{\"n1\":[\"a\"]}");
	/* each task's own span: the optional field after breakpoints (1 and 3
	 * have none: a record that ends before it, as older ones do) */
	fake_opt(&f.times, &f.ck.times, "{\"t1\":[1764031000000,1764031000004],\"t9\":[1764031000004,1764031000009]}");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	check_get_eq(s, &f.ck, 2);
	check_get_eq(s, &f.ck, 0);	/* 0 = latest */
	CHECK_INT(stat_num(s, "values"), ==, 3);	/* b not stored again */

	/* 3: nothing changes, c stays unset */
	f.ck.graph_file = NULL;
	f.ck.status = "done";
	f.ck.njoins = 0;
	fake_opt(&f.pending, &f.ck.pending, NULL);
	fake_opt(&f.interrupts, &f.ck.interrupts, NULL);
	fake_opt(&f.error, &f.ck.error, NULL);
	fake_opt(&f.next, &f.ck.next, NULL);
	fake_opt(&f.times, &f.ck.times, NULL);
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	check_get_eq(s, &f.ck, 3);
	CHECK_INT(stat_num(s, "values"), ==, 3);
	CHECK_INT(stat_num(s, "checkpoints"), ==, 3);
	CHECK_INT(stat_num(s, "threads"), ==, 1);

	/* a channel that becomes unset, then set again at an old version */
	fake_set(&f, 1, NULL);
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	check_get_eq(s, &f.ck, 4);
	CHECK_INT(stat_num(s, "values"), ==, 3);

	/* the same id again: another runner got there first */
	f.ck.id--;
	f.ck.parent_id--;
	f.ck.step--;
	rc = fake_put(&f, s, &err);
	CHECK_INT(rc, ==, -OG_ECONFLICT);
	CHECK_CONTAINS(err.msg, "already has checkpoint 4");
	f.ck.created_ms -= 1000;
	check_get_eq(s, &f.ck, 4);

	/* missing */
	rc = og_store_lmdb_ops.get(s, "thread-1", 99, &got, &err);
	CHECK_INT(rc, ==, -OG_ENOENT);
	CHECK_CONTAINS(err.msg, "thread-1 has no checkpoint 99 (its latest is 4");
	rc = og_store_lmdb_ops.get(s, "nobody", 0, &got, &err);
	CHECK_INT(rc, ==, -OG_ENOENT);
	CHECK_CONTAINS(err.msg, "nobody has no checkpoints");
	CHECK(got == NULL);

	/* bad input */
	f.ck.thread_id = "";
	CHECK_INT(og_store_lmdb_ops.put(s, &f.ck, &err), ==, -OG_EINVAL);

	fake_release(&f);
	og_graph_free(g);
	og_store_lmdb_close(s);

	/* reopen: durable */
	s = open_db(path, OG_DURABLE_SYNC, 0, false);
	f.ck.thread_id = "thread-1";
	CHECK_INT(og_store_lmdb_ops.get(s, "thread-1", 2, &got, &err), ==, 0);
	CHECK_CONTAINS(cJSON_GetObjectItem(got, "graph_file")->valuestring, "graphs/demo.lua");
	cJSON_Delete(got);
	og_store_lmdb_close(s);
}

/* What the runner passes (ckpt.h): next and writes as texts, times as
 * spans. The record reads back as the same checkpoint given as trees does,
 * a span with start > end is dropped as a tree's entry is, and
 * og_ckpt_to_json (the memory store) gives the trees' JSON. */
static void test_runner_forms(void)
{
	static const struct og_ckpt_span spans[] = { { "t1", 1764031000000, 1764031000004 },
						     { "t9", 1764031000004, 1764031000009 },
						     { "tx", 1764031000009, 1764031000001 } };
	struct og_store_lmdb *s = open_db(newpath("forms"), OG_DURABLE_ASYNC, 0, false);
	struct og_graph *g = graph_n(3);
	struct og_err err = { 0 };
	struct og_ckpt t;
	struct fake f;
	cJSON *a = NULL, *b = NULL, *ja, *jb;

	fake_init(&f, g, "trees");
	fake_set(&f, 0, "{\"k\":\"v\"}");
	fake_opt(&f.next, &f.ck.next, "[{\"id\":\"t2\",\"node\":\"n2\",\"input\":{\"q\":1}},{\"id\":\"t3\",\"node\":\"n3\"}]");
	fake_opt(&f.writes, &f.ck.writes, "{\"n1\":[\"a\",\"b\"],\"n2\":[]}");
	fake_opt(&f.times, &f.ck.times, "{\"t1\":[1764031000000,1764031000004],\"t9\":[1764031000004,1764031000009],"
		 "\"tx\":[1764031000009,1764031000001]}");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	t = f.ck;
	t.thread_id = "texts";
	t.next = t.writes = t.times = NULL;
	t.next_text = "[{\"id\":\"t2\",\"node\":\"n2\",\"input\":{\"q\":1}},{\"id\":\"t3\",\"node\":\"n3\"}]";
	t.writes_text = "{\"n1\":[\"a\",\"b\"],\"n2\":[]}";
	t.spans = spans;
	t.nspans = 3;
	CHECK_INT(og_store_lmdb_ops.put(s, &t, &err), ==, 0);
	CHECK_INT(og_store_lmdb_ops.get(s, "trees", 0, &a, &err), ==, 0);
	CHECK_INT(og_store_lmdb_ops.get(s, "texts", 0, &b, &err), ==, 0);
	cJSON_DeleteItemFromObject(a, "thread_id");
	cJSON_DeleteItemFromObject(b, "thread_id");
	CHECK_JSON_EQ(b, a);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(b, "times")), ==, 2);
	ja = og_ckpt_to_json(&f.ck);
	jb = og_ckpt_to_json(&t);
	cJSON_DeleteItemFromObject(ja, "thread_id");
	cJSON_DeleteItemFromObject(jb, "thread_id");
	CHECK_JSON_EQ(jb, ja);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	fake_release(&f);
	og_graph_free(g);
	og_store_lmdb_close(s);
}

/* A fork: two branches reach the same version number of a channel with
 * different values; each keeps its own. */
static void test_fork_values(void)
{
	struct og_store_lmdb *s = open_db(newpath("fork"), OG_DURABLE_ASYNC, 0, false);
	struct og_graph *g = graph_n(2);
	struct og_err err = { 0 };
	struct fake f;
	struct og_ckpt saved;

	fake_init(&f, g, "t");
	fake_set(&f, 0, "\"one\"");
	fake_set(&f, 1, "\"b\"");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	fake_set(&f, 0, "\"two\"");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	saved = f.ck;
	check_get_eq(s, &f.ck, 2);
	/* fork from 1 as checkpoint 3 whose a has a value of its own, and the
	 * version number 2 (a runner that numbered versions by step would) */
	f.ck.id = 2;
	f.ck.parent_id = 1;
	f.ck.source = "fork";
	fake_set(&f, 0, "\"fork\"");
	f.vers[0] = 2;
	f.ck.id = 3;
	CHECK_INT(og_store_lmdb_ops.put(s, &f.ck, &err), ==, 0);
	check_get_eq(s, &f.ck, 3);
	fake_set(&f, 0, "\"two\"");
	f.vers[0] = 2;
	check_get_eq(s, &saved, 2);
	fake_release(&f);
	og_graph_free(g);
	og_store_lmdb_close(s);
}

/* The put cache (store_lmdb_ckpt.c) must not outlive a write of another
 * process: here the child adds channel c to the thread row between two puts
 * of the parent, and the parent's next put adds channel d. Read from a
 * stale cache, the row would lose c (and checkpoint 3 would read c's value
 * as d's). Then: a put after a failed put, and after a put_writes. */
static struct og_graph *graph_names(const char *a, const char *b, const char *c)
{
	struct og_err err = { 0 };
	struct og_graph *g = og_graph_new("demo", &err);
	const char *names[] = { a, b, c };
	int i;

	for (i = 0; g && i < 3; i++)
		if (og_graph_add_channel(g, names[i], OG_RED_LAST, NULL, -1, NULL, &err) < 0)
			abort();
	return g;
}

static void pc_fake(struct fake *f, struct og_graph *g, uint64_t id, const char *third)
{
	fake_init(f, g, "pc");
	f->vals[0] = J("\"a2\"");
	f->vers[0] = 2;
	f->vals[1] = J("\"b1\"");
	f->vers[1] = 1;
	f->vals[2] = J(third);
	f->vers[2] = id;
	f->ck.id = id;
	f->ck.parent_id = id - 1;
	f->ck.step = (int)id;
	f->ck.created_ms = 1700000000000 + 1000 * (int64_t)id;
}

static void test_put_cache(void)
{
	const char *path = newpath("pcache");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_ASYNC, 0, false);
	struct og_graph *g2 = graph_n(2), *gc = graph_names("a", "b", "c"), *gd = graph_names("a", "b", "d");
	struct og_err err = { 0 };
	struct fake f, fc, fd;
	cJSON *rec = J("{\"task\": \"t1\", \"node\": \"n\", \"writes\": {\"a\": 1}}");
	pid_t pid;
	int status = -1;

	fake_init(&f, g2, "pc");
	fake_set(&f, 0, "\"a1\"");
	fake_set(&f, 1, "\"b1\"");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	fake_set(&f, 0, "\"a2\"");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	check_get_eq(s, &f.ck, 2);	/* a get fills the cache too */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct og_store_lmdb_opts o = { path, OG_DURABLE_ASYNC, 0, 0, false };
		struct og_store_lmdb *c = NULL;
		int rc;
		if (og_store_lmdb_open(&o, &c, &err) != 0)
			_exit(2);
		pc_fake(&fc, gc, 3, "\"c3\"");
		rc = og_store_lmdb_ops.put(c, &fc.ck, &err);
		og_store_lmdb_close(c);
		_exit(rc ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pc_fake(&fd, gd, 4, "\"d4\"");
	CHECK_INT(og_store_lmdb_ops.put(s, &fd.ck, &err), ==, 0);
	pc_fake(&fc, gc, 3, "\"c3\"");
	check_get_eq(s, &fc.ck, 3);
	check_get_eq(s, &fd.ck, 4);
	/* a conflicting put (id 4 again) fails; the next one still reads right */
	CHECK_INT(og_store_lmdb_ops.put(s, &fd.ck, &err), ==, -OG_ECONFLICT);
	fake_release(&fd);
	pc_fake(&fd, gd, 5, "\"d5\"");
	CHECK_INT(og_store_lmdb_ops.put(s, &fd.ck, &err), ==, 0);
	check_get_eq(s, &fd.ck, 5);
	/* pending writes between two puts */
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "pc", 5, rec, &err), ==, 0);
	fake_release(&fd);
	pc_fake(&fd, gd, 6, "\"d6\"");
	CHECK_INT(og_store_lmdb_ops.put(s, &fd.ck, &err), ==, 0);
	check_get_eq(s, &fd.ck, 6);
	fake_release(&f);
	fake_release(&fc);
	fake_release(&fd);
	cJSON_Delete(rec);
	og_graph_free(g2);
	og_graph_free(gc);
	og_graph_free(gd);
	og_store_lmdb_close(s);
}

static void test_put_writes(void)
{
	struct og_store_lmdb *s = open_db(newpath("pw"), OG_DURABLE_SYNC, 0, false);
	struct og_graph *g = graph_n(1);
	struct og_err err = { 0 };
	struct fake f;
	cJSON *got = NULL, *rec;

	fake_init(&f, g, "t");
	fake_set(&f, 0, "0");
	fake_opt(&f.pending, &f.ck.pending, "[{\"task\":\"tA\",\"node\":\"x\",\"writes\":{\"a\":1}}]");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	rec = J("{\"task\":\"tB\",\"node\":\"y\",\"writes\":{\"a\":2},\"next\":[]}");
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "t", 1, rec, &err), ==, 0);
	cJSON_Delete(rec);
	rec = J("{\"task\":\"tA\",\"node\":\"x\",\"writes\":{\"a\":999}}");	/* dup of the record's */
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "t", 1, rec, &err), ==, 0);
	cJSON_Delete(rec);
	CHECK_INT(og_store_lmdb_ops.get(s, "t", 1, &got, &err), ==, 0);
	{
		char *p = print(cJSON_GetObjectItem(got, "pending"));
		CHECK_STR(p, "[{\"task\":\"tA\",\"node\":\"x\",\"writes\":{\"a\":1}},"
			  "{\"task\":\"tB\",\"node\":\"y\",\"writes\":{\"a\":2},\"next\":[]}]");
		free(p);
	}
	cJSON_Delete(got);
	/* a checkpoint without stored pending gets an array of the rows */
	fake_opt(&f.pending, &f.ck.pending, NULL);
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	rec = J("{\"task\":\"tC\",\"node\":\"z\"}");
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "t", 2, rec, &err), ==, 0);
	rec->child->valuestring[1] = 'D';	/* tD: a second row, after tC */
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "t", 2, rec, &err), ==, 0);
	CHECK_INT(og_store_lmdb_ops.get(s, "t", 2, &got, &err), ==, 0);
	{
		char *p = print(cJSON_GetObjectItem(got, "pending"));
		CHECK_STR(p, "[{\"task\":\"tC\",\"node\":\"z\"},{\"task\":\"tD\",\"node\":\"z\"}]");
		free(p);
	}
	cJSON_Delete(got);
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "t", 7, rec, &err), ==, -OG_ENOENT);
	CHECK_CONTAINS(err.msg, "no checkpoint 7");
	cJSON_Delete(rec);
	rec = J("{\"node\":\"z\"}");
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "t", 2, rec, &err), ==, -OG_EINVAL);
	cJSON_Delete(rec);
	CHECK_INT(stat_num(s, "writes"), ==, 4);	/* tA's row is kept, not shown */
	fake_release(&f);
	og_graph_free(g);
	og_store_lmdb_close(s);
}

/* ---- history and the thread index ------------------------------------------------ */

static char *ids_of(const cJSON *arr)
{
	static char buf[512];
	const cJSON *it;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, arr) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, "%s%d", n ? "," : "",
			 (int)cJSON_GetObjectItem(it, "id")->valuedouble);
	}
	return buf;
}

static void history_is(struct og_store_lmdb *s, const char *thread, int limit, uint64_t before,
		       const char *want)
{
	struct og_err err = { 0 };
	cJSON *h = NULL;

	CHECK_INT(og_store_lmdb_history(s, thread, limit, before, &h, &err), ==, 0);
	CHECK_STR(ids_of(h), want);
	cJSON_Delete(h);
}

static void test_history_threads(void)
{
	struct og_store_lmdb *s = open_db(newpath("hist"), OG_DURABLE_ASYNC, 0, false);
	struct og_graph *g = graph_n(1);
	struct og_err err = { 0 };
	struct fake a, b, c;
	cJSON *h = NULL, *t = NULL;
	uint64_t id = 99;
	int i;

	fake_init(&a, g, "t");
	fake_init(&b, g, "tt");		/* a prefix of nothing, and t a prefix of it */
	fake_init(&c, g, "s");
	for (i = 0; i < 10; i++) {
		fake_set(&a, 0, "1");
		fake_opt(&a.next, &a.ck.next, i % 2 ? "[{\"id\":\"x\",\"node\":\"n1\"},{\"id\":\"y\",\"node\":\"n2\"}]"
						    : "[]");
		fake_opt(&a.writes, &a.ck.writes, "{\"n0\":[\"a\"]}");
		CHECK_INT(fake_put(&a, s, &err), ==, 0);
		if (i < 3)
			CHECK_INT(fake_put(&b, s, &err), ==, 0);
	}
	a.ck.status = "interrupted";
	fake_opt(&a.interrupts, &a.ck.interrupts, "[{\"id\":\"i1\",\"value\":1}]");
	CHECK_INT(fake_put(&a, s, &err), ==, 0);	/* 11 */
	c.ck.created_ms = 1800000000000;	/* the most recently updated */
	c.ck.status = "done";
	CHECK_INT(fake_put(&c, s, &err), ==, 0);

	history_is(s, "t", 0, 0, "11,10,9,8,7,6,5,4,3,2,1");
	history_is(s, "t", 3, 0, "11,10,9");
	history_is(s, "t", 2, 5, "4,3");
	history_is(s, "t", 0, 3, "2,1");
	history_is(s, "t", 0, 1, "");
	history_is(s, "t", 0, 1000, "11,10,9,8,7,6,5,4,3,2,1");
	history_is(s, "tt", 0, 0, "3,2,1");
	history_is(s, "nobody", 0, 0, "");
	CHECK_INT(og_store_lmdb_history(s, "t", 2, 0, &h, &err), ==, 0);
	{
		char *p = print(h);
		CHECK_STR(p, "[{\"id\":11,\"parent_id\":10,\"step\":11,\"source\":\"loop\",\"status\":\"interrupted\","
			  "\"writes\":{\"n0\":[\"a\"]},\"created_at\":\"2023-11-14T22:13:31.000Z\",\"next\":[\"n1\",\"n2\"]},"
			  "{\"id\":10,\"parent_id\":9,\"step\":10,\"source\":\"loop\",\"status\":\"running\","
			  "\"writes\":{\"n0\":[\"a\"]},\"created_at\":\"2023-11-14T22:13:30.000Z\","
			  "\"next\":[\"n1\",\"n2\"]}]");
		free(p);
	}
	cJSON_Delete(h);

	CHECK_INT(og_store_lmdb_latest_id(s, "t", &id, &err), ==, 0);
	CHECK_INT(id, ==, 11);
	CHECK_INT(og_store_lmdb_latest_id(s, "tt", &id, &err), ==, 0);
	CHECK_INT(id, ==, 3);
	CHECK_INT(og_store_lmdb_latest_id(s, "nobody", &id, &err), ==, 0);
	CHECK_INT(id, ==, 0);

	CHECK_INT(og_store_lmdb_threads(s, NULL, &t, &err), ==, 0);
	{
		char *p = print(t);
		CHECK_STR(p, "[{\"thread_id\":\"s\",\"graph\":\"demo\",\"graph_file\":null,\"status\":\"done\","
			  "\"step\":1,\"latest_id\":1,\"interrupts\":null,\"error\":null,"
			  "\"created_at\":\"2027-01-15T08:00:01.000Z\",\"updated_at\":\"2027-01-15T08:00:01.000Z\"},"
			  "{\"thread_id\":\"t\",\"graph\":\"demo\",\"graph_file\":null,\"status\":\"interrupted\","
			  "\"step\":11,\"latest_id\":11,\"interrupts\":[{\"id\":\"i1\",\"value\":1}],\"error\":null,"
			  "\"created_at\":\"2023-11-14T22:13:21.000Z\",\"updated_at\":\"2023-11-14T22:13:31.000Z\"},"
			  "{\"thread_id\":\"tt\",\"graph\":\"demo\",\"graph_file\":null,\"status\":\"running\","
			  "\"step\":3,\"latest_id\":3,\"interrupts\":null,\"error\":null,"
			  "\"created_at\":\"2023-11-14T22:13:21.000Z\",\"updated_at\":\"2023-11-14T22:13:23.000Z\"}]");
		free(p);
	}
	cJSON_Delete(t);
	CHECK_INT(og_store_lmdb_threads(s, "interrupted", &t, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(t), ==, 1);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 0), "thread_id")->valuestring, "t");
	cJSON_Delete(t);
	CHECK_INT(og_store_lmdb_threads(s, "error", &t, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(t), ==, 0);
	cJSON_Delete(t);
	fake_release(&a);
	fake_release(&b);
	fake_release(&c);
	og_graph_free(g);
	og_store_lmdb_close(s);
}

/* ---- leases --------------------------------------------------------------------- */

static void test_lease(void)
{
	struct og_store_lmdb *s = open_db(newpath("lease"), OG_DURABLE_SYNC, 0, false);
	struct og_err err = { 0 };

	CHECK_INT(og_store_lmdb_lease(s, "t", "alice", 60000, &err), ==, 0);
	CHECK_INT(og_store_lmdb_lease(s, "t", "alice", 60000, &err), ==, 0);	/* ours: extend */
	CHECK_INT(og_store_lmdb_lease(s, "t", "bob", 60000, &err), ==, -OG_ECONFLICT);
	CHECK_CONTAINS(err.msg, "thread t is being run by alice until 20");
	CHECK_INT(og_store_lmdb_release(s, "t", "bob", &err), ==, -OG_ECONFLICT);
	CHECK_INT(og_store_lmdb_lease(s, "u", "bob", 60000, &err), ==, 0);	/* other thread */
	CHECK_INT(og_store_lmdb_release(s, "t", "alice", &err), ==, 0);
	CHECK_INT(og_store_lmdb_lease(s, "t", "bob", 1, &err), ==, 0);	/* free now */
	og_clock_sleep_ms(5);
	CHECK_INT(og_store_lmdb_lease(s, "t", "alice", 60000, &err), ==, 0);	/* expired: taken */
	CHECK_INT(og_store_lmdb_release(s, "t", "bob", &err), ==, -OG_ECONFLICT);
	CHECK_INT(og_store_lmdb_release(s, "nobody", "bob", &err), ==, 0);
	CHECK_INT(og_store_lmdb_lease(s, "t", "bob", 0, &err), ==, -OG_EINVAL);
	CHECK_INT(og_store_lmdb_lease(s, "t", "", 10, &err), ==, -OG_EINVAL);
	CHECK_INT(stat_num(s, "leases"), ==, 2);
	og_store_lmdb_close(s);
}

/* ---- gc ----------------------------------------------------------------------------- */

static long report_num(const cJSON *r, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, k);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static void test_gc(void)
{
	struct og_store_lmdb *s = open_db(newpath("gc"), OG_DURABLE_ASYNC, 0, false);
	struct og_graph *g = graph_n(3);
	struct og_err err = { 0 };
	struct fake f, h;
	cJSON *r = NULL, *rec;
	int i;

	/* thread t: 10 checkpoints, a set once, b every step, c every 3rd */
	fake_init(&f, g, "t");
	fake_set(&f, 0, "\"a-from-1\"");
	for (i = 1; i <= 10; i++) {
		char v[32];
		snprintf(v, sizeof(v), "\"b%d\"", i);
		fake_set(&f, 1, v);
		if (i % 3 == 1) {
			snprintf(v, sizeof(v), "\"c%d\"", i);
			fake_set(&f, 2, v);
		}
		CHECK_INT(fake_put(&f, s, &err), ==, 0);
	}
	rec = J("{\"task\":\"x\",\"node\":\"n\"}");
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "t", 2, rec, &err), ==, 0);	/* goes with 2 */
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "t", 9, rec, &err), ==, 0);	/* stays, at first */
	cJSON_Delete(rec);
	CHECK_INT(stat_num(s, "values"), ==, 1 + 10 + 4);

	/* thread h: interrupted at its latest, with a pending write */
	fake_init(&h, g, "h");
	fake_set(&h, 0, "1");
	CHECK_INT(fake_put(&h, s, &err), ==, 0);
	fake_set(&h, 0, "2");
	h.ck.status = "interrupted";
	fake_opt(&h.interrupts, &h.ck.interrupts, "[{\"id\":\"i\",\"value\":\"approve?\"}]");
	CHECK_INT(fake_put(&h, s, &err), ==, 0);
	rec = J("{\"task\":\"done-before-pause\",\"node\":\"n\",\"writes\":{\"b\":1}}");
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "h", 2, rec, &err), ==, 0);
	cJSON_Delete(rec);

	/* age rule alone: everything is newer than a day ago? no: created 2023 */
	CHECK_INT(og_store_lmdb_gc(s, 3, 0, &r, &err), ==, 0);
	CHECK_INT(report_num(r, "threads"), ==, 2);
	CHECK_INT(report_num(r, "checkpoints_deleted"), ==, 7);
	CHECK_INT(report_num(r, "values_deleted"), ==, 7 + 2 + 0);	/* b1..b7, c1, c4, nothing of h */
	CHECK_INT(report_num(r, "writes_deleted"), ==, 1);
	CHECK(report_num(r, "bytes_after") <= report_num(r, "bytes_before"));
	cJSON_Delete(r);
	history_is(s, "t", 0, 0, "10,9,8");
	history_is(s, "h", 0, 0, "2,1");
	check_get_eq(s, &f.ck, 10);	/* a from 1 and c from 7 survive */
	CHECK_INT(stat_num(s, "writes"), ==, 2);
	CHECK_INT(stat_num(s, "values"), ==, 1 + 3 + 2 + 2);

	/* keep only the latest: h keeps 2 with its interrupts and pending write */
	CHECK_INT(og_store_lmdb_gc(s, 1, 0, &r, &err), ==, 0);
	CHECK_INT(report_num(r, "checkpoints_deleted"), ==, 2 + 1);
	CHECK_INT(report_num(r, "writes_deleted"), ==, 1);
	cJSON_Delete(r);
	history_is(s, "h", 0, 0, "2");
	{
		cJSON *got = NULL;
		CHECK_INT(og_store_lmdb_ops.get(s, "h", 0, &got, &err), ==, 0);
		char *p = print(cJSON_GetObjectItem(got, "pending")), *q = print(cJSON_GetObjectItem(got, "interrupts"));
		CHECK_STR(p, "[{\"task\":\"done-before-pause\",\"node\":\"n\",\"writes\":{\"b\":1}}]");
		CHECK_STR(q, "[{\"id\":\"i\",\"value\":\"approve?\"}]");
		free(p);
		free(q);
		cJSON_Delete(got);
	}
	check_get_eq(s, &f.ck, 10);

	/* the age rule keeps recent checkpoints */
	f.ck.created_ms = og_clock_wall_ms() - 1000;
	fake_set(&f, 1, "\"fresh\"");
	CHECK_INT(fake_put(&f, s, &err), ==, 0);	/* 11 */
	CHECK_INT(fake_put(&f, s, &err), ==, 0);	/* 12 */
	CHECK_INT(og_store_lmdb_gc(s, 0, 60000, &r, &err), ==, 0);
	cJSON_Delete(r);
	history_is(s, "t", 0, 0, "12,11");
	check_get_eq(s, &f.ck, 12);

	/* forks: 12 <- 13 <- 14 and 12 <- 15 <- 16; keeping the newest 3 (14,
	 * 15, 16) keeps where the branches meet (12) and the path to it (13) */
	CHECK_INT(fake_put(&f, s, &err), ==, 0);	/* 13 */
	CHECK_INT(fake_put(&f, s, &err), ==, 0);	/* 14 */
	f.ck.source = "fork";
	fake_set(&f, 2, "\"branch\"");
	CHECK_INT(put_at(&f, s, 15, 12, &err), ==, 0);
	CHECK_INT(put_at(&f, s, 16, 15, &err), ==, 0);
	CHECK_INT(og_store_lmdb_gc(s, 3, 0, &r, &err), ==, 0);
	CHECK_INT(report_num(r, "checkpoints_deleted"), ==, 1);
	cJSON_Delete(r);
	history_is(s, "t", 0, 0, "16,15,14,13,12");
	CHECK_INT(og_store_lmdb_gc(s, 2, 0, &r, &err), ==, 0);
	CHECK_INT(report_num(r, "checkpoints_deleted"), ==, 3);
	cJSON_Delete(r);
	history_is(s, "t", 0, 0, "16,15");
	check_get_eq(s, &f.ck, 16);
	/* idempotent */
	CHECK_INT(og_store_lmdb_gc(s, 2, 0, &r, &err), ==, 0);
	CHECK_INT(report_num(r, "checkpoints_deleted"), ==, 0);
	CHECK_INT(report_num(r, "values_deleted"), ==, 0);
	cJSON_Delete(r);
	CHECK_INT(og_store_lmdb_gc(s, -1, 0, &r, &err), ==, -OG_EINVAL);
	fake_release(&f);
	fake_release(&h);
	og_graph_free(g);
	og_store_lmdb_close(s);
}

/* ---- segments: a thread far behind the newest handle ----------------------------- */

struct segs_ctx {
	const char *thread;
	uint64_t nseg;
};

static int segs_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	struct segs_ctx *c = ctx;
	struct ogl_trow t;
	uint64_t h;
	int rc;

	if ((rc = ogl_handle(e, txn, c->thread, &h)) || (rc = ogl_trow_get(e, txn, h, &t, NULL, err)))
		return rc;
	c->nseg = t.nseg;
	return 0;
}

static long nsegs(struct og_store_lmdb *s, const char *thread)
{
	struct segs_ctx c = { thread, 0 };
	struct og_err err = { 0 };

	return ogl_read(s, segs_txn, &c, "segments", &err) ? -1 : (long)c.nseg;
}

/* n other threads of one checkpoint each: handles newer than cold's */
static void others(struct og_store_lmdb *s, struct og_graph *g, const char *tag, int n)
{
	struct og_err err = { 0 };
	char tid[32];
	int i, fails = 0;

	for (i = 0; i < n; i++) {
		struct fake o;
		snprintf(tid, sizeof(tid), "%s-%d", tag, i);
		fake_init(&o, g, tid);
		fake_set(&o, 0, "\"other\"");
		fails += fake_put(&o, s, &err) != 0;
		fake_release(&o);
	}
	CHECK_INT(fails, ==, 0);
}

/* A thread resumed after 300 newer threads continues in a new segment (its
 * puts append instead of splitting full pages); every read, put_writes, a
 * fork, history, the index and gc see one thread across its segments. */
static void test_segments(void)
{
	const char *path = newpath("seg");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_ASYNC, 0, false);
	struct og_graph *g = graph_n(3);
	struct og_err err = { 0 };
	cJSON *want[40] = { 0 }, *rec, *r = NULL, *t = NULL, *e;
	char text[64];
	struct fake f;
	uint64_t id;
	int i;

	fake_init(&f, g, "cold");
	for (i = 1; i <= 30; i++) {
		if (i == 6)
			others(s, g, "a", 300);
		if (i == 16)
			others(s, g, "b", 300);
		snprintf(text, sizeof(text), "{\"step\":%d}", i);
		fake_set(&f, i % 3, text);
		if (i % 5 == 0)
			fake_set(&f, (i + 1) % 3, NULL);
		CHECK_INT(fake_put(&f, s, &err), ==, 0);
		want[i] = og_ckpt_to_json(&f.ck);
		if (i == 5)
			CHECK_INT(nsegs(s, "cold"), ==, 0);
		if (i == 6)	/* 300 newer handles: a new segment from id 6 */
			CHECK_INT(nsegs(s, "cold"), ==, 1);
	}
	CHECK_INT(nsegs(s, "cold"), ==, 2);	/* and from 16 */
	/* a fork from 3 (segment 0) as 31, in the last segment */
	f.ck.source = "fork";
	fake_set(&f, 0, "\"forked\"");
	CHECK_INT(put_at(&f, s, 31, 3, &err), ==, 0);
	want[31] = og_ckpt_to_json(&f.ck);
	for (i = 1; i <= 31; i++) {
		cJSON *got = NULL;
		CHECK_INT(og_store_lmdb_ops.get(s, "cold", (uint64_t)i, &got, &err), ==, 0);
		CHECK_JSON_EQ(got, want[i]);
		cJSON_Delete(got);
	}
	CHECK_INT(og_store_lmdb_latest_id(s, "cold", &id, &err), ==, 0);
	CHECK_INT(id, ==, 31);
	history_is(s, "cold", 4, 0, "31,30,29,28");
	history_is(s, "cold", 4, 8, "7,6,5,4");
	history_is(s, "cold", 0, 18, "17,16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1");
	/* pending writes against checkpoints of the first and last segments */
	rec = J("{\"task\":\"w\",\"node\":\"n\"}");
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "cold", 5, rec, &err), ==, 0);
	CHECK_INT(og_store_lmdb_ops.put_writes(s, "cold", 31, rec, &err), ==, 0);
	cJSON_Delete(rec);
	for (i = 5; i <= 31; i += 26) {
		cJSON *got = NULL;
		char *p;
		CHECK_INT(og_store_lmdb_ops.get(s, "cold", (uint64_t)i, &got, &err), ==, 0);
		p = print(cJSON_GetObjectItem(got, "pending"));
		CHECK_STR(p, "[{\"task\":\"w\",\"node\":\"n\"}]");
		free(p);
		cJSON_Delete(got);
	}
	/* the index */
	CHECK_INT(og_store_lmdb_threads(s, NULL, &t, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(t), ==, 601);
	cJSON_ArrayForEach(e, t) {
		const cJSON *tid = cJSON_GetObjectItem(e, "thread_id");
		if (cJSON_IsString(tid) && !strcmp(tid->valuestring, "cold")) {
			CHECK_INT((long)cJSON_GetObjectItem(e, "latest_id")->valuedouble, ==, 31);
			CHECK_STR(cJSON_GetObjectItem(e, "status")->valuestring, "running");
		}
	}
	cJSON_Delete(t);
	/* gc: keep 31 and the chain to nothing else: 31's values come from 3,
	 * 30, 29 and 31 itself (a fork keeps its own origins) */
	CHECK_INT(og_store_lmdb_gc(s, 1, 0, &r, &err), ==, 0);
	CHECK_INT(report_num(r, "checkpoints_deleted"), ==, 30);
	CHECK_INT(report_num(r, "writes_deleted"), ==, 1);
	cJSON_Delete(r);
	history_is(s, "cold", 0, 0, "31");
	og_store_lmdb_close(s);
	s = open_db(path, OG_DURABLE_SYNC, 0, true);
	cJSON_ReplaceItemInObject(want[31], "pending", J("[{\"task\":\"w\",\"node\":\"n\"}]"));
	{
		cJSON *got = NULL;
		CHECK_INT(og_store_lmdb_ops.get(s, "cold", 0, &got, &err), ==, 0);
		CHECK_JSON_EQ(got, want[31]);
		cJSON_Delete(got);
	}
	og_store_lmdb_close(s);
	for (i = 0; i < 40; i++)
		cJSON_Delete(want[i]);
	fake_release(&f);
	og_graph_free(g);
}

/* Sync commits start a segment whenever the thread's last one is not the
 * newest handle (a group commit's puts then append side by side), at most
 * one per 1 << (nseg / 4) checkpoints; async ones keep the 256-handle gap.
 * Three threads put 20 checkpoints each, round robin (so each finds the
 * others' newer handles at every put): in sync mode a thread ends with 9
 * segments (new ones at ids 2, 3, 4, 5, 7, 9, 11, 13, 17), in
 * async mode with none; reads, history, gc and a reopen see each thread
 * whole either way. */
static void test_sync_segments(enum og_durability d, long want_segs)
{
	const char *path = newpath(d == OG_DURABLE_SYNC ? "syncseg" : "asyncseg");
	struct og_store_lmdb *s = open_db(path, d, 0, false);
	struct og_graph *g = graph_n(3);
	struct og_err err = { 0 };
	static const char *const names[3] = { "rr-a", "rr-b", "rr-c" };
	cJSON *want[3][21] = { { 0 } }, *r = NULL;
	char text[64], list[128];
	struct fake f[3];
	uint64_t id;
	int i, k, n;

	for (k = 0; k < 3; k++)
		fake_init(&f[k], g, names[k]);
	for (i = 1; i <= 20; i++) {
		for (k = 0; k < 3; k++) {
			snprintf(text, sizeof(text), "{\"step\":%d,\"t\":%d}", i, k);
			fake_set(&f[k], i % 3, text);
			CHECK_INT(fake_put(&f[k], s, &err), ==, 0);
			want[k][i] = og_ckpt_to_json(&f[k].ck);
		}
	}
	for (n = 0, i = 20; i >= 1; i--)
		n += snprintf(list + n, sizeof(list) - (size_t)n, i > 1 ? "%d," : "%d", i);
	for (k = 0; k < 3; k++) {
		CHECK_INT(nsegs(s, names[k]), ==, want_segs);
		for (i = 1; i <= 20; i++) {
			cJSON *got = NULL;
			CHECK_INT(og_store_lmdb_ops.get(s, names[k], (uint64_t)i, &got, &err), ==, 0);
			CHECK_JSON_EQ(got, want[k][i]);
			cJSON_Delete(got);
		}
		CHECK_INT(og_store_lmdb_latest_id(s, names[k], &id, &err), ==, 0);
		CHECK_INT(id, ==, 20);
		history_is(s, names[k], 0, 0, list);
		history_is(s, names[k], 3, 14, "13,12,11");
	}
	CHECK_INT(og_store_lmdb_gc(s, 1, 0, &r, &err), ==, 0);
	CHECK_INT(report_num(r, "checkpoints_deleted"), ==, 3 * 19);
	cJSON_Delete(r);
	og_store_lmdb_close(s);
	s = open_db(path, OG_DURABLE_SYNC, 0, true);
	for (k = 0; k < 3; k++) {
		cJSON *got = NULL;
		history_is(s, names[k], 0, 0, "20");
		CHECK_INT(og_store_lmdb_ops.get(s, names[k], 0, &got, &err), ==, 0);
		CHECK_JSON_EQ(got, want[k][20]);
		cJSON_Delete(got);
		for (i = 0; i <= 20; i++)
			cJSON_Delete(want[k][i]);
		fake_release(&f[k]);
	}
	og_store_lmdb_close(s);
	og_graph_free(g);
}

/* ---- durability, sharing, refusals ------------------------------------------------ */

/* Puts n checkpoints of a 2-channel thread where channel a (value_bytes of
 * text) changes every step; returns the number of failures, the final get
 * compared with og_ckpt_to_json included. No CHECKs: threads call it. */
static int put_some_n(struct og_store_lmdb *s, const char *thread, int n, size_t value_bytes)
{
	struct og_graph *g = graph_n(2);
	struct og_err err = { 0 };
	uint64_t latest = 0;
	char *big = malloc(value_bytes + 3), *a = NULL, *b = NULL;
	cJSON *got = NULL, *want;
	struct fake f;
	int i, fails = 0;

	memset(big, 'x', value_bytes + 2);
	big[0] = big[value_bytes + 1] = '"';
	big[value_bytes + 2] = '\0';
	fake_init(&f, g, thread);
	fails += og_store_lmdb_latest_id(s, thread, &latest, &err) != 0;
	f.ck.id = latest;
	f.ck.step = (int)latest - 1;
	fake_set(&f, 1, "\"constant\"");
	for (i = 0; i < n; i++) {
		big[1 + i % value_bytes] = 'y';
		fake_set(&f, 0, big);
		fails += fake_put(&f, s, &err) != 0;
	}
	want = og_ckpt_to_json(&f.ck);
	if (og_store_lmdb_ops.get(s, thread, 0, &got, &err) != 0 || !(a = cJSON_PrintUnformatted(got)) ||
	    !(b = cJSON_PrintUnformatted(want)) || strcmp(a, b)) {
		fprintf(stderr, "%s: get of the latest differs: %s\n", thread, err.msg);
		fails++;
	}
	free(a);
	free(b);
	cJSON_Delete(got);
	cJSON_Delete(want);
	free(big);
	fake_release(&f);
	og_graph_free(g);
	return fails;
}

static void put_some(struct og_store_lmdb *s, const char *thread, int n, size_t value_bytes)
{
	CHECK_INT(put_some_n(s, thread, n, value_bytes), ==, 0);
}

static void test_async_reopen(void)
{
	const char *path = newpath("async");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_ASYNC, 0, false);
	uint64_t id = 0;
	struct og_err err = { 0 };

	put_some(s, "t", 50, 100);
	og_clock_sleep_ms(20);		/* let the flusher run at least once */
	put_some(s, "t", 5, 100);
	og_store_lmdb_close(s);
	s = open_db(path, OG_DURABLE_SYNC, 0, true);
	CHECK_INT(og_store_lmdb_latest_id(s, "t", &id, &err), ==, 0);
	CHECK_INT(id, ==, 55);
	og_store_lmdb_close(s);
}

static void test_read_only(void)
{
	const char *path = newpath("ro");
	struct og_store_lmdb *s, *w, *r;
	struct og_store_lmdb_opts o = { path, OG_DURABLE_SYNC, 0, 0, true };
	struct og_err err = { 0 };
	struct og_graph *g = graph_n(1);
	struct fake f;
	cJSON *got = NULL;

	/* missing: refused, and not created */
	CHECK_INT(og_store_lmdb_open(&o, &s, &err), ==, -OG_ENOENT);
	CHECK_CONTAINS(err.msg, "no opsgraph database at");
	CHECK(!exists(path));
	w = open_db(path, OG_DURABLE_SYNC, 0, false);
	fake_init(&f, g, "t");
	fake_set(&f, 0, "1");
	CHECK_INT(fake_put(&f, w, &err), ==, 0);
	og_store_lmdb_close(w);
	r = open_db(path, OG_DURABLE_SYNC, 0, true);
	CHECK_INT(og_store_lmdb_ops.get(r, "t", 1, &got, &err), ==, 0);
	cJSON_Delete(got);
	CHECK_INT(fake_put(&f, r, &err), ==, -OG_ESTATE);
	CHECK_CONTAINS(err.msg, "read-only");
	/* a writer while a reader is open in this process: refused clearly */
	CHECK_INT(og_store_lmdb_open(&(struct og_store_lmdb_opts){ path }, &w, &err), ==, -OG_ESTATE);
	CHECK_CONTAINS(err.msg, "already open read-only");
	og_store_lmdb_close(r);
	/* a reader while a writer is open: shares it */
	w = open_db(path, OG_DURABLE_SYNC, 0, false);
	r = open_db(path, OG_DURABLE_SYNC, 0, true);
	f.ck.id = 1;
	CHECK_INT(fake_put(&f, w, &err), ==, 0);
	check_get_eq(r, &f.ck, 2);
	CHECK_INT(fake_put(&f, r, &err), ==, -OG_ESTATE);
	og_store_lmdb_close(r);
	og_store_lmdb_close(w);
	fake_release(&f);
	og_graph_free(g);
}

static void check_refused(const char *path, const char *why)
{
	struct og_store_lmdb_opts o = { path, OG_DURABLE_SYNC, 0, 0, false };
	struct og_store_lmdb *s = (void *)1;
	struct og_err err = { 0 };

	CHECK_INT(og_store_lmdb_open(&o, &s, &err), ==, -OG_EINVAL);
	CHECK(s == NULL);
	CHECK_CONTAINS(err.msg, "is not an opsgraph database");
	CHECK_CONTAINS(err.msg, why);
	CHECK_CONTAINS(err.msg, "move it away or pass another --db");
	CHECK_CONTAINS(err.msg, path);
}

static void test_foreign(void)
{
	const char *file = newpath("file"), *dir = newpath("dir"), *junk = newpath("junk");
	const char *env = newpath("lmdb");
	char data[256], lock[256], other[256], *before, *after;
	size_t nb, na;
	MDB_env *me;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 3, "key" }, v = { 5, "value" };

	/* a regular file */
	spit(file, "hello, not a database\n", 22);
	check_refused(file, "regular file");
	before = slurp(file, &nb);
	CHECK_INT(nb, ==, 22);
	CHECK(before && !memcmp(before, "hello, not a database\n", 22));
	free(before);

	/* under a regular file: a clear error */
	{
		struct og_store_lmdb_opts o = { NULL, OG_DURABLE_SYNC, 0, 0, false };
		struct og_store_lmdb *s = NULL;
		struct og_err err = { 0 };
		char sub[256];

		snprintf(sub, sizeof(sub), "%s/sub/db", file);
		o.path = sub;
		CHECK_INT(og_store_lmdb_open(&o, &s, &err), ==, -OG_EIO);
		CHECK_CONTAINS(err.msg, "cannot open");
		CHECK_CONTAINS(err.msg, "Not a directory");
	}

	/* a directory with a corrupt data.mdb */
	mkdir(dir, 0700);
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	snprintf(lock, sizeof(lock), "%s/lock.mdb", dir);
	{
		char garbage[8192];
		memset(garbage, 0xab, sizeof(garbage));
		spit(data, garbage, sizeof(garbage));
	}
	check_refused(dir, "data.mdb is not an LMDB file");
	CHECK(!exists(lock));
	after = slurp(data, &na);
	CHECK_INT(na, ==, 8192);
	CHECK(after && (unsigned char)after[100] == 0xab);
	free(after);

	/* a directory of someone's files */
	mkdir(junk, 0700);
	snprintf(other, sizeof(other), "%s/notes.txt", junk);
	spit(other, "mine", 4);
	check_refused(junk, "holds other files");
	snprintf(data, sizeof(data), "%s/data.mdb", junk);
	CHECK(!exists(data));

	/* a foreign LMDB environment */
	mkdir(env, 0700);
	CHECK_INT(mdb_env_create(&me), ==, 0);
	mdb_env_set_maxdbs(me, 4);
	CHECK_INT(mdb_env_open(me, env, 0, 0600), ==, 0);
	CHECK_INT(mdb_txn_begin(me, NULL, 0, &txn), ==, 0);
	CHECK_INT(mdb_dbi_open(txn, "users", MDB_CREATE, &dbi), ==, 0);
	CHECK_INT(mdb_put(txn, dbi, &k, &v, 0), ==, 0);
	CHECK_INT(mdb_txn_commit(txn), ==, 0);
	mdb_env_close(me);
	snprintf(data, sizeof(data), "%s/data.mdb", env);
	before = slurp(data, &nb);
	check_refused(env, "another program");
	after = slurp(data, &na);
	CHECK_INT(na, ==, nb);
	CHECK(before && after && !memcmp(before, after, nb));
	free(before);
	free(after);
	/* and one whose "meta" database is not ours */
	CHECK_INT(mdb_env_create(&me), ==, 0);
	mdb_env_set_maxdbs(me, 4);
	CHECK_INT(mdb_env_open(me, env, 0, 0600), ==, 0);
	CHECK_INT(mdb_txn_begin(me, NULL, 0, &txn), ==, 0);
	CHECK_INT(mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi), ==, 0);
	k.mv_size = 6;
	k.mv_data = "format";
	CHECK_INT(mdb_put(txn, dbi, &k, &v, 0), ==, 0);
	CHECK_INT(mdb_txn_commit(txn), ==, 0);
	mdb_env_close(me);
	before = slurp(data, &nb);
	check_refused(env, "format record is not opsgraph's");
	after = slurp(data, &na);
	CHECK(na == nb && before && after && !memcmp(before, after, nb));
	free(before);
	free(after);
	/* and an opsgraph store of the previous format (keyed by thread id) */
	CHECK_INT(mdb_env_create(&me), ==, 0);
	mdb_env_set_maxdbs(me, 4);
	CHECK_INT(mdb_env_open(me, env, 0, 0600), ==, 0);
	CHECK_INT(mdb_txn_begin(me, NULL, 0, &txn), ==, 0);
	CHECK_INT(mdb_dbi_open(txn, "meta", 0, &dbi), ==, 0);
	v.mv_size = 16;
	v.mv_data = "opsgraph-store/1";
	CHECK_INT(mdb_put(txn, dbi, &k, &v, 0), ==, 0);
	CHECK_INT(mdb_txn_commit(txn), ==, 0);
	mdb_env_close(me);
	before = slurp(data, &nb);
	{
		struct og_store_lmdb_opts o = { env, OG_DURABLE_SYNC, 0, 0, false };
		struct og_store_lmdb *s = NULL;
		struct og_err err = { 0 };
		CHECK_INT(og_store_lmdb_open(&o, &s, &err), ==, -OG_EINVAL);
		CHECK(s == NULL);
		CHECK_CONTAINS(err.msg, "holds opsgraph store format 1 and this opsgraph reads format 2 (an "
			       "older layout");
		CHECK_CONTAINS(err.msg, "move it away or pass another --db");
	}
	after = slurp(data, &na);
	CHECK(na == nb && before && after && !memcmp(before, after, nb));
	free(before);
	free(after);

	/* an empty LMDB environment (a creation that never committed) is ours */
	env = newpath("empty");
	mkdir(env, 0700);
	CHECK_INT(mdb_env_create(&me), ==, 0);
	CHECK_INT(mdb_env_open(me, env, 0, 0600), ==, 0);
	mdb_env_close(me);
	og_store_lmdb_close(open_db(env, OG_DURABLE_SYNC, 0, false));
}

static void test_map_growth(void)
{
	const char *path = newpath("grow");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_ASYNC, 1 << 20, false);

	put_some(s, "big", 1000, 10000);	/* ~10 MB of values into a 1 MiB map */
	CHECK(stat_num(s, "map_size") >= 10 << 20);
	CHECK(stat_num(s, "bytes_used") >= 10 << 20);
	CHECK_INT(stat_num(s, "values"), ==, 1001);
	og_store_lmdb_close(s);
}

static void test_shared(void)
{
	const char *path = newpath("shared");
	struct og_store_lmdb *a = open_db(path, OG_DURABLE_SYNC, 1 << 20, false);
	struct og_store_lmdb *b = open_db(path, OG_DURABLE_ASYNC, 1 << 20, false);
	uint64_t id = 0;
	struct og_err err = { 0 };
	pid_t pid;
	int status = -1;

	put_some(a, "one", 10, 100);
	put_some(b, "two", 10, 100);
	og_store_lmdb_close(a);
	put_some(b, "two", 10, 100);
	CHECK_INT(og_store_lmdb_latest_id(b, "one", &id, &err), ==, 0);
	CHECK_INT(id, ==, 10);

	/* a child process writes 3 MB through its own handle while this one
	 * writes 3 MB through its handle: both grow the map from 1 MiB, and
	 * each sees the other's growth as MDB_MAP_RESIZED */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct og_store_lmdb_opts o = { path, OG_DURABLE_SYNC, 0, 1 << 20, false };
		struct og_store_lmdb *c = NULL;
		int fails;
		if (og_store_lmdb_open(&o, &c, &err) != 0) {
			fprintf(stderr, "child: open: %s\n", err.msg);
			_exit(2);
		}
		fails = put_some_n(c, "child", 300, 10000);
		if (fails)
			fprintf(stderr, "child: %d failed writes or reads\n", fails);
		og_store_lmdb_close(c);
		_exit(fails ? 1 : 0);
	}
	put_some(b, "parent", 300, 10000);	/* both grow the map at once */
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(og_store_lmdb_latest_id(b, "child", &id, &err), ==, 0);
	CHECK_INT(id, ==, 300);
	put_some(b, "parent", 50, 1000);
	CHECK_INT(og_store_lmdb_latest_id(b, "parent", &id, &err), ==, 0);
	CHECK_INT(id, ==, 350);
	og_store_lmdb_close(b);
}

/* Threads of one process: writers on a sync and an async handle (so the
 * environment's sync flag switches back and forth), growing the map from
 * 1 MiB, while a reader reads. */
struct worker {
	struct og_store_lmdb *s;
	char thread[16];
	int n;
	size_t bytes;
	atomic_int *stop;
	int fails;
};

static void *writer_main(void *arg)
{
	struct worker *w = arg;

	w->fails = put_some_n(w->s, w->thread, w->n, w->bytes);
	return NULL;
}

static void *reader_main(void *arg)
{
	struct worker *w = arg;
	struct og_err err = { 0 };

	while (!atomic_load(w->stop)) {
		cJSON *got = NULL, *h = NULL;
		if (og_store_lmdb_ops.get(w->s, "w0", 0, &got, &err) != 0 && err.code != -OG_ENOENT)
			w->fails++;
		cJSON_Delete(got);
		if (og_store_lmdb_history(w->s, "w1", 5, 0, &h, &err) != 0)
			w->fails++;
		cJSON_Delete(h);
	}
	return NULL;
}

static void test_threads(void)
{
	const char *path = newpath("mt");
	struct og_store_lmdb *a = open_db(path, OG_DURABLE_ASYNC, 1 << 20, false);
	struct og_store_lmdb *b = open_db(path, OG_DURABLE_SYNC, 1 << 20, false);
	struct worker w[4], r;
	pthread_t tid[4], rt;
	atomic_int stop = 0;
	uint64_t id;
	struct og_err err = { 0 };
	int i;

	memset(&r, 0, sizeof(r));
	r.s = a;
	r.stop = &stop;
	CHECK_INT(pthread_create(&rt, NULL, reader_main, &r), ==, 0);
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].s = i == 3 ? b : a;
		snprintf(w[i].thread, sizeof(w[i].thread), "w%d", i);
		w[i].n = i == 3 ? 20 : 150;
		w[i].bytes = 8000;
		CHECK_INT(pthread_create(&tid[i], NULL, writer_main, &w[i]), ==, 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);
	atomic_store(&stop, 1);
	pthread_join(rt, NULL);
	CHECK_INT(r.fails, ==, 0);
	for (i = 0; i < 4; i++) {
		CHECK_INT(w[i].fails, ==, 0);
		CHECK_INT(og_store_lmdb_latest_id(b, w[i].thread, &id, &err), ==, 0);
		CHECK_INT(id, ==, w[i].n);
	}
	CHECK(stat_num(a, "map_size") > 1 << 20);
	og_store_lmdb_close(a);
	og_store_lmdb_close(b);
}

/* ---- group commit: concurrent sync writers ------------------------------------- */

/* Every msync/fsync/fdatasync of this process, LMDB's included: defining them
 * here interposes them on liblmdb's calls (the real ones are the syscalls).
 * OG_TEST_SYNC_US=N adds N us to each, to play a slower disk (the issue's
 * figures are for one where a flush costs 0.15-0.2 ms). */
static atomic_long n_syncs;
static long sync_extra_us = -1;

static int counted(long rc)
{
	long us = sync_extra_us;

	atomic_fetch_add(&n_syncs, 1);
	if (us < 0) {
		const char *v = getenv("OG_TEST_SYNC_US");
		sync_extra_us = us = v ? atol(v) : 0;
	}
	if (us > 0) {
		struct timespec ts = { us / 1000000, us % 1000000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return (int)rc;
}

int msync(void *addr, size_t len, int flags)
{
	return counted(syscall(SYS_msync, addr, len, flags));
}

int fsync(int fd)
{
	return counted(syscall(SYS_fsync, fd));
}

int fdatasync(int fd)
{
	return counted(syscall(SYS_fdatasync, fd));
}

#define RUN_CKPTS 8	/* checkpoints per run, as the S1 incident pipeline */

/* One run of thread `tid`: RUN_CKPTS checkpoints over 3 channels and a
 * pending write after checkpoints 3 and 6 (10 durable writes). With s NULL
 * nothing is stored: *want gets what get(tid, 0) must give. Returns the
 * number of failed writes. */
static int group_run(struct og_store_lmdb *s, struct og_graph *g, const char *tid, cJSON **want)
{
	struct og_err err = { 0 };
	char text[64];
	struct fake f;
	int k, fails = 0;

	fake_init(&f, g, tid);
	fake_opt(&f.next, &f.ck.next, "[{\"id\":\"0123456789abcdef\",\"node\":\"triage\"}]");
	for (k = 1; k <= RUN_CKPTS; k++) {
		snprintf(text, sizeof(text), "{\"step\":%d,\"who\":\"%s\"}", k, tid);
		fake_set(&f, k % 3, text);
		if (!s) {
			f.ck.parent_id = f.ck.id++;
			f.ck.step++;
			f.ck.created_ms += 1000;
			continue;
		}
		fails += fake_put(&f, s, &err) != 0;
		if (k == 3 || k == 6) {
			snprintf(text, sizeof(text), "{\"task\":\"t%d\",\"node\":\"n%d\",\"writes\":{}}", k, k);
			cJSON *rec = J(text);
			if (og_store_lmdb_ops.put_writes(s, tid, (uint64_t)k, rec, &err) != 0) {
				fprintf(stderr, "put_writes %s/%d: %s\n", tid, k, err.msg);
				fails++;
			}
			cJSON_Delete(rec);
		}
	}
	if (want)
		*want = og_ckpt_to_json(&f.ck);
	fake_release(&f);
	return fails;
}

struct gworker {
	struct og_store_lmdb *s;
	struct og_graph *g;
	const char *tag;
	int idx, runs, fails;
};

static void *gworker_main(void *arg)
{
	struct gworker *w = arg;
	char tid[64];
	int r;

	for (r = 0; r < w->runs; r++) {
		snprintf(tid, sizeof(tid), "%s-w%d-r%d", w->tag, w->idx, r);
		w->fails += group_run(w->s, w->g, tid, NULL);
	}
	return NULL;
}

/* Checks, through a fresh handle, that every run of nw workers is complete. */
static int group_verify(const char *path, struct og_graph *g, const char *tag, int nw, int runs)
{
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_SYNC, 0, true);
	struct og_err err = { 0 };
	char tid[64], *a, *b;
	int i, r, bad = 0;

	for (i = 0; i < nw; i++) {
		for (r = 0; r < runs; r++) {
			cJSON *got = NULL, *want = NULL, *h = NULL;
			const cJSON *pend;
			uint64_t id = 0;
			snprintf(tid, sizeof(tid), "%s-w%d-r%d", tag, i, r);
			group_run(NULL, g, tid, &want);
			if (og_store_lmdb_latest_id(s, tid, &id, &err) || id != RUN_CKPTS ||
			    og_store_lmdb_history(s, tid, 0, 0, &h, &err) || cJSON_GetArraySize(h) != RUN_CKPTS ||
			    og_store_lmdb_ops.get(s, tid, 0, &got, &err)) {
				bad++;
			} else {
				a = cJSON_PrintUnformatted(got);
				b = cJSON_PrintUnformatted(want);
				bad += !a || !b || strcmp(a, b) != 0;
				free(a);
				free(b);
			}
			cJSON_Delete(got);
			got = NULL;
			if (og_store_lmdb_ops.get(s, tid, 6, &got, &err) ||
			    !cJSON_IsArray(pend = cJSON_GetObjectItem(got, "pending")) ||
			    cJSON_GetArraySize(pend) != 1)
				bad++;
			cJSON_Delete(got);
			cJSON_Delete(want);
			cJSON_Delete(h);
		}
	}
	og_store_lmdb_close(s);
	return bad;
}

/* P threads share one sync handle, each doing `runs` runs of its own threads. */
static void test_group_commit(int nthreads, int runs)
{
	const char *path = newpath("group");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_SYNC, 0, false);
	struct og_graph *g = graph_n(3);
	struct gworker *w = calloc((size_t)nthreads, sizeof(*w));
	pthread_t *tid = calloc((size_t)nthreads, sizeof(*tid));
	long syncs0 = atomic_load(&n_syncs);
	struct og_store_sync_stats sc;
	double secs, writes;
	int64_t t0;
	int i, fails = 0;

	og_store_lmdb_sync_stats(s, &sc);
	CHECK_INT((long)sc.commits, ==, 0);	/* opening commits nothing it counts */
	t0 = og_clock_mono_us();
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct gworker){ s, g, "g", i, runs, 0 };
		CHECK_INT(pthread_create(&tid[i], NULL, gworker_main, &w[i]), ==, 0);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(tid[i], NULL);
		fails += w[i].fails;
	}
	secs = (double)(og_clock_mono_us() - t0) / 1e6;
	writes = (double)nthreads * runs * (RUN_CKPTS + 2);
	fprintf(stderr, "figure: sync, %2d threads on one handle: %7.0f durable writes/s (%5.0f runs/s of "
		"%d puts + 2 put_writes), %.3f fsyncs per write\n", nthreads, writes / secs,
		nthreads * runs / secs, RUN_CKPTS, (double)(atomic_load(&n_syncs) - syncs0) / writes);
	CHECK_INT(fails, ==, 0);
	/* the counters: every write counted once, in commits that each carried
	 * one or more (one each for a lone writer), which took time to flush */
	og_store_lmdb_sync_stats(s, &sc);
	CHECK_INT((long)sc.writes, ==, (long)writes);
	CHECK(sc.commits >= 1 && sc.commits <= sc.writes);
	if (nthreads == 1)
		CHECK_INT((long)sc.commits, ==, (long)sc.writes);
	CHECK(sc.flush_s > 0);
	og_store_lmdb_close(s);
	CHECK_INT(group_verify(path, g, "g", nthreads, runs), ==, 0);
	og_graph_free(g);
	free(w);
	free(tid);
}

/* Two processes, each with its own handle and 8 threads, write at once. */
static void test_group_fork(void)
{
	const char *path = newpath("groupfork");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_SYNC, 1 << 20, false);
	struct og_graph *g = graph_n(3);
	struct gworker w[8];
	pthread_t tid[8];
	int64_t t0;
	pid_t pid;
	long syncs0 = atomic_load(&n_syncs);
	int i, status = -1, fails = 0, runs = 16;

	og_store_lmdb_close(s);	/* created; each process opens its own */
	fflush(NULL);
	t0 = og_clock_mono_us();
	pid = fork();
	if (pid == 0) {
		struct og_store_lmdb_opts o = { path, OG_DURABLE_SYNC, 0, 1 << 20, false };
		struct og_err err = { 0 };
		if (og_store_lmdb_open(&o, &s, &err) != 0)
			_exit(2);
		for (i = 0; i < 8; i++) {
			w[i] = (struct gworker){ s, g, "child", i, runs, 0 };
			if (pthread_create(&tid[i], NULL, gworker_main, &w[i]) != 0)
				_exit(3);
		}
		for (i = 0; i < 8; i++) {
			pthread_join(tid[i], NULL);
			fails += w[i].fails;
		}
		og_store_lmdb_close(s);
		_exit(fails ? 1 : 0);
	}
	CHECK(pid > 0);
	s = open_db(path, OG_DURABLE_SYNC, 1 << 20, false);
	for (i = 0; i < 8; i++) {
		w[i] = (struct gworker){ s, g, "parent", i, runs, 0 };
		CHECK_INT(pthread_create(&tid[i], NULL, gworker_main, &w[i]), ==, 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		fails += w[i].fails;
	}
	og_store_lmdb_close(s);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fprintf(stderr, "figure: sync, 2 processes x 8 threads: %.0f durable writes/s together, %.3f "
		"fsyncs per write (this process)\n",
		2.0 * 8 * runs * (RUN_CKPTS + 2) / ((double)(og_clock_mono_us() - t0) / 1e6),
		(double)(atomic_load(&n_syncs) - syncs0) / (8.0 * runs * (RUN_CKPTS + 2)));
	CHECK_INT(fails, ==, 0);
	CHECK_INT(group_verify(path, g, "parent", 8, runs), ==, 0);
	CHECK_INT(group_verify(path, g, "child", 8, runs), ==, 0);
	og_graph_free(g);
}

/* Failures inside a shared transaction. Threads of one sync handle race to
 * put the same checkpoints of one thread (exactly one put of each id wins,
 * the others get -OG_ECONFLICT and change nothing), put writes against
 * checkpoints that do not exist (-OG_ENOENT), and run a write that stores a
 * lease row and then fails: the batch it shared must commit everything but
 * that row. Meanwhile each thread also stores a run of its own. */
struct race {
	struct og_store_lmdb *s;
	struct og_graph *g, *g3;	/* the race's, the own run's */
	int idx, wins, conflicts, enoent, poisoned, fails;
};

static int poison_txn(struct ogl_env *e, MDB_txn *txn, void *ctx, struct og_err *err)
{
	MDB_val k = { 6, "poison" }, v = { 1, "x" };
	int rc = mdb_put(txn, e->db_leases, &k, &v, 0);

	(void)ctx;
	return rc ? rc : og_err_set(err, -OG_EINVAL, "poisoned after a write");
}

static void *race_main(void *arg)
{
	struct race *w = arg;
	struct og_err err = { 0 };
	cJSON *rec = J("{\"task\":\"late\",\"node\":\"n\"}");
	char tid[32];
	struct fake f;
	uint64_t id;
	int rc;

	fake_init(&f, w->g, "race");
	for (id = 1; id <= 40; id++) {
		f.ck.id = id;
		f.ck.parent_id = id - 1;
		f.ck.step = (int)id;
		fake_set(&f, 0, "{\"same\":true}");
		f.vers[0] = id;
		rc = og_store_lmdb_ops.put(w->s, &f.ck, &err);
		w->wins += rc == 0;
		w->conflicts += rc == -OG_ECONFLICT;
		rc = og_store_lmdb_ops.put_writes(w->s, "race", 1000 + id, rec, &err);
		w->enoent += rc == -OG_ENOENT;
		if (id % 4 == (uint64_t)w->idx % 4) {
			rc = ogl_write(w->s, poison_txn, NULL, "poison", &err);
			w->poisoned += rc == -OG_EINVAL && strstr(err.msg, "poisoned") != NULL;
		}
	}
	snprintf(tid, sizeof(tid), "own%d", w->idx);
	w->fails += group_run(w->s, w->g3, tid, NULL);
	cJSON_Delete(rec);
	fake_release(&f);
	return NULL;
}

/* The put cache keeps an entry per thread (PUT CACHE in store_lmdb_ckpt.c):
 * 8 threads put 25 checkpoints each in shared sync commits, each put
 * changing one of three channels and adding a fourth on the 10th, so most
 * puts take their thread's handle, row and parent table from the cache.
 * Every checkpoint reads back as it was put, and only changed values were
 * stored. */
struct pcb {
	struct og_store_lmdb *s;
	struct og_graph *g;
	int idx, fails;
	cJSON *want[26];
};

static void *pcb_main(void *arg)
{
	struct pcb *w = arg;
	struct og_err err = { 0 };
	char tid[32], val[64];
	struct fake f;
	int k;

	snprintf(tid, sizeof(tid), "pcb-%d", w->idx);
	fake_init(&f, w->g, tid);
	f.st.n = 3;			/* the fourth channel comes later */
	for (k = 1; k <= 25; k++) {
		if (k == 10)
			f.st.n = 4;
		snprintf(val, sizeof(val), "\"%s v%d\"", tid, k);
		fake_set(&f, k == 10 ? 3 : k % 3, val);
		if (k == 1) {
			fake_set(&f, 1, "\"b\"");
			fake_set(&f, 2, "\"c\"");
		}
		if (fake_put(&f, w->s, &err) != 0)
			w->fails++;
		w->want[k] = og_ckpt_to_json(&f.ck);
	}
	fake_release(&f);
	return NULL;
}

static void test_put_cache_threads(void)
{
	struct og_store_lmdb *s = open_db(newpath("pcb"), OG_DURABLE_SYNC, 0, false);
	struct og_graph *g = graph_n(4);
	struct pcb w[8];
	pthread_t tid[8];
	int i, k, bad = 0, fails = 0;

	for (i = 0; i < 8; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].s = s;
		w[i].g = g;
		w[i].idx = i;
		CHECK_INT(pthread_create(&tid[i], NULL, pcb_main, &w[i]), ==, 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		fails += w[i].fails;
	}
	CHECK_INT(fails, ==, 0);
	for (i = 0; i < 8; i++) {
		char t[32];
		snprintf(t, sizeof(t), "pcb-%d", i);
		for (k = 1; k <= 25; k++) {
			struct og_err err = { 0 };
			cJSON *got = NULL;
			int rc = og_store_lmdb_ops.get(s, t, (uint64_t)k, &got, &err);
			if (rc || !cJSON_Compare(got, w[i].want[k], 1)) {
				if (bad++ < 2) {
					char *a = got ? cJSON_PrintUnformatted(got) : NULL;
					char *b = cJSON_PrintUnformatted(w[i].want[k]);
					fprintf(stderr, "%s/%d: %s\n  got:  %s\n  want: %s\n", t, k, err.msg,
						a ? a : "(none)", b ? b : "?");
					free(a);
					free(b);
				}
			}
			cJSON_Delete(got);
			cJSON_Delete(w[i].want[k]);
		}
	}
	CHECK_INT(bad, ==, 0);
	/* 2 values of the first put (b, c), then one a put */
	CHECK_INT(stat_num(s, "values"), ==, 8 * (2 + 24));
	og_graph_free(g);
	og_store_lmdb_close(s);
}

static void test_group_failures(void)
{
	const char *path = newpath("race");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_SYNC, 0, false);
	struct og_graph *g = graph_n(1), *g3 = graph_n(3);
	struct og_err err = { 0 };
	struct race w[16];
	pthread_t tid[16];
	struct og_store_sync_stats sc;
	long syncs0 = atomic_load(&n_syncs);
	int i, wins = 0, conflicts = 0, enoent = 0, poisoned = 0, fails = 0;
	cJSON *h = NULL;

	for (i = 0; i < 16; i++) {
		w[i] = (struct race){ s, g, g3, i, 0, 0, 0, 0, 0 };
		CHECK_INT(pthread_create(&tid[i], NULL, race_main, &w[i]), ==, 0);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(tid[i], NULL);
		wins += w[i].wins;
		conflicts += w[i].conflicts;
		enoent += w[i].enoent;
		poisoned += w[i].poisoned;
		fails += w[i].fails;
	}
	/* the races ran in shared commits: fewer commits than writes, each
	 * commit flushed (one fdatasync each, the meta page's O_DSYNC write is
	 * not counted here). A lone writer would make as many commits as writes */
	og_store_lmdb_sync_stats(s, &sc);
	CHECK(sc.commits < sc.writes);
	CHECK(sc.commits <= (uint64_t)(atomic_load(&n_syncs) - syncs0));
	CHECK_INT(wins, ==, 40);
	CHECK_INT(conflicts, ==, 16 * 40 - 40);
	CHECK_INT(enoent, ==, 16 * 40);
	CHECK_INT(poisoned, ==, 16 * 10);
	CHECK_INT(fails, ==, 0);
	og_store_lmdb_close(s);
	s = open_db(path, OG_DURABLE_SYNC, 0, true);
	CHECK_INT(stat_num(s, "leases"), ==, 0);		/* no poison row */
	CHECK_INT(stat_num(s, "writes"), ==, 16 * 2);	/* own runs' rows only */
	CHECK_INT(og_store_lmdb_history(s, "race", 0, 0, &h, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(h), ==, 40);
	cJSON_Delete(h);
	for (i = 0; i < 16; i++) {
		char t[16];
		uint64_t id = 0;
		snprintf(t, sizeof(t), "own%d", i);
		CHECK_INT(og_store_lmdb_latest_id(s, t, &id, &err), ==, 0);
		CHECK_INT(id, ==, RUN_CKPTS);
	}
	og_store_lmdb_close(s);
	og_graph_free(g);
	og_graph_free(g3);
}

/* Batches that fill the map: 16 threads put 4 KB values into a 1 MiB map. */
static void test_group_growth(void)
{
	const char *path = newpath("ggrow");
	struct og_store_lmdb *s = open_db(path, OG_DURABLE_SYNC, 1 << 20, false);
	struct worker w[16];
	pthread_t tid[16];
	struct og_err err = { 0 };
	uint64_t id;
	int i;

	for (i = 0; i < 16; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].s = s;
		snprintf(w[i].thread, sizeof(w[i].thread), "gg%d", i);
		w[i].n = 40;
		w[i].bytes = 4000;
		CHECK_INT(pthread_create(&tid[i], NULL, writer_main, &w[i]), ==, 0);
	}
	for (i = 0; i < 16; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < 16; i++) {
		CHECK_INT(w[i].fails, ==, 0);
		CHECK_INT(og_store_lmdb_latest_id(s, w[i].thread, &id, &err), ==, 0);
		CHECK_INT(id, ==, 40);
	}
	CHECK(stat_num(s, "map_size") > 1 << 20);
	og_store_lmdb_close(s);
}

/* ---- the parser of stored JSON ------------------------------------------------- */

/* Same tree as cJSON's, down to valueint, types and the child links cJSON's
 * appends rely on (the first child's prev is the last). */
static bool same_tree(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y, *last = NULL;

	if (!a || !b)
		return a == b;
	if (a->type != b->type || a->valueint != b->valueint ||
	    memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) ||
	    (a->string ? !b->string || strcmp(a->string, b->string) : !!b->string) ||
	    (a->valuestring ? !b->valuestring || strcmp(a->valuestring, b->valuestring) : !!b->valuestring))
		return false;
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next) {
		if (!same_tree(x, y) || (x != a->child && x->prev->next != x))
			return false;
		last = x;
	}
	return !x && !y && (!a->child || a->child->prev == last);
}

static void test_json_parse(void)
{
	static const char *const texts[] = {
		"0", "-0", "1", "-1", "123456789012345", "1234567890123456", "12345678901234567890",
		"2147483647", "2147483648", "-2147483649", "1.5", "-2.5e-3", "1e308", "1E2", "0.1",
		"9007199254740993", "3.141592653589793", "\"\"", "\"abc\"",
		"\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t end\"", "\"\\u00e9\\u20ac\\ud83d\\ude00\"",
		"\"raw é €\"", "true", "false", "null", "[]", "{}", " [ 1 , 2 ,3 ] ", "[[],[[]],{}]",
		"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"},\"a\":2}",
		"{\"k\\u0041\":\"v\"}", "[1,2", "{\"a\"}", "{\"a\":}", "[1,]", "\"\\ud800\"", "\"\\udc00x\"",
		"\"\\u0000\"", "\"\\q\"", "nul", "-", "[-]", "{\"x\":1}trailing", "\t\n {\"y\" : [ ] }",
		"[1e400,-1e400]", "[0.30000000000000004,1e-7,123.456e+2]",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		struct ogl_span sp = { texts[i], strlen(texts[i]), true };
		cJSON *mine = ogl_json_parse(sp), *theirs = cJSON_ParseWithLength(texts[i], strlen(texts[i]));
		if (!same_tree(mine, theirs))
			fprintf(stderr, "json parse differs from cJSON's for %s\n", texts[i]);
		CHECK(same_tree(mine, theirs));
		if (cJSON_IsArray(mine)) {	/* appends go after the last child */
			CHECK(cJSON_AddItemToArray(mine, cJSON_CreateString("tail")));
			CHECK(cJSON_AddItemToArray(theirs, cJSON_CreateString("tail")));
			CHECK(same_tree(mine, theirs));
		}
		cJSON_Delete(mine);
		cJSON_Delete(theirs);
	}
	{
		struct ogl_span none = { NULL, 0, false };
		cJSON *n = ogl_json_parse(none);
		CHECK(cJSON_IsNull(n));
		cJSON_Delete(n);
	}
}

/* The libc way og_clock_iso8601 replaced (gets, records' times). */
static void iso8601_ref(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* og_clock_iso8601 (by hand) against gmtime_r + snprintf. */
static void test_iso8601(void)
{
	static const int64_t fixed[] = { 0, 1, 999, 1000, 86399999, 86400000, 951782400000 /* 2000-02-29 */,
					 951868799999, 94694399999, 1700000000123, 4102444800000,
					 253402300799999, 253402300800000, -1, -86400001 };
	uint64_t x = 88172645463325252ull;
	char a[96], b[96];
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(*fixed); i++) {
		og_clock_iso8601(fixed[i], a, sizeof(a));
		iso8601_ref(fixed[i], b, sizeof(b));
		if (strcmp(a, b))
			fprintf(stderr, "iso8601(%lld): %s, not %s\n", (long long)fixed[i], a, b);
		bad += strcmp(a, b) != 0;
	}
	for (i = 0; i < 200000; i++) {
		int64_t ms;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ms = (int64_t)(x % 253402300800000ull);
		og_clock_iso8601(ms, a, sizeof(a));
		iso8601_ref(ms, b, sizeof(b));
		if (strcmp(a, b) && bad++ < 5)
			fprintf(stderr, "iso8601(%lld): %s, not %s\n", (long long)ms, a, b);
	}
	CHECK_INT(bad, ==, 0);
}

/* ---- figures (printed, never asserted) ------------------------------------------------ */

static void bench_put(enum og_durability d, int n)
{
	struct og_store_lmdb *s = open_db(newpath("bench"), d, 0, false);
	struct og_graph *g = graph_n(1);
	struct og_err err = { 0 };
	struct fake f;
	int64_t t0;
	int i, fails = 0;

	fake_init(&f, g, "bench-thread-0123456789ab");
	fake_opt(&f.next, &f.ck.next, "[{\"id\":\"0123456789abcdef\",\"node\":\"loop\"}]");
	fake_opt(&f.writes, &f.ck.writes, "{\"loop\":[\"a\"]}");
	t0 = og_clock_mono_us();
	for (i = 0; i < n; i++) {
		if (!f.vals[0])
			f.vals[0] = cJSON_CreateNumber(0);
		cJSON_SetNumberValue(f.vals[0], i);
		f.vers[0] = f.ck.id + 1;
		fails += fake_put(&f, s, &err) != 0;
	}
	fprintf(stderr, "figure: %s put of a 1-channel checkpoint: %.2f us (%d puts)\n",
		d == OG_DURABLE_ASYNC ? "async" : "sync", (double)(og_clock_mono_us() - t0) / n, n);
	CHECK_INT(fails, ==, 0);
	fake_release(&f);
	og_graph_free(g);
	og_store_lmdb_close(s);
}

/* 7 channels of ~200 bytes, 1 or 2 changing per step: bytes per checkpoint,
 * then the time to list the history (1002 checkpoints). */
static void bench_bytes_history(void)
{
	struct og_store_lmdb *s = open_db(newpath("bytes"), OG_DURABLE_ASYNC, 0, false);
	struct og_graph *g = graph_n(7);
	struct og_err err = { 0 };
	struct fake f;
	char val[256];
	long before;
	int64_t t0;
	cJSON *h = NULL;
	int i, ch, fails = 0;

	fake_init(&f, g, "0193a5b2c4d6-0123456789abcd");	/* og_id_thread's shape */
	fake_opt(&f.next, &f.ck.next, "[{\"id\":\"0123456789abcdef\",\"node\":\"agent\"}]");
	fake_opt(&f.writes, &f.ck.writes, "{\"agent\":[\"a\",\"b\"]}");
	for (ch = 0; ch < 7; ch++) {
		snprintf(val, sizeof(val), "{\"text\":\"%0180d\",\"n\":%d}", ch, ch);
		fake_set(&f, ch, val);
	}
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	CHECK_INT(fake_put(&f, s, &err), ==, 0);
	before = stat_num(s, "bytes_used");
	for (i = 0; i < 1000; i++) {
		snprintf(val, sizeof(val), "{\"text\":\"%0180d\",\"n\":%d}", i, i);
		fake_set(&f, i % 7, val);
		if (i % 2)
			fake_set(&f, (i + 3) % 7, val);
		fails += fake_put(&f, s, &err) != 0;
	}
	CHECK_INT(fails, ==, 0);
	fprintf(stderr, "figure: bytes per checkpoint (7 channels of ~200 B, 1.5 changed per step): %.0f\n",
		(double)(stat_num(s, "bytes_used") - before) / 1000);
	for (i = 0; i < 3; i++) {
		t0 = og_clock_mono_us();
		CHECK_INT(og_store_lmdb_history(s, f.ck.thread_id, 0, 0, &h, &err), ==, 0);
		fprintf(stderr, "figure: history of a %d-checkpoint thread (run %d): %.2f ms\n",
			cJSON_GetArraySize(h), i + 1, (double)(og_clock_mono_us() - t0) / 1000);
		CHECK_INT(cJSON_GetArraySize(h), ==, 1002);
		cJSON_Delete(h);
	}
	t0 = og_clock_mono_us();
	check_get_eq(s, &f.ck, 0);
	fprintf(stderr, "figure: get of the latest, 7 channels (and og_ckpt_to_json to compare): %.1f us\n",
		(double)(og_clock_mono_us() - t0));
	fake_release(&f);
	og_graph_free(g);
	og_store_lmdb_close(s);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/og_store_lmdb_XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_json_parse();
	test_iso8601();
	test_roundtrip();
	test_runner_forms();
	test_fork_values();
	test_put_cache();
	test_put_cache_threads();
	test_put_writes();
	test_history_threads();
	test_lease();
	test_gc();
	test_segments();
	test_sync_segments(OG_DURABLE_SYNC, 9);
	test_sync_segments(OG_DURABLE_ASYNC, 0);
	test_async_reopen();
	test_read_only();
	test_foreign();
	test_map_growth();
	test_shared();
	test_threads();
	test_group_commit(1, 64);
	test_group_commit(4, 32);
	test_group_commit(16, 8);
	test_group_commit(64, 4);
	test_group_fork();
	test_group_failures();
	test_group_growth();
	bench_put(OG_DURABLE_ASYNC, 10000);
	bench_put(OG_DURABLE_SYNC, 200);
	bench_bytes_history();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TEST_END();
}
