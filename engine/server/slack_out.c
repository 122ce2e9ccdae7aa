/*
 * slack_out.c: the server's messages to Slack. When a run stops at a
 * decision (human_decision's og.interrupt, value.kind "decision") and a bot
 * token and a channel are configured, the RCA summary and the actions go to
 * the channel as a Block Kit message with one button per offered choice; the
 * message's channel and ts are kept as a note of the thread
 * ("slack/message/<interrupt id>"), which is also what stops a second post
 * for the same question. When the run ends, the result goes into that
 * message's Slack thread (thread_ts), once ("slack/result"). Every call is
 * made by the worker that ran the graph, with libcurl and a bounded timeout,
 * so the event loop never waits on Slack; a failure is logged and noted
 * ("slack/error/...") and the run goes on as if Slack were not configured.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/cli.h"
#include "../core/clock.h"
#include "../core/json.h"
#include "../core/strbuf.h"
#include "../net/http_client.h"
#include "server.h"
#include "slack_out.h"

#define SLACK_DEFAULT_BASE "https://slack.com/api"
#define SLACK_TEXT_MAX 2900	/* a section's text may hold 3000 characters */

/* ---- configuration ---------------------------------------------------------- */

static int conf_fail(const char *fmt, const char *a)
{
	fprintf(stderr, "opsgraph serve: config slack");
	fprintf(stderr, fmt, a);
	fprintf(stderr, " (see config/opsgraph.example.json, \"slack\")\n");
	return 2;
}

static int conf_read(struct slack_conf *c, const cJSON *sl)
{
	const cJSON *v;

	if (!cJSON_IsObject(sl))
		return conf_fail(": must be an object {channel, api_base_url, approvers, timeout_ms}%s", "");
	cJSON_ArrayForEach(v, sl) {
		if (strcmp(v->string, "channel") && strcmp(v->string, "api_base_url") && strcmp(v->string, "approvers") &&
		    strcmp(v->string, "timeout_ms"))
			return conf_fail(": unknown key '%s' (allowed: channel, api_base_url, approvers, timeout_ms)",
					 v->string);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(sl, "api_base_url"))) {
		size_t n;
		if (!cJSON_IsString(v) || (strncmp(v->valuestring, "http://", 7) && strncmp(v->valuestring, "https://", 8)))
			return conf_fail(".api_base_url: must be an http:// or https:// URL such as %s",
					 SLACK_DEFAULT_BASE);
		free(c->api_base);
		if (!(c->api_base = strdup(v->valuestring)))
			return conf_fail(": out of memory%s", "");
		n = strlen(c->api_base);
		while (n > 8 && c->api_base[n - 1] == '/')
			c->api_base[--n] = 0;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(sl, "channel"))) {
		if (!cJSON_IsString(v) || !*v->valuestring)
			return conf_fail(".channel: must be a channel id such as \"C0123456789\"%s", "");
		if (!(c->channel = strdup(v->valuestring)))
			return conf_fail(": out of memory%s", "");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(sl, "approvers"))) {
		const cJSON *a;
		if (!cJSON_IsObject(v))
			return conf_fail(".approvers: must map Slack user ids to approver names, e.g. "
					 "{\"U0123ABC\": \"alice\"}%s", "");
		cJSON_ArrayForEach(a, v)
			if (!cJSON_IsString(a) || !*a->valuestring || strlen(a->valuestring) > 100)
				return conf_fail(".approvers.%s: must be an approver name (a string of 1 to 100 bytes)",
						 a->string);
		c->approvers = cJSON_Duplicate(v, 1);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(sl, "timeout_ms"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 100 || v->valuedouble > 60000)
			return conf_fail(".timeout_ms: must be a number of milliseconds from 100 to 60000%s", "");
		c->timeout_ms = (long)v->valuedouble;
	}
	return 0;
}

int slack_setup(struct srv *S, const cJSON *cfg)
{
	struct slack_conf *c = calloc(1, sizeof(*c));
	const cJSON *sl = cJSON_GetObjectItemCaseSensitive(cfg, "slack");
	int st = 0;

	if (!c || !(c->api_base = strdup(SLACK_DEFAULT_BASE))) {
		free(c);
		return cli_fail(1, "out of memory");
	}
	c->timeout_ms = 5000;
	S->slack = c;
	if (sl && (st = conf_read(c, sl)) != 0)
		return st;
	c->token = getenv("SLACK_BOT_TOKEN");
	if (c->token && !*c->token)
		c->token = NULL;
	c->outbound = c->token && c->channel;
	/* said once, here: the runs then stay quiet about it */
	if (c->channel && !c->token)
		fprintf(stderr, "opsgraph serve: Slack messages off: SLACK_BOT_TOKEN is not set (config slack.channel "
			"is %s); decisions are not posted to Slack\n", c->channel);
	else if (c->token && !c->channel)
		fprintf(stderr, "opsgraph serve: Slack messages off: SLACK_BOT_TOKEN is set but config slack.channel "
			"is not; decisions are not posted to Slack\n");
	else if (c->outbound)
		fprintf(stderr, "opsgraph serve: Slack messages to channel %s via %s\n", c->channel, c->api_base);
	return 0;
}

void slack_free(struct slack_conf *c)
{
	if (!c)
		return;
	free(c->api_base);
	free(c->channel);
	cJSON_Delete(c->approvers);
	free(c);
}

/* ---- calls ------------------------------------------------------------------ */

int slack_call(struct srv *S, const char *method, const char *url, const cJSON *body, cJSON **out, char *msg,
	       size_t msglen)
{
	struct slack_conf *c = S->slack;
	struct og_http_request rq = { 0 };
	struct og_http_response res = { 0 };
	struct og_http_pair h[2];
	struct og_err err = { 0 };
	char full[1024], auth[600], shown[256];
	char *text = og_json_print_text(body);
	cJSON *ans = NULL;
	int rc = -1;

	if (out)
		*out = NULL;
	if (!text) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	if (method) {
		snprintf(full, sizeof(full), "%s/%s", c->api_base, method);
		snprintf(auth, sizeof(auth), "Bearer %s", c->token ? c->token : "");
	} else {
		snprintf(full, sizeof(full), "%s", url);
	}
	h[0] = (struct og_http_pair){ "Content-Type", "application/json; charset=utf-8" };
	h[1] = (struct og_http_pair){ "Authorization", auth };
	rq.method = "POST";
	rq.url = full;
	rq.headers = h;
	rq.nheaders = method ? 2 : 1;	/* a response_url carries its own authority */
	rq.body = text;
	rq.body_len = strlen(text);
	rq.timeout_ms = c->timeout_ms;
	rq.max_bytes = 1 << 20;
	if (og_http_request(&rq, &res, &err) < 0) {
		snprintf(msg, msglen, "%s", err.msg);
		goto out;
	}
	og_http_url_redact(full, shown, sizeof(shown));
	if (res.status != 200) {
		snprintf(msg, msglen, "POST %s: HTTP %ld", shown, res.status);
		goto out;
	}
	if (!method) {
		/* a response_url answers "ok" as plain text */
		rc = 0;
		goto out;
	}
	ans = cJSON_ParseWithLength(res.body, res.body_len);
	if (!cJSON_IsObject(ans)) {
		snprintf(msg, msglen, "POST %s: the answer is not a JSON object", shown);
		goto out;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "ok"))) {
		const char *e = og_json_get_str(ans, "error");
		snprintf(msg, msglen, "%s: Slack answered ok=false, error \"%s\"%s", method, *e ? e : "?",
			 !strcmp(e, "invalid_auth") || !strcmp(e, "not_authed") ? " (check SLACK_BOT_TOKEN)"
			 : !strcmp(e, "channel_not_found") || !strcmp(e, "not_in_channel")
			 ? " (check config slack.channel and invite the bot)" : "");
		goto out;
	}
	rc = 0;
	if (out) {
		*out = ans;
		ans = NULL;
	}
out:
	cJSON_Delete(ans);
	og_http_response_release(&res);
	free(text);
	return rc;
}

/* A failure, where an operator looking at the thread finds it. */
static void note_error(struct srv *S, const char *thread, const char *what, const char *msg)
{
	struct og_err err = { 0 };
	cJSON *n = cJSON_CreateObject();
	char key[96], at[40];
	int64_t ms = og_clock_wall_ms();

	fprintf(stderr, "opsgraph serve: thread %s: Slack %s failed: %s\n", thread, what, msg);
	og_clock_iso8601(ms, at, sizeof(at));
	snprintf(key, sizeof(key), "slack/error/%lld/%s", (long long)ms, what);
	cJSON_AddStringToObject(n, "kind", "slack_error");
	cJSON_AddStringToObject(n, "what", what);
	cJSON_AddStringToObject(n, "error", msg);
	cJSON_AddStringToObject(n, "at", at);
	if (og_store_lmdb_note_add(S->db, thread, key, n, NULL, &err) < 0)
		fprintf(stderr, "opsgraph serve: thread %s: the Slack error was not noted: %s\n", thread, err.msg);
	cJSON_Delete(n);
}

/* ---- text ------------------------------------------------------------------- */

/* Slack's mrkdwn wants &, < and > escaped, or they become links and mentions. */
static void sb_md(struct og_strbuf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			og_strbuf_putn(b, "&amp;", 5);
		else if (*s == '<')
			og_strbuf_putn(b, "&lt;", 4);
		else if (*s == '>')
			og_strbuf_putn(b, "&gt;", 4);
		else
			og_strbuf_putn(b, s, 1);
	}
}

/* b's text cut to what a block may hold (at a UTF-8 boundary); takes b. */
static cJSON *md_block(struct og_strbuf *b)
{
	cJSON *blk = cJSON_CreateObject(), *t;

	if (b->p && b->len > SLACK_TEXT_MAX) {
		/* the ellipsis ends at SLACK_TEXT_MAX, inside the b->len bytes held */
		size_t n = SLACK_TEXT_MAX - strlen("…");
		while (n > 0 && ((unsigned char)b->p[n] & 0xC0) == 0x80)
			n--;
		memcpy(b->p + n, "…", strlen("…") + 1);
	}
	cJSON_AddStringToObject(blk, "type", "section");
	t = cJSON_AddObjectToObject(blk, "text");
	cJSON_AddStringToObject(t, "type", "mrkdwn");
	cJSON_AddStringToObject(t, "text", b->p && !b->failed ? b->p : " ");
	og_strbuf_release(b);
	return blk;
}

static const char *choice_label(const char *c, char *buf, size_t len)
{
	if (!strcmp(c, "manual"))
		return "Handle manually";
	if (!strcmp(c, "re_analyze"))
		return "Re-analyze";
	snprintf(buf, len, "Approve %s", c);
	return buf;
}

char *slack_button_value(const char *thread, const char *iid, const char *choice, const char *plan_hash)
{
	cJSON *v = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(v, "t", thread);
	cJSON_AddStringToObject(v, "i", iid);
	cJSON_AddStringToObject(v, "c", choice);
	cJSON_AddStringToObject(v, "h", plan_hash ? plan_hash : "");
	s = og_json_print_text(v);
	cJSON_Delete(v);
	return s;
}

/* The decision message: what happened, what the analysis found, the plan,
 * and a button per offered choice. */
static cJSON *decision_message(struct srv *S, const char *thread, const char *iid, const cJSON *q)
{
	cJSON *m = cJSON_CreateObject(), *blocks, *els, *blk, *ht;
	const cJSON *rca = cJSON_GetObjectItemCaseSensitive(q, "rca"), *a, *e, *ch;
	const char *service = og_json_get_str(q, "service"), *sev = og_json_get_str(q, "severity");
	const char *hash = og_json_get_str(q, "plan_hash");
	struct og_strbuf b = { 0 };
	char head[160];

	snprintf(head, sizeof(head), "Decision needed: %s%s%s%s", *service ? service : "incident", *sev ? " (" : "",
		 sev, *sev ? ")" : "");
	cJSON_AddStringToObject(m, "channel", S->slack->channel);
	cJSON_AddStringToObject(m, "text", head);	/* notifications and clients without blocks */
	blocks = cJSON_AddArrayToObject(m, "blocks");
	blk = cJSON_CreateObject();
	cJSON_AddStringToObject(blk, "type", "header");
	ht = cJSON_AddObjectToObject(blk, "text");
	cJSON_AddStringToObject(ht, "type", "plain_text");
	cJSON_AddStringToObject(ht, "text", head);
	cJSON_AddItemToArray(blocks, blk);
	if (*og_json_get_str(q, "summary")) {
		og_strbuf_putn(&b, "*Alert:* ", 9);
		sb_md(&b, og_json_get_str(q, "summary"));
		cJSON_AddItemToArray(blocks, md_block(&b));
	}
	og_strbuf_putn(&b, "*Root cause*", 12);
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rca, "confidence")))
		og_strbuf_printf(&b, " (confidence %.2f%s%s)", og_json_get_num(rca, "confidence"),
			  *og_json_get_str(rca, "analyzer") ? ", " : "", og_json_get_str(rca, "analyzer"));
	og_strbuf_putn(&b, "\n", 1);
	sb_md(&b, *og_json_get_str(rca, "root_cause") ? og_json_get_str(rca, "root_cause") : "(no root cause found)");
	if (*og_json_get_str(rca, "impact")) {
		og_strbuf_putn(&b, "\n*Impact:* ", 11);
		sb_md(&b, og_json_get_str(rca, "impact"));
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rca, "evidence")) {
		if (!cJSON_IsString(e))
			continue;
		og_strbuf_putn(&b, "\n• ", strlen("\n• "));
		sb_md(&b, e->valuestring);
	}
	cJSON_AddItemToArray(blocks, md_block(&b));
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(q, "actions")) {
		const cJSON *t, *dr;
		int k = 0;
		og_strbuf_printf(&b, "*%s. ", og_json_get_str(a, "id"));
		sb_md(&b, og_json_get_str(a, "title"));
		og_strbuf_putn(&b, "*", 1);
		if (*og_json_get_str(a, "risk"))
			og_strbuf_printf(&b, "  risk: %s", og_json_get_str(a, "risk"));
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(a, "eta"))) {
			double eta = og_json_get_num(a, "eta");	/* seconds (nodes/README.md, plan) */
			if (eta >= 60)
				og_strbuf_printf(&b, ", eta: %.0f min", eta / 60);
			else
				og_strbuf_printf(&b, ", eta: %.0f s", eta);
		}
		if (*og_json_get_str(a, "description")) {
			og_strbuf_putn(&b, "\n", 1);
			sb_md(&b, og_json_get_str(a, "description"));
		}
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(a, "tools")) {
			char *args = og_json_print_text(cJSON_GetObjectItemCaseSensitive(t, "args"));
			if (k++)
				og_strbuf_putn(&b, ", ", 2);
			else
				og_strbuf_putn(&b, "\ntools: ", 8);
			og_strbuf_putn(&b, "`", 1);
			sb_md(&b, og_json_get_str(t, "name"));
			sb_md(&b, args && strcmp(args, "null") ? args : "");
			og_strbuf_putn(&b, "`", 1);
			free(args);
		}
		/* the dry-run's verdict line (nodes/dry_run_actions.lua), or why
		 * there is none: what the approver should know before clicking */
		dr = cJSON_GetObjectItemCaseSensitive(a, "dry_run");
		if (*og_json_get_str(dr, "verdict")) {
			const char *fid = og_json_get_str(dr, "fidelity");
			if (*fid && strcmp(fid, "none")) {
				og_strbuf_putn(&b, "\n*dry-run* (", strlen("\n*dry-run* ("));
				sb_md(&b, fid);
				og_strbuf_putn(&b, "): ", 3);
			} else {
				og_strbuf_putn(&b, "\n", 1);
			}
			sb_md(&b, og_json_get_str(dr, "verdict"));
		}
		cJSON_AddItemToArray(blocks, md_block(&b));
	}
	blk = cJSON_CreateObject();
	cJSON_AddStringToObject(blk, "type", "context");
	els = cJSON_AddArrayToObject(blk, "elements");
	{
		cJSON *t = cJSON_CreateObject();
		char ctx[400];
		snprintf(ctx, sizeof(ctx), "opsgraph thread `%s` · plan `%s`", thread, hash);
		cJSON_AddStringToObject(t, "type", "mrkdwn");
		cJSON_AddStringToObject(t, "text", ctx);
		cJSON_AddItemToArray(els, t);
	}
	cJSON_AddItemToArray(blocks, blk);
	blk = cJSON_CreateObject();
	cJSON_AddStringToObject(blk, "type", "actions");
	cJSON_AddStringToObject(blk, "block_id", "opsgraph_decision");
	els = cJSON_AddArrayToObject(blk, "elements");
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(q, "choices")) {
		cJSON *btn, *t;
		char label[64], aid[64], *val;
		if (!cJSON_IsString(ch))
			continue;
		btn = cJSON_CreateObject();
		snprintf(aid, sizeof(aid), "opsgraph_decide_%s", ch->valuestring);
		cJSON_AddStringToObject(btn, "type", "button");
		cJSON_AddStringToObject(btn, "action_id", aid);
		t = cJSON_AddObjectToObject(btn, "text");
		cJSON_AddStringToObject(t, "type", "plain_text");
		cJSON_AddStringToObject(t, "text", choice_label(ch->valuestring, label, sizeof(label)));
		if ((val = slack_button_value(thread, iid, ch->valuestring, hash)))
			cJSON_AddStringToObject(btn, "value", val);
		free(val);
		if (strcmp(ch->valuestring, "manual") && strcmp(ch->valuestring, "re_analyze"))
			cJSON_AddStringToObject(btn, "style", "primary");
		cJSON_AddItemToArray(els, btn);
	}
	cJSON_AddItemToArray(blocks, blk);
	return m;
}

/* The note under key in the thread's notes, or NULL (borrowed from rows). */
static const cJSON *find_note(const cJSON *rows, const char *key, bool prefix)
{
	const cJSON *r, *found = NULL;

	cJSON_ArrayForEach(r, rows) {
		const char *k = og_json_get_str(r, "key");
		if (prefix ? !strncmp(k, key, strlen(key)) : !strcmp(k, key))
			found = cJSON_GetObjectItemCaseSensitive(r, "value");
	}
	return found;
}

static void post_decision(struct srv *S, const char *thread, const cJSON *it)
{
	struct og_err err = { 0 };
	const char *iid = og_json_get_str(it, "id");
	cJSON *rows = NULL, *m = NULL, *ans = NULL, *n;
	char key[128], msg[1024], at[40];

	snprintf(key, sizeof(key), "slack/message/%s", iid);
	if (og_store_lmdb_notes(S->db, thread, &rows, &err) < 0) {
		note_error(S, thread, "postMessage", err.msg);
		return;
	}
	if (find_note(rows, key, false))
		goto out;	/* this question was posted already (a restart, a re-run) */
	m = decision_message(S, thread, iid, cJSON_GetObjectItemCaseSensitive(it, "value"));
	if (slack_call(S, "chat.postMessage", NULL, m, &ans, msg, sizeof(msg)) < 0) {
		note_error(S, thread, "postMessage", msg);
		goto out;
	}
	og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at));
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "kind", "slack_message");
	cJSON_AddStringToObject(n, "channel", *og_json_get_str(ans, "channel") ? og_json_get_str(ans, "channel")
									 : S->slack->channel);
	cJSON_AddStringToObject(n, "ts", og_json_get_str(ans, "ts"));
	cJSON_AddStringToObject(n, "interrupt_id", iid);
	cJSON_AddStringToObject(n, "at", at);
	if (og_store_lmdb_note_add(S->db, thread, key, n, NULL, &err) < 0)
		fprintf(stderr, "opsgraph serve: thread %s: the Slack message ts was not noted: %s\n", thread, err.msg);
	else
		fprintf(stderr, "opsgraph serve: thread %s: decision posted to Slack (channel %s, ts %s)\n", thread,
			og_json_get_str(n, "channel"), og_json_get_str(n, "ts"));
	cJSON_Delete(n);
out:
	cJSON_Delete(ans);
	cJSON_Delete(m);
	cJSON_Delete(rows);
}

static void post_result(struct srv *S, struct cli_session *s)
{
	struct og_err err = { 0 };
	const char *thread = og_run_thread_id(s->run);
	const cJSON *msgnote, *dec = og_run_value(s->run, "decision"), *ver = og_run_value(s->run, "verification");
	const cJSON *rerr = og_run_error(s->run);
	cJSON *rows = NULL, *m, *claim;
	struct og_strbuf b = { 0 };
	char msg[1024], at[40];
	bool added = false;

	if (og_store_lmdb_notes(S->db, thread, &rows, &err) < 0) {
		note_error(S, thread, "result", err.msg);
		return;
	}
	if (!(msgnote = find_note(rows, "slack/message/", true)))
		goto out;	/* nothing was posted for this thread: no Slack thread to answer in */
	og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at));
	claim = cJSON_CreateObject();
	cJSON_AddStringToObject(claim, "status", og_run_status_name(og_run_status(s->run)));
	cJSON_AddStringToObject(claim, "at", at);
	/* claimed before the call: a result is said once, even if the call fails */
	if (og_store_lmdb_note_add(S->db, thread, "slack/result", claim, &added, &err) < 0 || !added) {
		if (!added && err.msg[0])
			note_error(S, thread, "result", err.msg);
		cJSON_Delete(claim);
		goto out;
	}
	cJSON_Delete(claim);
	og_strbuf_printf(&b, "*Finished:* thread `%s` is *%s*", thread, og_run_status_name(og_run_status(s->run)));
	if (cJSON_IsObject(dec)) {
		og_strbuf_putn(&b, "\n*Decision:* ", 13);
		sb_md(&b, og_json_get_str(dec, "choice"));
		if (*og_json_get_str(dec, "by")) {
			og_strbuf_putn(&b, " by ", 4);
			sb_md(&b, og_json_get_str(dec, "by"));
		}
	}
	if (cJSON_IsObject(ver)) {
		og_strbuf_putn(&b, "\n*Verification:* ", 17);
		sb_md(&b, og_json_get_str(ver, "status"));
		og_strbuf_printf(&b, " (recovered: %s)", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ver, "recovered")) ? "yes"
						 : "no");
	}
	if (rerr) {
		og_strbuf_putn(&b, "\n*Error:* ", 10);
		sb_md(&b, og_json_get_str(rerr, "message"));
	}
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "channel", og_json_get_str(msgnote, "channel"));
	cJSON_AddStringToObject(m, "thread_ts", og_json_get_str(msgnote, "ts"));
	cJSON_AddStringToObject(m, "text", b.p && !b.failed ? b.p : "finished");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(m, "blocks"), md_block(&b));
	if (slack_call(S, "chat.postMessage", NULL, m, NULL, msg, sizeof(msg)) < 0)
		note_error(S, thread, "result", msg);
	cJSON_Delete(m);
out:
	cJSON_Delete(rows);
}

void slack_after_run(struct srv *S, struct cli_session *s)
{
	enum og_run_status st;

	if (!S->slack || !S->slack->outbound || !s->run)
		return;
	st = og_run_status(s->run);
	if (st == OG_RUN_INTERRUPTED) {
		cJSON *ints = og_run_interrupts(s->run);
		const cJSON *it;
		cJSON_ArrayForEach(it, ints) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
			if (!strcmp(og_json_get_str(v, "kind"), "decision") &&
			    cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(v, "choices")))
				post_decision(S, og_run_thread_id(s->run), it);
		}
		cJSON_Delete(ints);
	} else if (st == OG_RUN_DONE || st == OG_RUN_ERROR) {
		post_result(S, s);
	}
}
