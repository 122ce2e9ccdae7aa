/*
 * dryrun.h: the dry-run of one action and its impact report (issue #6).
 *
 * og_dryrun_run runs the action's command in the sandbox (sandbox/: its own
 * namespaces, a copy-on-write overlay of /, cgroup limits, seccomp), and,
 * when asked and the host allows it, under the eBPF impact trace (trace/,
 * bpf/impact.bpf.c) scoped to the sandbox's cgroup. The tool's own dry-run
 * (native_argv, e.g. `kubectl ... --dry-run=server`) runs in a sandbox too.
 * Both are folded into one JSON report that says what the action would do:
 * processes, files (from the overlay diff, which needs no eBPF), network
 * attempts, signals, syscalls the sandbox denied, writes outside what the
 * tool declared, exit, output and a one-line verdict.
 *
 * A host where a dry-run is impossible (no root, no namespaces) still gets
 * a report: "fidelity":"none" and the reason. A missing trace (not root, no
 * BTF, a kernel that refuses the programs, a build without eBPF) lowers the
 * report, not the run: "reason" says "eBPF trace off: <why>".
 */
#ifndef OG_DRYRUN_H
#define OG_DRYRUN_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "../core/err.h"

struct og_dryrun_spec {
	const char *tool;			/* registry name, for the report */
	const char *const *argv;		/* the command as it would really run (NULL-terminated) */
	const char *const *native_argv;		/* the tool's own dry-run (e.g. kubectl ... --dry-run=server), or NULL */
	const char *const *env;			/* extra NAME=value, or NULL */
	const char *const *expect_writes;	/* glob patterns of paths the tool declares it writes; NULL = undeclared */
	int64_t timeout_ms, memory_mb, pids, tmpfs_mb;	/* 0 = sandbox defaults */
	bool trace;				/* eBPF impact trace when this host allows it */
};

/* Dry-runs one action. Returns 0 and a report (*report owned by the caller) also when the
 * dry-run was impossible (no root, no namespaces...): then "fidelity":"none" and "reason".
 * Returns <0 (err set) only for a bad spec. */
int og_dryrun_run(const struct og_dryrun_spec *spec, cJSON **report, struct og_err *err);

/* The one-line verdict of a report (used by the report itself, Slack, UI):
 * "touches 2 files under /etc/nginx, signals nginx (pid 812) with SIGHUP,
 * no network", plus "exit 1", "timed out", "denied: mount" when so. Caller
 * frees; NULL only when memory runs out. */
char *og_dryrun_verdict(const cJSON *report);

/* exit_code (null when a signal ended it), signal (or null) and timed_out of
 * a sandbox result, as the report names them; `opsgraph sandbox run` uses
 * it for its plain report too. */
struct og_sandbox_result;
void og_dryrun_add_exit(cJSON *o, const struct og_sandbox_result *r);

#endif
