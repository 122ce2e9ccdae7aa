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
static void cell(struct pm_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			pm_puts(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			pm_puts(b, " ");
		else
			pm_add(b, s, 1);
	}
}

static void cellv(struct pm_buf *b, const cJSON *v)
{
	char t[1024];

	cell(b, pm_val(v, t, sizeof(t)));
}

static void fenced(struct pm_buf *b, const char *label, const char *text)
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
	pm_printf(b, "%s:\n\n", label);
	for (i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		pm_puts(b, "`");
	pm_puts(b, "\n");
	pm_puts(b, text);
	if (text[strlen(text) - 1] != '\n')
		pm_puts(b, "\n");
	for (i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		pm_puts(b, "`");
	pm_puts(b, "\n\n");
}

static void kv(struct pm_buf *b, const char *k, const cJSON *v)
{
	pm_printf(b, "| %s | ", k);
	cellv(b, v);
	pm_puts(b, " |\n");
}

static void summary(struct pm_buf *b, const cJSON *r)
{
	const cJSON *a = pm_get(r, "alert"), *m = pm_get(r, "metrics"), *res = pm_get(r, "resolution");
	const cJSON *tot = pm_get(r, "llm_totals");
	char t[128], t2[256];

	pm_puts(b, "| | |\n|---|---|\n");
	kv(b, "Service", pm_get(a, "service"));
	kv(b, "Severity", pm_get(a, "severity"));
	kv(b, "Alert fired", pm_get(a, "started_at"));
	kv(b, "Thread opened", pm_get(pm_get(r, "detection"), "opened_at"));
	pm_printf(b, "| Acknowledged | %s", pm_val(pm_get(m, "acknowledged_at"), t2, sizeof(t2)));
	if (pm_str(m, "acknowledged_by"))
		pm_printf(b, " by %s", pm_str(m, "acknowledged_by"));
	pm_printf(b, " |\n| Time to acknowledge | %s |\n", pm_secs(pm_get(m, "time_to_acknowledge_s"), t, sizeof(t)));
	pm_printf(b, "| Resolved | %s", pm_val(pm_get(m, "resolved_at"), t2, sizeof(t2)));
	if (pm_str(res, "source"))
		pm_printf(b, " (%s)", pm_str(res, "source"));
	pm_printf(b, " |\n| Time to resolve | %s |\n", pm_secs(pm_get(m, "time_to_resolve_s"), t, sizeof(t)));
	kv(b, "Outcome", pm_get(res, "outcome"));
	kv(b, "Thread status", pm_get(r, "status"));
	kv(b, "Re-analyses", pm_get(pm_get(r, "re_analyses"), "count"));
	pm_printf(b, "| LLM calls | %s", pm_val(pm_get(tot, "calls"), t, sizeof(t)));
	pm_printf(b, ", %s tokens in", pm_val(pm_get(tot, "tokens_in"), t, sizeof(t)));
	pm_printf(b, ", %s out", pm_val(pm_get(tot, "tokens_out"), t, sizeof(t)));
	pm_printf(b, ", cost %s |\n\n", pm_val(pm_get(tot, "cost"), t, sizeof(t)));
}

static void detection(struct pm_buf *b, const cJSON *r)
{
	const cJSON *a = pm_get(r, "alert"), *l;

	pm_puts(b, "## Detection\n\n");
	pm_printf(b, "- Alert: **%s** (%s, from %s)\n", pm_str(a, "summary") ? pm_str(a, "summary") : "-",
		  pm_str(a, "severity") ? pm_str(a, "severity") : "-", pm_str(a, "source") ? pm_str(a, "source") : "-");
	if (pm_str(a, "description"))
		pm_printf(b, "- Description: %s\n", pm_str(a, "description"));
	if (pm_str(a, "expr"))
		pm_printf(b, "- Expression: `%s`\n", pm_str(a, "expr"));
	if (cJSON_GetArraySize(pm_get(a, "labels"))) {
		pm_puts(b, "- Labels:");
		cJSON_ArrayForEach(l, pm_get(a, "labels")) {
			char t[512];
			pm_printf(b, " `%s=%s`", l->string, pm_val(l, t, sizeof(t)));
		}
		pm_puts(b, "\n");
	}
	pm_puts(b, "\n");
}

static void root_cause(struct pm_buf *b, const cJSON *r)
{
	const cJSON *rc = pm_get(r, "root_cause"), *e;
	char t[64];

	pm_puts(b, "## Root cause\n\n");
	pm_printf(b, "%s\n\n", pm_str(rc, "root_cause") ? pm_str(rc, "root_cause") : "(no root cause recorded)");
	pm_printf(b, "Signature `%s`, confidence %s, analyzer %s.\n\n",
		  pm_str(rc, "signature") ? pm_str(rc, "signature") : "-", pm_val(pm_get(rc, "confidence"), t, sizeof(t)),
		  pm_str(rc, "analyzer") ? pm_str(rc, "analyzer") : "-");
	if (pm_str(rc, "impact"))
		pm_printf(b, "Impact: %s\n\n", pm_str(rc, "impact"));
	pm_puts(b, "Evidence:\n\n");
	cJSON_ArrayForEach(e, pm_get(rc, "evidence")) {
		char v[2048];
		pm_printf(b, "- %s\n", pm_val(e, v, sizeof(v)));
	}
	if (!cJSON_GetArraySize(pm_get(rc, "evidence")))
		pm_puts(b, "- (none recorded)\n");
	pm_puts(b, "\n");
	if (cJSON_GetArraySize(pm_get(r, "analyses")) > 1) {
		pm_puts(b, "Every analysis of the run:\n\n| checkpoint | at | signature | confidence | hint | root cause |\n"
			   "|---|---|---|---|---|---|\n");
		cJSON_ArrayForEach(e, pm_get(r, "analyses")) {
			pm_puts(b, "| ");
			cellv(b, pm_get(e, "checkpoint"));
			pm_puts(b, " | ");
			cellv(b, pm_get(e, "at"));
			pm_puts(b, " | ");
			cellv(b, pm_get(e, "signature"));
			pm_puts(b, " | ");
			cellv(b, pm_get(e, "confidence"));
			pm_puts(b, " | ");
			cellv(b, pm_get(e, "hint"));
			pm_puts(b, " | ");
			cellv(b, pm_get(e, "root_cause"));
			pm_puts(b, " |\n");
		}
		pm_puts(b, "\n");
	}
}

static void timeline(struct pm_buf *b, const cJSON *r)
{
	cJSON *tl = pm_timeline(r);
	const cJSON *e;

	pm_puts(b, "## Timeline\n\n| time | event | detail |\n|---|---|---|\n");
	cJSON_ArrayForEach(e, tl) {
		pm_puts(b, "| ");
		cellv(b, pm_get(e, "at"));
		pm_puts(b, " | ");
		cellv(b, pm_get(e, "what"));
		pm_puts(b, " | ");
		cell(b, pm_str(e, "detail"));
		pm_puts(b, " |\n");
	}
	cJSON_Delete(tl);
	pm_puts(b, "\nSteps (start, end, duration):\n\n| checkpoint | step | nodes | status | start | end | ms |\n"
		   "|---|---|---|---|---|---|---|\n");
	cJSON_ArrayForEach(e, pm_get(r, "steps")) {
		static const char *const k[] = { "checkpoint", "step", "nodes", "status", "started_at", "ended_at",
						 "duration_ms", NULL };
		int i;
		for (i = 0; k[i]; i++) {
			pm_puts(b, "| ");
			if (i == 2) {
				const cJSON *n;
				int first = 1;
				cJSON_ArrayForEach(n, pm_get(e, "nodes")) {
					pm_printf(b, "%s%s", first ? "" : ", ", cJSON_IsString(n) ? n->valuestring : "?");
					first = 0;
				}
			} else
				cellv(b, pm_get(e, k[i]));
			pm_puts(b, " ");
		}
		pm_puts(b, "|\n");
	}
	pm_puts(b, "\n");
}

static void decisions(struct pm_buf *b, const cJSON *r)
{
	const cJSON *d, *a;

	pm_puts(b, "## Decisions\n\n");
	if (!cJSON_GetArraySize(pm_get(r, "decisions")))
		pm_puts(b, "Nobody was asked.\n\n");
	cJSON_ArrayForEach(d, pm_get(r, "decisions")) {
		char t1[256], t2[256], t3[1024];
		pm_printf(b, "- **%s** at %s (%s, %s): %s\n", pm_val(pm_get(d, "by"), t1, sizeof(t1)),
			  pm_val(pm_get(d, "at"), t2, sizeof(t2)), pm_str(d, "node") ? pm_str(d, "node") : "-",
			  pm_str(d, "kind") ? pm_str(d, "kind") : "interrupt",
			  pm_str(d, "choice") ? pm_str(d, "choice") : pm_val(pm_get(d, "answer"), t3, sizeof(t3)));
		if (pm_str(d, "asked_at"))
			pm_printf(b, "  - asked at %s\n", pm_str(d, "asked_at"));
		cJSON_ArrayForEach(a, pm_get(d, "alternatives")) {
			pm_printf(b, "  - offered %s: %s (risk %s, eta %s s)\n", pm_val(pm_get(a, "id"), t1, sizeof(t1)),
				  pm_val(pm_get(a, "title"), t3, sizeof(t3)), pm_str(a, "risk") ? pm_str(a, "risk") : "-",
				  pm_val(pm_get(a, "eta"), t2, sizeof(t2)));
		}
		if (pm_get(d, "choices") && !cJSON_IsNull(pm_get(d, "choices")))
			pm_printf(b, "  - choices: %s\n", pm_val(pm_get(d, "choices"), t3, sizeof(t3)));
		if (pm_str(d, "note"))
			pm_printf(b, "  - note: %s\n", pm_str(d, "note"));
	}
	pm_puts(b, "\n");
	if (cJSON_GetArraySize(pm_get(pm_get(r, "re_analyses"), "loops"))) {
		pm_puts(b, "### Re-analysis loops\n\n");
		cJSON_ArrayForEach(d, pm_get(pm_get(r, "re_analyses"), "loops")) {
			char t1[128], t2[128], t3[1024];
			pm_printf(b, "- %s by %s (from %s): hint %s\n", pm_val(pm_get(d, "at"), t1, sizeof(t1)),
				  pm_val(pm_get(d, "by"), t2, sizeof(t2)), pm_str(d, "source") ? pm_str(d, "source") : "-",
				  pm_val(pm_get(d, "hint"), t3, sizeof(t3)));
		}
		pm_puts(b, "\n");
	}
}

static void llm(struct pm_buf *b, const cJSON *r)
{
	const cJSON *e;

	pm_puts(b, "## LLM calls\n\n");
	if (!cJSON_GetArraySize(pm_get(r, "llm_calls"))) {
		pm_puts(b, "None (the built-in analyzer answered, or no LLM role is configured).\n\n");
		return;
	}
	pm_puts(b, "| at | node | role | model | tokens in | tokens out | latency ms | cost | outcome |\n"
		   "|---|---|---|---|---|---|---|---|---|\n");
	cJSON_ArrayForEach(e, pm_get(r, "llm_calls")) {
		static const char *const k[] = { "at", "node", "role", "model", "tokens_in", "tokens_out", "latency_ms",
						 "cost", "outcome", NULL };
		int i;
		for (i = 0; k[i]; i++) {
			pm_puts(b, "| ");
			cellv(b, pm_get(e, k[i]));
			pm_puts(b, " ");
		}
		pm_puts(b, "|\n");
	}
	pm_puts(b, "\n");
}

/* the dry-run verdicts the decision was shown, per action and per tool */
static void dry_runs(struct pm_buf *b, const cJSON *r)
{
	const cJSON *d = pm_get(r, "dry_runs"), *e, *t;
	char t1[64], t2[2048];

	if (!d || cJSON_IsNull(d))
		return;
	pm_puts(b, "## Dry runs\n\n");
	if (!pm_get(d, "actions")) {
		pm_printf(b, "```\n%s\n```\n\n", pm_val(d, t2, sizeof(t2)));
		return;
	}
	if (cJSON_IsFalse(pm_get(d, "enabled")))
		pm_printf(b, "Off: %s\n\n", pm_val(pm_get(d, "reason"), t2, sizeof(t2)));
	cJSON_ArrayForEach(e, pm_get(d, "actions")) {
		pm_printf(b, "- action %s (%s): **%s**", pm_val(pm_get(e, "id"), t1, sizeof(t1)),
			  pm_str(e, "title") ? pm_str(e, "title") : "-", pm_val(pm_get(e, "verdict"), t2, sizeof(t2)));
		pm_printf(b, ", fidelity %s\n", pm_val(pm_get(e, "fidelity"), t1, sizeof(t1)));
		if (cJSON_GetArraySize(pm_get(e, "tools")) > 1)
			cJSON_ArrayForEach(t, pm_get(e, "tools")) {
				pm_printf(b, "  - `%s` (%s): ", pm_val(pm_get(t, "tool"), t1, sizeof(t1)),
					  pm_str(t, "mode") ? pm_str(t, "mode") : "-");
				pm_printf(b, "%s\n", pm_val(pm_get(t, "verdict"), t2, sizeof(t2)));
			}
	}
	pm_puts(b, "\n");
}

static void executions(struct pm_buf *b, const cJSON *r)
{
	const cJSON *x, *t;

	pm_puts(b, "## Actions executed\n\n");
	if (!cJSON_GetArraySize(pm_get(r, "executions")))
		pm_puts(b, "No action ran.\n\n");
	cJSON_ArrayForEach(x, pm_get(r, "executions")) {
		char t1[256], t2[256], t3[256];
		pm_printf(b, "### Action %s: %s\n\n", pm_val(pm_get(x, "action_id"), t1, sizeof(t1)),
			  pm_val(pm_get(x, "title"), t2, sizeof(t2)));
		pm_printf(b, "Status **%s**, by %s, %s to ", pm_val(pm_get(x, "status"), t1, sizeof(t1)),
			  pm_val(pm_get(x, "by"), t2, sizeof(t2)), pm_val(pm_get(x, "started_at"), t3, sizeof(t3)));
		pm_printf(b, "%s.", pm_val(pm_get(x, "ended_at"), t3, sizeof(t3)));
		if (pm_str(x, "summary"))
			pm_printf(b, " %s", pm_str(x, "summary"));
		pm_puts(b, "\n\n");
		cJSON_ArrayForEach(t, pm_get(x, "results")) {
			pm_printf(b, "- tool `%s`: %s", pm_val(pm_get(t, "tool"), t1, sizeof(t1)),
				  pm_val(pm_get(t, "status"), t2, sizeof(t2)));
			if (pm_get(t, "exit_code"))
				pm_printf(b, ", exit %s", pm_val(pm_get(t, "exit_code"), t3, sizeof(t3)));
			if (pm_get(t, "http_status"))
				pm_printf(b, ", HTTP %s", pm_val(pm_get(t, "http_status"), t3, sizeof(t3)));
			pm_printf(b, ", %s ms\n\n", pm_val(pm_get(t, "duration_ms"), t3, sizeof(t3)));
			fenced(b, "stdout", pm_str(t, "stdout"));
			fenced(b, "stderr", pm_str(t, "stderr"));
			fenced(b, "body", pm_str(t, "body"));
		}
	}
	cJSON_ArrayForEach(x, pm_get(r, "verifications")) {
		char t1[256], t2[256], t3[256];
		pm_printf(b, "Verification: **%s** at %s (last value %s", pm_val(pm_get(x, "status"), t1, sizeof(t1)),
			  pm_val(pm_get(x, "checked_at"), t2, sizeof(t2)), pm_val(pm_get(x, "last_value"), t3, sizeof(t3)));
		pm_printf(b, ", %s checks)", pm_val(pm_get(x, "checks"), t3, sizeof(t3)));
		if (pm_str(x, "reason"))
			pm_printf(b, ": %s", pm_str(x, "reason"));
		pm_puts(b, "\n\n");
	}
}

static void branches(struct pm_buf *b, const cJSON *r)
{
	const cJSON *e;

	pm_puts(b, "## Branches (forks)\n\n");
	if (!cJSON_GetArraySize(pm_get(r, "branches"))) {
		pm_puts(b, "None: the thread ran on one line.\n\n");
		return;
	}
	cJSON_ArrayForEach(e, pm_get(r, "branches")) {
		char t1[64], t2[64], t3[64], t4[1024];
		const cJSON *n;
		int first = 1;
		pm_printf(b, "- checkpoint %s, from %s (%s) at %s, now %s at checkpoint ",
			  pm_val(pm_get(e, "checkpoint"), t1, sizeof(t1)), pm_val(pm_get(e, "forked_from"), t2, sizeof(t2)),
			  pm_str(e, "source") ? pm_str(e, "source") : "-", pm_val(pm_get(e, "created_at"), t3, sizeof(t3)),
			  pm_str(e, "status") ? pm_str(e, "status") : "-");
		pm_printf(b, "%s; nodes: ", pm_val(pm_get(e, "latest"), t1, sizeof(t1)));
		cJSON_ArrayForEach(n, pm_get(e, "nodes")) {
			pm_printf(b, "%s%s", first ? "" : ", ", cJSON_IsString(n) ? n->valuestring : "?");
			first = 0;
		}
		if (first)
			pm_puts(b, "none yet");
		if (pm_str(pm_get(e, "decision"), "choice"))
			pm_printf(b, "; decision %s by %s", pm_str(pm_get(e, "decision"), "choice"),
				  pm_val(pm_get(pm_get(e, "decision"), "by"), t4, sizeof(t4)));
		pm_puts(b, "\n");
	}
	pm_puts(b, "\n");
}

static void similar(struct pm_buf *b, const cJSON *r)
{
	const cJSON *s = pm_get(r, "similar"), *e;

	if (!cJSON_GetArraySize(s))
		return;
	pm_puts(b, "## Similar past incidents (shown to the analyzer)\n\n");
	cJSON_ArrayForEach(e, s) {
		char t1[64], t2[256], t3[256];
		pm_printf(b, "- `%s` (score %s): %s; action %s, outcome %s\n", pm_str(e, "thread_id") ? pm_str(e, "thread_id") : "-",
			  pm_val(pm_get(e, "score"), t1, sizeof(t1)), pm_str(e, "root_cause") ? pm_str(e, "root_cause") : "-",
			  pm_val(pm_get(pm_get(e, "action"), "title"), t2, sizeof(t2)),
			  pm_val(pm_get(e, "outcome"), t3, sizeof(t3)));
	}
	pm_puts(b, "\n");
}

char *og_postmortem_md(const cJSON *r)
{
	struct pm_buf b = { 0 };
	const cJSON *l;
	char t[256];

	pm_printf(&b, "# Postmortem: %s\n\n", pm_str(r, "title") ? pm_str(r, "title") : "incident");
	pm_printf(&b, "Thread `%s` (graph %s), generated %s by `opsgraph postmortem`.\n\n",
		  pm_str(r, "thread_id") ? pm_str(r, "thread_id") : "-", pm_val(pm_get(r, "graph"), t, sizeof(t)),
		  pm_str(r, "generated_at") ? pm_str(r, "generated_at") : "-");
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
	pm_puts(&b, "## What we learned\n\n");
	cJSON_ArrayForEach(l, pm_get(r, "learned"))
		pm_printf(&b, "- %s\n", pm_val(l, t, sizeof(t)));
	if (!cJSON_GetArraySize(pm_get(r, "learned")))
		pm_puts(&b, "- What went well: _(fill in)_\n- What went wrong: _(fill in)_\n"
			    "- Follow-up actions (owner, due date): _(fill in)_\n");
	return pm_finish(&b);
}
