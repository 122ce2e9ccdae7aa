/*
 * llm_client.c: the OpenAI-compatible chat completion call (llm_client.h).
 * The body is built with cJSON; the transfer is http_client's, which caps
 * the answer's size and time. A 429 is waited out only when its
 * Retry-After fits in what is left of the timeout: the chain moves on to
 * its next link rather than blocking a 3 a.m. run on a busy provider.
 */
#include "llm_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "http_client.h"

#define LLM_DEFAULT_TIMEOUT_MS 60000
#define LLM_MAX_BYTES (8u << 20)

const char *og_llm_fail_name(enum og_llm_fail f)
{
	switch (f) {
	case OG_LLM_OK: return "ok";
	case OG_LLM_HTTP_429: return "http_429";
	case OG_LLM_HTTP_5XX: return "http_5xx";
	case OG_LLM_HTTP_4XX: return "http_4xx";
	case OG_LLM_TIMEOUT: return "timeout";
	case OG_LLM_CONNECT: return "connect";
	case OG_LLM_BAD_BODY: return "bad_body";
	case OG_LLM_NO_CONTENT: return "no_content";
	case OG_LLM_INVALID: return "invalid";
	case OG_LLM_OTHER: break;
	}
	return "other";
}

char *og_llm_request_body(const struct og_llm_request *req, size_t *len)
{
	cJSON *b = cJSON_CreateObject(), *msgs, *m, *rf, *js;
	char *text = NULL;
	size_t i;

	if (!b)
		return NULL;
	if (!cJSON_AddStringToObject(b, "model", req->model ? req->model : "") ||
	    !(msgs = cJSON_AddArrayToObject(b, "messages")))
		goto done;
	for (i = 0; i < req->nmessages; i++) {
		if (!(m = cJSON_CreateObject()))
			goto done;
		cJSON_AddItemToArray(msgs, m);
		if (!cJSON_AddStringToObject(m, "role", req->messages[i].role) ||
		    !cJSON_AddStringToObject(m, "content", req->messages[i].content))
			goto done;
	}
	if (req->has_temperature && !cJSON_AddNumberToObject(b, "temperature", req->temperature))
		goto done;
	if (req->has_top_p && !cJSON_AddNumberToObject(b, "top_p", req->top_p))
		goto done;
	if (req->max_tokens > 0 && !cJSON_AddNumberToObject(b, "max_tokens", req->max_tokens))
		goto done;
	if (!cJSON_AddBoolToObject(b, "stream", 0))
		goto done;
	if (req->schema) {
		cJSON *sc;
		if (!(rf = cJSON_AddObjectToObject(b, "response_format")) ||
		    !cJSON_AddStringToObject(rf, "type", "json_schema") ||
		    !(js = cJSON_AddObjectToObject(rf, "json_schema")) ||
		    !cJSON_AddStringToObject(js, "name", req->schema_name ? req->schema_name : "answer") ||
		    !(sc = cJSON_Duplicate(req->schema, 1)))
			goto done;
		cJSON_AddItemToObject(js, "schema", sc);
		if (!cJSON_AddBoolToObject(js, "strict", !req->not_strict))
			goto done;
	}
	text = og_json_print(b, len);
done:
	cJSON_Delete(b);
	return text;
}

int og_llm_parse_body(const char *body, size_t len, struct og_llm_response *res, struct og_err *err)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	const cJSON *choices, *msg, *content, *usage, *n;
	int rc = 0;

	if (!cJSON_IsObject(doc)) {
		res->fail = OG_LLM_BAD_BODY;
		rc = og_err_set(err, -OG_EIO, "the answer is not a JSON object (%s near byte %d); is base_url an "
				"OpenAI-compatible server?", doc ? "another JSON value" : "invalid JSON",
				end ? (int)(end - body) : 0);
		goto done;
	}
	choices = cJSON_GetObjectItemCaseSensitive(doc, "choices");
	if (!cJSON_IsArray(choices) || !cJSON_GetArraySize(choices)) {
		res->fail = OG_LLM_BAD_BODY;
		rc = og_err_set(err, -OG_EIO, "the answer has no \"choices\" list; is base_url an "
				"OpenAI-compatible /v1/chat/completions server?");
		goto done;
	}
	msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(choices, 0), "message");
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	if (!cJSON_IsString(content) || !content->valuestring[0]) {
		res->fail = OG_LLM_NO_CONTENT;
		rc = og_err_set(err, -OG_EIO, "the answer has no choices[0].message.content (%s); raise "
				"max_tokens if the model was cut off", !msg ? "no message" :
				cJSON_IsNull(content) || !content ? "content is null" : "content is empty");
		goto done;
	}
	if (!(res->content = strdup(content->valuestring))) {
		rc = og_err_set(err, -OG_ENOMEM, "out of memory");
		goto done;
	}
	usage = cJSON_GetObjectItemCaseSensitive(doc, "usage");
	if ((n = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens")) && cJSON_IsNumber(n) && n->valuedouble >= 0)
		res->tokens_in = (int64_t)n->valuedouble;
	if ((n = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens")) && cJSON_IsNumber(n) &&
	    n->valuedouble >= 0)
		res->tokens_out = (int64_t)n->valuedouble;
	if ((n = cJSON_GetObjectItemCaseSensitive(doc, "model")) && cJSON_IsString(n))
		snprintf(res->model, sizeof(res->model), "%s", n->valuestring);
done:
	cJSON_Delete(doc);
	return rc;
}

/* the start of a body for a message: printable ASCII, at most cap-1 bytes */
static const char *body_start(const char *body, size_t len, char *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 4 < cap; i++)
		out[n++] = body[i] >= 0x20 && body[i] < 0x7f ? body[i] : ' ';
	if (i < len && n + 4 <= cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* Retry-After in whole seconds (the HTTP-date form is not waited for); -1 when none */
static long retry_after_ms(const struct og_http_response *r)
{
	const char *v = og_http_response_header(r, "retry-after");
	char *end;
	long s;

	if (!v)
		return -1;
	s = strtol(v, &end, 10);
	if (end == v || s < 0 || s > 3600)
		return -1;
	return s * 1000;
}

void og_llm_response_release(struct og_llm_response *res)
{
	if (!res)
		return;
	free(res->content);
	memset(res, 0, sizeof(*res));
}

int og_llm_chat(const struct og_llm_request *req, struct og_llm_response *res, struct og_err *err)
{
	struct og_http_pair headers[3];
	struct og_http_request hr = { 0 };
	struct og_http_response hres;
	char url[1200], shown[256], auth[1100], snippet[200], *body = NULL;
	size_t blen, n;
	long timeout = req->timeout_ms > 0 ? req->timeout_ms : LLM_DEFAULT_TIMEOUT_MS;
	int64_t t0 = og_clock_mono_us();
	int rc, waits = 0;

	memset(res, 0, sizeof(*res));
	memset(&hres, 0, sizeof(hres));
	if (!req->base_url || !*req->base_url || !req->model || !*req->model) {
		res->fail = OG_LLM_INVALID;
		return og_err_set(err, -OG_EINVAL, "a chat request needs base_url and model (set them in the "
				  "provider and the chain link of config llm)");
	}
	if (timeout > OG_HTTP_TIMEOUT_MAX_MS) {
		res->fail = OG_LLM_INVALID;
		return og_err_set(err, -OG_EINVAL, "timeout_ms %ld is above the limit %d", timeout,
				  OG_HTTP_TIMEOUT_MAX_MS);
	}
	n = strlen(req->base_url);
	while (n && req->base_url[n - 1] == '/')
		n--;
	if (n > 1000) {
		res->fail = OG_LLM_INVALID;
		return og_err_set(err, -OG_EINVAL, "base_url is too long (%zu bytes)", n);
	}
	snprintf(url, sizeof(url), "%.*s%s", (int)n, req->base_url,
		 n >= 3 && !strncmp(req->base_url + n - 3, "/v1", 3) ? "/chat/completions" : "/v1/chat/completions");
	og_http_url_redact(url, shown, sizeof(shown));
	if (!(body = og_llm_request_body(req, &blen))) {
		res->fail = OG_LLM_OTHER;
		return og_err_set(err, -OG_ENOMEM, "out of memory building the request");
	}
	headers[0] = (struct og_http_pair){ "Content-Type", "application/json" };
	headers[1] = (struct og_http_pair){ "Accept", "application/json" };
	hr.nheaders = 2;
	if (req->api_key && *req->api_key) {
		if (strlen(req->api_key) > 1000 || strpbrk(req->api_key, "\r\n")) {
			res->fail = OG_LLM_INVALID;
			rc = og_err_set(err, -OG_EINVAL, "the API key is malformed (a line break, or over 1000 "
					"bytes); check the environment variable the provider names");
			goto done;
		}
		snprintf(auth, sizeof(auth), "Bearer %s", req->api_key);
		headers[hr.nheaders++] = (struct og_http_pair){ "Authorization", auth };
	}
	hr.method = "POST";
	hr.url = url;
	hr.headers = headers;
	hr.body = body;
	hr.body_len = blen;
	hr.max_bytes = LLM_MAX_BYTES;
	for (;;) {
		long left = timeout - (long)((og_clock_mono_us() - t0) / 1000), wait;

		if (left < 1) {
			res->fail = OG_LLM_TIMEOUT;
			rc = og_err_set(err, -OG_EIO, "POST %s: no answer within %ld ms", shown, timeout);
			goto done;
		}
		hr.timeout_ms = left;
		og_http_response_release(&hres);
		res->requests++;
		rc = og_http_request(&hr, &hres, err);
		res->status = hres.status;
		if (rc) {
			res->fail = hres.fail == OG_HTTP_TIMEOUT ? OG_LLM_TIMEOUT :
				    hres.fail == OG_HTTP_CONNECT || hres.fail == OG_HTTP_DNS || hres.fail == OG_HTTP_TLS ?
				    OG_LLM_CONNECT : hres.fail == OG_HTTP_INVALID ? OG_LLM_INVALID : OG_LLM_OTHER;
			if (res->fail == OG_LLM_TIMEOUT)
				og_err_set(err, -OG_EIO, "POST %s: no answer within %ld ms (raise timeout_ms for "
					   "slow models)", shown, timeout);
			rc = rc == -OG_ENOMEM ? rc : -OG_EIO;
			goto done;
		}
		if (hres.status != 429)
			break;
		wait = retry_after_ms(&hres);
		left = timeout - (long)((og_clock_mono_us() - t0) / 1000);
		if (wait < 0 || waits >= OG_LLM_RETRY_AFTER_MAX || wait + 500 > left) {
			res->fail = OG_LLM_HTTP_429;
			rc = og_err_set(err, -OG_EIO, "POST %s: HTTP 429 rate limited%s (%s)", shown,
					wait < 0 ? "" : waits >= OG_LLM_RETRY_AFTER_MAX ? " again after waiting" :
					", Retry-After is longer than the time left", 
					body_start(hres.body, hres.body_len, snippet, sizeof(snippet)));
			goto done;
		}
		waits++;
		og_clock_sleep_ms((int)wait);
	}
	if (hres.status >= 500 || hres.status < 200 || hres.status >= 300) {
		res->fail = hres.status >= 500 ? OG_LLM_HTTP_5XX : hres.status >= 400 ? OG_LLM_HTTP_4XX : OG_LLM_OTHER;
		rc = og_err_set(err, -OG_EIO, "POST %s: HTTP %ld%s (%s)", shown, hres.status,
				hres.status == 401 || hres.status == 403 ? ": the API key was refused (check the "
				"provider's api_key_env)" : hres.status == 404 ? ": no such endpoint or model" : "",
				body_start(hres.body, hres.body_len, snippet, sizeof(snippet)));
		goto done;
	}
	if ((rc = og_llm_parse_body(hres.body, hres.body_len, res, err)))
		og_err_prefix(err, "POST %s: ", shown);
done:
	res->latency_ms = (og_clock_mono_us() - t0) / 1000;
	og_http_response_release(&hres);
	memset(auth, 0, sizeof(auth));
	free(body);
	return rc;
}
