/*
 * test_similar.c: BM25 (report/similar.c) against hand-computed scores, the
 * tokeniser, and the ranking of the 30 past incidents of
 * tests/fixtures/incidents/incidents.json for several queries (expected
 * top 3 written by hand from the fixtures' texts, labels and signatures).
 * Run from the project root (tests/run.sh does).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/report/similar.h"
#include "../test.h"

static char toks[512];

static void add_tok(void *ud, const char *t)
{
	(void)ud;
	if (toks[0])
		strncat(toks, " ", sizeof(toks) - strlen(toks) - 1);
	strncat(toks, t, sizeof(toks) - strlen(toks) - 1);
}

static const char *tokens(const char *text)
{
	toks[0] = 0;
	og_bm25_tokens(text, add_tok, NULL);
	return toks;
}

static void test_tokens(void)
{
	CHECK_STR(tokens("The DB connection-pool of payment-service is at 98%!"),
		  "db connection pool payment service");
	CHECK_STR(tokens("Connections TIMEOUTS class x 42 a1"), "connection timeout class a1");
	CHECK_STR(tokens("slow queries, latencies"), "slow query latency");
	CHECK_STR(tokens(""), "");
	CHECK_STR(tokens(NULL), "");
	CHECK_STR(tokens("the of and"), "");
}

static void test_bm25(void)
{
	struct og_bm25 *b = og_bm25_new();
	double s;

	CHECK(b != NULL);
	CHECK_INT(og_bm25_add(b, "redis timeout"), ==, 0);
	CHECK_INT(og_bm25_add(b, "pool exhausted pool"), ==, 1);
	CHECK_INT(og_bm25_add(b, "disk full"), ==, 2);
	CHECK_INT(og_bm25_count(b), ==, 3);
	/* N=3, df(pool)=1: idf = ln(1 + 2.5/1.5) = 0.980829; doc 1: tf 2, len 3,
	 * avgdl 7/3: 0.980829 * 2 * 2.2 / (2 + 1.2 * (0.25 + 0.75 * 9/7)) = 1.248327 */
	s = og_bm25_score(b, "pool", 1);
	CHECK(fabs(s - 1.248327) < 1e-5);
	if (fabs(s - 1.248327) >= 1e-5)
		fprintf(stderr, "  bm25(pool, doc 1) = %.6f\n", s);
	CHECK(og_bm25_score(b, "pool", 0) == 0);
	CHECK(og_bm25_score(b, "the of", 1) == 0);			/* stop words only */
	CHECK(fabs(og_bm25_score(b, "pool pool pools", 1) - s) < 1e-9);	/* distinct query terms */
	/* two terms add up: redis + timeout on doc 0 (tf 1 each, len 2) */
	{
		double one = log(1.0 + 2.5 / 1.5) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 6.0 / 7.0));
		CHECK(fabs(og_bm25_score(b, "redis timeouts", 0) - 2 * one) < 1e-9);
	}
	CHECK(og_bm25_score(b, "pool", 7) == 0);			/* no such document */
	og_bm25_free(b);
	og_bm25_free(NULL);
}

static cJSON *load_fixtures(void)
{
	FILE *f = fopen("tests/fixtures/incidents/incidents.json", "rb");
	static char buf[1 << 17];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return cJSON_Parse(buf);
}

/* the thread ids of the ranking, joined by spaces */
static const char *rank(const cJSON *recs, const struct og_similar_query *q)
{
	static char out[256];
	static struct og_err err;
	cJSON *res = NULL;
	const cJSON *e;

	out[0] = 0;
	memset(&err, 0, sizeof(err));
	if (og_similar_rank(recs, q, &res, &err) < 0)
		return err.msg;
	cJSON_ArrayForEach(e, res) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "thread_id");
		if (out[0])
			strncat(out, " ", sizeof(out) - strlen(out) - 1);
		strncat(out, cJSON_IsString(id) ? id->valuestring : "?", sizeof(out) - strlen(out) - 1);
	}
	cJSON_Delete(res);
	return out;
}

static void test_ranking(void)
{
	cJSON *recs = load_fixtures(), *labels;
	struct og_similar_query q;

	CHECK(recs != NULL && cJSON_GetArraySize(recs) == 30);
	if (!recs)
		return;

	/* the Black Friday alert: the two payment pool incidents that had the
	 * same pool label, then the latency one of the same service and signature */
	labels = cJSON_Parse("{\"alertname\": \"DBConnectionPoolExhausted\", \"service\": \"payment-service\", "
			     "\"namespace\": \"prod\", \"pool\": \"HikariPool-payments\", \"pod\": \"payment-7d9f\"}");
	memset(&q, 0, sizeof(q));
	q.service = "payment-service";
	q.labels = labels;
	q.signature = "db_pool_exhaustion";
	q.text = "DB connection pool of payment-service at 98%: checkout requests wait for a connection";
	CHECK_STR(rank(recs, &q), "past-01 past-02 past-25");
	/* the asking thread is never its own match */
	q.exclude_thread = "past-01";
	CHECK_STR(rank(recs, &q), "past-02 past-25 past-03");
	q.exclude_thread = NULL;
	q.limit = 1;
	CHECK_STR(rank(recs, &q), "past-01");
	cJSON_Delete(labels);

	/* Redis on checkout: the same service and signature first, then the other Redis ones */
	memset(&q, 0, sizeof(q));
	q.service = "checkout-service";
	q.signature = "redis_timeout";
	q.text = "Redis commands time out after a failover";
	CHECK_STR(rank(recs, &q), "past-05 past-04 past-28");

	/* words only, no labels: OOM kills */
	memset(&q, 0, sizeof(q));
	q.text = "pods OOM killed: memory limit reached";
	CHECK_STR(rank(recs, &q), "past-08 past-09 past-10");

	/* words only: a full disk; third, far behind, the one other text with
	 * "full" in it (a full table scan) */
	memset(&q, 0, sizeof(q));
	q.text = "no space left on device, disk full";
	CHECK_STR(rank(recs, &q), "past-20 past-21 past-11");

	/* words and a service: the two slow SQL incidents of order-service, the
	 * missing index first (it says "missing", "index" twice and "queries",
	 * folded to "query"), then search-service's slow queries */
	memset(&q, 0, sizeof(q));
	q.service = "order-service";
	q.text = "slow SQL query on orders, missing index";
	CHECK_STR(rank(recs, &q), "past-12 past-11 past-26");

	/* nothing shared: no result rather than noise */
	memset(&q, 0, sizeof(q));
	q.text = "quantum flux capacitor";
	CHECK_STR(rank(recs, &q), "");

	/* bad input */
	{
		struct og_err err = { 0 };
		cJSON *res = NULL, *obj = cJSON_CreateObject();
		CHECK_INT(og_similar_rank(obj, &q, &res, &err), ==, -OG_EINVAL);
		CHECK_CONTAINS(err.msg, "array");
		CHECK_INT(og_similar_rank(NULL, &q, &res, &err), ==, 0);
		CHECK_INT(cJSON_GetArraySize(res), ==, 0);
		cJSON_Delete(res);
		cJSON_Delete(obj);
	}
	cJSON_Delete(recs);
}

/* The same alert handed over by hand three times after the one time an
 * action fixed it: equal scores, and the fix must stay in the top 3 (the
 * analyzer's "last time, action X fixed it" needs it there). */
static void test_ties_keep_the_fix(void)
{
	static const char *const rows[][3] = {
		{ "fix", "recovered", "2026-01-01T10:00:00Z" },
		{ "hand-1", "manual", "2026-01-02T10:00:00Z" },
		{ "hand-2", "manual", "2026-01-03T10:00:00Z" },
		{ "hand-3", "manual", "2026-01-04T10:00:00Z" },
	};
	cJSON *recs = cJSON_CreateArray();
	struct og_similar_query q;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "thread_id", rows[i][0]);
		cJSON_AddStringToObject(r, "service", "payment-service");
		cJSON_AddStringToObject(r, "signature", "db_pool_exhaustion");
		cJSON_AddStringToObject(r, "root_cause", "the database connection pool is exhausted");
		cJSON_AddStringToObject(r, "outcome", rows[i][1]);
		cJSON_AddBoolToObject(r, "fixed", !strcmp(rows[i][1], "recovered"));
		cJSON_AddStringToObject(r, "ended_at", rows[i][2]);
		cJSON_AddItemToArray(recs, r);
	}
	memset(&q, 0, sizeof(q));
	q.service = "payment-service";
	q.signature = "db_pool_exhaustion";
	q.text = "connection pool exhausted";
	CHECK_STR(rank(recs, &q), "fix hand-3 hand-2");
	/* a better text match still wins over a fix */
	cJSON_ReplaceItemInObject(cJSON_GetArrayItem(recs, 1), "root_cause",
				  cJSON_CreateString("the database connection pool is exhausted: connection pool exhausted"));
	CHECK_STR(rank(recs, &q), "hand-1 fix hand-3");
	cJSON_Delete(recs);
}

int main(void)
{
	test_tokens();
	test_bm25();
	test_ranking();
	test_ties_keep_the_fix();
	TEST_END();
}
