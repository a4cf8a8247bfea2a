/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A TX connection under test and what the test expects of it.  The
 * expectation is kept as a "world": the stream offsets the device should be
 * at, which records the log should hold, and every counter; each step says
 * what it did to the world (read off the record layout by the test), and
 * tx_check compares the whole connection with it.
 */
#ifndef UNIT_TX_SCENARIO_H
#define UNIT_TX_SCENARIO_H

#include "dut.h"
#include "frame.h"
#include "harness.h"
#include "tls_stream.h"

/* A connection this host sends records on. */
struct tx_conn {
	struct flow flow;	/* this host -> the peer */
	struct frame_opts fo;
	struct tlshim_flow key;
	uint16_t version;
	uint16_t cipher;
	uint32_t seq0;		/* TCP seq of stream byte 0 */
	uint64_t sn0;		/* record number of the first record */
	bool enforce_drops;	/* --enforce-drops at install */
	const struct tls_stream *s;	/* bytes before records_from: pre-offload data */
};

/* What the device should hold and have counted. */
struct tx_world {
	struct tx_conn c;
	size_t expected_off;	/* stream offset of expected_seq */
	size_t sent_off;	/* of the highest byte seen leave, plus one */
	size_t first_logged;	/* index of the oldest record still in the log */
	uint32_t acked_seq;
	bool marker_live;
	enum tlshim_tx_verdict last_verdict;
	enum tlshim_tx_drop_reason last_drop_reason;
	enum tlshim_loss lost_reason;	/* TLSHIM_LOSS_NONE: the parser is in sync */
	uint32_t lost_at_seq, lost_seen_seq;
	struct tlshim_tx_stats stats;
	uint64_t state_retry;	/* tlshim_stats.tx_tls_state_retry */
};

/* What one segment did, as the test reads it off the layout. */
struct tx_step {
	enum tlshim_tx_verdict verdict;
	enum tlshim_tx_drop_reason drop_reason;
	uint32_t dump_bytes;
	bool shot;		/* TC_ACT_SHOT expected */
	uint32_t evicted;
	/* The device loses the byte stream here (a gap, a bad header at
	 * stream offset lost_at); the headers it parsed are given, not read
	 * off the layout. */
	enum tlshim_loss loses_stream;
	size_t lost_at;
	uint32_t records;
};

/* IPv4 TLS 1.2 AES-GCM-128 from a local port to a peer's 443. */
struct tx_conn tx_conn_new(const struct tls_stream *s, uint32_t seq0, uint64_t sn0);
/* tls_dev_add at stream offset records_from; the world starts there. */
bool tx_world_install(struct test *t, struct tx_world *w, const struct tx_conn *c);

/* Runs stream bytes [from, to) through tlshim_tx as one segment (gso_segs
 * > 0 marks it a GSO packet in the skb context) and checks that it gets
 * step's verdict and tc action, then updates the world: the counters step
 * implies, expected and sent offsets, records now complete.  Then tx_check. */
void tx_segment_step(struct test *t, struct tx_world *w, size_t from, size_t to,
		     const struct tx_step *step, uint32_t gso_segs);
/* The world after the device ran stream bytes [from, to) as one segment
 * and did step (for tests that send the segment some other way). */
void tx_world_segment(struct test *t, struct tx_world *w, size_t from, size_t to,
		      const struct tx_step *step);
/* The peer ACKs TCP seq ack (its pure ACK goes through tlshim_rx, the
 * receive side); the test says what the device should make of it: the
 * acked_seq after it (an ACK that changes it counts), the oldest record
 * still logged, whether the start marker still stands. */
void tx_ack_step(struct test *t, struct tx_world *w, uint32_t ack, uint32_t acked_after,
		 size_t first_logged_after, bool marker_live_after);

/* The whole connection and every tlshim_stats counter against the world. */
void tx_check(struct test *t, const struct tx_world *w);

/* Record `index` of the stream ends at or before stream offset off. */
size_t tx_records_complete(const struct tls_stream *s, size_t off);
/* Stream offset where record index starts. */
size_t tx_record_start(const struct tls_stream *s, size_t index);

/* The frame of stream bytes [from, to) of c (cap bytes of buf). */
size_t tx_frame(uint8_t *buf, size_t cap, const struct tx_conn *c, size_t from, size_t to);

#endif /* UNIT_TX_SCENARIO_H */
