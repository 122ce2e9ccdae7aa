/*
 * channel.c: state storage and the built-in reducers. Updates are folded in
 * place (append detaches the new items instead of copying the list) so a long
 * run does not pay O(n) per write on an ever-growing log.
 */
#include "channel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int og_state_init(struct og_state *s, const struct og_graph *g, struct og_err *err)
{
	int i;

	s->n = g->nchannels;
	s->vals = calloc((size_t)s->n + 1, sizeof(*s->vals));
	s->versions = calloc((size_t)s->n + 1, sizeof(*s->versions));
	if (!s->vals || !s->versions)
		goto nomem;
	for (i = 0; i < s->n; i++) {
		if (!g->channels[i].init)
			continue;
		s->vals[i] = cJSON_Duplicate(g->channels[i].init, 1);
		if (!s->vals[i])
			goto nomem;
	}
	return 0;
nomem:
	og_state_release(s);
	return og_err_set(err, -OG_ENOMEM, "state: out of memory");
}

void og_state_release(struct og_state *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; s->vals && i < s->n; i++)
		cJSON_Delete(s->vals[i]);
	free(s->vals);
	free(s->versions);
	s->vals = NULL;
	s->versions = NULL;
	s->n = 0;
}

int og_state_copy(struct og_state *dst, const struct og_state *src, struct og_err *err)
{
	int i;

	dst->n = src->n;
	dst->vals = calloc((size_t)src->n + 1, sizeof(*dst->vals));
	dst->versions = calloc((size_t)src->n + 1, sizeof(*dst->versions));
	if (!dst->vals || !dst->versions)
		goto nomem;
	for (i = 0; i < src->n; i++) {
		dst->versions[i] = src->versions[i];
		if (src->vals[i] && !(dst->vals[i] = cJSON_Duplicate(src->vals[i], 1)))
			goto nomem;
	}
	return 0;
nomem:
	og_state_release(dst);
	return og_err_set(err, -OG_ENOMEM, "state: out of memory");
}

struct og_view og_state_view(const struct og_state *s)
{
	struct og_view v = { s->n, (const cJSON *const *)s->vals };
	return v;
}

static const char *json_type_name(const cJSON *v)
{
	if (cJSON_IsArray(v)) return "a list";
	if (cJSON_IsObject(v)) return "an object";
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsNull(v)) return "null";
	return "an unknown value";
}

int og_channel_check(const struct og_channel_def *def, const cJSON *update, struct og_err *err)
{
	switch (def->kind) {
	case OG_RED_APPEND:
		/* An empty Lua table converts to {}: accept it as the empty list. */
		if (cJSON_IsArray(update) || (cJSON_IsObject(update) && !update->child))
			return 0;
		return og_err_set(err, -OG_EINVAL,
				  "channel '%s' (og.append) takes a list, got %s (wrap a single item: {value})",
				  def->name, json_type_name(update));
	case OG_RED_MERGE:
		if (cJSON_IsObject(update) || (cJSON_IsArray(update) && !update->child))
			return 0;
		return og_err_set(err, -OG_EINVAL,
				  "channel '%s' (og.merge) takes an object (a table with string keys), got %s",
				  def->name, json_type_name(update));
	case OG_RED_SUM:
		if (cJSON_IsNumber(update))
			return 0;
		return og_err_set(err, -OG_EINVAL, "channel '%s' (og.sum) takes a number, got %s",
				  def->name, json_type_name(update));
	case OG_RED_LAST:
	case OG_RED_CUSTOM:
		return 0;
	}
	return 0;
}

/* Moves the items of `update` to the end of the list in *slot. */
static int reduce_append(cJSON **slot, cJSON *update)
{
	cJSON *item;

	if (!*slot || !cJSON_IsArray(*slot)) {
		cJSON *arr = cJSON_CreateArray();
		if (!arr)
			return -OG_ENOMEM;
		cJSON_Delete(*slot);
		*slot = arr;
	}
	while ((item = update->child)) {
		cJSON_DetachItemViaPointer(update, item);
		cJSON_AddItemToArray(*slot, item);
	}
	cJSON_Delete(update);
	return 0;
}

static int reduce_merge(cJSON **slot, cJSON *update)
{
	cJSON *item;

	if (!*slot || !cJSON_IsObject(*slot)) {
		cJSON *obj = cJSON_CreateObject();
		if (!obj)
			return -OG_ENOMEM;
		cJSON_Delete(*slot);
		*slot = obj;
	}
	while ((item = update->child)) {
		cJSON *old;
		cJSON_DetachItemViaPointer(update, item);
		if (!item->string) {	/* the empty list stands for the empty object */
			cJSON_Delete(item);
			continue;
		}
		/* Not cJSON_ReplaceItemInObject(*slot, item->string, item): it frees
		 * item->string before copying it (use after free in cJSON 1.7.15). */
		if ((old = cJSON_GetObjectItemCaseSensitive(*slot, item->string)))
			cJSON_ReplaceItemViaPointer(*slot, old, item);
		else
			cJSON_AddItemToObject(*slot, item->string, item);
	}
	cJSON_Delete(update);
	return 0;
}

static int reduce_sum(cJSON **slot, cJSON *update, const char *name, struct og_err *err)
{
	double old = 0, sum;

	if (*slot && !cJSON_IsNumber(*slot)) {
		cJSON_Delete(update);
		return og_err_set(err, -OG_EINVAL,
				  "channel '%s' (og.sum) holds a non-number; cannot add to it", name);
	}
	if (*slot)
		old = (*slot)->valuedouble;
	sum = old + update->valuedouble;
	if (!isfinite(sum)) {
		cJSON_Delete(update);
		return og_err_set(err, -OG_EINVAL, "channel '%s' (og.sum): sum overflowed", name);
	}
	if (*slot) {
		cJSON_SetNumberValue(*slot, sum);
		cJSON_Delete(update);
	} else {
		cJSON_SetNumberValue(update, sum);
		*slot = update;
	}
	return 0;
}

int og_channel_apply(const struct og_graph *g, int channel, cJSON **slot, cJSON *update,
		     const struct og_exec_ops *ops, void *self, struct og_err *err)
{
	const struct og_channel_def *def = &g->channels[channel];
	cJSON *out = NULL;
	int rc;

	if ((rc = og_channel_check(def, update, err)) < 0) {
		cJSON_Delete(update);
		return rc;
	}
	switch (def->kind) {
	case OG_RED_LAST:
		cJSON_Delete(*slot);
		*slot = update;
		return 0;
	case OG_RED_APPEND:
		rc = reduce_append(slot, update);
		break;
	case OG_RED_MERGE:
		rc = reduce_merge(slot, update);
		break;
	case OG_RED_SUM:
		return reduce_sum(slot, update, def->name, err);
	case OG_RED_CUSTOM:
		if (!ops || !ops->reduce) {
			cJSON_Delete(update);
			return og_err_set(err, -OG_EINVAL, "channel '%s': custom reducer without an executor",
					  def->name);
		}
		rc = ops->reduce(self, g, channel, *slot, update, &out, err);
		cJSON_Delete(update);
		if (rc < 0)
			return og_err_prefix(err, "channel '%s' reducer: ", def->name);
		cJSON_Delete(*slot);
		*slot = out;
		return 0;
	}
	if (rc < 0)
		return og_err_set(err, rc, "channel '%s': out of memory", def->name);
	return 0;
}

void og_task_result_release(struct og_task_result *res)
{
	if (!res)
		return;
	cJSON_Delete(res->writes);
	cJSON_Delete(res->next);
	cJSON_Delete(res->interrupt);
	cJSON_Delete(res->journal);
	res->writes = res->next = res->interrupt = res->journal = NULL;
}
