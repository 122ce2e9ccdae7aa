/*
 * incident_index.c: index records of finished incidents (incident_index.h),
 * built from the latest checkpoint's values and the thread's notes, and the
 * rebuild that walks every thread of the store.
 */
#include "incident_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../store/store_lmdb_incidents.h"
#include "report_json.h"

cJSON *og_incident_resolution(const cJSON *notes)
{
	const cJSON *n, *last = NULL;
	cJSON *o;

	cJSON_ArrayForEach(n, notes) {
		const cJSON *v = rj_get(n, "value");
		const char *kind = rj_str(v, "kind");
		if (kind && !strcmp(kind, "alert_resolved") &&
		    (!last || strcmp(rj_str(v, "at") ? rj_str(v, "at") : "", rj_str(last, "at") ? rj_str(last, "at") : "") >= 0))
			last = v;
	}
	if (!last || !(o = cJSON_CreateObject()))
		return NULL;
	rj_copy(o, "at", rj_get(last, "at"));
	{
		/* the group ended with its last alert, when Alertmanager gave end times */
		const cJSON *a;
		const char *ends = NULL;
		cJSON_ArrayForEach(a, rj_get(rj_get(last, "payload"), "alerts")) {
			const char *e = rj_str(a, "endsAt");
			if (e && strncmp(e, "0001-", 5) && og_clock_parse_iso8601(e) >= 0 &&
			    (!ends || og_clock_parse_iso8601(e) > og_clock_parse_iso8601(ends)))
				ends = e;
		}
		if (ends)
			cJSON_AddStringToObject(o, "ends_at", ends);
	}
	cJSON_AddStringToObject(o, "source", "alertmanager");
	return o;
}

/* The rca's signature; under an LLM's answer, the built-in analyzer's
 * (rca.builtin), which the LLM was shown: the index matches incidents by it. */
static const cJSON *signature_of(const cJSON *rca)
{
	return rj_str(rca, "signature") ? rj_get(rca, "signature") : rj_get(rj_get(rca, "builtin"), "signature");
}

/* The action the decision chose, from the plan. */
static cJSON *chosen_action(const cJSON *v)
{
	const cJSON *dec = rj_get(v, "decision"), *a;
	const char *choice = rj_str(dec, "choice");
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	rj_copy(o, "choice", choice ? rj_get(dec, "choice") : NULL);
	if (!choice)
		return o;
	cJSON_ArrayForEach(a, rj_get(rj_get(v, "plan"), "actions")) {
		const cJSON *t;
		cJSON *tools;
		if (!rj_str(a, "id") || strcmp(rj_str(a, "id"), choice))
			continue;
		cJSON_AddStringToObject(o, "id", choice);
		rj_copy(o, "title", rj_get(a, "title"));
		if ((tools = cJSON_AddArrayToObject(o, "tools")))
			cJSON_ArrayForEach(t, rj_get(a, "tools"))
				if (rj_str(t, "name"))
					cJSON_AddItemToArray(tools, cJSON_CreateString(rj_str(t, "name")));
		break;
	}
	return o;
}

static const char *outcome_of(const cJSON *v, const char *status, bool resolved)
{
	const char *vs = rj_str(rj_get(v, "verification"), "status");
	const char *es = rj_str(rj_get(v, "execution"), "status");
	const char *choice = rj_str(rj_get(v, "decision"), "choice");

	if (vs && !strcmp(vs, "recovered"))
		return "recovered";
	if (vs && !strcmp(vs, "rolled_back"))
		return "rolled_back";
	if (vs && !strcmp(vs, "manual"))
		return "not_recovered";
	if (es && (!strcmp(es, "failed") || !strcmp(es, "rejected")))
		return "action_failed";
	if (choice && !strcmp(choice, "manual"))
		return "manual";
	if (resolved)
		return "resolved";
	return status ? status : "unknown";
}

int og_incident_record(struct og_store_lmdb *s, const char *thread, cJSON **rec, struct og_err *err)
{
	cJSON *ck = NULL, *notes = NULL, *res = NULL, *o = NULL;
	const cJSON *v, *alert, *rca, *labels;
	const char *status, *outcome;
	int rc;

	*rec = NULL;
	if ((rc = og_store_lmdb_ops.get(s, thread, 0, &ck, err)) < 0)
		return rc;
	if ((rc = og_store_lmdb_notes(s, thread, &notes, err)) < 0)
		goto out;
	v = rj_get(ck, "values");
	alert = rj_get(v, "alert");
	status = rj_str(ck, "status");
	res = og_incident_resolution(notes);
	if (!cJSON_IsObject(alert) || !((status && !strcmp(status, "done")) || res))
		goto out;	/* not an incident, or not over */
	rc = -OG_ENOMEM;
	if (!(o = cJSON_CreateObject()))
		goto out;
	rca = rj_get(v, "rca");
	labels = rj_get(alert, "labels");
	outcome = outcome_of(v, status, res != NULL);
	cJSON_AddStringToObject(o, "thread_id", thread);
	rj_copy(o, "service", rj_get(alert, "service"));
	rj_copy(o, "severity", rj_get(alert, "severity"));
	cJSON_AddItemToObject(o, "labels", cJSON_IsObject(labels) ? cJSON_Duplicate(labels, 1) : cJSON_CreateObject());
	rj_copy(o, "alertname", rj_str(labels, "alertname") ? rj_get(labels, "alertname") : rj_get(alert, "name"));
	rj_copy(o, "summary", rj_get(alert, "summary"));
	rj_copy(o, "description", rj_get(alert, "description"));
	rj_copy(o, "signature", signature_of(rca));
	rj_copy(o, "root_cause", rj_get(rca, "root_cause"));
	rj_copy(o, "confidence", rj_get(rca, "confidence"));
	rj_copy(o, "analyzer", rj_get(rca, "analyzer"));
	cJSON_AddItemToObject(o, "action", chosen_action(v));
	rj_copy(o, "decided_by", rj_get(rj_get(v, "decision"), "by"));
	cJSON_AddStringToObject(o, "outcome", outcome);
	cJSON_AddBoolToObject(o, "fixed", !strcmp(outcome, "recovered"));
	rj_copy(o, "re_analyses", rj_get(v, "re_analyses"));
	rj_copy(o, "started_at", rj_get(alert, "started_at"));
	rj_copy(o, "ended_at", rj_get(ck, "created_at"));
	rj_copy(o, "resolved_at", res ? rj_get(res, "at") : NULL);
	*rec = o;
	o = NULL;
	rc = 0;
out:
	cJSON_Delete(ck);
	cJSON_Delete(notes);
	cJSON_Delete(res);
	cJSON_Delete(o);
	return rc;
}

int og_incident_index_thread(struct og_store_lmdb *s, const char *thread, bool *indexed, struct og_err *err)
{
	cJSON *rec = NULL;
	int rc;

	if (indexed)
		*indexed = false;
	if ((rc = og_incident_record(s, thread, &rec, err)) < 0 || !rec)
		return rc;
	rc = og_store_lmdb_incident_put(s, thread, rec, err);
	cJSON_Delete(rec);
	if (rc == 0 && indexed)
		*indexed = true;
	return rc;
}

int og_incident_index_rebuild(struct og_store_lmdb *s, int *count, struct og_err *err)
{
	cJSON *threads = NULL;
	const cJSON *t;
	int rc, n = 0;

	if ((rc = og_store_lmdb_threads(s, NULL, &threads, err)) < 0)
		return rc;
	if ((rc = og_store_lmdb_incident_clear(s, err)) < 0)
		goto out;
	cJSON_ArrayForEach(t, threads) {
		bool done = false;
		const char *id = rj_str(t, "thread_id");
		if (!id)
			continue;
		if ((rc = og_incident_index_thread(s, id, &done, err)) < 0) {
			og_err_prefix(err, "thread %s", id);
			goto out;
		}
		n += done;
	}
	if (count)
		*count = n;
out:
	cJSON_Delete(threads);
	return rc;
}

int og_incident_query(struct og_store_lmdb *s, const char *thread, struct og_similar_query *q, cJSON **keep,
		      struct og_err *err)
{
	cJSON *ck = NULL, *k = NULL;
	const cJSON *v, *alert, *rca;
	char *text;
	size_t len = 0;
	int rc;

	*keep = NULL;
	if ((rc = og_store_lmdb_ops.get(s, thread, 0, &ck, err)) < 0)
		return rc;
	v = rj_get(ck, "values");
	alert = rj_get(v, "alert");
	rca = rj_get(v, "rca");
	if (!cJSON_IsObject(alert)) {
		cJSON_Delete(ck);
		return og_err_set(err, -OG_EINVAL, "thread %s has no alert (not an incident thread); "
				  "use --text to search by words", thread);
	}
	len = strlen(rj_str(alert, "summary") ? rj_str(alert, "summary") : "") +
	      strlen(rj_str(alert, "description") ? rj_str(alert, "description") : "") +
	      strlen(rj_str(rca, "root_cause") ? rj_str(rca, "root_cause") : "") + 4;
	if (!(k = cJSON_CreateObject()) || !(text = malloc(len))) {
		cJSON_Delete(k);
		cJSON_Delete(ck);
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	}
	snprintf(text, len, "%s %s %s", rj_str(alert, "summary") ? rj_str(alert, "summary") : "",
		 rj_str(alert, "description") ? rj_str(alert, "description") : "",
		 rj_str(rca, "root_cause") ? rj_str(rca, "root_cause") : "");
	cJSON_AddItemToObject(k, "text", cJSON_CreateString(text));
	free(text);
	cJSON_AddStringToObject(k, "thread", thread);
	rj_copy(k, "service", rj_get(alert, "service"));
	rj_copy(k, "signature", signature_of(rca));
	rj_copy(k, "labels", rj_get(alert, "labels"));
	cJSON_Delete(ck);
	memset(q, 0, sizeof(*q));
	q->text = rj_str(k, "text");
	q->exclude_thread = rj_str(k, "thread");
	q->service = rj_str(k, "service");
	q->signature = rj_str(k, "signature");
	q->labels = cJSON_IsObject(rj_get(k, "labels")) ? rj_get(k, "labels") : NULL;
	*keep = k;
	return 0;
}

int og_incident_similar(struct og_store_lmdb *s, const struct og_similar_query *q, cJSON **out,
			struct og_err *err)
{
	cJSON *all = NULL;
	int rc;

	if ((rc = og_store_lmdb_incident_list(s, &all, err)) < 0)
		return rc;
	rc = og_similar_rank(all, q, out, err);
	cJSON_Delete(all);
	return rc;
}
