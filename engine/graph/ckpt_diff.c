/*
 * ckpt_diff.c: two checkpoints from a store and the diff of their values
 * (see ckpt_diff.h).
 */
#include "ckpt_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/jdiff.h"

int og_ckpt_ref_parse(const char *text, const char *thread, const char *what, struct og_ckpt_ref *out,
		      struct og_err *err)
{
	const char *colon = text ? strrchr(text, ':') : NULL, *num = colon ? colon + 1 : text;
	unsigned long long v = 0;
	char *end = NULL;

	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		goto bad;
	if (colon) {
		size_t n = (size_t)(colon - text);
		if (n == 0 || n >= sizeof(out->thread))
			goto bad;
		memcpy(out->thread, text, n);
		out->thread[n] = 0;
	} else if (thread && strlen(thread) < sizeof(out->thread)) {
		snprintf(out->thread, sizeof(out->thread), "%s", thread);
	} else {
		goto bad;
	}
	if (!strcmp(num, "latest"))
		return 0;
	if (*num < '0' || *num > '9' || (v = strtoull(num, &end, 10)) < 1 || *end)
		goto bad;
	out->id = v;
	return 0;
bad:
	return og_err_set(err, -OG_EINVAL, "%s takes a checkpoint id (a number from the history), \"latest\", or "
			  "THREAD:ID for another thread, not '%s'", what, text ? text : "");
}

static cJSON *side(const struct og_ckpt_ref *ref, const cJSON *ck)
{
	static const char *const keep[] = { "step", "status", "created_at", "parent_id" };
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "thread_id", ref->thread);
	cJSON_AddItemToObject(o, "checkpoint_id",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ck, "id"), 1));
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(ck, keep[i]);
		cJSON_AddItemToObject(o, keep[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
	return o;
}

static int load(const struct og_store_ops *ops, void *self, const struct og_ckpt_ref *ref, cJSON **ck,
		struct og_err *err)
{
	int rc = ops->get(self, ref->thread, ref->id, ck, err);

	if (rc == -OG_ENOENT && ref->id)
		return og_err_set(err, rc, "no checkpoint %llu in thread %s (its history lists them)",
				  (unsigned long long)ref->id, ref->thread);
	if (rc == -OG_ENOENT)
		return og_err_set(err, rc, "no thread %s", ref->thread);
	return rc;
}

int og_ckpt_diff(const struct og_store_ops *ops, void *self, const struct og_ckpt_ref *from,
		 const struct og_ckpt_ref *to, cJSON **out, struct og_err *err)
{
	cJSON *a = NULL, *b = NULL, *changes = NULL, *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = load(ops, self, from, &a, err)) < 0 || (rc = load(ops, self, to, &b, err)) < 0)
		goto out;
	if ((rc = og_jdiff(cJSON_GetObjectItemCaseSensitive(a, "values"), cJSON_GetObjectItemCaseSensitive(b, "values"),
			   &changes, err)) < 0)
		goto out;
	if (!(o = cJSON_CreateObject())) {
		rc = og_err_set(err, -OG_ENOMEM, "diff: out of memory");
		goto out;
	}
	cJSON_AddItemToObject(o, "from", side(from, a));
	cJSON_AddItemToObject(o, "to", side(to, b));
	cJSON_AddItemToObject(o, "summary", og_jdiff_summary(changes));
	cJSON_AddItemToObject(o, "changes", changes);
	changes = NULL;
	*out = o;
out:
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(changes);
	return rc;
}
