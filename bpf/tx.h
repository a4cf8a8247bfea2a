/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The transmit side: one TX segment against the connection's TX state
 * (struct tlshim_tx_conn), and the ACKs the receive side sees for it.
 *
 * What a segment gets (mlx5e_ktls_handle_tx_skb, tls_get_record):
 *   seq == expected_seq                  encrypted; expected_seq = its end
 *   otherwise (out of order, tx_tls_ooo): the record holding seq is looked
 *   up in the record log
 *     wholly before the start marker     sent as is (skip_no_sync_data)
 *     straddling the marker, record ACKed
 *     and freed, or evicted               a NIC drops it (drop_no_sync_data)
 *     found                               its bytes from the record start up
 *                                         to seq are replayed (DUMP), the
 *                                         segment is encrypted and the device
 *                                         continues from its end (mlx5 asks
 *                                         for "continuation": the next new
 *                                         segment is out of order again)
 * Bytes beyond the highest seq the device has seen leave are walked through
 * the record framing (bpf/record.h) to learn where records start; every
 * record that completes is logged.  The walk follows the bytes that really
 * leave: a segment dropped under --enforce-drops is not walked.
 *
 * Concurrency.  The walk calls helpers (bpf_loop, bpf_skb_load_bytes), which
 * the verifier forbids under a bpf_spin_lock, so a segment that has new
 * bytes to walk uses bpf/stream.h's optimistic scheme: judge and snapshot
 * under the lock, walk unlocked, commit under the lock only if no other TX
 * commit (generation) happened meanwhile, else start again.  Everything
 * else -- retransmissions (a binary search of the log), segments with no
 * new bytes, record body that ends no record, ACKs -- needs no helper and
 * is decided and applied in one critical section.  ACKs do not bump the
 * generation, so a busy flow's walks are not redone for every ACK: an ACK
 * only frees log entries, oldest first, and the TX commit merges with it
 * (log_head only moves forward).  A retransmission judged just before an
 * ACK freed its record is the race tls-offload.rst describes ("TCP ACK
 * arriving for the retransmitted data"): either order is a valid one.
 *
 * Where the walk puts the records it finds: straight into the ring beyond
 * log_tail, unlocked.  No reader looks there (readers search
 * [log_head, log_tail) under the lock), a walk writes at most
 * TLSHIM_TX_WALK_MAX_RECORDS = SLOTS - LOG_MAX slots, so it never reaches a
 * live one, and two walks racing over the same bytes write the same starts
 * to the same positions (a TCP seq's bytes never change).  Only a walk
 * whose snapshot fell more than SLOTS records behind while it ran could
 * write over a live slot (its commit is refused, the slot stays wrong); tc
 * egress runs with bottom halves off, a walk takes microseconds.  This
 * avoids a per-CPU scratch buffer, which BPF_PROG_TEST_RUN (preemptible)
 * would let two runs on one CPU share.
 */
#ifndef TLSHIM_TX_H
#define TLSHIM_TX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "tlshim.h"
#include "maps.h"
#include "parse.h"
#include "record.h"
#include "stream.h"

#define TX_LOG_MASK		(TLSHIM_TX_LOG_SLOTS - 1)
/* Binary search over at most TLSHIM_TX_LOG_MAX live entries. */
#define TX_LOG_SEARCH_STEPS	11
#define TX_COMMIT_ATTEMPTS	3
#define TX_TCP_ACK		0x10

_Static_assert((TLSHIM_TX_LOG_SLOTS & TX_LOG_MASK) == 0, "log slots: a power of two");
_Static_assert((1 << (TX_LOG_SEARCH_STEPS - 1)) >= TLSHIM_TX_LOG_MAX, "search steps");

DEFINE_REC_WALK_STEP(tx_rec_step, bpf_skb_load_bytes)

/* What one TX segment did: the verdict and what it adds to the counters. */
struct tx_result {
	__u8 verdict;		/* enum tlshim_tx_verdict */
	__u8 drop_reason;	/* enum tlshim_tx_drop_reason */
	__u8 ooo;		/* not at the expected seq */
	__u8 resent;		/* starts below the highest seq seen */
	__u8 shot;		/* dropped for real (enforce-drops) */
	__u8 lost_sync;
	__u8 header_error;
	__u8 pad;
	__u32 bytes;		/* TCP payload */
	__u32 dump_bytes;	/* record bytes replayed before it */
	__u32 resent_bytes;	/* its bytes below the highest seq seen */
	__u32 records;		/* record headers it completed */
	__u32 evicted;		/* log entries its records pushed out */
	__u64 rec_sn;		/* record holding its first byte, if still known */
};

/* Per-packet settings read from tlshim_config once, before any lock. */
struct tx_settings {
	__u32 log_capacity;
	__u8 enforce_drops;	/* global; a connection may also ask */
	__u8 trace;		/* TLSHIM_CFG_TRACE: an event per segment */
};

struct tx_walk {
	struct rec_walk w;		/* w.st points at parser */
	struct tlshim_stream parser;	/* the working copy, committed after */
	struct tlshim_tx_conn *conn;	/* the ring the starts go to */
	__u32 log_tail;			/* log_tail of the snapshot */
	__u32 found;			/* records completed by this walk */
};

/* One step of the record walk; a record that ends is logged at the next
 * position beyond the snapshot's log_tail. */
static long tx_walk_step(__u32 index, struct tx_walk *tw)
{
	__u32 start = tw->parser.rec_start_seq;
	__u64 rec_sn = tw->parser.rec_sn;
	long stop = tx_rec_step(index, &tw->w);

	if (tw->parser.rec_sn != rec_sn) {
		if (tw->found < TLSHIM_TX_WALK_MAX_RECORDS)
			tw->conn->log[(tw->log_tail + tw->found) & TX_LOG_MASK] = start;
		tw->found++;
	}
	return stop;
}

/* The last position in [head, tail) whose record starts at or before seq;
 * the caller checked that log[head] does.  Log starts lie within 2^31 of
 * each other (they are all unacknowledged), so seq comparisons hold. */
static __always_inline __u32 tx_log_search(const struct tlshim_tx_conn *c,
					   __u32 head, __u32 tail, __u32 seq)
{
	__u32 lo = head, hi = tail;

#pragma unroll
	for (int i = 0; i < TX_LOG_SEARCH_STEPS; i++) {
		__u32 mid;

		if (hi - lo <= 1)
			break;
		mid = lo + (hi - lo) / 2;
		if (seq_before(seq, c->log[mid & TX_LOG_MASK]))
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

static __always_inline void tx_drop(struct tx_result *res, __u8 reason)
{
	res->verdict = TLSHIM_TX_DROP;
	res->drop_reason = reason;
}

/* The record holding seq (at or after the start marker): the parser's or
 * a logged one.  Returns 0 if it was freed or evicted.  Under the lock. */
static __always_inline int tx_record_of(const struct tlshim_tx_conn *c, __u32 seq,
					__u32 *start, __u64 *rec_sn)
{
	__u32 head = c->log_head, tail = c->log_tail, pos;

	if (!seq_before(seq, c->parser.rec_start_seq)) {
		/* Never freed: its end is not known yet. */
		*start = c->parser.rec_start_seq;
		*rec_sn = c->parser.rec_sn;
		return 1;
	}
	if (head == tail || seq_before(seq, c->log[head & TX_LOG_MASK]))
		return 0;
	pos = tx_log_search(c, head, tail, seq);
	*start = c->log[pos & TX_LOG_MASK];
	*rec_sn = c->parser.rec_sn - (tail - pos);
	return 1;
}

/*
 * An out-of-order segment [seq, seg_end), seq at or below the highest seq
 * seen: what tls_get_record and mlx5's tx_sync_info_get make of it.  Under
 * the lock; no helpers.
 */
static __always_inline void tx_judge_ooo(const struct tlshim_tx_conn *c, __u32 seq,
					 __u32 seg_end, struct tx_result *res)
{
	__u32 start;

	res->ooo = 1;
	if (seq_before(seq, c->start_seq)) {
		/* The start marker stands for everything before offload
		 * began, until an ACK covers it; after that the kernel's list
		 * starts at a real record and finds nothing here. */
		if (!c->marker_live)
			tx_drop(res, TLSHIM_TX_DROP_ACKED);
		else if (seq_before(c->start_seq, seg_end))
			tx_drop(res, TLSHIM_TX_DROP_STRADDLE);
		else
			res->verdict = TLSHIM_TX_SKIP;
		return;
	}
	if (!tx_record_of(c, seq, &start, &res->rec_sn)) {
		/* Records are freed only once ACKed past their end, so one
		 * holding an unACKed seq can only have been evicted. */
		tx_drop(res, seq_before(seq, c->acked_seq) ? TLSHIM_TX_DROP_ACKED :
			TLSHIM_TX_DROP_EVICTED);
		return;
	}
	res->verdict = TLSHIM_TX_RESYNC;
	res->dump_bytes = seq - start;
}

/* Whether the device encrypted the segment (and so continues from its end). */
static __always_inline int tx_encrypts(const struct tx_result *res)
{
	return res->verdict == TLSHIM_TX_ENCRYPTED || res->verdict == TLSHIM_TX_RESYNC;
}

/* Appends the walk's records to the log (their starts are in the ring
 * already) and evicts the oldest beyond the capacity.  Under the lock. */
static __always_inline void tx_log_append(struct tlshim_tx_conn *c, __u32 found,
					  __u32 capacity, struct tx_result *res)
{
	__u32 tail = c->log_tail + found, head = c->log_head, keep = capacity;

	if (found > TLSHIM_TX_WALK_MAX_RECORDS)
		keep = 0;	/* not all of them were written: log none */
	if ((__s32)(tail - head) > (__s32)keep) {
		res->evicted = tail - keep - head;
		head = tail - keep;
	}
	c->log_head = head;
	c->log_tail = tail;
}

static __always_inline void tx_commit_stats(struct tlshim_tx_conn *c,
					    const struct tx_result *res)
{
	struct tlshim_tx_stats *s = &c->stats;

	if (tx_encrypts(res)) {
		s->encrypted_packets++;
		s->encrypted_bytes += res->bytes;
	}
	s->ooo += res->ooo;
	s->resync += res->verdict == TLSHIM_TX_RESYNC;
	s->dump_packets += res->dump_bytes > 0;
	s->dump_bytes += res->dump_bytes;
	if (res->verdict == TLSHIM_TX_RESYNC && !res->resent) {
		s->resync_resume++;
		s->dump_bytes_resume += res->dump_bytes;
	}
	s->skip_no_sync_data += res->verdict == TLSHIM_TX_SKIP;
	if (res->verdict == TLSHIM_TX_DROP) {
		s->drop_no_sync_data++;
		s->drop_straddle += res->drop_reason == TLSHIM_TX_DROP_STRADDLE;
		s->drop_acked += res->drop_reason == TLSHIM_TX_DROP_ACKED;
		s->drop_evicted += res->drop_reason == TLSHIM_TX_DROP_EVICTED;
	}
	s->dropped += res->shot;
	s->resent_packets += res->resent;
	s->resent_bytes += res->resent_bytes;
	s->records += res->records;
	s->evicted += res->evicted;
	s->untracked += res->verdict == TLSHIM_TX_UNTRACKED;
	s->lost_sync += res->lost_sync;
	s->header_errors += res->header_error;
	c->last_verdict = res->verdict;
	c->last_drop_reason = res->drop_reason;
}

static __always_inline void tx_lose_stream(struct tlshim_stream *st, __u8 reason,
					   __u32 lost_at_seq, __u32 seen_seq)
{
	st->sync = TLSHIM_SYNC_LOST;
	st->lost_reason = reason;
	st->lost_at_seq = lost_at_seq;
	st->lost_seen_seq = seen_seq;
}

/*
 * One attempt at a TX segment with payload.  Returns ATTEMPT_DONE with res
 * filled in and committed, or ATTEMPT_RETRY when another TX commit got in
 * between the snapshot and the commit.
 */
static __always_inline int tx_attempt(struct __sk_buff *skb, struct tlshim_tx_conn *conn,
				      const struct tlshim_pkt *pkt,
				      const struct tx_settings *set, struct tx_result *res)
{
	__u32 seq = pkt->seq, len = pkt->payload_len, seg_end = seq + len;
	__u32 gen, sent_end, new_bytes = 0;
	struct tx_walk tw = {};

	__builtin_memset(res, 0, sizeof(*res));
	res->bytes = len;

	bpf_spin_lock(&conn->lock);
	sent_end = conn->parser.expected_seq;
	if (seq_before(seq, sent_end)) {
		res->resent = 1;
		res->resent_bytes = (seq_before(seg_end, sent_end) ? seg_end : sent_end) - seq;
	}
	if (conn->parser.sync != TLSHIM_SYNC_IN_SYNC) {
		/* Lost: pass everything, keep following the highest seq. */
		res->verdict = TLSHIM_TX_UNTRACKED;
		if (seq_before(sent_end, seg_end)) {
			conn->parser.expected_seq = seg_end;
			conn->generation++;
		}
		goto commit_locked;
	}
	if (seq_before(sent_end, seq)) {
		/* Bytes left without passing the device (it was attached late,
		 * or something dropped them before tc egress): it cannot know
		 * where records start any more.  No real NIC sees this. */
		res->verdict = TLSHIM_TX_UNTRACKED;
		res->lost_sync = 1;
		tx_lose_stream(&conn->parser, TLSHIM_LOSS_GAP, sent_end, seq);
		conn->parser.expected_seq = seg_end;
		conn->generation++;
		goto commit_locked;
	}
	if (seq == conn->expected_seq) {
		/* The device has the crypto state here: no lookup needed
		 * (the record number is only for the trace). */
		__u32 start;

		res->verdict = TLSHIM_TX_ENCRYPTED;
		tx_record_of(conn, seq, &start, &res->rec_sn);
	} else {
		tx_judge_ooo(conn, seq, seg_end, res);
	}
	res->shot = res->verdict == TLSHIM_TX_DROP &&
		    (set->enforce_drops || conn->enforce_drops);
	if (!res->shot && seq_before(sent_end, seg_end))
		new_bytes = seg_end - sent_end;

	if (!new_bytes || (conn->parser.rec_offset >= TLS_HEADER_SIZE &&
			   conn->parser.rec_len - conn->parser.rec_offset > new_bytes)) {
		/* Nothing to walk: no new bytes, or (the common case for large
		 * records) new body of the current record that does not end
		 * it.  A walk in flight elsewhere must see any change. */
		if (new_bytes) {
			conn->parser.rec_offset += new_bytes;
			conn->parser.expected_seq = seg_end;
			conn->generation++;
		}
		if (tx_encrypts(res) && conn->expected_seq != seg_end) {
			conn->expected_seq = seg_end;
			conn->generation++;
		}
		goto commit_locked;
	}

	/* New bytes with a record boundary or header in them: walk them. */
	gen = conn->generation;
	tw.parser = conn->parser;
	tw.log_tail = conn->log_tail;
	bpf_spin_unlock(&conn->lock);

	tw.conn = conn;
	tw.w.st = &tw.parser;
	tw.w.in_sync = 1;		/* a NIC encrypts every record it delineates */
	tw.w.ctx = skb;
	tw.w.off = pkt->payload_off + (sent_end - seq);
	tw.w.end = pkt->payload_off + len;
	bpf_loop(new_bytes + 1, tx_walk_step, &tw, 0);
	if (tw.w.fault) {
		/* Frame shorter than its IP header claims: judge nothing. */
		__builtin_memset(res, 0, sizeof(*res));
		res->bytes = len;
		res->verdict = TLSHIM_TX_UNTRACKED;
		bpf_spin_lock(&conn->lock);
		goto commit_locked;
	}
	res->records = tw.w.headers;
	tw.parser.expected_seq = seg_end;
	if (tw.w.bad_header) {
		/* The stream is not framed where the device thought: it can
		 * no longer tell records apart. */
		res->verdict = TLSHIM_TX_UNTRACKED;
		res->shot = 0;
		res->header_error = 1;
		res->lost_sync = 1;
		tx_lose_stream(&tw.parser, TLSHIM_LOSS_BAD_HEADER, tw.w.bad_header_seq, seq);
	}

	bpf_spin_lock(&conn->lock);
	if (conn->generation != gen) {
		conn->stats.retries++;
		bpf_spin_unlock(&conn->lock);
		return ATTEMPT_RETRY;
	}
	conn->parser = tw.parser;
	if (tx_encrypts(res))
		conn->expected_seq = seg_end;
	tx_log_append(conn, tw.found, set->log_capacity, res);
	conn->generation = gen + 1;

commit_locked:
	tx_commit_stats(conn, res);
	bpf_spin_unlock(&conn->lock);
	return ATTEMPT_DONE;
}

static __noinline int tx_attempt_noinline(struct __sk_buff *skb, struct tlshim_tx_conn *conn,
					  const struct tlshim_pkt *pkt,
					  const struct tx_settings *set, struct tx_result *res)
{
	return tx_attempt(skb, conn, pkt, set, res);
}

/*
 * An ACK for a TX flow, seen by the receive side (the peer's packets travel
 * daddr -> saddr of the TX flow): advance acked_seq and free what it covers,
 * as tls_icsk_clean_acked does, which tcp_ack calls only for an ACK that
 * moves snd_una.  Only ACKs of bytes the device saw leave count (one more
 * for a FIN); anything beyond is not about this stream.  The device cannot
 * know snd_una at install: acked_seq starts at start_seq, as if everything
 * sent before had been ACKed, so the start marker goes with the first ACK
 * beyond it.
 */
static __always_inline void tx_apply_ack(struct tlshim_tx_conn *c, __u32 ack)
{
	__u32 sent_end = c->parser.expected_seq, head = c->log_head, tail = c->log_tail;
	__u32 pos, end;

	if (seq_before(sent_end + 1, ack))
		return;
	if (seq_before(sent_end, ack))
		ack = sent_end;		/* the FIN's seq */
	if (!seq_before(c->acked_seq, ack))
		return;
	c->acked_seq = ack;
	c->stats.acks++;
	/* The kernel frees a record once the ACK reaches its end; the start
	 * marker ends at start_seq. */
	if (c->marker_live && !seq_before(ack, c->start_seq))
		c->marker_live = 0;
	if (head == tail || seq_before(ack, c->log[head & TX_LOG_MASK]))
		return;
	/* Records before pos end at or before the start of pos, so at or
	 * before ack; pos itself ends where the next one starts (beyond ack
	 * by the search), or, if it is the last, where the parser's record
	 * starts. */
	pos = tx_log_search(c, head, tail, ack);
	end = pos + 1 == tail ? c->parser.rec_start_seq : c->log[(pos + 1) & TX_LOG_MASK];
	c->log_head = seq_before(ack, end) ? pos : pos + 1;
}

/* The receive side's hook: called for every TCP packet XDP parses. */
static __always_inline void tx_ack_seen(const struct tlshim_pkt *pkt)
{
	struct tlshim_tx_conn *conn;
	struct tlshim_flow key;

	if (!(pkt->tcp_flags & TX_TCP_ACK))
		return;
	__builtin_memcpy(key.saddr, pkt->flow.daddr, sizeof(key.saddr));
	__builtin_memcpy(key.daddr, pkt->flow.saddr, sizeof(key.daddr));
	key.sport = pkt->flow.dport;
	key.dport = pkt->flow.sport;
	key.dir = TLSHIM_DIR_TX;
	key.pad[0] = key.pad[1] = key.pad[2] = 0;
	conn = bpf_map_lookup_elem(&tlshim_tx_conns, &key);
	if (!conn)
		return;
	bpf_spin_lock(&conn->lock);
	tx_apply_ack(conn, pkt->ack);
	bpf_spin_unlock(&conn->lock);
}

static __always_inline void tx_settings_get(struct tx_settings *set)
{
	const struct tlshim_config *cfg = tlshim_config_get();

	set->log_capacity = TLSHIM_TX_LOG_DEFAULT;
	set->enforce_drops = 0;
	set->trace = 0;
	if (!cfg)
		return;
	if (cfg->tx_record_log && cfg->tx_record_log <= TLSHIM_TX_LOG_MAX)
		set->log_capacity = cfg->tx_record_log;
	set->enforce_drops = !!(cfg->flags & TLSHIM_CFG_ENFORCE_DROPS);
	set->trace = cfg->initialized && (cfg->flags & TLSHIM_CFG_TRACE);
}

static __always_inline void tx_count(const struct tx_result *res)
{
	struct tlshim_counters *c = tlshim_counters();

	if (!c)
		return;
	if (tx_encrypts(res)) {
		c->tx_tls_encrypted_packets++;
		c->tx_tls_encrypted_bytes += res->bytes;
	}
	c->tx_tls_ooo += res->ooo;
	c->tx_tls_skip_no_sync_data += res->verdict == TLSHIM_TX_SKIP;
	c->tx_tls_drop_no_sync_data += res->verdict == TLSHIM_TX_DROP;
	c->tx_tls_dump_packets += res->dump_bytes > 0;
	c->tx_tls_dump_bytes += res->dump_bytes;
	c->tx_tls_resent_packets += res->resent;
	c->tx_tls_resent_bytes += res->resent_bytes;
	c->tx_tls_records += res->records;
	c->tx_tls_log_evicted += res->evicted;
	c->tx_tls_dropped += res->shot;
	c->tx_tls_untracked += res->verdict == TLSHIM_TX_UNTRACKED;
}

/* The per-packet TX verdict on the event stream the receive side traces
 * to (TLSHIM_EV_SEGMENT, flow.dir TX), when tracing is on. */
static __always_inline void tx_trace_segment(const struct tlshim_pkt *pkt,
					     const struct tx_result *res, __u8 sync)
{
	struct tlshim_event *ev = bpf_ringbuf_reserve(&tlshim_events, sizeof(*ev), 0);

	if (!ev) {
		tlshim_count(tx_tls_events_lost, 1);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = TLSHIM_EV_SEGMENT;
	ev->seq = pkt->seq;
	ev->len = pkt->payload_len;
	ev->flow = pkt->flow;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->rec_sn = res->rec_sn;
	ev->verdict = res->verdict;
	ev->reason = res->drop_reason;
	ev->sync = sync;
	ev->headers = res->records;
	ev->tx_dump_bytes = res->dump_bytes;
	bpf_ringbuf_submit(ev, 0);
}

/* The whole transmit side for one frame; returns the tc action. */
static __always_inline int tx_segment(struct __sk_buff *skb, struct tlshim_pkt *pkt)
{
	struct tx_settings set;
	struct tx_result res;
	struct tlshim_tx_conn *conn;
	int i;

	pkt->flow.dir = TLSHIM_DIR_TX;
	conn = bpf_map_lookup_elem(&tlshim_tx_conns, &pkt->flow);
	if (!conn || pkt->payload_len == 0)
		return TLSHIM_TC_PASS;	/* ACK, SYN, FIN: nothing to encrypt */
	tx_settings_get(&set);
	for (i = 0; i < TX_COMMIT_ATTEMPTS; i++) {
		if (tx_attempt_noinline(skb, conn, pkt, &set, &res) == ATTEMPT_DONE)
			break;
		tlshim_count(tx_tls_state_retry, 1);
	}
	if (i == TX_COMMIT_ATTEMPTS) {
		/* The state kept changing under us: pass it unjudged. */
		__builtin_memset(&res, 0, sizeof(res));
		res.bytes = pkt->payload_len;
		res.verdict = TLSHIM_TX_UNTRACKED;
	}
	tx_count(&res);
	if (set.trace)
		tx_trace_segment(pkt, &res, conn->parser.sync);
	return res.shot ? TC_ACT_SHOT : TLSHIM_TC_PASS;
}

#endif /* TLSHIM_TX_H */
