/*
 * cmd_token.c: `opsgraph token create|list|revoke`, the operators who may
 * log in to `opsgraph serve` (server/auth.c). create prints a new random
 * token once, on stdout alone so a script can capture it; the database keeps
 * only its SHA-256, with the name and the time. revoke deletes the token and
 * every web session made with it, so a running server refuses that
 * operator's next request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "../server/server.h"
#include "../store/store_lmdb.h"
#include "../store/store_lmdb_tokens.h"
#include "cli.h"

#define TOKEN_USAGE "usage: opsgraph token create NAME [--db DIR]\n" \
	"       opsgraph token list [--db DIR] [--output json]\n" \
	"       opsgraph token revoke NAME [--db DIR]"

static int create(struct og_store_lmdb *db, const char *name)
{
	struct og_err err = { 0 };
	char tok[4 + 64 + 1], hash[65], at[40];
	cJSON *rec;
	bool added = false;
	int rc;

	if (!auth_name_ok(name))
		return cli_fail(2, "token create: '%s' is not an operator name: 1 to %d of letters, digits, '.', '_', "
				"'@' and '-' (the name the checkpoints record as the approver)", name, AUTH_NAME_MAX);
	memcpy(tok, "ogt_", 4);
	if (auth_random_hex(tok + 4, 32) < 0 || auth_sha256_hex(tok, hash) < 0)
		return cli_fail(1, "token create: the random generator (libcrypto RAND_bytes) failed");
	og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at));
	if (!(rec = cJSON_CreateObject()) || !cJSON_AddStringToObject(rec, "sha256", hash) ||
	    !cJSON_AddStringToObject(rec, "created", at)) {
		cJSON_Delete(rec);
		return cli_fail(1, "out of memory");
	}
	rc = og_store_lmdb_auth_put(db, OG_AUTH_TOKEN, name, rec, false, &added, &err);
	cJSON_Delete(rec);
	if (rc < 0)
		return cli_fail(1, "token create: %s", err.msg);
	if (!added) {
		OPENSSL_cleanse(tok, sizeof(tok));
		return cli_fail(2, "token create: operator '%s' has a token already; `opsgraph token revoke %s` first "
				"(that also ends their sessions) to give them a new one", name, name);
	}
	printf("%s\n", tok);
	fflush(stdout);
	OPENSSL_cleanse(tok, sizeof(tok));
	fprintf(stderr, "opsgraph: token for operator '%s' created; it is shown this once (only its hash is "
		"kept): log in to the web UI with it\n", name);
	return 0;
}

static int list(struct og_store_lmdb *db, bool json)
{
	struct og_err err = { 0 };
	cJSON *rows = NULL, *r, *out;
	char *text;

	if (og_store_lmdb_auth_list(db, OG_AUTH_TOKEN, &rows, &err) < 0)
		return cli_fail(1, "token list: %s", err.msg);
	if (!json) {
		if (!cJSON_GetArraySize(rows))
			fprintf(stderr, "no operator tokens (opsgraph token create NAME makes one)\n");
		else
			printf("%-24s %s\n", "NAME", "CREATED");
		cJSON_ArrayForEach(r, rows) {
			const char *c = og_json_get_str(cJSON_GetObjectItemCaseSensitive(r, "value"), "created");
			printf("%-24s %s\n", cJSON_GetObjectItemCaseSensitive(r, "key")->valuestring, c ? c : "?");
		}
		cJSON_Delete(rows);
		return 0;
	}
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(r, rows) {
		cJSON *o = cJSON_CreateObject();
		const char *c = og_json_get_str(cJSON_GetObjectItemCaseSensitive(r, "value"), "created");
		cJSON_AddStringToObject(o, "name", cJSON_GetObjectItemCaseSensitive(r, "key")->valuestring);
		if (c)
			cJSON_AddStringToObject(o, "created", c);
		else
			cJSON_AddNullToObject(o, "created");
		cJSON_AddItemToArray(out, o);
	}
	text = og_json_print_text(out);
	if (text)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(out);
	cJSON_Delete(rows);
	return text ? 0 : cli_fail(1, "out of memory");
}

static int revoke(struct og_store_lmdb *db, const char *name)
{
	struct og_err err = { 0 };
	bool deleted = false;
	int sessions = 0;

	if (!auth_name_ok(name))
		return cli_fail(2, "token revoke: '%s' is not an operator name (`opsgraph token list` shows them)", name);
	if (og_store_lmdb_auth_del(db, OG_AUTH_TOKEN, name, name, 0, &deleted, &sessions, &err) < 0)
		return cli_fail(1, "token revoke: %s", err.msg);
	if (!deleted)
		return cli_fail(2, "token revoke: no operator '%s' (`opsgraph token list` shows them)", name);
	fprintf(stderr, "opsgraph: token of operator '%s' revoked; %d web session%s ended\n", name, sessions,
		sessions == 1 ? "" : "s");
	return 0;
}

int cmd_token(int argc, char **argv)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *db = NULL;
	struct og_err err = { 0 };
	const char *verb = argc > 1 ? argv[1] : "", *name = NULL;
	bool json = false;
	int i, st;

	o.path = CLI_DEFAULT_DB;
	o.durability = OG_DURABLE_SYNC;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			o.path = argv[++i];
		} else if (!strcmp(argv[i], "--output") && i + 1 < argc) {
			if (strcmp(argv[++i], "json") && strcmp(argv[i], "text"))
				return cli_fail(2, "--output takes json or text, not '%s'", argv[i]);
			json = !strcmp(argv[i], "json");
		} else if (argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			return cli_fail(2, "token: unexpected '%s'\n" TOKEN_USAGE, argv[i]);
		}
	}
	if (strcmp(verb, "create") && strcmp(verb, "list") && strcmp(verb, "revoke"))
		return cli_fail(2, "token: create, list or revoke, not '%s'\n" TOKEN_USAGE, verb);
	if ((verb[0] == 'l') == (name != NULL))
		return cli_fail(2, "token %s %s\n" TOKEN_USAGE, verb, name ? "takes no NAME" : "needs a NAME");
	if (!strcmp(o.path, ":memory:"))
		return cli_fail(2, "token: --db :memory: keeps nothing; give the directory `opsgraph serve --db` uses");
	o.read_only = verb[0] == 'l';
	if (og_store_lmdb_open(&o, &db, &err) < 0)
		return cli_fail(err.code == -OG_EINVAL ? 2 : 1, "%s", err.msg);
	st = verb[0] == 'c' ? create(db, name) : verb[0] == 'l' ? list(db, json) : revoke(db, name);
	og_store_lmdb_close(db);
	return st;
}
