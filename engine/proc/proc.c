/*
 * proc.c: og_proc_run (see proc.h). fork + execve of a path resolved in the
 * parent against the clean PATH (execvp would search the parent's PATH), so
 * the child only makes async-signal-safe calls: the parent may have threads.
 * A close-on-exec pipe reports an exec failure (its errno) back; EOF on it
 * means the exec happened.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/capture.h"
#include "../core/clock.h"

static int64_t now_ms(void)
{
	return og_clock_mono_us() / 1000;
}

/* the program to exec: argv0 itself when it has a '/', else the first
 * executable regular file of that name in OG_PROC_PATH. Returns 0, or the
 * errno (ENOENT, EACCES) when there is none. */
static int resolve(const char *argv0, char *out, size_t n)
{
	const char *p = OG_PROC_PATH;
	int found_noexec = 0;

	if (strchr(argv0, '/')) {
		if ((size_t)snprintf(out, n, "%s", argv0) >= n)
			return ENAMETOOLONG;
		return 0;
	}
	if (!*argv0)
		return ENOENT;
	while (*p) {
		const char *colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);
		struct stat st;

		if ((size_t)snprintf(out, n, "%.*s/%s", (int)dl, p, argv0) < n &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			found_noexec = 1;
		}
		p += dl + (colon ? 1 : 0);
	}
	return found_noexec ? EACCES : ENOENT;
}

/* moves fd to target with close-on-exec cleared (dup2 of an fd onto itself
 * would keep the flag) */
static int move_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

static void child_fail(int ep)
{
	int e = errno;
	ssize_t w = write(ep, &e, sizeof(e));

	(void)w;
	_exit(e == ENOENT ? 127 : 126);
}

/* in the child: async-signal-safe calls only */
static void child(const char *path, char *const *argv, char *const *envp, int out_w, int err_w, int ep)
{
	struct sigaction sa;
	sigset_t none;
	int sig, nul, fd;

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);	/* fails harmlessly for reserved ones */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		child_fail(ep);
	if (move_fd(nul, 0) || move_fd(out_w, 1) || move_fd(err_w, 2))
		child_fail(ep);
	if (ep != 3) {
		if (dup3(ep, 3, O_CLOEXEC) < 0)
			child_fail(ep);
		ep = 3;
	}
	if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0) {
		long max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (fd = 4; fd < max; fd++)
			close(fd);
	}
	execve(path, argv, envp);
	child_fail(ep);
}

static bool env_has(const char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env && *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return true;
	return false;
}

static int exec_failed(struct og_proc_result *r, const char *argv0, int e)
{
	char msg[1200];
	int n;

	r->exit_code = e == ENOENT ? 127 : 126;
	if (e == ENOENT && !strchr(argv0, '/'))
		n = snprintf(msg, sizeof(msg), "cannot run '%.1000s': command not found (PATH=%s)\n", argv0,
			     OG_PROC_PATH);
	else
		n = snprintf(msg, sizeof(msg), "cannot run '%.1000s': %s\n", argv0, strerror(e));
	free(r->err);
	if (!(r->err = strdup(msg)))
		return -OG_ENOMEM;
	r->err_len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	return 0;
}

int og_proc_run(const char *const *argv, const struct og_proc_opts *o, struct og_proc_result *r,
		struct og_err *err)
{
	static const struct og_proc_opts defaults = { 0 };
	struct og_capture s[2] = { { .fd = -1 }, { .fd = -1 } };
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, ep[2] = { -1, -1 };
	char path[4096];
	const char **envp = NULL;
	size_t nenv = 0, i;
	int64_t start, term_at = -1, kill_at = -1, grace;
	int rc = 0, e, status = 0;
	bool exited = false;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (!o)
		o = &defaults;
	if (!argv || !argv[0])
		return og_err_set(err, -OG_EINVAL, "og_proc_run: argv is empty (the command needs a program name)");
	start = now_ms();
	if ((e = resolve(argv[0], path, sizeof(path)))) {
		if ((rc = exec_failed(r, argv[0], e)))
			og_err_set(err, rc, "og_proc_run: out of memory");
		goto done;
	}
	grace = o->kill_grace_ms > 0 ? o->kill_grace_ms : OG_PROC_KILL_GRACE_MS_DEFAULT;
	for (i = 0; o->env && o->env[i]; i++)
		;
	if (!(envp = calloc(i + 3, sizeof(*envp))))
		return og_err_set(err, -OG_ENOMEM, "og_proc_run: out of memory");
	if (!env_has(o->env, "PATH"))
		envp[nenv++] = "PATH=" OG_PROC_PATH;
	if (!env_has(o->env, "LANG"))
		envp[nenv++] = "LANG=C";
	for (i = 0; o->env && o->env[i]; i++)
		envp[nenv++] = o->env[i];
	envp[nenv] = NULL;

	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		rc = og_err_set(err, -OG_EIO, "og_proc_run: pipe: %s", strerror(errno));
		goto done;
	}
	if ((pid = fork()) < 0) {
		rc = og_err_set(err, -OG_EIO, "og_proc_run: fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0)
		child(path, (char *const *)argv, (char *const *)envp, out[1], errp[1], ep[1]);
	setpgid(pid, pid);		/* also here: no window where the group does not exist */
	og_close_fd(&out[1]);
	og_close_fd(&errp[1]);
	og_close_fd(&ep[1]);

	/* the exec report: EOF when the exec happened, an errno when it failed */
	{
		int child_errno;
		ssize_t n;
		do
			n = read(ep[0], &child_errno, sizeof(child_errno));
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(child_errno)) {
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			rc = exec_failed(r, argv[0], child_errno);
			if (rc)
				og_err_set(err, rc, "og_proc_run: out of memory");
			goto done;
		}
	}

	s[0].fd = out[0];
	s[1].fd = errp[0];
	out[0] = errp[0] = -1;
	for (i = 0; i < 2; i++)
		s[i].max = o->max_output ? o->max_output : OG_PROC_MAX_OUTPUT_DEFAULT;
	for (;;) {
		int64_t now = now_ms(), wait = -1;
		struct pollfd pfd[2];
		nfds_t np = 0;

		if (o->timeout_ms > 0 && term_at < 0 && now - start >= o->timeout_ms) {
			kill(-pid, SIGTERM);
			r->timed_out = true;
			term_at = now;
		}
		if (term_at >= 0 && kill_at < 0 && now - term_at >= grace) {
			kill(-pid, SIGKILL);
			kill_at = now;
		}
		if (!exited) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				exited = true;
		}
		if (exited && s[0].fd < 0 && s[1].fd < 0)
			break;
		/* pipes held open by a process that left the group: give up on them */
		if (exited && kill_at >= 0 && now - kill_at >= 1000)
			break;

		if (o->timeout_ms > 0 && term_at < 0)
			wait = start + o->timeout_ms - now;
		else if (term_at >= 0 && kill_at < 0)
			wait = term_at + grace - now;
		else if (kill_at >= 0)
			wait = 50;
		if (s[0].fd < 0 && s[1].fd < 0 && (wait < 0 || wait > 10))
			wait = 10;		/* only the exit is left to see */
		if (wait < 0 || wait > 1000)
			wait = wait < 0 ? -1 : 1000;
		for (i = 0; i < 2; i++)
			if (s[i].fd >= 0)
				pfd[np++] = (struct pollfd){ .fd = s[i].fd, .events = POLLIN };
		if (poll(np ? pfd : NULL, np, (int)wait) < 0 && errno != EINTR) {
			rc = og_err_set(err, -OG_EIO, "og_proc_run: poll: %s", strerror(errno));
			kill(-pid, SIGKILL);
			while (!exited && waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			goto done;
		}
		for (i = 0; i < 2; i++) {
			size_t k;
			for (k = 0; k < np; k++)
				if (pfd[k].fd == s[i].fd && s[i].fd >= 0 && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
					break;
			if (k < np && og_capture_read(&s[i])) {
				rc = og_err_set(err, errno == ENOMEM ? -OG_ENOMEM : -OG_EIO, "og_proc_run: reading %s: %s",
						i ? "stderr" : "stdout", strerror(errno));
				kill(-pid, SIGKILL);
				while (!exited && waitpid(pid, &status, 0) < 0 && errno == EINTR)
					;
				goto done;
			}
		}
	}
	if (WIFEXITED(status)) {
		r->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->exit_code = -1;
		r->signal = WTERMSIG(status);
	}
	r->out = s[0].buf;
	r->out_len = s[0].len;
	r->out_truncated = s[0].truncated;
	r->err = s[1].buf;
	r->err_len = s[1].len;
	r->err_truncated = s[1].truncated;
	s[0].buf = s[1].buf = NULL;
done:
	r->duration_ms = now_ms() - start;
	if (!rc) {	/* never NULL on success */
		if (!r->out && !(r->out = calloc(1, 1)))
			rc = og_err_set(err, -OG_ENOMEM, "og_proc_run: out of memory");
		if (!r->err && !(r->err = calloc(1, 1)))
			rc = og_err_set(err, -OG_ENOMEM, "og_proc_run: out of memory");
	}
	for (i = 0; i < 2; i++) {
		og_close_fd(&s[i].fd);
		free(s[i].buf);
	}
	og_close_fd(&out[0]); og_close_fd(&out[1]);
	og_close_fd(&errp[0]); og_close_fd(&errp[1]);
	og_close_fd(&ep[0]); og_close_fd(&ep[1]);
	free(envp);
	return rc;
}

void og_proc_result_release(struct og_proc_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}
