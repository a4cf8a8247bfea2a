// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Everything but the plain in-order case: retransmissions, a first record
 * that starts mid-segment, gaps, invalid headers, per-cipher length limits.
 */
#include <string.h>
#include "tests.h"

#define SEQ0	2000000u
#define SN0	3

/* Four records cut into segments of 400: [0,400) [400,800) [800,1200) [1200,1415). */
static void four_record_stream(struct tls_stream *s)
{
	tls_stream_init(s);
	tls_stream_record(s, 300);
	tls_stream_record(s, 500);
	tls_stream_record(s, 200);
	tls_stream_record(s, 400);
}

/* The state after the stream was lost: the record cursor stays where the
 * device last knew it, expected_seq keeps following TCP. */
static struct tlshim_stream lost_state(const struct tls_conn *c, size_t cursor_off,
				       enum tlshim_loss reason, uint32_t lost_at,
				       uint32_t lost_seen, uint32_t expected_seq)
{
	struct tlshim_stream st = stream_in_sync_at(c, cursor_off);

	st.sync = TLSHIM_SYNC_LOST;
	st.lost_reason = reason;
	st.lost_at_seq = lost_at;
	st.lost_seen_seq = lost_seen;
	st.expected_seq = expected_seq;
	return st;
}

static void expect_conn_state(struct test *t, const struct tls_conn *c,
			      const struct tlshim_stream *expected)
{
	struct tlshim_conn conn;

	if (tls_conn_read(t, c, &conn))
		expect_stream(t, expected, &conn.st);
}

static void expect_totals(struct test *t, const struct tls_conn *c,
			  const struct tlshim_conn_stats *expected)
{
	struct tlshim_counters counters = counters_of(expected);
	struct tlshim_conn conn;
	char context[sizeof(t->context)];

	memcpy(context, t->context, sizeof(context));
	test_context(t, "%s%stotals", context, context[0] ? ", " : "");
	if (tls_conn_read(t, c, &conn))
		expect_conn_stats(t, expected, &conn.stats);
	expect_counters(t, &counters);
	test_context(t, "%s", "");
}

static void retransmission_is_old(struct test *t)
{
	struct tlshim_conn_stats expected;
	struct tlshim_conn before, after;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	/* Wholly before expected_seq, including one that ends exactly at it. */
	static const size_t resend[][2] = { { 400, 800 }, { 0, 400 }, { 1200, 1415 },
					    { 100, 300 }, { 1414, 1415 } };

	four_record_stream(&s);
	cuts = cuts_mss(s.len, 400);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	expected = send_in_order(t, &c, &cuts, 0);
	if (!tls_conn_read(t, &c, &before))
		goto out;
	for (size_t i = 0; i < sizeof(resend) / sizeof(resend[0]); i++) {
		struct rx_run r = send_bytes(&c, resend[i][0], resend[i][1]);

		test_context(t, "resending bytes %zu..%zu", resend[i][0], resend[i][1]);
		expect_passed(t, &r, TLSHIM_PASS_OLD, 0, TLSHIM_SYNC_IN_SYNC);
		if (tls_conn_read(t, &c, &after))
			expect_state_unchanged(t, &before, &after);
		expected.passed_packets++;
		expected.old_packets++;
	}
	test_context(t, "%s", "");
	expect_totals(t, &c, &expected);
out:
	tls_stream_free(&s);
}

/* Retransmissions that also carry new bytes: passed (their first bytes
 * belong to no record the device is walking) but the new bytes are walked,
 * whether they are plain body or finish a record and start the next. */
static void retransmission_with_new_data(struct test *t)
{
	static const size_t resend[][2] = {
		{ 200, 600 },	/* new bytes 400..600: body of record 2 (305..810) */
		{ 500, 1000 },	/* new bytes 600..1000: end record 2, start record 3 */
	};
	struct tlshim_conn_stats expected;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	struct rx_run r;
	size_t done = 400;

	four_record_stream(&s);
	cuts = cuts_mss(s.len, 400);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	cuts.n = 1;			/* [0,400) */
	expected = send_in_order(t, &c, &cuts, 0);

	for (size_t i = 0; i < sizeof(resend) / sizeof(resend[0]); i++) {
		size_t from = resend[i][0], to = resend[i][1];
		unsigned headers = tls_stream_headers_in(&s, done, to);

		test_context(t, "resending bytes %zu..%zu with %zu new", from, to, to - done);
		r = send_bytes(&c, from, to);
		expect_passed(t, &r, TLSHIM_PASS_PARTIAL, headers, TLSHIM_SYNC_IN_SYNC);
		expect_in_sync_at(t, &c, to);
		expected.passed_packets++;
		expected.records += headers;
		done = to;
	}

	test_context(t, "%s", "the rest, in order");
	r = send_bytes(&c, done, s.len);
	expect_decrypted(t, &r, &c, done, s.len);
	expect_in_sync_at(t, &c, s.len);
	expected.decrypted_packets++;
	expected.decrypted_bytes += s.len - done;
	expected.records += tls_stream_headers_in(&s, done, s.len);
	test_context(t, "%s", "");
	expect_totals(t, &c, &expected);
out:
	tls_stream_free(&s);
}

/* tls_dev_add at copied_seq: the first record may start anywhere inside a
 * segment.  The bytes before it are passed, the rest walked. */
static void first_record_mid_segment(struct test *t)
{
	struct tlshim_conn_stats expected;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	struct rx_run r;

	tls_stream_init(&s);
	tls_stream_junk(&s, 37);
	tls_stream_record(&s, 300);
	tls_stream_record(&s, 500);
	tls_stream_record(&s, 200);
	cuts = cuts_mss(s.len, 400);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	expect_in_sync_at(t, &c, 37);

	r = send_bytes(&c, 0, 400);
	expect_passed(t, &r, TLSHIM_PASS_PARTIAL, tls_stream_headers_in(&s, 37, 400),
		      TLSHIM_SYNC_IN_SYNC);
	expect_in_sync_at(t, &c, 400);
	expected = send_in_order(t, &c, &cuts, 1);
	expected.passed_packets++;
	expected.records += tls_stream_headers_in(&s, 37, 400);
	expect_totals(t, &c, &expected);
out:
	tls_stream_free(&s);
}

/*
 * A lost segment that carried a record header (the doc's second figure):
 * the records are 0..305, 305..810, 810..1015, 1015..1420; cut in 300s,
 * segment 3 (600..900) holds the header at 810.  Segment 4 reveals a hole
 * that runs past the end of the record the device was in, so the device
 * cannot know where the next record starts: lost at the old expected seq.
 */
static void gap_loses_sync(struct test *t)
{
	struct tlshim_conn_stats expected;
	struct tlshim_stream lost;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	struct rx_run r;

	four_record_stream(&s);
	cuts = cuts_mss(s.len, 300);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	cuts.n = 2;			/* [0,300) [300,600) */
	expected = send_in_order(t, &c, &cuts, 0);

	test_context(t, "%s", "segment 4 after a lost segment 3 (header at 810)");
	r = send_bytes(&c, 900, 1200);
	expect_passed(t, &r, TLSHIM_PASS_GAP, 0, TLSHIM_SYNC_LOST);
	lost = lost_state(&c, 600, TLSHIM_LOSS_GAP, SEQ0 + 600, SEQ0 + 900, SEQ0 + 1200);
	expect_conn_state(t, &c, &lost);
	expected.passed_packets++;
	expected.lost_sync++;

	test_context(t, "%s", "segment 5");
	r = send_bytes(&c, 1200, s.len);
	expect_passed(t, &r, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_LOST);
	lost.expected_seq = SEQ0 + s.len;
	expect_conn_state(t, &c, &lost);
	expected.passed_packets++;

	/* Old data is old in any sync state. */
	test_context(t, "%s", "the lost segment 3, late");
	r = send_bytes(&c, 600, 900);
	expect_passed(t, &r, TLSHIM_PASS_OLD, 0, TLSHIM_SYNC_LOST);
	expect_conn_state(t, &c, &lost);
	expected.passed_packets++;
	expected.old_packets++;
	test_context(t, "%s", "");
	expect_totals(t, &c, &expected);
out:
	tls_stream_free(&s);
}

/*
 * A hole inside a record's body (the doc's first figure): cut in 400s,
 * segment 2 (400..800) lies inside record 1 (305..810).  The device still
 * knows where record 2 starts: it keeps the stream, passes the segment that
 * finishes the damaged record (DAMAGED, walking the headers in it) and
 * decrypts the next one.  The late segment is old.
 */
static void hole_in_record_keeps_sync(struct test *t)
{
	struct tlshim_conn_stats expected;
	struct tlshim_counters counters;
	struct tlshim_conn conn;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	struct rx_run r;

	four_record_stream(&s);
	cuts = cuts_mss(s.len, 400);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	cuts.n = 1;			/* [0,400) */
	expected = send_in_order(t, &c, &cuts, 0);

	test_context(t, "%s", "segment 3 after a lost segment 2 (record body only)");
	r = send_bytes(&c, 800, 1200);
	/* Headers at 810 and 1015 are walked: record 2 (810..1015) lies wholly
	 * in this segment but is passed with it, at segment granularity. */
	expect_passed(t, &r, TLSHIM_PASS_DAMAGED, 2, TLSHIM_SYNC_IN_SYNC);
	expect_in_sync_at(t, &c, 1200);
	if (tls_conn_read(t, &c, &conn)) {
		EXPECT_EQ(t, 1, conn.st.rec_ok);	/* record 3 opened in sync */
		EXPECT_EQ(t, TLSHIM_LOSS_NONE, conn.st.lost_reason);
	}
	expected.passed_packets++;
	expected.records += 2;

	test_context(t, "%s", "segment 4");
	r = send_bytes(&c, 1200, s.len);
	expect_decrypted(t, &r, &c, 1200, s.len);
	expect_in_sync_at(t, &c, s.len);
	expected.decrypted_packets++;
	expected.decrypted_bytes += s.len - 1200;

	test_context(t, "%s", "the lost segment 2, late");
	r = send_bytes(&c, 400, 800);
	expect_passed(t, &r, TLSHIM_PASS_OLD, 0, TLSHIM_SYNC_IN_SYNC);
	expect_in_sync_at(t, &c, s.len);
	expected.passed_packets++;
	expected.old_packets++;

	test_context(t, "%s", "totals");
	if (tls_conn_read(t, &c, &conn)) {
		expect_conn_stats(t, &expected, &conn.stats);
		EXPECT_EQ(t, 0, conn.stats.lost_sync);
		EXPECT_EQ(t, 0, conn.stats.unsynced_packets);
	}
	counters = counters_of(&expected);
	counters.rx_tls_resync_kept_sync = 1;
	expect_counters(t, &counters);
	test_context(t, "%s", "");
out:
	tls_stream_free(&s);
}

struct bad_header_row {
	uint8_t type;
	uint16_t version;
	uint16_t length;
};

/*
 * A valid record, then a segment starting with an invalid header, then more
 * bytes.  The device must stop at the header the kernel would reject:
 * rx_tls_err, lost with BAD_HEADER at that header, the rest passed.
 */
static void bad_header(struct test *t)
{
	const struct bad_header_row *row = t->param;
	struct tlshim_conn_stats expected;
	struct tlshim_stream lost;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	struct rx_run r;
	size_t bad_at;

	tls_stream_init(&s);
	tls_stream_record(&s, 200);
	bad_at = s.len;
	tls_stream_record_raw(&s, row->type, row->version, row->length, 395);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	cuts = cuts_at(s.len, &bad_at, 1);
	cuts.n = 1;
	expected = send_in_order(t, &c, &cuts, 0);

	test_context(t, "%s", "segment with the bad header");
	r = send_bytes(&c, bad_at, bad_at + 100);
	expect_passed(t, &r, TLSHIM_PASS_BAD_HEADER, 0, TLSHIM_SYNC_LOST);
	lost = lost_state(&c, bad_at, TLSHIM_LOSS_BAD_HEADER, SEQ0 + bad_at, SEQ0 + bad_at,
			  SEQ0 + bad_at + 100);
	expect_conn_state(t, &c, &lost);
	expected.passed_packets++;
	expected.lost_sync++;
	expected.header_errors++;

	test_context(t, "%s", "next segment");
	r = send_bytes(&c, bad_at + 100, s.len);
	expect_passed(t, &r, TLSHIM_PASS_NOT_SYNCED, 0, TLSHIM_SYNC_LOST);
	lost.expected_seq = SEQ0 + s.len;
	expect_conn_state(t, &c, &lost);
	expected.passed_packets++;
	test_context(t, "%s", "");
	expect_totals(t, &c, &expected);
out:
	tls_stream_free(&s);
}

/*
 * The bad header after a valid record in the same segment.  The header
 * comments in include/tlshim.h define the loss fields: lost_at_seq is where
 * the device was (the header it could not accept), lost_seen_seq "the seq of
 * the segment that revealed the loss".
 */
static void bad_header_mid_segment(struct test *t)
{
	struct tlshim_conn_stats expected;
	struct tlshim_stream lost;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	struct rx_run r;
	size_t seg2_at, bad_at;

	tls_stream_init(&s);
	tls_stream_record(&s, 200);
	seg2_at = s.len;
	tls_stream_record(&s, 50);
	bad_at = s.len;
	tls_stream_record_raw(&s, TLS_CT_APPLICATION_DATA, 0x0301, 100, 100);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	cuts = cuts_at(s.len, &seg2_at, 1);
	cuts.n = 1;
	expected = send_in_order(t, &c, &cuts, 0);

	test_context(t, "%s", "segment: a valid record, then the bad header");
	r = send_bytes(&c, seg2_at, s.len);
	expect_passed(t, &r, TLSHIM_PASS_BAD_HEADER, 1, TLSHIM_SYNC_LOST);
	lost = lost_state(&c, bad_at, TLSHIM_LOSS_BAD_HEADER, SEQ0 + bad_at, SEQ0 + seg2_at,
			  SEQ0 + s.len);
	expect_conn_state(t, &c, &lost);
	expected.passed_packets++;
	expected.lost_sync++;
	expected.header_errors++;
	expected.records++;
	test_context(t, "%s", "");
	expect_totals(t, &c, &expected);
out:
	tls_stream_free(&s);
}

/* The invalid header split over two segments: the first part is not yet
 * judged (decrypted, nothing wrong seen), the segment completing it is. */
static void bad_header_split(struct test *t)
{
	struct tlshim_conn_stats expected;
	struct tlshim_conn conn;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	struct rx_run r;
	size_t bad_at, cut[2];

	tls_stream_init(&s);
	tls_stream_record(&s, 200);
	bad_at = s.len;
	tls_stream_record_raw(&s, TLS_CT_APPLICATION_DATA, TLS_WIRE_VERSION, 16409, 100);
	cut[0] = bad_at;
	cut[1] = bad_at + 3;
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	cuts = cuts_at(s.len, cut, 2);
	cuts.n = 2;
	expected = send_in_order(t, &c, &cuts, 0);

	test_context(t, "%s", "segment completing the bad header");
	r = send_bytes(&c, cut[1], s.len);
	expect_passed(t, &r, TLSHIM_PASS_BAD_HEADER, 0, TLSHIM_SYNC_LOST);
	/* Where a lost stream leaves its partial-header bytes is its own
	 * business: only the loss fields and the record position are checked. */
	if (tls_conn_read(t, &c, &conn)) {
		EXPECT_EQ(t, SEQ0 + s.len, conn.st.expected_seq);
		EXPECT_EQ(t, TLSHIM_SYNC_LOST, conn.st.sync);
		EXPECT_EQ(t, TLSHIM_LOSS_BAD_HEADER, conn.st.lost_reason);
		EXPECT_EQ(t, SEQ0 + bad_at, conn.st.lost_at_seq);
		EXPECT_EQ(t, SEQ0 + cut[1], conn.st.lost_seen_seq);
		EXPECT_EQ(t, SEQ0 + bad_at, conn.st.rec_start_seq);
		EXPECT_EQ(t, SN0 + 1, conn.st.rec_sn);
		EXPECT_EQ(t, 0, conn.st.rec_len);
	}
	expected.passed_packets++;
	expected.lost_sync++;
	expected.header_errors++;
	test_context(t, "%s", "");
	expect_totals(t, &c, &expected);
out:
	tls_stream_free(&s);
}

struct length_limits_row {
	uint16_t version;
	uint16_t cipher;
	uint16_t min, max;	/* accepted length fields, from the spec */
};

/* A valid record, then one of `length` starting the next segment, on a
 * fresh connection: decrypted if accept, else rejected as a bad header. */
static void one_length(struct test *t, const struct length_limits_row *row,
		       uint16_t length, bool accept)
{
	struct tlshim_conn_stats expected;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;
	size_t at[16];
	size_t n_at = 0;

	dut_reset();
	tls_stream_init(&s);
	tls_stream_record(&s, 100);
	for (size_t off = s.len; off < s.len + TLS_HEADER_SIZE + length; off += 1448)
		at[n_at++] = off;
	tls_stream_record(&s, length);
	cuts = cuts_at(s.len, at, n_at);
	c = tls_conn_new(&s, SEQ0, SN0);
	c.version = row->version;
	c.cipher = row->cipher;
	if (!tls_conn_install(t, &c))
		goto out;
	if (accept) {
		expected = send_in_order(t, &c, &cuts, 0);
	} else {
		size_t bad_at = at[0];
		struct tlshim_stream lost;
		struct rx_run r;

		cuts.n = 1;
		expected = send_in_order(t, &c, &cuts, 0);
		test_context(t, "length %u", length);
		r = send_bytes(&c, bad_at, cuts.bounds[2]);
		expect_passed(t, &r, TLSHIM_PASS_BAD_HEADER, 0, TLSHIM_SYNC_LOST);
		lost = lost_state(&c, bad_at, TLSHIM_LOSS_BAD_HEADER, SEQ0 + bad_at,
				  SEQ0 + bad_at, SEQ0 + cuts.bounds[2]);
		expect_conn_state(t, &c, &lost);
		expected.passed_packets++;
		expected.lost_sync++;
		expected.header_errors++;
	}
	test_context(t, "length %u", length);
	expect_totals(t, &c, &expected);
out:
	tls_stream_free(&s);
}

static void length_limits(struct test *t)
{
	const struct length_limits_row *row = t->param;

	one_length(t, row, row->min, true);
	one_length(t, row, row->max, true);
	one_length(t, row, row->min - 1, false);
	one_length(t, row, row->max + 1, false);
}

#define BAD_HEADER(name, type, version, length)					\
	{ name, bad_header, &(const struct bad_header_row){ type, version, length } }
#define LENGTH_LIMITS(name, version, cipher, min, max)				\
	{ name, length_limits, &(const struct length_limits_row){ version, cipher, min, max } }

const struct test_case loss_tests[] = {
	{ "retransmission_is_old", retransmission_is_old, NULL },
	{ "retransmission_with_new_data", retransmission_with_new_data, NULL },
	{ "first_record_mid_segment", first_record_mid_segment, NULL },
	{ "gap_loses_sync", gap_loses_sync, NULL },
	{ "hole_in_record_keeps_sync", hole_in_record_keeps_sync, NULL },
	BAD_HEADER("bad_header_version_0301", TLS_CT_APPLICATION_DATA, 0x0301, 100),
	/* TLS 1.3 records still say 0x0303 on the wire. */
	BAD_HEADER("bad_header_version_0304", TLS_CT_APPLICATION_DATA, 0x0304, 100),
	BAD_HEADER("bad_header_version_0203", TLS_CT_APPLICATION_DATA, 0x0203, 100),
	BAD_HEADER("bad_header_length_too_small_23", TLS_CT_APPLICATION_DATA, TLS_WIRE_VERSION, 23),
	BAD_HEADER("bad_header_length_0", TLS_CT_APPLICATION_DATA, TLS_WIRE_VERSION, 0),
	BAD_HEADER("bad_header_length_too_large_16409", TLS_CT_APPLICATION_DATA, TLS_WIRE_VERSION,
		   16409),
	BAD_HEADER("bad_header_length_65535", TLS_CT_APPLICATION_DATA, TLS_WIRE_VERSION, 0xffff),
	BAD_HEADER("bad_header_content_type_24", 24, TLS_WIRE_VERSION, 100),
	BAD_HEADER("bad_header_content_type_19", 19, TLS_WIRE_VERSION, 100),
	BAD_HEADER("bad_header_content_type_0", 0, TLS_WIRE_VERSION, 100),
	{ "bad_header_mid_segment", bad_header_mid_segment, NULL },
	{ "bad_header_split_over_segments", bad_header_split, NULL },
	LENGTH_LIMITS("length_limits_tls12_aes_gcm_128", TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128,
		      24, 16408),
	LENGTH_LIMITS("length_limits_tls12_aes_gcm_256", TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_256,
		      24, 16408),
	LENGTH_LIMITS("length_limits_tls12_chacha20", TLSHIM_TLS_1_2,
		      TLSHIM_CIPHER_CHACHA20_POLY1305, 16, 16400),
	LENGTH_LIMITS("length_limits_tls13_aes_gcm_128", TLSHIM_TLS_1_3, TLSHIM_CIPHER_AES_GCM_128,
		      16, 16401),
	LENGTH_LIMITS("length_limits_tls13_aes_gcm_256", TLSHIM_TLS_1_3, TLSHIM_CIPHER_AES_GCM_256,
		      16, 16401),
	LENGTH_LIMITS("length_limits_tls13_chacha20", TLSHIM_TLS_1_3,
		      TLSHIM_CIPHER_CHACHA20_POLY1305, 16, 16401),
};
const size_t n_loss_tests = sizeof(loss_tests) / sizeof(loss_tests[0]);
