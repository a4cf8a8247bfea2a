/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `tlshim timeline`: per-segment verdicts (JSONL from `tlshim replay
 * --verdicts` or `tlshim run --trace`) drawn as an SVG figure like those in
 * Documentation/networking/tls-offload.rst.
 */
#ifndef TLSHIM_TIMELINE_H
#define TLSHIM_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What the picture distinguishes (the fill of a segment's box). */
enum tl_verdict {
	TL_DECRYPTED,
	TL_ENCRYPTED,
	TL_PASSED,
	TL_DROPPED,
	TL_SKIPPED,
	TL_NVERDICTS,
};
const char *tl_verdict_class(enum tl_verdict v);

enum tl_resync {
	TL_RESYNC_NONE,
	TL_RESYNC_REQUEST,
	TL_RESYNC_CONFIRMED,
};

struct tl_seg {
	uint64_t index;		/* "i", else the line's 0-based number */
	uint32_t seq, len;
	enum tl_verdict verdict;
	char raw_verdict[16];	/* as written (the live trace's "skip", "resync"...) */
	bool has_rec_sn;
	uint64_t rec_sn;
	uint32_t *hdrs;		/* "headers" as an array: record header seqs */
	size_t nhdrs;
	enum tl_resync resync;
	char state[32];		/* "" if none given */
	char reason[32];	/* for the tooltip; "" if none */
	bool injected;
	uint32_t dump_bytes;	/* tx resync: record prefix replayed */
};

struct tl_flow {
	char dir[3];
	char *src, *dst;	/* "" when the input does not say */
	uint64_t nsegs;
};

/* What to read: filters from the command line. */
struct tl_select {
	const char *flow_src, *flow_dst;	/* normalised, or NULL: any */
	const char *dir;			/* "rx", "tx" or NULL */
	uint64_t from;				/* first index drawn */
	uint64_t count;				/* rows at most */
	bool has_seq_from, has_seq_to;
	uint32_t seq_from, seq_to;
};

struct tl_data {
	struct tl_seg *segs;		/* the rows, in arrival order */
	size_t nsegs;
	struct tl_flow *flows;		/* every flow in the file, first seen first */
	size_t nflows, flows_cap;
	size_t *flow_slots;		/* hash of flows: index + 1, 0 = empty */
	size_t nslots;			/* a power of two, > 2 * nflows */
	int chosen;			/* index into flows, -1 if none matched */
	uint64_t nmatched;		/* segments of the chosen flow */
	uint64_t before_from;		/* ... left out by --from */
	uint64_t outside_seq;		/* ... by --seq-from/--seq-to */
	uint64_t no_payload;		/* ... without payload (and no marker) */
	uint64_t more;			/* ... beyond --count */
	uint64_t lines;
};

/* "ADDR:PORT" as format_endpoint() spells it, or s itself if it is not an
 * endpoint; malloc'd. */
char *tl_normalise_endpoint(const char *s);
/* Reads the whole file; a malformed line is a usage error (exit 2). */
void tl_read(FILE *in, const char *name, const struct tl_select *sel, struct tl_data *d);
void tl_data_free(struct tl_data *d);

struct tl_style {
	const char *title;
	int width;
	bool has_seq_from, has_seq_to;	/* the x axis is fixed to this range */
	uint32_t seq_from, seq_to;
};
void tl_draw(FILE *f, const struct tl_data *d, const struct tl_style *st);

#endif /* TLSHIM_TIMELINE_H */
