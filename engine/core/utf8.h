/*
 * utf8.h: bytes a command printed, made safe for a JSON report. A tool's
 * output is arbitrary bytes; cJSON strings must be valid UTF-8 without NUL.
 */
#ifndef OG_UTF8_H
#define OG_UTF8_H

#include <stddef.h>

/* s[0..n) as a new NUL-terminated valid UTF-8 string: NUL bytes and bytes
 * that do not form UTF-8 (overlong forms, surrogates, > U+10FFFF) become
 * U+FFFD. Caller frees; NULL when memory runs out. */
char *og_utf8_clean(const char *s, size_t n);

#endif
