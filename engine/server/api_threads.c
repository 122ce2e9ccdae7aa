/*
 * api_threads.c: the JSON API over threads. Reads (the thread list, one
 * thread, its history) are short LMDB read transactions and run on the loop;
 * anything that runs graph code or writes (runs, resumes, forks, and the
 * graph list, which loads graph files) becomes a job for a worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../core/json.h"
#include "../graph/ckpt_diff.h"
#include "server.h"

bool srv_thread_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= 100 && !strpbrk(id, "/ \t\r\n%?#\\\"");
}

void api_graphs(struct srv *S, struct evhttp_request *req)
{
	struct srv_job *j = srv_job_new(S, job_graphs, req, "graphs");

	if (!j) {
		srv_reply_error(S, req, "graphs", 500, "internal", "out of memory");
		return;
	}
	srv_submit(S, S->runs, j);
}

/* Copies a short string field; -1 when present but not a usable string. */
static int opt_str(const cJSON *body, const char *k, char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, k);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) >= len)
		return -1;
	snprintf(out, len, "%s", v->valuestring);
	return 0;
}

void api_runs(struct srv *S, struct evhttp_request *req)
{
	cJSON *body = srv_json_body(S, req, "runs");
	const cJSON *graph, *input;
	struct srv_job *j;

	if (!body)
		return;
	graph = cJSON_GetObjectItemCaseSensitive(body, "graph");
	input = cJSON_GetObjectItemCaseSensitive(body, "input");
	if (!cJSON_IsString(graph)) {
		srv_reply_error(S, req, "runs", 400, "bad_request", "\"graph\" (a graph name, e.g. \"incident\" for "
				"graphs/incident.lua) is required");
		goto out;
	}
	if (input && !cJSON_IsObject(input) && !cJSON_IsNull(input)) {
		srv_reply_error(S, req, "runs", 400, "bad_request", "\"input\" must be an object of state channels");
		goto out;
	}
	if (!(j = srv_job_new(S, job_run, req, "runs"))) {
		srv_reply_error(S, req, "runs", 500, "internal", "out of memory");
		goto out;
	}
	if (srv_graph_path(S, graph->valuestring, j->graph, sizeof(j->graph)) < 0) {
		srv_reply_error(S, req, "runs", 404, "no_graph", "no graph '%s': names are the files of %s/graphs "
				"without .lua (GET /api/graphs lists them)", graph->valuestring, S->conf.root);
		free(j->pend);
		j->pend = NULL;
		srv_job_free(j);
		goto out;
	}
	if (opt_str(body, "thread_id", j->thread, sizeof(j->thread)) < 0 || (j->thread[0] && !srv_thread_id_ok(j->thread)) ||
	    opt_str(body, "by", j->by, sizeof(j->by)) < 0) {
		srv_reply_error(S, req, "runs", 400, "bad_request", "\"thread_id\" is 1 to 100 characters without "
				"spaces, '/', '%%', '?', '#' or quotes; \"by\" a short string");
		free(j->pend);
		j->pend = NULL;
		srv_job_free(j);
		goto out;
	}
	{
		char msg[256];
		if (auth_by(S, body, j->by, sizeof(j->by), msg, sizeof(msg)) < 0) {
			srv_reply_error(S, req, "runs", 400, "bad_request", "%s", msg);
			free(j->pend);
			j->pend = NULL;
			srv_job_free(j);
			goto out;
		}
	}
	{
		/* per-run breakpoints, as run --interrupt-before/--interrupt-after */
		static const char *const keys[2] = { "interrupt_before", "interrupt_after" };
		int k, n;
		for (k = 0; k < 2; k++) {
			const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, keys[k]), *it;
			n = 0;
			if (list && !cJSON_IsArray(list) && !cJSON_IsNull(list))
				n = -1;
			cJSON_ArrayForEach(it, list) {
				if (!cJSON_IsString(it) || n < 0 || n >= 16) {
					n = -1;
					break;
				}
				j->bp[k][n++] = it->valuestring;
			}
			if (n < 0) {
				srv_reply_error(S, req, "runs", 400, "bad_request", "\"%s\" is a list of at most 16 node "
						"names (\"*\": every node)", keys[k]);
				free(j->pend);
				j->pend = NULL;
				srv_job_free(j);
				goto out;
			}
		}
	}
	j->body = body;	/* the breakpoint names point into it */
	body = NULL;
	srv_submit(S, S->runs, j);
out:
	cJSON_Delete(body);
}

static const char *query(struct evhttp_request *req, const char *key, struct evkeyvalq *q)
{
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

	if (!qs || evhttp_parse_query_str(qs, q) < 0)
		return NULL;
	return evhttp_find_header(q, key);
}

void api_threads(struct srv *S, struct evhttp_request *req)
{
	struct evkeyvalq q = { 0 };
	struct og_err err = { 0 };
	const char *status = query(req, "status", &q);
	cJSON *rows = NULL, *o;

	if (status && strcmp(status, "running") && strcmp(status, "done") && strcmp(status, "interrupted") &&
	    strcmp(status, "error")) {
		srv_reply_error(S, req, "threads", 400, "bad_request",
				"status takes running, interrupted, done or error, not '%s'", status);
		goto out;
	}
	if (og_store_lmdb_threads(S->db, status, &rows, &err) < 0) {
		srv_reply_error(S, req, "threads", 500, "store", "%s", err.msg);
		goto out;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "threads", rows);
	srv_reply_json(S, req, "threads", 200, o);
	cJSON_Delete(o);
out:
	evhttp_clear_headers(&q);
}

static void thread_get(struct srv *S, struct evhttp_request *req, const char *thread)
{
	struct evkeyvalq q = { 0 };
	struct og_err err = { 0 };
	cJSON *ck = NULL, *o, *notes = NULL;
	static const char *const keep[] = { "graph", "graph_file", "status", "step", "id", "parent_id", "created_at",
					    "next", "interrupts", "error" };
	const char *cks = query(req, "checkpoint", &q);
	unsigned long long at = 0;
	char *end;
	size_t i;

	/* ?checkpoint=ID: the state as that step left it (opsgraph state
	 * --checkpoint), for the postmortem views */
	if (cks && ((at = strtoull(cks, &end, 10)) < 1 || *end)) {
		srv_reply_error(S, req, "thread", 400, "bad_request",
				"checkpoint takes a checkpoint id (GET /api/threads/%s/history lists them), not '%s'",
				thread, cks);
		evhttp_clear_headers(&q);	/* cks points into q */
		return;
	}
	evhttp_clear_headers(&q);
	if (og_store_lmdb_ops.get(S->db, thread, (uint64_t)at, &ck, &err) < 0) {
		if (err.code == -OG_ENOENT && at) {
			srv_reply_error(S, req, "thread", 404, "no_checkpoint",
					"no checkpoint %llu in thread %s (GET /api/threads/%s/history lists them)", at,
					thread, thread);
		} else if (err.code == -OG_ENOENT) {
			/* an alert group can be recorded before its run starts */
			if (og_store_lmdb_notes(S->db, thread, &notes, NULL) == 0 && cJSON_GetArraySize(notes) > 0) {
				o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "thread_id", thread);
				cJSON_AddStringToObject(o, "status", "pending");
				cJSON_AddItemToObject(o, "notes", notes);
				srv_reply_json(S, req, "thread", 200, o);
				cJSON_Delete(o);
				return;
			}
			cJSON_Delete(notes);
			srv_reply_error(S, req, "thread", 404, "no_thread", "no thread %s (GET /api/threads lists them)",
					thread);
		} else {
			srv_reply_error(S, req, "thread", 500, "store", "%s", err.msg);
		}
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "thread_id", thread);
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(ck, keep[i]);
		cJSON_AddItemToObject(o, !strcmp(keep[i], "id") ? "checkpoint_id" : keep[i], v ? v : cJSON_CreateNull());
	}
	{
		cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(ck, "values");
		cJSON_AddItemToObject(o, "state", v ? v : cJSON_CreateObject());
	}
	if (og_store_lmdb_notes(S->db, thread, &notes, &err) == 0)
		cJSON_AddItemToObject(o, "notes", notes);
	srv_reply_json(S, req, "thread", 200, o);
	cJSON_Delete(o);
	cJSON_Delete(ck);
}

static void thread_history(struct srv *S, struct evhttp_request *req, const char *thread)
{
	struct evkeyvalq q = { 0 };
	struct og_err err = { 0 };
	const char *lim = query(req, "limit", &q), *bef = evhttp_find_header(&q, "before");
	cJSON *rows = NULL, *o;
	long limit = 0;
	unsigned long long before = 0;
	char *end;

	if (lim && ((limit = strtol(lim, &end, 10)) < 1 || *end)) {
		srv_reply_error(S, req, "history", 400, "bad_request", "limit takes a positive number, not '%s'", lim);
		goto out;
	}
	if (bef && ((before = strtoull(bef, &end, 10)) < 1 || *end)) {
		srv_reply_error(S, req, "history", 400, "bad_request", "before takes a checkpoint id, not '%s'", bef);
		goto out;
	}
	if (og_store_lmdb_history(S->db, thread, (int)(limit > 100000 ? 100000 : limit), before, &rows, &err) < 0) {
		srv_reply_error(S, req, "history", err.code == -OG_ENOENT ? 404 : 500,
				err.code == -OG_ENOENT ? "no_thread" : "store", "%s", err.msg);
		goto out;
	}
	if (cJSON_GetArraySize(rows) == 0 && !before) {
		srv_reply_error(S, req, "history", 404, "no_thread", "no thread %s", thread);
		cJSON_Delete(rows);
		goto out;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "thread_id", thread);
	cJSON_AddItemToObject(o, "history", rows);
	srv_reply_json(S, req, "history", 200, o);
	cJSON_Delete(o);
out:
	evhttp_clear_headers(&q);
}

/* ?from=[THREAD:]ID&to=[THREAD:]ID|latest: the state diff of two
 * checkpoints (opsgraph diff), for the postmortem page. */
static void thread_diff(struct srv *S, struct evhttp_request *req, const char *thread)
{
	struct evkeyvalq q = { 0 };
	struct og_err err = { 0 };
	struct og_ckpt_ref from, to;
	const char *f = query(req, "from", &q), *t = evhttp_find_header(&q, "to");
	cJSON *d = NULL;
	int rc;

	if (!f || og_ckpt_ref_parse(f, thread, "from", &from, &err) < 0 ||
	    og_ckpt_ref_parse(t ? t : "latest", thread, "to", &to, &err) < 0) {
		srv_reply_error(S, req, "diff", 400, "bad_request", "%s (GET /api/threads/%s/history lists the ids)",
				f ? err.msg : "from (a checkpoint id) is required; to defaults to latest", thread);
		goto out;
	}
	if (!srv_thread_id_ok(from.thread) || !srv_thread_id_ok(to.thread)) {
		srv_reply_error(S, req, "diff", 400, "bad_request", "not a thread id in from or to");
		goto out;
	}
	if ((rc = og_ckpt_diff(&og_store_lmdb_ops, S->db, &from, &to, &d, &err)) < 0) {
		srv_reply_error(S, req, "diff", rc == -OG_ENOENT ? 404 : 500, rc == -OG_ENOENT ? "no_checkpoint" : "store",
				"%s", err.msg);
		goto out;
	}
	srv_reply_json(S, req, "diff", 200, d);
	cJSON_Delete(d);
out:
	evhttp_clear_headers(&q);
}

static void thread_post(struct srv *S, struct evhttp_request *req, const char *thread, bool resume)
{
	const char *route = resume ? "resume" : "fork";
	cJSON *body = srv_json_body(S, req, route);
	struct srv_job *j;
	const cJSON *ck;

	if (!body)
		return;
	if (!(j = srv_job_new(S, resume ? job_resume : job_fork, req, route))) {
		srv_reply_error(S, req, route, 500, "internal", "out of memory");
		cJSON_Delete(body);
		return;
	}
	snprintf(j->thread, sizeof(j->thread), "%s", thread);
	j->body = body;
	if (opt_str(body, "by", j->by, sizeof(j->by)) < 0) {
		srv_reply_error(S, req, route, 400, "bad_request", "\"by\" is a name of at most %zu bytes",
				sizeof(j->by) - 1);
		goto bad;
	}
	{
		char msg[256];
		if (auth_by(S, body, j->by, sizeof(j->by), msg, sizeof(msg)) < 0) {
			srv_reply_error(S, req, route, 400, "bad_request", "%s", msg);
			goto bad;
		}
	}
	if (resume) {
		const cJSON *note = cJSON_GetObjectItemCaseSensitive(body, "note");
		if (opt_str(body, "interrupt_id", j->iid, sizeof(j->iid)) < 0) {
			srv_reply_error(S, req, route, 400, "bad_request", "\"interrupt_id\" is the id of a pending "
					"interrupt (GET /api/threads/%s shows them)", thread);
			goto bad;
		}
		if (!cJSON_GetObjectItemCaseSensitive(body, "value") && j->iid[0]) {
			srv_reply_error(S, req, route, 400, "bad_request", "\"value\" (the answer) is required");
			goto bad;
		}
		if (!cJSON_GetObjectItemCaseSensitive(body, "value"))
			j->fn = job_continue;
		if (note && !cJSON_IsString(note) && !cJSON_IsNull(note)) {
			srv_reply_error(S, req, route, 400, "bad_request", "\"note\" must be a string");
			goto bad;
		}
	} else {
		const cJSON *as = cJSON_GetObjectItemCaseSensitive(body, "as_node");
		const cJSON *up = cJSON_GetObjectItemCaseSensitive(body, "update");
		ck = cJSON_GetObjectItemCaseSensitive(body, "checkpoint_id");
		if (!cJSON_IsNumber(ck) || ck->valuedouble < 1 || ck->valuedouble != (double)(uint64_t)ck->valuedouble) {
			srv_reply_error(S, req, route, 400, "bad_request", "\"checkpoint_id\" (a positive whole number "
					"from GET /api/threads/%s/history) is required", thread);
			goto bad;
		}
		if ((as && !cJSON_IsString(as) && !cJSON_IsNull(as)) || (up && !cJSON_IsObject(up) && !cJSON_IsNull(up))) {
			srv_reply_error(S, req, route, 400, "bad_request",
					"\"as_node\" is a node name and \"update\" an object of channel writes");
			goto bad;
		}
		j->ckpt_id = (uint64_t)ck->valuedouble;
	}
	srv_submit(S, S->runs, j);
	return;
bad:
	free(j->pend);
	j->pend = NULL;
	srv_job_free(j);
}

void api_thread(struct srv *S, struct evhttp_request *req, const char *thread, const char *sub)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	bool get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;

	if (!srv_thread_id_ok(thread)) {
		srv_reply_error(S, req, "thread", 404, "no_thread", "not a thread id");
	} else if (!*sub) {
		if (get)
			thread_get(S, req, thread);
		else
			srv_reply_error(S, req, "thread", 405, "method", "use GET");
	} else if (!strcmp(sub, "history")) {
		if (get)
			thread_history(S, req, thread);
		else
			srv_reply_error(S, req, "history", 405, "method", "use GET");
	} else if (!strcmp(sub, "diff")) {
		if (get)
			thread_diff(S, req, thread);
		else
			srv_reply_error(S, req, "diff", 405, "method", "use GET");
	} else if (!strcmp(sub, "postmortem")) {
		if (get)
			api_postmortem(S, req, thread);
		else
			srv_reply_error(S, req, "postmortem", 405, "method", "use GET");
	} else if (!strcmp(sub, "stream")) {
		if (m == EVHTTP_REQ_GET)
			sse_open(S, req, thread);
		else
			srv_reply_error(S, req, "stream", 405, "method", "use GET");
	} else if (!strcmp(sub, "resume") || !strcmp(sub, "fork")) {
		if (m == EVHTTP_REQ_POST)
			thread_post(S, req, thread, !strcmp(sub, "resume"));
		else
			srv_reply_error(S, req, sub[0] == 'r' ? "resume" : "fork", 405, "method", "use POST");
	} else {
		srv_reply_error(S, req, "api", 404, "not_found", "no endpoint /api/threads/%s/%s", thread, sub);
	}
}
