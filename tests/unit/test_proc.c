/*
 * test_proc.c: og_proc_run (engine/proc/proc.c) with real commands.
 *
 * Covered: exit codes of true/false; stdout and stderr captured apart; stdin
 * is /dev/null; a 1 MB writer is cut at the 64 KiB default (and at a smaller
 * cap) but drained to a clean exit; the timeout kills `sleep 30` (SIGTERM),
 * a background grandchild holding the pipe, and a child ignoring SIGTERM
 * (SIGKILL after the 2 s grace); exit by a signal; command not found (127,
 * with a message) by name and by path; the environment is only PATH, LANG
 * and the vars passed; argv goes through verbatim (spaces, quotes, $, *);
 * the child sees only fds 0, 1, 2 even when the parent has others open
 * without close-on-exec; an empty argv is -OG_EINVAL.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc/proc.h"
#include "../test.h"

static struct og_proc_result r;
static struct og_err err;

static int run(const struct og_proc_opts *o, const char *const *argv)
{
	og_proc_result_release(&r);
	memset(&err, 0, sizeof(err));
	return og_proc_run(argv, o, &r, &err);
}

#define RUN(o, ...) run(o, (const char *const[]){ __VA_ARGS__, NULL })

int main(void)
{
	struct og_proc_opts o = { 0 };

	CHECK_INT(RUN(NULL, "true"), ==, 0);
	CHECK_INT(r.exit_code, ==, 0);
	CHECK_INT(r.signal, ==, 0);
	CHECK(!r.timed_out);
	CHECK_STR(r.out, "");
	CHECK_INT(RUN(NULL, "false"), ==, 0);
	CHECK_INT(r.exit_code, ==, 1);
	CHECK_INT(RUN(NULL, "sh", "-c", "exit 42"), ==, 0);
	CHECK_INT(r.exit_code, ==, 42);

	/* stdout and stderr apart */
	CHECK_INT(RUN(NULL, "sh", "-c", "echo out; echo err >&2; echo out2"), ==, 0);
	CHECK_STR(r.out, "out\nout2\n");
	CHECK_STR(r.err, "err\n");
	CHECK(!r.out_truncated && !r.err_truncated);

	/* stdin is /dev/null: cat ends at once */
	CHECK_INT(RUN(NULL, "cat"), ==, 0);
	CHECK_INT(r.exit_code, ==, 0);
	CHECK_INT(r.out_len, ==, 0);

	/* 1 MB of output: the first 64 KiB kept, the rest drained (clean exit) */
	CHECK_INT(RUN(NULL, "head", "-c", "1048576", "/dev/zero"), ==, 0);
	CHECK_INT(r.exit_code, ==, 0);
	CHECK_INT(r.out_len, ==, OG_PROC_MAX_OUTPUT_DEFAULT);
	CHECK(r.out_truncated);
	CHECK(!r.err_truncated);
	o.max_output = 1000;
	CHECK_INT(RUN(&o, "sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' a >&2; echo done"), ==, 0);
	CHECK_INT(r.exit_code, ==, 0);
	CHECK_INT(r.err_len, ==, 1000);
	CHECK(r.err_truncated && r.err[0] == 'a' && r.err[999] == 'a' && r.err[1000] == '\0');
	CHECK_STR(r.out, "done\n");
	CHECK(!r.out_truncated);
	o.max_output = 5;
	CHECK_INT(RUN(&o, "printf", "12345"), ==, 0);
	CHECK_STR(r.out, "12345");
	CHECK(!r.out_truncated);
	o.max_output = 0;

	/* timeout: SIGTERM to the group */
	o.timeout_ms = 300;
	CHECK_INT(RUN(&o, "sleep", "30"), ==, 0);
	CHECK(r.timed_out);
	CHECK_INT(r.signal, ==, SIGTERM);
	CHECK_INT(r.exit_code, ==, -1);
	CHECK_INT(r.duration_ms, >=, 290);
	CHECK_INT(r.duration_ms, <, 1500);
	/* a grandchild in the background holding stdout dies with the group */
	CHECK_INT(RUN(&o, "sh", "-c", "sleep 30 & echo started"), ==, 0);
	CHECK(r.timed_out);
	CHECK_STR(r.out, "started\n");
	CHECK_INT(r.duration_ms, <, 1500);
	/* SIGTERM ignored: SIGKILL after the 2 s grace */
	CHECK_INT(RUN(&o, "sh", "-c", "trap '' TERM; echo ready; sleep 30; sleep 30"), ==, 0);
	CHECK(r.timed_out);
	CHECK_INT(r.signal, ==, SIGKILL);
	CHECK_INT(r.duration_ms, >=, 2200);
	CHECK_INT(r.duration_ms, <, 4500);
	o.kill_grace_ms = 200;
	CHECK_INT(RUN(&o, "sh", "-c", "trap '' TERM; sleep 30"), ==, 0);
	CHECK_INT(r.signal, ==, SIGKILL);
	CHECK_INT(r.duration_ms, <, 1500);
	o.kill_grace_ms = 0;
	o.timeout_ms = 0;

	/* ended by a signal, no timeout */
	CHECK_INT(RUN(NULL, "sh", "-c", "kill -9 $$"), ==, 0);
	CHECK_INT(r.signal, ==, 9);
	CHECK_INT(r.exit_code, ==, -1);
	CHECK(!r.timed_out);

	/* command not found */
	CHECK_INT(RUN(NULL, "no-such-command-og", "x"), ==, 0);
	CHECK_INT(r.exit_code, ==, 127);
	CHECK_CONTAINS(r.err, "cannot run 'no-such-command-og': command not found");
	CHECK_STR(r.out, "");
	CHECK_INT(RUN(NULL, "/nonexistent/bin/x"), ==, 0);
	CHECK_INT(r.exit_code, ==, 127);
	CHECK_CONTAINS(r.err, "cannot run '/nonexistent/bin/x': No such file or directory");
	{	/* found but not executable: 126 */
		char tmpl[] = "/tmp/og-proc-XXXXXX";
		int fd = mkstemp(tmpl);
		CHECK(fd >= 0);
		CHECK_INT(write(fd, "#!/bin/sh\n", 10), ==, 10);
		close(fd);
		chmod(tmpl, 0644);
		CHECK_INT(RUN(NULL, tmpl), ==, 0);
		CHECK_INT(r.exit_code, ==, 126);
		CHECK_CONTAINS(r.err, "Permission denied");
		unlink(tmpl);
	}

	/* a clean environment */
	setenv("OG_SECRET_TOKEN", "hunter2", 1);
	setenv("PATH", "/tmp/nowhere:/usr/bin:/bin", 1);
	CHECK_INT(RUN(NULL, "env"), ==, 0);
	CHECK_STR(r.out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLANG=C\n");
	o.env = (const char *const[]){ "FOO=bar baz", "LANG=C.UTF-8", NULL };
	CHECK_INT(RUN(&o, "env"), ==, 0);
	CHECK_STR(r.out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nFOO=bar baz\nLANG=C.UTF-8\n");
	o.env = NULL;

	/* argv verbatim: no shell anywhere */
	CHECK_INT(RUN(NULL, "printf", "%s|", "a b", "it's", "\"q\"", "$HOME", "*", "; rm -rf /", ""), ==, 0);
	CHECK_STR(r.out, "a b|it's|\"q\"|$HOME|*|; rm -rf /||");

	/* no fd leaks: parent fds without close-on-exec stay behind (3 is ls's own directory) */
	{
		int a = open("/dev/null", O_RDONLY), p[2];
		CHECK(a >= 0);
		CHECK_INT(pipe(p), ==, 0);
		CHECK_INT(RUN(NULL, "ls", "/proc/self/fd"), ==, 0);
		CHECK_STR(r.out, "0\n1\n2\n3\n");
		/* no pipeline: the shell's own pipe ends would race with ls */
		CHECK_INT(RUN(NULL, "sh", "-c", "ls /proc/$$/fd; true"), ==, 0);
		CHECK_STR(r.out, "0\n1\n2\n");
		close(a);
		close(p[0]);
		close(p[1]);
	}

	/* argument errors */
	CHECK_INT(run(NULL, (const char *const[]){ NULL }), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "argv is empty");

	og_proc_result_release(&r);
	TEST_END();
}
