// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The record headers the device parsed in a segment.  Its event and
 * descriptor carry only their count; the seqs follow from the device's
 * record position before the segment (or the guess it tracks after it)
 * and the segment's bytes.
 */
#include <string.h>
#include <bpf/bpf.h>
#include "replay.h"
#include "seg_json.h"

/* Walks the record chain from header seq h (partial: the first `have` header
 * bytes of the record at h, from the state), collecting headers that
 * complete inside [seq, seq+len). */
static uint32_t walk_from(uint32_t h, const uint8_t *partial, uint32_t have, uint32_t seq,
			  const uint8_t *pl, uint32_t len, uint32_t *out, uint32_t max)
{
	uint32_t n = 0;

	while (n < max) {
		uint8_t hdr[TLS_HEADER_SIZE];

		for (uint32_t j = 0; j < TLS_HEADER_SIZE; j++) {
			uint32_t at = h + j - seq;

			if (j < have)
				hdr[j] = partial[j];
			else if (at < len)
				hdr[j] = pl[at];
			else
				return n;
		}
		if ((uint32_t)(h + TLS_HEADER_SIZE - 1 - seq) >= len)
			return n;	/* completed before this segment */
		out[n++] = h;
		h += TLS_HEADER_SIZE + (hdr[3] << 8 | hdr[4]);
		have = 0;
	}
	return n;
}

/* Header seqs for a segment the device says completed want headers in,
 * from its state before and after (the event carries only the count). */
uint32_t replay_headers_of(const struct tlshim_stream *pre, const struct tlshim_stream *post,
			   uint32_t seq, const uint8_t *pl, uint32_t len, uint32_t want,
			   uint32_t *out)
{
	uint32_t n = 0;

	if (!want)
		return 0;
	if (want > SEG_JSON_MAX_HEADERS)
		want = SEG_JSON_MAX_HEADERS;
	if (pre->sync == TLSHIM_SYNC_IN_SYNC || pre->sync == TLSHIM_SYNC_TRACKING ||
	    pre->sync == TLSHIM_SYNC_REQUESTED) {
		if (pre->rec_len)
			n = walk_from(pre->rec_start_seq + pre->rec_len, NULL, 0, seq, pl, len, out, want);
		else
			n = walk_from(pre->rec_start_seq, pre->hdr_part,
				      pre->rec_offset < 4 ? pre->rec_offset : 4, seq, pl, len, out, want);
		if (n == want)
			return n;
	}
	if (post->sync == TLSHIM_SYNC_TRACKING || post->sync == TLSHIM_SYNC_REQUESTED) {
		n = walk_from(post->resync_seq, NULL, 0, seq, pl, len, out, want);
		if (n == want)
			return n;
	}
	/* Anything else (a guess found and confirmed in one segment, a hint):
	 * the chain of want headers inside the segment that ends where the
	 * device's state ends. */
	for (uint32_t off = 0; off + TLS_HEADER_SIZE <= len; off++) {
		uint32_t tmp[SEG_JSON_MAX_HEADERS], k = walk_from(seq + off, NULL, 0, seq, pl, len, tmp, want);
		uint32_t last_end;

		if (k != want)
			continue;
		last_end = tmp[k - 1] + TLS_HEADER_SIZE +
			   (pl[tmp[k - 1] - seq + 3] << 8 | pl[tmp[k - 1] - seq + 4]);
		if (tmp[k - 1] == post->rec_start_seq || last_end == post->rec_start_seq) {
			memcpy(out, tmp, k * sizeof(*tmp));
			return k;
		}
	}
	return n;
}

