/*
 * cli_run.h: what the run-advancing commands (run, resume, fork, replay)
 * share: opening the checkpoint database, taking a thread's lease, loading
 * the graph a thread runs, and printing a run's outcome.
 */
#ifndef OG_CLI_RUN_H
#define OG_CLI_RUN_H

#include <limits.h>
#include <stdbool.h>

#include "../graph/run.h"
#include "../lua/lvm.h"
#include "../store/store_lmdb.h"
#include "../store/store_mem.h"

#define CLI_DEFAULT_DB "./var/opsgraph.db"

/* A runner holds a thread's lease for this long and extends it while it
 * works (at most every CLI_LEASE_RENEW_MS), so a long run keeps its thread
 * and a dead runner's thread is free again soon after. */
#define CLI_LEASE_TTL_MS (10 * 60 * 1000)
#define CLI_LEASE_RENEW_MS (60 * 1000)

/* Flags every thread command accepts. */
struct cli_db_flags {
	const char *db;			/* --db DIR; ":memory:" keeps checkpoints in memory */
	enum og_durability durability;	/* --durability sync|async */
	bool json;			/* --output json */
	bool stream;			/* --stream */
	const char *by;			/* --by NAME: who decides (default user@host) */
	const char *root;		/* --root DIR: where require finds nodes/ (default: guessed) */
	const char *config;		/* --config FILE: ctx.config (default $OPSGRAPH_CONFIG, else {}) */
};

/* Consumes argv[*i] (and its value) when it is one of the shared flags.
 * Returns 1 when consumed, 0 when not one of ours, -1 on a bad value
 * (message printed). */
int cli_db_flag(int argc, char **argv, int *i, struct cli_db_flags *f);

struct cli_session {
	struct cli_db_flags flags;
	struct og_store_lmdb *db;
	struct og_store_mem *mem;
	struct og_lvm *vm;
	struct og_graph *g;
	struct og_run *run;
	char owner[192];		/* lease owner: host:pid */
	char thread[128];		/* leased thread, "" when none */
	char graph_file[PATH_MAX];
	cJSON *config;			/* parsed --config, owned */
	int64_t lease_renewed_us;	/* when the thread's lease was last extended */
	og_event_fn on_event;		/* when set, gets the run's events instead of --stream */
	void *event_ud;
	/* when set, called after each checkpoint put with its duration (µs) */
	void (*on_commit)(void *ud, int64_t us);
	struct cli_trace *trace;	/* config otlp: the run's spans (cli_trace.h), exported at close */
};

/* Opens the store named by the flags (read_only for inspection commands). */
int cli_session_open(struct cli_session *s, bool read_only);
/* Loads and validates the graph file (recorded as an absolute path). */
int cli_session_graph(struct cli_session *s, const char *path);
/* Takes the thread's lease, waiting up to wait_ms for another runner, and
 * taking it over at once when its owner is a dead process on this host. */
int cli_session_lease(struct cli_session *s, const char *thread, int wait_ms);
/* A new run wired to the store, with the shared flags' event printing. */
int cli_session_run_new(struct cli_session *s, const char *thread, int limit,
			const char *const *bp_before, const char *const *bp_after);
void cli_session_close(struct cli_session *s);

/* The checkpoint as stored (caller owns); id 0 = latest. */
int cli_get_ckpt(struct cli_session *s, const char *thread, uint64_t id, cJSON **out, struct og_err *err);
uint64_t cli_latest_id(struct cli_session *s, const char *thread);

/* Is the lease owner "host:pid[/...]" a process of this host that no longer exists? */
bool cli_owner_is_dead(const char *owner);

/* Who answered an interrupt: looks back through the thread's checkpoints for
 * the resume of want_id (NULL: any) and writes "interrupt ID was already
 * resumed by BY at TIME with VALUE" into msg. Returns 1 when found, else 0. */
int cli_resumed_by(struct cli_session *s, const char *thread, const char *want_id, char *msg, size_t len);

/* An interrupt whose value says "fill_by": true wants to know who answered
 * (nodes cannot see --by): a plain answer V becomes {"answer": V, "by": BY},
 * an object answer without "by" (and not a system answer) gets one. Takes
 * value and returns it or its wrapper. */
cJSON *cli_fill_by(cJSON *value, const cJSON *ivalue, const char *by);
/* The VM's LLM usage-log sink (og_lvm_llm_log_fn; ud is the session):
 * appends to the session's LMDB store, nothing with --db :memory:
 * (cmd_llm.c). */
int cli_llm_log_sink(void *ud, const cJSON *entry, struct og_err *err);
/* The VM's ctx.incidents.similar sink (og_lvm_similar_fn; ud is the
 * session): ranks the store's incident index, excluding the session's own
 * thread; an empty list with --db :memory: (cmd_report.c). */
int cli_similar_sink(void *ud, const cJSON *query, cJSON **out, struct og_err *err);
/* Adds the session's thread to the incident index when its run is done
 * (called by cli_session_close, the one place every run passes through at
 * its end: run, resume, fork, replay, tick and the server's jobs). Returns
 * 1 when indexed, 0 when not an incident or not done, -1 on failure (logged). */
int cli_index_finished(struct cli_session *s);

/* Prints the outcome of a run (text or JSON) and returns the exit status. */
int cli_report(struct cli_session *s, int rc, const struct og_err *err);

#endif
