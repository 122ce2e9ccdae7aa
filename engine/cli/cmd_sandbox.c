/*
 * cmd_sandbox.c: `opsgraph sandbox run [--timeout S] [--memory MB] [--pids N]
 * [--cpu PCT] [--tmpfs MB] [--max-output BYTES] [--cwd DIR] [--env NAME=V]... -- CMD ARGS...`
 * and `opsgraph sandbox check`. `run` dry-runs CMD in engine/sandbox/ and
 * prints the JSON report on stdout (files lists of {path[, size]}, as the
 * impact report's); its own exit status is 0 when the dry-run
 * happened (whatever CMD returned), 1 when it could not (stderr says what is
 * missing), 2 on bad usage.
 *
 * `run --trace [--tool NAME] [--expect-writes GLOB]...` prints instead the
 * full impact report of engine/dryrun/ (eBPF trace when this host allows it,
 * verdict line); --cpu, --cwd and --max-output are not dry-run spec fields
 * and are refused there. A report of "fidelity":"none" (not dry-run) is
 * printed too, and the exit status is 1 with the reason on stderr.
 * `--repeat N` (with --trace) dry-runs the command N times in this one
 * process, as a server does, and prints one report per line, each with
 * "run_ms", the wall time of that og_dryrun_run (bench/dryrun.sh: the first
 * loads the eBPF programs, the others reuse them).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "../core/utf8.h"
#include "../dryrun/dryrun.h"
#include "../sandbox/sandbox.h"
#include "cli.h"

static void usage(void)
{
	fprintf(stderr, "usage: opsgraph sandbox run [--timeout S] [--memory MB] [--pids N] [--cpu PCT] [--tmpfs MB]\n"
			"                                [--max-output BYTES] [--cwd DIR] [--env NAME=VALUE]... -- CMD [ARGS...]\n"
			"       opsgraph sandbox run --trace [--tool NAME] [--expect-writes GLOB]... [--timeout S] [--memory MB]\n"
			"                                [--pids N] [--tmpfs MB] [--env NAME=VALUE]... [--repeat N] -- CMD [ARGS...]\n"
			"       opsgraph sandbox check\n");
}

static int num_arg(const char *flag, const char *v, double min, double *out)
{
	char *end;
	double d;

	if (!v)
		return cli_fail(2, "%s needs a value", flag);
	d = strtod(v, &end);
	if (end == v || *end || d < min || d > 1e9)
		return cli_fail(2, "%s: '%s' is not a number >= %g", flag, v, min);
	*out = d;
	return 0;
}

static void add_text(cJSON *o, const char *name, const char *s, size_t n)
{
	char *t = og_utf8_clean(s, n);

	cJSON_AddStringToObject(o, name, t ? t : "");
	free(t);
}

/* [{path, size}] ([{path}] without sizes), the shape of the impact report's lists */
static cJSON *file_list(const struct og_sandbox_file *v, size_t n, bool sizes)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", v[i].path);
		if (sizes && v[i].size >= 0)
			cJSON_AddNumberToObject(o, "size", (double)v[i].size);
		else if (sizes)
			cJSON_AddNullToObject(o, "size");
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *report_json(const struct og_sandbox_result *r)
{
	cJSON *o = cJSON_CreateObject(), *files, *lim;

	og_dryrun_add_exit(o, r);
	cJSON_AddNumberToObject(o, "duration_ms", (double)r->duration_ms);
	add_text(o, "stdout", r->out, r->out_len);
	add_text(o, "stderr", r->err, r->err_len);
	if (r->out_truncated)
		cJSON_AddBoolToObject(o, "stdout_truncated", true);
	if (r->err_truncated)
		cJSON_AddBoolToObject(o, "stderr_truncated", true);
	files = cJSON_AddObjectToObject(o, "files");
	cJSON_AddItemToObject(files, "created", file_list(r->files.created, r->files.n_created, true));
	cJSON_AddItemToObject(files, "modified", file_list(r->files.modified, r->files.n_modified, true));
	cJSON_AddItemToObject(files, "deleted", file_list(r->files.deleted, r->files.n_deleted, false));
	if (r->memory_hit || r->pids_hit || r->timed_out) {
		lim = cJSON_AddArrayToObject(o, "limits_hit");
		if (r->memory_hit)
			cJSON_AddItemToArray(lim, cJSON_CreateString("memory"));
		if (r->pids_hit)
			cJSON_AddItemToArray(lim, cJSON_CreateString("pids"));
		if (r->timed_out)
			cJSON_AddItemToArray(lim, cJSON_CreateString("timeout"));
	}
	if (r->denials_seen) {
		cJSON *d = cJSON_AddArrayToObject(o, "denied");
		size_t i;
		for (i = 0; d && i < r->n_denied; i++) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "syscall", r->denied[i].syscall);
			cJSON_AddStringToObject(x, "comm", r->denied[i].comm);
			cJSON_AddNumberToObject(x, "pid", r->denied[i].pid);
			cJSON_AddItemToArray(d, x);
		}
	} else if (r->denials_off[0]) {
		cJSON_AddStringToObject(o, "reason", r->denials_off);
	}
	cJSON_AddNumberToObject(o, "cgroup_id", (double)r->cgroup_id);
	return o;
}

/* --trace: the impact report of engine/dryrun/ */
static int dryrun_print(const struct og_sandbox_spec *s, const char *tool, const char *const *expect, int repeat)
{
	struct og_dryrun_spec d;
	struct og_err err = { 0 };
	cJSON *rep = NULL;
	const char *fid, *reason;
	char *text;
	int64_t t0;
	int k, status = 0;

	memset(&d, 0, sizeof(d));
	d.tool = tool;
	d.argv = s->argv;
	d.env = s->env;
	d.expect_writes = expect;
	d.timeout_ms = s->timeout_ms;
	d.memory_mb = s->memory_mb;
	d.pids = s->pids;
	d.tmpfs_mb = s->tmpfs_mb;
	d.trace = true;
	for (k = 0; k < (repeat ? repeat : 1); k++) {
		t0 = og_clock_mono_us();
		if (og_dryrun_run(&d, &rep, &err) < 0)
			return cli_fail(2, "sandbox run --trace: %s", err.msg);
		if (repeat)
			cJSON_AddNumberToObject(rep, "run_ms", (double)(og_clock_mono_us() - t0) / 1000.0);
		text = repeat ? cJSON_PrintUnformatted(rep) : og_json_print(rep, NULL);
		if (text)
			puts(text);
		/* not dry-run: exit 1 with the reason, as a plain `sandbox run` that could not run */
		fid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep, "fidelity"));
		reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep, "reason"));
		if (text && fid && !strcmp(fid, "none"))
			status = cli_fail(1, "sandbox run --trace: %s", reason ? reason : "not dry-run");
		cJSON_Delete(rep);
		if (!text)
			return cli_fail(1, "out of memory");
		free(text);
	}
	return status;
}

static int sandbox_run(int argc, char **argv)
{
	struct og_sandbox_spec spec;
	struct og_sandbox_result r;
	struct og_err err = { 0 };
	const char **env = NULL, **expect = NULL, *tool = NULL;
	size_t n_env = 0, n_expect = 0;
	bool trace = false;
	int repeat = 0;
	cJSON *rep = NULL;
	char *text = NULL;
	double d;
	int i, rc = 0, status = 1;

	memset(&spec, 0, sizeof(spec));
	env = calloc((size_t)argc + 1, sizeof(*env));
	expect = calloc((size_t)argc + 1, sizeof(*expect));
	if (!env || !expect) {
		status = cli_fail(1, "out of memory");
		goto done;
	}
	for (i = 1; i < argc && strcmp(argv[i], "--"); i += 2) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(f, "--trace")) {
			trace = true;
			i--;	/* a flag without a value */
		} else if (!strcmp(f, "--tool") && v)
			tool = v;
		else if (!strcmp(f, "--expect-writes") && v)
			expect[n_expect++] = v;
		else if (!strcmp(f, "--timeout") && !(rc = num_arg(f, v, 0.001, &d)))
			spec.timeout_ms = (int64_t)(d * 1000);
		else if (!strcmp(f, "--memory") && !(rc = num_arg(f, v, 4, &d)))
			spec.memory_mb = (int64_t)d;
		else if (!strcmp(f, "--pids") && !(rc = num_arg(f, v, 1, &d)))
			spec.pids = (int64_t)d;
		else if (!strcmp(f, "--cpu") && !(rc = num_arg(f, v, 1, &d)))
			spec.cpu_pct = (int64_t)d;
		else if (!strcmp(f, "--tmpfs") && !(rc = num_arg(f, v, 1, &d)))
			spec.tmpfs_mb = (int64_t)d;
		else if (!strcmp(f, "--max-output") && !(rc = num_arg(f, v, 1, &d)))
			spec.max_output = (size_t)d;
		else if (!strcmp(f, "--repeat") && !(rc = num_arg(f, v, 1, &d)) && d <= 1000 && d == (int)d)
			repeat = (int)d;
		else if (!strcmp(f, "--cwd") && v)
			spec.cwd = v;
		else if (!strcmp(f, "--env") && v && strchr(v, '='))
			env[n_env++] = v;
		else {
			if (strcmp(f, "--timeout") && strcmp(f, "--memory") && strcmp(f, "--pids") && strcmp(f, "--repeat") &&
			    strcmp(f, "--cpu") && strcmp(f, "--tmpfs") && strcmp(f, "--max-output")) {
				usage();
				cli_fail(2, "sandbox run: bad argument '%s'", f);
			} else if (!strcmp(f, "--repeat") && !rc) {
				cli_fail(2, "sandbox run: --repeat takes a whole number from 1 to 1000, not '%s'", v);
			}
			status = 2;
			goto done;
		}
	}
	if (i >= argc - 1) {
		usage();
		status = cli_fail(2, "sandbox run: no command after --");
		goto done;
	}
	spec.argv = (const char *const *)argv + i + 1;
	spec.env = env;
	if ((tool || n_expect || repeat) && !trace) {
		usage();
		status = cli_fail(2, "sandbox run: --tool, --expect-writes and --repeat need --trace");
		goto done;
	}
	if (trace) {
		if (spec.cwd || spec.cpu_pct || spec.max_output) {
			usage();
			status = cli_fail(2, "sandbox run --trace: --cwd, --cpu and --max-output are not dry-run options");
		} else {
			status = dryrun_print(&spec, tool, n_expect ? expect : NULL, repeat);
		}
		goto done;
	}
	if ((rc = og_sandbox_run(&spec, &r, &err)) < 0) {
		og_sandbox_result_release(&r);
		status = cli_fail(1, "dry-run not possible: %s", err.msg);
		goto done;
	}
	rep = report_json(&r);
	og_sandbox_result_release(&r);
	if (!rep || !(text = og_json_print(rep, NULL))) {
		status = cli_fail(1, "out of memory");
		goto done;
	}
	puts(text);
	status = 0;
done:
	free(text);
	cJSON_Delete(rep);
	free(env);
	free(expect);
	return status;
}

int cmd_sandbox(int argc, char **argv)
{
	struct og_err err = { 0 };

	if (argc >= 2 && !strcmp(argv[1], "run"))
		return sandbox_run(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "check")) {
		if (og_sandbox_check(&err) < 0)
			return cli_fail(1, "sandbox unavailable: %s", err.msg);
		puts("sandbox: ok (root, cgroup2, overlay, tmpfs, clone3, namespaces)");
		return 0;
	}
	usage();
	return 2;
}
