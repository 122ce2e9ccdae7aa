/*
 * cli.h: the opsgraph command line. main.c dispatches; each cmd_* lives in
 * the file of its family and returns the process exit status:
 * 0 success (run done or paused at an interrupt), 1 the run or check failed,
 * 2 bad usage or input.
 */
#ifndef OG_CLI_H
#define OG_CLI_H

#include <cJSON.h>

#include "../core/err.h"

int cmd_check(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_fork(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_threads(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_llm_log(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);
int cmd_postmortem(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_similar(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

/* Parses a JSON argument: inline text or @file. Caller owns the result. */
cJSON *cli_parse_json_arg(const char *flag, const char *arg, struct og_err *err);

/* The project root for require: --root, else $OPSGRAPH_ROOT, else NULL (the
 * Lua host guesses it from the graph file's place). */
const char *cli_project_root(const char *flag);

/* "opsgraph: <msg>" on stderr; returns status. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
