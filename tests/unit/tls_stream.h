/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A TCP byte stream of TLS records, and where any byte of it falls in the
 * record layout: the expected device state is read off the layout the test
 * built, never computed by re-implementing the device.
 */
#ifndef UNIT_TLS_STREAM_H
#define UNIT_TLS_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct tls_record {
	size_t start;		/* stream offset of the first header byte */
	uint16_t length;	/* the header's length field */
};

struct tls_stream {
	uint8_t *bytes;
	size_t len, cap;
	size_t records_from;	/* bytes before this belong to no record */
	struct tls_record *rec;
	size_t nrec, rec_cap;
};

/* Where stream offset off (>= records_from) falls. */
struct rec_pos {
	size_t index;		/* record containing off; nrec past the last */
	size_t start;		/* that record's first byte */
	uint32_t offset;	/* off - start */
	uint32_t rec_len;	/* header + length once the header is complete, else 0 */
	uint8_t hdr_part[4];	/* the header bytes before off while offset < 5 */
};

void tls_stream_init(struct tls_stream *s);
void tls_stream_free(struct tls_stream *s);
/* Bytes that precede the first record (e.g. the tail of the handshake). */
void tls_stream_junk(struct tls_stream *s, size_t n);
/* An application-data record with `length` body bytes. */
void tls_stream_record(struct tls_stream *s, uint16_t length);
/* A record with any header; body_len filler bytes follow it. */
void tls_stream_record_raw(struct tls_stream *s, uint8_t type, uint16_t version,
			   uint16_t length, size_t body_len);

struct rec_pos tls_stream_pos(const struct tls_stream *s, size_t off);
/* Record headers whose last byte lies in [from, to). */
unsigned tls_stream_headers_in(const struct tls_stream *s, size_t from, size_t to);

/* Segment boundaries: bounds[0] = 0 < bounds[1] < ... < bounds[n] = len. */
struct cuts {
	size_t n;		/* segments */
	size_t bounds[1024];
};

struct cuts cuts_even(size_t len, size_t segments);
struct cuts cuts_mss(size_t len, size_t mss);
/* Segments ending at the given offsets (ascending), then one up to len. */
struct cuts cuts_at(size_t len, const size_t *at, size_t n_at);

#endif /* UNIT_TLS_STREAM_H */
