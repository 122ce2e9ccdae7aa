/*
 * http_client.h: a small, synchronous HTTP(S) client over libcurl's easy
 * interface, for the calls nodes make to Prometheus, Loki, Jaeger, Slack and
 * LLM APIs (ctx.http, engine/lua/lapi_http.c).
 *
 * Every request is bounded: a total timeout and a connect timeout, a cap on
 * the response body (the transfer is aborted as soon as it goes over), caps
 * on the number and size of response headers. Only http:// and https:// are
 * spoken; redirects are not followed unless asked (then at most 5); proxies
 * from the environment (http_proxy, ...) are ignored, only req->proxy is
 * used. No signals are used (CURLOPT_NOSIGNAL), so any thread may call.
 *
 * og_http_request_many performs a batch concurrently (curl multi), each
 * request treated exactly as og_http_request treats it.
 *
 * One CURL handle is kept per calling thread and reused (connections and DNS
 * answers are cached between calls); og_http_thread_cleanup frees it, and a
 * thread that exits frees it too. libcurl is initialized once per process,
 * on first use (pthread_once).
 *
 * Header values are never copied into error messages or logs: they may hold
 * tokens. URLs in messages lose their user:password@ and their query string.
 */
#ifndef OG_HTTP_CLIENT_H
#define OG_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

#define OG_HTTP_TIMEOUT_DEFAULT_MS 10000	/* timeout_ms when 0 */
#define OG_HTTP_TIMEOUT_MAX_MS 120000		/* longer timeouts are refused */
#define OG_HTTP_CONNECT_TIMEOUT_MS 5000		/* connect_timeout_ms when 0 (never above the total) */
#define OG_HTTP_MAX_BYTES_DEFAULT (4u << 20)	/* max_bytes when 0: 4 MiB */
#define OG_HTTP_MAX_BYTES_LIMIT (64u << 20)	/* larger caps are refused */
#define OG_HTTP_MAX_HEADERS 100			/* response header lines, per response */
#define OG_HTTP_MAX_HEADER_BYTES (64u << 10)	/* all response header lines together */
#define OG_HTTP_MAX_REDIRECTS 5			/* with follow_redirects */
#define OG_HTTP_PARALLEL_DEFAULT 8		/* og_http_request_many's max_parallel when 0 */
#define OG_HTTP_PARALLEL_MAX 32			/* larger max_parallel is refused */

/* Why a request failed; "ok" when it did not. Any HTTP status is a success. */
enum og_http_fail {
	OG_HTTP_OK = 0,
	OG_HTTP_TIMEOUT,	/* "timeout": the total or the connect timeout ran out */
	OG_HTTP_CONNECT,	/* "connect": refused or unreachable (no connection was made) */
	OG_HTTP_DNS,		/* "dns": the host (or proxy) name does not resolve */
	OG_HTTP_TOO_LARGE,	/* "too_large": body over max_bytes, or too many / too large headers */
	OG_HTTP_INVALID,	/* "invalid": bad URL, scheme, method, header name or value */
	OG_HTTP_TLS,		/* "tls": handshake or certificate failure */
	OG_HTTP_OTHER,		/* "other": anything else (closed without an answer, too many redirects, ...) */
};

/* "ok", "timeout", "connect", "dns", "too_large", "invalid", "tls", "other". */
const char *og_http_fail_name(enum og_http_fail f);

/* A header (name, value) or a query parameter (key, value). Borrowed. */
struct og_http_pair {
	const char *name;
	const char *value;
};

struct og_http_request {
	const char *method;		/* GET (NULL), HEAD, POST, PUT, PATCH, DELETE, OPTIONS */
	const char *url;		/* http:// or https:// */
	const struct og_http_pair *query; /* appended to the URL's query, percent-encoded, in order */
	size_t nquery;
	const struct og_http_pair *headers; /* sent as given, replacing curl's own of the same name */
	size_t nheaders;
	const char *body;		/* may hold NUL bytes; NULL = no body. No Content-Type is
					 * sent with it unless headers has one */
	size_t body_len;
	long timeout_ms;		/* 0 = OG_HTTP_TIMEOUT_DEFAULT_MS; 1..OG_HTTP_TIMEOUT_MAX_MS */
	long connect_timeout_ms;	/* 0 = OG_HTTP_CONNECT_TIMEOUT_MS; capped at timeout_ms */
	size_t max_bytes;		/* 0 = OG_HTTP_MAX_BYTES_DEFAULT; 1..OG_HTTP_MAX_BYTES_LIMIT */
	bool follow_redirects;		/* follow up to OG_HTTP_MAX_REDIRECTS */
	const char *proxy;		/* NULL or "" = no proxy (the environment is never read) */
};

/* A response header. Names are lower-cased; repeated headers are joined
 * with ", " into one entry, in arrival order. Owned by the response. */
struct og_http_header {
	char *name;
	char *value;
};

struct og_http_response {
	long status;			/* 200, 404, ...: the last response when redirects were followed */
	struct og_http_header *headers;
	size_t nheaders;
	char *body;			/* body_len bytes plus a NUL; never NULL after success */
	size_t body_len;
	int64_t duration_ms;		/* wall time of the whole call */
	enum og_http_fail fail;		/* OG_HTTP_OK, or why og_http_request failed */
};

/* Performs req and fills res (which it initializes first; release it with
 * og_http_response_release whatever the outcome). Returns 0 for any HTTP
 * status. Otherwise returns -OG_EINVAL (a bad request: res->fail is
 * OG_HTTP_INVALID), -OG_ENOMEM, or -OG_EIO (the transfer failed: res->fail
 * says how), and err reads like "GET http://127.0.0.1:9/api: connection
 * refused (is the server running? check the URL)". */
int og_http_request(const struct og_http_request *req, struct og_http_response *res,
		    struct og_err *err);

/* Performs reqs[0..n) concurrently over libcurl's multi interface, at most
 * max_parallel transfers at once (0 = OG_HTTP_PARALLEL_DEFAULT;
 * 1..OG_HTTP_PARALLEL_MAX); the others start as slots free up, in order.
 * Each request gets exactly what og_http_request would give it: the same
 * checks, limits and messages, its own timeout (counted from its own start),
 * res[i] filled as og_http_request fills it and, when it failed
 * (res[i].fail != OG_HTTP_OK), errs[i] set as og_http_request sets err.
 * res and errs have n elements; release every res[i] whatever the outcome.
 * max_total_bytes (0 = none) caps the response bodies of the whole batch
 * together, so that n requests cannot hold n times max_bytes: a transfer
 * whose data would go over it fails as OG_HTTP_TOO_LARGE, saying so (bytes
 * received are never given back, whatever becomes of their transfer).
 * Returns when all have ended: 0, or -OG_EINVAL (max_parallel out of
 * range), -OG_ENOMEM, -OG_EIO (libcurl unusable) when the batch could not
 * run at all, then every request failed with that reason. Connections are
 * not shared with the calling thread's og_http_request handle. */
int og_http_request_many(const struct og_http_request *reqs, size_t n, struct og_http_response *res,
			 int max_parallel, size_t max_total_bytes, struct og_err *errs);

/* url as messages and journals show it: without user:password@, ?query and
 * #fragment, control characters as '?', cut at about 200 bytes with "...".
 * cap >= 8. Returns out. */
const char *og_http_url_redact(const char *url, char *out, size_t cap);

/* The value of response header `name` (any case), or NULL. */
const char *og_http_response_header(const struct og_http_response *res, const char *name);

/* Frees what res holds and zeroes it. Accepts NULL. */
void og_http_response_release(struct og_http_response *res);

/* Frees the calling thread's CURL handle (a later request makes a new one).
 * Optional: a thread's handle is also freed when the thread exits. */
void og_http_thread_cleanup(void);

#endif
