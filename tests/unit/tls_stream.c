// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tlshim.h"
#include "tls_stream.h"

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 256;
	p = realloc(p, *cap * elem);
	if (!p) {
		perror("realloc");
		exit(2);
	}
	return p;
}

void tls_stream_init(struct tls_stream *s)
{
	memset(s, 0, sizeof(*s));
}

void tls_stream_free(struct tls_stream *s)
{
	free(s->bytes);
	free(s->rec);
	memset(s, 0, sizeof(*s));
}

/* Filler that is not all zeroes, so a device reading body bytes as a
 * header would see garbage rather than a plausible type-0 header. */
static void append_filler(struct tls_stream *s, size_t n)
{
	s->bytes = grow(s->bytes, &s->cap, s->len + n, 1);
	for (size_t i = 0; i < n; i++, s->len++)
		s->bytes[s->len] = 0xa5 ^ (uint8_t)(s->len * 7);
}

void tls_stream_junk(struct tls_stream *s, size_t n)
{
	append_filler(s, n);
	s->records_from = s->len;
}

void tls_stream_record_raw(struct tls_stream *s, uint8_t type, uint16_t version,
			   uint16_t length, size_t body_len)
{
	uint8_t *h;

	s->rec = grow(s->rec, &s->rec_cap, s->nrec + 1, sizeof(*s->rec));
	s->rec[s->nrec++] = (struct tls_record){ .start = s->len, .length = length };
	s->bytes = grow(s->bytes, &s->cap, s->len + TLS_HEADER_SIZE, 1);
	h = s->bytes + s->len;
	h[0] = type;
	h[1] = version >> 8;
	h[2] = version;
	h[3] = length >> 8;
	h[4] = length;
	s->len += TLS_HEADER_SIZE;
	append_filler(s, body_len);
}

void tls_stream_record(struct tls_stream *s, uint16_t length)
{
	tls_stream_record_raw(s, TLS_CT_APPLICATION_DATA, TLS_WIRE_VERSION, length, length);
}

struct rec_pos tls_stream_pos(const struct tls_stream *s, size_t off)
{
	struct rec_pos p = { .index = s->nrec, .start = off };

	for (size_t i = 0; i < s->nrec; i++) {
		size_t end = s->rec[i].start + TLS_HEADER_SIZE + s->rec[i].length;

		if (off < end) {
			p.index = i;
			p.start = s->rec[i].start;
			break;
		}
	}
	p.offset = off - p.start;
	if (p.offset >= TLS_HEADER_SIZE)
		p.rec_len = TLS_HEADER_SIZE + s->rec[p.index].length;
	else
		memcpy(p.hdr_part, s->bytes + p.start, p.offset);
	return p;
}

unsigned tls_stream_headers_in(const struct tls_stream *s, size_t from, size_t to)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->nrec; i++) {
		size_t last = s->rec[i].start + TLS_HEADER_SIZE - 1;

		n += last >= from && last < to;
	}
	return n;
}

static void check_cuts(const struct cuts *c)
{
	if (c->n == 0 || c->n >= sizeof(c->bounds) / sizeof(c->bounds[0])) {
		fprintf(stderr, "cuts: %zu segments is out of range\n", c->n);
		exit(2);
	}
}

struct cuts cuts_even(size_t len, size_t segments)
{
	struct cuts c = { .n = segments };

	check_cuts(&c);
	for (size_t i = 0; i <= segments; i++)
		c.bounds[i] = len * i / segments;
	return c;
}

struct cuts cuts_mss(size_t len, size_t mss)
{
	struct cuts c = { .n = (len + mss - 1) / mss };

	check_cuts(&c);
	for (size_t i = 0; i < c.n; i++)
		c.bounds[i] = i * mss;
	c.bounds[c.n] = len;
	return c;
}

struct cuts cuts_at(size_t len, const size_t *at, size_t n_at)
{
	struct cuts c = { .n = n_at + 1 };

	check_cuts(&c);
	for (size_t i = 0; i < n_at; i++)
		c.bounds[i + 1] = at[i];
	c.bounds[c.n] = len;
	return c;
}
