/*
 * bench.c: the four scenarios of the LangGraph.js peer benchmark
 * (/work/shared/peer-bench/langgraphjs: README.md, bench.mjs) on opsgraph,
 * with the same graphs, thread counts and state sizes. One JSON line per
 * scenario x variant on stdout, fields named as the peer's; progress on stderr.
 *
 *   bench [--only S1,S1c,S2,S3,S4] [--reps N] [--db DIR]
 *
 * Like the peer, every scenario x store runs in its own process (this binary
 * re-executed with --worker ...), so peak RSS (getrusage ru_maxrss) is per
 * scenario. Scenarios (README.md, "## Benchmarks"):
 *   S1   incident pipeline (bench/graphs/s1_incident.lua), N threads run
 *        sequentially: og_run_new + start + invoke up to og.interrupt, then a
 *        fresh run from the latest checkpoint (store get + og_run_load +
 *        og_run_resume + invoke), as a resume from another process does. One
 *        og_lvm and graph serve every thread. LMDB async and sync, and the
 *        in-memory store. Fresh database per rep (deleted first).
 *   S1c  S1 with P OS threads (each with its own og_lvm and graph) sharing
 *        one LMDB handle: sync mode with P = 1,2,4,8,64, async with P = 1,2.
 *        Per rep a fresh database, the warm-up threads spread over the P
 *        pthreads, then N timed threads; the median of the reps.
 *   S2   step overhead (bench/graphs/s2_loop.lua): 1 warm-up thread, then 10
 *        threads x 1000 supersteps sequentially: LMDB async, memory, no store.
 *   S3   history of the last S2 thread (LMDB): og_store_lmdb_history of all
 *        entries (and the same plus a get of every entry, i.e. with values, as
 *        LangGraph's getStateHistory returns them), and get of the latest.
 *   S4   10,000 S1 threads paused (each run freed once paused), then all
 *        resumed from their checkpoints; LMDB async.
 *
 * Environment (defaults in parentheses): BENCH_REPS (5), BENCH_S1_N (1000),
 * BENCH_S1_WARMUP_N (200), BENCH_S1C_N (1000), BENCH_S1C_WARMUP_N (200),
 * BENCH_S1C_REPS (3), BENCH_S1C_P (1,2,4,8,64), BENCH_S1C_ASYNC_P (1,2),
 * BENCH_S2_THREADS (10), BENCH_S3_REPS (5), BENCH_S3_GETSTATE_REPS (50),
 * BENCH_S4_N (10000), BENCH_S4_WARMUP_N (500), BENCH_S4_REPS (3),
 * BENCH_KEEP_DB=1, BENCH_GRAPHS (bench/graphs), BENCH_THREAD_IDS (peer: "TAG-i"
 * as the peer; padded: "TAG-00000i"; generated: og_id_thread ids).
 */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <lua.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/id.h"
#include "graph/run.h"
#include "lua/lvm.h"
#include "store/store_lmdb.h"
#include "store/store_mem.h"

/* ------------------------------------------------------------------ config */

struct cfg {
	int reps, s1_n, s1_warm, s1c_n, s1c_warm, s1c_reps, s2_threads, s3_reps, s3_get_reps, s4_n, s4_warm, s4_reps;
	char s1c_p[128], s1c_async_p[128];
	char ids[16];		/* thread ids: peer | padded | generated */
	bool keep_db;
	char db[PATH_MAX - 512];
	char graphs[PATH_MAX];
	char s1_graph[PATH_MAX], s2_graph[PATH_MAX];	/* absolute paths */
};
static struct cfg C;

static int env_int(const char *k, int d)
{
	const char *v = getenv(k);
	return v && *v ? atoi(v) : d;
}

static void cfg_init(void)
{
	const char *p;

	C.reps = env_int("BENCH_REPS", 5);
	C.s1_n = env_int("BENCH_S1_N", 1000);
	C.s1_warm = env_int("BENCH_S1_WARMUP_N", 200);
	C.s1c_n = env_int("BENCH_S1C_N", 1000);
	C.s1c_warm = env_int("BENCH_S1C_WARMUP_N", 200);
	C.s1c_reps = env_int("BENCH_S1C_REPS", 3);
	C.s2_threads = env_int("BENCH_S2_THREADS", 10);
	C.s3_reps = env_int("BENCH_S3_REPS", 5);
	C.s3_get_reps = env_int("BENCH_S3_GETSTATE_REPS", 50);
	C.s4_n = env_int("BENCH_S4_N", 10000);
	C.s4_warm = env_int("BENCH_S4_WARMUP_N", 500);
	C.s4_reps = env_int("BENCH_S4_REPS", 3);
	p = getenv("BENCH_S1C_P");
	snprintf(C.s1c_p, sizeof(C.s1c_p), "%s", p && *p ? p : "1,2,4,8,64");
	p = getenv("BENCH_S1C_ASYNC_P");
	snprintf(C.s1c_async_p, sizeof(C.s1c_async_p), "%s", p && *p ? p : "1,2");
	p = getenv("BENCH_THREAD_IDS");
	snprintf(C.ids, sizeof(C.ids), "%s", p && *p ? p : "peer");
	if (strcmp(C.ids, "peer") && strcmp(C.ids, "padded") && strcmp(C.ids, "generated")) {
		fprintf(stderr, "BENCH_THREAD_IDS: peer, padded or generated, not '%s'\n", C.ids);
		exit(2);
	}
	C.keep_db = env_int("BENCH_KEEP_DB", 0) == 1;
	snprintf(C.db, sizeof(C.db), "build/bench/db");
	p = getenv("BENCH_GRAPHS");
	snprintf(C.graphs, sizeof(C.graphs), "%s", p && *p ? p : "bench/graphs");
}

/* ------------------------------------------------------------------ helpers */

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[bench %d] ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[bench %d] FAILED: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double r3(double x)
{
	return round(x * 1000.0) / 1000.0;
}

static double mb(double bytes)
{
	return round(bytes / (1024.0 * 1024.0) * 10.0) / 10.0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *xs, int n)
{
	double *s;
	double m;

	if (n <= 0)
		return NAN;
	s = malloc(sizeof(double) * (size_t)n);
	memcpy(s, xs, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_dbl);
	m = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

/* nearest rank, over a sorted array */
static double pct(const double *sorted, int n, double p)
{
	int k = (int)ceil(p / 100.0 * n) - 1;
	return n == 0 ? NAN : sorted[k < 0 ? 0 : k];
}

struct dist {
	double mean, p50, p99, min, max;
};

static struct dist dist_of(const double *xs, int n)
{
	struct dist d = { 0 };
	double *s = malloc(sizeof(double) * (size_t)n), sum = 0;
	int i;

	memcpy(s, xs, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_dbl);
	for (i = 0; i < n; i++)
		sum += s[i];
	d.mean = sum / n;
	d.p50 = pct(s, n, 50);
	d.p99 = pct(s, n, 99);
	d.min = s[0];
	d.max = s[n - 1];
	free(s);
	return d;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* current RSS and its anonymous / file-backed parts, in bytes */
struct rss {
	double total, anon, file;
};

static struct rss rss_now(void)
{
	struct rss r = { 0 };
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return r;
	while (fgets(line, sizeof(line), f)) {
		long kb;
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			r.total = kb * 1024.0;
		else if (sscanf(line, "RssAnon: %ld", &kb) == 1)
			r.anon = kb * 1024.0;
		else if (sscanf(line, "RssFile: %ld", &kb) == 1)
			r.file = kb * 1024.0;
	}
	fclose(f);
	return r;
}

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[PATH_MAX + 300];

	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		rm_rf(p);
	}
	closedir(d);
	rmdir(path);
}

static void mkdir_p(const char *path)
{
	char p[PATH_MAX];
	size_t i;

	snprintf(p, sizeof(p), "%s", path);
	for (i = 1; p[i]; i++)
		if (p[i] == '/') {
			p[i] = 0;
			mkdir(p, 0755);
			p[i] = '/';
		}
	mkdir(p, 0755);
}

/* The thread id of thread i of a rep: "TAG-i" as the peer's `${tag}-${i}`
 * (default), "TAG-00000i" (ids sort in creation order), or an id made as the
 * engine makes them when none is given (time-ordered, og_id_thread). */
static void thread_name(char *buf, size_t n, const char *tag, int i)
{
	if (!strcmp(C.ids, "generated")) {
		char id[OG_ID_LEN];
		og_id_thread(id);
		snprintf(buf, n, "%s", id);
	} else if (!strcmp(C.ids, "padded")) {
		snprintf(buf, n, "%s-%06d", tag, i);
	} else {
		snprintf(buf, n, "%s-%d", tag, i);
	}
}

static const cJSON *field(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double num_field(const cJSON *o, const char *k)
{
	const cJSON *v = field(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void emit(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (!s)
		die("out of memory printing JSON");
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	cJSON_Delete(o);
}

static cJSON *dist_json(const struct dist *d, double scale)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "mean", r3(d->mean * scale));
	cJSON_AddNumberToObject(o, "p50", r3(d->p50 * scale));
	cJSON_AddNumberToObject(o, "p99", r3(d->p99 * scale));
	cJSON_AddNumberToObject(o, "max", r3(d->max * scale));
	return o;
}

static cJSON *num_array(const double *xs, int n)
{
	cJSON *a = cJSON_CreateArray();
	int i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(r3(xs[i])));
	return a;
}

/* ------------------------------------------------------------------ stores */

enum saver { SAVER_LMDB, SAVER_MEMORY, SAVER_NONE };

static const char *saver_name(enum saver s)
{
	return s == SAVER_LMDB ? "lmdb" : s == SAVER_MEMORY ? "memory" : "none";
}

struct store {
	enum saver kind;
	enum og_durability durability;
	char dir[PATH_MAX + 256];
	struct og_store_lmdb *db;
	struct og_store_mem *mem;
	const struct og_store_ops *ops;
	void *self;
};

static void store_open(struct store *s, enum saver kind, enum og_durability dur, const char *tag)
{
	struct og_err err = { 0 };

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->durability = dur;
	if (kind == SAVER_LMDB) {
		struct og_store_lmdb_opts o = { 0 };
		snprintf(s->dir, sizeof(s->dir), "%s/%s", C.db, tag);
		rm_rf(s->dir);
		o.path = s->dir;
		o.durability = dur;
		if (og_store_lmdb_open(&o, &s->db, &err) < 0)
			die("og_store_lmdb_open %s: %s", s->dir, err.msg);
		s->ops = &og_store_lmdb_ops;
		s->self = s->db;
	} else if (kind == SAVER_MEMORY) {
		if (!(s->mem = og_store_mem_new()))
			die("og_store_mem_new: out of memory");
		s->ops = &og_store_mem_ops;
		s->self = s->mem;
	}
}

/* Store size: for LMDB og_store_lmdb_stat plus the data.mdb file (allocated
 * blocks, i.e. du, and apparent size); for memory the serialized size of the
 * checkpoints it holds. */
static cJSON *store_stats(struct store *s)
{
	cJSON *o = cJSON_CreateObject();

	if (s->kind == SAVER_LMDB) {
		struct og_err err = { 0 };
		cJSON *st = NULL;
		struct stat sb;
		char p[sizeof(s->dir) + 16];
		double ck;

		if (og_store_lmdb_stat(s->db, &st, &err) < 0)
			die("og_store_lmdb_stat: %s", err.msg);
		ck = num_field(st, "checkpoints");
		cJSON_AddNumberToObject(o, "threads", num_field(st, "threads"));
		cJSON_AddNumberToObject(o, "checkpoints", ck);
		cJSON_AddNumberToObject(o, "values", num_field(st, "values"));
		cJSON_AddNumberToObject(o, "writes", num_field(st, "writes"));
		cJSON_AddNumberToObject(o, "page_size", num_field(st, "page_size"));
		cJSON_AddNumberToObject(o, "bytes_used", num_field(st, "bytes_used"));
		cJSON_AddNumberToObject(o, "file_pages", num_field(st, "file_pages"));
		cJSON_AddNumberToObject(o, "map_size", num_field(st, "map_size"));
		/* flush first so du sees the written pages of async mode */
		snprintf(p, sizeof(p), "%s/data.mdb", s->dir);
		if (stat(p, &sb) == 0) {
			cJSON_AddNumberToObject(o, "data_mdb_du_bytes", (double)sb.st_blocks * 512.0);
			cJSON_AddNumberToObject(o, "data_mdb_apparent_bytes", (double)sb.st_size);
		}
		if (ck > 0) {
			cJSON_AddNumberToObject(o, "bytes_used_per_checkpoint", r3(num_field(st, "bytes_used") / ck));
			cJSON_AddNumberToObject(o, "du_bytes_per_checkpoint",
						r3((double)sb.st_blocks * 512.0 / ck));
		}
		cJSON_Delete(st);
	} else if (s->kind == SAVER_MEMORY) {
		int n = og_store_mem_count(s->mem);
		double bytes = 0;
		const cJSON *c;
		for (c = og_store_mem_at(s->mem, 0); c; c = c->next) {	/* a list: walk it, not _at(i) */
			char *t = cJSON_PrintUnformatted(c);
			bytes += t ? (double)strlen(t) : 0;
			free(t);
		}
		cJSON_AddNumberToObject(o, "checkpoints", n);
		cJSON_AddNumberToObject(o, "serialized_bytes", bytes);
		if (n > 0)
			cJSON_AddNumberToObject(o, "serialized_bytes_per_checkpoint", r3(bytes / n));
	}
	return o;
}

static void store_close(struct store *s)
{
	if (s->kind == SAVER_LMDB) {
		og_store_lmdb_close(s->db);
		if (!C.keep_db)
			rm_rf(s->dir);
	}
	og_store_mem_free(s->mem);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ graphs */

struct vmg {
	struct og_lvm *vm;
	struct og_graph *g;
	const char *file;
};

static void vmg_load(struct vmg *v, const char *file)
{
	struct og_err err = { 0 };

	if (!(v->vm = og_lvm_new(NULL, &err)))
		die("og_lvm_new: %s", err.msg);
	if (og_lvm_load_graph(v->vm, file, &v->g, &err) < 0)
		die("og_lvm_load_graph %s: %s", file, err.msg);
	v->file = file;
}

static void vmg_free(struct vmg *v)
{
	og_graph_free(v->g);
	og_lvm_free(v->vm);
}

static struct og_run *run_new(struct vmg *v, struct store *s, const char *thread)
{
	struct og_run_opts o = { 0 };
	struct og_err err = { 0 };
	struct og_run *r;

	o.thread_id = thread;
	o.graph_file = v->file;
	o.store = s->ops;
	o.store_self = s->self;
	if (!(r = og_run_new(v->g, &og_lvm_exec_ops, v->vm, &o, &err)))
		die("og_run_new %s: %s", thread, err.msg);
	return r;
}

/* ------------------------------------------------------------------ S1 */

static cJSON *s1_input(int i)
{
	cJSON *in = cJSON_CreateObject(), *a = cJSON_AddObjectToObject(in, "alert");

	cJSON_AddNumberToObject(a, "thread", i);
	cJSON_AddStringToObject(a, "source", "slack");
	cJSON_AddStringToObject(a, "raw", "disk full on db-7");
	return in;
}

/* After the first call: exactly one interrupt and no result (the peer's checkPaused). */
static void check_paused(struct og_run *r, const char *thread)
{
	cJSON *ints = og_run_interrupts(r);

	if (og_run_status(r) != OG_RUN_INTERRUPTED || cJSON_GetArraySize(ints) != 1)
		die("thread %s: expected exactly one interrupt, status %s, %d interrupts", thread,
		    og_run_status_name(og_run_status(r)), cJSON_GetArraySize(ints));
	if (og_run_value(r, "result") || !og_run_value(r, "plan"))
		die("thread %s: ran past the interrupt", thread);
	cJSON_Delete(ints);
}

/* After the resume: decision.choice == "2", result from action_executor, 6 log entries. */
static void check_done(struct og_run *r, const char *thread)
{
	const cJSON *dec = og_run_value(r, "decision"), *ch = field(dec, "choice");
	const cJSON *res = og_run_value(r, "result"), *node = field(res, "node"), *log = og_run_value(r, "log");

	if (og_run_status(r) != OG_RUN_DONE || !cJSON_IsString(ch) || strcmp(ch->valuestring, "2") ||
	    !cJSON_IsString(node) || strcmp(node->valuestring, "action_executor") || !cJSON_IsArray(log) ||
	    cJSON_GetArraySize(log) != 6) {
		cJSON *st = og_run_state_json(r);
		char *t = st ? cJSON_PrintUnformatted(st) : NULL;
		die("thread %s: bad final state (status %s): %.300s", thread, og_run_status_name(og_run_status(r)),
		    t ? t : "?");
	}
}

/* start -> invoke up to the interrupt; the run is freed by the caller */
static struct og_run *s1_pause(struct vmg *v, struct store *s, const char *thread, const cJSON *input)
{
	struct og_err err = { 0 };
	struct og_run *r = run_new(v, s, thread);

	if (og_run_start(r, input, &err) < 0 || og_run_invoke(r, &err) < 0)
		die("thread %s: start/invoke: %s", thread, err.msg);
	return r;
}

/* a fresh run from the latest checkpoint, resumed with "2", to the end */
static struct og_run *s1_resume(struct vmg *v, struct store *s, const char *thread, const cJSON *resume)
{
	struct og_err err = { 0 };
	struct og_run *r;
	cJSON *ck = NULL;

	if (s->ops->get(s->self, thread, 0, &ck, &err) < 0)
		die("thread %s: get latest checkpoint: %s", thread, err.msg);
	r = run_new(v, s, thread);
	if (og_run_load_move(r, ck, (uint64_t)num_field(ck, "id") + 1, &err) < 0)
		die("thread %s: og_run_load: %s", thread, err.msg);
	cJSON_Delete(ck);
	if (og_run_resume(r, resume, "bench", &err) < 0 || og_run_invoke(r, &err) < 0)
		die("thread %s: resume/invoke: %s", thread, err.msg);
	return r;
}

struct s1_rep {
	double wall_us;
	struct dist lat1, lat2;		/* µs */
	cJSON *stats;
};

static cJSON *resume_value(void)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "value", "2");
	return r;
}

/* One S1 thread: pause, free, resume from the store, check. */
static void s1_thread(struct vmg *v, struct store *s, const char *thread, int i, const cJSON *resume,
		      double *lat1, double *lat2)
{
	cJSON *input = s1_input(i);
	struct og_run *r;
	double a, b, c, d;

	a = now_us();
	r = s1_pause(v, s, thread, input);
	b = now_us();
	check_paused(r, thread);
	og_run_free(r);
	cJSON_Delete(input);
	c = now_us();
	r = s1_resume(v, s, thread, resume);
	d = now_us();
	check_done(r, thread);
	og_run_free(r);
	*lat1 = b - a;
	*lat2 = d - c;
}

static struct s1_rep s1_rep(struct vmg *v, enum saver kind, enum og_durability dur, int n, const char *tag)
{
	struct s1_rep out = { 0 };
	struct store s;
	double *lat1 = calloc((size_t)n, sizeof(double)), *lat2 = calloc((size_t)n, sizeof(double)), t0;
	cJSON *resume = resume_value();
	char thread[128];
	int i;

	store_open(&s, kind, dur, tag);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		thread_name(thread, sizeof(thread), tag, i);
		s1_thread(v, &s, thread, i, resume, &lat1[i], &lat2[i]);
	}
	out.wall_us = now_us() - t0;
	out.lat1 = dist_of(lat1, n);
	out.lat2 = dist_of(lat2, n);
	out.stats = store_stats(&s);
	store_close(&s);
	cJSON_Delete(resume);
	free(lat1);
	free(lat2);
	return out;
}

static void run_s1(enum saver kind, enum og_durability dur)
{
	const char *dname = kind != SAVER_LMDB ? "n/a" : dur == OG_DURABLE_SYNC ? "sync" : "async";
	struct vmg v;
	struct s1_rep warm, *reps = calloc((size_t)C.reps, sizeof(*reps));
	double *w = calloc((size_t)C.reps, sizeof(double)), *x = calloc((size_t)C.reps, sizeof(double));
	char tag[64];
	cJSON *o, *lat;
	int r, n = C.s1_n;

	vmg_load(&v, C.s1_graph);
	logf_("S1 %s durability=%s: warm-up N=%d", saver_name(kind), dname, C.s1_warm);
	snprintf(tag, sizeof(tag), "s1-%s-%s-warm", saver_name(kind), dname);
	warm = s1_rep(&v, kind, dur, C.s1_warm, tag);
	cJSON_Delete(warm.stats);
	for (r = 0; r < C.reps; r++) {
		snprintf(tag, sizeof(tag), "s1-%s-%s-r%d", saver_name(kind), dname, r);
		reps[r] = s1_rep(&v, kind, dur, n, tag);
		logf_("S1 %s %s rep %d: %.3f s", saver_name(kind), dname, r, reps[r].wall_us / 1e6);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "scenario", "S1");
	cJSON_AddStringToObject(o, "name", "incident pipeline");
	cJSON_AddStringToObject(o, "saver", saver_name(kind));
	cJSON_AddStringToObject(o, "durability", dname);
	cJSON_AddNumberToObject(o, "threads_per_rep", n);
	cJSON_AddNumberToObject(o, "concurrency", 1);
	cJSON_AddNumberToObject(o, "reps", C.reps);
	cJSON_AddNumberToObject(o, "warmup_threads", C.s1_warm);
	cJSON_AddStringToObject(o, "thread_ids", C.ids);
#define MED(expr) ({ for (r = 0; r < C.reps; r++) x[r] = (expr); median(x, C.reps); })
	cJSON_AddNumberToObject(o, "total_wall_s", r3(MED(reps[r].wall_us) / 1e6));
	cJSON_AddNumberToObject(o, "runs_per_s", r3(MED(n / (reps[r].wall_us / 1e6))));
	lat = cJSON_AddObjectToObject(o, "start_to_interrupt_us");
	cJSON_AddNumberToObject(lat, "mean", r3(MED(reps[r].lat1.mean)));
	cJSON_AddNumberToObject(lat, "p50", r3(MED(reps[r].lat1.p50)));
	cJSON_AddNumberToObject(lat, "p99", r3(MED(reps[r].lat1.p99)));
	cJSON_AddNumberToObject(lat, "max", r3(MED(reps[r].lat1.max)));
	lat = cJSON_AddObjectToObject(o, "resume_to_end_us");
	cJSON_AddNumberToObject(lat, "mean", r3(MED(reps[r].lat2.mean)));
	cJSON_AddNumberToObject(lat, "p50", r3(MED(reps[r].lat2.p50)));
	cJSON_AddNumberToObject(lat, "p99", r3(MED(reps[r].lat2.p99)));
	cJSON_AddNumberToObject(lat, "max", r3(MED(reps[r].lat2.max)));
	lat = cJSON_AddObjectToObject(o, "start_to_interrupt_ms");
	cJSON_AddNumberToObject(lat, "mean", r3(MED(reps[r].lat1.mean) / 1000));
	cJSON_AddNumberToObject(lat, "p50", r3(MED(reps[r].lat1.p50) / 1000));
	cJSON_AddNumberToObject(lat, "p99", r3(MED(reps[r].lat1.p99) / 1000));
	lat = cJSON_AddObjectToObject(o, "resume_to_end_ms");
	cJSON_AddNumberToObject(lat, "mean", r3(MED(reps[r].lat2.mean) / 1000));
	cJSON_AddNumberToObject(lat, "p50", r3(MED(reps[r].lat2.p50) / 1000));
	cJSON_AddNumberToObject(lat, "p99", r3(MED(reps[r].lat2.p99) / 1000));
#undef MED
	cJSON_AddNumberToObject(o, "peak_rss_mb", mb(peak_rss_kb() * 1024.0));
	{
		cJSON *st = reps[C.reps - 1].stats;
		double ck = num_field(st, "checkpoints");
		cJSON_AddItemToObject(o, "store_after_last_rep", st);
		cJSON_AddNumberToObject(o, "checkpoints_per_thread", r3(ck / n));
		if (kind == SAVER_LMDB) {
			cJSON_AddNumberToObject(o, "bytes_per_checkpoint", num_field(st, "bytes_used_per_checkpoint"));
			cJSON_AddNumberToObject(o, "bytes_per_checkpoint_du", num_field(st, "du_bytes_per_checkpoint"));
			cJSON_AddNumberToObject(o, "bytes_per_thread", r3(num_field(st, "bytes_used") / n));
		} else if (kind == SAVER_MEMORY) {
			cJSON_AddNumberToObject(o, "bytes_per_checkpoint",
						num_field(st, "serialized_bytes_per_checkpoint"));
		}
	}
	for (r = 0; r < C.reps; r++)
		w[r] = reps[r].wall_us / 1e6;
	cJSON_AddItemToObject(o, "per_rep_wall_s", num_array(w, C.reps));
	cJSON_AddNumberToObject(o, "warmup_wall_s", r3(warm.wall_us / 1e6));
	cJSON_AddStringToObject(o, "note",
				"one OS thread, threads run one after another; latencies in µs (and ms, as the peer's); "
				"resume = store get of the latest checkpoint + og_run_load + og_run_resume + invoke in a "
				"fresh og_run, no lease taken (the CLI takes one: one more write txn per command)");
	emit(o);
	vmg_free(&v);
	free(reps);
	free(w);
	free(x);
}

/* ------------------------------------------------------------------ S1c */

struct s1c_ctx {
	struct store *s;
	int p, w, n, warm;
	const char *tag;
	double *lat1, *lat2;
	struct vmg *v;
	pthread_barrier_t *go;
};

/* Each pthread first runs its share of the warm-up threads (its Lua VM's
 * first calls, its jemalloc arena, its LMDB reader slot, as the peer's
 * warm-up does for its one loop), waits at the barrier, then its share of
 * the n measured threads. */
static void *s1c_worker(void *arg)
{
	struct s1c_ctx *c = arg;
	cJSON *resume = resume_value();
	char thread[160], wtag[96];
	double l1, l2;
	int i;

	snprintf(wtag, sizeof(wtag), "%s-warm", c->tag);
	for (i = c->w; i < c->warm; i += c->p) {
		thread_name(thread, sizeof(thread), wtag, i);
		s1_thread(c->v, c->s, thread, i, resume, &l1, &l2);
	}
	pthread_barrier_wait(c->go);
	for (i = c->w; i < c->n; i += c->p) {
		thread_name(thread, sizeof(thread), c->tag, i);
		s1_thread(c->v, c->s, thread, i, resume, &c->lat1[i], &c->lat2[i]);
	}
	cJSON_Delete(resume);
	return NULL;
}

/* One rep: a fresh store, p pthreads, warm-up, then n threads timed from the
 * barrier to the last join. Returns the wall time (µs); *st gets the
 * store's stats (caller owns). */
#define PROBE_N 50
#define PROBE_N_S "50"

/* The disk's price of one durable write right now: median of PROBE_N
 * rewrites of one 4 KiB block with fdatasync each, in the bench's data
 * directory (the same file system as the stores). A sync commit costs two
 * of these (LMDB's data flush, then its meta page); the figures
 * assume about 150 us, and a shared virtual disk strays from that for
 * minutes at a time, so S1c sync prints it next to its runs/s. */
static double disk_probe_us(void)
{
	char path[PATH_MAX + 64], block[4096];
	double t[PROBE_N], t0;
	int fd, i;

	mkdir_p(C.db);
	snprintf(path, sizeof(path), "%s/disk-probe", C.db);
	if ((fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600)) < 0)
		die("disk probe: cannot create %s: %s", path, strerror(errno));
	memset(block, 'x', sizeof(block));
	for (i = 0; i < PROBE_N; i++) {
		block[0] = (char)('a' + i % 26);
		t0 = now_us();
		if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) || fdatasync(fd) != 0)
			die("disk probe: writing %s: %s", path, strerror(errno));
		t[i] = now_us() - t0;
	}
	close(fd);
	unlink(path);
	return median(t, PROBE_N);
}

/* What the sync commits of a rep's timed part were: their number, the
 * writes they carried, the time in their flushes. */
struct s1c_commits {
	double commits, writes, flush_s;
};

static double s1c_rep(enum og_durability dur, int p, int n, int warm, struct vmg *vs, const char *tag, double *lat1,
		      double *lat2, cJSON **st, struct s1c_commits *gc)
{
	struct og_store_sync_stats sc0, sc1;
	struct s1c_ctx *cs = calloc((size_t)p, sizeof(*cs));
	pthread_t *th = calloc((size_t)p, sizeof(*th));
	pthread_barrier_t go;
	struct store s;
	double t0, wall;
	int w;

	if (!cs || !th)
		die("out of memory");
	store_open(&s, SAVER_LMDB, dur, tag);
	pthread_barrier_init(&go, NULL, (unsigned)p + 1);
	for (w = 0; w < p; w++) {
		cs[w] = (struct s1c_ctx){ .s = &s, .p = p, .w = w, .n = n, .warm = warm, .tag = tag, .lat1 = lat1,
					  .lat2 = lat2, .v = &vs[w], .go = &go };
		if (pthread_create(&th[w], NULL, s1c_worker, &cs[w]))
			die("pthread_create");
	}
	pthread_barrier_wait(&go);
	t0 = now_us();
	og_store_lmdb_sync_stats(s.db, &sc0);	/* the warm-up's commits are done */
	for (w = 0; w < p; w++)
		pthread_join(th[w], NULL);
	wall = now_us() - t0;
	og_store_lmdb_sync_stats(s.db, &sc1);
	*gc = (struct s1c_commits){ (double)(sc1.commits - sc0.commits), (double)(sc1.writes - sc0.writes),
				    sc1.flush_s - sc0.flush_s };
	pthread_barrier_destroy(&go);
	*st = store_stats(&s);
	store_close(&s);
	free(cs);
	free(th);
	return wall;
}

static void run_s1c(enum og_durability dur)
{
	char list[128], *tok, *save = NULL, tag[64];
	int n = C.s1c_n, warm = C.s1c_warm, reps = C.s1c_reps < 1 ? 1 : C.s1c_reps;
	const char *dname = dur == OG_DURABLE_SYNC ? "sync" : "async";

	snprintf(list, sizeof(list), "%s", dur == OG_DURABLE_SYNC ? C.s1c_p : C.s1c_async_p);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int p = atoi(tok), w, r;
		struct vmg *vs;
		double *lat1 = calloc((size_t)n, sizeof(double)), *lat2 = calloc((size_t)n, sizeof(double));
		double *rate = calloc((size_t)reps, sizeof(double)), *walls = calloc((size_t)reps, sizeof(double));
		struct s1c_commits *gc = calloc((size_t)reps, sizeof(*gc));
		double med, probe[2] = { 0, 0 };
		struct dist d1, d2;
		cJSON *o, *st = NULL, *per;

		if (p < 1 || !(vs = calloc((size_t)p, sizeof(*vs))) || !lat1 || !lat2 || !rate || !walls || !gc)
			die("S1c: bad P '%s' or out of memory", tok);
		snprintf(tag, sizeof(tag), "s1c-%s-p%d", dname, p);
		logf_("S1c lmdb %s, %d OS threads, N=%d after %d warm-up threads, %d reps", dname, p, n, warm, reps);
		for (w = 0; w < p; w++)
			vmg_load(&vs[w], C.s1_graph);
		if (dur == OG_DURABLE_SYNC)
			probe[0] = disk_probe_us();
		for (r = 0; r < reps; r++) {
			cJSON_Delete(st);
			walls[r] = s1c_rep(dur, p, n, warm, vs, tag, lat1, lat2, &st, &gc[r]);
			rate[r] = n / (walls[r] / 1e6);
			if (gc[r].commits > 0)
				logf_("S1c p=%d rep %d: %.3f s, %.1f runs/s; %.0f commits of %.1f writes, %.0f us "
				      "flushing each", p, r, walls[r] / 1e6, rate[r], gc[r].commits,
				      gc[r].writes / gc[r].commits, gc[r].flush_s * 1e6 / gc[r].commits);
			else
				logf_("S1c p=%d rep %d: %.3f s, %.1f runs/s", p, r, walls[r] / 1e6, rate[r]);
		}
		if (dur == OG_DURABLE_SYNC) {
			probe[1] = disk_probe_us();
			logf_("S1c disk: a 4 KiB write + fdatasync took %.0f us before the reps, %.0f after "
			      "(median of %d; the issue's figures assume ~150)", probe[0], probe[1], PROBE_N);
		}
		med = median(rate, reps);
		d1 = dist_of(lat1, n);
		d2 = dist_of(lat2, n);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "scenario", "S1c");
		cJSON_AddStringToObject(o, "name", "incident pipeline, P OS threads on one store");
		cJSON_AddStringToObject(o, "saver", "lmdb");
		cJSON_AddStringToObject(o, "durability", dname);
		cJSON_AddNumberToObject(o, "threads_per_rep", n);
		cJSON_AddNumberToObject(o, "concurrency", p);
		cJSON_AddNumberToObject(o, "os_threads", p);
		cJSON_AddNumberToObject(o, "reps", reps);
		cJSON_AddNumberToObject(o, "warmup_threads", warm);
		cJSON_AddNumberToObject(o, "total_wall_s", r3(n / med));
		cJSON_AddNumberToObject(o, "runs_per_s", r3(med));
		per = cJSON_AddArrayToObject(o, "per_rep_runs_per_s");
		for (r = 0; r < reps; r++)
			cJSON_AddItemToArray(per, cJSON_CreateNumber(r3(rate[r])));
		cJSON_AddItemToObject(o, "start_to_interrupt_us", dist_json(&d1, 1));
		cJSON_AddItemToObject(o, "resume_to_end_us", dist_json(&d2, 1));
		if (dur == OG_DURABLE_SYNC) {
			cJSON *g = cJSON_AddArrayToObject(o, "per_rep_commits"), *pr;

			for (r = 0; r < reps; r++) {
				double c = gc[r].commits > 0 ? gc[r].commits : 1;

				cJSON_AddItemToArray(g, pr = cJSON_CreateObject());
				cJSON_AddNumberToObject(pr, "commits", gc[r].commits);
				cJSON_AddNumberToObject(pr, "writes_per_commit", r3(gc[r].writes / c));
				cJSON_AddNumberToObject(pr, "flush_us_per_commit", r3(gc[r].flush_s * 1e6 / c));
			}
			pr = cJSON_AddObjectToObject(o, "disk_probe_us");
			cJSON_AddNumberToObject(pr, "before", r3(probe[0]));
			cJSON_AddNumberToObject(pr, "after", r3(probe[1]));
			cJSON_AddStringToObject(pr, "what", "4 KiB pwrite + fdatasync of a file in the store's "
							    "directory, median of " PROBE_N_S);
		}
		cJSON_AddNumberToObject(o, "checkpoints_per_thread",
					r3(num_field(st, "checkpoints") / (n + (warm > 0 ? warm : 0))));
		cJSON_AddNumberToObject(o, "bytes_per_checkpoint", num_field(st, "bytes_used_per_checkpoint"));
		cJSON_AddItemToObject(o, "store_after_last_rep", st);
		cJSON_AddNumberToObject(o, "peak_rss_mb", mb(peak_rss_kb() * 1024.0));
		cJSON_AddStringToObject(o, "note",
					dur == OG_DURABLE_SYNC ?
					"P pthreads, each with its own og_lvm + graph, run N/P threads one after another "
					"against the same LMDB handle in sync mode (fsync per commit); concurrent "
					"commits share one transaction and its fsync (group commit, store_lmdb.c); "
					"median of reps, each on a fresh store after its warm-up threads" :
					"P pthreads, each with its own og_lvm + graph, run N/P threads one after another "
					"against the same LMDB handle in async mode (no fsync per commit): the node "
					"calls run in parallel, LMDB serialises the commits; median of reps");
		emit(o);
		for (w = 0; w < p; w++)
			vmg_free(&vs[w]);
		free(vs);
		free(lat1);
		free(lat2);
		free(rate);
		free(walls);
		free(gc);
	}
}

/* ------------------------------------------------------------------ S2 / S3 */

static double s2_thread(struct vmg *v, struct store *s, const char *thread, const cJSON *input)
{
	struct og_err err = { 0 };
	struct og_run *r = run_new(v, s, thread);
	double t = now_us(), ms;
	cJSON *st;

	if (og_run_start(r, input, &err) < 0 || og_run_invoke(r, &err) < 0)
		die("S2 %s: %s", thread, err.msg);
	ms = (now_us() - t) / 1000;
	st = og_run_state_json(r);
	if (og_run_status(r) != OG_RUN_DONE || num_field(st, "counter") != 1000)
		die("S2 %s: counter %g != 1000 (status %s)", thread, num_field(st, "counter"),
		    og_run_status_name(og_run_status(r)));
	cJSON_Delete(st);
	og_run_free(r);
	return ms;
}

static void run_s3(struct store *s, const char *thread)
{
	struct og_err err = { 0 };
	double *hs = calloc((size_t)C.s3_reps, sizeof(double)), *hf = calloc((size_t)C.s3_reps, sizeof(double));
	double *gs = calloc((size_t)C.s3_get_reps, sizeof(double)), hw = 0, t, *sorted;
	int r, n = -1, i;
	cJSON *o;

	logf_("S3 lmdb: history of %s", thread);
	for (r = -1; r < C.s3_reps; r++) {	/* r = -1: warm-up */
		cJSON *h = NULL;
		t = now_us();
		if (og_store_lmdb_history(s->db, thread, 0, 0, &h, &err) < 0)
			die("S3 history: %s", err.msg);
		t = (now_us() - t) / 1000;
		if (n >= 0 && cJSON_GetArraySize(h) != n)
			die("S3: history length changed between reps");
		n = cJSON_GetArraySize(h);
		if (r < 0)
			hw = t;
		else
			hs[r] = t;
		cJSON_Delete(h);
	}
	/* the listing plus every entry's checkpoint with its values, which is
	 * what LangGraph's getStateHistory yields (StateSnapshot.values) */
	for (r = -1; r < C.s3_reps; r++) {
		cJSON *h = NULL, *e;
		t = now_us();
		if (og_store_lmdb_history(s->db, thread, 0, 0, &h, &err) < 0)
			die("S3 history: %s", err.msg);
		cJSON_ArrayForEach(e, h) {
			cJSON *ck = NULL;
			if (og_store_lmdb_ops.get(s->db, thread, (uint64_t)num_field(e, "id"), &ck, &err) < 0)
				die("S3 get %g: %s", num_field(e, "id"), err.msg);
			if (!field(ck, "values"))
				die("S3: snapshot without values");
			cJSON_Delete(ck);
		}
		t = (now_us() - t) / 1000;
		if (r >= 0)
			hf[r] = t;
		cJSON_Delete(h);
	}
	for (r = -1; r < C.s3_get_reps; r++) {
		cJSON *ck = NULL;
		t = now_us();
		if (og_store_lmdb_ops.get(s->db, thread, 0, &ck, &err) < 0)
			die("S3 get latest: %s", err.msg);
		t = (now_us() - t) / 1000;
		if (num_field(field(ck, "values"), "counter") != 1000)
			die("S3: get latest: wrong counter");
		cJSON_Delete(ck);
		if (r >= 0)
			gs[r] = t;
	}
	sorted = calloc((size_t)C.s3_get_reps, sizeof(double));
	memcpy(sorted, gs, sizeof(double) * (size_t)C.s3_get_reps);
	qsort(sorted, (size_t)C.s3_get_reps, sizeof(double), cmp_dbl);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "scenario", "S3");
	cJSON_AddStringToObject(o, "name", "history");
	cJSON_AddStringToObject(o, "saver", "lmdb");
	cJSON_AddStringToObject(o, "thread", thread);
	cJSON_AddNumberToObject(o, "history_entries", n);
	cJSON_AddNumberToObject(o, "history_reps", C.s3_reps);
	cJSON_AddNumberToObject(o, "history_ms", r3(median(hs, C.s3_reps)));
	for (i = 0, t = INFINITY; i < C.s3_reps; i++)
		t = hs[i] < t ? hs[i] : t;
	cJSON_AddNumberToObject(o, "history_ms_min", r3(t));
	cJSON_AddNumberToObject(o, "history_us_per_entry", r3(median(hs, C.s3_reps) * 1000 / n));
	cJSON_AddNumberToObject(o, "history_warmup_ms", r3(hw));
	cJSON_AddNumberToObject(o, "history_with_values_ms", r3(median(hf, C.s3_reps)));
	cJSON_AddNumberToObject(o, "history_with_values_us_per_entry", r3(median(hf, C.s3_reps) * 1000 / n));
	cJSON_AddNumberToObject(o, "get_state_reps", C.s3_get_reps);
	cJSON_AddNumberToObject(o, "get_state_ms", r3(median(gs, C.s3_get_reps) * 1000) / 1000);
	cJSON_AddNumberToObject(o, "get_state_us", r3(median(gs, C.s3_get_reps) * 1000));
	cJSON_AddNumberToObject(o, "get_state_us_p99", r3(pct(sorted, C.s3_get_reps, 99) * 1000));
	cJSON_AddNumberToObject(o, "get_state_ms_p99", r3(pct(sorted, C.s3_get_reps, 99)));
	cJSON_AddNumberToObject(o, "peak_rss_mb", mb(peak_rss_kb() * 1024.0));
	cJSON_AddStringToObject(o, "note",
				"history_ms: og_store_lmdb_history, all entries (ids, step, source, status, next; no "
				"values). history_with_values_ms adds a get of each entry (values included), which is "
				"what LangGraph's getStateHistory returns: compare that one with the peer's history_ms");
	emit(o);
	free(hs);
	free(hf);
	free(gs);
	free(sorted);
}

static void run_s2(enum saver kind)
{
	struct vmg v;
	struct store s;
	cJSON *input = cJSON_CreateObject(), *o, *st;
	double warm, *per = calloc((size_t)C.s2_threads, sizeof(double)), *us, t0, wall, mn, mx;
	char thread[64], last[64] = "";
	int i;

	cJSON_AddNumberToObject(input, "counter", 0);
	vmg_load(&v, C.s2_graph);
	store_open(&s, kind, OG_DURABLE_ASYNC, "s2-lmdb-async");
	logf_("S2 %s: warm-up thread", saver_name(kind));
	warm = s2_thread(&v, &s, "s2-warmup", input);
	t0 = now_us();
	for (i = 0; i < C.s2_threads; i++) {
		snprintf(thread, sizeof(thread), "s2-%d", i);
		per[i] = s2_thread(&v, &s, thread, input);
		snprintf(last, sizeof(last), "%s", thread);
	}
	wall = now_us() - t0;
	us = calloc((size_t)C.s2_threads, sizeof(double));
	for (i = 0, mn = INFINITY, mx = 0; i < C.s2_threads; i++) {
		us[i] = per[i] * 1000 / 1000;	/* ms * 1000 µs / 1000 steps */
		mn = us[i] < mn ? us[i] : mn;
		mx = us[i] > mx ? us[i] : mx;
	}
	st = store_stats(&s);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "scenario", "S2");
	cJSON_AddStringToObject(o, "name", "step overhead");
	cJSON_AddStringToObject(o, "saver", saver_name(kind));
	cJSON_AddStringToObject(o, "durability", kind == SAVER_LMDB ? "async" : "n/a");
	cJSON_AddNumberToObject(o, "threads", C.s2_threads);
	cJSON_AddNumberToObject(o, "steps_per_thread", 1000);
	cJSON_AddNumberToObject(o, "recursion_limit", 1100);
	cJSON_AddNumberToObject(o, "reps", C.s2_threads);
	cJSON_AddNumberToObject(o, "warmup_threads", 1);
	cJSON_AddNumberToObject(o, "total_wall_s", r3(wall / 1e6));
	cJSON_AddNumberToObject(o, "steps_per_s", r3(C.s2_threads * 1000 / (wall / 1e6)));
	{
		cJSON *u = cJSON_AddObjectToObject(o, "us_per_step");
		cJSON_AddNumberToObject(u, "median", r3(median(us, C.s2_threads)));
		cJSON_AddNumberToObject(u, "min", r3(mn));
		cJSON_AddNumberToObject(u, "max", r3(mx));
	}
	cJSON_AddNumberToObject(o, "steps_per_s_median_thread", r3(1e6 / median(us, C.s2_threads)));
	cJSON_AddItemToObject(o, "per_thread_ms", num_array(per, C.s2_threads));
	cJSON_AddNumberToObject(o, "warmup_thread_ms", r3(warm));
	if (kind != SAVER_NONE)
		cJSON_AddNumberToObject(o, "checkpoints_per_thread",
					r3(num_field(st, "checkpoints") / (C.s2_threads + 1)));
	if (kind == SAVER_LMDB)
		cJSON_AddNumberToObject(o, "bytes_per_checkpoint", num_field(st, "bytes_used_per_checkpoint"));
	cJSON_AddItemToObject(o, "store_after", st);
	cJSON_AddNumberToObject(o, "peak_rss_mb", mb(peak_rss_kb() * 1024.0));
	if (kind == SAVER_NONE)
		cJSON_AddStringToObject(o, "note", "no store: og_run_opts.store = NULL (engine + Lua only)");
	emit(o);
	if (kind == SAVER_LMDB)
		run_s3(&s, last);
	store_close(&s);
	vmg_free(&v);
	cJSON_Delete(input);
	free(per);
	free(us);
}

/* ------------------------------------------------------------------ S4 */

struct s4_rep {
	double pause_us, resume_us;
	struct rss before, after_pause, after_resume;
	double peak_after_pause_kb;
	cJSON *st_paused, *st_done;
};

static struct s4_rep s4_rep(struct vmg *v, int n, const char *tag)
{
	struct s4_rep x = { 0 };
	struct store s;
	cJSON *resume = resume_value();
	char (*ids)[64] = calloc((size_t)n, sizeof(*ids)), *thread;
	double t;
	int i;

	for (i = 0; i < n; i++)		/* made before the clock starts */
		thread_name(ids[i], sizeof(ids[i]), tag, i);
	store_open(&s, SAVER_LMDB, OG_DURABLE_ASYNC, tag);
	x.before = rss_now();
	t = now_us();
	for (i = 0; i < n; i++) {
		cJSON *input = s1_input(i);
		struct og_run *r;
		thread = ids[i];
		r = s1_pause(v, &s, thread, input);
		check_paused(r, thread);
		og_run_free(r);
		cJSON_Delete(input);
	}
	x.pause_us = now_us() - t;
	x.after_pause = rss_now();
	x.peak_after_pause_kb = (double)peak_rss_kb();
	x.st_paused = store_stats(&s);
	t = now_us();
	for (i = 0; i < n; i++) {
		struct og_run *r;
		thread = ids[i];
		r = s1_resume(v, &s, thread, resume);
		check_done(r, thread);
		og_run_free(r);
	}
	x.resume_us = now_us() - t;
	x.after_resume = rss_now();
	x.st_done = store_stats(&s);
	store_close(&s);
	cJSON_Delete(resume);
	free(ids);
	return x;
}

static void run_s4(void)
{
	struct vmg v;
	struct s4_rep warm, *reps = calloc((size_t)C.s4_reps, sizeof(*reps));
	double *x = calloc((size_t)C.s4_reps, sizeof(double)), *y = calloc((size_t)C.s4_reps, sizeof(double));
	struct rss start = rss_now();
	char tag[64];
	cJSON *o, *a;
	int r, n = C.s4_n;

	vmg_load(&v, C.s1_graph);
	logf_("S4 lmdb: warm-up N=%d", C.s4_warm);
	warm = s4_rep(&v, C.s4_warm, "s4-lmdb-warm");
	cJSON_Delete(warm.st_paused);
	cJSON_Delete(warm.st_done);
	for (r = 0; r < C.s4_reps; r++) {
		snprintf(tag, sizeof(tag), "s4-lmdb-r%d", r);
		reps[r] = s4_rep(&v, n, tag);
		logf_("S4 lmdb rep %d: pause %.3f s, resume %.3f s, rss %.1f MB (anon %.1f, file %.1f)", r,
		      reps[r].pause_us / 1e6, reps[r].resume_us / 1e6, mb(reps[r].after_pause.total),
		      mb(reps[r].after_pause.anon), mb(reps[r].after_pause.file));
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "scenario", "S4");
	cJSON_AddStringToObject(o, "name", "many paused threads");
	cJSON_AddStringToObject(o, "saver", "lmdb");
	cJSON_AddStringToObject(o, "durability", "async");
	cJSON_AddNumberToObject(o, "threads", n);
	cJSON_AddNumberToObject(o, "concurrency", 1);
	cJSON_AddNumberToObject(o, "reps", C.s4_reps);
	cJSON_AddNumberToObject(o, "warmup_threads", C.s4_warm);
	cJSON_AddStringToObject(o, "thread_ids", C.ids);
#define MED(expr) ({ for (r = 0; r < C.s4_reps; r++) x[r] = (expr); median(x, C.s4_reps); })
	cJSON_AddNumberToObject(o, "pause_phase_s", r3(MED(reps[r].pause_us) / 1e6));
	cJSON_AddNumberToObject(o, "resume_phase_s", r3(MED(reps[r].resume_us) / 1e6));
	cJSON_AddNumberToObject(o, "pause_threads_per_s", r3(MED(n / (reps[r].pause_us / 1e6))));
	cJSON_AddNumberToObject(o, "resume_threads_per_s", r3(MED(n / (reps[r].resume_us / 1e6))));
	cJSON_AddNumberToObject(o, "peak_rss_mb", mb(peak_rss_kb() * 1024.0));
	cJSON_AddNumberToObject(o, "rss_after_pause_mb", mb(MED(reps[r].after_pause.total)));
	cJSON_AddNumberToObject(o, "rss_anon_after_pause_mb", mb(MED(reps[r].after_pause.anon)));
	cJSON_AddNumberToObject(o, "rss_file_after_pause_mb", mb(MED(reps[r].after_pause.file)));
	cJSON_AddNumberToObject(o, "rss_after_resume_mb", mb(MED(reps[r].after_resume.total)));
	cJSON_AddNumberToObject(o, "rss_growth_pause_phase_mb",
				mb(MED(reps[r].after_pause.total - reps[r].before.total)));
	cJSON_AddNumberToObject(o, "retained_bytes_per_paused_thread",
				round(MED((reps[r].after_pause.anon - reps[r].before.anon) / n)));
	cJSON_AddNumberToObject(o, "rss_file_growth_per_paused_thread",
				round(MED((reps[r].after_pause.file - reps[r].before.file) / n)));
#undef MED
	cJSON_AddNumberToObject(o, "rss_at_scenario_start_mb", mb(start.total));
	a = cJSON_AddArrayToObject(o, "peak_rss_mb_after_pause_per_rep");
	for (r = 0; r < C.s4_reps; r++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(mb(reps[r].peak_after_pause_kb * 1024.0)));
	{
		cJSON *sp = reps[C.s4_reps - 1].st_paused, *sd = reps[C.s4_reps - 1].st_done;
		cJSON_AddNumberToObject(o, "bytes_per_checkpoint_paused", num_field(sp, "bytes_used_per_checkpoint"));
		cJSON_AddNumberToObject(o, "bytes_per_checkpoint", num_field(sd, "bytes_used_per_checkpoint"));
		cJSON_AddNumberToObject(o, "bytes_per_checkpoint_du", num_field(sd, "du_bytes_per_checkpoint"));
		cJSON_AddNumberToObject(o, "bytes_per_paused_thread_on_disk", r3(num_field(sp, "bytes_used") / n));
		cJSON_AddItemToObject(o, "store_after_pause", sp);
		cJSON_AddItemToObject(o, "store_after_resume", sd);
	}
	for (r = 0; r < C.s4_reps; r++) {
		x[r] = reps[r].pause_us / 1e6;
		y[r] = reps[r].resume_us / 1e6;
	}
	cJSON_AddItemToObject(o, "per_rep_pause_s", num_array(x, C.s4_reps));
	cJSON_AddItemToObject(o, "per_rep_resume_s", num_array(y, C.s4_reps));
	cJSON_AddNumberToObject(o, "warmup_pause_s", r3(warm.pause_us / 1e6));
	cJSON_AddNumberToObject(o, "warmup_resume_s", r3(warm.resume_us / 1e6));
	cJSON_AddStringToObject(o, "note",
				"one OS thread, threads one after another (the peer: 50 async workers on one JS "
				"thread); each og_run is freed once paused, so nothing of a paused thread stays in "
				"memory; resume = get + og_run_load + og_run_resume + invoke. RSS includes LMDB's "
				"file-backed map pages (rss_file_*); retained_bytes_per_paused_thread is the "
				"anonymous RSS growth over the pause phase / N");
	emit(o);
	vmg_free(&v);
	free(reps);
	free(x);
	free(y);
}

/* ------------------------------------------------------------------ orchestration */

static int worker(int argc, char **argv)
{
	const char *scen = argc > 0 ? argv[0] : "", *saver = argc > 1 ? argv[1] : "lmdb";
	const char *dur = argc > 2 ? argv[2] : "async";
	enum saver k = !strcmp(saver, "memory") ? SAVER_MEMORY : !strcmp(saver, "none") ? SAVER_NONE : SAVER_LMDB;
	enum og_durability d = !strcmp(dur, "sync") ? OG_DURABLE_SYNC : OG_DURABLE_ASYNC;

	if (!strcmp(scen, "S1"))
		run_s1(k, d);
	else if (!strcmp(scen, "S1c"))
		run_s1c(d);
	else if (!strcmp(scen, "S2"))
		run_s2(k);
	else if (!strcmp(scen, "S4"))
		run_s4();
	else
		die("unknown worker scenario '%s'", scen);
	return 0;
}

static void meta(void)
{
	cJSON *o = cJSON_CreateObject(), *c;
	struct utsname u;
	char date[64], line[256], cpu[128] = "";
	time_t t = time(NULL);
	FILE *f;
	const char *rev = getenv("BENCH_GIT_REV");

	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	uname(&u);
	if ((f = fopen("/proc/cpuinfo", "r"))) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
				snprintf(cpu, sizeof(cpu), "%s", strchr(line, ':') + 2);
				cpu[strcspn(cpu, "\n")] = 0;
				break;
			}
		fclose(f);
	}
	cJSON_AddStringToObject(o, "scenario", "meta");
	cJSON_AddStringToObject(o, "engine", "opsgraph");
	cJSON_AddStringToObject(o, "date_utc", date);
	if (rev && *rev)
		cJSON_AddStringToObject(o, "git_rev", rev);
	cJSON_AddStringToObject(o, "compiler", __VERSION__);
	cJSON_AddStringToObject(o, "lua", LUA_RELEASE);
	cJSON_AddStringToObject(o, "lmdb", MDB_VERSION_STRING);
	cJSON_AddStringToObject(o, "cjson", cJSON_Version());
	snprintf(line, sizeof(line), "%s %s %s", u.sysname, u.release, u.machine);
	cJSON_AddStringToObject(o, "platform", line);
	cJSON_AddStringToObject(o, "cpu", cpu);
	cJSON_AddNumberToObject(o, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddNumberToObject(o, "total_mem_gb",
				round((double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (1 << 30)));
	c = cJSON_AddObjectToObject(o, "config");
	cJSON_AddNumberToObject(c, "reps", C.reps);
	cJSON_AddNumberToObject(c, "s1N", C.s1_n);
	cJSON_AddNumberToObject(c, "s1WarmupN", C.s1_warm);
	cJSON_AddNumberToObject(c, "s1cN", C.s1c_n);
	cJSON_AddNumberToObject(c, "s1cWarmupN", C.s1c_warm);
	cJSON_AddNumberToObject(c, "s1cReps", C.s1c_reps);
	cJSON_AddStringToObject(c, "s1cP", C.s1c_p);
	cJSON_AddStringToObject(c, "s1cAsyncP", C.s1c_async_p);
	cJSON_AddNumberToObject(c, "s2Threads", C.s2_threads);
	cJSON_AddNumberToObject(c, "s2Steps", 1000);
	cJSON_AddNumberToObject(c, "s3Reps", C.s3_reps);
	cJSON_AddNumberToObject(c, "s3GetStateReps", C.s3_get_reps);
	cJSON_AddNumberToObject(c, "s4N", C.s4_n);
	cJSON_AddNumberToObject(c, "s4WarmupN", C.s4_warm);
	cJSON_AddNumberToObject(c, "s4Reps", C.s4_reps);
	cJSON_AddStringToObject(c, "threadIds", C.ids);
	cJSON_AddStringToObject(c, "dataDir", C.db);
	cJSON_AddBoolToObject(c, "keepDb", C.keep_db);
	emit(o);
}

/* Runs one job in a child process (this binary, --worker ...). */
static int spawn_job(const char *self, const char *const *job)
{
	char reps[16], s4r[16];
	pid_t pid;
	int status;

	fflush(stdout);
	/* the child reads its config from the environment */
	snprintf(reps, sizeof(reps), "%d", C.reps);
	snprintf(s4r, sizeof(s4r), "%d", C.s4_reps);
	setenv("BENCH_REPS", reps, 1);
	setenv("BENCH_S4_REPS", s4r, 1);
	setenv("BENCH_DB_DIR", C.db, 1);
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execl(self, self, "--worker", job[0], job[1], job[2], (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", self, strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cJSON *o = cJSON_CreateObject();
		char msg[128];
		cJSON_AddStringToObject(o, "scenario", job[0]);
		cJSON_AddStringToObject(o, "saver", job[1]);
		cJSON_AddStringToObject(o, "durability", job[2]);
		snprintf(msg, sizeof(msg), "worker exited with %s %d", WIFEXITED(status) ? "code" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		cJSON_AddStringToObject(o, "error", msg);
		emit(o);
		return 1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench [--only S1,S1c,S2,S3,S4] [--reps N] [--db DIR]\n"
		"  S1 includes S1c (P OS threads, sync); S2 includes S3 (S3 alone runs the S2 lmdb job)\n");
	exit(2);
}

static void resolve_graphs(void)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/s1_incident.lua", C.graphs);
	if (!realpath(p, C.s1_graph))
		die("graph %s: %s (run from the project root)", p, strerror(errno));
	snprintf(p, sizeof(p), "%s/s2_loop.lua", C.graphs);
	if (!realpath(p, C.s2_graph))
		die("graph %s: %s (run from the project root)", p, strerror(errno));
}

int main(int argc, char **argv)
{
	static const char *const plan[][3] = {
		{ "S1", "lmdb", "async" },
		{ "S1", "lmdb", "sync" },
		{ "S1", "memory", "n/a" },
		{ "S1c", "lmdb", "sync" },
		{ "S1c", "lmdb", "async" },
		{ "S2", "lmdb", "async" },
		{ "S2", "memory", "n/a" },
		{ "S2", "none", "n/a" },
		{ "S4", "lmdb", "async" },
	};
	char only[128] = "", self[PATH_MAX];
	const char *dbenv;
	double t0;
	int i, failed = 0;
	size_t j;
	cJSON *end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	cfg_init();
	if ((dbenv = getenv("BENCH_DB_DIR")) && *dbenv)
		snprintf(C.db, sizeof(C.db), "%s", dbenv);
	if (argc > 1 && !strcmp(argv[1], "--worker")) {
		resolve_graphs();
		mkdir_p(C.db);
		return worker(argc - 2, argv + 2);
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc)
			snprintf(only, sizeof(only), ",%s,", argv[++i]);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			C.reps = C.s4_reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--db") && i + 1 < argc)
			snprintf(C.db, sizeof(C.db), "%s", argv[++i]);
		else
			usage();
	}
	if (C.reps < 1 || C.s4_reps < 1)
		usage();
	resolve_graphs();
	mkdir_p(C.db);
	{
		ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (l < 0)
			die("readlink /proc/self/exe: %s", strerror(errno));
		self[l] = 0;
	}
	meta();
	t0 = now_us();
	for (j = 0; j < sizeof(plan) / sizeof(plan[0]); j++) {
		const char *s = plan[j][0];
		bool want = !*only;
		if (*only) {
			char key[16];
			snprintf(key, sizeof(key), ",%s,", s);
			want = strstr(only, key) != NULL;
			if (!strcmp(s, "S1c") && strstr(only, ",S1,"))
				want = true;
			if (!strcmp(s, "S2") && !strcmp(plan[j][1], "lmdb") && strstr(only, ",S3,"))
				want = true;
		}
		if (!want)
			continue;
		logf_("== %s %s %s", plan[j][0], plan[j][1], plan[j][2]);
		failed |= spawn_job(self, plan[j]);
	}
	end = cJSON_CreateObject();
	cJSON_AddStringToObject(end, "scenario", "end");
	cJSON_AddNumberToObject(end, "total_elapsed_s", r3((now_us() - t0) / 1e6));
	emit(end);
	return failed;
}
