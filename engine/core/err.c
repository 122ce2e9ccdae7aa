/*
 * err.c: struct og_err helpers. Messages are truncated, never overflowed.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int og_err_set(struct og_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int og_err_prefix(struct og_err *err, const char *fmt, ...)
{
	char pre[512];
	size_t plen, mlen;
	va_list ap;

	if (!err)
		return 0;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	plen = strlen(pre);
	mlen = strnlen(err->msg, sizeof(err->msg) - 1);
	if (plen + mlen >= sizeof(err->msg))
		mlen = sizeof(err->msg) - 1 - plen;	/* the tail goes, never the prefix */
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, pre, plen);
	err->msg[plen + mlen] = '\0';
	return err->code;
}

void og_err_clear(struct og_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *og_strerror(int code)
{
	static const char *const names[OG_ECODE_MAX] = {
		[OG_OK] = "ok",
		[OG_EINVAL] = "invalid input",
		[OG_ENOMEM] = "out of memory",
		[OG_EGRAPH] = "invalid graph",
		[OG_ENODE] = "node error",
		[OG_EBUDGET] = "budget exceeded",
		[OG_ELIMIT] = "recursion limit",
		[OG_ENOENT] = "not found",
		[OG_ESTORE] = "store error",
		[OG_EIO] = "i/o error",
		[OG_ESTATE] = "invalid state",
		[OG_ECONFLICT] = "conflict",
	};
	if (code < 0)
		code = -code;
	if (code >= OG_ECODE_MAX || !names[code])
		return "unknown error";
	return names[code];
}
