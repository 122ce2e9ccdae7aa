/*
 * strbuf.h: the one growable string of the engine, for the text renderers
 * (graph diagrams, Slack messages, dry-run verdicts). An allocation failure
 * is sticky: later appends do nothing, and the owner checks `failed` once
 * at the end instead of after every append.
 */
#ifndef OG_STRBUF_H
#define OG_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct og_strbuf {
	char *p;		/* NUL-terminated once anything was added; owned */
	size_t len, cap;
	bool failed;		/* an allocation failed: the text is incomplete */
};

/* Room for extra more bytes (and the NUL); 0, or -1 with failed set. */
int og_strbuf_reserve(struct og_strbuf *b, size_t extra);
void og_strbuf_putn(struct og_strbuf *b, const char *s, size_t n);
void og_strbuf_puts(struct og_strbuf *b, const char *s);	/* NULL adds nothing */
void og_strbuf_printf(struct og_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void og_strbuf_vprintf(struct og_strbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The text (an empty string when nothing was added), which the caller then
 * owns, or NULL when an allocation failed; b is emptied either way. */
char *og_strbuf_take(struct og_strbuf *b);
void og_strbuf_release(struct og_strbuf *b);

#endif
