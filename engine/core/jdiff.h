/*
 * jdiff.h: the difference between two JSON values, for postmortems: what a
 * step (or a fork) changed in a thread's state, as a flat list an operator
 * can read and a UI can colour. Objects are compared key by key, arrays
 * index by index (elements past the shorter array are added or removed),
 * and anything else by type and value; a value whose type changed (an
 * object that became null, a number that became a string) is one
 * "changed" entry, not a walk into both sides.
 */
#ifndef OG_JDIFF_H
#define OG_JDIFF_H

#include <cJSON.h>

#include "err.h"

/* Deeper values are compared whole (one "changed" entry at this depth):
 * states come from lconv, which allows 200 levels, and the walk recurses. */
#define OG_JDIFF_MAX_DEPTH 256

/* Builds [{"op": "added"|"removed"|"changed", "path", "from"?, "to"?}]
 * into *out (caller owns), in document order: an object's keys as they are
 * in `from`, then the keys only `to` has. path is a JSON pointer
 * (RFC 6901: "/context/metrics/0/value", "~" as "~0" and "/" as "~1";
 * "" is the whole value). "added" has only "to", "removed" only "from".
 * from or to NULL stands for a missing value (everything added or
 * removed). Returns 0 or -OG_ENOMEM. */
int og_jdiff(const cJSON *from, const cJSON *to, cJSON **out, struct og_err *err);

/* Counts of each op in a diff list: {"added": n, "removed": n, "changed": n}. */
cJSON *og_jdiff_summary(const cJSON *diff);

#endif
