/*
 * postmortem.h: the story of one incident thread, for the people who write
 * its postmortem. og_postmortem_build reads the thread's checkpoints (every
 * branch), its notes (Alertmanager notifications, approvers' notes) and the
 * LLM usage log, and returns one JSON document; og_postmortem_md and
 * og_postmortem_html render it. The CLI (`opsgraph postmortem`) and the
 * server (GET /api/threads/{id}/postmortem) share all three.
 *
 * Nothing is invented: times are the ones the engine recorded. A step's
 * start is the commit of the checkpoint before it, or the moment a human
 * answered when the step was a resume (the `at` of the checkpoint's
 * `resumed` record), and its end is its own commit. The tasks of one
 * superstep run one after another and share that span (the incident graph
 * runs one node per step).
 *
 * The document ("format": "opsgraph-postmortem/1"):
 *   thread_id, graph, status, title, generated_at,
 *   alert{service, severity, summary, description, labels, started_at, source, expr},
 *   detection{alert_at, opened_at, delay_s},
 *   root_cause{root_cause, signature, confidence, analyzer, impact, evidence[], past?,
 *              builtin_signature (the built-in analyzer's, under an LLM's answer)} (the last),
 *   analyses[] (every rca, one per (re-)analysis, with its checkpoint),
 *   steps[]{checkpoint, step, nodes[], status, source, started_at, ended_at, duration_ms,
 *           tasks[]{node, started_at, ended_at, duration_ms, timed: "task"|"step"}},
 *   llm_calls[]{at (logged at the answer), started_at, node, role, provider, model, tokens_in,
 *               tokens_out, latency_ms, cost, outcome},
 *   llm_totals{calls, tokens_in, tokens_out, cost},
 *   decisions[]{at, by, node, interrupt_id, kind, answer, asked_at, question,
 *               alternatives[]{id, title, risk, eta}, choices[], note?},
 *   dry_runs{at, enabled, reason, actions[]{id, title, fidelity, verdict,
 *            tools[]{tool, mode, fidelity, exit_code, verdict}}} (the dry-run
 *            reports the decision was shown, from channel dry_runs) or null,
 *   executions[]{checkpoint, action_id, title, by, status, started_at, ended_at, summary,
 *                results[]{tool, status, exit_code, duration_ms, stdout, stderr, http_status, body}},
 *   verifications[], re_analyses{count, loops[]{at, by, hint, source}},
 *   branches[]{checkpoint, forked_from, created_at, source, latest, status, nodes[], decision},
 *   notes[]{key, kind, at}, resolution{status, outcome, source, at (the alert's endsAt or the
 *              commit of verify_recovery's step), received_at (when opsgraph got the resolution)},
 *   metrics{acknowledged_at, acknowledged_by, resolved_at,
 *           time_to_acknowledge_s, time_to_resolve_s (from the alert's startsAt: detection),
 *           received_at (the thread's first checkpoint), time_to_acknowledge_from_received_s,
 *           time_to_resolve_from_received_s (from opsgraph's receipt, on opsgraph's clock)},
 *   similar (context.similar: the past incidents the run was shown), learned[].
 */
#ifndef OG_POSTMORTEM_H
#define OG_POSTMORTEM_H

#include <cJSON.h>

#include "../core/err.h"
#include "../store/store_lmdb.h"

#define OG_POSTMORTEM_FORMAT "opsgraph-postmortem/1"

/* -OG_ENOENT (with the fix in err) for a thread the store does not have. */
int og_postmortem_build(struct og_store_lmdb *s, const char *thread, cJSON **out, struct og_err *err);

/* Markdown and one self-contained HTML page (inline CSS and JS, nothing
 * fetched). NULL when out of memory; caller frees. */
char *og_postmortem_md(const cJSON *report);
char *og_postmortem_html(const cJSON *report);

#endif
