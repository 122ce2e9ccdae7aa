/*
 * jschema.c: the JSON-schema subset of jschema.h. One recursive walk over
 * the value, carrying its JSON path; errors go into a bounded list so a
 * hostile answer (a 10,000-item array of wrong things) costs one message.
 * Patterns are translated from ECMA to POSIX extended once per check and
 * compiled with regcomp; a compiled pattern is not cached, since LLM answers
 * are small and schemas few.
 */
#include "jschema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct errs {
	struct og_err *err;
	int n;			/* errors found */
	size_t len;		/* bytes used in err->msg */
	char buf[OG_ERR_MSG];
};

static void add_err(struct errs *e, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add_err(struct errs *e, const char *path, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	int w;

	e->n++;
	if (e->n > OG_JSCHEMA_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e->len >= sizeof(e->buf) - 1)
		return;
	w = snprintf(e->buf + e->len, sizeof(e->buf) - e->len, "%s%s: %s", e->len ? "; " : "", path, msg);
	if (w > 0)
		e->len += (size_t)w < sizeof(e->buf) - e->len ? (size_t)w : sizeof(e->buf) - 1 - e->len;
}

/* ---- values in messages ---------------------------------------------------- */

static bool is_integer(const cJSON *v)
{
	double d = v->valuedouble;

	return cJSON_IsNumber(v) && isfinite(d) && d == floor(d);
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNumber(v))
		return is_integer(v) ? "integer" : "number";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsObject(v))
		return "object";
	return "invalid";
}

/* a short rendering: "extreme" (quoted, cut), 1.5, true, null, an array */
static const char *show(const cJSON *v, char *out, size_t cap)
{
	if (cJSON_IsString(v)) {
		size_t n = strlen(v->valuestring);
		if (n > 40)
			snprintf(out, cap, "\"%.37s...\"", v->valuestring);
		else
			snprintf(out, cap, "\"%s\"", v->valuestring);
	} else if (cJSON_IsArray(v)) {
		snprintf(out, cap, "an array");
	} else if (cJSON_IsObject(v)) {
		snprintf(out, cap, "an object");
	} else {
		char *s = og_json_print(v, NULL);
		snprintf(out, cap, "%s", s ? s : "?");
		free(s);
	}
	return out;
}

static const char *num(double d, char *out, size_t cap)
{
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(out, cap, "%.0f", d);
	else
		snprintf(out, cap, "%.17g", d);
	return out;
}

/* enum members: low, medium, high (strings plain, others as JSON) */
static void list_enum(const cJSON *en, char *out, size_t cap)
{
	const cJSON *m;
	size_t len = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(m, en) {
		char tmp[80];
		const char *s = cJSON_IsString(m) ? m->valuestring : show(m, tmp, sizeof(tmp));
		int w = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", s);
		if (w < 0 || (size_t)w >= cap - len) {
			if (cap > 4)
				snprintf(out + cap - 4, 4, "...");
			return;
		}
		len += (size_t)w;
	}
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* ---- patterns ----------------------------------------------------------------- */

/* ECMA -> POSIX ERE. Returns 0, or -1 with *why set (not translatable). */
static int translate_pattern(const char *re, char *out, size_t cap, const char **why)
{
	size_t o = 0;
	bool in_class = false;
	const char *p;

#define EMIT(str) do { size_t l_ = strlen(str); if (o + l_ >= cap) { *why = "too long"; return -1; } \
		       memcpy(out + o, str, l_); o += l_; } while (0)
	for (p = re; *p; p++) {
		char c = *p;
		if (c == '\\') {
			char e = *++p;
			const char *t = NULL;
			char lit[4];
			switch (e) {
			case 'd': t = in_class ? "0-9" : "[0-9]"; break;
			case 'w': t = in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]"; break;
			case 's': t = in_class ? "[:space:]" : "[[:space:]]"; break;
			case 'D': t = in_class ? NULL : "[^0-9]"; break;
			case 'W': t = in_class ? NULL : "[^A-Za-z0-9_]"; break;
			case 'S': t = in_class ? NULL : "[^[:space:]]"; break;
			case 'n': t = "\n"; break;
			case 't': t = "\t"; break;
			case '\0':
				*why = "a trailing backslash";
				return -1;
			default:
				if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
					*why = "an escape POSIX regexes cannot match (\\b, \\1, \\u, ...)";
					return -1;
				}
				if (in_class) {
					/* inside [...] a backslash is literal in POSIX */
					if (e == ']' || e == '\\' || e == '-' || e == '^') {
						*why = "an escaped ] \\ - or ^ inside a class";
						return -1;
					}
					lit[0] = e, lit[1] = '\0';
				} else {
					lit[0] = '\\', lit[1] = e, lit[2] = '\0';
				}
				t = lit;
				EMIT(t);
				continue;
			}
			if (!t) {
				*why = "a negated class escape (\\D \\W \\S) inside [...]";
				return -1;
			}
			EMIT(t);
			continue;
		}
		if (in_class) {
			if (c == ']')
				in_class = false;
			char s[2] = { c, 0 };
			EMIT(s);
			continue;
		}
		if (c == '[') {
			in_class = true;
			EMIT("[");
			if (p[1] == '^') {
				EMIT("^");
				p++;
			}
			if (p[1] == ']') {	/* a leading ] is literal in POSIX, empty in ECMA */
				*why = "an empty class []";
				return -1;
			}
			continue;
		}
		if (c == '(' && p[1] == '?') {
			*why = "a lookaround or non-capturing group (?...)";
			return -1;
		}
		if ((c == '*' || c == '+' || c == '?' || c == '}') && (p[1] == '?' || p[1] == '+')) {
			*why = "a lazy or possessive quantifier";
			return -1;
		}
		{
			char s[2] = { c, 0 };
			EMIT(s);
		}
	}
	if (in_class) {
		*why = "an unclosed [";
		return -1;
	}
	out[o] = '\0';
	return 0;
#undef EMIT
}

/* Compiles re into *rx; 0, or -1 with why filled */
static int compile_pattern(const char *re, regex_t *rx, char *why, size_t cap)
{
	char ere[1024];
	const char *w = NULL;
	int rc;

	if (translate_pattern(re, ere, sizeof(ere), &w) < 0) {
		snprintf(why, cap, "pattern /%s/ is not supported: %s", re, w);
		return -1;
	}
	if ((rc = regcomp(rx, ere, REG_EXTENDED | REG_NOSUB)) != 0) {
		char m[200];
		regerror(rc, rx, m, sizeof(m));
		snprintf(why, cap, "pattern /%s/ does not compile: %s", re, m);
		return -1;
	}
	return 0;
}

/* ---- paths ---------------------------------------------------------------------- */

static bool is_ident(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9'))
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* path + .key or ["key"] into out */
static void path_key(char *out, size_t cap, const char *path, const char *key)
{
	if (is_ident(key))
		snprintf(out, cap, "%s.%s", path, key);
	else
		snprintf(out, cap, "%s[\"%s\"]", path, key);
}

/* ---- validation ----------------------------------------------------------------- */

static bool type_ok(const cJSON *v, const char *t)
{
	if (!strcmp(t, "null"))
		return cJSON_IsNull(v);
	if (!strcmp(t, "boolean"))
		return cJSON_IsBool(v);
	if (!strcmp(t, "number"))
		return cJSON_IsNumber(v);
	if (!strcmp(t, "integer"))
		return is_integer(v);
	if (!strcmp(t, "string"))
		return cJSON_IsString(v);
	if (!strcmp(t, "array"))
		return cJSON_IsArray(v);
	if (!strcmp(t, "object"))
		return cJSON_IsObject(v);
	return false;
}

static void walk(const cJSON *s, const cJSON *v, const char *path, struct errs *e, int depth);

static void walk_keywords(const cJSON *s, const cJSON *v, const char *path, struct errs *e, int depth)
{
	const cJSON *k;
	char a[120], b[120];

	/* type */
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "type"))) {
		bool ok = false;
		if (cJSON_IsString(k)) {
			ok = type_ok(v, k->valuestring);
			if (!ok) {
				add_err(e, path, "must be %s %s (got %s)", strchr("aeiou", k->valuestring[0]) ? "an" : "a",
					k->valuestring, show(v, a, sizeof(a)));
				return;	/* the other keywords would only repeat it */
			}
		} else if (cJSON_IsArray(k)) {
			const cJSON *t;
			cJSON_ArrayForEach(t, k) if (cJSON_IsString(t) && type_ok(v, t->valuestring)) ok = true;
			if (!ok) {
				char names[200] = "";
				size_t len = 0;
				cJSON_ArrayForEach(t, k) {
					int w = snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
							 cJSON_IsString(t) ? t->valuestring : "?");
					if (w < 0 || (size_t)w >= sizeof(names) - len)
						break;
					len += (size_t)w;
				}
				add_err(e, path, "must be one of the types %s (got %s, %s)", names, type_name(v),
					show(v, a, sizeof(a)));
				return;
			}
		} else {
			add_err(e, path, "schema error: \"type\" must be a string or a list of strings");
		}
	}

	/* enum, const */
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "enum"))) {
		const cJSON *m;
		bool found = false;
		if (!cJSON_IsArray(k)) {
			add_err(e, path, "schema error: \"enum\" must be an array");
		} else {
			cJSON_ArrayForEach(m, k) if (cJSON_Compare(m, v, true)) found = true;
			if (!found) {
				char list[400];
				list_enum(k, list, sizeof(list));
				add_err(e, path, "%s is not one of %s", show(v, a, sizeof(a)), list);
			}
		}
	}
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "const")) && !cJSON_Compare(k, v, true))
		add_err(e, path, "must be %s (got %s)", show(k, a, sizeof(a)), show(v, b, sizeof(b)));

	/* numbers */
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "minimum")) && cJSON_IsNumber(k) && d < k->valuedouble)
			add_err(e, path, "%s is below the minimum %s", num(d, a, sizeof(a)), num(k->valuedouble, b, sizeof(b)));
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "maximum")) && cJSON_IsNumber(k) && d > k->valuedouble)
			add_err(e, path, "%s is above the maximum %s", num(d, a, sizeof(a)), num(k->valuedouble, b, sizeof(b)));
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "exclusiveMinimum")) && cJSON_IsNumber(k) &&
		    d <= k->valuedouble)
			add_err(e, path, "%s must be above %s", num(d, a, sizeof(a)), num(k->valuedouble, b, sizeof(b)));
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "exclusiveMaximum")) && cJSON_IsNumber(k) &&
		    d >= k->valuedouble)
			add_err(e, path, "%s must be below %s", num(d, a, sizeof(a)), num(k->valuedouble, b, sizeof(b)));
	}

	/* strings */
	if (cJSON_IsString(v)) {
		size_t n = utf8_len(v->valuestring);
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "minLength")) && cJSON_IsNumber(k) && (double)n < k->valuedouble)
			add_err(e, path, "%s is shorter than %s characters", show(v, a, sizeof(a)),
				num(k->valuedouble, b, sizeof(b)));
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "maxLength")) && cJSON_IsNumber(k) && (double)n > k->valuedouble)
			add_err(e, path, "%s is longer than %s characters (%zu)", show(v, a, sizeof(a)),
				num(k->valuedouble, b, sizeof(b)), n);
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "pattern"))) {
			regex_t rx;
			char why[300];
			if (!cJSON_IsString(k))
				add_err(e, path, "schema error: \"pattern\" must be a string");
			else if (compile_pattern(k->valuestring, &rx, why, sizeof(why)) < 0)
				add_err(e, path, "schema error: %s", why);
			else {
				if (regexec(&rx, v->valuestring, 0, NULL, 0) != 0)
					add_err(e, path, "%s does not match the pattern /%s/", show(v, a, sizeof(a)),
						k->valuestring);
				regfree(&rx);
			}
		}
	}

	/* arrays */
	if (cJSON_IsArray(v)) {
		int n = cJSON_GetArraySize(v), i = 0;
		const cJSON *it;
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "minItems")) && cJSON_IsNumber(k) && n < k->valuedouble)
			add_err(e, path, "has %d item%s, fewer than the minimum %s", n, n == 1 ? "" : "s",
				num(k->valuedouble, b, sizeof(b)));
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "maxItems")) && cJSON_IsNumber(k) && n > k->valuedouble)
			add_err(e, path, "has %d items, more than the maximum %s", n, num(k->valuedouble, b, sizeof(b)));
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "items"))) {
			cJSON_ArrayForEach(it, v) {
				char p[1024];
				snprintf(p, sizeof(p), "%s[%d]", path, i++);
				walk(k, it, p, e, depth + 1);
				if (e->n > OG_JSCHEMA_MAX_ERRORS * 4)
					break;	/* enough to tell the model; stop burning time */
			}
		}
	}

	/* objects */
	if (cJSON_IsObject(v)) {
		const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
		const cJSON *addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
		const cJSON *it;
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "required"))) {
			cJSON_ArrayForEach(it, k) {
				if (cJSON_IsString(it) && !cJSON_GetObjectItemCaseSensitive(v, it->valuestring))
					add_err(e, path, "\"%s\" is required", it->valuestring);
			}
		}
		cJSON_ArrayForEach(it, v) {
			const cJSON *sub = props ? cJSON_GetObjectItemCaseSensitive(props, it->string) : NULL;
			char p[1024];
			path_key(p, sizeof(p), path, it->string ? it->string : "");
			if (sub)
				walk(sub, it, p, e, depth + 1);
			else if (cJSON_IsFalse(addl))
				add_err(e, path, "\"%s\" is not allowed (no such property%s)", it->string,
					props ? "; see the schema's properties" : "");
			else if (cJSON_IsObject(addl))
				walk(addl, it, p, e, depth + 1);
		}
	}
}

static void walk(const cJSON *s, const cJSON *v, const char *path, struct errs *e, int depth)
{
	if (depth > 64) {
		add_err(e, path, "nested deeper than 64 levels");
		return;
	}
	if (cJSON_IsTrue(s))
		return;
	if (cJSON_IsFalse(s)) {
		add_err(e, path, "no value is allowed here");
		return;
	}
	if (!cJSON_IsObject(s)) {
		add_err(e, path, "schema error: a schema must be an object or a boolean");
		return;
	}
	walk_keywords(s, v, path, e, depth);
}

int og_jschema_validate(const cJSON *schema, const cJSON *v, struct og_err *err)
{
	struct errs e = { 0 };

	e.err = err;
	if (!v)
		return og_err_set(err, -OG_EINVAL, "$: no value");
	walk(schema, v, "$", &e, 0);
	if (!e.n)
		return 0;
	if (e.n > OG_JSCHEMA_MAX_ERRORS)
		return og_err_set(err, -OG_EINVAL, "%s (and %d more)", e.buf, e.n - OG_JSCHEMA_MAX_ERRORS);
	return og_err_set(err, -OG_EINVAL, "%s", e.buf);
}

/* ---- checking a schema ---------------------------------------------------------- */

static int check_at(const cJSON *s, const char *sp, struct og_err *err, int depth)
{
	static const char *const numeric[] = { "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", NULL };
	static const char *const counts[] = { "minItems", "maxItems", "minLength", "maxLength", NULL };
	const cJSON *k, *it;
	char p[1024];
	int i, rc;

	if (depth > 64)
		return og_err_set(err, -OG_EINVAL, "schema %s: nested deeper than 64 levels", sp);
	if (cJSON_IsBool(s))
		return 0;
	if (!cJSON_IsObject(s))
		return og_err_set(err, -OG_EINVAL, "schema %s: a schema must be an object or true/false (got %s)", sp,
				  type_name(s));
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "type"))) {
		if (cJSON_IsString(k)) {
			if (strcmp(k->valuestring, "null") && strcmp(k->valuestring, "boolean") &&
			    strcmp(k->valuestring, "number") && strcmp(k->valuestring, "integer") &&
			    strcmp(k->valuestring, "string") && strcmp(k->valuestring, "array") &&
			    strcmp(k->valuestring, "object"))
				return og_err_set(err, -OG_EINVAL, "schema %s/type: unknown type \"%s\" (use null, boolean, "
						  "number, integer, string, array or object)", sp, k->valuestring);
		} else if (cJSON_IsArray(k)) {
			cJSON_ArrayForEach(it, k) if (!cJSON_IsString(it))
				return og_err_set(err, -OG_EINVAL, "schema %s/type: a list of type names must hold "
						  "only strings", sp);
		} else {
			return og_err_set(err, -OG_EINVAL, "schema %s/type: must be a type name or a list of them", sp);
		}
	}
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "enum")) && !cJSON_IsArray(k))
		return og_err_set(err, -OG_EINVAL, "schema %s/enum: must be an array", sp);
	for (i = 0; numeric[i]; i++)
		if ((k = cJSON_GetObjectItemCaseSensitive(s, numeric[i])) && !cJSON_IsNumber(k))
			return og_err_set(err, -OG_EINVAL, "schema %s/%s: must be a number", sp, numeric[i]);
	for (i = 0; counts[i]; i++)
		if ((k = cJSON_GetObjectItemCaseSensitive(s, counts[i])) && (!is_integer(k) || k->valuedouble < 0))
			return og_err_set(err, -OG_EINVAL, "schema %s/%s: must be a non-negative integer", sp, counts[i]);
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "required"))) {
		if (!cJSON_IsArray(k))
			return og_err_set(err, -OG_EINVAL, "schema %s/required: must be an array of property names", sp);
		cJSON_ArrayForEach(it, k) if (!cJSON_IsString(it))
			return og_err_set(err, -OG_EINVAL, "schema %s/required: must hold only strings", sp);
	}
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "pattern"))) {
		regex_t rx;
		char why[300];
		if (!cJSON_IsString(k))
			return og_err_set(err, -OG_EINVAL, "schema %s/pattern: must be a string", sp);
		if (compile_pattern(k->valuestring, &rx, why, sizeof(why)) < 0)
			return og_err_set(err, -OG_EINVAL, "schema %s/pattern: %s", sp, why);
		regfree(&rx);
	}
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "properties"))) {
		if (!cJSON_IsObject(k))
			return og_err_set(err, -OG_EINVAL, "schema %s/properties: must be an object", sp);
		cJSON_ArrayForEach(it, k) {
			snprintf(p, sizeof(p), "%s/properties/%s", sp, it->string);
			if ((rc = check_at(it, p, err, depth + 1)) < 0)
				return rc;
		}
	}
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "items"))) {
		snprintf(p, sizeof(p), "%s/items", sp);
		if (cJSON_IsArray(k))
			return og_err_set(err, -OG_EINVAL, "schema %s: tuple items (a list of schemas) are not supported; "
					  "give one schema for every item", p);
		if ((rc = check_at(k, p, err, depth + 1)) < 0)
			return rc;
	}
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties"))) {
		snprintf(p, sizeof(p), "%s/additionalProperties", sp);
		if ((rc = check_at(k, p, err, depth + 1)) < 0)
			return rc;
	}
	return 0;
}

int og_jschema_check(const cJSON *schema, struct og_err *err)
{
	if (!schema)
		return og_err_set(err, -OG_EINVAL, "schema: missing");
	return check_at(schema, "#", err, 0);
}
