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
#include "scan.h"
#include "stream.h"
#include "tx.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

DEFINE_REC_WALK_STEP(rx_walk_step, bpf_xdp_load_bytes)
DEFINE_HEADER_SCAN_STEP(rx_scan_step, bpf_xdp_load_bytes)

/* The global functions stream.h calls (see struct walk_io there).  The
 * loop context lives on their own stack: bpf_loop wants a stack pointer,
 * and the callbacks need the context pointer, which the caller's memory
 * cannot carry into a global function. */
#define DEFINE_WALK(name, ctx_type, STEP)					\
__noinline int name(ctx_type *ctx, struct tlshim_stream *st, struct walk_io *io) \
{										\
	struct rec_walk w = {};							\
										\
	if (!st || !io)								\
		return 0;							\
	w.ctx = ctx;								\
	w.st = st;								\
	w.off = io->off;							\
	w.end = io->end;							\
	w.in_sync = io->in_sync;						\
	if (w.end > w.off)							\
		bpf_loop(w.end - w.off + 1, STEP, &w, 0);			\
	io->headers = w.headers;						\
	io->bad_header = w.bad_header;						\
	io->bad_header_seq = w.bad_header_seq;					\
	io->fault = w.fault;							\
	return 0;								\
}

#define DEFINE_SCAN(name, ctx_type, STEP)					\
__noinline int name(ctx_type *ctx, struct tlshim_stream *st, struct walk_io *io) \
{										\
	struct rec_walk w = {};							\
										\
	if (!st || !io)								\
		return 0;							\
	w.ctx = ctx;								\
	w.st = st;								\
	w.off = io->off;							\
	w.scan_from = io->scan_from;						\
	w.end = io->end;							\
	if (w.end > w.off)							\
		bpf_loop((w.end - w.off) / (SCAN_CHUNK - 1) + 2, STEP, &w, 0);	\
	io->found = w.found;							\
	io->found_off = w.found_off;						\
	io->fault = w.fault;							\
	return 0;								\
}

/* The transmit side walks with its own step (bpf/tx.h: it logs every
 * record that ends); stream.h's tx branches are never instantiated. */
DEFINE_WALK(tlshim_rx_walk, struct xdp_md, rx_walk_step)
DEFINE_SCAN(tlshim_rx_scan, struct xdp_md, rx_scan_step)

/* A segment's judgement, retried once if another CPU changed the flow's
 * state meanwhile (stream.h), called at most twice. */
struct seg_job {
	struct tlshim_conn *conn;
	struct tlshim_pkt pkt;
	struct seg_env env;
	struct seg_result res;
	__u32 done;
};

static __noinline int rx_attempt(struct seg_job *job)
{
	job->done = stream_attempt(job->conn, &job->pkt, &job->env, &job->res) ==
		    ATTEMPT_DONE;
	return job->done;
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
	c->rx_tls_lost_sync += SEG_HAS(res, SEG_LOST_SYNC);
	c->rx_tls_err += SEG_HAS(res, SEG_BAD_HEADER);
	c->rx_tls_resync_kept_sync += SEG_HAS(res, SEG_KEPT_SYNC);
	/* mlx5's names: req_pkt = packets that carried a request, start/end
	 * the two halves of an async one; req_skip = requests given up. */
	c->rx_tls_resync_req_pkt += SEG_HAS(res, SEG_REQUESTED | SEG_ASYNC_STARTED);
	c->rx_tls_resync_req_start += SEG_HAS(res, SEG_ASYNC_STARTED);
	c->rx_tls_resync_req_end += SEG_HAS(res, SEG_ASYNC_ENDED);
	c->rx_tls_resync_req_skip += SEG_HAS(res, SEG_ABANDONED);
	c->rx_tls_resync_req_lost += SEG_HAS(res, SEG_REQUEST_LOST);
	c->rx_tls_resync_res_ok += SEG_HAS(res, SEG_CONFIRMED);
	c->rx_tls_resync_res_skip += SEG_HAS(res, SEG_STALE);
}

/* Per-segment event for tracing, and for next-hint flows, whose kernel
 * half counts records that arrived fully encrypted. */
static __always_inline void rx_segment_event(const struct tlshim_pkt *pkt,
					     const struct seg_result *res, __u64 now,
					     __u8 policy)
{
	struct tlshim_event *ev = bpf_ringbuf_reserve(&tlshim_events, sizeof(*ev), 0);

	if (!ev) {
		tlshim_count(rx_tls_events_lost, 1);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = TLSHIM_EV_SEGMENT;
	ev->seq = pkt->seq;
	ev->len = pkt->payload_len;
	ev->flags = policy;
	ev->flow = pkt->flow;
	ev->ts_ns = now;
	ev->rec_sn = res->rec_sn;
	ev->verdict = res->verdict;
	ev->reason = res->reason;
	ev->sync = res->sync;
	ev->headers = res->headers;
	ev->resync = (SEG_HAS(res, SEG_REQUESTED | SEG_ASYNC_STARTED | SEG_ASYNC_ENDED) ?
		      TLSHIM_EVS_REQUEST : 0) |
		     (SEG_HAS(res, SEG_CONFIRMED) ? TLSHIM_EVS_CONFIRMED : 0);
	bpf_ringbuf_submit(ev, 0);
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
	const struct tlshim_config *cfg;
	struct seg_job job;
	int parsed;

	/* Only the packet fields before the lookup: zeroing the whole job
	 * would cost every packet of every flow. */
	__builtin_memset(&job.pkt, 0, sizeof(job.pkt));
	parsed = tlshim_parse(data, data_end, bpf_xdp_get_buff_len(ctx), &job.pkt);
	if (parsed != TLSHIM_PARSE_TCP) {
		if (parsed == TLSHIM_PARSE_MALFORMED)
			tlshim_count(rx_tls_unparsed, 1);
		return XDP_PASS;
	}
	tx_ack_seen(&job.pkt);	/* the peer's ACKs free the TX record log */
	job.pkt.flow.dir = TLSHIM_DIR_RX;
	job.conn = bpf_map_lookup_elem(&tlshim_conns, &job.pkt.flow);
	if (!job.conn)
		return XDP_PASS;

	__builtin_memset(&job.env, 0, sizeof(job.env));
	job.env.ctx = ctx;
	job.done = 0;
	if (!rx_attempt(&job)) {
		tlshim_count(rx_tls_state_retry, 1);
		rx_attempt(&job);
	}
	if (!job.done) {
		__builtin_memset(&job.res, 0, sizeof(job.res));
		job.res.verdict = TLSHIM_VERDICT_PASSED;
		job.res.reason = TLSHIM_PASS_CONTENDED;
	}
	rx_count(&job.res);
	cfg = tlshim_config_get();
	if (job.pkt.payload_len &&
	    ((cfg && cfg->initialized && (cfg->flags & TLSHIM_CFG_TRACE)) ||
	     job.conn->st.policy == TLSHIM_RESYNC_NEXT_HINT))
		rx_segment_event(&job.pkt, &job.res, job.env.now_ns ?: bpf_ktime_get_ns(),
				 job.conn->st.policy);
	rx_write_meta(ctx, &job.res);
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
		return TLSHIM_TC_PASS;
	if (meta->magic != TLSHIM_META_MAGIC ||
	    meta->verdict != TLSHIM_VERDICT_DECRYPTED)
		return TLSHIM_TC_PASS;
	cfg = tlshim_config_get();
	if (cfg && cfg->initialized)
		mark = cfg->decrypted_mark;
	skb->mark |= mark;
	return TLSHIM_TC_PASS;
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
		return TLSHIM_TC_PASS;
	return tx_segment(skb, &pkt);
}
