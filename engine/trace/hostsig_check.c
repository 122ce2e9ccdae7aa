/*
 * hostsig_check.c: see hostsig_check.h. The program-type checks load and
 * attach a real two-instruction program instead of reading config or the
 * lockdown mode: on this kernel family fentry and LSM fail with EPERM under
 * lockdown=integrity, which no setting predicts.
 */
#include "hostsig_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../core/err.h"
#include "tracefs.h"

#define CGROUP2_MAGIC 0x63677270UL	/* CGROUP2_SUPER_MAGIC, linux/magic.h */

#ifndef OG_NO_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#endif

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

static void put(struct og_hostsig_check *c, const char *name, bool ok, bool hard, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void put(struct og_hostsig_check *c, const char *name, bool ok, bool hard, const char *fmt, ...)
{
	va_list ap;

	c->name = name;
	c->ok = ok;
	c->hard = hard;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

static bool read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f)
		return false;
	if (!fgets(buf, (int)n, f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = 0;
	return true;
}

static uint64_t cap_eff(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	uint64_t v = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7)) {
			v = strtoull(line + 7, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}

static bool privileged(uint64_t caps)
{
	return (caps >> CAP_SYS_ADMIN_BIT & 1) || ((caps >> CAP_BPF_BIT & 1) && (caps >> CAP_PERFMON_BIT & 1));
}

bool og_hostsig_unusable(char *why, size_t n)
{
	uint64_t caps;

#ifdef OG_NO_BPF
	snprintf(why, n, "eBPF off: opsgraph was built without eBPF (BPF=0: the build host had no "
			 "/sys/kernel/btf/vmlinux); rebuild on a host with BTF");
	return true;
#endif
	caps = cap_eff();
	if (!privileged(caps)) {
		snprintf(why, n, "eBPF off: process lacks CAP_BPF and CAP_PERFMON (CapEff=%016llx, euid %u); run as "
				 "root or grant them", (unsigned long long)caps, (unsigned)geteuid());
		return true;
	}
	if (access(BTF_PATH, R_OK) != 0) {
		snprintf(why, n, "eBPF off: kernel has no BTF (%s: %s; CONFIG_DEBUG_INFO_BTF); the CO-RE programs "
				 "cannot relocate", BTF_PATH, strerror(errno));
		return true;
	}
	return false;
}

static void check_lockdown(struct og_hostsig_check *c)
{
	char buf[128];
	const char *dir = "/sys/kernel/security";
	struct statfs sf;

	/* securityfs is where the mode is; hosts without systemd may not mount it */
	if (statfs(dir, &sf) == 0 && (unsigned long)sf.f_type != 0x73636673UL)
		mount("securityfs", dir, "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (!read_line("/sys/kernel/security/lockdown", buf, sizeof(buf))) {
		put(c, "lockdown", true, false, "mode unknown (/sys/kernel/security/lockdown: %s); the program-type "
		    "probes below are what counts", strerror(errno));
		return;
	}
	if (strstr(buf, "[confidentiality]"))
		put(c, "lockdown", false, true, "%s: confidentiality blocks reading kernel memory from BPF; boot "
		    "with lockdown=integrity or none", buf);
	else
		put(c, "lockdown", true, false, "%s%s", buf, strstr(buf, "[integrity]") ?
		    " (integrity: bpf_probe_write_user blocked, unused here; fentry/LSM may be refused, see below)" : "");
}

static void check_cgroup2(struct og_hostsig_check *c)
{
	char line[1024], path[512] = "";
	FILE *f = fopen("/proc/self/mountinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 ");

		if (sep) {
			/* field 5 is the mount point */
			if (sscanf(line, "%*s %*s %*s %*s %511s", path) == 1)
				break;
		}
	}
	if (f)
		fclose(f);
	if (path[0])
		put(c, "cgroup2", true, false, "mounted at %s (probe --cgroup scopes exits, syscall errors and TCP to a group)", path);
	else
		put(c, "cgroup2", false, false, "no cgroup2 mount in /proc/self/mountinfo: collectors run host-wide "
		    "only (mount -t cgroup2 none /sys/fs/cgroup/unified to scope them)");
}

int og_hostsig_cgroup_id(const char *dir, uint64_t *id, struct og_err *err)
{
	struct statfs sf;
	struct stat st;

	if (stat(dir, &st) != 0 || statfs(dir, &sf) != 0)
		return og_err_set(err, -OG_EINVAL, "'%s' is not a cgroup v2 directory (%s)", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || (unsigned long)sf.f_type != CGROUP2_MAGIC)
		return og_err_set(err, -OG_EINVAL, "'%s' is not a cgroup v2 directory (%s)", dir,
				  !S_ISDIR(st.st_mode) ? "not a directory" : "not on a cgroup2 mount");
	*id = (uint64_t)st.st_ino;
	return 0;
}

#ifndef OG_NO_BPF

static const struct bpf_insn ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static const char *load_fail(int e, uint64_t caps)
{
	if (e == EPERM && privileged(caps))
		return "EPERM although privileged: refused by lockdown, seccomp or an LSM";
	return strerror(e);
}

static int load(enum bpf_prog_type t, enum bpf_attach_type at, int btf_id)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = at, .attach_btf_id = (__u32)btf_id);

	return bpf_prog_load(t, NULL, "GPL", ret0, 2, &o);
}

static int tracepoint_id(const char *cat, const char *name)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", OG_TRACEFS_PATH, cat, name);
	if (!read_line(path, buf, sizeof(buf)))
		return -1;
	{
		long v = strtol(buf, NULL, 10);

		return v > 0 && v < INT32_MAX ? (int)v : -1;
	}
}

static void probe_tracepoint(struct og_hostsig_check *c, uint64_t caps)
{
	struct perf_event_attr a = { 0 };
	int fd, pfd, id;

	fd = load(BPF_PROG_TYPE_TRACEPOINT, 0, 0);
	if (fd < 0) {
		put(c, "prog_type.tracepoint", false, true, "load failed: %s", load_fail(errno, caps));
		return;
	}
	id = tracepoint_id("sched", "sched_process_exit");
	if (id < 0) {
		put(c, "prog_type.tracepoint", false, true, "loads, but %s/events/sched/sched_process_exit/id is "
		    "unreadable (tracefs): classic tracepoints cannot attach", OG_TRACEFS_PATH);
		close(fd);
		return;
	}
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = (uint64_t)id;
	a.sample_period = 1;
	pfd = (int)syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0 || ioctl(pfd, PERF_EVENT_IOC_SET_BPF, fd) != 0)
		put(c, "prog_type.tracepoint", false, true, "loads, but attaching to sched/sched_process_exit "
		    "failed: %s", strerror(errno));
	else
		put(c, "prog_type.tracepoint", true, false, "load and attach ok (sched/sched_process_exit)");
	if (pfd >= 0)
		close(pfd);
	close(fd);
}

static void probe_btf_attach(struct og_hostsig_check *c, const char *name, const char *target,
			     enum bpf_attach_type at, bool hard, uint64_t caps)
{
	int id = libbpf_find_vmlinux_btf_id(target, at), fd, lfd;

	if (id < 0) {
		put(c, name, false, hard, "%s not found in the kernel's BTF (%s)", target, strerror(-id));
		return;
	}
	fd = load(BPF_PROG_TYPE_TRACING, at, id);
	if (fd < 0) {
		put(c, name, false, hard, "load failed on %s: %s", target, load_fail(errno, caps));
		return;
	}
	lfd = bpf_raw_tracepoint_open(NULL, fd);
	if (lfd < 0)
		put(c, name, false, hard, "loads, but attaching to %s failed: %s", target, strerror(errno));
	else
		put(c, name, true, false, "load and attach ok (%s)", target);
	if (lfd >= 0)
		close(lfd);
	close(fd);
}

static void probe_raw_tp(struct og_hostsig_check *c, uint64_t caps)
{
	int fd = load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0), lfd;

	if (fd < 0) {
		put(c, "prog_type.raw_tp", false, false, "load failed: %s", load_fail(errno, caps));
		return;
	}
	lfd = bpf_raw_tracepoint_open("sched_switch", fd);
	if (lfd < 0)
		put(c, "prog_type.raw_tp", false, false, "loads, but attaching to sched_switch failed: %s",
		    strerror(errno));
	else
		put(c, "prog_type.raw_tp", true, false, "load and attach ok (sched_switch)");
	if (lfd >= 0)
		close(lfd);
	close(fd);
}

static void probe_kprobe(struct og_hostsig_check *c, uint64_t caps)
{
	int fd = load(BPF_PROG_TYPE_KPROBE, 0, 0);

	if (fd < 0) {
		put(c, "prog_type.kprobe", false, false, "load failed: %s", load_fail(errno, caps));
		return;
	}
	close(fd);
	if (access("/sys/bus/event_source/devices/kprobe/type", R_OK) != 0)
		put(c, "prog_type.kprobe", false, false, "loads, but the kernel has no kprobe PMU "
		    "(/sys/bus/event_source/devices/kprobe: CONFIG_KPROBES off): attach would fail with ENOENT; "
		    "the collectors use tracepoints instead");
	else
		put(c, "prog_type.kprobe", true, false, "loads; kprobe PMU present");
}

#endif

size_t og_hostsig_checks(struct og_hostsig_check *c, size_t max)
{
	struct og_hostsig_check all[OG_HOSTSIG_NCHECKS];
	struct og_err terr = { 0 };
	uint64_t caps = cap_eff();
	char buf[64];
	size_t n = 0, i;

	memset(all, 0, sizeof(all));
#ifdef OG_NO_BPF
	put(&all[n++], "build", false, true, "built without eBPF (BPF=0: the build host had no "
	    "/sys/kernel/btf/vmlinux); rebuild on a host with BTF");
#else
	put(&all[n++], "build", true, false, "built with eBPF (libbpf %s)", libbpf_version_string());
#endif
	if (privileged(caps))
		put(&all[n++], "privilege", true, false, "euid %u, CapEff=%016llx (CAP_SYS_ADMIN or CAP_BPF+CAP_PERFMON)",
		    (unsigned)geteuid(), (unsigned long long)caps);
	else
		put(&all[n++], "privilege", false, true, "process lacks CAP_BPF and CAP_PERFMON (CapEff=%016llx, euid "
		    "%u); run as root or grant them", (unsigned long long)caps, (unsigned)geteuid());
	if (access(BTF_PATH, R_OK) == 0)
		put(&all[n++], "btf", true, false, "%s present (CO-RE relocations work)", BTF_PATH);
	else
		put(&all[n++], "btf", false, true, "kernel has no BTF (%s: %s; CONFIG_DEBUG_INFO_BTF)", BTF_PATH,
		    strerror(errno));
	check_lockdown(&all[n++]);
	if (og_tracefs_ensure(NULL, &terr) == 0)
		put(&all[n++], "tracefs", true, false, "mounted at %s", OG_TRACEFS_PATH);
	else
		put(&all[n++], "tracefs", false, false, "%s", terr.msg);
	check_cgroup2(&all[n++]);
	if (read_line("/proc/sys/kernel/unprivileged_bpf_disabled", buf, sizeof(buf)))
		put(&all[n++], "unprivileged_bpf_disabled", true, false, "%s%s", buf,
		    buf[0] == '0' ? " (any user may load some programs)" : " (only CAP_BPF/CAP_SYS_ADMIN may use bpf())");
	else
		put(&all[n++], "unprivileged_bpf_disabled", true, false, "unreadable (%s)", strerror(errno));
#ifdef OG_NO_BPF
	put(&all[n++], "prog_types", false, true, "not probed: built without eBPF");
#else
	if (privileged(caps)) {
		libbpf_print_fn_t old = libbpf_set_print(NULL);

		probe_tracepoint(&all[n++], caps);
		probe_btf_attach(&all[n++], "prog_type.tp_btf", "sched_switch", BPF_TRACE_RAW_TP, false, caps);
		probe_raw_tp(&all[n++], caps);
		probe_kprobe(&all[n++], caps);
		probe_btf_attach(&all[n++], "prog_type.fentry", "do_unlinkat", BPF_TRACE_FENTRY, false, caps);
		if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1)
			put(&all[n++], "ringbuf", true, false, "BPF_MAP_TYPE_RINGBUF supported");
		else
			put(&all[n++], "ringbuf", false, false, "BPF_MAP_TYPE_RINGBUF not supported (kernel < 5.8?); "
			    "the host collectors do not need it");
		libbpf_set_print(old);
	} else {
		put(&all[n++], "prog_types", false, true, "not probed: not privileged");
	}
#endif
	for (i = 0; i < n && i < max; i++)
		c[i] = all[i];
	return i;
}
