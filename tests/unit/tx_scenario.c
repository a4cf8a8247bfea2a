// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include "scenario.h"
#include "tx_scenario.h"

#define TX_FRAME_CAP	4096	/* test_run's skb data limit is under a page */

struct tx_conn tx_conn_new(const struct tls_stream *s, uint32_t seq0, uint64_t sn0)
{
	struct tx_conn c = {
		.version = TLSHIM_TLS_1_2,
		.cipher = TLSHIM_CIPHER_AES_GCM_128,
		.seq0 = seq0,
		.sn0 = sn0,
		.s = s,
	};
	struct flow peer_to_us = flow_ipv4(next_local_port());

	c.flow = flow_reversed(&peer_to_us);
	return c;
}

bool tx_world_install(struct test *t, struct tx_world *w, const struct tx_conn *c)
{
	memset(w, 0, sizeof(*w));
	w->c = *c;
	w->c.key = flow_conn_key(&w->c.flow, TLSHIM_DIR_TX);
	w->expected_off = w->sent_off = c->s->records_from;
	w->acked_seq = c->seq0 + (uint32_t)c->s->records_from;
	w->marker_live = true;
	if (dut_tx_conn_install(&w->c.key, c->version, c->cipher,
				c->seq0 + (uint32_t)c->s->records_from, c->sn0, c->enforce_drops)) {
		FAIL(t, "installing the TX connection: %s", strerror(errno));
		return false;
	}
	return true;
}

size_t tx_records_complete(const struct tls_stream *s, size_t off)
{
	size_t n = 0;

	while (n < s->nrec && s->rec[n].start + TLS_HEADER_SIZE + s->rec[n].length <= off)
		n++;
	return n;
}

size_t tx_record_start(const struct tls_stream *s, size_t index)
{
	return index < s->nrec ? s->rec[index].start : s->len;
}

size_t tx_frame(uint8_t *buf, size_t cap, const struct tx_conn *c, size_t from, size_t to)
{
	return frame_build_into(buf, cap, &c->flow, &c->fo, c->seq0 + (uint32_t)from,
				c->s->bytes + from, to - from);
}

/* The stream state of an in-sync parser at stream offset off, as the RX
 * scenarios compute it from the layout. */
static struct tlshim_stream parser_at(const struct tx_conn *c, size_t off)
{
	struct tls_conn rc = { .version = c->version, .cipher = c->cipher, .seq0 = c->seq0,
			       .sn0 = c->sn0, .s = c->s };

	return stream_in_sync_at(&rc, off);
}

void tx_segment_step(struct test *t, struct tx_world *w, size_t from, size_t to,
		     const struct tx_step *step, uint32_t gso_segs)
{
	static uint8_t frame[TX_FRAME_CAP];
	size_t len = tx_frame(frame, sizeof(frame), &w->c, from, to);
	struct tx_run r = dut_tx_run(frame, len, gso_segs, gso_segs ? 1448 : 0);

	test_context(t, "segment %zu..%zu (seq %u)", from, to, w->c.seq0 + (uint32_t)from);
	if (r.err) {
		FAIL(t, "bpf_prog_test_run_opts: %s", strerror(r.err));
		return;
	}
	EXPECT_EQ(t, step->shot ? TC_ACT_SHOT : (uint32_t)TLSHIM_TC_PASS, r.retval);
	EXPECT_TRUE(t, r.packet_unchanged);
	tx_world_segment(t, w, from, to, step);
}

void tx_world_segment(struct test *t, struct tx_world *w, size_t from, size_t to,
		      const struct tx_step *step)
{
	const struct tls_stream *s = w->c.s;
	struct tlshim_tx_stats *st = &w->stats;
	bool encrypts = step->verdict == TLSHIM_TX_ENCRYPTED || step->verdict == TLSHIM_TX_RESYNC;
	bool walks = !step->shot && to > w->sent_off;

	test_context(t, "segment %zu..%zu (seq %u)", from, to, w->c.seq0 + (uint32_t)from);
	if (encrypts) {
		st->encrypted_packets++;
		st->encrypted_bytes += to - from;
	}
	st->ooo += step->verdict != TLSHIM_TX_ENCRYPTED && step->verdict != TLSHIM_TX_UNTRACKED;
	st->resync += step->verdict == TLSHIM_TX_RESYNC;
	st->dump_packets += step->dump_bytes > 0;
	st->dump_bytes += step->dump_bytes;
	if (step->verdict == TLSHIM_TX_RESYNC && from >= w->sent_off) {
		st->resync_resume++;
		st->dump_bytes_resume += step->dump_bytes;
	}
	st->skip_no_sync_data += step->verdict == TLSHIM_TX_SKIP;
	if (step->verdict == TLSHIM_TX_DROP) {
		st->drop_no_sync_data++;
		st->drop_straddle += step->drop_reason == TLSHIM_TX_DROP_STRADDLE;
		st->drop_acked += step->drop_reason == TLSHIM_TX_DROP_ACKED;
		st->drop_evicted += step->drop_reason == TLSHIM_TX_DROP_EVICTED;
	}
	st->dropped += step->shot;
	if (from < w->sent_off) {
		st->resent_packets++;
		st->resent_bytes += (to < w->sent_off ? to : w->sent_off) - from;
	}
	st->untracked += step->verdict == TLSHIM_TX_UNTRACKED;
	st->evicted += step->evicted;
	w->first_logged += step->evicted;
	if (step->loses_stream) {
		st->lost_sync++;
		st->header_errors += step->loses_stream == TLSHIM_LOSS_BAD_HEADER;
		st->records += step->records;
		w->lost_reason = step->loses_stream;
		w->lost_at_seq = w->c.seq0 + (uint32_t)step->lost_at;
		w->lost_seen_seq = w->c.seq0 + (uint32_t)from;
		w->sent_off = to;
	} else if (walks && w->lost_reason == TLSHIM_LOSS_NONE) {
		st->records += tls_stream_headers_in(s, w->sent_off, to);
		w->sent_off = to;
	} else if (walks) {
		w->sent_off = to;	/* lost: it only follows the highest seq */
	}
	if (encrypts)
		w->expected_off = to;
	w->last_verdict = step->verdict;
	w->last_drop_reason = step->drop_reason;
	tx_check(t, w);
	test_context(t, "%s", "");
}

void tx_ack_step(struct test *t, struct tx_world *w, uint32_t ack, uint32_t acked_after,
		 size_t first_logged_after, bool marker_live_after)
{
	uint8_t frame[FRAME_MAX];
	struct flow peer_to_us = flow_reversed(&w->c.flow);
	struct frame_opts fo = w->c.fo;
	struct rx_run r;
	size_t len;

	fo.set_ack = true;
	fo.ack_seq = ack;
	len = frame_build(frame, &peer_to_us, &fo, 0x7000, NULL, 0);
	r = dut_rx_run(frame, len);
	test_context(t, "ACK %u", ack);
	if (r.err) {
		FAIL(t, "bpf_prog_test_run_opts (XDP): %s", strerror(r.err));
		return;
	}
	EXPECT_EQ(t, XDP_PASS, r.retval);
	if (acked_after != w->acked_seq) {
		w->acked_seq = acked_after;
		w->stats.acks++;
	}
	w->first_logged = first_logged_after;
	w->marker_live = marker_live_after;
	tx_check(t, w);
	test_context(t, "%s", "");
}

static void expect_tx_stats(struct test *t, const struct tlshim_tx_stats *e,
			    const struct tlshim_tx_stats *a)
{
#define EXPECT_STAT(f) EXPECT_EQ_NAMED(t, "stats." #f, e->f, a->f)
	EXPECT_STAT(encrypted_packets);
	EXPECT_STAT(encrypted_bytes);
	EXPECT_STAT(ooo);
	EXPECT_STAT(resync);
	EXPECT_STAT(dump_packets);
	EXPECT_STAT(dump_bytes);
	EXPECT_STAT(resync_resume);
	EXPECT_STAT(dump_bytes_resume);
	EXPECT_STAT(skip_no_sync_data);
	EXPECT_STAT(drop_no_sync_data);
	EXPECT_STAT(drop_straddle);
	EXPECT_STAT(drop_acked);
	EXPECT_STAT(drop_evicted);
	EXPECT_STAT(dropped);
	EXPECT_STAT(resent_packets);
	EXPECT_STAT(resent_bytes);
	EXPECT_STAT(records);
	EXPECT_STAT(evicted);
	EXPECT_STAT(acks);
	EXPECT_STAT(untracked);
	EXPECT_STAT(lost_sync);
	EXPECT_STAT(header_errors);
	EXPECT_STAT(retries);
#undef EXPECT_STAT
}

/* The global counters one connection's TX counters add up to. */
static struct tlshim_counters tx_counters_of(const struct tx_world *w)
{
	const struct tlshim_tx_stats *s = &w->stats;
	struct tlshim_counters c;

	memset(&c, 0, sizeof(c));
	c.tx_tls_encrypted_packets = s->encrypted_packets;
	c.tx_tls_encrypted_bytes = s->encrypted_bytes;
	c.tx_tls_ooo = s->ooo;
	c.tx_tls_skip_no_sync_data = s->skip_no_sync_data;
	c.tx_tls_drop_no_sync_data = s->drop_no_sync_data;
	c.tx_tls_dump_packets = s->dump_packets;
	c.tx_tls_dump_bytes = s->dump_bytes;
	c.tx_tls_resent_packets = s->resent_packets;
	c.tx_tls_resent_bytes = s->resent_bytes;
	c.tx_tls_records = s->records;
	c.tx_tls_log_evicted = s->evicted;
	c.tx_tls_dropped = s->dropped;
	c.tx_tls_untracked = s->untracked;
	c.tx_tls_state_retry = w->state_retry;
	return c;
}

void tx_check(struct test *t, const struct tx_world *w)
{
	const struct tx_conn *c = &w->c;
	struct tlshim_tx_conn *conn = malloc(sizeof(*conn));
	struct tlshim_counters counters;
	struct tlshim_stream parser;
	size_t complete;

	if (!conn || dut_tx_conn_read(&c->key, conn)) {
		FAIL(t, "reading the TX connection: %s", strerror(errno));
		free(conn);
		return;
	}
	EXPECT_EQ(t, c->seq0 + (uint32_t)w->expected_off, conn->expected_seq);
	EXPECT_EQ(t, w->acked_seq, conn->acked_seq);
	EXPECT_EQ(t, w->marker_live, conn->marker_live);
	EXPECT_EQ(t, w->last_verdict, conn->last_verdict);
	EXPECT_EQ(t, w->last_drop_reason, conn->last_drop_reason);
	if (w->lost_reason == TLSHIM_LOSS_NONE) {
		parser = parser_at(c, w->sent_off);
		expect_stream(t, &parser, &conn->parser);
		/* The log: positions count records completed since install. */
		complete = tx_records_complete(c->s, w->sent_off);
		EXPECT_EQ(t, complete, conn->log_tail);
		EXPECT_EQ(t, w->first_logged, conn->log_head);
		for (size_t i = w->first_logged; i < complete && i < conn->log_tail; i++)
			EXPECT_EQ_NAMED(t, "log entry", c->seq0 + (uint32_t)c->s->rec[i].start,
					conn->log[i % TLSHIM_TX_LOG_SLOTS]);
	} else {
		EXPECT_EQ(t, TLSHIM_SYNC_LOST, conn->parser.sync);
		EXPECT_EQ(t, w->lost_reason, conn->parser.lost_reason);
		EXPECT_EQ(t, w->lost_at_seq, conn->parser.lost_at_seq);
		EXPECT_EQ(t, w->lost_seen_seq, conn->parser.lost_seen_seq);
		EXPECT_EQ(t, c->seq0 + (uint32_t)w->sent_off, conn->parser.expected_seq);
	}
	expect_tx_stats(t, &w->stats, &conn->stats);
	counters = tx_counters_of(w);
	expect_counters(t, &counters);
	free(conn);
}
