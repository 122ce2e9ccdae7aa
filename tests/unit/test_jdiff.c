/*
 * test_jdiff.c: engine/core/jdiff.c on nested states: objects in arrays in
 * objects, appended and dropped elements, type changes (object to null,
 * number to string, array to object), keys that need escaping, whole
 * values missing on one side, and the counts of the summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdiff.h"
#include "core/json.h"
#include "../test.h"

static cJSON *J(const char *s)
{
	cJSON *v = cJSON_Parse(s);

	if (!v) {
		fprintf(stderr, "bad test JSON: %s\n", s);
		exit(2);
	}
	return v;
}

/* The diff of two JSON texts, printed compactly ("" for the NULL side). */
static char *diff_text(const char *a, const char *b)
{
	cJSON *x = a ? J(a) : NULL, *y = b ? J(b) : NULL, *d = NULL;
	struct og_err err = { 0 };
	char *s = NULL;

	if (og_jdiff(x, y, &d, &err) == 0)
		s = og_json_print_text(d);
	cJSON_Delete(x);
	cJSON_Delete(y);
	cJSON_Delete(d);
	return s;
}

static void check_diff(const char *a, const char *b, const char *want, int line)
{
	char *got = diff_text(a, b);

	if (got && !strcmp(got, want)) {
		t_pass++;
	} else {
		t_fail++;
		fprintf(stderr, "%s:%d: diff\n  got:  %s\n  want: %s\n", __FILE__, line, got ? got : "(null)", want);
	}
	free(got);
}
#define DIFF(a, b, want) check_diff(a, b, want, __LINE__)

int main(void)
{
	/* equal values: nothing, whatever the key order */
	DIFF("{\"a\":1,\"b\":[1,{\"c\":null}]}", "{\"b\":[1,{\"c\":null}],\"a\":1}", "[]");
	DIFF("1", "1.0", "[]");
	DIFF("true", "true", "[]");

	/* an incident-like state: objects in arrays in objects */
	DIFF("{\"context\":{\"metrics\":[{\"name\":\"p99\",\"value\":1.5},{\"name\":\"rps\",\"value\":200}]},"
	     "\"rca\":{\"cause\":\"db\",\"confidence\":0.7},\"plan\":[\"restart\"],\"note\":\"x\"}",
	     "{\"context\":{\"metrics\":[{\"name\":\"p99\",\"value\":2.5},{\"name\":\"rps\",\"value\":200}]},"
	     "\"rca\":null,\"plan\":[\"restart\",\"scale\"],\"decision\":{\"choice\":\"2\"}}",
	     "[{\"op\":\"changed\",\"path\":\"/context/metrics/0/value\",\"from\":1.5,\"to\":2.5},"
	     "{\"op\":\"changed\",\"path\":\"/rca\",\"from\":{\"cause\":\"db\",\"confidence\":0.7},\"to\":null},"
	     "{\"op\":\"added\",\"path\":\"/plan/1\",\"to\":\"scale\"},"
	     "{\"op\":\"removed\",\"path\":\"/note\",\"from\":\"x\"},"
	     "{\"op\":\"added\",\"path\":\"/decision\",\"to\":{\"choice\":\"2\"}}]");

	/* arrays by index: a shorter array removes its tail, a key inside an
	 * element of an element is reached */
	DIFF("{\"a\":[[1,2,3],{\"k\":[{\"x\":1}]}]}", "{\"a\":[[1,9],{\"k\":[{\"x\":1,\"y\":true}]}]}",
	     "[{\"op\":\"changed\",\"path\":\"/a/0/1\",\"from\":2,\"to\":9},"
	     "{\"op\":\"removed\",\"path\":\"/a/0/2\",\"from\":3},"
	     "{\"op\":\"added\",\"path\":\"/a/1/k/0/y\",\"to\":true}]");

	/* type changes are one entry each, not a walk into both sides */
	DIFF("{\"n\":1,\"s\":\"1\",\"l\":[1],\"o\":{\"a\":1},\"b\":false,\"z\":null}",
	     "{\"n\":\"1\",\"s\":1,\"l\":{\"0\":1},\"o\":[1],\"b\":true,\"z\":{}}",
	     "[{\"op\":\"changed\",\"path\":\"/n\",\"from\":1,\"to\":\"1\"},"
	     "{\"op\":\"changed\",\"path\":\"/s\",\"from\":\"1\",\"to\":1},"
	     "{\"op\":\"changed\",\"path\":\"/l\",\"from\":[1],\"to\":{\"0\":1}},"
	     "{\"op\":\"changed\",\"path\":\"/o\",\"from\":{\"a\":1},\"to\":[1]},"
	     "{\"op\":\"changed\",\"path\":\"/b\",\"from\":false,\"to\":true},"
	     "{\"op\":\"changed\",\"path\":\"/z\",\"from\":null,\"to\":{}}]");

	/* null stays null; a value that becomes null is changed, not removed */
	DIFF("{\"a\":null,\"b\":2}", "{\"a\":null,\"b\":null}", "[{\"op\":\"changed\",\"path\":\"/b\",\"from\":2,\"to\":null}]");

	/* RFC 6901 escapes in keys; the empty key is "/" */
	DIFF("{\"a/b\":1,\"m~n\":{\"\":1}}", "{\"a/b\":2,\"m~n\":{\"\":2}}",
	     "[{\"op\":\"changed\",\"path\":\"/a~1b\",\"from\":1,\"to\":2},"
	     "{\"op\":\"changed\",\"path\":\"/m~0n/\",\"from\":1,\"to\":2}]");

	/* whole values: the root path is "", a missing side adds or removes it */
	DIFF("1", "2", "[{\"op\":\"changed\",\"path\":\"\",\"from\":1,\"to\":2}]");
	DIFF(NULL, "{\"a\":1}", "[{\"op\":\"added\",\"path\":\"\",\"to\":{\"a\":1}}]");
	DIFF("[1]", NULL, "[{\"op\":\"removed\",\"path\":\"\",\"from\":[1]}]");
	DIFF(NULL, NULL, "[]");
	DIFF("[]", "[{},[]]", "[{\"op\":\"added\",\"path\":\"/0\",\"to\":{}},{\"op\":\"added\",\"path\":\"/1\",\"to\":[]}]");

	/* long paths grow the buffer; deep values past the limit compare whole */
	{
		char a[4096] = "", b[4096] = "", key[80];
		int i;
		memset(key, 'k', 70);
		key[70] = 0;
		for (i = 0; i < 40; i++) {
			strcat(a, "{\"");
			strcat(a, key);
			strcat(a, "\":");
		}
		strcpy(b, a);
		strcat(a, "1");
		strcat(b, "2");
		for (i = 0; i < 40; i++) {
			strcat(a, "}");
			strcat(b, "}");
		}
		{
			char *d = diff_text(a, b);
			CHECK(d != NULL);
			CHECK_CONTAINS(d, "\"from\":1,\"to\":2");
			CHECK(d && strlen(d) > 40 * 71);
			free(d);
		}
	}
	{
		/* deeper than OG_JDIFF_MAX_DEPTH: one changed entry at the limit */
		int n = OG_JDIFF_MAX_DEPTH + 20, i;
		cJSON *a = cJSON_CreateArray(), *b = cJSON_CreateArray(), *ca = a, *cb = b, *d = NULL;
		for (i = 0; i < n; i++) {
			cJSON *x = cJSON_CreateArray(), *y = cJSON_CreateArray();
			cJSON_AddItemToArray(ca, x);
			cJSON_AddItemToArray(cb, y);
			ca = x;
			cb = y;
		}
		cJSON_AddItemToArray(ca, cJSON_CreateNumber(1));
		cJSON_AddItemToArray(cb, cJSON_CreateNumber(2));
		CHECK_INT(og_jdiff(a, b, &d, NULL), ==, 0);
		CHECK_INT(cJSON_GetArraySize(d), ==, 1);
		CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(d, 0), "op")->valuestring, "changed");
		CHECK_INT(strlen(cJSON_GetObjectItem(cJSON_GetArrayItem(d, 0), "path")->valuestring), ==,
			  2 * OG_JDIFF_MAX_DEPTH);
		cJSON_Delete(a);
		cJSON_Delete(b);
		cJSON_Delete(d);
	}

	/* the summary counts each op */
	{
		cJSON *x = J("{\"a\":1,\"b\":2,\"c\":[1]}"), *y = J("{\"a\":2,\"c\":[1,2,3],\"d\":0}"), *d = NULL, *s;
		char *t;
		CHECK_INT(og_jdiff(x, y, &d, NULL), ==, 0);
		s = og_jdiff_summary(d);
		t = og_json_print_text(s);
		CHECK_STR(t, "{\"added\":3,\"removed\":1,\"changed\":1}");
		free(t);
		cJSON_Delete(s);
		cJSON_Delete(x);
		cJSON_Delete(y);
		cJSON_Delete(d);
	}
	TEST_END();
}
