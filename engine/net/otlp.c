/*
 * otlp.c: the OTLP/HTTP JSON wire form of spans and its POST (see otlp.h).
 * int64 values are written as decimal strings, as the protobuf JSON
 * mapping wants, so no receiver rounds a nanosecond timestamp through a
 * double.
 */
#include "otlp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "http_client.h"

#define OTLP_MAX_HEADERS 16

static void hex(char *out, const uint8_t *b, int n)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

static void add_i64_string(cJSON *o, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	cJSON_AddStringToObject(o, key, buf);
}

cJSON *og_otlp_span_new(const uint8_t trace[16], const uint8_t id[8], const uint8_t *parent, const char *name,
			enum og_otlp_kind kind, int64_t start_ns, int64_t end_ns)
{
	cJSON *s = cJSON_CreateObject();
	char buf[33];

	if (!s)
		return NULL;
	hex(buf, trace, 16);
	cJSON_AddStringToObject(s, "traceId", buf);
	hex(buf, id, 8);
	cJSON_AddStringToObject(s, "spanId", buf);
	if (parent) {
		hex(buf, parent, 8);
		cJSON_AddStringToObject(s, "parentSpanId", buf);
	}
	cJSON_AddStringToObject(s, "name", name);
	cJSON_AddNumberToObject(s, "kind", kind);
	add_i64_string(s, "startTimeUnixNano", start_ns);
	add_i64_string(s, "endTimeUnixNano", end_ns < start_ns ? start_ns : end_ns);
	cJSON_AddArrayToObject(s, "attributes");
	if (!cJSON_GetObjectItemCaseSensitive(s, "attributes")) {
		cJSON_Delete(s);
		return NULL;
	}
	return s;
}

/* {key, value: {}} appended to the span's attributes; the value object. */
static cJSON *attr(cJSON *span, const char *key)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(span, "attributes"), *a = cJSON_CreateObject(), *v;

	if (!a)
		return NULL;
	cJSON_AddStringToObject(a, "key", key);
	v = cJSON_AddObjectToObject(a, "value");
	if (!v || !cJSON_AddItemToArray(list, a)) {
		cJSON_Delete(a);
		return NULL;
	}
	return v;
}

void og_otlp_attr_str(cJSON *span, const char *key, const char *v)
{
	cJSON *o = attr(span, key);

	if (o)
		cJSON_AddStringToObject(o, "stringValue", v ? v : "");
}

void og_otlp_attr_int(cJSON *span, const char *key, int64_t v)
{
	cJSON *o = attr(span, key);

	if (o)
		add_i64_string(o, "intValue", v);
}

void og_otlp_attr_double(cJSON *span, const char *key, double v)
{
	cJSON *o = attr(span, key);

	if (o)
		cJSON_AddNumberToObject(o, "doubleValue", v);
}

void og_otlp_attr_bool(cJSON *span, const char *key, bool v)
{
	cJSON *o = attr(span, key);

	if (o)
		cJSON_AddBoolToObject(o, "boolValue", v);
}

void og_otlp_status(cJSON *span, enum og_otlp_status code, const char *msg)
{
	cJSON *st = cJSON_CreateObject();

	if (!st)
		return;
	cJSON_AddNumberToObject(st, "code", code);
	if (code == OG_OTLP_ERROR && msg)
		cJSON_AddStringToObject(st, "message", msg);
	cJSON_DeleteItemFromObjectCaseSensitive(span, "status");
	cJSON_AddItemToObject(span, "status", st);
}

cJSON *og_otlp_request(const char *service, const char *scope, cJSON *spans)
{
	cJSON *root = cJSON_CreateObject(), *rs, *res, *ss, *sc, *sv, *a;

	if (!root || !(rs = cJSON_AddArrayToObject(root, "resourceSpans")))
		goto oom;
	if (!(res = cJSON_CreateObject()) || !cJSON_AddItemToArray(rs, res)) {
		cJSON_Delete(res);
		goto oom;
	}
	if (!(sc = cJSON_AddObjectToObject(res, "resource")) || !(a = cJSON_AddArrayToObject(sc, "attributes")))
		goto oom;
	{
		cJSON *kv = cJSON_CreateObject(), *v;
		if (!kv || !cJSON_AddItemToArray(a, kv)) {
			cJSON_Delete(kv);
			goto oom;
		}
		cJSON_AddStringToObject(kv, "key", "service.name");
		if ((v = cJSON_AddObjectToObject(kv, "value")))
			cJSON_AddStringToObject(v, "stringValue", service);
	}
	if (!(ss = cJSON_AddArrayToObject(res, "scopeSpans")) || !(sv = cJSON_CreateObject()) ||
	    !cJSON_AddItemToArray(ss, sv))
		goto oom;
	if (!(sc = cJSON_AddObjectToObject(sv, "scope")))
		goto oom;
	cJSON_AddStringToObject(sc, "name", scope);
	cJSON_AddItemToObject(sv, "spans", spans);
	return root;
oom:
	cJSON_Delete(spans);
	cJSON_Delete(root);
	return NULL;
}

int og_otlp_config_check(const cJSON *conf, struct og_err *err)
{
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(conf, "endpoint");
	const cJSON *hd = cJSON_GetObjectItemCaseSensitive(conf, "headers");
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(conf, "timeout_ms");
	const cJSON *sn = cJSON_GetObjectItemCaseSensitive(conf, "service_name");
	const cJSON *h;

	if (!cJSON_IsObject(conf))
		return og_err_set(err, -OG_EINVAL, "config otlp: an object {\"endpoint\": \"http://127.0.0.1:4318\", "
				  "\"headers\": {...}} is expected");
	if (!cJSON_IsString(ep) || (strncmp(ep->valuestring, "http://", 7) && strncmp(ep->valuestring, "https://", 8)) ||
	    strlen(ep->valuestring) > 1000)
		return og_err_set(err, -OG_EINVAL, "config otlp.endpoint: the collector's OTLP/HTTP base URL, e.g. "
				  "\"http://127.0.0.1:4318\" (/v1/traces is added), is required");
	if (hd && !cJSON_IsObject(hd))
		return og_err_set(err, -OG_EINVAL, "config otlp.headers: an object of header names to strings");
	if (cJSON_GetArraySize(hd) > OTLP_MAX_HEADERS)
		return og_err_set(err, -OG_EINVAL, "config otlp.headers: at most %d headers", OTLP_MAX_HEADERS);
	cJSON_ArrayForEach(h, hd)
		if (!cJSON_IsString(h) || !*h->string)
			return og_err_set(err, -OG_EINVAL, "config otlp.headers.%s: a header value is a string",
					  h->string);
	if (to && (!cJSON_IsNumber(to) || to->valuedouble < 1 || to->valuedouble > OG_HTTP_TIMEOUT_MAX_MS))
		return og_err_set(err, -OG_EINVAL, "config otlp.timeout_ms: milliseconds from 1 to %d (default %d)",
				  OG_HTTP_TIMEOUT_MAX_MS, OG_OTLP_TIMEOUT_DEFAULT_MS);
	if (sn && (!cJSON_IsString(sn) || !*sn->valuestring))
		return og_err_set(err, -OG_EINVAL, "config otlp.service_name: a non-empty string (default \"opsgraph\")");
	return 0;
}

int og_otlp_post(const cJSON *conf, const cJSON *body, struct og_err *err)
{
	struct og_http_pair hdr[OTLP_MAX_HEADERS + 1];
	struct og_http_request rq = { 0 };
	struct og_http_response res;
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(conf, "endpoint"), *h;
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(conf, "timeout_ms");
	char url[1100], *text = NULL;
	size_t n = 0, len = 0;
	int rc;

	if ((rc = og_otlp_config_check(conf, err)) < 0)
		return rc;
	{
		/* "http://h:4318" or "http://h:4318/" + "/v1/traces" */
		size_t el = strlen(ep->valuestring);
		while (el > 0 && ep->valuestring[el - 1] == '/')
			el--;
		snprintf(url, sizeof(url), "%.*s/v1/traces", (int)el, ep->valuestring);
	}
	hdr[n].name = "Content-Type";
	hdr[n++].value = "application/json";
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(conf, "headers")) {
		hdr[n].name = h->string;
		hdr[n++].value = h->valuestring;
	}
	if (!(text = og_json_print(body, &len)))
		return og_err_set(err, -OG_ENOMEM, "otlp: out of memory");
	rq.method = "POST";
	rq.url = url;
	rq.headers = hdr;
	rq.nheaders = n;
	rq.body = text;
	rq.body_len = len;
	rq.timeout_ms = to ? (long)to->valuedouble : OG_OTLP_TIMEOUT_DEFAULT_MS;
	rq.max_bytes = 64 * 1024;
	rc = og_http_request(&rq, &res, err);
	if (rc == 0 && (res.status < 200 || res.status > 299))
		rc = og_err_set(err, -OG_EIO, "POST %s: the collector answered %ld", url, res.status);
	og_http_response_release(&res);
	free(text);
	return rc;
}
