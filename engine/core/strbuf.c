/*
 * strbuf.c: see strbuf.h. Capacity doubles from 256 bytes, so a long text
 * costs O(log n) reallocations; printf formats in place and retries once
 * with the exact size when the text did not fit.
 */
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int og_strbuf_reserve(struct og_strbuf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -1;
	if (extra > SIZE_MAX - b->len - 1)
		goto fail;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	if (!(p = realloc(b->p, cap)))
		goto fail;
	b->p = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = true;
	return -1;
}

void og_strbuf_putn(struct og_strbuf *b, const char *s, size_t n)
{
	if (og_strbuf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void og_strbuf_puts(struct og_strbuf *b, const char *s)
{
	if (s)
		og_strbuf_putn(b, s, strlen(s));
}

void og_strbuf_vprintf(struct og_strbuf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	if (og_strbuf_reserve(b, 64) < 0)
		return;
	va_copy(again, ap);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	if (n >= 0 && (size_t)n >= b->cap - b->len) {
		if (og_strbuf_reserve(b, (size_t)n) == 0)
			vsnprintf(b->p + b->len, b->cap - b->len, fmt, again);
		else
			n = -1;
	}
	va_end(again);
	if (n < 0) {
		b->failed = true;
		if (b->p)
			b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

void og_strbuf_printf(struct og_strbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	og_strbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *og_strbuf_take(struct og_strbuf *b)
{
	char *p = b->p;

	if (b->failed) {
		free(p);
		p = NULL;
	} else if (!p) {
		p = calloc(1, 1);
	}
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = false;
	return p;
}

void og_strbuf_release(struct og_strbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}
