/*
 * ckpt.c: the JSON form of a checkpoint record. It is the format `opsgraph
 * state` prints and the in-memory store keeps; it carries a format number so
 * a later reader can tell an old record from a corrupt one.
 */
#include "ckpt.h"

#include <stdio.h>

#include "../core/clock.h"

static cJSON *dup_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* The tree, a copy of it, or the text parsed; `absent` when neither. */
static cJSON *tree_or_text(const cJSON *v, const char *text, cJSON *absent)
{
	if (v || text)
		cJSON_Delete(absent);
	if (v)
		return cJSON_Duplicate(v, 1);
	return text ? cJSON_Parse(text) : absent;
}

/* {"<task id>": [start_ms, end_ms]} of the spans, NULL when there are none */
static cJSON *spans_json(const struct og_ckpt_span *s, int n)
{
	cJSON *o = n > 0 ? cJSON_CreateObject() : NULL;
	int i;

	for (i = 0; o && i < n; i++) {
		cJSON *a = cJSON_CreateArray();
		if (!a) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s[i].start_ms));
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s[i].end_ms));
		cJSON_AddItemToObject(o, s[i].task, a);
	}
	return o;
}

cJSON *og_ckpt_to_json(const struct og_ckpt *ck)
{
	cJSON *o = cJSON_CreateObject(), *vals, *vers, *joins;
	char ts[40], num[32];
	int i;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "format", OG_CKPT_FORMAT);
	cJSON_AddStringToObject(o, "thread_id", ck->thread_id);
	cJSON_AddStringToObject(o, "graph", ck->graph ? ck->graph : "");
	if (ck->graph_file)
		cJSON_AddStringToObject(o, "graph_file", ck->graph_file);
	cJSON_AddNumberToObject(o, "id", (double)ck->id);
	cJSON_AddNumberToObject(o, "parent_id", (double)ck->parent_id);
	cJSON_AddNumberToObject(o, "step", ck->step);
	cJSON_AddStringToObject(o, "source", ck->source);
	cJSON_AddStringToObject(o, "status", ck->status);
	cJSON_AddStringToObject(o, "created_at", og_clock_iso8601(ck->created_ms, ts, sizeof(ts)));
	vals = cJSON_AddObjectToObject(o, "values");
	vers = cJSON_AddObjectToObject(o, "versions");
	for (i = 0; ck->state && i < ck->state->n; i++) {
		const char *name = ck->g->channels[i].name;
		if (ck->state->vals[i])
			cJSON_AddItemToObject(vals, name, cJSON_Duplicate(ck->state->vals[i], 1));
		cJSON_AddNumberToObject(vers, name, (double)ck->state->versions[i]);
	}
	joins = cJSON_AddArrayToObject(o, "joins");
	for (i = 0; i < ck->njoins; i++) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)ck->join_seen[i]);
		cJSON_AddItemToArray(joins, cJSON_CreateString(num));
	}
	cJSON_AddItemToObject(o, "next", tree_or_text(ck->next, ck->next_text, cJSON_CreateArray()));
	cJSON_AddItemToObject(o, "pending", dup_or_null(ck->pending));
	cJSON_AddItemToObject(o, "interrupts", dup_or_null(ck->interrupts));
	cJSON_AddItemToObject(o, "error", dup_or_null(ck->error));
	cJSON_AddItemToObject(o, "writes", tree_or_text(ck->writes, ck->writes_text, cJSON_CreateNull()));
	cJSON_AddItemToObject(o, "resumed", dup_or_null(ck->resumed));
	cJSON_AddItemToObject(o, "journals", dup_or_null(ck->journals));
	cJSON_AddItemToObject(o, "breakpoints", dup_or_null(ck->breakpoints));
	/* absent, not null, in checkpoints of older opsgraphs and steps without tasks */
	if (ck->times)
		cJSON_AddItemToObject(o, "times", cJSON_Duplicate(ck->times, 1));
	else if (ck->nspans > 0)
		cJSON_AddItemToObject(o, "times", spans_json(ck->spans, ck->nspans));
	return o;
}
