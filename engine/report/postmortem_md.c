/*
 * postmortem_md.c: the postmortem document as Markdown, for a wiki page or
 * a pull request. Cells are one line each ('|' and newlines escaped); tool
 * output goes in fenced blocks whose fence is longer than any backtick run
 * inside. "What we learned" is a heading with a list for the team to fill.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postmortem.h"
#include "postmortem_int.h"

/* one table cell: no newlines, '|' escaped */
static void cell(struct og_strbuf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			og_strbuf_puts(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			og_strbuf_puts(b, " ");
		else
			og_strbuf_putn(b, s, 1);
	}
}

/* a value as a cell; a list of strings (a step's nodes) as "a, b" */
static void cellv(struct og_strbuf *b, const cJSON *v)
{
	char t[1024];

	if (cJSON_IsArray(v) && cJSON_IsString(v->child)) {
		const cJSON *x;
		cJSON_ArrayForEach(x, v) {
			if (x != v->child)
				og_strbuf_puts(b, ", ");
			cell(b, cJSON_IsString(x) ? x->valuestring : "?");
		}
		return;
	}
	cell(b, pm_val(v, t, sizeof(t)));
}

/* the rows of a table: one cell per key of each object */
static void rows(struct og_strbuf *b, const cJSON *list, const char *const *keys)
{
	const cJSON *e;
	int i;

	cJSON_ArrayForEach(e, list) {
		for (i = 0; keys[i]; i++) {
			og_strbuf_puts(b, "| ");
			cellv(b, rj_get(e, keys[i]));
			og_strbuf_puts(b, " ");
		}
		og_strbuf_puts(b, "|\n");
	}
}

static void fenced(struct og_strbuf *b, const char *label, const char *text)
{
	int run = 0, longest = 0, i;
	const char *p;

	if (!text || !*text)
		return;
	for (p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	og_strbuf_printf(b, "%s:\n\n", label);
	for (i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		og_strbuf_puts(b, "`");
	og_strbuf_puts(b, "\n");
	og_strbuf_puts(b, text);
	if (text[strlen(text) - 1] != '\n')
		og_strbuf_puts(b, "\n");
	for (i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		og_strbuf_puts(b, "`");
	og_strbuf_puts(b, "\n\n");
}

static void kv(struct og_strbuf *b, const char *k, const cJSON *v)
{
	og_strbuf_printf(b, "| %s | ", k);
	cellv(b, v);
	og_strbuf_puts(b, " |\n");
}

static void summary(struct og_strbuf *b, const cJSON *r)
{
	const cJSON *a = rj_get(r, "alert"), *m = rj_get(r, "metrics"), *res = rj_get(r, "resolution");
	const cJSON *tot = rj_get(r, "llm_totals");
	char t[128], t2[256];

	og_strbuf_puts(b, "| | |\n|---|---|\n");
	kv(b, "Service", rj_get(a, "service"));
	kv(b, "Severity", rj_get(a, "severity"));
	kv(b, "Alert fired (its startsAt)", rj_get(a, "started_at"));
	kv(b, "Received by opsgraph (thread opened)", rj_get(m, "received_at"));
	og_strbuf_printf(b, "| Acknowledged | %s", pm_val(rj_get(m, "acknowledged_at"), t2, sizeof(t2)));
	if (rj_str(m, "acknowledged_by"))
		og_strbuf_printf(b, " by %s", rj_str(m, "acknowledged_by"));
	og_strbuf_printf(b, " |\n| Time to acknowledge, from the alert's startsAt | %s |\n",
		  pm_secs(rj_get(m, "time_to_acknowledge_s"), t, sizeof(t)));
	og_strbuf_printf(b, "| Time to acknowledge, from opsgraph's receipt | %s |\n",
		  pm_secs(rj_get(m, "time_to_acknowledge_from_received_s"), t, sizeof(t)));
	og_strbuf_printf(b, "| Resolved | %s", pm_val(rj_get(m, "resolved_at"), t2, sizeof(t2)));
	if (rj_str(res, "source"))
		og_strbuf_printf(b, " (%s)", rj_str(res, "source"));
	og_strbuf_printf(b, " |\n| Time to resolve, from the alert's startsAt | %s |\n",
		  pm_secs(rj_get(m, "time_to_resolve_s"), t, sizeof(t)));
	og_strbuf_printf(b, "| Time to resolve, from opsgraph's receipt | %s |\n",
		  pm_secs(rj_get(m, "time_to_resolve_from_received_s"), t, sizeof(t)));
	kv(b, "Outcome", rj_get(res, "outcome"));
	kv(b, "Thread status", rj_get(r, "status"));
	kv(b, "Re-analyses", rj_get(rj_get(r, "re_analyses"), "count"));
	og_strbuf_printf(b, "| LLM calls | %s", pm_val(rj_get(tot, "calls"), t, sizeof(t)));
	og_strbuf_printf(b, ", %s tokens in", pm_val(rj_get(tot, "tokens_in"), t, sizeof(t)));
	og_strbuf_printf(b, ", %s out", pm_val(rj_get(tot, "tokens_out"), t, sizeof(t)));
	og_strbuf_printf(b, ", cost %s |\n\n", pm_val(rj_get(tot, "cost"), t, sizeof(t)));
}

static void detection(struct og_strbuf *b, const cJSON *r)
{
	const cJSON *a = rj_get(r, "alert"), *l;

	og_strbuf_puts(b, "## Detection\n\n");
	og_strbuf_printf(b, "- Alert: **%s** (%s, from %s)\n", rj_str(a, "summary") ? rj_str(a, "summary") : "-",
		  rj_str(a, "severity") ? rj_str(a, "severity") : "-", rj_str(a, "source") ? rj_str(a, "source") : "-");
	if (rj_str(a, "description"))
		og_strbuf_printf(b, "- Description: %s\n", rj_str(a, "description"));
	if (rj_str(a, "expr"))
		og_strbuf_printf(b, "- Expression: `%s`\n", rj_str(a, "expr"));
	if (cJSON_GetArraySize(rj_get(a, "labels"))) {
		og_strbuf_puts(b, "- Labels:");
		cJSON_ArrayForEach(l, rj_get(a, "labels")) {
			char t[512];
			og_strbuf_printf(b, " `%s=%s`", l->string, pm_val(l, t, sizeof(t)));
		}
		og_strbuf_puts(b, "\n");
	}
	og_strbuf_puts(b, "\n");
}

static void root_cause(struct og_strbuf *b, const cJSON *r)
{
	const cJSON *rc = rj_get(r, "root_cause"), *e;
	char t[64];

	og_strbuf_puts(b, "## Root cause\n\n");
	og_strbuf_printf(b, "%s\n\n", rj_str(rc, "root_cause") ? rj_str(rc, "root_cause") : "(no root cause recorded)");
	og_strbuf_printf(b, "Signature `%s`, confidence %s, analyzer %s.\n\n",
		  rj_str(rc, "signature") ? rj_str(rc, "signature") : "-", pm_val(rj_get(rc, "confidence"), t, sizeof(t)),
		  rj_str(rc, "analyzer") ? rj_str(rc, "analyzer") : "-");
	if (rj_str(rc, "builtin_signature") && !rj_str(rc, "signature"))
		og_strbuf_printf(b, "The built-in analyzer, which the LLM was shown, matched `%s`.\n\n",
			  rj_str(rc, "builtin_signature"));
	if (rj_str(rc, "impact"))
		og_strbuf_printf(b, "Impact: %s\n\n", rj_str(rc, "impact"));
	og_strbuf_puts(b, "Evidence:\n\n");
	cJSON_ArrayForEach(e, rj_get(rc, "evidence")) {
		char v[2048];
		og_strbuf_printf(b, "- %s\n", pm_val(e, v, sizeof(v)));
	}
	if (!cJSON_GetArraySize(rj_get(rc, "evidence")))
		og_strbuf_puts(b, "- (none recorded)\n");
	og_strbuf_puts(b, "\n");
	if (cJSON_GetArraySize(rj_get(r, "analyses")) > 1) {
		og_strbuf_puts(b, "Every analysis of the run:\n\n| checkpoint | at | signature | confidence | hint | root cause |\n"
			   "|---|---|---|---|---|---|\n");
		static const char *const k[] = { "checkpoint", "at", "signature", "confidence", "hint", "root_cause",
						 NULL };
		rows(b, rj_get(r, "analyses"), k);
		og_strbuf_puts(b, "\n");
	}
}

static void timeline(struct og_strbuf *b, const cJSON *r)
{
	static const char *const tl_k[] = { "at", "what", "detail", NULL };
	static const char *const step_k[] = { "checkpoint", "step", "nodes", "status", "started_at", "ended_at",
					      "duration_ms", NULL };
	static const char *const node_k[] = { "checkpoint", "step", "node", "timed", "started_at", "ended_at",
					      "duration_ms", NULL };
	cJSON *tl = pm_timeline(r), *nodes;

	og_strbuf_puts(b, "## Timeline\n\n| time | event | detail |\n|---|---|---|\n");
	rows(b, tl, tl_k);
	cJSON_Delete(tl);
	og_strbuf_puts(b, "\nSteps (start, end, duration):\n\n| checkpoint | step | nodes | status | start | end | ms |\n"
		   "|---|---|---|---|---|---|---|\n");
	rows(b, rj_get(r, "steps"), step_k);
	nodes = pm_node_rows(r);
	og_strbuf_puts(b, "\nNodes (each its own start, end and duration; timed \"step\": the checkpoint has no "
		   "per-task times (a fork, or an older opsgraph), so the step's span):\n\n| checkpoint | step | node | timed | start | end | ms |\n"
		   "|---|---|---|---|---|---|---|\n");
	rows(b, nodes, node_k);
	cJSON_Delete(nodes);
	og_strbuf_puts(b, "\n");
}

static void decisions(struct og_strbuf *b, const cJSON *r)
{
	const cJSON *d, *a;

	og_strbuf_puts(b, "## Decisions\n\n");
	if (!cJSON_GetArraySize(rj_get(r, "decisions")))
		og_strbuf_puts(b, "Nobody was asked.\n\n");
	cJSON_ArrayForEach(d, rj_get(r, "decisions")) {
		char t1[256], t2[256], t3[1024];
		og_strbuf_printf(b, "- **%s** at %s (%s, %s): %s\n", pm_val(rj_get(d, "by"), t1, sizeof(t1)),
			  pm_val(rj_get(d, "at"), t2, sizeof(t2)), rj_str(d, "node") ? rj_str(d, "node") : "-",
			  rj_str(d, "kind") ? rj_str(d, "kind") : "interrupt",
			  rj_str(d, "choice") ? rj_str(d, "choice") : pm_val(rj_get(d, "answer"), t3, sizeof(t3)));
		if (rj_str(d, "asked_at"))
			og_strbuf_printf(b, "  - asked at %s\n", rj_str(d, "asked_at"));
		cJSON_ArrayForEach(a, rj_get(d, "alternatives")) {
			og_strbuf_printf(b, "  - offered %s: %s (risk %s, eta %s s)\n", pm_val(rj_get(a, "id"), t1, sizeof(t1)),
				  pm_val(rj_get(a, "title"), t3, sizeof(t3)), rj_str(a, "risk") ? rj_str(a, "risk") : "-",
				  pm_val(rj_get(a, "eta"), t2, sizeof(t2)));
		}
		if (rj_get(d, "choices") && !cJSON_IsNull(rj_get(d, "choices")))
			og_strbuf_printf(b, "  - choices: %s\n", pm_val(rj_get(d, "choices"), t3, sizeof(t3)));
		if (rj_str(d, "note"))
			og_strbuf_printf(b, "  - note: %s\n", rj_str(d, "note"));
	}
	og_strbuf_puts(b, "\n");
	if (cJSON_GetArraySize(rj_get(rj_get(r, "re_analyses"), "loops"))) {
		og_strbuf_puts(b, "### Re-analysis loops\n\n");
		cJSON_ArrayForEach(d, rj_get(rj_get(r, "re_analyses"), "loops")) {
			char t1[128], t2[128], t3[1024];
			og_strbuf_printf(b, "- %s by %s (from %s): hint %s\n", pm_val(rj_get(d, "at"), t1, sizeof(t1)),
				  pm_val(rj_get(d, "by"), t2, sizeof(t2)), rj_str(d, "source") ? rj_str(d, "source") : "-",
				  pm_val(rj_get(d, "hint"), t3, sizeof(t3)));
		}
		og_strbuf_puts(b, "\n");
	}
}

static void llm(struct og_strbuf *b, const cJSON *r)
{
	static const char *const k[] = { "at", "node", "role", "model", "tokens_in", "tokens_out", "latency_ms",
					 "cost", "outcome", NULL };

	og_strbuf_puts(b, "## LLM calls\n\n");
	if (!cJSON_GetArraySize(rj_get(r, "llm_calls"))) {
		og_strbuf_puts(b, "None (the built-in analyzer answered, or no LLM role is configured).\n\n");
		return;
	}
	og_strbuf_puts(b, "| at | node | role | model | tokens in | tokens out | latency ms | cost | outcome |\n"
		   "|---|---|---|---|---|---|---|---|---|\n");
	rows(b, rj_get(r, "llm_calls"), k);
	og_strbuf_puts(b, "\n");
}

/* the dry-run verdicts the decision was shown, per action and per tool */
static void dry_runs(struct og_strbuf *b, const cJSON *r)
{
	const cJSON *d = rj_get(r, "dry_runs"), *e, *t;
	char t1[64], t2[2048];

	if (!d || cJSON_IsNull(d))
		return;
	og_strbuf_puts(b, "## Dry runs\n\n");
	if (!rj_get(d, "actions")) {
		og_strbuf_printf(b, "```\n%s\n```\n\n", pm_val(d, t2, sizeof(t2)));
		return;
	}
	if (cJSON_IsFalse(rj_get(d, "enabled")))
		og_strbuf_printf(b, "Off: %s\n\n", pm_val(rj_get(d, "reason"), t2, sizeof(t2)));
	cJSON_ArrayForEach(e, rj_get(d, "actions")) {
		og_strbuf_printf(b, "- action %s (%s): **%s**", pm_val(rj_get(e, "id"), t1, sizeof(t1)),
			  rj_str(e, "title") ? rj_str(e, "title") : "-", pm_val(rj_get(e, "verdict"), t2, sizeof(t2)));
		og_strbuf_printf(b, ", fidelity %s\n", pm_val(rj_get(e, "fidelity"), t1, sizeof(t1)));
		if (cJSON_GetArraySize(rj_get(e, "tools")) > 1)
			cJSON_ArrayForEach(t, rj_get(e, "tools")) {
				og_strbuf_printf(b, "  - `%s` (%s): ", pm_val(rj_get(t, "tool"), t1, sizeof(t1)),
					  rj_str(t, "mode") ? rj_str(t, "mode") : "-");
				og_strbuf_printf(b, "%s\n", pm_val(rj_get(t, "verdict"), t2, sizeof(t2)));
			}
	}
	og_strbuf_puts(b, "\n");
}

static void executions(struct og_strbuf *b, const cJSON *r)
{
	const cJSON *x, *t;

	og_strbuf_puts(b, "## Actions executed\n\n");
	if (!cJSON_GetArraySize(rj_get(r, "executions")))
		og_strbuf_puts(b, "No action ran.\n\n");
	cJSON_ArrayForEach(x, rj_get(r, "executions")) {
		char t1[256], t2[256], t3[256];
		og_strbuf_printf(b, "### Action %s: %s\n\n", pm_val(rj_get(x, "action_id"), t1, sizeof(t1)),
			  pm_val(rj_get(x, "title"), t2, sizeof(t2)));
		og_strbuf_printf(b, "Status **%s**, by %s, %s to ", pm_val(rj_get(x, "status"), t1, sizeof(t1)),
			  pm_val(rj_get(x, "by"), t2, sizeof(t2)), pm_val(rj_get(x, "started_at"), t3, sizeof(t3)));
		og_strbuf_printf(b, "%s.", pm_val(rj_get(x, "ended_at"), t3, sizeof(t3)));
		if (rj_str(x, "summary"))
			og_strbuf_printf(b, " %s", rj_str(x, "summary"));
		og_strbuf_puts(b, "\n\n");
		cJSON_ArrayForEach(t, rj_get(x, "results")) {
			og_strbuf_printf(b, "- tool `%s`: %s", pm_val(rj_get(t, "tool"), t1, sizeof(t1)),
				  pm_val(rj_get(t, "status"), t2, sizeof(t2)));
			if (rj_get(t, "exit_code"))
				og_strbuf_printf(b, ", exit %s", pm_val(rj_get(t, "exit_code"), t3, sizeof(t3)));
			if (rj_get(t, "http_status"))
				og_strbuf_printf(b, ", HTTP %s", pm_val(rj_get(t, "http_status"), t3, sizeof(t3)));
			og_strbuf_printf(b, ", %s ms\n\n", pm_val(rj_get(t, "duration_ms"), t3, sizeof(t3)));
			fenced(b, "stdout", rj_str(t, "stdout"));
			fenced(b, "stderr", rj_str(t, "stderr"));
			fenced(b, "body", rj_str(t, "body"));
		}
	}
	cJSON_ArrayForEach(x, rj_get(r, "verifications")) {
		char t1[256], t2[256], t3[256];
		og_strbuf_printf(b, "Verification: **%s** at %s (last value %s", pm_val(rj_get(x, "status"), t1, sizeof(t1)),
			  pm_val(rj_get(x, "checked_at"), t2, sizeof(t2)), pm_val(rj_get(x, "last_value"), t3, sizeof(t3)));
		og_strbuf_printf(b, ", %s checks)", pm_val(rj_get(x, "checks"), t3, sizeof(t3)));
		if (rj_str(x, "reason"))
			og_strbuf_printf(b, ": %s", rj_str(x, "reason"));
		og_strbuf_puts(b, "\n\n");
	}
}

static void branches(struct og_strbuf *b, const cJSON *r)
{
	const cJSON *e;

	og_strbuf_puts(b, "## Branches (forks)\n\n");
	if (!cJSON_GetArraySize(rj_get(r, "branches"))) {
		og_strbuf_puts(b, "None: the thread ran on one line.\n\n");
		return;
	}
	cJSON_ArrayForEach(e, rj_get(r, "branches")) {
		char t1[64], t2[64], t3[64], t4[1024];
		const cJSON *n;
		int first = 1;
		og_strbuf_printf(b, "- checkpoint %s, from %s (%s) at %s, now %s at checkpoint ",
			  pm_val(rj_get(e, "checkpoint"), t1, sizeof(t1)), pm_val(rj_get(e, "forked_from"), t2, sizeof(t2)),
			  rj_str(e, "source") ? rj_str(e, "source") : "-", pm_val(rj_get(e, "created_at"), t3, sizeof(t3)),
			  rj_str(e, "status") ? rj_str(e, "status") : "-");
		og_strbuf_printf(b, "%s; nodes: ", pm_val(rj_get(e, "latest"), t1, sizeof(t1)));
		cJSON_ArrayForEach(n, rj_get(e, "nodes")) {
			og_strbuf_printf(b, "%s%s", first ? "" : ", ", cJSON_IsString(n) ? n->valuestring : "?");
			first = 0;
		}
		if (first)
			og_strbuf_puts(b, "none yet");
		if (rj_str(rj_get(e, "decision"), "choice"))
			og_strbuf_printf(b, "; decision %s by %s", rj_str(rj_get(e, "decision"), "choice"),
				  pm_val(rj_get(rj_get(e, "decision"), "by"), t4, sizeof(t4)));
		og_strbuf_puts(b, "\n");
	}
	og_strbuf_puts(b, "\n");
}

static void similar(struct og_strbuf *b, const cJSON *r)
{
	const cJSON *s = rj_get(r, "similar"), *e;

	if (!cJSON_GetArraySize(s))
		return;
	og_strbuf_puts(b, "## Similar past incidents (shown to the analyzer)\n\n");
	cJSON_ArrayForEach(e, s) {
		char t1[64], t2[256], t3[256];
		og_strbuf_printf(b, "- `%s` (score %s): %s; action %s, outcome %s\n", rj_str(e, "thread_id") ? rj_str(e, "thread_id") : "-",
			  pm_val(rj_get(e, "score"), t1, sizeof(t1)), rj_str(e, "root_cause") ? rj_str(e, "root_cause") : "-",
			  pm_val(rj_get(rj_get(e, "action"), "title"), t2, sizeof(t2)),
			  pm_val(rj_get(e, "outcome"), t3, sizeof(t3)));
	}
	og_strbuf_puts(b, "\n");
}

char *og_postmortem_md(const cJSON *r)
{
	struct og_strbuf b = { 0 };
	const cJSON *l;
	char t[256];

	og_strbuf_printf(&b, "# Postmortem: %s\n\n", rj_str(r, "title") ? rj_str(r, "title") : "incident");
	og_strbuf_printf(&b, "Thread `%s` (graph %s), generated %s by `opsgraph postmortem`.\n\n",
		  rj_str(r, "thread_id") ? rj_str(r, "thread_id") : "-", pm_val(rj_get(r, "graph"), t, sizeof(t)),
		  rj_str(r, "generated_at") ? rj_str(r, "generated_at") : "-");
	summary(&b, r);
	detection(&b, r);
	root_cause(&b, r);
	timeline(&b, r);
	decisions(&b, r);
	llm(&b, r);
	dry_runs(&b, r);
	executions(&b, r);
	branches(&b, r);
	similar(&b, r);
	og_strbuf_puts(&b, "## What we learned\n\n");
	cJSON_ArrayForEach(l, rj_get(r, "learned"))
		og_strbuf_printf(&b, "- %s\n", pm_val(l, t, sizeof(t)));
	if (!cJSON_GetArraySize(rj_get(r, "learned")))
		og_strbuf_puts(&b, "- What went well: _(fill in)_\n- What went wrong: _(fill in)_\n"
			    "- Follow-up actions (owner, due date): _(fill in)_\n");
	return og_strbuf_take(&b);
}
