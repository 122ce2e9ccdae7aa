/*
 * test_channel.c: the built-in reducers (last, append, merge, sum), custom
 * reducers through a fake executor, og_channel_check's messages, and state
 * init/copy/release. No Lua.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/channel.h"
#include "../test.h"

enum { RED_MAX = 1, RED_FAIL = 2, RED_COUNT = 3 };

static int reduce_calls;

/* Custom reducers by handle: max(old, new); an error; count of updates. */
static int fake_reduce(void *self, const struct og_graph *g, int channel, const cJSON *old,
		       const cJSON *update, cJSON **out, struct og_err *err)
{
	int *tag = self;

	reduce_calls++;
	if (!tag || *tag != 42)
		return og_err_set(err, -OG_EINVAL, "wrong executor self");
	switch (g->channels[channel].fn) {
	case RED_MAX:
		if (!cJSON_IsNumber(update))
			return og_err_set(err, -OG_EINVAL, "max takes numbers");
		if (old && cJSON_IsNumber(old) && old->valuedouble >= update->valuedouble)
			*out = cJSON_Duplicate(old, 1);
		else
			*out = cJSON_Duplicate(update, 1);
		return 0;
	case RED_COUNT:
		*out = cJSON_CreateNumber((old ? old->valuedouble : 0) + 1);
		return 0;
	case RED_FAIL:
	default:
		return og_err_set(err, -OG_ENODE, "reducer raised: boom");
	}
}

static const struct og_exec_ops ops = { NULL, NULL, fake_reduce };
static int self_tag = 42;

/* channels: 0 last, 1 append, 2 merge, 3 sum, 4 max, 5 fail, 6 count */
static struct og_graph *make_graph(void)
{
	struct og_graph *g = og_graph_new("ch", NULL);

	og_graph_add_channel(g, "last", OG_RED_LAST, NULL, -1, NULL, NULL);
	og_graph_add_channel(g, "log", OG_RED_APPEND, cJSON_CreateArray(), -1, NULL, NULL);
	og_graph_add_channel(g, "facts", OG_RED_MERGE, NULL, -1, NULL, NULL);
	og_graph_add_channel(g, "total", OG_RED_SUM, cJSON_CreateNumber(10), -1, NULL, NULL);
	og_graph_add_channel(g, "best", OG_RED_CUSTOM, NULL, RED_MAX, NULL, NULL);
	og_graph_add_channel(g, "broken", OG_RED_CUSTOM, NULL, RED_FAIL, NULL, NULL);
	og_graph_add_channel(g, "n", OG_RED_CUSTOM, NULL, RED_COUNT, NULL, NULL);
	return g;
}

static cJSON *J(const char *text)
{
	cJSON *v = cJSON_Parse(text);

	if (!v) {
		fprintf(stderr, "bad JSON in test: %s\n", text);
		abort();
	}
	return v;
}

/* Compares a value with JSON text (NULL text: unset). */
static int json_is(const cJSON *v, const char *text)
{
	char *s;
	cJSON *want;
	int eq;

	if (!text)
		return v == NULL;
	if (!v)
		return 0;
	want = J(text);
	eq = cJSON_Compare(v, want, 1);
	if (!eq) {
		s = cJSON_PrintUnformatted(v);
		fprintf(stderr, "  value %s, want %s\n", s, text);
		free(s);
	}
	cJSON_Delete(want);
	return eq;
}

static int apply(struct og_graph *g, int ch, cJSON **slot, const char *update, struct og_err *err)
{
	return og_channel_apply(g, ch, slot, J(update), &ops, &self_tag, err);
}

static void test_last(void)
{
	struct og_graph *g = make_graph();
	struct og_err err = { 0 };
	cJSON *slot = NULL;

	CHECK_INT(apply(g, 0, &slot, "1", &err), ==, 0);
	CHECK(json_is(slot, "1"));
	CHECK_INT(apply(g, 0, &slot, "{\"a\":[1,2]}", &err), ==, 0);
	CHECK(json_is(slot, "{\"a\":[1,2]}"));
	CHECK_INT(apply(g, 0, &slot, "null", &err), ==, 0);
	CHECK(json_is(slot, "null"));
	CHECK_INT(apply(g, 0, &slot, "\"s\"", &err), ==, 0);
	CHECK(json_is(slot, "\"s\""));
	cJSON_Delete(slot);
	og_graph_free(g);
}

static void test_append(void)
{
	struct og_graph *g = make_graph();
	struct og_err err = { 0 };
	cJSON *slot = NULL;

	CHECK_INT(apply(g, 1, &slot, "[1]", &err), ==, 0);
	CHECK(json_is(slot, "[1]"));
	CHECK_INT(apply(g, 1, &slot, "[2, {\"k\":\"v\"}, [3]]", &err), ==, 0);
	CHECK(json_is(slot, "[1, 2, {\"k\":\"v\"}, [3]]"));
	CHECK_INT(apply(g, 1, &slot, "[]", &err), ==, 0);
	CHECK(json_is(slot, "[1, 2, {\"k\":\"v\"}, [3]]"));
	/* an empty Lua table arrives as {}: the empty list */
	CHECK_INT(apply(g, 1, &slot, "{}", &err), ==, 0);
	CHECK(json_is(slot, "[1, 2, {\"k\":\"v\"}, [3]]"));
	/* and into an unset slot it makes an empty list */
	cJSON_Delete(slot);
	slot = NULL;
	CHECK_INT(apply(g, 1, &slot, "{}", &err), ==, 0);
	CHECK(json_is(slot, "[]"));
	/* a non-empty object is not a list; the slot is untouched */
	CHECK_INT(apply(g, 1, &slot, "{\"a\":1}", &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "channel 'log' (og.append) takes a list, got an object (wrap a single item: {value})");
	CHECK_INT(apply(g, 1, &slot, "\"x\"", &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "got a string");
	CHECK(json_is(slot, "[]"));
	/* a slot that somehow holds a non-list is replaced by a list */
	cJSON_Delete(slot);
	slot = J("5");
	CHECK_INT(apply(g, 1, &slot, "[6]", &err), ==, 0);
	CHECK(json_is(slot, "[6]"));
	cJSON_Delete(slot);
	og_graph_free(g);
}

static void test_merge(void)
{
	struct og_graph *g = make_graph();
	struct og_err err = { 0 };
	cJSON *slot = NULL;

	CHECK_INT(apply(g, 2, &slot, "{\"a\":1,\"b\":2}", &err), ==, 0);
	CHECK(json_is(slot, "{\"a\":1,\"b\":2}"));
	/* overwrite an existing key, add a new one; shallow: nested objects replaced */
	CHECK_INT(apply(g, 2, &slot, "{\"b\":{\"x\":1},\"c\":3}", &err), ==, 0);
	CHECK(json_is(slot, "{\"a\":1,\"b\":{\"x\":1},\"c\":3}"));
	CHECK_INT(apply(g, 2, &slot, "{\"b\":{\"y\":2},\"a\":\"A\"}", &err), ==, 0);
	CHECK(json_is(slot, "{\"a\":\"A\",\"b\":{\"y\":2},\"c\":3}"));
	/* key order: existing keys keep their place */
	{
		char *s = cJSON_PrintUnformatted(slot);
		CHECK_STR(s, "{\"a\":\"A\",\"b\":{\"y\":2},\"c\":3}");
		free(s);
	}
	/* an empty Lua table may arrive as []: the empty object */
	CHECK_INT(apply(g, 2, &slot, "[]", &err), ==, 0);
	CHECK(json_is(slot, "{\"a\":\"A\",\"b\":{\"y\":2},\"c\":3}"));
	CHECK_INT(apply(g, 2, &slot, "{}", &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(slot), ==, 3);
	CHECK_INT(apply(g, 2, &slot, "[1]", &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "channel 'facts' (og.merge) takes an object (a table with string keys), got a list");
	CHECK_INT(apply(g, 2, &slot, "7", &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "got a number");
	cJSON_Delete(slot);
	slot = NULL;
	CHECK_INT(apply(g, 2, &slot, "[]", &err), ==, 0);
	CHECK(json_is(slot, "{}"));
	cJSON_Delete(slot);
	og_graph_free(g);
}

static void test_sum(void)
{
	struct og_graph *g = make_graph();
	struct og_err err = { 0 };
	cJSON *slot = NULL;

	CHECK_INT(apply(g, 3, &slot, "2", &err), ==, 0);
	CHECK(json_is(slot, "2"));
	CHECK_INT(apply(g, 3, &slot, "3.5", &err), ==, 0);
	CHECK(json_is(slot, "5.5"));
	CHECK_INT(apply(g, 3, &slot, "-5.5", &err), ==, 0);
	CHECK(json_is(slot, "0"));
	CHECK_INT(slot->valueint, ==, 0);
	CHECK_INT(apply(g, 3, &slot, "\"1\"", &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "channel 'total' (og.sum) takes a number, got a string");
	CHECK_INT(apply(g, 3, &slot, "[1]", &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "got a list");
	CHECK_INT(apply(g, 3, &slot, "true", &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "got a boolean");
	CHECK_INT(apply(g, 3, &slot, "null", &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "got null");
	/* overflow is an error, the slot keeps its value */
	CHECK_INT(apply(g, 3, &slot, "1e308", &err), ==, 0);
	CHECK_INT(apply(g, 3, &slot, "1e308", &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "channel 'total' (og.sum): sum overflowed");
	CHECK(slot && slot->valuedouble == 1e308);
	/* a slot holding a non-number cannot be added to */
	cJSON_Delete(slot);
	slot = J("\"text\"");
	CHECK_INT(apply(g, 3, &slot, "1", &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "holds a non-number");
	CHECK(json_is(slot, "\"text\""));
	cJSON_Delete(slot);
	/* many small adds */
	{
		int i;
		slot = NULL;
		for (i = 1; i <= 100; i++)
			og_channel_apply(g, 3, &slot, cJSON_CreateNumber(i), NULL, NULL, NULL);
		CHECK(json_is(slot, "5050"));
		cJSON_Delete(slot);
	}
	og_graph_free(g);
}

static void test_custom(void)
{
	struct og_graph *g = make_graph();
	struct og_err err = { 0 };
	cJSON *slot = NULL;

	reduce_calls = 0;
	CHECK_INT(apply(g, 4, &slot, "3", &err), ==, 0);
	CHECK(json_is(slot, "3"));
	CHECK_INT(apply(g, 4, &slot, "1", &err), ==, 0);
	CHECK(json_is(slot, "3"));
	CHECK_INT(apply(g, 4, &slot, "8", &err), ==, 0);
	CHECK(json_is(slot, "8"));
	CHECK_INT(reduce_calls, ==, 3);
	/* the reducer sees any shape: og_channel_check passes it through */
	CHECK_INT(apply(g, 4, &slot, "\"x\"", &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "channel 'best' reducer: max takes numbers");
	CHECK(json_is(slot, "8"));
	cJSON_Delete(slot);

	slot = J("[1]");
	CHECK_INT(apply(g, 5, &slot, "1", &err), ==, -OG_ENODE);
	CHECK_STR(err.msg, "channel 'broken' reducer: reducer raised: boom");
	CHECK(json_is(slot, "[1]"));
	cJSON_Delete(slot);

	slot = NULL;
	CHECK_INT(apply(g, 6, &slot, "{}", &err), ==, 0);
	CHECK_INT(apply(g, 6, &slot, "[]", &err), ==, 0);
	CHECK(json_is(slot, "2"));
	cJSON_Delete(slot);

	/* without an executor */
	slot = NULL;
	CHECK_INT(og_channel_apply(g, 4, &slot, J("1"), NULL, NULL, &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "channel 'best': custom reducer without an executor");
	CHECK(slot == NULL);
	og_graph_free(g);
}

static void test_check(void)
{
	struct og_graph *g = make_graph();
	struct og_err err = { 0 };
	cJSON *v;
	int i;

	/* what each channel accepts */
	static const struct {
		int ch;
		const char *json;
		int ok;
	} cases[] = {
		{ 0, "1", 1 }, { 0, "null", 1 }, { 0, "[1]", 1 }, { 0, "{\"a\":1}", 1 },
		{ 1, "[]", 1 }, { 1, "{}", 1 }, { 1, "[1,2]", 1 }, { 1, "1", 0 }, { 1, "{\"a\":1}", 0 },
		{ 1, "null", 0 }, { 1, "false", 0 },
		{ 2, "{}", 1 }, { 2, "[]", 1 }, { 2, "{\"a\":1}", 1 }, { 2, "[1]", 0 }, { 2, "\"s\"", 0 },
		{ 3, "0", 1 }, { 3, "-1.5", 1 }, { 3, "\"2\"", 0 }, { 3, "{}", 0 },
		{ 4, "\"anything\"", 1 }, { 4, "null", 1 },
	};
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		int rc;
		v = J(cases[i].json);
		og_err_clear(&err);
		rc = og_channel_check(&g->channels[cases[i].ch], v, &err);
		if ((rc == 0) != cases[i].ok)
			fprintf(stderr, "check channel %d with %s: rc %d, msg %s\n", cases[i].ch, cases[i].json,
				rc, err.msg);
		CHECK_INT(rc == 0, ==, cases[i].ok);
		if (!cases[i].ok) {
			CHECK_INT(rc, ==, -OG_EINVAL);
			CHECK_CONTAINS(err.msg, g->channels[cases[i].ch].name);
		}
		cJSON_Delete(v);
	}

	v = J("true");
	CHECK_INT(og_channel_check(&g->channels[1], v, &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "channel 'log' (og.append) takes a list, got a boolean (wrap a single item: {value})");
	CHECK_INT(og_channel_check(&g->channels[2], v, &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "channel 'facts' (og.merge) takes an object (a table with string keys), got a boolean");
	CHECK_INT(og_channel_check(&g->channels[3], v, &err), ==, -OG_EINVAL);
	CHECK_STR(err.msg, "channel 'total' (og.sum) takes a number, got a boolean");
	/* err may be NULL */
	CHECK_INT(og_channel_check(&g->channels[3], v, NULL), ==, -OG_EINVAL);
	cJSON_Delete(v);
	og_graph_free(g);
}

static void test_state(void)
{
	struct og_graph *g = make_graph();
	struct og_state s, c;
	struct og_view view;
	struct og_err err = { 0 };

	CHECK_INT(og_state_init(&s, g, &err), ==, 0);
	CHECK_INT(s.n, ==, 7);
	CHECK(s.vals[0] == NULL);
	CHECK(json_is(s.vals[1], "[]"));
	CHECK(json_is(s.vals[3], "10"));
	CHECK(s.vals[1] != g->channels[1].init);	/* a copy, not the graph's */
	CHECK_INT(s.versions[3], ==, 0);

	og_channel_apply(g, 3, &s.vals[3], J("5"), &ops, &self_tag, &err);
	s.versions[3] = 2;
	CHECK(json_is(g->channels[3].init, "10"));	/* the init value is untouched */

	CHECK_INT(og_state_copy(&c, &s, &err), ==, 0);
	CHECK_INT(c.n, ==, 7);
	CHECK(json_is(c.vals[3], "15"));
	CHECK_INT(c.versions[3], ==, 2);
	CHECK(c.vals[3] != s.vals[3]);
	og_channel_apply(g, 3, &c.vals[3], J("1"), &ops, &self_tag, &err);
	CHECK(json_is(s.vals[3], "15"));
	CHECK(json_is(c.vals[3], "16"));

	view = og_state_view(&c);
	CHECK_INT(view.n, ==, 7);
	CHECK(view.vals[3] == c.vals[3]);
	CHECK(view.vals[0] == NULL);

	og_state_release(&s);
	og_state_release(&c);
	CHECK_INT(s.n, ==, 0);
	CHECK(s.vals == NULL);
	og_state_release(&s);	/* twice is harmless */
	og_state_release(NULL);
	og_graph_free(g);
}

static void test_task_result_release(void)
{
	struct og_task_result r;

	memset(&r, 0, sizeof(r));
	r.writes = J("{\"a\":1}");
	r.next = J("[\"b\"]");
	r.interrupt = J("\"why\"");
	og_task_result_release(&r);
	CHECK(r.writes == NULL && r.next == NULL && r.interrupt == NULL);
	og_task_result_release(&r);
	og_task_result_release(NULL);
}

int main(void)
{
	test_last();
	test_append();
	test_merge();
	test_sum();
	test_custom();
	test_check();
	test_state();
	test_task_result_release();
	TEST_END();
}
