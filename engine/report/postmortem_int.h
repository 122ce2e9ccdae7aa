/*
 * postmortem_int.h: what the Markdown and HTML renderers of a postmortem
 * share: value formatting (field access is report_json.h), and the
 * merged timeline both print.
 */
#ifndef OG_POSTMORTEM_INT_H
#define OG_POSTMORTEM_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "../core/strbuf.h"
#include "report_json.h"

/* "-" for missing values; numbers without trailing zeros; JSON for the rest.
 * Returns buf. */
const char *pm_val(const cJSON *v, char *buf, size_t len);
/* "1 h 02 min", "42.1 s", "-" from seconds (a JSON number or null). */
const char *pm_secs(const cJSON *v, char *buf, size_t len);

/* The timeline both renderers print: [{at, what, detail?, kind}] sorted by
 * time (alert, steps, questions, decisions, LLM calls, tools, notes,
 * branches). Caller owns. */
cJSON *pm_timeline(const cJSON *report);

/* Adds "tasks": [{node, started_at, ended_at, duration_ms, timed}] to a step
 * built from checkpoint ck and its parent prev: each task's own span, or the
 * step's ("timed": "step") when ck predates per-task times (postmortem_nodes.c). */
void pm_add_node_runs(cJSON *step, const cJSON *prev, const cJSON *ck);
/* Every step's tasks in one list, each with its step's checkpoint and step
 * number, for the renderers' node table. Caller owns. */
cJSON *pm_node_rows(const cJSON *report);

#endif
