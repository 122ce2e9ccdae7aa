/*
 * utf8.c: og_utf8_clean, the UTF-8 repair of captured output for JSON
 * reports (sandbox run, dry-run reports).
 */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t og_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, k;
	uint32_t cp;

	if (c && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

char *og_utf8_clean(const char *s, size_t n)
{
	char *out = malloc(n * 3 + 1), *o = out;
	size_t i = 0;

	if (!out)
		return NULL;
	while (i < n) {
		size_t len = og_utf8_seq_len((const unsigned char *)s + i, n - i);

		if (len) {
			memcpy(o, s + i, len);
			o += len;
			i += len;
		} else {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}
