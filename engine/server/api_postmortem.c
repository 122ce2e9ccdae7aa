/*
 * api_postmortem.c: GET /api/threads/{id}/postmortem?format=json|md|html,
 * the report `opsgraph postmortem` prints (report/postmortem.h), built from
 * the store on the event loop like the other thread reads (read
 * transactions only). json is the default: the UI's Postmortem page renders
 * it; md and html are the files a team keeps.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../report/postmortem.h"
#include "server.h"

void api_postmortem(struct srv *S, struct evhttp_request *req, const char *thread)
{
	struct evkeyvalq q = { 0 };
	struct og_err err = { 0 };
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)), *format = NULL;
	cJSON *doc = NULL;
	char *text = NULL;
	int rc;

	if (qs && evhttp_parse_query_str(qs, &q) == 0)
		format = evhttp_find_header(&q, "format");
	if (!format || !*format)
		format = "json";
	if (strcmp(format, "json") && strcmp(format, "md") && strcmp(format, "html")) {
		srv_reply_error(S, req, "postmortem", 400, "bad_request", "format is json, md or html, not '%s'",
				format);
		goto out;
	}
	if ((rc = og_postmortem_build(S->db, thread, &doc, &err)) < 0) {
		srv_reply_error(S, req, "postmortem", rc == -OG_ENOENT ? 404 : 500,
				rc == -OG_ENOENT ? "no_thread" : "store", "%s", err.msg);
		goto out;
	}
	if (!strcmp(format, "json")) {
		srv_reply_json(S, req, "postmortem", 200, doc);
		goto out;
	}
	text = !strcmp(format, "md") ? og_postmortem_md(doc) : og_postmortem_html(doc);
	if (!text)
		srv_reply_error(S, req, "postmortem", 500, "memory", "out of memory rendering the report");
	else
		srv_reply_text(S, req, "postmortem", 200,
			       !strcmp(format, "md") ? "text/markdown; charset=utf-8" : "text/html; charset=utf-8", text);
out:
	free(text);
	cJSON_Delete(doc);
	evhttp_clear_headers(&q);
}
