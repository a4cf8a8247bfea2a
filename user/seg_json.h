/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One JSON line per segment, the same keys for the live trace (`tlshim run
 * --trace FILE`) and the replay verdicts (`tlshim replay --verdicts FILE`),
 * so one reader (a timeline drawer) takes both.  Schema in README
 * ("Per-segment JSON lines").
 */
#ifndef TLSHIM_SEG_JSON_H
#define TLSHIM_SEG_JSON_H

#include <stdio.h>
#include "common.h"

#define SEG_JSON_MAX_HEADERS 64

struct seg_line {
	long long index;		/* "i": capture index; < 0: not printed (live) */
	uint64_t ts_ns;
	struct tlshim_flow flow;	/* dir, src, dst */
	uint32_t seq, len;
	const char *verdict;		/* decrypted|encrypted|passed|dropped|skipped */
	const char *reason;		/* NULL: null */
	bool has_rec_sn;
	uint64_t rec_sn;
	int headers_known;		/* 1: headers[] listed; 0: "headers": null */
	uint32_t nheaders;		/* the device's count */
	uint32_t nlisted;		/* of those, seqs found (headers[]) */
	uint32_t headers[SEG_JSON_MAX_HEADERS];
	const char *resync;		/* NULL | "request" | "confirmed" */
	const char *state;		/* sync state name after the segment */
	const char *tx_verdict;		/* tx only: the device's own verdict */
	uint32_t dump_bytes;		/* tx only */
	bool injected;			/* replay --drop removed it */
};

/* The line from an EV_SEGMENT event (everything the event carries;
 * headers unknown). */
void seg_line_from_event(struct seg_line *l, const struct tlshim_event *ev);
void seg_json_write(FILE *f, const struct seg_line *l);

const char *rx_reason_name(uint8_t reason);
const char *tx_verdict_name(uint8_t verdict);
/* The common verdict of a TX segment: encrypted (in order or after a
 * replay), skipped, dropped, passed (untracked, no payload). */
const char *tx_common_verdict(uint8_t verdict);
const char *tx_drop_reason_name(uint8_t reason);

#endif
