/*
 * test_auth_store.c: operator tokens and web sessions in the meta database
 * (engine/store/store_lmdb_tokens.c): put-if-absent and replace, get of a
 * missing record (-OG_ENOENT), the list of one kind only (tokens do not show
 * sessions, nor notes), a revoke that deletes the token and that operator's
 * sessions in one transaction and leaves others', expired sessions pruned,
 * records surviving a reopen (a server restart keeps sessions), bad keys.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "../../engine/store/store_lmdb_tokens.h"
#include "../test.h"

static char root[64];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static struct og_store_lmdb *open_db(const char *path)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *s = NULL;
	struct og_err err = { 0 };

	o.path = path;
	if (og_store_lmdb_open(&o, &s, &err) < 0)
		fprintf(stderr, "open %s: %s\n", path, err.msg);
	return s;
}

static cJSON *session(const char *name, double expires)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddNumberToObject(o, "expires", expires);
	return o;
}

static void put(struct og_store_lmdb *s, enum og_auth_kind k, const char *key, cJSON *v, bool replace, bool want)
{
	struct og_err err = { 0 };
	bool added = !want;

	CHECK_INT(og_store_lmdb_auth_put(s, k, key, v, replace, &added, &err), ==, 0);
	CHECK(added == want);
	cJSON_Delete(v);
}

int main(void)
{
	struct og_err err = { 0 };
	struct og_store_lmdb *s;
	char path[96];
	cJSON *v, *rows = NULL;
	bool deleted = false, added;
	int n = -1;

	snprintf(root, sizeof(root), "/tmp/og_auth_store_XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/db", root);
	CHECK((s = open_db(path)) != NULL);

	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "sha256", "aa");
	put(s, OG_AUTH_TOKEN, "alice", v, false, true);
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "sha256", "bb");
	put(s, OG_AUTH_TOKEN, "alice", v, false, false);	/* kept as it was */
	CHECK_INT(og_store_lmdb_auth_get(s, OG_AUTH_TOKEN, "alice", &v, &err), ==, 0);
	CHECK_STR(cJSON_GetObjectItem(v, "sha256")->valuestring, "aa");
	cJSON_Delete(v);
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "sha256", "cc");
	put(s, OG_AUTH_TOKEN, "bob", v, true, true);
	CHECK_INT(og_store_lmdb_auth_get(s, OG_AUTH_TOKEN, "carol", &v, &err), ==, -OG_ENOENT);
	CHECK_CONTAINS(err.msg, "no such token");

	/* sessions: two of alice's (one expired), one of bob's; a note beside them */
	put(s, OG_AUTH_SESSION, "s1", session("alice", 2e9), false, true);
	put(s, OG_AUTH_SESSION, "s2", session("alice", 2e9), false, true);
	put(s, OG_AUTH_SESSION, "s3", session("bob", 2e9), false, true);
	put(s, OG_AUTH_SESSION, "s4", session("bob", 1000), false, true);
	v = cJSON_CreateObject();
	CHECK_INT(og_store_lmdb_note_add(s, "thread", "k", v, &added, &err), ==, 0);
	cJSON_Delete(v);

	CHECK_INT(og_store_lmdb_auth_list(s, OG_AUTH_TOKEN, &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 2);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "key")->valuestring, "alice");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "key")->valuestring, "bob");
	cJSON_Delete(rows);
	CHECK_INT(og_store_lmdb_auth_list(s, OG_AUTH_SESSION, &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 4);
	cJSON_Delete(rows);

	/* a restart keeps them */
	og_store_lmdb_close(s);
	CHECK((s = open_db(path)) != NULL);

	/* expired sessions go, live ones stay */
	CHECK_INT(og_store_lmdb_auth_del(s, OG_AUTH_SESSION, NULL, NULL, 1000000, NULL, &n, &err), ==, 0);
	CHECK_INT(n, ==, 1);
	CHECK_INT(og_store_lmdb_auth_get(s, OG_AUTH_SESSION, "s4", &v, &err), ==, -OG_ENOENT);

	/* revoke alice: her token and both her sessions, bob's untouched */
	CHECK_INT(og_store_lmdb_auth_del(s, OG_AUTH_TOKEN, "alice", "alice", 0, &deleted, &n, &err), ==, 0);
	CHECK(deleted);
	CHECK_INT(n, ==, 2);
	CHECK_INT(og_store_lmdb_auth_get(s, OG_AUTH_TOKEN, "alice", &v, &err), ==, -OG_ENOENT);
	CHECK_INT(og_store_lmdb_auth_get(s, OG_AUTH_SESSION, "s1", &v, &err), ==, -OG_ENOENT);
	CHECK_INT(og_store_lmdb_auth_get(s, OG_AUTH_SESSION, "s3", &v, &err), ==, 0);
	cJSON_Delete(v);
	CHECK_INT(og_store_lmdb_auth_del(s, OG_AUTH_TOKEN, "alice", "alice", 0, &deleted, &n, &err), ==, 0);
	CHECK(!deleted);
	CHECK_INT(n, ==, 0);
	/* the note is not an auth record and survives */
	CHECK_INT(og_store_lmdb_notes(s, "thread", &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 1);
	cJSON_Delete(rows);

	/* bad keys */
	v = cJSON_CreateObject();
	CHECK_INT(og_store_lmdb_auth_put(s, OG_AUTH_TOKEN, "", v, false, NULL, &err), ==, -OG_EINVAL);
	CHECK_INT(og_store_lmdb_auth_put(s, OG_AUTH_TOKEN, NULL, v, false, NULL, &err), ==, -OG_EINVAL);
	cJSON_Delete(v);

	og_store_lmdb_close(s);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TEST_END();
}
