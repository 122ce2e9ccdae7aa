/*
 * dryrun_verdict.c: og_dryrun_verdict, the one line an approver reads first
 * (report, action card, Slack): "touches 3 files under /etc/nginx (1
 * modified, 2 deleted), starts nginx-reload.sh, signals nginx (pid 812) with
 * SIGHUP, no network, exit 1". It reads only the report, so a stored report
 * gives the same line. Connects that the dry-run's empty network refused
 * say so, as the approver would otherwise read their exit as the action's.
 */
#include "dryrun.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/strbuf.h"

#define VERDICT_MAX_GROUPS 3	/* more directory groups collapse into their common ancestor */
#define VERDICT_MAX_ITEMS 3	/* destinations, signals, denied syscalls named before "+N more" */

/* ", " between the verdict's clauses */
static void sb_clause(struct og_strbuf *b)
{
	if (b->len)
		og_strbuf_puts(b, ", ");
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const cJSON *arr(const cJSON *o, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsArray(a) ? a : NULL;
}

static bool num(const cJSON *o, const char *key, double *out)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(n))
		return false;
	*out = n->valuedouble;
	return true;
}

/* --- files, grouped by directory --- */

struct group {
	char dir[4096];
	size_t n;
};

static bool under(const char *dir, const char *sub)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(dir, sub, n) && (sub[n] == '/' || sub[n] == '\0');
}

static void parent_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n == 0 || n >= cap) {
		snprintf(out, cap, "%s", n >= cap ? path : "/");
		return;
	}
	memcpy(out, path, n);
	out[n] = '\0';
}

/* the longest directory a and b both lie under, into a */
static void common_dir(char *a, const char *b)
{
	size_t i = 0, last = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '/')
			last = i;
		i++;
	}
	if (!a[i] && (b[i] == '/' || !b[i]))
		return;
	a[last ? last : 1] = '\0';
}

static int group_add(struct group **g, size_t *n, const char *path)
{
	char dir[4096];
	size_t i, last;

	parent_of(path, dir, sizeof(dir));
	for (i = 0; i < *n; i++) {
		if (under((*g)[i].dir, dir)) {
			(*g)[i].n++;
			return 0;
		}
	}
	{
		struct group *ng = realloc(*g, (*n + 1) * sizeof(**g));
		if (!ng)
			return -1;
		*g = ng;
	}
	snprintf((*g)[*n].dir, sizeof((*g)[*n].dir), "%s", dir);
	(*g)[*n].n = 1;
	last = (*n)++;
	/* the new group may be an ancestor of older ones: fold them into it */
	for (i = 0; i < last;) {
		if (under((*g)[last].dir, (*g)[i].dir)) {
			(*g)[last].n += (*g)[i].n;
			memmove(&(*g)[i], &(*g)[i + 1], (last - i) * sizeof(**g));
			last--;
		} else {
			i++;
		}
	}
	*n = last + 1;
	return 0;
}

/* does path appear in an entry of the lists before entry `at` of list k? */
static bool seen_before(const cJSON *files, const char *const *kinds, size_t k, const cJSON *at, const char *path)
{
	const cJSON *it;
	size_t j;

	for (j = 0; j <= k; j++) {
		cJSON_ArrayForEach(it, arr(files, kinds[j])) {
			const char *p = str(it, j == 3 ? "from" : "path");
			if (it == at)
				return false;
			if (p && !strcmp(p, path))
				return true;
		}
	}
	return false;
}

static int files_clause(struct og_strbuf *b, const cJSON *files)
{
	static const char *const kinds[] = { "created", "modified", "deleted", "renamed", "chmod" };
	static const char *const words[] = { "created", "modified", "deleted", "renamed", "mode changed" };
	struct group *g = NULL;
	size_t ng = 0, total = 0, counts[5] = { 0 }, k, i, shown = 0;
	const cJSON *it;

	for (k = 0; k < 5; k++) {
		cJSON_ArrayForEach(it, arr(files, kinds[k])) {
			const char *p = str(it, k == 3 ? "from" : "path");
			if (!p)
				continue;
			counts[k]++;
			if (seen_before(files, kinds, k, it, p))
				continue;	/* a file both modified and chmod-ed is one file */
			if (group_add(&g, &ng, p) < 0) {
				free(g);
				return -1;
			}
			total++;
		}
	}
	sb_clause(b);
	if (!total) {
		og_strbuf_printf(b, "touches no files");
		free(g);
		return 0;
	}
	if (ng > VERDICT_MAX_GROUPS) {
		for (i = 1; i < ng; i++) {
			common_dir(g[0].dir, g[i].dir);
			g[0].n += g[i].n;
		}
		ng = 1;
	}
	og_strbuf_printf(b, "touches ");
	for (i = 0; i < ng; i++)
		og_strbuf_printf(b, "%s%zu file%s under %s", i == 0 ? "" : i + 1 == ng ? " and " : ", ", g[i].n,
		       g[i].n == 1 ? "" : "s", g[i].dir);
	og_strbuf_printf(b, " (");
	for (k = 0; k < 5; k++)
		if (counts[k])
			og_strbuf_printf(b, "%s%zu %s", shown++ ? ", " : "", counts[k], words[k]);
	og_strbuf_printf(b, ")");
	free(g);
	return 0;
}

/* --- programs started --- */

/* plumbing a tool runs on its way (its effects, if any, show as files,
 * signals or network): not what the approver needs named */
static bool plumbing(const char *name)
{
	static const char *const names[] = {
		"sh", "bash", "dash", "zsh", "ash", "busybox", "env", "sleep", "cat", "true", "false", "echo",
		"printf", "test", "[", "grep", "egrep", "sed", "awk", "gawk", "mawk", "cut", "tr", "head", "tail",
		"sort", "uniq", "wc", "date", "mkdir", "rmdir", "rm", "mv", "cp", "ln", "chmod", "chown", "touch",
		"kill", "ls", "basename", "dirname", "readlink", "realpath", "stat", "id", "whoami", "hostname",
		"uname", "tee", "xargs", "seq", "timeout", "nohup", "setsid", "flock", "mktemp", "find", "which",
		"expr", "pgrep", "ps", "jq", NULL,
	};
	const char *const *n;

	for (n = names; *n; n++)
		if (!strcmp(*n, name))
			return true;
	return false;
}

static bool interpreter(const char *name)
{
	static const char *const names[] = { "python", "python2", "python3", "perl", "ruby", "node", "php",
					      "sh", "bash", "dash", "zsh", "ash", NULL };
	const char *const *n;
	size_t len;

	for (n = names; *n; n++) {
		len = strlen(*n);
		/* python3.12 is python3 */
		if (!strncmp(*n, name, len) && (!name[len] || (name[len] == '.' && !strcmp(*n, "python3"))))
			return true;
	}
	return false;
}

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* The name a program goes by in the verdict: its file, or for an
 * interpreter its script ("python3 service.py" starts service.py); NULL for
 * an interpreter with no script (sh -c '...' is plumbing). */
static const char *program_name(const cJSON *argv)
{
	const cJSON *a0 = cJSON_GetArrayItem(argv, 0), *it;
	const char *name = cJSON_GetStringValue(a0);

	if (!name || !name[0])
		return NULL;
	name = base(name);
	if (!interpreter(name))
		return name;
	for (it = a0->next; it; it = it->next) {
		const char *arg = cJSON_GetStringValue(it);
		if (!arg || !strcmp(arg, "-c") || !strcmp(arg, "-m") || !strcmp(arg, "-e"))
			return NULL;
		if (arg[0] != '-')
			return base(arg);
	}
	return NULL;
}

static void processes_clause(struct og_strbuf *b, const cJSON *procs, const cJSON *argv)
{
	const char *self = program_name(argv), *names[VERDICT_MAX_ITEMS];
	const cJSON *it, *prev;
	size_t n = 0, more = 0, i;

	cJSON_ArrayForEach(it, procs) {
		const char *name = program_name(cJSON_GetObjectItemCaseSensitive(it, "argv"));
		bool dup = false;

		if (!name || plumbing(name) || (self && !strcmp(name, self)))
			continue;
		for (prev = procs->child; prev && prev != it; prev = prev->next) {
			const char *pn = program_name(cJSON_GetObjectItemCaseSensitive(prev, "argv"));
			if (pn && !strcmp(pn, name))
				dup = true;
		}
		if (dup)
			continue;
		if (n == VERDICT_MAX_ITEMS)
			more++;
		else
			names[n++] = name;
	}
	if (!n)
		return;
	sb_clause(b);
	og_strbuf_puts(b, "starts ");
	for (i = 0; i < n; i++)
		og_strbuf_printf(b, "%s%s", i ? ", " : "", names[i]);
	if (more)
		og_strbuf_printf(b, " (+%zu more)", more);
}

/* --- signals, network, denied --- */

static void signal_name(int sig, char *out, size_t cap)
{
	const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;

	if (abbrev)
		snprintf(out, cap, "SIG%s", abbrev);
	else
		snprintf(out, cap, "signal %d", sig);
}

static void signals_clause(struct og_strbuf *b, const cJSON *signals)
{
	const cJSON *it;
	size_t n = 0;

	cJSON_ArrayForEach(it, signals) {
		const cJSON *prev;
		double pid = 0, sig = 0;
		char name[32];
		const char *comm = str(it, "target_comm"), *scope = str(it, "scope");
		bool dup = false;

		/* the tool signalling its own children inside the sandbox is no effect on the host */
		if (scope && !strcmp(scope, "sandbox"))
			continue;
		num(it, "target_pid", &pid);
		num(it, "signal", &sig);
		for (prev = signals->child; prev && prev != it; prev = prev->next) {
			double pp = 0, ps = 0;
			num(prev, "target_pid", &pp);
			num(prev, "signal", &ps);
			if (pp == pid && ps == sig)
				dup = true;
		}
		if (dup)
			continue;
		if (n++ == VERDICT_MAX_ITEMS)
			break;
		signal_name((int)sig, name, sizeof(name));
		sb_clause(b);
		if (sig == 0 && comm && scope && !strcmp(scope, "host"))
			/* a liveness check: ESRCH in the sandbox's PID namespace, so a
			 * tool like `restart` takes the process for dead and skips the
			 * SIGTERM the real run sends */
			og_strbuf_printf(b, "checks that %s (pid %.0f) is alive (kill -0; from the sandbox it looks gone, "
					 "so what the tool does to it next was not dry-run)", comm, pid);
		else if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "target_pid")))
			og_strbuf_printf(b, "signals a process it holds a pidfd to with %s", name);
		else if (comm)
			og_strbuf_printf(b, "signals %s (pid %.0f) with %s", comm, pid, name);
		else
			og_strbuf_printf(b, "signals pid %.0f with %s", pid, name);
	}
	if (n > VERDICT_MAX_ITEMS)
		og_strbuf_printf(b, " and more");
}

/* the sandbox's empty network namespace refuses every connect with one of these */
static bool no_network_error(const char *res)
{
	return res && (!strcmp(res, "ENETUNREACH") || !strcmp(res, "ECONNREFUSED"));
}

/* The destinations; when every attempt failed because the dry-run has no
 * network, says so, and that a non-zero exit (exit_code, or -1) may be
 * that failure, not the action's: true when it named the exit. */
static bool network_clause(struct og_strbuf *b, const cJSON *net, double exit_code)
{
	const cJSON *it, *prev;
	struct og_strbuf d = { 0 };
	size_t n = 0, more = 0;
	bool all_refused = true, said_exit = false;

	sb_clause(b);
	if (!net) {
		og_strbuf_printf(b, "network not traced");
		return false;
	}
	cJSON_ArrayForEach(it, net) {
		const char *addr = str(it, "addr"), *fam = str(it, "family"), *res = str(it, "result");
		double port = 0;
		bool dup = false;

		/* a unix socket that does not exist (glibc asking nscd) reached nothing */
		if (!addr || (fam && !strcmp(fam, "unix") && res && !strcmp(res, "ENOENT")))
			continue;
		/* a unix socket is refused by the masked /run, not the network */
		if (!no_network_error(res) || !fam || !strncmp(fam, "unix", 4))
			all_refused = false;
		num(it, "port", &port);
		for (prev = net->child; prev && prev != it; prev = prev->next) {
			double pp = 0;
			const char *pa = str(prev, "addr");
			num(prev, "port", &pp);
			if (pa && !strcmp(pa, addr) && pp == port)
				dup = true;
		}
		if (dup)
			continue;
		if (n == VERDICT_MAX_ITEMS) {
			more++;
			continue;
		}
		if (n++)
			og_strbuf_printf(&d, ", ");
		if (fam && !strcmp(fam, "unix"))
			og_strbuf_printf(&d, "unix:%s", addr);
		else if (fam && !strcmp(fam, "inet6"))
			og_strbuf_printf(&d, "[%s]:%.0f", addr, port);
		else
			og_strbuf_printf(&d, "%s:%.0f", addr, port);
	}
	if (d.failed)
		b->failed = true;
	else if (!n)
		og_strbuf_printf(b, "no network");
	else {
		og_strbuf_printf(b, "connects to %s", d.p);
		if (more)
			og_strbuf_printf(b, " (+%zu more)", more);
		if (all_refused) {
			said_exit = exit_code > 0;
			og_strbuf_printf(b, " (no network in the dry-run, so %s failed there", n + more > 1 ? "they" : "it");
			if (said_exit)
				og_strbuf_printf(b, "; exit %.0f may be that", exit_code);
			og_strbuf_printf(b, ")");
		}
	}
	free(d.p);
	return said_exit;
}

static void denied_clause(struct og_strbuf *b, const cJSON *denied)
{
	const cJSON *it, *prev;
	size_t n = 0;

	cJSON_ArrayForEach(it, denied) {
		const char *sc = str(it, "syscall");
		bool dup = false;

		for (prev = denied->child; prev && prev != it; prev = prev->next) {
			const char *ps = str(prev, "syscall");
			if (ps && sc && !strcmp(ps, sc))
				dup = true;
		}
		if (dup || !sc)
			continue;
		if (n == VERDICT_MAX_ITEMS) {
			og_strbuf_printf(b, ", ...");
			break;
		}
		if (!n)
			sb_clause(b);
		og_strbuf_printf(b, "%s%s", n++ ? ", " : "denied: ", sc);
	}
}

/* Opens for writing the overlay diff cannot show: what failed in the
 * dry-run (a read-only /proc/sys) may succeed for real, so the approver
 * must see the path. */
static void elsewhere_clause(struct og_strbuf *b, const cJSON *w)
{
	int n = cJSON_GetArraySize(w);
	const cJSON *it, *pick = w ? w->child : NULL;
	const char *first, *res;

	/* a refused write first: the one a real run may carry out */
	cJSON_ArrayForEach(it, w) {
		const char *r = str(it, "result");
		if (r && strcmp(r, "ok")) {
			pick = it;
			break;
		}
	}
	first = pick ? str(pick, "path") : NULL;
	res = first ? str(pick, "result") : NULL;
	if (n <= 0 || !first)
		return;
	sb_clause(b);
	if (res && strcmp(res, "ok"))
		og_strbuf_printf(b, "tries to write %s (%s in the dry-run; the real run may change it)", first, res);
	else
		og_strbuf_printf(b, "writes %s (outside the overlay)", first);
	if (n > 1)
		og_strbuf_printf(b, " and %d more the diff cannot show", n - 1);
}

/* exit_said: the network clause already named a non-zero exit */
static void outcome_clause(struct og_strbuf *b, const cJSON *rep, bool exit_said)
{
	const cJSON *lim = arr(rep, "limits_hit"), *it;
	double code, sig;
	char name[32];

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "timed_out"))) {
		sb_clause(b);
		og_strbuf_printf(b, "timed out");
	} else if (num(rep, "signal", &sig) && sig > 0) {
		signal_name((int)sig, name, sizeof(name));
		sb_clause(b);
		og_strbuf_printf(b, "killed by %s", name);
	} else if (num(rep, "exit_code", &code) && code != 0 && !exit_said) {
		sb_clause(b);
		og_strbuf_printf(b, "exit %.0f", code);
	}
	cJSON_ArrayForEach(it, lim) {
		const char *l = cJSON_GetStringValue(it);
		if (l && strcmp(l, "timeout")) {
			sb_clause(b);
			og_strbuf_printf(b, "hit the %s limit", l);
		}
	}
}

static void surprises_clause(struct og_strbuf *b, const cJSON *s)
{
	int n = cJSON_GetArraySize(s);
	const char *first = s && s->child ? str(s->child, "path") : NULL;

	if (n <= 0 || !first)
		return;
	sb_clause(b);
	if (n == 1)
		og_strbuf_printf(b, "writes outside its declared paths: %s", first);
	else
		og_strbuf_printf(b, "writes outside its declared paths: %s and %d more", first, n - 1);
}

char *og_dryrun_verdict(const cJSON *report)
{
	struct og_strbuf b = { 0 };
	const char *fid = str(report, "fidelity"), *reason = str(report, "reason");
	double code = -1, sig = 0;
	bool exit_said;

	if (fid && !strcmp(fid, "none")) {
		if (reason && !strncmp(reason, "not dry-run", 11))
			og_strbuf_printf(&b, "%s", reason);
		else
			og_strbuf_printf(&b, "not dry-run: %s", reason ? reason : "no reason given");
	} else {
		if (files_clause(&b, cJSON_GetObjectItemCaseSensitive(report, "files")) < 0)
			b.failed = true;
		elsewhere_clause(&b, arr(report, "writes_not_in_diff"));
		processes_clause(&b, arr(report, "processes"), arr(report, "argv"));
		signals_clause(&b, arr(report, "signals"));
		/* a non-zero exit the network clause may explain: not killed, not timed out */
		if (!num(report, "exit_code", &code) || (num(report, "signal", &sig) && sig > 0) ||
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "timed_out")))
			code = -1;
		exit_said = network_clause(&b, arr(report, "network"), code);
		outcome_clause(&b, report, exit_said);
		denied_clause(&b, arr(report, "denied"));
		surprises_clause(&b, arr(report, "surprises"));
	}
	return og_strbuf_take(&b);
}
