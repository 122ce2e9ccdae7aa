/*
 * redact.h: what must not reach an external LLM is swapped for random
 * tokens before a prompt leaves the process, and swapped back in the answer
 * (engine/lua/lapi_llm.c). The structure stays, so the model can still
 * reason about it:
 *
 *   jdbc:mysql://app:s3cret@real-database-url.com:3306/real_db
 *     -> jdbc:mysql://k3v9aq:p0q7rbz2mw1x@xcu2t3cc3xz:3306/c4ysd7
 *
 * Found: URLs with a scheme (user, password, host; for database schemes
 * (jdbc:*, mysql, postgres(ql), mongodb(+srv), redis(s), amqp(s), mariadb,
 * sqlserver, oracle, clickhouse) also the path segments, i.e. the database
 * name; the port and scheme stay), e-mail addresses, IPv4 and IPv6 addresses
 * (loopback and 0.0.0.0 stay), host names (dotted names whose last label is
 * a known top-level or internal domain: com, net, io, internal, local, svc,
 * ...), Slack tokens (xox?-), AWS access key ids (AKIA/ASIA...), GitHub
 * (gh?_) and OpenAI-style (sk-) keys, JWTs, Google API keys, PEM private
 * keys, the credential after "Bearer " / "Basic ", values of secret-named
 * keys (password=, "token": "...", api_key: ...), and long mixed-case
 * alphanumeric runs (32+ characters with upper, lower and digits).
 *
 * A value keeps one token for the life of the og_redact (one per VM, so
 * one per run): the same host is the same token in every prompt, and a
 * token of one kind keeps the shape of the kind (an IPv4 becomes an address
 * in 198.18.0.0/15, an IPv6 one in 2001:db8::/32, a Slack token keeps its
 * xoxb- prefix). Tokens are drawn from a generator seeded by getrandom, so
 * they differ from run to run and cannot be reversed.
 *
 * The mapping lives only in this process's memory: it is never written,
 * logged or journaled, and og_redact_free wipes it.
 */
#ifndef OG_REDACT_H
#define OG_REDACT_H

#include <stddef.h>

#include <cJSON.h>

struct og_redact;

/* A new, empty mapping; NULL when memory runs out. */
struct og_redact *og_redact_new(void);
/* Wipes and frees the mapping. NULL is a no-op. */
void og_redact_free(struct og_redact *r);

/* text (len bytes) with every sensitive value replaced by its token, a new
 * NUL-terminated string to free() (*out_len, when not NULL, gets its
 * length); NULL when memory runs out. */
char *og_redact_text(struct og_redact *r, const char *text, size_t len, size_t *out_len);

/* Redacts every string (values and object keys) of v in place. Returns 0, or
 * -1 when memory runs out (v may then be partly redacted: do not send it). */
int og_redact_json(struct og_redact *r, cJSON *v);

/* text with every token of r replaced by the value it stands for; a new
 * string to free(), NULL when memory runs out. */
char *og_redact_restore(const struct og_redact *r, const char *text, size_t len, size_t *out_len);

/* og_redact_restore on every string (values and keys) of v, in place.
 * Returns the number of tokens restored, or -1 when memory runs out. */
int og_redact_restore_json(const struct og_redact *r, cJSON *v);

/* How many distinct values r holds. */
size_t og_redact_count(const struct og_redact *r);

#endif
