/*
 * utf8.c: og_utf8_clean, the UTF-8 repair of captured output for JSON
 * reports (sandbox run, dry-run reports).
 */
#include "utf8.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

char *og_utf8_clean(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(n * 3 + 1), *o = out;
	size_t i = 0;

	if (!out)
		return NULL;
	while (i < n) {
		unsigned char c = u[i];
		size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		size_t k;
		bool ok = len && c && i + len <= n && !(len == 2 && c < 0xC2) && !(len == 4 && c > 0xF4);

		for (k = 1; ok && k < len; k++)
			ok = (u[i + k] & 0xC0) == 0x80;
		if (ok && len == 3)	/* overlong or a surrogate */
			ok = !(c == 0xE0 && u[i + 1] < 0xA0) && !(c == 0xED && u[i + 1] >= 0xA0);
		if (ok && len == 4)
			ok = !(c == 0xF0 && u[i + 1] < 0x90) && !(c == 0xF4 && u[i + 1] >= 0x90);
		if (ok) {
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
