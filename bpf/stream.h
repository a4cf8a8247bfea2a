/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One segment of an installed connection against the device's stream state.
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
 * Outcomes that change nothing but counters (old data, a lost stream)
 * commit their counters unconditionally; the snapshot they were judged
 * against is their linearization point.
 */
#ifndef TLSHIM_STREAM_H
#define TLSHIM_STREAM_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tlshim.h"
#include "maps.h"
#include "parse.h"
#include "record.h"

#define TLSHIM_COMMIT_ATTEMPTS	3

enum attempt_result {
	ATTEMPT_DONE = 0,
	ATTEMPT_RETRY = 1,
};

/* What a segment did, for the caller's counters and descriptor. */
struct seg_result {
	__u8 verdict;		/* enum tlshim_verdict */
	__u8 reason;		/* enum tlshim_pass_reason */
	__u16 headers;
	__u8 lost_sync;
	__u8 bad_header;
	__u8 sync;
	__u8 pad;
	__u32 rec_sn;
	__u32 bytes;
};

static __always_inline int seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;	/* wrap-safe, RFC 1982 style */
}

static __always_inline void commit_counters(struct tlshim_conn *conn,
					    const struct seg_result *res)
{
	if (res->verdict == TLSHIM_VERDICT_DECRYPTED) {
		conn->stats.decrypted_packets++;
		conn->stats.decrypted_bytes += res->bytes;
	} else {
		conn->stats.passed_packets++;
		if (res->reason == TLSHIM_PASS_OLD)
			conn->stats.old_packets++;
	}
	conn->stats.records += res->headers;
	conn->stats.lost_sync += res->lost_sync;
	conn->stats.header_errors += res->bad_header;
}

static __always_inline void lose_stream(struct tlshim_stream *st, __u8 reason,
					__u32 lost_at_seq, __u32 seen_seq)
{
	st->sync = TLSHIM_SYNC_LOST;
	st->lost_reason = reason;
	st->lost_at_seq = lost_at_seq;
	st->lost_seen_seq = seen_seq;
}

/*
 * One attempt at a segment.  walk_step is the bpf_loop callback for the
 * program type (it differs only in its load helper).
 */
static __always_inline int
stream_attempt(void *ctx, struct tlshim_conn *conn, const struct tlshim_pkt *pkt,
	       struct seg_result *res, void *walk_step)
{
	struct rec_walk w = {};
	__u32 gen, len = pkt->payload_len, seg_end = pkt->seq + len, skip = 0;
	int changes_state = 1;

	bpf_spin_lock(&conn->lock);
	w.st = conn->st;
	gen = conn->generation;
	bpf_spin_unlock(&conn->lock);

	__builtin_memset(res, 0, sizeof(*res));
	res->verdict = TLSHIM_VERDICT_PASSED;
	res->rec_sn = w.st.rec_sn;
	res->bytes = len;

	if (len == 0) {
		/* ACK, SYN, FIN: nothing for the record layer. */
		res->reason = TLSHIM_PASS_NO_PAYLOAD;
		res->sync = w.st.sync;
		return ATTEMPT_DONE;
	}

	if (!seq_before(w.st.expected_seq, seg_end)) {
		/* Wholly old data (retransmission): untouched, state unchanged,
		 * in sync or not. */
		res->reason = TLSHIM_PASS_OLD;
		changes_state = 0;
	} else if (w.st.sync != TLSHIM_SYNC_IN_SYNC) {
		/* Lost: pass everything, but keep following the TCP stream so the
		 * resync machinery knows where it is. */
		res->reason = TLSHIM_PASS_NOT_SYNCED;
		w.st.expected_seq = seg_end;
	} else if (seq_before(w.st.expected_seq, pkt->seq)) {
		/* A hole before this segment: whatever record the missing bytes
		 * held, the device cannot know where the next header is. */
		res->reason = TLSHIM_PASS_GAP;
		res->lost_sync = 1;
		lose_stream(&w.st, TLSHIM_LOSS_GAP, w.st.expected_seq, pkt->seq);
		w.st.expected_seq = seg_end;
	} else {
		/* In order, or overlapping the expected seq (the first segment
		 * after installation, a retransmission carrying new data): walk
		 * the bytes from expected_seq on.  Bytes before it belong to no
		 * record the device saw start, so such a segment is passed. */
		skip = w.st.expected_seq - pkt->seq;
		w.ctx = ctx;
		w.off = pkt->payload_off + skip;
		w.end = pkt->payload_off + len;
		if (w.st.rec_offset >= TLS_HEADER_SIZE &&
		    w.st.rec_len - w.st.rec_offset > len - skip)
			/* The common case for large records: the segment is
			 * body of the current record and does not finish it. */
			w.st.rec_offset += len - skip;
		else
			bpf_loop(len - skip + 1, walk_step, &w, 0);
		if (w.fault) {
			/* Frame shorter than its IP header claims: judge nothing. */
			res->reason = TLSHIM_PASS_NOT_SYNCED;
			res->sync = w.st.sync;
			return ATTEMPT_DONE;
		}
		res->headers = w.headers;
		if (w.bad_header) {
			res->reason = TLSHIM_PASS_BAD_HEADER;
			res->bad_header = 1;
			res->lost_sync = 1;
			lose_stream(&w.st, TLSHIM_LOSS_BAD_HEADER, w.bad_header_seq, pkt->seq);
			w.st.expected_seq = seg_end;
		} else {
			w.st.expected_seq = seg_end;
			if (skip == 0) {
				res->verdict = TLSHIM_VERDICT_DECRYPTED;
				res->reason = TLSHIM_PASS_NONE;
			} else {
				res->reason = TLSHIM_PASS_PARTIAL;
			}
		}
	}
	res->sync = w.st.sync;

	bpf_spin_lock(&conn->lock);
	if (changes_state) {
		if (conn->generation != gen) {
			conn->stats.retries++;
			bpf_spin_unlock(&conn->lock);
			return ATTEMPT_RETRY;
		}
		conn->st = w.st;
		conn->generation = gen + 1;
	}
	commit_counters(conn, res);
	bpf_spin_unlock(&conn->lock);
	return ATTEMPT_DONE;
}

#endif /* TLSHIM_STREAM_H */
