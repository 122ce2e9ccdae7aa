/*
 * test_dryrun_verdict.c: og_dryrun_verdict on hand-written reports (no root,
 * no sandbox): files grouped by directory (ancestors fold, more than three
 * groups collapse to their common ancestor, a path in two lists counts
 * once), signals with comm and pid (duplicates once, the sandbox's own
 * processes left out), network destinations
 * or "no network" (unix sockets that do not exist left out; attempts all
 * refused by the sandbox's network said so, with the exit they may explain),
 * "network not traced" without a trace, programs started (not the tool, not
 * plumbing, at most three), exit/signal/timeout, limits, denied, surprises,
 * "not dry-run: reason". And og_dryrun_run's refusal of bad specs.
 */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "dryrun/dryrun.h"
#include "../test.h"

/* the verdict of the report in JSON text j (freed by the next call) */
static const char *verdict(const char *j)
{
	static char *last;
	cJSON *r = cJSON_Parse(j);

	free(last);
	last = NULL;
	if (!r)
		return "(bad test JSON)";
	last = og_dryrun_verdict(r);
	cJSON_Delete(r);
	return last;
}

static void test_files(void)
{
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"exit_code\":0,\"files\":{\"created\":[],\"modified\":[],"
			  "\"deleted\":[]},\"network\":[]}"),
		  "touches no files, no network");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"exit_code\":0,\"files\":{"
			  "\"modified\":[{\"path\":\"/etc/nginx/nginx.conf\",\"size\":10,\"old_size\":8}],"
			  "\"created\":[{\"path\":\"/etc/nginx/conf.d/new.conf\",\"size\":3}]},\"network\":[]}"),
		  "touches 2 files under /etc/nginx (1 created, 1 modified), no network");
	/* two unrelated directories stay apart */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{"
			  "\"deleted\":[{\"path\":\"/var/log/a.log\"},{\"path\":\"/var/log/b.log\"}],"
			  "\"modified\":[{\"path\":\"/etc/hosts\",\"size\":1}]},\"network\":[]}"),
		  "touches 1 file under /etc and 2 files under /var/log (1 modified, 2 deleted), no network");
	/* a later ancestor absorbs the groups below it */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{"
			  "\"deleted\":[{\"path\":\"/srv/app/data/x\"},{\"path\":\"/srv/app/cache/y\"},{\"path\":\"/srv/app/z\"}]},"
			  "\"network\":[]}"),
		  "touches 3 files under /srv/app (3 deleted), no network");
	/* more than three groups: their common ancestor */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{\"created\":["
			  "{\"path\":\"/opt/a/1\"},{\"path\":\"/opt/b/2\"},{\"path\":\"/opt/c/3\"},{\"path\":\"/opt/d/4\"}]},"
			  "\"network\":[]}"),
		  "touches 4 files under /opt (4 created), no network");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{\"created\":["
			  "{\"path\":\"/a/1\"},{\"path\":\"/b/2\"},{\"path\":\"/c/3\"},{\"path\":\"/d/4\"}]},\"network\":[]}"),
		  "touches 4 files under / (4 created), no network");
	/* modified and chmod-ed is one file; a rename counts its source */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{"
			  "\"modified\":[{\"path\":\"/d/k\",\"size\":7}],\"chmod\":[{\"path\":\"/d/k\",\"mode\":\"0600\"}],"
			  "\"renamed\":[{\"from\":\"/d/old\",\"to\":\"/d/new\"}]},\"network\":[]}"),
		  "touches 2 files under /d (1 modified, 1 renamed, 1 mode changed), no network");
}

static void test_signals_network(void)
{
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"signals\":["
			  "{\"target_pid\":812,\"target_comm\":\"nginx\",\"signal\":1,\"result\":\"ESRCH\"},"
			  "{\"target_pid\":812,\"target_comm\":\"nginx\",\"signal\":1,\"result\":\"ESRCH\"},"
			  "{\"target_pid\":900,\"target_comm\":null,\"signal\":9},"
			  "{\"target_pid\":4242,\"target_comm\":\"sleep\",\"signal\":15,\"scope\":\"sandbox\"},"
			  "{\"target_pid\":null,\"target_comm\":null,\"signal\":15,\"scope\":\"pidfd\",\"pidfd\":3}],"
			  "\"network\":[]}"),
		  "touches no files, signals nginx (pid 812) with SIGHUP, signals pid 900 with SIGKILL, "
		  "signals a process it holds a pidfd to with SIGTERM, no network");
	/* kill -0 of a host pid (a liveness check) fails in the sandbox: the tool took
	 * the process for dead, so what the real run does to it was not dry-run */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"signals\":["
			  "{\"target_pid\":9482,\"target_comm\":\"python3\",\"signal\":0,\"scope\":\"host\","
			  "\"result\":\"ESRCH\"}],\"network\":[]}"),
		  "touches no files, checks that python3 (pid 9482) is alive (kill -0; from the sandbox it looks gone, "
		  "so what the tool does to it next was not dry-run), no network");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":["
			  "{\"family\":\"unix\",\"addr\":\"/var/run/nscd/socket\",\"port\":null,\"result\":\"ENOENT\"},"
			  "{\"family\":\"inet\",\"addr\":\"10.0.0.1\",\"port\":5432,\"result\":\"ENETUNREACH\"},"
			  "{\"family\":\"inet\",\"addr\":\"10.0.0.1\",\"port\":5432,\"result\":\"ENETUNREACH\"},"
			  "{\"family\":\"inet6\",\"addr\":\"::1\",\"port\":80,\"result\":\"ENETUNREACH\"},"
			  "{\"family\":\"unix\",\"addr\":\"/run/docker.sock\",\"port\":null,\"result\":\"ECONNREFUSED\"}]}"),
		  "touches no files, connects to 10.0.0.1:5432, [::1]:80, unix:/run/docker.sock");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":["
			  "{\"family\":\"unix\",\"addr\":\"/var/run/nscd/socket\",\"result\":\"ENOENT\"}]}"),
		  "touches no files, no network");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":["
			  "{\"family\":\"inet\",\"addr\":\"1.1.1.1\",\"port\":1},{\"family\":\"inet\",\"addr\":\"1.1.1.2\",\"port\":1},"
			  "{\"family\":\"inet\",\"addr\":\"1.1.1.3\",\"port\":1},{\"family\":\"inet\",\"addr\":\"1.1.1.4\",\"port\":1},"
			  "{\"family\":\"inet\",\"addr\":\"1.1.1.5\",\"port\":1}]}"),
		  "touches no files, connects to 1.1.1.1:1, 1.1.1.2:1, 1.1.1.3:1 (+2 more)");
	/* every attempt refused by the dry-run's empty network: said, with the exit it may explain */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"exit_code\":1,\"network\":["
			  "{\"family\":\"inet\",\"addr\":\"127.0.0.1\",\"port\":8080,\"result\":\"ECONNREFUSED\"}]}"),
		  "touches no files, connects to 127.0.0.1:8080 (no network in the dry-run, so it failed there; "
		  "exit 1 may be that)");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"exit_code\":0,\"network\":["
			  "{\"family\":\"inet\",\"addr\":\"10.0.0.1\",\"port\":80,\"result\":\"ENETUNREACH\"},"
			  "{\"family\":\"inet6\",\"addr\":\"::1\",\"port\":80,\"result\":\"ECONNREFUSED\"}]}"),
		  "touches no files, connects to 10.0.0.1:80, [::1]:80 (no network in the dry-run, so they failed there)");
	/* a timeout is no exit code the failure explains */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"exit_code\":null,\"signal\":9,\"timed_out\":true,"
			  "\"network\":[{\"family\":\"inet\",\"addr\":\"10.0.0.1\",\"port\":80,\"result\":\"ENETUNREACH\"}]}"),
		  "touches no files, connects to 10.0.0.1:80 (no network in the dry-run, so it failed there), timed out");
	/* one attempt that got through (or any other error): no such claim */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"exit_code\":1,\"network\":["
			  "{\"family\":\"inet\",\"addr\":\"10.0.0.1\",\"port\":80,\"result\":\"ENETUNREACH\"},"
			  "{\"family\":\"inet\",\"addr\":\"127.0.0.1\",\"port\":80,\"result\":\"ok\"}]}"),
		  "touches no files, connects to 10.0.0.1:80, 127.0.0.1:80, exit 1");
	/* no "network" key: the trace was off */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{}}"), "touches no files, network not traced");
}

static void test_processes(void)
{
	/* the tool itself (its script) and plumbing left out; a script by its name */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"argv\":[\"python3\",\"/x/ctl.py\",\"restart\"],\"files\":{},"
			  "\"network\":[],\"processes\":["
			  "{\"comm\":\"python3\",\"argv\":[\"python3\",\"/x/ctl.py\",\"restart\"]},"
			  "{\"comm\":\"sh\",\"argv\":[\"/bin/sh\",\"-c\",\"sleep 1\"]},"
			  "{\"comm\":\"sleep\",\"argv\":[\"sleep\",\"1\"]},"
			  "{\"comm\":\"python3\",\"argv\":[\"/usr/bin/python3.12\",\"-u\",\"/x/service.py\",\"--port\",\"1\"]}]}"),
		  "touches no files, starts service.py, no network");
	/* each program once, three named, then how many more */
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"argv\":[\"/usr/local/bin/deploy\"],\"files\":{},"
			  "\"network\":[],\"processes\":["
			  "{\"argv\":[\"/usr/local/bin/deploy\"]},{\"argv\":[\"systemctl\",\"restart\",\"nginx\"]},"
			  "{\"argv\":[\"systemctl\",\"status\",\"nginx\"]},{\"argv\":[\"/usr/sbin/nginx\",\"-t\"]},"
			  "{\"argv\":[\"kubectl\",\"apply\"]},{\"argv\":[\"helm\"]},{\"argv\":[\"bash\",\"hook.sh\"]},"
			  "{\"argv\":[\"env\",\"X=1\",\"true\"]}]}"),
		  "touches no files, starts systemctl, nginx, kubectl (+2 more), no network");
}

static void test_outcome(void)
{
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":[],\"exit_code\":1}"),
		  "touches no files, no network, exit 1");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":[],\"exit_code\":null,\"signal\":9,"
			  "\"timed_out\":true,\"limits_hit\":[\"timeout\"]}"),
		  "touches no files, no network, timed out");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":[],\"exit_code\":null,\"signal\":9,"
			  "\"limits_hit\":[\"memory\"]}"),
		  "touches no files, no network, killed by SIGKILL, hit the memory limit");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":[],\"exit_code\":32,\"denied\":["
			  "{\"syscall\":\"mount\"},{\"syscall\":\"mount\"},{\"syscall\":\"unshare\"}]}"),
		  "touches no files, no network, exit 32, denied: mount, unshare");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":[],\"denied\":["
			  "{\"syscall\":\"a\"},{\"syscall\":\"b\"},{\"syscall\":\"c\"},{\"syscall\":\"d\"}]}"),
		  "touches no files, no network, denied: a, b, c, ...");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{\"created\":[{\"path\":\"/etc/x\"}]},\"network\":[],"
			  "\"surprises\":[{\"path\":\"/etc/x\",\"why\":\"created outside\"}]}"),
		  "touches 1 file under /etc (1 created), no network, writes outside its declared paths: /etc/x");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":[],\"writes_not_in_diff\":["
			  "{\"path\":\"/proc/sys/vm/swappiness\",\"result\":\"EROFS\"},{\"path\":\"/sys/x\",\"result\":\"EROFS\"}]}"),
		  "touches no files, tries to write /proc/sys/vm/swappiness (EROFS in the dry-run; the real run may "
		  "change it) and 1 more the diff cannot show, no network");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":[],\"writes_not_in_diff\":["
			  "{\"path\":\"/dev/shm/lock\",\"result\":\"ok\"}]}"),
		  "touches no files, writes /dev/shm/lock (outside the overlay), no network");
	CHECK_STR(verdict("{\"fidelity\":\"sandbox\",\"files\":{},\"network\":[],\"writes_not_in_diff\":["
			  "{\"path\":\"/dev/shm/lock\",\"result\":\"ok\"},{\"path\":\"/sys/x\",\"result\":\"EROFS\"}]}"),
		  "touches no files, tries to write /sys/x (EROFS in the dry-run; the real run may change it) and 1 more "
		  "the diff cannot show, no network");
	CHECK_STR(verdict("{\"fidelity\":\"none\",\"reason\":\"not dry-run: the sandbox needs root\"}"),
		  "not dry-run: the sandbox needs root");
	CHECK_STR(verdict("{\"fidelity\":\"none\",\"reason\":\"namespaces unavailable\"}"),
		  "not dry-run: namespaces unavailable");
	CHECK_STR(verdict("{}"), "touches no files, network not traced");
}

static void test_bad_spec(void)
{
	const char *argv[] = { "/bin/true", NULL }, *empty[] = { NULL }, *rel[] = { "etc/*", NULL };
	const char *env[] = { "NOEQUALS", NULL };
	struct og_dryrun_spec s;
	struct og_err err = { 0 };
	cJSON *rep = (cJSON *)1;

	memset(&s, 0, sizeof(s));
	CHECK_INT(og_dryrun_run(NULL, &rep, &err), <, 0);
	CHECK(rep == NULL);
	s.argv = empty;
	CHECK_INT(og_dryrun_run(&s, &rep, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "empty argv");
	s.argv = argv;
	s.pids = -1;
	CHECK_INT(og_dryrun_run(&s, &rep, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "negative limit");
	s.pids = 0;
	s.env = env;
	CHECK_INT(og_dryrun_run(&s, &rep, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "not NAME=value");
	s.env = NULL;
	s.expect_writes = rel;
	CHECK_INT(og_dryrun_run(&s, &rep, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "not an absolute path glob");
	s.expect_writes = NULL;
	s.native_argv = empty;
	CHECK_INT(og_dryrun_run(&s, &rep, &err), ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "native_argv is empty");
	CHECK(rep == NULL);
}

int main(void)
{
	test_files();
	test_signals_network();
	test_processes();
	test_outcome();
	test_bad_spec();
	verdict("{}");
	TEST_END();
}
