/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The out-of-sync header scan (tls-offload.rst "Resync handling / RX"):
 * find the first place in a segment that looks like a TLS record header
 * (content type 20-23, version 0x03 0x03, plausible length).
 *
 * Cheap on purpose: it runs on every segment while the device is lost.  A
 * step loads up to 32 bytes with one helper call and tests them eight at a
 * time: a word-wide compare (SWAR) marks the bytes equal to 0x03, and a
 * header needs two of them side by side, so a chunk with no "03 03" pair is
 * dismissed in a handful of instructions.  Only where a pair shows up are
 * the five header bytes loaded and checked.
 */
#ifndef TLSHIM_SCAN_H
#define TLSHIM_SCAN_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tlshim.h"
#include "record.h"

#define SCAN_CHUNK	32	/* bytes per step; the stack is tight */

/* High bit of each byte of x that equals 0x03 (exact, no false hits). */
static __always_inline __u64 bytes_eq_03(__u64 x)
{
	__u64 y = x ^ 0x0303030303030303ull;
	__u64 t = (y & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full;

	return ~(t | y | 0x7f7f7f7f7f7f7f7full);
}

/* Index of the lowest byte whose high bit is set in a nonzero mask. */
static __always_inline __u32 lowest_byte(__u64 mask)
{
	__u64 low = (mask & -mask) >> 7;	/* 1 << (8 * index) */

	return (low * 0x0001020304050607ull) >> 56;
}

static __always_inline int scan_header_ok(const struct rec_walk *s, const __u8 *b)
{
	__u16 len = (b[3] << 8) | b[4];

	return b[0] >= TLS_CT_CHANGE_CIPHER_SPEC && b[0] <= TLS_CT_APPLICATION_DATA &&
	       b[1] == 3 && b[2] == 3 && len >= s->st->rec_min_len && len <= s->st->rec_max_len;
}

/*
 * One chunk.  LOAD is bpf_xdp_load_bytes or bpf_skb_load_bytes.  The next
 * chunk overlaps this one by one byte, so a pair split across chunks is
 * still seen.
 */
#define DEFINE_HEADER_SCAN_STEP(name, LOAD)					\
static long name(__u32 index, struct rec_walk *s)				\
{										\
	__u8 chunk[SCAN_CHUNK] = {};						\
	__u64 n = s->end - s->off;						\
	__u64 first_pair = SCAN_CHUNK;						\
										\
	if (s->off + 1 >= s->end)						\
		return 1;							\
	if (n > SCAN_CHUNK)							\
		n = SCAN_CHUNK;							\
	/* Keep the clamped value in the register the helper gets: the	\
	 * verifier must see 1 <= n <= SCAN_CHUNK there. */			\
	asm volatile("" : "+r"(n));						\
	if (n < 1 || n > SCAN_CHUNK || LOAD(s->ctx, s->off, chunk, n)) {	\
		s->fault = 1;							\
		return 1;							\
	}									\
	/* Branch-free: eight branches here would give the verifier eight	\
	 * states to follow through every later step. */			\
	_Pragma("unroll")							\
	for (int w = SCAN_CHUNK / 8 - 1; w >= 0; w--) {				\
		/* Bit 8i+7: bytes i and i+1 are both 0x03 (byte 8 of the	\
		 * word is byte 0 of the next one). */				\
		__u64 eq = bytes_eq_03(*(__u64 *)&chunk[w * 8]);		\
		__u64 next = w + 1 < SCAN_CHUNK / 8 ?				\
			bytes_eq_03(*(__u64 *)&chunk[w * 8 + 8]) : 0;		\
		__u64 pairs = eq & (eq >> 8 | next << 56);			\
		__u64 hit = -((pairs | -pairs) >> 63);	/* ~0 if any pair */	\
										\
		first_pair = (first_pair & ~hit) |				\
			     ((w * 8 + lowest_byte(pairs)) & hit);		\
	}									\
	if (first_pair == SCAN_CHUNK) {						\
		/* No pair inside the loaded bytes: go on past them. */		\
		s->off += n - 1;						\
		return 0;							\
	}									\
	/* Version bytes at off + first_pair: the type byte is one before. */	\
	{									\
		__u32 hdr = s->off + first_pair - 1;				\
		__u8 b[TLS_HEADER_SIZE];					\
										\
		s->off += first_pair + 1;					\
		if (hdr < s->scan_from || hdr + TLS_HEADER_SIZE > s->end)		\
			return 0;						\
		if (LOAD(s->ctx, hdr, b, TLS_HEADER_SIZE)) {			\
			s->fault = 1;						\
			return 1;						\
		}								\
		if (!scan_header_ok(s, b))					\
			return 0;						\
		s->found = 1;							\
		s->found_off = hdr;						\
		return 1;							\
	}									\
}

#endif /* TLSHIM_SCAN_H */
