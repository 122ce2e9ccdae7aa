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
#include "../lua/lvm.h"
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
	struct og_lvm_opts lo = { 0 };
	struct og_err err = { 0 };
	int rc;

	*g = NULL;
	lo.root = cli_project_root(NULL);
	if (!(*vm = og_lvm_new(&lo, &err)))
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

