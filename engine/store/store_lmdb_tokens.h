/*
 * store_lmdb_tokens.h: operator tokens and web sessions of `opsgraph serve`,
 * in the meta database beside the checkpoints, so that `opsgraph token`
 * (another process) and the server see one truth and a restart keeps the
 * sessions. Keys: "auth\0tok\0NAME" and "auth\0ses\0ID", which no other
 * meta key starts with; gc leaves them alone. Values are JSON objects the
 * caller shapes (a token: its SHA-256, never the token itself; a session:
 * the hash of its id is the key, never the id). Unlike notes, records can
 * be replaced and deleted: a token is revoked, a session ends.
 */
#ifndef OG_STORE_LMDB_TOKENS_H
#define OG_STORE_LMDB_TOKENS_H

#include <stdbool.h>

#include <cJSON.h>

#include "../core/err.h"
#include "store_lmdb.h"

enum og_auth_kind { OG_AUTH_TOKEN, OG_AUTH_SESSION };

/* Stores value (borrowed) under (kind, key). With replace false an existing
 * record is kept and *added says false. Durable when it returns. */
int og_store_lmdb_auth_put(struct og_store_lmdb *s, enum og_auth_kind kind, const char *key, const cJSON *value,
			   bool replace, bool *added, struct og_err *err);
/* The record, as a new object (caller owns); -OG_ENOENT when absent. */
int og_store_lmdb_auth_get(struct og_store_lmdb *s, enum og_auth_kind kind, const char *key, cJSON **out,
			   struct og_err *err);
/* Every record of kind as a new array of {key, value}, in key order. */
int og_store_lmdb_auth_list(struct og_store_lmdb *s, enum og_auth_kind kind, cJSON **out, struct og_err *err);
/* Deletes (kind, key) when key is not NULL, and in the same transaction
 * every session whose value has "name" equal to name (when name is not
 * NULL) or whose "expires" (epoch s) is before now_s (when now_s > 0).
 * *deleted: whether (kind, key) was there; *sessions: how many sessions
 * went. Either may be NULL. */
int og_store_lmdb_auth_del(struct og_store_lmdb *s, enum og_auth_kind kind, const char *key, const char *name,
			   long long now_s, bool *deleted, int *sessions, struct og_err *err);

#endif
