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
	IMPACT_OPEN,		/* opened for writing where the overlay diff cannot show it (failed, or
				 * not on the overlay): path, flags, ret = fd or -errno */
	IMPACT_RENAME,		/* path -> path2 */
	IMPACT_CHMOD,		/* path, mode */
	IMPACT_CONNECT,		/* family, addr (4 or 16 bytes, or the unix path in path), port */
	IMPACT_SIGNAL,		/* target (pid, tid or pidfd per call), sig, call; pidfd: code = its host pid */
};

/* per traced cgroup, the value of the cgids map */
struct impact_counts {
	unsigned long long opens_for_write;	/* every open with a write flag, IMPACT_OPEN or not */
	unsigned long long unlinks;		/* unlink and unlinkat calls */
	unsigned int started;	/* the tool's first exec happened: the sandbox's own setup is not counted */
	unsigned int pad;
};

/* calls of IMPACT_SIGNAL */
enum impact_sigcall { IMPACT_KILL = 1, IMPACT_TGKILL, IMPACT_TKILL, IMPACT_PIDFD_SEND_SIGNAL };

struct impact_event {
	unsigned long long cgid;	/* the cgroup v2 id of the task */
	unsigned int kind;
	int pid;		/* tgid as the host sees it */
	int tid;
	int ppid;		/* parent's tgid (host) */
	int nspid;		/* the pid inside the sandbox's pid namespace */
	int call;		/* enum impact_sigcall */
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
