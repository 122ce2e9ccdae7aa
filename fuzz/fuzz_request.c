/*
 * fuzz_request.c: libFuzzer target for the HTTP request path of
 * `opsgraph serve`: the input is raw bytes on a connection, parsed by
 * libevent's evhttp with the limits server.c sets (body and header sizes,
 * methods), and every request that comes through is taken apart the way
 * srv_dispatch and its handlers take it apart: the path split into a
 * thread id (srv_thread_id_ok), the static file name (static_path_decode:
 * no NUL, "..", backslash), the JSON body (srv_json_parse) and the
 * Alertmanager and Slack body checks. No socket leaves the process: evhttp
 * listens on an abstract unix socket and each input is one connection.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;
static struct evhttp *http;

static void on_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	size_t len = evbuffer_get_length(in);
	char *body = malloc(len + 1), msg[256], thread[64], *p;
	const char *challenge = NULL, *event_id = NULL;
	cJSON *o;

	(void)arg;
	if (!path || !*path)
		path = "/";
	if (!strncmp(path, "/api/threads/", 13)) {
		char id[160];
		const char *rest = path + 13, *slash = strchr(rest, '/');
		size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
		if (n > 0 && n < sizeof(id)) {
			memcpy(id, rest, n);
			id[n] = 0;
			srv_thread_id_ok(id);
		}
	}
	if ((p = static_path_decode(path))) {
		if (strstr(p, "/../") || strchr(p, '\\') || strlen(p) == 0)
			abort();
		free(p);
	}
	if (body) {
		evbuffer_copyout(in, body, len);
		body[len] = 0;
		if ((o = srv_json_parse(body, len, msg, sizeof(msg)))) {
			alertmanager_check(o, thread, sizeof(thread), msg, sizeof(msg));
			cJSON_Delete(o);
		}
		slack_verify("s", evhttp_find_header(h, "X-Slack-Request-Timestamp"),
			     evhttp_find_header(h, "X-Slack-Signature"), body, len, 1700000000, msg, sizeof(msg));
		o = NULL;
		slack_event_parse(body, len, &o, &challenge, &event_id, msg, sizeof(msg));
		cJSON_Delete(o);
		free(body);
	}
	evhttp_send_reply(req, 200, "OK", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sockaddr_un sa;
	int c, i;
	char sink[4096];

	if (size > 48 * 1024)	/* stays inside one socket buffer: no writer loop */
		return 0;
	if (!base) {
		base = event_base_new();
		http = evhttp_new(base);
		if (!base || !http)
			abort();
		/* as server.c: 1 MiB bodies, 16 KiB of headers */
		evhttp_set_max_body_size(http, 1 << 20);
		evhttp_set_max_headers_size(http, 16 * 1024);
		evhttp_set_timeout(http, 30);
		evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
							 EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
		evhttp_set_gencb(http, on_request, NULL);
		/* abstract namespace: no file to clean up */
		sa.sun_family = AF_UNIX;
		snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "opsgraph-fuzz-%d", (int)getpid());
		if ((c = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 || bind(c, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(c, 16) < 0 || evutil_make_socket_nonblocking(c) < 0 || evhttp_accept_socket(http, c) < 0)
			abort();
	}
	if ((c = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return 0;
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	evutil_make_socket_nonblocking(c);
	if (size && write(c, data, size) != (ssize_t)size)
		abort();
	shutdown(c, SHUT_WR);
	/* until evhttp closes its end (it does at EOF, after any replies) */
	for (i = 0; i < 10000; i++) {
		struct pollfd pf = { .fd = c, .events = POLLIN };
		ssize_t n;
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&pf, 1, 0) > 0) {
			if ((n = read(c, sink, sizeof(sink))) == 0)
				break;
		}
	}
	if (i == 10000)
		abort();	/* a connection evhttp never finished: a hang in the parser */
	close(c);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}
