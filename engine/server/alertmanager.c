/*
 * alertmanager.c: POST /alerts/alertmanager, Prometheus Alertmanager's
 * webhook (version 4). An alert group is one incident: the thread id is
 * derived from groupKey ("am-" and a 64-bit hash), so every notification of
 * a group lands on the same thread and only the first one that finds no
 * thread starts a run. Each distinct notification (status and set of
 * alerts) is kept as a note on the thread, "firing" or "resolved" with the
 * payload, which GET /api/threads/{id} shows as the thread's timeline
 * beside its checkpoints. The answer is 200 only once the note is committed
 * (sync mode: on disk), and 5xx when it could not be, since Alertmanager
 * retries 5xx and drops 4xx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "../core/id.h"
#include "server.h"

int alertmanager_check(const cJSON *body, char *thread, size_t tlen, char *msg, size_t msglen)
{
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(body, "version");
	const cJSON *gk = cJSON_GetObjectItemCaseSensitive(body, "groupKey");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(body, "status");
	const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(body, "alerts");

	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "4")) {
		snprintf(msg, msglen, "not an Alertmanager webhook of version \"4\" (the \"version\" field)");
		return 400;
	}
	if (!cJSON_IsString(gk) || !*gk->valuestring || !cJSON_IsString(st) ||
	    (strcmp(st->valuestring, "firing") && strcmp(st->valuestring, "resolved")) || !cJSON_IsArray(alerts)) {
		snprintf(msg, msglen, "the webhook needs groupKey, status (firing or resolved) and alerts[]");
		return 400;
	}
	snprintf(thread, tlen, "am-%016llx",
		 (unsigned long long)og_id_hash(gk->valuestring, strlen(gk->valuestring), 0));
	return 0;
}

void alertmanager_post(struct srv *S, struct evhttp_request *req)
{
	cJSON *body = srv_json_body(S, req, "alertmanager");
	struct srv_job *j;
	char thread[64], msg[128];

	if (!body)
		return;
	if (alertmanager_check(body, thread, sizeof(thread), msg, sizeof(msg))) {
		srv_reply_error(S, req, "alertmanager", 400, "bad_request", "%s", msg);
		goto out;
	}
	if (!(j = srv_job_new(S, job_alert, req, "alertmanager"))) {
		srv_reply_error(S, req, "alertmanager", 500, "internal", "out of memory");
		goto out;
	}
	snprintf(j->thread, sizeof(j->thread), "%s", thread);
	snprintf(j->by, sizeof(j->by), "alertmanager");
	j->body = body;
	body = NULL;
	srv_submit(S, S->intake, j);
out:
	cJSON_Delete(body);
}
