/*
 * postmortem_util.c: the shared part of the postmortem renderers
 * (postmortem_int.h): value formatting, and the timeline merged
 * from the report's sections.
 */
#include "postmortem_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/json.h"

const char *pm_val(const cJSON *v, char *buf, size_t len)
{
	char *t;

	if (!v || cJSON_IsNull(v))
		snprintf(buf, len, "-");
	else if (cJSON_IsString(v))
		snprintf(buf, len, "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.15g", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if ((t = og_json_print(v, NULL))) {
		snprintf(buf, len, "%s", t);
		free(t);
	} else
		snprintf(buf, len, "?");
	return buf;
}

const char *pm_secs(const cJSON *v, char *buf, size_t len)
{
	double s;

	if (!cJSON_IsNumber(v)) {
		snprintf(buf, len, "-");
		return buf;
	}
	s = v->valuedouble;
	if (fabs(s) < 120)
		snprintf(buf, len, "%.1f s", s);
	else if (fabs(s) < 7200)
		snprintf(buf, len, "%.0f min %02.0f s", trunc(s / 60), fmod(fabs(s), 60));
	else if (fabs(s) < 172800)
		snprintf(buf, len, "%.0f h %02.0f min", trunc(s / 3600), fmod(fabs(s) / 60, 60));
	else
		snprintf(buf, len, "%.1f days", s / 86400);
	return buf;
}

static void row(cJSON *tl, const char *at, const char *kind, const char *what, const char *detail)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return;
	cJSON_AddItemToObject(o, "at", at ? cJSON_CreateString(at) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "what", what);
	if (detail && *detail)
		cJSON_AddStringToObject(o, "detail", detail);
	cJSON_AddItemToArray(tl, o);
}

/* Within one millisecond: a notification before the run it starts, an
 * answer before the step it resumes, a
 * step before the tools and LLM calls it made (so the order does not depend
 * on which millisecond a commit fell in). */
static int kind_rank(const char *k)
{
	static const char *const order[] = { "alert", "note", "decision", "step", "llm", "tool", "branch", NULL };
	int i;

	for (i = 0; k && order[i]; i++)
		if (!strcmp(k, order[i]))
			return i;
	return i;
}

static int at_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int64_t tx = rj_str(x, "at") ? og_clock_parse_iso8601(rj_str(x, "at")) : -1;
	int64_t ty = rj_str(y, "at") ? og_clock_parse_iso8601(rj_str(y, "at")) : -1;
	int ix = (int)cJSON_GetNumberValue(rj_get(x, "seq")), iy = (int)cJSON_GetNumberValue(rj_get(y, "seq"));
	int kx = kind_rank(rj_str(x, "kind")), ky = kind_rank(rj_str(y, "kind"));

	if (tx != ty)
		return tx < ty ? -1 : 1;
	if (kx != ky)
		return kx - ky;
	return ix - iy;		/* stable: the order the sections were read in */
}

cJSON *pm_timeline(const cJSON *r)
{
	cJSON *tl = cJSON_CreateArray(), *sorted, **v;
	const cJSON *e, *alert = rj_get(r, "alert");
	char what[1024], d1[256], d2[256], d3[64];
	int n, i;

	if (!tl)
		return NULL;
	snprintf(what, sizeof(what), "alert fired: %s", rj_str(alert, "summary") ? rj_str(alert, "summary") : "-");
	row(tl, rj_str(alert, "started_at"), "alert", what, rj_str(alert, "severity"));
	cJSON_ArrayForEach(e, rj_get(r, "steps")) {
		const cJSON *nd;
		size_t w = 0;
		what[0] = 0;
		cJSON_ArrayForEach(nd, rj_get(e, "nodes"))
			if (cJSON_IsString(nd) && w < sizeof(what) - 2)
				w += (size_t)snprintf(what + w, sizeof(what) - w, "%s%s", w ? ", " : "", nd->valuestring);
		snprintf(d1, sizeof(d1), "%s, %s ms", pm_val(rj_get(e, "status"), d2, sizeof(d2)),
			 pm_val(rj_get(e, "duration_ms"), d3, sizeof(d3)));
		if (cJSON_GetArraySize(rj_get(e, "tasks")) > 1) {
			/* nodes of one step ran one after another: each its own time */
			const cJSON *t;
			size_t k = strlen(d1);
			cJSON_ArrayForEach(t, rj_get(e, "tasks"))
				if (k < sizeof(d1) - 2)
					k += (size_t)snprintf(d1 + k, sizeof(d1) - k, "%s%s %s ms",
							      t == rj_get(e, "tasks")->child ? " (" : ", ",
							      pm_val(rj_get(t, "node"), d2, sizeof(d2)),
							      pm_val(rj_get(t, "duration_ms"), d3, sizeof(d3)));
			if (k < sizeof(d1) - 2)
				snprintf(d1 + k, sizeof(d1) - k, ")");
		}
		if (!strcmp(rj_str(e, "source") ? rj_str(e, "source") : "", "fork"))
			snprintf(what, sizeof(what), "fork of checkpoint %s (state edited)",
				 pm_val(rj_get(e, "parent"), d2, sizeof(d2)));
		else if (!strcmp(rj_str(e, "status") ? rj_str(e, "status") : "", "interrupted"))
			snprintf(what + w, sizeof(what) - w, " asked a human");
		row(tl, rj_str(e, "started_at"), "step", what, d1);
	}
	cJSON_ArrayForEach(e, rj_get(r, "decisions")) {
		snprintf(what, sizeof(what), "%s answered %s: %s", pm_val(rj_get(e, "by"), d1, sizeof(d1)),
			 pm_val(rj_get(e, "node"), d2, sizeof(d2)),
			 rj_str(e, "choice") ? rj_str(e, "choice") : "(a value)");
		row(tl, rj_str(e, "at"), "decision", what, rj_str(e, "note"));
	}
	cJSON_ArrayForEach(e, rj_get(r, "llm_calls")) {
		snprintf(what, sizeof(what), "LLM %s/%s (role %s, node %s): %s",
			 pm_val(rj_get(e, "provider"), d1, sizeof(d1)), pm_val(rj_get(e, "model"), d2, sizeof(d2)),
			 rj_str(e, "role") ? rj_str(e, "role") : "-", rj_str(e, "node") ? rj_str(e, "node") : "-",
			 rj_str(e, "outcome") ? rj_str(e, "outcome") : "-");
		row(tl, rj_str(e, "started_at") ? rj_str(e, "started_at") : rj_str(e, "at"), "llm", what, NULL);
	}
	cJSON_ArrayForEach(e, rj_get(r, "executions")) {
		const cJSON *t;
		cJSON_ArrayForEach(t, rj_get(e, "results")) {
			snprintf(what, sizeof(what), "tool %s: %s", pm_val(rj_get(t, "tool"), d1, sizeof(d1)),
				 pm_val(rj_get(t, "status"), d2, sizeof(d2)));
			row(tl, rj_str(t, "started_at"), "tool", what, NULL);
		}
	}
	cJSON_ArrayForEach(e, rj_get(r, "notes")) {
		snprintf(what, sizeof(what), "Alertmanager: %s", pm_val(rj_get(e, "kind"), d1, sizeof(d1)));
		row(tl, rj_str(e, "at"), "note", what, NULL);
	}
	cJSON_ArrayForEach(e, rj_get(r, "branches")) {
		snprintf(what, sizeof(what), "branch from checkpoint %s (%s), now %s",
			 pm_val(rj_get(e, "forked_from"), d1, sizeof(d1)), rj_str(e, "source") ? rj_str(e, "source") : "-",
			 rj_str(e, "status") ? rj_str(e, "status") : "-");
		row(tl, rj_str(e, "created_at"), "branch", what, NULL);
	}
	n = cJSON_GetArraySize(tl);
	if (!(v = calloc((size_t)n + 1, sizeof(*v))) || !(sorted = cJSON_CreateArray())) {
		free(v);
		cJSON_Delete(tl);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		v[i] = cJSON_GetArrayItem(tl, i);
		cJSON_AddNumberToObject(v[i], "seq", i);
	}
	qsort(v, (size_t)n, sizeof(*v), at_cmp);
	for (i = 0; i < n; i++) {
		cJSON_DetachItemViaPointer(tl, v[i]);
		cJSON_DeleteItemFromObject(v[i], "seq");
		cJSON_AddItemToArray(sorted, v[i]);
	}
	free(v);
	cJSON_Delete(tl);
	return sorted;
}
