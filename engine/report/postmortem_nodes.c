/*
 * postmortem_nodes.c: each node's own start, end and duration in a
 * postmortem. Tasks of one step run one after another, so the runner keeps
 * each task's span in the step's checkpoint ("times", and "span" in pending
 * writes of a step that paused); checkpoints of older opsgraphs have none,
 * and their nodes get the step's span, marked "timed": "step".
 */
#include <stdio.h>
#include <string.h>

#include "../core/clock.h"
#include "postmortem_int.h"

static void add_run(cJSON *tasks, const char *node, int64_t a, int64_t b, const char *timed)
{
	cJSON *o = cJSON_CreateObject();
	char ts[40];

	if (!o)
		return;
	cJSON_AddStringToObject(o, "node", node);
	cJSON_AddItemToObject(o, "started_at", a >= 0 ? cJSON_CreateString(og_clock_iso8601(a, ts, sizeof(ts)))
						      : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "ended_at", b >= 0 ? cJSON_CreateString(og_clock_iso8601(b, ts, sizeof(ts)))
						    : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "duration_ms", a >= 0 && b >= a ? cJSON_CreateNumber((double)(b - a)) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "timed", timed);
	cJSON_AddItemToArray(tasks, o);
}

/* The recorded [start, end] of task `id`: the step's "times", else the
 * pending write it left when the step paused. */
static const cJSON *span_of(const cJSON *ck, const char *id)
{
	const cJSON *s = rj_get(rj_get(ck, "times"), id), *p;

	if (!s)
		cJSON_ArrayForEach(p, rj_get(ck, "pending"))
			if (rj_str(p, "task") && !strcmp(rj_str(p, "task"), id))
				s = rj_get(p, "span");
	if (cJSON_GetArraySize(s) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(s, 0)) ||
	    !cJSON_IsNumber(cJSON_GetArrayItem(s, 1)))
		return NULL;
	return s;
}

void pm_add_node_runs(cJSON *step, const cJSON *prev, const cJSON *ck)
{
	cJSON *tasks = cJSON_AddArrayToObject(step, "tasks");
	const cJSON *nd, *t, *s;
	int64_t a = -1, b = -1;

	if (!tasks)
		return;
	if (rj_str(step, "started_at"))
		a = og_clock_parse_iso8601(rj_str(step, "started_at"));
	if (rj_str(step, "ended_at"))
		b = og_clock_parse_iso8601(rj_str(step, "ended_at"));
	/* the step's tasks are the parent's "next", in the order they ran */
	cJSON_ArrayForEach(nd, rj_get(step, "nodes")) {
		int found = 0;
		if (!cJSON_IsString(nd))
			continue;
		cJSON_ArrayForEach(t, rj_get(prev, "next")) {
			if (!rj_str(t, "node") || strcmp(rj_str(t, "node"), nd->valuestring) || !rj_str(t, "id") ||
			    !(s = span_of(ck, rj_str(t, "id"))))
				continue;
			add_run(tasks, nd->valuestring, (int64_t)cJSON_GetArrayItem(s, 0)->valuedouble,
				(int64_t)cJSON_GetArrayItem(s, 1)->valuedouble, "task");
			found++;
		}
		if (!found)
			add_run(tasks, nd->valuestring, a, b, "step");
	}
}

cJSON *pm_node_rows(const cJSON *report)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *st, *t;

	cJSON_ArrayForEach(st, rj_get(report, "steps")) {
		cJSON_ArrayForEach(t, rj_get(st, "tasks")) {
			cJSON *o = cJSON_Duplicate(t, 1);
			if (!o)
				continue;
			rj_copy(o, "checkpoint", rj_get(st, "checkpoint"));
			rj_copy(o, "step", rj_get(st, "step"));
			cJSON_AddItemToArray(out, o);
		}
	}
	return out;
}
