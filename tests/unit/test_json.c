/*
 * test_json.c: og_json_print's text parses back to exactly the value printed
 * (numbers compared bit for bit), and is cJSON's text wherever cJSON is exact:
 * strings (escapes, control bytes, UTF-8), nesting, small numbers.
 */
#include <stdlib.h>

#include "../test.h"
#include "core/json.h"

/* deep equality with exact number comparison */
static int exact_equal(const cJSON *a, const cJSON *b)
{
	if (!a || !b || (a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if ((x->string || y->string) && (!x->string || !y->string || strcmp(x->string, y->string)))
				return 0;
			else if (!exact_equal(x, y))
				return 0;
		return !x && !y;
	}
	return 1;
}

/* round trip exactly; identical to cJSON's text when `same` */
static void check_doc(const char *text, int same)
{
	cJSON *v = cJSON_Parse(text), *back;
	char *a, *b;
	size_t len = 0;

	CHECK(v != NULL);
	a = cJSON_PrintUnformatted(v);
	b = og_json_print(v, &len);
	CHECK(b != NULL);
	CHECK_INT(len, ==, b ? strlen(b) : 0);
	back = cJSON_Parse(b);
	CHECK(exact_equal(v, back));
	if (same)
		CHECK_STR(b, a);
	free(a);
	free(b);
	cJSON_Delete(back);
	cJSON_Delete(v);
}

int main(void)
{
	/* cJSON is inexact on these: big integers, 17-digit fractions */
	static const char *const inexact[] = {
		"-0", "9007199254740991", "-9007199254740991", "9007199254740993", "0.30000000000000004",
		"[0.1428571428571428,1795531232.4381234]", NULL
	};
	static const char *const docs[] = {
		"null", "true", "false", "0", "1", "-1", "42",
		"1e300", "-1e-300", "0.1", "3.14159",
		"1795531232.438", "2.5e-7", "123456789012345678901234567890",
		"\"\"", "\"plain\"", "\"quote \\\" backslash \\\\ slash /\"", "\"\\b\\f\\n\\r\\t\"",
		"\"\\u0001\\u001f\\u007f\"", "\"caf\\u00e9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
		"[]", "{}", "[1,[2,[3,[]]],{}]", "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
		"{\"\":\"empty key\",\"k\\\"q\":\"v\"}",
		"[1.5,-2.25,1e21,1e-5,100,1000000,123456789]",
		NULL
	};
	cJSON *big, *arr;
	char *a, *b;
	int i;

	for (i = 0; docs[i]; i++)
		check_doc(docs[i], 1);
	for (i = 0; inexact[i]; i++)
		check_doc(inexact[i], 0);

	/* a large document: many objects with strings and numbers */
	big = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(big, "items");
	for (i = 0; i < 5000; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "i", i);
		cJSON_AddNumberToObject(o, "f", i / 7.0);
		cJSON_AddStringToObject(o, "s", "text with \"quotes\" and \n newlines");
		cJSON_AddItemToArray(arr, o);
	}
	b = og_json_print(big, NULL);
	{
		cJSON *back = cJSON_Parse(b);
		CHECK(exact_equal(big, back));
		cJSON_Delete(back);
	}
	a = NULL;
	free(b);
	cJSON_Delete(big);

	/* strings of 0..40 bytes with one byte at each position that is to be
	 * escaped or not ('"', '\\', control bytes, 0x20, 0x7f, UTF-8): the
	 * plain-text skip looks at 16, then 8 bytes at a time, then single
	 * ones, and a string with nothing to escape takes another path */
	{
		static const unsigned char odd[] = { 0, '"', '\\', '\n', 0x01, 0x1f, 0x20, 0x7f, 0xc3 };
		char str[48];
		int len, pos, k, bad = 0;
		for (len = 0; len <= 40; len++) {
			for (k = 0; k < (int)sizeof(odd); k++) {
				for (pos = 0; pos < (len ? len : 1); pos++) {
					cJSON *v;
					memset(str, 'a' + len % 26, (size_t)len);
					str[len] = 0;
					if (odd[k] && len)
						str[pos] = (char)odd[k];
					if (odd[k] == 0xc3 && len)	/* a whole é */
						str[pos + 1 < len ? pos + 1 : pos] = pos + 1 < len ? (char)0xa9 : 'e';
					v = cJSON_CreateString(str);
					a = cJSON_PrintUnformatted(v);
					b = og_json_print(v, NULL);
					if (!a || !b || strcmp(a, b)) {
						if (bad++ < 3)
							fprintf(stderr, "string of %d, byte %d at %d: %s, not %s\n", len,
								odd[k], pos, b ? b : "(null)", a ? a : "(null)");
					}
					free(a);
					free(b);
					cJSON_Delete(v);
				}
			}
		}
		/* every byte value, in a short tail and after the vector skip */
		for (k = 1; k < 256; k++) {
			for (len = 5; len <= 21; len += 16) {
				cJSON *v;
				memset(str, 'q', (size_t)len);
				str[len] = 0;
				str[len - 2] = (char)k;
				v = cJSON_CreateString(str);
				a = cJSON_PrintUnformatted(v);
				b = og_json_print(v, NULL);
				if (!a || !b || strcmp(a, b)) {
					if (bad++ < 3)
						fprintf(stderr, "byte %d: %s, not %s\n", k, b ? b : "(null)", a ? a : "(null)");
				}
				free(a);
				free(b);
				cJSON_Delete(v);
			}
		}
		CHECK_INT(bad, ==, 0);
	}

	/* integers, printed two digits at a time: every length, both signs */
	{
		long long v, p10;
		char want[32];
		int bad = 0, k;
		for (k = 0, p10 = 1; k <= 15; k++, p10 *= 10) {
			for (v = p10 - 2; v <= p10 + 1; v++) {
				long long x;
				int sgn;
				for (sgn = 0; sgn < 2; sgn++) {
					cJSON *n;
					x = sgn ? -v : v;
					n = cJSON_CreateNumber((double)x);
					b = og_json_print(n, NULL);
					snprintf(want, sizeof(want), "%lld", x);
					if (!b || strcmp(b, want)) {
						if (bad++ < 3)
							fprintf(stderr, "%lld printed as %s\n", x, b ? b : "(null)");
					}
					free(b);
					cJSON_Delete(n);
				}
			}
		}
		for (v = 0; v < 1000; v++) {
			cJSON *n = cJSON_CreateNumber((double)(v * 37));
			b = og_json_print(n, NULL);
			snprintf(want, sizeof(want), "%lld", v * 37);
			bad += !b || strcmp(b, want) != 0;
			free(b);
			cJSON_Delete(n);
		}
		CHECK_INT(bad, ==, 0);
	}

	a = og_json_print(NULL, NULL);
	CHECK_STR(a, "null");
	free(a);
	TEST_END();
}
