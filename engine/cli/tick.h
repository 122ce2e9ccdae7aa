/*
 * tick.h: fires the deadlines of paused threads. A node that asks a human
 * (nodes/human_decision.lua) lists in its interrupt value the wall-clock
 * times at which it wants an answer from the system instead:
 *   "timers": [{"at": EPOCH_SECONDS, "resume": {"system": "escalate"}}, ...]
 * Nobody runs a paused thread, so something outside it must notice that a
 * time has passed: `opsgraph tick` (cron, a systemd timer, a test) today,
 * the HTTP server's timer later. Both call these functions.
 */
#ifndef OG_CLI_TICK_H
#define OG_CLI_TICK_H

#include <cJSON.h>

#include "../core/err.h"
#include "../store/store_lmdb.h"
#include "cli_run.h"

/* The timers due at `now` (epoch seconds) of every interrupted thread in db:
 * *due = [{"thread_id", "interrupt_id", "node", "at", "resume"}], sorted by
 * "at", one entry per interrupt (its earliest due timer; the node asks again
 * with the later ones). Timers that are not {"at": number, "resume": value}
 * are skipped. Caller owns *due. 0 or -OG_E*. */
int cli_tick_scan(struct og_store_lmdb *db, double now, cJSON **due, struct og_err *err);

/* Answers one entry of cli_tick_scan: opens a session with flags (the same
 * --db, --config and --root as the thread's runs), takes the thread's lease,
 * and resumes the interrupt with the entry's "resume" value, by "opsgraph
 * (tick)", when that interrupt is still pending (someone may have answered
 * since the scan). *outcome (caller owns) = {"thread_id", "interrupt_id",
 * "resume", "at", "fired": bool, "status", "skipped"?, "refused"?, "error"?}.
 * Returns 0 when fired or skipped, else the command's exit status (1 or 2)
 * with the reason in outcome.error. */
int cli_tick_fire(const struct cli_db_flags *flags, const cJSON *entry, cJSON **outcome);

/* opsgraph tick [--db DIR] [--config FILE] [--root DIR] [--output json] */
int cmd_tick(int argc, char **argv);

#endif
