/*
 * cmd_diff.c: `opsgraph diff THREAD --from ID [--to ID]`: what changed in a
 * thread's state between two checkpoints (of one branch, of two branches,
 * or of two threads with THREAD:ID), one line per path, for a postmortem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "../graph/ckpt_diff.h"
#include "cli.h"
#include "cli_run.h"

#define USAGE_DIFF "usage: opsgraph diff THREAD --from [THREAD:]ID [--to [THREAD:]ID|latest] [--output json] [--db DIR]"

/* A value on one line, cut at 160 bytes so a big context stays readable. */
static void print_value(const cJSON *v)
{
	char *t = v ? og_json_print_text(v) : NULL;

	if (!t) {
		printf("?");
		return;
	}
	if (strlen(t) > 160)
		printf("%.157s...", t);
	else
		printf("%s", t);
	free(t);
}

static void print_side(const cJSON *s)
{
	printf("%s checkpoint %.0f (step %.0f, %s)", og_json_get_str(s, "thread_id"), og_json_get_num(s, "checkpoint_id"),
	       og_json_get_num(s, "step"), og_json_get_str(s, "status"));
}

int cmd_diff(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	struct og_ckpt_ref from, to;
	const char *thread = NULL, *from_arg = NULL, *to_arg = "latest";
	cJSON *d = NULL;
	const cJSON *e;
	int i, st, rc;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			from_arg = argv[++i];
		} else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
			to_arg = argv[++i];
		} else if (argv[i][0] != '-' && !thread) {
			thread = argv[i];
		} else {
			return cli_fail(2, "unknown or incomplete option '%s'\n" USAGE_DIFF, argv[i]);
		}
	}
	if (!thread || !from_arg)
		return cli_fail(2, USAGE_DIFF);
	if (og_ckpt_ref_parse(from_arg, thread, "--from", &from, &err) < 0 ||
	    og_ckpt_ref_parse(to_arg, thread, "--to", &to, &err) < 0)
		return cli_fail(2, "%s", err.msg);
	if ((st = cli_session_open(&s, true)) != 0)
		goto out;
	if (!s.db) {
		st = cli_fail(2, "diff needs a database (--db DIR)");
		goto out;
	}
	if ((rc = og_ckpt_diff(&og_store_lmdb_ops, s.db, &from, &to, &d, &err)) < 0) {
		st = cli_fail(rc == -OG_ENOENT ? 2 : 1, "%s (see `opsgraph history %s`)", err.msg, thread);
		goto out;
	}
	if (s.flags.json) {
		char *t = og_json_print_text(d);
		if (t)
			printf("%s\n", t);
		free(t);
	} else {
		const cJSON *sum = cJSON_GetObjectItemCaseSensitive(d, "summary");
		printf("from ");
		print_side(cJSON_GetObjectItemCaseSensitive(d, "from"));
		printf("\n  to ");
		print_side(cJSON_GetObjectItemCaseSensitive(d, "to"));
		printf("\n%.0f added, %.0f removed, %.0f changed\n", og_json_get_num(sum, "added"),
		       og_json_get_num(sum, "removed"), og_json_get_num(sum, "changed"));
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(d, "changes")) {
			const char *op = og_json_get_str(e, "op");
			const char *path = og_json_get_str(e, "path");
			printf("%c %s: ", op[0] == 'a' ? '+' : op[0] == 'r' ? '-' : '~', *path ? path : "(whole state)");
			if (op[0] != 'a')
				print_value(cJSON_GetObjectItemCaseSensitive(e, "from"));
			if (op[0] == 'c')
				printf(" -> ");
			if (op[0] != 'r')
				print_value(cJSON_GetObjectItemCaseSensitive(e, "to"));
			printf("\n");
		}
	}
out:
	cJSON_Delete(d);
	cli_session_close(&s);
	return st;
}
