/*
 * dryrun_trace.c: the eBPF impact trace of a dry-run (trace/trace_impact),
 * begun before the sandbox runs, armed from its on_start hook, and folded
 * into the report: processes (one entry per exec), renames and mode
 * changes, connect attempts, signals and denied syscalls.
 *
 * Events before the sandbox's first exec are its own setup (mounts, /dev
 * binds) and are dropped. Signal targets are pids in the sandbox's PID
 * namespace: a kill that succeeded hit a process of the sandbox (named from
 * the trace); one that failed with ESRCH named a pid the sandbox cannot
 * see, which in the real run would be the host's: that pid is resolved on
 * the host (/proc/PID/comm), as the approver needs to know what the real
 * run would have killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "../trace/trace_impact.h"
#include "dryrun_int.h"

#define FOLD_MAX_PROCESSES 256	/* a fork bomb lists its first ones, then says how many more */

static int arm_hook(void *arg, uint64_t cgroup_id, int host_pid, struct og_err *err)
{
	struct dryrun_trace *tr = arg;
	struct og_err e = { 0 };

	(void)err;
	tr->host_pid = host_pid;
	if (og_impact_arm(tr->t, cgroup_id, &e) < 0) {
		/* the dry-run goes on without the trace */
		snprintf(tr->reason, sizeof(tr->reason), "eBPF trace off: %s", e.msg);
		og_impact_close(tr->t);
		tr->t = NULL;
		return 0;
	}
	tr->armed = true;
	return 0;
}

void dryrun_trace_begin(struct dryrun_trace *tr, bool wanted, struct og_sandbox_spec *s)
{
	struct og_err e = { 0 };

	memset(tr, 0, sizeof(*tr));
	if (!wanted) {
		snprintf(tr->reason, sizeof(tr->reason), "eBPF trace off: not asked for");
		return;
	}
	if (og_impact_open(&tr->t, &e) < 0) {
		snprintf(tr->reason, sizeof(tr->reason), "eBPF trace off: %s", e.msg);
		return;
	}
	s->on_start = arm_hook;
	s->on_start_arg = tr;
}

void dryrun_trace_end(struct dryrun_trace *tr)
{
	struct og_err e = { 0 };
	const char *missing;
	size_t len;

	if (!tr->t)
		return;
	if (!tr->armed) {
		/* the sandbox failed before its child started */
		og_impact_close(tr->t);
		tr->t = NULL;
		return;
	}
	if (og_impact_finish(tr->t, &tr->ev, &tr->n_ev, &tr->lost, &e) < 0) {
		snprintf(tr->reason, sizeof(tr->reason), "eBPF trace partial: %s", e.msg);
		return;
	}
	missing = og_impact_missing(tr->t);
	len = 0;
	if (missing[0])
		len = (size_t)snprintf(tr->reason, sizeof(tr->reason),
				       "eBPF trace partial: this kernel has no tracepoint for %s (syscalls it lacks, so "
				       "no tool can make them)", missing);
	if (tr->lost && len < sizeof(tr->reason))
		snprintf(tr->reason + len, sizeof(tr->reason) - len, "%s%llu events lost (ring buffer full)",
			 len ? "; " : "eBPF trace partial: ", (unsigned long long)tr->lost);
}

void dryrun_trace_release(struct dryrun_trace *tr)
{
	og_impact_close(tr->t);
	memset(tr, 0, sizeof(*tr));
}

/* --- the fold --- */

static void errno_text(long long ret, char *out, size_t cap)
{
	const char *name = ret < 0 ? strerrorname_np((int)-ret) : NULL;

	if (ret >= 0)
		snprintf(out, cap, "ok");
	else if (name)
		snprintf(out, cap, "%s", name);
	else
		snprintf(out, cap, "errno %lld", -ret);
}

static void add_result(cJSON *o, long long ret)
{
	char r[32];

	errno_text(ret, r, sizeof(r));
	cJSON_AddStringToObject(o, "result", r);
}

static cJSON *argv_of(const struct impact_event *e)
{
	cJSON *a = cJSON_CreateArray();
	size_t i = 0, n = e->arg_len < sizeof(e->path2) ? e->arg_len : sizeof(e->path2);

	while (a && i < n) {
		size_t len = strnlen(e->path2 + i, n - i);
		char *s = strndup(e->path2 + i, len);
		if (s)
			cJSON_AddItemToArray(a, cJSON_CreateString(s));
		free(s);
		i += len + 1;
	}
	return a;
}

static cJSON *comm_json(const char *comm)
{
	char c[IMPACT_COMM_LEN + 1];

	memcpy(c, comm, IMPACT_COMM_LEN);
	c[IMPACT_COMM_LEN] = '\0';
	return cJSON_CreateString(c);
}

static cJSON *pid_entry(cJSON *procs, int pid)
{
	cJSON *it, *found = NULL;

	cJSON_ArrayForEach(it, procs) {
		cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "pid");
		if (cJSON_IsNumber(p) && p->valueint == pid)
			found = it;	/* the last exec of that process */
	}
	return found;
}

static void fold_exec(cJSON *procs, const struct impact_event *e, size_t *more)
{
	cJSON *o;

	if (cJSON_GetArraySize(procs) >= FOLD_MAX_PROCESSES) {
		(*more)++;
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pid", e->pid);
	cJSON_AddNumberToObject(o, "ppid", e->ppid);
	cJSON_AddNumberToObject(o, "nspid", e->nspid);
	cJSON_AddItemToObject(o, "comm", comm_json(e->comm));
	cJSON_AddStringToObject(o, "path", e->path);
	cJSON_AddItemToObject(o, "argv", argv_of(e));
	cJSON_AddNullToObject(o, "exit_code");
	cJSON_AddItemToArray(procs, o);
}

static void fold_exit(cJSON *procs, const struct impact_event *e)
{
	cJSON *o = pid_entry(procs, e->pid);
	int sig = e->code & 0x7f;

	if (!o)
		return;
	if (sig) {
		cJSON_ReplaceItemInObjectCaseSensitive(o, "exit_code", cJSON_CreateNull());
		cJSON_AddNumberToObject(o, "signal", sig);
	} else {
		cJSON_ReplaceItemInObjectCaseSensitive(o, "exit_code", cJSON_CreateNumber((e->code >> 8) & 0xff));
	}
}

/* The absolute path of the entry of lists (NULL-terminated) that path
 * names: the same path, or for a relative one (the trace has no cwd) the
 * one entry ending in "/path". Copied into out; false when none or several. */
static bool files_find(const cJSON *files, const char *const *lists, const char *path, char *out, size_t cap)
{
	size_t n = strlen(path), hits = 0;
	const cJSON *it;

	for (; *lists; lists++) {
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(files, *lists)) {
			const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "path"));
			size_t m = p ? strlen(p) : 0;
			bool match = p && (path[0] == '/' ? !strcmp(p, path)
							  : m > n && p[m - n - 1] == '/' && !strcmp(p + m - n, path));
			if (match && hits++ == 0)
				snprintf(out, cap, "%s", p);
		}
	}
	return hits == 1;
}

/* An earlier rename whose target is `to`, for a file renamed again. */
static cJSON *renamed_to(cJSON *files, const char *to)
{
	cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(files, "renamed")) {
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "to"));
		if (t && !strcmp(t, to))
			return it;
	}
	return NULL;
}

/* A rename of a host file shows in the overlay diff as deleted + created:
 * say it once, as a rename. A rename whose source the run created (the
 * temp file of an atomic write: write f.tmp, rename to f) is no rename of
 * anything the host had: it is dropped, and its target stays in the diff as
 * the created or modified file it is; a host file renamed on again keeps
 * one entry, from its first name to its last. */
static void fold_rename(cJSON *rep, const struct og_dryrun_spec *spec, const struct impact_event *e)
{
	static const char *const gone[] = { "deleted", "modified", "chmod", NULL };
	static const char *const landed[] = { "created", "modified", NULL };
	cJSON *files = cJSON_GetObjectItemCaseSensitive(rep, "files");
	cJSON *o, *prev;
	char from[sizeof(e->path) + 1], to[sizeof(e->path2) + 1];
	struct stat st;

	if (e->ret != 0 || !files)
		return;
	if (!files_find(files, landed, e->path2, to, sizeof(to)))
		snprintf(to, sizeof(to), "%.*s", (int)sizeof(e->path2), e->path2);
	if (!files_find(files, gone, e->path, from, sizeof(from))) {
		snprintf(from, sizeof(from), "%.*s", (int)sizeof(e->path), e->path);
		/* not a host file the diff shows gone or changed, nor one the host
		 * has (the dry-run left the host unchanged): the run made it */
		if (from[0] != '/' || lstat(from, &st) < 0) {
			if ((prev = renamed_to(files, from))) {
				cJSON_ReplaceItemInObjectCaseSensitive(prev, "to", cJSON_CreateString(to));
				dryrun_list_take(cJSON_GetObjectItemCaseSensitive(files, "created"), to);
				dryrun_surprise_rename(rep, spec, cJSON_GetStringValue(
							       cJSON_GetObjectItemCaseSensitive(prev, "from")), to);
			}
			return;
		}
	}
	dryrun_list_take(cJSON_GetObjectItemCaseSensitive(files, "deleted"), from);
	dryrun_list_take(cJSON_GetObjectItemCaseSensitive(files, "created"), to);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(files, "renamed"), o);
	dryrun_surprise_rename(rep, spec, from, to);
}

static void fold_chmod(cJSON *rep, const struct og_dryrun_spec *spec, const struct impact_event *e)
{
	cJSON *files = cJSON_GetObjectItemCaseSensitive(rep, "files");
	cJSON *o;
	char mode[16];

	if (e->ret != 0 || !files)
		return;
	snprintf(mode, sizeof(mode), "%04o", e->flags & 07777);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", e->path);
	cJSON_AddStringToObject(o, "mode", mode);
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(files, "chmod"), o);
	dryrun_surprise(rep, spec, e->path, "mode changed");
}

static void fold_connect(cJSON *net, const struct impact_event *e)
{
	char addr[INET6_ADDRSTRLEN + 1] = "";
	cJSON *o = cJSON_CreateObject();

	if (e->family == AF_INET) {
		inet_ntop(AF_INET, e->addr, addr, sizeof(addr));
		cJSON_AddStringToObject(o, "family", "inet");
	} else if (e->family == AF_INET6) {
		inet_ntop(AF_INET6, e->addr, addr, sizeof(addr));
		cJSON_AddStringToObject(o, "family", "inet6");
	} else if (e->family == AF_UNIX) {
		cJSON_AddStringToObject(o, "family", "unix");
		/* an abstract name starts with a NUL byte: shown with a leading '@' */
		snprintf(addr, sizeof(addr), "%s%.*s", e->path[0] ? "" : "@", (int)(sizeof(addr) - 2),
			 e->path[0] ? e->path : e->path + 1);
	} else {
		cJSON_AddNumberToObject(o, "family", e->family);
	}
	cJSON_AddStringToObject(o, "addr", addr);
	if (e->family == AF_INET || e->family == AF_INET6)
		cJSON_AddNumberToObject(o, "port", e->port);
	else
		cJSON_AddNullToObject(o, "port");
	add_result(o, e->ret);
	cJSON_AddNumberToObject(o, "pid", e->pid);
	cJSON_AddItemToObject(o, "comm", comm_json(e->comm));
	cJSON_AddItemToArray(net, o);
}

/* the comm of a host pid, read now (the dry-run did not touch the host) */
static cJSON *host_comm(int pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (pid <= 0 || !(f = fopen(path, "r")))
		return cJSON_CreateNull();
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return comm[0] ? cJSON_CreateString(comm) : cJSON_CreateNull();
}

/* a process of the sandbox by its pid inside the sandbox's namespace, as it
 * was when event `at` happened (its last fork or exec before) */
static const struct impact_event *by_nspid(const struct dryrun_trace *tr, int nspid, const struct impact_event *at)
{
	const struct impact_event *found = NULL;
	size_t i;

	for (i = 0; i < tr->n_ev && &tr->ev[i] < at; i++)
		if ((tr->ev[i].kind == IMPACT_EXEC || tr->ev[i].kind == IMPACT_FORK) && tr->ev[i].nspid == nspid)
			found = &tr->ev[i];
	return found;
}

/* a process of the sandbox by its host pid, as it was when event `at` happened */
static const struct impact_event *by_pid(const struct dryrun_trace *tr, int pid, const struct impact_event *at)
{
	const struct impact_event *found = NULL;
	size_t i;

	for (i = 0; i < tr->n_ev && &tr->ev[i] < at; i++)
		if ((tr->ev[i].kind == IMPACT_EXEC || tr->ev[i].kind == IMPACT_FORK) && tr->ev[i].pid == pid)
			found = &tr->ev[i];
	return found;
}

static void fold_signal(cJSON *sigs, const struct dryrun_trace *tr, const struct impact_event *e)
{
	static const char *const calls[] = { "?", "kill", "tgkill", "tkill", "pidfd_send_signal" };
	cJSON *o = cJSON_CreateObject();
	const struct impact_event *inside = e->target > 0 ? by_nspid(tr, e->target, e) : NULL;

	cJSON_AddStringToObject(o, "call", calls[e->call >= 1 && e->call <= 4 ? e->call : 0]);
	cJSON_AddNumberToObject(o, "signal", e->sig);
	if (e->call == IMPACT_PIDFD_SEND_SIGNAL) {
		/* a pidfd the sandbox opened names one of its own processes */
		const struct impact_event *by_host = e->code > 0 ? by_pid(tr, e->code, e) : NULL;

		if (e->code > 0)
			cJSON_AddNumberToObject(o, "target_pid", e->code);
		else
			cJSON_AddNullToObject(o, "target_pid");
		cJSON_AddItemToObject(o, "target_comm", by_host ? comm_json(by_host->comm)
							       : e->code > 0 ? host_comm(e->code) : cJSON_CreateNull());
		cJSON_AddNumberToObject(o, "pidfd", e->target);
		cJSON_AddStringToObject(o, "scope", by_host ? "sandbox" : "pidfd");
	} else if (e->target <= 0) {
		/* kill(0 / -1 / -pgid): a process group or everything visible */
		cJSON_AddNumberToObject(o, "target_pid", e->target);
		cJSON_AddNullToObject(o, "target_comm");
		cJSON_AddStringToObject(o, "scope", e->target == -1 ? "all visible processes" : "process group");
	} else if (e->ret == 0 || inside) {
		/* a pid of the sandbox (host pids are invisible there, so a
		 * kill that succeeded hit one; ESRCH may be one that exited) */
		if (inside)
			cJSON_AddNumberToObject(o, "target_pid", inside->pid);
		else
			cJSON_AddNullToObject(o, "target_pid");
		cJSON_AddNumberToObject(o, "target_nspid", e->target);
		cJSON_AddItemToObject(o, "target_comm", inside ? comm_json(inside->comm) : cJSON_CreateNull());
		cJSON_AddStringToObject(o, "scope", "sandbox");
	} else {
		/* not in the sandbox's namespace: the pid the real run would hit on the host */
		cJSON_AddNumberToObject(o, "target_pid", e->target);
		cJSON_AddItemToObject(o, "target_comm", host_comm(e->target));
		cJSON_AddStringToObject(o, "scope", "host");
	}
	add_result(o, e->ret);
	cJSON_AddNumberToObject(o, "pid", e->pid);
	cJSON_AddItemToObject(o, "comm", comm_json(e->comm));
	cJSON_AddItemToArray(sigs, o);
}

/* An open for writing the overlay diff cannot show: one that failed in the
 * dry-run (EROFS on /proc/sys or /sys, EACCES: the real run, with its
 * privileges and a writable host, may well succeed) or a file outside the
 * overlay. Each path once, first result kept. */
static void fold_write_elsewhere(cJSON *writes, const struct impact_event *e)
{
	cJSON *o, *it;

	/* the process's own /proc entries (oom_score_adj...): the real run
	 * changes only itself there */
	if (e->ret >= 0 && (!strncmp(e->path, "/proc/self/", 11) || !strncmp(e->path, "/proc/thread-self/", 18)))
		return;

	cJSON_ArrayForEach(it, writes) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");

		if (cJSON_IsString(p) && strcmp(p->valuestring, e->path) == 0)
			return;
	}
	if (cJSON_GetArraySize(writes) >= 64)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", e->path);
	add_result(o, e->ret);
	cJSON_AddNumberToObject(o, "pid", e->pid);
	cJSON_AddItemToObject(o, "comm", comm_json(e->comm));
	cJSON_AddItemToArray(writes, o);
}

static void fold_exec_fail(cJSON *fails, const struct impact_event *e)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "path", e->path);
	add_result(o, e->ret);
	cJSON_AddNumberToObject(o, "pid", e->pid);
	cJSON_AddItemToObject(o, "comm", comm_json(e->comm));
	cJSON_AddItemToArray(fails, o);
}

void dryrun_trace_fold(struct dryrun_trace *tr, cJSON *rep, const struct og_dryrun_spec *spec)
{
	cJSON *procs, *net, *sigs, *elsewhere, *fails, *info;
	struct impact_counts counts;
	size_t i, more = 0;
	bool started = false;

	if (!tr->t || !tr->armed)
		return;
	procs = cJSON_AddArrayToObject(rep, "processes");
	net = cJSON_AddArrayToObject(rep, "network");
	sigs = cJSON_AddArrayToObject(rep, "signals");
	elsewhere = cJSON_CreateArray();
	fails = cJSON_CreateArray();
	for (i = 0; i < tr->n_ev; i++) {
		const struct impact_event *e = &tr->ev[i];

		if (!started && e->kind != IMPACT_EXEC && e->kind != IMPACT_EXEC_FAIL)
			continue;	/* the sandbox's own setup */
		started = true;
		switch (e->kind) {
		case IMPACT_EXEC: fold_exec(procs, e, &more); break;
		case IMPACT_EXEC_FAIL: fold_exec_fail(fails, e); break;
		case IMPACT_EXIT: fold_exit(procs, e); break;
		case IMPACT_OPEN: fold_write_elsewhere(elsewhere, e); break;
		case IMPACT_RENAME: fold_rename(rep, spec, e); break;
		case IMPACT_CHMOD: fold_chmod(rep, spec, e); break;
		case IMPACT_CONNECT: fold_connect(net, e); break;
		case IMPACT_SIGNAL: fold_signal(sigs, tr, e); break;
		default: break;
		}
	}
	if (cJSON_GetArraySize(fails))
		cJSON_AddItemToObject(rep, "exec_failed", fails);
	else
		cJSON_Delete(fails);
	if (cJSON_GetArraySize(elsewhere))
		cJSON_AddItemToObject(rep, "writes_not_in_diff", elsewhere);
	else
		cJSON_Delete(elsewhere);
	og_impact_counts(tr->t, &counts);
	if (more)
		cJSON_AddNumberToObject(rep, "processes_more", (double)more);
	info = cJSON_AddObjectToObject(rep, "trace");
	cJSON_AddNumberToObject(info, "events", (double)tr->n_ev);
	cJSON_AddNumberToObject(info, "lost", (double)tr->lost);
	cJSON_AddNumberToObject(info, "opens_for_write", (double)counts.opens_for_write);
	cJSON_AddNumberToObject(info, "unlinks", (double)counts.unlinks);
	cJSON_AddNumberToObject(info, "setup_ms", (double)og_impact_setup_ms(tr->t));
	cJSON_AddBoolToObject(info, "loaded", og_impact_cold(tr->t));
	cJSON_AddStringToObject(info, "missing_hooks", og_impact_missing(tr->t));
	cJSON_AddStringToObject(info, "btf", og_impact_btf(tr->t));
}
