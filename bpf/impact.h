/*
 * impact.h: the events of the dry-run impact trace (bpf/impact.bpf.c), shared
 * by the BPF program and its loader (engine/trace/trace_impact.c). Plain C
 * types only: it is compiled against vmlinux.h on one side and libc on the other.
 */
#ifndef OG_BPF_IMPACT_H
#define OG_BPF_IMPACT_H

#define IMPACT_PATH_MAX 256
#define IMPACT_COMM_LEN 16
#define IMPACT_MAX_CGROUPS 256	/* dry-runs traced at once by one process */

enum impact_kind {
	IMPACT_EXEC = 1,	/* path = the executable, path2 = argv (NUL-separated, arg_len bytes) */
	IMPACT_EXEC_FAIL,	/* execve that returned ret < 0; path = what was asked */
	IMPACT_FORK,		/* a new process: pid = child, ppid = parent */
	IMPACT_EXIT,		/* a process ended: code = the wait status (exit << 8 | signal) */
	IMPACT_OPEN,		/* opened for writing or created: path, flags, ret = fd or -errno */
	IMPACT_UNLINK,		/* path, flags (AT_REMOVEDIR) */
	IMPACT_RENAME,		/* path -> path2 */
	IMPACT_CHMOD,		/* path, mode */
	IMPACT_CONNECT,		/* family, addr (4 or 16 bytes, or the unix path in path), port */
	IMPACT_SIGNAL,		/* target (pid, tid or pidfd per call), sig, call; pidfd: code = its host pid */
	IMPACT_DENIED,		/* denied syscall: call = index in IMPACT_DENIED_LIST, ret = -EPERM */
};

/* calls of IMPACT_SIGNAL */
enum impact_sigcall { IMPACT_KILL = 1, IMPACT_TGKILL, IMPACT_TKILL, IMPACT_PIDFD_SEND_SIGNAL };

/* The syscalls of the sandbox's seccomp denylist that matter to an approver
 * (mounts and the escapes from the overlay, namespaces, modules, kexec,
 * reboot, bpf, ptrace, perf). Each is one more tracepoint to attach and
 * detach, so the rest of the denylist (iopl, swapon, keyctl...) is left out.
 * Seccomp runs
 * before sys_enter, so they are caught at sys_exit_NAME. A kernel built
 * without a syscall (no modules, no kexec) has no tracepoint for it: the
 * loader skips that program and says so. */
#define IMPACT_DENIED_LIST(X)                                                                  \
	X(mount) X(umount) X(pivot_root) X(chroot) X(unshare) X(setns) X(reboot) X(kexec_load)   \
	X(kexec_file_load) X(init_module) X(finit_module) X(delete_module) X(bpf)               \
	X(perf_event_open) X(ptrace) X(open_by_handle_at) X(fsopen) X(move_mount) X(open_tree)

#define IMPACT_DENIED_ENUM(n) IMPACT_DENIED_##n,
enum impact_denied { IMPACT_DENIED_LIST(IMPACT_DENIED_ENUM) IMPACT_DENIED_COUNT };
#undef IMPACT_DENIED_ENUM

struct impact_event {
	unsigned long long cgid;	/* the cgroup v2 id of the task */
	unsigned int kind;
	int pid;		/* tgid as the host sees it */
	int tid;
	int ppid;		/* parent's tgid (host) */
	int nspid;		/* the pid inside the sandbox's pid namespace */
	int call;		/* enum impact_sigcall or enum impact_denied */
	long long ret;
	unsigned long long ts_ns;
	unsigned int flags;	/* open flags, unlink flags, chmod mode */
	int target;		/* signal target */
	int sig;
	int code;		/* exit status */
	unsigned short family, port;
	unsigned int arg_len;	/* bytes of argv in path2 */
	unsigned char addr[16];
	char comm[IMPACT_COMM_LEN];
	char path[IMPACT_PATH_MAX];
	char path2[IMPACT_PATH_MAX];
};

#endif
