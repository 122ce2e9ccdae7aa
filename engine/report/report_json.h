/*
 * report_json.h: field access for the report modules, which read documents
 * they did not write (checkpoints, notes, log entries): a missing or
 * mistyped field is NULL, never an error, and copies of absent fields are
 * JSON null so every report has the same keys.
 */
#ifndef OG_REPORT_JSON_H
#define OG_REPORT_JSON_H

#include <stdbool.h>

#include <cJSON.h>

static inline const cJSON *rj_get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* the string at o[k], or NULL */
static inline const char *rj_str(const cJSON *o, const char *k)
{
	const cJSON *v = rj_get(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* to[k] = a copy of v, or null */
static inline void rj_copy(cJSON *to, const char *k, const cJSON *v)
{
	cJSON_AddItemToObject(to, k, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

/* to[k] = from[k] for each of keys (NULL-terminated); with present_only,
 * absent keys are left out instead of null */
static inline void rj_pick(cJSON *to, const cJSON *from, const char *const *keys, bool present_only)
{
	for (; *keys; keys++)
		if (!present_only || rj_get(from, *keys))
			rj_copy(to, *keys, rj_get(from, *keys));
}

#endif
