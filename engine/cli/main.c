/*
 * main.c: the composition root of the opsgraph binary: the only file that
 * sees every layer. It picks the subcommand; the commands wire the Lua
 * executor and a store into the runner.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/server.h"
#include "cli.h"
#include "tick.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "check", cmd_check, "check GRAPH.lua                      validate a graph file" },
	{ "graph", cmd_graph, "graph GRAPH.lua [--format mermaid|dot] print the graph as a diagram" },
	{ "run", cmd_run, "run GRAPH.lua [--input JSON|@file] [--thread ID] [--stream] [--output json]\n"
			  "      [--recursion-limit N] [--interrupt-before a,b] [--interrupt-after a,b]\n"
			  "                                       run a graph to the end or to an interrupt" },
	{ "resume", cmd_resume, "resume THREAD [--value JSON | --command JSON] [--by NAME]\n"
				"                                       answer an interrupt, or continue a thread" },
	{ "threads", cmd_threads, "threads [--status S]                  list threads" },
	{ "state", cmd_state, "state THREAD [--checkpoint ID]        show a checkpoint" },
	{ "history", cmd_history, "history THREAD [--limit N] [--before ID]  checkpoints, newest first" },
	{ "fork", cmd_fork, "fork THREAD --checkpoint ID [--as-node N] --update JSON\n"
			    "                                       branch from a checkpoint with edited state" },
	{ "replay", cmd_replay, "replay THREAD --checkpoint ID [--recorded]\n"
				"                                       re-execute from a checkpoint on a new branch;\n"
				"                                       --recorded: ctx calls get their recorded answers" },
	{ "diff", cmd_diff, "diff THREAD --from [THREAD:]ID [--to [THREAD:]ID]\n"
			    "                                       what changed in the state between two checkpoints" },
	{ "gc", cmd_gc, "gc [--keep-last N] [--older-than 30d]  prune old checkpoints" },
	{ "serve", cmd_serve, "serve [--listen 127.0.0.1:8080] [--db DIR] [--root DIR] [--workers N]\n"
			      "                                       HTTP API, SSE, Slack and Alertmanager triggers" },
	{ "token", cmd_token, "token create NAME | list | revoke NAME  operators who may log in to serve and approve" },
	{ "sandbox", cmd_sandbox, "sandbox run [--timeout S] [--memory MB] [--pids N] -- CMD ARGS...\n"
			    "                                       dry-run CMD in a throwaway sandbox; JSON report (root)" },
	{ "probe", cmd_probe, "probe --once [--window 10s] | --listen HOST:PORT [--interval 10s] [--keep 30m]\n"
			"                                       eBPF host signals (root): one summary, or the agent serving\n"
			"                                       GET /v1/host-signals?since=ISO&until=ISO" },
	{ "doctor", cmd_doctor, "doctor [--output json]               what this host allows eBPF host signals and dry-runs" },
	{ "postmortem", cmd_postmortem, "postmortem THREAD [--format md|html|json] [--out FILE]\n"
			    "                                       the incident's report: timeline, decisions, LLM, tools" },
	{ "index", cmd_index, "index rebuild                        re-index every finished incident (similar search)" },
	{ "similar", cmd_similar, "similar THREAD | --text \"...\" [--limit N]  the most similar past incidents" },
	{ "llm-log", cmd_llm_log, "llm-log [--since 24h|ISO] [--thread ID] LLM calls: tokens, cost, outcome; totals" },
	{ "tick", cmd_tick, "tick [--config FILE]                  answer the due deadlines of paused threads\n"
			    "                                       (escalate, then the default); run it from cron" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: opsgraph COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].help);
	fprintf(out, "\nThread commands take --db DIR (default ./var/opsgraph.db) and --output json.\n"
		     "require(\"nodes.x\") looks under the project root: --root DIR or $OPSGRAPH_ROOT, else the\n"
		     "parent of the graph file's graphs/ directory, else the current directory.\n"
		     "See README.md for the graph authoring API.\n");
}

int cli_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("opsgraph: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	usage(stderr);
	return cli_fail(2, "unknown command '%s'", argv[1]);
}
