/*
 * cli_config.c: what the CLI adds to the configuration before nodes see it
 * as ctx.config. Node code has no io, so the files a node needs are read
 * here, once, before the run: the tool registry (one JSON file per tool,
 * the *.json files of sandbox/tools or of config "tools_dir", with per-environment
 * "tool_overrides" applied over each file) and the runbooks that
 * services.<svc>.runbook names by file. Every file is checked here so that a
 * broken registry stops the command with the file's name, not a node later.
 */
#include "cli_config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define CFG_MAX_TOOLS 512
#define CFG_MAX_RUNBOOK (256 * 1024)

void cli_config_guess_root(const char *graph_file, char *out, size_t len)
{
	char dir[PATH_MAX];
	char *slash;

	/* the same guess as the Lua host's (engine/lua/lvm.c guess_root) */
	snprintf(dir, sizeof(dir), "%s", graph_file);
	slash = strrchr(dir, '/');
	if (!slash) {
		snprintf(out, len, ".");
		return;
	}
	*slash = '\0';
	slash = strrchr(dir, '/');
	if (!strcmp(slash ? slash + 1 : dir, "graphs")) {
		if (slash && slash != dir)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), slash ? "/" : ".");
		snprintf(out, len, "%s", dir);
		return;
	}
	snprintf(out, len, ".");
}

static int join_path(char *out, size_t len, const char *root, const char *rel)
{
	int n = rel[0] == '/' ? snprintf(out, len, "%s", rel) : snprintf(out, len, "%s/%s", root, rel);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static bool is_str(const cJSON *o, const char *k);

/* The dry-run declaration under tool_overrides: "dry_run" replaces the
 * file's (checked with it by check_dry_run); a "command" override without
 * one leaves a declaration written for another command, so the dry-run then
 * runs the overriding command itself in the sandbox, keeping only the
 * limits (a native argv or expected writes of the replaced command would
 * describe something that no longer runs). Idempotent, like the rest. */
static int override_dry_run(cJSON *spec, const cJSON *o, const char *name, struct og_err *err)
{
	static const char *const keep[] = { "timeout_ms", "memory_mb", "pids", NULL };
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "dry_run");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(spec, "dry_run"), *m;
	cJSON *dr;
	int i;

	if (v) {
		if (!cJSON_IsObject(v))
			return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s.dry_run must be an object like a "
					  "tool file's dry_run, e.g. {\"mode\": \"sandbox\"}", name);
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "dry_run");
		if (!cJSON_AddItemToObject(spec, "dry_run", cJSON_Duplicate(v, 1)))
			return og_err_set(err, -OG_ENOMEM, "out of memory");
		return 0;
	}
	if (!cJSON_GetObjectItemCaseSensitive(o, "command"))
		return 0;
	m = cJSON_GetObjectItemCaseSensitive(old, "mode");
	if (cJSON_IsString(m) && !strcmp(m->valuestring, "sandbox") && !cJSON_GetObjectItemCaseSensitive(old, "argv") &&
	    !cJSON_GetObjectItemCaseSensitive(old, "expect_writes"))
		return 0;
	if (!(dr = cJSON_CreateObject()) || !cJSON_AddStringToObject(dr, "mode", "sandbox") ||
	    !cJSON_AddStringToObject(dr, "note", "config tool_overrides.command replaced the command: the dry-run "
				     "runs that command in the sandbox (set tool_overrides.dry_run to declare another)")) {
		cJSON_Delete(dr);
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	}
	for (i = 0; keep[i]; i++)
		if ((m = cJSON_GetObjectItemCaseSensitive(old, keep[i])))
			cJSON_AddItemToObject(dr, keep[i], cJSON_Duplicate(m, 1));
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "dry_run");
	cJSON_AddItemToObject(spec, "dry_run", dr);
	return 0;
}

/* config tool_overrides.<name> applied to the tool file's spec, with the
 * semantics ctx.tools.run applies at run time (engine/lua/lapi_tools.c
 * apply_override), so the planner sees the tool that will really run and a
 * bad override stops the command here, naming it: command (replaces the
 * argv; an http tool then runs that command), timeout_s, url, base_url (the
 * scheme://host[:port] of http.url), headers (merged). Applying it twice
 * gives the same spec, so the run-time pass changes nothing. */
static int apply_override(cJSON *spec, const cJSON *o, const char *name, struct og_err *err)
{
	static const char *const allowed[] = { "base_url", "url", "headers", "command", "timeout_s", "dry_run", NULL };
	const cJSON *k, *v;
	cJSON *http;
	int i;

	cJSON_ArrayForEach(k, o) {
		for (i = 0; allowed[i] && strcmp(allowed[i], k->string); i++)
			;
		if (!allowed[i])
			return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s: unknown key '%s' (allowed: base_url, "
					  "url, headers, command, timeout_s, dry_run)", name, k->string);
	}
	if ((i = override_dry_run(spec, o, name, err)) < 0)
		return i;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "command"))) {
		const cJSON *a;
		if (!cJSON_IsArray(v) || !cJSON_GetArraySize(v))
			return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s.command must be a non-empty argv "
					  "list of strings, e.g. [\"python3\", \"ctl.py\", \"restart\"]", name);
		cJSON_ArrayForEach(a, v)
			if (!cJSON_IsString(a))
				return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s.command must hold only "
						  "strings (argv); write numbers as \"5\"", name);
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "http");
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "command");
		if (!cJSON_AddItemToObject(spec, "command", cJSON_Duplicate(v, 1)))
			return og_err_set(err, -OG_ENOMEM, "out of memory");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "timeout_s"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble <= 0)
			return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s.timeout_s must be a number of "
					  "seconds > 0", name);
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "timeout_s");
		cJSON_AddNumberToObject(spec, "timeout_s", v->valuedouble);
	}
	if (!cJSON_GetObjectItemCaseSensitive(o, "url") && !cJSON_GetObjectItemCaseSensitive(o, "base_url") &&
	    !cJSON_GetObjectItemCaseSensitive(o, "headers"))
		return 0;
	http = cJSON_GetObjectItemCaseSensitive(spec, "http");
	if (!cJSON_IsObject(http))
		return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s: url, base_url and headers apply to http "
				  "tools; tool '%s' runs a command (override its command instead)", name, name);
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "url"))) {
		if (!cJSON_IsString(v) || (strncmp(v->valuestring, "http://", 7) && strncmp(v->valuestring, "https://", 8)))
			return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s.url must be an http(s) URL", name);
		cJSON_DeleteItemFromObjectCaseSensitive(http, "url");
		cJSON_AddStringToObject(http, "url", v->valuestring);
	} else if ((v = cJSON_GetObjectItemCaseSensitive(o, "base_url"))) {
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(http, "url");
		const char *rest = cJSON_IsString(url) ? strstr(url->valuestring, "://") : NULL;
		size_t blen;
		char *joined;
		if (!cJSON_IsString(v) || (strncmp(v->valuestring, "http://", 7) && strncmp(v->valuestring, "https://", 8)))
			return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s.base_url must start with http:// or "
					  "https://", name);
		if (!rest)
			return og_err_set(err, -OG_EINVAL, "tool %s: http.url must be an absolute http(s) URL", name);
		rest = strchr(rest + 3, '/');
		if (!rest)
			rest = "";
		blen = strlen(v->valuestring);
		while (blen && v->valuestring[blen - 1] == '/')
			blen--;
		if (!(joined = malloc(blen + strlen(rest) + 1)))
			return og_err_set(err, -OG_ENOMEM, "out of memory");
		memcpy(joined, v->valuestring, blen);
		memcpy(joined + blen, rest, strlen(rest) + 1);
		cJSON_DeleteItemFromObjectCaseSensitive(http, "url");
		v = cJSON_AddStringToObject(http, "url", joined);
		free(joined);
		if (!v)
			return og_err_set(err, -OG_ENOMEM, "out of memory");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "headers"))) {
		cJSON *hs = cJSON_GetObjectItemCaseSensitive(http, "headers");
		const cJSON *h;
		if (!cJSON_IsObject(v))
			return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s.headers must be an object of "
					  "header: value", name);
		if (!cJSON_IsObject(hs)) {
			cJSON_DeleteItemFromObjectCaseSensitive(http, "headers");
			if (!(hs = cJSON_AddObjectToObject(http, "headers")))
				return og_err_set(err, -OG_ENOMEM, "out of memory");
		}
		cJSON_ArrayForEach(h, v) {
			cJSON_DeleteItemFromObjectCaseSensitive(hs, h->string);
			cJSON_AddItemToObject(hs, h->string, cJSON_Duplicate(h, 1));
		}
	}
	return 0;
}

static bool is_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && v->valuestring[0];
}

/* a positive integer no larger than max */
static bool is_count(const cJSON *v, double max)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= max &&
	       v->valuedouble == (double)(int64_t)v->valuedouble;
}

static int check_argv(const cJSON *a)
{
	const cJSON *v;

	if (!cJSON_IsArray(a) || !cJSON_GetArraySize(a))
		return -1;
	cJSON_ArrayForEach(v, a)
		if (!cJSON_IsString(v) || !v->valuestring[0])
			return -1;
	return 0;
}

/* The dry-run declaration: {mode, argv?, reason?, expect_writes?,
 * timeout_ms?, memory_mb?, pids?, note?} (README, "Sandbox"). Optional: a
 * command tool without one is dry-run in the sandbox, an http tool is not
 * dry-run (the sandbox has no network). */
static int check_dry_run(const cJSON *spec, const char *what, struct og_err *err)
{
	static const char *const keys[] = { "mode", "argv", "reason", "expect_writes", "timeout_ms", "memory_mb",
					    "pids", "note", NULL };
	const cJSON *dr = cJSON_GetObjectItemCaseSensitive(spec, "dry_run"), *k, *v, *mode;
	bool http = cJSON_GetObjectItemCaseSensitive(spec, "http") != NULL, native, none;
	int i;

	if (!dr)
		return 0;
	if (!cJSON_IsObject(dr))
		return og_err_set(err, -OG_EINVAL, "%s: \"dry_run\" must be an object {\"mode\": \"sandbox\"|\"native\"|"
				  "\"native+sandbox\"|\"none\", ...}", what);
	cJSON_ArrayForEach(k, dr) {
		for (i = 0; keys[i] && strcmp(keys[i], k->string); i++)
			;
		if (!keys[i])
			return og_err_set(err, -OG_EINVAL, "%s: dry_run: unknown key \"%s\" (known: mode, argv, reason, "
					  "expect_writes, timeout_ms, memory_mb, pids, note)", what, k->string);
	}
	mode = cJSON_GetObjectItemCaseSensitive(dr, "mode");
	if (!cJSON_IsString(mode) || (strcmp(mode->valuestring, "sandbox") && strcmp(mode->valuestring, "native") &&
				      strcmp(mode->valuestring, "native+sandbox") && strcmp(mode->valuestring, "none")))
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.mode must be \"sandbox\" (run the command on a "
				  "throwaway copy of the host), \"native\" (run the tool's own dry-run, dry_run.argv, in "
				  "the sandbox), \"native+sandbox\" (both) or \"none\" (with dry_run.reason) (got %s)",
				  what, cJSON_IsString(mode) ? mode->valuestring : "no string");
	native = !strncmp(mode->valuestring, "native", 6);
	none = !strcmp(mode->valuestring, "none");
	if (http && !none)
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.mode \"%s\" cannot apply to an http tool: the sandbox "
				  "has no network, so the request could not be observed; declare {\"mode\": \"none\", "
				  "\"reason\": \"...\"} or leave dry_run out", what, mode->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(dr, "argv");
	if (native && check_argv(v) < 0)
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.mode \"%s\" needs dry_run.argv, the tool's own dry-run "
				  "command as a non-empty argv list of strings with the run's {placeholders}, e.g. "
				  "[\"logrotate\", \"-d\", \"{conf}\"]", what, mode->valuestring);
	if (!native && v)
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.argv is the native dry-run command; mode \"%s\" does "
				  "not run it (use \"native\" or \"native+sandbox\", or remove argv)", what,
				  mode->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(dr, "reason");
	if (none && !is_str(dr, "reason"))
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.mode \"none\" needs dry_run.reason, the text the "
				  "action card shows after \"not dry-run: \" (e.g. \"acts on a remote cluster\")", what);
	if (v && !cJSON_IsString(v))
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.reason must be a string", what);
	v = cJSON_GetObjectItemCaseSensitive(dr, "expect_writes");
	if (v && (none || (check_argv(v) < 0 && !(cJSON_IsArray(v) && !cJSON_GetArraySize(v)))))
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.expect_writes must be a list of path globs the tool "
				  "may write (e.g. [\"/var/cache/{service}/**\"]), and only for a mode that runs "
				  "something", what);
	i = 0;
	cJSON_ArrayForEach(k, v) {
		/* a leading {placeholder} may fill in an absolute path; the dry-run checks the result */
		if (k->valuestring[0] != '/' && k->valuestring[0] != '{')
			return og_err_set(err, -OG_EINVAL, "%s: dry_run.expect_writes[%d] \"%s\" is not an absolute path "
					  "glob (e.g. \"/var/cache/{service}/**\")", what, i, k->valuestring);
		i++;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(dr, "timeout_ms")) && !is_count(v, 600000))
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.timeout_ms must be a whole number of milliseconds, 1 "
				  "to 600000", what);
	if ((v = cJSON_GetObjectItemCaseSensitive(dr, "memory_mb")) && !is_count(v, 65536))
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.memory_mb must be a whole number of MiB, 1 to 65536",
				  what);
	if ((v = cJSON_GetObjectItemCaseSensitive(dr, "pids")) && !is_count(v, 65536))
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.pids must be a whole number of processes, 1 to 65536",
				  what);
	if ((v = cJSON_GetObjectItemCaseSensitive(dr, "note")) && !cJSON_IsString(v))
		return og_err_set(err, -OG_EINVAL, "%s: dry_run.note must be a string", what);
	return 0;
}

/* The checks of one tool spec; what = "sandbox/tools/x.json". */
static int check_tool(const cJSON *spec, const char *name, const char *what, struct og_err *err)
{
	const cJSON *v, *params, *risk, *cmd, *http;

	if (!cJSON_IsObject(spec))
		return og_err_set(err, -OG_EINVAL, "%s: a tool spec is a JSON object {name, description, params, risk, "
				  "timeout_s, command | http, ...}", what);
	v = cJSON_GetObjectItemCaseSensitive(spec, "name");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, name))
		return og_err_set(err, -OG_EINVAL, "%s: \"name\" must be \"%s\", the file's name without .json (got %s)",
				  what, name, cJSON_IsString(v) ? v->valuestring : "no string");
	params = cJSON_GetObjectItemCaseSensitive(spec, "params");
	v = cJSON_GetObjectItemCaseSensitive(params, "type");
	if (!cJSON_IsObject(params) || !cJSON_IsString(v) || strcmp(v->valuestring, "object"))
		return og_err_set(err, -OG_EINVAL, "%s: \"params\" must be a JSON schema of the args: "
				  "{\"type\": \"object\", \"properties\": {...}}", what);
	risk = cJSON_GetObjectItemCaseSensitive(spec, "risk");
	if (!cJSON_IsString(risk) || (strcmp(risk->valuestring, "low") && strcmp(risk->valuestring, "medium") &&
				      strcmp(risk->valuestring, "high")))
		return og_err_set(err, -OG_EINVAL, "%s: \"risk\" must be \"low\", \"medium\" or \"high\" (got %s)", what,
				  cJSON_IsString(risk) ? risk->valuestring : "no string");
	cmd = cJSON_GetObjectItemCaseSensitive(spec, "command");
	http = cJSON_GetObjectItemCaseSensitive(spec, "http");
	if (!cmd == !http)
		return og_err_set(err, -OG_EINVAL, "%s: needs exactly one of \"command\" (an argv list of strings) or "
				  "\"http\" (an object {method, url, body?})", what);
	if (cmd) {
		if (!cJSON_IsArray(cmd) || !cJSON_GetArraySize(cmd))
			return og_err_set(err, -OG_EINVAL, "%s: \"command\" must be a non-empty argv list of strings, "
					  "e.g. [\"kubectl\", \"rollout\", \"restart\", \"deployment/{service}\"] (no shell)",
					  what);
		cJSON_ArrayForEach(v, cmd)
			if (!cJSON_IsString(v))
				return og_err_set(err, -OG_EINVAL, "%s: \"command\" must hold only strings (argv); "
						  "write numbers as \"5\"", what);
	} else if (!cJSON_IsObject(http) || !is_str(http, "method") || !is_str(http, "url")) {
		return og_err_set(err, -OG_EINVAL, "%s: \"http\" must be an object with \"method\" and \"url\" strings",
				  what);
	}
	return check_dry_run(spec, what, err);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every *.json of dir into tools {name: spec}, overrides merged. */
static int load_tools_dir(const char *dir, const char *shown, const cJSON *overrides, cJSON *tools,
			  struct og_err *err)
{
	char *names[CFG_MAX_TOOLS];
	int n = 0, i, rc = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	const cJSON *o;

	if (!d)
		return og_err_set(err, -OG_EINVAL, "tools_dir '%s': %s (config \"tools_dir\" names the directory of the "
				  "tool files, relative to the project root)", shown, strerror(errno));
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") || de->d_name[0] == '.')
			continue;
		if (n == CFG_MAX_TOOLS) {
			rc = og_err_set(err, -OG_EINVAL, "tools_dir '%s': more than %d tool files", shown, CFG_MAX_TOOLS);
			break;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = og_err_set(err, -OG_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
	for (i = 0; rc == 0 && i < n; i++) {
		char path[PATH_MAX + 2], what[PATH_MAX + 64], name[256];
		struct og_err perr = { 0 };
		cJSON *spec;
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(names[i]) - 5), names[i]);
		snprintf(what, sizeof(what), "tool file %s/%s", shown, names[i]);
		snprintf(path, sizeof(path), "@%s/%s", dir, names[i]);
		if (!(spec = cli_parse_json_arg(what, path, &perr))) {
			rc = og_err_set(err, -OG_EINVAL, "%s", perr.msg);
			break;
		}
		o = cJSON_GetObjectItemCaseSensitive(overrides, name);
		if (o && cJSON_IsObject(spec)) {
			if (!cJSON_IsObject(o)) {
				cJSON_Delete(spec);
				rc = og_err_set(err, -OG_EINVAL, "config tool_overrides.%s must be an object applied over "
						"%s/%s.json, e.g. {\"command\": [...]}", name, shown, name);
				break;
			}
			if ((rc = apply_override(spec, o, name, err)) < 0) {
				cJSON_Delete(spec);
				break;
			}
			snprintf(what, sizeof(what), "tool file %s/%s with config tool_overrides.%s", shown, names[i], name);
		}
		if ((rc = check_tool(spec, name, what, err)) < 0) {
			cJSON_Delete(spec);
			break;
		}
		cJSON_AddItemToObject(tools, name, spec);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	if (rc == 0 && n == 0)
		rc = og_err_set(err, -OG_EINVAL, "tools_dir '%s' holds no *.json tool file", shown);
	if (rc == 0)
		cJSON_ArrayForEach(o, overrides)
			if (!cJSON_GetObjectItemCaseSensitive(tools, o->string))
				return og_err_set(err, -OG_EINVAL, "config tool_overrides.%s: no tool file %s/%s.json "
						  "(overrides change tools of the registry; they do not add tools)",
						  o->string, shown, o->string);
	return rc;
}

static int prepare_tools(cJSON *config, const char *root, struct og_err *err)
{
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(config, "tools_dir");
	const cJSON *overrides = cJSON_GetObjectItemCaseSensitive(config, "tool_overrides");
	char path[PATH_MAX];
	struct stat st;
	cJSON *tools;
	int rc;

	if (overrides && !cJSON_IsObject(overrides))
		return og_err_set(err, -OG_EINVAL, "config tool_overrides must be an object {tool name: {command, "
				  "timeout_s, url, base_url, headers}}");
	if (dir && !(cJSON_IsString(dir) && dir->valuestring[0]))
		return og_err_set(err, -OG_EINVAL, "config tools_dir must be a directory path (relative to the "
				  "project root %s)", root);
	if (cJSON_GetObjectItemCaseSensitive(config, "tools")) {
		if (dir || overrides)
			return og_err_set(err, -OG_EINVAL, "config has \"tools\" and also \"%s\": give the registry "
					  "either inline (\"tools\") or as files (\"tools_dir\", \"tool_overrides\")",
					  dir ? "tools_dir" : "tool_overrides");
		return 0;
	}
	if (join_path(path, sizeof(path), root, dir ? dir->valuestring : "sandbox/tools") < 0)
		return og_err_set(err, -OG_EINVAL, "config tools_dir: path too long");
	if (!dir && stat(path, &st) < 0) {
		/* nothing configured and no default directory: the registry's
		 * user (nodes/lib/tool_registry.lua) says the registry is missing */
		if (overrides)
			return og_err_set(err, -OG_EINVAL, "config tool_overrides given but there is no %s (set "
					  "config tools_dir)", path);
		return 0;
	}
	if (!(tools = cJSON_CreateObject()))
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	if ((rc = load_tools_dir(path, dir ? dir->valuestring : "sandbox/tools", overrides, tools, err)) < 0) {
		cJSON_Delete(tools);
		return rc;
	}
	cJSON_AddItemToObject(config, "tools", tools);
	return 0;
}

/* Does a runbook string name a file rather than hold the text? One line,
 * no spaces, ending in .md or .txt. */
static bool names_file(const char *s)
{
	size_t len = strlen(s);

	if (strpbrk(s, " \t\n") || len < 4)
		return false;
	return !strcmp(s + len - 3, ".md") || !strcmp(s + len - 4, ".txt");
}

static int read_runbook(const char *root, const char *svc, const char *rel, cJSON **out, struct og_err *err)
{
	char path[PATH_MAX], real[PATH_MAX], rroot[PATH_MAX];
	FILE *f;
	char *text;
	size_t len;

	if (join_path(path, sizeof(path), root, rel) < 0 || !realpath(path, real))
		return og_err_set(err, -OG_EINVAL, "config services.%s.runbook: cannot read '%s' (%s); give the "
				  "runbook's text, or a file under the project root %s", svc, rel, strerror(errno), root);
	if (!realpath(root, rroot) || strncmp(real, rroot, strlen(rroot)) ||
	    (real[strlen(rroot)] != '/' && real[strlen(rroot)] != '\0'))
		return og_err_set(err, -OG_EINVAL, "config services.%s.runbook: '%s' is outside the project root %s",
				  svc, rel, root);
	if (!(f = fopen(real, "rb")))
		return og_err_set(err, -OG_EINVAL, "config services.%s.runbook: cannot open '%s': %s", svc, rel,
				  strerror(errno));
	if (!(text = malloc(CFG_MAX_RUNBOOK + 1))) {
		fclose(f);
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	}
	len = fread(text, 1, CFG_MAX_RUNBOOK + 1, f);
	fclose(f);
	if (len > CFG_MAX_RUNBOOK) {
		free(text);
		return og_err_set(err, -OG_EINVAL, "config services.%s.runbook: '%s' is larger than %d KiB", svc, rel,
				  CFG_MAX_RUNBOOK / 1024);
	}
	text[len] = '\0';
	*out = cJSON_CreateObject();
	if (!*out || !cJSON_AddStringToObject(*out, "file", rel) || !cJSON_AddStringToObject(*out, "text", text)) {
		free(text);
		cJSON_Delete(*out);
		*out = NULL;
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	}
	free(text);
	return 0;
}

static int prepare_runbooks(cJSON *config, const char *root, struct og_err *err)
{
	cJSON *svc;

	cJSON_ArrayForEach(svc, cJSON_GetObjectItemCaseSensitive(config, "services")) {
		cJSON *rb = cJSON_GetObjectItemCaseSensitive(svc, "runbook"), *file, *read = NULL;
		const char *rel = NULL;
		int rc;
		if (!rb)
			continue;
		if (cJSON_IsString(rb) && names_file(rb->valuestring))
			rel = rb->valuestring;
		else if (cJSON_IsObject(rb) && cJSON_IsString(file = cJSON_GetObjectItemCaseSensitive(rb, "file")))
			rel = file->valuestring;
		else if (!cJSON_IsString(rb))
			return og_err_set(err, -OG_EINVAL, "config services.%s.runbook must be the runbook's text, a file "
					  "path ending in .md or .txt, or {\"file\": path}", svc->string);
		if (!rel)
			continue;
		if ((rc = read_runbook(root, svc->string, rel, &read, err)) < 0)
			return rc;
		cJSON_ReplaceItemInObjectCaseSensitive(svc, "runbook", read);
	}
	return 0;
}

int cli_config_prepare(cJSON **config, const char *root, struct og_err *err)
{
	int rc;

	if (!*config && !(*config = cJSON_CreateObject()))
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	if ((rc = prepare_tools(*config, root, err)) < 0)
		return rc;
	return prepare_runbooks(*config, root, err);
}
