/*
 * trace_impact.h: the loader of bpf/impact.bpf.c, the eBPF impact trace of
 * sandboxed dry-runs (dryrun/ folds its events into the report).
 *
 * The programs are loaded and attached by the first og_impact_open of a
 * process (5-8 ms here with the minimal BTF of impact_btf.h, 20-30 ms
 * when libbpf must parse the kernel's), and stay attached while
 * dry-runs follow each other: 2 s after the last handle closed they are
 * unloaded (attached tracepoints slow every syscall of the host down), as
 * at exit, through a holder that takes the links (see trace_impact.c); one reader thread drains the ring buffer and hands each
 * event to the dry-run of its cgroup. Per dry-run: og_impact_open gets a
 * handle, og_impact_arm (from the sandbox's on_start, before the child
 * runs) adds the sandbox's cgroup id to the filter, og_impact_finish
 * removes it, waits for a drain and hands out that dry-run's events only.
 * Dry-runs on several threads at once each get their own.
 * Any host that cannot trace (built with BPF=0, not root, no BTF, no
 * tracefs, a kernel that refuses the programs) gets -OG_ESTATE and a
 * precise reason, never a crash or a hang.
 */
#ifndef OG_TRACE_IMPACT_H
#define OG_TRACE_IMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/impact.h"
#include "../core/err.h"

struct og_impact_trace;

/* A dry-run's handle; loads and attaches on the process's first call.
 * *out is NULL on failure (-OG_ESTATE: the host cannot
 * trace, err says why; -OG_ENOMEM). */
int og_impact_open(struct og_impact_trace **out, struct og_err *err);

/* Hooks this kernel lacks, e.g. "sys_exit_finit_module sys_exit_kexec_load"
 * (a kernel built without modules or kexec has no such syscalls and no
 * tracepoints for them); "" when every hook is attached. */
const char *og_impact_missing(const struct og_impact_trace *t);

/* Milliseconds og_impact_open spent loading and attaching: 0 unless this
 * handle was the one that loaded (og_impact_cold). */
int64_t og_impact_setup_ms(const struct og_impact_trace *t);
bool og_impact_cold(const struct og_impact_trace *t);
/* Which BTF relocated the programs: "minimal (...)" or "the kernel's: why". */
const char *og_impact_btf(const struct og_impact_trace *t);
/* The dry-run's counters (opens for writing, unlinks), read when
 * og_impact_finish took its cgroup out of the filter; zero before. */
void og_impact_counts(const struct og_impact_trace *t, struct impact_counts *c);

/* Records the tasks of cgroup v2 id cgroup_id from now on, for t. */
int og_impact_arm(struct og_impact_trace *t, uint64_t cgroup_id, struct og_err *err);

/* Stops recording and returns the events in the order they were submitted
 * (*ev stays owned by t until og_impact_close) and how many the ring
 * buffer could not hold or past the 20,000 kept (*lost). */
int og_impact_finish(struct og_impact_trace *t, const struct impact_event **ev, size_t *n, uint64_t *lost,
		     struct og_err *err);

/* Disarms if need be and frees the handle (the programs stay); NULL is fine. */
void og_impact_close(struct og_impact_trace *t);

/* Whether the programs are loaded now, and how long a process keeps them
 * with no handle open (10,000 ms unless set; tests set it shorter). */
bool og_impact_loaded(void);
void og_impact_set_idle_unload_ms(int64_t ms);


#endif
