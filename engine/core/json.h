/*
 * json.h: compact JSON text from cJSON trees, fast. cJSON_PrintUnformatted
 * formats every number through sprintf and sscanf and grows its buffer in
 * small steps; checkpoints print several values per superstep, so the
 * printer was a tenth of a benchmarked incident run. The text is cJSON's
 * except for numbers, which here always read back to the same double (cJSON
 * keeps 15 digits when they are "close enough" and prints integers above
 * 2^31 in exponent form with 15 digits, losing the last ones).
 */
#ifndef OG_JSON_H
#define OG_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cJSON.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Prints v unformatted into a new NUL-terminated string (free() it); *len,
 * when not NULL, receives its length. NULL v prints "null". Returns NULL
 * when memory runs out or the tree is nested deeper than 1000 levels. */
char *og_json_print(const cJSON *v, size_t *len);

/* A growing output buffer for printing JSON piece by piece (lconv's Lua ->
 * JSON text): p is NUL-terminated by og_json_out_finish. Zero it to start;
 * free(p) after. The pieces print exactly as og_json_print prints a cJSON
 * string (s NUL-free), number or raw text. */
struct og_json_out {
	char *p;
	size_t len, cap;
	int failed;
};
void og_json_out_string(struct og_json_out *o, const char *s);
void og_json_out_number(struct og_json_out *o, double d);
void og_json_out_raw(struct og_json_out *o, const char *s, size_t n);
/* NUL-terminates: the text, or NULL when memory ran out (p freed, len and
 * cap 0: o can be used again). */
char *og_json_out_finish(struct og_json_out *o, size_t *len);
/* Appends og_json_print's text of v to o (not NUL-terminated): a buffer
 * kept from one print to the next saves its allocations. 0, or -1 when
 * memory ran out or v nests too deep (o->failed; reset it to reuse o). */
int og_json_out_value(struct og_json_out *o, const cJSON *v);

/* Member k of object o for printing: its string, or "" when absent or not
 * a string; its number, or 0. For listings that show what is there. */
static inline const char *og_json_get_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static inline double og_json_get_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* og_json_print without the length, a drop-in for cJSON_PrintUnformatted. */
static inline char *og_json_print_text(const cJSON *v)
{
	return og_json_print(v, NULL);
}

/* The first byte in [p, end) that a JSON string cannot hold as is (a
 * control character, '"' or '\\'), or, when fewer than 8 bytes remain
 * without one, the start of those last few: the printer skips plain text
 * with it, then looks at single bytes. 16 bytes a step with SSE2 (x86-64
 * has it always), else 8 with word tricks that flag a word only when one
 * of its bytes matches. */
static inline const char *og_json_skip_plain(const char *p, const char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;

#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);

	while (end - p >= 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, bslash)),
					 _mm_cmpeq_epi8(_mm_max_epu8(w, ctl), ctl));	/* w <= 0x1f */
		int bits = _mm_movemask_epi8(m);
		if (bits)
			return p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (end - p >= 8) {
		uint64_t w, lt20, q, bs;
		memcpy(&w, p, 8);
		lt20 = (w - ones * 0x20) & ~w & highs;	/* a byte < 0x20 */
		q = w ^ (ones * '"');
		q = (q - ones) & ~q & highs;		/* a '"' */
		bs = w ^ (ones * '\\');
		bs = (bs - ones) & ~bs & highs;		/* a '\\' */
		if (lt20 | q | bs)
			break;
		p += 8;
	}
	return p;
}

#endif
