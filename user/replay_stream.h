/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Offline TCP reassembly of one direction of a connection in a capture, and
 * the TLS record chain in it: the truth replay answers resync requests
 * with, the record numbering of --drop header:K/body:K, and what --auto
 * reads the handshake from.
 *
 * Stream offset 0 is the first payload byte after the SYN (ISN + 1) when
 * the capture holds the SYN, else the lowest seq of the flow's data
 * segments.  Every captured byte counts, whatever the order it came in;
 * where copies overlap, the first one captured wins.  Bytes never captured
 * are a hole: the record chain runs as long as each header's five bytes
 * are there (a hole inside a record's body does not stop it) and ends at
 * the first header that is not a valid TLS header, or that fell in a hole,
 * unless the chain resumes after it: when the records before the hole are
 * of one size L and, m records of size L after the lost header (m <= 64),
 * three valid headers chain, the hole is taken to hold m records of size L
 * (a bulk sender's equal records); otherwise the truth ends at the hole.
 */
#ifndef TLSHIM_REPLAY_STREAM_H
#define TLSHIM_REPLAY_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Streams beyond this many bytes are cut there (the chain ends). */
#define RSTREAM_MAX_BYTES	(1u << 30)
/* How many records of one size a hole may hold for the chain to resume. */
#define RSTREAM_RESUME_MAX	64

struct rrec {
	uint32_t rel;		/* stream offset of the header's first byte */
	uint32_t len;		/* header + length field */
	uint8_t ct;		/* content type */
	uint16_t version;	/* record-layer version */
	uint64_t first_pkt;	/* capture index of the first packet holding its first byte */
	bool complete;		/* every byte of it captured */
	bool inferred;		/* its header fell in a hole (see rstream_chain) */
};

struct rseg {
	uint64_t pkt;		/* capture index */
	uint32_t rel, len;	/* may start before offset 0: rel is then (uint32)negative */
};

struct rstream {
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;	/* network byte order */
	bool syn_seen;
	uint32_t base;		/* TCP seq of stream offset 0 */
	bool have_base;
	uint8_t *data, *have;	/* bytes and a byte-per-byte "captured" map */
	size_t cap, len;	/* len: end of the furthest byte captured */
	struct rseg *segs;	/* data segments, capture order */
	size_t nsegs, cap_segs;
	uint64_t first_pkt, last_pkt;
};

struct rstream_set {
	struct rstream *s;
	size_t n, cap;
};

/* Finds (or with create, adds) the stream of that direction. */
struct rstream *rstream_get(struct rstream_set *set, const uint8_t saddr[16],
			    const uint8_t daddr[16], uint16_t sport, uint16_t dport, bool create);
/* First pass: a SYN fixes offset 0; a data segment may lower it (no SYN). */
void rstream_note(struct rstream *s, uint8_t flags, uint32_t seq, uint32_t len);
/* Second pass: a data segment's bytes.  -1: out of memory. */
int rstream_add(struct rstream *s, uint64_t pkt, uint32_t seq, const uint8_t *payload,
		uint32_t len);
/* Records of the chain starting at stream offset from; *n records,
 * malloc'd (NULL if none). */
struct rrec *rstream_chain(const struct rstream *s, uint32_t from, size_t *n);
/* Is stream offset rel captured, for len bytes? */
bool rstream_has(const struct rstream *s, uint32_t rel, uint32_t len);
void rstream_set_free(struct rstream_set *set);

#endif
