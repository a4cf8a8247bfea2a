// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim: a TLS-offload NIC modelled in BPF.  Entry points only:
 *   SEC("xdp")         tlshim_rx       the device's receive side
 *   SEC("classifier")  tlshim_rx_mark  tc ingress: RX descriptor -> skb->mark bit
 *   SEC("tc")          tlshim_tx       tc egress: the device's transmit side
 * One object, so `ip link ... xdp obj` and `tc filter ... obj` can load it
 * piecewise and still share every map (bpf/maps.h).  tc(8) picks a program
 * by section name only, so the two sched_cls programs need distinct ones;
 * "tc" and "classifier" are the two libbpf 1.1 knows for sched_cls
 * ("classifier" is also tc's default section).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "tlshim.h"
#include "maps.h"
#include "parse.h"
#include "record.h"
#include "stream.h"
#include "tx.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

DEFINE_REC_WALK_STEP(rx_walk_step, bpf_xdp_load_bytes)

static __noinline int rx_attempt(struct xdp_md *ctx, struct tlshim_conn *conn,
				 const struct tlshim_pkt *pkt, struct seg_result *res)
{
	return stream_attempt(ctx, conn, pkt, res, rx_walk_step);
}

static __always_inline void rx_count(const struct seg_result *res)
{
	struct tlshim_counters *c = tlshim_counters();

	if (!c)
		return;
	if (res->verdict == TLSHIM_VERDICT_DECRYPTED) {
		c->rx_tls_decrypted_packets++;
		c->rx_tls_decrypted_bytes += res->bytes;
	} else if (res->reason != TLSHIM_PASS_NO_PAYLOAD) {
		c->rx_tls_passed_packets++;
		if (res->reason == TLSHIM_PASS_OLD)
			c->rx_tls_old_packets++;
	}
	c->rx_tls_records += res->headers;
	c->rx_tls_lost_sync += res->lost_sync;
	c->rx_tls_err += res->bad_header;
}

/* Write the RX descriptor in front of the packet; the packet bytes stay
 * as they came off the wire. */
static __always_inline void rx_write_meta(struct xdp_md *ctx,
					  const struct seg_result *res)
{
	struct tlshim_rx_meta *meta;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta))) {
		tlshim_count(rx_tls_no_meta, 1);
		return;
	}
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(meta + 1) > data)
		return;
	meta->magic = TLSHIM_META_MAGIC;
	meta->verdict = res->verdict;
	meta->reason = res->reason;
	meta->headers = res->headers;
	meta->rec_sn = res->rec_sn;
	meta->sync = res->sync;
}

SEC("xdp")
int tlshim_rx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct tlshim_pkt pkt = {};
	struct seg_result res = {};
	struct tlshim_conn *conn;
	int parsed, i;

	parsed = tlshim_parse(data, data_end, bpf_xdp_get_buff_len(ctx), &pkt);
	if (parsed != TLSHIM_PARSE_TCP) {
		if (parsed == TLSHIM_PARSE_MALFORMED)
			tlshim_count(rx_tls_unparsed, 1);
		return XDP_PASS;
	}
	tx_ack_seen(&pkt);	/* the peer's ACKs free the TX record log */
	pkt.flow.dir = TLSHIM_DIR_RX;
	conn = bpf_map_lookup_elem(&tlshim_conns, &pkt.flow);
	if (!conn)
		return XDP_PASS;

	for (i = 0; i < TLSHIM_COMMIT_ATTEMPTS; i++) {
		if (rx_attempt(ctx, conn, &pkt, &res) == ATTEMPT_DONE)
			break;
		tlshim_count(rx_tls_state_retry, 1);
	}
	if (i == TLSHIM_COMMIT_ATTEMPTS) {
		__builtin_memset(&res, 0, sizeof(res));
		res.verdict = TLSHIM_VERDICT_PASSED;
		res.reason = TLSHIM_PASS_CONTENDED;
	}
	rx_count(&res);
	rx_write_meta(ctx, &res);
	return XDP_PASS;
}

SEC("classifier")
int tlshim_rx_mark(struct __sk_buff *skb)
{
	struct tlshim_rx_meta *meta = (void *)(long)skb->data_meta;
	void *data = (void *)(long)skb->data;
	const struct tlshim_config *cfg;
	__u32 mark = TLSHIM_DEFAULT_MARK;

	if ((void *)(meta + 1) > data)
		return TC_ACT_OK;
	if (meta->magic != TLSHIM_META_MAGIC ||
	    meta->verdict != TLSHIM_VERDICT_DECRYPTED)
		return TC_ACT_OK;
	cfg = tlshim_config_get();
	if (cfg && cfg->initialized)
		mark = cfg->decrypted_mark;
	skb->mark |= mark;
	return TC_ACT_OK;
}

SEC("tc")
int tlshim_tx(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct tlshim_pkt pkt = {};

	/* skb->len covers a whole GSO super-packet (up to 64 KiB), most of it
	 * beyond the linear data: the walk reads it with bpf_skb_load_bytes. */
	if (tlshim_parse(data, data_end, skb->len, &pkt) != TLSHIM_PARSE_TCP)
		return TC_ACT_OK;
	return tx_segment(skb, &pkt);
}
