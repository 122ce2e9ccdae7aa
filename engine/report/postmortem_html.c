/*
 * postmortem_html.c: the postmortem document as one self-contained HTML
 * page: inline CSS and JS, no external file, font or fetch, so it can be
 * mailed or attached to a ticket. Every value is escaped. "What we learned"
 * is a contenteditable list; its button downloads the Markdown form of the
 * report (kept in a hidden textarea) with the edited list in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postmortem.h"
#include "postmortem_int.h"

static void esc(struct og_strbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': og_strbuf_puts(b, "&amp;"); break;
		case '<': og_strbuf_puts(b, "&lt;"); break;
		case '>': og_strbuf_puts(b, "&gt;"); break;
		case '"': og_strbuf_puts(b, "&quot;"); break;
		case '\'': og_strbuf_puts(b, "&#39;"); break;
		default: og_strbuf_putn(b, s, 1);
		}
	}
}

static void escv(struct og_strbuf *b, const cJSON *v)
{
	char t[4096];

	esc(b, pm_val(v, t, sizeof(t)));
}

static void td(struct og_strbuf *b, const cJSON *v)
{
	og_strbuf_puts(b, "<td>");
	escv(b, v);
	og_strbuf_puts(b, "</td>");
}

static void th_row(struct og_strbuf *b, const char *const *h)
{
	og_strbuf_puts(b, "<table><thead><tr>");
	for (; *h; h++) {
		og_strbuf_puts(b, "<th>");
		esc(b, *h);
		og_strbuf_puts(b, "</th>");
	}
	og_strbuf_puts(b, "</tr></thead><tbody>\n");
}

static void kv(struct og_strbuf *b, const char *k, const char *v)
{
	og_strbuf_puts(b, "<tr><th>");
	esc(b, k);
	og_strbuf_puts(b, "</th><td>");
	esc(b, v);
	og_strbuf_puts(b, "</td></tr>\n");
}

static void table(struct og_strbuf *b, const cJSON *rows, const char *const *keys, const char *const *heads)
{
	const cJSON *e;
	int i;

	th_row(b, heads);
	cJSON_ArrayForEach(e, rows) {
		og_strbuf_puts(b, "<tr>");
		for (i = 0; keys[i]; i++)
			td(b, rj_get(e, keys[i]));
		og_strbuf_puts(b, "</tr>\n");
	}
	og_strbuf_puts(b, "</tbody></table>\n");
}

static void pre(struct og_strbuf *b, const char *label, const char *text)
{
	if (!text || !*text)
		return;
	og_strbuf_puts(b, "<p class=\"k\">");
	esc(b, label);
	og_strbuf_puts(b, "</p><pre>");
	esc(b, text);
	og_strbuf_puts(b, "</pre>\n");
}

static const char css[] =
	"body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1d2330}"
	"h1{font-size:1.6em}h2{border-bottom:1px solid #ccd;padding-bottom:.2em;margin-top:1.6em}"
	"table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #d5d9e2;padding:.3em .5em;"
	"text-align:left;vertical-align:top}th{background:#f1f3f8}pre{background:#f6f7fa;padding:.6em;overflow:auto;"
	"white-space:pre-wrap}code{background:#f1f3f8;padding:0 .2em}.k{color:#556;margin:.4em 0 0}"
	"#learned{border:2px dashed #8aa;padding:.5em 1.5em;min-height:3em}button{margin-top:.6em;padding:.4em 1em}"
	"@media print{button{display:none}}";

static const char js[] =
	"document.getElementById('dl').addEventListener('click',function(){"
	"var md=document.getElementById('pm-md').value;"
	"var items=Array.prototype.map.call(document.querySelectorAll('#learned li'),function(li){"
	"return '- '+li.textContent.replace(/\\s+/g,' ').trim();}).filter(function(s){return s.length>2;});"
	"var i=md.indexOf('## What we learned');if(i<0)i=md.length;"
	"md=md.slice(0,i)+'## What we learned\\n\\n'+(items.length?items.join('\\n'):'- _(fill in)_')+'\\n';"
	"var a=document.createElement('a');a.href=URL.createObjectURL(new Blob([md],{type:'text/markdown'}));"
	"a.download='postmortem-'+document.body.getAttribute('data-thread')+'.md';"
	"document.body.appendChild(a);a.click();a.remove();});";

char *og_postmortem_html(const cJSON *r)
{
	static const char *const step_k[] = { "checkpoint", "step", "nodes", "status", "started_at", "ended_at",
					      "duration_ms", NULL };
	static const char *const step_h[] = { "checkpoint", "step", "nodes", "status", "start", "end", "ms", NULL };
	static const char *const node_k[] = { "checkpoint", "step", "node", "timed", "started_at", "ended_at",
					      "duration_ms", NULL };
	static const char *const node_h[] = { "checkpoint", "step", "node", "timed", "start", "end", "ms", NULL };
	static const char *const llm_k[] = { "at", "node", "role", "model", "tokens_in", "tokens_out", "latency_ms",
					     "cost", "outcome", NULL };
	static const char *const llm_h[] = { "at", "node", "role", "model", "tokens in", "tokens out", "latency ms",
					     "cost", "outcome", NULL };
	static const char *const tl_k[] = { "at", "what", "detail", NULL };
	static const char *const tl_h[] = { "time", "event", "detail", NULL };
	static const char *const br_k[] = { "checkpoint", "forked_from", "source", "created_at", "status", "latest",
					    "nodes", "decision", NULL };
	static const char *const br_h[] = { "checkpoint", "from", "source", "created", "status", "latest", "nodes",
					    "decision", NULL };
	static const char *const dry_k[] = { "id", "title", "verdict", "fidelity", NULL };
	static const char *const dry_h[] = { "action", "title", "verdict", "fidelity", NULL };
	static const char *const sim_k[] = { "thread_id", "score", "root_cause", "action", "outcome", NULL };
	static const char *const sim_h[] = { "thread", "score", "root cause", "action", "outcome", NULL };
	struct og_strbuf b = { 0 };
	const cJSON *a = rj_get(r, "alert"), *m = rj_get(r, "metrics"), *rc = rj_get(r, "root_cause"), *e, *x;
	const cJSON *res = rj_get(r, "resolution");
	cJSON *tl = pm_timeline(r), *nodes;
	char *md = og_postmortem_md(r), t1[256], t2[256];

	og_strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Postmortem: ");
	esc(&b, rj_str(r, "title"));
	og_strbuf_printf(&b, "</title><style>%s</style></head>\n<body data-thread=\"", css);
	esc(&b, rj_str(r, "thread_id"));
	og_strbuf_puts(&b, "\">\n<h1>Postmortem: ");
	esc(&b, rj_str(r, "title"));
	og_strbuf_puts(&b, "</h1>\n<p>Thread <code>");
	esc(&b, rj_str(r, "thread_id"));
	og_strbuf_puts(&b, "</code>, generated ");
	esc(&b, rj_str(r, "generated_at"));
	og_strbuf_puts(&b, " by <code>opsgraph postmortem</code>.</p>\n<h2>Summary</h2><table>\n");
	kv(&b, "Service", pm_val(rj_get(a, "service"), t1, sizeof(t1)));
	kv(&b, "Severity", pm_val(rj_get(a, "severity"), t1, sizeof(t1)));
	kv(&b, "Alert fired (its startsAt)", pm_val(rj_get(a, "started_at"), t1, sizeof(t1)));
	kv(&b, "Received by opsgraph (thread opened)", pm_val(rj_get(m, "received_at"), t1, sizeof(t1)));
	kv(&b, "Acknowledged", pm_val(rj_get(m, "acknowledged_at"), t1, sizeof(t1)));
	kv(&b, "Acknowledged by", pm_val(rj_get(m, "acknowledged_by"), t1, sizeof(t1)));
	kv(&b, "Time to acknowledge, from the alert's startsAt",
	   pm_secs(rj_get(m, "time_to_acknowledge_s"), t1, sizeof(t1)));
	kv(&b, "Time to acknowledge, from opsgraph's receipt",
	   pm_secs(rj_get(m, "time_to_acknowledge_from_received_s"), t1, sizeof(t1)));
	kv(&b, "Resolved", pm_val(rj_get(m, "resolved_at"), t1, sizeof(t1)));
	kv(&b, "Resolved by", pm_val(rj_get(res, "source"), t1, sizeof(t1)));
	kv(&b, "Time to resolve, from the alert's startsAt", pm_secs(rj_get(m, "time_to_resolve_s"), t1, sizeof(t1)));
	kv(&b, "Time to resolve, from opsgraph's receipt",
	   pm_secs(rj_get(m, "time_to_resolve_from_received_s"), t1, sizeof(t1)));
	kv(&b, "Outcome", pm_val(rj_get(res, "outcome"), t1, sizeof(t1)));
	kv(&b, "Re-analyses", pm_val(rj_get(rj_get(r, "re_analyses"), "count"), t1, sizeof(t1)));
	snprintf(t2, sizeof(t2), "%s", pm_val(rj_get(rj_get(r, "llm_totals"), "calls"), t1, sizeof(t1)));
	kv(&b, "LLM calls", t2);
	og_strbuf_puts(&b, "</table>\n<h2>Detection</h2><p><strong>");
	esc(&b, rj_str(a, "summary"));
	og_strbuf_puts(&b, "</strong></p><p>");
	esc(&b, rj_str(a, "description"));
	og_strbuf_puts(&b, "</p><p>");
	cJSON_ArrayForEach(e, rj_get(a, "labels")) {
		og_strbuf_puts(&b, "<code>");
		esc(&b, e->string);
		og_strbuf_puts(&b, "=");
		escv(&b, e);
		og_strbuf_puts(&b, "</code> ");
	}
	og_strbuf_puts(&b, "</p>\n<h2>Root cause</h2><p>");
	esc(&b, rj_str(rc, "root_cause") ? rj_str(rc, "root_cause") : "(no root cause recorded)");
	og_strbuf_puts(&b, "</p><p>Signature <code>");
	escv(&b, rj_get(rc, "signature"));
	og_strbuf_puts(&b, "</code>, confidence ");
	escv(&b, rj_get(rc, "confidence"));
	og_strbuf_puts(&b, ", analyzer ");
	escv(&b, rj_get(rc, "analyzer"));
	og_strbuf_puts(&b, ".</p><p class=\"k\">Evidence</p><ul>");
	cJSON_ArrayForEach(e, rj_get(rc, "evidence")) {
		og_strbuf_puts(&b, "<li>");
		escv(&b, e);
		og_strbuf_puts(&b, "</li>");
	}
	og_strbuf_puts(&b, "</ul>\n<h2>Timeline</h2>\n");
	table(&b, tl, tl_k, tl_h);
	og_strbuf_puts(&b, "<p class=\"k\">Steps</p>\n");
	table(&b, rj_get(r, "steps"), step_k, step_h);
	og_strbuf_puts(&b, "<p class=\"k\">Nodes (each its own start, end and duration)</p>\n");
	nodes = pm_node_rows(r);
	table(&b, nodes, node_k, node_h);
	cJSON_Delete(nodes);
	og_strbuf_puts(&b, "<h2>Decisions</h2><ul>\n");
	cJSON_ArrayForEach(e, rj_get(r, "decisions")) {
		og_strbuf_puts(&b, "<li><strong>");
		escv(&b, rj_get(e, "by"));
		og_strbuf_puts(&b, "</strong> at ");
		escv(&b, rj_get(e, "at"));
		og_strbuf_puts(&b, " (");
		escv(&b, rj_get(e, "node"));
		og_strbuf_puts(&b, "): <strong>");
		escv(&b, rj_get(e, "choice") && !cJSON_IsNull(rj_get(e, "choice")) ? rj_get(e, "choice") : rj_get(e, "answer"));
		og_strbuf_puts(&b, "</strong>");
		if (cJSON_GetArraySize(rj_get(e, "alternatives"))) {
			og_strbuf_puts(&b, "<ul>");
			cJSON_ArrayForEach(x, rj_get(e, "alternatives")) {
				og_strbuf_puts(&b, "<li>offered ");
				escv(&b, rj_get(x, "id"));
				og_strbuf_puts(&b, ": ");
				escv(&b, rj_get(x, "title"));
				og_strbuf_puts(&b, " (risk ");
				escv(&b, rj_get(x, "risk"));
				og_strbuf_puts(&b, ")</li>");
			}
			og_strbuf_puts(&b, "</ul>");
		}
		if (rj_str(e, "note")) {
			og_strbuf_puts(&b, "<br>note: ");
			esc(&b, rj_str(e, "note"));
		}
		og_strbuf_puts(&b, "</li>\n");
	}
	og_strbuf_puts(&b, "</ul>\n<h2>LLM calls</h2>\n");
	table(&b, rj_get(r, "llm_calls"), llm_k, llm_h);
	if (cJSON_IsArray(rj_get(rj_get(r, "dry_runs"), "actions"))) {
		og_strbuf_puts(&b, "<h2>Dry runs</h2>\n");
		table(&b, rj_get(rj_get(r, "dry_runs"), "actions"), dry_k, dry_h);
	} else if (rj_get(r, "dry_runs") && !cJSON_IsNull(rj_get(r, "dry_runs"))) {
		char *t = cJSON_Print(rj_get(r, "dry_runs"));
		og_strbuf_puts(&b, "<h2>Dry runs</h2>\n");
		pre(&b, "reports", t);
		free(t);
	}
	og_strbuf_puts(&b, "<h2>Actions executed</h2>\n");
	cJSON_ArrayForEach(e, rj_get(r, "executions")) {
		og_strbuf_puts(&b, "<h3>Action ");
		escv(&b, rj_get(e, "action_id"));
		og_strbuf_puts(&b, ": ");
		escv(&b, rj_get(e, "title"));
		og_strbuf_puts(&b, "</h3><p>Status <strong>");
		escv(&b, rj_get(e, "status"));
		og_strbuf_puts(&b, "</strong>, by ");
		escv(&b, rj_get(e, "by"));
		og_strbuf_puts(&b, ". ");
		esc(&b, rj_str(e, "summary"));
		og_strbuf_puts(&b, "</p>\n");
		cJSON_ArrayForEach(x, rj_get(e, "results")) {
			og_strbuf_puts(&b, "<p>tool <code>");
			escv(&b, rj_get(x, "tool"));
			og_strbuf_puts(&b, "</code>: ");
			escv(&b, rj_get(x, "status"));
			og_strbuf_puts(&b, ", exit ");
			escv(&b, rj_get(x, "exit_code"));
			og_strbuf_puts(&b, ", ");
			escv(&b, rj_get(x, "duration_ms"));
			og_strbuf_puts(&b, " ms</p>\n");
			pre(&b, "stdout", rj_str(x, "stdout"));
			pre(&b, "stderr", rj_str(x, "stderr"));
			pre(&b, "body", rj_str(x, "body"));
		}
	}
	if (!cJSON_GetArraySize(rj_get(r, "executions")))
		og_strbuf_puts(&b, "<p>No action ran.</p>\n");
	og_strbuf_puts(&b, "<h2>Branches (forks)</h2>\n");
	table(&b, rj_get(r, "branches"), br_k, br_h);
	if (cJSON_GetArraySize(rj_get(r, "similar"))) {
		og_strbuf_puts(&b, "<h2>Similar past incidents</h2>\n");
		table(&b, rj_get(r, "similar"), sim_k, sim_h);
	}
	og_strbuf_puts(&b, "<h2>What we learned</h2>\n<p class=\"k\">Edit the list below (click into it), then download "
		    "the report as Markdown.</p>\n<ul id=\"learned\" contenteditable=\"true\">");
	cJSON_ArrayForEach(e, rj_get(r, "learned")) {
		og_strbuf_puts(&b, "<li>");
		escv(&b, e);
		og_strbuf_puts(&b, "</li>");
	}
	if (!cJSON_GetArraySize(rj_get(r, "learned")))
		og_strbuf_puts(&b, "<li>What went well: </li><li>What went wrong: </li><li>Follow-up actions (owner, due date): </li>");
	og_strbuf_puts(&b, "</ul>\n<button id=\"dl\" type=\"button\">Download as Markdown</button>\n"
		    "<textarea id=\"pm-md\" hidden>");
	esc(&b, md);
	og_strbuf_printf(&b, "</textarea>\n<script>%s</script>\n</body></html>\n", js);
	cJSON_Delete(tl);
	if (!md)
		b.failed = true;
	free(md);
	return og_strbuf_take(&b);
}
