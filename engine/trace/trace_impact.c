/*
 * trace_impact.c: see trace_impact.h. A tracepoint this kernel lacks (a
 * syscall compiled out, fchmodat2 before 6.6) is skipped before load and
 * named by og_impact_missing, so one absent hook does not cost the trace.
 */
#include "trace_impact.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/clock.h"

#define IMPACT_DENIED_NAME(n) #n,
static const char *const denied_names[] = { IMPACT_DENIED_LIST(IMPACT_DENIED_NAME) };
#undef IMPACT_DENIED_NAME

const char *og_impact_denied_name(int which)
{
	if (which < 0 || which >= IMPACT_DENIED_COUNT)
		return NULL;
	return denied_names[which];
}

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

#else

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <bpf/libbpf.h>

#include "impact.skel.h"
#include "tracefs.h"

#define READER_POLL_MS 50
/* events kept per dry-run (about 13 MB); a tool that writes thousands of
 * files has its overlay diff for those, the rest are counted as lost */
#define MAX_EVENTS 20000
/* how long a detached holder keeps the tracepoints registered after a dry-run */
#define LINGER_S 3
#define LINGER_MAX_FDS 128

struct og_impact_trace {
	struct impact_bpf *skel;
	struct bpf_link **links;
	size_t n_links;
	struct ring_buffer *rb;
	pthread_t reader;
	bool reader_on;
	atomic_int stop;
	int wake_fd;		/* in the ring buffer's epoll set: ends the reader's wait at once */
	struct impact_event *ev;	/* written by the reader thread only, until it is joined */
	size_t n, cap;
	uint64_t over;		/* events past MAX_EVENTS */
	bool oom;
	char missing[2048];
	int64_t setup_ms;
};

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

static void skip_missing(struct og_impact_trace *t)
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

static int attach_all(struct og_impact_trace *t, struct og_err *err)
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

static int on_event(void *ctx, void *data, size_t size)
{
	struct og_impact_trace *t = ctx;

	if (size < sizeof(struct impact_event) || t->oom)
		return 0;
	if (t->n >= MAX_EVENTS) {
		t->over++;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct impact_event *v = realloc(t->ev, cap * sizeof(*v));
		if (!v) {
			t->oom = true;
			return 0;
		}
		t->ev = v;
		t->cap = cap;
	}
	memcpy(&t->ev[t->n++], data, sizeof(struct impact_event));
	return 0;
}

static void *reader_main(void *arg)
{
	struct og_impact_trace *t = arg;

	while (!atomic_load(&t->stop))
		if (ring_buffer__poll(t->rb, READER_POLL_MS) < 0 && errno != EINTR)
			break;
	return NULL;
}

int og_impact_open(struct og_impact_trace **out, struct og_err *err)
{
	struct og_impact_trace *t;
	libbpf_print_fn_t old;
	int64_t t0 = og_clock_mono_us();
	int rc;

	*out = NULL;
	if ((rc = host_check(err)) < 0)
		return rc;
	if (!(t = calloc(1, sizeof(*t))))
		return og_err_set(err, -OG_ENOMEM, "impact trace: out of memory");
	t->wake_fd = -1;
	old = libbpf_set_print(libbpf_keep_last);
	libbpf_last[0] = '\0';
	if (!(t->skel = impact_bpf__open())) {
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
	libbpf_set_print(old);
	t->setup_ms = (og_clock_mono_us() - t0) / 1000;
	*out = t;
	return 0;
fail:
	libbpf_set_print(old);
	og_impact_close(t);
	return rc;
}

const char *og_impact_missing(const struct og_impact_trace *t)
{
	return t ? t->missing : "";
}

int64_t og_impact_setup_ms(const struct og_impact_trace *t)
{
	return t ? t->setup_ms : 0;
}

int og_impact_arm(struct og_impact_trace *t, uint64_t cgroup_id, struct og_err *err)
{
	int rc;

	if (!t || t->reader_on)
		return og_err_set(err, -OG_ESTATE, "impact trace: not open, or armed twice");
	t->skel->bss->target_cgid = cgroup_id;
	atomic_store(&t->stop, 0);
	if ((rc = pthread_create(&t->reader, NULL, reader_main, t)) != 0) {
		t->skel->bss->target_cgid = 0;
		return og_err_set(err, -OG_ESTATE, "impact trace: reader thread: %s", strerror(rc));
	}
	t->reader_on = true;
	return 0;
}

static void reader_stop(struct og_impact_trace *t)
{
	if (!t->reader_on)
		return;
	atomic_store(&t->stop, 1);
	/* should the write fail, the reader still ends within READER_POLL_MS */
	(void)eventfd_write(t->wake_fd, 1);
	pthread_join(t->reader, NULL);
	t->reader_on = false;
}

int og_impact_finish(struct og_impact_trace *t, const struct impact_event **ev, size_t *n, uint64_t *lost,
		     struct og_err *err)
{
	*ev = NULL;
	*n = 0;
	*lost = 0;
	if (!t)
		return og_err_set(err, -OG_ESTATE, "impact trace: not open");
	t->skel->bss->target_cgid = 0;
	reader_stop(t);
	ring_buffer__consume(t->rb);
	*ev = t->ev;
	*n = t->n;
	*lost = t->skel->bss->lost + t->over;
	if (t->oom)
		return og_err_set(err, -OG_ENOMEM, "impact trace: out of memory after %zu events", t->n);
	return 0;
}

/*
 * Detaching a syscall tracepoint's last perf event waits for RCU grace
 * periods under the kernel's event_mutex: about 80 ms each here, 2-3 s for
 * the whole set, in whatever process closes it last. A detached holder
 * process keeps copies of the link fds for LINGER_S seconds: our own detach
 * is then instant (the event stays registered), so is the next dry-run's
 * attach and detach, and only the last holder pays, in the background.
 * While a holder lives, the syscall tracepoints stay registered (the
 * host's syscalls take the tracing slow path for those seconds: bench/
 * dryrun.sh measures it) and the old programs stay in the tracepoints'
 * program arrays, disarmed (target_cgid 0: they return after one compare).
 * That is also why a loaded object is never reused for the next dry-run:
 * attaching a program that a holder still has attached fails with EEXIST.
 */
static void holder_main(int *keep, size_t n)
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
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	/* closed here rather than by _exit, so that the detach happens while
	 * the holder still has its memory (its environment shows in /proc,
	 * which tests/cli/dryrun_impact.sh uses to wait for its own holders) */
	close_range(0, ~0U, 0);
	_exit(0);
}

static void links_linger(struct og_impact_trace *t)
{
	int keep[LINGER_MAX_FDS];
	size_t i, n = 0;
	pid_t pid;

	for (i = 0; i < t->n_links && n < LINGER_MAX_FDS; i++)
		if (bpf_link__fd(t->links[i]) >= 0)
			keep[n++] = bpf_link__fd(t->links[i]);
	if (!n || (pid = fork()) < 0)
		return;	/* then the detach below pays the grace periods */
	if (pid == 0) {
		if (fork() == 0)
			holder_main(keep, n);
		_exit(0);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void og_impact_close(struct og_impact_trace *t)
{
	size_t i;

	if (!t)
		return;
	if (t->skel)
		t->skel->bss->target_cgid = 0;
	reader_stop(t);
	links_linger(t);
	ring_buffer__free(t->rb);
	if (t->wake_fd >= 0)
		close(t->wake_fd);
	for (i = 0; i < t->n_links; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	impact_bpf__destroy(t->skel);
	free(t->ev);
	free(t);
}

#endif
