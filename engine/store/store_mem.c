/*
 * store_mem.c: an og_store_ops that appends each checkpoint's JSON form to an
 * array. Nothing survives the process; the LMDB store is the durable one.
 */
#include "store_mem.h"

#include <stdlib.h>
#include <string.h>

struct og_store_mem {
	cJSON *list;
};

struct og_store_mem *og_store_mem_new(void)
{
	struct og_store_mem *m = calloc(1, sizeof(*m));

	if (m && !(m->list = cJSON_CreateArray())) {
		free(m);
		return NULL;
	}
	return m;
}

void og_store_mem_free(struct og_store_mem *m)
{
	if (!m)
		return;
	cJSON_Delete(m->list);
	free(m);
}

int og_store_mem_count(const struct og_store_mem *m)
{
	return cJSON_GetArraySize(m->list);
}

const cJSON *og_store_mem_at(const struct og_store_mem *m, int i)
{
	return cJSON_GetArrayItem(m->list, i);
}

static int mem_put(void *self, const struct og_ckpt *ck, struct og_err *err)
{
	struct og_store_mem *m = self;
	cJSON *j = og_ckpt_to_json(ck);

	if (!j)
		return og_err_set(err, -OG_ENOMEM, "store: out of memory");
	cJSON_AddItemToArray(m->list, j);
	return 0;
}

static int mem_get(void *self, const char *thread_id, uint64_t id, cJSON **out, struct og_err *err)
{
	struct og_store_mem *m = self;
	const cJSON *first = m->list->child, *c, *best = NULL;

	/* newest first (the first item's prev is the last): the latest of a
	 * thread that is running is at the end, where a forward walk over
	 * every checkpoint of every thread made each get O(all) */
	for (c = first ? first->prev : NULL; c && !best; c = c == first ? NULL : c->prev) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "thread_id");
		const cJSON *i = cJSON_GetObjectItemCaseSensitive(c, "id");
		if (!cJSON_IsString(t) || strcmp(t->valuestring, thread_id))
			continue;
		if (id == 0 || (uint64_t)i->valuedouble == id)
			best = c;
	}
	if (!best)
		return og_err_set(err, -OG_ENOENT, "no checkpoint %llu for thread %s",
				  (unsigned long long)id, thread_id);
	*out = cJSON_Duplicate(best, 1);
	return *out ? 0 : og_err_set(err, -OG_ENOMEM, "store: out of memory");
}

const struct og_store_ops og_store_mem_ops = {
	.put = mem_put,
	.put_writes = NULL,
	.get = mem_get,
};
