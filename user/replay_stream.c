// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Offline reassembly and record chains (replay_stream.h). */
#include <stdlib.h>
#include <string.h>
#include "replay_stream.h"
#include "tlshim.h"

struct rstream *rstream_get(struct rstream_set *set, const uint8_t saddr[16],
			    const uint8_t daddr[16], uint16_t sport, uint16_t dport, bool create)
{
	struct rstream *s;

	for (size_t i = 0; i < set->n; i++) {
		s = &set->s[i];
		if (s->sport == sport && s->dport == dport && !memcmp(s->saddr, saddr, 16) &&
		    !memcmp(s->daddr, daddr, 16))
			return s;
	}
	if (!create)
		return NULL;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct rstream *grown = realloc(set->s, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		set->s = grown;
		set->cap = cap;
	}
	s = &set->s[set->n++];
	memset(s, 0, sizeof(*s));
	memcpy(s->saddr, saddr, 16);
	memcpy(s->daddr, daddr, 16);
	s->sport = sport;
	s->dport = dport;
	return s;
}

void rstream_note(struct rstream *s, uint8_t flags, uint32_t seq, uint32_t len)
{
	if ((flags & 0x02) && !s->syn_seen) {	/* SYN: the ISN */
		s->syn_seen = true;
		s->base = seq + 1;
		s->have_base = true;
		return;
	}
	if (!len || s->syn_seen)
		return;
	if (!s->have_base || (int32_t)(seq - s->base) < 0) {
		s->base = seq;
		s->have_base = true;
	}
}

static int grow(struct rstream *s, size_t need)
{
	size_t cap = s->cap ? s->cap : 65536;
	uint8_t *d, *h;

	while (cap < need)
		cap *= 2;
	if (cap == s->cap)
		return 0;
	d = realloc(s->data, cap);
	if (!d)
		return -1;
	s->data = d;
	h = realloc(s->have, cap);
	if (!h)
		return -1;
	memset(h + s->cap, 0, cap - s->cap);
	s->have = h;
	s->cap = cap;
	return 0;
}

int rstream_add(struct rstream *s, uint64_t pkt, uint32_t seq, const uint8_t *payload,
		uint32_t len)
{
	uint32_t rel = seq - s->base, skip = 0;
	uint64_t end;

	if (!len)
		return 0;
	if (s->nsegs == s->cap_segs) {
		size_t cap = s->cap_segs ? s->cap_segs * 2 : 256;
		struct rseg *grown = realloc(s->segs, cap * sizeof(*grown));

		if (!grown)
			return -1;
		s->segs = grown;
		s->cap_segs = cap;
	}
	s->segs[s->nsegs++] = (struct rseg){ .pkt = pkt, .rel = rel, .len = len };
	if (s->nsegs == 1)
		s->first_pkt = pkt;
	s->last_pkt = pkt;
	if ((int32_t)rel < 0) {		/* before offset 0 (pre-SYN junk, wrap) */
		if ((uint32_t)-(int32_t)rel >= len)
			return 0;
		skip = -(int32_t)rel;
		rel = 0;
	}
	end = (uint64_t)rel + (len - skip);
	if (end > RSTREAM_MAX_BYTES)
		end = RSTREAM_MAX_BYTES;
	if (end <= rel)
		return 0;
	if (grow(s, end))
		return -1;
	for (uint32_t i = rel; i < end; i++) {
		if (s->have[i])
			continue;	/* the first copy captured wins */
		s->data[i] = payload[skip + i - rel];
		s->have[i] = 1;
	}
	if (end > s->len)
		s->len = end;
	return 0;
}

bool rstream_has(const struct rstream *s, uint32_t rel, uint32_t len)
{
	if ((uint64_t)rel + len > s->len)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (!s->have[rel + i])
			return false;
	return true;
}

/* A record layer header: type 20-23, version 3.x, a length no TLS record
 * can exceed (2^14 + 2048 for TLS 1.2's ciphertext). */
static bool valid_header(const uint8_t *h)
{
	uint32_t length = h[3] << 8 | h[4];

	return h[0] >= TLS_CT_CHANGE_CIPHER_SPEC && h[0] <= TLS_CT_APPLICATION_DATA &&
	       h[1] == 3 && h[2] <= 4 && length <= TLS_MAX_PAYLOAD_SIZE + 2048;
}

/* count valid headers chained from rel, all captured? */
static bool header_ok(const struct rstream *s, uint64_t rel, int count)
{
	while (count--) {
		if (rel > RSTREAM_MAX_BYTES || !rstream_has(s, rel, TLS_HEADER_SIZE) ||
		    !valid_header(s->data + rel))
			return false;
		rel += TLS_HEADER_SIZE + (s->data[rel + 3] << 8 | s->data[rel + 4]);
	}
	return true;
}

/* A record of the hole (see rstream_chain): its start is inferred. */
static bool add(struct rrec **recs, size_t *n, size_t *cap, uint64_t rel, uint32_t len)
{
	if (*n == *cap) {
		size_t c2 = *cap ? *cap * 2 : 64;
		struct rrec *grown = realloc(*recs, c2 * sizeof(*grown));

		if (!grown)
			return false;
		*recs = grown;
		*cap = c2;
	}
	(*recs)[(*n)++] = (struct rrec){ .rel = rel, .len = len, .first_pkt = UINT64_MAX,
					 .inferred = true };
	return true;
}

static uint64_t first_pkt_of(const struct rstream *s, uint32_t rel)
{
	for (size_t i = 0; i < s->nsegs; i++)
		if ((uint32_t)(rel - s->segs[i].rel) < s->segs[i].len)
			return s->segs[i].pkt;
	return UINT64_MAX;
}

struct rrec *rstream_chain(const struct rstream *s, uint32_t from, size_t *n)
{
	struct rrec *recs = NULL;
	size_t cap = 0;
	uint64_t rel = from;

	*n = 0;
	for (;;) {
		const uint8_t *h;
		uint32_t length;
		bool resumed = false;

		if (!rstream_has(s, rel, TLS_HEADER_SIZE)) {
			/* A hole swallowed this header.  Resume only where the
			 * records around it are of one size (a bulk sender's):
			 * m records of the last length further on, a chain of
			 * three valid headers starts; the hole's records are
			 * numbered as that many records of that size. */
			uint32_t L = *n ? recs[*n - 1].len : 0;

			for (uint32_t m = 1; L && m <= RSTREAM_RESUME_MAX && !resumed; m++)
				if (header_ok(s, rel + (uint64_t)m * L, 3)) {
					for (uint32_t k = 0; k < m && add(&recs, n, &cap, rel, L); k++)
						rel += L;
					resumed = true;
				}
			if (!resumed)
				break;
		}
		h = s->data + rel;
		length = h[3] << 8 | h[4];
		if (!valid_header(h))
			break;
		if (*n == cap) {
			size_t c2 = cap ? cap * 2 : 64;
			struct rrec *grown = realloc(recs, c2 * sizeof(*grown));

			if (!grown)
				break;
			recs = grown;
			cap = c2;
		}
		recs[*n] = (struct rrec){
			.rel = rel, .len = TLS_HEADER_SIZE + length, .ct = h[0],
			.version = h[1] << 8 | h[2], .first_pkt = first_pkt_of(s, rel),
			.complete = rstream_has(s, rel, TLS_HEADER_SIZE + length),
		};
		(*n)++;
		rel += TLS_HEADER_SIZE + length;
	}
	return recs;
}

void rstream_set_free(struct rstream_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->s[i].data);
		free(set->s[i].have);
		free(set->s[i].segs);
	}
	free(set->s);
	memset(set, 0, sizeof(*set));
}
