/*
 * http_client.c: og_http_request over libcurl easy. See http_client.h for
 * the contract. One CURL handle per thread (reset between calls, so no
 * option leaks from one request into the next, while its connection and
 * DNS caches are kept); libcurl's global init runs once, under pthread_once.
 *
 * Limits are enforced by libcurl where it can (timeouts, redirects,
 * protocols, a Content-Length over max_bytes) and by the callbacks below
 * where it cannot (a chunked body growing past max_bytes, header count and
 * size): a callback that refuses data makes curl abort the transfer, and a
 * flag tells the failure apart from a real write error.
 */
#include "http_client.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../core/clock.h"

/* ---- process and thread state -------------------------------------------- */

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc = CURLE_FAILED_INIT;
static pthread_key_t http_key;
static int http_key_ok;
/* also kept here (not only under the key) so leak checkers see it reachable */
static _Thread_local CURL *http_tl_handle;

static void http_key_free(void *p)
{
	curl_easy_cleanup(p);
}

static void http_global_init(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	http_key_ok = pthread_key_create(&http_key, http_key_free) == 0;
}

/* The calling thread's handle, reset to defaults; NULL if libcurl failed. */
static CURL *http_handle(void)
{
	pthread_once(&http_once, http_global_init);
	if (http_global_rc != CURLE_OK)
		return NULL;
	if (http_tl_handle) {
		curl_easy_reset(http_tl_handle);
		return http_tl_handle;
	}
	if (!(http_tl_handle = curl_easy_init()))
		return NULL;
	if (http_key_ok)
		pthread_setspecific(http_key, http_tl_handle);
	return http_tl_handle;
}

void og_http_thread_cleanup(void)
{
	if (!http_tl_handle)
		return;
	if (http_key_ok)
		pthread_setspecific(http_key, NULL);
	curl_easy_cleanup(http_tl_handle);
	http_tl_handle = NULL;
}

const char *og_http_fail_name(enum og_http_fail f)
{
	static const char *const names[] = {
		[OG_HTTP_OK] = "ok", [OG_HTTP_TIMEOUT] = "timeout", [OG_HTTP_CONNECT] = "connect",
		[OG_HTTP_DNS] = "dns", [OG_HTTP_TOO_LARGE] = "too_large", [OG_HTTP_INVALID] = "invalid",
		[OG_HTTP_TLS] = "tls", [OG_HTTP_OTHER] = "other",
	};
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "other";
}

/* ---- response collection -------------------------------------------------- */

struct collect {
	struct og_http_response *res;
	size_t cap;			/* of res->body */
	size_t max_bytes;
	size_t hdr_cap;			/* of res->headers */
	size_t hdr_lines, hdr_bytes;	/* of the current response */
	size_t *batch_left;		/* og_http_request_many with a total cap: bytes the batch may still take */
	size_t batch_cap;
	bool body_too_large, hdr_too_large, batch_too_large, nomem;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct collect *c = ud;
	struct og_http_response *res = c->res;
	size_t n = size * nmemb;

	if (n > c->max_bytes - res->body_len) {
		c->body_too_large = true;
		return 0;			/* curl aborts with CURLE_WRITE_ERROR */
	}
	if (c->batch_left && n > *c->batch_left) {
		c->batch_too_large = true;
		return 0;
	}
	if (res->body_len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 16384;
		char *p;
		while (cap < res->body_len + n + 1)
			cap *= 2;
		if (cap > c->max_bytes + 1)
			cap = c->max_bytes + 1;
		if (!(p = realloc(res->body, cap))) {
			c->nomem = true;
			return 0;
		}
		res->body = p;
		c->cap = cap;
	}
	memcpy(res->body + res->body_len, data, n);
	res->body_len += n;
	if (c->batch_left)
		*c->batch_left -= n;
	res->body[res->body_len] = '\0';
	return n;
}

static void headers_clear(struct og_http_response *res)
{
	size_t i;

	for (i = 0; i < res->nheaders; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	res->nheaders = 0;
}

/* appends ", " (or " " for a folded line) and v[0..n) to *dst */
static int append_value(char **dst, const char *sep, const char *v, size_t n)
{
	size_t old = strlen(*dst), sl = strlen(sep);
	char *p = realloc(*dst, old + sl + n + 1);

	if (!p)
		return -1;
	memcpy(p + old, sep, sl);
	memcpy(p + old + sl, v, n);
	p[old + sl + n] = '\0';
	*dst = p;
	return 0;
}

static int header_add(struct collect *c, const char *line, size_t n)
{
	struct og_http_response *res = c->res;
	const char *colon = memchr(line, ':', n), *v;
	size_t nlen, vlen, i;
	char *name;

	if (!colon || colon == line)
		return 0;			/* not a header: ignore */
	nlen = (size_t)(colon - line);
	v = colon + 1;
	vlen = n - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (i = 0; i < res->nheaders; i++)
		if (strlen(res->headers[i].name) == nlen && !strncasecmp(res->headers[i].name, line, nlen))
			return append_value(&res->headers[i].value, ", ", v, vlen);
	if (res->nheaders == c->hdr_cap) {
		size_t cap = c->hdr_cap ? c->hdr_cap * 2 : 16;
		struct og_http_header *p = realloc(res->headers, cap * sizeof(*p));
		if (!p)
			return -1;
		res->headers = p;
		c->hdr_cap = cap;
	}
	if (!(name = malloc(nlen + 1)))
		return -1;
	for (i = 0; i < nlen; i++)
		name[i] = (char)tolower((unsigned char)line[i]);
	name[nlen] = '\0';
	if (!(res->headers[res->nheaders].value = strndup(v, vlen))) {
		free(name);
		return -1;
	}
	res->headers[res->nheaders++].name = name;
	return 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct collect *c = ud;
	size_t n = size * nmemb, len = n;

	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		/* a new response (after a 1xx or a followed redirect): start over */
		headers_clear(c->res);
		c->hdr_lines = 0;
		c->hdr_bytes = n;
		return n;
	}
	if (!len)
		return n;			/* the blank line that ends the headers */
	c->hdr_bytes += n;
	if (++c->hdr_lines > OG_HTTP_MAX_HEADERS || c->hdr_bytes > OG_HTTP_MAX_HEADER_BYTES) {
		c->hdr_too_large = true;
		return 0;
	}
	if ((data[0] == ' ' || data[0] == '\t') && c->res->nheaders) {
		/* obsolete line folding: continues the last header's value */
		size_t i = 0;
		while (i < len && (data[i] == ' ' || data[i] == '\t'))
			i++;
		if (append_value(&c->res->headers[c->res->nheaders - 1].value, " ", data + i, len - i)) {
			c->nomem = true;
			return 0;
		}
		return n;
	}
	if (header_add(c, data, len)) {
		c->nomem = true;
		return 0;
	}
	return n;
}

/* ---- request checks --------------------------------------------------------- */

const char *og_http_url_redact(const char *url, char *out, size_t cap)
{
	const char *p = url ? url : "", *auth = strstr(p, "://"), *at, *end;
	size_t o = 0;

	if (auth) {
		auth += 3;
		end = auth + strcspn(auth, "/?#");
		at = memchr(auth, '@', (size_t)(end - auth));
		while (at && memchr(at + 1, '@', (size_t)(end - at - 1)))
			at = memchr(at + 1, '@', (size_t)(end - at - 1));
		if (at) {
			size_t pre = (size_t)(auth - p);
			if (pre > 40)
				pre = 40;
			if (pre > cap / 2)
				pre = cap / 2;
			for (; o < pre; o++)
				out[o] = (unsigned char)p[o] < 0x20 || p[o] == 0x7f ? '?' : p[o];
			p = at + 1;
		}
	}
	for (; *p && *p != '?' && *p != '#' && o + 4 < cap && o < 200; p++)
		out[o++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
	if (*p && *p != '?' && *p != '#')
		out[o++] = '.', out[o++] = '.', out[o++] = '.';
	out[o] = '\0';
	return out;
}

static bool method_ok(const char *m)
{
	static const char *const ok[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL };
	int i;

	for (i = 0; ok[i]; i++)
		if (!strcmp(m, ok[i]))
			return true;
	return false;
}

/* RFC 9110 token characters */
static bool token_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* ---- the request ------------------------------------------------------------ */

/* the full URL with the query appended, curl_free() it; NULL and err set on failure */
static char *build_url(CURL *h, const struct og_http_request *req, const char *pre, char **host,
		       struct og_err *err)
{
	CURLU *u = curl_url();
	CURLUcode uc;
	char *scheme = NULL, *full = NULL;
	size_t i;

	if (!u) {
		og_err_set(err, -OG_ENOMEM, "%s: out of memory", pre);
		return NULL;
	}
	if ((uc = curl_url_set(u, CURLUPART_URL, req->url, 0)) != CURLUE_OK) {
		og_err_set(err, -OG_EINVAL, "%s: invalid URL: %s (write it as http://host[:port]/path)",
			   pre, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		og_err_set(err, -OG_EINVAL, "%s: unsupported scheme '%s' (only http:// and https:// are allowed)",
			   pre, scheme ? scheme : "?");
		goto out;
	}
	for (i = 0; i < req->nquery; i++) {
		const struct og_http_pair *q = &req->query[i];
		char *k, *v, *kv;
		size_t len;

		if (!q->name || !q->value) {
			og_err_set(err, -OG_EINVAL, "%s: query parameter %zu has no %s", pre, i + 1,
				   q->name ? "value" : "name");
			goto out;
		}
		k = curl_easy_escape(h, q->name, (int)strlen(q->name));
		v = curl_easy_escape(h, q->value, (int)strlen(q->value));
		len = (k ? strlen(k) : 0) + (v ? strlen(v) : 0) + 2;
		kv = k && v ? malloc(len) : NULL;
		if (kv)
			snprintf(kv, len, "%s=%s", k, v);
		curl_free(k);
		curl_free(v);
		if (!kv) {
			og_err_set(err, -OG_ENOMEM, "%s: out of memory", pre);
			goto out;
		}
		uc = curl_url_set(u, CURLUPART_QUERY, kv, CURLU_APPENDQUERY);
		free(kv);
		if (uc != CURLUE_OK) {
			og_err_set(err, -OG_EINVAL, "%s: query parameter '%s': %s", pre, q->name,
				   curl_url_strerror(uc));
			goto out;
		}
	}
	if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
		*host = NULL;
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
		og_err_set(err, -OG_EINVAL, "%s: invalid URL", pre);
		full = NULL;
	}
out:
	curl_free(scheme);
	curl_url_cleanup(u);
	return full;
}

static bool is_tls_error(CURLcode c)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return true;
	default:
		return false;
	}
}

/* ---- one transfer: set up, result, release ----------------------------------
 *
 * og_http_request and og_http_request_many give every request the same
 * treatment through these four steps; only who performs the transfer
 * differs (curl_easy_perform, or a multi handle). A transfer lives in one
 * place from prepare to end: curl keeps pointers to its collect and errbuf.
 */

struct xfer {
	const struct og_http_request *req;
	struct og_http_response *res;
	struct og_err *err;
	struct collect col;
	struct curl_slist *hdrs;
	char *full, *host;		/* curl_free()d by xfer_end */
	const char *method;
	bool has_ua;
	long timeout, connect_timeout;
	int64_t t0;			/* when the transfer started */
	CURL *h;
	int rc;				/* og_http_request_many's outcome of this one */
	char pre[300];			/* "GET http://host/path", for messages */
	char errbuf[CURL_ERROR_SIZE];
};

static int xfer_fail(struct xfer *x, enum og_http_fail kind, int rc)
{
	x->res->fail = kind;
	return rc;
}

#define FAIL(kind, code, ...) return xfer_fail(x, (kind), og_err_set(x->err, (code), __VA_ARGS__))

/* checks req and builds its header list; no curl handle needed yet */
static int xfer_prepare(struct xfer *x, const struct og_http_request *req, struct og_http_response *res,
			struct og_err *err)
{
	const char *method = req && req->method ? req->method : "GET";
	bool has_expect = false, has_ct = false;
	struct curl_slist *tmp;
	char shown[256];
	size_t i;

	memset(x, 0, sizeof(*x));
	memset(res, 0, sizeof(*res));
	x->req = req;
	x->res = res;
	x->err = err;
	x->method = method;
	x->col.res = res;
	if (!req || !req->url || !*req->url)
		FAIL(OG_HTTP_INVALID, -OG_EINVAL, "%s: no URL given (pass url = \"http://host/path\")", method);
	og_http_url_redact(req->url, shown, sizeof(shown));
	snprintf(x->pre, sizeof(x->pre), "%.16s %s", method, shown);
	if (!method_ok(method))
		FAIL(OG_HTTP_INVALID, -OG_EINVAL,
		     "%s: method not supported (use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS)", x->pre);
	x->timeout = req->timeout_ms ? req->timeout_ms : OG_HTTP_TIMEOUT_DEFAULT_MS;
	if (x->timeout < 1 || x->timeout > OG_HTTP_TIMEOUT_MAX_MS)
		FAIL(OG_HTTP_INVALID, -OG_EINVAL, "%s: timeout_ms must be between 1 and %d (got %ld)", x->pre,
		     OG_HTTP_TIMEOUT_MAX_MS, x->timeout);
	x->connect_timeout = req->connect_timeout_ms ? req->connect_timeout_ms : OG_HTTP_CONNECT_TIMEOUT_MS;
	if (x->connect_timeout < 1 || x->connect_timeout > OG_HTTP_TIMEOUT_MAX_MS)
		FAIL(OG_HTTP_INVALID, -OG_EINVAL, "%s: connect_timeout_ms must be between 1 and %d (got %ld)",
		     x->pre, OG_HTTP_TIMEOUT_MAX_MS, x->connect_timeout);
	if (x->connect_timeout > x->timeout)
		x->connect_timeout = x->timeout;
	x->col.max_bytes = req->max_bytes ? req->max_bytes : OG_HTTP_MAX_BYTES_DEFAULT;
	if (x->col.max_bytes > OG_HTTP_MAX_BYTES_LIMIT)
		FAIL(OG_HTTP_INVALID, -OG_EINVAL, "%s: max_bytes must be between 1 and %u (got %zu)", x->pre,
		     OG_HTTP_MAX_BYTES_LIMIT, x->col.max_bytes);
	if (!strcmp(method, "HEAD") && req->body)
		FAIL(OG_HTTP_INVALID, -OG_EINVAL, "%s: a HEAD request has no body (drop body or use another method)",
		     x->pre);

	for (i = 0; i < req->nheaders; i++) {
		const char *n = req->headers[i].name, *v = req->headers[i].value;
		size_t len;
		char *line;

		if (!n || !token_ok(n))
			FAIL(OG_HTTP_INVALID, -OG_EINVAL,
			     "%s: header name '%.64s' is not a valid HTTP token (letters, digits and !#$%%&'*+-.^_`|~)",
			     x->pre, n ? n : "(null)");
		if (!v)
			v = "";
		if (strpbrk(v, "\r\n"))
			/* the value itself is never shown: it may be a token */
			FAIL(OG_HTTP_INVALID, -OG_EINVAL,
			     "%s: the value of header '%s' holds a line break (CR or LF); remove it", x->pre, n);
		if (!strcasecmp(n, "expect"))
			has_expect = true;
		if (!strcasecmp(n, "user-agent"))
			x->has_ua = true;
		if (!strcasecmp(n, "content-type"))
			has_ct = true;
		len = strlen(n) + strlen(v) + 3;
		if (!(line = malloc(len)))
			FAIL(OG_HTTP_OTHER, -OG_ENOMEM, "%s: out of memory", x->pre);
		if (*v)
			snprintf(line, len, "%s: %s", n, v);
		else
			snprintf(line, len, "%s;", n);	/* curl's way to send an empty value */
		tmp = curl_slist_append(x->hdrs, line);
		free(line);
		if (!tmp)
			FAIL(OG_HTTP_OTHER, -OG_ENOMEM, "%s: out of memory", x->pre);
		x->hdrs = tmp;
	}
	if (!has_expect) {
		/* no "Expect: 100-continue" wait before large bodies */
		if (!(tmp = curl_slist_append(x->hdrs, "Expect:")))
			FAIL(OG_HTTP_OTHER, -OG_ENOMEM, "%s: out of memory", x->pre);
		x->hdrs = tmp;
	}
	if (!has_ct && req->body) {
		/* no made-up "application/x-www-form-urlencoded" for a body of unknown type */
		if (!(tmp = curl_slist_append(x->hdrs, "Content-Type:")))
			FAIL(OG_HTTP_OTHER, -OG_ENOMEM, "%s: out of memory", x->pre);
		x->hdrs = tmp;
	}
	return 0;
}

/* sets the prepared request on h (NULL: libcurl failed), ready to perform */
static int xfer_attach(struct xfer *x, CURL *h)
{
	const struct og_http_request *req = x->req;
	const char *method = x->method;
	CURLcode cc = CURLE_OK;

	if (!(x->h = h))
		FAIL(OG_HTTP_OTHER, -OG_EIO, "%s: libcurl could not be initialized", x->pre);
	if (!(x->full = build_url(h, req, x->pre, &x->host, x->err)))
		return xfer_fail(x, x->err && x->err->code == -OG_ENOMEM ? OG_HTTP_OTHER : OG_HTTP_INVALID,
				 x->err ? x->err->code : -OG_EINVAL);

#define SET(opt, val) do { if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, val); } while (0)
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_URL, x->full);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, req->proxy ? req->proxy : "");
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_TIMEOUT_MS, x->timeout);
	SET(CURLOPT_CONNECTTIMEOUT_MS, x->connect_timeout);
	SET(CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	SET(CURLOPT_MAXREDIRS, (long)OG_HTTP_MAX_REDIRECTS);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->col.max_bytes);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, &x->col);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, &x->col);
	SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	SET(CURLOPT_HTTPHEADER, x->hdrs);
	SET(CURLOPT_PRIVATE, x);
	if (!x->has_ua)
		SET(CURLOPT_USERAGENT, "opsgraph");
	if (!strcmp(method, "HEAD")) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (req->body || !strcmp(method, "POST")) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
		SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
		if (strcmp(method, "POST"))
			SET(CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET")) {
		SET(CURLOPT_CUSTOMREQUEST, method);
	}
#undef SET
	if (cc != CURLE_OK)
		FAIL(OG_HTTP_INVALID, -OG_EINVAL, "%s: %s", x->pre, curl_easy_strerror(cc));
	x->t0 = og_clock_mono_us();
	return 0;
}

/* maps the transfer's end (cc) to the response or to an error */
static int xfer_result(struct xfer *x, CURLcode cc)
{
	struct og_http_response *res = x->res;
	const char *pre = x->pre, *errbuf = x->errbuf;
	long os_errno = 0;

	res->duration_ms = (og_clock_mono_us() - x->t0) / 1000;
	curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &os_errno);
	if (x->col.nomem)
		FAIL(OG_HTTP_OTHER, -OG_ENOMEM, "%s: out of memory while reading the response", pre);
	if (x->col.body_too_large || cc == CURLE_FILESIZE_EXCEEDED)
		FAIL(OG_HTTP_TOO_LARGE, -OG_EIO,
		     "%s: the response body is larger than max_bytes (%zu bytes); raise max_bytes (at most %u MiB) "
		     "or ask for less (a narrower query, a limit)", pre, x->col.max_bytes, OG_HTTP_MAX_BYTES_LIMIT >> 20);
	if (x->col.batch_too_large)
		FAIL(OG_HTTP_TOO_LARGE, -OG_EIO,
		     "%s: the batch's response bodies together went over %zu bytes (what its caller may hold); "
		     "ask for less (a narrower query, a limit, a lower max_bytes) or split the batch", pre,
		     x->col.batch_cap);
	if (x->col.hdr_too_large)
		FAIL(OG_HTTP_TOO_LARGE, -OG_EIO,
		     "%s: the response has more than %d header lines or %u bytes of headers; "
		     "is this the right server?", pre, OG_HTTP_MAX_HEADERS, OG_HTTP_MAX_HEADER_BYTES);
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT: {
		curl_off_t connected = 0;
		curl_easy_getinfo(x->h, CURLINFO_CONNECT_TIME_T, &connected);
		if (!connected && res->duration_ms < x->timeout)
			FAIL(OG_HTTP_TIMEOUT, -OG_EIO,
			     "%s: could not connect within %ld ms (is the host up and reachable? "
			     "raise connect_timeout_ms if it is slow)", pre, x->connect_timeout);
		FAIL(OG_HTTP_TIMEOUT, -OG_EIO,
		     "%s: timed out after %ld ms (the server did not finish in time; raise timeout_ms, "
		     "up to %d, or check the server)", pre, x->timeout, OG_HTTP_TIMEOUT_MAX_MS);
	}
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED)
			FAIL(OG_HTTP_CONNECT, -OG_EIO,
			     "%s: connection refused (is the server running? check the URL)", pre);
		FAIL(OG_HTTP_CONNECT, -OG_EIO, "%s: cannot connect: %s (check the URL and the network)", pre,
		     os_errno ? strerror((int)os_errno) : errbuf[0] ? errbuf : curl_easy_strerror(cc));
	case CURLE_COULDNT_RESOLVE_HOST:
		FAIL(OG_HTTP_DNS, -OG_EIO, "%s: cannot resolve host '%.128s' (check the host name and DNS)", pre,
		     x->host ? x->host : "?");
	case CURLE_COULDNT_RESOLVE_PROXY:
		FAIL(OG_HTTP_DNS, -OG_EIO, "%s: cannot resolve the proxy's host (check the proxy setting)", pre);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		FAIL(OG_HTTP_INVALID, -OG_EINVAL, "%s: %s (only http:// and https:// URLs are allowed)", pre,
		     errbuf[0] ? errbuf : curl_easy_strerror(cc));
	case CURLE_TOO_MANY_REDIRECTS:
		FAIL(OG_HTTP_OTHER, -OG_EIO, "%s: more than %d redirects (check the URL; is it a redirect loop?)",
		     pre, OG_HTTP_MAX_REDIRECTS);
	case CURLE_GOT_NOTHING:
		FAIL(OG_HTTP_OTHER, -OG_EIO,
		     "%s: the server closed the connection without a response (is it an HTTP server? "
		     "http:// on an https:// port?)", pre);
	case CURLE_OUT_OF_MEMORY:
		FAIL(OG_HTTP_OTHER, -OG_ENOMEM, "%s: out of memory", pre);
	default:
		if (is_tls_error(cc))
			FAIL(OG_HTTP_TLS, -OG_EIO,
			     "%s: TLS failed: %s (check the certificate, the host name and the CA bundle)", pre,
			     errbuf[0] ? errbuf : curl_easy_strerror(cc));
		FAIL(OG_HTTP_OTHER, -OG_EIO, "%s: %s", pre, errbuf[0] ? errbuf : curl_easy_strerror(cc));
	}
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &res->status);
	if (!res->body && !(res->body = calloc(1, 1)))
		FAIL(OG_HTTP_OTHER, -OG_ENOMEM, "%s: out of memory", pre);
	return 0;
}

/* frees what the transfer holds (not its handle); on failure (rc) the
 * response keeps only duration_ms and fail. Returns rc. */
static int xfer_end(struct xfer *x, int rc)
{
	curl_slist_free_all(x->hdrs);
	curl_free(x->full);
	curl_free(x->host);
	x->hdrs = NULL;
	x->full = x->host = NULL;
	if (rc) {
		int64_t d = x->res->duration_ms;
		enum og_http_fail f = x->res->fail;
		og_http_response_release(x->res);
		x->res->duration_ms = d;
		x->res->fail = f;
	}
	return rc;
}

#undef FAIL

int og_http_request(const struct og_http_request *req, struct og_http_response *res,
		    struct og_err *err)
{
	struct xfer x;
	int rc = xfer_prepare(&x, req, res, err);

	if (!rc)
		rc = xfer_attach(&x, http_handle());
	if (!rc)
		rc = xfer_result(&x, curl_easy_perform(x.h));
	return xfer_end(&x, rc);
}

/* ---- many at once -------------------------------------------------------------- */

/* every request of the batch fails with the same message, as the call
 * itself could not run (bad max_parallel, no memory, libcurl broken) */
static int fail_all(const struct og_http_request *reqs, size_t n, struct og_http_response *res,
		    struct og_err *errs, enum og_http_fail kind, int code, const char *why)
{
	char shown[256];
	size_t i;

	for (i = 0; i < n; i++) {
		const char *m = reqs[i].method ? reqs[i].method : "GET";
		memset(&res[i], 0, sizeof(res[i]));
		res[i].fail = kind;
		og_err_set(&errs[i], code, "%.16s %s: %s", m, og_http_url_redact(reqs[i].url, shown, sizeof(shown)),
			   why);
	}
	return code;
}

/* starts x on the multi handle; its failure is x's own */
static void many_start(CURLM *m, struct xfer *x)
{
	if (!(x->rc = xfer_attach(x, curl_easy_init())) && curl_multi_add_handle(m, x->h) != CURLM_OK)
		x->rc = xfer_fail(x, OG_HTTP_OTHER,
				  og_err_set(x->err, -OG_EIO, "%s: libcurl could not start the transfer", x->pre));
	if (x->rc) {
		curl_easy_cleanup(x->h);	/* accepts NULL */
		x->h = NULL;
	}
}

int og_http_request_many(const struct og_http_request *reqs, size_t n, struct og_http_response *res,
			 int max_parallel, size_t max_total_bytes, struct og_err *errs)
{
	struct xfer *xs = NULL;
	CURLM *m = NULL;
	size_t next = 0, active = 0, i, bytes_left = max_total_bytes;
	CURLMcode mc = CURLM_OK;

	if (!n)
		return 0;
	if (!max_parallel)
		max_parallel = OG_HTTP_PARALLEL_DEFAULT;
	if (max_parallel < 1 || max_parallel > OG_HTTP_PARALLEL_MAX) {
		char why[120];
		snprintf(why, sizeof(why), "max_parallel must be between 1 and %d (got %d)", OG_HTTP_PARALLEL_MAX,
			 max_parallel);
		return fail_all(reqs, n, res, errs, OG_HTTP_INVALID, -OG_EINVAL, why);
	}
	pthread_once(&http_once, http_global_init);
	if (http_global_rc != CURLE_OK)
		return fail_all(reqs, n, res, errs, OG_HTTP_OTHER, -OG_EIO, "libcurl could not be initialized");
	if (!(xs = calloc(n, sizeof(*xs))) || !(m = curl_multi_init())) {
		free(xs);
		return fail_all(reqs, n, res, errs, OG_HTTP_OTHER, -OG_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		og_err_clear(&errs[i]);
		xs[i].rc = xfer_prepare(&xs[i], &reqs[i], &res[i], &errs[i]);
		if (max_total_bytes) {
			xs[i].col.batch_left = &bytes_left;
			xs[i].col.batch_cap = max_total_bytes;
		}
	}

	for (;;) {
		int running = 0, left, ended = 0;
		CURLMsg *msg;

		/* at most max_parallel at once; each one's timeout runs from its start */
		for (; next < n && active < (size_t)max_parallel; next++) {
			if (xs[next].rc)
				continue;		/* refused by xfer_prepare: never started */
			many_start(m, &xs[next]);
			if (!xs[next].rc)
				active++;
		}
		if (!active)
			break;
		if ((mc = curl_multi_perform(m, &running)) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left))) {
			struct xfer *x;
			char *priv = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			x = (struct xfer *)(void *)priv;
			x->rc = xfer_result(x, msg->data.result);
			curl_multi_remove_handle(m, x->h);
			curl_easy_cleanup(x->h);
			x->h = NULL;
			active--;
			ended++;
		}
		if (!ended && (mc = curl_multi_poll(m, NULL, 0, 1000, NULL)) != CURLM_OK)
			break;
	}
	for (i = 0; i < n; i++) {
		struct xfer *x = &xs[i];
		if (x->h) {			/* the multi handle broke mid-way: x never ended */
			curl_multi_remove_handle(m, x->h);
			curl_easy_cleanup(x->h);
			x->h = NULL;
			x->rc = xfer_fail(x, OG_HTTP_OTHER, og_err_set(x->err, -OG_EIO, "%s: %s", x->pre,
								       curl_multi_strerror(mc)));
		} else if (!x->rc && i >= next) {
			x->rc = xfer_fail(x, OG_HTTP_OTHER, og_err_set(x->err, -OG_EIO, "%s: not started: %s",
								       x->pre, curl_multi_strerror(mc)));
		}
		xfer_end(x, x->rc);
	}
	curl_multi_cleanup(m);
	free(xs);
	return 0;
}

const char *og_http_response_header(const struct og_http_response *res, const char *name)
{
	size_t i;

	for (i = 0; res && i < res->nheaders; i++)
		if (!strcasecmp(res->headers[i].name, name))
			return res->headers[i].value;
	return NULL;
}

void og_http_response_release(struct og_http_response *res)
{
	if (!res)
		return;
	headers_clear(res);
	free(res->headers);
	free(res->body);
	memset(res, 0, sizeof(*res));
}
