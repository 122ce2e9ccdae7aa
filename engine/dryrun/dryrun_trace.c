/*
 * dryrun_trace.c: the eBPF impact trace of a dry-run, folded into the report.
 * First version: the tracer (trace/trace_impact) is not in this build yet,
 * so every report says so in "reason".
 */
#include <stdio.h>
#include <string.h>

#include "dryrun_int.h"

void dryrun_trace_begin(struct dryrun_trace *tr, bool wanted, struct og_sandbox_spec *s)
{
	(void)s;
	memset(tr, 0, sizeof(*tr));
	snprintf(tr->off_reason, sizeof(tr->off_reason), "eBPF trace off: %s",
		 wanted ? "the impact tracer is not built in yet" : "not asked for");
}

void dryrun_trace_end(struct dryrun_trace *tr)
{
	(void)tr;
}

void dryrun_trace_fold(struct dryrun_trace *tr, cJSON *rep, const struct og_dryrun_spec *spec)
{
	(void)tr;
	(void)rep;
	(void)spec;
}

void dryrun_trace_release(struct dryrun_trace *tr)
{
	(void)tr;
}
