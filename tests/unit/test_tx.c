// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The transmit side (tlshim_tx, bpf/tx.h) through BPF_PROG_TEST_RUN on
 * crafted sched_cls frames, and the receive side's ACK tracking through
 * tlshim_rx.  Every step states what the device must do with the segment
 * (verdict, replayed bytes, tc action), read off the record layout; after
 * every step the whole connection (expected/sent/acked seq, parser, every
 * log entry, every counter) and every global counter are compared.
 */
#include <errno.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include "tests.h"
#include "tx_scenario.h"

#define MSS	1448
#define SN0	11	/* away from 0: a device that confuses it with a count shows */

static const struct tx_step ENCRYPTED = { .verdict = TLSHIM_TX_ENCRYPTED };
static const struct tx_step SKIP = { .verdict = TLSHIM_TX_SKIP };

static struct tx_step resync(uint32_t dump_bytes)
{
	return (struct tx_step){ .verdict = TLSHIM_TX_RESYNC, .dump_bytes = dump_bytes };
}

static struct tx_step drop(enum tlshim_tx_drop_reason why, bool shot)
{
	return (struct tx_step){ .verdict = TLSHIM_TX_DROP, .drop_reason = why, .shot = shot };
}

static void seg(struct test *t, struct tx_world *w, size_t from, size_t to, struct tx_step step)
{
	tx_segment_step(t, w, from, to, &step, 0);
}

/* ---- in order ----------------------------------------------------------- */

struct tx_in_order_row {
	uint16_t lengths[8];	/* record length fields; 0 ends the list */
	size_t mss;		/* segments of at most this many bytes, */
	size_t cut_at[4];	/* or cut at these offsets (0 ends the list) */
	uint32_t seq0;
	bool ipv6;
	struct frame_opts fo;
};

/* Every segment encrypted, every completed record logged in order. */
static void tx_in_order(struct test *t)
{
	const struct tx_in_order_row *row = t->param;
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;
	struct cuts cuts;
	size_t n_at = 0;

	tls_stream_init(&s);
	for (size_t i = 0; i < 8 && row->lengths[i]; i++)
		tls_stream_record(&s, row->lengths[i]);
	while (n_at < 4 && row->cut_at[n_at])
		n_at++;
	cuts = row->mss ? cuts_mss(s.len, row->mss) : cuts_at(s.len, row->cut_at, n_at);
	c = tx_conn_new(&s, row->seq0, SN0);
	if (row->ipv6) {
		struct flow peer = flow_ipv6(c.flow.sport);

		c.flow = flow_reversed(&peer);
	}
	c.fo = row->fo;
	if (tx_world_install(t, &w, &c))
		for (size_t i = 0; i < cuts.n; i++)
			seg(t, &w, cuts.bounds[i], cuts.bounds[i + 1], ENCRYPTED);
	if (w.stats.records != s.nrec)
		FAIL(t, "the layout has %zu records, the device parsed %llu", s.nrec,
		     (unsigned long long)w.stats.records);
	tls_stream_free(&s);
}

/* ---- one frame, several records, as a GSO packet ------------------------ */

/* The largest skb data BPF_PROG_TEST_RUN takes for sched_cls: it builds a
 * linear skb in one page, so a 64 KiB GSO packet cannot go through it
 * (test_tx_gso.c sends real ones). */
static size_t test_run_skb_limit(const struct tx_conn *c, int *err_64k)
{
	static uint8_t frame[65536];
	size_t lo = 64, hi = sizeof(frame) - 1;
	struct tx_run r;

	memset(frame, 0, sizeof(frame));
	memcpy(frame + 12, "\x08\x06", 2);	/* ARP: passed untouched */
	r = dut_tx_run(frame, hi, 0, 0);
	*err_64k = r.err;
	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;

		r = dut_tx_run(frame, mid, 0, 0);
		if (r.err)
			hi = mid - 1;
		else
			lo = mid;
	}
	return lo;
}

static void tx_gso_frame_several_records(struct test *t)
{
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;
	size_t limit;
	int err_64k;

	tls_stream_init(&s);
	for (int i = 0; i < 20; i++)
		tls_stream_record(&s, 100 + i);	/* 20 records, 2100 + 190 bytes */
	tls_stream_record(&s, 1000);		/* and one that ends in the next segment */
	c = tx_conn_new(&s, 3000000, SN0);
	limit = test_run_skb_limit(&c, &err_64k);
	test_note(t, "sched_cls test_run takes skb data up to %zu bytes; 65535: %s", limit,
		  err_64k ? strerror(err_64k) : "accepted");
	if (!tx_world_install(t, &w, &c))
		goto out;
	/* gso_segs 2 in the context: one packet however many MSS it holds. */
	tx_segment_step(t, &w, 0, 2600, &ENCRYPTED, 2);
	EXPECT_EQ(t, 1, w.stats.encrypted_packets);
	EXPECT_EQ(t, 20, tx_records_complete(&s, 2600));
	tx_segment_step(t, &w, 2600, s.len, &ENCRYPTED, 0);
out:
	tls_stream_free(&s);
}

/* ---- retransmissions ------------------------------------------------------ */

/* Four records of 3000 bytes on the wire: A [0,3000) B [3000,6000)
 * C [6000,9000) D [9000,12000). */
static void four_3000_byte_records(struct tls_stream *s, size_t junk)
{
	tls_stream_init(s);
	if (junk)
		tls_stream_junk(s, junk);
	for (int i = 0; i < 4; i++)
		tls_stream_record(s, 2995);
}

static void tx_retransmission_replays_record_prefix(struct test *t)
{
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;

	four_3000_byte_records(&s, 0);
	c = tx_conn_new(&s, 5000000, SN0);
	if (!tx_world_install(t, &w, &c))
		goto out;
	for (size_t off = 0; off < 7000; off += 1000)
		seg(t, &w, off, off + 1000, ENCRYPTED);
	/* Inside A, logged: replay A's first 1500 bytes; continue from 2500. */
	seg(t, &w, 1500, 2500, resync(1500));
	/* The next retransmission starts where that one ended: in order. */
	seg(t, &w, 2500, 3500, ENCRYPTED);
	/* At B's first byte: resync without replaying anything. */
	seg(t, &w, 3000, 4000, resync(0));
	/* New data after a retransmission is out of order too (mlx5's
	 * continuation): replay C (the parser's record) up to 7000. */
	seg(t, &w, 7000, 8000, resync(1000));
	seg(t, &w, 8000, 9500, ENCRYPTED);	/* C ends, D's header */
	seg(t, &w, 6500, 7500, resync(500));	/* C, now logged */
	seg(t, &w, 9200, 9500, resync(200));	/* D, the parser's record */
	seg(t, &w, 9500, 12000, ENCRYPTED);	/* D ends the stream */
	seg(t, &w, 11000, 12000, resync(2000));	/* the tail, D logged */
	EXPECT_EQ(t, 6, w.stats.ooo);
	EXPECT_EQ(t, 1500 + 1000 + 500 + 200 + 2000, w.stats.dump_bytes);
out:
	tls_stream_free(&s);
}

/* tls-offload.rst "Transmission of pre-TLS data": records queued before
 * offload began leave after it, out of order and with no record state. */
static void tx_pre_offload_data_sent_as_is(struct test *t)
{
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;

	tls_stream_init(&s);
	tls_stream_junk(&s, 300);	/* the handshake's tail */
	tls_stream_record(&s, 995);
	tls_stream_record(&s, 995);
	c = tx_conn_new(&s, 7000000, SN0);
	c.enforce_drops = true;		/* skipping is not dropping */
	if (!tx_world_install(t, &w, &c))
		goto out;
	seg(t, &w, 0, 300, SKIP);	/* queued before, leaves after install */
	seg(t, &w, 300, 1300, ENCRYPTED);
	seg(t, &w, 100, 300, SKIP);	/* a handshake retransmission */
	seg(t, &w, 50, 250, SKIP);
	seg(t, &w, 1300, 2300, ENCRYPTED);	/* skips leave expected_seq alone */
out:
	tls_stream_free(&s);
}

struct tx_enforce_row {
	bool conn_flag;		/* conn add --enforce-drops */
	bool global_flag;	/* tlshim config set enforce-drops on */
};

static bool set_global_enforce(struct test *t, bool on, uint32_t record_log)
{
	struct tlshim_config cfg = { .initialized = 1, .decrypted_mark = TLSHIM_DEFAULT_MARK,
				     .max_conns = TLSHIM_DEFAULT_CAPACITY,
				     .flags = on ? TLSHIM_CFG_ENFORCE_DROPS : 0,
				     .tx_record_log = record_log };

	if (dut_config_put(&cfg)) {
		FAIL(t, "writing tlshim_config: %s", strerror(errno));
		return false;
	}
	return true;
}

/* A segment straddling the start marker: the NIC must drop it. */
static void tx_straddling_start_marker(struct test *t)
{
	const struct tx_enforce_row *row = t->param;
	bool shot = row->conn_flag || row->global_flag;
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;

	tls_stream_init(&s);
	tls_stream_junk(&s, 300);
	tls_stream_record(&s, 995);	/* [300, 1300) */
	tls_stream_record(&s, 995);	/* [1300, 2300) */
	c = tx_conn_new(&s, 9000000, SN0);
	c.enforce_drops = row->conn_flag;
	if (!set_global_enforce(t, row->global_flag, 0) || !tx_world_install(t, &w, &c))
		goto out;
	/* The first segment already straddles: dropped, and its new bytes are
	 * walked only if they really leave. */
	seg(t, &w, 250, 800, drop(TLSHIM_TX_DROP_STRADDLE, shot));
	if (shot) {
		seg(t, &w, 250, 800, drop(TLSHIM_TX_DROP_STRADDLE, true));	/* TCP resends */
		seg(t, &w, 300, 800, ENCRYPTED);
	} else {
		/* Not dropped: the bytes left, expected_seq did not move. */
		seg(t, &w, 800, 1300, resync(500));
	}
	seg(t, &w, w.sent_off, 1800, ENCRYPTED);
	seg(t, &w, 200, 400, drop(TLSHIM_TX_DROP_STRADDLE, shot));
	seg(t, &w, 0, 300, SKIP);		/* never dropped */
	seg(t, &w, 400, 500, resync(100));	/* never dropped */
out:
	tls_stream_free(&s);
}

/* The peer's ACKs (seen by tlshim_rx) free records; a retransmission into
 * a freed record has nothing to replay. */
static void tx_retransmission_after_ack(struct test *t)
{
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;
	uint32_t seq0 = 11000000;

	tls_stream_init(&s);
	tls_stream_junk(&s, 200);
	for (int i = 0; i < 3; i++)
		tls_stream_record(&s, 995);	/* A [200,1200) B [1200,2200) C [2200,3200) */
	c = tx_conn_new(&s, seq0, SN0);
	if (!tx_world_install(t, &w, &c))
		goto out;
	seg(t, &w, 200, 700, ENCRYPTED);
	seg(t, &w, 700, 1700, ENCRYPTED);
	seg(t, &w, 1700, 2700, ENCRYPTED);

	tx_ack_step(t, &w, seq0 + 100, seq0 + 200, 0, true);	/* below the marker: nothing */
	/* At start_seq: acked_seq starts there, so it moves nothing (tcp_ack
	 * frees only on an ACK that moves snd_una). */
	tx_ack_step(t, &w, seq0 + 200, seq0 + 200, 0, true);
	tx_ack_step(t, &w, seq0 + 1300, seq0 + 1300, 1, false);	/* frees marker and A */
	seg(t, &w, 700, 1200, drop(TLSHIM_TX_DROP_ACKED, false));
	seg(t, &w, 1250, 1700, resync(50));	/* B is only partly ACKed */
	seg(t, &w, 0, 200, drop(TLSHIM_TX_DROP_ACKED, false));	/* marker freed */
	tx_ack_step(t, &w, seq0 + 5000, seq0 + 1300, 1, false);	/* beyond what left */
	tx_ack_step(t, &w, seq0 + 2200, seq0 + 2200, 2, false);	/* B ends where C starts */
	/* At expected_seq the device has the crypto state: no lookup, so a
	 * freed record does not matter (mlx5 checks expected_seq first). */
	seg(t, &w, 1700, 1800, ENCRYPTED);
	seg(t, &w, 1900, 2200, drop(TLSHIM_TX_DROP_ACKED, false));
	/* A FIN's seq, one beyond the data: counts up to the data. */
	tx_ack_step(t, &w, seq0 + 2701, seq0 + 2700, 2, false);
	tx_ack_step(t, &w, seq0 + 2000, seq0 + 2700, 2, false);	/* old */
	seg(t, &w, 2700, 3200, resync(500));
out:
	tls_stream_free(&s);
}

/* Sequence numbers wrap at 2^32 in every comparison: marker, log, ACKs. */
static void tx_seq_wraparound(struct test *t)
{
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;
	uint32_t seq0 = 0u - 164;	/* the start marker at 0xffffffc0 */

	tls_stream_init(&s);
	tls_stream_junk(&s, 100);
	for (int i = 0; i < 3; i++)
		tls_stream_record(&s, 995);	/* A [100,1100) B [1100,2100) C [2100,3100) */
	c = tx_conn_new(&s, seq0, SN0);		/* seq 0 is stream offset 164, in A */
	if (!tx_world_install(t, &w, &c))
		goto out;
	seg(t, &w, 100, 700, ENCRYPTED);
	seg(t, &w, 700, 1500, ENCRYPTED);
	seg(t, &w, 1500, 2300, ENCRYPTED);
	seg(t, &w, 0, 100, SKIP);			/* before a marker at 0xffffffa0 */
	seg(t, &w, 50, 200, drop(TLSHIM_TX_DROP_STRADDLE, false));
	seg(t, &w, 150, 400, resync(50));		/* across seq 0, inside A */
	tx_ack_step(t, &w, seq0 + 1200, seq0 + 1200, 1, false);	/* wrapped: frees A */
	seg(t, &w, 150, 300, drop(TLSHIM_TX_DROP_ACKED, false));
	seg(t, &w, 1200, 1300, resync(100));
	seg(t, &w, 2300, 3100, resync(200));
out:
	tls_stream_free(&s);
}

/* A full log evicts its oldest record; a retransmission into it is
 * dropped even though the peer never ACKed it. */
static void tx_log_eviction(struct test *t)
{
	static const struct tx_step evict_one = { .verdict = TLSHIM_TX_ENCRYPTED, .evicted = 1 };
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;

	tls_stream_init(&s);
	for (int i = 0; i < 6; i++)
		tls_stream_record(&s, 95);	/* record i at [100 i, 100 i + 100) */
	c = tx_conn_new(&s, 13000000, SN0);
	if (!set_global_enforce(t, false, 3) || !tx_world_install(t, &w, &c))
		goto out;
	seg(t, &w, 0, 100, ENCRYPTED);
	seg(t, &w, 100, 200, ENCRYPTED);
	seg(t, &w, 200, 300, ENCRYPTED);
	seg(t, &w, 300, 400, evict_one);
	seg(t, &w, 400, 500, evict_one);
	seg(t, &w, 500, 600, evict_one);
	seg(t, &w, 50, 100, drop(TLSHIM_TX_DROP_EVICTED, false));
	seg(t, &w, 250, 300, drop(TLSHIM_TX_DROP_EVICTED, false));
	seg(t, &w, 350, 400, resync(50));
	EXPECT_EQ(t, 3, w.stats.evicted);
out:
	tls_stream_free(&s);
}

/* Three records end in one segment: two pushed out at once. */
static void tx_log_eviction_several_at_once(struct test *t)
{
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;

	tls_stream_init(&s);
	for (int i = 0; i < 6; i++)
		tls_stream_record(&s, 95);
	c = tx_conn_new(&s, 14000000, SN0);
	if (!set_global_enforce(t, false, 3) || !tx_world_install(t, &w, &c))
		goto out;
	seg(t, &w, 0, 100, ENCRYPTED);
	seg(t, &w, 100, 200, ENCRYPTED);
	seg(t, &w, 200, 550, (struct tx_step){ .verdict = TLSHIM_TX_ENCRYPTED, .evicted = 2 });
	seg(t, &w, 550, 600, (struct tx_step){ .verdict = TLSHIM_TX_ENCRYPTED, .evicted = 1 });
	seg(t, &w, 150, 200, drop(TLSHIM_TX_DROP_EVICTED, false));
	seg(t, &w, 310, 320, resync(10));
out:
	tls_stream_free(&s);
}

/* Bytes that left without passing the device: it cannot tell records
 * apart any more, and passes everything unjudged (never drops it). */
static void tx_gap_loses_stream(struct test *t)
{
	static const struct tx_step untracked = { .verdict = TLSHIM_TX_UNTRACKED };
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;

	tls_stream_init(&s);
	tls_stream_record(&s, 995);
	tls_stream_record(&s, 995);
	c = tx_conn_new(&s, 15000000, SN0);
	c.enforce_drops = true;
	if (!tx_world_install(t, &w, &c))
		goto out;
	seg(t, &w, 0, 500, ENCRYPTED);
	seg(t, &w, 700, 900, (struct tx_step){ .verdict = TLSHIM_TX_UNTRACKED,
					       .loses_stream = TLSHIM_LOSS_GAP, .lost_at = 500 });
	seg(t, &w, 900, 1000, untracked);
	seg(t, &w, 500, 700, untracked);
	seg(t, &w, 1000, 2000, untracked);
out:
	tls_stream_free(&s);
}

static void tx_bad_header_loses_stream(struct test *t)
{
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;

	tls_stream_init(&s);
	tls_stream_record(&s, 995);				/* [0, 1000) */
	tls_stream_record(&s, 40);				/* [1000, 1045) */
	tls_stream_record_raw(&s, TLS_CT_APPLICATION_DATA, 0x0301, 100, 100);	/* 1045 */
	tls_stream_record(&s, 200);				/* [1150, 1355) */
	c = tx_conn_new(&s, 16000000, SN0);
	if (!tx_world_install(t, &w, &c))
		goto out;
	seg(t, &w, 0, 1000, ENCRYPTED);
	seg(t, &w, 1000, 1150, (struct tx_step){ .verdict = TLSHIM_TX_UNTRACKED, .records = 1,
						 .loses_stream = TLSHIM_LOSS_BAD_HEADER,
						 .lost_at = 1045 });
	seg(t, &w, 1150, s.len, (struct tx_step){ .verdict = TLSHIM_TX_UNTRACKED });
out:
	tls_stream_free(&s);
}

/* Segments without payload are not the device's business. */
static void tx_no_payload_ignored(struct test *t)
{
	static const uint8_t flags[] = { TCP_ACK, TCP_SYN, TCP_ACK | TCP_FIN };
	uint8_t frame[FRAME_MAX];
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;

	tls_stream_init(&s);
	tls_stream_record(&s, 995);
	c = tx_conn_new(&s, 17000000, SN0);
	if (!tx_world_install(t, &w, &c))
		goto out;
	for (size_t i = 0; i < sizeof(flags); i++) {
		struct frame_opts fo = { .tcp_flags = flags[i] };
		size_t len = frame_build(frame, &w.c.flow, &fo, c.seq0 + 5, NULL, 0);
		struct tx_run r = dut_tx_run(frame, len, 0, 0);

		test_context(t, "flags 0x%x", flags[i]);
		EXPECT_EQ(t, 0, r.err);
		EXPECT_EQ(t, (uint32_t)TLSHIM_TC_PASS, r.retval);
		tx_check(t, &w);
	}
	test_context(t, "%s", "");
	seg(t, &w, 0, s.len, ENCRYPTED);
out:
	tls_stream_free(&s);
}

#define TX_IN_ORDER(name, ...) \
	{ name, tx_in_order, &(const struct tx_in_order_row){ __VA_ARGS__ } }
#define FIVE_RECORDS .lengths = { 3000, 500, 24, 16408, 100 }

const struct test_case tx_tests[] = {
	TX_IN_ORDER("tx_in_order_records_over_many_segments", FIVE_RECORDS, .mss = MSS,
		    .seq0 = 1000000),
	TX_IN_ORDER("tx_in_order_ipv6_vlan_tcp_options", FIVE_RECORDS, .mss = MSS,
		    .seq0 = 1000000, .ipv6 = true,
		    .fo = { .encap = ENCAP_VLAN, .tcp_doff = 8 }),
	/* Record 2's header starts at 45: split after each of its bytes. */
	TX_IN_ORDER("tx_in_order_header_split_1", .lengths = { 40, 50, 30 }, .cut_at = { 46 },
		    .seq0 = 77777),
	TX_IN_ORDER("tx_in_order_header_split_3_ways", .lengths = { 40, 50, 30 },
		    .cut_at = { 46, 48 }, .seq0 = 77777),
	TX_IN_ORDER("tx_in_order_seq_wrap", FIVE_RECORDS, .mss = MSS, .seq0 = 0u - 5000),
	{ "tx_gso_frame_several_records", tx_gso_frame_several_records, NULL },
	{ "tx_retransmission_replays_record_prefix", tx_retransmission_replays_record_prefix, NULL },
	{ "tx_pre_offload_data_sent_as_is", tx_pre_offload_data_sent_as_is, NULL },
	{ "tx_straddling_start_marker_counted", tx_straddling_start_marker,
	  &(const struct tx_enforce_row){ false, false } },
	{ "tx_straddling_start_marker_enforced_per_connection", tx_straddling_start_marker,
	  &(const struct tx_enforce_row){ true, false } },
	{ "tx_straddling_start_marker_enforced_globally", tx_straddling_start_marker,
	  &(const struct tx_enforce_row){ false, true } },
	{ "tx_retransmission_after_ack", tx_retransmission_after_ack, NULL },
	{ "tx_seq_wraparound", tx_seq_wraparound, NULL },
	{ "tx_log_eviction", tx_log_eviction, NULL },
	{ "tx_log_eviction_several_at_once", tx_log_eviction_several_at_once, NULL },
	{ "tx_gap_loses_stream", tx_gap_loses_stream, NULL },
	{ "tx_bad_header_loses_stream", tx_bad_header_loses_stream, NULL },
	{ "tx_no_payload_ignored", tx_no_payload_ignored, NULL },
};
const size_t n_tx_tests = sizeof(tx_tests) / sizeof(tx_tests[0]);
