// SPDX-License-Identifier: GPL-2.0
/*
 * impact.bpf.c: the impact trace of a sandboxed dry-run (issue #6), loaded by
 * engine/trace/trace_impact.c once per process.
 *
 * Only tasks of the sandboxes' cgroups v2 (the cgids map, to which user space
 * adds a sandbox's id once its cgroup exists and from which it removes it
 * after the run) are recorded; each event carries its cgroup id, by which
 * the loader hands it to that dry-run. One loaded object serves every
 * dry-run of a process, concurrent ones too. The sandbox
 * puts its child there with CLONE_INTO_CGROUP, so nothing escapes the filter,
 * and the sandbox gives it no cgroupfs to leave through.
 *
 * Classic syscall tracepoints and raw_tp only (this kernel family has no
 * kprobes and refuses fentry/LSM; never raw_syscalls, whose cost falls on
 * every syscall of the host). raw_tp rather than tp_btf for the sched
 * hooks: attaching tp_btf makes libbpf parse the kernel's whole BTF (5 MB,
 * ~13 ms of a cold dry-run), while CO-RE reads can use the minimal BTF the
 * build extracts (trace/impact_btf.c). User strings are read at sys_exit,
 * when the kernel has faulted them in (at sys_enter they may not be resident
 * yet), with the arguments taken from the registers saved at entry.
 * Denied syscalls are not traced: the sandbox's seccomp supervisor answers
 * and records every one of them (sandbox_notif.c).
 *
 * Opens for writing are the hottest event of a busy tool, and the overlay
 * diff already lists what they changed: they are only counted, in the
 * cgroup's map entry, except when the diff cannot show them (the open
 * failed, e.g. EROFS on /proc/sys, or the file is not on the overlay).
 * Unlinks likewise are counted only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "impact.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1
#define EACCES 13
#define ENOSPC 28
#define EROFS 30
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define S_IFMT 00170000
#define S_IFREG 0100000

/* how many cgroups are in `cgids` (user space keeps it): 0 = disarmed,
 * every program returns after this one load */
volatile __u32 n_armed = 0;
/* events that did not fit in the ring buffer */
volatile __u64 lost = 0;

/* the cgroup v2 ids of the sandboxes being dry-run by this process, with
 * their counters */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IMPACT_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct impact_counts);
} cgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline struct impact_counts *scope(void)
{
	__u64 cg;

	if (!n_armed)
		return NULL;
	cg = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&cgids, &cg);
}

static __always_inline bool in_scope(void)
{
	return scope() != NULL;
}

/* Waking the reader for every event costs more than the event (an irq_work
 * and a context switch per write of a file-heavy tool): wake it only when a
 * quarter of the buffer is pending; it also polls every 50 ms. */
static __always_inline void submit(struct impact_event *e)
{
	long flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > (1 << 18) ? BPF_RB_FORCE_WAKEUP
										: BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(e, flags);
}

static __always_inline struct impact_event *event_new(unsigned int kind)
{
	struct impact_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	struct task_struct *t;
	struct pid *p;
	unsigned int level;
	__u64 id;

	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	id = bpf_get_current_pid_tgid();
	t = (struct task_struct *)bpf_get_current_task();
	e->kind = kind;
	e->cgid = bpf_get_current_cgroup_id();	/* user space routes the event by it */
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	p = BPF_CORE_READ(t, thread_pid);
	level = BPF_CORE_READ(p, level);
	e->nspid = 0;
	bpf_probe_read_kernel(&e->nspid, sizeof(e->nspid), &p->numbers[level & 7].nr);
	e->call = 0;
	e->ret = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->flags = 0;
	e->target = 0;
	e->sig = 0;
	e->code = 0;
	e->family = 0;
	e->port = 0;
	e->arg_len = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->path[0] = '\0';
	e->path2[0] = '\0';
	return e;
}

/* A syscall's arguments at its sys_exit: the user registers saved at entry
 * (x86-64: rdi rsi rdx r10), which the syscall does not change. Reading them
 * there rather than saving them at sys_enter halves the tracepoints, and
 * each detach of a syscall tracepoint costs the host an RCU grace period. */
struct args {
	__u64 a[4];
};

static __always_inline bool args_get_in(struct args *x)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	/* BTF pointers: plain loads the verifier guards, no helper call each */
	x->a[0] = r->di;
	x->a[1] = r->si;
	x->a[2] = r->dx;
	x->a[3] = r->r10;
	return true;
}

/* --- processes --- */

SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct impact_counts *c = scope();
	struct impact_event *e;
	unsigned long start, end, len;

	if (!c)
		return 0;
	c->started = 1;
	if (!(e = event_new(IMPACT_EXEC)))
		return 0;
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > IMPACT_PATH_MAX - 1)
		len = IMPACT_PATH_MAX - 1;
	if (len > 0 && bpf_probe_read_user(e->path2, len & (IMPACT_PATH_MAX - 1), (void *)start) == 0)
		e->arg_len = len & (IMPACT_PATH_MAX - 1);
	submit(e);
	return 0;
}

/* threads are not processes: only a child that leads its thread group counts */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	struct impact_event *e;
	struct pid *cp;
	int pid, tgid;

	if (!in_scope())
		return 0;
	pid = BPF_CORE_READ(child, pid);
	tgid = BPF_CORE_READ(child, tgid);
	if (pid != tgid || !(e = event_new(IMPACT_FORK)))
		return 0;
	e->pid = tgid;
	e->tid = pid;
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->nspid = 0;
	cp = BPF_CORE_READ(child, thread_pid);
	bpf_probe_read_kernel(&e->nspid, sizeof(e->nspid), &cp->numbers[BPF_CORE_READ(cp, level) & 7].nr);
	submit(e);
	return 0;
}

/* only the thread group's leader: exit fires for every thread */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_proc_exit, struct task_struct *task)
{
	struct impact_event *e;

	if (!in_scope() || BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid) || !(e = event_new(IMPACT_EXIT)))
		return 0;
	e->code = BPF_CORE_READ(task, exit_code);
	submit(e);
	return 0;
}

static __always_inline int exec_exit(struct trace_event_raw_sys_exit *ctx, int path_arg)
{
	struct impact_event *e;
	struct args p;

	if (!in_scope() || !args_get_in(&p) || ctx->ret >= 0 || !(e = event_new(IMPACT_EXEC_FAIL)))
		return 0;
	e->ret = ctx->ret;
	bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)p.a[path_arg & 3]);
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct trace_event_raw_sys_exit *ctx) { return exec_exit(ctx, 0); }
SEC("tracepoint/syscalls/sys_exit_execveat")
int exit_execveat(struct trace_event_raw_sys_exit *ctx) { return exec_exit(ctx, 1); }

/* --- files --- */


/* Is fd of the current task something the overlay diff accounts for: a
 * file on the overlay (in its diff), or not a regular file at all (/dev/null,
 * a tty, the pipe behind /dev/stderr: nothing a diff would hold)? */
static __always_inline bool open_in_diff(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file *f;
	struct inode *ino;

	if (fd < 0 || fd >= fdt->max_fds)
		return false;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd & 0xffff]) != 0 || !f)
		return false;
	/* f came through a plain read: not a BTF pointer any more */
	ino = BPF_CORE_READ(f, f_inode);
	return BPF_CORE_READ(ino, i_sb, s_magic) == OVERLAYFS_SUPER_MAGIC ||
	       (BPF_CORE_READ(ino, i_mode) & S_IFMT) != S_IFREG;
}

/* A failure the sandbox caused (read-only /proc/sys and /sys, capabilities
 * dropped, the overlay's size cap) rather than one the real run would meet
 * too (ENOENT, EISDIR, ENXIO from bash's /dev/tty probe...) */
static __always_inline bool sandbox_refusal(long ret)
{
	return ret == -EROFS || ret == -EACCES || ret == -EPERM || ret == -ENOSPC;
}

static __always_inline int open_emit(struct trace_event_raw_sys_exit *ctx, struct impact_counts *c,
				     const struct args *p, int path_arg, __u64 flags)
{
	struct impact_event *e;

	if (!(flags & WRITE_FLAGS) || !c->started)
		return 0;
	__sync_fetch_and_add(&c->opens_for_write, 1);
	if (ctx->ret >= 0 ? open_in_diff(ctx->ret) : !sandbox_refusal(ctx->ret))
		return 0;
	if (!(e = event_new(IMPACT_OPEN)))
		return 0;
	e->ret = ctx->ret;
	e->flags = (unsigned int)flags;
	e->target = (int)p->a[0];	/* dfd, for relative paths */
	bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)p->a[path_arg & 3]);
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	struct impact_counts *c = scope();
	struct args p;

	if (!c || !args_get_in(&p))
		return 0;
	return open_emit(ctx, c, &p, 1, p.a[2]);
}

/* openat2(dfd, path, struct open_how *how, size): flags are the first u64 of how */
SEC("tracepoint/syscalls/sys_exit_openat2")
int exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	struct impact_counts *c = scope();
	struct args p;
	__u64 flags = 0;

	if (!c || !args_get_in(&p))
		return 0;
	bpf_probe_read_user(&flags, sizeof(flags), (void *)p.a[2]);
	return open_emit(ctx, c, &p, 1, flags);
}


static __always_inline int unlink_count(void)
{
	struct impact_counts *c = scope();

	if (c && c->started)
		__sync_fetch_and_add(&c->unlinks, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unlink")
int exit_unlink(struct trace_event_raw_sys_exit *ctx) { return unlink_count(); }
SEC("tracepoint/syscalls/sys_exit_unlinkat")
int exit_unlinkat(struct trace_event_raw_sys_exit *ctx) { return unlink_count(); }


static __always_inline int rename_emit(struct trace_event_raw_sys_exit *ctx, int from, int to)
{
	struct impact_event *e;
	struct args p;

	if (!in_scope() || !args_get_in(&p) || !(e = event_new(IMPACT_RENAME)))
		return 0;
	e->ret = ctx->ret;
	bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)p.a[from & 3]);
	bpf_probe_read_user_str(e->path2, sizeof(e->path2), (void *)p.a[to & 3]);
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_rename")
int exit_rename(struct trace_event_raw_sys_exit *ctx) { return rename_emit(ctx, 0, 1); }
SEC("tracepoint/syscalls/sys_exit_renameat")
int exit_renameat(struct trace_event_raw_sys_exit *ctx) { return rename_emit(ctx, 1, 3); }
SEC("tracepoint/syscalls/sys_exit_renameat2")
int exit_renameat2(struct trace_event_raw_sys_exit *ctx) { return rename_emit(ctx, 1, 3); }


static __always_inline int chmod_emit(struct trace_event_raw_sys_exit *ctx, int path_arg)
{
	struct impact_event *e;
	struct args p;

	if (!in_scope() || !args_get_in(&p) || !(e = event_new(IMPACT_CHMOD)))
		return 0;
	e->ret = ctx->ret;
	e->flags = (unsigned int)p.a[(path_arg + 1) & 3];
	bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)p.a[path_arg & 3]);
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_chmod")
int exit_chmod(struct trace_event_raw_sys_exit *ctx) { return chmod_emit(ctx, 0); }
SEC("tracepoint/syscalls/sys_exit_fchmodat")
int exit_fchmodat(struct trace_event_raw_sys_exit *ctx) { return chmod_emit(ctx, 1); }
SEC("tracepoint/syscalls/sys_exit_fchmodat2")
int exit_fchmodat2(struct trace_event_raw_sys_exit *ctx) { return chmod_emit(ctx, 1); }

/* --- network --- */


SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct impact_event *e;
	struct args p;
	void *sa;
	__u16 fam = 0, port = 0;

	if (!in_scope() || !args_get_in(&p) || !(e = event_new(IMPACT_CONNECT)))
		return 0;
	sa = (void *)p.a[1];
	e->ret = ctx->ret;
	bpf_probe_read_user(&fam, sizeof(fam), sa);
	e->family = fam;
	if (fam == AF_INET) {
		bpf_probe_read_user(&port, sizeof(port), sa + 2);
		bpf_probe_read_user(e->addr, 4, sa + 4);
	} else if (fam == AF_INET6) {
		bpf_probe_read_user(&port, sizeof(port), sa + 2);
		bpf_probe_read_user(e->addr, 16, sa + 8);
	} else if (fam == AF_UNIX) {
		/* sun_path; an abstract name starts with NUL: keep its next bytes */
		bpf_probe_read_user(e->path, 108, sa + 2);
	}
	e->port = __builtin_bswap16(port);
	submit(e);
	return 0;
}

/* --- signals --- */


static __always_inline int signal_emit(struct trace_event_raw_sys_exit *ctx, int call, int target_arg, int sig_arg)
{
	struct impact_event *e;
	struct args p;

	if (!in_scope() || !args_get_in(&p) || !(e = event_new(IMPACT_SIGNAL)))
		return 0;
	e->ret = ctx->ret;
	e->call = call;
	e->target = (int)p.a[target_arg & 3];
	e->sig = (int)p.a[sig_arg & 3];
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_kill")
int exit_kill(struct trace_event_raw_sys_exit *ctx) { return signal_emit(ctx, IMPACT_KILL, 0, 1); }
SEC("tracepoint/syscalls/sys_exit_tgkill")
int exit_tgkill(struct trace_event_raw_sys_exit *ctx) { return signal_emit(ctx, IMPACT_TGKILL, 0, 2); }
/* the target of a pidfd: the struct pid behind the file, as the host
 * numbers it; in `code`, 0 when it cannot be read */
SEC("tracepoint/syscalls/sys_exit_pidfd_send_signal")
int exit_pidfd_send_signal(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct impact_event *e;
	struct file **fds, *f = NULL;
	struct pid *pid;
	struct args p;
	unsigned int fd;

	if (!in_scope() || !args_get_in(&p) || !(e = event_new(IMPACT_SIGNAL)))
		return 0;
	e->ret = ctx->ret;
	e->call = IMPACT_PIDFD_SEND_SIGNAL;
	e->target = (int)p.a[0];
	e->sig = (int)p.a[1];
	fd = (unsigned int)p.a[0];
	fds = BPF_CORE_READ(t, files, fdt, fd);
	if (fd < BPF_CORE_READ(t, files, fdt, max_fds) &&
	    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xffff]) == 0 && f) {
		/* pidfs (6.9+) keeps it in the inode, older kernels in the file */
		pid = BPF_CORE_READ(f, f_inode, i_private);
		if (!pid)
			pid = BPF_CORE_READ(f, private_data);
		if (pid)
			e->code = BPF_CORE_READ(pid, numbers[0].nr);
	}
	submit(e);
	return 0;
}
