/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hostsig.h: the map layouts bpf/hostsig.bpf.c fills and
 * engine/trace/hostsig.c reads, shared so the two cannot drift apart.
 */
#ifndef OG_BPF_HOSTSIG_H
#define OG_BPF_HOSTSIG_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HS_MAX_KEYS 1024
#define HS_MAX_SYS_KEYS 8192
#define HS_MAX_OOM 64
#define HS_HIST_SLOTS 32	/* log2 microsecond buckets: slot s holds [2^s, 2^(s+1)) us */
#define HS_COMM_LEN 16

enum hs_sys {
	HS_SYS_OPENAT,
	HS_SYS_CONNECT,
	HS_SYS_ACCEPT4,
	HS_SYS_READ,
	HS_SYS_WRITE,
	HS_SYS_SENDTO,
	HS_SYS_RECVFROM,
	HS_SYS_EXECVE,
	HS_SYS_COUNT
};

/* a remote endpoint: AF_INET uses addr[0..3] */
struct hs_addr_key {
	__u16 family;
	__u16 port;
	__u8 addr[16];
};

struct hs_conn_val {
	__u64 n;		/* handshakes completed */
	__u64 failed;		/* SYN_SENT -> CLOSE (refused, timed out) */
	__u64 hist[HS_HIST_SLOTS];
};

struct hs_oom_val {
	__u64 ts;		/* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u64 anon_rss_kb;
	__u64 cgid;		/* cgroup v2 id of the task that hit the limit */
	__u32 pid;
	char comm[HS_COMM_LEN];
	char cgroup[64];	/* name of that task's memory cgroup */
};

struct hs_exit_key {
	char comm[HS_COMM_LEN];
	__s32 code;		/* task->exit_code: status << 8 | signal */
};

struct hs_exit_val {
	__u64 count;
	__u64 first_ts;
	__u64 last_ts;
	__u64 cgid;
	__u32 last_pid;
};

struct hs_sys_key {
	__u32 tgid;
	__u16 err;
	__u8 sys;
	__u8 pad;
	char comm[HS_COMM_LEN];
};

#endif
