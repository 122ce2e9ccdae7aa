/*
 * impact_btf.h: the minimal BTF of bpf/impact.bpf.c for a cold load.
 *
 * CO-RE relocations need the kernel's type information. Left to itself,
 * libbpf parses all of /sys/kernel/btf/vmlinux (5 MB, ~13 ms here: half of
 * a cold traced dry-run) to relocate a few dozen field reads. The build
 * extracts the types the programs use (`bpftool gen min_core_btf`, about
 * 1 KB) from the build host's kernel and records which kernel that was (its
 * /sys/kernel/notes, which hold the GNU build id, and the size of its BTF).
 * On that same kernel the loader hands libbpf the small file; on any other
 * it lets libbpf read the running kernel's BTF, as before.
 */
#ifndef OG_TRACE_IMPACT_BTF_H
#define OG_TRACE_IMPACT_BTF_H

#include <stddef.h>

/* A readable path to the minimal BTF (a memfd as /proc/self/fd/N, written
 * into path) when the running kernel is the one the binary was built on:
 * returns the fd, to close once the object is loaded. Otherwise -1, and
 * why (e.g. "built on another kernel") in why: use the kernel's own BTF. */
int og_impact_btf_open(char *path, size_t path_len, char *why, size_t why_len);

#endif
