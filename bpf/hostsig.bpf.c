// SPDX-License-Identifier: GPL-2.0
/*
 * hostsig.bpf.c: the host-signal collectors for root-cause analysis
 * (engine/trace/hostsig.c loads them, one window at a time).
 *
 * Every hook is a classic tracepoint or tp_btf: this kernel family has no
 * kprobes and refuses fentry (/work/shared/design/sandbox-ebpf.md, 2.6).
 * Everything is counted in hash maps that user space reads once at the end
 * of the window, so no event stream can overflow or be lost; a full map only
 * stops new keys (counted in `drops`).
 *
 *   tcp/tcp_retransmit_skb     retransmits by remote address:port
 *   sock/inet_sock_set_state   SYN_SENT -> ESTABLISHED latency (log2 us) and
 *                              SYN_SENT -> CLOSE failures, by destination
 *   oom/mark_victim            victim pid, comm, anon rss, memory cgroup name
 *   sched/sched_process_exit   non-zero exits and deaths by signal, by comm
 *   tp_btf sched_wakeup[_new], sched_switch
 *                              run-queue latency histogram (attached only for
 *                              a bounded part of the window: the busiest hook)
 *   syscalls/sys_exit_*        error returns of a few common syscalls, by
 *                              process, syscall and errno (never raw_syscalls)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "hostsig.h"

char LICENSE[] SEC("license") = "GPL";

/* 0 = the whole host; else only this cgroup v2 id counts: its tasks for
 * exits and syscall errors, its sockets for retransmits and handshakes
 * (OOM kills stay host-wide: the victim is rarely the task that hit the
 * limit). Set before load. */
const volatile __u64 filter_cgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HS_MAX_KEYS);
	__type(key, struct hs_addr_key);
	__type(value, __u64);
} retrans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HS_MAX_KEYS);
	__type(key, struct hs_addr_key);
	__type(value, struct hs_conn_val);
} conns SEC(".maps");

/* socket -> SYN_SENT time and destination, until the handshake ends */
struct conn_start {
	__u64 ts;
	struct hs_addr_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct conn_start);
} conn_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HS_MAX_OOM);
	__type(key, __u32);
	__type(value, struct hs_oom_val);
} ooms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HS_MAX_KEYS);
	__type(key, struct hs_exit_key);
	__type(value, struct hs_exit_val);
} exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HS_MAX_SYS_KEYS);	/* one key per process and errno: busy hosts have many */
	__type(key, struct hs_sys_key);
	__type(value, __u64);
} syserrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} runq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HS_HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} runq_hist SEC(".maps");

/* [0] keys not stored because a map was full */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 z = 0;
	__u64 *d = bpf_map_lookup_elem(&drops, &z);

	if (d)
		__sync_fetch_and_add(d, 1);
}

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 s = 0;

	/* bounded loop the verifier accepts on any 5.x kernel */
	for (int i = 0; i < HS_HIST_SLOTS - 1; i++) {
		if (v <= 1)
			break;
		v >>= 1;
		s++;
	}
	return s;
}

static __always_inline bool in_scope(void)
{
	return filter_cgid == 0 || bpf_get_current_cgroup_id() == filter_cgid;
}

/* a socket belongs to the cgroup its creator was in (sk_cgrp_data): the way
 * to scope retransmits and handshakes, which run in softirq context where
 * the current task is anyone */
static __always_inline bool sk_in_scope(const void *skaddr)
{
	struct sock *sk = (struct sock *)skaddr;
	struct cgroup *cg;

	if (filter_cgid == 0 || !bpf_core_field_exists(sk->sk_cgrp_data))
		return true;
	cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	return cg && BPF_CORE_READ(cg, kn, id) == filter_cgid;
}

static __always_inline void addr_key(struct hs_addr_key *k, __u16 family, const __u8 *v4, const __u8 *v6,
				     __u16 dport)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = family;
	k->port = dport;
	if (family == 2 /* AF_INET */)
		bpf_probe_read_kernel(k->addr, 4, v4);
	else
		bpf_probe_read_kernel(k->addr, 16, v6);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int hs_tcp_retransmit(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	struct hs_addr_key k;
	__u64 one = 1, *v;

	if (!sk_in_scope(ctx->skaddr))
		return 0;
	addr_key(&k, ctx->family, ctx->daddr, ctx->daddr_v6, ctx->dport);
	v = bpf_map_lookup_elem(&retrans, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else if (bpf_map_update_elem(&retrans, &k, &one, BPF_NOEXIST) != 0)
		count_drop();
	return 0;
}

#define HS_TCP_ESTABLISHED 1
#define HS_TCP_SYN_SENT 2
#define HS_TCP_CLOSE 7

SEC("tracepoint/sock/inet_sock_set_state")
int hs_sock_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	struct conn_start *st;
	struct hs_conn_val *cv, zero = {};

	if (ctx->protocol != 6 /* IPPROTO_TCP */)
		return 0;
	if (ctx->newstate == HS_TCP_SYN_SENT) {
		struct conn_start s = { .ts = bpf_ktime_get_ns() };

		if (!sk_in_scope(ctx->skaddr))
			return 0;
		addr_key(&s.key, ctx->family, ctx->daddr, ctx->daddr_v6, ctx->dport);
		if (bpf_map_update_elem(&conn_start, &sk, &s, BPF_ANY) != 0)
			count_drop();
		return 0;
	}
	if (ctx->oldstate != HS_TCP_SYN_SENT)
		return 0;
	st = bpf_map_lookup_elem(&conn_start, &sk);
	if (!st)
		return 0;
	cv = bpf_map_lookup_elem(&conns, &st->key);
	if (!cv) {
		if (bpf_map_update_elem(&conns, &st->key, &zero, BPF_NOEXIST) != 0)
			count_drop();
		cv = bpf_map_lookup_elem(&conns, &st->key);
	}
	if (cv) {
		if (ctx->newstate == HS_TCP_ESTABLISHED) {
			__u32 slot = log2_slot((bpf_ktime_get_ns() - st->ts) / 1000);

			__sync_fetch_and_add(&cv->n, 1);
			if (slot < HS_HIST_SLOTS)
				__sync_fetch_and_add(&cv->hist[slot], 1);
		} else {
			__sync_fetch_and_add(&cv->failed, 1);
		}
	}
	bpf_map_delete_elem(&conn_start, &sk);
	return 0;
}

SEC("tracepoint/oom/mark_victim")
int hs_oom_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct hs_oom_val v = {};
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 pid = ctx->pid;
	int memcg = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	const char *name;

	v.ts = bpf_ktime_get_ns();
	v.pid = pid;
	v.cgid = bpf_get_current_cgroup_id();
	if (bpf_core_field_exists(ctx->anon_rss))
		v.anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);

		bpf_probe_read_kernel_str(v.comm, sizeof(v.comm), (void *)ctx + (loc & 0xffff));
	}
	/* The task that hit the limit runs this hook; in a memory cgroup OOM
	 * the victim is chosen inside that same memory cgroup, so its name
	 * names the victim's group (v1 or v2, whichever has the controller). */
	name = BPF_CORE_READ(task, cgroups, subsys[memcg], cgroup, kn, name);
	if (name)
		bpf_probe_read_kernel_str(v.cgroup, sizeof(v.cgroup), name);
	if (bpf_map_update_elem(&ooms, &pid, &v, BPF_ANY) != 0)
		count_drop();
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int hs_process_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_exit_key k = {};
	struct hs_exit_val *v, nv = {};
	int code;

	/* one event per process, not per thread */
	if ((__u32)id != (__u32)(id >> 32) || !in_scope())
		return 0;
	code = BPF_CORE_READ(task, exit_code);
	if (code == 0)
		return 0;
	k.code = code;
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = bpf_map_lookup_elem(&exits, &k);
	if (!v) {
		nv.first_ts = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&exits, &k, &nv, BPF_NOEXIST) != 0)
			count_drop();
		v = bpf_map_lookup_elem(&exits, &k);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->count, 1);
	v->last_ts = bpf_ktime_get_ns();
	v->last_pid = (__u32)(id >> 32);
	v->cgid = bpf_get_current_cgroup_id();
	return 0;
}

/* ---- run-queue latency (tp_btf: the task pointer comes with the event) ---- */

static __always_inline void runq_enqueue(struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u64 ts;

	if (!pid)
		return;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&runq_start, &pid, &ts, BPF_ANY);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(hs_sched_wakeup, struct task_struct *p)
{
	runq_enqueue(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(hs_sched_wakeup_new, struct task_struct *p)
{
	runq_enqueue(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(hs_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 pid;
	__u64 *tsp, *slot;
	__u32 s;

	/* a preempted task goes straight back on the run queue */
	if (preempt)
		runq_enqueue(prev);
	pid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&runq_start, &pid);
	if (!tsp)
		return 0;
	s = log2_slot((bpf_ktime_get_ns() - *tsp) / 1000);
	slot = bpf_map_lookup_elem(&runq_hist, &s);
	if (slot)
		__sync_fetch_and_add(slot, 1);
	bpf_map_delete_elem(&runq_start, &pid);
	return 0;
}

/* ---- syscall errors: per-syscall exit tracepoints only ---- */

/* the layout of every syscalls/sys_exit_* event (format file: __syscall_nr
 * at 8, ret at 16) */
struct hs_sys_exit_ctx {
	__u64 common;
	int nr;
	int pad;
	long ret;
};

static __always_inline int sys_error(struct hs_sys_exit_ctx *ctx, __u8 which)
{
	struct hs_sys_key k = {};
	__u64 one = 1, *v;
	long ret = ctx->ret;

	/* -EAGAIN on non-blocking sockets is how they work, not an error */
	if (ret >= 0 || ret < -4095 || ret == -11 || !in_scope())
		return 0;
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	k.sys = which;
	k.err = (__u16)-ret;
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = bpf_map_lookup_elem(&syserrs, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else if (bpf_map_update_elem(&syserrs, &k, &one, BPF_NOEXIST) != 0)
		count_drop();
	return 0;
}

#define HS_SYS(name, idx) \
	SEC("tracepoint/syscalls/sys_exit_" #name) \
	int hs_exit_##name(struct hs_sys_exit_ctx *ctx) { return sys_error(ctx, idx); }

HS_SYS(openat, HS_SYS_OPENAT)
HS_SYS(connect, HS_SYS_CONNECT)
HS_SYS(accept4, HS_SYS_ACCEPT4)
HS_SYS(read, HS_SYS_READ)
HS_SYS(write, HS_SYS_WRITE)
HS_SYS(sendto, HS_SYS_SENDTO)
HS_SYS(recvfrom, HS_SYS_RECVFROM)
HS_SYS(execve, HS_SYS_EXECVE)
