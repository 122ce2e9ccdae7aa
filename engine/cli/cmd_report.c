/*
 * cmd_report.c: what the team reads after an incident and what the next
 * incident learns from it: `postmortem` (report/postmortem.h), `index
 * rebuild` and `similar` (report/incident_index.h, report/similar.h); the
 * session-close hook that indexes a thread that just finished, and the VM's
 * sink for ctx.incidents.similar.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "../report/incident_index.h"
#include "../report/postmortem.h"
#include "cli.h"
#include "cli_run.h"

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

int cli_index_finished(struct cli_session *s)
{
	struct og_err err = { 0 };
	bool done = false;

	if (!s->db || !s->thread[0] || !s->run || og_run_status(s->run) != OG_RUN_DONE)
		return 0;
	if (og_incident_index_thread(s->db, s->thread, &done, &err) < 0) {
		/* the run itself is saved; the index can be rebuilt */
		fprintf(stderr, "opsgraph: thread %s was not added to the incident index: %s "
			"(`opsgraph index rebuild` retries)\n", s->thread, err.msg);
		return -1;
	}
	return done;
}

int cli_similar_sink(void *ud, const cJSON *query, cJSON **out, struct og_err *err)
{
	struct cli_session *s = ud;
	struct og_similar_query q = { 0 };
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(query, "limit");

	if (!s || !s->db) {
		*out = cJSON_CreateArray();	/* --db :memory: has no past */
		return *out ? 0 : og_err_set(err, -OG_ENOMEM, "out of memory");
	}
	q.service = og_json_get_str(query, "service");	/* "" when absent: no boost */
	q.signature = og_json_get_str(query, "signature");
	q.text = og_json_get_str(query, "text");
	q.labels = cJSON_GetObjectItemCaseSensitive(query, "labels");
	if (!cJSON_IsObject(q.labels))
		q.labels = NULL;
	q.exclude_thread = s->thread[0] ? s->thread : NULL;
	q.limit = cJSON_IsNumber(lim) ? (int)lim->valuedouble : 3;
	return og_incident_similar(s->db, &q, out, err);
}

static int write_out(const char *path, const char *text)
{
	FILE *f;

	if (!path) {
		fputs(text, stdout);
		return 0;
	}
	if (!(f = fopen(path, "w")))
		return cli_fail(1, "--out %s: cannot write the report there (does the directory exist?)", path);
	fputs(text, f);
	if (fclose(f) != 0)
		return cli_fail(1, "--out %s: the report was not written completely (disk full?)", path);
	return 0;
}

int cmd_postmortem(int argc, char **argv)
{
	static const char usage[] = "usage: opsgraph postmortem THREAD [--format md|html|json] [--out FILE] [--db DIR]";
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	const char *thread = NULL, *format = "md", *out = NULL;
	cJSON *doc = NULL;
	char *text = NULL;
	int i, st, rc;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			format = argv[++i];
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (argv[i][0] != '-' && !thread) {
			thread = argv[i];
		} else {
			return cli_fail(2, "%s", usage);
		}
	}
	if (s.flags.json)
		format = "json";
	if (!thread)
		return cli_fail(2, "%s", usage);
	if (strcmp(format, "md") && strcmp(format, "html") && strcmp(format, "json"))
		return cli_fail(2, "--format %s: the formats are md, html and json", format);
	if ((st = cli_session_open(&s, true)) != 0)
		goto done;
	if (!s.db) {
		st = cli_fail(2, "postmortem needs the database the incident ran in (--db DIR)");
		goto done;
	}
	if ((rc = og_postmortem_build(s.db, thread, &doc, &err)) < 0) {
		st = cli_fail(rc == -OG_ENOENT || rc == -OG_EINVAL ? 2 : 1, "%s", err.msg);
		goto done;
	}
	text = !strcmp(format, "json") ? cJSON_Print(doc) : !strcmp(format, "html") ? og_postmortem_html(doc) :
	       og_postmortem_md(doc);
	if (!text) {
		st = cli_fail(1, "postmortem: out of memory");
		goto done;
	}
	if (!strcmp(format, "json")) {
		size_t n = strlen(text);
		char *t = realloc(text, n + 2);
		if (t) {
			text = t;
			memcpy(text + n, "\n", 2);
		}
	}
	st = write_out(out, text);
done:
	free(text);
	cJSON_Delete(doc);
	cli_session_close(&s);
	return st;
}

int cmd_index(int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	bool rebuild = false;
	int i, st, rc, n = 0;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "rebuild") && !rebuild) {
			rebuild = true;
		} else {
			return cli_fail(2, "usage: opsgraph index rebuild [--db DIR]");
		}
	}
	if (!rebuild)
		return cli_fail(2, "usage: opsgraph index rebuild [--db DIR]");
	if ((st = cli_session_open(&s, false)) != 0)
		goto done;
	if (!s.db) {
		st = cli_fail(2, "index rebuild needs a database (--db DIR)");
		goto done;
	}
	if (og_incident_index_rebuild(s.db, &n, &err) < 0) {
		st = cli_fail(1, "index rebuild: %s", err.msg);
		goto done;
	}
	if (s.flags.json)
		printf("{\"indexed\": %d}\n", n);
	else
		printf("%d finished incident%s indexed\n", n, n == 1 ? "" : "s");
done:
	cli_session_close(&s);
	return st;
}

int cmd_similar(int argc, char **argv)
{
	static const char usage[] = "usage: opsgraph similar THREAD | --text \"...\" [--service S] [--limit N] "
				    "[--output json] [--db DIR]";
	struct cli_session s = { 0 };
	struct og_err err = { 0 };
	struct og_similar_query q = { 0 };
	const char *thread = NULL;
	cJSON *keep = NULL, *res = NULL;
	const cJSON *e;
	int i, st, rc, limit = 3;

	for (i = 1; i < argc; i++) {
		if ((rc = cli_db_flag(argc, argv, &i, &s.flags)) != 0) {
			if (rc < 0)
				return 2;
		} else if (!strcmp(argv[i], "--text") && i + 1 < argc) {
			q.text = argv[++i];
		} else if (!strcmp(argv[i], "--service") && i + 1 < argc) {
			q.service = argv[++i];
		} else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 100)
				return cli_fail(2, "--limit takes a number from 1 to 100, not '%s'", argv[i]);
			limit = (int)v;
		} else if (argv[i][0] != '-' && !thread) {
			thread = argv[i];
		} else {
			return cli_fail(2, "%s", usage);
		}
	}
	if (!thread == !q.text)
		return cli_fail(2, "%s (a thread or --text, not both)", usage);
	if ((st = cli_session_open(&s, true)) != 0)
		goto done;
	if (!s.db) {
		st = cli_fail(2, "similar needs a database (--db DIR)");
		goto done;
	}
	if (thread && (rc = og_incident_query(s.db, thread, &q, &keep, &err)) < 0) {
		st = cli_fail(2, "%s", err.msg);
		goto done;
	}
	q.limit = limit;
	if (og_incident_similar(s.db, &q, &res, &err) < 0) {
		st = cli_fail(1, "similar: %s", err.msg);
		goto done;
	}
	if (s.flags.json) {
		char *t = cJSON_Print(res);
		printf("%s\n", t ? t : "null");
		free(t);
	} else {
		if (!cJSON_GetArraySize(res))
			printf("no similar finished incident in the index (`opsgraph index rebuild` fills it)\n");
		i = 0;
		cJSON_ArrayForEach(e, res) {
			const cJSON *act = cJSON_GetObjectItemCaseSensitive(e, "action");
			printf("%d. %s  score %.3f  %s  [%s]  %s\n   action: %s  outcome: %s\n", ++i,
			       or_dash(og_json_get_str(e, "thread_id")), og_json_get_num(e, "score"),
			       or_dash(og_json_get_str(e, "service")), or_dash(og_json_get_str(e, "signature")),
			       or_dash(og_json_get_str(e, "root_cause")),
			       *og_json_get_str(act, "title") ? og_json_get_str(act, "title") :
			       or_dash(og_json_get_str(act, "choice")), or_dash(og_json_get_str(e, "outcome")));
		}
	}
done:
	cJSON_Delete(keep);
	cJSON_Delete(res);
	cli_session_close(&s);
	return st;
}
