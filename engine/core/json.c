/*
 * json.c: the printer of json.h. Integers within +-2^53 are printed by hand;
 * other numbers as cJSON does (15 significant digits, or 17 when 15 do not
 * read back to the same double) so output is byte-identical to cJSON's.
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the slow path of reserve: kept out of line so put() inlines small */
static int grow(struct og_json_out *o, size_t n)
{
	char *p;
	size_t cap = o->cap ? o->cap : 256;

	while (cap < o->len + n + 1)
		cap *= 2;
	if (!(p = realloc(o->p, cap))) {
		o->failed = 1;
		return -1;
	}
	o->p = p;
	o->cap = cap;
	return 0;
}

static inline int reserve(struct og_json_out *o, size_t n)
{
	return o->len + n + 1 <= o->cap ? 0 : grow(o, n);
}

/* inlined: a checkpoint's printing is mostly short keys and punctuation */
static inline void put(struct og_json_out *o, const char *s, size_t n)
{
	if (reserve(o, n) == 0) {
		memcpy(o->p + o->len, s, n);
		o->len += n;
	}
}

static inline void put_char(struct og_json_out *o, char c)
{
	if (reserve(o, 1) == 0)
		o->p[o->len++] = c;
}

static void put_number(struct og_json_out *o, double d)
{
	char buf[32];
	int n;

	if (isnan(d) || isinf(d)) {
		put(o, "null", 4);
		return;
	}
	if (d == (double)(long long)d && fabs(d) < 9007199254740992.0) {
		/* the common case: counters, ids, timestamps in ms */
		static const char pairs[] = "00010203040506070809101112131415161718192021222324"
					    "25262728293031323334353637383940414243444546474849"
					    "50515253545556575859606162636465666768697071727374"
					    "75767778798081828384858687888990919293949596979899";
		long long v = (long long)d;
		char tmp[24], *q = tmp + sizeof(tmp);
		int neg = v < 0;
		unsigned long long u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
		/* two digits a division: timestamps in ms have 13 */
		while (u >= 100) {
			unsigned r = (unsigned)(u % 100);
			u /= 100;
			*--q = pairs[2 * r + 1];
			*--q = pairs[2 * r];
		}
		if (u >= 10) {
			*--q = pairs[2 * u + 1];
			*--q = pairs[2 * u];
		} else {
			*--q = (char)('0' + u);
		}
		if (neg)
			*--q = '-';
		put(o, q, (size_t)(tmp + sizeof(tmp) - q));
		return;
	}
	n = snprintf(buf, sizeof(buf), "%1.15g", d);
	if (strtod(buf, NULL) != d)
		n = snprintf(buf, sizeof(buf), "%1.17g", d);
	put(o, buf, (size_t)n);
}

/* 1 for the bytes a JSON string holds as they are: not a control
 * character, '"' or '\\' (one load a byte in the short tails the word
 * and vector skips leave) */
static const unsigned char plain[256] = {
#define P16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x22 '"' */
	P16, P16,							/* 0x30..0x4f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,		/* 0x5c '\\' */
	P16, P16,							/* 0x60..0x7f */
	P16, P16, P16, P16, P16, P16, P16, P16,				/* 0x80..0xff */
#undef P16
};

/* put_string for a string with a byte to escape in [p, end) */
static void put_escaped(struct og_json_out *o, const unsigned char *p, const unsigned char *end)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *run = p;

	put_char(o, '"');
	for (;; p++) {
		unsigned char c;
		char esc[6];
		size_t n = 2;
		/* eight bytes at a time while none needs escaping: values are
		 * mostly plain text, and byte by byte this loop was the largest
		 * single cost of printing a checkpoint; then byte by byte to the
		 * byte that needs it, or through the last few (keys are mostly
		 * shorter than 8 bytes) */
		p = (const unsigned char *)og_json_skip_plain((const char *)p, (const char *)end);
		while (p < end && plain[*p])
			p++;
		c = *p;
		put(o, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		put(o, esc, n);
		run = p + 1;
	}
	put_char(o, '"');
}

static void put_string(struct og_json_out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *q, *end;
	size_t n = strlen((const char *)p);

	/* the usual string needs no escape: one reservation and one copy
	 * (keys and values are mostly short plain text; a byte loop with a
	 * check per piece was the printer's largest cost) */
	end = p + n;
	q = (const unsigned char *)og_json_skip_plain((const char *)p, (const char *)end);
	while (q < end && plain[*q])
		q++;
	if (q < end) {
		put_escaped(o, p, end);
		return;
	}
	if (reserve(o, n + 2) == 0) {
		char *w = o->p + o->len;
		w[0] = '"';
		memcpy(w + 1, p, n);
		w[n + 1] = '"';
		o->len += n + 2;
	}
}

static void put_value(struct og_json_out *o, const cJSON *v, int depth)
{
	const cJSON *c;

	if (depth > 1000) {
		o->failed = 1;
		return;
	}
	/* the type byte directly: the cJSON_Is* calls go through the PLT */
	switch (v ? v->type & 0xFF : cJSON_NULL) {
	case cJSON_False:
		put(o, "false", 5);
		break;
	case cJSON_True:
		put(o, "true", 4);
		break;
	case cJSON_Number:
		put_number(o, v->valuedouble);
		break;
	case cJSON_String:
		put_string(o, v->valuestring);
		break;
	case cJSON_Raw:
		if (v->valuestring)
			put(o, v->valuestring, strlen(v->valuestring));
		break;
	case cJSON_Array:
		put_char(o, '[');
		for (c = v->child; c && !o->failed; c = c->next) {
			put_value(o, c, depth + 1);
			if (c->next)
				put_char(o, ',');
		}
		put_char(o, ']');
		break;
	case cJSON_Object:
		put_char(o, '{');
		for (c = v->child; c && !o->failed; c = c->next) {
			put_string(o, c->string);
			put_char(o, ':');
			put_value(o, c, depth + 1);
			if (c->next)
				put_char(o, ',');
		}
		put_char(o, '}');
		break;
	default:			/* null, invalid */
		put(o, "null", 4);
	}
}

char *og_json_print(const cJSON *v, size_t *len)
{
	struct og_json_out o = { 0 };

	put_value(&o, v, 0);
	if (o.failed || reserve(&o, 0) < 0) {
		free(o.p);
		return NULL;
	}
	o.p[o.len] = '\0';
	if (len)
		*len = o.len;
	return o.p;
}

void og_json_out_string(struct og_json_out *o, const char *s)
{
	put_string(o, s);
}

void og_json_out_number(struct og_json_out *o, double d)
{
	put_number(o, d);
}

void og_json_out_raw(struct og_json_out *o, const char *s, size_t n)
{
	put(o, s, n);
}

char *og_json_out_finish(struct og_json_out *o, size_t *len)
{
	if (o->failed || reserve(o, 0) < 0) {
		free(o->p);
		o->p = NULL;
		o->len = o->cap = 0;	/* reusable: a buffer kept from print to print */
		return NULL;
	}
	o->p[o->len] = '\0';
	if (len)
		*len = o->len;
	return o->p;
}

int og_json_out_value(struct og_json_out *o, const cJSON *v)
{
	put_value(o, v, 0);
	return o->failed ? -1 : 0;
}
