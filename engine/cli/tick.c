/*
 * tick.c: `opsgraph tick`, the clock of paused threads. The scan reads only
 * the thread index (interrupt values are in it), so a tick over many idle
 * threads costs one read transaction. Firing a timer is an ordinary resume
 * under the thread's lease: the node decides what the system answer means
 * and refuses one that came too early, so a tick that runs twice, or late,
 * or at the same time as a human's answer, changes nothing it should not.
 */
#include "tick.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "cli.h"

/* A thread whose timer keeps being refused (a clock that went backwards, a
 * node that asks again with a timer already due) is fired at most this
 * often per tick, so one tick always ends. Three covers escalate, then the
 * final deadline, then one refusal. */
#define TICK_MAX_FIRES_PER_THREAD 3
#define TICK_MAX_ROUNDS 8

#define USAGE_TICK "usage: opsgraph tick [--db DIR] [--config FILE] [--root DIR] [--output json]"

static double num_or(const cJSON *o, const char *k, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *str_or(const cJSON *o, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static int cmp_at(const void *a, const void *b)
{
	double x = num_or(*(cJSON *const *)a, "at", 0), y = num_or(*(cJSON *const *)b, "at", 0);
	return x < y ? -1 : x > y;
}

/* The earliest due timer of one interrupt, or NULL. */
static const cJSON *due_timer(const cJSON *ivalue, double now)
{
	const cJSON *t, *best = NULL;

	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(ivalue, "timers")) {
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(t, "at");
		if (!cJSON_IsNumber(at) || !isfinite(at->valuedouble) ||
		    !cJSON_GetObjectItemCaseSensitive(t, "resume") || at->valuedouble > now)
			continue;
		if (!best || at->valuedouble < num_or(best, "at", 0))
			best = t;
	}
	return best;
}

int cli_tick_scan(struct og_store_lmdb *db, double now, cJSON **due, struct og_err *err)
{
	cJSON *rows = NULL, *out = NULL, **items = NULL;
	const cJSON *row, *it;
	int rc, n = 0, i;

	*due = NULL;
	if ((rc = og_store_lmdb_threads(db, "interrupted", &rows, err)) < 0)
		return rc;
	if (!(out = cJSON_CreateArray()))
		goto nomem;
	cJSON_ArrayForEach(row, rows) {
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(row, "interrupts")) {
			const cJSON *t = due_timer(cJSON_GetObjectItemCaseSensitive(it, "value"), now);
			cJSON *e;
			if (!t || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "id")))
				continue;
			if (!(e = cJSON_CreateObject()) ||
			    !cJSON_AddStringToObject(e, "thread_id", str_or(row, "thread_id", "")) ||
			    !cJSON_AddStringToObject(e, "interrupt_id", str_or(it, "id", "")) ||
			    !cJSON_AddStringToObject(e, "node", str_or(it, "node", "")) ||
			    !cJSON_AddNumberToObject(e, "at", num_or(t, "at", 0)) ||
			    !cJSON_AddItemToObject(e, "resume",
						   cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(t, "resume"), 1))) {
				cJSON_Delete(e);
				goto nomem;
			}
			cJSON_AddItemToArray(out, e);
			n++;
		}
	}
	/* oldest deadline first: the longest-waiting incident is answered first */
	if (n > 1) {
		cJSON *e;
		if (!(items = malloc((size_t)n * sizeof(*items))))
			goto nomem;
		for (i = 0; i < n; i++)
			items[i] = cJSON_DetachItemFromArray(out, 0);
		qsort(items, (size_t)n, sizeof(*items), cmp_at);
		for (i = 0; i < n; i++) {
			e = items[i];
			cJSON_AddItemToArray(out, e);
		}
		free(items);
	}
	cJSON_Delete(rows);
	*due = out;
	return 0;
nomem:
	cJSON_Delete(rows);
	cJSON_Delete(out);
	return og_err_set(err, -OG_ENOMEM, "out of memory");
}

/* The pending interrupt with this id in a loaded run, or NULL; from ints. */
static const cJSON *find_interrupt(const cJSON *ints, const char *id)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, ints)
		if (!strcmp(str_or(it, "id", ""), id))
			return it;
	return NULL;
}

int cli_tick_fire(const struct cli_db_flags *flags, const cJSON *entry, cJSON **outcome)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *thread = str_or(entry, "thread_id", ""), *iid = str_or(entry, "interrupt_id", "");
	cJSON *o, *latest = NULL, *resume = NULL, *by_id, *ints = NULL;
	const cJSON *gf, *it;
	int st = 0, rc;

	if (!(o = cJSON_CreateObject()))
		return 1;
	*outcome = o;
	cJSON_AddStringToObject(o, "thread_id", thread);
	cJSON_AddStringToObject(o, "interrupt_id", iid);
	cJSON_AddNumberToObject(o, "at", num_or(entry, "at", 0));
	cJSON_AddItemToObject(o, "resume", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(entry, "resume"), 1));
	s.flags = *flags;
	s.flags.by = "opsgraph (tick)";
	s.flags.json = false;
	s.flags.stream = false;
	if ((st = cli_session_open(&s, false)) != 0) {
		cJSON_AddStringToObject(o, "error", "cannot open the database (see the message above)");
		goto out;
	}
	if (cli_get_ckpt(&s, thread, 0, &latest, &err) < 0) {
		st = 1;
		cJSON_AddStringToObject(o, "error", err.msg);
		goto out;
	}
	gf = cJSON_GetObjectItemCaseSensitive(latest, "graph_file");
	if (!cJSON_IsString(gf)) {
		st = 1;
		cJSON_AddStringToObject(o, "error", "the thread does not record its graph file");
		goto out;
	}
	if ((st = cli_session_graph(&s, gf->valuestring)) != 0) {
		cJSON_AddStringToObject(o, "error", "cannot load the thread's graph (see the message above)");
		goto out;
	}
	/* a human answering at this moment holds the lease: wait for them a
	 * little, then find the interrupt answered and skip it */
	if ((st = cli_session_lease(&s, thread, 5000)) != 0) {
		cJSON_AddStringToObject(o, "error", "the thread is busy (see the message above); the next tick retries");
		goto out;
	}
	cJSON_Delete(latest);
	latest = NULL;
	if (cli_get_ckpt(&s, thread, 0, &latest, &err) < 0) {
		st = 1;
		cJSON_AddStringToObject(o, "error", err.msg);
		goto out;
	}
	if ((st = cli_session_run_new(&s, thread, 0, NULL, NULL)) != 0) {
		cJSON_AddStringToObject(o, "error", "cannot create the run (see the message above)");
		goto out;
	}
	if (og_run_load_move(s.run, latest, cli_latest_id(&s, thread) + 1, &err) < 0) {
		st = 1;
		cJSON_AddStringToObject(o, "error", err.msg);
		goto out;
	}
	ints = og_run_interrupts(s.run);
	if (og_run_status(s.run) != OG_RUN_INTERRUPTED || !find_interrupt(ints, iid)) {
		cJSON_AddBoolToObject(o, "fired", false);
		cJSON_AddStringToObject(o, "status", og_run_status_name(og_run_status(s.run)));
		cJSON_AddStringToObject(o, "skipped", "the interrupt was answered since the scan");
		goto out;
	}
	cJSON_Delete(ints);
	ints = NULL;
	if (!(resume = cJSON_CreateObject()) || !(by_id = cJSON_AddObjectToObject(resume, "by_id")) ||
	    !cJSON_AddItemToObject(by_id, iid, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(entry, "resume"), 1))) {
		st = 1;
		cJSON_AddStringToObject(o, "error", "out of memory");
		goto out;
	}
	if ((rc = og_run_resume(s.run, resume, s.flags.by, &err)) < 0) {
		st = 1;
		cJSON_AddStringToObject(o, "error", err.msg);
		goto out;
	}
	rc = og_run_invoke(s.run, &err);
	cJSON_AddBoolToObject(o, "fired", true);
	cJSON_AddStringToObject(o, "status", rc < 0 ? "error" : og_run_status_name(og_run_status(s.run)));
	if (rc < 0) {
		st = 1;
		cJSON_AddStringToObject(o, "error", err.msg);
		goto out;
	}
	/* the node refuses a system answer it does not accept (too early, no
	 * deadline configured) by asking again with the reason */
	ints = og_run_interrupts(s.run);
	cJSON_ArrayForEach(it, ints) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "value"), "rejected"),
			"reason");
		if (cJSON_IsString(why))
			cJSON_AddStringToObject(o, "refused", why->valuestring);
	}
out:
	cJSON_Delete(ints);
	cJSON_Delete(resume);
	cJSON_Delete(latest);
	cli_session_close(&s);
	return st;
}

/* How often thread has been fired in this tick (fired = {thread: count}). */
static int bump(cJSON *fired, const char *thread)
{
	cJSON *n = cJSON_GetObjectItemCaseSensitive(fired, thread);

	if (!n)
		n = cJSON_AddNumberToObject(fired, thread, 0);
	if (!n)
		return TICK_MAX_FIRES_PER_THREAD + 1;
	cJSON_SetNumberValue(n, n->valuedouble + 1);
	return (int)n->valuedouble;
}

static void print_outcome(const cJSON *o)
{
	char at[40];
	const cJSON *resume = cJSON_GetObjectItemCaseSensitive(o, "resume");
	char *r = og_json_print_text(resume);

	og_clock_iso8601((int64_t)(num_or(o, "at", 0) * 1000), at, sizeof(at));
	if (cJSON_GetObjectItemCaseSensitive(o, "error"))
		printf("thread %s: %s (due %s) failed: %s\n", str_or(o, "thread_id", "?"), r ? r : "?", at,
		       str_or(o, "error", ""));
	else if (cJSON_GetObjectItemCaseSensitive(o, "skipped"))
		printf("thread %s: %s (due %s) skipped: %s\n", str_or(o, "thread_id", "?"), r ? r : "?", at,
		       str_or(o, "skipped", ""));
	else
		printf("thread %s: %s (due %s) fired: now %s%s%s\n", str_or(o, "thread_id", "?"), r ? r : "?", at,
		       str_or(o, "status", "?"), cJSON_GetObjectItemCaseSensitive(o, "refused") ? "; refused: " : "",
		       str_or(o, "refused", ""));
	free(r);
}

int cmd_tick(int argc, char **argv)
{
	struct cli_db_flags flags = { 0 };
	struct og_err err = { 0 };
	cJSON *all = cJSON_CreateArray(), *fired = cJSON_CreateObject(), *due = NULL, *e;
	int i, rc, st = 0, round;

	if (!all || !fired) {
		cJSON_Delete(all);
		cJSON_Delete(fired);
		return cli_fail(1, "out of memory");
	}
	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &flags)) != 0) {
			if (rc < 0) {
				st = 2;
				goto out;
			}
		} else {
			st = cli_fail(2, "unknown or incomplete option '%s'\n" USAGE_TICK, argv[i]);
			goto out;
		}
	}
	if (flags.db && !strcmp(flags.db, ":memory:")) {
		st = cli_fail(2, "tick needs the database of the paused threads (--db DIR), not :memory:");
		goto out;
	}
	{
		/* cron runs tick before the first incident too: no database yet
		 * means no paused thread, not an error */
		struct stat sb;
		const char *db = flags.db ? flags.db : CLI_DEFAULT_DB;
		if (stat(db, &sb) < 0 && errno == ENOENT) {
			if (flags.json)
				printf("[]\n");
			else
				printf("no deadline is due (no database at %s yet)\n", db);
			goto out;
		}
	}
	/* rounds: firing an escalation asks again with the final deadline,
	 * which may be due already when the tick comes late */
	for (round = 0; round < TICK_MAX_ROUNDS; round++) {
		struct cli_session s = { 0 };
		int n = 0;
		s.flags = flags;
		if ((st = cli_session_open(&s, true)) != 0)
			goto out;
		rc = cli_tick_scan(s.db, (double)og_clock_wall_ms() / 1000.0, &due, &err);
		cli_session_close(&s);
		if (rc < 0) {
			st = cli_fail(1, "%s", err.msg);
			goto out;
		}
		cJSON_ArrayForEach(e, due) {
			cJSON *o = NULL;
			int fst;
			if (bump(fired, str_or(e, "thread_id", "")) > TICK_MAX_FIRES_PER_THREAD)
				continue;
			fst = cli_tick_fire(&flags, e, &o);
			if (fst && !st)
				st = fst;
			if (o) {
				if (!flags.json)
					print_outcome(o);
				cJSON_AddItemToArray(all, o);
			}
			n++;
		}
		cJSON_Delete(due);
		due = NULL;
		if (!n)
			break;
	}
	if (flags.json) {
		char *text = og_json_print_text(all);
		if (text)
			printf("%s\n", text);
		free(text);
	} else if (!cJSON_GetArraySize(all)) {
		printf("no deadline is due\n");
	}
out:
	cJSON_Delete(due);
	cJSON_Delete(all);
	cJSON_Delete(fired);
	return st;
}
