/*
 * test_llm_client.c: engine/net/llm_client.c without a server: the request
 * body (model, messages, parameters only when set, response_format with the
 * schema), the parsing of chat completions (content, usage, and each broken
 * shape with its fail kind), and the errors that need no network (missing
 * base_url or model, a timeout above the limit, a refused connection).
 * tests/cli/llm_chain.sh covers the HTTP behaviours against a fake server.
 */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../../engine/net/llm_client.h"
#include "../test.h"

static void test_body(void)
{
	struct og_llm_message m[2] = { { "system", "be brief" }, { "user", "why \"slow\"?\n" } };
	struct og_llm_request rq = { 0 };
	cJSON *schema = cJSON_Parse("{\"type\":\"object\",\"required\":[\"a\"]}"), *b;
	const cJSON *js;
	size_t len;
	char *s;

	rq.model = "qwen2.5:7b";
	rq.messages = m;
	rq.nmessages = 2;
	s = og_llm_request_body(&rq, &len);
	CHECK(s != NULL);
	CHECK_INT(strlen(s), ==, len);
	b = cJSON_Parse(s);
	CHECK_STR(cJSON_GetObjectItem(b, "model")->valuestring, "qwen2.5:7b");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(b, "messages")), ==, 2);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), 1), "content")->valuestring,
		  "why \"slow\"?\n");
	CHECK(cJSON_GetObjectItem(b, "temperature") == NULL);	/* not set: not sent */
	CHECK(cJSON_GetObjectItem(b, "top_p") == NULL);
	CHECK(cJSON_GetObjectItem(b, "max_tokens") == NULL);
	CHECK(cJSON_GetObjectItem(b, "response_format") == NULL);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(b, "stream")));
	cJSON_Delete(b);
	free(s);

	rq.has_temperature = true;
	rq.temperature = 0.2;
	rq.has_top_p = true;
	rq.top_p = 0.95;
	rq.max_tokens = 512;
	rq.schema = schema;
	rq.schema_name = "rca";
	s = og_llm_request_body(&rq, NULL);
	b = cJSON_Parse(s);
	CHECK(cJSON_GetObjectItem(b, "temperature")->valuedouble == 0.2);
	CHECK(cJSON_GetObjectItem(b, "top_p")->valuedouble == 0.95);
	CHECK_INT(cJSON_GetObjectItem(b, "max_tokens")->valueint, ==, 512);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "response_format"), "type")->valuestring, "json_schema");
	js = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "response_format"), "json_schema");
	CHECK_STR(cJSON_GetObjectItem(js, "name")->valuestring, "rca");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(js, "strict")));
	CHECK(cJSON_Compare(cJSON_GetObjectItem(js, "schema"), schema, 1));
	cJSON_Delete(b);
	free(s);
	rq.not_strict = true;
	s = og_llm_request_body(&rq, NULL);
	b = cJSON_Parse(s);
	js = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "response_format"), "json_schema");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(js, "strict")));
	cJSON_Delete(b);
	free(s);
	cJSON_Delete(schema);
}

static void parse(const char *body, int want_rc, enum og_llm_fail want_fail, const char *want_content,
		  const char *want_msg)
{
	struct og_llm_response r;
	struct og_err err = { 0 };
	int rc;

	memset(&r, 0, sizeof(r));
	rc = og_llm_parse_body(body, strlen(body), &r, &err);
	CHECK_INT(rc, ==, want_rc);
	CHECK_INT(r.fail, ==, want_fail);
	if (want_content)
		CHECK_STR(r.content, want_content);
	else
		CHECK(r.content == NULL);
	if (want_msg)
		CHECK_CONTAINS(err.msg, want_msg);
	og_llm_response_release(&r);
}

static void test_parse(void)
{
	struct og_llm_response r;
	struct og_err err = { 0 };
	const char *ok = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"a\\\":1}\"}}],"
			 "\"usage\":{\"prompt_tokens\":321,\"completion_tokens\":45},\"model\":\"gpt-4o-2024-08-06\"}";

	memset(&r, 0, sizeof(r));
	CHECK_INT(og_llm_parse_body(ok, strlen(ok), &r, &err), ==, 0);
	CHECK_STR(r.content, "{\"a\":1}");
	CHECK_INT(r.tokens_in, ==, 321);
	CHECK_INT(r.tokens_out, ==, 45);
	CHECK_STR(r.model, "gpt-4o-2024-08-06");	/* the model that answered */
	og_llm_response_release(&r);

	parse("{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}", 0, OG_LLM_OK, "hi", NULL);	/* no usage */
	parse("<html>502 Bad Gateway</html>", -OG_EIO, OG_LLM_BAD_BODY, NULL, "invalid JSON");
	parse("[1,2]", -OG_EIO, OG_LLM_BAD_BODY, NULL, "not a JSON object");
	parse("{\"object\":\"list\"}", -OG_EIO, OG_LLM_BAD_BODY, NULL, "no \"choices\"");
	parse("{\"choices\":[]}", -OG_EIO, OG_LLM_BAD_BODY, NULL, "no \"choices\"");
	parse("{\"choices\":[{\"message\":{\"content\":null}}]}", -OG_EIO, OG_LLM_NO_CONTENT, NULL, "content is null");
	parse("{\"choices\":[{\"message\":{\"content\":\"\"}}]}", -OG_EIO, OG_LLM_NO_CONTENT, NULL, "content is empty");
	parse("{\"choices\":[{\"finish_reason\":\"length\"}]}", -OG_EIO, OG_LLM_NO_CONTENT, NULL, "no message");
}

static void test_chat_errors(void)
{
	struct og_llm_message m = { "user", "x" };
	struct og_llm_request rq = { 0 };
	struct og_llm_response r;
	struct og_err err = { 0 };

	rq.messages = &m;
	rq.nmessages = 1;
	rq.model = "m";
	CHECK_INT(og_llm_chat(&rq, &r, &err), ==, -OG_EINVAL);
	CHECK_INT(r.fail, ==, OG_LLM_INVALID);
	CHECK_CONTAINS(err.msg, "base_url and model");
	og_llm_response_release(&r);

	rq.base_url = "http://127.0.0.1:9/";
	rq.timeout_ms = 500000;
	CHECK_INT(og_llm_chat(&rq, &r, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "above the limit");
	og_llm_response_release(&r);

	/* port 9 (discard) has no listener here: refused, with the URL path added */
	rq.timeout_ms = 2000;
	rq.api_key = "sk-secret-never-shown";
	CHECK_INT(og_llm_chat(&rq, &r, &err), ==, -OG_EIO);
	CHECK_INT(r.fail, ==, OG_LLM_CONNECT);
	CHECK_INT(r.requests, ==, 1);
	CHECK_CONTAINS(err.msg, "127.0.0.1:9/v1/chat/completions");
	CHECK(strstr(err.msg, "sk-secret") == NULL);
	og_llm_response_release(&r);

	/* a base_url ending in /v1 gets only /chat/completions */
	rq.base_url = "http://127.0.0.1:9/v1";
	CHECK_INT(og_llm_chat(&rq, &r, &err), ==, -OG_EIO);
	CHECK_CONTAINS(err.msg, "127.0.0.1:9/v1/chat/completions");
	CHECK(strstr(err.msg, "/v1/v1") == NULL);
	og_llm_response_release(&r);

	rq.api_key = "bad\nkey";
	CHECK_INT(og_llm_chat(&rq, &r, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "API key is malformed");
	og_llm_response_release(&r);

	CHECK_STR(og_llm_fail_name(OG_LLM_HTTP_429), "http_429");
	CHECK_STR(og_llm_fail_name(OG_LLM_TIMEOUT), "timeout");
	CHECK_STR(og_llm_fail_name(OG_LLM_NO_CONTENT), "no_content");
}

int main(void)
{
	test_body();
	test_parse();
	test_chat_errors();
	TEST_END();
}
