/*
 * dryrun_int.h: what dryrun.c shares with the trace fold (dryrun_trace.c).
 */
#ifndef OG_DRYRUN_INT_H
#define OG_DRYRUN_INT_H

#include <stdbool.h>

#include <cJSON.h>

#include "../core/err.h"
#include "../sandbox/sandbox.h"
#include "../trace/trace_impact.h"
#include "dryrun.h"

/* One dry-run's trace: begun before the sandbox runs (load and attach), armed
 * by the sandbox's on_start, ended after it (reader joined, events kept). */
struct dryrun_trace {
	struct og_impact_trace *t;	/* NULL: not traced (reason says why) */
	const struct impact_event *ev;	/* owned by t */
	size_t n_ev;
	uint64_t lost;
	int host_pid;			/* the sandbox's init, as the host sees it */
	bool armed;			/* on_start ran and the filter is set */
	bool denials_seen;		/* the sandbox's supervisor recorded every denial */
	char reason[OG_ERR_MSG + 256];	/* "eBPF trace off: ...", "eBPF trace partial: ..." or "" */
};

/* Prepares the trace when wanted (sets s->on_start); on any failure the
 * run goes on untraced and off_reason says why. */
void dryrun_trace_begin(struct dryrun_trace *tr, bool wanted, struct og_sandbox_spec *s);
void dryrun_trace_end(struct dryrun_trace *tr);
/* Adds processes, network, signals, denied, renamed and chmod to rep. */
void dryrun_trace_fold(struct dryrun_trace *tr, cJSON *rep, const struct og_dryrun_spec *spec);
void dryrun_trace_release(struct dryrun_trace *tr);

cJSON *dryrun_argv_json(const char *const *argv);
/* Removes the {path: path, ...} entry of list; true when there was one. */
bool dryrun_list_take(cJSON *list, const char *path);
/* Lists path in rep's "surprises" when spec declares expect_writes and no
 * pattern covers it; what: "created", "modified", ... */
void dryrun_surprise(cJSON *rep, const struct og_dryrun_spec *spec, const char *path, const char *what);
/* A rename outside expect_writes as one surprise {path: from, to, why}, in
 * place of the "deleted" and "created" ones the overlay diff gave its ends. */
void dryrun_surprise_rename(cJSON *rep, const struct og_dryrun_spec *spec, const char *from, const char *to);

#endif
