/*
 * hostsig_check.h: can this host run the eBPF host-signal collectors, and
 * if not, exactly why (design section 5: privilege, BTF, lockdown, tracefs,
 * cgroup2, unprivileged_bpf_disabled, each program type probed by loading
 * and attaching a two-instruction program, ring buffer). `opsgraph doctor`
 * prints every check; og_hostsig_collect uses og_hostsig_unusable for the
 * note a run gets when it falls back to /proc.
 */
#ifndef OG_TRACE_HOSTSIG_CHECK_H
#define OG_TRACE_HOSTSIG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct og_err;

struct og_hostsig_check {
	const char *name;	/* "privilege", "btf", "prog_type.tracepoint", ... */
	bool ok;
	bool hard;		/* without it no eBPF collector can run */
	char detail[300];	/* what was found, or why it is missing and how to fix it */
};

#define OG_HOSTSIG_NCHECKS 14

/* Runs every check (a few ms; may mount tracefs and securityfs when they
 * are missing and this process may) into c[0..returned). */
size_t og_hostsig_checks(struct og_hostsig_check *c, size_t max);

/* The quick checks (build, privilege, BTF): true with `why` filled when no
 * eBPF collector can run here. */
bool og_hostsig_unusable(char *why, size_t n);

/* The cgroup v2 id (the directory's inode, what bpf_get_current_cgroup_id
 * returns) of dir for `probe --cgroup` and ctx.host.signals{cgroup}; -OG_EINVAL
 * with the reason when dir is not a directory of a cgroup2 mount (a plain
 * directory's inode matches no task: every scoped collector would report
 * nothing, which reads as a quiet host). */
int og_hostsig_cgroup_id(const char *dir, uint64_t *id, struct og_err *err);

#endif
