/*
 * cmd_sandbox.c: `opsgraph sandbox run [--timeout S] [--memory MB] [--pids N]
 * [--cpu PCT] [--tmpfs MB] [--max-output BYTES] [--cwd DIR] [--env NAME=V]... -- CMD ARGS...`
 * and `opsgraph sandbox check`. `run` dry-runs CMD in engine/sandbox/ and
 * prints the JSON report on stdout; its own exit status is 0 when the dry-run
 * happened (whatever CMD returned), 1 when it could not (stderr says what is
 * missing), 2 on bad usage.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "../sandbox/sandbox.h"
#include "cli.h"

static void usage(void)
{
	fprintf(stderr, "usage: opsgraph sandbox run [--timeout S] [--memory MB] [--pids N] [--cpu PCT] [--tmpfs MB]\n"
			"                                [--max-output BYTES] [--cwd DIR] [--env NAME=VALUE]... -- CMD [ARGS...]\n"
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

/* s[0..n) as valid UTF-8 for the report: NUL bytes and bytes that do not
 * form UTF-8 become U+FFFD. Caller frees; NULL when out of memory. */
static char *utf8_clean(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(n * 3 + 1), *o = out;
	size_t i = 0;

	if (!out)
		return NULL;
	while (i < n) {
		unsigned char c = u[i];
		size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		size_t k;
		bool ok = len && c && i + len <= n && !(len == 2 && c < 0xC2) && !(len == 4 && c > 0xF4);

		for (k = 1; ok && k < len; k++)
			ok = (u[i + k] & 0xC0) == 0x80;
		if (ok && len == 3)	/* overlong or a surrogate */
			ok = !(c == 0xE0 && u[i + 1] < 0xA0) && !(c == 0xED && u[i + 1] >= 0xA0);
		if (ok && len == 4)
			ok = !(c == 0xF0 && u[i + 1] < 0x90) && !(c == 0xF4 && u[i + 1] >= 0x90);
		if (ok) {
			memcpy(o, s + i, len);
			o += len;
			i += len;
		} else {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}

static void add_text(cJSON *o, const char *name, const char *s, size_t n)
{
	char *t = utf8_clean(s, n);

	cJSON_AddStringToObject(o, name, t ? t : "");
	free(t);
}

static cJSON *file_list(const struct og_sandbox_file *v, size_t n, bool sizes)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++) {
		if (sizes) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "path", v[i].path);
			cJSON_AddNumberToObject(o, "size", (double)v[i].size);
			cJSON_AddItemToArray(a, o);
		} else {
			cJSON_AddItemToArray(a, cJSON_CreateString(v[i].path));
		}
	}
	return a;
}

static cJSON *report_json(const struct og_sandbox_result *r)
{
	cJSON *o = cJSON_CreateObject(), *files, *lim;

	if (r->exit_code >= 0)
		cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
	else
		cJSON_AddNullToObject(o, "exit_code");
	if (r->signal)
		cJSON_AddNumberToObject(o, "signal", r->signal);
	else
		cJSON_AddNullToObject(o, "signal");
	cJSON_AddBoolToObject(o, "timed_out", r->timed_out);
	cJSON_AddNumberToObject(o, "duration_ms", (double)r->duration_ms);
	add_text(o, "stdout", r->out, r->out_len);
	add_text(o, "stderr", r->err, r->err_len);
	if (r->out_truncated)
		cJSON_AddBoolToObject(o, "stdout_truncated", true);
	if (r->err_truncated)
		cJSON_AddBoolToObject(o, "stderr_truncated", true);
	files = cJSON_AddObjectToObject(o, "files");
	cJSON_AddItemToObject(files, "created", file_list(r->files.created, r->files.n_created, false));
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
	cJSON_AddNumberToObject(o, "cgroup_id", (double)r->cgroup_id);
	return o;
}

static int sandbox_run(int argc, char **argv)
{
	struct og_sandbox_spec spec;
	struct og_sandbox_result r;
	struct og_err err = { 0 };
	const char **env = NULL;
	size_t n_env = 0;
	cJSON *rep = NULL;
	char *text = NULL;
	double d;
	int i, rc, status = 1;

	memset(&spec, 0, sizeof(spec));
	if (!(env = calloc((size_t)argc + 1, sizeof(*env))))
		return cli_fail(1, "out of memory");
	for (i = 1; i < argc && strcmp(argv[i], "--"); i += 2) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(f, "--timeout") && !(rc = num_arg(f, v, 0.001, &d)))
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
		else if (!strcmp(f, "--cwd") && v)
			spec.cwd = v;
		else if (!strcmp(f, "--env") && v && strchr(v, '='))
			env[n_env++] = v;
		else {
			if (strcmp(f, "--timeout") && strcmp(f, "--memory") && strcmp(f, "--pids") &&
			    strcmp(f, "--cpu") && strcmp(f, "--tmpfs") && strcmp(f, "--max-output")) {
				usage();
				cli_fail(2, "sandbox run: bad argument '%s'", f);
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
