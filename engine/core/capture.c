/*
 * capture.c: the bounded capture of a child's output (see capture.h). The
 * buffer grows by doubling up to max + 1, so a quiet child costs little and
 * a loud one never more than its cap.
 */
#include "capture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void og_close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

int og_capture_read(struct og_capture *c)
{
	char tmp[16384];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));
	size_t keep;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0) {
		og_close_fd(&c->fd);
		return 0;
	}
	keep = c->max - c->len < (size_t)n ? c->max - c->len : (size_t)n;
	if (keep < (size_t)n)
		c->truncated = true;
	if (keep) {
		if (c->len + keep + 1 > c->cap) {
			size_t cap = c->cap ? c->cap : 4096;
			char *p;
			while (cap < c->len + keep + 1)
				cap *= 2;
			if (cap > c->max + 1)
				cap = c->max + 1;
			if (!(p = realloc(c->buf, cap))) {
				errno = ENOMEM;
				return -1;
			}
			c->buf = p;
			c->cap = cap;
		}
		memcpy(c->buf + c->len, tmp, keep);
		c->len += keep;
		c->buf[c->len] = '\0';
	}
	return 0;
}
