// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The reference model: see refmodel.h.  Nothing here comes from bpf/. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "refmodel.h"

/* tls_device.c: TLS_DEVICE_RESYNC_ASYNC_LOGMAX, TLS_DEVICE_RESYNC_NH_*_IVAL */
#define REF_ASYNC_LOGMAX	13
#define REF_NH_START		2
#define REF_NH_MAX		128

static bool say(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return false;
}

void ref_truth_init(struct ref_truth *t, uint32_t seq0, uint64_t records_from)
{
	memset(t, 0, sizeof(*t));
	t->seq0 = seq0;
	t->records_from = records_from;
	t->end = records_from;
}

void ref_truth_free(struct ref_truth *t)
{
	free(t->rec);
	memset(t, 0, sizeof(*t));
}

void ref_truth_add(struct ref_truth *t, uint32_t rec_len, uint64_t sn, const uint8_t hdr[REF_HDR])
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->rec = realloc(t->rec, t->cap * sizeof(*t->rec));
		if (!t->rec) {
			perror("realloc");
			exit(2);
		}
	}
	t->rec[t->n].start = t->end;
	t->rec[t->n].rec_len = rec_len;
	t->rec[t->n].sn = sn;
	memcpy(t->rec[t->n].hdr, hdr, REF_HDR);
	t->n++;
	t->end += rec_len;
}

uint64_t ref_off(const struct ref_truth *t, uint32_t seq)
{
	return (uint32_t)(seq - t->seq0);
}

long ref_rec_at(const struct ref_truth *t, uint64_t off)
{
	size_t lo = 0, hi = t->n;

	if (off < t->records_from || off >= t->end)
		return -1;
	while (hi - lo > 1) {		/* rec[lo].start <= off < rec[hi].start */
		size_t mid = (lo + hi) / 2;

		if (t->rec[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

long ref_rec_starting(const struct ref_truth *t, uint64_t off)
{
	long i = ref_rec_at(t, off);

	return i >= 0 && t->rec[i].start == off ? i : -1;
}

unsigned ref_headers_in(const struct ref_truth *t, uint64_t from, uint64_t to)
{
	unsigned n = 0;
	long i = ref_rec_at(t, from);

	if (from < t->records_from)
		i = 0;
	if (i < 0)
		return 0;
	for (; (size_t)i < t->n && t->rec[i].start + REF_HDR - 1 < to; i++)
		n += t->rec[i].start + REF_HDR - 1 >= from;
	return n;
}

unsigned ref_starts_in(const struct ref_truth *t, uint64_t a, uint64_t e)
{
	unsigned n = 0;
	long i = ref_rec_at(t, a);

	if (a < t->records_from)
		i = 0;
	if (i < 0)
		return 0;
	for (; (size_t)i < t->n && t->rec[i].start < e; i++)
		n += t->rec[i].start >= a;
	return n;
}

void ref_len_limits(uint16_t version, uint16_t cipher, uint16_t *min, uint16_t *max)
{
	/* Tag 16, plus the explicit nonce for TLS 1.2 AES-GCM; TLS 1.3 adds
	 * the inner content type to the maximum. */
	*min = version == TLSHIM_TLS_1_2 && cipher != TLSHIM_CIPHER_CHACHA20_POLY1305 ? 24 : 16;
	*max = 16384 + *min + (version == TLSHIM_TLS_1_3 ? 1 : 0);
}

bool ref_check_decrypted(const struct ref_truth *t, uint64_t from, uint64_t to,
			 const struct tlshim_rx_meta *meta, char *why, size_t why_len)
{
	long i = ref_rec_at(t, from);

	if (from < t->records_from)
		return say(why, why_len, "decrypted segment %llu..%llu starts before the first "
			   "record (%llu)", (unsigned long long)from, (unsigned long long)to,
			   (unsigned long long)t->records_from);
	if (i < 0 || to > t->end)
		return say(why, why_len, "decrypted segment %llu..%llu beyond the records made",
			   (unsigned long long)from, (unsigned long long)to);
	if (meta->rec_sn != (uint32_t)t->rec[i].sn)
		return say(why, why_len, "decrypted segment %llu..%llu: rec_sn %u, its first byte "
			   "is in record %llu (offset %llu)", (unsigned long long)from,
			   (unsigned long long)to, meta->rec_sn, (unsigned long long)t->rec[i].sn,
			   (unsigned long long)t->rec[i].start);
	if (meta->headers != ref_headers_in(t, from, to))
		return say(why, why_len, "decrypted segment %llu..%llu: %u headers, truth %u",
			   (unsigned long long)from, (unsigned long long)to, meta->headers,
			   ref_headers_in(t, from, to));
	if (meta->sync != TLSHIM_SYNC_IN_SYNC)
		return say(why, why_len, "decrypted segment %llu..%llu with sync %u after it",
			   (unsigned long long)from, (unsigned long long)to, meta->sync);
	return true;
}

/* The record cursor (start, number, length, offset, partial header) is the
 * truth's, numbered from base. */
static bool cursor_true(const struct ref_truth *t, const struct tlshim_stream *st,
			uint64_t base, const char *what, char *why, size_t why_len)
{
	uint64_t start = ref_off(t, st->rec_start_seq);
	long i = ref_rec_starting(t, start);

	if (i < 0)
		return say(why, why_len, "%s: rec_start_seq %u (offset %llu) is no record start",
			   what, st->rec_start_seq, (unsigned long long)start);
	if (st->rec_sn != t->rec[i].sn - base)
		return say(why, why_len, "%s: rec_sn %llu at offset %llu, truth %llu", what,
			   (unsigned long long)st->rec_sn, (unsigned long long)start,
			   (unsigned long long)(t->rec[i].sn - base));
	if ((uint32_t)(st->expected_seq - st->rec_start_seq) != st->rec_offset)
		return say(why, why_len, "%s: rec_offset %u but expected_seq - rec_start_seq = %u",
			   what, st->rec_offset, st->expected_seq - st->rec_start_seq);
	if (st->rec_len) {
		if (st->rec_len != t->rec[i].rec_len)
			return say(why, why_len, "%s: rec_len %u at offset %llu, truth %u", what,
				   st->rec_len, (unsigned long long)start, t->rec[i].rec_len);
		if (st->rec_offset < REF_HDR || st->rec_offset >= st->rec_len)
			return say(why, why_len, "%s: rec_offset %u outside the body of %u", what,
				   st->rec_offset, st->rec_len);
	} else {
		if (st->rec_offset >= REF_HDR)
			return say(why, why_len, "%s: rec_offset %u with no header parsed", what,
				   st->rec_offset);
		if (memcmp(st->hdr_part, t->rec[i].hdr, st->rec_offset))
			return say(why, why_len, "%s: partial header bytes differ from the record's",
				   what);
	}
	return true;
}

bool ref_check_state(const struct ref_truth *t, const struct tlshim_stream *st, bool clean,
		     char *why, size_t why_len)
{
	long g;

	switch (st->sync) {
	case TLSHIM_SYNC_IN_SYNC:
		return cursor_true(t, st, 0, "in sync", why, why_len);
	case TLSHIM_SYNC_TRACKING:
	case TLSHIM_SYNC_REQUESTED:
		if (!clean)
			return true;
		g = ref_rec_starting(t, ref_off(t, st->resync_seq));
		if (g < 0)
			return say(why, why_len, "tracking a guess at %u (offset %llu) on a stream "
				   "without look-alikes: no record starts there", st->resync_seq,
				   (unsigned long long)ref_off(t, st->resync_seq));
		return cursor_true(t, st, t->rec[g].sn,
				   st->sync == TLSHIM_SYNC_TRACKING ? "tracking" : "requested",
				   why, why_len);
	case TLSHIM_SYNC_LOST:
	case TLSHIM_SYNC_SCANNING:
		return true;
	default:
		return say(why, why_len, "sync state %u", st->sync);
	}
}

uint32_t ref_nh_target(unsigned hints)
{
	uint32_t target = REF_NH_START;

	while (hints--)
		target = target < REF_NH_MAX ? target * 2 : target + REF_NH_MAX;
	return target;
}

/* Hints the kernel can have given in n fully encrypted records from a reset:
 * the first sets failed = 1, each next adds one, a hint when failed > target. */
static unsigned nh_hints_possible(uint64_t n)
{
	unsigned k = 0;

	while (ref_nh_target(k) + 1 <= n)
		k++;
	return k;
}

static size_t first_rec_ending_after(const struct ref_truth *t, uint64_t off)
{
	long i = ref_rec_at(t, off);

	if (off < t->records_from)
		return 0;
	return i < 0 ? t->n : (size_t)i;
}

void ref_bound_begin(struct ref_bound *b, const struct ref_truth *t, uint8_t policy,
		     uint32_t resync_headers, uint32_t resync_timeout, uint16_t max_len,
		     uint64_t tail_start, unsigned max_starts)
{
	size_t completed = first_rec_ending_after(t, tail_start);

	memset(b, 0, sizeof(*b));
	b->policy = policy;
	b->resync_headers = resync_headers;
	b->resync_timeout = resync_timeout;
	b->tail_start = tail_start;
	b->rec_d = completed;		/* the record holding tail_start */
	b->scan_limit = tail_start + REF_HDR + max_len;
	b->async_answerable = max_starts <= REF_ASYNC_LOGMAX;
	switch (policy) {
	case TLSHIM_RESYNC_STREAM_SCAN:
	case TLSHIM_RESYNC_ASYNC:
		b->stage = REF_WAIT_GUESS;
		break;
	case TLSHIM_RESYNC_NEXT_HINT:
		/* Completions in the tail start with the record holding
		 * tail_start; one more for a reset pending from a partly
		 * decrypted record. */
		b->fire_rec = b->rec_d + ref_nh_target(nh_hints_possible(completed)) + 1;
		b->stage = REF_NH_FIRE;
		break;
	default:
		b->stage = REF_NONE;
	}
}

static bool armed_check(const struct ref_bound *b, uint64_t a, const struct tlshim_rx_meta *meta,
			char *why, size_t why_len)
{
	if (meta->sync != TLSHIM_SYNC_IN_SYNC)
		return say(why, why_len, "not in sync (state %u) after tail segment at %llu: past "
			   "the recovery bound (guess %zu, hint %llu, fire record %zu)", meta->sync,
			   (unsigned long long)a, b->guess, (unsigned long long)b->hint,
			   b->fire_rec);
	if (a >= b->decrypt_from && meta->verdict != TLSHIM_VERDICT_DECRYPTED)
		return say(why, why_len, "tail segment at %llu passed (reason %u) after the device "
			   "was back in sync at %llu", (unsigned long long)a, meta->reason,
			   (unsigned long long)b->decrypt_from);
	return true;
}

bool ref_bound_segment(struct ref_bound *b, const struct ref_truth *t, uint64_t a, uint64_t e,
		       const struct tlshim_rx_meta *meta, char *why, size_t why_len)
{
	bool first = b->segments++ == 0;
	bool in_sync = meta->sync == TLSHIM_SYNC_IN_SYNC;
	uint64_t undamaged = b->rec_d < t->n ? ref_rec_end(t, b->rec_d) : t->end;
	bool ok = true;

	if (!first && b->was_in_sync && !in_sync)
		return say(why, why_len, "lost sync (state %u) at %llu in an in-order tail",
			   meta->sync, (unsigned long long)a);
	if (!first && b->was_in_sync && a >= undamaged &&
	    meta->verdict != TLSHIM_VERDICT_DECRYPTED)
		return say(why, why_len, "in sync, in order, in an undamaged record, yet segment "
			   "%llu..%llu passed (reason %u)", (unsigned long long)a,
			   (unsigned long long)e, meta->reason);
	if (first && b->policy == TLSHIM_RESYNC_NONE)
		b->lost_for_good = !in_sync;
	if (b->lost_for_good && (meta->sync != TLSHIM_SYNC_LOST ||
				 meta->verdict != TLSHIM_VERDICT_PASSED))
		return say(why, why_len, "policy none: lost, yet state %u verdict %u at %llu",
			   meta->sync, meta->verdict, (unsigned long long)a);

	if (b->policy == TLSHIM_RESYNC_ASYNC && b->stage <= REF_COUNT && !b->second_try &&
	    ref_starts_in(t, a, e) > REF_ASYNC_LOGMAX)
		b->async_answerable = false;

	switch (b->stage) {
	case REF_WAIT_GUESS: {
		uint64_t from = a > b->scan_limit ? a : b->scan_limit;
		size_t i = first_rec_ending_after(t, from);

		if (i < t->n && t->rec[i].start < from)
			i++;
		if (i >= t->n || t->rec[i].start + REF_HDR > e)
			break;
		b->guess = i;
		b->stage = REF_COUNT;
	}
		/* fall through */
	case REF_COUNT:
		if (b->guess + b->resync_headers - 1 < t->n &&
		    t->rec[b->guess + b->resync_headers - 1].start + REF_HDR - 1 < e)
			b->stage = REF_NEXT;
		break;
	case REF_NEXT:
		if (b->policy == TLSHIM_RESYNC_ASYNC && !b->async_answerable && !b->second_try) {
			b->stage = REF_TIMEOUT;
		} else {
			b->stage = REF_ARMED;
			b->decrypt_from = a;
			ok = armed_check(b, a, meta, why, why_len);
			break;
		}
		/* fall through */
	case REF_TIMEOUT: {
		size_t last = b->guess + b->resync_timeout - 1;

		if (last < t->n && ref_rec_end(t, last) <= e) {
			b->stage = REF_WAIT_GUESS;
			b->second_try = true;
			b->scan_limit = e;
		}
		break;
	}
	case REF_NH_FIRE:
		if (b->fire_rec < t->n && ref_rec_end(t, b->fire_rec) <= e) {
			size_t r = first_rec_ending_after(t, e);

			/* the record the stream is in, or the one ending at e */
			if (r > 0 && r <= t->n && ref_rec_end(t, r - 1) == e)
				r--;
			b->hint = r < t->n ? ref_rec_end(t, r) : t->end;
			b->stage = REF_NH_COVER;
		}
		break;
	case REF_NH_COVER:
		if (a <= b->hint && b->hint < e) {
			b->stage = REF_ARMED;
			b->decrypt_from = e;
			ok = armed_check(b, a, meta, why, why_len);
		}
		break;
	case REF_ARMED:
		ok = armed_check(b, a, meta, why, why_len);
		break;
	case REF_NONE:
		break;
	}
	b->was_in_sync = in_sync;
	if (in_sync && !b->synced_at)
		b->synced_at = e;
	return ok;
}

bool ref_bound_done(const struct ref_bound *b, const struct ref_truth *t, uint64_t e)
{
	size_t r;

	if (b->lost_for_good)
		return b->rec_d + 2 < t->n && e >= ref_rec_end(t, b->rec_d + 2);
	if (!b->synced_at || !b->was_in_sync)
		return false;
	r = first_rec_ending_after(t, b->synced_at);
	return r + 1 < t->n && e >= ref_rec_end(t, r + 1);
}
