// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TX side of a connection: its device state in tlshim_tx_conns
 * (installed beside the tlshim_conns entry every connection has) and what
 * `conn list` shows of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "common.h"

int tx_conn_install(const struct device_maps *m, const struct tlshim_flow *flow,
		    __u16 version, __u16 cipher, __u32 start_seq, __u64 start_rec_sn,
		    bool enforce_drops)
{
	struct tlshim_tx_conn *c = malloc(sizeof(*c));	/* 16 KiB: not on the stack */
	int err;

	if (!c) {
		errno = ENOMEM;
		return -1;
	}
	tlshim_tx_conn_init(c, version, cipher, start_seq, start_rec_sn, enforce_drops,
			    now_monotonic_ns());
	err = bpf_map_update_elem(m->tx_conns, flow, c, BPF_NOEXIST);
	free(c);
	return err;
}

struct tlshim_tx_conn *tx_conn_read(const struct device_maps *m, const struct tlshim_flow *flow)
{
	struct tlshim_tx_conn *c = malloc(sizeof(*c));

	if (c && bpf_map_lookup_elem_flags(m->tx_conns, flow, c, BPF_F_LOCK)) {
		free(c);
		c = NULL;
	}
	return c;
}

/* The numbers `conn list` shows for a TX connection, in order. */
size_t tx_conn_fields(const struct tlshim_tx_conn *c, struct conn_field *f)
{
	const struct tlshim_stream *p = &c->parser;
	const struct tlshim_tx_stats *s = &c->stats;
	__u32 logged = c->log_tail - c->log_head;
	size_t n = 0;

#define FIELD(nm, v) f[n++] = (struct conn_field){ nm, (v) }
	FIELD("expected_seq", c->expected_seq);
	FIELD("sent_seq", p->expected_seq);	/* after the highest byte seen leave */
	FIELD("acked_seq", c->acked_seq);
	FIELD("start_seq", c->start_seq);
	FIELD("start_rec_sn", c->start_rec_sn);
	FIELD("rec_sn", p->rec_sn);
	FIELD("rec_start_seq", p->rec_start_seq);
	FIELD("rec_offset", p->rec_offset);
	FIELD("rec_len", p->rec_len);
	FIELD("log_records", logged);
	FIELD("log_oldest_seq", logged ? c->log[c->log_head % TLSHIM_TX_LOG_SLOTS] :
	      p->rec_start_seq);
	FIELD("marker_live", c->marker_live);
	FIELD("lost_at_seq", p->lost_at_seq);
	FIELD("lost_seen_seq", p->lost_seen_seq);
	FIELD("encrypted_packets", s->encrypted_packets);
	FIELD("encrypted_bytes", s->encrypted_bytes);
	FIELD("ooo", s->ooo);
	FIELD("resync", s->resync);
	FIELD("dump_packets", s->dump_packets);
	FIELD("dump_bytes", s->dump_bytes);
	FIELD("resync_resume", s->resync_resume);
	FIELD("dump_bytes_resume", s->dump_bytes_resume);
	FIELD("skip_no_sync_data", s->skip_no_sync_data);
	FIELD("drop_no_sync_data", s->drop_no_sync_data);
	FIELD("drop_straddle", s->drop_straddle);
	FIELD("drop_acked", s->drop_acked);
	FIELD("drop_evicted", s->drop_evicted);
	FIELD("dropped", s->dropped);
	FIELD("resent_packets", s->resent_packets);
	FIELD("resent_bytes", s->resent_bytes);
	FIELD("records", s->records);
	FIELD("evicted", s->evicted);
	FIELD("acks", s->acks);
	FIELD("untracked", s->untracked);
	FIELD("lost_sync", s->lost_sync);
	FIELD("header_errors", s->header_errors);
	FIELD("retries", s->retries);
#undef FIELD
	return n;
}
