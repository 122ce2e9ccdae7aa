/*
 * cmd_llm.c: `opsgraph llm-log`, the LLM usage log (engine/store/
 * store_lmdb_llmlog.h) with totals, and the sink that writes it: runs
 * started by run/resume/fork/replay point their VM's usage-log hook
 * (og_lvm_set_llm_log) at cli_llm_log_sink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "../store/store_lmdb_llmlog.h"
#include "cli.h"
#include "cli_run.h"

int cli_llm_log_sink(void *ud, const cJSON *entry, struct og_err *err)
{
	struct cli_session *s = ud;

	if (!s || !s->db)
		return 0;		/* --db :memory: keeps no usage log */
	return og_store_lmdb_llmlog_put(s->db, entry, err);
}

/* "24h", "30m", "7d", "45s" (ago) or an ISO-8601 UTC time -> epoch ms; -1 when malformed */
static int64_t parse_since(const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (end != arg && end[0] && !end[1] && v >= 0) {
		int64_t unit = *end == 's' ? 1000 : *end == 'm' ? 60000 : *end == 'h' ? 3600000 :
			       *end == 'd' ? 86400000 : 0;
		if (unit)
			return og_clock_wall_ms() - (int64_t)(v * (double)unit);
	}
	return og_clock_parse_iso8601(arg);
}

int cmd_llm_log(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *thread = NULL;
	int64_t since = 0;
	cJSON *rows = NULL, *r, *doc = NULL, *tot;
	double tin = 0, tout = 0, cost = 0;
	int i, st, rc, calls = 0, ok = 0, unpriced = 0;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
			if ((since = parse_since(argv[++i])) < 0)
				return cli_fail(2, "--since takes an age like 24h, 30m, 7d or a UTC time like "
						"2026-11-24T19:00:00Z, not '%s'", argv[i]);
		} else if (!strcmp(argv[i], "--thread") && i + 1 < argc) {
			thread = argv[++i];
		} else {
			return cli_fail(2, "usage: opsgraph llm-log [--since 24h|ISO] [--thread ID] [--output json] "
					"[--db DIR]");
		}
	}
	if ((st = cli_session_open(&s, true)) != 0)
		goto out;
	if (!s.db) {
		st = cli_fail(2, "llm-log needs a database (--db DIR)");
		goto out;
	}
	if (og_store_lmdb_llmlog_list(s.db, since, thread, &rows, &err) < 0) {
		st = cli_fail(1, "%s", err.msg);
		goto out;
	}
	cJSON_ArrayForEach(r, rows) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "cost");
		const char *o = og_json_get_str(r, "outcome");
		calls++;
		ok += !strcmp(o, "ok") || !strcmp(o, "repaired");
		tin += og_json_get_num(r, "tokens_in");
		tout += og_json_get_num(r, "tokens_out");
		if (cJSON_IsNumber(c))
			cost += c->valuedouble;
		else
			unpriced++;
	}
	if (s.flags.json) {
		char *text;
		if (!(doc = cJSON_CreateObject()) || !(tot = cJSON_AddObjectToObject(doc, "totals"))) {
			st = cli_fail(1, "out of memory");
			goto out;
		}
		cJSON_AddNumberToObject(tot, "calls", calls);
		cJSON_AddNumberToObject(tot, "ok", ok);
		cJSON_AddNumberToObject(tot, "tokens_in", tin);
		cJSON_AddNumberToObject(tot, "tokens_out", tout);
		cJSON_AddNumberToObject(tot, "cost", cost);
		cJSON_AddNumberToObject(tot, "unpriced", unpriced);
		cJSON_AddItemToObject(doc, "entries", rows);
		rows = NULL;
		if (!(text = og_json_print_text(doc))) {
			st = cli_fail(1, "out of memory");
			goto out;
		}
		printf("%s\n", text);
		free(text);
	} else {
		printf("%-24s %-28s %-6s %-28s %-14s %7s %7s %7s %10s\n", "AT", "RUN", "ROLE", "PROVIDER/MODEL",
		       "OUTCOME", "MS", "IN", "OUT", "COST");
		cJSON_ArrayForEach(r, rows) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "cost");
			char pm[160], cs[32];
			snprintf(pm, sizeof(pm), "%s/%s", og_json_get_str(r, "provider"), og_json_get_str(r, "model"));
			if (cJSON_IsNumber(c))
				snprintf(cs, sizeof(cs), "%.6f", c->valuedouble);
			else
				snprintf(cs, sizeof(cs), "no price");
			printf("%-24.24s %-28s %-6s %-28s %-14s %7.0f %7.0f %7.0f %10s\n", og_json_get_str(r, "at"), og_json_get_str(r, "run"),
			       og_json_get_str(r, "role"), pm, og_json_get_str(r, "outcome"), og_json_get_num(r, "latency_ms"), og_json_get_num(r, "tokens_in"),
			       og_json_get_num(r, "tokens_out"), cs);
		}
		printf("total: %d call%s (%d answered), tokens in %.0f, out %.0f, estimated cost %.6f%s\n", calls,
		       calls == 1 ? "" : "s", ok, tin, tout, cost,
		       unpriced ? " (calls of models without a price in llm.prices are not counted)" : "");
	}
out:
	cJSON_Delete(rows);
	cJSON_Delete(doc);
	cli_session_close(&s);
	return st;
}
