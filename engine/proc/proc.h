/*
 * proc.h: run a command without a shell and capture what it prints.
 *
 * og_proc_run forks and execs argv[0] (looked up in the clean PATH below when
 * it has no '/'), with stdin from /dev/null, stdout and stderr read through
 * pipes (each capped: the first max_output bytes are kept, the rest is read
 * and dropped), in its own process group, with only fds 0, 1, 2 open and a
 * clean environment: PATH=/usr/sbin:/usr/bin:/sbin:/bin, LANG=C, plus
 * opts->env. On timeout the process group gets SIGTERM, then SIGKILL after
 * kill_grace_ms. Signal dispositions and the signal mask are reset to the
 * defaults in the child.
 *
 * A command that cannot be started (not found: exit_code 127; found but not
 * executable: 126) is a result, not an error: og_proc_run returns 0 and
 * stderr holds the reason. Only fork/pipe/poll failures return -OG_EIO
 * (and -OG_EINVAL for an empty argv, -OG_ENOMEM).
 */
#ifndef OG_PROC_H
#define OG_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

#define OG_PROC_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
#define OG_PROC_MAX_OUTPUT_DEFAULT (64 * 1024)
#define OG_PROC_KILL_GRACE_MS_DEFAULT 2000

struct og_proc_opts {
	const char *const *env;	/* extra "NAME=value" entries, NULL-terminated; NULL = none */
	int64_t timeout_ms;	/* wall clock; 0 = none */
	size_t max_output;	/* bytes kept per stream; 0 = OG_PROC_MAX_OUTPUT_DEFAULT */
	int64_t kill_grace_ms;	/* SIGTERM to SIGKILL; 0 = OG_PROC_KILL_GRACE_MS_DEFAULT */
};

struct og_proc_result {
	int exit_code;		/* the exit status; -1 when a signal ended the process */
	int signal;		/* the signal that ended it, or 0 */
	bool timed_out;		/* the timeout expired and the group was killed */
	char *out;		/* stdout, NUL-terminated (binary data may hold NULs); owned */
	size_t out_len;
	bool out_truncated;
	char *err;		/* stderr, likewise */
	size_t err_len;
	bool err_truncated;
	int64_t duration_ms;
};

/* Runs argv (NULL-terminated) to completion; r is filled (release it with
 * og_proc_result_release, also after a failure). opts may be NULL. */
int og_proc_run(const char *const *argv, const struct og_proc_opts *o, struct og_proc_result *r,
		struct og_err *err);

void og_proc_result_release(struct og_proc_result *r);

#endif
