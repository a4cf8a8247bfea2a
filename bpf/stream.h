/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One segment of an installed connection against the device's stream state:
 * in-sync delineation (tls-offload.rst "Normal operation") and, on the
 * receive side, losing and finding the stream again ("Resync handling").
 *
 * Concurrency: a flow's segments may run on several CPUs at once (RPS,
 * multi-queue veth, several test threads).  The record walk calls helpers
 * (bpf_loop, bpf_*_load_bytes), which the verifier forbids while a
 * bpf_spin_lock is held, so the state is handled optimistically:
 *   1. under the lock, copy the stream state and its generation;
 *   2. unlocked, judge the segment against the copy;
 *   3. under the lock, commit only if the generation is unchanged, else
 *      start again from the fresh state (another segment got in first).
 * Every committed change is therefore applied atomically on top of the state
 * it was computed from, in lock order: no torn state, no lost update.
 * Outcomes that change nothing but counters (old data) commit their
 * counters unconditionally; the snapshot is their linearization point.
 * Resync requests are emitted before the commit (a retried attempt may ask
 * twice; the loader keeps one pending request per flow).
 */
#ifndef TLSHIM_STREAM_H
#define TLSHIM_STREAM_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tlshim.h"
#include "maps.h"
#include "parse.h"

#define TLSHIM_COMMIT_ATTEMPTS	3

enum attempt_result {
	ATTEMPT_DONE = 0,
	ATTEMPT_RETRY = 1,
};

/*
 * What a segment did, for the caller's counters, descriptor and events.
 * The yes/no outcomes share one bit mask.
 */
enum seg_flag {
	SEG_LOST_SYNC = 1 << 0,
	SEG_BAD_HEADER = 1 << 1,
	SEG_UNSYNCED = 1 << 2,		/* judged while not in sync */
	SEG_KEPT_SYNC = 1 << 3,		/* a hole inside a record, stream kept */
	SEG_REQUESTED = 1 << 4,		/* stream-scan request sent */
	SEG_ASYNC_STARTED = 1 << 5,
	SEG_ASYNC_ENDED = 1 << 6,
	SEG_REQUEST_LOST = 1 << 7,	/* ring buffer full: will ask again */
	SEG_CONFIRMED = 1 << 8,		/* the kernel's answer applied */
	SEG_STALE = 1 << 9,		/* an answer that no longer matched */
	SEG_ABANDONED = 1 << 10,	/* a request given up */
	SEG_ANSWER_USED = 1 << 11,	/* delete the answer once committed */
};

struct seg_result {
	__u32 flags;		/* enum seg_flag */
	__u8 verdict;		/* enum tlshim_verdict */
	__u8 reason;		/* enum tlshim_pass_reason */
	__u8 sync;		/* state after the segment */
	__u8 pad;
	__u32 headers;
	__u32 rec_sn;		/* low 32 bits, as the descriptor carries it */
	__u32 bytes;
	__u32 pad2;
	__u64 out_of_sync_ns;
};

#define SEG_HAS(res, f) (((res)->flags & (f)) ? 1 : 0)

/* Per-packet inputs the attempt needs besides the packet. */
struct seg_env {
	struct xdp_md *ctx;
	__u64 now_ns;
	__u32 resync_headers;
	__u32 resync_timeout;
};

/*
 * The record walk and the header scan run in global functions (defined in
 * tlshim.bpf.c, one pair per program type).  The verifier checks a global
 * function once, on its own, instead of once for every path that reaches
 * it: this state machine has thousands of such paths, and checking the
 * bpf_loop callbacks along each of them blew the 1M-instruction limit.
 * Global functions take only the context and pointers to plain-scalar
 * structs, hence the stream state and this small in/out block.
 */
struct walk_io {
	__u32 off;		/* in: frame offset of the first byte */
	__u32 end;		/* in: frame offset after the payload */
	__u32 scan_from;	/* in (scan): first offset a header may start at */
	__u32 headers;		/* out (walk): headers completed */
	__u32 bad_header_seq;	/* out (walk): seq of the rejected header */
	__u32 found_off;	/* out (scan): offset of the header found */
	__u8 in_sync;		/* in (walk): records opened now are decryptable */
	__u8 bad_header;	/* out (walk) */
	__u8 fault;		/* out: a load failed, the frame is shorter than parsed */
	__u8 found;		/* out (scan) */
};

int tlshim_rx_walk(struct xdp_md *ctx, struct tlshim_stream *st, struct walk_io *io);
int tlshim_rx_scan(struct xdp_md *ctx, struct tlshim_stream *st, struct walk_io *io);

static __always_inline int seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;	/* wrap-safe, RFC 1982 style */
}

static __always_inline void commit_counters(struct tlshim_conn *conn,
					    const struct seg_result *res)
{
	struct tlshim_conn_stats *s = &conn->stats;

	if (res->verdict == TLSHIM_VERDICT_DECRYPTED) {
		s->decrypted_packets++;
		s->decrypted_bytes += res->bytes;
	} else {
		s->passed_packets++;
		if (res->reason == TLSHIM_PASS_OLD)
			s->old_packets++;
	}
	if (SEG_HAS(res, SEG_UNSYNCED)) {
		s->unsynced_packets++;
		s->unsynced_bytes += res->bytes;
	}
	s->records += res->headers;
	s->lost_sync += SEG_HAS(res, SEG_LOST_SYNC);
	s->header_errors += SEG_HAS(res, SEG_BAD_HEADER);
	s->resync_requests += SEG_HAS(res, SEG_REQUESTED) | SEG_HAS(res, SEG_ASYNC_ENDED);
	s->resync_confirmed += SEG_HAS(res, SEG_CONFIRMED);
	s->resync_stale += SEG_HAS(res, SEG_STALE);
	s->resync_abandoned += SEG_HAS(res, SEG_ABANDONED);
	s->out_of_sync_ns += res->out_of_sync_ns;
}

static __always_inline void lose_stream(struct tlshim_stream *st, __u8 reason,
					__u32 lost_at_seq, __u32 seen_seq, __u64 now)
{
	st->sync = TLSHIM_SYNC_LOST;
	st->lost_reason = reason;
	st->lost_at_seq = lost_at_seq;
	st->lost_seen_seq = seen_seq;
	/* tls-offload.rst: scan only once the stream is more than a max-size
	 * record past the point where it was lost. */
	st->scan_from_seq = lost_at_seq + TLS_HEADER_SIZE + st->rec_max_len;
	st->lost_since_ns = now;
	st->rec_ok = 0;
}

/* Start scanning afresh at seq (a broken chain, a hole, no answer). */
static __always_inline void restart_scan(struct tlshim_stream *st, struct seg_result *res)
{
	if (st->sync == TLSHIM_SYNC_REQUESTED)
		res->flags |= SEG_ABANDONED;
	st->sync = TLSHIM_SYNC_SCANNING;
	st->chain = 0;
}

/* Walk [start_seq, seg_end) of the segment through the record framing. */
static __always_inline void walk(struct tlshim_stream *st, struct walk_io *io,
				 const struct seg_env *env, const struct tlshim_pkt *pkt,
				 __u32 start_seq, __u8 in_sync)
{
	__u32 skip = start_seq - pkt->seq, n = pkt->payload_len - skip;

	io->off = pkt->payload_off + skip;
	io->end = pkt->payload_off + pkt->payload_len;
	io->in_sync = in_sync;
	if (st->rec_offset >= TLS_HEADER_SIZE && st->rec_len - st->rec_offset > n)
		/* The common case for large records: the bytes are body of the
		 * current record and do not finish it. */
		st->rec_offset += n;
	else
		tlshim_rx_walk(env->ctx, st, io);
}

/* A hole before seq: keep the stream if it falls inside the current
 * record's body (the doc's "reorder of non-header segment"), because the
 * next header's place is still known.  Returns 0 if the stream is lost. */
static __always_inline int skip_hole(struct tlshim_stream *st, __u32 seq)
{
	if (!st->rec_len || seq_before(st->rec_start_seq + st->rec_len, seq))
		return 0;
	st->rec_offset += seq - st->expected_seq;
	st->expected_seq = seq;
	st->rec_ok = 0;
	if (st->rec_offset == st->rec_len) {
		/* The hole ended exactly where the next record starts. */
		st->rec_start_seq += st->rec_len;
		st->rec_sn++;
		st->rec_len = 0;
		st->rec_offset = 0;
		st->rec_ok = 1;
	}
	return 1;
}

/* Reserve in place: a stack copy would cost 80 bytes of a 512-byte stack
 * the walk and the scan already share. */
static __always_inline int emit(__u32 type, const struct tlshim_pkt *pkt,
				__u32 seq, __u32 len, __u64 now)
{
	struct tlshim_event *ev = bpf_ringbuf_reserve(&tlshim_events, sizeof(*ev), 0);

	if (!ev)
		return -1;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->seq = seq;
	ev->len = len;
	ev->flow = pkt->flow;
	ev->ts_ns = now;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/*
 * The kernel's answer, applied at a segment boundary.  REQUESTED: the
 * confirmation of the guessed header (DRIVER_REQ matches the header's last
 * byte, DRIVER_REQ_ASYNC its first).  NEXT_HINT: where the next record
 * starts and its number, usable only if the device has not passed it.
 */
static __always_inline void apply_answer(struct tlshim_stream *st,
					 const struct tlshim_resync_resp *ans,
					 const struct tlshim_pkt *pkt,
					 struct seg_result *res, __u64 now)
{
	__u32 seg_end = pkt->seq + pkt->payload_len;

	if (st->sync == TLSHIM_SYNC_REQUESTED) {
		int async = st->policy == TLSHIM_RESYNC_ASYNC;
		__u32 want_kind = async ? TLSHIM_EV_ASYNC_END : TLSHIM_EV_RESYNC_REQ;
		__u32 want_seq = async ? st->resync_seq : st->resync_seq + TLS_HEADER_SIZE - 1;

		res->flags |= SEG_ANSWER_USED;
		if (ans->kind != want_kind || ans->tcp_seq != want_seq) {
			res->flags |= SEG_STALE;
			return;
		}
		/* Records counted since the guess, plus the guess's number. */
		st->rec_sn += ans->rec_sn;
		st->sync = TLSHIM_SYNC_IN_SYNC;
		/* rec_ok stays as tracked: the current record can be decrypted
		 * if the device parsed its start and lost none of it. */
	} else {
		if (ans->kind != TLSHIM_EV_RECORD)
			return;
		if (seq_before(ans->tcp_seq, pkt->seq)) {
			res->flags |= SEG_ANSWER_USED;
			res->flags |= SEG_STALE;
			return;
		}
		if (!seq_before(ans->tcp_seq, seg_end))
			return;		/* still ahead: wait for it */
		res->flags |= SEG_ANSWER_USED;
		st->sync = TLSHIM_SYNC_IN_SYNC;
		st->expected_seq = ans->tcp_seq;
		st->rec_start_seq = ans->tcp_seq;
		st->rec_len = 0;
		st->rec_offset = 0;
		st->rec_sn = ans->rec_sn;
		*(__u32 *)st->hdr_part = 0;
		st->rec_ok = 1;
	}
	st->chain = 0;
	res->flags |= SEG_CONFIRMED;
	res->out_of_sync_ns = now - st->lost_since_ns;
}

/* Ask the kernel about the guessed header once the chain holds. */
static __always_inline void maybe_request(struct tlshim_stream *st, const struct seg_env *env,
					  const struct tlshim_pkt *pkt, struct seg_result *res)
{
	int async = st->policy == TLSHIM_RESYNC_ASYNC;

	if (st->chain < env->resync_headers)
		return;
	if (emit(async ? TLSHIM_EV_ASYNC_END : TLSHIM_EV_RESYNC_REQ, pkt,
		 async ? st->resync_seq : st->resync_seq + TLS_HEADER_SIZE - 1, 0,
		 env->now_ns)) {
		res->flags |= SEG_REQUEST_LOST;	/* stay TRACKING: ask at the next header */
		return;
	}
	res->flags |= async ? SEG_ASYNC_ENDED : SEG_REQUESTED;
	st->sync = TLSHIM_SYNC_REQUESTED;
}

/* Before the walk: holes, and the search for a lost stream. */
static __always_inline void before_walk(struct tlshim_stream *st, const struct seg_env *env,
					const struct tlshim_pkt *pkt, struct seg_result *res)
{
	__u32 seg_end = pkt->seq + pkt->payload_len;
	int scanning_policy = (st->policy == TLSHIM_RESYNC_STREAM_SCAN ||
				     st->policy == TLSHIM_RESYNC_ASYNC);

	if (st->sync == TLSHIM_SYNC_IN_SYNC) {
		if (!seq_before(st->expected_seq, pkt->seq))
			return;
		if (skip_hole(st, pkt->seq)) {
			res->flags |= SEG_KEPT_SYNC;
			return;
		}
		/* The hole may have held a header: the device cannot know
		 * where the next record starts. */
		res->reason = TLSHIM_PASS_GAP;
		res->flags |= SEG_LOST_SYNC;
		lose_stream(st, TLSHIM_LOSS_GAP, st->expected_seq, pkt->seq, env->now_ns);
		return;
	}
	res->reason = TLSHIM_PASS_NOT_SYNCED;
	if (st->sync == TLSHIM_SYNC_LOST && scanning_policy &&
	    seq_before(st->scan_from_seq, seg_end))
		st->sync = TLSHIM_SYNC_SCANNING;
	if ((st->sync == TLSHIM_SYNC_TRACKING || st->sync == TLSHIM_SYNC_REQUESTED) &&
	    seq_before(st->expected_seq, pkt->seq) && !skip_hole(st, pkt->seq))
		restart_scan(st, res);
}

/* Start of the bytes to scan or walk: new bytes only. */
static __always_inline __u32 first_new_seq(const struct tlshim_stream *st,
					   const struct tlshim_pkt *pkt)
{
	return seq_before(pkt->seq, st->expected_seq) ? st->expected_seq : pkt->seq;
}

static __always_inline void scan(struct tlshim_stream *st, struct walk_io *io,
				 const struct seg_env *env, const struct tlshim_pkt *pkt,
				 struct seg_result *res)
{
	__u32 start = first_new_seq(st, pkt), guess;

	if (seq_before(start, st->scan_from_seq))
		start = st->scan_from_seq;
	io->off = io->scan_from = pkt->payload_off + (start - pkt->seq);
	io->end = pkt->payload_off + pkt->payload_len;
	tlshim_rx_scan(env->ctx, st, io);
	if (!io->found)
		return;
	if (st->policy == TLSHIM_RESYNC_ASYNC) {
		if (emit(TLSHIM_EV_ASYNC_START, pkt, pkt->seq, pkt->payload_len, env->now_ns)) {
			res->flags |= SEG_REQUEST_LOST;
			return;
		}
		res->flags |= SEG_ASYNC_STARTED;
	}
	guess = pkt->seq + (io->found_off - pkt->payload_off);
	st->sync = TLSHIM_SYNC_TRACKING;
	st->resync_seq = guess;
	st->rec_start_seq = guess;
	st->expected_seq = guess;
	st->rec_len = 0;
	st->rec_offset = 0;
	st->rec_sn = 0;
	st->chain = 0;
	st->rec_ok = 1;
	*(__u32 *)st->hdr_part = 0;
}

/* After the walk: the verdict in sync, the chain and the request if not. */
static __always_inline void after_walk(struct tlshim_stream *st, const struct walk_io *io,
				       const struct seg_env *env, const struct tlshim_pkt *pkt,
				       struct seg_result *res, __u32 start, __u8 ok_at_start)
{
	res->headers = io->headers;
	if (st->sync == TLSHIM_SYNC_IN_SYNC) {
		if (io->bad_header) {
			res->reason = TLSHIM_PASS_BAD_HEADER;
			res->flags |= SEG_BAD_HEADER | SEG_LOST_SYNC;
			lose_stream(st, TLSHIM_LOSS_BAD_HEADER, io->bad_header_seq, pkt->seq,
				    env->now_ns);
		} else if (start != pkt->seq) {
			/* Bytes before expected_seq belong to no record the device
			 * saw start (the first segment after installation, a
			 * retransmission carrying new data). */
			res->reason = TLSHIM_PASS_PARTIAL;
		} else if (!ok_at_start) {
			res->reason = TLSHIM_PASS_DAMAGED;
		} else {
			res->verdict = TLSHIM_VERDICT_DECRYPTED;
			res->reason = TLSHIM_PASS_NONE;
		}
		return;
	}
	st->chain += io->headers;
	if (io->bad_header)
		restart_scan(st, res);	/* the guess was wrong */
	else if (st->sync == TLSHIM_SYNC_TRACKING)
		maybe_request(st, env, pkt, res);
	else if (st->rec_sn >= env->resync_timeout)
		restart_scan(st, res);	/* no negative answer exists */
}

/* Judge the segment on a private copy of the state; 1 if the state changed. */
static __always_inline int judge(struct tlshim_stream *st, const struct seg_env *env,
				 const struct tlshim_pkt *pkt, struct seg_result *res)
{
	__u32 seg_end = pkt->seq + pkt->payload_len;
	struct walk_io io = {};
	__u8 was_synced;

	if (!seq_before(st->expected_seq, seg_end)) {
		/* Wholly old data (retransmission): untouched, state unchanged,
		 * in sync or not. */
		res->reason = TLSHIM_PASS_OLD;
		return 0;
	}
	if ((st->sync == TLSHIM_SYNC_REQUESTED ||
		   (st->sync == TLSHIM_SYNC_LOST && st->policy == TLSHIM_RESYNC_NEXT_HINT))) {
		struct tlshim_resync_resp *ans =
			bpf_map_lookup_elem(&tlshim_resync_resp, &pkt->flow);

		if (ans)
			apply_answer(st, ans, pkt, res, env->now_ns);
	}
	was_synced = st->sync == TLSHIM_SYNC_IN_SYNC;
	before_walk(st, env, pkt, res);
	/* After a hole that ended exactly at a record boundary the segment's
	 * first byte is in the next record. */
	res->rec_sn = st->rec_sn;
	if (st->sync == TLSHIM_SYNC_SCANNING)
		scan(st, &io, env, pkt, res);
	if (!io.fault && (st->sync == TLSHIM_SYNC_IN_SYNC || st->sync == TLSHIM_SYNC_TRACKING ||
			  st->sync == TLSHIM_SYNC_REQUESTED)) {
		__u32 start = first_new_seq(st, pkt);
		__u8 ok_at_start = st->rec_ok;

		walk(st, &io, env, pkt, start, st->sync == TLSHIM_SYNC_IN_SYNC);
		if (!io.fault)
			after_walk(st, &io, env, pkt, res, start, ok_at_start);
	}
	if (io.fault)
		return -1;
	if (!was_synced || res->reason == TLSHIM_PASS_GAP)
		res->flags |= SEG_UNSYNCED;
	if (seq_before(st->expected_seq, seg_end))
		st->expected_seq = seg_end;
	return 1;
}

/* What only the slow path needs: the clock and the resync settings. */
static __always_inline void env_fill(struct seg_env *env)
{
	const struct tlshim_config *cfg = tlshim_config_get();

	env->now_ns = bpf_ktime_get_ns();
	env->resync_headers = TLSHIM_DEFAULT_RESYNC_HEADERS;
	env->resync_timeout = TLSHIM_DEFAULT_RESYNC_TIMEOUT;
	if (cfg && cfg->initialized) {
		env->resync_headers = cfg->resync_headers;
		env->resync_timeout = cfg->resync_timeout_records;
	}
}

/* One attempt at a segment; ATTEMPT_RETRY if another CPU got in first. */
static __always_inline int stream_attempt(struct tlshim_conn *conn, const struct tlshim_pkt *pkt,
					  struct seg_env *env, struct seg_result *res)
{
	struct tlshim_stream st;
	__u32 gen;
	int changed;

	__builtin_memset(res, 0, sizeof(*res));
	res->bytes = pkt->payload_len;

	bpf_spin_lock(&conn->lock);
	/* The common case in one critical section, no helper needed: an
	 * in-order segment that is body of the current, decryptable record
	 * and does not finish it. */
	if (conn->st.sync == TLSHIM_SYNC_IN_SYNC && conn->st.rec_ok &&
	    conn->st.expected_seq == pkt->seq && pkt->payload_len &&
	    conn->st.rec_offset >= TLS_HEADER_SIZE &&
	    conn->st.rec_len - conn->st.rec_offset > pkt->payload_len) {
		conn->st.expected_seq += pkt->payload_len;
		conn->st.rec_offset += pkt->payload_len;
		conn->generation++;
		conn->stats.decrypted_packets++;
		conn->stats.decrypted_bytes += pkt->payload_len;
		res->rec_sn = conn->st.rec_sn;
		bpf_spin_unlock(&conn->lock);
		res->verdict = TLSHIM_VERDICT_DECRYPTED;
		res->sync = TLSHIM_SYNC_IN_SYNC;
		return ATTEMPT_DONE;
	}
	if (pkt->payload_len &&
	    !seq_before(conn->st.expected_seq, pkt->seq + pkt->payload_len)) {
		/* Wholly old data (retransmission), in any state: untouched,
		 * the state unchanged. */
		conn->stats.passed_packets++;
		conn->stats.old_packets++;
		res->rec_sn = conn->st.rec_sn;
		res->sync = conn->st.sync;
		bpf_spin_unlock(&conn->lock);
		res->verdict = TLSHIM_VERDICT_PASSED;
		res->reason = TLSHIM_PASS_OLD;
		return ATTEMPT_DONE;
	}
	st = conn->st;
	gen = conn->generation;
	bpf_spin_unlock(&conn->lock);
	env_fill(env);

	res->verdict = TLSHIM_VERDICT_PASSED;
	res->rec_sn = st.rec_sn;
	res->sync = st.sync;
	if (pkt->payload_len == 0) {
		/* ACK, SYN, FIN: nothing for the record layer. */
		res->reason = TLSHIM_PASS_NO_PAYLOAD;
		return ATTEMPT_DONE;
	}
	changed = judge(&st, env, pkt, res);
	if (changed < 0) {
		/* Frame shorter than its IP header claims: judge nothing. */
		__builtin_memset(res, 0, sizeof(*res));
		res->verdict = TLSHIM_VERDICT_PASSED;
		res->reason = TLSHIM_PASS_NOT_SYNCED;
		return ATTEMPT_DONE;
	}
	res->sync = st.sync;

	bpf_spin_lock(&conn->lock);
	if (changed) {
		if (conn->generation != gen) {
			conn->stats.retries++;
			bpf_spin_unlock(&conn->lock);
			return ATTEMPT_RETRY;
		}
		conn->st = st;
		conn->generation = gen + 1;
	}
	commit_counters(conn, res);
	bpf_spin_unlock(&conn->lock);
	if (res->flags & SEG_ANSWER_USED)
		bpf_map_delete_elem(&tlshim_resync_resp, &pkt->flow);
	return ATTEMPT_DONE;
}

#endif /* TLSHIM_STREAM_H */
