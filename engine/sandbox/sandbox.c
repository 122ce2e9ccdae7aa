/*
 * sandbox.c: og_sandbox_run (see sandbox.h).
 *
 * Order (each step checked on this kind of host, ../shared/design/sandbox-ebpf.md):
 *   parent: cgroup v2 group (+ v1 memory/pids/cpu groups on hybrid hosts),
 *           a detached size-capped tmpfs (fsopen/fsmount: never on the host's
 *           mount table) holding upper/ work/ merged/, then clone3 into the
 *           v2 group with new namespaces and a pidfd. The child waits on a
 *           pipe until the parent has put it in the v1 groups and called the
 *           tracer hook.
 *   child:  / private, staging tmpfs moved onto /tmp, overlay lowerdir=/ on merged,
 *           proc, sysfs ro, masks, minimal /dev, pivot_root(".", "."), caps,
 *           no_new_privs, seccomp, execve. It only makes system calls: the
 *           parent may have threads. Failures travel back on a close-on-exec
 *           pipe (stage + errno); EOF there means the exec happened.
 *   parent: poll(pidfd, stdout, stderr) under the timeout, cgroup.kill,
 *           waitid, diff of upper/ through the tmpfs fd the parent kept,
 *           then cgroups removed and the tmpfs fd closed (which frees it).
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/capture.h"
#include "../core/clock.h"
#include "sandbox_int.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define STAGE "/tmp"			/* where the child mounts the staging tmpfs */
#define MERGED STAGE "/merged"
#define CG_PARENT "opsgraph-sandbox"
#define DRAIN_MS 2000			/* output still arriving after the exit */

/* clone3's argument, as in linux/sched.h (whose CLONE_* clash with sched.h) */
struct og_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
		set_tid_size, cgroup;
};

/* what the child reports on the status pipe */
struct child_msg {
	int kind;		/* 1 setup failed, 2 exec failed */
	int errnum;
	char stage[64];
};

/* everything the child needs, prepared by the parent (the child allocates nothing) */
struct child_ctx {
	const char *path;		/* resolved argv[0] */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	int mnt_fd, sync_r, status_w, out_w, err_w;
	int notif_w;			/* where the seccomp listener goes (sandbox_notif_send) */
	struct sock_fprog *filter;	/* USER_NOTIF */
	struct sock_fprog *filter_eperm;	/* the fallback when the kernel refuses a listener */
};

static int64_t now_ms(void)
{
	return og_clock_mono_us() / 1000;
}

/* ---- small file helpers ---- */

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* the number after "key " in a flat-keyed cgroup file, or 0 */
static long long keyed_value(const char *path, const char *key)
{
	char buf[4096], *p;
	size_t kl = strlen(key);

	if (read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoll(p + kl + 1, NULL, 10);
	return 0;
}

/* ---- host discovery ---- */

struct cg_mounts {
	char v2[256];			/* cgroup2 mount point, or "" */
	char v1[3][256];		/* memory, pids, cpu v1 mount points, or "" */
};

static const char *const v1_names[3] = { "memory", "pids", "cpu" };

static bool has_opt(const char *opts, const char *name)
{
	size_t n = strlen(name);
	const char *p = opts;

	while ((p = strstr(p, name))) {
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

static void find_cgroup_mounts(struct cg_mounts *m)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int i;

	memset(m, 0, sizeof(*m));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char mp[256], fstype[64], opts[1024];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", mp) != 1 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (!strcmp(fstype, "cgroup2") && !m->v2[0])
			snprintf(m->v2, sizeof(m->v2), "%s", mp);
		else if (!strcmp(fstype, "cgroup"))
			for (i = 0; i < 3; i++)
				if (!m->v1[i][0] && has_opt(opts, v1_names[i]))
					snprintf(m->v1[i], sizeof(m->v1[i]), "%s", mp);
	}
	fclose(f);
}

int og_sandbox_check(struct og_err *err)
{
	struct cg_mounts m;
	char fs[8192];
	long rc;

	if (geteuid() != 0)
		return og_err_set(err, -OG_ESTATE, "sandbox: not root (euid %d); dry-runs need root for namespaces, "
				  "overlay mounts and cgroups: run opsgraph as root", (int)geteuid());
	find_cgroup_mounts(&m);
	if (!m.v2[0])
		return og_err_set(err, -OG_ESTATE, "sandbox: no cgroup2 mount in /proc/self/mountinfo; "
				  "mount one (mount -t cgroup2 none /sys/fs/cgroup/unified)");
	if (read_file("/proc/filesystems", fs, sizeof(fs)) < 0 || !strstr(fs, "\toverlay\n"))
		return og_err_set(err, -OG_ESTATE, "sandbox: the kernel has no overlay filesystem "
				  "(CONFIG_OVERLAY_FS; try modprobe overlay)");
	if (!strstr(fs, "\ttmpfs\n"))
		return og_err_set(err, -OG_ESTATE, "sandbox: the kernel has no tmpfs");
	errno = 0;
	rc = syscall(SYS_clone3, NULL, 0);
	if (rc < 0 && errno == ENOSYS)
		return og_err_set(err, -OG_ESTATE, "sandbox: clone3 is missing (Linux 5.7+ needed for "
				  "CLONE_INTO_CGROUP) or filtered by seccomp");
	if (access("/proc/self/ns/pid", F_OK) || access("/proc/self/ns/net", F_OK) ||
	    access("/proc/self/ns/cgroup", F_OK))
		return og_err_set(err, -OG_ESTATE, "sandbox: the kernel lacks pid, net or cgroup namespaces");
	return 0;
}

/* ---- seccomp ---- */

/* names as the report spells them: umount2 is "umount", as its tracepoint */
#define D(n) { SYS_##n, #n }
static const struct {
	int nr;
	const char *name;
} denied_syscalls[] = {
	D(mount), { SYS_umount2, "umount" }, D(pivot_root), D(chroot), D(unshare), D(setns), D(reboot),
	D(kexec_load), D(kexec_file_load), D(init_module), D(finit_module), D(delete_module),
	D(bpf), D(perf_event_open), D(ptrace), D(process_vm_writev), D(process_vm_readv),
#ifdef SYS_iopl
	D(iopl),
#endif
#ifdef SYS_ioperm
	D(ioperm),
#endif
	D(swapon), D(swapoff), D(open_by_handle_at), D(name_to_handle_at),
	D(fsopen), D(fsmount), D(fsconfig), D(fspick), D(move_mount), D(open_tree),
#ifdef SYS_mount_setattr
	D(mount_setattr),
#endif
	D(keyctl), D(add_key), D(request_key), D(userfaultfd), D(settimeofday), D(clock_settime),
	D(clock_adjtime), D(adjtimex), D(acct), D(quotactl), D(io_uring_setup), D(io_uring_enter),
	D(io_uring_register), D(syslog), D(vhangup), D(lookup_dcookie), D(sethostname),
	D(setdomainname),
};
#undef D

#if defined(__x86_64__)
#define OG_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define OG_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "sandbox: seccomp arch check: add this architecture's AUDIT_ARCH_*"
#endif

#define N_DENIED (sizeof(denied_syscalls) / sizeof(denied_syscalls[0]))
#define FILTER_LEN (N_DENIED + 16)
#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
			CLONE_NEWCGROUP)

const char *sandbox_denied_name(int nr)
{
	size_t i;

	if (nr == SYS_clone)
		return "clone";
	for (i = 0; i < N_DENIED; i++)
		if (denied_syscalls[i].nr == nr)
			return denied_syscalls[i].name;
	return NULL;
}

/* notify: the denials go to the supervisor (SECCOMP_RET_USER_NOTIF), which
 * answers EPERM; else the filter answers EPERM itself */
static void build_filter(struct sock_filter *f, struct sock_fprog *prog, bool notify)
{
	const uint32_t deny = notify ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
	size_t i, n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OG_AUDIT_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* clone3's flags sit behind a pointer: ENOSYS makes glibc fall back to
	 * clone, whose flags (args[0], low word) are checked for new namespaces */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NS_FLAGS, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#if defined(__x86_64__)
	/* x32 ABI numbers would bypass the list below */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, (uint8_t)(N_DENIED + 1), 0);
#endif
	for (i = 0; i < N_DENIED; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)denied_syscalls[i].nr,
						      (uint8_t)(N_DENIED - i), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
	prog->len = (unsigned short)n;
	prog->filter = f;
}

/* ---- the child ---- */

/* capabilities kept: enough to edit root-owned files in the overlay */
static const int kept_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID,
	CAP_SETUID, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE, CAP_SETFCAP,
};

static _Noreturn void child_fail(const struct child_ctx *c, int kind, const char *stage)
{
	struct child_msg m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.errnum = errno;
	for (i = 0; stage[i] && i < sizeof(m.stage) - 1; i++)
		m.stage[i] = stage[i];
	if (write(c->status_w, &m, sizeof(m)) < 0) {
		/* nothing to do: the parent sees the exit status */
	}
	_exit(kind == 2 ? (m.errnum == ENOENT ? 127 : 126) : 125);
}

static bool mounted_ok(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
	return mount(src, dst, type, flags, data) == 0;
}

/* an empty file at dst in the new /dev, with the host's device bound on it */
static bool bind_dev(const char *host, const char *dst)
{
	int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0)
		return false;
	close(fd);
	return mount(host, dst, NULL, MS_BIND, NULL) == 0;
}

static _Noreturn void child_main(const struct child_ctx *c)
{
	char b;
	int i, devnull, listener;
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	const unsigned long nosx = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	const struct rlimit core0 = { 0, 0 };
	sigset_t all;

	if (read(c->sync_r, &b, 1) != 1)
		_exit(125);	/* the parent gave up */
	close(c->sync_r);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(c, 1, "prctl(PDEATHSIG)");
	/* nothing below may reach the host's mount table */
	if (!mounted_ok(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		child_fail(c, 1, "make / private");
	if (move_mount(c->mnt_fd, "", AT_FDCWD, STAGE, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		child_fail(c, 1, "move_mount staging tmpfs");
	if (!mounted_ok("overlay", MERGED, "overlay", 0,
			"lowerdir=/,upperdir=" STAGE "/upper,workdir=" STAGE "/work"))
		child_fail(c, 1, "mount overlay");
	if (!mounted_ok("proc", MERGED "/proc", "proc", nosx, NULL))
		child_fail(c, 1, "mount /proc");
	if (!mounted_ok(MERGED "/proc/sys", MERGED "/proc/sys", NULL, MS_BIND | MS_REC, NULL) ||
	    !mounted_ok(NULL, MERGED "/proc/sys", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | nosx, NULL))
		child_fail(c, 1, "read-only /proc/sys");
	if (!mounted_ok("/dev/null", MERGED "/proc/sysrq-trigger", NULL, MS_BIND, NULL) && errno != ENOENT)
		child_fail(c, 1, "mask /proc/sysrq-trigger");
	/* fresh sysfs: the host's would bring its writable cgroupfs along */
	if (!mounted_ok("sysfs", MERGED "/sys", "sysfs", MS_RDONLY | nosx, NULL))
		child_fail(c, 1, "mount sysfs");
	/* /run is masked: the host's daemons keep their sockets and pid files
	 * there. /tmp is not: a checkout, a tool's script or its fixtures may
	 * live there, and it is seen through the overlay like the rest of /
	 * (writes land in the upper layer and show in the diff; a pathname
	 * socket reached through an overlay inode refuses connections) */
	if (!mounted_ok("tmpfs", MERGED "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m"))
		child_fail(c, 1, "mask /run");
	if (!mounted_ok("tmpfs", MERGED "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m"))
		child_fail(c, 1, "mount /dev");
	if (!bind_dev("/dev/null", MERGED "/dev/null") || !bind_dev("/dev/zero", MERGED "/dev/zero") ||
	    !bind_dev("/dev/full", MERGED "/dev/full") || !bind_dev("/dev/random", MERGED "/dev/random") ||
	    !bind_dev("/dev/urandom", MERGED "/dev/urandom") || !bind_dev("/dev/tty", MERGED "/dev/tty"))
		child_fail(c, 1, "populate /dev");
	if (symlink("/proc/self/fd", MERGED "/dev/fd") < 0 || symlink("/proc/self/fd/0", MERGED "/dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", MERGED "/dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", MERGED "/dev/stderr") < 0 || mkdir(MERGED "/dev/shm", 01777) < 0 ||
	    mkdir(MERGED "/dev/pts", 0755) < 0)
		child_fail(c, 1, "populate /dev");
	/* pivot without a .oldroot directory (it would show in the diff) */
	if (chdir(MERGED) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(c, 1, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		child_fail(c, 1, "detach the old root");
	if (sethostname("dryrun", 6) < 0)
		child_fail(c, 1, "sethostname");
	setrlimit(RLIMIT_CORE, &core0);
	/* capabilities: bounding set first, then the process's own sets */
	for (i = 0; i <= CAP_LAST_CAP; i++) {
		bool keep = false;
		size_t k;
		for (k = 0; k < sizeof(kept_caps) / sizeof(kept_caps[0]); k++)
			keep |= kept_caps[k] == i;
		if (!keep && prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			child_fail(c, 1, "drop the bounding set");
	}
	memset(data, 0, sizeof(data));
	for (i = 0; i < (int)(sizeof(kept_caps) / sizeof(kept_caps[0])); i++) {
		data[kept_caps[i] / 32].effective |= 1u << (kept_caps[i] % 32);
		data[kept_caps[i] / 32].permitted |= 1u << (kept_caps[i] % 32);
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		child_fail(c, 1, "capset");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (chdir(c->cwd) < 0)
		child_fail(c, 1, "chdir to the working directory");
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || dup2(devnull, 0) < 0 ||
	    dup2(c->out_w, 1) < 0 || dup2(c->err_w, 2) < 0)
		child_fail(c, 1, "stdio");
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		child_fail(c, 1, "close_range");
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			signal(i, SIG_DFL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(c, 1, "no_new_privs");
	/* the arch check stays KILL in both filters */
	if ((listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
				     c->filter)) < 0) {
		int e = errno;
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, c->filter_eperm) < 0)
			child_fail(c, 1, "seccomp");
		if (sandbox_notif_send(c->notif_w, -1, e) < 0)
			child_fail(c, 1, "tell the parent seccomp has no listener");
	} else {
		/* in flight, the fd keeps the listener alive past our close and exec */
		if (sandbox_notif_send(c->notif_w, listener, 0) < 0)
			child_fail(c, 1, "send the seccomp listener");
		close(listener);
	}
	execve(c->path, c->argv, c->envp);
	child_fail(c, 2, "exec");
}

/* ---- the parent ---- */

/* argv[0] as a path: kept when it has a '/', else looked up in OG_SANDBOX_PATH */
static char *resolve_path(const char *cmd)
{
	const char *p = OG_SANDBOX_PATH;
	char buf[4096];

	if (strchr(cmd, '/'))
		return strdup(cmd);
	while (*p) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, cmd) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return strdup(buf);
		p += n + (e ? 1 : 0);
	}
	return strdup(cmd);	/* execve fails with ENOENT: a 127 result */
}

struct cgroups {
	char v2[512];
	char v1[3][512];
	bool v1_used;
};

static void cg_path(char *out, size_t cap, const char *dir, const char *file)
{
	snprintf(out, cap, "%s/%s", dir, file);
}

static void cg_kill(const struct cgroups *cg)
{
	char p[600];

	if (!cg->v2[0])
		return;
	cg_path(p, sizeof(p), cg->v2, "cgroup.kill");
	write_file(p, "1");
}

/* rmdir with retries: the killed tasks may take a moment to leave */
static void cg_rmdir(const char *dir)
{
	char parent[512], *slash;
	int i;

	if (!dir[0])
		return;
	for (i = 0; i < 200 && rmdir(dir) < 0 && errno == EBUSY; i++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/'))) {
		*slash = '\0';
		rmdir(parent);	/* the shared parent, when no other run holds it */
	}
}

/* groups left by a runner that died (its pid, the id's prefix, is gone) */
static void cg_sweep_stale(const struct cg_mounts *m)
{
	char p[600];
	DIR *d;
	struct dirent *e;
	int i;

	snprintf(p, sizeof(p), "%s/%s", m->v2, CG_PARENT);
	if (!(d = opendir(p)))
		return;
	while ((e = readdir(d))) {
		long pid = strtol(e->d_name, NULL, 10);
		if (e->d_name[0] == '.' || pid <= 0 || !(kill((pid_t)pid, 0) < 0 && errno == ESRCH))
			continue;
		snprintf(p, sizeof(p), "%s/%s/%s/cgroup.kill", m->v2, CG_PARENT, e->d_name);
		write_file(p, "1");
		snprintf(p, sizeof(p), "%s/%s/%s", m->v2, CG_PARENT, e->d_name);
		rmdir(p);
		for (i = 0; i < 3; i++) {
			if (!m->v1[i][0])
				continue;
			snprintf(p, sizeof(p), "%s/%s/%s", m->v1[i], CG_PARENT, e->d_name);
			rmdir(p);
		}
	}
	closedir(d);
}

static int cg_create(const struct cg_mounts *m, const char *id, const struct og_sandbox_spec *spec,
		     int64_t mem_mb, int64_t pids, struct cgroups *cg, struct og_err *err)
{
	char p[600], ctl[512], val[64];
	bool v2_ctl;
	int i;

	cg_sweep_stale(m);
	snprintf(p, sizeof(p), "%s/%s", m->v2, CG_PARENT);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return og_err_set(err, -OG_EIO, "sandbox: mkdir %s: %s", p, strerror(errno));
	snprintf(cg->v2, sizeof(cg->v2), "%s/%s/%s", m->v2, CG_PARENT, id);
	if (mkdir(cg->v2, 0755) < 0) {
		int e = errno;
		cg->v2[0] = '\0';
		return og_err_set(err, -OG_EIO, "sandbox: mkdir cgroup %s/%s/%s: %s", m->v2, CG_PARENT, id, strerror(e));
	}
	cg_path(p, sizeof(p), m->v2, "cgroup.controllers");
	read_file(p, ctl, sizeof(ctl));
	v2_ctl = strstr(ctl, "memory") && strstr(ctl, "pids");
	if (v2_ctl) {
		char top[600];
		cg_path(top, sizeof(top), m->v2, "cgroup.subtree_control");
		write_file(top, strstr(ctl, "cpu") ? "+memory +pids +cpu" : "+memory +pids");
		snprintf(top, sizeof(top), "%s/%s/cgroup.subtree_control", m->v2, CG_PARENT);
		if (write_file(top, strstr(ctl, "cpu") ? "+memory +pids +cpu" : "+memory +pids") < 0)
			return og_err_set(err, -OG_EIO, "sandbox: enable controllers in %s: %s", top, strerror(errno));
		snprintf(val, sizeof(val), "%lld", (long long)mem_mb * 1024 * 1024);
		cg_path(p, sizeof(p), cg->v2, "memory.max");
		if (write_file(p, val) < 0)
			return og_err_set(err, -OG_EIO, "sandbox: write %s: %s", p, strerror(errno));
		cg_path(p, sizeof(p), cg->v2, "memory.swap.max");
		write_file(p, "0");
		snprintf(val, sizeof(val), "%lld", (long long)pids);
		cg_path(p, sizeof(p), cg->v2, "pids.max");
		if (write_file(p, val) < 0)
			return og_err_set(err, -OG_EIO, "sandbox: write %s: %s", p, strerror(errno));
		if (spec->cpu_pct > 0) {
			snprintf(val, sizeof(val), "%lld 100000", (long long)spec->cpu_pct * 1000);
			cg_path(p, sizeof(p), cg->v2, "cpu.max");
			write_file(p, val);
		}
		return 0;
	}
	/* hybrid host: limits from v1 groups of the same name */
	if (!m->v1[0][0] || !m->v1[1][0])
		return og_err_set(err, -OG_ESTATE, "sandbox: cgroup v2 at %s has no memory/pids controllers and "
				  "no v1 memory and pids hierarchies are mounted: limits cannot be set", m->v2);
	for (i = 0; i < 3; i++) {
		if (!m->v1[i][0] || (i == 2 && spec->cpu_pct <= 0))
			continue;
		snprintf(p, sizeof(p), "%s/%s", m->v1[i], CG_PARENT);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return og_err_set(err, -OG_EIO, "sandbox: mkdir %s: %s", p, strerror(errno));
		snprintf(cg->v1[i], sizeof(cg->v1[i]), "%s/%s/%s", m->v1[i], CG_PARENT, id);
		if (mkdir(cg->v1[i], 0755) < 0) {
			int e = errno;
			cg->v1[i][0] = '\0';
			return og_err_set(err, -OG_EIO, "sandbox: mkdir %s/%s/%s: %s", m->v1[i], CG_PARENT, id,
					  strerror(e));
		}
		cg->v1_used = true;
	}
	snprintf(val, sizeof(val), "%lld", (long long)mem_mb * 1024 * 1024);
	cg_path(p, sizeof(p), cg->v1[0], "memory.limit_in_bytes");
	if (write_file(p, val) < 0)
		return og_err_set(err, -OG_EIO, "sandbox: write %s: %s", p, strerror(errno));
	cg_path(p, sizeof(p), cg->v1[0], "memory.memsw.limit_in_bytes");
	write_file(p, val);	/* absent without swap accounting */
	snprintf(val, sizeof(val), "%lld", (long long)pids);
	cg_path(p, sizeof(p), cg->v1[1], "pids.max");
	if (write_file(p, val) < 0)
		return og_err_set(err, -OG_EIO, "sandbox: write %s: %s", p, strerror(errno));
	if (cg->v1[2][0]) {
		snprintf(val, sizeof(val), "%lld", (long long)spec->cpu_pct * 1000);
		cg_path(p, sizeof(p), cg->v1[2], "cpu.cfs_quota_us");
		write_file(p, val);
	}
	return 0;
}

static void cg_limits_hit(const struct cgroups *cg, struct og_sandbox_result *r)
{
	char p[600], buf[64];

	if (cg->v1_used) {
		cg_path(p, sizeof(p), cg->v1[0], "memory.oom_control");
		if (keyed_value(p, "oom_kill") > 0)
			r->memory_hit = true;
		cg_path(p, sizeof(p), cg->v1[0], "memory.failcnt");
		if (read_file(p, buf, sizeof(buf)) == 0 && strtoll(buf, NULL, 10) > 0)
			r->memory_hit = true;
		cg_path(p, sizeof(p), cg->v1[1], "pids.events");
		if (keyed_value(p, "max") > 0)
			r->pids_hit = true;
		return;
	}
	cg_path(p, sizeof(p), cg->v2, "memory.events");
	if (keyed_value(p, "oom_kill") > 0 || keyed_value(p, "max") > 0)
		r->memory_hit = true;
	cg_path(p, sizeof(p), cg->v2, "pids.events");
	if (keyed_value(p, "max") > 0)
		r->pids_hit = true;
}

static void cg_remove(struct cgroups *cg)
{
	int i;

	cg_kill(cg);
	cg_rmdir(cg->v2);
	for (i = 0; i < 3; i++)
		cg_rmdir(cg->v1[i]);
}

/* the detached staging tmpfs with upper/ work/ merged/; returns its fd or -1 */
static int staging_create(int64_t size_mb, struct og_err *err)
{
	int fs = -1, mnt = -1;
	char size[32];

	snprintf(size, sizeof(size), "%lldm", (long long)size_mb);
	if ((fs = fsopen("tmpfs", FSOPEN_CLOEXEC)) < 0) {
		og_err_set(err, -OG_EIO, "sandbox: fsopen(tmpfs): %s", strerror(errno));
		goto fail;
	}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		og_err_set(err, -OG_EIO, "sandbox: configure the staging tmpfs: %s", strerror(errno));
		goto fail;
	}
	if ((mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0) {
		og_err_set(err, -OG_EIO, "sandbox: fsmount the staging tmpfs: %s", strerror(errno));
		goto fail;
	}
	if (mkdirat(mnt, "upper", 0755) < 0 || mkdirat(mnt, "work", 0700) < 0 || mkdirat(mnt, "merged", 0755) < 0) {
		og_err_set(err, -OG_EIO, "sandbox: staging directories: %s", strerror(errno));
		goto fail;
	}
	close(fs);
	return mnt;
fail:
	if (fs >= 0)
		close(fs);
	if (mnt >= 0)
		close(mnt);
	return -1;
}

static char **build_env(const char *const *extra)
{
	size_t n = 0, i;
	char **env;

	while (extra && extra[n])
		n++;
	if (!(env = calloc(n + 3, sizeof(*env))))
		return NULL;
	env[0] = (char *)"PATH=" OG_SANDBOX_PATH;
	env[1] = (char *)"LANG=C";
	for (i = 0; i < n; i++)
		env[2 + i] = (char *)extra[i];
	return env;
}

/* the child's word on its seccomp listener (sandbox_notif_recv); -1 while
 * there is none yet */
static int notif_take(int *p_notif, int *listener, struct og_sandbox_result *r)
{
	int e;

	if (sandbox_notif_recv(p_notif[0], listener, &e) < 0)
		return -1;
	og_close_fd(&p_notif[0]);
	r->denials_seen = *listener >= 0;
	if (e)
		snprintf(r->denials_off, sizeof(r->denials_off),
			 "seccomp denials unrecorded: %s (%s); they were still denied with EPERM",
			 e == EPIPE ? "the child ended before installing its filter"
				    : "the kernel refused a SECCOMP_RET_USER_NOTIF listener",
			 strerror(e));
	return 0;
}

int og_sandbox_run(const struct og_sandbox_spec *spec, struct og_sandbox_result *r, struct og_err *err)
{
	struct cg_mounts m;
	struct cgroups cg;
	struct sock_filter filt[FILTER_LEN], filt_eperm[FILTER_LEN];
	struct sock_fprog prog, prog_eperm;
	struct child_ctx c;
	struct og_clone_args ca;
	struct og_capture out = { -1, NULL, 0, 0, 0, false }, errs = { -1, NULL, 0, 0, 0, false };
	struct child_msg msg;
	char id[64], *path = NULL, **envp = NULL;
	int p_out[2] = { -1, -1 }, p_err[2] = { -1, -1 }, p_sync[2] = { -1, -1 }, p_stat[2] = { -1, -1 };
	int p_notif[2] = { -1, -1 }, listener = -1;
	int mnt = -1, cgfd = -1, pidfd = -1, upper = -1, rc = 0;
	int64_t t0, deadline, exited_at = -1, timeout, mem, pids;
	bool reaped = false;
	struct stat st;
	pid_t pid;
	ssize_t n;
	static unsigned seq;

	memset(r, 0, sizeof(*r));
	memset(&cg, 0, sizeof(cg));
	t0 = now_ms();
	if (!spec || !spec->argv || !spec->argv[0])
		return og_err_set(err, -OG_EINVAL, "sandbox: empty command");
	if ((rc = og_sandbox_check(err)) < 0)
		return rc;
	timeout = spec->timeout_ms > 0 ? spec->timeout_ms : OG_SANDBOX_TIMEOUT_MS_DEFAULT;
	mem = spec->memory_mb > 0 ? spec->memory_mb : OG_SANDBOX_MEMORY_MB_DEFAULT;
	pids = spec->pids > 0 ? spec->pids : OG_SANDBOX_PIDS_DEFAULT;
	out.max = errs.max = spec->max_output ? spec->max_output : OG_SANDBOX_MAX_OUTPUT_DEFAULT;
	if (!(path = resolve_path(spec->argv[0])) || !(envp = build_env(spec->env))) {
		rc = og_err_set(err, -OG_ENOMEM, "sandbox: out of memory");
		goto fail;
	}
	find_cgroup_mounts(&m);
	snprintf(id, sizeof(id), "%d-%lld-%u", (int)getpid(), (long long)og_clock_mono_us(),
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	if ((rc = cg_create(&m, id, spec, mem, pids, &cg, err)) < 0)
		goto fail;
	if ((cgfd = open(cg.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(cgfd, &st) < 0) {
		rc = og_err_set(err, -OG_EIO, "sandbox: open %s: %s", cg.v2, strerror(errno));
		goto fail;
	}
	r->cgroup_id = (uint64_t)st.st_ino;
	if ((mnt = staging_create(spec->tmpfs_mb > 0 ? spec->tmpfs_mb : OG_SANDBOX_TMPFS_MB_DEFAULT, err)) < 0) {
		rc = err->code;
		goto fail;
	}
	if (pipe2(p_out, O_CLOEXEC) < 0 || pipe2(p_err, O_CLOEXEC) < 0 || pipe2(p_sync, O_CLOEXEC) < 0 ||
	    pipe2(p_stat, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p_notif) < 0) {
		rc = og_err_set(err, -OG_EIO, "sandbox: pipe: %s", strerror(errno));
		goto fail;
	}
	build_filter(filt, &prog, true);
	build_filter(filt_eperm, &prog_eperm, false);
	c = (struct child_ctx){ path, (char *const *)spec->argv, envp, spec->cwd ? spec->cwd : "/",
				mnt, p_sync[0], p_stat[1], p_out[1], p_err[1], p_notif[1], &prog, &prog_eperm };
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
		   CLONE_INTO_CGROUP | CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = (uint64_t)cgfd;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0) {
		rc = og_err_set(err, -OG_EIO, "sandbox: clone3 into %s: %s", cg.v2, strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		close(p_sync[1]);
		child_main(&c);
	}
	og_close_fd(&p_out[1]);
	og_close_fd(&p_err[1]);
	og_close_fd(&p_stat[1]);
	og_close_fd(&p_sync[0]);
	og_close_fd(&p_notif[1]);
	out.fd = p_out[0];
	errs.fd = p_err[0];
	p_out[0] = p_err[0] = -1;
	if (cg.v1_used) {
		char pidbuf[32], p[600];
		int i;
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
		for (i = 0; i < 3; i++) {
			if (!cg.v1[i][0])
				continue;
			cg_path(p, sizeof(p), cg.v1[i], "cgroup.procs");
			if (write_file(p, pidbuf) < 0) {
				rc = og_err_set(err, -OG_EIO, "sandbox: move the child into %s: %s", p, strerror(errno));
				goto fail;
			}
		}
	}
	if (spec->on_start && (rc = spec->on_start(spec->on_start_arg, r->cgroup_id, (int)pid, err)) < 0)
		goto fail;
	if (write(p_sync[1], "g", 1) != 1) {
		rc = og_err_set(err, -OG_EIO, "sandbox: release the child: %s", strerror(errno));
		goto fail;
	}
	og_close_fd(&p_sync[1]);
	deadline = t0 + timeout;
	for (;;) {
		struct pollfd pf[5];
		int nf = 0, wait_ms, pr, i;
		int64_t now = now_ms();

		if (reaped && out.fd < 0 && errs.fd < 0)
			break;
		if (!reaped && !r->timed_out && now >= deadline) {
			r->timed_out = true;
			cg_kill(&cg);
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		}
		if (reaped && now - exited_at > DRAIN_MS)
			break;
		wait_ms = reaped ? (int)(DRAIN_MS - (now - exited_at)) : r->timed_out ? 100 : (int)(deadline - now);
		if (!reaped)
			pf[nf++] = (struct pollfd){ pidfd, POLLIN, 0 };
		if (out.fd >= 0)
			pf[nf++] = (struct pollfd){ out.fd, POLLIN, 0 };
		if (errs.fd >= 0)
			pf[nf++] = (struct pollfd){ errs.fd, POLLIN, 0 };
		if (p_notif[0] >= 0)
			pf[nf++] = (struct pollfd){ p_notif[0], POLLIN, 0 };
		if (listener >= 0)
			pf[nf++] = (struct pollfd){ listener, POLLIN, 0 };
		pr = poll(pf, (nfds_t)nf, wait_ms < 0 ? 0 : wait_ms);
		if (pr < 0 && errno != EINTR) {
			rc = og_err_set(err, -OG_EIO, "sandbox: poll: %s", strerror(errno));
			goto fail;
		}
		for (i = 0; pr > 0 && i < nf; i++) {
			if (!pf[i].revents)
				continue;
			if (pf[i].fd == pidfd) {
				siginfo_t si;
				memset(&si, 0, sizeof(si));
				if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0) {
					rc = og_err_set(err, -OG_EIO, "sandbox: waitid: %s", strerror(errno));
					goto fail;
				}
				reaped = true;
				exited_at = now_ms();
				r->duration_ms = exited_at - t0;
				if (si.si_code == CLD_EXITED) {
					r->exit_code = si.si_status;
				} else {
					r->exit_code = -1;
					r->signal = si.si_status;
				}
				cg_kill(&cg);	/* PID 1 is gone; the rest follow */
			} else if (pf[i].fd == p_notif[0]) {
				if (notif_take(p_notif, &listener, r) < 0)
					continue;
			} else if (pf[i].fd == listener) {
				/* every filter user gone (POLLHUP), or a notification */
				if (!(pf[i].revents & POLLIN) || sandbox_notif_answer(listener, r) < 0)
					og_close_fd(&listener);
			} else if (og_capture_read(pf[i].fd == out.fd ? &out : &errs) < 0) {
				rc = og_err_set(err, -OG_EIO, "sandbox: read output: %s", strerror(errno));
				goto fail;
			}
		}
	}
	/* a command that ended at once may have left the child's word unread */
	if (p_notif[0] >= 0)
		notif_take(p_notif, &listener, r);
	n = read(p_stat[0], &msg, sizeof(msg));
	if (n == (ssize_t)sizeof(msg) && msg.kind == 1) {
		rc = og_err_set(err, -OG_EIO, "sandbox: setup failed at %s: %s", msg.stage, strerror(msg.errnum));
		goto fail;
	}
	if (n == (ssize_t)sizeof(msg) && msg.kind == 2) {
		char line[512];
		struct og_capture *s = &errs;
		int ln = snprintf(line, sizeof(line), "sandbox: cannot run %s: %s\n", path, strerror(msg.errnum));
		free(s->buf);
		if (!(s->buf = strdup(line))) {
			rc = og_err_set(err, -OG_ENOMEM, "sandbox: out of memory");
			goto fail;
		}
		s->len = (size_t)ln;
	}
	cg_limits_hit(&cg, r);
	if ((upper = openat(mnt, "upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = og_err_set(err, -OG_EIO, "sandbox: open the overlay's upper layer: %s", strerror(errno));
		goto fail;
	}
	if ((rc = og_sandbox_diff(upper, "/", &r->files, err)) < 0)
		goto fail;
	rc = 0;
fail:
	if (pidfd >= 0 && !reaped) {
		siginfo_t si;
		cg_kill(&cg);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
	}
	r->out = out.buf ? out.buf : strdup("");
	r->out_len = out.len;
	r->out_truncated = out.truncated;
	r->err = errs.buf ? errs.buf : strdup("");
	r->err_len = errs.len;
	r->err_truncated = errs.truncated;
	if (!r->duration_ms)
		r->duration_ms = now_ms() - t0;
	og_close_fd(&out.fd);
	og_close_fd(&errs.fd);
	for (int i = 0; i < 2; i++) {
		og_close_fd(&p_out[i]);
		og_close_fd(&p_err[i]);
		og_close_fd(&p_sync[i]);
		og_close_fd(&p_stat[i]);
		og_close_fd(&p_notif[i]);
	}
	og_close_fd(&listener);
	og_close_fd(&upper);
	og_close_fd(&pidfd);
	og_close_fd(&cgfd);
	og_close_fd(&mnt);		/* the last reference: the tmpfs and its upper layer go */
	cg_remove(&cg);
	free(path);
	free(envp);
	return rc;
}

void og_sandbox_result_release(struct og_sandbox_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	free(r->denied);
	og_sandbox_files_release(&r->files);
	memset(r, 0, sizeof(*r));
}
