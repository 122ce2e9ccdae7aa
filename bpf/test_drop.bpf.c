// SPDX-License-Identifier: GPL-2.0
/*
 * test_drop.bpf.c: a lossy link for tests/cli/hostsig.sh. This kernel has
 * no netem, so a tc classifier (clsact egress, direct action) drops about
 * DROP_PCT % of the IPv4 packets leaving a veth, at random. Not used by
 * opsgraph itself.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define DROP_PCT 30
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int test_drop(struct __sk_buff *skb)
{
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	return bpf_get_prandom_u32() % 100 < DROP_PCT ? TC_ACT_SHOT : TC_ACT_OK;
}
