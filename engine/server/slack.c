/*
 * slack.c: POST /slack/events, the Slack Events API. Every request is
 * checked against Slack's signing v0 before its body is even parsed:
 * HMAC-SHA256 of "v0:{timestamp}:{raw body}" with $SLACK_SIGNING_SECRET,
 * compared in constant time, and refused when the timestamp is more than
 * five minutes away from now (a replayed request). url_verification is
 * answered at once; an event is acknowledged as soon as its event_id is
 * durably remembered (job_slack), and its run starts afterwards on a
 * worker, so Slack's 3-second deadline holds however busy the workers are.
 * A retry (X-Slack-Retry-Num, same event_id) finds the id remembered and
 * starts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../core/id.h"
#include "../core/json.h"
#include "server.h"

#define SLACK_MAX_SKEW_S 300

int slack_verify(const char *secret, const char *ts, const char *sig, const char *body, size_t len, int64_t now_s,
		 char *msg, size_t msglen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char want[3 + 2 * EVP_MAX_MD_SIZE + 1], *base = NULL, *end;
	size_t blen, tl;
	long long t;
	unsigned i;

	if (!ts || !sig) {
		snprintf(msg, msglen, "X-Slack-Request-Timestamp and X-Slack-Signature are required");
		return 401;
	}
	t = strtoll(ts, &end, 10);
	if (!*ts || *end || t <= 0) {
		snprintf(msg, msglen, "X-Slack-Request-Timestamp is not a Unix time");
		return 401;
	}
	if (t > now_s + SLACK_MAX_SKEW_S || t < now_s - SLACK_MAX_SKEW_S) {
		snprintf(msg, msglen, "the request timestamp is %lld s away from now (at most %d): a replay, or a "
			 "clock to fix", t - now_s, SLACK_MAX_SKEW_S);
		return 401;
	}
	tl = strlen(ts);
	blen = 3 + tl + 1 + len;
	if (!(base = malloc(blen))) {
		snprintf(msg, msglen, "out of memory");
		return 500;
	}
	memcpy(base, "v0:", 3);
	memcpy(base + 3, ts, tl);
	base[3 + tl] = ':';
	memcpy(base + 4 + tl, body, len);
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)base, blen, mac, &maclen)) {
		free(base);
		snprintf(msg, msglen, "HMAC failed");
		return 500;
	}
	free(base);
	memcpy(want, "v0=", 3);
	for (i = 0; i < maclen; i++)
		snprintf(want + 3 + 2 * i, 3, "%02x", mac[i]);
	if (strlen(sig) != 3 + 2 * (size_t)maclen || CRYPTO_memcmp(sig, want, 3 + 2 * (size_t)maclen)) {
		snprintf(msg, msglen, "the signature does not match the body (check SLACK_SIGNING_SECRET)");
		return 401;
	}
	return 0;
}

int slack_event_parse(const char *text, size_t len, cJSON **out, const char **challenge, const char **event_id,
		      char *msg, size_t msglen)
{
	cJSON *body;
	const cJSON *type, *v;

	*out = NULL;
	if (!(body = cJSON_ParseWithLength(text, len)) || !cJSON_IsObject(body)) {
		cJSON_Delete(body);
		snprintf(msg, msglen, "the body is not a JSON object");
		return 400;
	}
	*out = body;
	type = cJSON_GetObjectItemCaseSensitive(body, "type");
	if (cJSON_IsString(type) && !strcmp(type->valuestring, "url_verification")) {
		if (!cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(body, "challenge"))) {
			snprintf(msg, msglen, "url_verification without a challenge");
			return 400;
		}
		*challenge = v->valuestring;
		return 1;
	}
	v = cJSON_GetObjectItemCaseSensitive(body, "event_id");
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "event_callback") || !cJSON_IsString(v) ||
	    !*v->valuestring || strlen(v->valuestring) > 128 ||
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(body, "event"))) {
		snprintf(msg, msglen, "expected url_verification, or event_callback with event_id and event");
		return 400;
	}
	*event_id = v->valuestring;
	return 2;
}

void slack_events(struct srv *S, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	char msg[256], *text = NULL;
	size_t len = 0;
	cJSON *body = NULL;
	const char *challenge = NULL, *event_id = NULL;
	int st;

	if (!S->conf.slack_secret) {
		srv_reply_error(S, req, "slack_events", 503, "slack_not_configured",
				"set SLACK_SIGNING_SECRET in the server's environment to accept Slack events");
		return;
	}
	if (!(text = srv_body(req, &len))) {
		srv_reply_error(S, req, "slack_events", 500, "internal", "out of memory");
		return;
	}
	if ((st = slack_verify(S->conf.slack_secret, evhttp_find_header(in, "X-Slack-Request-Timestamp"),
			       evhttp_find_header(in, "X-Slack-Signature"), text, len, (int64_t)time(NULL), msg,
			       sizeof(msg)))) {
		srv_reply_error(S, req, "slack_events", st, st == 401 ? "bad_signature" : "internal", "%s", msg);
		goto out;
	}
	if ((st = slack_event_parse(text, len, &body, &challenge, &event_id, msg, sizeof(msg))) == 400) {
		srv_reply_error(S, req, "slack_events", 400, body ? "bad_request" : "bad_json", "%s", msg);
		goto out;
	}
	if (st == 1) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "challenge", challenge);
		srv_reply_json(S, req, "slack_events", 200, o);
		cJSON_Delete(o);
		goto out;
	}
	{
		struct srv_job *j = srv_job_new(S, job_slack, req, "slack_events");
		if (!j) {
			srv_reply_error(S, req, "slack_events", 500, "internal", "out of memory");
			goto out;
		}
		/* one thread per event: a retry that slipped past the id check
		 * still cannot start a second run of the same thread */
		snprintf(j->thread, sizeof(j->thread), "slack-%016llx",
			 (unsigned long long)og_id_hash(event_id, strlen(event_id), 0));
		snprintf(j->by, sizeof(j->by), "slack");
		j->body = body;
		body = NULL;
		srv_submit(S, S->intake, j);
	}
out:
	cJSON_Delete(body);
	free(text);
}
