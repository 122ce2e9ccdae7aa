/*
 * cli_run.c: the plumbing shared by run, resume, fork and replay: store,
 * lease, graph, and the report an on-call engineer reads at the end, which
 * always says what to do next when a run waits for a decision.
 */
#include "cli_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "cli.h"
#include "cli_config.h"
#include "cli_trace.h"

int cli_db_flag(int argc, char **argv, int *i, struct cli_db_flags *f)
{
	const char *a = argv[*i];

	if (!strcmp(a, "--output") && *i + 1 < argc) {
		a = argv[++*i];
		if (strcmp(a, "json") && strcmp(a, "text")) {
			cli_fail(2, "--output takes json or text, not '%s'", a);
			return -1;
		}
		f->json = !strcmp(a, "json");
		return 1;
	}
	if (!strcmp(a, "--db") && *i + 1 < argc) {
		f->db = argv[++*i];
		return 1;
	}
	if (!strcmp(a, "--durability") && *i + 1 < argc) {
		a = argv[++*i];
		if (!strcmp(a, "sync"))
			f->durability = OG_DURABLE_SYNC;
		else if (!strcmp(a, "async"))
			f->durability = OG_DURABLE_ASYNC;
		else {
			cli_fail(2, "--durability takes sync (fsync per step, the default) or async "
				 "(flushed every 100 ms: survives a process crash, not a power loss), not '%s'", a);
			return -1;
		}
		return 1;
	}
	if (!strcmp(a, "--stream")) {
		f->stream = true;
		return 1;
	}
	if (!strcmp(a, "--by") && *i + 1 < argc) {
		f->by = argv[++*i];
		return 1;
	}
	if (!strcmp(a, "--config") && *i + 1 < argc) {
		f->config = argv[++*i];
		return 1;
	}
	if (!strcmp(a, "--root") && *i + 1 < argc) {
		f->root = argv[++*i];
		return 1;
	}
	return 0;
}

const char *cli_project_root(const char *flag)
{
	const char *env = getenv("OPSGRAPH_ROOT");

	if (flag && *flag)
		return flag;
	return env && *env ? env : NULL;
}

int cli_session_open(struct cli_session *s, bool read_only)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_err err = { 0 };
	char host[128] = "localhost";

	gethostname(host, sizeof(host) - 1);
	snprintf(s->owner, sizeof(s->owner), "%s:%d", host, (int)getpid());
	if (!s->flags.by) {
		static char by[256];
		const char *user = getenv("USER");
		snprintf(by, sizeof(by), "%s@%s", user && *user ? user : "operator", host);
		s->flags.by = by;
	}
	if (!s->flags.db)
		s->flags.db = CLI_DEFAULT_DB;
	if (!strcmp(s->flags.db, ":memory:")) {
		if (!(s->mem = og_store_mem_new()))
			return cli_fail(1, "out of memory");
		return 0;
	}
	o.path = s->flags.db;
	o.durability = s->flags.durability;
	o.read_only = read_only;
	if (og_store_lmdb_open(&o, &s->db, &err) < 0)
		return cli_fail(err.code == -OG_EINVAL || err.code == -OG_ENOENT ? 2 : 1, "%s", err.msg);
	return 0;
}

int cli_session_graph(struct cli_session *s, const char *path)
{
	struct og_err err = { 0 };

	if (!realpath(path, s->graph_file)) {
		if (errno == ENOENT)
			return cli_fail(2, "graph file '%s' does not exist", path);
		snprintf(s->graph_file, sizeof(s->graph_file), "%s", path);
	}
	{
		struct og_lvm_opts lo = { 0 };
		const char *cfg = s->flags.config ? s->flags.config : getenv("OPSGRAPH_CONFIG");
		if (cfg && *cfg) {
			char arg[PATH_MAX + 2];
			snprintf(arg, sizeof(arg), "@%s", cfg);
			if (!(s->config = cli_parse_json_arg("--config", arg, &err)))
				return cli_fail(2, "%s", err.msg);
			if (!cJSON_IsObject(s->config))
				return cli_fail(2, "--config %s: the configuration must be a JSON object", cfg);
		}
		{
			/* tools and runbook files, read here: nodes have no io */
			char guess[PATH_MAX];
			const char *root = cli_project_root(s->flags.root);
			if (!root) {
				cli_config_guess_root(s->graph_file, guess, sizeof(guess));
				root = guess;
			}
			if (cli_config_prepare(&s->config, root, &err) < 0)
				return cli_fail(2, "%s", err.msg);
		}
		lo.config = s->config;
		lo.config_path = cfg && *cfg ? cfg : NULL;	/* ctx.llm re-reads a changed file */
		lo.root = cli_project_root(s->flags.root);
		if (!(s->vm = og_lvm_new(&lo, &err)))
			return cli_fail(1, "%s", err.msg);
		og_lvm_set_llm_log(s->vm, cli_llm_log_sink, s);
		og_lvm_set_similar(s->vm, cli_similar_sink, s);
	}
	if (og_lvm_load_graph(s->vm, path, &s->g, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return err.code == -OG_ENOENT ? 2 : 1;
	}
	return 0;
}

bool cli_owner_is_dead(const char *owner)
{
	char host[128] = "", mine[128] = "";
	const char *colon = strrchr(owner, ':');
	long pid;

	if (!colon || (size_t)(colon - owner) >= sizeof(host))
		return false;
	memcpy(host, owner, (size_t)(colon - owner));
	gethostname(mine, sizeof(mine) - 1);
	pid = strtol(colon + 1, NULL, 10);
	return !strcmp(host, mine) && pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int cli_session_lease(struct cli_session *s, const char *thread, int wait_ms)
{
	struct og_err err = { 0 };
	int64_t deadline = og_clock_mono_us() + (int64_t)wait_ms * 1000;

	if (!s->db)
		return 0;
	for (;;) {
		int rc = og_store_lmdb_lease(s->db, thread, s->owner, CLI_LEASE_TTL_MS, &err);
		if (rc == 0)
			break;
		if (rc != -OG_ECONFLICT)
			return cli_fail(1, "%s", err.msg);
		{
			/* "thread X is being run by OWNER until TIME": take it over
			 * when OWNER is a dead process of this host */
			const char *by = strstr(err.msg, "run by ");
			char holder[192] = "";
			if (by && sscanf(by + 7, "%191s", holder) == 1 && cli_owner_is_dead(holder)) {
				og_store_lmdb_release(s->db, thread, holder, NULL);
				continue;
			}
		}
		if (og_clock_mono_us() > deadline)
			return cli_fail(1, "%s (another opsgraph is advancing this thread; try again when it "
					"is done)", err.msg);
		og_clock_sleep_ms(20);
	}
	snprintf(s->thread, sizeof(s->thread), "%s", thread);
	s->lease_renewed_us = og_clock_mono_us();
	return 0;
}

/* The LMDB store with the lease kept fresh: each checkpoint of a long run
 * extends it when a minute has passed, so no other runner can take the
 * thread over while this one is alive. */
static int leased_put(void *self, const struct og_ckpt *ck, struct og_err *err)
{
	struct cli_session *s = self;
	int64_t t0 = og_clock_mono_us();
	int rc = s->db ? og_store_lmdb_ops.put(s->db, ck, err) : og_store_mem_ops.put(s->mem, ck, err);

	if (rc == 0)
		cli_trace_put(s->trace, ck);
	if (rc == 0 && s->on_commit)
		s->on_commit(s->event_ud, og_clock_mono_us() - t0);

	if (rc == 0 && s->thread[0] &&
	    og_clock_mono_us() - s->lease_renewed_us > (int64_t)CLI_LEASE_RENEW_MS * 1000) {
		if ((rc = og_store_lmdb_lease(s->db, s->thread, s->owner, CLI_LEASE_TTL_MS, err)) == 0)
			s->lease_renewed_us = og_clock_mono_us();
	}
	return rc;
}

static int leased_put_writes(void *self, const char *thread, uint64_t id, const cJSON *rec, struct og_err *err)
{
	struct cli_session *s = self;
	int rc = og_store_lmdb_ops.put_writes(s->db, thread, id, rec, err);

	if (rc == 0)
		cli_trace_put_writes(s->trace, rec);
	return rc;
}

static int leased_get(void *self, const char *thread, uint64_t id, cJSON **out, struct og_err *err)
{
	struct cli_session *s = self;
	return s->db ? og_store_lmdb_ops.get(s->db, thread, id, out, err) : og_store_mem_ops.get(s->mem, thread, id, out, err);
}

static const struct og_store_ops leased_ops = {
	.put = leased_put,
	.put_writes = leased_put_writes,
	.get = leased_get,
};

/* --db :memory: has no partial writes: the same calls minus put_writes, so
 * a traced run in memory still sees its checkpoints */
static const struct og_store_ops mem_traced_ops = {
	.put = leased_put,
	.get = leased_get,
};

/* The VM's usage-log sink when tracing: the span, then the usual log. */
static int traced_llm_log(void *ud, const cJSON *entry, struct og_err *err)
{
	struct cli_session *s = ud;

	cli_trace_llm(s->trace, entry);
	return cli_llm_log_sink(ud, entry, err);
}

static void print_event(void *ud, const cJSON *ev)
{
	char *line = og_json_print_text(ev);

	(void)ud;
	if (line) {
		printf("%s\n", line);
		fflush(stdout);
		free(line);
	}
}

int cli_session_run_new(struct cli_session *s, const char *thread, int limit,
			const char *const *bp_before, const char *const *bp_after)
{
	struct og_run_opts opts = { 0 };
	struct og_err err = { 0 };

	opts.thread_id = thread;
	opts.graph_file = s->graph_file;
	opts.recursion_limit = limit;
	opts.interrupt_before = bp_before;
	opts.interrupt_after = bp_after;
	if (s->db) {
		opts.store = &leased_ops;
		opts.store_self = s;
	} else {
		opts.store = &og_store_mem_ops;
		opts.store_self = s->mem;
	}
	if (s->on_event) {
		opts.on_event = s->on_event;
		opts.event_ud = s->event_ud;
	} else if (s->flags.stream) {
		opts.on_event = print_event;
	}
	{
		/* config otlp: the run's events, LLM calls and ledger flushes
		 * pass through the trace first */
		const cJSON *otlp = cJSON_GetObjectItemCaseSensitive(s->config, "otlp");
		if (otlp && !cJSON_IsNull(otlp) && !s->trace) {
			if (cli_trace_new(otlp, s->g ? s->g->name : NULL, opts.on_event, opts.event_ud, &s->trace, &err) < 0)
				return cli_fail(2, "%s", err.msg);
			opts.on_event = cli_trace_on_event;
			opts.event_ud = s->trace;
			if (!s->db)
				opts.store = &mem_traced_ops;
			opts.store_self = s;
			og_lvm_set_llm_log(s->vm, traced_llm_log, s);
		}
	}
	if (!(s->run = og_run_new(s->g, &og_lvm_exec_ops, s->vm, &opts, &err)))
		return cli_fail(err.code == -OG_EINVAL ? 2 : 1, "%s", err.msg);
	return 0;
}

void cli_session_close(struct cli_session *s)
{
	cli_index_finished(s);
	if (s->db && s->thread[0])
		og_store_lmdb_release(s->db, s->thread, s->owner, NULL);
	cli_trace_finish(s->trace, s->run);	/* after the release: the export never holds the thread */
	og_run_free(s->run);
	og_graph_free(s->g);
	og_lvm_free(s->vm);
	og_store_lmdb_close(s->db);
	og_store_mem_free(s->mem);
	cJSON_Delete(s->config);
	memset(s, 0, sizeof(*s));
}

int cli_get_ckpt(struct cli_session *s, const char *thread, uint64_t id, cJSON **out, struct og_err *err)
{
	if (s->db)
		return og_store_lmdb_ops.get(s->db, thread, id, out, err);
	return og_store_mem_ops.get(s->mem, thread, id, out, err);
}

uint64_t cli_latest_id(struct cli_session *s, const char *thread)
{
	uint64_t id = 0;

	if (s->db)
		og_store_lmdb_latest_id(s->db, thread, &id, NULL);
	return id;
}

static void print_interrupts(const char *thread, const cJSON *ints)
{
	const cJSON *it;
	int n = cJSON_GetArraySize(ints);

	cJSON_ArrayForEach(it, ints) {
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(it, "kind");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
		const cJSON *node = cJSON_GetObjectItemCaseSensitive(it, "node");
		char *v = cJSON_Print(cJSON_GetObjectItemCaseSensitive(it, "value"));
		if (cJSON_IsString(kind) && strcmp(kind->valuestring, "interrupt")) {
			printf("paused at a breakpoint (%s).\n  continue: opsgraph resume %s\n", kind->valuestring,
			       thread);
		} else {
			printf("waiting at node '%s' (interrupt %s):\n%s\n",
			       cJSON_IsString(node) ? node->valuestring : "?",
			       cJSON_IsString(id) ? id->valuestring : "?", v ? v : "null");
			if (n == 1)
				printf("  answer:   opsgraph resume %s --value '<JSON>'\n", thread);
			else
				printf("  answer:   opsgraph resume %s --command '{\"resume\": {\"%s\": <JSON>}}'\n",
				       thread, cJSON_IsString(id) ? id->valuestring : "?");
		}
		free(v);
	}
}

int cli_report(struct cli_session *s, int rc, const struct og_err *err)
{
	struct og_run *run = s->run;
	enum og_run_status st = og_run_status(run);
	cJSON *state = og_run_state_json(run), *ints = og_run_interrupts(run);
	const char *thread = og_run_thread_id(run);

	if (s->flags.json) {
		cJSON *o = cJSON_CreateObject();
		char *line;
		cJSON_AddStringToObject(o, "thread_id", thread);
		cJSON_AddStringToObject(o, "status", rc < 0 ? "error" : og_run_status_name(st));
		cJSON_AddNumberToObject(o, "checkpoint_id", (double)og_run_checkpoint_id(run));
		cJSON_AddNumberToObject(o, "steps", og_run_step(run));
		cJSON_AddItemToObject(o, "state", state);
		state = NULL;
		cJSON_AddItemToObject(o, "interrupts", ints ? ints : cJSON_CreateNull());
		ints = NULL;
		if (rc < 0)
			cJSON_AddStringToObject(o, "error", err->msg);
		else
			cJSON_AddNullToObject(o, "error");
		line = og_json_print_text(o);
		if (line)
			printf("%s\n", line);
		free(line);
		cJSON_Delete(o);
	} else if (!s->flags.stream) {
		char *text = cJSON_Print(state);
		/* og_run_step is the step that runs next: the one that failed
		 * or paused, or one past the last for a finished run */
		if (rc < 0 || st == OG_RUN_ERROR)
			printf("thread %s: error in step %d (checkpoint %llu)\n", thread, og_run_step(run),
			       (unsigned long long)og_run_checkpoint_id(run));
		else if (st == OG_RUN_INTERRUPTED)
			printf("thread %s: interrupted in step %d (checkpoint %llu)\n", thread, og_run_step(run),
			       (unsigned long long)og_run_checkpoint_id(run));
		else
			printf("thread %s: %s after %d steps (checkpoint %llu)\n", thread, og_run_status_name(st),
			       og_run_step(run), (unsigned long long)og_run_checkpoint_id(run));
		if (text)
			printf("%s\n", text);
		free(text);
		if (st == OG_RUN_INTERRUPTED)
			print_interrupts(thread, ints);
	}
	if (rc < 0) {
		fprintf(stderr, "opsgraph: run failed: %s\n", err->msg);
		if (s->db && og_run_status(run) == OG_RUN_ERROR)
			fprintf(stderr, "opsgraph: the failed step is saved; fix the cause and run "
				"`opsgraph resume %s` to retry it\n", thread);
	}
	cJSON_Delete(state);
	cJSON_Delete(ints);
	return rc < 0 ? 1 : 0;
}
