/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tlshim_drop.h - loss injection, one definition for the live BPF loss tool
 * (tools/tlsloss) and for `tlshim replay --drop`, so that a spec drops the
 * same segments of the same traffic in both (this kernel has no netem).
 *
 * A spec, as the user writes it (user/drop_spec.c parses it):
 *   random:PCT[,seed=S]      each data segment with probability PCT percent;
 *                            decided by a hash of (seed, segment index), so a
 *                            seed replays the same pattern
 *   nth:N[,seed=S]           data segments i with i % N == S % N
 *   header:K[,K...]          the first transmission of the segment carrying
 *                            the first header byte of record K
 *   body:K[,K...]            the first transmission of the first segment that
 *                            lies wholly inside record K's body (no header byte)
 *   any spec may add ,from=I: data segments before index I are never dropped
 * "Data segment" means a TCP segment with payload of the selected flow, each
 * transmission counted (indexes start at 0).  Records are numbered in the
 * flow's byte stream from its first payload byte after the SYN (record 0 is
 * the ClientHello or ServerHello), whatever keys protect them: that is the
 * numbering a tool on the wire can see.  "First transmission": the segment
 * starts at or after the highest end seen so far in that flow.
 */
#ifndef TLSHIM_DROP_H
#define TLSHIM_DROP_H

#include <linux/types.h>

enum tlshim_drop_kind {
	TLSHIM_DROP_NONE = 0,
	TLSHIM_DROP_RANDOM = 1,
	TLSHIM_DROP_NTH = 2,
	TLSHIM_DROP_HEADER = 3,
	TLSHIM_DROP_BODY = 4,
};

#define TLSHIM_DROP_MAX_RECORDS	16

struct tlshim_drop_spec {
	__u32 kind;		/* enum tlshim_drop_kind */
	__u32 nth;		/* NTH: the period */
	__u64 threshold;	/* RANDOM: drop if hash < threshold (PCT/100 * 2^64) */
	__u64 seed;
	__u32 from;		/* first data-segment index that may be dropped */
	__u32 nrecords;		/* HEADER/BODY: how many of records[] are used */
	__u32 records[TLSHIM_DROP_MAX_RECORDS];
};

/* splitmix64: a full-period mix, identical in BPF and userspace. */
static inline __u64 tlshim_drop_mix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* RANDOM and NTH: is data segment number index (0-based) dropped? */
static inline int tlshim_drop_by_index(const struct tlshim_drop_spec *s, __u64 index)
{
	if (index < s->from)
		return 0;
	if (s->kind == TLSHIM_DROP_RANDOM)
		return tlshim_drop_mix(s->seed ^ tlshim_drop_mix(index)) < s->threshold;
	if (s->kind == TLSHIM_DROP_NTH && s->nth)
		return index % s->nth == s->seed % s->nth;
	return 0;
}

/* HEADER and BODY: is record rec (stream numbering above) one of the spec's? */
static inline int tlshim_drop_names_record(const struct tlshim_drop_spec *s, __u64 rec)
{
	__u32 i;

	for (i = 0; i < TLSHIM_DROP_MAX_RECORDS; i++) {
		if (i >= s->nrecords)
			break;
		if (s->records[i] == rec)
			return 1;
	}
	return 0;
}

#endif /* TLSHIM_DROP_H */
