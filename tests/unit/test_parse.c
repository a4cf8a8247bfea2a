// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Frames the device must leave alone, or judge without touching the record
 * layer: other flows, fragments, malformed frames, segments without payload.
 */
#include <errno.h>
#include <string.h>
#include "tests.h"

#define SEQ0	3000000u
#define SN0	11

/* An installed connection, its stream, and its first segment sent. */
struct installed {
	struct tls_stream s;
	struct tls_conn c;
	struct tlshim_conn_stats expected;
	struct tlshim_conn before;	/* state after the first segment */
};

static bool install_and_send_first(struct test *t, struct installed *in)
{
	struct cuts cuts;

	tls_stream_init(&in->s);
	tls_stream_record(&in->s, 300);
	tls_stream_record(&in->s, 500);
	cuts = cuts_mss(in->s.len, 400);
	in->c = tls_conn_new(&in->s, SEQ0, SN0);
	if (!tls_conn_install(t, &in->c))
		return false;
	cuts.n = 1;
	in->expected = send_in_order(t, &in->c, &cuts, 0);
	return tls_conn_read(t, &in->c, &in->before);
}

static void expect_unchanged_since_first(struct test *t, struct installed *in)
{
	struct tlshim_conn after;

	if (!tls_conn_read(t, &in->c, &after))
		return;
	expect_state_unchanged(t, &in->before, &after);
	expect_conn_stats(t, &in->expected, &after.stats);
}

static void expect_only_counters(struct test *t, const struct tlshim_conn_stats *stats,
				 uint64_t unparsed)
{
	struct tlshim_counters counters = counters_of(stats);

	counters.rx_tls_unparsed = unparsed;
	test_context(t, "%s", "totals");
	expect_counters(t, &counters);
	test_context(t, "%s", "");
}

/* Segments of flows nobody installed (another port, the reverse direction,
 * the tx entry of the same tuple) and non-IP frames: no descriptor, no
 * counter, the installed flow's state untouched. */
static void unknown_flow_untouched(struct test *t)
{
	struct flow other, reverse, tx_only;
	const struct { const char *what; const struct flow *flow; } flows[] = {
		{ "another port", &other },
		{ "reverse direction", &reverse },
		{ "tuple installed for tx only", &tx_only },
	};
	struct tlshim_flow tx_key;
	struct installed in;
	uint8_t frame[FRAME_MAX];
	size_t len;
	struct rx_run r;

	if (!install_and_send_first(t, &in))
		goto out;

	other = in.c.flow;
	other.dport++;
	reverse = flow_reversed(&in.c.flow);
	tx_only = flow_ipv4(next_local_port());
	tx_key = flow_conn_key(&tx_only, TLSHIM_DIR_TX);
	if (dut_conn_install(&tx_key, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, SEQ0, 0)) {
		FAIL(t, "installing the tx entry: %s", strerror(errno));
		goto out;
	}

	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		test_context(t, "%s", flows[i].what);
		len = frame_build(frame, flows[i].flow, &(struct frame_opts){ 0 },
				  SEQ0 + 400, in.s.bytes + 400, in.s.len - 400);
		r = dut_rx_run(frame, len);
		expect_untouched(t, &r);
	}

	test_context(t, "%s", "ARP frame");
	memset(frame, 0, ETH_MIN_FRAME);
	frame[12] = 0x08;
	frame[13] = 0x06;
	r = dut_rx_run(frame, ETH_MIN_FRAME);
	expect_untouched(t, &r);

	test_context(t, "%s", "");
	expect_unchanged_since_first(t, &in);
	expect_only_counters(t, &in.expected, 0);
out:
	tls_stream_free(&in.s);
}

/* A pure ACK, FIN, SYN carry nothing for the record layer: a descriptor
 * saying so, and no counter, whatever their seq (a keepalive sits at
 * expected_seq - 1, an ACK never creates a gap). */
static void no_payload(struct test *t)
{
	static const struct { const char *what; uint8_t flags; int32_t seq_delta; } segs[] = {
		{ "ACK", TCP_ACK, 0 },
		{ "FIN|ACK", TCP_FIN | TCP_ACK, 0 },
		{ "SYN", TCP_SYN, -1000 },
		{ "ACK at expected_seq - 1", TCP_ACK, -1 },
		{ "ACK beyond expected_seq", TCP_ACK, 5000 },
	};
	struct installed in;

	if (!install_and_send_first(t, &in))
		goto out;
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		struct frame_opts fo = { .tcp_flags = segs[i].flags };
		struct rx_run r;

		test_context(t, "%s", segs[i].what);
		r = send_raw(&in.c, &fo, SEQ0 + 400 + segs[i].seq_delta, NULL, 0);
		expect_passed(t, &r, TLSHIM_PASS_NO_PAYLOAD, 0, TLSHIM_SYNC_IN_SYNC);
	}
	test_context(t, "%s", "");
	expect_unchanged_since_first(t, &in);
	expect_only_counters(t, &in.expected, 0);
out:
	tls_stream_free(&in.s);
}

/* The device cannot place a fragment's bytes in the TCP stream. */
static void fragments_untouched(struct test *t)
{
	static const struct { const char *what; bool ipv6; struct frame_opts fo; } frags[] = {
		{ "IPv4 MF", false, { .ipv4_frag_off = 0x2000 } },
		{ "IPv4 DF|MF", false, { .ipv4_frag_off = 0x6000 } },
		{ "IPv4 offset 8, last", false, { .ipv4_frag_off = 0x0001 } },
		{ "IPv6 fragment header", true, { .ipv6_fragment = true } },
		{ "IPv6 hop-by-hop, fragment header", true,
		  { .ipv6_hopopts = true, .ipv6_fragment = true } },
	};
	struct installed in4, in6;

	if (!install_and_send_first(t, &in4))
		goto out4;
	tls_stream_init(&in6.s);
	tls_stream_record(&in6.s, 300);
	in6.c = tls_conn_new(&in6.s, SEQ0, SN0);
	in6.c.flow = flow_ipv6(in6.c.flow.dport);
	if (!tls_conn_install(t, &in6.c) || !tls_conn_read(t, &in6.c, &in6.before))
		goto out6;
	memset(&in6.expected, 0, sizeof(in6.expected));

	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		struct installed *in = frags[i].ipv6 ? &in6 : &in4;
		uint32_t seq = frags[i].ipv6 ? SEQ0 : SEQ0 + 400;
		size_t from = frags[i].ipv6 ? 0 : 400;
		struct rx_run r;

		test_context(t, "%s", frags[i].what);
		r = send_raw(&in->c, &frags[i].fo, seq, in->s.bytes + from, 200);
		expect_untouched(t, &r);
	}
	test_context(t, "%s", "");
	expect_unchanged_since_first(t, &in4);
	expect_unchanged_since_first(t, &in6);
	expect_only_counters(t, &in4.expected, 0);
out6:
	tls_stream_free(&in6.s);
out4:
	tls_stream_free(&in4.s);
}

struct malformed_row {
	bool ipv6;
	struct frame_opts fo;
	bool counted_unparsed;	/* says TCP but does not add up (rx_tls_unparsed) */
};

/* Frames of the installed flow that do not add up: passed untouched, state
 * unchanged, no crash. */
static void malformed(struct test *t)
{
	const struct malformed_row *row = t->param;
	struct installed in;
	struct rx_run r;

	tls_stream_init(&in.s);
	tls_stream_record(&in.s, 300);
	tls_stream_record(&in.s, 500);
	in.c = tls_conn_new(&in.s, SEQ0, SN0);
	if (row->ipv6)
		in.c.flow = flow_ipv6(in.c.flow.dport);
	if (!tls_conn_install(t, &in.c) || !tls_conn_read(t, &in.c, &in.before))
		goto out;
	memset(&in.expected, 0, sizeof(in.expected));

	r = send_raw(&in.c, &row->fo, SEQ0, in.s.bytes, 400);
	expect_untouched(t, &r);
	expect_unchanged_since_first(t, &in);
	expect_only_counters(t, &in.expected, row->counted_unparsed);

	/* And the stream is still where it was: the real segment decrypts. */
	test_context(t, "%s", "the well-formed segment after it");
	r = send_bytes(&in.c, 0, 400);
	expect_decrypted(t, &r, &in.c, 0, 400);
	expect_in_sync_at(t, &in.c, 400);
out:
	tls_stream_free(&in.s);
}

#define MALFORMED(name, ipv6, counted_unparsed, ...)				\
	{ name, malformed,							\
	  &(const struct malformed_row){ ipv6, { __VA_ARGS__ }, counted_unparsed } }

/* Frames: Ethernet 14 + IPv4 20 or IPv6 40 + TCP 20 + 400 bytes of payload. */
const struct test_case parse_tests[] = {
	{ "unknown_flow_untouched", unknown_flow_untouched, NULL },
	{ "no_payload_segments", no_payload, NULL },
	{ "fragments_untouched", fragments_untouched, NULL },
	MALFORMED("malformed_tcp_doff_4", false, true, .tcp_doff = 4),
	MALFORMED("malformed_tcp_doff_15_beyond_ip_length", false, true,
		  .tcp_doff = 15, .ip_len_delta = -(60 + 400) + 30),
	MALFORMED("malformed_ipv4_tot_len_1_beyond_frame", false, true, .ip_len_delta = 1),
	MALFORMED("malformed_ipv4_tot_len_1000_beyond_frame", false, true, .ip_len_delta = 1000),
	MALFORMED("malformed_ipv4_tot_len_below_ihl", false, true,
		  .ip_len_delta = -(20 + 20 + 400) + 10),
	MALFORMED("malformed_ipv4_tot_len_inside_tcp_header", false, true,
		  .ip_len_delta = -(20 + 400) + 10),
	MALFORMED("malformed_ipv4_truncated_tcp_header", false, true, .truncate_to = 14 + 20 + 10),
	/* Cut before the protocol is known: not even counted as unparsed TCP. */
	MALFORMED("malformed_ipv4_truncated_ip_header", false, false, .truncate_to = 14 + 10),
	MALFORMED("malformed_ipv6_payload_len_beyond_frame", true, true, .ip_len_delta = 1),
	MALFORMED("malformed_ipv6_tcp_doff_3", true, true, .tcp_doff = 3),
	MALFORMED("malformed_ipv6_truncated_tcp_header", true, true, .truncate_to = 14 + 40 + 10),
	MALFORMED("malformed_ipv6_truncated_ip_header", true, false, .truncate_to = 14 + 30),
};
const size_t n_parse_tests = sizeof(parse_tests) / sizeof(parse_tests[0]);
