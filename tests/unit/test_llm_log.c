/*
 * test_llm_log.c: the LLM usage log (engine/store/store_lmdb_llmlog.c): a
 * store without the log reads as empty (read-only too), so stores made
 * before it open unchanged; entries come back in time order with their
 * fields; --since and --thread filters; the log survives a reopen and sits
 * next to checkpoints in the same environment; bad entries are refused.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "../../engine/core/clock.h"
#include "../../engine/store/store_lmdb_llmlog.h"
#include "../test.h"

static char root[64];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static struct og_store_lmdb *open_db(const char *path, bool ro)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_store_lmdb *s = NULL;
	struct og_err err = { 0 };

	o.path = path;
	o.read_only = ro;
	if (og_store_lmdb_open(&o, &s, &err) < 0)
		fprintf(stderr, "open %s: %s\n", path, err.msg);
	return s;
}

static cJSON *entry(const char *run, const char *model, int tin, const char *outcome)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "run", run);
	cJSON_AddStringToObject(e, "role", "rca");
	cJSON_AddStringToObject(e, "model", model);
	cJSON_AddNumberToObject(e, "tokens_in", tin);
	cJSON_AddStringToObject(e, "outcome", outcome);
	return e;
}

static void put(struct og_store_lmdb *s, cJSON *e)
{
	struct og_err err = { 0 };

	CHECK_INT(og_store_lmdb_llmlog_put(s, e, &err), ==, 0);
	cJSON_Delete(e);
}

int main(void)
{
	struct og_store_lmdb *s;
	struct og_err err = { 0 };
	char path[128];
	cJSON *rows = NULL, *bad;
	int64_t mid;

	snprintf(root, sizeof(root), "/tmp/og_llm_log_XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/db", root);

	/* a store that never logged: empty, also read-only */
	s = open_db(path, false);
	CHECK(s != NULL);
	CHECK_INT(og_store_lmdb_llmlog_list(s, 0, NULL, &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 0);
	cJSON_Delete(rows);
	og_store_lmdb_close(s);
	s = open_db(path, true);
	CHECK(s != NULL);
	rows = NULL;
	CHECK_INT(og_store_lmdb_llmlog_list(s, 0, NULL, &rows, &err), ==, 0);
	CHECK(cJSON_IsArray(rows) && cJSON_GetArraySize(rows) == 0);
	cJSON_Delete(rows);
	og_store_lmdb_close(s);

	/* entries, in order */
	s = open_db(path, false);
	put(s, entry("t1", "m-a", 10, "ok"));
	put(s, entry("t2", "m-b", 20, "http_429"));
	og_clock_sleep_ms(15);
	mid = og_clock_wall_ms();
	og_clock_sleep_ms(5);
	put(s, entry("t1", "m-c", 30, "repaired"));
	bad = cJSON_CreateArray();
	CHECK_INT(og_store_lmdb_llmlog_put(s, bad, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "must be a JSON object");
	cJSON_Delete(bad);
	og_store_lmdb_close(s);

	/* reopened read-only: all, by thread, since */
	s = open_db(path, true);
	rows = NULL;
	CHECK_INT(og_store_lmdb_llmlog_list(s, 0, NULL, &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 3);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "model")->valuestring, "m-a");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "outcome")->valuestring, "http_429");
	CHECK_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 2), "tokens_in")->valueint, ==, 30);
	cJSON_Delete(rows);
	rows = NULL;
	CHECK_INT(og_store_lmdb_llmlog_list(s, 0, "t1", &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 2);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "model")->valuestring, "m-c");
	cJSON_Delete(rows);
	rows = NULL;
	CHECK_INT(og_store_lmdb_llmlog_list(s, mid, NULL, &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 1);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "model")->valuestring, "m-c");
	cJSON_Delete(rows);
	rows = NULL;
	CHECK_INT(og_store_lmdb_llmlog_list(s, 0, "nobody", &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 0);
	cJSON_Delete(rows);
	og_store_lmdb_close(s);

	/* the environment still holds checkpoints normally: threads lists none, no error */
	s = open_db(path, false);
	rows = NULL;
	CHECK_INT(og_store_lmdb_threads(s, NULL, &rows, &err), ==, 0);
	CHECK_INT(cJSON_GetArraySize(rows), ==, 0);
	cJSON_Delete(rows);
	og_store_lmdb_close(s);

	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TEST_END();
}
