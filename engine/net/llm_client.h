/*
 * llm_client.h: one chat completion against an OpenAI-compatible server
 * (OpenAI, vLLM, llama.cpp server, Ollama): POST {base_url}/v1/chat/completions
 * over engine/net/http_client.h. ctx.llm.chat (engine/lua/lapi_llm.c) builds
 * the fallback chain, the redaction and the repair retry on top of it; this
 * module only speaks the protocol and classifies what went wrong, so the
 * chain can decide to move on to the next link.
 *
 * The request carries model, messages, temperature, top_p, max_tokens and,
 * when a schema is given, response_format {type: "json_schema", json_schema:
 * {name, schema, strict}}. The answer is choices[0].message.content
 * and usage.prompt_tokens / completion_tokens (0 when the server sends no
 * usage). The API key is sent as "Authorization: Bearer"; it never appears
 * in a message.
 */
#ifndef OG_LLM_CLIENT_H
#define OG_LLM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "../core/err.h"

#define OG_LLM_RETRY_AFTER_MAX 2	/* 429s waited out within one call (Retry-After) */

/* Why a chat failed; each has a short name for logs (og_llm_fail_name). */
enum og_llm_fail {
	OG_LLM_OK = 0,
	OG_LLM_HTTP_429,	/* "http_429": rate limited (after Retry-After, when it fit the timeout) */
	OG_LLM_HTTP_5XX,	/* "http_5xx": the server failed */
	OG_LLM_HTTP_4XX,	/* "http_4xx": the request was refused (key, model name, schema...) */
	OG_LLM_TIMEOUT,		/* "timeout": no complete answer within timeout_ms */
	OG_LLM_CONNECT,		/* "connect": refused, unreachable, DNS, TLS */
	OG_LLM_BAD_BODY,	/* "bad_body": the HTTP body is not a chat completion in JSON */
	OG_LLM_NO_CONTENT,	/* "no_content": no choices[0].message.content (or it is empty) */
	OG_LLM_INVALID,		/* "invalid": the request itself is bad (URL, model missing) */
	OG_LLM_OTHER,		/* "other" */
};

const char *og_llm_fail_name(enum og_llm_fail f);

struct og_llm_message {
	const char *role;		/* "system", "user", "assistant" */
	const char *content;
};

struct og_llm_request {
	const char *base_url;		/* "http://127.0.0.1:8080" or ".../v1" (then /chat/completions is added) */
	const char *api_key;		/* NULL or "": no Authorization header */
	const char *model;
	const struct og_llm_message *messages;
	size_t nmessages;
	bool has_temperature, has_top_p;
	double temperature, top_p;
	int max_tokens;			/* 0: not sent */
	long timeout_ms;		/* the whole call, Retry-After waits included; 0: 60000 */
	const cJSON *schema;		/* response_format json_schema, or NULL */
	const char *schema_name;	/* its name ("rca"); letters, digits, _ and - */
	bool not_strict;		/* send strict: false (OpenAI's strict mode accepts only
					 * closed objects with every property required) */
};

struct og_llm_response {
	char *content;			/* choices[0].message.content, owned; NULL on failure */
	int64_t tokens_in, tokens_out;	/* usage, 0 when not given */
	char model[128];		/* the answer's "model" (which model answered), "" when not given */
	int64_t latency_ms;		/* the whole call */
	long status;			/* the last HTTP status, 0 when none */
	int requests;			/* HTTP requests made (more than 1 after a Retry-After) */
	enum og_llm_fail fail;
};

/* Builds the JSON body of req (a new string to free(); *len gets its
 * length), or NULL when memory runs out. Exposed for the unit test. */
char *og_llm_request_body(const struct og_llm_request *req, size_t *len);

/* Performs req. res is initialized first; release it with
 * og_llm_response_release whatever the outcome. Returns 0 with
 * res->content set, or -OG_EIO (res->fail says why; err reads like
 * "vLLM-local: HTTP 503 from http://host:8000/v1/chat/completions: ...(body start)"),
 * -OG_EINVAL (a bad request) or -OG_ENOMEM. */
int og_llm_chat(const struct og_llm_request *req, struct og_llm_response *res, struct og_err *err);

/* Parses a chat completion body into res (content, usage, model). Returns 0, or
 * -OG_EIO with res->fail BAD_BODY or NO_CONTENT. Exposed for the unit test. */
int og_llm_parse_body(const char *body, size_t len, struct og_llm_response *res, struct og_err *err);

void og_llm_response_release(struct og_llm_response *res);

#endif
