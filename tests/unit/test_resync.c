// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * RX resync, segment by segment: the two figures of tls-offload.rst
 * ("Resync handling / RX"), each policy on one scripted loss pattern with
 * exact counters, and the edge cases (no answer, stale answer, ring buffer
 * full, a header look-alike, sequence wrap).  The kernel's half is the
 * loader's resync service (user/resync.c) on the test's private maps,
 * polled between packets, answering from truth written into
 * tlshim_rec_log; or resync_answer() by hand.
 *
 * Expected values are read off the stream layout the test built; the
 * numbers in comments are stream offsets (seq - SEQ0).
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tests.h"
#include "resync_env.h"

#define SEQ0	1000000u
#define SN0	40
#define MSS	1448
/* tls-offload.rst: scanning starts once the stream is more than one
 * max-size record (TLS 1.2 AES-GCM: 5 + 16408 bytes) past the loss. */
#define SCAN_DISTANCE (TLS_HEADER_SIZE + 16408)

/* One segment's descriptor. */
static void expect_seg(struct test *t, const struct rx_run *r, enum tlshim_verdict verdict,
		       enum tlshim_pass_reason reason, unsigned headers, enum tlshim_sync sync)
{
	if (!expect_descriptor(t, r))
		return;
	EXPECT_EQ(t, verdict, r->meta.verdict);
	EXPECT_EQ(t, reason, r->meta.reason);
	EXPECT_EQ(t, headers, r->meta.headers);
	EXPECT_EQ(t, sync, r->meta.sync);
}

/* In sync with stream byte off next, after a resync: the loss fields keep
 * the last loss (tlshim.h: "why the device last lost the stream"). */
static void expect_resynced_at(struct test *t, const struct tls_conn *c, size_t off,
			       const struct tlshim_stream *last_loss)
{
	struct tlshim_stream expected = stream_in_sync_at(c, off);
	struct tlshim_conn conn;

	expected.lost_reason = last_loss->lost_reason;
	expected.lost_at_seq = last_loss->lost_at_seq;
	expected.lost_seen_seq = last_loss->lost_seen_seq;
	if (tls_conn_read(t, c, &conn)) {
		expect_stream(t, &expected, &conn.st);
		EXPECT_EQ(t, 1, conn.st.rec_ok);
	}
}

static bool answer_pending(struct test *t, const struct rs *rs, const struct tls_conn *c,
			   struct tlshim_resync_resp *resp)
{
	return !bpf_map_lookup_elem(rs->maps.resync_resp, &c->key, resp);
}

/* Segment i of a stream cut in MSS-sized pieces. */
static struct rx_run send_seg(struct test *t, struct rs *rs, const struct tls_conn *c, size_t i)
{
	size_t from = i * MSS, to = from + MSS < c->s->len ? from + MSS : c->s->len;

	test_context(t, "segment %zu (bytes %zu..%zu)", i, from, to);
	return rs_send(t, rs, c, from, to);
}

static size_t n_segs(const struct tls_stream *s)
{
	return (s->len + MSS - 1) / MSS;
}

/* ------------------------------------------------------------------ */
/*
 * Figure 1, "reorder of non-header segment": segment 1 is decrypted,
 * segment 2 is late, segment 3 holds the rest of record 0 and the start of
 * record 1.  The device knows record 1 starts inside 3 from record 0's
 * length: it keeps sync, passes 3 (record 0 cannot be finished), decrypts 4
 * and 5, and passes 2 untouched when it finally arrives.
 *   record 0: 0..3005, record 1: 3005..8010, record 2: 8010..9015
 *   segments: 1 = 0..1448, 2 = 1448..2896, 3 = 2896..4344,
 *             4 = 4344..5792, 5 = 5792..7240
 */
static void figure1_reorder_non_header(struct test *t)
{
	struct tlshim_counters expected = { 0 };
	struct tlshim_conn before, conn;
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;

	rs_clear();
	tls_stream_init(&s);
	tls_stream_record(&s, 3000);
	tls_stream_record(&s, 5000);
	tls_stream_record(&s, 1000);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!rs_open(t, &rs, true) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN) ||
	    !rs_truth_all(t, &c))
		goto out;

	test_context(t, "%s", "segment 1");
	r = rs_send(t, &rs, &c, 0, 1448);
	expect_decrypted(t, &r, &c, 0, 1448);
	expect_in_sync_at(t, &c, 1448);

	test_context(t, "%s", "segment 3, segment 2 missing");
	r = rs_send(t, &rs, &c, 2896, 4344);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_DAMAGED, 1, TLSHIM_SYNC_IN_SYNC);
	expect_in_sync_at(t, &c, 4344);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 1, conn.st.rec_ok);		/* record 1 opened in sync */
	EXPECT_EQ(t, SN0 + 1, conn.st.rec_sn);

	for (size_t from = 4344; from < 7240; from += 1448) {
		test_context(t, "segment %zu", from / 1448 + 1);
		r = rs_send(t, &rs, &c, from, from + 1448);
		expect_decrypted(t, &r, &c, from, from + 1448);
		EXPECT_EQ(t, SN0 + 1, r.meta.rec_sn);
		expect_in_sync_at(t, &c, from + 1448);
	}

	test_context(t, "%s", "segment 2, late");
	before = rs_conn(t, &c);
	r = rs_send(t, &rs, &c, 1448, 2896);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_OLD, 0, TLSHIM_SYNC_IN_SYNC);
	conn = rs_conn(t, &c);
	expect_state_unchanged(t, &before, &conn);

	test_context(t, "%s", "totals");
	EXPECT_EQ(t, 3, conn.stats.decrypted_packets);
	EXPECT_EQ(t, 2, conn.stats.passed_packets);
	EXPECT_EQ(t, 1, conn.stats.old_packets);
	EXPECT_EQ(t, 0, conn.stats.lost_sync);
	EXPECT_EQ(t, 0, conn.stats.unsynced_packets);
	EXPECT_EQ(t, 0, conn.stats.resync_requests);
	expected.rx_tls_decrypted_packets = 3;
	expected.rx_tls_decrypted_bytes = 3 * 1448;
	expected.rx_tls_passed_packets = 2;
	expected.rx_tls_old_packets = 1;
	expected.rx_tls_records = 2;
	expected.rx_tls_resync_kept_sync = 1;
	expect_counters(t, &expected);
	EXPECT_EQ(t, 0, resync_service_stats(rs.svc)->events);
	test_context(t, "%s", "");
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

/* ------------------------------------------------------------------ */
/*
 * Figure 2, "reorder of segment with a TLS header", carried through to the
 * resync.  12 records of 3000 bytes (3005 with the header: record k starts
 * at 3005k), cut at MSS 1448: segment i = 1448i..1448(i+1).
 *   2   2896..4344   holds record 1's header (3005): lost, arrives last
 *   3   4344..5792   reveals the hole, which runs past record 0's end: lost
 *                    at 2896; scanning may start at 2896 + 16413 = 19309
 *   4..12            passed, lost (segment 12 ends at 18824 < 19309)
 *   13  18824..20272 reaches 19309: scanning from there; no header
 *                    (18030, 21035) lies in 19309..20272
 *   14  20272..21720 header of record 7 at 21035: the guess (record 0 of
 *                    the count), chain 1, tracking
 *   15  21720..23168 record 7's body
 *   16  23168..24616 header of record 8 at 24040: chain 2, request with
 *                    seq 21035 + 4; the count is 1.  The kernel's half
 *                    answers SN0 + 7 (from the truth, or by hand).
 *   17  24616..26064 the answer applied: record 8 is SN0 + 1 + 7, in sync,
 *                    and this segment, in order mid-record, is decrypted
 *   18..24           decrypted
 */
struct figure2_row {
	uint32_t seq0;
	bool by_hand;		/* resync_answer() instead of the service */
};

static void figure2_loss_of_header(struct test *t)
{
	const struct figure2_row *row = t->param;
	struct tlshim_counters expected = { 0 };
	struct tlshim_resync_resp resp;
	struct tlshim_conn conn;
	struct tlshim_stream loss = { .lost_reason = TLSHIM_LOSS_GAP };
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;
	uint32_t seq0 = row->seq0;
	size_t i;

	rs_clear();
	tls_stream_init(&s);
	for (i = 0; i < 12; i++)
		tls_stream_record(&s, 3000);
	c = tls_conn_new(&s, seq0, SN0);
	if (!rs_open(t, &rs, !row->by_hand) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN) ||
	    !rs_truth_all(t, &c))
		goto out;
	REQUIRE(t, n_segs(&s) == 25, "layout: %zu segments", n_segs(&s));
	loss.lost_at_seq = seq0 + 2896;
	loss.lost_seen_seq = seq0 + 4344;

	for (i = 0; i < 2; i++) {
		r = send_seg(t, &rs, &c, i);
		expect_decrypted(t, &r, &c, i * MSS, (i + 1) * MSS);
		expect_in_sync_at(t, &c, (i + 1) * MSS);
		expected.rx_tls_decrypted_packets++;
		expected.rx_tls_decrypted_bytes += MSS;
		expected.rx_tls_records += tls_stream_headers_in(&s, i * MSS, (i + 1) * MSS);
	}

	r = send_seg(t, &rs, &c, 3);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_GAP, 0, TLSHIM_SYNC_LOST);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, TLSHIM_SYNC_LOST, conn.st.sync);
	EXPECT_EQ(t, TLSHIM_LOSS_GAP, conn.st.lost_reason);
	EXPECT_EQ(t, seq0 + 2896, conn.st.lost_at_seq);
	EXPECT_EQ(t, seq0 + 4344, conn.st.lost_seen_seq);
	EXPECT_EQ(t, seq0 + 2896 + SCAN_DISTANCE, conn.st.scan_from_seq);
	EXPECT_EQ(t, seq0 + 5792, conn.st.expected_seq);

	for (i = 4; i <= 12; i++) {
		r = send_seg(t, &rs, &c, i);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_LOST);
	}
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, seq0 + 13 * MSS, conn.st.expected_seq);

	r = send_seg(t, &rs, &c, 13);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_SCANNING);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, TLSHIM_SYNC_SCANNING, conn.st.sync);
	EXPECT_EQ(t, seq0 + 14 * MSS, conn.st.expected_seq);

	r = send_seg(t, &rs, &c, 14);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_TRACKING);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, rec_seq(&c, 7), conn.st.resync_seq);
	EXPECT_EQ(t, rec_seq(&c, 7), conn.st.rec_start_seq);
	EXPECT_EQ(t, 3005, conn.st.rec_len);
	EXPECT_EQ(t, 15 * MSS - 21035, conn.st.rec_offset);
	EXPECT_EQ(t, 0, conn.st.rec_sn);
	EXPECT_EQ(t, 1, conn.st.chain);
	EXPECT_EQ(t, seq0 + 15 * MSS, conn.st.expected_seq);

	r = send_seg(t, &rs, &c, 15);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_TRACKING);
	if (rs.svc)
		EXPECT_EQ(t, 0, resync_service_stats(rs.svc)->requests);

	r = send_seg(t, &rs, &c, 16);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_REQUESTED);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, TLSHIM_SYNC_REQUESTED, conn.st.sync);
	EXPECT_EQ(t, 2, conn.st.chain);
	EXPECT_EQ(t, 1, conn.st.rec_sn);		/* record 8 is one after the guess */
	EXPECT_EQ(t, rec_seq(&c, 8), conn.st.rec_start_seq);
	EXPECT_EQ(t, 1, conn.stats.resync_requests);
	if (row->by_hand) {
		int rc = resync_answer(&rs.maps, &c.key, TLSHIM_EV_RESYNC_REQ,
				       rec_seq(&c, 7) + TLS_HEADER_SIZE - 1, SN0 + 7);

		EXPECT_EQ(t, 0, rc);
	} else {
		const struct resync_stats *st = resync_service_stats(rs.svc);

		EXPECT_EQ(t, 1, st->requests);
		EXPECT_EQ(t, 1, st->answered);
	}
	if (EXPECT_TRUE(t, answer_pending(t, &rs, &c, &resp))) {
		EXPECT_EQ(t, TLSHIM_EV_RESYNC_REQ, resp.kind);
		EXPECT_EQ(t, rec_seq(&c, 7) + TLS_HEADER_SIZE - 1, resp.tcp_seq);
		EXPECT_EQ(t, SN0 + 7, resp.rec_sn);
	}

	r = send_seg(t, &rs, &c, 17);
	expect_decrypted(t, &r, &c, 17 * MSS, 18 * MSS);
	EXPECT_EQ(t, SN0 + 8, r.meta.rec_sn);
	expect_resynced_at(t, &c, 18 * MSS, &loss);
	EXPECT_TRUE(t, !answer_pending(t, &rs, &c, &resp));	/* used up */
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 1, conn.stats.resync_confirmed);
	EXPECT_TRUE(t, conn.stats.out_of_sync_ns > 0);

	for (i = 18; i < n_segs(&s); i++) {
		size_t to = (i + 1) * MSS < s.len ? (i + 1) * MSS : s.len;

		r = send_seg(t, &rs, &c, i);
		expect_decrypted(t, &r, &c, i * MSS, to);
		expect_resynced_at(t, &c, to, &loss);
		expected.rx_tls_decrypted_packets++;
		expected.rx_tls_decrypted_bytes += to - i * MSS;
		expected.rx_tls_records += tls_stream_headers_in(&s, i * MSS, to);
	}

	test_context(t, "%s", "segment 2, late");
	r = rs_send(t, &rs, &c, 2 * MSS, 3 * MSS);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_OLD, 0, TLSHIM_SYNC_IN_SYNC);
	expect_resynced_at(t, &c, s.len, &loss);

	test_context(t, "%s", "totals");
	expected.rx_tls_decrypted_packets++;		/* segment 17 */
	expected.rx_tls_decrypted_bytes += MSS;
	expected.rx_tls_passed_packets = 14 + 1;	/* 3..16, and the late 2 */
	expected.rx_tls_old_packets = 1;
	expected.rx_tls_records += 2;			/* walked while tracking: 7, 8 */
	expected.rx_tls_lost_sync = 1;
	expected.rx_tls_resync_req_pkt = 1;
	expected.rx_tls_resync_res_ok = 1;
	expect_counters(t, &expected);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 14, conn.stats.unsynced_packets);
	EXPECT_EQ(t, 14 * MSS, conn.stats.unsynced_bytes);
	EXPECT_EQ(t, 1, conn.stats.resync_requests);
	EXPECT_EQ(t, 1, conn.stats.resync_confirmed);
	EXPECT_EQ(t, 0, conn.stats.resync_abandoned);
	EXPECT_EQ(t, 0, conn.stats.resync_stale);
	test_context(t, "%s", "");
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

/* ------------------------------------------------------------------ */
/*
 * Each policy on the same traffic, exact counters.  TLS 1.2 AES-GCM-128,
 * MSS 1448 (42 segments), config resync_headers 2, resync_timeout_records 8.
 *   records 0..8:   2000 bytes (2005): record k at 2005k, 0..18045
 *   records 9..56:  48 of minimum length 24 (29 bytes): 18045..19437
 *   records 57..76: 2000 bytes: record k at 19437 + 2005(k - 57)
 * Segment i = 1448i..1448(i+1); segment 2 (2896..4344, record 2's header
 * at 4010) is lost and retransmitted after segment 5, where it is old.
 * Segment 3 reveals the hole past record 1's end: lost at 2896, for every
 * policy.  Then:
 *  stream-scan: scanning may start at 2896 + 16413 = 19309, inside segment
 *    13 (18824..20272); the first header from there is record 53 at 19321;
 *    the chain (53..57) holds within the segment: request (seq 19325),
 *    count 4.  Answer SN0 + 53; segment 14 (mid record 57) is decrypted.
 *    Decrypted 0, 1, 14..41 = 30; passed 3..13 + the old 2 = 12.
 *  async: the same guess, START (18824, 1448) and END (19321) in segment 13,
 *    but 17 record starts (36..52) precede 19321 in that packet: the
 *    kernel logs only the first 13, so no answer.  8 records after the
 *    guess (53..60, record 60 ends at 27457 in segment 18) the request is
 *    abandoned; segment 19 (27512..28960) holds no header; segment 20 finds
 *    record 62 (29462): START (28960, 1448); segment 21 holds record 63's
 *    header: END (29462), answered (no start before it in its packet);
 *    segment 22 confirmed and decrypted.  Decrypted 2 + 20 = 22.
 *  next-hint: the kernel's half counts records that arrived with no byte
 *    decrypted: record 2 (done when segment 4 passes 6015) resets the
 *    count to 1, record 3 makes 2, record 4 (segment 6) makes 3 > 2: the
 *    hint is due; record 5 (10025..12030) has not ended yet, so the hint is
 *    record 6 at 12030, SN0 + 6.  Segment 7 ends before it (wait); segment
 *    8 (11584..13032) covers it: in sync there, passed as PARTIAL (its
 *    first bytes belong to record 5); 9..41 decrypted: 35.
 *  none: lost for good: decrypted 2.
 */
struct policy_expect {
	uint8_t policy;
	uint64_t decrypted, passed, unsynced;
	uint64_t requests, confirmed, abandoned, stale;
	uint64_t req_pkt, req_start, req_end, req_skip, res_ok, res_skip;
	uint64_t first_decrypted_again;	/* segment index, 0: never */
};

static void policy_stream(struct tls_stream *s)
{
	tls_stream_init(s);
	for (int i = 0; i < 9; i++)
		tls_stream_record(s, 2000);
	for (int i = 0; i < 48; i++)
		tls_stream_record(s, 24);
	for (int i = 0; i < 20; i++)
		tls_stream_record(s, 2000);
}

static void policy_same_traffic(struct test *t)
{
	const struct policy_expect *e = t->param;
	struct tlshim_counters g;
	struct tlshim_conn conn;
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;
	uint64_t first_again = 0, decrypted = 0, passed = 0, dec_bytes = 0, headers = 0;
	bool lost = false;

	rs_clear();
	policy_stream(&s);
	c = tls_conn_new(&s, SEQ0, SN0);
	REQUIRE(t, !rs_config(2, 8, 0), "writing the config: %s", strerror(errno));
	if (!rs_open(t, &rs, true) || !rs_install(t, &c, e->policy) || !rs_truth_all(t, &c))
		goto out;
	for (size_t i = 0; i < n_segs(&s); i++) {
		size_t to = (i + 1) * MSS < s.len ? (i + 1) * MSS : s.len;

		if (i == 2)
			continue;
		r = send_seg(t, &rs, &c, i);
		if (!expect_descriptor(t, &r))
			break;
		lost |= r.meta.sync != TLSHIM_SYNC_IN_SYNC;
		if (r.meta.verdict == TLSHIM_VERDICT_DECRYPTED) {
			expect_decrypted(t, &r, &c, i * MSS, to);
			decrypted++;
			dec_bytes += to - i * MSS;
			if (lost && !first_again)
				first_again = i;
		} else {
			passed++;
		}
		headers += r.meta.headers;
		if (i == 5) {
			test_context(t, "%s", "segment 2, retransmitted");
			r = rs_send(t, &rs, &c, 2 * MSS, 3 * MSS);
			if (expect_descriptor(t, &r)) {
				EXPECT_EQ(t, TLSHIM_VERDICT_PASSED, r.meta.verdict);
				EXPECT_EQ(t, TLSHIM_PASS_OLD, r.meta.reason);
			}
			passed++;
		}
	}
	test_context(t, "%s", "totals");
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, e->first_decrypted_again, first_again);
	EXPECT_EQ(t, e->decrypted, decrypted);
	EXPECT_EQ(t, e->passed, passed);
	EXPECT_EQ(t, e->decrypted, conn.stats.decrypted_packets);
	EXPECT_EQ(t, dec_bytes, conn.stats.decrypted_bytes);
	EXPECT_EQ(t, e->passed, conn.stats.passed_packets);
	EXPECT_EQ(t, 1, conn.stats.old_packets);
	EXPECT_EQ(t, 1, conn.stats.lost_sync);
	EXPECT_EQ(t, headers, conn.stats.records);
	EXPECT_EQ(t, e->unsynced, conn.stats.unsynced_packets);
	EXPECT_EQ(t, e->requests, conn.stats.resync_requests);
	EXPECT_EQ(t, e->confirmed, conn.stats.resync_confirmed);
	EXPECT_EQ(t, e->abandoned, conn.stats.resync_abandoned);
	EXPECT_EQ(t, e->stale, conn.stats.resync_stale);
	if (!dut_counters_read(&g)) {
		EXPECT_EQ(t, e->decrypted, g.rx_tls_decrypted_packets);
		EXPECT_EQ(t, e->passed, g.rx_tls_passed_packets);
		EXPECT_EQ(t, e->req_pkt, g.rx_tls_resync_req_pkt);
		EXPECT_EQ(t, e->req_start, g.rx_tls_resync_req_start);
		EXPECT_EQ(t, e->req_end, g.rx_tls_resync_req_end);
		EXPECT_EQ(t, e->req_skip, g.rx_tls_resync_req_skip);
		EXPECT_EQ(t, e->res_ok, g.rx_tls_resync_res_ok);
		EXPECT_EQ(t, e->res_skip, g.rx_tls_resync_res_skip);
		EXPECT_EQ(t, 0, g.rx_tls_resync_req_lost);
		EXPECT_EQ(t, 1, g.rx_tls_lost_sync);
	}
	test_note(t, "%s: decrypted %llu of %zu segments, first again at segment %llu; "
		  "requests %llu, confirmed %llu, abandoned %llu, unsynced %llu",
		  policy_name(e->policy), (unsigned long long)decrypted, n_segs(&s),
		  (unsigned long long)first_again, (unsigned long long)conn.stats.resync_requests,
		  (unsigned long long)conn.stats.resync_confirmed,
		  (unsigned long long)conn.stats.resync_abandoned,
		  (unsigned long long)conn.stats.unsynced_packets);
	test_context(t, "%s", "");
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}


/* ------------------------------------------------------------------ */
/* Edge cases.  Most reuse figure 2's layout: records of 3000 bytes
 * (record k at 3005k), segment 2 lost, lost at 2896, scanning from 19309,
 * guess record 7 in segment 14, its chain complete in segment 16. */

static void fig2_stream(struct tls_stream *s, size_t records)
{
	tls_stream_init(s);
	for (size_t i = 0; i < records; i++)
		tls_stream_record(s, 3000);
}

/* Segments first..last (inclusive) in order, segment 2 skipped; the
 * descriptor of the last. */
static struct rx_run send_range(struct test *t, struct rs *rs, const struct tls_conn *c,
				size_t first, size_t last)
{
	struct rx_run r = { 0 };

	for (size_t i = first; i <= last; i++)
		if (i != 2)
			r = send_seg(t, rs, c, i);
	return r;
}

/*
 * No answer: the truth is not there (the kernel never saw these records),
 * config resync_timeout_records 4.  The request of segment 16 (count 1:
 * record 7 done) stays unanswered; records 8, 9, 10 end at 27045, 30050,
 * 33055: the count reaches 4 in segment 22 (31856..33304): abandoned,
 * rx_tls_resync_req_skip, scanning again.  Segment 23 holds no header
 * (33055 is before it, 36060 after); segment 24 finds record 12 at 36060;
 * segment 26 completes record 13's header (39065): the device asks again.
 * The truth arrives: answered, segment 27 decrypted.
 */
static void unanswered_request_abandoned(struct test *t)
{
	struct tlshim_counters g;
	struct tlshim_conn conn;
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;

	rs_clear();
	fig2_stream(&s, 16);
	c = tls_conn_new(&s, SEQ0, SN0);
	REQUIRE(t, !rs_config(2, 4, 0), "writing the config: %s", strerror(errno));
	if (!rs_open(t, &rs, true) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN))
		goto out;
	r = send_range(t, &rs, &c, 0, 16);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_REQUESTED);
	r = send_range(t, &rs, &c, 17, 21);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_REQUESTED);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 3, conn.st.rec_sn);		/* records 7, 8, 9 done */
	EXPECT_EQ(t, 0, conn.stats.resync_abandoned);

	r = send_seg(t, &rs, &c, 22);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_SCANNING);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 1, conn.stats.resync_abandoned);
	EXPECT_EQ(t, 1, conn.stats.resync_requests);
	if (!dut_counters_read(&g)) {
		EXPECT_EQ(t, 1, g.rx_tls_resync_req_skip);
		EXPECT_EQ(t, 1, g.rx_tls_resync_req_pkt);
	}

	r = send_seg(t, &rs, &c, 23);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_SCANNING);
	r = send_seg(t, &rs, &c, 24);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_TRACKING);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, rec_seq(&c, 12), conn.st.resync_seq);
	r = send_seg(t, &rs, &c, 25);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_TRACKING);
	r = send_seg(t, &rs, &c, 26);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_REQUESTED);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 2, conn.stats.resync_requests);
	EXPECT_EQ(t, 1, resync_service_stats(rs.svc)->superseded);
	EXPECT_EQ(t, 0, resync_service_stats(rs.svc)->answered);

	test_context(t, "%s", "the truth arrives");
	rs_truth_all(t, &c);
	rs_poll(t, &rs);
	EXPECT_EQ(t, 1, resync_service_stats(rs.svc)->answered);
	r = send_seg(t, &rs, &c, 27);
	expect_decrypted(t, &r, &c, 27 * MSS, 28 * MSS);
	EXPECT_EQ(t, SN0 + 13, r.meta.rec_sn);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 1, conn.stats.resync_confirmed);
	if (!dut_counters_read(&g)) {
		EXPECT_EQ(t, 2, g.rx_tls_resync_req_pkt);
		EXPECT_EQ(t, 1, g.rx_tls_resync_req_skip);
		EXPECT_EQ(t, 1, g.rx_tls_resync_res_ok);
		EXPECT_EQ(t, 0, g.rx_tls_resync_res_skip);
	}
	test_context(t, "%s", "");
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

/*
 * A loader restart loses nothing: the first service consumes the request
 * of segment 16 from the ring buffer with no truth to answer it, and is
 * closed (the daemon died).  A new service finds the flow REQUESTED in the
 * pinned state, takes the request over and answers it once the truth is
 * there: segment 17 decrypted.
 */
static void restarted_service_adopts_request(struct test *t)
{
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs, again = { 0 };
	struct rx_run r;

	rs_clear();
	fig2_stream(&s, 16);
	c = tls_conn_new(&s, SEQ0, SN0);
	REQUIRE(t, !rs_config(2, 64, 0), "writing the config: %s", strerror(errno));
	if (!rs_open(t, &rs, true) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN))
		goto out;
	r = send_range(t, &rs, &c, 0, 16);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_REQUESTED);
	EXPECT_EQ(t, 1, resync_service_stats(rs.svc)->requests);
	EXPECT_EQ(t, 0, resync_service_stats(rs.svc)->answered);
	rs_close(&rs);

	test_context(t, "%s", "a new service");
	rs_truth_all(t, &c);
	if (!rs_open(t, &again, true))
		goto out;
	EXPECT_EQ(t, 1, resync_service_stats(again.svc)->adopted);
	rs_poll(t, &again);
	EXPECT_EQ(t, 1, resync_service_stats(again.svc)->answered);
	r = send_seg(t, &again, &c, 17);
	expect_decrypted(t, &r, &c, 17 * MSS, 18 * MSS);
	test_context(t, "%s", "");
out:
	rs_close(&again);
	tls_stream_free(&s);
	rs_clear();
}

/*
 * Answers that do not match the request (by hand: the service would not
 * write them): the header's first byte instead of its last (the async
 * convention), then the right seq with the wrong kind.  Each is consumed
 * and counted (rx_tls_resync_res_skip), the device stays REQUESTED and
 * keeps counting; the right one is then applied: record 9 = 2 counted +
 * SN0 + 7.
 */
static void stale_answers_skipped(struct test *t)
{
	struct tlshim_resync_resp resp;
	struct tlshim_counters g;
	struct tlshim_conn conn;
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;
	uint32_t req = SEQ0 + 21035 + TLS_HEADER_SIZE - 1;

	rs_clear();
	fig2_stream(&s, 12);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!rs_open(t, &rs, false) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN))
		goto out;
	r = send_range(t, &rs, &c, 0, 16);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_REQUESTED);

	EXPECT_EQ(t, 0, resync_answer(&rs.maps, &c.key, TLSHIM_EV_RESYNC_REQ, req - 4, SN0 + 7));
	r = send_seg(t, &rs, &c, 17);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_REQUESTED);
	EXPECT_TRUE(t, !answer_pending(t, &rs, &c, &resp));
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 1, conn.stats.resync_stale);

	EXPECT_EQ(t, 0, resync_answer(&rs.maps, &c.key, TLSHIM_EV_ASYNC_END, req, SN0 + 7));
	r = send_seg(t, &rs, &c, 18);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_REQUESTED);
	EXPECT_TRUE(t, !answer_pending(t, &rs, &c, &resp));
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 2, conn.stats.resync_stale);
	EXPECT_EQ(t, 2, conn.st.rec_sn);		/* records 7, 8 done */

	EXPECT_EQ(t, 0, resync_answer(&rs.maps, &c.key, TLSHIM_EV_RESYNC_REQ, req, SN0 + 7));
	r = send_seg(t, &rs, &c, 19);
	expect_decrypted(t, &r, &c, 19 * MSS, 20 * MSS);
	EXPECT_EQ(t, SN0 + 9, r.meta.rec_sn);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, TLSHIM_SYNC_IN_SYNC, conn.st.sync);
	EXPECT_EQ(t, 1, conn.stats.resync_confirmed);
	EXPECT_EQ(t, 0, conn.stats.resync_abandoned);
	if (!dut_counters_read(&g)) {
		EXPECT_EQ(t, 2, g.rx_tls_resync_res_skip);
		EXPECT_EQ(t, 1, g.rx_tls_resync_res_ok);
	}
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

/*
 * Next-hint answers: one for a record the stream has already passed is
 * stale (consumed, counted); one still ahead waits for the segment that
 * covers it.  Figure 2's layout, policy next-hint, no service: lost at
 * segment 3.  Hint record 2 (6010) at segment 5 (7240..8688): stale.  Hint
 * record 4 (12020, SN0 + 4) at segment 6: still ahead, kept; segment 7
 * (10136..11584) too; segment 8 (11584..13032) covers it: in sync there,
 * passed as PARTIAL; segment 9 decrypted in record 4.
 */
static void next_hint_stale_then_applied(struct test *t)
{
	struct tlshim_resync_resp resp;
	struct tlshim_counters g;
	struct tlshim_conn conn;
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;

	rs_clear();
	fig2_stream(&s, 8);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!rs_open(t, &rs, false) || !rs_install(t, &c, TLSHIM_RESYNC_NEXT_HINT))
		goto out;
	r = send_range(t, &rs, &c, 0, 4);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_LOST);

	EXPECT_EQ(t, 0, resync_answer(&rs.maps, &c.key, TLSHIM_EV_RECORD, rec_seq(&c, 2), SN0 + 2));
	r = send_seg(t, &rs, &c, 5);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_LOST);
	EXPECT_TRUE(t, !answer_pending(t, &rs, &c, &resp));

	EXPECT_EQ(t, 0, resync_answer(&rs.maps, &c.key, TLSHIM_EV_RECORD, rec_seq(&c, 4), SN0 + 4));
	for (size_t i = 6; i <= 7; i++) {
		r = send_seg(t, &rs, &c, i);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_LOST);
		EXPECT_TRUE(t, answer_pending(t, &rs, &c, &resp));
	}
	r = send_seg(t, &rs, &c, 8);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_PARTIAL, 1, TLSHIM_SYNC_IN_SYNC);
	EXPECT_TRUE(t, !answer_pending(t, &rs, &c, &resp));
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, rec_seq(&c, 4), conn.st.rec_start_seq);
	EXPECT_EQ(t, SN0 + 4, conn.st.rec_sn);
	r = send_seg(t, &rs, &c, 9);
	expect_decrypted(t, &r, &c, 9 * MSS, 10 * MSS);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 1, conn.stats.resync_confirmed);
	EXPECT_EQ(t, 1, conn.stats.resync_stale);
	EXPECT_EQ(t, 0, conn.stats.resync_requests);
	if (!dut_counters_read(&g)) {
		EXPECT_EQ(t, 1, g.rx_tls_resync_res_skip);
		EXPECT_EQ(t, 1, g.rx_tls_resync_res_ok);
		EXPECT_EQ(t, 0, g.rx_tls_resync_req_pkt);
	}
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

/*
 * Ring buffer full (1 MiB): a next-hint connection's per-segment events,
 * never consumed, fill it.  Then figure 2's request (segment 16) cannot be
 * sent: rx_tls_resync_req_lost, the device stays TRACKING and asks again
 * at the next segment (lost again while the buffer is full).  Once the
 * service drains the buffer, segment 18 carries the request; answered;
 * segment 19 decrypted (record 9 = count 2 + SN0 + 7).
 */
static void ring_full_request_lost_and_repeated(struct test *t)
{
	struct tlshim_counters g;
	struct tlshim_conn conn;
	struct tls_stream s, fs;
	struct tls_conn c, filler;
	struct rs rs;
	struct rx_run r;
	uint64_t sent = 0;

	rs_clear();
	fig2_stream(&s, 12);
	tls_stream_init(&fs);
	tls_stream_record(&fs, 100);
	c = tls_conn_new(&s, SEQ0, SN0);
	filler = tls_conn_new(&fs, 5000, 0);
	if (!rs_open(t, &rs, true) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN) ||
	    !rs_install(t, &filler, TLSHIM_RESYNC_NEXT_HINT) || !rs_truth_all(t, &c))
		goto out;
	r = send_range(t, &rs, &c, 0, 15);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_TRACKING);

	test_context(t, "%s", "filling the ring buffer");
	do {
		for (int k = 0; k < 256; k++, sent++)
			send_bytes(&filler, 0, 1);	/* old after the first: still an event */
		REQUIRE(t, !dut_counters_read(&g), "reading counters");
	} while (!g.rx_tls_events_lost && sent < 100000);
	REQUIRE(t, g.rx_tls_events_lost, "the ring buffer never filled (%llu events)",
		(unsigned long long)sent);
	test_note(t, "ring buffer full after %llu events", (unsigned long long)(sent - g.rx_tls_events_lost));

	test_context(t, "%s", "segment 16, ring buffer full");
	r = send_bytes(&c, 16 * MSS, 17 * MSS);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_TRACKING);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 2, conn.st.chain);
	EXPECT_EQ(t, 0, conn.stats.resync_requests);
	test_context(t, "%s", "segment 17, ring buffer still full");
	r = send_bytes(&c, 17 * MSS, 18 * MSS);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_TRACKING);
	if (!dut_counters_read(&g)) {
		EXPECT_EQ(t, 2, g.rx_tls_resync_req_lost);
		EXPECT_EQ(t, 0, g.rx_tls_resync_req_pkt);
	}

	test_context(t, "%s", "the service drains the buffer");
	rs_poll(t, &rs);
	rs_poll(t, &rs);
	r = send_seg(t, &rs, &c, 18);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_REQUESTED);
	r = send_seg(t, &rs, &c, 19);
	expect_decrypted(t, &r, &c, 19 * MSS, 20 * MSS);
	EXPECT_EQ(t, SN0 + 9, r.meta.rec_sn);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 1, conn.stats.resync_requests);
	EXPECT_EQ(t, 1, conn.stats.resync_confirmed);
	if (!dut_counters_read(&g)) {
		EXPECT_EQ(t, 2, g.rx_tls_resync_req_lost);
		EXPECT_EQ(t, 1, g.rx_tls_resync_req_pkt);
		EXPECT_EQ(t, 1, g.rx_tls_resync_res_ok);
	}
	test_context(t, "%s", "");
out:
	rs_close(&rs);
	tls_stream_free(&s);
	tls_stream_free(&fs);
	rs_clear();
}

/*
 * A header look-alike inside record 6's body (18030..21035), where the scan
 * starts (19309): "17 03 03" and a plausible length at 19400.
 *  - length 64, resync_headers 2: segment 13 guesses 19400 and walks its
 *    "record" to 19469, where no header is: the chain breaks, scanning
 *    again (no request was sent: nothing abandoned).  Segment 14 finds
 *    record 7 at 21035, as in figure 2; confirmed at segment 17.
 *  - length 2000, resync_headers 1: the guess is requested at once (the
 *    kernel has no record there: no answer); segment 14 reaches 21405, no
 *    header: the request is abandoned, scanning again from segment 15;
 *    segment 16 finds record 8 (24040) and asks; confirmed at segment 17.
 */
struct false_row {
	uint16_t fake_len;
	uint32_t resync_headers;
};

static void false_candidate_chain_breaks(struct test *t)
{
	const struct false_row *row = t->param;
	struct tlshim_counters g;
	struct tlshim_conn conn;
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;
	static const size_t fake = 19400;

	rs_clear();
	fig2_stream(&s, 12);
	s.bytes[fake] = TLS_CT_APPLICATION_DATA;
	s.bytes[fake + 1] = 3;
	s.bytes[fake + 2] = 3;
	s.bytes[fake + 3] = row->fake_len >> 8;
	s.bytes[fake + 4] = row->fake_len;
	c = tls_conn_new(&s, SEQ0, SN0);
	REQUIRE(t, !rs_config(row->resync_headers, 64, 0), "writing the config: %s", strerror(errno));
	if (!rs_open(t, &rs, true) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN) ||
	    !rs_truth_all(t, &c))
		goto out;
	r = send_range(t, &rs, &c, 0, 12);
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_LOST);

	r = send_seg(t, &rs, &c, 13);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, SEQ0 + fake, conn.st.resync_seq);
	if (row->resync_headers == 2) {
		/* The look-alike's header, then the break in the same segment. */
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1,
			   TLSHIM_SYNC_SCANNING);
		EXPECT_EQ(t, 0, conn.stats.resync_requests);
		r = send_seg(t, &rs, &c, 14);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1,
			   TLSHIM_SYNC_TRACKING);
		conn = rs_conn(t, &c);
		EXPECT_EQ(t, rec_seq(&c, 7), conn.st.resync_seq);
		r = send_range(t, &rs, &c, 15, 16);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1,
			   TLSHIM_SYNC_REQUESTED);
	} else {
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1,
			   TLSHIM_SYNC_REQUESTED);
		EXPECT_EQ(t, 1, conn.stats.resync_requests);
		r = send_seg(t, &rs, &c, 14);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0,
			   TLSHIM_SYNC_SCANNING);
		conn = rs_conn(t, &c);
		EXPECT_EQ(t, 1, conn.stats.resync_abandoned);
		r = send_seg(t, &rs, &c, 15);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0,
			   TLSHIM_SYNC_SCANNING);
		r = send_seg(t, &rs, &c, 16);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1,
			   TLSHIM_SYNC_REQUESTED);
		conn = rs_conn(t, &c);
		EXPECT_EQ(t, rec_seq(&c, 8), conn.st.resync_seq);
	}
	r = send_seg(t, &rs, &c, 17);
	expect_decrypted(t, &r, &c, 17 * MSS, 18 * MSS);
	EXPECT_EQ(t, SN0 + 8, r.meta.rec_sn);
	conn = rs_conn(t, &c);
	EXPECT_EQ(t, 1, conn.stats.resync_confirmed);
	EXPECT_EQ(t, 0, conn.stats.header_errors);	/* a broken chain is no rx_tls_err */
	if (!dut_counters_read(&g)) {
		EXPECT_EQ(t, row->resync_headers == 2 ? 1 : 2, g.rx_tls_resync_req_pkt);
		EXPECT_EQ(t, row->resync_headers == 2 ? 0 : 1, g.rx_tls_resync_req_skip);
		EXPECT_EQ(t, 0, g.rx_tls_err);
	}
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

/*
 * The confirmation applied at a segment that starts exactly where a
 * record starts.  Records of 1000 bytes (1005), segments of 1005: segment
 * k = record k.  Segment 2 lost: lost at 2010 (record 2's header not yet
 * seen); scanning from 18423 (in segment 18, which holds no whole header
 * after it); segment 19 guesses record 19, segment 20 completes the chain
 * (request); segment 21 is record 21, whole and in order, and the device
 * knows its number: it must be decrypted (tls-offload.rst: "in sync and
 * can resume decryption at next segment boundary"), as a confirmation in
 * mid-record is.
 */
static void confirmed_at_record_boundary(struct test *t)
{
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r = { 0 };

	rs_clear();
	tls_stream_init(&s);
	for (int i = 0; i < 24; i++)
		tls_stream_record(&s, 1000);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!rs_open(t, &rs, true) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN) ||
	    !rs_truth_all(t, &c))
		goto out;
	for (size_t i = 0; i <= 20; i++) {
		if (i == 2)
			continue;
		test_context(t, "segment %zu", i);
		r = rs_send(t, &rs, &c, i * 1005, (i + 1) * 1005);
	}
	expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 1, TLSHIM_SYNC_REQUESTED);
	for (size_t i = 21; i < 24; i++) {
		test_context(t, "segment %zu, after the answer", i);
		r = rs_send(t, &rs, &c, i * 1005, (i + 1) * 1005);
		expect_decrypted(t, &r, &c, i * 1005, (i + 1) * 1005);
	}
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

/*
 * A hole inside a record that ends exactly at its end: the next record
 * starts at the revealing segment's first byte, wholly seen, so the segment
 * is decrypted, and its descriptor must carry that record's number.
 * Records 0..305, 305..810, 810..1015, 1015..1420; segments 0..400,
 * 400..810 (lost), 810..1200, 1200..1420.
 */
static void hole_ending_at_record_end(struct test *t)
{
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;

	rs_clear();
	tls_stream_init(&s);
	tls_stream_record(&s, 300);
	tls_stream_record(&s, 500);
	tls_stream_record(&s, 200);
	tls_stream_record(&s, 400);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!rs_open(t, &rs, false) || !rs_install(t, &c, TLSHIM_RESYNC_STREAM_SCAN))
		goto out;
	test_context(t, "%s", "segment 0..400");
	r = rs_send(t, &rs, &c, 0, 400);
	expect_decrypted(t, &r, &c, 0, 400);
	test_context(t, "%s", "segment 810..1200 after a hole ending at record 1's end");
	r = rs_send(t, &rs, &c, 810, 1200);
	expect_decrypted(t, &r, &c, 810, 1200);	/* rec_sn: record 2 */
	expect_in_sync_at(t, &c, 1200);
	test_context(t, "%s", "segment 1200..1420");
	r = rs_send(t, &rs, &c, 1200, s.len);
	expect_decrypted(t, &r, &c, 1200, s.len);
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

/*
 * The kernel's half keeps its next-hint bookkeeping per connection: a new
 * connection on a 4-tuple that an earlier one used (a client port reused)
 * starts afresh.  Figure 2's layout under next-hint, twice on one flow and
 * one service: the first connection recovers (hint at segment 6, applied
 * at 8); it is removed with its truth; the second, installed on the same
 * 4-tuple at another seq, must recover the same way.
 */
static void next_hint_new_connection_same_flow(struct test *t)
{
	struct tls_stream s;
	struct tls_conn c;
	struct rs rs;
	struct rx_run r;
	static const uint32_t seq0s[2] = { SEQ0, SEQ0 + 50000000 };

	rs_clear();
	fig2_stream(&s, 8);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!rs_open(t, &rs, true))
		goto out;
	for (int k = 0; k < 2; k++) {
		c.seq0 = seq0s[k];
		if (!rs_install(t, &c, TLSHIM_RESYNC_NEXT_HINT) || !rs_truth_all(t, &c))
			goto out;
		r = send_range(t, &rs, &c, 0, 9);
		test_context(t, "connection %d, segment 9", k + 1);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_LOST);
		r = send_seg(t, &rs, &c, 10);
		test_context(t, "connection %d, segment 10", k + 1);
		expect_seg(t, &r, TLSHIM_VERDICT_PASSED, TLSHIM_PASS_PARTIAL, 1, TLSHIM_SYNC_IN_SYNC);
		r = send_seg(t, &rs, &c, 11);
		test_context(t, "connection %d, segment 11", k + 1);
		expect_decrypted(t, &r, &c, 11 * MSS, 12 * MSS);
		/* tls_dev_del, and the endpoint's records of it age out */
		bpf_map_delete_elem(dut.conns_fd, &c.key);
		for (size_t i = 0; i < s.nrec; i++) {
			struct tlshim_rec_key key = { .flow = c.key, .tcp_seq = rec_seq(&c, i) };

			bpf_map_delete_elem(rs.maps.rec_log, &key);
		}
		bpf_map_delete_elem(rs.maps.resync_resp, &c.key);
	}
	test_context(t, "%s", "");
out:
	rs_close(&rs);
	tls_stream_free(&s);
	rs_clear();
}

const struct test_case resync_tests[] = {
	{ "resync_figure1_reorder_non_header_segment", figure1_reorder_non_header, NULL },
	{ "resync_figure2_loss_of_header_segment", figure2_loss_of_header,
	  &(const struct figure2_row){ SEQ0, false } },
	{ "resync_figure2_answer_by_hand", figure2_loss_of_header,
	  &(const struct figure2_row){ SEQ0, true } },
	{ "resync_figure2_seq_wraps_during_scan", figure2_loss_of_header,
	  &(const struct figure2_row){ 0xffffffffu - 9999, false } },
#define POLICY(name, ...) { "resync_policy_" name "_same_traffic", policy_same_traffic, \
			    &(const struct policy_expect){ __VA_ARGS__ } }
	POLICY("stream_scan", .policy = TLSHIM_RESYNC_STREAM_SCAN, .decrypted = 30, .passed = 12,
	       .unsynced = 11, .requests = 1, .confirmed = 1, .req_pkt = 1, .res_ok = 1,
	       .first_decrypted_again = 14),
	POLICY("async", .policy = TLSHIM_RESYNC_ASYNC, .decrypted = 22, .passed = 20,
	       .unsynced = 19, .requests = 2, .confirmed = 1, .abandoned = 1, .req_pkt = 2,
	       .req_start = 2, .req_end = 2, .req_skip = 1, .res_ok = 1,
	       .first_decrypted_again = 22),
	POLICY("next_hint", .policy = TLSHIM_RESYNC_NEXT_HINT, .decrypted = 35, .passed = 7,
	       .unsynced = 5, .confirmed = 1, .res_ok = 1, .first_decrypted_again = 9),
	POLICY("none", .policy = TLSHIM_RESYNC_NONE, .decrypted = 2, .passed = 40,
	       .unsynced = 39),
#undef POLICY
	{ "resync_unanswered_request_abandoned", unanswered_request_abandoned, NULL },
	{ "resync_restarted_service_adopts_request", restarted_service_adopts_request, NULL },
	{ "resync_stale_answers_skipped", stale_answers_skipped, NULL },
	{ "resync_next_hint_stale_then_applied", next_hint_stale_then_applied, NULL },
	{ "resync_ring_full_request_lost_and_repeated", ring_full_request_lost_and_repeated, NULL },
	{ "resync_false_candidate_chain_breaks", false_candidate_chain_breaks,
	  &(const struct false_row){ 64, 2 } },
	{ "resync_false_candidate_requested_then_abandoned", false_candidate_chain_breaks,
	  &(const struct false_row){ 2000, 1 } },
	{ "resync_confirmed_at_record_boundary_decrypts", confirmed_at_record_boundary, NULL },
	{ "resync_hole_ending_at_record_end_rec_sn", hole_ending_at_record_end, NULL },
	{ "resync_next_hint_new_connection_same_flow", next_hint_new_connection_same_flow, NULL },
};
const size_t n_resync_tests = sizeof(resync_tests) / sizeof(resync_tests[0]);
