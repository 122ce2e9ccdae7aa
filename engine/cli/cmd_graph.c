/*
 * cmd_graph.c: `check`, `graph` and `run`: the commands that load one graph
 * file and act on it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "../graph/render.h"
#include "../graph/run.h"
#include "../lua/lvm.h"
#include "../store/store_mem.h"
#include "cli.h"

#define CLI_MAX_INPUT (16 << 20)	/* an input document over 16 MiB is a mistake */

cJSON *cli_parse_json_arg(const char *flag, const char *arg, struct og_err *err)
{
	char *text = NULL;
	const char *src = arg, *end = NULL;
	cJSON *v;

	if (arg[0] == '@') {
		FILE *f = fopen(arg + 1, "rb");
		long len;
		if (!f) {
			og_err_set(err, -OG_EINVAL, "%s: cannot open '%s': %s", flag, arg + 1, strerror(errno));
			return NULL;
		}
		if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > CLI_MAX_INPUT ||
		    fseek(f, 0, SEEK_SET) != 0 || !(text = malloc((size_t)len + 1)) ||
		    fread(text, 1, (size_t)len, f) != (size_t)len) {
			fclose(f);
			free(text);
			og_err_set(err, -OG_EINVAL, "%s: cannot read '%s' (is it a file under 16 MiB?)", flag, arg + 1);
			return NULL;
		}
		fclose(f);
		text[len] = '\0';
		src = text;
	}
	v = cJSON_ParseWithOpts(src, &end, 1);
	if (!v) {
		size_t off = end ? (size_t)(end - src) : 0;
		og_err_set(err, -OG_EINVAL, "%s: invalid JSON%s%s at byte %zu near '%.20s' (quote strings; "
			   "in a shell wrap the whole document in single quotes)",
			   flag, arg[0] == '@' ? " in " : "", arg[0] == '@' ? arg + 1 : "", off,
			   end ? end : "");
	}
	free(text);
	return v;
}

static int load(const char *path, bool validate, struct og_lvm **vm, struct og_graph **g)
{
	struct og_err err = { 0 };
	int rc;

	*g = NULL;
	if (!(*vm = og_lvm_new(NULL, &err)))
		return cli_fail(1, "%s", err.msg);
	rc = validate ? og_lvm_load_graph(*vm, path, g, &err) : og_lvm_load_graph_unchecked(*vm, path, g, &err);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return rc == -OG_ENOENT ? 2 : 1;
	}
	return 0;
}

int cmd_check(int argc, char **argv)
{
	struct og_lvm *vm = NULL;
	struct og_graph *g = NULL;
	struct og_err err = { 0 };
	int st;

	if (argc != 2)
		return cli_fail(2, "usage: opsgraph check GRAPH.lua");
	if ((st = load(argv[1], false, &vm, &g)) == 0) {
		if (og_graph_validate(g, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			st = 1;
		} else {
			printf("%s: ok: graph '%s', %d nodes, %d edges, %d routes, %d channels\n", argv[1],
			       g->name, g->nnodes, g->nedges, g->nroutes, g->nchannels);
		}
	}
	og_graph_free(g);
	og_lvm_free(vm);
	return st;
}

int cmd_graph(int argc, char **argv)
{
	enum og_render_format fmt = OG_RENDER_MERMAID;
	struct og_lvm *vm = NULL;
	struct og_graph *g = NULL;
	struct og_err err = { 0 };
	const char *path = NULL;
	char *out;
	int i, st;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			if (og_render_parse_format(argv[++i], &fmt, &err) < 0)
				return cli_fail(2, "%s", err.msg);
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
		} else {
			return cli_fail(2, "usage: opsgraph graph GRAPH.lua [--format mermaid|dot]");
		}
	}
	if (!path)
		return cli_fail(2, "usage: opsgraph graph GRAPH.lua [--format mermaid|dot]");
	if ((st = load(path, true, &vm, &g)) == 0) {
		if (!(out = og_render_graph(g, fmt, NULL, &err))) {
			st = cli_fail(1, "%s", err.msg);
		} else {
			fputs(out, stdout);
			free(out);
		}
	}
	og_graph_free(g);
	og_lvm_free(vm);
	return st;
}

static void print_event(void *ud, const cJSON *ev)
{
	char *s = cJSON_PrintUnformatted(ev);

	(void)ud;
	if (s) {
		fprintf(stdout, "%s\n", s);
		fflush(stdout);
		free(s);
	}
}

int cmd_run(int argc, char **argv)
{
	const char *path = NULL, *input_arg = NULL, *thread = NULL;
	bool stream = false, json_out = false;
	struct og_run_opts opts = { 0 };
	struct og_lvm *vm = NULL;
	struct og_graph *g = NULL;
	struct og_run *run = NULL;
	struct og_store_mem *mem = NULL;
	struct og_err err = { 0 };
	cJSON *input = NULL, *state = NULL;
	int i, st = 0, rc, limit = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--input") && i + 1 < argc) {
			input_arg = argv[++i];
		} else if (!strcmp(argv[i], "--stream")) {
			stream = true;
		} else if (!strcmp(argv[i], "--output") && i + 1 < argc) {
			if (strcmp(argv[++i], "json") && strcmp(argv[i], "text"))
				return cli_fail(2, "--output takes json or text, not '%s'", argv[i]);
			json_out = !strcmp(argv[i], "json");
		} else if (!strcmp(argv[i], "--recursion-limit") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 1000000)
				return cli_fail(2, "--recursion-limit takes a whole number from 1 to 1000000, not '%s'", argv[i]);
			limit = (int)v;
		} else if (!strcmp(argv[i], "--thread") && i + 1 < argc) {
			thread = argv[++i];
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
		} else {
			return cli_fail(2, "unknown or incomplete option '%s'\nusage: opsgraph run GRAPH.lua "
					"[--input JSON|@file] [--stream] [--output json] [--recursion-limit N]", argv[i]);
		}
	}
	if (!path)
		return cli_fail(2, "usage: opsgraph run GRAPH.lua [--input JSON|@file] [--stream] [--output json]");
	if (input_arg && !(input = cli_parse_json_arg("--input", input_arg, &err)))
		return cli_fail(2, "%s", err.msg);
	if ((st = load(path, true, &vm, &g)) != 0)
		goto out;
	if (!(mem = og_store_mem_new())) {
		st = cli_fail(1, "out of memory");
		goto out;
	}
	opts.thread_id = thread;
	opts.recursion_limit = limit;
	opts.store = &og_store_mem_ops;
	opts.store_self = mem;
	if (stream)
		opts.on_event = print_event;
	if (!(run = og_run_new(g, &og_lvm_exec_ops, vm, &opts, &err))) {
		st = cli_fail(1, "%s", err.msg);
		goto out;
	}
	rc = og_run_start(run, input, &err);
	if (rc == -OG_EINVAL) {
		st = cli_fail(2, "%s", err.msg);
		goto out;
	}
	if (rc == 0)
		rc = og_run_invoke(run, &err);
	st = rc < 0 ? 1 : 0;
	state = og_run_state_json(run);
	if (json_out) {
		cJSON *o = cJSON_CreateObject();
		char *s;
		cJSON_AddStringToObject(o, "thread_id", og_run_thread_id(run));
		cJSON_AddStringToObject(o, "status", rc < 0 && og_run_status(run) != OG_RUN_ERROR
					? "error" : og_run_status_name(og_run_status(run)));
		cJSON_AddItemToObject(o, "state", state);
		state = NULL;
		cJSON_AddNumberToObject(o, "steps", og_run_step(run));
		if (rc < 0)
			cJSON_AddStringToObject(o, "error", err.msg);
		else
			cJSON_AddNullToObject(o, "error");
		s = cJSON_PrintUnformatted(o);
		if (s)
			printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
	} else if (!stream) {
		char *s = cJSON_Print(state);
		printf("thread %s: %s after %d steps\n", og_run_thread_id(run),
		       og_run_status_name(og_run_status(run)), og_run_step(run));
		if (s)
			printf("%s\n", s);
		free(s);
	}
	if (rc < 0 && !json_out)
		fprintf(stderr, "opsgraph: run failed: %s\n", err.msg);
out:
	cJSON_Delete(state);
	cJSON_Delete(input);
	og_run_free(run);
	og_store_mem_free(mem);
	og_graph_free(g);
	og_lvm_free(vm);
	return st;
}
