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

struct out {
	char *p;
	size_t len, cap;
	int failed;
};

static int reserve(struct out *o, size_t n)
{
	char *p;
	size_t cap;

	if (o->len + n + 1 <= o->cap)
		return 0;
	cap = o->cap ? o->cap : 256;
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

static void put(struct out *o, const char *s, size_t n)
{
	if (reserve(o, n) == 0) {
		memcpy(o->p + o->len, s, n);
		o->len += n;
	}
}

static void put_number(struct out *o, double d)
{
	char buf[32];
	int n;

	if (isnan(d) || isinf(d)) {
		put(o, "null", 4);
		return;
	}
	if (d == (double)(long long)d && fabs(d) < 9007199254740992.0) {
		/* the common case: counters, ids, timestamps in ms */
		long long v = (long long)d;
		char tmp[24], *q = tmp + sizeof(tmp);
		int neg = v < 0;
		unsigned long long u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
		do {
			*--q = (char)('0' + u % 10);
			u /= 10;
		} while (u);
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

static void put_string(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *run = p;

	put(o, "\"", 1);
	for (;; p++) {
		unsigned char c = *p;
		char esc[6];
		size_t n = 2;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, (const char *)run, (size_t)(p - run));
		if (c == '\0')
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
	put(o, "\"", 1);
}

static void put_value(struct out *o, const cJSON *v, int depth)
{
	const cJSON *c;

	if (depth > 1000) {
		o->failed = 1;
		return;
	}
	if (!v || cJSON_IsNull(v) || cJSON_IsInvalid(v)) {
		put(o, "null", 4);
	} else if (cJSON_IsFalse(v)) {
		put(o, "false", 5);
	} else if (cJSON_IsTrue(v)) {
		put(o, "true", 4);
	} else if (cJSON_IsNumber(v)) {
		put_number(o, v->valuedouble);
	} else if (cJSON_IsString(v)) {
		put_string(o, v->valuestring);
	} else if (cJSON_IsRaw(v)) {
		if (v->valuestring)
			put(o, v->valuestring, strlen(v->valuestring));
	} else if (cJSON_IsArray(v)) {
		put(o, "[", 1);
		for (c = v->child; c && !o->failed; c = c->next) {
			put_value(o, c, depth + 1);
			if (c->next)
				put(o, ",", 1);
		}
		put(o, "]", 1);
	} else if (cJSON_IsObject(v)) {
		put(o, "{", 1);
		for (c = v->child; c && !o->failed; c = c->next) {
			put_string(o, c->string);
			put(o, ":", 1);
			put_value(o, c, depth + 1);
			if (c->next)
				put(o, ",", 1);
		}
		put(o, "}", 1);
	}
}

char *og_json_print(const cJSON *v, size_t *len)
{
	struct out o = { 0 };

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
