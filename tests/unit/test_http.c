/*
 * test_http.c: the HTTP client (engine/net/http_client.c) against a tiny
 * HTTP/1.1 server that runs inside this test, on a thread, on 127.0.0.1 and
 * a port the kernel picks. Nothing leaves the machine.
 *
 * Covered: 200 with a body and lower-cased, joined headers; 404 is a
 * success; HEAD; POST with a binary body, custom headers, query encoding
 * (echoed back by the server); the total timeout on a slow answer; bodies
 * over max_bytes, announced by Content-Length and chunked (aborted
 * mid-transfer), exactly max_bytes; a chunked body;
 * redirects off by default, followed when asked, a redirect loop; too many
 * headers; a connection closed without an answer; connection refused; bad
 * URLs, schemes, methods, header names and values (the value never shows in
 * the message), out-of-range options; user:password and the query never
 * show in messages; the handle is reused, per thread, and freed;
 * og_http_request_many ends each request as og_http_request does, and
 * caps the bodies of a batch together when asked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "net/http_client.h"
#include "../test.h"

/* ---- the server ------------------------------------------------------------ */

static int srv_fd = -1;
static int srv_port;
static atomic_int srv_stop;
static atomic_int srv_requests;
static pthread_t srv_thread;

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;			/* the client went away (timeouts, aborts) */
		p += w;
		n -= (size_t)w;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

static void respond(int fd, const char *status, const char *extra_headers, const char *body, size_t len)
{
	char head[16384];

	snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		 status, len, extra_headers ? extra_headers : "");
	send_str(fd, head);
	send_all(fd, body, len);
}

/* sleeps ms in small steps, returning early when the server stops */
static void srv_sleep(int ms)
{
	for (int i = 0; i < ms / 20 && !atomic_load(&srv_stop); i++)
		og_clock_sleep_ms(20);
}

static void serve(int fd)
{
	static char req[65536];
	size_t len = 0, body_len = 0, want;
	char *end = NULL, *cl, path[1024] = "", method[16] = "";
	struct timeval tv = { 2, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < sizeof(req) - 1) {			/* the head */
		ssize_t r = recv(fd, req + len, sizeof(req) - 1 - len, 0);
		if (r <= 0)
			return;
		len += (size_t)r;
		req[len] = '\0';
		if ((end = strstr(req, "\r\n\r\n")))
			break;
	}
	if (!end)
		return;
	if ((cl = strcasestr(req, "\r\ncontent-length:")) && cl < end)
		body_len = strtoul(cl + 17, NULL, 10);
	want = (size_t)(end + 4 - req) + body_len;
	while (len < want && len < sizeof(req) - 1) {	/* the body */
		ssize_t r = recv(fd, req + len, sizeof(req) - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	req[len] = '\0';
	atomic_fetch_add(&srv_requests, 1);
	sscanf(req, "%15s %1023s", method, path);

	if (!strcmp(path, "/ok")) {
		respond(fd, "200 OK", "Content-Type: text/plain\r\nX-Test: a\r\nX-TEST: b\r\n", "hello", 5);
	} else if (!strcmp(path, "/404")) {
		respond(fd, "404 Not Found", "Content-Type: text/plain\r\n", "nope", 4);
	} else if (!strncmp(path, "/echo", 5)) {
		/* the request as received, for the client's checks */
		respond(fd, "200 OK", "Content-Type: application/octet-stream\r\n", req, len);
	} else if (!strcmp(path, "/slow")) {
		srv_sleep(1500);
		respond(fd, "200 OK", NULL, "late", 4);
	} else if (!strcmp(path, "/big")) {
		static char big[100000];
		memset(big, 'x', sizeof(big));
		respond(fd, "200 OK", NULL, big, sizeof(big));
	} else if (!strcmp(path, "/chunked") || !strcmp(path, "/bigchunked")) {
		bool big = !strcmp(path, "/bigchunked");
		char chunk[600];
		send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
		for (int i = 1; i <= (big ? 10 : 3); i++) {
			if (big) {
				memset(chunk, 'y', 500);
				send_str(fd, "1f4\r\n");
				send_all(fd, chunk, 500);
				send_str(fd, "\r\n");
			} else {
				snprintf(chunk, sizeof(chunk), "6\r\nchunk%d\r\n", i);
				send_str(fd, chunk);
			}
		}
		send_str(fd, "0\r\n\r\n");
	} else if (!strcmp(path, "/redirect")) {
		respond(fd, "302 Found", "Location: /ok\r\n", "", 0);
	} else if (!strcmp(path, "/loop")) {
		respond(fd, "302 Found", "Location: /loop\r\n", "", 0);
	} else if (!strcmp(path, "/manyheaders")) {
		char h[8192] = "";
		size_t o = 0;
		for (int i = 0; i < 150; i++)
			o += (size_t)snprintf(h + o, sizeof(h) - o, "X-H%d: %d\r\n", i, i);
		respond(fd, "200 OK", h, "ok", 2);
	} else if (!strcmp(path, "/binary")) {
		respond(fd, "200 OK", NULL, "a\0b\xff", 4);
	} else if (!strcmp(path, "/close")) {
		/* no answer at all */
	} else {
		respond(fd, "400 Bad Request", NULL, "unknown path", 12);
	}
}

static void *srv_main(void *arg)
{
	(void)arg;
	/* bounded: the test stops the server; a poll wakes every 50 ms */
	while (!atomic_load(&srv_stop)) {
		struct pollfd p = { .fd = srv_fd, .events = POLLIN };
		int fd;
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((fd = accept(srv_fd, NULL, NULL)) < 0)
			continue;
		serve(fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

/* a socket bound to 127.0.0.1:0; *port gets the port */
static int bind_local(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || getsockname(fd, (struct sockaddr *)&a, &alen)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int srv_start(void)
{
	if ((srv_fd = bind_local(&srv_port)) < 0 || listen(srv_fd, 16))
		return -1;
	return pthread_create(&srv_thread, NULL, srv_main, NULL) ? -1 : 0;
}

static void srv_end(void)
{
	atomic_store(&srv_stop, 1);
	pthread_join(srv_thread, NULL);
	close(srv_fd);
}

/* ---- helpers ------------------------------------------------------------------ */

static char url_buf[512];

static const char *url(const char *path)
{
	snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", srv_port, path);
	return url_buf;
}

/* one request; returns its rc, res filled (release it) */
static int get(const char *path, struct og_http_response *res, struct og_err *err)
{
	struct og_http_request req = { .url = url(path) };
	return og_http_request(&req, res, err);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_ok_and_404(void)
{
	struct og_http_response res;
	struct og_err err = { 0 };
	int rc = get("/ok", &res, &err);

	CHECK_INT(rc, ==, 0);
	CHECK_INT(res.status, ==, 200);
	CHECK_INT(res.body_len, ==, 5);
	CHECK_STR(res.body, "hello");
	CHECK_STR(og_http_response_header(&res, "Content-Type"), "text/plain");
	CHECK_STR(og_http_response_header(&res, "x-test"), "a, b");	/* joined, in order */
	CHECK_INT(res.fail, ==, OG_HTTP_OK);
	CHECK(res.duration_ms >= 0 && res.duration_ms < 5000);
	bool lower = true;
	for (size_t i = 0; i < res.nheaders; i++)
		for (const char *p = res.headers[i].name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				lower = false;
	CHECK(lower);
	og_http_response_release(&res);
	CHECK(res.body == NULL && res.nheaders == 0);

	rc = get("/404", &res, &err);
	CHECK_INT(rc, ==, 0);				/* any status is a response */
	CHECK_INT(res.status, ==, 404);
	CHECK_STR(res.body, "nope");
	og_http_response_release(&res);

	struct og_http_request head = { .method = "HEAD", .url = url("/ok") };
	rc = og_http_request(&head, &res, &err);
	CHECK_INT(rc, ==, 0);
	CHECK_INT(res.status, ==, 200);
	CHECK_INT(res.body_len, ==, 0);
	CHECK(res.body && res.body[0] == '\0');
	og_http_response_release(&res);
	og_http_response_release(NULL);
}

static void test_echo(void)
{
	static const struct og_http_pair hdrs[] = {
		{ "X-Custom", "v1" }, { "Authorization", "Bearer s3cr3t" }, { "X-Empty", "" },
	};
	static const struct og_http_pair query[] = {
		{ "query", "up{job=\"a b\"}" }, { "a&b", "1=2" }, { "k", "" },
	};
	struct og_http_request req = {
		.method = "POST", .url = url("/echo?x=1"), .headers = hdrs, .nheaders = 3,
		.query = query, .nquery = 3, .body = "bin\0ary", .body_len = 7,
	};
	struct og_http_response res;
	struct og_err err = { 0 };
	int rc = og_http_request(&req, &res, &err);

	CHECK_INT(rc, ==, 0);
	CHECK_INT(res.status, ==, 200);
	static const char line1[] = "POST /echo?x=1&query=up%7Bjob%3D%22a%20b%22%7D&a%26b=1%3D2&k= HTTP/1.1\r\n";
	/* curl may write the percent-encoding hex in lower case */
	CHECK(res.body && !strncasecmp(res.body, line1, sizeof(line1) - 1));
	CHECK_CONTAINS(res.body, "\r\nX-Custom: v1\r\n");
	CHECK_CONTAINS(res.body, "\r\nAuthorization: Bearer s3cr3t\r\n");
	CHECK_CONTAINS(res.body, "\r\nX-Empty:\r\n");
	CHECK_CONTAINS(res.body, "\r\nUser-Agent: opsgraph\r\n");
	CHECK_CONTAINS(res.body, "\r\nContent-Length: 7\r\n");
	CHECK(!strcasestr(res.body, "Expect:"));
	CHECK(!strcasestr(res.body, "Content-Type:"));		/* none made up for the body */
	CHECK(res.body_len > 7 && !memcmp(res.body + res.body_len - 7, "bin\0ary", 7));
	og_http_response_release(&res);

	/* PUT without a body, DELETE, a user agent of the caller's */
	static const struct og_http_pair ua[] = { { "User-Agent", "probe/1" } };
	struct og_http_request put = { .method = "DELETE", .url = url("/echo"), .headers = ua, .nheaders = 1 };
	rc = og_http_request(&put, &res, &err);
	CHECK_INT(rc, ==, 0);
	CHECK(res.body && !strncmp(res.body, "DELETE /echo HTTP/1.1\r\n", 23));
	CHECK_CONTAINS(res.body, "\r\nUser-Agent: probe/1\r\n");
	CHECK(res.body && !strstr(res.body, "opsgraph"));
	og_http_response_release(&res);

	/* a binary response keeps its bytes */
	rc = get("/binary", &res, &err);
	CHECK_INT(rc, ==, 0);
	CHECK_INT(res.body_len, ==, 4);
	CHECK(res.body && !memcmp(res.body, "a\0b\xff", 4));
	og_http_response_release(&res);
}

static void test_limits(void)
{
	struct og_http_response res;
	struct og_err err = { 0 };
	int rc;

	/* the total timeout */
	struct og_http_request slow = { .url = url("/slow"), .timeout_ms = 300 };
	int64_t t0 = og_clock_mono_us();
	rc = og_http_request(&slow, &res, &err);
	int64_t took = (og_clock_mono_us() - t0) / 1000;
	CHECK_INT(rc, ==, -OG_EIO);
	CHECK_INT(res.fail, ==, OG_HTTP_TIMEOUT);
	CHECK_STR(og_http_fail_name(res.fail), "timeout");
	CHECK_CONTAINS(err.msg, "timed out after 300 ms");
	CHECK_CONTAINS(err.msg, "raise timeout_ms");
	CHECK(took >= 250 && took < 1400);
	CHECK(res.body == NULL);
	og_http_response_release(&res);

	/* Content-Length over max_bytes */
	struct og_http_request big = { .url = url("/big"), .max_bytes = 1000 };
	rc = og_http_request(&big, &res, &err);
	CHECK_INT(rc, ==, -OG_EIO);
	CHECK_INT(res.fail, ==, OG_HTTP_TOO_LARGE);
	CHECK_CONTAINS(err.msg, "GET http://127.0.0.1:");
	CHECK_CONTAINS(err.msg, "/big: the response body is larger than max_bytes (1000 bytes)");
	og_http_response_release(&res);

	/* a chunked body that grows past it: aborted mid-transfer */
	struct og_http_request bigc = { .url = url("/bigchunked"), .max_bytes = 1000 };
	rc = og_http_request(&bigc, &res, &err);
	CHECK_INT(rc, ==, -OG_EIO);
	CHECK_INT(res.fail, ==, OG_HTTP_TOO_LARGE);
	CHECK_STR(og_http_fail_name(res.fail), "too_large");
	og_http_response_release(&res);

	/* exactly max_bytes is fine, one less is not */
	struct og_http_request exact = { .url = url("/ok"), .max_bytes = 5 };
	CHECK_INT(og_http_request(&exact, &res, &err), ==, 0);
	CHECK_STR(res.body, "hello");
	og_http_response_release(&res);
	exact.max_bytes = 4;
	CHECK_INT(og_http_request(&exact, &res, &err), ==, -OG_EIO);
	CHECK_INT(res.fail, ==, OG_HTTP_TOO_LARGE);
	og_http_response_release(&res);

	/* a chunked body within the cap */
	rc = get("/chunked", &res, &err);
	CHECK_INT(rc, ==, 0);
	CHECK_STR(res.body, "chunk1chunk2chunk3");
	CHECK_STR(og_http_response_header(&res, "transfer-encoding"), "chunked");
	og_http_response_release(&res);

	/* too many headers */
	rc = get("/manyheaders", &res, &err);
	CHECK_INT(rc, ==, -OG_EIO);
	CHECK_INT(res.fail, ==, OG_HTTP_TOO_LARGE);
	CHECK_CONTAINS(err.msg, "more than 100 header lines");
	og_http_response_release(&res);

	/* a connection closed without an answer */
	rc = get("/close", &res, &err);
	CHECK_INT(rc, ==, -OG_EIO);
	CHECK_INT(res.fail, ==, OG_HTTP_OTHER);
	CHECK_CONTAINS(err.msg, "closed the connection without a response");
	og_http_response_release(&res);
}

static void test_redirects(void)
{
	struct og_http_response res;
	struct og_err err = { 0 };
	struct og_http_request req = { .url = url("/redirect") };
	int rc = og_http_request(&req, &res, &err);

	CHECK_INT(rc, ==, 0);				/* not followed by default */
	CHECK_INT(res.status, ==, 302);
	CHECK_STR(og_http_response_header(&res, "location"), "/ok");
	og_http_response_release(&res);

	req.follow_redirects = true;
	rc = og_http_request(&req, &res, &err);
	CHECK_INT(rc, ==, 0);
	CHECK_INT(res.status, ==, 200);
	CHECK_STR(res.body, "hello");
	CHECK(og_http_response_header(&res, "location") == NULL);	/* the last response's headers */
	CHECK_STR(og_http_response_header(&res, "x-test"), "a, b");
	og_http_response_release(&res);

	struct og_http_request loop = { .url = url("/loop"), .follow_redirects = true };
	int before = atomic_load(&srv_requests);
	rc = og_http_request(&loop, &res, &err);
	CHECK_INT(rc, ==, -OG_EIO);
	CHECK_INT(res.fail, ==, OG_HTTP_OTHER);
	CHECK_CONTAINS(err.msg, "more than 5 redirects");
	CHECK_INT(atomic_load(&srv_requests) - before, ==, 6);
	og_http_response_release(&res);
}

static void test_errors(void)
{
	struct og_http_response res;
	struct og_err err = { 0 };
	char want[256], u[256];
	int closed_port, fd = bind_local(&closed_port), rc;

	/* connection refused: a port that was bound, never listened on, closed */
	CHECK(fd >= 0);
	close(fd);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/api", closed_port);
	struct og_http_request req = { .url = u };
	rc = og_http_request(&req, &res, &err);
	CHECK_INT(rc, ==, -OG_EIO);
	CHECK_INT(res.fail, ==, OG_HTTP_CONNECT);
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%d/api: connection refused "
		 "(is the server running? check the URL)", closed_port);
	CHECK_STR(err.msg, want);
	og_http_response_release(&res);

	/* secrets in the URL stay out of messages */
	snprintf(u, sizeof(u), "http://bob:pa55word@127.0.0.1:%d/hook?token=t0ken#frag", closed_port);
	rc = og_http_request(&req, &res, &err);
	CHECK_INT(res.fail, ==, OG_HTTP_CONNECT);
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%d/hook: connection refused", closed_port);
	CHECK_CONTAINS(err.msg, want);
	CHECK(!strstr(err.msg, "pa55word") && !strstr(err.msg, "bob") && !strstr(err.msg, "t0ken"));
	og_http_response_release(&res);

	/* invalid requests: nothing is sent */
	int before = atomic_load(&srv_requests);
	struct { const char *method, *url, *want; } bad[] = {
		{ NULL, "ftp://127.0.0.1/x", "unsupported scheme 'ftp'" },
		{ NULL, "file:///etc/passwd", "unsupported scheme 'file'" },
		{ NULL, "not a url", "invalid URL" },
		{ NULL, "", "no URL given" },
		{ "FETCH", url("/ok"), "method not supported" },
		{ "get", url("/ok"), "method not supported" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct og_http_request b = { .method = bad[i].method, .url = bad[i].url };
		rc = og_http_request(&b, &res, &err);
		CHECK_INT(rc, ==, -OG_EINVAL);
		CHECK_INT(res.fail, ==, OG_HTTP_INVALID);
		CHECK_CONTAINS(err.msg, bad[i].want);
		og_http_response_release(&res);
	}
	struct og_http_request nourl = { 0 };
	CHECK_INT(og_http_request(&nourl, &res, &err), ==, -OG_EINVAL);
	CHECK_STR(og_http_fail_name(res.fail), "invalid");

	static const struct og_http_pair inj[] = { { "X-Token", "abc\r\nX-Evil: 1" } };
	struct og_http_request hb = { .url = url("/echo"), .headers = inj, .nheaders = 1 };
	rc = og_http_request(&hb, &res, &err);
	CHECK_INT(rc, ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "the value of header 'X-Token' holds a line break");
	CHECK(!strstr(err.msg, "abc") && !strstr(err.msg, "Evil"));	/* never the value */
	static const struct og_http_pair badname[] = { { "X Token", "v" } };
	hb.headers = badname;
	CHECK_INT(og_http_request(&hb, &res, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "header name 'X Token' is not a valid HTTP token");

	struct og_http_request opt = { .url = url("/ok"), .timeout_ms = 120001 };
	CHECK_INT(og_http_request(&opt, &res, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "timeout_ms must be between 1 and 120000 (got 120001)");
	opt.timeout_ms = 0;
	opt.max_bytes = OG_HTTP_MAX_BYTES_LIMIT + 1;
	CHECK_INT(og_http_request(&opt, &res, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "max_bytes must be between");
	struct og_http_request headbody = { .method = "HEAD", .url = url("/ok"), .body = "x", .body_len = 1 };
	CHECK_INT(og_http_request(&headbody, &res, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "a HEAD request has no body");
	CHECK_INT(atomic_load(&srv_requests), ==, before);
	og_http_response_release(&res);
}

static void *thread_get(void *arg)
{
	int *ok = arg;
	struct og_http_response res;

	for (int i = 0; i < 3; i++) {
		*ok += get("/ok", &res, NULL) == 0 && res.status == 200;
		og_http_response_release(&res);
	}
	og_http_thread_cleanup();
	og_http_thread_cleanup();			/* twice is fine */
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[2];
	int ok[2] = { 0, 0 };
	struct og_http_response res;

	for (int i = 0; i < 2; i++)
		CHECK_INT(pthread_create(&t[i], NULL, thread_get, &ok[i]), ==, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(ok[0] + ok[1], ==, 6);
	/* this thread's handle: freed, then made again */
	og_http_thread_cleanup();
	CHECK_INT(get("/ok", &res, NULL), ==, 0);
	og_http_response_release(&res);
}

/* og_http_request_many: every request ends exactly as og_http_request ends
 * it (status, body, fail kind, message), in the caller's order, whatever
 * max_parallel; a bad max_parallel fails every request. (Concurrency itself
 * is proven by tests/cli/http_many.sh against a server that answers only
 * once K requests are open at once.) */
static void test_many(void)
{
	enum { N = 8 };
	struct og_http_response one, res[N];
	struct og_err err1, errs[N];
	char refused[128];
	int closed_port, fd = bind_local(&closed_port);

	CHECK(fd >= 0);
	close(fd);
	snprintf(refused, sizeof(refused), "http://127.0.0.1:%d/api", closed_port);
	char u[6][128];
	snprintf(u[0], sizeof(u[0]), "%s", url("/ok"));
	snprintf(u[1], sizeof(u[1]), "%s", url("/404"));
	snprintf(u[2], sizeof(u[2]), "%s", url("/big"));
	snprintf(u[3], sizeof(u[3]), "%s", url("/binary"));
	snprintf(u[4], sizeof(u[4]), "%s", url("/slow"));
	snprintf(u[5], sizeof(u[5]), "%s", url("/echo/many"));
	const struct og_http_request reqs[N] = {
		{ .url = u[0] },
		{ .url = u[1] },
		{ .url = refused },
		{ .url = "ftp://127.0.0.1/x" },
		{ .url = u[2], .max_bytes = 1000 },
		{ .url = u[3] },
		{ .method = "PUT", .url = u[5], .body = "b\0dy", .body_len = 4 },
		{ .url = u[4], .timeout_ms = 300 },	/* last: the server is busy 1.5 s with it */
	};
	for (int par = 1; par <= 3; par += 2) {
		int n = par == 1 ? N - 1 : N;		/* /slow once: it holds the serial server */
		CHECK_INT(og_http_request_many(reqs, (size_t)n, res, par, 0, errs), ==, 0);
		for (int i = 0; i < n; i++) {
			int rc = og_http_request(&reqs[i], &one, &err1);
			CHECK_INT(res[i].fail, ==, one.fail);
			CHECK_INT(res[i].status, ==, one.status);
			CHECK_INT((long)res[i].body_len, ==, (long)one.body_len);
			if (rc) {
				CHECK_STR(errs[i].msg, err1.msg);
				CHECK_INT(errs[i].code, ==, rc);
				CHECK(!res[i].body);
			} else if (i != 6) {		/* /echo holds the request: the ports differ */
				CHECK(!memcmp(res[i].body, one.body, one.body_len));
			}
			og_http_response_release(&one);
		}
		CHECK_INT(res[0].status, ==, 200);
		CHECK_STR(res[0].body, "hello");
		CHECK_STR(og_http_response_header(&res[0], "x-test"), "a, b");
		CHECK_INT(res[1].status, ==, 404);
		CHECK_STR(og_http_fail_name(res[2].fail), "connect");
		CHECK_STR(og_http_fail_name(res[3].fail), "invalid");
		CHECK_STR(og_http_fail_name(res[4].fail), "too_large");
		CHECK_INT((long)res[5].body_len, ==, 4);
		CHECK_CONTAINS(res[6].body, "PUT /echo/many");
		if (n == N) {
			CHECK_STR(og_http_fail_name(res[7].fail), "timeout");
			CHECK_CONTAINS(errs[7].msg, "timed out after 300 ms");
		}
		for (int i = 0; i < n; i++)
			og_http_response_release(&res[i]);
	}

	CHECK_INT(og_http_request_many(reqs, 2, res, 33, 0, errs), ==, -OG_EINVAL);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(res[i].fail, ==, OG_HTTP_INVALID);
		CHECK_CONTAINS(errs[i].msg, "max_parallel must be between 1 and 32 (got 33)");
		CHECK_CONTAINS(errs[i].msg, "GET http://127.0.0.1");
		og_http_response_release(&res[i]);
	}
	CHECK_INT(og_http_request_many(reqs, 0, res, 0, 0, errs), ==, 0);

	/* a cap on the batch's bodies together: /big is 100000 bytes; one at a
	 * time, the first fits in 150000, the second would go over */
	struct og_http_request two[2] = { { .url = u[2] }, { .url = u[2] } };
	CHECK_INT(og_http_request_many(two, 2, res, 1, 150000, errs), ==, 0);
	CHECK_INT(res[0].fail, ==, OG_HTTP_OK);
	CHECK_INT((long)res[0].body_len, ==, 100000);
	CHECK_STR(og_http_fail_name(res[1].fail), "too_large");
	CHECK_CONTAINS(errs[1].msg, "the batch's response bodies together went over 150000 bytes");
	CHECK(!res[1].body);
	og_http_response_release(&res[0]);
	og_http_response_release(&res[1]);
}

int main(void)
{
	if (srv_start()) {
		fprintf(stderr, "cannot start the test server on 127.0.0.1: %s\n", strerror(errno));
		CHECK(0);
		TEST_END();
	}
	test_ok_and_404();
	test_echo();
	test_limits();
	test_redirects();
	test_errors();
	test_threads();
	test_many();
	og_http_thread_cleanup();
	srv_end();
	TEST_END();
}
