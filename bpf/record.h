/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Record delineation: walk a segment's payload through the TLS record
 * framing, however records and segments fall (one record over many
 * segments, many records in a segment, a header split at any byte).
 *
 * The walk runs under bpf_loop(): one step consumes a whole header, one
 * byte of a split header, or as much record body as the segment holds, so
 * a segment of N payload bytes never needs more than N + 1 steps, and the
 * verifier checks one step instead of an unrolled loop.
 */
#ifndef TLSHIM_RECORD_H
#define TLSHIM_RECORD_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tlshim.h"

struct rec_walk {
	void *ctx;		/* struct xdp_md * or struct __sk_buff * */
	__u32 off;		/* frame offset of the next byte to read */
	__u32 end;		/* frame offset after the payload */
	struct tlshim_stream *st;	/* the caller's working copy */
	__u16 headers;		/* headers completed in this segment */
	__u8 in_sync;		/* reserved: the walk is the same in sync or not */
	__u8 pad;
	__u8 bad_header;	/* the kernel's parser would reject a header */
	__u8 fault;		/* a load helper failed: frame shorter than parsed */
	__u32 bad_header_seq;	/* TCP seq of the rejected header's first byte */
	/* The header scan (scan.h) shares ctx/off/end: one struct, because
	 * the stack of the program and its callbacks is 512 bytes in all. */
	__u32 scan_from;	/* first frame offset a header may start at */
	__u32 found_off;	/* the header found */
	__u8 found;
	__u8 pad2[3];
};

/* The kernel checks version and length; the content type check is the
 * stream-scan rule (ASPLOS'21): a real record never carries another type. */
static __always_inline int tls_header_valid(const struct tlshim_stream *st,
					    __u8 type, __u16 version, __u16 len)
{
	if (type < TLS_CT_CHANGE_CIPHER_SPEC || type > TLS_CT_APPLICATION_DATA)
		return 0;
	if (version != TLS_WIRE_VERSION)
		return 0;
	return len >= st->rec_min_len && len <= st->rec_max_len;
}

/* Header complete: validate it and open the record.  Returns 1 to stop. */
static __always_inline long rec_open(struct rec_walk *w, __u8 type,
				     __u16 version, __u16 len)
{
	if (!tls_header_valid(w->st, type, version, len)) {
		w->bad_header = 1;
		w->bad_header_seq = w->st->rec_start_seq;
		return 1;
	}
	w->st->rec_len = TLS_HEADER_SIZE + len;
	w->st->rec_offset = TLS_HEADER_SIZE;
	w->st->rec_ok = 1;
	*(__u32 *)w->st->hdr_part = 0;
	w->headers++;
	return 0;
}

/*
 * One step of the walk; LOAD is bpf_xdp_load_bytes or bpf_skb_load_bytes.
 * Split headers accumulate in st.hdr_part in wire order so that the state a
 * user dumps shows the bytes the device is holding.
 */
#define DEFINE_REC_WALK_STEP(name, LOAD)					\
static long name(__u32 index, struct rec_walk *w)				\
{										\
	__u32 left = w->end - w->off;						\
	__u32 take;								\
										\
	if (w->off >= w->end)							\
		return 1;							\
	if (w->st->rec_offset < TLS_HEADER_SIZE) {				\
		__u32 have = w->st->rec_offset;					\
		__u8 b[TLS_HEADER_SIZE];					\
										\
		if (have == 0 && left >= TLS_HEADER_SIZE) {			\
			if (LOAD(w->ctx, w->off, b, TLS_HEADER_SIZE)) {	\
				w->fault = 1;					\
				return 1;					\
			}							\
			w->off += TLS_HEADER_SIZE;				\
			return rec_open(w, b[0], (b[1] << 8) | b[2],		\
					(b[3] << 8) | b[4]);			\
		}								\
		if (LOAD(w->ctx, w->off, b, 1)) {				\
			w->fault = 1;						\
			return 1;						\
		}								\
		w->off++;							\
		if (have < 4) {							\
			__u32 part = bpf_ntohl(*(__u32 *)w->st->hdr_part);	\
										\
			part |= (__u32)b[0] << (24 - 8 * (have & 3));		\
			*(__u32 *)w->st->hdr_part = bpf_htonl(part);		\
			w->st->rec_offset = have + 1;				\
			return 0;						\
		}								\
		return rec_open(w, w->st->hdr_part[0],				\
				(w->st->hdr_part[1] << 8) | w->st->hdr_part[2],	\
				(w->st->hdr_part[3] << 8) | b[0]);		\
	}									\
	take = w->st->rec_len - w->st->rec_offset;				\
	if (take > left)							\
		take = left;							\
	w->off += take;								\
	w->st->rec_offset += take;						\
	if (w->st->rec_offset == w->st->rec_len) {				\
		/* Record done: the next one starts right after it. */		\
		w->st->rec_start_seq += w->st->rec_len;				\
		w->st->rec_sn++;							\
		w->st->rec_len = 0;						\
		w->st->rec_offset = 0;						\
		w->st->rec_ok = 1;					\
	}									\
	return 0;								\
}

#endif /* TLSHIM_RECORD_H */
