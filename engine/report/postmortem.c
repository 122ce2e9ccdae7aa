/*
 * postmortem.c: builds the postmortem document of a thread (postmortem.h)
 * from what the store recorded: the checkpoints of every branch (history),
 * each main-path checkpoint in full (values, resumed records, interrupts),
 * the thread's notes and the LLM usage log. The main path is the chain of
 * parents from the latest checkpoint; checkpoints off it are branches.
 */
#include "postmortem.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../store/store_lmdb_llmlog.h"
#include "incident_index.h"

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void copy(cJSON *to, const char *k, const cJSON *v)
{
	cJSON_AddItemToObject(to, k, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

static int64_t ms_of(const char *iso)
{
	return iso ? og_clock_parse_iso8601(iso) : -1;
}

/* seconds between two ISO times, or null when either is unknown */
static cJSON *span_s(const char *from, const char *to)
{
	int64_t a = ms_of(from), b = ms_of(to);

	if (a < 0 || b < 0)
		return cJSON_CreateNull();
	return cJSON_CreateNumber(round((double)(b - a) / 100.0) / 10.0);
}

static bool wrote(const cJSON *ck, const char *channel)
{
	const cJSON *node, *c;

	cJSON_ArrayForEach(node, get(ck, "writes"))
		cJSON_ArrayForEach(c, node)
			if (cJSON_IsString(c) && !strcmp(c->valuestring, channel))
				return true;
	return false;
}

static bool is_human(const char *by)
{
	return by && *by && strncmp(by, "opsgraph", 8);
}

/* The main path, oldest first, as full checkpoints. */
static int load_path(struct og_store_lmdb *s, const char *thread, const cJSON *hist, cJSON **path,
		     struct og_err *err)
{
	const cJSON *h;
	uint64_t want = 0;
	int rc;

	if (!(*path = cJSON_CreateArray()))
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	/* history is newest first: the latest, then each parent in turn */
	cJSON_ArrayForEach(h, hist) {
		uint64_t id = (uint64_t)cJSON_GetNumberValue(get(h, "id"));
		cJSON *ck = NULL;
		if (want && id != want)
			continue;
		if ((rc = og_store_lmdb_ops.get(s, thread, id, &ck, err)) < 0)
			return rc;
		cJSON_InsertItemInArray(*path, 0, ck);
		want = (uint64_t)cJSON_GetNumberValue(get(h, "parent_id"));
		if (!want)
			break;
	}
	return 0;
}

static const cJSON *find_interrupt(const cJSON *path, int upto, const char *iid)
{
	int i;

	for (i = upto; i >= 0 && iid; i--) {
		const cJSON *it;
		cJSON_ArrayForEach(it, get(cJSON_GetArrayItem(path, i), "interrupts"))
			if (str(it, "id") && !strcmp(str(it, "id"), iid))
				return it;
	}
	return NULL;
}

static const char *answer_choice(const cJSON *value)
{
	if (cJSON_IsString(value))
		return value->valuestring;
	if (cJSON_IsObject(value)) {
		if (str(value, "choice"))
			return str(value, "choice");
		if (cJSON_IsString(get(value, "answer")))
			return str(value, "answer");
		if (cJSON_IsObject(get(value, "answer")))
			return answer_choice(get(value, "answer"));
	}
	return NULL;
}

static cJSON *decision_of(const cJSON *path, int i, const cJSON *r, const cJSON *notes)
{
	const cJSON *it = find_interrupt(path, i, str(r, "interrupt_id")), *iv = get(it, "value"), *a, *n;
	cJSON *d = cJSON_CreateObject(), *alts;
	const char *choice = answer_choice(get(r, "value"));

	if (!d)
		return NULL;
	copy(d, "at", get(r, "at"));
	copy(d, "by", get(r, "by"));
	copy(d, "node", get(r, "node"));
	copy(d, "interrupt_id", get(r, "interrupt_id"));
	copy(d, "kind", get(iv, "kind"));
	copy(d, "answer", get(r, "value"));
	cJSON_AddItemToObject(d, "choice", choice ? cJSON_CreateString(choice) : cJSON_CreateNull());
	copy(d, "asked_at", get(iv, "asked_at"));
	copy(d, "question", get(iv, "question"));
	alts = cJSON_AddArrayToObject(d, "alternatives");
	cJSON_ArrayForEach(a, get(iv, "actions")) {
		cJSON *o = cJSON_CreateObject();
		copy(o, "id", get(a, "id"));
		copy(o, "title", get(a, "title"));
		copy(o, "risk", get(a, "risk"));
		copy(o, "eta", get(a, "eta"));
		cJSON_AddItemToArray(alts, o);
	}
	copy(d, "choices", get(iv, "choices") ? get(iv, "choices") : get(iv, "options"));
	cJSON_ArrayForEach(n, notes) {
		const cJSON *v = get(n, "value");
		if (str(v, "kind") && !strcmp(str(v, "kind"), "decision_note") && str(v, "interrupt_id") &&
		    str(r, "interrupt_id") && !strcmp(str(v, "interrupt_id"), str(r, "interrupt_id")))
			copy(d, "note", get(v, "note"));
	}
	if (!get(d, "note") && cJSON_IsObject(get(r, "value")) && str(get(r, "value"), "note"))
		copy(d, "note", get(get(r, "value"), "note"));
	return d;
}

static cJSON *step_of(const cJSON *prev, const cJSON *ck)
{
	cJSON *o = cJSON_CreateObject(), *nodes;
	const cJSON *w, *r, *it;
	const char *start = str(prev, "created_at"), *end = str(ck, "created_at");
	int64_t a, b;

	if (!o)
		return NULL;
	copy(o, "checkpoint", get(ck, "id"));
	copy(o, "parent", get(ck, "parent_id"));
	copy(o, "step", get(ck, "step"));
	copy(o, "source", get(ck, "source"));
	copy(o, "status", get(ck, "status"));
	nodes = cJSON_AddArrayToObject(o, "nodes");
	cJSON_ArrayForEach(w, get(ck, "writes"))
		cJSON_AddItemToArray(nodes, cJSON_CreateString(w->string));
	if (!cJSON_GetArraySize(nodes))		/* a pause: the nodes that asked */
		cJSON_ArrayForEach(it, get(ck, "interrupts"))
			if (str(it, "node"))
				cJSON_AddItemToArray(nodes, cJSON_CreateString(str(it, "node")));
	if (str(ck, "source") && !strcmp(str(ck, "source"), "fork"))
		start = end;	/* a fork runs no node: it is an instant */
	/* a resumed step started when the answer came, not when the question was stored */
	cJSON_ArrayForEach(r, get(ck, "resumed"))
		if (str(r, "at") && (!start || strcmp(str(r, "at"), start) > 0))
			start = str(r, "at");
	cJSON_AddItemToObject(o, "started_at", start ? cJSON_CreateString(start) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "ended_at", end ? cJSON_CreateString(end) : cJSON_CreateNull());
	a = ms_of(start);
	b = ms_of(end);
	cJSON_AddItemToObject(o, "duration_ms", a >= 0 && b >= a ? cJSON_CreateNumber((double)(b - a)) : cJSON_CreateNull());
	return o;
}

static cJSON *execution_of(const cJSON *ck)
{
	const cJSON *e = get(get(ck, "values"), "execution"), *r;
	static const char *const keep[] = { "tool", "status", "exit_code", "signal", "timed_out", "duration_ms",
					    "started_at", "ended_at", "stdout", "stderr", "http_status", "method",
					    "url", "body", "error", "args", NULL };
	cJSON *o = cJSON_CreateObject(), *res;
	int k;

	if (!o || !cJSON_IsObject(e))
		return o;
	copy(o, "checkpoint", get(ck, "id"));
	copy(o, "action_id", get(e, "action_id"));
	copy(o, "title", get(e, "title"));
	copy(o, "by", get(e, "by"));
	copy(o, "status", get(e, "status"));
	copy(o, "started_at", get(e, "started_at"));
	copy(o, "ended_at", get(e, "ended_at"));
	copy(o, "summary", get(e, "summary"));
	res = cJSON_AddArrayToObject(o, "results");
	cJSON_ArrayForEach(r, get(e, "results")) {
		cJSON *x = cJSON_CreateObject();
		for (k = 0; keep[k]; k++)
			if (get(r, keep[k]))
				copy(x, keep[k], get(r, keep[k]));
		cJSON_AddItemToArray(res, x);
	}
	return o;
}

/* The dry-run reports as the decision saw them (dry_run_actions' channel,
 * nodes/README.md): per action its verdict and fidelity, per tool its own;
 * the raw reports (pids, cgroup ids, traces) stay in the checkpoint. */
static cJSON *dry_runs_of(const cJSON *d)
{
	const cJSON *a, *rep;
	cJSON *o, *acts;

	if (!cJSON_IsObject(d))
		return cJSON_CreateNull();
	if (!cJSON_IsObject(get(d, "actions")))
		return cJSON_Duplicate(d, 1);	/* a shape this report does not know: as it is */
	o = cJSON_CreateObject();
	copy(o, "at", get(d, "at"));
	copy(o, "enabled", get(d, "enabled"));
	copy(o, "reason", get(d, "reason"));
	acts = cJSON_AddArrayToObject(o, "actions");
	cJSON_ArrayForEach(a, get(d, "actions")) {
		cJSON *x = cJSON_CreateObject(), *tools;
		cJSON_AddStringToObject(x, "id", a->string);
		copy(x, "title", get(a, "title"));
		copy(x, "fidelity", get(a, "fidelity"));
		copy(x, "verdict", get(a, "verdict"));
		tools = cJSON_AddArrayToObject(x, "tools");
		cJSON_ArrayForEach(rep, get(a, "reports")) {
			cJSON *t = cJSON_CreateObject();
			copy(t, "tool", get(rep, "tool"));
			copy(t, "mode", get(rep, "mode"));
			copy(t, "fidelity", get(rep, "fidelity"));
			copy(t, "exit_code", get(rep, "exit_code"));
			copy(t, "verdict", get(rep, "verdict"));
			cJSON_AddItemToArray(tools, t);
		}
		cJSON_AddItemToArray(acts, x);
	}
	return o;
}

/* Checkpoints off the main path that start a branch, with their leaf. */
static int branches_of(struct og_store_lmdb *s, const char *thread, const cJSON *hist, const cJSON *path,
		       cJSON *out, struct og_err *err)
{
	const cJSON *h, *p;
	int n = cJSON_GetArraySize(hist);
	uint64_t *ids = calloc((size_t)n + 1, sizeof(*ids)), *par = calloc((size_t)n + 1, sizeof(*par));
	bool *main = calloc((size_t)n + 1, sizeof(*main));
	int i = 0, j, rc = 0;

	if (!ids || !par || !main) {
		rc = og_err_set(err, -OG_ENOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(h, hist) {
		ids[i] = (uint64_t)cJSON_GetNumberValue(get(h, "id"));
		par[i] = (uint64_t)cJSON_GetNumberValue(get(h, "parent_id"));
		cJSON_ArrayForEach(p, path)
			if ((uint64_t)cJSON_GetNumberValue(get(p, "id")) == ids[i])
				main[i] = true;
		i++;
	}
	/* oldest first, so branches list in the order they were made */
	for (i = n - 1; i >= 0; i--) {
		bool root = false;
		uint64_t leaf = ids[i];
		cJSON *b, *ck = NULL, *nodes, *decs;
		if (main[i])
			continue;
		for (j = 0; j < n; j++)
			if (ids[j] == par[i])
				root = main[j];
		if (!root && par[i])
			continue;
		/* follow the newest child down to the branch's latest checkpoint */
		for (;;) {
			uint64_t next = 0;
			for (j = 0; j < n; j++)
				if (par[j] == leaf && ids[j] > next)
					next = ids[j];
			if (!next)
				break;
			leaf = next;
		}
		if ((rc = og_store_lmdb_ops.get(s, thread, leaf, &ck, err)) < 0)
			goto out;
		b = cJSON_CreateObject();
		cJSON_AddItemToArray(out, b);
		cJSON_AddNumberToObject(b, "checkpoint", (double)ids[i]);
		cJSON_AddNumberToObject(b, "forked_from", (double)par[i]);
		cJSON_ArrayForEach(h, hist)
			if ((uint64_t)cJSON_GetNumberValue(get(h, "id")) == ids[i]) {
				copy(b, "created_at", get(h, "created_at"));
				copy(b, "source", get(h, "source"));
			}
		cJSON_AddNumberToObject(b, "latest", (double)leaf);
		copy(b, "status", get(ck, "status"));
		nodes = cJSON_AddArrayToObject(b, "nodes");
		/* the nodes the branch ran, from its root to its leaf */
		for (uint64_t at = leaf; at && at >= ids[i];) {
			uint64_t up = 0;
			for (j = 0; j < n; j++)
				if (ids[j] == at) {
					const cJSON *w;
					cJSON_ArrayForEach(w, get(cJSON_GetArrayItem(hist, j), "writes"))
						cJSON_InsertItemInArray(nodes, 0, cJSON_CreateString(w->string));
					up = par[j];
				}
			at = up;
		}
		copy(b, "decision", get(get(ck, "values"), "decision"));
		copy(b, "verification_status", get(get(get(ck, "values"), "verification"), "status"));
		cJSON_Delete(ck);
		/* who answered on the branch, for the time to acknowledge */
		decs = cJSON_AddArrayToObject(b, "decisions");
		for (uint64_t at = leaf; at && at >= ids[i];) {
			const cJSON *r;
			cJSON *c = NULL;
			if ((rc = og_store_lmdb_ops.get(s, thread, at, &c, err)) < 0)
				goto out;
			cJSON_ArrayForEach(r, get(c, "resumed")) {
				cJSON *d = cJSON_CreateObject();
				copy(d, "at", get(r, "at"));
				copy(d, "by", get(r, "by"));
				copy(d, "node", get(r, "node"));
				cJSON_AddItemToObject(d, "choice", answer_choice(get(r, "value")) ?
						      cJSON_CreateString(answer_choice(get(r, "value"))) : cJSON_CreateNull());
				cJSON_InsertItemInArray(decs, 0, d);
			}
			at = (uint64_t)cJSON_GetNumberValue(get(c, "parent_id"));
			cJSON_Delete(c);
		}
	}
out:
	free(ids);
	free(par);
	free(main);
	return rc;
}

static void add_llm(cJSON *doc, const cJSON *log)
{
	static const char *const keep[] = { "at", "node", "role", "provider", "model", "tokens_in", "tokens_out",
					    "latency_ms", "cost", "outcome", NULL };
	cJSON *calls = cJSON_AddArrayToObject(doc, "llm_calls"), *tot;
	double tin = 0, tout = 0, cost = 0;
	const cJSON *e;
	int n = 0, k;
	bool priced = false;

	cJSON_ArrayForEach(e, log) {
		cJSON *o = cJSON_CreateObject();
		for (k = 0; keep[k]; k++)
			copy(o, keep[k], get(e, keep[k]));
		cJSON_AddItemToArray(calls, o);
		n++;
		tin += cJSON_GetNumberValue(get(e, "tokens_in")) > 0 ? cJSON_GetNumberValue(get(e, "tokens_in")) : 0;
		tout += cJSON_GetNumberValue(get(e, "tokens_out")) > 0 ? cJSON_GetNumberValue(get(e, "tokens_out")) : 0;
		if (cJSON_IsNumber(get(e, "cost"))) {
			cost += cJSON_GetNumberValue(get(e, "cost"));
			priced = true;
		}
	}
	tot = cJSON_AddObjectToObject(doc, "llm_totals");
	cJSON_AddNumberToObject(tot, "calls", n);
	cJSON_AddNumberToObject(tot, "tokens_in", tin);
	cJSON_AddNumberToObject(tot, "tokens_out", tout);
	cJSON_AddItemToObject(tot, "cost", priced ? cJSON_CreateNumber(cost) : cJSON_CreateNull());
}

static void add_alert(cJSON *doc, const cJSON *alert, const cJSON *first)
{
	static const char *const keep[] = { "service", "severity", "summary", "description", "labels",
					    "started_at", "source", "expr", "name", NULL };
	cJSON *a = cJSON_AddObjectToObject(doc, "alert"), *det;
	char title[512];
	int k;

	for (k = 0; keep[k]; k++)
		copy(a, keep[k], get(alert, keep[k]));
	snprintf(title, sizeof(title), "%s: %s", str(alert, "service") ? str(alert, "service") : "incident",
		 str(alert, "summary") ? str(alert, "summary") : "(no summary)");
	cJSON_AddStringToObject(doc, "title", title);
	det = cJSON_AddObjectToObject(doc, "detection");
	copy(det, "alert_at", get(alert, "started_at"));
	copy(det, "opened_at", get(first, "created_at"));
	cJSON_AddItemToObject(det, "delay_s", span_s(str(alert, "started_at"), str(first, "created_at")));
}

static void add_rca(cJSON *doc, const cJSON *rca)
{
	static const char *const keep[] = { "root_cause", "signature", "confidence", "analyzer", "impact",
					    "evidence", "similar_used", NULL };
	cJSON *o = cJSON_AddObjectToObject(doc, "root_cause");
	int k;

	for (k = 0; keep[k]; k++)
		if (k < 6 || get(rca, keep[k]))
			copy(o, keep[k], get(rca, keep[k]));
}

static const cJSON *earlier_human(const cJSON *decisions, const cJSON *ack)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, decisions)
		if (is_human(str(d, "by")) && str(d, "at") &&
		    (!ack || og_clock_parse_iso8601(str(d, "at")) < og_clock_parse_iso8601(str(ack, "at"))))
			ack = d;
	return ack;
}

/* Acknowledged: the first answer of a human on any branch. */
static void add_metrics(cJSON *doc, const cJSON *alert, const cJSON *decisions, const cJSON *branches,
			const cJSON *resolution)
{
	cJSON *m = cJSON_AddObjectToObject(doc, "metrics");
	const cJSON *b, *ack = earlier_human(decisions, NULL);
	const char *res_at = str(resolution, "at");

	cJSON_ArrayForEach(b, branches)
		ack = earlier_human(get(b, "decisions"), ack);
	copy(m, "acknowledged_at", get(ack, "at"));
	copy(m, "acknowledged_by", get(ack, "by"));
	cJSON_AddItemToObject(m, "time_to_acknowledge_s", span_s(str(alert, "started_at"), str(ack, "at")));
	cJSON_AddItemToObject(m, "resolved_at", res_at ? cJSON_CreateString(res_at) : cJSON_CreateNull());
	cJSON_AddItemToObject(m, "time_to_resolve_s", span_s(str(alert, "started_at"), res_at));
}

/* How it ended: Alertmanager's resolution first, else what verify_recovery
 * saw, else the thread's status (a manual hand-over is not a resolution). */
static cJSON *resolution_of(const cJSON *latest, const cJSON *notes, const char *outcome)
{
	const cJSON *v = get(latest, "values"), *ver = get(v, "verification");
	cJSON *am = og_incident_resolution(notes), *o = cJSON_CreateObject();

	copy(o, "status", get(latest, "status"));
	cJSON_AddStringToObject(o, "outcome", outcome);
	if (am) {
		cJSON_AddStringToObject(o, "source", "alertmanager");
		copy(o, "at", get(am, "ends_at") ? get(am, "ends_at") : get(am, "at"));
	} else if (str(ver, "status") && !strcmp(str(ver, "status"), "recovered")) {
		cJSON_AddStringToObject(o, "source", "verify_recovery");
		copy(o, "at", get(ver, "checked_at"));
	} else {
		cJSON_AddNullToObject(o, "source");
		cJSON_AddNullToObject(o, "at");
	}
	cJSON_Delete(am);
	return o;
}

static void add_notes(cJSON *doc, const cJSON *notes)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "notes");
	const cJSON *n;

	cJSON_ArrayForEach(n, notes) {
		const cJSON *v = get(n, "value");
		cJSON *o;
		if (!str(v, "kind") || strncmp(str(v, "kind"), "alert_", 6))
			continue;	/* decision notes go with their decision; slack bookkeeping is not news */
		o = cJSON_CreateObject();
		copy(o, "key", get(n, "key"));
		copy(o, "kind", get(v, "kind"));
		copy(o, "at", get(v, "at"));
		copy(o, "status", get(get(v, "payload"), "status"));
		cJSON_AddItemToArray(arr, o);
	}
}

int og_postmortem_build(struct og_store_lmdb *s, const char *thread, cJSON **out, struct og_err *err)
{
	cJSON *hist = NULL, *path = NULL, *notes = NULL, *log = NULL, *doc = NULL, *rec = NULL;
	cJSON *steps, *decisions, *analyses, *execs, *vers, *loops, *re, *branches, *learned;
	const cJSON *latest, *first, *v, *alert;
	char now[40];
	int rc, i, n;

	*out = NULL;
	if (!thread || !*thread)
		return og_err_set(err, -OG_EINVAL, "postmortem: a thread id is needed (opsgraph threads lists them)");
	if ((rc = og_store_lmdb_history(s, thread, 0, 0, &hist, err)) < 0)
		goto out;
	if (!cJSON_GetArraySize(hist)) {
		rc = og_err_set(err, -OG_ENOENT, "postmortem: no thread '%s' in this database; `opsgraph threads "
				"--db DIR` lists the threads (is --db the database the incident ran in?)", thread);
		goto out;
	}
	if ((rc = load_path(s, thread, hist, &path, err)) < 0 ||
	    (rc = og_store_lmdb_notes(s, thread, &notes, err)) < 0 ||
	    (rc = og_store_lmdb_llmlog_list(s, 0, thread, &log, err)) < 0 ||
	    (rc = og_incident_record(s, thread, &rec, err)) < 0)
		goto out;
	rc = -OG_ENOMEM;
	if (!(doc = cJSON_CreateObject()))
		goto out;
	n = cJSON_GetArraySize(path);
	first = cJSON_GetArrayItem(path, 0);
	latest = cJSON_GetArrayItem(path, n - 1);
	v = get(latest, "values");
	alert = get(v, "alert");
	cJSON_AddStringToObject(doc, "format", OG_POSTMORTEM_FORMAT);
	cJSON_AddStringToObject(doc, "thread_id", thread);
	copy(doc, "graph", get(latest, "graph"));
	copy(doc, "status", get(latest, "status"));
	cJSON_AddStringToObject(doc, "generated_at", og_clock_iso8601(og_clock_wall_ms(), now, sizeof(now)));
	add_alert(doc, alert, first);
	add_rca(doc, get(v, "rca"));

	steps = cJSON_AddArrayToObject(doc, "steps");
	decisions = cJSON_AddArrayToObject(doc, "decisions");
	analyses = cJSON_AddArrayToObject(doc, "analyses");
	execs = cJSON_AddArrayToObject(doc, "executions");
	vers = cJSON_AddArrayToObject(doc, "verifications");
	for (i = 1; i < n; i++) {
		const cJSON *ck = cJSON_GetArrayItem(path, i), *r, *cv = get(ck, "values");
		cJSON_ArrayForEach(r, get(ck, "resumed"))
			cJSON_AddItemToArray(decisions, decision_of(path, i - 1, r, notes));
		cJSON_AddItemToArray(steps, step_of(cJSON_GetArrayItem(path, i - 1), ck));
		if (wrote(ck, "rca")) {
			cJSON *a = cJSON_CreateObject();
			copy(a, "checkpoint", get(ck, "id"));
			copy(a, "at", get(ck, "created_at"));
			copy(a, "root_cause", get(get(cv, "rca"), "root_cause"));
			copy(a, "signature", get(get(cv, "rca"), "signature"));
			copy(a, "confidence", get(get(cv, "rca"), "confidence"));
			copy(a, "analyzer", get(get(cv, "rca"), "analyzer"));
			copy(a, "hint", get(cv, "operator_hint"));
			cJSON_AddItemToArray(analyses, a);
		}
		if (wrote(ck, "execution"))
			cJSON_AddItemToArray(execs, execution_of(ck));
		if (wrote(ck, "verification")) {
			cJSON *x = cJSON_CreateObject();
			const cJSON *ver = get(cv, "verification");
			static const char *const keep[] = { "status", "recovered", "checked_at", "time_to_recovery_s",
							    "after_action_s", "query", "condition", "threshold",
							    "last_value", "checks", "reason", "answer", "by", NULL };
			int k;
			copy(x, "checkpoint", get(ck, "id"));
			for (k = 0; keep[k]; k++)
				if (get(ver, keep[k]))
					copy(x, keep[k], get(ver, keep[k]));
			cJSON_AddItemToArray(vers, x);
		}
	}
	cJSON_AddItemToObject(doc, "dry_runs", dry_runs_of(get(v, "dry_runs")));

	/* the re-analysis loops: every decision that sent the run back */
	re = cJSON_AddObjectToObject(doc, "re_analyses");
	copy(re, "count", get(v, "re_analyses"));
	loops = cJSON_AddArrayToObject(re, "loops");
	for (i = 1; i < n; i++) {
		const cJSON *ck = cJSON_GetArrayItem(path, i), *d = get(get(ck, "values"), "decision");
		if (wrote(ck, "decision") && str(d, "choice") && !strcmp(str(d, "choice"), "re_analyze")) {
			cJSON *l = cJSON_CreateObject();
			copy(l, "checkpoint", get(ck, "id"));
			copy(l, "at", get(d, "at"));
			copy(l, "by", get(d, "by"));
			copy(l, "hint", get(d, "hint"));
			cJSON_AddStringToObject(l, "source", str(d, "source") ? str(d, "source") : "human_decision");
			cJSON_AddItemToArray(loops, l);
		}
	}
	branches = cJSON_AddArrayToObject(doc, "branches");
	if ((rc = branches_of(s, thread, hist, path, branches, err)) < 0)
		goto out;
	add_llm(doc, log);
	add_notes(doc, notes);
	cJSON_AddItemToObject(doc, "resolution",
			      resolution_of(latest, notes, rec ? str(rec, "outcome") : str(latest, "status")));
	add_metrics(doc, alert, decisions, branches, get(doc, "resolution"));
	copy(doc, "similar", get(get(v, "context"), "similar"));
	learned = cJSON_AddArrayToObject(doc, "learned");
	(void)learned;	/* the team's to fill: the md heading and the HTML section edit it */
	*out = doc;
	doc = NULL;
	rc = 0;
out:
	cJSON_Delete(hist);
	cJSON_Delete(path);
	cJSON_Delete(notes);
	cJSON_Delete(log);
	cJSON_Delete(rec);
	cJSON_Delete(doc);
	return rc;
}
