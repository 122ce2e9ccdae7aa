/*
 * cli_resume.c: the pieces of answering an interrupt that `opsgraph resume`
 * and the HTTP server share, so that both say the same thing to the person
 * who lost a race for the same decision and record the answer the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "cli_run.h"

int cli_resumed_by(struct cli_session *s, const char *thread, const char *want_id, char *msg, size_t len)
{
	cJSON *hist = NULL, *h;
	struct og_err err = { 0 };
	int seen = 0;

	if (!s->db || og_store_lmdb_history(s->db, thread, 200, 0, &hist, &err) < 0)
		return 0;
	cJSON_ArrayForEach(h, hist) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(h, "id"), *r;
		cJSON *ck = NULL;
		if (seen++ > 200 || cli_get_ckpt(s, thread, (uint64_t)id->valuedouble, &ck, &err) < 0)
			break;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(ck, "resumed")) {
			const cJSON *iid = cJSON_GetObjectItemCaseSensitive(r, "interrupt_id");
			const cJSON *by = cJSON_GetObjectItemCaseSensitive(r, "by");
			const cJSON *at = cJSON_GetObjectItemCaseSensitive(r, "at");
			char *v;
			if (want_id && (!cJSON_IsString(iid) || strcmp(iid->valuestring, want_id)))
				continue;
			v = og_json_print_text(cJSON_GetObjectItemCaseSensitive(r, "value"));
			snprintf(msg, len, "interrupt %s was already resumed by %s at %s with %s",
				 cJSON_IsString(iid) ? iid->valuestring : "?", cJSON_IsString(by) ? by->valuestring : "?",
				 cJSON_IsString(at) ? at->valuestring : "?", v ? v : "?");
			free(v);
			cJSON_Delete(ck);
			cJSON_Delete(hist);
			return 1;
		}
		cJSON_Delete(ck);
	}
	cJSON_Delete(hist);
	return 0;
}

cJSON *cli_fill_by(cJSON *value, const cJSON *ivalue, const char *by)
{
	cJSON *o;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ivalue, "fill_by")) || !by)
		return value;
	if (cJSON_IsObject(value)) {
		if (!cJSON_GetObjectItemCaseSensitive(value, "by") && !cJSON_GetObjectItemCaseSensitive(value, "system"))
			cJSON_AddStringToObject(value, "by", by);
		return value;
	}
	if (!(o = cJSON_CreateObject()))
		return value;
	cJSON_AddItemToObject(o, "answer", value);
	cJSON_AddStringToObject(o, "by", by);
	return o;
}
