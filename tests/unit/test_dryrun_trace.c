/*
 * test_dryrun_trace.c: traced dry-runs one after another in one process, as
 * a graph run makes them for the actions of a plan (needs root and a host
 * that can trace: skipped with the reason otherwise). The second and third
 * reuse the loaded programs (trace/trace_impact.c keeps one object): each
 * report must hold exactly its own run's events, none repeated by the
 * previous run's links (a lingering holder keeps those) and none left over
 * in the ring buffer. Then dry-runs on four threads at once, as `opsgraph
 * serve` runs jobs: each report holds exactly its own processes, none of
 * another thread's (the programs share one ring; events go by cgroup id).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "dryrun/dryrun.h"
#include "trace/trace_impact.h"
#include "../test.h"

static int count_comm(const cJSON *procs, const char *comm)
{
	const cJSON *it;
	int n = 0;

	cJSON_ArrayForEach(it, procs) {
		const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "comm"));
		if (c && !strcmp(c, comm))
			n++;
	}
	return n;
}

#define N_THREADS 4
#define ROUNDS 2

struct worker {
	const char *prog;	/* each thread's own program, run 5 times by sh */
	const char *comm;
	char script[128];
	int ok_runs, bad_runs, untraced;
	char why[OG_ERR_MSG + 64];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const char *argv[] = { "/bin/sh", "-c", w->script, NULL };
	struct og_dryrun_spec s;
	int r;

	snprintf(w->script, sizeof(w->script), "for i in 1 2 3 4 5; do %s >/dev/null; done", w->prog);
	memset(&s, 0, sizeof(s));
	s.trace = true;
	s.argv = argv;
	for (r = 0; r < ROUNDS; r++) {
		struct og_err err = { 0 };
		cJSON *rep = NULL;
		const cJSON *p;

		if (og_dryrun_run(&s, &rep, &err) < 0 || !rep) {
			w->bad_runs++;
			snprintf(w->why, sizeof(w->why), "%s", err.msg);
			continue;
		}
		p = cJSON_GetObjectItemCaseSensitive(rep, "processes");
		if (!p) {
			w->untraced++;
		} else if (cJSON_GetArraySize(p) == 6 && count_comm(p, "sh") == 1 && count_comm(p, w->comm) == 5) {
			w->ok_runs++;
		} else {
			char *txt = cJSON_PrintUnformatted(p);
			w->bad_runs++;
			snprintf(w->why, sizeof(w->why), "%s", txt ? txt : "?");
			free(txt);
		}
		cJSON_Delete(rep);
	}
	return NULL;
}

static void concurrent(void)
{
	struct worker w[N_THREADS] = {
		{ .prog = "/bin/true", .comm = "true" },
		{ .prog = "/bin/echo x", .comm = "echo" },
		{ .prog = "/bin/ls /", .comm = "ls" },
		{ .prog = "/bin/cat /dev/null", .comm = "cat" },
	};
	pthread_t th[N_THREADS];
	int i;

	for (i = 0; i < N_THREADS; i++)
		CHECK_INT(pthread_create(&th[i], NULL, worker_main, &w[i]), ==, 0);
	for (i = 0; i < N_THREADS; i++) {
		pthread_join(th[i], NULL);
		if (w[i].bad_runs)
			fprintf(stderr, "thread %d (%s): %s\n", i, w[i].comm, w[i].why);
		CHECK_INT(w[i].untraced, ==, 0);
		CHECK_INT(w[i].ok_runs, ==, ROUNDS);
	}
}

/* A process with no dry-run open unloads the programs once idle (attached
 * tracepoints slow the host's syscalls down); the next dry-run loads them
 * again and is traced as before. */
static void idle_unload(void)
{
	const char *argv[] = { "/bin/sh", "-c", "/bin/echo again", NULL };
	struct og_dryrun_spec s;
	struct og_err err = { 0 };
	cJSON *rep = NULL;
	int i;

	CHECK(og_impact_loaded());
	og_impact_set_idle_unload_ms(200);
	for (i = 0; i < 100 && og_impact_loaded(); i++)
		usleep(50 * 1000);
	CHECK(!og_impact_loaded());
	memset(&s, 0, sizeof(s));
	s.trace = true;
	s.argv = argv;
	og_impact_set_idle_unload_ms(60 * 1000);
	CHECK_INT(og_dryrun_run(&s, &rep, &err), ==, 0);
	if (!rep)
		return;
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep, "trace"), "loaded")));
	CHECK_INT(count_comm(cJSON_GetObjectItemCaseSensitive(rep, "processes"), "echo"), ==, 1);
	CHECK(og_impact_loaded());
	cJSON_Delete(rep);
}

int main(void)
{
	const char *argv_a[] = { "/bin/sh", "-c", "/bin/true; /bin/echo a", NULL };
	const char *argv_b[] = { "/bin/sleep", "0", NULL };
	struct og_dryrun_spec s;
	struct og_err err = { 0 };
	cJSON *rep[3] = { NULL, NULL, NULL };
	int i;

	if (geteuid() != 0) {
		SKIP("not root: dry-runs need namespaces and the trace CAP_BPF");
		TEST_END();
	}
	memset(&s, 0, sizeof(s));
	s.trace = true;
	for (i = 0; i < 3; i++) {
		s.argv = i == 1 ? argv_b : argv_a;
		CHECK_INT(og_dryrun_run(&s, &rep[i], &err), ==, 0);
		if (!rep[i])
			goto out;
	}
	if (!cJSON_GetObjectItemCaseSensitive(rep[0], "processes")) {
		const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep[0], "reason"));
		fprintf(stderr, "no trace here: %s\n", why ? why : "?");
		SKIP("this host cannot trace (see the reason above)");
		goto out;
	}
	for (i = 0; i < 3; i++) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(rep[i], "processes");
		const cJSON *lost = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(rep[i], "trace"), "lost");

		CHECK(cJSON_IsNumber(lost) && lost->valuedouble == 0);
		if (i == 1) {
			CHECK_INT(cJSON_GetArraySize(p), ==, 1);
			CHECK_INT(count_comm(p, "sleep"), ==, 1);
			CHECK_INT(count_comm(p, "true"), ==, 0);
		} else {
			CHECK_INT(cJSON_GetArraySize(p), ==, 3);
			CHECK_INT(count_comm(p, "sh"), ==, 1);
			CHECK_INT(count_comm(p, "true"), ==, 1);
			CHECK_INT(count_comm(p, "echo"), ==, 1);
			CHECK_INT(count_comm(p, "sleep"), ==, 0);
		}
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep[i], "verdict")),
			  "touches no files, no network");
	}
	/* the same command traced twice gives the same number of events */
	CHECK_INT(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep[0], "trace"), "events")
			  ->valueint,
		  ==,
		  cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep[2], "trace"), "events")
			  ->valueint);
	/* the first dry-run loaded the programs, the others reused them */
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep[0], "trace"), "loaded")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep[2], "trace"), "loaded")));
	/* built here, run here: the build's minimal BTF relocated the programs */
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetObjectItemCaseSensitive(rep[0], "trace"), "btf")),
		  "minimal (built on this kernel)");
	concurrent();
	idle_unload();
out:
	for (i = 0; i < 3; i++)
		cJSON_Delete(rep[i]);
	TEST_END();
}
