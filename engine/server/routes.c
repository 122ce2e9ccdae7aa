/*
 * routes.c: one entry point for every request: the method and path pick a
 * handler, and every answer leaves through the reply helpers here, which
 * count it for /metrics by route and status and give errors one shape,
 * {"error": code, "detail": what to do}.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../core/json.h"
#include "server.h"

void srv_reply_text(struct srv *S, struct evhttp_request *req, const char *route, int status, const char *ctype,
		    const char *text)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (ctype)
		evhttp_add_header(h, "Content-Type", ctype);
	if (status == 405)
		evhttp_add_header(h, "Allow", "GET, POST");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (b && text)
		evbuffer_add(b, text, strlen(text));
	metrics_http(S->metrics, route, status);
	evhttp_send_reply(req, status, NULL, b);
	evbuffer_free(b);
}

void srv_reply_json(struct srv *S, struct evhttp_request *req, const char *route, int status, const cJSON *body)
{
	char *text = og_json_print_text(body);

	if (!text) {
		srv_reply_text(S, req, route, 500, "application/json",
			       "{\"error\":\"internal\",\"detail\":\"out of memory\"}");
		return;
	}
	srv_reply_text(S, req, route, status, "application/json", text);
	free(text);
}

void srv_reply_error(struct srv *S, struct evhttp_request *req, const char *route, int status, const char *error,
		     const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	char detail[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "error", error);
	cJSON_AddStringToObject(o, "detail", detail);
	fprintf(stderr, "opsgraph serve: %s %s -> %d %s: %s\n",
		evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET", evhttp_request_get_uri(req), status,
		error, detail);
	srv_reply_json(S, req, route, status, o);
	cJSON_Delete(o);
}

char *srv_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *s;

	*len = n;
	if (!(s = malloc(n + 1)))
		return NULL;
	evbuffer_copyout(in, s, n);
	s[n] = 0;
	return s;
}

cJSON *srv_json_parse(const char *text, size_t len, char *msg, size_t msglen)
{
	const char *end = NULL;
	cJSON *o;

	if (len == 0) {
		snprintf(msg, msglen, "the request needs a JSON object body");
		return NULL;
	}
	o = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	/* cJSON's own trailing-garbage check wants a NUL inside the length */
	while (o && end && end < text + len && strchr(" \t\r\n", *end))
		end++;
	if (o && end != text + len) {
		cJSON_Delete(o);
		o = NULL;
	}
	if (!o) {
		size_t at = end && end >= text ? (size_t)(end - text) : 0;
		snprintf(msg, msglen, "the body is not valid JSON (error at byte %zu of %zu)", at, len);
	} else if (!cJSON_IsObject(o)) {
		snprintf(msg, msglen, "the body must be a JSON object");
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

cJSON *srv_json_body(struct srv *S, struct evhttp_request *req, const char *route)
{
	size_t len;
	char *text = srv_body(req, &len), msg[128];
	cJSON *o;

	if (!text) {
		srv_reply_error(S, req, route, 500, "internal", "out of memory");
		return NULL;
	}
	if (!(o = srv_json_parse(text, len, msg, sizeof(msg))))
		srv_reply_error(S, req, route, 400, "bad_json", "%s", msg);
	free(text);
	return o;
}

/* The client went away while a worker had its request. libevent then
 * either detaches the request from the connection (it has no connection any
 * more, and the late answer frees it without sending anything) or frees it
 * with the connection (then the answer is dropped). */
static void pending_gone(struct evhttp_connection *conn, void *arg)
{
	struct srv_pending *p = arg;

	(void)conn;
	if (p->req && evhttp_request_get_connection(p->req))
		p->req = NULL;
}

void srv_submit(struct srv *S, struct srv_pool *p, struct srv_job *j)
{
	/* j belongs to the worker once pushed; pend stays the loop's until the
	 * answer is drained, here, on this thread */
	struct srv_pending *pend = j->pend;
	struct evhttp_request *req = pend ? pend->req : NULL;

	if (S->stopping || srv_pool_push(p, j) < 0) {
		if (req && S->stopping)
			srv_reply_error(S, req, pend->route, 503, "shutting_down", "the server is shutting down; retry later");
		else if (req)
			srv_reply_error(S, req, pend->route, 503, "busy", "%d requests wait for a worker already; retry "
					"later (or start the server with more --workers)", SRV_QUEUE_MAX);
		free(pend);
		j->pend = NULL;
		srv_job_free(j);
		return;
	}
	if (req)
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), pending_gone, pend);
}

typedef void (*route_fn)(struct srv *S, struct evhttp_request *req);

/* Exact paths; the rest (threads by id, static files) are matched below. */
static const struct {
	const char *path, *route;
	bool post;
	route_fn fn;
} exact[] = {
	{ "/healthz", "healthz", false, NULL },
	{ "/metrics", "metrics", false, metrics_get },
	{ "/api/graphs", "graphs", false, api_graphs },
	{ "/api/runs", "runs", true, api_runs },
	{ "/api/threads", "threads", false, api_threads },
	{ "/alerts/alertmanager", "alertmanager", true, alertmanager_post },
	{ "/slack/events", "slack_events", true, slack_events },
	{ "/slack/interactions", "slack_interactions", true, slack_interactions },
};

void srv_dispatch(struct evhttp_request *req, void *arg)
{
	struct srv *S = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	bool get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD, post = m == EVHTTP_REQ_POST;
	size_t i;

	if (!path || !*path)
		path = "/";
	/* the operator's session before any API handler (auth.c); the Slack and
	 * Alertmanager webhooks are outside /api/ and sign their requests */
	if (!strncmp(path, "/api/", 5) && (auth_route(S, req, path) || !auth_check(S, req, post)))
		return;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (strcmp(path, exact[i].path))
			continue;
		if (exact[i].post ? !post : !get)
			srv_reply_error(S, req, exact[i].route, 405, "method", "%s takes %s", path,
					exact[i].post ? "POST" : "GET");
		else if (!exact[i].fn)
			srv_reply_text(S, req, "healthz", 200, "application/json",
				       S->stopping ? "{\"status\":\"stopping\"}" : "{\"status\":\"ok\"}");
		else
			exact[i].fn(S, req);
		return;
	}
	if (!strncmp(path, "/api/threads/", 13)) {
		char id[160];
		const char *rest = path + 13, *slash = strchr(rest, '/');
		size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
		if (n == 0 || n >= sizeof(id)) {
			srv_reply_error(S, req, "thread", 404, "not_found", "no such thread");
			return;
		}
		memcpy(id, rest, n);
		id[n] = 0;
		api_thread(S, req, id, slash ? slash + 1 : "");
	} else if (!strncmp(path, "/api/", 5) || !strcmp(path, "/api")) {
		srv_reply_error(S, req, "api", 404, "not_found", "no endpoint %s (see README.md, Server)", path);
	} else if (!get) {
		srv_reply_error(S, req, "static", 405, "method", "static files take GET");
	} else {
		static_serve(S, req, path);
	}
}
