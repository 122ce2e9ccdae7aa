/*
 * store_lmdb_incidents.h: the index of finished incidents, a named database
 * ("incidents") of the checkpoint environment, which the similar-incident
 * search (report/similar.h) ranks. One row per thread: key the thread id,
 * value the record as JSON text (report/incident_index.h says what it holds;
 * the store does not look inside). Created by the first put, so stores made
 * before it open unchanged and read as an empty index. `opsgraph gc` does
 * not touch it; `opsgraph index rebuild` clears and refills it.
 */
#ifndef OG_STORE_LMDB_INCIDENTS_H
#define OG_STORE_LMDB_INCIDENTS_H

#include <cJSON.h>

#include "../core/err.h"
#include "store_lmdb.h"

/* Stores rec (an object; borrowed) as the row of thread, replacing an
 * earlier one (a thread finished again after a fork is indexed again). */
int og_store_lmdb_incident_put(struct og_store_lmdb *s, const char *thread, const cJSON *rec,
			       struct og_err *err);

/* Every row, in thread id order, as a new array of the records (caller owns). */
int og_store_lmdb_incident_list(struct og_store_lmdb *s, cJSON **out, struct og_err *err);

/* Removes every row (before a rebuild). */
int og_store_lmdb_incident_clear(struct og_store_lmdb *s, struct og_err *err);

#endif
