/*
 * slack_interact.c: POST /slack/interactions, a click on one of the decision
 * message's buttons (slack_out.c). The request is checked like an event
 * (slack_verify: signing v0, five minutes of skew), its form body's
 * payload= parsed, and the Slack user mapped to an approver through config
 * slack.approvers; a user who is not listed is told so (ephemerally) and
 * nothing is resumed. Slack is answered at once, and the click becomes a
 * resume job like POST /api/threads/{id}/resume, with the approver as its
 * `by`: so exactly one answer wins, whether it came from Slack or the web
 * UI. What the resume answered comes back through the job's on_answer, on
 * the worker: the winner's click updates the original message (chat.update
 * with its channel and ts, or the interaction's response_url) with who
 * decided what; a losing click is told, ephemerally, who decided first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "server.h"
#include "slack_out.h"

#define ROUTE "slack_interactions"

/* An ephemeral answer to the clicking user: through the response_url, or
 * chat.postEphemeral when there is none. */
static void tell_user(struct srv *S, const cJSON *sl, const char *text)
{
	const char *url = og_json_get_str(sl, "response_url");
	cJSON *m = cJSON_CreateObject();
	char msg[1024];
	int rc;

	cJSON_AddStringToObject(m, "text", text);
	if (*url) {
		cJSON_AddStringToObject(m, "response_type", "ephemeral");
		cJSON_AddBoolToObject(m, "replace_original", 0);
		rc = slack_call(S, NULL, url, m, NULL, msg, sizeof(msg));
	} else if (S->slack->token && *og_json_get_str(sl, "channel")) {
		cJSON_AddStringToObject(m, "channel", og_json_get_str(sl, "channel"));
		cJSON_AddStringToObject(m, "user", og_json_get_str(sl, "user"));
		rc = slack_call(S, "chat.postEphemeral", NULL, m, NULL, msg, sizeof(msg));
	} else {
		rc = -1;
		snprintf(msg, sizeof(msg), "the interaction has no response_url and no bot token is set");
	}
	if (rc < 0)
		fprintf(stderr, "opsgraph serve: Slack: the user %s was not told \"%s\": %s\n", og_json_get_str(sl, "user"),
			text, msg);
	cJSON_Delete(m);
}

/* The original message with its buttons replaced by who decided what. */
static void update_message(struct srv *S, const char *thread, const cJSON *sl, const char *text)
{
	const cJSON *b;
	cJSON *m = cJSON_CreateObject(), *blocks = cJSON_AddArrayToObject(m, "blocks"), *done, *t;
	const char *url = og_json_get_str(sl, "response_url");
	char msg[1024];
	int rc;

	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(sl, "blocks"))
		if (strcmp(og_json_get_str(b, "type"), "actions"))
			cJSON_AddItemToArray(blocks, cJSON_Duplicate(b, 1));
	done = cJSON_CreateObject();
	cJSON_AddStringToObject(done, "type", "section");
	t = cJSON_AddObjectToObject(done, "text");
	cJSON_AddStringToObject(t, "type", "mrkdwn");
	cJSON_AddStringToObject(t, "text", text);
	cJSON_AddItemToArray(blocks, done);
	cJSON_AddStringToObject(m, "text", text);
	if (S->slack->token && *og_json_get_str(sl, "channel") && *og_json_get_str(sl, "ts")) {
		cJSON_AddStringToObject(m, "channel", og_json_get_str(sl, "channel"));
		cJSON_AddStringToObject(m, "ts", og_json_get_str(sl, "ts"));
		rc = slack_call(S, "chat.update", NULL, m, NULL, msg, sizeof(msg));
	} else if (*url) {
		cJSON_AddBoolToObject(m, "replace_original", 1);
		rc = slack_call(S, NULL, url, m, NULL, msg, sizeof(msg));
	} else {
		rc = -1;
		snprintf(msg, sizeof(msg), "no bot token with the message's channel and ts, and no response_url");
	}
	if (rc < 0)
		fprintf(stderr, "opsgraph serve: thread %s: the Slack message was not updated: %s\n", thread, msg);
	cJSON_Delete(m);
}

/* From the worker, with the resume's answer (srv_job_reply). */
static void click_answered(struct srv_job *j, int status, const cJSON *body)
{
	const cJSON *sl = cJSON_GetObjectItemCaseSensitive(j->body, "slack");
	const char *choice = og_json_get_str(sl, "choice"), *user = og_json_get_str(sl, "user");
	char text[1800], at[40];

	og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at));
	if (status == 200) {
		struct og_err err = { 0 };
		cJSON *n = cJSON_CreateObject();
		char key[128];
		snprintf(text, sizeof(text), ":white_check_mark: *%s* (<@%s>) chose *%s* at %s", j->by, user, choice, at);
		update_message(j->S, j->thread, sl, text);
		/* which Slack user stood behind the approver name */
		snprintf(key, sizeof(key), "slack/decision/%s", j->iid);
		cJSON_AddStringToObject(n, "kind", "slack_decision");
		cJSON_AddStringToObject(n, "slack_user", user);
		cJSON_AddStringToObject(n, "by", j->by);
		cJSON_AddStringToObject(n, "choice", choice);
		cJSON_AddStringToObject(n, "at", at);
		if (og_store_lmdb_note_add(j->S->db, j->thread, key, n, NULL, &err) < 0)
			fprintf(stderr, "opsgraph serve: thread %s: the Slack decision was not noted: %s\n", j->thread,
				err.msg);
		cJSON_Delete(n);
		fprintf(stderr, "opsgraph serve: thread %s: %s (Slack %s) chose %s\n", j->thread, j->by, user, choice);
		return;
	}
	if (status == 409 && !strcmp(og_json_get_str(body, "error"), "already_resumed"))
		snprintf(text, sizeof(text), "Already decided, your choice %s was not applied: %s", choice,
			 og_json_get_str(body, "detail"));
	else
		snprintf(text, sizeof(text), "Your choice %s was not applied (%d %s): %s", choice, status,
			 og_json_get_str(body, "error"), og_json_get_str(body, "detail"));
	tell_user(j->S, sl, text);
}

static void job_slack_click(struct srv_job *j, int worker)
{
	job_resume(j, worker);
}

static void job_slack_refuse(struct srv_job *j, int worker)
{
	(void)worker;
	tell_user(j->S, cJSON_GetObjectItemCaseSensitive(j->body, "slack"), og_json_get_str(j->body, "text"));
}

/* The Slack context a click's job needs later, from the payload. */
static cJSON *click_context(const cJSON *p, const char *user, const char *choice)
{
	cJSON *sl = cJSON_CreateObject();
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(p, "message");
	const cJSON *cont = cJSON_GetObjectItemCaseSensitive(p, "container");
	const char *ch = og_json_get_str(cJSON_GetObjectItemCaseSensitive(p, "channel"), "id");
	const char *ts = og_json_get_str(msg, "ts");

	if (!*ch)
		ch = og_json_get_str(cont, "channel_id");
	if (!*ts)
		ts = og_json_get_str(cont, "message_ts");
	cJSON_AddStringToObject(sl, "user", user);
	cJSON_AddStringToObject(sl, "choice", choice);
	cJSON_AddStringToObject(sl, "channel", ch);
	cJSON_AddStringToObject(sl, "ts", ts);
	cJSON_AddStringToObject(sl, "response_url", og_json_get_str(p, "response_url"));
	if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(msg, "blocks")))
		cJSON_AddItemToObject(sl, "blocks", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(msg, "blocks"), 1));
	return sl;
}

static bool url_ok(const char *u)
{
	return !*u || !strncmp(u, "https://", 8) || !strncmp(u, "http://", 7);
}

int slack_click_parse(const char *text, size_t len, struct slack_click *k, const char **error, char *msg,
		      size_t msglen)
{
	struct evkeyvalq in_q = { 0 };
	const cJSON *act, *user;
	const char *payload;
	int st = 400;

	memset(k, 0, sizeof(*k));
	*error = "bad_form";
	if (strlen(text) != len || evhttp_parse_query_str(text, &in_q) < 0) {
		snprintf(msg, msglen, "the body is not an application/x-www-form-urlencoded form (Slack sends "
			 "payload=<JSON>)");
		goto out;
	}
	if (!(payload = evhttp_find_header(&in_q, "payload"))) {
		snprintf(msg, msglen, "the form has no payload field (Slack sends payload=<JSON>)");
		goto out;
	}
	*error = "bad_json";
	if (!(k->p = cJSON_Parse(payload)) || !cJSON_IsObject(k->p)) {
		snprintf(msg, msglen, "payload is not a JSON object");
		goto out;
	}
	*error = "unsupported";
	if (strcmp(og_json_get_str(k->p, "type"), "block_actions")) {
		snprintf(msg, msglen, "interaction type '%.64s' is not handled: opsgraph takes block_actions from its "
			 "decision buttons", og_json_get_str(k->p, "type"));
		goto out;
	}
	*error = "bad_request";
	user = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(k->p, "user"), "id");
	act = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(k->p, "actions"), 0);
	if (!cJSON_IsString(user) || !*user->valuestring || strlen(user->valuestring) > 64 ||
	    strncmp(og_json_get_str(act, "action_id"), "opsgraph_decide_", 16) || !*og_json_get_str(act, "value")) {
		snprintf(msg, msglen, "expected user.id and actions[0] an opsgraph decision button (action_id "
			 "opsgraph_decide_*, with its value)");
		goto out;
	}
	k->user = user->valuestring;
	k->val = cJSON_Parse(og_json_get_str(act, "value"));
	k->t = og_json_get_str(k->val, "t");
	k->i = og_json_get_str(k->val, "i");
	k->c = og_json_get_str(k->val, "c");
	k->h = og_json_get_str(k->val, "h");
	if (!srv_thread_id_ok(k->t) || !*k->i || strlen(k->i) >= 64 || !*k->c || strlen(k->c) > 32 ||
	    strlen(k->h) > 128 || !url_ok(og_json_get_str(k->p, "response_url"))) {
		snprintf(msg, msglen, "the button value is not one opsgraph made ({\"t\": thread, \"i\": interrupt id, "
			 "\"c\": choice, \"h\": plan hash}), or response_url is not an http(s) URL");
		goto out;
	}
	st = 0;
out:
	evhttp_clear_headers(&in_q);
	if (st) {
		cJSON_Delete(k->val);
		cJSON_Delete(k->p);
		memset(k, 0, sizeof(*k));
	}
	return st;
}

void slack_interactions(struct srv *S, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct slack_click k;
	char msg[256], *text = NULL;
	size_t len = 0;
	cJSON *p = NULL, *val = NULL;
	const char *approver = NULL, *user, *t, *i, *c, *h, *error;
	int st;

	if (!S->conf.slack_secret) {
		srv_reply_error(S, req, ROUTE, 503, "slack_not_configured",
				"set SLACK_SIGNING_SECRET in the server's environment to accept Slack interactions");
		return;
	}
	if (!(text = srv_body(req, &len))) {
		srv_reply_error(S, req, ROUTE, 500, "internal", "out of memory");
		return;
	}
	if ((st = slack_verify(S->conf.slack_secret, evhttp_find_header(in, "X-Slack-Request-Timestamp"),
			       evhttp_find_header(in, "X-Slack-Signature"), text, len, (int64_t)time(NULL), msg,
			       sizeof(msg)))) {
		srv_reply_error(S, req, ROUTE, st, st == 401 ? "bad_signature" : "internal", "%s", msg);
		goto out;
	}
	if (slack_click_parse(text, len, &k, &error, msg, sizeof(msg))) {
		srv_reply_error(S, req, ROUTE, 400, error, "%s", msg);
		goto out;
	}
	p = k.p;
	val = k.val;
	user = k.user;
	t = k.t;
	i = k.i;
	c = k.c;
	h = k.h;
	if (S->slack && S->slack->approvers)
		approver = og_json_get_str(S->slack->approvers, user);
	if (!approver || !*approver) {
		cJSON *o = cJSON_CreateObject();
		struct srv_job *j;
		char say[400];
		snprintf(say, sizeof(say), "<@%s> is not an approver: nothing was decided. Ask an admin to add your Slack "
			 "user id %s to config slack.approvers, or decide in the web UI.", user,
			 user);
		fprintf(stderr, "opsgraph serve: Slack user %s is not in config slack.approvers: click on thread %s "
			"refused\n", user, t);
		cJSON_AddStringToObject(o, "response_type", "ephemeral");
		cJSON_AddBoolToObject(o, "replace_original", 0);
		cJSON_AddStringToObject(o, "text", say);
		if (*og_json_get_str(p, "response_url") && (j = srv_job_new(S, job_slack_refuse, NULL, NULL))) {
			j->body = cJSON_CreateObject();
			cJSON_AddStringToObject(j->body, "text", say);
			cJSON_AddItemToObject(j->body, "slack", click_context(p, user, c));
			srv_submit(S, S->intake, j);
		}
		srv_reply_json(S, req, ROUTE, 200, o);
		cJSON_Delete(o);
		goto out;
	}
	if (S->stopping) {
		srv_reply_error(S, req, ROUTE, 503, "shutting_down", "the server is shutting down; retry later");
		goto out;
	}
	{
		struct srv_job *j = srv_job_new(S, job_slack_click, NULL, NULL);
		cJSON *v, *o;
		if (!j) {
			srv_reply_error(S, req, ROUTE, 500, "internal", "out of memory");
			goto out;
		}
		snprintf(j->thread, sizeof(j->thread), "%s", t);
		snprintf(j->iid, sizeof(j->iid), "%s", i);
		snprintf(j->by, sizeof(j->by), "%s", approver);
		j->on_answer = click_answered;
		j->body = cJSON_CreateObject();
		v = cJSON_AddObjectToObject(j->body, "value");
		cJSON_AddStringToObject(v, "choice", c);
		if (*h)
			cJSON_AddStringToObject(v, "plan_hash", h);
		cJSON_AddItemToObject(j->body, "slack", click_context(p, user, c));
		/* Slack wants its answer within 3 s: the outcome goes to the message */
		srv_submit(S, S->runs, j);
		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddStringToObject(o, "thread_id", t);
		cJSON_AddStringToObject(o, "by", approver);
		srv_reply_json(S, req, ROUTE, 200, o);
		cJSON_Delete(o);
	}
out:
	cJSON_Delete(val);
	cJSON_Delete(p);
	free(text);
}
