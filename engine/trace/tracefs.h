/*
 * tracefs.h: make sure tracefs is mounted before classic tracepoints attach.
 *
 * libbpf attaches a "tracepoint/CAT/NAME" program by reading the event id
 * from <tracefs>/events/CAT/NAME/id. A host whose init does not mount tracefs
 * (no systemd: containers, Firecracker guests like ours) has the filesystem
 * compiled in but nothing at /sys/kernel/tracing, and every attach fails with
 * ENOENT. tp_btf and raw_tp programs attach by name and do not need it.
 * Both the dry-run tracer and the host-signal collectors call this first.
 */
#ifndef OG_TRACEFS_H
#define OG_TRACEFS_H

#include <stdbool.h>

#include "../core/err.h"

#define OG_TRACEFS_PATH "/sys/kernel/tracing"

/* Returns 0 when OG_TRACEFS_PATH holds a tracefs (mounting it there when it
 * does not and this process may; *mounted_now tells, and may be NULL), or
 * -OG_ESTATE with err saying why tracepoints cannot attach. The mount is
 * left in place: it is what a systemd host has from boot, and unmounting it
 * would break a concurrent tracer. */
int og_tracefs_ensure(bool *mounted_now, struct og_err *err);

#endif
