/*
 * cmd_thread.c: the durable-thread commands: run, resume, fork, replay
 * (which advance a thread under its lease) and threads, state, history, gc
 * (which read or prune the checkpoint database).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "cli.h"
#include "cli_run.h"

#define USAGE_RUN "usage: opsgraph run GRAPH.lua [--input JSON|@file] [--thread ID] [--stream] [--output json]\n" \
	"       [--recursion-limit N] [--interrupt-before a,b] [--interrupt-after a,b]\n" \
	"       [--input-as CHANNEL] [--db DIR|:memory:] [--durability sync|async]"
#define USAGE_RESUME "usage: opsgraph resume THREAD [--value JSON | --command JSON] [--graph FILE]\n" \
	"       [--by NAME] [--wait SECONDS] [--stream] [--output json] [--db DIR]"

/* "a,b,c" -> NULL-terminated list in buf (pointers into a copy) */
static const char **split_names(const char *arg, char *copy, size_t len, const char **list, int max)
{
	int n = 0;
	char *tok, *save = NULL;

	snprintf(copy, len, "%s", arg);
	for (tok = strtok_r(copy, ",", &save); tok && n < max - 1; tok = strtok_r(NULL, ",", &save))
		list[n++] = tok;
	list[n] = NULL;
	return list;
}

int cmd_run(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *path = NULL, *input_arg = NULL, *thread = NULL, *input_as = NULL;
	const char *bb[64], *ba[64], **before = NULL, **after = NULL;
	char bbuf[1024], abuf[1024];
	cJSON *input = NULL, *existing = NULL;
	int i, st, rc, limit = 0;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--input") && i + 1 < argc) {
			input_arg = argv[++i];
		} else if (!strcmp(argv[i], "--input-as") && i + 1 < argc) {
			input_as = argv[++i];
		} else if (!strcmp(argv[i], "--recursion-limit") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 1000000)
				return cli_fail(2, "--recursion-limit takes a whole number from 1 to 1000000, not '%s'",
						argv[i]);
			limit = (int)v;
		} else if (!strcmp(argv[i], "--thread") && i + 1 < argc) {
			thread = argv[++i];
		} else if (!strcmp(argv[i], "--interrupt-before") && i + 1 < argc) {
			before = split_names(argv[++i], bbuf, sizeof(bbuf), bb, 64);
		} else if (!strcmp(argv[i], "--interrupt-after") && i + 1 < argc) {
			after = split_names(argv[++i], abuf, sizeof(abuf), ba, 64);
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
		} else {
			return cli_fail(2, "unknown or incomplete option '%s'\n" USAGE_RUN, argv[i]);
		}
	}
	if (!path)
		return cli_fail(2, USAGE_RUN);
	if (thread && (!*thread || strlen(thread) > 100 || strpbrk(thread, "/ \t\n")))
		return cli_fail(2, "--thread: an id of 1 to 100 characters without spaces or '/'");
	if (input_arg && !(input = cli_parse_json_arg("--input", input_arg, &err)))
		return cli_fail(2, "%s", err.msg);
	if (input_as) {
		/* a raw payload (an alert) becomes the value of one channel */
		cJSON *wrap = cJSON_CreateObject();
		if (!input || !wrap || !*input_as) {
			cJSON_Delete(wrap);
			cJSON_Delete(input);
			return cli_fail(2, "--input-as CHANNEL needs --input and a channel name, e.g. "
					"--input @alert.json --input-as trigger");
		}
		cJSON_AddItemToObject(wrap, input_as, input);
		input = wrap;
	}
	if ((st = cli_session_open(&s, false)) != 0)
		goto out;
	if ((st = cli_session_graph(&s, path)) != 0)
		goto out;
	if (thread && cli_get_ckpt(&s, thread, 0, &existing, NULL) == 0) {
		st = cli_fail(2, "thread %s already exists: continue it with `opsgraph resume %s`", thread, thread);
		goto out;
	}
	if ((st = cli_session_run_new(&s, thread, limit, before, after)) != 0)
		goto out;
	if ((st = cli_session_lease(&s, og_run_thread_id(s.run), 0)) != 0)
		goto out;
	rc = og_run_start(s.run, input, &err);
	if (rc == -OG_EINVAL) {
		st = cli_fail(2, "%s", err.msg);
		goto out;
	}
	if (rc == 0)
		rc = og_run_invoke(s.run, &err);
	st = cli_report(&s, rc, &err);
out:
	cJSON_Delete(existing);
	cJSON_Delete(input);
	cli_session_close(&s);
	return st;
}

/* Looks back through the thread's checkpoints for who answered. */
static void explain_resumed(struct cli_session *s, const char *thread, const char *want_id)
{
	char msg[1024];

	if (cli_resumed_by(s, thread, want_id, msg, sizeof(msg)))
		fprintf(stderr, "opsgraph: %s\n", msg);
}

/* A node that refuses an answer asks again with "rejected": {"reason"} in
 * its interrupt value: say so, and exit 2 (bad input; nothing was lost). */
static int report_refused(const struct og_run *run)
{
	cJSON *ints = og_run_interrupts(run), *it;
	int st = 0;

	cJSON_ArrayForEach(it, ints) {
		const cJSON *rej = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "value"), "rejected");
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(rej, "reason");
		if (cJSON_IsString(why)) {
			st = cli_fail(2, "the answer was refused: %s. The thread still waits for an answer (the same "
				      "question, shown above)", why->valuestring);
			break;
		}
	}
	cJSON_Delete(ints);
	return st;
}

static int open_thread_graph(struct cli_session *s, const char *thread, const char *graph, cJSON **latest)
{
	struct og_err err = { 0 };
	const cJSON *gf;

	if (cli_get_ckpt(s, thread, 0, latest, &err) < 0)
		return cli_fail(2, "no thread %s in %s (list them with `opsgraph threads`)", thread, s->flags.db);
	gf = cJSON_GetObjectItemCaseSensitive(*latest, "graph_file");
	if (!graph && !cJSON_IsString(gf))
		return cli_fail(2, "thread %s does not record its graph file: pass --graph FILE", thread);
	return cli_session_graph(s, graph ? graph : gf->valuestring);
}

int cmd_resume(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *thread = NULL, *graph = NULL, *value_arg = NULL, *command_arg = NULL;
	cJSON *latest = NULL, *value = NULL, *command = NULL, *resume = NULL;
	const cJSON *update = NULL, *go = NULL;
	const char *want_id = NULL;
	int i, st, rc, wait_s = 30;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--value") && i + 1 < argc) {
			value_arg = argv[++i];
		} else if (!strcmp(argv[i], "--command") && i + 1 < argc) {
			command_arg = argv[++i];
		} else if (!strcmp(argv[i], "--graph") && i + 1 < argc) {
			graph = argv[++i];
		} else if (!strcmp(argv[i], "--wait") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 0 || v > 3600)
				return cli_fail(2, "--wait takes seconds from 0 to 3600, not '%s'", argv[i]);
			wait_s = (int)v;
		} else if (argv[i][0] != '-' && !thread) {
			thread = argv[i];
		} else {
			return cli_fail(2, "unknown or incomplete option '%s'\n" USAGE_RESUME, argv[i]);
		}
	}
	if (!thread || (value_arg && command_arg))
		return cli_fail(2, USAGE_RESUME);
	if (value_arg && !(value = cli_parse_json_arg("--value", value_arg, &err)))
		return cli_fail(2, "%s", err.msg);
	if (command_arg) {
		const cJSON *r, *k;
		if (!(command = cli_parse_json_arg("--command", command_arg, &err)))
			return cli_fail(2, "%s", err.msg);
		if (!cJSON_IsObject(command)) {
			cJSON_Delete(command);
			return cli_fail(2, "--command takes an object: {\"resume\": V, \"update\": {...}, \"goto\": \"node\"}");
		}
		cJSON_ArrayForEach(k, command)
			if (strcmp(k->string, "resume") && strcmp(k->string, "update") && strcmp(k->string, "goto")) {
				cJSON_Delete(command);
				return cli_fail(2, "--command: unknown field '%s' (resume, update, goto)", k->string);
			}
		r = cJSON_GetObjectItemCaseSensitive(command, "resume");
		update = cJSON_GetObjectItemCaseSensitive(command, "update");
		go = cJSON_GetObjectItemCaseSensitive(command, "goto");
		if (r)
			value = cJSON_Duplicate(r, 1);
	}
	if ((st = cli_session_open(&s, false)) != 0)
		goto out;
	if ((st = open_thread_graph(&s, thread, graph, &latest)) != 0)
		goto out;
	if ((st = cli_session_lease(&s, thread, wait_s * 1000)) != 0)
		goto out;
	/* under the lease, the latest checkpoint is the truth */
	cJSON_Delete(latest);
	latest = NULL;
	if (cli_get_ckpt(&s, thread, 0, &latest, &err) < 0) {
		st = cli_fail(1, "%s", err.msg);
		goto out;
	}
	if ((st = cli_session_run_new(&s, thread, 0, NULL, NULL)) != 0)
		goto out;
	if (og_run_load_move(s.run, latest, cli_latest_id(&s, thread) + 1, &err) < 0) {
		st = cli_fail(1, "%s", err.msg);
		goto out;
	}
	if (value) {
		/* an object whose keys are pending interrupt ids answers them by id */
		cJSON *ints = og_run_interrupts(s.run), *it;
		bool by_id = cJSON_IsObject(value) && value->child;
		/* only an object's members have names: an array value is a plain answer */
		const cJSON *k, *members = cJSON_IsObject(value) ? value : NULL;
		cJSON_ArrayForEach(k, members) {
			bool found = false;
			cJSON_ArrayForEach(it, ints) {
				const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
				found |= cJSON_IsString(id) && !strcmp(id->valuestring, k->string);
			}
			by_id &= found || (command && strlen(k->string) == 16);
			if (!found)
				want_id = k->string;
		}
		if (!by_id && cJSON_GetArraySize(ints) == 1)
			value = cli_fill_by(value, cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ints, 0), "value"),
					s.flags.by);
		cJSON_Delete(ints);
		resume = cJSON_CreateObject();
		cJSON_AddItemToObject(resume, by_id ? "by_id" : "value", value);
		if (!by_id)
			want_id = NULL;
		value = NULL;
	}
	if (og_run_status(s.run) != OG_RUN_INTERRUPTED && resume) {
		explain_resumed(&s, thread, want_id);
		st = cli_fail(1, "thread %s is not waiting for a decision (status: %s): nothing was changed",
			      thread, og_run_status_name(og_run_status(s.run)));
		goto out;
	}
	if ((rc = og_run_resume(s.run, resume, s.flags.by, &err)) < 0) {
		if (rc == -OG_ENOENT)
			explain_resumed(&s, thread, want_id);
		st = cli_fail(rc == -OG_ESTATE ? 1 : 2, "%s", err.msg);
		goto out;
	}
	if (update && og_run_update(s.run, update, NULL, "update", &err) < 0) {
		st = cli_fail(2, "%s", err.msg);
		goto out;
	}
	if (go && og_run_goto(s.run, go, &err) < 0) {
		st = cli_fail(2, "%s", err.msg);
		goto out;
	}
	rc = og_run_invoke(s.run, &err);
	st = cli_report(&s, rc, &err);
	if (st == 0 && resume)
		st = report_refused(s.run);
out:
	cJSON_Delete(latest);
	cJSON_Delete(value);
	cJSON_Delete(resume);
	cJSON_Delete(command);
	cli_session_close(&s);
	return st;
}

static int parse_id(const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	if (*end || !*arg || v == 0)
		return -1;
	*out = v;
	return 0;
}

/* Every recorded side-effect journal of a thread, by task id: from the
 * completed steps' checkpoints and from pending writes. */
static cJSON *gather_journals(struct cli_session *s, const char *thread, struct og_err *err)
{
	cJSON *hist = NULL, *all = cJSON_CreateObject(), *h;

	if (!all || og_store_lmdb_history(s->db, thread, 0, 0, &hist, err) < 0) {
		cJSON_Delete(all);
		return NULL;
	}
	cJSON_ArrayForEach(h, hist) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(h, "id"), *j, *p;
		cJSON *ck = NULL;
		if (cli_get_ckpt(s, thread, (uint64_t)id->valuedouble, &ck, err) < 0)
			break;
		cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(ck, "journals"))
			if (!cJSON_GetObjectItemCaseSensitive(all, j->string))
				cJSON_AddItemToObject(all, j->string, cJSON_Duplicate(j, 1));
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ck, "pending")) {
			const cJSON *task = cJSON_GetObjectItemCaseSensitive(p, "task");
			const cJSON *jr = cJSON_GetObjectItemCaseSensitive(p, "journal");
			if (cJSON_IsString(task) && jr && !cJSON_GetObjectItemCaseSensitive(all, task->valuestring))
				cJSON_AddItemToObject(all, task->valuestring, cJSON_Duplicate(jr, 1));
		}
		cJSON_Delete(ck);
	}
	cJSON_Delete(hist);
	return all;
}

/* fork THREAD --checkpoint ID [--as-node N] [--update JSON] and
 * replay THREAD --checkpoint ID [--recorded]: both branch from an old
 * checkpoint. */
static int branch(int argc, char **argv, bool replay)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *thread = NULL, *graph = NULL, *as_node = NULL, *update_arg = NULL;
	cJSON *latest = NULL, *ck = NULL, *update = NULL;
	uint64_t id = 0;
	bool recorded = false;
	int i, st, rc;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (replay && !strcmp(argv[i], "--recorded")) {
			recorded = true;
		} else if (!strcmp(argv[i], "--checkpoint") && i + 1 < argc) {
			if (parse_id(argv[++i], &id) < 0)
				return cli_fail(2, "--checkpoint takes a checkpoint id (a positive number from "
						"`opsgraph history`), not '%s'", argv[i]);
		} else if (!replay && !strcmp(argv[i], "--as-node") && i + 1 < argc) {
			as_node = argv[++i];
		} else if (!replay && !strcmp(argv[i], "--update") && i + 1 < argc) {
			update_arg = argv[++i];
		} else if (!strcmp(argv[i], "--graph") && i + 1 < argc) {
			graph = argv[++i];
		} else if (argv[i][0] != '-' && !thread) {
			thread = argv[i];
		} else {
			return cli_fail(2, "unknown or incomplete option '%s'", argv[i]);
		}
	}
	if (!thread || !id)
		return cli_fail(2, replay ? "usage: opsgraph replay THREAD --checkpoint ID [--recorded] [--stream] [--output json]"
				  : "usage: opsgraph fork THREAD --checkpoint ID [--as-node NODE] --update JSON");
	if (update_arg && !(update = cli_parse_json_arg("--update", update_arg, &err)))
		return cli_fail(2, "%s", err.msg);
	if ((st = cli_session_open(&s, false)) != 0)
		goto out;
	if ((st = open_thread_graph(&s, thread, graph, &latest)) != 0)
		goto out;
	if ((st = cli_session_lease(&s, thread, 30000)) != 0)
		goto out;
	if (cli_get_ckpt(&s, thread, id, &ck, &err) < 0) {
		st = cli_fail(2, "%s (see `opsgraph history %s`)", err.msg, thread);
		goto out;
	}
	if ((st = cli_session_run_new(&s, thread, 0, NULL, NULL)) != 0)
		goto out;
	if (og_run_load_move(s.run, ck, cli_latest_id(&s, thread) + 1, &err) < 0) {
		st = cli_fail(1, "%s", err.msg);
		goto out;
	}
	if (replay) {
		if (recorded) {
			cJSON *journals = gather_journals(&s, thread, &err);
			if (!journals) {
				st = cli_fail(1, "%s", err.msg);
				goto out;
			}
			og_run_use_recorded(s.run, journals);
		}
		if ((rc = og_run_replay(s.run, &err)) == 0)
			rc = og_run_invoke(s.run, &err);
		st = cli_report(&s, rc, &err);
		goto out;
	}
	if ((rc = og_run_update(s.run, update, as_node, "fork", &err)) < 0) {
		st = cli_fail(rc == -OG_EINVAL ? 2 : 1, "%s", err.msg);
		goto out;
	}
	if (s.flags.json) {
		st = cli_report(&s, 0, &err);
	} else {
		printf("forked thread %s: checkpoint %llu (parent %llu), status %s\n  continue it: opsgraph resume %s\n",
		       thread, (unsigned long long)og_run_checkpoint_id(s.run), (unsigned long long)id,
		       og_run_status_name(og_run_status(s.run)), thread);
		st = 0;
	}
out:
	cJSON_Delete(latest);
	cJSON_Delete(ck);
	cJSON_Delete(update);
	cli_session_close(&s);
	return st;
}

int cmd_fork(int argc, char **argv) { return branch(argc, argv, false); }
int cmd_replay(int argc, char **argv) { return branch(argc, argv, true); }

static void print_json(const cJSON *v, bool pretty)
{
	char *text = pretty ? cJSON_Print(v) : og_json_print_text(v);

	if (text)
		printf("%s\n", text);
	free(text);
}

int cmd_threads(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *status = NULL;
	cJSON *rows = NULL, *r;
	int i, st, rc;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--status") && i + 1 < argc) {
			status = argv[++i];
			if (strcmp(status, "running") && strcmp(status, "done") && strcmp(status, "interrupted") &&
			    strcmp(status, "error"))
				return cli_fail(2, "--status takes running, interrupted, done or error, not '%s'", status);
		} else {
			return cli_fail(2, "usage: opsgraph threads [--status S] [--output json] [--db DIR]");
		}
	}
	if ((st = cli_session_open(&s, true)) != 0)
		goto out;
	if (!s.db) {
		st = cli_fail(2, "threads needs a database (--db DIR)");
		goto out;
	}
	if (og_store_lmdb_threads(s.db, status, &rows, &err) < 0) {
		st = cli_fail(1, "%s", err.msg);
		goto out;
	}
	if (s.flags.json) {
		print_json(rows, false);
	} else {
		printf("%-28s %-16s %-12s %5s  %s\n", "THREAD", "GRAPH", "STATUS", "STEP", "UPDATED");
		cJSON_ArrayForEach(r, rows)
			printf("%-28s %-16s %-12s %5d  %s\n", og_json_get_str(r, "thread_id"), og_json_get_str(r, "graph"), og_json_get_str(r, "status"),
			       (int)og_json_get_num(r, "step"), og_json_get_str(r, "updated_at"));
	}
out:
	cJSON_Delete(rows);
	cli_session_close(&s);
	return st;
}

int cmd_state(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *thread = NULL;
	uint64_t id = 0;
	cJSON *ck = NULL;
	int i, st, rc;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--checkpoint") && i + 1 < argc) {
			if (parse_id(argv[++i], &id) < 0)
				return cli_fail(2, "--checkpoint takes a checkpoint id, not '%s'", argv[i]);
		} else if (argv[i][0] != '-' && !thread) {
			thread = argv[i];
		} else {
			return cli_fail(2, "usage: opsgraph state THREAD [--checkpoint ID] [--output json] [--db DIR]");
		}
	}
	if (!thread)
		return cli_fail(2, "usage: opsgraph state THREAD [--checkpoint ID] [--output json] [--db DIR]");
	if ((st = cli_session_open(&s, true)) != 0)
		goto out;
	if (cli_get_ckpt(&s, thread, id, &ck, &err) < 0) {
		st = cli_fail(2, "%s (list threads with `opsgraph threads`)", err.msg);
		goto out;
	}
	if (s.flags.json) {
		print_json(ck, false);
	} else {
		const cJSON *t;
		printf("thread %s  graph %s  status %s  step %d  checkpoint %.0f (parent %.0f)  %s\n", thread,
		       og_json_get_str(ck, "graph"), og_json_get_str(ck, "status"), (int)og_json_get_num(ck, "step"), og_json_get_num(ck, "id"), og_json_get_num(ck, "parent_id"),
		       og_json_get_str(ck, "created_at"));
		printf("values: ");
		print_json(cJSON_GetObjectItemCaseSensitive(ck, "values"), true);
		printf("next:");
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(ck, "next"))
			printf(" %s", og_json_get_str(t, "node"));
		printf("\n");
		if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ck, "interrupts"))) {
			printf("interrupts: ");
			print_json(cJSON_GetObjectItemCaseSensitive(ck, "interrupts"), true);
		}
		if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ck, "error"))) {
			printf("error: ");
			print_json(cJSON_GetObjectItemCaseSensitive(ck, "error"), true);
		}
	}
out:
	cJSON_Delete(ck);
	cli_session_close(&s);
	return st;
}

int cmd_history(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *thread = NULL;
	uint64_t before = 0;
	cJSON *rows = NULL, *r;
	int i, st, rc, limit = 0;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1)
				return cli_fail(2, "--limit takes a positive number, not '%s'", argv[i]);
			limit = (int)v;
		} else if (!strcmp(argv[i], "--before") && i + 1 < argc) {
			if (parse_id(argv[++i], &before) < 0)
				return cli_fail(2, "--before takes a checkpoint id, not '%s'", argv[i]);
		} else if (argv[i][0] != '-' && !thread) {
			thread = argv[i];
		} else {
			return cli_fail(2, "usage: opsgraph history THREAD [--limit N] [--before ID] [--output json]");
		}
	}
	if (!thread)
		return cli_fail(2, "usage: opsgraph history THREAD [--limit N] [--before ID] [--output json]");
	if ((st = cli_session_open(&s, true)) != 0)
		goto out;
	if (!s.db) {
		st = cli_fail(2, "history needs a database (--db DIR)");
		goto out;
	}
	if (og_store_lmdb_history(s.db, thread, limit, before, &rows, &err) < 0) {
		st = cli_fail(err.code == -OG_ENOENT ? 2 : 1, "%s", err.msg);
		goto out;
	}
	if (s.flags.json) {
		print_json(rows, false);
	} else {
		printf("%6s %6s %5s  %-7s %-12s %-24s %s\n", "ID", "PARENT", "STEP", "SOURCE", "STATUS", "CREATED",
		       "WRITES -> NEXT");
		cJSON_ArrayForEach(r, rows) {
			char *w = og_json_print_text(cJSON_GetObjectItemCaseSensitive(r, "writes"));
			char *n = og_json_print_text(cJSON_GetObjectItemCaseSensitive(r, "next"));
			printf("%6.0f %6.0f %5d  %-7s %-12s %-24s %s -> %s\n", og_json_get_num(r, "id"), og_json_get_num(r, "parent_id"),
			       (int)og_json_get_num(r, "step"), og_json_get_str(r, "source"), og_json_get_str(r, "status"), og_json_get_str(r, "created_at"),
			       w ? w : "", n ? n : "");
			free(w);
			free(n);
		}
	}
out:
	cJSON_Delete(rows);
	cli_session_close(&s);
	return st;
}

/* "30d", "12h", "90m", "45s" -> milliseconds; -1 when malformed */
static int64_t parse_age(const char *arg)
{
	char *end;
	double v = strtod(arg, &end);
	int64_t unit;

	if (end == arg || v < 0)
		return -1;
	switch (*end) {
	case 's': unit = 1000; break;
	case 'm': unit = 60000; break;
	case 'h': unit = 3600000; break;
	case 'd': unit = 86400000; break;
	default: return -1;
	}
	return end[1] ? -1 : (int64_t)(v * (double)unit);
}

int cmd_gc(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	cJSON *report = NULL;
	int64_t older = 0;
	int i, st, rc, keep = 0;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--keep-last") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1)
				return cli_fail(2, "--keep-last takes a positive number, not '%s'", argv[i]);
			keep = (int)v;
		} else if (!strcmp(argv[i], "--older-than") && i + 1 < argc) {
			if ((older = parse_age(argv[++i])) < 0)
				return cli_fail(2, "--older-than takes an age like 30d, 12h, 90m or 45s, not '%s'", argv[i]);
		} else {
			return cli_fail(2, "usage: opsgraph gc [--keep-last N] [--older-than 30d] [--db DIR]");
		}
	}
	if (!keep && !older)
		return cli_fail(2, "gc needs --keep-last N, --older-than AGE, or both (nothing would be pruned)");
	if ((st = cli_session_open(&s, false)) != 0)
		goto out;
	if (!s.db) {
		st = cli_fail(2, "gc needs a database (--db DIR)");
		goto out;
	}
	if (og_store_lmdb_gc(s.db, keep, older, &report, &err) < 0) {
		st = cli_fail(1, "%s", err.msg);
		goto out;
	}
	print_json(report, !s.flags.json);
out:
	cJSON_Delete(report);
	cli_session_close(&s);
	return st;
}
