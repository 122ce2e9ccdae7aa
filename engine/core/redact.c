/*
 * redact.c: the scanner and the mapping of redact.h. The scanner walks the
 * text once; at each position that starts a word it tries the matchers from
 * the most specific (a PEM block, a URL, an e-mail) to the most general (a
 * host name, a long mixed-case run), and copies the text through when none
 * matches. Hand-written matchers rather than regcomp: a prompt can be tens
 * of kilobytes, and each matcher looks at a few bytes before it gives up.
 */
#include "redact.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

enum kind { K_HOST, K_USER, K_SECRET, K_IP4, K_IP6, K_PATH };

struct entry {
	enum kind kind;
	char *real;
	char *token;
	size_t real_len, token_len;
};

struct og_redact {
	struct entry *e;
	size_t n, cap;
	uint64_t rng;
};

struct out {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->cap - o->len <= n) {
		size_t cap = (o->cap ? o->cap * 2 : 256) + n;
		char *p = realloc(o->p, cap);
		if (!p) {
			o->failed = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/* ---- the mapping ------------------------------------------------------------- */

struct og_redact *og_redact_new(void)
{
	struct og_redact *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (getrandom(&r->rng, sizeof(r->rng), 0) != (ssize_t)sizeof(r->rng))
		r->rng = (uint64_t)(uintptr_t)r ^ 0x9e3779b97f4a7c15ULL;
	if (!r->rng)
		r->rng = 1;
	return r;
}

void og_redact_free(struct og_redact *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		explicit_bzero(r->e[i].real, r->e[i].real_len);
		free(r->e[i].real);
		free(r->e[i].token);
	}
	free(r->e);
	explicit_bzero(r, sizeof(*r));
	free(r);
}

size_t og_redact_count(const struct og_redact *r)
{
	return r ? r->n : 0;
}

static uint64_t rnd(struct og_redact *r)
{
	/* xorshift64*: a token needs to be unguessable from the others only
	 * in the sense that it carries nothing of the value; the seed is
	 * from getrandom */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545F4914F6CDD1DULL;
}

/* n random lowercase letters and digits, a letter first and at least one digit */
static void rand_word(struct og_redact *r, char *buf, size_t n, const char *alphabet)
{
	size_t i, alen = strlen(alphabet);
	bool digit = false;

	for (i = 0; i < n; i++) {
		char c = alphabet[rnd(r) % alen];
		if (i == 0)
			c = (char)('a' + rnd(r) % 26);
		if (c >= '0' && c <= '9')
			digit = true;
		if (alphabet[0] == 'A' && c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		buf[i] = c;
	}
	if (!digit && n > 1)
		buf[1 + rnd(r) % (n - 1)] = (char)('0' + rnd(r) % 10);
	buf[n] = '\0';
}

static const char LOWER_ALNUM[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char UPPER_ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
static const char MIXED_ALNUM[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* a token of the kind's shape for real (the prefix of a known key kind stays) */
static void make_token(struct og_redact *r, enum kind k, const char *real, size_t len, char *tok, size_t cap)
{
	char w[64];

	switch (k) {
	case K_HOST:
		rand_word(r, w, 11, LOWER_ALNUM);
		snprintf(tok, cap, "%s", w);
		break;
	case K_USER:
	case K_PATH:
		rand_word(r, w, 6, LOWER_ALNUM);
		snprintf(tok, cap, "%s", w);
		break;
	case K_IP4:
		snprintf(tok, cap, "198.%d.%d.%d", 18 + (int)(rnd(r) % 2), 1 + (int)(rnd(r) % 254),
			 1 + (int)(rnd(r) % 254));
		break;
	case K_IP6:
		snprintf(tok, cap, "2001:db8::%x:%x", (unsigned)(rnd(r) % 0xfff0) + 16, (unsigned)(rnd(r) % 0xfff0) + 16);
		break;
	case K_SECRET: {
		size_t keep = 0, n = len < 12 ? 12 : len > 40 ? 40 : len;
		if (len > 5 && !strncmp(real, "xox", 3) && real[4] == '-')
			keep = 5;
		else if (len > 4 && (!strncmp(real, "AKIA", 4) || !strncmp(real, "ASIA", 4) || !strncmp(real, "AIza", 4)))
			keep = 4;
		else if (len > 4 && real[0] == 'g' && real[1] == 'h' && real[3] == '_')
			keep = 4;
		else if (len > 3 && !strncmp(real, "sk-", 3))
			keep = 3;
		n = n > keep + 8 ? n - keep : 8;
		rand_word(r, w, n < sizeof(w) - 1 ? n : sizeof(w) - 1,
			  keep == 4 && real[0] == 'A' && real[1] != 'I' ? UPPER_ALNUM : MIXED_ALNUM);
		snprintf(tok, cap, "%.*s%s", (int)keep, real, w);
		break;
	}
	}
}

/* the token of real (made on first sight); NULL when memory runs out */
static const struct entry *lookup(struct og_redact *r, enum kind k, const char *real, size_t len, const char *text)
{
	char tok[96];
	size_t i;
	int tries;

	for (i = 0; i < r->n; i++)
		if (r->e[i].real_len == len && !memcmp(r->e[i].real, real, len))
			return &r->e[i];
	for (tries = 0; tries < 100; tries++) {
		bool clash = false;
		make_token(r, k, real, len, tok, sizeof(tok));
		/* a token must not be another token, a value, or text already
		 * in the prompt: restore would turn it into something else */
		for (i = 0; i < r->n && !clash; i++)
			clash = strstr(r->e[i].token, tok) || strstr(tok, r->e[i].token) ||
				(r->e[i].real_len == strlen(tok) && !memcmp(r->e[i].real, tok, r->e[i].real_len));
		if (!clash && !strstr(text, tok))
			break;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct entry *e = realloc(r->e, cap * sizeof(*e));
		if (!e)
			return NULL;
		r->e = e;
		r->cap = cap;
	}
	{
		struct entry *e = &r->e[r->n];
		e->kind = k;
		e->real = malloc(len + 1);
		e->token = strdup(tok);
		if (!e->real || !e->token) {
			free(e->real);
			free(e->token);
			return NULL;
		}
		memcpy(e->real, real, len);
		e->real[len] = '\0';
		e->real_len = len;
		e->token_len = strlen(tok);
		r->n++;
		return e;
	}
}

/* ---- character classes ------------------------------------------------------- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_host_char(char c)
{
	return is_alnum(c) || c == '-';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_token_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

/* ---- the matchers -------------------------------------------------------------- */

struct scan {
	struct og_redact *r;
	const char *s;		/* the whole text, NUL-terminated */
	size_t n;
	struct out o;
};

/* emits the token for s[a..b) of kind k */
static void emit(struct scan *sc, enum kind k, size_t a, size_t b)
{
	const struct entry *e;

	if (b <= a)
		return;
	if (!(e = lookup(sc->r, k, sc->s + a, b - a, sc->s))) {
		sc->o.failed = true;
		return;
	}
	put(&sc->o, e->token, e->token_len);
}

static const char *const TLDS[] = {
	"com", "net", "org", "io", "co", "ai", "dev", "app", "cloud", "internal", "local", "localdomain", "lan",
	"corp", "intra", "intranet", "priv", "private", "home", "svc", "cluster", "edu", "gov", "mil", "info",
	"biz", "us", "uk", "de", "fr", "eu", "ru", "cn", "jp", "in", "br", "nl", "se", "ch", "at", "be", "es",
	"it", "pl", "ca", "au", "kr", "tw", "hk", "sg", "tv", "cc", "xyz", "tech", "site", "online", "aws",
	"amazonaws", "azure", "gcp", "test", "example", "invalid", "prod", "stage", "staging", NULL
};

static bool is_tld(const char *p, size_t n)
{
	int i;

	for (i = 0; TLDS[i]; i++)
		if (strlen(TLDS[i]) == n && !strncasecmp(TLDS[i], p, n))
			return true;
	return false;
}

/* length of a dotted host name at p (labels of [A-Za-z0-9-], >= 2 labels),
 * or 0; with any_tld false the last label must be a known domain */
static size_t host_len(const char *p, size_t avail, bool any_tld)
{
	size_t i = 0, labels = 0, last = 0;

	for (;;) {
		size_t st = i;
		while (i < avail && is_host_char(p[i]))
			i++;
		if (i == st || p[st] == '-')
			break;
		labels++;
		last = st;
		if (i + 1 < avail && p[i] == '.' && is_alnum(p[i + 1]))
			i++;
		else
			break;
	}
	if (labels == 0)
		return 0;
	if (i > 0 && p[i - 1] == '-')
		return 0;
	if (labels < 2 && !any_tld)
		return 0;
	if (!any_tld) {
		size_t k;
		for (k = last; k < i; k++)
			if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z')))
				return 0;
		if (!is_tld(p + last, i - last))
			return 0;
	}
	return i;
}

/* an IPv4 address at p (not part of a longer dotted run): its length or 0 */
static size_t ip4_len(const char *p, size_t avail)
{
	char buf[16];
	struct in_addr a;
	size_t i = 0;

	while (i < avail && i < 16 && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
		i++;
	while (i > 0 && p[i - 1] == '.')
		i--;
	if (i < 7 || i > 15 || (i < avail && (is_alnum(p[i]) || (p[i] == '.' && i + 1 < avail && is_alnum(p[i + 1])))))
		return 0;
	memcpy(buf, p, i);
	buf[i] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return 0;
	return i;
}

static bool ip4_is_public_enough(const char *p, size_t n)
{
	/* loopback and the any-address carry nothing */
	return !(n >= 4 && !strncmp(p, "127.", 4)) && !(n == 7 && !strncmp(p, "0.0.0.0", 7));
}

static size_t ip6_len(const char *p, size_t avail)
{
	char buf[64];
	struct in6_addr a;
	size_t i = 0, colons = 0;

	while (i < avail && i < 45 && (is_hex(p[i]) || p[i] == ':' || p[i] == '.')) {
		colons += p[i] == ':';
		i++;
	}
	if (colons < 2)
		return 0;
	while (i > 0) {
		memcpy(buf, p, i);
		buf[i] = '\0';
		if ((i >= avail || !is_alnum(p[i])) && inet_pton(AF_INET6, buf, &a) == 1)
			return strcmp(buf, "::1") && strcmp(buf, "::") ? i : 0;
		if (p[i - 1] != ':' && p[i - 1] != '.')
			break;	/* only a trailing ':' (a port separator) is worth trimming */
		i--;
	}
	return 0;
}

static bool starts(const char *p, size_t avail, const char *w)
{
	size_t n = strlen(w);
	return avail >= n && !strncmp(p, w, n);
}

static bool istarts(const char *p, size_t avail, const char *w)
{
	size_t n = strlen(w);
	return avail >= n && !strncasecmp(p, w, n);
}

static const char *const DB_SCHEMES[] = {
	"mysql", "postgres", "postgresql", "mongodb", "mongodb+srv", "redis", "rediss", "amqp", "amqps",
	"mariadb", "sqlserver", "oracle", "clickhouse", "cassandra", "memcached", "mssql", NULL
};

/* the host part [a, b) of a URL authority */
static void emit_host(struct scan *sc, size_t a, size_t b)
{
	const char *h = sc->s + a;
	size_t n = b - a;

	if (n == 0)
		return;
	if (h[0] == '[' && h[n - 1] == ']') {
		put(&sc->o, "[", 1);
		if (ip6_len(h + 1, n - 2) == n - 2)
			emit(sc, K_IP6, a + 1, b - 1);
		else
			put(&sc->o, h + 1, n - 2);
		put(&sc->o, "]", 1);
		return;
	}
	if ((n == 9 && !strncasecmp(h, "localhost", 9)) || (ip4_len(h, n) == n && !ip4_is_public_enough(h, n))) {
		put(&sc->o, h, n);
		return;
	}
	emit(sc, ip4_len(h, n) == n ? K_IP4 : K_HOST, a, b);
}

static bool url_end(char c)
{
	return !c || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' ||
	       c == '>' || c == '`' || c == '\\' || c == ')' || c == ']' || c == '}' || c == ',';
}

/* scheme://[user[:pass]@]host[:port][/path]: handles it and returns the end, or 0 */
static size_t match_url(struct scan *sc, size_t i)
{
	const char *s = sc->s;
	size_t j = i, scheme_end, auth, at = 0, hend, k, colon = 0;
	bool db = false;
	int m;

	if (starts(s + j, sc->n - j, "jdbc:"))
		j += 5, db = true;
	if (!((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')))
		return 0;
	while (j < sc->n && (is_alnum(s[j]) || s[j] == '+' || s[j] == '.' || s[j] == '-'))
		j++;
	if (!starts(s + j, sc->n - j, "://"))
		return 0;
	scheme_end = j;
	for (m = 0; DB_SCHEMES[m] && !db; m++) {
		size_t l = strlen(DB_SCHEMES[m]);
		if (scheme_end - i == l && !strncasecmp(s + i, DB_SCHEMES[m], l))
			db = true;
	}
	auth = j + 3;
	/* the authority ends at / ? # or the end of the URL */
	for (k = auth; k < sc->n && !url_end(s[k]) && s[k] != '/' && s[k] != '?' && s[k] != '#'; k++)
		if (s[k] == '@')
			at = k;
	hend = k;
	put(&sc->o, s + i, auth - i);				/* scheme:// */
	if (at) {
		for (k = auth; k < at; k++)
			if (s[k] == ':') {
				colon = k;
				break;
			}
		if (colon) {
			emit(sc, K_USER, auth, colon);
			put(&sc->o, ":", 1);
			emit(sc, K_SECRET, colon + 1, at);
		} else {
			emit(sc, K_USER, auth, at);
		}
		put(&sc->o, "@", 1);
		auth = at + 1;
	}
	/* host[:port]; a mongodb seed list has several: a,b:27017 */
	k = auth;
	while (k < hend) {
		size_t hs = k, he;
		if (s[k] == '[') {
			while (k < hend && s[k] != ']')
				k++;
			if (k < hend)
				k++;
		} else {
			while (k < hend && s[k] != ':' && s[k] != ',')
				k++;
		}
		he = k;
		emit_host(sc, hs, he);
		if (k < hend && s[k] == ':') {
			size_t ps = k;
			k++;
			while (k < hend && s[k] >= '0' && s[k] <= '9')
				k++;
			put(&sc->o, s + ps, k - ps);
		}
		if (k < hend && s[k] == ',') {
			put(&sc->o, ",", 1);
			k++;
		} else if (k < hend) {
			put(&sc->o, s + k, hend - k);		/* odd authority: keep the rest */
			k = hend;
		}
	}
	if (!db)
		return hend;	/* the path goes through the general scanner */
	/* a database URL: every path segment is a name (database, collection) */
	k = hend;
	while (k < sc->n && s[k] == '/') {
		size_t st;
		put(&sc->o, "/", 1);
		st = ++k;
		while (k < sc->n && !url_end(s[k]) && s[k] != '/' && s[k] != '?' && s[k] != '#' && s[k] != ';')
			k++;
		emit(sc, K_PATH, st, k);
	}
	return k;
}

/* local@domain: handles it and returns the end, or 0 */
static size_t match_email(struct scan *sc, size_t i)
{
	const char *s = sc->s;
	size_t j = i, h;

	while (j < sc->n && (is_alnum(s[j]) || s[j] == '.' || s[j] == '_' || s[j] == '%' || s[j] == '+' || s[j] == '-'))
		j++;
	if (j == i || j >= sc->n || s[j] != '@')
		return 0;
	if (!(h = host_len(s + j + 1, sc->n - j - 1, false)))
		return 0;
	emit(sc, K_USER, i, j);
	put(&sc->o, "@", 1);
	emit(sc, K_HOST, j + 1, j + 1 + h);
	return j + 1 + h;
}

static size_t run_of(const char *s, size_t i, size_t n, bool (*ok)(char))
{
	size_t j = i;

	while (j < n && ok(s[j]))
		j++;
	return j - i;
}

static bool is_key_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

static bool is_upper_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* a key of a known format at i: its length or 0 */
static size_t known_key(const char *s, size_t i, size_t n)
{
	const char *p = s + i;
	size_t avail = n - i, l;

	if (avail > 5 && p[0] == 'x' && p[1] == 'o' && p[2] == 'x' && strchr("abposre", p[3]) && p[4] == '-' &&
	    (l = run_of(s, i, n, is_key_char)) >= 15)
		return l;
	if (starts(p, avail, "xapp-") && (l = run_of(s, i, n, is_key_char)) >= 15)
		return l;
	if ((starts(p, avail, "AKIA") || starts(p, avail, "ASIA")) && run_of(s, i, n, is_upper_alnum) == 20)
		return 20;
	if (avail > 4 && p[0] == 'g' && p[1] == 'h' && strchr("pousr", p[2]) && p[3] == '_' &&
	    (l = run_of(s, i, n, is_key_char)) >= 24)
		return l;
	if ((starts(p, avail, "sk-") || starts(p, avail, "glpat-")) && (l = run_of(s, i, n, is_key_char)) >= 23)
		return l;
	if (starts(p, avail, "AIza") && (l = run_of(s, i, n, is_key_char)) >= 35)
		return l;
	if (starts(p, avail, "eyJ")) {		/* a JWT: three base64url parts */
		size_t j = i, parts = 0;
		for (;;) {
			size_t r = run_of(s, j, n, is_key_char);
			if (r < 4)
				break;
			parts++;
			j += r;
			if (j < n && s[j] == '.' && parts < 3)
				j++;
			else
				break;
		}
		if (parts == 3)
			return j - i;
	}
	return 0;
}

static const char *const SECRET_KEYS[] = {
	"password", "passwd", "pwd", "pass", "secret", "token", "api_key", "apikey", "api-key", "access_key",
	"access_key_id", "secret_key", "secret_access_key", "access_token", "refresh_token", "id_token",
	"client_secret", "private_key", "auth_token", "x-api-key", "session_token", "sessionid", NULL
};

/* key=value, key: value, "key": "value" with a secret-named key: handles
 * it (the key is copied, the value replaced) and returns the end, or 0 */
static size_t match_secret_kv(struct scan *sc, size_t i)
{
	const char *s = sc->s;
	size_t j = i, kend, v, ve;
	int m;
	bool found = false;

	while (j < sc->n && is_key_char(s[j]))
		j++;
	kend = j;
	for (m = 0; SECRET_KEYS[m]; m++) {
		size_t l = strlen(SECRET_KEYS[m]);
		/* the key, or a key ending in _key-word: db_password, SLACK_TOKEN */
		if (kend - i >= l && !strncasecmp(s + kend - l, SECRET_KEYS[m], l) &&
		    (kend - i == l || s[kend - l - 1] == '_' || s[kend - l - 1] == '-')) {
			found = true;
			break;
		}
	}
	if (!found || kend == i)
		return 0;
	if (j < sc->n && (s[j] == '"' || s[j] == '\''))
		j++;
	while (j < sc->n && s[j] == ' ')
		j++;
	if (j >= sc->n || (s[j] != '=' && s[j] != ':'))
		return 0;
	j++;
	while (j < sc->n && s[j] == ' ')
		j++;
	if (j < sc->n && (s[j] == '"' || s[j] == '\''))
		j++;
	v = j;
	while (j < sc->n && !url_end(s[j]) && s[j] != '&' && s[j] != ';')
		j++;
	ve = j;
	if (ve == v)
		return 0;
	/* "Bearer x" after the key: the general scanner handles the word */
	if (istarts(s + v, ve - v, "bearer") || istarts(s + v, ve - v, "basic"))
		return 0;
	put(&sc->o, s + i, v - i);
	emit(sc, K_SECRET, v, ve);
	return ve;
}

/* Bearer <credential> / Basic <credential> */
static size_t match_auth_scheme(struct scan *sc, size_t i)
{
	const char *s = sc->s;
	size_t w, j, l;

	if (istarts(s + i, sc->n - i, "bearer "))
		w = 7;
	else if (istarts(s + i, sc->n - i, "basic "))
		w = 6;
	else
		return 0;
	j = i + w;
	while (j < sc->n && s[j] == ' ')
		j++;
	l = run_of(s, j, sc->n, is_token_char);
	if (l < 8)
		return 0;
	put(&sc->o, s + i, j - i);
	emit(sc, K_SECRET, j, j + l);
	return j + l;
}

static bool is_b64_char(char c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '+' || c == '/' || c == '=';
}

/* 32+ characters of base64-ish text with upper, lower and digits */
static size_t generic_secret(const char *s, size_t i, size_t n)
{
	size_t l = run_of(s, i, n, is_b64_char), k;
	bool up = false, lo = false, dg = false;

	if (l < 32)
		return 0;
	for (k = i; k < i + l; k++) {
		up |= s[k] >= 'A' && s[k] <= 'Z';
		lo |= s[k] >= 'a' && s[k] <= 'z';
		dg |= s[k] >= '0' && s[k] <= '9';
	}
	return up && lo && dg ? l : 0;
}

static size_t match_pem(struct scan *sc, size_t i)
{
	const char *s = sc->s, *end;

	if (!starts(s + i, sc->n - i, "-----BEGIN ") || !strstr(s + i, "PRIVATE KEY-----"))
		return 0;
	if (!(end = strstr(s + i + 11, "-----END ")))
		return 0;
	if (!(end = strstr(end + 9, "-----")))
		return 0;
	emit(sc, K_SECRET, i, (size_t)(end + 5 - s));
	return (size_t)(end + 5 - s);
}

/* one step of the scan at i: handles a match and returns its end, else 0 */
static size_t match_at(struct scan *sc, size_t i)
{
	const char *s = sc->s, *p = s + i;
	size_t avail = sc->n - i, l;

	if (*p == '-' && (l = match_pem(sc, i)))
		return l;
	if ((l = match_url(sc, i)))
		return l;
	if ((l = known_key(s, i, sc->n))) {
		emit(sc, K_SECRET, i, i + l);
		return i + l;
	}
	if ((l = match_auth_scheme(sc, i)))
		return l;
	if ((l = match_secret_kv(sc, i)))
		return l;
	if ((l = match_email(sc, i)))
		return l;
	if (is_hex(*p) || *p == ':') {
		if ((l = ip6_len(p, avail))) {
			emit(sc, K_IP6, i, i + l);
			return i + l;
		}
	}
	if (*p >= '0' && *p <= '9' && (l = ip4_len(p, avail))) {
		if (ip4_is_public_enough(p, l))
			emit(sc, K_IP4, i, i + l);
		else
			put(&sc->o, p, l);
		return i + l;
	}
	if (is_alnum(*p) && (l = host_len(p, avail, false)) && !(i + l < sc->n && (s[i + l] == '@'))) {
		emit(sc, K_HOST, i, i + l);
		return i + l;
	}
	if ((l = generic_secret(s, i, sc->n))) {
		emit(sc, K_SECRET, i, i + l);
		return i + l;
	}
	return 0;
}

/* may a match start at i? not inside a word, a dotted name or a number */
static bool word_start(const char *s, size_t i)
{
	char c;

	if (i == 0)
		return true;
	c = s[i - 1];
	return !(is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '@' || c == '+' || c == '/' || c == '=');
}

char *og_redact_text(struct og_redact *r, const char *text, size_t len, size_t *out_len)
{
	struct scan sc = { 0 };
	char *copy = NULL;
	size_t i = 0;

	/* the matchers read the text as a C string: work on a copy when it is
	 * not terminated, or holds a NUL */
	if (memchr(text, '\0', len) || text[len] != '\0') {
		if (!(copy = malloc(len + 1)))
			return NULL;
		memcpy(copy, text, len);
		copy[len] = '\0';
		text = copy;
	}
	sc.r = r;
	sc.s = text;
	sc.n = len;
	put(&sc.o, "", 0);
	while (i < len && !sc.o.failed) {
		size_t e;
		if (word_start(text, i) && (e = match_at(&sc, i)) > i) {
			i = e;
			continue;
		}
		/* copy through to the next place a match may start */
		{
			size_t j = i + 1;
			while (j < len && !word_start(text, j))
				j++;
			put(&sc.o, text + i, j - i);
			i = j;
		}
	}
	free(copy);
	if (sc.o.failed) {
		free(sc.o.p);
		return NULL;
	}
	if (out_len)
		*out_len = sc.o.len;
	return sc.o.p;
}

/* ---- restoring --------------------------------------------------------------- */

char *og_redact_restore(const struct og_redact *r, const char *text, size_t len, size_t *out_len)
{
	struct out o = { 0 };
	size_t i = 0, start = 0;

	put(&o, "", 0);
	while (i < len) {
		const struct entry *best = NULL;
		size_t k;
		if (i == 0 || !is_alnum(text[i - 1])) {
			for (k = 0; k < r->n; k++) {
				const struct entry *e = &r->e[k];
				if (e->token_len <= len - i && e->token[0] == text[i] &&
				    !memcmp(text + i, e->token, e->token_len) &&
				    (i + e->token_len == len || !is_alnum(text[i + e->token_len])) &&
				    (!best || e->token_len > best->token_len))
					best = e;
			}
		}
		if (best) {
			put(&o, text + start, i - start);
			put(&o, best->real, best->real_len);
			i += best->token_len;
			start = i;
		} else {
			i++;
		}
	}
	put(&o, text + start, len - start);
	if (o.failed) {
		free(o.p);
		return NULL;
	}
	if (out_len)
		*out_len = o.len;
	return o.p;
}

/* replaces *sp (a cJSON-owned string) by f(*sp); -1 on memory failure */
static int swap_string(char **sp, bool restore, struct og_redact *r, int *changed)
{
	size_t n = strlen(*sp), m;
	char *t = restore ? og_redact_restore(r, *sp, n, &m) : og_redact_text(r, *sp, n, &m);
	char *c;

	if (!t)
		return -1;
	if (m == n && !memcmp(t, *sp, n)) {
		free(t);
		return 0;
	}
	if (!(c = cJSON_malloc(m + 1))) {
		free(t);
		return -1;
	}
	memcpy(c, t, m + 1);
	free(t);
	cJSON_free(*sp);
	*sp = c;
	(*changed)++;
	return 0;
}

static int walk(cJSON *v, bool restore, struct og_redact *r, int *changed, int depth)
{
	cJSON *it;

	if (depth > 200)
		return 0;
	if (v->string && !(v->type & cJSON_StringIsConst) && swap_string(&v->string, restore, r, changed) < 0)
		return -1;
	if (cJSON_IsString(v) && v->valuestring && swap_string(&v->valuestring, restore, r, changed) < 0)
		return -1;
	for (it = v->child; it; it = it->next)
		if (walk(it, restore, r, changed, depth + 1) < 0)
			return -1;
	return 0;
}

int og_redact_json(struct og_redact *r, cJSON *v)
{
	int changed = 0;

	return v ? walk(v, false, r, &changed, 0) : 0;
}

int og_redact_restore_json(const struct og_redact *r, cJSON *v)
{
	int changed = 0;

	/* restore never adds entries: the cast only lets walk share code */
	if (v && walk(v, true, (struct og_redact *)r, &changed, 0) < 0)
		return -1;
	return changed;
}
