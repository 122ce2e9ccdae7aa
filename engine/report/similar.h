/*
 * similar.h: which past incidents look like this one. Records of the
 * incident index (report/incident_index.h) are ranked by BM25 over their
 * text (root cause, alert summary and description, alert name, signature)
 * plus boosts for what matches exactly: the same service, the same
 * analyzer signature, the same alert name, and other equal alert labels.
 * Pure: no store, no Lua; the CLI, the server and ctx.incidents.similar
 * all rank through og_similar_rank.
 */
#ifndef OG_SIMILAR_H
#define OG_SIMILAR_H

#include <cJSON.h>

#include "../core/err.h"

/* BM25's usual constants (Robertson et al.; Lucene's defaults). */
#define OG_BM25_K1 1.2
#define OG_BM25_B 0.75

/* Boosts added to the BM25 score of a record. Exact matches are strong
 * evidence the text alone may miss (a short root cause): a signature match
 * is worth about one rare shared term. */
#define OG_SIMILAR_BOOST_SERVICE 2.0
#define OG_SIMILAR_BOOST_SIGNATURE 3.0
#define OG_SIMILAR_BOOST_ALERTNAME 2.0
#define OG_SIMILAR_BOOST_LABEL 0.5	/* each other equal label (pod and instance never count) */

/* A BM25 corpus: documents are added as text, tokenised (lower-case ASCII
 * letters and digits; runs of other bytes separate; tokens of one
 * character, pure numbers and common English stop words dropped; plural
 * "s" and "ies" folded), then scored against a query text. */
struct og_bm25;

struct og_bm25 *og_bm25_new(void);
void og_bm25_free(struct og_bm25 *b);
/* Adds a document; returns its index (0, 1, ...) or -OG_ENOMEM. */
int og_bm25_add(struct og_bm25 *b, const char *text);
int og_bm25_count(const struct og_bm25 *b);
/* BM25 of document doc for the query's distinct terms; 0 when none is shared. */
double og_bm25_score(const struct og_bm25 *b, const char *query, int doc);
/* Calls fn for each token of text, in order (for tests and the CLI's explain). */
void og_bm25_tokens(const char *text, void (*fn)(void *ud, const char *tok), void *ud);

struct og_similar_query {
	const char *service;		/* NULL: no service boost */
	const cJSON *labels;		/* alert labels {k: v}, or NULL */
	const char *signature;		/* analyzer signature, or NULL */
	const char *text;		/* free text: alert summary, root cause... */
	const char *exclude_thread;	/* the asking thread itself, or NULL */
	int limit;			/* <= 0: 3 */
};

/* Ranks records (an array of index records) against q: a new array (caller
 * owns) of at most limit entries, best first, each
 * {thread_id, score, bm25, matched{service, signature, alertname, labels[]},
 *  service, signature, root_cause, summary, action, outcome, fixed, ended_at,
 *  resolved_at}.
 * Records with a score of 0 are left out; ties go to one whose action fixed
 * it (fixed true), then to the newer ended_at. */
int og_similar_rank(const cJSON *records, const struct og_similar_query *q, cJSON **out, struct og_err *err);

/* The text BM25 sees for an index record. Caller frees. */
char *og_similar_record_text(const cJSON *rec);

#endif
