/*
 * otlp.h: OpenTelemetry traces in the OTLP/HTTP JSON encoding, and their
 * export (POST {endpoint}/v1/traces). Spans are built as cJSON objects of
 * the wire form directly (hex trace and span ids, times in ns since the
 * epoch as decimal strings, attributes as [{key, value: {stringValue |
 * intValue (a decimal string) | doubleValue | boolValue}}]), so what the
 * caller builds is what the collector receives.
 */
#ifndef OG_OTLP_H
#define OG_OTLP_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "../core/err.h"

enum og_otlp_kind { OG_OTLP_INTERNAL = 1, OG_OTLP_SERVER = 2, OG_OTLP_CLIENT = 3 };
enum og_otlp_status { OG_OTLP_UNSET = 0, OG_OTLP_OK = 1, OG_OTLP_ERROR = 2 };

#define OG_OTLP_TIMEOUT_DEFAULT_MS 3000

/* A span: trace 16 bytes, id 8, parent 8 or NULL (a root span); times in
 * ns since the epoch. NULL when out of memory. */
cJSON *og_otlp_span_new(const uint8_t trace[16], const uint8_t id[8], const uint8_t *parent, const char *name,
			enum og_otlp_kind kind, int64_t start_ns, int64_t end_ns);
void og_otlp_attr_str(cJSON *span, const char *key, const char *v);
void og_otlp_attr_int(cJSON *span, const char *key, int64_t v);
void og_otlp_attr_double(cJSON *span, const char *key, double v);
void og_otlp_attr_bool(cJSON *span, const char *key, bool v);
/* msg may be NULL; only ERROR carries one on the wire. */
void og_otlp_status(cJSON *span, enum og_otlp_status code, const char *msg);

/* The export request body: one resource (service.name = service) with one
 * scope (name = scope) holding `spans` (an array, taken). Caller owns. */
cJSON *og_otlp_request(const char *service, const char *scope, cJSON *spans);

/* Checks a config `otlp` object: {"endpoint": "http(s)://host:port[/path]",
 * "headers"?: {name: string}, "timeout_ms"?: 1..120000, "service_name"?:
 * string}. -OG_EINVAL naming the key and the fix. */
int og_otlp_config_check(const cJSON *conf, struct og_err *err);

/* POSTs body to {endpoint}/v1/traces (Content-Type: application/json and
 * the config's headers), bounded by timeout_ms. 0 on a 2xx answer;
 * -OG_EIO naming the URL and the status or failure otherwise. Header
 * values never appear in messages. */
int og_otlp_post(const cJSON *conf, const cJSON *body, struct og_err *err);

#endif
