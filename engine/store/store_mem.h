/*
 * store_mem.h: checkpoints kept in memory, in their JSON form. For tests and
 * for one-shot runs that need no durability.
 */
#ifndef OG_STORE_MEM_H
#define OG_STORE_MEM_H

#include "../graph/store.h"

struct og_store_mem;

extern const struct og_store_ops og_store_mem_ops;

struct og_store_mem *og_store_mem_new(void);
void og_store_mem_free(struct og_store_mem *m);		/* NULL is a no-op */
/* Number of checkpoints put so far. */
int og_store_mem_count(const struct og_store_mem *m);
/* The i-th checkpoint put (0 = first), borrowed; NULL past the end. */
const cJSON *og_store_mem_at(const struct og_store_mem *m, int i);

#endif
