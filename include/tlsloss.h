/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tlsloss.h - the contract between bpf/tlsloss.bpf.c (the loss injector on
 * a tc hook) and tools/tlsloss.c (its loader and reader).  The spec itself
 * is struct tlshim_drop_spec (include/tlshim_drop.h), the same one
 * `tlshim replay --drop` uses, so both drop the same segments.
 *
 * Maps, pinned by name under the tool's pin directory (default
 * /sys/fs/bpf/tlsloss):
 *   tlsloss_config   array[1]   the spec and which flows it applies to
 *   tlsloss_flows    LRU hash   per-flow state (struct tlsloss_flow_state)
 *   tlsloss_stats    array[1]   global counters (atomic adds)
 *   tlsloss_log      array[N]   every dropped segment, entry drops % N
 */
#ifndef TLSLOSS_H
#define TLSLOSS_H

#include <linux/types.h>
#include "tlshim_drop.h"

/*
 * Where the filter sits on a clsact hook (handle == priority).  tlshim's
 * filters are at 0x7415 and pass with TC_ACT_UNSPEC, so filters after them
 * run.  Egress: after tlshim's transmit side, because a segment lost on the
 * wire was transmitted by the NIC first.  Ingress: before tlshim's mark
 * filter (the XDP receive side has seen the packet by then anyway: loss the
 * receiving NIC must not see belongs on the sender's egress).
 */
#define TLSLOSS_TC_HANDLE_EGRESS	0x7420
#define TLSLOSS_TC_HANDLE_INGRESS	0x7410

#define TLSLOSS_MAX_FLOWS	16384
#define TLSLOSS_LOG_SIZE	4096	/* the log keeps the last 4096 drops */
/* Record headers one segment may start; beyond it the walker gives up on
 * the flow (a 64 KiB segment of 5-byte records would need 13,000). */
#define TLSLOSS_MAX_HEADERS_PER_SEG	64

enum tlsloss_filter {
	TLSLOSS_FILTER_ALL = 0,		/* every TCP flow on the hook */
	TLSLOSS_FILTER_PORT = 1,	/* source or destination port == port */
	TLSLOSS_FILTER_FLOW = 2,	/* exactly saddr:sport -> daddr:dport */
};

struct tlsloss_config {
	struct tlshim_drop_spec spec;
	__u32 filter;			/* enum tlsloss_filter */
	__be16 port;			/* FILTER_PORT */
	__be16 sport;			/* FILTER_FLOW */
	__be16 dport;
	__u16 initialized;		/* 1 once the loader wrote it */
	__u8 saddr[16];			/* IPv4 as ::ffff:a.b.c.d */
	__u8 daddr[16];
};

/* One direction of a TCP connection on one hook: addresses and ports in
 * packet order (the sender's first), the interface and the hook, so a
 * packet forwarded through two hooks sharing the maps is two flows. */
struct tlsloss_flow {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u32 ifindex;
	__u8 egress;			/* 0 ingress, 1 egress */
	__u8 pad[3];
};

/* Why the record walker stopped following a flow; header/body drops end. */
enum tlsloss_walker {
	TLSLOSS_WALKER_ON = 0,		/* following the records */
	TLSLOSS_WALKER_NO_SYN = 1,	/* first seen mid-stream: no ISN */
	TLSLOSS_WALKER_GAP = 2,		/* bytes beyond the highest end: lost upstream */
	TLSLOSS_WALKER_NOT_TLS = 3,	/* a header with an impossible type/version */
	TLSLOSS_WALKER_DENSE = 4,	/* more headers in a segment than it follows */
};

/*
 * Stream offsets are relative to ISN + 1 (the first payload byte), modulo
 * 2^32 like TCP's own sequence space: comparisons are serial ((__s32)(a - b)).
 */
struct tlsloss_flow_state {
	__u32 isn1;			/* seq of the first payload byte (SYN + 1) */
	__u32 high_end;		/* highest end seen, relative */
	__u64 segs;			/* TCP segments seen (with or without payload) */
	__u64 data_segs;		/* data segments seen = next data-segment index */
	__u64 dropped;
	/* The record walker: bytes up to high_end are consumed. */
	__u32 next_hdr;			/* where the next record header starts */
	__u32 next_rec;			/* its record number */
	__u32 body_start;		/* body of record next_rec - 1 */
	__u32 body_next;		/* body:K may still drop records >= this */
	__u64 hdr_acc;			/* header bytes collected so far, big-endian */
	__u8 hdr_fill;			/* how many (0..4; 5 completes the header) */
	__u8 walker;			/* enum tlsloss_walker */
	__u8 have_isn;
	__u8 pad[5];
};

enum tlsloss_reason {
	TLSLOSS_REASON_RANDOM = TLSHIM_DROP_RANDOM,
	TLSLOSS_REASON_NTH = TLSHIM_DROP_NTH,
	TLSLOSS_REASON_HEADER = TLSHIM_DROP_HEADER,
	TLSLOSS_REASON_BODY = TLSHIM_DROP_BODY,
};

struct tlsloss_log_entry {
	struct tlsloss_flow flow;
	__u64 number;			/* 1-based: the Nth drop overall (0: empty slot) */
	__u64 index;			/* data-segment index in its flow */
	__u64 ktime_ns;
	__u32 seq;			/* absolute TCP seq of the segment */
	__u32 len;			/* payload bytes */
	__u32 offset;			/* seq - (ISN + 1), if the ISN is known */
	__u32 record;			/* HEADER/BODY: the record K; else ~0 */
	__u32 reason;			/* enum tlsloss_reason */
	__u32 gso_segs;			/* > 1: a GSO super-packet went whole */
};

struct tlsloss_stats {
	__u64 skbs;			/* TCP skbs of selected flows */
	__u64 data_segs;		/* ... with payload */
	__u64 dropped;
	__u64 gso_skbs;			/* data skbs with gso_segs > 1 */
	__u64 flows;			/* flow states created */
	__u64 walker_lost;		/* flows whose walker stopped (any reason) */
	__u64 not_parsed;		/* IP fragments, truncated headers: passed */
};

#endif /* TLSLOSS_H */
