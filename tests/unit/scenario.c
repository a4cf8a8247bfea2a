// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>
#include "scenario.h"

struct tls_conn tls_conn_new(const struct tls_stream *s, uint32_t seq0, uint64_t sn0)
{
	struct tls_conn c = {
		.flow = flow_ipv4(next_local_port()),
		.version = TLSHIM_TLS_1_2,
		.cipher = TLSHIM_CIPHER_AES_GCM_128,
		.seq0 = seq0,
		.sn0 = sn0,
		.s = s,
	};

	return c;
}

bool tls_conn_install(struct test *t, struct tls_conn *c)
{
	c->key = flow_conn_key(&c->flow, TLSHIM_DIR_RX);
	if (dut_conn_install(&c->key, c->version, c->cipher,
			 c->seq0 + (uint32_t)c->s->records_from, c->sn0)) {
		FAIL(t, "installing the connection: %s", strerror(errno));
		return false;
	}
	return true;
}

bool tls_conn_read(struct test *t, const struct tls_conn *c, struct tlshim_conn *conn)
{
	if (dut_conn_read(&c->key, conn)) {
		FAIL(t, "reading the connection: %s", strerror(errno));
		memset(conn, 0, sizeof(*conn));
		return false;
	}
	return true;
}

struct rx_run send_raw(const struct tls_conn *c, const struct frame_opts *fo,
		       uint32_t seq, const uint8_t *payload, size_t len)
{
	uint8_t frame[FRAME_MAX];
	size_t frame_len = frame_build(frame, &c->flow, fo, seq, payload, len);

	return dut_rx_run(frame, frame_len);
}

struct rx_run send_bytes(const struct tls_conn *c, size_t from, size_t to)
{
	return send_raw(c, &c->fo, c->seq0 + (uint32_t)from, c->s->bytes + from, to - from);
}

bool expect_descriptor(struct test *t, const struct rx_run *r)
{
	if (r->err) {
		FAIL(t, "bpf_prog_test_run_opts: %s", strerror(r->err));
		return false;
	}
	EXPECT_EQ(t, XDP_PASS, r->retval);
	EXPECT_TRUE(t, r->packet_unchanged);
	if (!r->has_meta) {
		FAIL(t, "no RX descriptor (data_size_out %u)", r->size_out);
		return false;
	}
	return EXPECT_EQ(t, TLSHIM_META_MAGIC, r->meta.magic);
}

void expect_decrypted(struct test *t, const struct rx_run *r, const struct tls_conn *c,
		      size_t from, size_t to)
{
	if (!expect_descriptor(t, r))
		return;
	EXPECT_EQ(t, TLSHIM_VERDICT_DECRYPTED, r->meta.verdict);
	EXPECT_EQ(t, TLSHIM_PASS_NONE, r->meta.reason);
	EXPECT_EQ(t, tls_stream_headers_in(c->s, from, to), r->meta.headers);
	EXPECT_EQ(t, (uint32_t)(c->sn0 + tls_stream_pos(c->s, from).index), r->meta.rec_sn);
	EXPECT_EQ(t, TLSHIM_SYNC_IN_SYNC, r->meta.sync);
}

void expect_passed(struct test *t, const struct rx_run *r, enum tlshim_pass_reason reason,
		   unsigned headers, enum tlshim_sync sync)
{
	if (!expect_descriptor(t, r))
		return;
	EXPECT_EQ(t, TLSHIM_VERDICT_PASSED, r->meta.verdict);
	EXPECT_EQ(t, reason, r->meta.reason);
	EXPECT_EQ(t, headers, r->meta.headers);
	EXPECT_EQ(t, sync, r->meta.sync);
}

void expect_untouched(struct test *t, const struct rx_run *r)
{
	if (r->err) {
		FAIL(t, "bpf_prog_test_run_opts: %s", strerror(r->err));
		return;
	}
	EXPECT_EQ(t, XDP_PASS, r->retval);
	if (r->has_meta)
		FAIL(t, "a descriptor was written: verdict %u reason %u",
		     r->meta.verdict, r->meta.reason);
	EXPECT_TRUE(t, r->packet_unchanged);
}

struct tlshim_stream stream_in_sync_at(const struct tls_conn *c, size_t off)
{
	struct rec_pos pos = tls_stream_pos(c->s, off);
	struct tlshim_stream st;

	memset(&st, 0, sizeof(st));
	st.expected_seq = c->seq0 + (uint32_t)off;
	st.rec_start_seq = c->seq0 + (uint32_t)pos.start;
	st.rec_len = pos.rec_len;
	st.rec_offset = pos.offset;
	st.rec_sn = c->sn0 + pos.index;
	memcpy(st.hdr_part, pos.hdr_part, sizeof(st.hdr_part));
	st.sync = TLSHIM_SYNC_IN_SYNC;
	st.lost_reason = TLSHIM_LOSS_NONE;
	st.rec_min_len = tlshim_rec_min_len(c->version, c->cipher);
	st.rec_max_len = tlshim_rec_max_len(c->version, c->cipher);
	return st;
}

void expect_stream(struct test *t, const struct tlshim_stream *e,
		   const struct tlshim_stream *a)
{
	EXPECT_EQ(t, e->expected_seq, a->expected_seq);
	EXPECT_EQ(t, e->rec_start_seq, a->rec_start_seq);
	EXPECT_EQ(t, e->rec_len, a->rec_len);
	EXPECT_EQ(t, e->rec_offset, a->rec_offset);
	EXPECT_EQ(t, e->rec_sn, a->rec_sn);
	EXPECT_MEM_EQ(t, e->hdr_part, a->hdr_part, sizeof(a->hdr_part));
	EXPECT_EQ(t, e->sync, a->sync);
	EXPECT_EQ(t, e->lost_reason, a->lost_reason);
	EXPECT_EQ(t, e->lost_at_seq, a->lost_at_seq);
	EXPECT_EQ(t, e->lost_seen_seq, a->lost_seen_seq);
	EXPECT_EQ(t, e->rec_min_len, a->rec_min_len);
	EXPECT_EQ(t, e->rec_max_len, a->rec_max_len);
}

void expect_in_sync_at(struct test *t, const struct tls_conn *c, size_t off)
{
	struct tlshim_stream expected = stream_in_sync_at(c, off);
	struct tlshim_conn conn;

	if (tls_conn_read(t, c, &conn))
		expect_stream(t, &expected, &conn.st);
}

void expect_conn_stats(struct test *t, const struct tlshim_conn_stats *e,
		       const struct tlshim_conn_stats *a)
{
	EXPECT_EQ(t, e->decrypted_packets, a->decrypted_packets);
	EXPECT_EQ(t, e->decrypted_bytes, a->decrypted_bytes);
	EXPECT_EQ(t, e->passed_packets, a->passed_packets);
	EXPECT_EQ(t, e->old_packets, a->old_packets);
	EXPECT_EQ(t, e->records, a->records);
	EXPECT_EQ(t, e->lost_sync, a->lost_sync);
	EXPECT_EQ(t, e->header_errors, a->header_errors);
	EXPECT_EQ(t, e->retries, a->retries);
}

void expect_counters(struct test *t, const struct tlshim_counters *e)
{
	struct tlshim_counters a;

	if (dut_counters_read(&a)) {
		FAIL(t, "reading tlshim_stats: %s", strerror(errno));
		return;
	}
#define EXPECT_COUNTER(name) EXPECT_EQ_NAMED(t, "tlshim_stats." #name, e->name, a.name);
	TLSHIM_DATAPATH_COUNTERS(EXPECT_COUNTER)
#undef EXPECT_COUNTER
}

void expect_state_unchanged(struct test *t, const struct tlshim_conn *before,
			    const struct tlshim_conn *after)
{
	EXPECT_EQ(t, before->generation, after->generation);
	expect_stream(t, &before->st, &after->st);
	EXPECT_EQ(t, before->start_seq, after->start_seq);
	EXPECT_EQ(t, before->start_rec_sn, after->start_rec_sn);
	EXPECT_EQ(t, before->tls_version, after->tls_version);
	EXPECT_EQ(t, before->cipher, after->cipher);
	EXPECT_EQ(t, before->installed_ns, after->installed_ns);
}

struct tlshim_counters counters_of(const struct tlshim_conn_stats *s)
{
	struct tlshim_counters c;

	memset(&c, 0, sizeof(c));
	c.rx_tls_decrypted_packets = s->decrypted_packets;
	c.rx_tls_decrypted_bytes = s->decrypted_bytes;
	c.rx_tls_passed_packets = s->passed_packets;
	c.rx_tls_old_packets = s->old_packets;
	c.rx_tls_records = s->records;
	c.rx_tls_lost_sync = s->lost_sync;
	c.rx_tls_err = s->header_errors;
	return c;
}

struct tlshim_conn_stats send_in_order(struct test *t, const struct tls_conn *c,
				       const struct cuts *cuts, size_t first_segment)
{
	struct tlshim_conn_stats added;

	memset(&added, 0, sizeof(added));
	for (size_t i = first_segment; i < cuts->n; i++) {
		size_t from = cuts->bounds[i], to = cuts->bounds[i + 1];
		struct rx_run r;

		test_context(t, "segment %zu/%zu (stream bytes %zu..%zu, seq %u)", i + 1,
			     cuts->n, from, to, c->seq0 + (uint32_t)from);
		r = send_bytes(c, from, to);
		expect_decrypted(t, &r, c, from, to);
		expect_in_sync_at(t, c, to);
		added.decrypted_packets++;
		added.decrypted_bytes += to - from;
		added.records += tls_stream_headers_in(c->s, from, to);
	}
	test_context(t, "%s", "");
	return added;
}

void run_in_order(struct test *t, struct tls_conn *c, const struct cuts *cuts)
{
	struct tlshim_conn_stats expected;
	struct tlshim_counters expected_counters;
	struct tlshim_conn conn;

	if (!tls_conn_install(t, c))
		return;
	expect_in_sync_at(t, c, 0);
	expected = send_in_order(t, c, cuts, 0);
	if (tls_conn_read(t, c, &conn))
		expect_conn_stats(t, &expected, &conn.stats);
	expected_counters = counters_of(&expected);
	expect_counters(t, &expected_counters);
}
