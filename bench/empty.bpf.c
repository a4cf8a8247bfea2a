// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The "empty program" baselines: nothing but the verdict.  No maps, so
 * `ip link ... xdp obj` or the harness can attach it anywhere without
 * pinning anything (the end-to-end baseline uses it on a real veth).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int bench_empty_tc(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}
