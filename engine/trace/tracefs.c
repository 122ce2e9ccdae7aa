/*
 * tracefs.c: see tracefs.h. Checks the filesystem type rather than a path
 * so that an empty directory (the usual state of /sys/kernel/tracing before
 * the mount) is not mistaken for a mounted tracefs.
 */
#include "tracefs.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

static bool tracefs_is_mounted(void)
{
	struct statfs sf;

	return statfs(OG_TRACEFS_PATH, &sf) == 0 && (unsigned long)sf.f_type == TRACEFS_MAGIC;
}

int og_tracefs_ensure(bool *mounted_now, struct og_err *err)
{
	struct stat st;

	if (mounted_now)
		*mounted_now = false;
	if (tracefs_is_mounted())
		return 0;
	if (stat(OG_TRACEFS_PATH, &st) != 0)
		return og_err_set(err, -OG_ESTATE,
				  "tracefs: %s does not exist (%s): the kernel has no tracefs "
				  "(CONFIG_TRACING off); classic tracepoints cannot attach",
				  OG_TRACEFS_PATH, strerror(errno));
	if (mount("tracefs", OG_TRACEFS_PATH, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		int e = errno;

		/* a concurrent tracer may have won the race */
		if (tracefs_is_mounted())
			return 0;
		return og_err_set(err, -OG_ESTATE,
				  "tracefs: not mounted at %s and mounting it failed (%s); "
				  "mount it (mount -t tracefs tracefs %s) or run as root",
				  OG_TRACEFS_PATH, strerror(e), OG_TRACEFS_PATH);
	}
	if (mounted_now)
		*mounted_now = true;
	return 0;
}
