/*
 * jdiff.c: a structural diff of two cJSON values (see jdiff.h). The walk
 * keeps one growing path buffer: each level appends its escaped key or
 * index and cuts it off again on the way back, so no path is built for
 * the values that are equal.
 */
#include "jdiff.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	cJSON *out;
	char *path;
	size_t len, cap;
	bool oom;
};

static bool path_push(struct walk *w, const char *key)
{
	size_t need = w->len + 2 + 2 * strlen(key);
	const char *k;

	if (need > w->cap) {
		size_t cap = w->cap ? w->cap : 128;
		char *p;
		while (cap < need)
			cap *= 2;
		if (!(p = realloc(w->path, cap)))
			return false;
		w->path = p;
		w->cap = cap;
	}
	w->path[w->len++] = '/';
	for (k = key; *k; k++) {
		if (*k == '~' || *k == '/') {
			w->path[w->len++] = '~';
			w->path[w->len++] = *k == '~' ? '0' : '1';
		} else {
			w->path[w->len++] = *k;
		}
	}
	w->path[w->len] = 0;
	return true;
}

static void entry(struct walk *w, const char *op, const cJSON *from, const cJSON *to)
{
	cJSON *e = cJSON_CreateObject();

	if (!e || !cJSON_AddStringToObject(e, "op", op) ||
	    !cJSON_AddStringToObject(e, "path", w->path ? w->path : "")) {
		cJSON_Delete(e);
		w->oom = true;
		return;
	}
	if (from) {
		cJSON *c = cJSON_Duplicate(from, 1);
		if (!c || !cJSON_AddItemToObject(e, "from", c)) {
			cJSON_Delete(c);
			w->oom = true;
		}
	}
	if (to) {
		cJSON *c = cJSON_Duplicate(to, 1);
		if (!c || !cJSON_AddItemToObject(e, "to", c)) {
			cJSON_Delete(c);
			w->oom = true;
		}
	}
	if (!cJSON_AddItemToArray(w->out, e)) {
		cJSON_Delete(e);
		w->oom = true;
	}
}

/* cJSON keeps true and false as two types; for a diff they are one. */
static int kind(const cJSON *v)
{
	return (v->type & 0xff) == cJSON_False ? cJSON_True : (v->type & 0xff);
}

static bool leaf_equal(const cJSON *a, const cJSON *b)
{
	switch (a->type & 0xff) {
	case cJSON_Number:
		return a->valuedouble == b->valuedouble;
	case cJSON_String:
	case cJSON_Raw:
		return a->valuestring && b->valuestring && !strcmp(a->valuestring, b->valuestring);
	default:
		return (a->type & 0xff) == (b->type & 0xff);	/* null, true, false */
	}
}

static void walk(struct walk *w, const cJSON *a, const cJSON *b, int depth);

static void walk_child(struct walk *w, const char *key, const cJSON *a, const cJSON *b, int depth)
{
	size_t keep = w->len;

	if (!path_push(w, key)) {
		w->oom = true;
		return;
	}
	if (!a)
		entry(w, "added", NULL, b);
	else if (!b)
		entry(w, "removed", a, NULL);
	else
		walk(w, a, b, depth + 1);
	w->len = keep;
	w->path[keep] = 0;
}

static void walk(struct walk *w, const cJSON *a, const cJSON *b, int depth)
{
	const cJSON *x;
	char idx[24];
	int i, na, nb;

	if (w->oom)
		return;
	if (kind(a) != kind(b)) {
		entry(w, "changed", a, b);
		return;
	}
	if (cJSON_IsObject(a)) {
		if (depth >= OG_JDIFF_MAX_DEPTH) {
			if (!cJSON_Compare(a, b, 1))
				entry(w, "changed", a, b);
			return;
		}
		for (x = a->child; x && !w->oom; x = x->next)
			walk_child(w, x->string, x, cJSON_GetObjectItemCaseSensitive(b, x->string), depth);
		for (x = b->child; x && !w->oom; x = x->next)
			if (!cJSON_GetObjectItemCaseSensitive(a, x->string))
				walk_child(w, x->string, NULL, x, depth);
		return;
	}
	if (cJSON_IsArray(a)) {
		const cJSON *ea = a->child, *eb = b->child;
		if (depth >= OG_JDIFF_MAX_DEPTH) {
			if (!cJSON_Compare(a, b, 1))
				entry(w, "changed", a, b);
			return;
		}
		na = cJSON_GetArraySize(a);
		nb = cJSON_GetArraySize(b);
		for (i = 0; (i < na || i < nb) && !w->oom; i++) {
			snprintf(idx, sizeof(idx), "%d", i);
			walk_child(w, idx, i < na ? ea : NULL, i < nb ? eb : NULL, depth);
			if (ea)
				ea = ea->next;
			if (eb)
				eb = eb->next;
		}
		return;
	}
	if (!leaf_equal(a, b))
		entry(w, "changed", a, b);
}

int og_jdiff(const cJSON *from, const cJSON *to, cJSON **out, struct og_err *err)
{
	struct walk w = { 0 };

	*out = NULL;
	if (!(w.out = cJSON_CreateArray()))
		return og_err_set(err, -OG_ENOMEM, "diff: out of memory");
	if (!from && to)
		entry(&w, "added", NULL, to);
	else if (from && !to)
		entry(&w, "removed", from, NULL);
	else if (from && to)
		walk(&w, from, to, 0);
	free(w.path);
	if (w.oom) {
		cJSON_Delete(w.out);
		return og_err_set(err, -OG_ENOMEM, "diff: out of memory");
	}
	*out = w.out;
	return 0;
}

cJSON *og_jdiff_summary(const cJSON *diff)
{
	static const char *const ops[] = { "added", "removed", "changed" };
	double n[3] = { 0, 0, 0 };
	const cJSON *e;
	cJSON *o;
	int i;

	cJSON_ArrayForEach(e, diff) {
		const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "op");
		for (i = 0; i < 3; i++)
			if (cJSON_IsString(op) && !strcmp(op->valuestring, ops[i]))
				n[i]++;
	}
	if (!(o = cJSON_CreateObject()))
		return NULL;
	for (i = 0; i < 3; i++)
		cJSON_AddNumberToObject(o, ops[i], n[i]);
	return o;
}
