// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * In-order streams: however records and segments fall, every segment is
 * decrypted and the device ends where the layout says.  Table-driven: a row
 * is a record layout, a way to cut it, and how the frames are dressed.
 */
#include "tests.h"

#define MSS 1448

/* Record numbers start away from 0 so a device that ignores start_rec_sn,
 * or confuses it with a count, shows. */
#define SN0 7

struct in_order_row {
	uint16_t lengths[24];	/* length fields of the records; 0 ends the list */
	size_t segments;	/* cut evenly into this many segments, */
	size_t mss;		/* or into segments of at most this many bytes, */
	size_t cut_at[4];	/* or at these stream offsets (0 ends the list) */
	uint32_t seq0;		/* TCP seq of the first byte */
	uint64_t sn0;
	uint16_t version;	/* 0: TLS 1.2 */
	uint16_t cipher;	/* 0: AES-GCM-128 */
	bool ipv6;
	struct frame_opts fo;
};

static struct cuts row_cuts(const struct in_order_row *row, size_t len)
{
	size_t n_at = 0;

	if (row->segments)
		return cuts_even(len, row->segments);
	if (row->mss)
		return cuts_mss(len, row->mss);
	while (n_at < 4 && row->cut_at[n_at])
		n_at++;
	return cuts_at(len, row->cut_at, n_at);
}

static void in_order(struct test *t)
{
	const struct in_order_row *row = t->param;
	struct tls_stream s;
	struct tls_conn c;
	struct cuts cuts;

	tls_stream_init(&s);
	for (size_t i = 0; i < 24 && row->lengths[i]; i++)
		tls_stream_record(&s, row->lengths[i]);
	cuts = row_cuts(row, s.len);

	c = tls_conn_new(&s, row->seq0, row->sn0);
	if (row->ipv6)
		c.flow = flow_ipv6(c.flow.dport);
	if (row->version)
		c.version = row->version;
	if (row->cipher)
		c.cipher = row->cipher;
	c.fo = row->fo;
	run_in_order(t, &c, &cuts);
	tls_stream_free(&s);
}

#define HDR_SPLIT_LAYOUT { 40, 50, 30 }	/* record 2's header starts at offset 45 */
#define FOUR_RECORDS .lengths = { 300, 1000, 24, 500 }, .mss = 700, .seq0 = 4242, .sn0 = SN0

/* A test line and its row, side by side. */
#define IN_ORDER(name, ...) { name, in_order, &(const struct in_order_row){ __VA_ARGS__ } }

const struct test_case in_order_tests[] = {
	IN_ORDER("one_record_one_segment",
		 .lengths = { 1000 }, .segments = 1, .seq0 = 1000000, .sn0 = SN0),
	IN_ORDER("one_record_twelve_segments",
		 .lengths = { 12 * 100 - 5 }, .segments = 12, .seq0 = 1000000, .sn0 = SN0),
	IN_ORDER("twenty_records_one_segment",
		 .lengths = { 24, 25, 30, 31, 40, 47, 24, 64, 100, 24, 33, 24, 77, 24, 50, 24,
			      29, 24, 90, 24 }, .segments = 1, .seq0 = 5000, .sn0 = SN0),
	/* The descriptor carries the low 32 bits; the state all 64. */
	IN_ORDER("twenty_records_rec_sn_crosses_2^32",
		 .lengths = { 24, 25, 30, 31, 40, 47, 24, 64, 100, 24, 33, 24, 77, 24, 50, 24,
			      29, 24, 90, 24 }, .segments = 2, .seq0 = 5000, .sn0 = 0xfffffff6ull),
	IN_ORDER("header_split_after_byte_1",
		 .lengths = HDR_SPLIT_LAYOUT, .cut_at = { 45 + 1 }, .seq0 = 77777, .sn0 = SN0),
	IN_ORDER("header_split_after_byte_2",
		 .lengths = HDR_SPLIT_LAYOUT, .cut_at = { 45 + 2 }, .seq0 = 77777, .sn0 = SN0),
	IN_ORDER("header_split_after_byte_3",
		 .lengths = HDR_SPLIT_LAYOUT, .cut_at = { 45 + 3 }, .seq0 = 77777, .sn0 = SN0),
	IN_ORDER("header_split_after_byte_4",
		 .lengths = HDR_SPLIT_LAYOUT, .cut_at = { 45 + 4 }, .seq0 = 77777, .sn0 = SN0),
	IN_ORDER("header_split_over_three_segments",
		 .lengths = HDR_SPLIT_LAYOUT, .cut_at = { 45 + 1, 45 + 3 }, .seq0 = 77777,
		 .sn0 = SN0),
	/* Segments that are header bytes only: 56-byte frames, padded to 60. */
	IN_ORDER("ethernet_padding_is_not_payload",
		 .lengths = { 100 }, .cut_at = { 2, 4 }, .seq0 = 9000, .sn0 = SN0),
	IN_ORDER("max_length_record_16408",
		 .lengths = { 16408 }, .mss = MSS, .seq0 = 123456, .sn0 = SN0),
	IN_ORDER("min_length_record_24",
		 .lengths = { 24 }, .segments = 1, .seq0 = 123456, .sn0 = SN0),
	IN_ORDER("min_max_min_records_chained",
		 .lengths = { 24, 16408, 24 }, .mss = MSS, .seq0 = 123456, .sn0 = SN0),
	/* seq 0 is stream byte 256, in the middle of the first segment's body. */
	IN_ORDER("seq_wrap_inside_record",
		 .lengths = { 1000 }, .segments = 3, .seq0 = 0xffffff00u, .sn0 = SN0),
	/* Record 2's header (offset 105) covers seqs 0xfffffffe..2. */
	IN_ORDER("seq_wrap_inside_header",
		 .lengths = { 100, 200 }, .segments = 2, .seq0 = 0u - 107, .sn0 = SN0),
	/* Same, the segment boundary at seq 0: two header bytes on each side... */
	IN_ORDER("seq_wrap_header_split_at_wrap",
		 .lengths = { 100, 200 }, .cut_at = { 107 }, .seq0 = 0u - 107, .sn0 = SN0),
	/* ...and a segment that is nothing but the header's first two bytes. */
	IN_ORDER("seq_wrap_header_only_segment_before_wrap",
		 .lengths = { 100, 200 }, .cut_at = { 105, 107 }, .seq0 = 0u - 107, .sn0 = SN0),
	IN_ORDER("encap_ipv6", FOUR_RECORDS, .ipv6 = true),
	IN_ORDER("encap_ipv6_hop_by_hop", FOUR_RECORDS, .ipv6 = true,
		 .fo = { .ipv6_hopopts = true }),
	IN_ORDER("encap_ipv6_hop_by_hop_destination_options", FOUR_RECORDS, .ipv6 = true,
		 .fo = { .ipv6_hopopts = true, .ipv6_dstopts = true }),
	IN_ORDER("encap_vlan", FOUR_RECORDS, .fo = { .encap = ENCAP_VLAN }),
	IN_ORDER("encap_qinq", FOUR_RECORDS, .fo = { .encap = ENCAP_QINQ }),
	IN_ORDER("encap_qinq_ipv6_hop_by_hop", FOUR_RECORDS, .ipv6 = true,
		 .fo = { .encap = ENCAP_QINQ, .ipv6_hopopts = true }),
	IN_ORDER("encap_ipv4_options", FOUR_RECORDS, .fo = { .ip_options = true }),
	/* TCP timestamps: the payload after a 32-byte TCP header. */
	IN_ORDER("encap_tcp_options", FOUR_RECORDS, .fo = { .tcp_doff = 8 }),
	/* DF is not fragmentation. */
	IN_ORDER("encap_ipv4_dont_fragment", FOUR_RECORDS, .fo = { .ipv4_frag_off = 0x4000 }),
};
const size_t n_in_order_tests = sizeof(in_order_tests) / sizeof(in_order_tests[0]);
