/*
 * cli_trace.h: a run as an OpenTelemetry trace. When the config has
 * `otlp` ({"endpoint", "headers"?, "timeout_ms"?, "service_name"?}), a
 * session that runs a graph (run, resume, fork + continue, replay, and the
 * server's jobs, which use the same session) records a root span for the
 * run, a span per node task (start/end, error status on failure), and
 * under each task a span per LLM call (GenAI semantic conventions) and per
 * tool execution; when the session closes they go to the collector in
 * one OTLP/HTTP JSON request (net/otlp.h). An export that fails is logged
 * and changes nothing else.
 *
 * Where the times come from: a task's end is when its "task" event
 * arrives and its start that minus the event's duration_ms; an LLM call
 * ends when the usage-log sink gets its entry (start: minus latency_ms); a
 * tool starts and ends when the effect ledger flushes its "tool_start" and
 * "tool" journal entries through the store (put_writes), so only tools
 * that really ran in this run get a span, and replayed answers get none.
 * A store without put_writes (--db :memory:) gives no tool spans.
 *
 * Ids: the trace id is the first 16 bytes of SHA-256 of the thread id and
 * the first checkpoint this run wrote (unique per run of a thread, and
 * found again from the history); span ids are derived from the trace id
 * and the span's index.
 */
#ifndef OG_CLI_TRACE_H
#define OG_CLI_TRACE_H

#include <cJSON.h>

#include "../graph/ckpt.h"
#include "../graph/run.h"

struct cli_trace;

/* A trace for a run of graph `graph` of thread `thread`, exported to
 * `conf` (the config's otlp object, checked: -OG_EINVAL names the key).
 * next/next_ud get every event after the trace has seen it (NULL: none). */
int cli_trace_new(const cJSON *conf, const char *graph, og_event_fn next, void *next_ud, struct cli_trace **out,
		  struct og_err *err);
/* The run's event hook (og_event_fn; ud is the trace). */
void cli_trace_on_event(void *ud, const cJSON *ev);
/* An LLM usage-log entry (lapi_llm.c's shape) of the task running now. */
void cli_trace_llm(struct cli_trace *t, const cJSON *entry);
/* A committed checkpoint and a task's partial write (the effect ledger). */
void cli_trace_put(struct cli_trace *t, const struct og_ckpt *ck);
void cli_trace_put_writes(struct cli_trace *t, const cJSON *rec);
/* Ends the root span with the run's outcome and exports the trace when a
 * task ran; then frees t. NULL is a no-op. */
void cli_trace_finish(struct cli_trace *t, const struct og_run *run);

#endif
