/*
 * hostsig_proc.c: the /proc counters every host-signal window samples at
 * its start and end: TCP RetransSegs, OutSegs, AttemptFails, EstabResets
 * (/proc/net/snmp), oom_kill (/proc/vmstat) and CPU pressure
 * (/proc/pressure/cpu). They need no privilege and no eBPF, so they are the
 * reduced-fidelity fallback of design section 5, and a host-wide
 * cross-check of the per-destination eBPF counts otherwise.
 */
#include "hostsig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* /proc/net/snmp has a header line "Tcp: Name1 Name2 ..." followed by a
 * value line "Tcp: v1 v2 ..."; fields are looked up by name, as their order
 * differs between kernels. */
static bool snmp_read(struct og_hostsig_proc *p)
{
	char head[1024], vals[1024];
	FILE *f = fopen("/proc/net/snmp", "r");
	bool ok = false;

	if (!f)
		return false;
	while (fgets(head, sizeof(head), f)) {
		char *hs, *vs, *h, *v;

		if (strncmp(head, "Tcp:", 4) != 0)
			continue;
		if (!fgets(vals, sizeof(vals), f))
			break;
		h = strtok_r(head + 4, " \n", &hs);
		v = strtok_r(vals + 4, " \n", &vs);
		while (h && v) {
			uint64_t x = strtoull(v, NULL, 10);

			if (!strcmp(h, "RetransSegs"))
				p->retrans_segs = x;
			else if (!strcmp(h, "OutSegs"))
				p->out_segs = x;
			else if (!strcmp(h, "AttemptFails"))
				p->attempt_fails = x;
			else if (!strcmp(h, "EstabResets"))
				p->estab_resets = x;
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		ok = true;
		break;
	}
	fclose(f);
	return ok;
}

static bool vmstat_read(struct og_hostsig_proc *p)
{
	char line[256];
	FILE *f = fopen("/proc/vmstat", "r");
	bool ok = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "oom_kill ", 9)) {
			p->oom_kill = strtoull(line + 9, NULL, 10);
			ok = true;
			break;
		}
	}
	fclose(f);
	return ok;
}

static bool psi_read(struct og_hostsig_proc *p)
{
	char line[256];
	FILE *f = fopen("/proc/pressure/cpu", "r");
	bool ok = false;

	if (!f)
		return false;
	if (fgets(line, sizeof(line), f) && sscanf(line, "some avg10=%lf", &p->psi_cpu_some_avg10) == 1)
		ok = true;
	fclose(f);
	return ok;
}

void og_hostsig_proc_sample(struct og_hostsig_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->have_snmp = snmp_read(p);
	p->have_vmstat = vmstat_read(p);
	p->have_psi = psi_read(p);
}

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a >= b ? a - b : 0;
}

void og_hostsig_proc_delta(const struct og_hostsig_proc *start, const struct og_hostsig_proc *end,
			   struct og_hostsig_proc *d)
{
	memset(d, 0, sizeof(*d));
	d->have_snmp = start->have_snmp && end->have_snmp;
	d->have_vmstat = start->have_vmstat && end->have_vmstat;
	d->have_psi = end->have_psi;
	d->retrans_segs = sub(end->retrans_segs, start->retrans_segs);
	d->out_segs = sub(end->out_segs, start->out_segs);
	d->attempt_fails = sub(end->attempt_fails, start->attempt_fails);
	d->estab_resets = sub(end->estab_resets, start->estab_resets);
	d->oom_kill = sub(end->oom_kill, start->oom_kill);
	d->psi_cpu_some_avg10 = end->psi_cpu_some_avg10;
}
