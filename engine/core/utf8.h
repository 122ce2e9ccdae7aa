/*
 * utf8.h: bytes a command printed, made safe for a JSON report. A tool's
 * output is arbitrary bytes; cJSON strings must be valid UTF-8 without NUL.
 */
#ifndef OG_UTF8_H
#define OG_UTF8_H

#include <stddef.h>

/* The length (1-4) of the valid UTF-8 sequence at s[0..n), or 0 when the
 * bytes there are not one: NUL, a stray continuation byte, an overlong form,
 * a surrogate, beyond U+10FFFF, or cut short by n. */
size_t og_utf8_seq_len(const unsigned char *s, size_t n);

/* s[0..n) as a new NUL-terminated valid UTF-8 string: NUL bytes and bytes
 * that do not form UTF-8 (overlong forms, surrogates, > U+10FFFF) become
 * U+FFFD. Caller frees; NULL when memory runs out. */
char *og_utf8_clean(const char *s, size_t n);

#endif
