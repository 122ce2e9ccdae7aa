/*
 * test_redact.c: engine/core/redact.c. Every kind of sensitive value is
 * gone from the redacted text and comes back in a round trip; structure
 * (schemes, ports, prefixes) stays; one value keeps one token; tokens inside
 * a JSON answer are restored; ordinary prose is left alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/redact.h"
#include "../test.h"

static char *red(struct og_redact *r, const char *s)
{
	return og_redact_text(r, s, strlen(s), NULL);
}

static char *back(struct og_redact *r, const char *s)
{
	return og_redact_restore(r, s, strlen(s), NULL);
}

/* redacts s, checks that none of the secrets survive and that the round trip gives s back */
static void round_trip(const char *s, const char *const *secrets, const char *const *kept)
{
	struct og_redact *r = og_redact_new();
	char *t = red(r, s), *b;
	int i;

	CHECK(t != NULL);
	if (!t) {
		og_redact_free(r);
		return;
	}
	for (i = 0; secrets[i]; i++) {
		CHECK(strstr(t, secrets[i]) == NULL);
		if (strstr(t, secrets[i]))
			fprintf(stderr, "  '%s' survived in: %s\n", secrets[i], t);
	}
	for (i = 0; kept && kept[i]; i++)
		CHECK_CONTAINS(t, kept[i]);
	b = back(r, t);
	CHECK_STR(b, s);
	free(t);
	free(b);
	og_redact_free(r);
}

static void test_kinds(void)
{
	round_trip("jdbc:mysql://real-database-url.com:3306/real_db",
		   (const char *const[]){ "real-database-url", "real_db", NULL },
		   (const char *const[]){ "jdbc:mysql://", ":3306/", NULL });
	round_trip("conn postgres://app:s3cr3t-pw@db-1.prod.internal:5432/orders?sslmode=require failed",
		   (const char *const[]){ "app:", "s3cr3t-pw", "db-1", "prod.internal", "orders", NULL },
		   (const char *const[]){ "postgres://", ":5432/", "sslmode=require failed", "conn ", NULL });
	round_trip("GET https://admin:hunter22@grafana.example.com/d/abc?token=Zx81kQ called",
		   (const char *const[]){ "admin", "hunter22", "grafana", "Zx81kQ", NULL },
		   (const char *const[]){ "https://", "/d/abc?token=", NULL });
	round_trip("upstream 10.2.3.4:8080 and [fe80::1ff:fe23:4567:890a]:443 and 2001:4860:4860::8888 down",
		   (const char *const[]){ "10.2.3.4", "fe80::1ff", "2001:4860", NULL },
		   (const char *const[]){ ":8080", "]:443", "upstream ", NULL });
	round_trip("mail alice.smith@corp.example.com or bob@payments.io now",
		   (const char *const[]){ "alice", "corp.example", "bob", "payments.io", NULL },
		   (const char *const[]){ "mail ", NULL });
	round_trip("slack xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp aws AKIAIOSFODNN7EXAMPLE gh ghp_abcdefghijklmnopqrstuvwxyz0123",
		   (const char *const[]){ "1234567890-0987654321", "IOSFODNN7EXAMPLE", "abcdefghijklmnopqrstuvwxyz0123", NULL },
		   (const char *const[]){ "xoxb-", "AKIA", "ghp_", NULL });
	round_trip("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl and Basic dXNlcjpwYXNz",
		   (const char *const[]){ "eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl", "dXNlcjpwYXNz", NULL },
		   (const char *const[]){ "Authorization: Bearer ", "Basic ", NULL });
	round_trip("DB_PASSWORD=pa55word api_key: 'k-123' {\"client_secret\": \"abc123\"} secret=xyz",
		   (const char *const[]){ "pa55word", "k-123", "abc123", "xyz", NULL },
		   (const char *const[]){ "DB_PASSWORD=", "api_key: '", "\"client_secret\": \"", NULL });
	round_trip("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end",
		   (const char *const[]){ "wJalrXUtnFEMI", NULL }, (const char *const[]){ "key ", " end", NULL });
	round_trip("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- after",
		   (const char *const[]){ "MIIEow", NULL }, (const char *const[]){ " after", NULL });
	round_trip("redis://cache-7.svc.cluster.local:6379/0 timed out",
		   (const char *const[]){ "cache-7", "cluster.local", NULL }, (const char *const[]){ "redis://", ":6379/", NULL });
}

static void test_prose_untouched(void)
{
	static const char *const texts[] = {
		"connection pool exhausted after 3000ms (98% of 50 in use) on payment-service",
		"db.statement SELECT * FROM orders WHERE id = ?; http.url /api/pay; peer.service stripe",
		"latency p99 4200 ms at 2026-11-24T14:03:05Z, error rate 0.12 (baseline 0.004), v1.2.3",
		"localhost:8080 and 127.0.0.1:9090 and ::1 are local; see app.log and config.json",
		NULL
	};
	struct og_redact *r = og_redact_new();
	int i;

	for (i = 0; texts[i]; i++) {
		char *t = red(r, texts[i]);
		CHECK_STR(t, texts[i]);
		free(t);
	}
	CHECK_INT(og_redact_count(r), ==, 0);
	og_redact_free(r);
}

static void test_same_token(void)
{
	struct og_redact *r = og_redact_new(), *r2 = og_redact_new();
	char *a = red(r, "host db1.corp.net down"), *b = red(r, "db1.corp.net:5432 and 10.0.0.9 and db1.corp.net");
	char *c = red(r2, "host db1.corp.net down"), tok[64] = "";

	CHECK(a && b && c);
	if (a && b && c) {
		sscanf(a, "host %63s", tok);
		CHECK_INT(strlen(tok), ==, 11);
		CHECK_CONTAINS(b, tok);
		CHECK(strstr(strstr(b, tok) + 1, tok) != NULL);	/* twice */
		CHECK(strcmp(a, c) != 0);			/* another mapping, other tokens */
		CHECK_INT(og_redact_count(r), ==, 2);
	}
	free(a);
	free(b);
	free(c);
	og_redact_free(r);
	og_redact_free(r2);
}

/* a model answer quoting tokens inside JSON strings comes back with the real values */
static void test_json_answer(void)
{
	struct og_redact *r = og_redact_new();
	char *t = red(r, "pool exhausted on jdbc:mysql://real-database-url.com:3306/real_db from 10.1.2.3");
	char host[64] = "", db[64] = "", ip[64] = "", answer[512], *s;
	cJSON *v;

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_INT(sscanf(t, "pool exhausted on jdbc:mysql://%63[^:]:3306/%63s from %63s", host, db, ip), ==, 3);
	snprintf(answer, sizeof(answer),
		 "{\"root_cause\":\"%s:3306 (%s) pool exhausted\",\"evidence\":[\"client %s\",\"%sx is not a token\"],"
		 "\"%s\":1}", host, db, ip, host, db);
	v = cJSON_Parse(answer);
	CHECK(v != NULL);
	CHECK_INT(og_redact_restore_json(r, v), ==, 3);
	s = cJSON_PrintUnformatted(v);
	CHECK_CONTAINS(s, "{\"root_cause\":\"real-database-url.com:3306 (real_db) pool exhausted\",\"evidence\":"
			  "[\"client 10.1.2.3\",\"");
	CHECK_CONTAINS(s, "\"real_db\":1");
	CHECK_CONTAINS(s, "x is not a token");
	CHECK(strstr(s, "real-database-urlx") == NULL);
	free(s);
	cJSON_Delete(v);
	/* og_redact_json on a tree */
	v = cJSON_Parse("{\"host\":\"db9.prod.internal\",\"n\":[\"10.9.9.9\",1]}");
	CHECK_INT(og_redact_json(r, v), ==, 0);
	s = cJSON_PrintUnformatted(v);
	CHECK(s && !strstr(s, "db9") && !strstr(s, "10.9.9.9"));
	free(s);
	CHECK_INT(og_redact_restore_json(r, v), ==, 2);
	s = cJSON_PrintUnformatted(v);
	CHECK_STR(s, "{\"host\":\"db9.prod.internal\",\"n\":[\"10.9.9.9\",1]}");
	free(s);
	cJSON_Delete(v);
	free(t);
	og_redact_free(r);
}

static void test_bytes(void)
{
	struct og_redact *r = og_redact_new();
	const char in[] = "a 10.0.0.1\0b 10.0.0.1";
	size_t n;
	char *t = og_redact_text(r, in, sizeof(in) - 1, &n);

	CHECK(t != NULL);
	CHECK_INT(og_redact_count(r), ==, 1);
	CHECK(t && memchr(t, '\0', n) != NULL);	/* the NUL byte went through */
	free(t);
	og_redact_free(r);
	og_redact_free(NULL);
}

int main(void)
{
	test_kinds();
	test_prose_untouched();
	test_same_token();
	test_json_answer();
	test_bytes();
	TEST_END();
}
