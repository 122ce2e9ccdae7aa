/*
 * trace_impact.c: see trace_impact.h. A tracepoint this kernel lacks
 * (fchmodat2 before 6.6) is skipped before load and named by
 * og_impact_missing, so one absent hook does not cost the trace.
 */
#include "trace_impact.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/clock.h"

#ifdef OG_NO_BPF

struct og_impact_trace {
	int unused;
};

int og_impact_open(struct og_impact_trace **out, struct og_err *err)
{
	*out = NULL;
	return og_err_set(err, -OG_ESTATE, "built without eBPF (make BPF=0, or the build host had no kernel BTF)");
}

const char *og_impact_missing(const struct og_impact_trace *t)
{
	(void)t;
	return "";
}

int64_t og_impact_setup_ms(const struct og_impact_trace *t)
{
	(void)t;
	return 0;
}

bool og_impact_cold(const struct og_impact_trace *t)
{
	(void)t;
	return false;
}

const char *og_impact_btf(const struct og_impact_trace *t)
{
	(void)t;
	return "";
}

void og_impact_counts(const struct og_impact_trace *t, struct impact_counts *c)
{
	(void)t;
	memset(c, 0, sizeof(*c));
}

int og_impact_arm(struct og_impact_trace *t, uint64_t cgroup_id, struct og_err *err)
{
	(void)t;
	(void)cgroup_id;
	return og_err_set(err, -OG_ESTATE, "built without eBPF");
}

int og_impact_finish(struct og_impact_trace *t, const struct impact_event **ev, size_t *n, uint64_t *lost,
		     struct og_err *err)
{
	(void)t;
	*ev = NULL;
	*n = 0;
	*lost = 0;
	return og_err_set(err, -OG_ESTATE, "built without eBPF");
}

void og_impact_close(struct og_impact_trace *t)
{
	(void)t;
}

bool og_impact_loaded(void)
{
	return false;
}

void og_impact_set_idle_unload_ms(int64_t ms)
{
	(void)ms;
}

#else

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "impact.skel.h"
#include "impact_btf.h"
#include "tracefs.h"

/* the reader's wait while a dry-run is armed (the programs wake it only
 * when a quarter of the ring is pending), and while none is */
#define READER_POLL_MS 50
#define READER_IDLE_MS 1000
/* Attached tracepoints cost every syscall on the host the tracing slow path
 * (bench/dryrun.sh: ~30 ns, +21 % on getppid), armed or not. A process that
 * has had no dry-run open for this long (opsgraph serve between incidents,
 * or waiting for its approver) hands its links to a holder and unloads; the
 * next dry-run loads again (cold: 5-8 ms with the minimal BTF). The
 * dry-runs of one plan follow each other well within it. */
#define IDLE_UNLOAD_MS_DEFAULT 2000
/* events kept per dry-run (about 13 MB); a tool that writes thousands of
 * files has its overlay diff for those, the rest are counted as lost */
#define MAX_EVENTS 20000
/* how long a detached holder keeps the tracepoints registered after exit */
#define LINGER_S 3
#define LINGER_MAX_FDS 128

/* The process's one loaded tracer: loaded and attached by the first traced
 * dry-run, attached while the process lives (its links go to a holder at
 * exit), shared by every dry-run, concurrent ones too. */
struct impact_tracer {
	struct impact_bpf *skel;
	struct bpf_link **links;
	size_t n_links;
	struct ring_buffer *rb;
	pthread_t reader;
	int wake_fd;		/* in the ring buffer's epoll set: ends the reader's wait at once */
	pthread_mutex_t mu;	/* guards sessions, n_armed, flush_done */
	pthread_cond_t flushed;
	struct og_impact_trace *sessions;	/* armed dry-runs */
	int n_armed;
	atomic_ullong flush_req;	/* asked by a finishing dry-run */
	unsigned long long flush_done;	/* the last request a full drain followed */
	char missing[2048];
	char btf[160];		/* which BTF relocated the programs */
	int64_t setup_ms;
	int refs;		/* open handles; under tracer_mu */
	int64_t idle_since_ms;	/* when refs last fell to 0; under tracer_mu */
};

/* one dry-run's view of the tracer */
struct og_impact_trace {
	struct impact_tracer *tr;
	struct og_impact_trace *next;	/* in tr->sessions while armed */
	uint64_t cgid;
	bool armed;
	struct impact_event *ev;	/* appended by the reader under tr->mu while armed */
	size_t n, cap;
	uint64_t over;		/* events past MAX_EVENTS */
	bool oom;
	uint64_t lost0;		/* the programs' lost counter at arm */
	struct impact_counts counts;	/* the cgroup's counters, read at disarm */
	bool cold;		/* this dry-run loaded the tracer */
};

static pthread_mutex_t tracer_mu = PTHREAD_MUTEX_INITIALIZER;
static struct impact_tracer *tracer;	/* the loaded one, or NULL (never loaded, or unloaded when idle) */
static atomic_llong idle_unload_ms = IDLE_UNLOAD_MS_DEFAULT;

/* the last warning libbpf printed on this thread, for the error message */
static _Thread_local char libbpf_last[512];

static int libbpf_keep_last(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, ap);
	n = strlen(libbpf_last);
	while (n && libbpf_last[n - 1] == '\n')
		libbpf_last[--n] = '\0';
	return 0;
}

/* CapEff has CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON */
static bool may_load_bpf(unsigned long long *capeff)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	bool found = false;

	*capeff = 0;
	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", capeff) == 1) {
			found = true;
			break;
		}
	fclose(f);
	if (!found)
		return geteuid() == 0;
	return (*capeff >> 21 & 1) || ((*capeff >> 39 & 1) && (*capeff >> 38 & 1));
}

static int host_check(struct og_err *err)
{
	unsigned long long capeff;

	if (!may_load_bpf(&capeff))
		return og_err_set(err, -OG_ESTATE, "this process lacks CAP_BPF and CAP_PERFMON (CapEff=%llx); "
				  "run as root or grant them", capeff);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return og_err_set(err, -OG_ESTATE, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s; "
				  "needs CONFIG_DEBUG_INFO_BTF)", strerror(errno));
	return og_tracefs_ensure(NULL, err);
}

/* "tracepoint/CAT/NAME" -> does tracefs have CAT/NAME? Other sections attach by name. */
static bool hook_exists(const char *sec, const char **name)
{
	char path[512];

	*name = sec;
	if (strncmp(sec, "tracepoint/", 11))
		return true;
	*name = strrchr(sec, '/') + 1;
	snprintf(path, sizeof(path), "%s/events/%s", OG_TRACEFS_PATH, sec + 11);
	return access(path, F_OK) == 0;
}

static void skip_missing(struct impact_tracer *t)
{
	struct bpf_program *p;
	const char *name;
	size_t len = 0;

	bpf_object__for_each_program(p, t->skel->obj) {
		if (hook_exists(bpf_program__section_name(p), &name))
			continue;
		bpf_program__set_autoload(p, false);
		if (len < sizeof(t->missing))
			len += (size_t)snprintf(t->missing + len, sizeof(t->missing) - len, "%s%s", len ? " " : "",
						name);
	}
}

static int attach_all(struct impact_tracer *t, struct og_err *err)
{
	struct bpf_program *p;
	size_t n = 0;

	bpf_object__for_each_program(p, t->skel->obj)
		n++;
	if (!(t->links = calloc(n ? n : 1, sizeof(*t->links))))
		return og_err_set(err, -OG_ENOMEM, "impact trace: out of memory");
	bpf_object__for_each_program(p, t->skel->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		libbpf_last[0] = '\0';
		if (!(l = bpf_program__attach(p))) {
			int e = errno;
			return og_err_set(err, -OG_ESTATE, "attaching %s failed: %s%s%s%s", bpf_program__section_name(p),
					  strerror(e), libbpf_last[0] ? " (libbpf: " : "", libbpf_last,
					  libbpf_last[0] ? ")" : "");
		}
		t->links[t->n_links++] = l;
	}
	return 0;
}

/* in the reader thread: the event goes to the dry-run of its cgroup; one
 * whose dry-run has finished (a straggler) is dropped */
static int on_event(void *ctx, void *data, size_t size)
{
	struct impact_tracer *tr = ctx;
	const struct impact_event *e = data;
	struct og_impact_trace *t;

	if (size < sizeof(struct impact_event))
		return 0;
	pthread_mutex_lock(&tr->mu);
	for (t = tr->sessions; t && t->cgid != e->cgid; t = t->next)
		;
	if (!t || t->oom) {
	} else if (t->n >= MAX_EVENTS) {
		t->over++;
	} else if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct impact_event *v = realloc(t->ev, cap * sizeof(*v));
		if (!v) {
			t->oom = true;
		} else {
			t->ev = v;
			t->cap = cap;
			memcpy(&t->ev[t->n++], e, sizeof(*e));
		}
	} else {
		memcpy(&t->ev[t->n++], e, sizeof(*e));
	}
	pthread_mutex_unlock(&tr->mu);
	return 0;
}

/* Drains the ring for the process's whole life. A finishing dry-run asks
 * for a flush (flush_req) and waits until a drain that began after its ask
 * is over: every event its sandbox submitted is then in its list. */
static void tracer_unload(struct impact_tracer *t);

/* True when t has had no open handle for idle_unload_ms: it is then no
 * longer the process's tracer, and the caller (its reader) unloads it. */
static bool tracer_take_if_idle(struct impact_tracer *t)
{
	bool take;

	pthread_mutex_lock(&tracer_mu);
	take = tracer == t && t->refs == 0 &&
	       og_clock_mono_us() / 1000 - t->idle_since_ms >= atomic_load(&idle_unload_ms);
	if (take)
		tracer = NULL;
	pthread_mutex_unlock(&tracer_mu);
	return take;
}

static void *reader_main(void *arg)
{
	struct impact_tracer *tr = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		if (tracer_take_if_idle(tr)) {
			pthread_detach(pthread_self());
			tracer_unload(tr);
			return NULL;
		}
		unsigned long long req = atomic_load(&tr->flush_req);
		eventfd_t v;
		int wait_ms;

		/* a request whose wake this loop drained already is served at once */
		pthread_mutex_lock(&tr->mu);
		wait_ms = req > tr->flush_done ? 0 : tr->n_armed ? READER_POLL_MS : READER_IDLE_MS;
		pthread_mutex_unlock(&tr->mu);
		if (ring_buffer__poll(tr->rb, wait_ms) < 0 && errno != EINTR)
			usleep(READER_POLL_MS * 1000);	/* never spins; a finish still gets its drain */
		(void)eventfd_read(tr->wake_fd, &v);
		ring_buffer__consume(tr->rb);
		pthread_mutex_lock(&tr->mu);
		if (req > tr->flush_done)
			tr->flush_done = req;
		pthread_cond_broadcast(&tr->flushed);
		pthread_mutex_unlock(&tr->mu);
	}
	return NULL;
}

static void tracer_linger_at_exit(void);
static void links_to_holder(struct impact_tracer *t);

/* Frees t and whatever of it was made (a half-built one from tracer_load's
 * failure too); its links detach here unless a holder took copies. */
static void tracer_free(struct impact_tracer *t)
{
	ring_buffer__free(t->rb);
	if (t->wake_fd >= 0)
		close(t->wake_fd);
	for (size_t i = 0; i < t->n_links; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	impact_bpf__destroy(t->skel);
	pthread_cond_destroy(&t->flushed);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* under tracer_mu */
static int tracer_load(struct og_err *err)
{
	struct impact_tracer *t;
	libbpf_print_fn_t old;
	int64_t t0 = og_clock_mono_us();
	char btf_path[64], why[128];
	int btf_fd = -1;
	int rc;

	if ((rc = host_check(err)) < 0)
		return rc;
	if (!(t = calloc(1, sizeof(*t))))
		return og_err_set(err, -OG_ENOMEM, "impact trace: out of memory");
	t->wake_fd = -1;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->flushed, NULL);
	old = libbpf_set_print(libbpf_keep_last);
	libbpf_last[0] = '\0';
	if ((btf_fd = og_impact_btf_open(btf_path, sizeof(btf_path), why, sizeof(why))) >= 0)
		snprintf(t->btf, sizeof(t->btf), "minimal (built on this kernel)");
	else
		snprintf(t->btf, sizeof(t->btf), "the kernel's: %s", why);
	{
		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_fd >= 0 ? btf_path : NULL);

		t->skel = impact_bpf__open_opts(&oo);
	}
	if (!t->skel) {
		rc = og_err_set(err, -OG_ESTATE, "opening the impact programs failed: %s", strerror(errno));
		goto fail;
	}
	skip_missing(t);
	libbpf_last[0] = '\0';
	if (impact_bpf__load(t->skel) != 0) {
		int e = errno;
		rc = og_err_set(err, -OG_ESTATE, "the kernel refused the impact programs: %s%s%s%s", strerror(e),
				libbpf_last[0] ? " (libbpf: " : "", libbpf_last, libbpf_last[0] ? ")" : "");
		goto fail;
	}
	if (btf_fd >= 0)
		close(btf_fd);
	btf_fd = -1;
	if ((rc = attach_all(t, err)) < 0)
		goto fail;
	if (!(t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_event, t, NULL))) {
		rc = og_err_set(err, -OG_ESTATE, "impact trace: ring buffer: %s", strerror(errno));
		goto fail;
	}
	/* ring_buffer__poll reads an epoll event's data as a ring index: 0,
	 * our only ring, which it then merely drains once more */
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };

		if ((t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
		    epoll_ctl(ring_buffer__epoll_fd(t->rb), EPOLL_CTL_ADD, t->wake_fd, &ev) < 0) {
			rc = og_err_set(err, -OG_ESTATE, "impact trace: eventfd: %s", strerror(errno));
			goto fail;
		}
	}
	if ((rc = pthread_create(&t->reader, NULL, reader_main, t)) != 0) {
		rc = og_err_set(err, -OG_ESTATE, "impact trace: reader thread: %s", strerror(rc));
		goto fail;
	}
	libbpf_set_print(old);
	t->setup_ms = (og_clock_mono_us() - t0) / 1000;
	t->idle_since_ms = og_clock_mono_us() / 1000;
	tracer = t;
	{
		static bool at_exit_set;

		if (!at_exit_set)
			at_exit_set = atexit(tracer_linger_at_exit) == 0;
	}
	return 0;
fail:
	libbpf_set_print(old);
	if (btf_fd >= 0)
		close(btf_fd);
	/* nothing was armed: this detach is the only one, and pays its grace periods */
	tracer_free(t);
	return rc;
}

int og_impact_open(struct og_impact_trace **out, struct og_err *err)
{
	struct og_impact_trace *t;
	bool cold = false;
	int rc = 0;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return og_err_set(err, -OG_ENOMEM, "impact trace: out of memory");
	pthread_mutex_lock(&tracer_mu);
	if (!tracer) {
		rc = tracer_load(err);
		cold = rc == 0;
	}
	if (rc == 0) {
		/* counted under the lock: an idle reader cannot unload it now */
		t->tr = tracer;
		tracer->refs++;
	}
	pthread_mutex_unlock(&tracer_mu);
	if (rc < 0) {
		free(t);
		return rc;
	}
	t->cold = cold;
	*out = t;
	return 0;
}

const char *og_impact_missing(const struct og_impact_trace *t)
{
	return t ? t->tr->missing : "";
}

int64_t og_impact_setup_ms(const struct og_impact_trace *t)
{
	return t && t->cold ? t->tr->setup_ms : 0;
}

bool og_impact_cold(const struct og_impact_trace *t)
{
	return t && t->cold;
}

const char *og_impact_btf(const struct og_impact_trace *t)
{
	return t ? t->tr->btf : "";
}

void og_impact_counts(const struct og_impact_trace *t, struct impact_counts *c)
{
	*c = t->counts;
}

int og_impact_arm(struct og_impact_trace *t, uint64_t cgroup_id, struct og_err *err)
{
	struct impact_tracer *tr;
	struct og_impact_trace *o;
	struct impact_counts zero = { 0 };

	if (!t || t->armed || !cgroup_id)
		return og_err_set(err, -OG_ESTATE, "impact trace: not open, armed twice or no cgroup");
	tr = t->tr;
	pthread_mutex_lock(&tr->mu);
	for (o = tr->sessions; o && o->cgid != cgroup_id; o = o->next)
		;
	if (o) {
		pthread_mutex_unlock(&tr->mu);
		return og_err_set(err, -OG_ESTATE, "impact trace: cgroup %llu is traced already",
				  (unsigned long long)cgroup_id);
	}
	if (bpf_map_update_elem(bpf_map__fd(tr->skel->maps.cgids), &cgroup_id, &zero, BPF_NOEXIST) < 0) {
		int e = errno;
		pthread_mutex_unlock(&tr->mu);
		return og_err_set(err, -OG_ESTATE, "impact trace: adding cgroup %llu to the filter: %s%s",
				  (unsigned long long)cgroup_id, strerror(e),
				  e == E2BIG ? " (too many dry-runs traced at once)" : "");
	}
	t->cgid = cgroup_id;
	t->lost0 = tr->skel->bss->lost;
	t->next = tr->sessions;
	tr->sessions = t;
	t->armed = true;
	tr->skel->bss->n_armed = (unsigned int)++tr->n_armed;
	pthread_mutex_unlock(&tr->mu);
	/* out of its idle wait: polls at the armed pace from now */
	(void)eventfd_write(tr->wake_fd, 1);
	return 0;
}

/* Takes t out of the filter, waits for a drain of what its cgroup submitted
 * until then, and out of the routing. */
static void disarm(struct og_impact_trace *t)
{
	struct impact_tracer *tr = t->tr;
	struct og_impact_trace **pp;
	unsigned long long req;

	if (!t->armed)
		return;
	pthread_mutex_lock(&tr->mu);
	/* the last opens may still be counted between this read and the delete:
	 * the child has exited by now, only its stragglers remain */
	(void)bpf_map_lookup_elem(bpf_map__fd(tr->skel->maps.cgids), &t->cgid, &t->counts);
	bpf_map_delete_elem(bpf_map__fd(tr->skel->maps.cgids), &t->cgid);
	tr->skel->bss->n_armed = (unsigned int)--tr->n_armed;
	req = atomic_fetch_add(&tr->flush_req, 1) + 1;
	pthread_mutex_unlock(&tr->mu);
	(void)eventfd_write(tr->wake_fd, 1);
	pthread_mutex_lock(&tr->mu);
	while (tr->flush_done < req)
		pthread_cond_wait(&tr->flushed, &tr->mu);
	for (pp = &tr->sessions; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = t->next;
	t->armed = false;
	pthread_mutex_unlock(&tr->mu);
}

int og_impact_finish(struct og_impact_trace *t, const struct impact_event **ev, size_t *n, uint64_t *lost,
		     struct og_err *err)
{
	*ev = NULL;
	*n = 0;
	*lost = 0;
	if (!t || !t->armed)
		return og_err_set(err, -OG_ESTATE, "impact trace: not armed");
	disarm(t);
	*ev = t->ev;
	*n = t->n;
	/* the ring is shared: a concurrent dry-run's losses count here too */
	*lost = t->tr->skel->bss->lost - t->lost0 + t->over;
	if (t->oom)
		return og_err_set(err, -OG_ENOMEM, "impact trace: out of memory after %zu events", t->n);
	return 0;
}

/*
 * Detaching a syscall tracepoint's last perf event waits for RCU grace
 * periods under the kernel's event_mutex: about 80 ms each here, 2-3 s for
 * the whole set, in whatever process closes it last. At exit a detached
 * holder process keeps copies of the link fds for LINGER_S seconds: the
 * process's own exit is then instant (the event stays registered), so is
 * the next process's attach, and only the last holder pays, in the
 * background. While a holder lives, the syscall tracepoints stay
 * registered (the host's syscalls take the tracing slow path for those
 * seconds: bench/dryrun.sh measures it) and the programs stay in the
 * tracepoints' program arrays, disarmed (n_armed 0: they return after one
 * load).
 */
/* The holder is a fork: `ps` would show the parent's command line (an
 * `opsgraph serve` that looks started twice). Its own copy of the argument
 * area, between arg_start and arg_end of /proc/self/stat, gets its role. */
static void holder_retitle(pid_t parent)
{
	char buf[1024], *p;
	unsigned long start, end;
	int field;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		return;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* fields after the comm's closing parenthesis (the comm may hold spaces) */
	if (!p || !(p = strrchr(buf, ')')))
		return;
	for (field = 2; field < 48 && (p = strchr(p + 1, ' ')); field++)
		;
	if (!p || sscanf(p, " %lu %lu", &start, &end) != 2 || end <= start)
		return;
	memset((void *)start, 0, end - start);
	snprintf((char *)start, end - start, "og-impact-hold for %d", (int)parent);
}

static void holder_main(int *keep, size_t n, pid_t parent)
{
	struct timespec ts = { LINGER_S, 0 };
	unsigned int next = 0;
	size_t i, j;

	for (i = 1; i < n; i++)	/* insertion sort: close_range needs the gaps in order */
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int x = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = x;
		}
	setsid();
	for (i = 0; i < n; i++) {
		if ((unsigned int)keep[i] > next)
			close_range(next, (unsigned int)keep[i] - 1, 0);
		next = (unsigned int)keep[i] + 1;
	}
	close_range(next, ~0U, 0);
	prctl(PR_SET_NAME, "og-impact-hold");
	holder_retitle(parent);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	/* closed here rather than by _exit, so that the detach happens while
	 * the holder still has its memory (its environment shows in /proc,
	 * which tests/cli/dryrun_impact.sh uses to wait for its own holders) */
	close_range(0, ~0U, 0);
	_exit(0);
}

/* Copies of t's link fds go to a detached holder (see above), so that
 * closing ours detaches nothing in this process. */
static void links_to_holder(struct impact_tracer *t)
{
	int keep[LINGER_MAX_FDS];
	size_t i, n = 0;
	pid_t pid, parent;

	t->skel->bss->n_armed = 0;
	for (i = 0; i < t->n_links && n < LINGER_MAX_FDS; i++)
		if (bpf_link__fd(t->links[i]) >= 0)
			keep[n++] = bpf_link__fd(t->links[i]);
	parent = getpid();
	if (!n || (pid = fork()) < 0)
		return;	/* then the exit pays the grace periods */
	if (pid == 0) {
		if (fork() == 0)
			holder_main(keep, n, parent);
		_exit(0);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* atexit: the links go to a holder; the rest goes with the process */
static void tracer_linger_at_exit(void)
{
	struct impact_tracer *t;

	pthread_mutex_lock(&tracer_mu);
	t = tracer;
	pthread_mutex_unlock(&tracer_mu);
	if (t)
		links_to_holder(t);
}

/* By its reader, once tracer_take_if_idle took t out of reach: nobody else
 * holds it (no handle, no dry-run armed). */
static void tracer_unload(struct impact_tracer *t)
{
	links_to_holder(t);
	tracer_free(t);
}

bool og_impact_loaded(void)
{
	bool loaded;

	pthread_mutex_lock(&tracer_mu);
	loaded = tracer != NULL;
	pthread_mutex_unlock(&tracer_mu);
	return loaded;
}

void og_impact_set_idle_unload_ms(int64_t ms)
{
	atomic_store(&idle_unload_ms, ms < 0 ? 0 : ms);
}

void og_impact_close(struct og_impact_trace *t)
{
	if (!t)
		return;
	disarm(t);
	pthread_mutex_lock(&tracer_mu);
	if (--t->tr->refs == 0)
		t->tr->idle_since_ms = og_clock_mono_us() / 1000;
	pthread_mutex_unlock(&tracer_mu);
	free(t->ev);
	free(t);
}

#endif
