/*
 * sandbox.h: run a command in a throwaway sandbox (a dry-run) and report what
 * it would have done to the files of the host.
 *
 * og_sandbox_run needs root. The command runs as PID 1 of new mount, PID,
 * network, IPC, UTS and cgroup namespaces, placed by clone3 (CLONE_INTO_CGROUP)
 * into a fresh cgroup v2 group under <cgroup2 mount>/opsgraph-sandbox/<id>,
 * and, on hybrid hosts whose v2 tree has no memory/pids/cpu controllers, into
 * v1 groups of the same name under /sys/fs/cgroup/{memory,pids,cpu}. It sees
 * the host's root filesystem through an overlay whose upper layer lives on a
 * size-capped tmpfs that was never attached to the host's mount table
 * (fsopen/fsmount): writes land there and are thrown away. Inside: fresh
 * /proc (with /proc/sys read-only and /proc/sysrq-trigger masked), a fresh
 * read-only sysfs, tmpfs on /run, /tmp through the overlay, a minimal /dev (null zero full
 * random urandom tty, fd links), an empty network namespace (lo down:
 * every connect fails), a bounding set cut to file-editing capabilities,
 * no_new_privs and a seccomp filter that denies mount, module, kexec, bpf,
 * ptrace, raw I/O and namespace syscalls: each goes to the parent as a
 * SECCOMP_RET_USER_NOTIF notification, answered EPERM and recorded in
 * r->denied (a kernel that refuses the listener gets the plain EPERM filter
 * and r->denials_off says so).
 *
 * After the command ends (or the timeout kills the whole cgroup through
 * cgroup.kill), the overlay's upper layer is walked while the tmpfs is still
 * alive: created, modified (with size) and deleted paths. The cgroups and the
 * tmpfs are always removed; nothing is mounted on the host.
 *
 * Hook for the tracer (issue #6, bpf/): spec->on_start is called after the
 * child is in its cgroup and before it runs a single instruction of its own,
 * with the v2 cgroup id (the cgroup directory's inode number, what
 * bpf_get_current_cgroup_id() returns) and the child's host pid.
 */
#ifndef OG_SANDBOX_H
#define OG_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

#define OG_SANDBOX_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
#define OG_SANDBOX_MAX_OUTPUT_DEFAULT (64 * 1024)
#define OG_SANDBOX_MEMORY_MB_DEFAULT 256
#define OG_SANDBOX_PIDS_DEFAULT 128
#define OG_SANDBOX_TMPFS_MB_DEFAULT 256
#define OG_SANDBOX_TIMEOUT_MS_DEFAULT 30000

struct og_sandbox_spec {
	const char *const *argv;	/* NULL-terminated; argv[0] without '/' is looked up in OG_SANDBOX_PATH */
	const char *const *env;		/* extra "NAME=value", NULL-terminated; NULL = none */
	const char *cwd;		/* inside the sandbox; NULL = "/" */
	int64_t timeout_ms;		/* wall clock; 0 = OG_SANDBOX_TIMEOUT_MS_DEFAULT */
	int64_t memory_mb;		/* 0 = default */
	int64_t pids;			/* 0 = default */
	int64_t cpu_pct;		/* percent of one CPU; 0 = no cap */
	int64_t tmpfs_mb;		/* cap on what the command may write; 0 = default */
	size_t max_output;		/* bytes kept per stream; 0 = default */
	/* the tracer's hook (may be NULL): returns 0 to go on, else the run is
	 * abandoned with that code (err filled by the hook) */
	int (*on_start)(void *arg, uint64_t cgroup_id, int host_pid, struct og_err *err);
	void *on_start_arg;
};

struct og_sandbox_file {
	char *path;		/* absolute, as the host sees it; owned */
	int64_t size;		/* new size (modified, created regular file) or -1 */
};

struct og_sandbox_files {
	struct og_sandbox_file *created, *modified, *deleted;
	size_t n_created, n_modified, n_deleted;
	size_t cap_created, cap_modified, cap_deleted;
};

/* one syscall the seccomp filter denied, answered by the supervisor */
struct og_sandbox_denial {
	char syscall[24];	/* as sandbox_denied_name spells it */
	int pid;		/* the caller's thread id, as the host sees it */
	char comm[17];
};

#define OG_SANDBOX_DENIALS_MAX 256	/* kept; the rest only counted */

struct og_sandbox_result {
	int exit_code;		/* -1 when a signal ended the command */
	int signal;
	bool timed_out;
	bool memory_hit;	/* the memory limit was reached (OOM kill or failed charge) */
	bool pids_hit;		/* a fork failed on the pids limit */
	char *out, *err;	/* NUL-terminated, owned */
	size_t out_len, err_len;
	bool out_truncated, err_truncated;
	int64_t duration_ms;
	uint64_t cgroup_id;
	struct og_sandbox_files files;
	/* every denial, when the kernel gave the supervisor a listener
	 * (denials_seen); else denials_off says why they went unrecorded */
	bool denials_seen;
	struct og_sandbox_denial *denied;	/* owned */
	size_t n_denied, cap_denied, denied_more;
	char denials_off[160];
};

/* What a sandbox needs and this host lacks: returns 0, or -OG_ESTATE with
 * err naming the missing piece (root, cgroup2, overlay, clone3, fsopen). */
int og_sandbox_check(struct og_err *err);

/* Runs spec->argv in a sandbox to completion; r is filled (release it with
 * og_sandbox_result_release, also after a failure). A command that cannot be
 * started (127/126) is a result. Setup failures return -OG_EIO, a host
 * without what og_sandbox_check wants -OG_ESTATE. */
int og_sandbox_run(const struct og_sandbox_spec *spec, struct og_sandbox_result *r, struct og_err *err);

void og_sandbox_result_release(struct og_sandbox_result *r);

/* The overlay diff: walks the upper layer open at upper_fd (not consumed)
 * against lower_root (normally "/") and appends to f. Whiteouts (char device
 * 0:0) are deleted paths; an opaque directory (trusted.overlay.opaque=y)
 * deletes the lower entries it does not hold; a path absent from the lower
 * layer is created (a created directory is listed with its contents); one
 * present in both is modified unless type, mode, owner and bytes are all
 * equal (a copy-up without a change). Lists are sorted. */
int og_sandbox_diff(int upper_fd, const char *lower_root, struct og_sandbox_files *f, struct og_err *err);

void og_sandbox_files_release(struct og_sandbox_files *f);

#endif
