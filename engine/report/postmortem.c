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
#include "postmortem_int.h"
#include "report_json.h"

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

	cJSON_ArrayForEach(node, rj_get(ck, "writes"))
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
		uint64_t id = (uint64_t)cJSON_GetNumberValue(rj_get(h, "id"));
		cJSON *ck = NULL;
		if (want && id != want)
			continue;
		if ((rc = og_store_lmdb_ops.get(s, thread, id, &ck, err)) < 0)
			return rc;
		cJSON_InsertItemInArray(*path, 0, ck);
		want = (uint64_t)cJSON_GetNumberValue(rj_get(h, "parent_id"));
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
		cJSON_ArrayForEach(it, rj_get(cJSON_GetArrayItem(path, i), "interrupts"))
			if (rj_str(it, "id") && !strcmp(rj_str(it, "id"), iid))
				return it;
	}
	return NULL;
}

static const char *answer_choice(const cJSON *value)
{
	if (cJSON_IsString(value))
		return value->valuestring;
	if (cJSON_IsObject(value)) {
		if (rj_str(value, "choice"))
			return rj_str(value, "choice");
		if (cJSON_IsString(rj_get(value, "answer")))
			return rj_str(value, "answer");
		if (cJSON_IsObject(rj_get(value, "answer")))
			return answer_choice(rj_get(value, "answer"));
	}
	return NULL;
}

static const char *const resumed_keys[] = { "at", "by", "node", "interrupt_id", NULL };

static cJSON *decision_of(const cJSON *path, int i, const cJSON *r, const cJSON *notes)
{
	const cJSON *it = find_interrupt(path, i, rj_str(r, "interrupt_id")), *iv = rj_get(it, "value"), *a, *n;
	cJSON *d = cJSON_CreateObject(), *alts;
	const char *choice = answer_choice(rj_get(r, "value"));

	if (!d)
		return NULL;
	rj_pick(d, r, resumed_keys, false);
	rj_copy(d, "kind", rj_get(iv, "kind"));
	rj_copy(d, "answer", rj_get(r, "value"));
	cJSON_AddItemToObject(d, "choice", choice ? cJSON_CreateString(choice) : cJSON_CreateNull());
	rj_copy(d, "asked_at", rj_get(iv, "asked_at"));
	rj_copy(d, "question", rj_get(iv, "question"));
	alts = cJSON_AddArrayToObject(d, "alternatives");
	cJSON_ArrayForEach(a, rj_get(iv, "actions")) {
		static const char *const keep[] = { "id", "title", "risk", "eta", NULL };
		cJSON *o = cJSON_CreateObject();
		rj_pick(o, a, keep, false);
		cJSON_AddItemToArray(alts, o);
	}
	rj_copy(d, "choices", rj_get(iv, "choices") ? rj_get(iv, "choices") : rj_get(iv, "options"));
	cJSON_ArrayForEach(n, notes) {
		const cJSON *v = rj_get(n, "value");
		if (rj_str(v, "kind") && !strcmp(rj_str(v, "kind"), "decision_note") && rj_str(v, "interrupt_id") &&
		    rj_str(r, "interrupt_id") && !strcmp(rj_str(v, "interrupt_id"), rj_str(r, "interrupt_id")))
			rj_copy(d, "note", rj_get(v, "note"));
	}
	if (!rj_get(d, "note") && cJSON_IsObject(rj_get(r, "value")) && rj_str(rj_get(r, "value"), "note"))
		rj_copy(d, "note", rj_get(rj_get(r, "value"), "note"));
	return d;
}

static cJSON *step_of(const cJSON *prev, const cJSON *ck)
{
	cJSON *o = cJSON_CreateObject(), *nodes;
	const cJSON *w, *r, *it;
	const char *start = rj_str(prev, "created_at"), *end = rj_str(ck, "created_at");
	int64_t a, b;

	if (!o)
		return NULL;
	rj_copy(o, "checkpoint", rj_get(ck, "id"));
	rj_copy(o, "parent", rj_get(ck, "parent_id"));
	rj_copy(o, "step", rj_get(ck, "step"));
	rj_copy(o, "source", rj_get(ck, "source"));
	rj_copy(o, "status", rj_get(ck, "status"));
	nodes = cJSON_AddArrayToObject(o, "nodes");
	cJSON_ArrayForEach(w, rj_get(ck, "writes"))
		cJSON_AddItemToArray(nodes, cJSON_CreateString(w->string));
	if (!cJSON_GetArraySize(nodes))		/* a pause: the nodes that asked */
		cJSON_ArrayForEach(it, rj_get(ck, "interrupts"))
			if (rj_str(it, "node"))
				cJSON_AddItemToArray(nodes, cJSON_CreateString(rj_str(it, "node")));
	if (rj_str(ck, "source") && !strcmp(rj_str(ck, "source"), "fork"))
		start = end;	/* a fork runs no node: it is an instant */
	/* a resumed step started when the answer came, not when the question was stored */
	cJSON_ArrayForEach(r, rj_get(ck, "resumed"))
		if (rj_str(r, "at") && (!start || strcmp(rj_str(r, "at"), start) > 0))
			start = rj_str(r, "at");
	cJSON_AddItemToObject(o, "started_at", start ? cJSON_CreateString(start) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "ended_at", end ? cJSON_CreateString(end) : cJSON_CreateNull());
	a = ms_of(start);
	b = ms_of(end);
	cJSON_AddItemToObject(o, "duration_ms", a >= 0 && b >= a ? cJSON_CreateNumber((double)(b - a)) : cJSON_CreateNull());
	pm_add_node_runs(o, prev, ck);
	return o;
}

static cJSON *execution_of(const cJSON *ck)
{
	const cJSON *e = rj_get(rj_get(ck, "values"), "execution"), *r;
	static const char *const keep[] = { "tool", "status", "exit_code", "signal", "timed_out", "duration_ms",
					    "started_at", "ended_at", "stdout", "stderr", "http_status", "method",
					    "url", "body", "error", "args", NULL };
	cJSON *o = cJSON_CreateObject(), *res;

	if (!o || !cJSON_IsObject(e))
		return o;
	static const char *const exec_keys[] = { "action_id", "title", "by", "status", "started_at", "ended_at",
						 "summary", NULL };
	rj_copy(o, "checkpoint", rj_get(ck, "id"));
	rj_pick(o, e, exec_keys, false);
	res = cJSON_AddArrayToObject(o, "results");
	cJSON_ArrayForEach(r, rj_get(e, "results")) {
		cJSON *x = cJSON_CreateObject();
		rj_pick(x, r, keep, true);
		cJSON_AddItemToArray(res, x);
	}
	return o;
}

/* The dry-run reports as the decision saw them (dry_run_actions' channel,
 * nodes/README.md): per action its verdict and fidelity, per tool its own;
 * the raw reports (pids, cgroup ids, traces) stay in the checkpoint. */
static cJSON *dry_runs_of(const cJSON *d)
{
	static const char *const top_keys[] = { "at", "enabled", "reason", NULL };
	const cJSON *a, *rep;
	cJSON *o, *acts;

	if (!cJSON_IsObject(d))
		return cJSON_CreateNull();
	if (!cJSON_IsObject(rj_get(d, "actions")))
		return cJSON_Duplicate(d, 1);	/* a shape this report does not know: as it is */
	o = cJSON_CreateObject();
	rj_pick(o, d, top_keys, false);
	acts = cJSON_AddArrayToObject(o, "actions");
	cJSON_ArrayForEach(a, rj_get(d, "actions")) {
		cJSON *x = cJSON_CreateObject(), *tools;
		static const char *const act_keys[] = { "title", "fidelity", "verdict", NULL };
		static const char *const tool_keys[] = { "tool", "mode", "fidelity", "exit_code", "verdict", NULL };
		cJSON_AddStringToObject(x, "id", a->string);
		rj_pick(x, a, act_keys, false);
		tools = cJSON_AddArrayToObject(x, "tools");
		cJSON_ArrayForEach(rep, rj_get(a, "reports")) {
			cJSON *t = cJSON_CreateObject();
			rj_pick(t, rep, tool_keys, false);
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
		ids[i] = (uint64_t)cJSON_GetNumberValue(rj_get(h, "id"));
		par[i] = (uint64_t)cJSON_GetNumberValue(rj_get(h, "parent_id"));
		cJSON_ArrayForEach(p, path)
			if ((uint64_t)cJSON_GetNumberValue(rj_get(p, "id")) == ids[i])
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
			if ((uint64_t)cJSON_GetNumberValue(rj_get(h, "id")) == ids[i]) {
				rj_copy(b, "created_at", rj_get(h, "created_at"));
				rj_copy(b, "source", rj_get(h, "source"));
			}
		cJSON_AddNumberToObject(b, "latest", (double)leaf);
		rj_copy(b, "status", rj_get(ck, "status"));
		nodes = cJSON_AddArrayToObject(b, "nodes");
		/* the nodes the branch ran, from its root to its leaf */
		for (uint64_t at = leaf; at && at >= ids[i];) {
			uint64_t up = 0;
			for (j = 0; j < n; j++)
				if (ids[j] == at) {
					const cJSON *w;
					cJSON_ArrayForEach(w, rj_get(cJSON_GetArrayItem(hist, j), "writes"))
						cJSON_InsertItemInArray(nodes, 0, cJSON_CreateString(w->string));
					up = par[j];
				}
			at = up;
		}
		rj_copy(b, "decision", rj_get(rj_get(ck, "values"), "decision"));
		rj_copy(b, "verification_status", rj_get(rj_get(rj_get(ck, "values"), "verification"), "status"));
		cJSON_Delete(ck);
		/* who answered on the branch, for the time to acknowledge */
		decs = cJSON_AddArrayToObject(b, "decisions");
		for (uint64_t at = leaf; at && at >= ids[i];) {
			const cJSON *r;
			cJSON *c = NULL;
			if ((rc = og_store_lmdb_ops.get(s, thread, at, &c, err)) < 0)
				goto out;
			cJSON_ArrayForEach(r, rj_get(c, "resumed")) {
				cJSON *d = cJSON_CreateObject();
				rj_pick(d, r, resumed_keys, false);
				cJSON_AddItemToObject(d, "choice", answer_choice(rj_get(r, "value")) ?
						      cJSON_CreateString(answer_choice(rj_get(r, "value"))) : cJSON_CreateNull());
				cJSON_InsertItemInArray(decs, 0, d);
			}
			at = (uint64_t)cJSON_GetNumberValue(rj_get(c, "parent_id"));
			cJSON_Delete(c);
		}
	}
out:
	free(ids);
	free(par);
	free(main);
	return rc;
}

/* the usage log names the caller as the VM does ("node 'x'"): keep the name */
static void node_name(cJSON *o)
{
	const char *n = rj_str(o, "node");
	size_t len = n ? strlen(n) : 0;

	if (len > 7 && !strncmp(n, "node '", 6) && n[len - 1] == '\'') {
		cJSON *v = cJSON_CreateString(n + 6);
		if (v) {
			v->valuestring[len - 7] = 0;
			cJSON_ReplaceItemInObjectCaseSensitive(o, "node", v);
		}
	}
}

static void add_llm(cJSON *doc, const cJSON *log)
{
	static const char *const keep[] = { "at", "node", "role", "provider", "model", "tokens_in", "tokens_out",
					    "latency_ms", "cost", "outcome", NULL };
	cJSON *calls = cJSON_AddArrayToObject(doc, "llm_calls"), *tot;
	double tin = 0, tout = 0, cost = 0;
	const cJSON *e;
	int n = 0;
	bool priced = false;

	cJSON_ArrayForEach(e, log) {
		cJSON *o = cJSON_CreateObject();
		rj_pick(o, e, keep, false);
		node_name(o);
		{
			/* logged when the answer came: the call began latency_ms earlier */
			int64_t at = rj_str(e, "at") ? og_clock_parse_iso8601(rj_str(e, "at")) : -1;
			const cJSON *lat = rj_get(e, "latency_ms");
			char iso[40];
			if (at >= 0 && cJSON_IsNumber(lat))
				cJSON_AddStringToObject(o, "started_at", og_clock_iso8601(at - (int64_t)lat->valuedouble, iso,
										    sizeof(iso)));
		}
		cJSON_AddItemToArray(calls, o);
		n++;
		tin += cJSON_GetNumberValue(rj_get(e, "tokens_in")) > 0 ? cJSON_GetNumberValue(rj_get(e, "tokens_in")) : 0;
		tout += cJSON_GetNumberValue(rj_get(e, "tokens_out")) > 0 ? cJSON_GetNumberValue(rj_get(e, "tokens_out")) : 0;
		if (cJSON_IsNumber(rj_get(e, "cost"))) {
			cost += cJSON_GetNumberValue(rj_get(e, "cost"));
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

	rj_pick(a, alert, keep, false);
	if (cJSON_IsObject(alert))
		snprintf(title, sizeof(title), "%s: %s", rj_str(alert, "service") ? rj_str(alert, "service") : "incident",
			 rj_str(alert, "summary") ? rj_str(alert, "summary") : "(no summary)");
	else	/* not an incident graph: the report still tells its steps */
		snprintf(title, sizeof(title), "%s thread %s", rj_str(first, "graph") ? rj_str(first, "graph") : "a",
			 rj_str(first, "thread_id") ? rj_str(first, "thread_id") : "?");
	cJSON_AddStringToObject(doc, "title", title);
	det = cJSON_AddObjectToObject(doc, "detection");
	rj_copy(det, "alert_at", rj_get(alert, "started_at"));
	rj_copy(det, "opened_at", rj_get(first, "created_at"));
	cJSON_AddItemToObject(det, "delay_s", span_s(rj_str(alert, "started_at"), rj_str(first, "created_at")));
}

static void add_rca(cJSON *doc, const cJSON *rca)
{
	static const char *const keep[] = { "root_cause", "signature", "confidence", "analyzer", "impact",
					    "evidence", NULL };
	static const char *const extra[] = { "past", NULL };	/* past incidents that reordered the actions */
	cJSON *o = cJSON_AddObjectToObject(doc, "root_cause");

	rj_pick(o, rca, keep, false);
	rj_pick(o, rca, extra, true);
	rj_copy(o, "builtin_signature", rj_get(rj_get(rca, "builtin"), "signature"));
}

static const cJSON *earlier_human(const cJSON *decisions, const cJSON *ack)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, decisions)
		if (is_human(rj_str(d, "by")) && rj_str(d, "at") &&
		    (!ack || og_clock_parse_iso8601(rj_str(d, "at")) < og_clock_parse_iso8601(rj_str(ack, "at"))))
			ack = d;
	return ack;
}

/* Acknowledged: the first answer of a human on any branch. Each time is
 * counted twice: from the alert's own startsAt (detection; an alert replayed
 * or delivered late makes it long) and from opsgraph's receipt of the alert
 * (the thread's first checkpoint) to the answer and to the resolution as
 * opsgraph received it, both on opsgraph's clock. */
static void add_metrics(cJSON *doc, const cJSON *alert, const cJSON *decisions, const cJSON *branches,
			const cJSON *resolution)
{
	cJSON *m = cJSON_AddObjectToObject(doc, "metrics");
	const cJSON *b, *ack = earlier_human(decisions, NULL);
	const char *res_at = rj_str(resolution, "at");
	const char *recv = rj_str(rj_get(doc, "detection"), "opened_at");

	cJSON_ArrayForEach(b, branches)
		ack = earlier_human(rj_get(b, "decisions"), ack);
	rj_copy(m, "acknowledged_at", rj_get(ack, "at"));
	rj_copy(m, "acknowledged_by", rj_get(ack, "by"));
	cJSON_AddItemToObject(m, "time_to_acknowledge_s", span_s(rj_str(alert, "started_at"), rj_str(ack, "at")));
	cJSON_AddItemToObject(m, "resolved_at", res_at ? cJSON_CreateString(res_at) : cJSON_CreateNull());
	cJSON_AddItemToObject(m, "time_to_resolve_s", span_s(rj_str(alert, "started_at"), res_at));
	cJSON_AddItemToObject(m, "received_at", recv ? cJSON_CreateString(recv) : cJSON_CreateNull());
	cJSON_AddItemToObject(m, "time_to_acknowledge_from_received_s", span_s(recv, rj_str(ack, "at")));
	cJSON_AddItemToObject(m, "time_to_resolve_from_received_s",
			      span_s(recv, rj_str(resolution, "received_at")));
}

/* The commit of the last verify_recovery step on the main path: when
 * opsgraph recorded the recovery, to the millisecond (the node's checked_at
 * has whole seconds, which put the resolution up to a second before the
 * answer that caused it). */
static const cJSON *recovery_recorded(const cJSON *steps, const cJSON *fallback)
{
	const cJSON *st, *n, *at = fallback;

	cJSON_ArrayForEach(st, steps)
		cJSON_ArrayForEach(n, rj_get(st, "nodes"))
			if (cJSON_IsString(n) && !strcmp(n->valuestring, "verify_recovery") && rj_str(st, "ended_at"))
				at = rj_get(st, "ended_at");
	return at;
}

/* How it ended: Alertmanager's resolution first, else what verify_recovery
 * saw, else the thread's status (a manual hand-over is not a resolution). */
static cJSON *resolution_of(const cJSON *latest, const cJSON *notes, const cJSON *steps, const char *outcome)
{
	const cJSON *v = rj_get(latest, "values"), *ver = rj_get(v, "verification");
	cJSON *am = og_incident_resolution(notes), *o = cJSON_CreateObject();

	rj_copy(o, "status", rj_get(latest, "status"));
	cJSON_AddStringToObject(o, "outcome", outcome);
	if (am) {
		cJSON_AddStringToObject(o, "source", "alertmanager");
		rj_copy(o, "at", rj_get(am, "ends_at") ? rj_get(am, "ends_at") : rj_get(am, "at"));
		rj_copy(o, "received_at", rj_get(am, "at"));	/* when opsgraph got the notification */
	} else if (rj_str(ver, "status") && !strcmp(rj_str(ver, "status"), "recovered")) {
		cJSON_AddStringToObject(o, "source", "verify_recovery");
		rj_copy(o, "at", recovery_recorded(steps, rj_get(ver, "checked_at")));
		rj_copy(o, "received_at", rj_get(o, "at"));
	} else {
		cJSON_AddNullToObject(o, "source");
		cJSON_AddNullToObject(o, "at");
		cJSON_AddNullToObject(o, "received_at");
	}
	cJSON_Delete(am);
	return o;
}

static void add_notes(cJSON *doc, const cJSON *notes)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "notes");
	const cJSON *n;

	cJSON_ArrayForEach(n, notes) {
		const cJSON *v = rj_get(n, "value");
		cJSON *o;
		if (!rj_str(v, "kind") || strncmp(rj_str(v, "kind"), "alert_", 6))
			continue;	/* decision notes go with their decision; slack bookkeeping is not news */
		o = cJSON_CreateObject();
		rj_copy(o, "key", rj_get(n, "key"));
		rj_copy(o, "kind", rj_get(v, "kind"));
		rj_copy(o, "at", rj_get(v, "at"));
		rj_copy(o, "status", rj_get(rj_get(v, "payload"), "status"));
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
	v = rj_get(latest, "values");
	alert = rj_get(v, "alert");
	cJSON_AddStringToObject(doc, "format", OG_POSTMORTEM_FORMAT);
	cJSON_AddStringToObject(doc, "thread_id", thread);
	rj_copy(doc, "graph", rj_get(latest, "graph"));
	rj_copy(doc, "status", rj_get(latest, "status"));
	cJSON_AddStringToObject(doc, "generated_at", og_clock_iso8601(og_clock_wall_ms(), now, sizeof(now)));
	add_alert(doc, alert, first);
	add_rca(doc, rj_get(v, "rca"));

	steps = cJSON_AddArrayToObject(doc, "steps");
	decisions = cJSON_AddArrayToObject(doc, "decisions");
	analyses = cJSON_AddArrayToObject(doc, "analyses");
	execs = cJSON_AddArrayToObject(doc, "executions");
	vers = cJSON_AddArrayToObject(doc, "verifications");
	for (i = 1; i < n; i++) {
		static const char *const rca_keys[] = { "root_cause", "signature", "confidence", "analyzer", NULL };
		const cJSON *ck = cJSON_GetArrayItem(path, i), *r, *cv = rj_get(ck, "values");
		cJSON_ArrayForEach(r, rj_get(ck, "resumed"))
			cJSON_AddItemToArray(decisions, decision_of(path, i - 1, r, notes));
		cJSON_AddItemToArray(steps, step_of(cJSON_GetArrayItem(path, i - 1), ck));
		if (wrote(ck, "rca")) {
			cJSON *a = cJSON_CreateObject();
			rj_copy(a, "checkpoint", rj_get(ck, "id"));
			rj_copy(a, "at", rj_get(ck, "created_at"));
			rj_pick(a, rj_get(cv, "rca"), rca_keys, false);
			rj_copy(a, "hint", rj_get(cv, "operator_hint"));
			cJSON_AddItemToArray(analyses, a);
		}
		if (wrote(ck, "execution"))
			cJSON_AddItemToArray(execs, execution_of(ck));
		if (wrote(ck, "verification")) {
			cJSON *x = cJSON_CreateObject();
			const cJSON *ver = rj_get(cv, "verification");
			static const char *const keep[] = { "status", "recovered", "checked_at", "time_to_recovery_s",
							    "after_action_s", "query", "condition", "threshold",
							    "last_value", "checks", "reason", "answer", "by", NULL };
			rj_copy(x, "checkpoint", rj_get(ck, "id"));
			rj_pick(x, ver, keep, true);
			cJSON_AddItemToArray(vers, x);
		}
	}
	cJSON_AddItemToObject(doc, "dry_runs", dry_runs_of(rj_get(v, "dry_runs")));

	/* the re-analysis loops: every decision that sent the run back */
	re = cJSON_AddObjectToObject(doc, "re_analyses");
	rj_copy(re, "count", rj_get(v, "re_analyses"));
	loops = cJSON_AddArrayToObject(re, "loops");
	for (i = 1; i < n; i++) {
		const cJSON *ck = cJSON_GetArrayItem(path, i), *d = rj_get(rj_get(ck, "values"), "decision");
		if (wrote(ck, "decision") && rj_str(d, "choice") && !strcmp(rj_str(d, "choice"), "re_analyze")) {
			cJSON *l = cJSON_CreateObject();
			rj_copy(l, "checkpoint", rj_get(ck, "id"));
			rj_copy(l, "at", rj_get(d, "at"));
			rj_copy(l, "by", rj_get(d, "by"));
			rj_copy(l, "hint", rj_get(d, "hint"));
			cJSON_AddStringToObject(l, "source", rj_str(d, "source") ? rj_str(d, "source") : "human_decision");
			cJSON_AddItemToArray(loops, l);
		}
	}
	branches = cJSON_AddArrayToObject(doc, "branches");
	if ((rc = branches_of(s, thread, hist, path, branches, err)) < 0)
		goto out;
	add_llm(doc, log);
	add_notes(doc, notes);
	cJSON_AddItemToObject(doc, "resolution",
			      resolution_of(latest, notes, steps, rec ? rj_str(rec, "outcome") : rj_str(latest, "status")));
	add_metrics(doc, alert, decisions, branches, rj_get(doc, "resolution"));
	rj_copy(doc, "similar", rj_get(rj_get(v, "context"), "similar"));
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
