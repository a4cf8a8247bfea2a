/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reference model of what a correct TLS-offload receiver may claim, in
 * plain userspace C and independent of bpf/: it is written from the
 * sender's side (the records it made) and from tls-offload.rst and the
 * kernel's resync rules (shared/spec/kernel-notes.md), never from the
 * device's code.  It does not predict the device segment by segment; it
 * judges what the device says:
 *
 *  (a) claims: a segment may be flagged decrypted only if every byte of it
 *      lies in a record the sender made, the descriptor's rec_sn is the
 *      low 32 bits of the number of the record holding its first byte, and
 *      its header count is the number of headers that end inside it.  A
 *      device that says IN_SYNC holds the true record delineation (start,
 *      number, length, partial header bytes); one that tracks a guess on a
 *      stream without header look-alikes tracks a true record start.
 *  (b) recovery: once the traffic is in order again (the "tail"), the
 *      device is back in sync within a bound derived from the policy's rules
 *      alone (see struct ref_bound), stays in sync, and decrypts every
 *      in-order segment that starts in an undamaged record.
 *  (c) counters: done by the caller from the descriptors it collected.
 */
#ifndef UNIT_REFMODEL_H
#define UNIT_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlshim.h"

#define REF_HDR 5

/* A record as the sender made it.  Offsets count stream bytes from the
 * first byte sent and never wrap; seq = seq0 + offset (mod 2^32). */
struct ref_record {
	uint64_t start;		/* first header byte */
	uint32_t rec_len;	/* header + length field */
	uint64_t sn;		/* TLS record number */
	uint8_t hdr[REF_HDR];
};

struct ref_truth {
	uint32_t seq0;
	uint64_t records_from;	/* offset of the first record (junk before) */
	struct ref_record *rec;
	size_t n, cap;
	uint64_t end;		/* offset after the last record made */
};

void ref_truth_init(struct ref_truth *t, uint32_t seq0, uint64_t records_from);
void ref_truth_free(struct ref_truth *t);
void ref_truth_add(struct ref_truth *t, uint32_t rec_len, uint64_t sn, const uint8_t hdr[REF_HDR]);
/* Stream offset of a seq near the stream (the caller's streams are < 2 GiB). */
uint64_t ref_off(const struct ref_truth *t, uint32_t seq);
/* Index of the record holding offset off; -1 if none (junk, beyond). */
long ref_rec_at(const struct ref_truth *t, uint64_t off);
/* Index of the record starting exactly at off; -1 if none. */
long ref_rec_starting(const struct ref_truth *t, uint64_t off);
/* Headers whose last byte lies in [from, to). */
unsigned ref_headers_in(const struct ref_truth *t, uint64_t from, uint64_t to);
static inline uint64_t ref_rec_end(const struct ref_truth *t, size_t i)
{
	return t->rec[i].start + t->rec[i].rec_len;
}

/* Header length limits per tls_rx_msg_size() (kernel-notes.md). */
void ref_len_limits(uint16_t version, uint16_t cipher, uint16_t *min, uint16_t *max);

/* (a) A decrypted claim for stream bytes [from, to).  why gets the reason. */
bool ref_check_decrypted(const struct ref_truth *t, uint64_t from, uint64_t to,
			 const struct tlshim_rx_meta *meta, char *why, size_t why_len);
/* (a) The state after a segment.  clean: the stream has no header
 * look-alikes, so a guess the device tracks must be a true record start. */
bool ref_check_state(const struct ref_truth *t, const struct tlshim_stream *st, bool clean,
		     char *why, size_t why_len);

/*
 * (b) Recovery bound, fed the tail's segments in order ([a, e) contiguous,
 * starting at tail_start).  Derived from the rules:
 *  - stream-scan: lost at or before tail_start, so scanning may start no
 *    later than L = tail_start + 5 + max_len.  The first header starting at
 *    or after L that lies wholly in one segment is found (or an earlier one
 *    is); the request goes out with the segment that completes the
 *    resync_headers-th header of the chain; the answer (the truth is always
 *    there) is applied at the next segment, after which the device is in
 *    sync and decrypts every segment.
 *  - async: the same, if every segment sent holds at most 13 record starts
 *    (the kernel logs the first 13 starts of the request's packet); else the
 *    request may be unanswerable: abandoned once resync_timeout records
 *    followed the guess, then a new guess in the next segment (answerable:
 *    no start precedes it in its packet) and the same again.
 *  - next-hint: the kernel hints after failed > target fully encrypted
 *    records (target 2, doubling to 128, then +128; a partly decrypted
 *    record resets it), at the start of the record after the one the
 *    stream is in, unless its head already arrived (then one further).  The
 *    target cannot exceed what the records completed before the tail could
 *    have raised it to; the device is in sync after the segment covering
 *    the hint.
 *  - none: a device lost at the start of the tail stays lost.
 *  - all: once in sync in the tail, stays in sync; an in-sync segment that
 *    starts after the record the tail started in is decrypted.
 */
enum ref_stage {
	REF_WAIT_GUESS,		/* scan: waiting for the header a scan must find */
	REF_COUNT,		/* scan: counting the chain */
	REF_NEXT,		/* scan: the request went out; the next segment confirms */
	REF_TIMEOUT,		/* async: waiting for the unanswered request to time out */
	REF_NH_FIRE,		/* next-hint: waiting for the hint to be due */
	REF_NH_COVER,		/* next-hint: waiting for a segment covering the hint */
	REF_ARMED,		/* the device must be in sync */
	REF_NONE,		/* policy none: nothing to wait for */
};

struct ref_bound {
	uint8_t policy;
	uint32_t resync_headers, resync_timeout;
	uint64_t tail_start;
	size_t rec_d;		/* the record the tail starts in */
	enum ref_stage stage;
	uint64_t scan_limit;	/* L */
	size_t guess;
	bool second_try;	/* async: the guess after an unanswered one */
	bool async_answerable;	/* every segment so far held <= 13 starts */
	size_t fire_rec;	/* next-hint: the record whose end makes it due */
	uint64_t hint;		/* next-hint: offset of the hinted record */
	uint64_t decrypt_from;	/* in-order segments starting here on: decrypted */
	bool lost_for_good;	/* none: lost at the tail's first segment */
	bool was_in_sync;	/* after the previous tail segment */
	size_t segments;
	uint64_t synced_at;	/* offset after the segment that found sync */
};

/* max_starts: most record starts any segment before the tail held.  The
 * records made so far must reach past tail_start. */
void ref_bound_begin(struct ref_bound *b, const struct ref_truth *t, uint8_t policy,
		     uint32_t resync_headers, uint32_t resync_timeout, uint16_t max_len,
		     uint64_t tail_start, unsigned max_starts);
/* One tail segment and the descriptor it got; false (with why) on a
 * violation.  The records covering [a, e) must be in t. */
bool ref_bound_segment(struct ref_bound *b, const struct ref_truth *t, uint64_t a, uint64_t e,
		       const struct tlshim_rx_meta *meta, char *why, size_t why_len);
/* The tail may end: the device was found in sync (or, for none, stayed
 * lost) and a whole record was then sent. */
bool ref_bound_done(const struct ref_bound *b, const struct ref_truth *t, uint64_t e);
/* Record starts in [a, e). */
unsigned ref_starts_in(const struct ref_truth *t, uint64_t a, uint64_t e);
/* The kernel's next-hint target after k hints without a reset. */
uint32_t ref_nh_target(unsigned hints);

#endif /* UNIT_REFMODEL_H */
