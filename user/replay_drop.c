// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * replay --drop: the loss specs of include/tlshim_drop.h applied to the
 * installed connections' data segments, as the live loss tool applies them
 * on the wire: data segments numbered per flow counting every
 * transmission, records numbered from the flow's first payload byte after
 * the SYN, header:K/body:K only on first transmissions.
 */
#include <string.h>
#include <bpf/bpf.h>
#include "replay.h"
#include "seg_json.h"

bool replay_drop_decide(struct replay *r, struct rconn *c, const struct replay_frame *f)
{
	uint32_t s, e;
	bool drop = false, first_tx;
	uint64_t idx;

	if (!r->ndrops || !f->payload_len || !c->stream)
		return false;
	idx = c->seg_index++;
	s = f->seq - c->stream->base;
	e = s + f->payload_len;
	first_tx = !c->have_end || (int32_t)(s - c->highest_end) >= 0;
	for (int d = 0; d < r->ndrops; d++) {
		const struct tlshim_drop_spec *sp = &r->drops[d];

		if (idx < sp->from)
			continue;
		if (sp->kind == TLSHIM_DROP_RANDOM || sp->kind == TLSHIM_DROP_NTH) {
			drop |= tlshim_drop_by_index(sp, idx);
			continue;
		}
		if (!first_tx)
			continue;
		for (uint32_t i = 0; i < sp->nrecords && i < TLSHIM_DROP_MAX_RECORDS; i++) {
			const struct rrec *rec;

			if (sp->records[i] >= c->nstream_recs)
				continue;
			rec = &c->stream_recs[sp->records[i]];
			if (sp->kind == TLSHIM_DROP_HEADER &&
			    (uint32_t)(rec->rel - s) < f->payload_len)
				drop = true;
			/* body:K: only the first segment wholly inside the body */
			if (sp->kind == TLSHIM_DROP_BODY && !(c->body_done[d] >> i & 1) &&
			    (int32_t)(s - (rec->rel + TLS_HEADER_SIZE)) >= 0 &&
			    (int32_t)(rec->rel + rec->len - e) >= 0) {
				c->body_done[d] |= 1u << i;
				drop = true;
			}
		}

	}
	/* Every transmission counts, dropped or not (a tool on the wire sees it). */
	if (!c->have_end || (int32_t)(e - c->highest_end) > 0)
		c->highest_end = e;
	c->have_end = true;
	return drop;
}

