/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* tlshim replay's pieces (user/replay*.c); see replay.c. */
#ifndef TLSHIM_REPLAY_H
#define TLSHIM_REPLAY_H

#include <stdio.h>
#include "common.h"
#include "capture.h"
#include "drop_spec.h"
#include "install.h"
#include "replay_frame.h"
#include "replay_stream.h"
#include "resync.h"

#define REPLAY_MAX_CONNS	256
#define REPLAY_MAX_DROPS	16
#define REPLAY_MAX_EVENTS	64
/* What bpf_prog_test_run takes: XDP one page less head and tail room,
 * tc 3712 bytes of skb data; frames larger than this are refused. */
#define REPLAY_MAX_FRAME	3520

struct pkt {
	struct cap_packet cap;
	struct replay_frame f;
};

struct rconn {
	struct conn_spec spec;
	bool is_auto, relative;
	struct rstream *stream;		/* the data direction's bytes */
	size_t truth_records;
	/* --drop bookkeeping: data segments seen, highest end (stream offset) */
	uint64_t seg_index;
	bool have_end;
	uint32_t highest_end;
	struct rrec *stream_recs;	/* numbering from stream offset 0 */
	size_t nstream_recs;
	uint32_t body_done[REPLAY_MAX_DROPS];	/* body: bit i: spec record i already dropped */
	/* summary */
	uint64_t packets, injected;
	/* records fully offloaded (replay_records.c), rx only */
	struct rrec *recs;		/* truth from the install point */
	size_t nrecs;
	uint8_t *rec_bad;		/* per record: a first-arrival byte not decrypted */
	uint8_t *delivered;		/* bitmap of stream offsets that arrived */
};

struct replay {
	struct tlshim_bpf *skel;
	struct device_maps m;
	struct resync_service *svc;
	struct rconn conns[REPLAY_MAX_CONNS];
	int nconns;
	struct tlshim_drop_spec drops[REPLAY_MAX_DROPS];
	int ndrops;
	struct tlshim_event events[REPLAY_MAX_EVENTS];
	int nevents;
	char run_dir[64];
};

/* replay_drop.c: is this data segment of c dropped by the --drop specs?
 * (also counts it: every transmission of the flow is numbered) */
bool replay_drop_decide(struct replay *r, struct rconn *c, const struct replay_frame *f);
/* replay_headers.c: TCP seqs of the want record headers the device says
 * it completed in a segment, from its state before and after; returns how
 * many it found (<= want, at most SEG_JSON_MAX_HEADERS). */
uint32_t replay_headers_of(const struct tlshim_stream *pre, const struct tlshim_stream *post,
			   uint32_t seq, const uint8_t *pl, uint32_t len, uint32_t want,
			   uint32_t *out);
/* replay_records.c: records fully offloaded (every byte's first arrival
 * decrypted), the published NICs' figure. */
void replay_records_init(struct rconn *c, const struct rrec *recs, size_t n);
void replay_records_packet(struct rconn *c, uint32_t seq, uint32_t len, bool decrypted);
void replay_records_count(const struct rconn *c, uint64_t *arrived, uint64_t *offloaded);
void replay_records_free(struct rconn *c);
/* replay_summary.c: one line (or JSON object) per connection. */
void replay_summary(struct replay *r, bool json);

#endif
