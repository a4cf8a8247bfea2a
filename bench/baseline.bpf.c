// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The "parse + one lookup" baselines: the least any flow-keyed device must
 * do per packet.  The device's own parser (bpf/parse.h) and its own
 * connection tables (tlshim_conns, tlshim_tx_conns for TC; shared by pin with the loaded device), so
 * the difference to the real programs is exactly the device's logic.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "tlshim.h"
#include "maps.h"
#include "parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Keeps the lookup from being optimised away and lets the harness check
 * that the hit/miss case it meant is the one it measured. */
static __always_inline int lookup(struct tlshim_pkt *pkt, __u8 dir)
{
	pkt->flow.dir = dir;
	if (dir == TLSHIM_DIR_TX)	/* the table tlshim_tx runs on */
		return bpf_map_lookup_elem(&tlshim_tx_conns, &pkt->flow) != NULL;
	return bpf_map_lookup_elem(&tlshim_conns, &pkt->flow) != NULL;
}

/* XDP_PASS (2) on a hit, XDP_DROP (1) on a miss: the verdict is the
 * harness's proof of which path ran; test_run drops nothing real. */
SEC("xdp")
int bench_parse_lookup_xdp(struct xdp_md *ctx)
{
	struct tlshim_pkt pkt = {};

	if (tlshim_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			 bpf_xdp_get_buff_len(ctx), &pkt) != TLSHIM_PARSE_TCP)
		return XDP_ABORTED;
	return lookup(&pkt, TLSHIM_DIR_RX) ? XDP_PASS : XDP_DROP;
}

/* TC_ACT_OK (0) on a hit, TC_ACT_SHOT (2) on a miss. */
SEC("tc")
int bench_parse_lookup_tc(struct __sk_buff *skb)
{
	struct tlshim_pkt pkt = {};

	if (tlshim_parse((void *)(long)skb->data, (void *)(long)skb->data_end,
			 skb->len, &pkt) != TLSHIM_PARSE_TCP)
		return TC_ACT_UNSPEC;
	return lookup(&pkt, TLSHIM_DIR_TX) ? TC_ACT_OK : TC_ACT_SHOT;
}
