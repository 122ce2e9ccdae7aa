/*
 * test_pm_nodes.c: each node's own start, end and duration in a postmortem
 * (report/postmortem_nodes.c), from hand-made checkpoints: a step whose two
 * tasks ran one after another, a paused step whose finished task left its
 * span in a pending write, and an older checkpoint without per-task times
 * (its node gets the step's span, marked "timed": "step").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/postmortem_int.h"
#include "../test.h"

static cJSON *J(const char *text)
{
	cJSON *v = cJSON_Parse(text);

	if (!v) {
		fprintf(stderr, "bad JSON in test: %s\n", text);
		abort();
	}
	return v;
}

static const char *str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));

	return s ? s : "(none)";
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* prev lists tasks b and c; the step ran 12:00:00.000 to 12:00:00.020 */
#define PREV "{\"next\": [{\"id\": \"tb\", \"node\": \"b\"}, {\"id\": \"tc\", \"node\": \"c\"}]}"
#define STEP(nodes) "{\"checkpoint\": 3, \"step\": 1, \"nodes\": " nodes ", " \
	"\"started_at\": \"2025-11-25T12:00:00.000Z\", \"ended_at\": \"2025-11-25T12:00:00.020Z\", \"duration_ms\": 20}"

static void test_parallel_own_times(void)
{
	cJSON *prev = J(PREV), *step = J(STEP("[\"b\", \"c\"]"));
	/* 1764072000000 = 2025-11-25T12:00:00Z */
	cJSON *ck = J("{\"times\": {\"tb\": [1764072000001, 1764072000008], \"tc\": [1764072000008, 1764072000019]}}");
	cJSON *rows, *report;
	const cJSON *tasks, *b, *c;

	pm_add_node_runs(step, prev, ck);
	tasks = cJSON_GetObjectItem(step, "tasks");
	CHECK_INT(cJSON_GetArraySize(tasks), ==, 2);
	b = cJSON_GetArrayItem(tasks, 0);
	c = cJSON_GetArrayItem(tasks, 1);
	CHECK_STR(str(b, "node"), "b");
	CHECK_STR(str(b, "timed"), "task");
	CHECK_STR(str(b, "started_at"), "2025-11-25T12:00:00.001Z");
	CHECK_STR(str(b, "ended_at"), "2025-11-25T12:00:00.008Z");
	CHECK(num(b, "duration_ms") == 7);
	CHECK_STR(str(c, "node"), "c");
	CHECK_STR(str(c, "started_at"), "2025-11-25T12:00:00.008Z");
	CHECK(num(c, "duration_ms") == 11);

	/* the renderers' flat list carries the step's checkpoint and number */
	report = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(report, "steps"), step);
	rows = pm_node_rows(report);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 2);
	CHECK(num(cJSON_GetArrayItem(rows, 1), "checkpoint") == 3);
	CHECK(num(cJSON_GetArrayItem(rows, 1), "step") == 1);
	CHECK_STR(str(cJSON_GetArrayItem(rows, 1), "node"), "c");
	cJSON_Delete(rows);
	cJSON_Delete(report);
	cJSON_Delete(prev);
	cJSON_Delete(ck);
}

static void test_pending_span(void)
{
	cJSON *prev = J(PREV), *step = J(STEP("[\"b\"]"));
	cJSON *ck = J("{\"pending\": [{\"task\": \"tb\", \"node\": \"b\", \"span\": [1764072000002, 1764072000005]}]}");
	const cJSON *b;

	pm_add_node_runs(step, prev, ck);
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(step, "tasks"), 0);
	CHECK_STR(str(b, "timed"), "task");
	CHECK(num(b, "duration_ms") == 3);
	cJSON_Delete(prev);
	cJSON_Delete(step);
	cJSON_Delete(ck);
}

static void test_old_checkpoint(void)
{
	cJSON *prev = J(PREV), *step = J(STEP("[\"b\", \"c\"]"));
	cJSON *ck = J("{\"writes\": {\"b\": [], \"c\": []}, \"times\": {\"tb\": [\"bad\", 1]}}");
	const cJSON *t;
	int n = 0;

	pm_add_node_runs(step, prev, ck);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(step, "tasks")) {
		CHECK_STR(str(t, "timed"), "step");
		CHECK_STR(str(t, "started_at"), "2025-11-25T12:00:00.000Z");
		CHECK_STR(str(t, "ended_at"), "2025-11-25T12:00:00.020Z");
		CHECK(num(t, "duration_ms") == 20);
		n++;
	}
	CHECK_INT(n, ==, 2);
	cJSON_Delete(prev);
	cJSON_Delete(step);
	cJSON_Delete(ck);
}

int main(void)
{
	test_parallel_own_times();
	test_pending_span();
	test_old_checkpoint();
	TEST_END();
}
