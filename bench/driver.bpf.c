// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Drivers that let BPF_PROG_RUN's repeat loop measure the device's stateful
 * paths.  repeat=N runs one program N times on one unchanged context, which
 * for a stateful device means: the first run is the case to measure, the
 * other N-1 are old data.  A driver runs first, puts the world back the way
 * the case needs it, and tail-calls the program under test (slot
 * BENCH_TARGET_SLOT of its prog array) on the same context:
 *
 *   bench_reset_rx / bench_reset_tx   restore one flow's stream state
 *                                     (RX: tlshim_conns; TX: tlshim_tx_conns)
 *   bench_rotate_rx                   rewrite the frame into the next in-order
 *                                     segment of the next of N flows
 *
 * The harness measures each driver twice, tail-calling the real program and
 * tail-calling an empty one; the difference is the real program's own work.
 *
 * The XDP drivers also give back the metadata area: test_run does not reset
 * the xdp_buff between repeats, so without this the device's
 * bpf_xdp_adjust_meta(-16) would run out of headroom after a dozen runs and
 * every later run would take the cheaper "no room for the descriptor" path.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tlshim.h"
#include "maps.h"
#include "bench.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_rx_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_tx_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_reset);
} bench_reset_rx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_reset_tx);
} bench_reset_tx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_rotate);
} bench_rotate SEC(".maps");

/* Give back whatever metadata area the previous run claimed. */
static __always_inline void xdp_meta_restore(struct xdp_md *ctx)
{
	long meta = ctx->data_meta, data = ctx->data;

	if (meta < data)
		bpf_xdp_adjust_meta(ctx, (int)(data - meta));
}

/* The same assignment the device's commit does, under the same lock. */
static __always_inline void flow_reset(void *reset_map)
{
	const struct bench_reset *r;
	struct tlshim_conn *conn;
	__u32 zero = 0;

	r = bpf_map_lookup_elem(reset_map, &zero);
	if (!r)
		return;
	conn = bpf_map_lookup_elem(&tlshim_conns, &r->flow);
	if (!conn)
		return;
	bpf_spin_lock(&conn->lock);
	conn->st = r->st;
	conn->generation++;
	bpf_spin_unlock(&conn->lock);
}

/* The TX device state (tlshim_tx_conns), under the TX commit's lock. */
static __always_inline void tx_flow_reset(void)
{
	const struct bench_reset_tx *r;
	struct tlshim_tx_conn *conn;
	__u32 zero = 0;

	r = bpf_map_lookup_elem(&bench_reset_tx, &zero);
	if (!r)
		return;
	conn = bpf_map_lookup_elem(&tlshim_tx_conns, &r->flow);
	if (!conn)
		return;
	bpf_spin_lock(&conn->lock);
	conn->expected_seq = r->expected_seq;
	conn->acked_seq = r->acked_seq;
	conn->parser = r->parser;
	conn->start_seq = r->start_seq;
	conn->marker_live = r->marker_live;
	conn->log_head = r->log_head;
	conn->log_tail = r->log_tail;
	conn->generation++;
	bpf_spin_unlock(&conn->lock);
}

/* A failed tail call returns XDP_ABORTED / TC_ACT_UNSPEC, which the harness
 * checks for: a driver that measured only itself must not pass unnoticed. */
SEC("xdp")
int bench_reset_rx_drv(struct xdp_md *ctx)
{
	xdp_meta_restore(ctx);
	flow_reset(&bench_reset_rx);
	bpf_tail_call(ctx, &bench_rx_target, BENCH_TARGET_SLOT);
	return XDP_ABORTED;
}

SEC("tc")
int bench_reset_tx_drv(struct __sk_buff *skb)
{
	tx_flow_reset();
	bpf_tail_call(skb, &bench_tx_target, BENCH_TARGET_SLOT);
	return TC_ACT_UNSPEC;
}

SEC("xdp")
int bench_rotate_rx_drv(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bench_rotate *rot;
	__u64 run, flow, k;
	__u32 zero = 0;

	xdp_meta_restore(ctx);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	rot = bpf_map_lookup_elem(&bench_rotate, &zero);
	if (!rot || !rot->nflows || data + BENCH_HDRS_LEN > data_end)
		return XDP_ABORTED;
	run = rot->runs++;	/* one CPU runs the harness: no atomics needed */
	flow = run % rot->nflows;
	k = run / rot->nflows;
	*(__be32 *)(data + BENCH_OFF_IP_SADDR) = bpf_htonl(rot->saddr_base + (__u32)flow);
	*(__be32 *)(data + BENCH_OFF_TCP_SEQ) = bpf_htonl(rot->base_seq + (__u32)k * rot->seg_len);
	bpf_tail_call(ctx, &bench_rx_target, BENCH_TARGET_SLOT);
	return XDP_ABORTED;
}
