/*
 * test_crash.c: crash consistency of durable runs. A harness runs graphs in
 * child processes against an LMDB store and kills them with SIGKILL at random
 * points: from the parent after a random delay, and from inside the child at
 * chosen points: inside node code, before / during / after a checkpoint
 * commit (put), before / during / after a pending-writes commit
 * (put_writes), and while the environment is being opened or created. Some
 * rounds run two processes on one environment (a writer dies while the other
 * goes on), some environments start with a 64 KiB map (kills during map
 * growth), a quarter use async durability. Real `opsgraph run` / `resume`
 * processes running a Lua graph are killed too; each resume must take over
 * the dead runner's lease.
 *
 * The graph (C executor, NTHREADS threads per environment, ROUNDS rounds):
 *   START -> split -> {w1, w2, w3, gate} + Sends sq(1), sq(2)  (6 tasks)
 *   join {w1,w2,w3} -> acc; sq(2) sends tally to the next step (acc + tally)
 *   acc routes back to split until `round` reaches ROUNDS
 * gate pauses in og.interrupt once per round; the harness answers "yes".
 *
 * After every kill the parent checks, in its own process:
 *  - the environment opens;
 *  - every thread is consistent: its index row matches its latest
 *    checkpoint, its checkpoints form one unbroken parent chain, and each
 *    checkpoint equals the one an uninterrupted run writes with that id
 *    (values, versions, joins, next tasks, interrupts, writes, status);
 *  - no committed write is lost: every node write the store showed at an
 *    earlier check, and every write whose put_writes returned 0, is there
 *    with the same per-execution nonce; every checkpoint whose put returned
 *    0 is there;
 *  - no task whose writes were committed ran again;
 *  - every write in the store comes from a node call that finished.
 * The ledger: each node call appends "S task nonce" before its work and "E"
 * (or "I" when it pauses) after it, the store wrapper "C task nonce" when
 * put_writes returned 0 and "P id" when put did, to one O_APPEND file
 * (write(2) data survives SIGKILL: it is in the page cache, so no fsync).
 * The next child resumes every unfinished thread (og_run_load at the latest
 * checkpoint, og_run_resume(NULL, or the answer when it is interrupted),
 * og_run_invoke), possibly being killed again; an episode ends when all its
 * threads are done, and their final states must equal the uninterrupted
 * run's. Two self-test episodes make the resume deliberately forget pending
 * writes or a value: the checks must notice.
 *
 * Targeted cases: a kill right after the put_writes of a task that finished
 * after its interrupt was answered; 126 processes killed inside a read
 * transaction while another process keeps the environment open.
 *
 * Bad input: a regular file, a junk or zero-filled data.mdb, a directory of
 * other files, foreign LMDB environments, a truncated database, garbled meta
 * pages at --db; resume of a done thread; unknown threads and checkpoint ids
 * (state, fork, replay); put_writes to a missing checkpoint: a clear error and
 * nothing changed (file contents, directory listing, history, thread rows and
 * statistics compared before and after), through the library and through
 * the opsgraph binary ($OPSGRAPH or bin/opsgraph; skipped without one).
 *
 * OG_CRASH_KILLS (default 50) sets the number of kills; OG_CRASH_SEED the
 * seed (printed, so a failure can be re-run; timer kills stay random);
 * OG_CRASH_KEEP=1 keeps the temporary directories; OG_CRASH_VERBOSE=1 shows
 * what the self-tests caught. `make crash-test` runs 1000 kills. The lines
 * starting "crash:" print the counts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "core/id.h"
#include "graph/run.h"
#include "store/store_lmdb.h"
#include "../test.h"

#define ROUNDS 6		/* rounds of split -> 6 tasks -> acc + tally: 18 steps, 6 pauses */
#define NTHREADS 3		/* threads per environment */
#define MAXPROC 2		/* children running at once on one environment */
#define MAXSLOT (NTHREADS + 1)
#define HANG_US (60 * 1000000LL)	/* a child alive this long is hung */
#define MAX_ROUNDS_PER_EPISODE 400

/* ---- small helpers ------------------------------------------------------- */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (us > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t xs_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t prng;		/* the parent's */
static unsigned rnd(unsigned n)
{
	return n ? (unsigned)(xs_next(&prng) % n) : 0;
}

static int violations;
static struct {
	const char *fmt;	/* the message template: one kind of violation */
	int n;
} vkinds[64];
static bool mutating;		/* a self-test of the checks: violations are expected */
static int mut_violations;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
	va_list ap;

	if (mutating) {
		if (getenv("OG_CRASH_VERBOSE") && mut_violations < 3) {
			fputs("(expected) ", stderr);
			va_start(ap, fmt);
			vfprintf(stderr, fmt, ap);
			va_end(ap);
			fputc('\n', stderr);
		}
		mut_violations++;
		return;
	}
	violations++;
	t_fail++;
	{
		int i;
		for (i = 0; i < 64 && vkinds[i].fmt && vkinds[i].fmt != fmt; i++)
			;
		if (i < 64) {
			vkinds[i].fmt = fmt;
			vkinds[i].n++;
		}
	}
	if (violations > 40)
		return;		/* counted, not printed */
	fputs("VIOLATION: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *json_text(const cJSON *v)
{
	char *s = v ? cJSON_PrintUnformatted(v) : NULL;

	if (s && strlen(s) > 600)
		strcpy(s + 590, "...");
	return s;
}

static bool json_eq(const cJSON *a, const cJSON *b)
{
	bool an = !a || cJSON_IsNull(a), bn = !b || cJSON_IsNull(b);

	if (an || bn)
		return an && bn;
	return cJSON_Compare(a, b, 1);
}

static const cJSON *field(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *sfield(const cJSON *o, const char *k)
{
	const cJSON *v = field(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double nfield(const cJSON *o, const char *k)
{
	const cJSON *v = field(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1e9;
}

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char sub[1024];

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, data, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

/* Content hash, size and mtime of a file, to tell "unchanged". */
struct fsig {
	bool exists;
	uint64_t hash;
	off_t size;
	struct timespec mtime;
	mode_t mode;
};

static struct fsig file_sig(const char *path)
{
	struct fsig s = { 0 };
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd;

	if (stat(path, &st) < 0)
		return s;
	s.exists = true;
	s.size = st.st_size;
	s.mtime = st.st_mtim;
	s.mode = st.st_mode;
	s.hash = OG_ID_HASH_SEED;
	if (S_ISREG(st.st_mode) && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			s.hash = og_id_hash(buf, (size_t)n, s.hash);
		close(fd);
	}
	return s;
}

static bool sig_eq(struct fsig a, struct fsig b)
{
	return a.exists == b.exists && a.hash == b.hash && a.size == b.size && a.mode == b.mode &&
	       a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec;
}

/* Names in a directory, sorted, joined by spaces. */
static void dir_list(const char *path, char *out, size_t len)
{
	struct dirent **ents = NULL;
	int n = scandir(path, &ents, NULL, alphasort), i;
	size_t used = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..") && used + 2 < len)
			used += (size_t)snprintf(out + used, len - used, "%s ", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	if (n < 0)
		snprintf(out, len, "(missing)");
}

/* ---- kill kinds and phases ----------------------------------------------- */

enum kind {
	K_NONE, K_TIMER, K_NODE, K_PUT_BEFORE, K_PUT_MID, K_PUT_AFTER, K_PW_BEFORE, K_PW_MID,
	K_PW_AFTER, K_PW_AFTER_RESUMED, K_OPEN_MID, K_CLI_TIMER, K_COUNT
};

static const char *const kind_name[K_COUNT] = {
	"none", "timer", "in-node", "before-put", "during-put", "after-put", "before-put_writes",
	"during-put_writes", "after-put_writes", "after-put_writes(resumed task)", "during-open", "cli-timer",
};

enum phase { PH_IDLE, PH_OPEN, PH_RUNNER, PH_NODE, PH_PUT, PH_PW, PH_COUNT };

static const char *const phase_name[PH_COUNT] = {
	"idle", "open", "runner", "node", "put", "put_writes",
};

/* Shared with one child (MAP_SHARED): where its threads are, and what killed it. */
struct shm {
	_Atomic int phase[MAXSLOT];
	_Atomic int fired;		/* kind of the self-kill that fired; 0 none */
	_Atomic int landed;		/* phase when it fired */
	_Atomic int failed;
	_Atomic long put_n, put_us, pw_n, pw_us, nodes, open_us;	/* open_us: -1 until opened */
	char msg[1024];			/* why a child failed */
};

static struct shm *SHM;		/* MAXPROC of them */

/* ---- the graph and its C executor ----------------------------------------- */

enum { F_SPLIT, F_W1, F_W2, F_W3, F_SQ, F_ACC, F_GATE, F_TALLY };
enum { R_FAN, R_LOOP };

static struct og_graph *G;

/* Deliberate bugs a child can have when it resumes, to show that the
 * checks catch them: forget the pending writes (committed tasks run again),
 * or lose a committed value. */
enum mutation { M_NONE, M_DROP_PENDING, M_DROP_VALUE };

/* Per process: what the child does and when it kills itself. */
static struct {
	enum mutation mutate;
	struct shm *shm;		/* NULL in the parent */
	int ledger;			/* fd, -1: none */
	enum kind kind;			/* self-kill trigger, K_NONE/K_TIMER: none */
	long at;			/* fire at the at-th event of kind */
	long delay_us;			/* *_MID: killer thread's delay after the event */
	_Atomic long count;
	_Atomic long seq;
	int work_us;			/* max sleep inside a node */
	struct og_store_lmdb *db;
} X = { .ledger = -1 };

static _Thread_local int my_slot;
static _Thread_local uint64_t trng;

static void phase_set(int ph)
{
	if (X.shm)
		atomic_store(&X.shm->phase[my_slot], ph);
}

/* Where the process is, by priority: in a commit, in put_writes, in a node... */
static int landed_phase(const struct shm *s)
{
	static const int order[] = { PH_PUT, PH_PW, PH_NODE, PH_RUNNER, PH_OPEN };
	size_t k;
	int i;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (i = 0; i < MAXSLOT; i++)
			if (atomic_load(&s->phase[i]) == order[k])
				return order[k];
	return PH_IDLE;
}

static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void child_fail(const char *fmt, ...)
{
	va_list ap;

	if (!X.shm) {
		va_start(ap, fmt);
		fputs("reference run: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
		return;
	}
	if (atomic_fetch_add(&X.shm->failed, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(X.shm->msg, sizeof(X.shm->msg), fmt, ap);
		va_end(ap);
	}
}

/* Kills the process; `slot` is the thread the kill point belongs to. */
static _Noreturn void fire(int slot)
{
	atomic_store(&X.shm->landed, atomic_load(&X.shm->phase[slot]));
	atomic_store(&X.shm->fired, (int)X.kind);
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

static bool hit(enum kind k)
{
	return X.kind == k && atomic_fetch_add(&X.count, 1) + 1 == X.at;
}

static void kill_point(enum kind k)
{
	if (hit(k))
		fire(my_slot);
}

static void *killer_main(void *arg)
{
	sleep_us(X.delay_us);
	fire((int)(intptr_t)arg);
}

/* A thread that kills the process delay_us from now, while the caller goes on;
 * where the kill lands is told by the caller's phase then. */
static void arm_killer(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, killer_main, (void *)(intptr_t)my_slot) == 0)
		pthread_detach(t);
	else
		fire(my_slot);
}

/* One ledger line "TAG KEY NONCE THREAD ENTRY", in one write(2):
 *   S task nonce  a node call started      E task nonce  it returned writes
 *   I task nonce  it paused in og.interrupt
 *   C task nonce  put_writes of its writes returned 0 (committed)
 *   P id -        put of checkpoint id returned 0 (committed) */
static void ledger_write(char tag, const char *key, const char *nonce, const char *thread, const char *entry)
{
	char line[512];
	int n;

	if (X.ledger < 0)
		return;
	n = snprintf(line, sizeof(line), "%c %s %s %s %s\n", tag, key, nonce, thread, entry);
	if (write(X.ledger, line, (size_t)n) != n)
		child_fail("ledger write: %s", strerror(errno));
}

static void ledger_line(char tag, const struct og_call *c, const char *nonce, const char *entry)
{
	ledger_write(tag, c->task_id, nonce, c->thread_id, entry);
}

/* The log entry of a node call: "w1@4", "sq(2)@1", "tally(1)@2", "gate@1:yes". */
static void entry_of(char *buf, size_t len, const char *node, int step, const cJSON *input, const cJSON *resume)
{
	if (!strcmp(node, "sq") || !strcmp(node, "tally"))
		snprintf(buf, len, "%s(%d)@%d", node, cJSON_IsNumber(input) ? input->valueint : -1, step);
	else if (!strcmp(node, "gate"))
		snprintf(buf, len, "gate@%d:%s", step, cJSON_IsString(cJSON_GetArrayItem(resume, 0)) ?
			 cJSON_GetArrayItem(resume, 0)->valuestring : "?");
	else
		snprintf(buf, len, "%s@%d", node, step);
}

/* Every node: ledger "S", a little work, ledger "E" (or "I" when it pauses),
 * deterministic writes plus its execution's nonce. gate pauses in
 * og.interrupt until resumed; sq(2) also sends a tally task to the next step. */
static int x_call_node(void *self, const struct og_call *c, struct og_task_result *res)
{
	const char *name = og_graph_node_name(c->g, c->node);
	int fn = c->g->nodes[c->node].fn, in = cJSON_IsNumber(c->input) ? c->input->valueint : 0;
	char nonce[48], entry[64], last[16];
	cJSON *w;

	(void)self;
	snprintf(nonce, sizeof(nonce), "%d.%ld", (int)getpid(), atomic_fetch_add(&X.seq, 1));
	entry_of(entry, sizeof(entry), name, c->step, c->input, c->resume);
	phase_set(PH_NODE);
	ledger_line('S', c, nonce, entry);
	if (X.shm)
		atomic_fetch_add(&X.shm->nodes, 1);
	if (X.work_us)
		sleep_us((long)(xs_next(&trng) % (uint64_t)X.work_us));
	kill_point(K_NODE);
	if (fn == F_GATE && !cJSON_GetArraySize(c->resume)) {
		ledger_line('I', c, nonce, entry);
		res->status = OG_TASK_INTERRUPT;
		res->interrupt = cJSON_CreateString("approve this round?");
		phase_set(PH_RUNNER);
		return 0;
	}
	ledger_line('E', c, nonce, entry);
	res->writes = w = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(w, "log"), cJSON_CreateString(entry));
	cJSON_AddStringToObject(cJSON_AddObjectToObject(w, "nonces"), c->task_id, nonce);
	switch (fn) {
	case F_W1: case F_W2: case F_W3:
		cJSON_AddNumberToObject(w, "count", fn - F_W1 + 1);
		snprintf(last, sizeof(last), "last_%s", name);
		cJSON_AddNumberToObject(w, last, c->step);
		break;
	case F_SQ:
		cJSON_AddNumberToObject(w, "count", in * in * 10);
		if (in == 2) {
			cJSON *send = cJSON_CreateObject();
			cJSON_AddStringToObject(send, "node", "tally");
			cJSON_AddNumberToObject(send, "input", c->step);
			res->next = cJSON_CreateArray();
			cJSON_AddItemToArray(res->next, send);
		}
		break;
	case F_TALLY:
		cJSON_AddNumberToObject(w, "count", 1000);
		break;
	case F_ACC:
		cJSON_AddNumberToObject(w, "round", 1);
		break;
	}
	phase_set(PH_RUNNER);
	return 0;
}

static int x_call_route(void *self, const struct og_graph *g, int route, const struct og_view *view,
			cJSON **out, struct og_err *err)
{
	(void)self;
	if (g->routes[route].fn == R_FAN) {
		cJSON *a = cJSON_CreateArray(), *s;
		int i;
		for (i = 1; i <= 2; i++) {
			s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "node", "sq");
			cJSON_AddNumberToObject(s, "input", i);
			cJSON_AddItemToArray(a, s);
		}
		*out = a;
		return 0;
	}
	{
		int ch = og_graph_find_channel(g, "round");
		const cJSON *r = ch >= 0 ? view->vals[ch] : NULL;
		if (!cJSON_IsNumber(r))
			return og_err_set(err, -OG_EINVAL, "round is not a number");
		*out = cJSON_CreateString(r->valuedouble >= ROUNDS ? OG_END_NAME : "split");
		return 0;
	}
}

static int x_reduce(void *self, const struct og_graph *g, int channel, const cJSON *old, const cJSON *update,
		    cJSON **out, struct og_err *err)
{
	(void)self, (void)g, (void)channel, (void)old, (void)update, (void)out;
	return og_err_set(err, -OG_EINVAL, "no custom reducers here");
}

static const struct og_exec_ops x_ops = { x_call_node, x_call_route, x_reduce };

static struct og_graph *build_graph(void)
{
	static const char *const ws[] = { "w1", "w2", "w3" };
	static const char *const fan[] = { "sq" };
	static const char *const loop[] = { "split", OG_END_NAME };
	struct og_err err = { 0 };
	struct og_graph *g = og_graph_new("crash", &err);
	int i, rc = 0;

	if (!g)
		return NULL;
	g->recursion_limit = 1000;
	rc |= og_graph_add_channel(g, "round", OG_RED_SUM, cJSON_CreateNumber(0), -1, NULL, &err);
	rc |= og_graph_add_channel(g, "count", OG_RED_SUM, cJSON_CreateNumber(0), -1, NULL, &err);
	rc |= og_graph_add_channel(g, "log", OG_RED_APPEND, cJSON_CreateArray(), -1, NULL, &err);
	rc |= og_graph_add_channel(g, "nonces", OG_RED_MERGE, cJSON_CreateObject(), -1, NULL, &err);
	for (i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "last_%s", ws[i]);
		rc |= og_graph_add_channel(g, name, OG_RED_LAST, NULL, -1, NULL, &err);
	}
	rc |= og_graph_add_node(g, "split", F_SPLIT, NULL, &err) < 0;
	rc |= og_graph_add_node(g, "w1", F_W1, NULL, &err) < 0;
	rc |= og_graph_add_node(g, "w2", F_W2, NULL, &err) < 0;
	rc |= og_graph_add_node(g, "w3", F_W3, NULL, &err) < 0;
	rc |= (i = og_graph_add_node(g, "sq", F_SQ, NULL, &err)) < 0;
	rc |= i >= 0 && og_graph_add_destination(g, i, "tally", &err) < 0;
	rc |= og_graph_add_node(g, "acc", F_ACC, NULL, &err) < 0;
	rc |= og_graph_add_node(g, "gate", F_GATE, NULL, &err) < 0;
	rc |= og_graph_add_node(g, "tally", F_TALLY, NULL, &err) < 0;
	{
		const char *start[] = { OG_START_NAME }, *split[] = { "split" };
		rc |= og_graph_add_edge(g, start, 1, "split", NULL, &err);
		for (i = 0; i < 3; i++)
			rc |= og_graph_add_edge(g, split, 1, ws[i], NULL, &err);
		rc |= og_graph_add_edge(g, split, 1, "gate", NULL, &err);
	}
	rc |= og_graph_add_edge(g, (const char *const *)ws, 3, "acc", NULL, &err);
	rc |= og_graph_add_route(g, "split", R_FAN, fan, 1, NULL, &err);
	rc |= og_graph_add_route(g, "acc", R_LOOP, loop, 2, NULL, &err);
	if (rc || og_graph_validate(g, &err) < 0) {
		fprintf(stderr, "crash graph: %s\n", err.msg);
		og_graph_free(g);
		return NULL;
	}
	return g;
}

/* ---- the child: store wrapper, threads ------------------------------------ */

static int w_put(void *self, const struct og_ckpt *ck, struct og_err *err)
{
	int64_t t0;
	int rc, prev = X.shm ? atomic_load(&X.shm->phase[my_slot]) : 0;

	(void)self;
	phase_set(PH_PUT);
	kill_point(K_PUT_BEFORE);
	if (hit(K_PUT_MID))
		arm_killer();
	t0 = now_us();
	rc = og_store_lmdb_ops.put(X.db, ck, err);
	atomic_fetch_add(&X.shm->put_n, 1);
	atomic_fetch_add(&X.shm->put_us, (long)(now_us() - t0));
	if (rc == 0) {
		char id[32];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)ck->id);
		ledger_write('P', id, "-", ck->thread_id, ck->status);
	}
	kill_point(K_PUT_AFTER);
	phase_set(prev == PH_NODE ? PH_RUNNER : prev);
	return rc;
}

static int w_put_writes(void *self, const char *thread_id, uint64_t ckpt_id, const cJSON *rec, struct og_err *err)
{
	int64_t t0;
	int rc;

	(void)self;
	phase_set(PH_PW);
	kill_point(K_PW_BEFORE);
	if (hit(K_PW_MID))
		arm_killer();
	t0 = now_us();
	rc = og_store_lmdb_ops.put_writes(X.db, thread_id, ckpt_id, rec, err);
	atomic_fetch_add(&X.shm->pw_n, 1);
	atomic_fetch_add(&X.shm->pw_us, (long)(now_us() - t0));
	if (rc == 0) {
		const char *task = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "task"));
		const char *node = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "node"));
		const cJSON *nonces = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "writes"),
								     "nonces");
		const char *nonce = task ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(nonces, task)) : NULL;
		ledger_write('C', task ? task : "?", nonce ? nonce : "?", thread_id, "-");
		if (node && !strcmp(node, "gate"))
			kill_point(K_PW_AFTER_RESUMED);	/* the gate finishes only after a resume */
	}
	kill_point(K_PW_AFTER);
	phase_set(PH_RUNNER);
	return rc;
}

static int w_get(void *self, const char *thread_id, uint64_t id, cJSON **out, struct og_err *err)
{
	(void)self;
	return og_store_lmdb_ops.get(X.db, thread_id, id, out, err);
}

static const struct og_store_ops w_ops = { w_put, w_put_writes, w_get };

struct plan {
	enum kind kind;
	enum mutation mutate;
	long at, delay_us;
	uint64_t seed;
	int64_t deadline;		/* K_TIMER: when the parent kills */
	int nthreads;
	const char *threads[NTHREADS];
};

static cJSON *YES;		/* {"value": "yes"}: the answer to every gate */

/* Invokes the run, answering every gate with "yes", until it is done or fails. */
static int run_to_end(struct og_run *run, struct og_err *err)
{
	int rc;

	for (;;) {
		if ((rc = og_run_invoke(run, err)) < 0 || og_run_status(run) != OG_RUN_INTERRUPTED)
			return rc;
		if ((rc = og_run_resume(run, YES, "crash-test", err)) < 0)
			return rc;
	}
}

struct job {
	const char *thread;
	int slot;
	uint64_t seed;
	int rc;
};

/* Starts the thread, or continues it from its latest checkpoint. */
static void *thread_main(void *arg)
{
	struct job *j = arg;
	struct og_run_opts o = { 0 };
	struct og_err err = { 0 };
	struct og_run *run = NULL;
	cJSON *ck = NULL;
	uint64_t latest = 0;
	int rc;

	my_slot = j->slot;
	trng = j->seed;
	phase_set(PH_RUNNER);
	o.thread_id = j->thread;
	o.store = &w_ops;
	o.store_self = NULL;
	o.recursion_limit = 1000;
	j->rc = -1;
	rc = og_store_lmdb_ops.get(X.db, j->thread, 0, &ck, &err);
	if (rc < 0 && rc != -OG_ENOENT) {
		child_fail("get latest of %s: %s", j->thread, err.msg);
		goto out;
	}
	if (rc == 0 && !strcmp(sfield(ck, "status"), "done")) {
		j->rc = 0;
		goto out;
	}
	if (!(run = og_run_new(G, &x_ops, NULL, &o, &err))) {
		child_fail("og_run_new: %s", err.msg);
		goto out;
	}
	if (rc == 0 && X.mutate == M_DROP_PENDING)
		cJSON_DeleteItemFromObjectCaseSensitive(ck, "pending");
	if (rc == 0 && X.mutate == M_DROP_VALUE) {
		cJSON *log = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ck, "values"), "log");
		cJSON_DeleteItemFromArray(log, cJSON_GetArraySize(log) - 1);
	}
	if (rc == -OG_ENOENT) {
		if ((rc = og_run_start(run, NULL, &err)) < 0) {
			child_fail("start %s: %s", j->thread, err.msg);
			goto out;
		}
	} else {
		if (og_store_lmdb_latest_id(X.db, j->thread, &latest, &err) < 0 ||
		    og_run_load(run, ck, latest + 1, &err) < 0 ||
		    og_run_resume(run, og_run_status(run) == OG_RUN_INTERRUPTED ? YES : NULL, "crash-test", &err) < 0) {
			child_fail("resume %s: %s", j->thread, err.msg);
			goto out;
		}
	}
	if (run_to_end(run, &err) < 0) {
		child_fail("invoke %s: %s", j->thread, err.msg);
		goto out;
	}
	if (og_run_status(run) != OG_RUN_DONE) {
		child_fail("thread %s ended %s, not done", j->thread, og_run_status_name(og_run_status(run)));
		goto out;
	}
	j->rc = 0;
out:
	phase_set(PH_IDLE);
	og_run_free(run);
	cJSON_Delete(ck);
	return NULL;
}

static _Noreturn void child_main(struct shm *shm, const struct plan *p, const char *db, const char *ledger,
				 enum og_durability dur, size_t map_size)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_err err = { 0 };
	struct job jobs[NTHREADS];
	pthread_t tids[NTHREADS];
	int i, bad = 0;

	X.shm = shm;
	X.mutate = p->mutate;
	X.kind = p->kind;
	X.at = p->at;
	X.delay_us = p->delay_us;
	X.work_us = 2000;
	atomic_store(&X.count, 0);
	atomic_store(&X.seq, 0);
	my_slot = 0;
	trng = p->seed;
	if ((X.ledger = open(ledger, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		child_fail("open ledger: %s", strerror(errno));
		exit(3);
	}
	phase_set(PH_OPEN);
	if (X.kind == K_OPEN_MID)
		arm_killer();
	o.path = db;
	o.durability = dur;
	o.map_size = map_size;
	o.flush_ms = 20;
	{
		int64_t t0 = now_us();
		if (og_store_lmdb_open(&o, &X.db, &err) < 0) {
			child_fail("open %s: %s", db, err.msg);
			exit(3);
		}
		atomic_store(&shm->open_us, (long)(now_us() - t0));
	}
	phase_set(PH_RUNNER);
	for (i = 0; i < p->nthreads; i++) {
		jobs[i].thread = p->threads[i];
		jobs[i].slot = i + 1;
		jobs[i].seed = p->seed * 31 + (uint64_t)i + 1;
		jobs[i].rc = -1;
		if (pthread_create(&tids[i], NULL, thread_main, &jobs[i]) != 0) {
			child_fail("pthread_create failed");
			exit(3);
		}
	}
	phase_set(PH_IDLE);
	for (i = 0; i < p->nthreads; i++) {
		pthread_join(tids[i], NULL);
		bad |= jobs[i].rc != 0;
	}
	og_store_lmdb_close(X.db);
	X.db = NULL;
	close(X.ledger);
	exit(bad || atomic_load(&shm->failed) ? 3 : 0);
}

/* ---- the reference run ------------------------------------------------------- */

static int ref_put(void *self, const struct og_ckpt *ck, struct og_err *err)
{
	cJSON *j = og_ckpt_to_json(ck);

	if (!j)
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	cJSON_AddItemToArray((cJSON *)self, j);
	return 0;
}

static const struct og_store_ops ref_ops = { ref_put, NULL, NULL };

/* Checkpoints of an uninterrupted run of `thread`; [k] has id k+1. */
static cJSON *reference(const char *thread)
{
	struct og_run_opts o = { 0 };
	struct og_err err = { 0 };
	cJSON *arr = cJSON_CreateArray();
	struct og_run *run;

	o.thread_id = thread;
	o.store = &ref_ops;
	o.store_self = arr;
	o.recursion_limit = 1000;
	run = og_run_new(G, &x_ops, NULL, &o, &err);
	if (run && og_run_start(run, NULL, &err) == 0)
		run_to_end(run, &err);
	if (!run || og_run_status(run) != OG_RUN_DONE) {
		fprintf(stderr, "reference run of %s failed: %s\n", thread, err.msg);
		cJSON_Delete(arr);
		arr = NULL;
	}
	og_run_free(run);
	return arr;
}

/* ---- counters ---------------------------------------------------------------- */

static struct {
	long kills, by_kind[K_COUNT], landed[K_COUNT][PH_COUNT];
	long episodes, rounds, two_proc_rounds, resumes, completed_children;
	long threads_done, reexecuted, ledger_starts, puts, put_us, pws, pw_us;
	long cli_episodes, cli_runs, open_n, open_us;
	int64_t cli_run_us;		/* an uninterrupted opsgraph run of the CLI graph */
} N;

/* ---- an episode: one environment, NTHREADS threads --------------------------- */

struct tstate {
	char id[64];
	cJSON *ref;		/* reference checkpoints */
	cJSON *committed;	/* {task: nonce}: node writes the store held at the last check */
	cJSON *confirmed;	/* {task: nonce}: put_writes returned 0 for them (ledger "C") */
	cJSON *reported;	/* {task: true}: a lost confirmed write already reported */
	uint64_t max_put;	/* highest checkpoint id put returned 0 for (ledger "P") */
	bool done;
};

struct episode {
	char dir[512], db[600], ledger[600];
	enum og_durability dur;
	size_t map_size;	/* 0: the default; small ones make the map grow under the kills */
	struct tstate t[NTHREADS];
	off_t ledger_off;
	cJSON *ended;		/* {nonce: task}: node executions that finished */
	cJSON *starts;		/* {task: number of starts} */
};

static struct tstate *find_thread(struct episode *ep, const char *id)
{
	int i;

	for (i = 0; i < NTHREADS; i++)
		if (!strcmp(ep->t[i].id, id))
			return &ep->t[i];
	return NULL;
}

/* Reads the ledger lines the last children appended: a task the store had
 * committed must not start again. */
static void check_ledger(struct episode *ep, const char *when)
{
	FILE *f = fopen(ep->ledger, "r");
	char line[512], tag, task[64], nonce[64], thread[64], entry[64];

	if (!f)
		return;		/* no child got that far */
	fseeko(f, ep->ledger_off, SEEK_SET);
	while (fgets(line, sizeof(line), f)) {
		struct tstate *ts;
		size_t len = strlen(line);
		if (!len || line[len - 1] != '\n')
			break;		/* a torn last line: read it next time */
		ep->ledger_off += (off_t)len;
		if (sscanf(line, "%c %63s %63s %63s %63s", &tag, task, nonce, thread, entry) != 5 ||
		    !(ts = find_thread(ep, thread))) {
			violation("%s: malformed ledger line: %s", when, line);
			continue;
		}
		if (tag == 'S') {
			const cJSON *c = field(ts->committed, task);
			if (!c)
				c = field(ts->confirmed, task);
			cJSON *n = cJSON_GetObjectItemCaseSensitive(ep->starts, task);
			N.ledger_starts++;
			if (n) {
				cJSON_SetNumberValue(n, n->valuedouble + 1);
				N.reexecuted++;
			} else {
				cJSON_AddNumberToObject(ep->starts, task, 1);
			}
			if (c)
				violation("%s: thread %s: task %s (%s) ran again (execution %s) although its writes "
					  "were committed (execution %s)", when, thread, task, entry, nonce,
					  c->valuestring);
		} else if (tag == 'E') {
			cJSON_AddStringToObject(ep->ended, nonce, task);
		} else if (tag == 'C') {
			if (!field(ts->confirmed, task))
				cJSON_AddStringToObject(ts->confirmed, task, nonce);
		} else if (tag == 'P') {
			uint64_t id = strtoull(task, NULL, 10);
			if (id > ts->max_put)
				ts->max_put = id;
		} else if (tag == 'I') {
			/* paused: its next start (after the answer) is no re-execution */
			cJSON_DeleteItemFromObjectCaseSensitive(ep->starts, task);
		} else {
			violation("%s: malformed ledger line: %s", when, line);
		}
	}
	fclose(f);
}

/* Adds task -> nonce to `seen`; the same task must always carry the same nonce. */
static void see(cJSON *seen, const char *task, const char *nonce, const char *thread, const char *where)
{
	const cJSON *had = field(seen, task);

	if (!had)
		cJSON_AddStringToObject(seen, task, nonce);
	else if (strcmp(had->valuestring, nonce))
		violation("thread %s: task %s has writes of two executions (%s and %s) in the store (%s)", thread,
			  task, had->valuestring, nonce, where);
}

/* Compares checkpoint `ck` (from the store) with the reference `ref`. */
static void check_ckpt(const char *when, struct tstate *ts, const cJSON *ck, const cJSON *ref, cJSON *seen)
{
	static const char *const same[] = { "id", "parent_id", "step", "source", "status", "versions", "joins",
					    "next", "writes", "interrupts", "error", "thread_id", "graph" };
	cJSON *gv = cJSON_Duplicate(field(ck, "values"), 1), *rv = cJSON_Duplicate(field(ref, "values"), 1);
	cJSON *gn = cJSON_DetachItemFromObjectCaseSensitive(gv, "nonces");
	cJSON *rn = cJSON_DetachItemFromObjectCaseSensitive(rv, "nonces");
	const cJSON *item;
	double id = nfield(ck, "id");
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		if (!json_eq(field(ck, same[i]), field(ref, same[i]))) {
			char *a = json_text(field(ck, same[i])), *b = json_text(field(ref, same[i]));
			violation("%s: thread %s checkpoint %.0f: %s is %s, an uninterrupted run has %s", when, ts->id,
				  id, same[i], a ? a : "(none)", b ? b : "(none)");
			free(a);
			free(b);
		}
	}
	if (!json_eq(gv, rv)) {
		char *a = json_text(gv), *b = json_text(rv);
		violation("%s: thread %s checkpoint %.0f: values %s, an uninterrupted run has %s", when, ts->id, id,
			  a, b);
		free(a);
		free(b);
	}
	if (cJSON_GetArraySize(gn) != cJSON_GetArraySize(rn))
		violation("%s: thread %s checkpoint %.0f: writes of %d tasks, want %d", when, ts->id, id,
			  cJSON_GetArraySize(gn), cJSON_GetArraySize(rn));
	cJSON_ArrayForEach(item, rn)
		if (!field(gn, item->string))
			violation("%s: thread %s checkpoint %.0f: the writes of task %s are missing", when, ts->id,
				  id, item->string);
	cJSON_ArrayForEach(item, gn)
		if (cJSON_IsString(item))
			see(seen, item->string, item->valuestring, ts->id, "values");
	cJSON_Delete(gv);
	cJSON_Delete(rv);
	cJSON_Delete(gn);
	cJSON_Delete(rn);
}

/* Pending writes of the latest checkpoint: tasks of its next step that finished. */
static void check_pending(const char *when, struct tstate *ts, const cJSON *ck, cJSON *seen)
{
	const cJSON *p, *t;

	cJSON_ArrayForEach(p, field(ck, "pending")) {
		const char *task = sfield(p, "task");
		const cJSON *w = field(p, "writes"), *nonces = field(w, "nonces"), *log = field(w, "log");
		const cJSON *sched = NULL;
		char want[64];
		cJSON_ArrayForEach(t, field(ck, "next"))
			if (!strcmp(sfield(t, "id"), task))
				sched = t;
		if (!sched) {
			violation("%s: thread %s: pending write of task %s, which the next step does not have", when,
				  ts->id, task);
			continue;
		}
		if (!w && !strcmp(sfield(sched, "node"), "gate") && (field(p, "interrupt") || field(p, "resume")))
			continue;	/* the gate, paused (or answered, not yet finished) */
		if (!cJSON_IsObject(nonces) || cJSON_GetArraySize(nonces) != 1 || !cJSON_IsString(field(nonces, task))) {
			char *s = json_text(p);
			violation("%s: thread %s: malformed pending write %s", when, ts->id, s);
			free(s);
			continue;
		}
		{
			cJSON *yes = cJSON_CreateArray();
			cJSON_AddItemToArray(yes, cJSON_CreateString("yes"));
			entry_of(want, sizeof(want), sfield(sched, "node"), (int)nfield(ck, "step") + 1,
				 field(sched, "input"), yes);
			cJSON_Delete(yes);
		}
		if (cJSON_GetArraySize(log) != 1 || strcmp(cJSON_GetArrayItem(log, 0)->valuestring, want))
			violation("%s: thread %s: pending write of task %s logs something else than %s", when,
				  ts->id, task, want);
		see(seen, task, field(nonces, task)->valuestring, ts->id, "pending");
	}
}

/* Everything the store holds after a kill (or at the end, final). Returns
 * true when every thread is done. */
static bool verify(struct episode *ep, const char *when, bool final)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *s = NULL;
	struct og_err err = { 0 };
	cJSON *rows = NULL, *row;
	bool all_done = true;
	int i, rc;

	check_ledger(ep, when);
	o.path = ep->db;
	o.read_only = true;
	rc = og_store_lmdb_open(&o, &s, &err);
	if (rc == -OG_ENOENT) {
		/* killed before the environment had its format record */
		for (i = 0; i < NTHREADS; i++)
			if (cJSON_GetArraySize(ep->t[i].committed))
				violation("%s: the database is gone but thread %s had committed writes", when, ep->t[i].id);
		if (final)
			violation("%s: no database after the runs completed", when);
		return false;
	}
	if (rc < 0) {
		violation("%s: the environment does not open after the kill: %s", when, err.msg);
		return false;
	}
	if (og_store_lmdb_threads(s, NULL, &rows, &err) < 0) {
		violation("%s: listing threads failed: %s", when, err.msg);
		og_store_lmdb_close(s);
		return false;
	}
	cJSON_ArrayForEach(row, rows) {
		const char *st = sfield(row, "status");
		if (!find_thread(ep, sfield(row, "thread_id")))
			violation("%s: unknown thread '%s' in the index", when, sfield(row, "thread_id"));
		if (strcmp(st, "running") && strcmp(st, "interrupted") && strcmp(st, "done"))
			violation("%s: thread %s has status '%s'", when, sfield(row, "thread_id"), st);
	}
	for (i = 0; i < NTHREADS; i++) {
		struct tstate *ts = &ep->t[i];
		cJSON *seen = cJSON_CreateObject(), *hist = NULL, *latest = NULL, *h, *conf;
		const cJSON *r = NULL, *item;
		uint64_t lid = 0, id;
		int nref = cJSON_GetArraySize(ts->ref);

		cJSON_ArrayForEach(row, rows)
			if (!strcmp(sfield(row, "thread_id"), ts->id))
				r = row;
		if (og_store_lmdb_latest_id(s, ts->id, &lid, &err) < 0) {
			violation("%s: latest_id of %s: %s", when, ts->id, err.msg);
			goto next;
		}
		if (!lid) {
			if (r)
				violation("%s: thread %s is indexed but has no checkpoints", when, ts->id);
			all_done = false;
			goto next;
		}
		if (!r)
			violation("%s: thread %s has checkpoints but no index row", when, ts->id);
		if (og_store_lmdb_history(s, ts->id, 0, 0, &hist, &err) < 0) {
			violation("%s: history of %s: %s", when, ts->id, err.msg);
			goto next;
		}
		/* one unbroken chain 1 <- 2 <- ... <- latest, newest first */
		if ((uint64_t)cJSON_GetArraySize(hist) != lid)
			violation("%s: thread %s: %d checkpoints in history, latest id %llu", when, ts->id,
				  cJSON_GetArraySize(hist), (unsigned long long)lid);
		id = lid;
		cJSON_ArrayForEach(h, hist) {
			if ((uint64_t)nfield(h, "id") != id || (uint64_t)nfield(h, "parent_id") != id - 1) {
				char *t = json_text(h);
				violation("%s: thread %s: history row %s breaks the chain at id %llu", when, ts->id, t,
					  (unsigned long long)id);
				free(t);
				break;
			}
			id--;
		}
		if (lid > (uint64_t)nref) {
			violation("%s: thread %s has %llu checkpoints, an uninterrupted run %d", when, ts->id,
				  (unsigned long long)lid, nref);
			goto next;
		}
		for (id = 1; id <= lid; id++) {
			cJSON *ck = NULL;
			if (og_store_lmdb_ops.get(s, ts->id, id, &ck, &err) < 0) {
				violation("%s: thread %s: get checkpoint %llu: %s", when, ts->id, (unsigned long long)id,
					  err.msg);
				continue;
			}
			check_ckpt(when, ts, ck, cJSON_GetArrayItem(ts->ref, (int)id - 1), seen);
			if (id < lid && strcmp(sfield(ck, "status"), "running") && strcmp(sfield(ck, "status"), "interrupted"))
				violation("%s: thread %s: checkpoint %llu (not the latest) has status %s", when, ts->id,
					  (unsigned long long)id, sfield(ck, "status"));
			cJSON_Delete(ck);
		}
		if (og_store_lmdb_ops.get(s, ts->id, 0, &latest, &err) < 0) {
			violation("%s: thread %s: get latest: %s", when, ts->id, err.msg);
			goto next;
		}
		if ((uint64_t)nfield(latest, "id") != lid)
			violation("%s: thread %s: get(0) gives checkpoint %.0f, latest_id %llu", when, ts->id,
				  nfield(latest, "id"), (unsigned long long)lid);
		check_pending(when, ts, latest, seen);
		if (r && ((uint64_t)nfield(r, "latest_id") != lid || strcmp(sfield(r, "status"), sfield(latest, "status")) ||
			  nfield(r, "step") != nfield(latest, "step")))
			violation("%s: thread %s: index row (latest %.0f, %s, step %.0f) does not match its latest "
				  "checkpoint (%llu, %s, step %.0f)", when, ts->id, nfield(r, "latest_id"),
				  sfield(r, "status"), nfield(r, "step"), (unsigned long long)lid,
				  sfield(latest, "status"), nfield(latest, "step"));
		ts->done = !strcmp(sfield(latest, "status"), "done");
		if (ts->done != (lid == (uint64_t)nref))
			violation("%s: thread %s: status %s at checkpoint %llu of %d", when, ts->id,
				  sfield(latest, "status"), (unsigned long long)lid, nref);
		all_done &= ts->done;
		/* nothing committed is lost, and every write comes from a finished node call */
		cJSON_ArrayForEach(item, ts->committed) {
			const cJSON *now = field(seen, item->string);
			if (!now)
				violation("%s: thread %s: the committed writes of task %s (execution %s) are lost",
					  when, ts->id, item->string, item->valuestring);
			else if (strcmp(now->valuestring, item->valuestring))
				violation("%s: thread %s: the committed writes of task %s (execution %s) were "
					  "replaced by those of execution %s", when, ts->id, item->string,
					  item->valuestring, now->valuestring);
		}
		cJSON_ArrayForEach(conf, ts->confirmed) {
			const cJSON *now = field(seen, conf->string);
			if (field(ts->reported, conf->string))
				continue;
			if (!now || strcmp(now->valuestring, conf->valuestring)) {
				violation("%s: thread %s: put_writes of task %s (execution %s) returned 0, but the store "
					  "%s", when, ts->id, conf->string, conf->valuestring,
					  now ? "now holds another execution's writes" : "does not show them");
				cJSON_AddTrueToObject(ts->reported, conf->string);	/* once is enough */
			}
		}
		if (lid < ts->max_put)
			violation("%s: thread %s: put of checkpoint %llu returned 0, but the latest is %llu", when,
				  ts->id, (unsigned long long)ts->max_put, (unsigned long long)lid);
		cJSON_ArrayForEach(item, seen)
			if (!field(ep->ended, item->valuestring))
				violation("%s: thread %s: the store holds writes of execution %s of task %s, which "
					  "never finished", when, ts->id, item->valuestring, item->string);
		cJSON_Delete(ts->committed);
		ts->committed = seen;
		seen = NULL;
next:
		cJSON_Delete(seen);
		cJSON_Delete(hist);
		cJSON_Delete(latest);
	}
	cJSON_Delete(rows);
	og_store_lmdb_close(s);
	if (final && !all_done)
		violation("%s: the last child exited 0 but not every thread is done", when);
	return all_done;
}

static void choose_plan(struct plan *p, bool fresh_env)
{
	unsigned r = rnd(100);

	memset(p, 0, sizeof(*p));
	p->seed = xs_next(&prng);
	if (rnd(fresh_env ? 3 : 40) == 0) {
		p->kind = K_OPEN_MID;
		p->delay_us = rnd(N.open_n ? (unsigned)(N.open_us / N.open_n * 5 / 4) + 1 : 1000);
	} else if (r < 30) {
		p->kind = K_TIMER;
		p->delay_us = rnd(30000);
	} else if (r < 45) {
		p->kind = K_NODE;
		p->at = 1 + rnd(40);
	} else if (r < 53) {
		p->kind = K_PUT_BEFORE;
		p->at = 1 + rnd(20);
	} else if (r < 63) {
		p->kind = K_PUT_MID;
		p->at = 1 + rnd(20);
	} else if (r < 71) {
		p->kind = K_PUT_AFTER;
		p->at = 1 + rnd(20);
	} else if (r < 79) {
		p->kind = K_PW_BEFORE;
		p->at = 1 + rnd(30);
	} else if (r < 89) {
		p->kind = K_PW_MID;
		p->at = 1 + rnd(30);
	} else if (r < 97) {
		p->kind = K_PW_AFTER;
		p->at = 1 + rnd(30);
	} else {
		p->kind = K_PW_AFTER_RESUMED;
		p->at = 1 + rnd(3);
	}
	/* a kill during a commit: somewhere within the commit's measured duration */
	if (p->kind == K_PUT_MID)
		p->delay_us = rnd(N.puts ? (unsigned)(N.put_us / N.puts * 5 / 4) + 1 : 500);
	if (p->kind == K_PW_MID)
		p->delay_us = rnd(N.pws ? (unsigned)(N.pw_us / N.pws * 5 / 4) + 1 : 500);
}

/* Runs children on the episode's environment until every thread is done. */
/* A scripted episode (script != K_NONE): the first child is killed at the
 * script_at-th event of kind `script`, the next ones run without kills (and
 * resume with the mutation, for the self-tests of the checks). */
static void episode(int ep_no, long kill_target, enum kind script, long script_at, enum mutation mutate)
{
	struct episode ep;
	char when[128];
	bool fresh = true, done = false;
	int i, round;

	memset(&ep, 0, sizeof(ep));
	snprintf(ep.dir, sizeof(ep.dir), "%s/og-crash.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(ep.dir)) {
		violation("mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(ep.db, sizeof(ep.db), "%s/db", ep.dir);
	snprintf(ep.ledger, sizeof(ep.ledger), "%s/ledger", ep.dir);
	ep.dur = rnd(4) == 0 ? OG_DURABLE_ASYNC : OG_DURABLE_SYNC;
	ep.map_size = rnd(4) == 0 ? (size_t)64 << 10 : 0;
	ep.ended = cJSON_CreateObject();
	ep.starts = cJSON_CreateObject();
	for (i = 0; i < NTHREADS; i++) {
		snprintf(ep.t[i].id, sizeof(ep.t[i].id), "ep%d-t%d", ep_no, i);
		ep.t[i].committed = cJSON_CreateObject();
		ep.t[i].confirmed = cJSON_CreateObject();
		ep.t[i].reported = cJSON_CreateObject();
		if (!(ep.t[i].ref = reference(ep.t[i].id))) {
			violation("no reference run");
			goto out;
		}
	}
	N.episodes++;
	for (round = 0; !done; round++) {
		struct plan plans[MAXPROC];
		pid_t pids[MAXPROC];
		int st[MAXPROC], nproc = 1, live, k;
		bool final = N.kills >= kill_target;
		int64_t t0;
		const char *todo[NTHREADS];
		int ntodo = 0;

		if (round >= MAX_ROUNDS_PER_EPISODE) {
			violation("episode %d: threads not done after %d children: no progress", ep_no, round);
			break;
		}
		for (i = 0; i < NTHREADS; i++)
			if (!ep.t[i].done)
				todo[ntodo++] = ep.t[i].id;
		if (!final && ntodo >= 2 && !fresh && rnd(5) == 0 && script == K_NONE)
			nproc = 2;	/* two processes on one environment; one may die mid-commit */
		for (k = 0; k < nproc; k++) {
			choose_plan(&plans[k], fresh);
			if (final)
				plans[k].kind = K_NONE;
			if (script != K_NONE) {
				plans[k].kind = round ? K_NONE : script;
				plans[k].at = script_at;
				plans[k].mutate = round ? mutate : M_NONE;
			}
			if (nproc == 1) {
				plans[k].nthreads = ntodo;
				for (i = 0; i < ntodo; i++)
					plans[k].threads[i] = todo[i];
			} else {
				plans[k].nthreads = 0;
				for (i = k; i < ntodo; i += 2)
					plans[k].threads[plans[k].nthreads++] = todo[i];
			}
		}
		if (nproc == 2)
			N.two_proc_rounds++;
		N.rounds++;
		fflush(NULL);
		t0 = now_us();
		for (k = 0; k < nproc; k++) {
			memset(&SHM[k], 0, sizeof(SHM[k]));
			SHM[k].open_us = -1;
			if (plans[k].kind == K_TIMER)
				plans[k].deadline = t0 + plans[k].delay_us;
			pids[k] = fork();
			if (pids[k] == 0)
				child_main(&SHM[k], &plans[k], ep.db, ep.ledger, ep.dur, ep.map_size);
			if (pids[k] < 0) {
				violation("fork: %s", strerror(errno));
				goto out;
			}
			if (!fresh)
				N.resumes += plans[k].nthreads;
		}
		for (live = nproc; live > 0;) {
			int64_t t = now_us();
			for (k = 0; k < nproc; k++) {
				if (!pids[k])
					continue;
				if (waitpid(pids[k], &st[k], WNOHANG) == pids[k]) {
					pids[k] = 0;
					live--;
					continue;
				}
				if (plans[k].kind == K_TIMER && t >= plans[k].deadline)
					kill(pids[k], SIGKILL);
				if (t - t0 > HANG_US) {
					violation("episode %d: a child (plan %s) hangs; killing it", ep_no,
						  kind_name[plans[k].kind]);
					kill(pids[k], SIGKILL);
					plans[k].kind = K_NONE;
				}
			}
			if (live)
				sleep_us(200);
		}
		for (k = 0; k < nproc; k++) {
			struct shm *sh = &SHM[k];
			N.puts += sh->put_n;
			N.put_us += sh->put_us;
			N.pws += sh->pw_n;
			N.pw_us += sh->pw_us;
			if (sh->open_us >= 0) {
				N.open_n++;
				N.open_us += sh->open_us;
			}
			if (WIFSIGNALED(st[k]) && WTERMSIG(st[k]) == SIGKILL) {
				int kind = atomic_load(&sh->fired), ph = atomic_load(&sh->landed);
				if (!kind) {
					kind = plans[k].kind == K_TIMER ? K_TIMER : K_NONE;
					ph = landed_phase(sh);
				}
				if (kind == K_NONE) {
					violation("episode %d: child killed but not by the harness", ep_no);
					continue;
				}
				N.kills++;
				N.by_kind[kind]++;
				N.landed[kind][ph]++;
			} else if (WIFEXITED(st[k]) && WEXITSTATUS(st[k]) == 0) {
				N.completed_children++;
			} else {
				violation("episode %d: child (plan %s at %ld) ended with %s %d: %s", ep_no,
					  kind_name[plans[k].kind], plans[k].at, WIFEXITED(st[k]) ? "exit" : "signal",
					  WIFEXITED(st[k]) ? WEXITSTATUS(st[k]) : WTERMSIG(st[k]), sh->msg);
			}
		}
		snprintf(when, sizeof(when), "episode %d round %d (%s%s)", ep_no, round, kind_name[plans[0].kind],
			 nproc == 2 ? ", 2 processes" : "");
		done = verify(&ep, when, final || (script != K_NONE && round));
		if ((final || (script != K_NONE && round)) && !done)
			break;
		fresh = false;
	}
	for (i = 0; i < NTHREADS; i++)
		N.threads_done += ep.t[i].done;
out:
	for (i = 0; i < NTHREADS; i++) {
		cJSON_Delete(ep.t[i].ref);
		cJSON_Delete(ep.t[i].committed);
		cJSON_Delete(ep.t[i].confirmed);
		cJSON_Delete(ep.t[i].reported);
	}
	cJSON_Delete(ep.ended);
	cJSON_Delete(ep.starts);
	if (!getenv("OG_CRASH_KEEP"))
		rm_rf(ep.dir);
	else
		fprintf(stderr, "kept %s\n", ep.dir);
}

/* ---- the opsgraph binary ------------------------------------------------------ */

static const char CLI_GRAPH[] =
	"-- written by tests/unit/test_crash.c\n"
	"local og = require(\"opsgraph\")\n"
	"local g = og.graph{ name = \"crashcli\", state = { round = og.sum(0), total = og.sum(0),\n"
	"  trail = og.append() } }\n"
	"local function w(k) return function(s, ctx)\n"
	"  return { total = k, trail = { \"w\" .. k .. \"@\" .. ctx.step } } end end\n"
	"g:node(\"split\", function(s, ctx) return { trail = { \"split@\" .. ctx.step } } end)\n"
	"g:node(\"w1\", w(1))\ng:node(\"w2\", w(2))\ng:node(\"w3\", w(3))\n"
	"g:node(\"acc\", function(s, ctx) return { round = 1, trail = { \"acc@\" .. ctx.step } } end)\n"
	"g:edge(og.START, \"split\")\n"
	"g:edge(\"split\", \"w1\")\ng:edge(\"split\", \"w2\")\ng:edge(\"split\", \"w3\")\n"
	"g:edge({ \"w1\", \"w2\", \"w3\" }, \"acc\")\n"
	"g:route(\"acc\", function(s) if s.round >= 6 then return og.END end return \"split\" end,\n"
	"  { \"split\", og.END })\n"
	"return g\n";

static char OPSGRAPH[1024];

static bool find_opsgraph(void)
{
	const char *env = getenv("OPSGRAPH");

	if (env && access(env, X_OK) == 0) {
		snprintf(OPSGRAPH, sizeof(OPSGRAPH), "%s", env);
		return true;
	}
	if (access("bin/opsgraph", X_OK) == 0 && realpath("bin/opsgraph", OPSGRAPH))
		return true;
	return false;
}

/* Runs opsgraph with argv (NULL-terminated, without the program), output to
 * `out`; kills it after kill_us (< 0: never). Returns the wait status. */
static int spawn(const char *const *args, const char *out, long kill_us, bool *killed)
{
	const char *argv[32];
	pid_t pid;
	int st = 0, i, fd;
	int64_t t0;

	argv[0] = OPSGRAPH;
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	*killed = false;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(OPSGRAPH, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	t0 = now_us();
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		if (kill_us >= 0 && now_us() - t0 >= kill_us && !*killed) {
			kill(pid, SIGKILL);
			*killed = true;
		}
		if (now_us() - t0 > HANG_US) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			violation("opsgraph %s %s hangs", args[0], args[1] ? args[1] : "");
			return -1;
		}
		sleep_us(200);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	if (!buf)
		return NULL;
	if (f) {
		n = fread(buf, 1, 65535, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

/* The logical content of a database: threads, each thread's history, and
 * statistics counts. Caller owns. */
static cJSON *db_snapshot(const char *db)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *s = NULL;
	struct og_err err = { 0 };
	cJSON *snap = cJSON_CreateObject(), *rows = NULL, *row, *stat = NULL;
	static const char *const counts[] = { "threads", "checkpoints", "values", "writes", "leases" };
	size_t i;

	o.path = db;
	o.read_only = true;
	if (og_store_lmdb_open(&o, &s, &err) < 0) {
		cJSON_AddStringToObject(snap, "error", err.msg);
		return snap;
	}
	if (og_store_lmdb_threads(s, NULL, &rows, &err) == 0) {
		cJSON_ArrayForEach(row, rows) {
			cJSON *hist = NULL;
			if (og_store_lmdb_history(s, sfield(row, "thread_id"), 0, 0, &hist, &err) == 0)
				cJSON_AddItemToObject(snap, sfield(row, "thread_id"), hist);
		}
		cJSON_AddItemToObject(snap, "index", rows);
	}
	if (og_store_lmdb_stat(s, &stat, &err) == 0) {
		for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			cJSON_AddItemToObject(snap, counts[i], cJSON_Duplicate(field(stat, counts[i]), 1));
		cJSON_Delete(stat);
	}
	og_store_lmdb_close(s);
	return snap;
}

/* Checks a CLI thread after a kill: consistent, and equal step by step to
 * the reference database's thread. Returns the latest status. */
static const char *cli_verify(const char *db, const char *thread, const char *refdb, const char *when)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *s = NULL, *r = NULL;
	struct og_err err = { 0 };
	cJSON *rows = NULL, *row;
	uint64_t lid = 0, id;
	const char *status = "missing";
	static char st[32];

	o.path = db;
	o.read_only = true;
	if (og_store_lmdb_open(&o, &s, &err) < 0) {
		if (err.code != -OG_ENOENT)
			violation("%s: the environment does not open after the kill: %s", when, err.msg);
		return status;
	}
	o.path = refdb;
	if (og_store_lmdb_open(&o, &r, &err) < 0) {
		violation("reference db: %s", err.msg);
		og_store_lmdb_close(s);
		return status;
	}
	if (og_store_lmdb_latest_id(s, thread, &lid, &err) < 0)
		violation("%s: latest_id: %s", when, err.msg);
	for (id = 1; id <= lid; id++) {
		cJSON *a = NULL, *b = NULL;
		if (og_store_lmdb_ops.get(s, thread, id, &a, &err) < 0)
			violation("%s: get %llu: %s", when, (unsigned long long)id, err.msg);
		else if (og_store_lmdb_ops.get(r, "ref", id, &b, &err) < 0)
			violation("%s: thread has checkpoint %llu, an uninterrupted run does not", when,
				  (unsigned long long)id);
		else if (!json_eq(field(a, "values"), field(b, "values")) || !json_eq(field(a, "joins"), field(b, "joins")) ||
			 nfield(a, "parent_id") != (double)id - 1 || nfield(a, "step") != nfield(b, "step") ||
			 (id < lid && strcmp(sfield(a, "status"), "running"))) {
			char *x = json_text(a), *y = json_text(b);
			violation("%s: checkpoint %llu differs from an uninterrupted run's:\n  got  %s\n  want %s", when,
				  (unsigned long long)id, x, y);
			free(x);
			free(y);
		}
		if (id == lid && a) {
			snprintf(st, sizeof(st), "%s", sfield(a, "status"));
			status = st;
		}
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	if (og_store_lmdb_threads(s, NULL, &rows, &err) == 0) {
		int n = 0;
		cJSON_ArrayForEach(row, rows) {
			n++;
			if (strcmp(sfield(row, "thread_id"), thread) || (uint64_t)nfield(row, "latest_id") != lid ||
			    strcmp(sfield(row, "status"), status))
				violation("%s: index row %s/%s/%.0f does not match the latest checkpoint (%llu, %s)", when,
					  sfield(row, "thread_id"), sfield(row, "status"), nfield(row, "latest_id"),
					  (unsigned long long)lid, status);
		}
		if (n != (lid ? 1 : 0))
			violation("%s: %d index rows for %llu checkpoints", when, n, (unsigned long long)lid);
	}
	cJSON_Delete(rows);
	og_store_lmdb_close(s);
	og_store_lmdb_close(r);
	return status;
}

/* Kills `opsgraph run` / `opsgraph resume` processes of a Lua graph at random
 * times; each resume must take over the dead runner's lease and continue. */
static void cli_crashes(const char *tmp, long kill_target)
{
	char graph[700], refdb[700], out[700], db[700], thread[64], when[128];
	bool killed;
	int st, ep;

	snprintf(graph, sizeof(graph), "%s/crashcli.lua", tmp);
	snprintf(refdb, sizeof(refdb), "%s/refdb", tmp);
	snprintf(out, sizeof(out), "%s/o/out", tmp);
	if (write_file(graph, CLI_GRAPH, sizeof(CLI_GRAPH) - 1) < 0) {
		violation("cannot write %s", graph);
		return;
	}
	{
		const char *args[] = { "run", graph, "--thread", "ref", "--db", refdb, NULL };
		int64_t t0 = now_us();
		st = spawn(args, out, -1, &killed);
		N.cli_run_us = now_us() - t0;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			char *o = slurp(out);
			violation("opsgraph run of the CLI reference failed (%d): %s", st, o);
			free(o);
			return;
		}
	}
	for (ep = 0; N.by_kind[K_CLI_TIMER] < kill_target; ep++) {
		int tries;
		const char *status = "missing";
		bool async = rnd(3) == 0;
		snprintf(db, sizeof(db), "%s/cli%d", tmp, ep);
		snprintf(thread, sizeof(thread), "cli-%d", ep);
		N.cli_episodes++;
		for (tries = 0; strcmp(status, "done"); tries++) {
			bool final = N.by_kind[K_CLI_TIMER] >= kill_target || tries > 200;
			const char *run_args[] = { "run", graph, "--thread", thread, "--db", db, "--durability",
						   async ? "async" : "sync", NULL };
			const char *resume_args[] = { "resume", thread, "--db", db, "--wait", "5", "--durability",
						      async ? "async" : "sync", NULL };
			bool exists = strcmp(status, "missing") != 0;
			if (tries > 220) {
				violation("CLI episode %d: no progress after %d runs", ep, tries);
				break;
			}
			st = spawn(exists ? resume_args : run_args, out, final ? -1 : (long)rnd((unsigned)N.cli_run_us + 1), &killed);
			N.cli_runs++;
			if (killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
				N.kills++;
				N.by_kind[K_CLI_TIMER]++;
				N.landed[K_CLI_TIMER][PH_IDLE]++;
			} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				char *o = slurp(out);
				violation("CLI episode %d: opsgraph %s exited %d (signal %d): %s", ep,
					  exists ? "resume" : "run", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
					  WIFSIGNALED(st) ? WTERMSIG(st) : 0, o);
				free(o);
			}
			snprintf(when, sizeof(when), "CLI episode %d run %d", ep, tries);
			status = cli_verify(db, thread, refdb, when);
			if (strcmp(status, "missing") && strcmp(status, "running") && strcmp(status, "done")) {
				violation("%s: thread status %s", when, status);
				break;
			}
			if (final && strcmp(status, "done")) {
				violation("%s: an uninterrupted opsgraph run/resume left the thread %s", when, status);
				break;
			}
		}
		rm_rf(db);
	}
}

/* ---- bad input ------------------------------------------------------------------ */

static int try_open(const char *path, bool ro, struct og_err *err)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *s = NULL;
	int rc;

	o.path = path;
	o.read_only = ro;
	rc = og_store_lmdb_open(&o, &s, err);
	og_store_lmdb_close(s);
	return rc;
}

/* Opening `path` (read-write and read-only) is refused with -OG_EINVAL, a
 * message naming it, and `check` (the file that must stay as it was) and
 * the directory listing `dir` unchanged. */
static void expect_refused(const char *what, const char *path, const char *check, const char *dir)
{
	struct og_err err = { 0 };
	struct fsig before = file_sig(check), after;
	char lb[2048], la[2048];
	int rc, k;

	dir_list(dir, lb, sizeof(lb));
	for (k = 0; k < 2; k++) {
		og_err_clear(&err);
		rc = try_open(path, k == 1, &err);
		if (rc != -OG_EINVAL || !strstr(err.msg, "not an opsgraph database"))
			fprintf(stderr, "%s (%s): rc %d: %s\n", what, k ? "read-only" : "read-write", rc, err.msg);
		CHECK_INT(rc, ==, -OG_EINVAL);
		CHECK_CONTAINS(err.msg, "not an opsgraph database");
		CHECK_CONTAINS(err.msg, path);
	}
	after = file_sig(check);
	dir_list(dir, la, sizeof(la));
	if (!sig_eq(before, after))
		fprintf(stderr, "%s: %s changed\n", what, check);
	CHECK(sig_eq(before, after));
	CHECK_STR(la, lb);
}

static void fill_random(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)rnd(256);
}

/* An LMDB environment of another program, made with LMDB itself. */
static int make_foreign_env(const char *dir, bool with_meta)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 5, "hello" }, v = { 5, "world" };
	int rc;

	mkdir(dir, 0700);
	if ((rc = mdb_env_create(&env)))
		return rc;
	mdb_env_set_maxdbs(env, 4);
	if ((rc = mdb_env_open(env, dir, 0, 0600)) == 0 && (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, with_meta ? "meta" : NULL, MDB_CREATE, &dbi)) == 0 &&
		    (rc = mdb_put(txn, dbi, &k, &v, 0)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

/* A real opsgraph database with one done thread "done" of the C graph. */
static int make_done_db(const char *dir)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *s = NULL;
	struct og_run_opts ro = { 0 };
	struct og_err err = { 0 };
	struct og_run *run = NULL;
	int rc;

	o.path = dir;
	if ((rc = og_store_lmdb_open(&o, &s, &err)) < 0)
		return rc;
	X.db = s;
	X.shm = NULL;
	X.kind = K_NONE;
	X.ledger = -1;
	X.work_us = 0;
	ro.thread_id = "done";
	ro.store = &og_store_lmdb_ops;
	ro.store_self = s;
	ro.recursion_limit = 1000;
	run = og_run_new(G, &x_ops, NULL, &ro, &err);
	rc = run ? og_run_start(run, NULL, &err) : -1;
	if (rc == 0)
		rc = run_to_end(run, &err);
	if (rc == 0 && og_run_status(run) != OG_RUN_DONE)
		rc = -1;
	og_run_free(run);
	og_store_lmdb_close(s);
	X.db = NULL;
	return rc;
}

static void copy_file(const char *from, const char *to, size_t limit)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[65536];
	size_t n, total = 0;

	while (a && b && total < limit && (n = fread(buf, 1, sizeof(buf), a)) > 0) {
		if (n > limit - total)
			n = limit - total;
		fwrite(buf, 1, n, b);
		total += n;
	}
	if (a)
		fclose(a);
	if (b)
		fclose(b);
}

static void bad_input_store(const char *tmp)
{
	char p[800], q[1024], good[800];
	unsigned char junk[16384];
	struct og_err err = { 0 };

	/* a regular file at the path */
	snprintf(p, sizeof(p), "%s/junkfile", tmp);
	fill_random(junk, sizeof(junk));
	write_file(p, junk, 3000);
	expect_refused("regular file", p, p, tmp);

	/* a directory holding a data.mdb that is not LMDB */
	snprintf(p, sizeof(p), "%s/junkdir", tmp);
	mkdir(p, 0700);
	snprintf(q, sizeof(q), "%s/data.mdb", p);
	write_file(q, junk, sizeof(junk));
	expect_refused("junk data.mdb", p, q, p);

	/* a data.mdb of zeros (what a crash between sizing the file and
	 * writing its meta pages would leave) */
	snprintf(p, sizeof(p), "%s/zerodir", tmp);
	mkdir(p, 0700);
	snprintf(q, sizeof(q), "%s/data.mdb", p);
	memset(junk, 0, sizeof(junk));
	write_file(q, junk, sizeof(junk));
	expect_refused("zero-filled data.mdb", p, q, p);

	/* a directory with other files and no data.mdb */
	snprintf(p, sizeof(p), "%s/otherdir", tmp);
	mkdir(p, 0700);
	snprintf(q, sizeof(q), "%s/notes.txt", p);
	write_file(q, "hello\n", 6);
	expect_refused("directory of other files", p, q, p);

	/* LMDB environments of another program */
	snprintf(p, sizeof(p), "%s/foreign", tmp);
	CHECK_INT(make_foreign_env(p, false), ==, 0);
	snprintf(q, sizeof(q), "%s/data.mdb", p);
	expect_refused("foreign LMDB environment", p, q, p);
	snprintf(p, sizeof(p), "%s/foreign_meta", tmp);
	CHECK_INT(make_foreign_env(p, true), ==, 0);
	snprintf(q, sizeof(q), "%s/data.mdb", p);
	expect_refused("foreign LMDB environment with a \"meta\" database", p, q, p);
	snprintf(q, sizeof(q), "%s/lock.mdb", p);
	unlink(q);		/* a data.mdb copied without its lock file: none may be left behind */
	snprintf(q, sizeof(q), "%s/data.mdb", p);
	expect_refused("foreign data.mdb without lock.mdb", p, q, p);

	/* a real database, truncated or with its meta pages garbled */
	snprintf(good, sizeof(good), "%s/good", tmp);
	CHECK_INT(make_done_db(good), ==, 0);
	snprintf(q, sizeof(q), "%s/data.mdb", good);
	snprintf(p, sizeof(p), "%s/truncated", tmp);
	mkdir(p, 0700);
	{
		char d[900];
		snprintf(d, sizeof(d), "%s/data.mdb", p);
		copy_file(q, d, 10);
		expect_refused("truncated data.mdb", p, d, p);
		snprintf(p, sizeof(p), "%s/garbled", tmp);
		mkdir(p, 0700);
		snprintf(d, sizeof(d), "%s/data.mdb", p);
		copy_file(q, d, (size_t)1 << 30);
		{
			int fd = open(d, O_WRONLY);
			fill_random(junk, sizeof(junk));
			if (fd >= 0) {
				CHECK_INT(pwrite(fd, junk, 8192, 0), ==, 8192);	/* both meta pages */
				close(fd);
			}
		}
		expect_refused("data.mdb with garbled meta pages", p, d, p);
	}

	/* read-only open of a missing path creates nothing */
	snprintf(p, sizeof(p), "%s/missing", tmp);
	og_err_clear(&err);
	CHECK_INT(try_open(p, true, &err), ==, -OG_ENOENT);
	CHECK(access(p, F_OK) < 0);

	/* the done thread: resume, unknown checkpoints, writes to unknown checkpoints */
	{
		struct og_store_lmdb_opts o = { 0 };
		struct og_store_lmdb *s = NULL;
		struct og_run *run = NULL;
		struct og_run_opts ro = { 0 };
		cJSON *before = db_snapshot(good), *after, *ck = NULL, *rec, *val;
		uint64_t latest = 0;

		o.path = good;
		CHECK_INT(og_store_lmdb_open(&o, &s, &err), ==, 0);
		CHECK_INT(og_store_lmdb_latest_id(s, "done", &latest, &err), ==, 0);
		CHECK_INT(og_store_lmdb_ops.get(s, "done", 0, &ck, &err), ==, 0);
		CHECK_STR(sfield(ck, "status"), "done");
		ro.thread_id = "done";
		ro.store = &og_store_lmdb_ops;
		ro.store_self = s;
		run = og_run_new(G, &x_ops, NULL, &ro, &err);
		CHECK(run != NULL);
		CHECK_INT(og_run_load(run, ck, latest + 1, &err), ==, 0);
		og_err_clear(&err);
		CHECK_INT(og_run_resume(run, NULL, "crash-test", &err), ==, -OG_ESTATE);
		CHECK_CONTAINS(err.msg, "nothing to continue");
		val = cJSON_Parse("{\"value\": 1}");
		og_err_clear(&err);
		CHECK_INT(og_run_resume(run, val, "crash-test", &err), ==, -OG_ESTATE);
		CHECK_CONTAINS(err.msg, "not waiting");
		cJSON_Delete(val);
		CHECK_INT(og_run_status(run), ==, OG_RUN_DONE);
		og_err_clear(&err);
		CHECK_INT(og_run_invoke(run, &err), ==, 0);	/* a done run does nothing */
		og_run_free(run);
		cJSON_Delete(ck);
		ck = NULL;
		og_err_clear(&err);
		CHECK_INT(og_store_lmdb_ops.get(s, "done", 999, &ck, &err), ==, -OG_ENOENT);
		CHECK_CONTAINS(err.msg, "no checkpoint 999");
		CHECK(ck == NULL);
		og_err_clear(&err);
		CHECK_INT(og_store_lmdb_ops.get(s, "nobody", 0, &ck, &err), ==, -OG_ENOENT);
		rec = cJSON_Parse("{\"task\": \"t\", \"node\": \"w1\", \"writes\": {}}");
		og_err_clear(&err);
		CHECK_INT(og_store_lmdb_ops.put_writes(s, "done", 999, rec, &err), ==, -OG_ENOENT);
		CHECK_CONTAINS(err.msg, "999");
		cJSON_Delete(rec);
		og_store_lmdb_close(s);
		after = db_snapshot(good);
		CHECK(json_eq(before, after));
		cJSON_Delete(before);
		cJSON_Delete(after);
	}
}

/* The same through the opsgraph binary: exit status, message, nothing changed. */
static void bad_input_cli(const char *tmp)
{
	char graph[800], out[800], junkf[800], junkd[800], jd[900], foreign[800], fd[900], db[800];
	unsigned char junk[8192];
	bool killed;
	int st;
	char *o;

	snprintf(graph, sizeof(graph), "%s/crashcli.lua", tmp);
	snprintf(out, sizeof(out), "%s/o/cli-out", tmp);
	write_file(graph, CLI_GRAPH, sizeof(CLI_GRAPH) - 1);

	/* a regular file, a junk data.mdb, a foreign environment at --db */
	snprintf(junkf, sizeof(junkf), "%s/cli-junkfile", tmp);
	fill_random(junk, sizeof(junk));
	write_file(junkf, junk, 5000);
	snprintf(junkd, sizeof(junkd), "%s/cli-junkdir", tmp);
	mkdir(junkd, 0700);
	snprintf(jd, sizeof(jd), "%s/data.mdb", junkd);
	write_file(jd, junk, sizeof(junk));
	snprintf(foreign, sizeof(foreign), "%s/cli-foreign", tmp);
	make_foreign_env(foreign, false);
	snprintf(fd, sizeof(fd), "%s/data.mdb", foreign);
	{
		const char *dbs[] = { junkf, junkd, foreign };
		const char *files[] = { junkf, jd, fd };
		int i, k;
		for (i = 0; i < 3; i++) {
			const char *cmds[][8] = {
				{ "run", graph, "--db", dbs[i], NULL },
				{ "resume", "t1", "--db", dbs[i], NULL },
				{ "threads", "--db", dbs[i], NULL },
				{ "state", "t1", "--db", dbs[i], NULL },
				{ "fork", "t1", "--checkpoint", "1", "--update", "{}", "--db", dbs[i] },
			};
			for (k = 0; k < 5; k++) {
				struct fsig before = file_sig(files[i]);
				char lb[2048], la[2048];
				const char *args[10];
				int a;
				for (a = 0; a < 8 && cmds[k][a]; a++)
					args[a] = cmds[k][a];
				args[a] = NULL;
				dir_list(i ? dbs[i] : tmp, lb, sizeof(lb));
				st = spawn(args, out, -1, &killed);
				o = slurp(out);
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 2 || !strstr(o, "not an opsgraph database"))
					fprintf(stderr, "opsgraph %s --db %s: status %d: %s\n", cmds[k][0], dbs[i], st, o);
				CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
				CHECK_CONTAINS(o, "not an opsgraph database");
				CHECK(sig_eq(before, file_sig(files[i])));
				dir_list(i ? dbs[i] : tmp, la, sizeof(la));
				CHECK_STR(la, lb);
				free(o);
			}
		}
	}

	/* a done thread */
	snprintf(db, sizeof(db), "%s/cli-db", tmp);
	{
		const char *args[] = { "run", graph, "--thread", "t1", "--db", db, NULL };
		st = spawn(args, out, -1, &killed);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	{
		struct {
			const char *args[10];
			int status;
			const char *msg;
		} cases[] = {
			{ { "resume", "t1", "--db", db, NULL }, 1, "nothing to continue" },
			{ { "resume", "t1", "--value", "1", "--db", db, NULL }, 1, "not waiting" },
			{ { "resume", "t1", "--command", "{\"resume\": 1}", "--db", db, NULL }, 1, "not waiting" },
			{ { "resume", "nobody", "--db", db, NULL }, 2, "no thread nobody" },
			{ { "state", "t1", "--checkpoint", "999", "--db", db, NULL }, 2, "no checkpoint 999" },
			{ { "state", "nobody", "--db", db, NULL }, 2, "nobody" },
			{ { "fork", "t1", "--checkpoint", "999", "--update", "{}", "--db", db, NULL }, 2,
			  "no checkpoint 999" },
			{ { "replay", "t1", "--checkpoint", "999", "--db", db, NULL }, 2, "no checkpoint 999" },
			{ { "history", "nobody", "--db", db, NULL }, -1, NULL },
		};
		size_t i;
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			cJSON *before = db_snapshot(db), *after;
			st = spawn(cases[i].args, out, -1, &killed);
			o = slurp(out);
			after = db_snapshot(db);
			if (cases[i].status >= 0) {
				if (!WIFEXITED(st) || WEXITSTATUS(st) != cases[i].status || !strstr(o, cases[i].msg))
					fprintf(stderr, "opsgraph %s %s %s: status %d, want exit %d and '%s': %s\n",
						cases[i].args[0], cases[i].args[1], cases[i].args[2], st, cases[i].status,
						cases[i].msg, o);
				CHECK(WIFEXITED(st) && WEXITSTATUS(st) == cases[i].status);
				CHECK_CONTAINS(o, cases[i].msg);
			} else {
				CHECK(WIFEXITED(st) && WEXITSTATUS(st) <= 2);
			}
			if (!json_eq(before, after)) {
				char *a = json_text(before), *b = json_text(after);
				fprintf(stderr, "opsgraph %s %s changed the database:\n  before %s\n  after  %s\n",
					cases[i].args[0], cases[i].args[1], a, b);
				free(a);
				free(b);
			}
			CHECK(json_eq(before, after));
			free(o);
			cJSON_Delete(before);
			cJSON_Delete(after);
		}
	}
}

/* ---- processes killed inside a read transaction ----------------------------------- */

/* While one process keeps the environment open (a server, a long resume),
 * processes killed inside a read transaction leave their LMDB reader slots
 * behind. Once maxreaders (126) of them are stale, a later process must
 * still open the store and read: opening has to clear dead readers
 * (mdb_reader_check). The dying readers use LMDB directly, as the store's
 * own reads do (MDB_NOTLS read-only transactions), so the kill lands inside
 * the transaction every time. */
static void stale_readers(const char *tmp)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *keep = NULL;
	struct og_err err = { 0 };
	char db[800];
	int i, st = 0, killed = 0;
	pid_t pid;

	snprintf(db, sizeof(db), "%s/readers", tmp);
	o.path = db;
	CHECK_INT(og_store_lmdb_open(&o, &keep, &err), ==, 0);
	fflush(NULL);
	for (i = 0; i < 200; i++) {	/* until the reader table is full */
		if ((pid = fork()) == 0) {
			MDB_env *env;
			MDB_txn *txn;
			if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
			    mdb_env_open(env, db, MDB_NOTLS | MDB_RDONLY, 0600) ||
			    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
				_exit(2);
			kill(getpid(), SIGKILL);
			_exit(3);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			break;
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			break;
		killed++;
	}
	CHECK_INT(killed, >=, 100);
	if ((pid = fork()) == 0) {
		struct og_store_lmdb *s = NULL;
		cJSON *rows = NULL;
		int rc = og_store_lmdb_open(&o, &s, &err);
		if (rc == 0)
			rc = og_store_lmdb_threads(s, NULL, &rows, &err);
		if (rc < 0)
			fprintf(stderr, "after %d readers were killed inside a read transaction, a new process "
				"cannot use the store: %s\n", killed, err.msg);
		_exit(rc < 0);
	}
	waitpid(pid, &st, 0);
	printf("crash: %d processes killed inside a read transaction while another kept the environment open; "
	       "a new process %s\n", killed, WIFEXITED(st) && !WEXITSTATUS(st) ? "opens and reads" :
	       "CANNOT open the store");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	og_store_lmdb_close(keep);
}

/* ---- main ------------------------------------------------------------------------- */

static void report(void)
{
	int k, p;

	printf("crash: %ld kills:", N.kills);
	for (k = 1; k < K_COUNT; k++)
		if (N.by_kind[k])
			printf(" %s %ld,", kind_name[k], N.by_kind[k]);
	printf("\n");
	for (k = 1; k < K_COUNT; k++) {
		if (!N.by_kind[k] || k == K_CLI_TIMER)
			continue;
		printf("crash:   %-18s landed in:", kind_name[k]);
		for (p = 0; p < PH_COUNT; p++)
			if (N.landed[k][p])
				printf(" %s %ld", phase_name[p], N.landed[k][p]);
		printf("\n");
	}
	printf("crash: %ld episodes, %ld children (%ld with two processes on one environment), %ld completed "
	       "without a kill, %ld thread resumes, %ld threads completed\n",
	       N.episodes, N.rounds, N.two_proc_rounds, N.completed_children, N.resumes, N.threads_done);
	printf("crash: %ld node calls, %ld re-executions of tasks whose writes were not yet committed; "
	       "%ld checkpoint commits (avg %.0f us), %ld pending-write commits (avg %.0f us)\n",
	       N.ledger_starts, N.reexecuted, N.puts, N.puts ? (double)N.put_us / (double)N.puts : 0.0, N.pws,
	       N.pws ? (double)N.pw_us / (double)N.pws : 0.0);
	printf("crash: CLI: %ld episodes, %ld opsgraph run/resume processes (an uninterrupted run takes %.1f ms); "
	       "environment opens take %.0f us on average\n", N.cli_episodes, N.cli_runs, (double)N.cli_run_us / 1e3,
	       N.open_n ? (double)N.open_us / (double)N.open_n : 0.0);
	printf("crash: violations: %d\n", violations);
	for (k = 0; k < 64 && vkinds[k].fmt; k++)
		printf("crash:   %4d x \"%s\"\n", vkinds[k].n, vkinds[k].fmt);
}

int main(void)
{
	const char *ks = getenv("OG_CRASH_KILLS"), *ss = getenv("OG_CRASH_SEED");
	long kills = ks && atol(ks) > 0 ? atol(ks) : 50, cli_kills, c_kills;
	uint64_t seed = ss ? strtoull(ss, NULL, 0) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	char tmp[512];
	int ep = 0;
	int64_t t0 = now_us();
	bool have_cli;

	prng = seed;
	YES = cJSON_Parse("{\"value\": \"yes\"}");
	printf("crash: seed %llu (OG_CRASH_SEED), %ld kills (OG_CRASH_KILLS)\n", (unsigned long long)seed, kills);
	signal(SIGPIPE, SIG_IGN);
	if (!(G = build_graph())) {
		CHECK(G != NULL);
		TEST_END();
	}
	SHM = mmap(NULL, sizeof(struct shm) * MAXPROC, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (SHM == MAP_FAILED) {
		CHECK(SHM != MAP_FAILED);
		TEST_END();
	}
	snprintf(tmp, sizeof(tmp), "%s/og-crash-misc.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		CHECK(0);
		TEST_END();
	}
	have_cli = find_opsgraph();
	{
		char o[600];
		snprintf(o, sizeof(o), "%s/o", tmp);
		mkdir(o, 0700);
	}

	bad_input_store(tmp);
	stale_readers(tmp);
	if (have_cli)
		bad_input_cli(tmp);
	else
		SKIP("no opsgraph binary (set OPSGRAPH or build bin/opsgraph): CLI bad-input cases and CLI kills");

	cli_kills = have_cli ? (kills + 9) / 10 : 0;
	c_kills = kills - cli_kills;
	/* the checks must catch a resume that runs committed tasks again or
	 * loses a committed write */
	{
		static const enum mutation ms[] = { M_DROP_PENDING, M_DROP_VALUE };
		size_t m;
		for (m = 0; m < sizeof(ms) / sizeof(ms[0]); m++) {
			__typeof__(N) saved = N;
			mutating = true;
			mut_violations = 0;
			episode(1000 + (int)m, 1000000, ms[m] == M_DROP_PENDING ? K_PW_AFTER : K_PUT_AFTER,
				ms[m] == M_DROP_PENDING ? 2 : 6, ms[m]);
			mutating = false;
			N = saved;
			if (!mut_violations)
				fprintf(stderr, "self-test: mutation %d went unnoticed\n", (int)ms[m]);
			CHECK_INT(mut_violations, >, 0);
		}
	}
	/* targeted: killed right after the pending write of a task that was
	 * answered after an interrupt; the resume must not run it again */
	episode(ep++, c_kills, K_PW_AFTER_RESUMED, 1, M_NONE);
	while (N.kills < c_kills)
		episode(ep++, c_kills, K_NONE, 0, M_NONE);
	if (have_cli)
		cli_crashes(tmp, cli_kills);

	report();
	printf("crash: %.1f s\n", (double)(now_us() - t0) / 1e6);
	CHECK_INT(N.kills, >=, kills);
	if (!violations)
		t_pass++;	/* each violation counted as a failure already */
	if (!getenv("OG_CRASH_KEEP"))
		rm_rf(tmp);
	og_graph_free(G);
	cJSON_Delete(YES);
	munmap(SHM, sizeof(struct shm) * MAXPROC);
	TEST_END();
}
