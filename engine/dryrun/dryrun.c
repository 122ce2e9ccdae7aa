/*
 * dryrun.c: og_dryrun_run, one action dry-run in the sandbox (and its native
 * dry-run, and the eBPF impact trace when asked), folded into the report.
 * The overlay diff is the authority on files; the trace adds what leaves no
 * file behind (exec, connect, kill, denied syscalls) and names renames and
 * mode changes, which the diff only sees as created/deleted/modified.
 */
#include "dryrun.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/utf8.h"
#include "../sandbox/sandbox.h"
#include "dryrun_int.h"

static int spec_check(const struct og_dryrun_spec *spec, struct og_err *err)
{
	const char *const *p;

	if (!spec)
		return og_err_set(err, -OG_EINVAL, "dry-run: no spec");
	if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
		return og_err_set(err, -OG_EINVAL, "dry-run of '%s': empty argv (give the command as it would run)",
				  spec->tool ? spec->tool : "?");
	if (spec->native_argv && (!spec->native_argv[0] || !spec->native_argv[0][0]))
		return og_err_set(err, -OG_EINVAL, "dry-run of '%s': native_argv is empty (NULL when the tool has none)",
				  spec->tool ? spec->tool : spec->argv[0]);
	if (spec->timeout_ms < 0 || spec->memory_mb < 0 || spec->pids < 0 || spec->tmpfs_mb < 0)
		return og_err_set(err, -OG_EINVAL, "dry-run of '%s': negative limit (timeout_ms, memory_mb, pids, "
				  "tmpfs_mb: 0 = default)", spec->tool ? spec->tool : spec->argv[0]);
	for (p = spec->env; p && *p; p++)
		if (!strchr(*p, '=') || **p == '=')
			return og_err_set(err, -OG_EINVAL, "dry-run of '%s': env entry '%s' is not NAME=value",
					  spec->tool ? spec->tool : spec->argv[0], *p);
	for (p = spec->expect_writes; p && *p; p++)
		if ((*p)[0] != '/')
			return og_err_set(err, -OG_EINVAL, "dry-run of '%s': expect_writes pattern '%s' is not an "
					  "absolute path glob", spec->tool ? spec->tool : spec->argv[0], *p);
	return 0;
}

cJSON *dryrun_argv_json(const char *const *argv)
{
	cJSON *a = cJSON_CreateArray();

	for (; a && argv && *argv; argv++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*argv));
	return a;
}

static void add_text(cJSON *o, const char *name, const char *s, size_t n, bool truncated)
{
	char *t = og_utf8_clean(s ? s : "", s ? n : 0);
	char key[32];

	cJSON_AddStringToObject(o, name, t ? t : "");
	free(t);
	if (truncated) {
		snprintf(key, sizeof(key), "%s_truncated", name);
		cJSON_AddBoolToObject(o, key, true);
	}
}

void og_dryrun_add_exit(cJSON *o, const struct og_sandbox_result *r)
{
	if (r->exit_code >= 0)
		cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
	else
		cJSON_AddNullToObject(o, "exit_code");
	if (r->signal)
		cJSON_AddNumberToObject(o, "signal", r->signal);
	else
		cJSON_AddNullToObject(o, "signal");
	cJSON_AddBoolToObject(o, "timed_out", r->timed_out);
}

/* A pattern ending in slash-star-star is that directory and everything
 * under it; other patterns are fnmatch globs whose '*' also crosses '/' (a
 * declared "/etc/nginx/" + "*" covers the whole tree, as a tool author means). */
static bool expected(const char *const *globs, const char *path)
{
	size_t n;

	for (; globs && *globs; globs++) {
		n = strlen(*globs);
		if (n >= 3 && !strcmp(*globs + n - 3, "/**") && !strncmp(path, *globs, n - 3) &&
		    (path[n - 3] == '\0' || path[n - 3] == '/'))
			return true;
		if (fnmatch(*globs, path, 0) == 0)
			return true;
	}
	return false;
}

void dryrun_surprise(cJSON *rep, const struct og_dryrun_spec *spec, const char *path, const char *what)
{
	cJSON *s = cJSON_GetObjectItemCaseSensitive(rep, "surprises"), *o, *it;
	char why[160];

	if (!spec->expect_writes || !s || expected(spec->expect_writes, path))
		return;
	cJSON_ArrayForEach(it, s) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "path"));
		if (p && !strcmp(p, path))
			return;
	}
	snprintf(why, sizeof(why), "%s outside the declared expect_writes", what);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddStringToObject(o, "why", why);
	cJSON_AddItemToArray(s, o);
}

bool dryrun_list_take(cJSON *list, const char *path)
{
	cJSON *it;
	int i = 0;

	cJSON_ArrayForEach(it, list) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "path"));
		if (p && !strcmp(p, path)) {
			cJSON_DeleteItemFromArray(list, i);
			return true;
		}
		i++;
	}
	return false;
}

void dryrun_surprise_rename(cJSON *rep, const struct og_dryrun_spec *spec, const char *from, const char *to)
{
	cJSON *s = cJSON_GetObjectItemCaseSensitive(rep, "surprises"), *o;
	char why[64 + 4096];

	if (!spec->expect_writes || !s || !from || !to)
		return;
	dryrun_list_take(s, from);
	dryrun_list_take(s, to);
	if (expected(spec->expect_writes, from) && expected(spec->expect_writes, to))
		return;
	snprintf(why, sizeof(why), "renamed to %s outside the declared expect_writes", to);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", from);
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddStringToObject(o, "why", why);
	cJSON_AddItemToArray(s, o);
}

/* the overlay diff; old sizes come from the host, which the dry-run left unchanged */
static void add_files(cJSON *rep, const struct og_dryrun_spec *spec, const struct og_sandbox_files *f)
{
	cJSON *files = cJSON_AddObjectToObject(rep, "files"), *a, *o;
	struct stat st;
	size_t i;

	a = cJSON_AddArrayToObject(files, "created");
	for (i = 0; i < f->n_created; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", f->created[i].path);
		if (f->created[i].size >= 0)
			cJSON_AddNumberToObject(o, "size", (double)f->created[i].size);
		else
			cJSON_AddNullToObject(o, "size");
		cJSON_AddItemToArray(a, o);
		dryrun_surprise(rep, spec, f->created[i].path, "created");
	}
	a = cJSON_AddArrayToObject(files, "modified");
	for (i = 0; i < f->n_modified; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", f->modified[i].path);
		cJSON_AddNumberToObject(o, "size", (double)f->modified[i].size);
		if (lstat(f->modified[i].path, &st) == 0)
			cJSON_AddNumberToObject(o, "old_size", (double)st.st_size);
		else
			cJSON_AddNullToObject(o, "old_size");
		cJSON_AddItemToArray(a, o);
		dryrun_surprise(rep, spec, f->modified[i].path, "modified");
	}
	a = cJSON_AddArrayToObject(files, "deleted");
	for (i = 0; i < f->n_deleted; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", f->deleted[i].path);
		cJSON_AddItemToArray(a, o);
		dryrun_surprise(rep, spec, f->deleted[i].path, "deleted");
	}
	cJSON_AddArrayToObject(files, "renamed");
	cJSON_AddArrayToObject(files, "chmod");
}

static void add_limits(cJSON *rep, const struct og_sandbox_result *r)
{
	cJSON *lim = cJSON_AddArrayToObject(rep, "limits_hit");

	if (r->memory_hit)
		cJSON_AddItemToArray(lim, cJSON_CreateString("memory"));
	if (r->pids_hit)
		cJSON_AddItemToArray(lim, cJSON_CreateString("pids"));
	if (r->timed_out)
		cJSON_AddItemToArray(lim, cJSON_CreateString("timeout"));
	/* the tmpfs under the overlay is full: the command's writes failed with ENOSPC */
	if (r->err && memmem(r->err, r->err_len, "No space left on device", 23))
		cJSON_AddItemToArray(lim, cJSON_CreateString("disk"));
}

static void sandbox_spec_fill(struct og_sandbox_spec *s, const struct og_dryrun_spec *spec, const char *const *argv)
{
	memset(s, 0, sizeof(*s));
	s->argv = argv;
	s->env = spec->env;
	s->timeout_ms = spec->timeout_ms;
	s->memory_mb = spec->memory_mb;
	s->pids = spec->pids;
	s->tmpfs_mb = spec->tmpfs_mb;
}

/* the tool's own dry-run, in a sandbox too: a `--check` mode may still write */
static int run_native(cJSON *rep, const struct og_dryrun_spec *spec, struct og_err *err)
{
	struct og_sandbox_spec s;
	struct og_sandbox_result r;
	cJSON *n;
	int rc;

	sandbox_spec_fill(&s, spec, spec->native_argv);
	rc = og_sandbox_run(&s, &r, err);
	if (rc == 0) {
		n = cJSON_AddObjectToObject(rep, "native");
		cJSON_AddItemToObject(n, "argv", dryrun_argv_json(spec->native_argv));
		og_dryrun_add_exit(n, &r);
		add_text(n, "stdout", r.out, r.out_len, r.out_truncated);
		add_text(n, "stderr", r.err, r.err_len, r.err_truncated);
	}
	og_sandbox_result_release(&r);
	return rc;
}

/* The supervisor saw every denial (the trace only those with a tracepoint,
 * the same ones again): its list replaces the trace's. */
static void add_denied(cJSON *rep, const struct og_sandbox_result *r)
{
	cJSON *a, *o;
	size_t i;

	if (!r->denials_seen)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(rep, "denied");
	a = cJSON_AddArrayToObject(rep, "denied");
	for (i = 0; a && i < r->n_denied; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "syscall", r->denied[i].syscall);
		cJSON_AddStringToObject(o, "comm", r->denied[i].comm);
		cJSON_AddNumberToObject(o, "pid", r->denied[i].pid);
		cJSON_AddItemToArray(a, o);
	}
	if (r->denied_more)
		cJSON_AddNumberToObject(rep, "denied_more", (double)r->denied_more);
}

static void set_fidelity(cJSON *rep, const char *fidelity, const char *reason)
{
	cJSON_AddStringToObject(rep, "fidelity", fidelity);
	if (reason)
		cJSON_AddStringToObject(rep, "reason", reason);
}

static int add_verdict(cJSON *rep)
{
	char *v = og_dryrun_verdict(rep);

	if (!v)
		return -OG_ENOMEM;
	cJSON_AddStringToObject(rep, "verdict", v);
	free(v);
	return 0;
}

int og_dryrun_run(const struct og_dryrun_spec *spec, cJSON **report, struct og_err *err)
{
	struct og_sandbox_spec s;
	struct og_sandbox_result r;
	struct dryrun_trace tr;
	struct og_err serr = { 0 }, nerr = { 0 };
	char reason[2 * OG_ERR_MSG + 512];
	cJSON *rep = NULL;
	bool native_ok = false;
	int rc;

	*report = NULL;
	if ((rc = spec_check(spec, err)) < 0)
		return rc;
	memset(&r, 0, sizeof(r));
	if (!(rep = cJSON_CreateObject()))
		return og_err_set(err, -OG_ENOMEM, "dry-run: out of memory");
	cJSON_AddStringToObject(rep, "tool", spec->tool ? spec->tool : spec->argv[0]);
	cJSON_AddItemToObject(rep, "argv", dryrun_argv_json(spec->argv));
	if (og_sandbox_check(&serr) < 0) {
		snprintf(reason, sizeof(reason), "not dry-run: %s", serr.msg);
		set_fidelity(rep, "none", reason);
		goto verdict;
	}
	if (spec->native_argv) {
		if (run_native(rep, spec, &nerr) == 0)
			native_ok = true;
	}
	sandbox_spec_fill(&s, spec, spec->argv);
	dryrun_trace_begin(&tr, spec->trace, &s);
	rc = og_sandbox_run(&s, &r, &serr);
	tr.denials_seen = r.denials_seen;
	dryrun_trace_end(&tr);
	if (rc < 0) {
		snprintf(reason, sizeof(reason), "not dry-run: %s", serr.msg);
		set_fidelity(rep, native_ok ? "native" : "none", reason);
		goto done;
	}
	if (spec->native_argv && !native_ok)
		snprintf(reason, sizeof(reason), "native dry-run failed: %s%s%s%s%s", nerr.msg,
			 tr.reason[0] ? "; " : "", tr.reason, r.denials_off[0] ? "; " : "", r.denials_off);
	else
		snprintf(reason, sizeof(reason), "%s%s%s", tr.reason, tr.reason[0] && r.denials_off[0] ? "; " : "",
			 r.denials_off);
	set_fidelity(rep, native_ok ? "native+sandbox" : "sandbox", reason[0] ? reason : NULL);
	og_dryrun_add_exit(rep, &r);
	cJSON_AddNumberToObject(rep, "duration_ms", (double)r.duration_ms);
	add_limits(rep, &r);
	cJSON_AddArrayToObject(rep, "surprises");
	add_files(rep, spec, &r.files);
	dryrun_trace_fold(&tr, rep, spec);
	add_denied(rep, &r);
	add_text(rep, "stdout", r.out, r.out_len, r.out_truncated);
	add_text(rep, "stderr", r.err, r.err_len, r.err_truncated);
	cJSON_AddNumberToObject(rep, "cgroup_id", (double)r.cgroup_id);
done:
	dryrun_trace_release(&tr);
	og_sandbox_result_release(&r);
verdict:
	if (add_verdict(rep) < 0) {
		cJSON_Delete(rep);
		return og_err_set(err, -OG_ENOMEM, "dry-run: out of memory");
	}
	*report = rep;
	return 0;
}
