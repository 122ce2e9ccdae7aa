/*
 * capture.h: the bounded capture of a child's stdout or stderr, shared by
 * the tool runner (proc/) and the dry-run sandbox (sandbox/). A child may
 * print without end; only the first `max` bytes are kept and the rest is
 * read and dropped, so the child never blocks on a full pipe.
 */
#ifndef OG_CAPTURE_H
#define OG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

struct og_capture {
	int fd;			/* the read end; -1 at EOF */
	char *buf;		/* NUL-terminated once anything was kept; caller frees */
	size_t len, cap, max;
	bool truncated;		/* bytes were dropped past max */
};

/* Reads what the pipe holds now (one read). At EOF closes fd and sets it to
 * -1. Returns 0, or -1 with errno on a read error or ENOMEM. */
int og_capture_read(struct og_capture *c);

/* Closes *fd when it is open and sets it to -1. */
void og_close_fd(int *fd);

#endif
