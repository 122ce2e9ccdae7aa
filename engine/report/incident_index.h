/*
 * incident_index.h: what a finished incident leaves for the next one. A
 * thread of the incident graph (it has an `alert`) is finished when its
 * latest checkpoint is done (recovered, rolled back, ended by "manual") or
 * when Alertmanager sent its resolution (an alert_resolved note). Its record
 * in the index (store/store_lmdb_incidents.h) is:
 *   {thread_id, service, severity, labels{}, alertname, summary, description,
 *    signature, root_cause, confidence, analyzer, action{choice, id?, title?,
 *    tools[]?}, decided_by, outcome, fixed, re_analyses, started_at, ended_at,
 *    resolved_at}
 * signature is the rca's, or under an LLM's answer the built-in analyzer's
 * (rca.builtin.signature). outcome: "recovered" (verify_recovery saw the signal recover after the
 * action: fixed = true), "rolled_back", "not_recovered" (ended by "manual"
 * after the action did not help), "action_failed", "manual" (a human took
 * it over without an action), "resolved" (Alertmanager resolved it while no
 * action had run), or the thread's status.
 */
#ifndef OG_INCIDENT_INDEX_H
#define OG_INCIDENT_INDEX_H

#include <stdbool.h>

#include <cJSON.h>

#include "../core/err.h"
#include "../store/store_lmdb.h"
#include "similar.h"

/* The record of thread from its latest checkpoint and notes (caller owns
 * *rec), or *rec = NULL when the thread is not a finished incident.
 * -OG_ENOENT for an unknown thread. */
int og_incident_record(struct og_store_lmdb *s, const char *thread, cJSON **rec, struct og_err *err);

/* Indexes thread when it is a finished incident (*indexed says whether;
 * may be NULL). */
int og_incident_index_thread(struct og_store_lmdb *s, const char *thread, bool *indexed, struct og_err *err);

/* Empties the index and indexes every finished incident of the store;
 * *count = how many (may be NULL). */
int og_incident_index_rebuild(struct og_store_lmdb *s, int *count, struct og_err *err);

/* The query a thread makes: its service, alert labels, signature and text
 * (alert summary and description, root cause), excluding itself. Fills q
 * with pointers into *keep (caller frees *keep with cJSON_Delete). */
int og_incident_query(struct og_store_lmdb *s, const char *thread, struct og_similar_query *q, cJSON **keep,
		      struct og_err *err);

/* Ranks the index against q (og_similar_rank). */
int og_incident_similar(struct og_store_lmdb *s, const struct og_similar_query *q, cJSON **out,
			struct og_err *err);

/* The resolution among a thread's notes: the last alert_resolved note as
 * {at, ends_at?, source: "alertmanager"}, or NULL (caller owns). */
cJSON *og_incident_resolution(const cJSON *notes);

#endif
