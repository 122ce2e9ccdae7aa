/*
 * test_otlp.c: engine/net/otlp.c, the OTLP/HTTP JSON wire form: ids as
 * lowercase hex of 16 and 8 bytes, a root span without parentSpanId,
 * nanosecond times and int attributes as decimal strings (beyond 2^53
 * too), typed attribute values, the error status and its message, the
 * resourceSpans/scopeSpans envelope, and the otlp config check's messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "net/otlp.h"
#include "../test.h"

static const cJSON *attr_value(const cJSON *span, const char *key)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(span, "attributes"))
		if (!strcmp(cJSON_GetObjectItem(a, "key")->valuestring, key))
			return cJSON_GetObjectItem(a, "value");
	return NULL;
}

static int check_conf(const char *text, struct og_err *err)
{
	cJSON *c = cJSON_Parse(text);
	int rc;

	og_err_clear(err);
	rc = og_otlp_config_check(c, err);
	cJSON_Delete(c);
	return rc;
}

int main(void)
{
	uint8_t trace[16], id[8], parent[8];
	cJSON *root, *child, *spans, *req;
	char *t;
	int i;

	for (i = 0; i < 16; i++)
		trace[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < 8; i++) {
		id[i] = (uint8_t)i;
		parent[i] = (uint8_t)(0xf0 | i);
	}
	root = og_otlp_span_new(trace, parent, NULL, "run incident", OG_OTLP_INTERNAL, 1764000000123456789LL,
				1764000001000000000LL);
	child = og_otlp_span_new(trace, id, parent, "chat gpt", OG_OTLP_CLIENT, 1764000000200000000LL,
				 1764000000100000000LL);
	CHECK(root && child);
	CHECK_STR(og_json_get_str(root, "traceId"), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	CHECK_STR(og_json_get_str(root, "spanId"), "f0f1f2f3f4f5f6f7");
	CHECK(cJSON_GetObjectItem(root, "parentSpanId") == NULL);
	CHECK_STR(og_json_get_str(child, "spanId"), "0001020304050607");
	CHECK_STR(og_json_get_str(child, "parentSpanId"), "f0f1f2f3f4f5f6f7");
	CHECK_STR(og_json_get_str(root, "startTimeUnixNano"), "1764000000123456789");
	/* an end before the start is clamped to the start */
	CHECK_STR(og_json_get_str(child, "endTimeUnixNano"), "1764000000200000000");
	CHECK_INT(og_json_get_num(child, "kind"), ==, 3);

	og_otlp_attr_str(child, "gen_ai.request.model", "gpt");
	og_otlp_attr_int(child, "gen_ai.usage.input_tokens", 120);
	og_otlp_attr_int(child, "big", 9007199254740993LL);
	og_otlp_attr_double(child, "cost", 0.25);
	og_otlp_attr_bool(child, "timed_out", true);
	CHECK_STR(og_json_get_str(attr_value(child, "gen_ai.request.model"), "stringValue"), "gpt");
	CHECK_STR(og_json_get_str(attr_value(child, "gen_ai.usage.input_tokens"), "intValue"), "120");
	CHECK_STR(og_json_get_str(attr_value(child, "big"), "intValue"), "9007199254740993");
	CHECK(og_json_get_num(attr_value(child, "cost"), "doubleValue") == 0.25);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(attr_value(child, "timed_out"), "boolValue")));

	og_otlp_status(child, OG_OTLP_ERROR, "exit code 3");
	og_otlp_status(root, OG_OTLP_OK, "ignored");
	t = og_json_print_text(cJSON_GetObjectItem(child, "status"));
	CHECK_STR(t, "{\"code\":2,\"message\":\"exit code 3\"}");
	free(t);
	t = og_json_print_text(cJSON_GetObjectItem(root, "status"));
	CHECK_STR(t, "{\"code\":1}");
	free(t);
	og_otlp_status(root, OG_OTLP_ERROR, "failed");	/* replaces, not a second key */
	CHECK_INT(cJSON_GetArraySize(root), ==, 8);

	spans = cJSON_CreateArray();
	cJSON_AddItemToArray(spans, root);
	cJSON_AddItemToArray(spans, child);
	req = og_otlp_request("opsgraph", "opsgraph", spans);
	t = og_json_print_text(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(req, "resourceSpans"), 0), "resource"));
	CHECK_STR(t, "{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"opsgraph\"}}]}");
	free(t);
	{
		const cJSON *ss = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(req,
						"resourceSpans"), 0), "scopeSpans"), 0);
		CHECK_STR(og_json_get_str(cJSON_GetObjectItem(ss, "scope"), "name"), "opsgraph");
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(ss, "spans")), ==, 2);
	}
	cJSON_Delete(req);

	{
		struct og_err err = { 0 };
		CHECK_INT(check_conf("{\"endpoint\": \"http://127.0.0.1:4318\"}", &err), ==, 0);
		CHECK_INT(check_conf("{\"endpoint\": \"https://otel.example.com/\", \"headers\": {\"a\": \"b\"}, "
				     "\"timeout_ms\": 500, \"service_name\": \"x\"}", &err), ==, 0);
		CHECK_INT(check_conf("{\"endpoint\": \"127.0.0.1:4318\"}", &err), ==, -OG_EINVAL);
		CHECK_CONTAINS(err.msg, "config otlp.endpoint");
		CHECK_INT(check_conf("{}", &err), ==, -OG_EINVAL);
		CHECK_INT(check_conf("\"http://x\"", &err), ==, -OG_EINVAL);
		CHECK_CONTAINS(err.msg, "an object");
		CHECK_INT(check_conf("{\"endpoint\": \"http://x\", \"headers\": {\"k\": 1}}", &err), ==, -OG_EINVAL);
		CHECK_CONTAINS(err.msg, "config otlp.headers.k");
		CHECK_INT(check_conf("{\"endpoint\": \"http://x\", \"headers\": []}", &err), ==, -OG_EINVAL);
		CHECK_INT(check_conf("{\"endpoint\": \"http://x\", \"timeout_ms\": 0}", &err), ==, -OG_EINVAL);
		CHECK_CONTAINS(err.msg, "config otlp.timeout_ms");
		CHECK_INT(check_conf("{\"endpoint\": \"http://x\", \"service_name\": \"\"}", &err), ==, -OG_EINVAL);
		CHECK_CONTAINS(err.msg, "service_name");
	}
	TEST_END();
}
