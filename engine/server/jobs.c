/*
 * jobs.c: what the workers do. Each job opens the CLI's session
 * (cli_run.h) on the shared database, so a run, resume or fork started over
 * HTTP takes the same lease, loads the same graph with a fresh Lua VM of its
 * own (VMs are not thread-safe; this one lives and dies on the worker), and
 * writes the same checkpoints as the command would. A job answers its
 * request as soon as the answer is durable (the input step, the committed
 * decision, the recorded alert) and then goes on running the graph, whose
 * steps reach the event streams as "thread changed" messages.
 */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/id.h"
#include "../core/json.h"
#include "../graph/render.h"
#include "../report/incident_index.h"
#include "server.h"
#include "slack_out.h"

static atomic_uint session_seq;

int srv_graph_path(const struct srv *S, const char *name, char *out, size_t len)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64)
		return -1;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-'))
			return -1;
	if ((size_t)snprintf(out, len, "%s/graphs/%s.lua", S->conf.root, name) >= len)
		return -1;
	return access(out, R_OK) == 0 ? 0 : -1;
}

/* Node durations for /metrics; the streams learn of a step from its commit. */
static void on_event(void *ud, const cJSON *ev)
{
	struct srv_job *j = ud;
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(ev, "event");
	const cJSON *node = cJSON_GetObjectItemCaseSensitive(ev, "node");
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(ev, "duration_ms");

	if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "task") && cJSON_IsString(node) && cJSON_IsNumber(ms))
		metrics_node(j->S->metrics, node->valuestring, ms->valuedouble / 1000.0);
}

/* The first commit after og_run_resume carries the decision (the run saves
 * it with the step, or alone before the step's first pending write): only
 * then is a resume answered, and the approver's note kept. */
static void on_commit(void *ud, int64_t us)
{
	struct srv_job *j = ud;

	metrics_commit(j->S->metrics, (double)us / 1e6);
	if (j->deferred) {
		struct og_err err = { 0 };
		char key[96];
		if (j->deferred_note) {
			snprintf(key, sizeof(key), "decision/%s", j->iid);
			if (og_store_lmdb_note_add(j->S->db, j->thread, key, j->deferred_note, NULL, &err) < 0)
				fprintf(stderr, "opsgraph serve: thread %s: the note was not saved: %s\n", j->thread,
					err.msg);
		}
		srv_job_reply(j, 200, j->deferred);
		j->deferred = NULL;
	}
	srv_post_changed(j->S, j->thread);
}

/* The CLI session on the shared database. Each session gets an owner name
 * of its own ("host:pid/sN"): two workers of one process must not share a
 * lease, or both would advance a thread at once. */
static int session_open(struct srv_job *j, struct cli_session *s, const char *by)
{
	const struct srv_conf *c = &j->S->conf;

	memset(s, 0, sizeof(*s));
	s->flags.db = c->db;
	s->flags.durability = c->durability;
	s->flags.root = c->root;
	s->flags.config = c->config;
	s->flags.by = by && *by ? by : "api";
	if (cli_session_open(s, false) != 0) {
		srv_job_error(j, 500, "store", "the database %s cannot be opened (see the server log)", c->db);
		return -1;
	}
	snprintf(s->owner, sizeof(s->owner), "%s:%d/s%u", j->S->host, (int)getpid(),
		 atomic_fetch_add(&session_seq, 1) + 1);
	s->on_event = on_event;
	s->on_commit = on_commit;
	s->event_ud = j;
	return 0;
}

static int load_graph(struct srv_job *j, struct cli_session *s, const char *path)
{
	if (cli_session_graph(s, path) == 0)
		return 0;
	srv_job_error(j, 500, "graph", "the graph file %s does not load or validate (the server log has the "
		      "message; `opsgraph check %s` shows it too)", path, path);
	return -1;
}

/* Takes the thread's lease, waiting up to wait_ms; a lease of a dead process
 * of this host is taken over at once, as the CLI does. give_up, when set, is
 * asked while waiting whether waiting still makes sense. 0 when taken, 1 when
 * give_up said so, -OG_ECONFLICT on timeout (holder in err), other -OG_E*. */
static int lease_wait(struct cli_session *s, const char *thread, int wait_ms,
		      bool (*give_up)(struct cli_session *, void *), void *ud, struct og_err *err)
{
	int64_t deadline = og_clock_mono_us() + (int64_t)wait_ms * 1000;

	for (;;) {
		int rc = og_store_lmdb_lease(s->db, thread, s->owner, CLI_LEASE_TTL_MS, err);
		const char *by;
		char holder[192] = "";
		if (rc == 0)
			break;
		if (rc != -OG_ECONFLICT)
			return rc;
		by = strstr(err->msg, "run by ");
		if (by && sscanf(by + 7, "%191s", holder) == 1 && cli_owner_is_dead(holder)) {
			og_store_lmdb_release(s->db, thread, holder, NULL);
			continue;
		}
		if (give_up && give_up(s, ud))
			return 1;
		if (og_clock_mono_us() > deadline)
			return rc;
		og_clock_sleep_ms(20);
	}
	snprintf(s->thread, sizeof(s->thread), "%s", thread);
	s->lease_renewed_us = og_clock_mono_us();
	return 0;
}

static cJSON *run_summary(struct cli_session *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "thread_id", og_run_thread_id(s->run));
	cJSON_AddStringToObject(o, "status", og_run_status_name(og_run_status(s->run)));
	cJSON_AddNumberToObject(o, "checkpoint_id", (double)og_run_checkpoint_id(s->run));
	return o;
}

/* Runs the graph to its end or next interrupt, usually after the answer
 * went out (a resume's goes out from on_commit, during the run). */
static void invoke(struct srv_job *j, struct cli_session *s)
{
	struct og_err err = { 0 };
	int rc;

	srv_post_changed(j->S, j->thread);
	if ((rc = og_run_invoke(s->run, &err)) < 0)
		fprintf(stderr, "opsgraph serve: thread %s: run failed: %s\n", j->thread, err.msg);
	slack_after_run(j->S, s);	/* after the run, never instead of its answer */
	if (j->deferred) {
		/* the decision never reached the store */
		srv_job_error(j, rc == -OG_ECONFLICT ? 409 : 500, rc == -OG_ECONFLICT ? "already_resumed" : "resume",
			      "the decision was not saved: %s", rc < 0 ? err.msg : "the run committed nothing");
		cJSON_Delete(j->deferred);
		j->deferred = NULL;
	}
	srv_post_changed(j->S, j->thread);
}

/* A new thread of graph j->graph with input j->body["input"], under its
 * lease; answers 202 once the input step is committed. */
static void start_thread(struct srv_job *j, const cJSON *input, bool quiet_if_exists)
{
	struct cli_session s;
	struct og_err err = { 0 };
	cJSON *existing = NULL;
	int rc;

	if (session_open(j, &s, j->by) < 0)
		return;
	if (load_graph(j, &s, j->graph) < 0)
		goto out;
	if (j->thread[0] && cli_get_ckpt(&s, j->thread, 0, &existing, NULL) == 0) {
		if (!quiet_if_exists)
			srv_job_error(j, 409, "thread_exists", "thread %s already exists: resume it with POST "
				      "/api/threads/%s/resume", j->thread, j->thread);
		goto out;
	}
	if (cli_session_run_new(&s, j->thread[0] ? j->thread : NULL, 0, j->bp[0][0] ? j->bp[0] : NULL,
				j->bp[1][0] ? j->bp[1] : NULL) != 0) {
		srv_job_error(j, 500, "run", "the run could not be created (see the server log)");
		goto out;
	}
	snprintf(j->thread, sizeof(j->thread), "%s", og_run_thread_id(s.run));
	if ((rc = lease_wait(&s, j->thread, 0, NULL, NULL, &err)) != 0) {
		if (!quiet_if_exists)
			srv_job_error(j, 409, "thread_busy", "%s", err.msg);
		goto out;
	}
	if ((rc = og_run_start(s.run, input, &err)) < 0) {
		if (rc == -OG_ECONFLICT && quiet_if_exists)
			goto out;
		srv_job_error(j, rc == -OG_EINVAL ? 400 : rc == -OG_ECONFLICT ? 409 : 500,
			      rc == -OG_EINVAL ? "bad_input" : rc == -OG_ECONFLICT ? "thread_exists" : "run", "%s",
			      err.msg);
		goto out;
	}
	srv_job_reply(j, 202, run_summary(&s));
	invoke(j, &s);
out:
	cJSON_Delete(existing);
	cli_session_close(&s);
}

void job_run(struct srv_job *j, int worker)
{
	(void)worker;
	start_thread(j, cJSON_GetObjectItemCaseSensitive(j->body, "input"), false);
}

/* While a resume waits for the lease, a rival may be running the same
 * decision: once its resume record is committed there is nothing to wait
 * for. */
static bool already_resumed(struct cli_session *s, void *ud)
{
	struct srv_job *j = ud;
	char msg[1024];

	if (!cli_resumed_by(s, j->thread, j->iid, msg, sizeof(msg)))
		return false;
	srv_job_error(j, 409, "already_resumed", "%s", msg);
	return true;
}

static const cJSON *find_interrupt(const cJSON *ints, const char *iid)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, ints) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
		if (cJSON_IsString(id) && !strcmp(id->valuestring, iid))
			return it;
	}
	return NULL;
}

void job_resume(struct srv_job *j, int worker)
{
	struct cli_session s;
	struct og_err err = { 0 };
	cJSON *latest = NULL, *ints = NULL, *resume = NULL, *value;
	const cJSON *gf, *it, *note = cJSON_GetObjectItemCaseSensitive(j->body, "note");
	char msg[1024];
	int rc;

	(void)worker;
	if (session_open(j, &s, j->by) < 0)
		return;
	if (cli_get_ckpt(&s, j->thread, 0, &latest, &err) < 0) {
		srv_job_error(j, 404, "no_thread", "no thread %s", j->thread);
		goto out;
	}
	gf = cJSON_GetObjectItemCaseSensitive(latest, "graph_file");
	if (!cJSON_IsString(gf)) {
		srv_job_error(j, 500, "graph", "thread %s does not record its graph file", j->thread);
		goto out;
	}
	snprintf(j->graph, sizeof(j->graph), "%s", gf->valuestring);
	if (!j->iid[0]) {
		/* no id given: the one pending interrupt, fixed now, so two
		 * concurrent answers race for the same id */
		const cJSON *pend = cJSON_GetObjectItemCaseSensitive(latest, "interrupts");
		int n = cJSON_GetArraySize(pend);
		if (n > 1) {
			srv_job_error(j, 400, "ambiguous", "%d interrupts are pending: name one with \"interrupt_id\"", n);
			goto out;
		}
		if (n == 1 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pend, 0), "id")))
			snprintf(j->iid, sizeof(j->iid), "%s",
				 cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pend, 0), "id")->valuestring);
	}
	if (!j->iid[0]) {
		if (cli_resumed_by(&s, j->thread, NULL, msg, sizeof(msg)))
			srv_job_error(j, 409, "already_resumed", "%s", msg);
		else
			srv_job_error(j, 409, "not_waiting", "thread %s is not waiting for a decision (status: %s)",
				      j->thread, cJSON_IsString(cJSON_GetObjectItemCaseSensitive(latest, "status"))
				      ? cJSON_GetObjectItemCaseSensitive(latest, "status")->valuestring : "?");
		goto out;
	}
	if (load_graph(j, &s, j->graph) < 0)
		goto out;
	if ((rc = lease_wait(&s, j->thread, 30000, already_resumed, j, &err)) != 0) {
		if (rc < 0)
			srv_job_error(j, rc == -OG_ECONFLICT ? 409 : 500, "thread_busy", "%s", err.msg);
		goto out;
	}
	/* under the lease, the latest checkpoint is the truth */
	cJSON_Delete(latest);
	latest = NULL;
	if (cli_get_ckpt(&s, j->thread, 0, &latest, &err) < 0 ||
	    cli_session_run_new(&s, j->thread, 0, NULL, NULL) != 0 ||
	    og_run_load_move(s.run, latest, cli_latest_id(&s, j->thread) + 1, &err) < 0) {
		srv_job_error(j, 500, "store", "thread %s cannot be loaded: %s", j->thread, err.msg);
		goto out;
	}
	ints = og_run_interrupts(s.run);
	if (!(it = find_interrupt(ints, j->iid))) {
		if (cli_resumed_by(&s, j->thread, j->iid, msg, sizeof(msg)))
			srv_job_error(j, 409, "already_resumed", "%s", msg);
		else if (og_run_status(s.run) != OG_RUN_INTERRUPTED)	/* e.g. a breakpoint passed meanwhile */
			srv_job_error(j, 409, "not_waiting", "thread %s is not waiting for a decision any more "
				      "(status: %s); interrupt '%s' is not pending", j->thread,
				      og_run_status_name(og_run_status(s.run)), j->iid);
		else
			srv_job_error(j, 404, "no_interrupt", "no pending interrupt '%s' in thread %s (status: %s)",
				      j->iid, j->thread, og_run_status_name(og_run_status(s.run)));
		goto out;
	}
	value = cJSON_DetachItemFromObjectCaseSensitive(j->body, "value");
	value = cli_fill_by(value ? value : cJSON_CreateNull(), cJSON_GetObjectItemCaseSensitive(it, "value"),
			    s.flags.by);
	resume = cJSON_CreateObject();
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "kind")) &&
	    strcmp(cJSON_GetObjectItemCaseSensitive(it, "kind")->valuestring, "interrupt"))
		cJSON_AddItemToObject(resume, "value", value);	/* a breakpoint: any value passes it */
	else
		cJSON_AddItemToObject(cJSON_AddObjectToObject(resume, "by_id"), j->iid, value);
	if ((rc = og_run_resume(s.run, resume, s.flags.by, &err)) < 0) {
		srv_job_error(j, rc == -OG_EINVAL ? 400 : rc == -OG_ENOENT ? 404 : 500, "resume", "%s", err.msg);
		goto out;
	}
	if (cJSON_IsString(note) && *note->valuestring) {
		/* the approver's words go beside the decision, not into the graph's state */
		cJSON *n = cJSON_CreateObject();
		char at[40];
		og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at));
		cJSON_AddStringToObject(n, "kind", "decision_note");
		cJSON_AddStringToObject(n, "interrupt_id", j->iid);
		cJSON_AddStringToObject(n, "by", s.flags.by);
		cJSON_AddStringToObject(n, "at", at);
		cJSON_AddStringToObject(n, "note", note->valuestring);
		j->deferred_note = n;
	}
	j->deferred = run_summary(&s);
	cJSON_AddStringToObject(j->deferred, "interrupt_id", j->iid);
	cJSON_AddStringToObject(j->deferred, "by", s.flags.by);
	invoke(j, &s);
out:
	cJSON_Delete(latest);
	cJSON_Delete(ints);
	cJSON_Delete(resume);
	cli_session_close(&s);
}

/* The start of continue and fork: the thread's graph loaded from the file
 * its latest checkpoint names, and its lease. 0, or -1 once the error is
 * answered (the session is open either way: the caller closes it). */
static int thread_take(struct srv_job *j, struct cli_session *s)
{
	struct og_err err = { 0 };
	cJSON *latest = NULL;
	const cJSON *gf;
	int rc = -1;

	if (cli_get_ckpt(s, j->thread, 0, &latest, &err) < 0) {
		srv_job_error(j, 404, "no_thread", "no thread %s", j->thread);
		goto out;
	}
	gf = cJSON_GetObjectItemCaseSensitive(latest, "graph_file");
	if (!cJSON_IsString(gf)) {
		srv_job_error(j, 500, "graph", "thread %s does not record its graph file", j->thread);
		goto out;
	}
	if (load_graph(j, s, gf->valuestring) < 0)
		goto out;
	if (lease_wait(s, j->thread, 10000, NULL, NULL, &err) != 0) {
		srv_job_error(j, 409, "thread_busy", "%s", err.msg);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(latest);
	return rc;
}

/* A resume without a value, as `opsgraph resume THREAD`: continues a thread
 * that needs no answer, one a crash, a shutdown's grace period or a fork
 * left with work to do, or retries a failed step. A thread that waits for a
 * decision is refused: it needs a value. */
void job_continue(struct srv_job *j, int worker)
{
	struct cli_session s;
	struct og_err err = { 0 };
	cJSON *latest = NULL;
	const cJSON *st;
	int rc;

	(void)worker;
	if (session_open(j, &s, j->by) < 0)
		return;
	if (thread_take(j, &s) < 0)
		goto out;
	if (cli_get_ckpt(&s, j->thread, 0, &latest, &err) < 0 ||
	    cli_session_run_new(&s, j->thread, 0, NULL, NULL) != 0) {
		srv_job_error(j, 500, "store", "thread %s cannot be loaded: %s", j->thread, err.msg);
		goto out;
	}
	st = cJSON_GetObjectItemCaseSensitive(latest, "status");
	if (cJSON_IsString(st) && !strcmp(st->valuestring, "interrupted") &&
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(latest, "interrupts")) > 0) {
		srv_job_error(j, 400, "needs_value", "thread %s waits for a decision: give it as \"value\"", j->thread);
		goto out;
	}
	if (og_run_load_move(s.run, latest, cli_latest_id(&s, j->thread) + 1, &err) < 0) {
		srv_job_error(j, 500, "store", "thread %s cannot be loaded: %s", j->thread, err.msg);
		goto out;
	}
	if ((rc = og_run_resume(s.run, NULL, s.flags.by, &err)) < 0) {
		srv_job_error(j, rc == -OG_ESTATE ? 409 : 500, rc == -OG_ESTATE ? "nothing_to_continue" : "resume", "%s",
			      err.msg);
		goto out;
	}
	srv_job_reply(j, 200, run_summary(&s));
	invoke(j, &s);
out:
	cJSON_Delete(latest);
	cli_session_close(&s);
}

void job_fork(struct srv_job *j, int worker)
{
	struct cli_session s;
	struct og_err err = { 0 };
	cJSON *ck = NULL;
	const cJSON *as = cJSON_GetObjectItemCaseSensitive(j->body, "as_node");
	int rc;

	(void)worker;
	if (session_open(j, &s, j->by) < 0)
		return;
	if (thread_take(j, &s) < 0)
		goto out;
	if (cli_get_ckpt(&s, j->thread, j->ckpt_id, &ck, &err) < 0) {
		srv_job_error(j, 404, "no_checkpoint", "%s (see GET /api/threads/%s/history)", err.msg, j->thread);
		goto out;
	}
	if (cli_session_run_new(&s, j->thread, 0, NULL, NULL) != 0 ||
	    og_run_load_move(s.run, ck, cli_latest_id(&s, j->thread) + 1, &err) < 0) {
		srv_job_error(j, 500, "store", "thread %s cannot be loaded: %s", j->thread, err.msg);
		goto out;
	}
	if ((rc = og_run_update(s.run, cJSON_GetObjectItemCaseSensitive(j->body, "update"),
				cJSON_IsString(as) ? as->valuestring : NULL, "fork", &err)) < 0) {
		srv_job_error(j, rc == -OG_EINVAL ? 400 : 500, "fork", "%s", err.msg);
		goto out;
	}
	{
		cJSON *o = run_summary(&s);
		cJSON_AddNumberToObject(o, "parent_id", (double)j->ckpt_id);
		srv_job_reply(j, 200, o);
	}
	srv_post_changed(j->S, j->thread);
out:
	cJSON_Delete(ck);
	cli_session_close(&s);
}

/* A trigger's run: the thread may exist already (a repeated notification,
 * a retry): then nothing starts. Nobody waits for this job's answer. */
static void job_trigger_run(struct srv_job *j, int worker)
{
	cJSON *input = cJSON_CreateObject();

	(void)worker;
	cJSON_AddItemReferenceToObject(input, "trigger", j->body);
	start_thread(j, input, true);
	cJSON_Delete(input);
}

static void queue_trigger_run(struct srv_job *j, const char *graph_name, cJSON *payload)
{
	struct srv_job *r = srv_job_new(j->S, job_trigger_run, NULL, NULL);

	if (!r) {
		cJSON_Delete(payload);
		return;
	}
	snprintf(r->thread, sizeof(r->thread), "%s", j->thread);
	snprintf(r->by, sizeof(r->by), "%s", j->by);
	r->body = payload;
	if (srv_graph_path(j->S, graph_name, r->graph, sizeof(r->graph)) < 0) {
		fprintf(stderr, "opsgraph serve: no graph '%s' under %s/graphs: the trigger of thread %s is recorded "
			"but starts no run\n", graph_name, j->S->conf.root, j->thread);
		srv_job_free(r);
		return;
	}
	if (srv_pool_push(j->S->runs, r) < 0)
		srv_job_free(r);
}

static void fingerprint_key(const cJSON *payload, char *out, size_t len)
{
	/* Alertmanager delivers at least once: the same group, status and set
	 * of alerts is the same notification */
	const cJSON *a;
	uint64_t h = og_id_hash("am", 2, 0);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(payload, "status");

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(payload, "alerts")) {
		const cJSON *fp = cJSON_GetObjectItemCaseSensitive(a, "fingerprint");
		const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "startsAt");
		const cJSON *as = cJSON_GetObjectItemCaseSensitive(a, "status");
		uint64_t x = 0;
		if (cJSON_IsString(fp))
			x ^= og_id_hash(fp->valuestring, strlen(fp->valuestring), 1);
		if (cJSON_IsString(sa))
			x ^= og_id_hash(sa->valuestring, strlen(sa->valuestring), 2);
		if (cJSON_IsString(as))
			x ^= og_id_hash(as->valuestring, strlen(as->valuestring), 3);
		h += x * 0x9E3779B97F4A7C15ull;	/* order-independent sum of per-alert hashes */
	}
	snprintf(out, len, "alert/%s/%016llx", cJSON_IsString(st) ? st->valuestring : "?", (unsigned long long)h);
}

void job_alert(struct srv_job *j, int worker)
{
	struct og_err err = { 0 };
	cJSON *n = cJSON_CreateObject(), *o;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j->body, "status");
	char key[128], at[40];
	bool added = false, firing = cJSON_IsString(st) && !strcmp(st->valuestring, "firing");
	uint64_t latest = 0;

	(void)worker;
	fingerprint_key(j->body, key, sizeof(key));
	og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at));
	cJSON_AddStringToObject(n, "kind", firing ? "alert_firing" : "alert_resolved");
	cJSON_AddStringToObject(n, "at", at);
	cJSON_AddItemReferenceToObject(n, "payload", j->body);
	if (og_store_lmdb_note_add(j->S->db, j->thread, key, n, &added, &err) < 0) {
		/* 5xx: Alertmanager retries */
		srv_job_error(j, 503, "store", "the alert was not recorded: %s", err.msg);
		cJSON_Delete(n);
		return;
	}
	cJSON_Delete(n);
	og_store_lmdb_latest_id(j->S->db, j->thread, &latest, NULL);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "thread_id", j->thread);
	cJSON_AddBoolToObject(o, "recorded", added);
	cJSON_AddBoolToObject(o, "duplicate", !added);
	cJSON_AddStringToObject(o, "run", latest ? "exists" : firing ? "queued" : "none");
	srv_job_reply(j, 200, o);
	if (latest == 0 && firing)
		queue_trigger_run(j, j->S->conf.alert_graph, cJSON_Duplicate(j->body, 1));
	if (added && !firing && latest) {
		/* a resolution ends the incident for the index too (the run may
		 * still wait for a human; a done thread gets its resolved_at) */
		struct og_err ierr = { 0 };
		if (og_incident_index_thread(j->S->db, j->thread, NULL, &ierr) < 0)
			fprintf(stderr, "opsgraph serve: thread %s: not indexed after its resolution: %s\n", j->thread,
				ierr.msg);
	}
	srv_post_changed(j->S, j->thread);
}

void job_slack(struct srv_job *j, int worker)
{
	struct og_err err = { 0 };
	const cJSON *eid = cJSON_GetObjectItemCaseSensitive(j->body, "event_id");
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j->body, "event");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(ev, "subtype");
	cJSON *n = cJSON_CreateObject(), *o;
	char at[40];
	bool added = false, runs;

	(void)worker;
	og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at));
	cJSON_AddStringToObject(n, "thread_id", j->thread);
	cJSON_AddStringToObject(n, "at", at);
	/* the event id is remembered before the ack, so a retry that arrives
	 * while the first delivery is still being handled is a duplicate too */
	if (og_store_lmdb_note_add(j->S->db, "slack-events", eid->valuestring, n, &added, &err) < 0) {
		cJSON_Delete(n);
		srv_job_error(j, 503, "store", "the event was not recorded: %s", err.msg);
		return;
	}
	cJSON_Delete(n);
	/* messages and mentions start incidents; edits, deletions and the
	 * like do not */
	runs = cJSON_IsString(type) && (!strcmp(type->valuestring, "message") || !strcmp(type->valuestring, "app_mention")) &&
	       (!cJSON_IsString(sub) || !strcmp(sub->valuestring, "bot_message"));
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddBoolToObject(o, "duplicate", !added);
	if (added && runs)
		cJSON_AddStringToObject(o, "thread_id", j->thread);
	srv_job_reply(j, 200, o);
	if (added && runs)
		/* the whole envelope: slack_alert reads the event inside it */
		queue_trigger_run(j, j->S->conf.slack_graph, cJSON_Duplicate(j->body, 1));
}

/* GET /api/graphs: loading a graph file runs its Lua, so it is a job too. */
void job_graphs(struct srv_job *j, int worker)
{
	char dir[PATH_MAX];
	cJSON *list = cJSON_CreateArray();
	struct dirent **names = NULL;
	int i, n;

	(void)worker;
	snprintf(dir, sizeof(dir), "%s/graphs", j->S->conf.root);
	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *f = names[i]->d_name;
		size_t len = strlen(f);
		char name[128], path[PATH_MAX];
		struct cli_session s;
		cJSON *o;
		if (len < 5 || len - 4 >= sizeof(name) || strcmp(f + len - 4, ".lua"))
			continue;
		memcpy(name, f, len - 4);
		name[len - 4] = 0;
		if (srv_graph_path(j->S, name, path, sizeof(path)) < 0)
			continue;
		memset(&s, 0, sizeof(s));
		s.flags.root = j->S->conf.root;
		s.flags.config = j->S->conf.config;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		if (cli_session_graph(&s, path) == 0) {
			struct og_err err = { 0 };
			cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
			char *mm = og_render_graph(s.g, OG_RENDER_MERMAID, NULL, &err);
			int k;
			cJSON_AddStringToObject(o, "graph", s.g->name);
			for (k = 0; k < s.g->nnodes; k++)
				cJSON_AddItemToArray(nodes, cJSON_CreateString(s.g->nodes[k].name));
			if (mm)
				cJSON_AddStringToObject(o, "mermaid", mm);
			else
				cJSON_AddStringToObject(o, "error", err.msg);
			free(mm);
		} else {
			cJSON_AddStringToObject(o, "error", "the graph does not load or validate (see the server log)");
		}
		cli_session_close(&s);
		cJSON_AddItemToArray(list, o);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "graphs", list);
		srv_job_reply(j, 200, o);
	}
}
