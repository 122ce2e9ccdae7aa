/*
 * cmd_doctor.c: `opsgraph doctor [--output json]`, what this host allows
 * the eBPF host signals and the dry-run sandbox to do, one check a line
 * (trace/hostsig_check.h and og_sandbox_check), each "ok" or "missing" with
 * the precise reason. Exit 0 when the host-signal collectors can run
 * (optional pieces such as kprobe or fentry may be missing), 1 when a hard
 * check failed (no privilege, no BTF, no tracepoints, built without eBPF),
 * 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "../sandbox/sandbox.h"
#include "../trace/hostsig_check.h"
#include "cli.h"

int cmd_doctor(int argc, char **argv)
{
	struct og_hostsig_check c[OG_HOSTSIG_NCHECKS];
	struct og_err serr = { 0 };
	bool json = false, hard = false, sandbox_ok;
	size_t n, i;

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--output") && a + 1 < argc && !strcmp(argv[a + 1], "json")) {
			json = true;
			a++;
		} else if (!strcmp(argv[a], "--output")) {
			return cli_fail(2, "doctor: --output takes json (got %s%s%s); without it the checks print as text",
					a + 1 < argc ? "'" : "nothing", a + 1 < argc ? argv[a + 1] : "",
					a + 1 < argc ? "'" : "");
		} else {
			return cli_fail(2, "usage: opsgraph doctor [--output json] (got '%s')", argv[a]);
		}
	}
	n = og_hostsig_checks(c, OG_HOSTSIG_NCHECKS);
	for (i = 0; i < n; i++)
		hard |= !c[i].ok && c[i].hard;
	sandbox_ok = og_sandbox_check(&serr) == 0;
	if (json) {
		cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "checks"), *e;
		char *txt;

		for (i = 0; i < n; i++) {
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "name", c[i].name);
			cJSON_AddStringToObject(e, "status", c[i].ok ? "ok" : "missing");
			cJSON_AddBoolToObject(e, "hard", c[i].hard);
			cJSON_AddStringToObject(e, "detail", c[i].detail);
			cJSON_AddItemToArray(arr, e);
		}
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", "sandbox");
		cJSON_AddStringToObject(e, "status", sandbox_ok ? "ok" : "missing");
		cJSON_AddBoolToObject(e, "hard", false);
		cJSON_AddStringToObject(e, "detail", sandbox_ok ? "namespaces, overlay, cgroups: dry-runs can run"
								: serr.msg);
		cJSON_AddItemToArray(arr, e);
		cJSON_AddBoolToObject(o, "host_signals_ebpf", !hard);
		cJSON_AddBoolToObject(o, "sandbox", sandbox_ok);
		txt = og_json_print(o, NULL);
		cJSON_Delete(o);
		if (!txt)
			return cli_fail(1, "doctor: out of memory");
		puts(txt);
		free(txt);
	} else {
		for (i = 0; i < n; i++)
			printf("%-27s %-7s %s\n", c[i].name, c[i].ok ? "ok" : "missing", c[i].detail);
		printf("%-27s %-7s %s\n", "sandbox", sandbox_ok ? "ok" : "missing",
		       sandbox_ok ? "namespaces, overlay, cgroups: dry-runs can run" : serr.msg);
		printf("\nhost signals: %s\n", hard ? "eBPF collectors cannot run here (see the hard failures "
		       "above); runs fall back to /proc sampling, reduced fidelity" : "eBPF collectors usable");
	}
	return hard ? 1 : 0;
}
