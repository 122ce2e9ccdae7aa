/*
 * similar.c: BM25 over incident texts, and the ranking of index records
 * (similar.h). Corpora are small (one document per finished incident), so a
 * document keeps its terms as a sorted array looked up with bsearch, and
 * document frequencies are counted over those arrays at query time: no
 * inverted index to keep in step.
 */
#include "similar.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TOK_MAX 64		/* longer tokens are cut: ids and hashes, not words */

struct term {
	char *s;
	int tf;
};

struct doc {
	struct term *t;		/* sorted by s */
	int n;
	int len;		/* tokens in the document */
};

struct og_bm25 {
	struct doc *d;
	int n, cap;
	long total_len;
};

static const char *const stop_words[] = {
	"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "into", "is", "it",
	"its", "of", "on", "or", "that", "the", "then", "this", "to", "was", "were", "with", NULL
};

static bool is_stop(const char *w)
{
	int i;

	for (i = 0; stop_words[i]; i++)
		if (!strcmp(w, stop_words[i]))
			return true;
	return false;
}

void og_bm25_tokens(const char *text, void (*fn)(void *ud, const char *tok), void *ud)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	char tok[TOK_MAX + 1];

	while (*p) {
		int n = 0;
		bool digits = true;
		while (*p && !isalnum(*p))
			p++;
		while (*p && isalnum(*p)) {
			if (n < TOK_MAX)
				tok[n++] = (char)tolower(*p);
			if (!isdigit(*p))
				digits = false;
			p++;
		}
		tok[n] = 0;
		if (n < 2 || digits || is_stop(tok))
			continue;
		/* "connections" and "connection" are one term, so are "queries"
		 * and "query"; "class" stays */
		if (n > 4 && !strcmp(tok + n - 3, "ies")) {
			tok[n - 3] = 'y';
			tok[n - 2] = 0;
		} else if (n > 3 && tok[n - 1] == 's' && tok[n - 2] != 's') {
			tok[n - 1] = 0;
		}
		fn(ud, tok);
	}
}

struct collect {
	struct doc *d;
	int cap;
	bool failed;
};

static void collect_tok(void *ud, const char *tok)
{
	struct collect *c = ud;
	int i;

	c->d->len++;
	for (i = 0; i < c->d->n; i++)		/* documents are short: a linear scan is enough */
		if (!strcmp(c->d->t[i].s, tok)) {
			c->d->t[i].tf++;
			return;
		}
	if (c->failed)
		return;
	if (c->d->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		struct term *t = realloc(c->d->t, (size_t)cap * sizeof(*t));
		if (!t) {
			c->failed = true;
			return;
		}
		c->d->t = t;
		c->cap = cap;
	}
	if (!(c->d->t[c->d->n].s = strdup(tok))) {
		c->failed = true;
		return;
	}
	c->d->t[c->d->n++].tf = 1;
}

static int term_cmp(const void *a, const void *b)
{
	return strcmp(((const struct term *)a)->s, ((const struct term *)b)->s);
}

static void doc_release(struct doc *d)
{
	int i;

	for (i = 0; i < d->n; i++)
		free(d->t[i].s);
	free(d->t);
}

/* Tokenises text into d (terms sorted, counted). */
static int doc_build(struct doc *d, const char *text)
{
	struct collect c = { d, 0, false };

	memset(d, 0, sizeof(*d));
	og_bm25_tokens(text, collect_tok, &c);
	if (c.failed) {
		doc_release(d);
		return -OG_ENOMEM;
	}
	if (d->n > 1)
		qsort(d->t, (size_t)d->n, sizeof(*d->t), term_cmp);
	return 0;
}

static int doc_tf(const struct doc *d, const char *term)
{
	struct term key = { (char *)term, 0 };
	const struct term *t = d->n ? bsearch(&key, d->t, (size_t)d->n, sizeof(*d->t), term_cmp) : NULL;

	return t ? t->tf : 0;
}

struct og_bm25 *og_bm25_new(void)
{
	return calloc(1, sizeof(struct og_bm25));
}

void og_bm25_free(struct og_bm25 *b)
{
	int i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		doc_release(&b->d[i]);
	free(b->d);
	free(b);
}

int og_bm25_add(struct og_bm25 *b, const char *text)
{
	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 32;
		struct doc *d = realloc(b->d, (size_t)cap * sizeof(*d));
		if (!d)
			return -OG_ENOMEM;
		b->d = d;
		b->cap = cap;
	}
	if (doc_build(&b->d[b->n], text) < 0)
		return -OG_ENOMEM;
	b->total_len += b->d[b->n].len;
	return b->n++;
}

int og_bm25_count(const struct og_bm25 *b)
{
	return b->n;
}

double og_bm25_score(const struct og_bm25 *b, const char *query, int doc)
{
	struct doc q;
	double score = 0, avgdl;
	int i, j;

	if (doc < 0 || doc >= b->n || doc_build(&q, query) < 0)
		return 0;
	avgdl = (double)b->total_len / b->n;
	for (i = 0; i < q.n; i++) {
		int tf = doc_tf(&b->d[doc], q.t[i].s), df = 0;
		double idf, norm;
		if (!tf)
			continue;
		for (j = 0; j < b->n; j++)
			df += doc_tf(&b->d[j], q.t[i].s) > 0;
		/* the "+1" form (Lucene's): never negative for terms in most documents */
		idf = log(1.0 + ((double)b->n - df + 0.5) / (df + 0.5));
		norm = OG_BM25_K1 * (1.0 - OG_BM25_B + OG_BM25_B * (avgdl > 0 ? b->d[doc].len / avgdl : 1.0));
		score += idf * (tf * (OG_BM25_K1 + 1.0)) / (tf + norm);
	}
	doc_release(&q);
	return score;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *og_similar_record_text(const cJSON *rec)
{
	static const char *const fields[] = { "root_cause", "summary", "description", "alertname", "signature",
					      NULL };
	size_t len = 1;
	char *out;
	int i;

	for (i = 0; fields[i]; i++)
		len += (str(rec, fields[i]) ? strlen(str(rec, fields[i])) : 0) + 1;
	if (!(out = malloc(len)))
		return NULL;
	len = 0;
	for (i = 0; fields[i]; i++)
		if (str(rec, fields[i])) {
			size_t n = strlen(str(rec, fields[i]));
			memcpy(out + len, str(rec, fields[i]), n);	/* sized above */
			len += n;
			out[len++] = ' ';
		}
	out[len] = 0;
	return out;
}

struct hit {
	const cJSON *rec;
	double score, bm25;
	cJSON *matched;
};

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	const char *ex = str(x->rec, "ended_at"), *ey = str(y->rec, "ended_at");
	int c;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	/* the same alert handed over by hand again and again must not push the
	 * one action that fixed it out of the top 3 the analyzer is shown */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x->rec, "fixed")) !=
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(y->rec, "fixed")))
		return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x->rec, "fixed")) ? -1 : 1;
	if ((c = strcmp(ey ? ey : "", ex ? ex : "")))
		return c;
	return strcmp(str(x->rec, "thread_id") ? str(x->rec, "thread_id") : "",
		      str(y->rec, "thread_id") ? str(y->rec, "thread_id") : "");
}

static bool same(const char *a, const char *b)
{
	return a && b && *a && !strcmp(a, b);
}

/* The exact-match boosts of rec for q; fills matched. */
static double boosts(const cJSON *rec, const struct og_similar_query *q, cJSON *matched)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(rec, "labels"), *l;
	cJSON *list = cJSON_AddArrayToObject(matched, "labels");
	double b = 0;
	bool m;

	m = same(q->service, str(rec, "service"));
	cJSON_AddBoolToObject(matched, "service", m);
	b += m ? OG_SIMILAR_BOOST_SERVICE : 0;
	m = same(q->signature, str(rec, "signature"));
	cJSON_AddBoolToObject(matched, "signature", m);
	b += m ? OG_SIMILAR_BOOST_SIGNATURE : 0;
	m = same(str(q->labels, "alertname"), str(labels, "alertname"));
	cJSON_AddBoolToObject(matched, "alertname", m);
	b += m ? OG_SIMILAR_BOOST_ALERTNAME : 0;
	cJSON_ArrayForEach(l, q->labels) {
		if (!cJSON_IsString(l) || !strcmp(l->string, "alertname") || !strcmp(l->string, "pod") ||
		    !strcmp(l->string, "instance") || !strcmp(l->string, "service"))
			continue;	/* pod and instance differ every time; service counted above */
		if (same(l->valuestring, str(labels, l->string))) {
			b += OG_SIMILAR_BOOST_LABEL;
			if (list)
				cJSON_AddItemToArray(list, cJSON_CreateString(l->string));
		}
	}
	return b;
}

static void copy_field(cJSON *to, const cJSON *rec, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, k);

	cJSON_AddItemToObject(to, k, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

static double round3(double v)
{
	return round(v * 1000.0) / 1000.0;
}

int og_similar_rank(const cJSON *records, const struct og_similar_query *q, cJSON **out, struct og_err *err)
{
	static const char *const fields[] = { "thread_id", "service", "signature", "root_cause", "summary",
					      "action", "outcome", "fixed", "ended_at", "resolved_at", NULL };
	struct og_bm25 *b = NULL;
	struct hit *h = NULL;
	const cJSON *rec;
	cJSON *res = NULL;
	int n = 0, nh = 0, i, limit = q->limit > 0 ? q->limit : 3, rc = -OG_ENOMEM;

	if (records && !cJSON_IsArray(records))
		return og_err_set(err, -OG_EINVAL, "similar: the index records must be a JSON array");
	n = cJSON_GetArraySize(records);
	if (!(b = og_bm25_new()) || (n && !(h = calloc((size_t)n, sizeof(*h)))))
		goto fail;
	cJSON_ArrayForEach(rec, records) {
		char *text = og_similar_record_text(rec);
		int idx = text ? og_bm25_add(b, text) : -OG_ENOMEM;
		free(text);
		if (idx < 0)
			goto fail;
	}
	i = 0;
	cJSON_ArrayForEach(rec, records) {
		struct hit *x = &h[nh];
		int doc = i++;
		if (!cJSON_IsObject(rec) || same(q->exclude_thread, str(rec, "thread_id")))
			continue;
		if (!(x->matched = cJSON_CreateObject()))
			goto fail;
		x->rec = rec;
		x->bm25 = og_bm25_score(b, q->text, doc);
		x->score = x->bm25 + boosts(rec, q, x->matched);
		if (x->score <= 0) {
			cJSON_Delete(x->matched);
			x->matched = NULL;
			continue;
		}
		nh++;
	}
	if (nh > 1)
		qsort(h, (size_t)nh, sizeof(*h), hit_cmp);
	if (!(res = cJSON_CreateArray()))
		goto fail;
	for (i = 0; i < nh && i < limit; i++) {
		cJSON *o = cJSON_CreateObject();
		int f;
		if (!o)
			goto fail;
		cJSON_AddItemToArray(res, o);
		for (f = 0; fields[f]; f++) {
			copy_field(o, h[i].rec, fields[f]);
			if (f == 0) {
				cJSON_AddNumberToObject(o, "score", round3(h[i].score));
				cJSON_AddNumberToObject(o, "bm25", round3(h[i].bm25));
				cJSON_AddItemToObject(o, "matched", h[i].matched);
				h[i].matched = NULL;
			}
		}
	}
	*out = res;
	res = NULL;
	rc = 0;
fail:
	if (rc < 0)
		og_err_set(err, rc, "similar: out of memory");
	for (i = 0; i < nh; i++)
		cJSON_Delete(h[i].matched);
	free(h);
	og_bm25_free(b);
	cJSON_Delete(res);
	return rc;
}
