// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The kernel's half of RX resync; see resync.h for the rules modelled. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "resync.h"
#include "seg_json.h"

/* TLS_DEVICE_RESYNC_ASYNC_LOGMAX and the next-hint intervals, tls_device.c */
#define ASYNC_LOGMAX		13
#define NH_START_IVAL		2
#define NH_MAX_IVAL		128
/* The async window is one packet; a probe per byte of it is cheap enough
 * for a once-per-loss event, but bound it anyway. */
#define ASYNC_WINDOW_MAX	65536

/* One outstanding question of a flow: a stream-scan request, or the start
 * and (once it came) the end of an async one. */
struct pending {
	struct tlshim_flow flow;
	uint32_t kind;		/* TLSHIM_EV_RESYNC_REQ or TLSHIM_EV_ASYNC_START */
	uint32_t seq;		/* request seq; async: the start packet's seq */
	uint32_t window;	/* async: start packet's payload length */
	uint32_t end_seq;	/* async: the header seq the device tracked */
	int ended;		/* async: end received */
	uint64_t ts_ns;		/* when the device asked */
};

/* The kernel's CORE_NEXT_HINT bookkeeping for one flow (resync_nh). */
struct next_hint {
	struct tlshim_flow flow;
	uint64_t installed_ns;	/* which installation of the 4-tuple this is */
	uint32_t rec_seq;	/* the record the kernel is parsing: start */
	uint32_t rec_len;	/* 0: truth not known yet */
	uint64_t rec_sn;
	int rec_decrypted, rec_encrypted;
	uint32_t max_seq;	/* end of the furthest segment received */
	int reset;		/* resync_nh_reset */
	uint32_t failed, target;
	int do_now;
};

struct resync_service {
	struct device_maps m;
	struct ring_buffer *rb;
	struct resync_stats stats;
	FILE *trace;
	resync_observer_fn observer;
	void *observer_ctx;
	struct pending *pending;
	size_t npending, cap_pending;
	struct next_hint *hints;
	size_t nhints, cap_hints;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool same_flow(const struct tlshim_flow *a, const struct tlshim_flow *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Truth: the record starting at seq, if the endpoint told us of one. */
static bool truth_at(const struct resync_service *s, const struct tlshim_flow *flow,
		     uint32_t seq, struct tlshim_rec_val *val)
{
	struct tlshim_rec_key key = { .flow = *flow, .tcp_seq = seq };

	return bpf_map_lookup_elem(s->m.rec_log, &key, val) == 0;
}

int resync_answer(const struct device_maps *m, const struct tlshim_flow *flow,
		  uint32_t kind, uint32_t tcp_seq, uint64_t rec_sn)
{
	struct tlshim_resync_resp resp = {
		.tcp_seq = tcp_seq, .kind = kind, .rec_sn = rec_sn, .written_ns = mono_ns(),
	};

	return bpf_map_update_elem(m->resync_resp, flow, &resp, BPF_ANY) ? -errno : 0;
}

static void answered(struct resync_service *s, const struct pending *p)
{
	uint64_t lat = mono_ns() - p->ts_ns;

	s->stats.answered++;
	s->stats.latency_ns_sum += lat;
	if (lat > s->stats.latency_ns_max)
		s->stats.latency_ns_max = lat;
}

static struct pending *pending_for(struct resync_service *s, const struct tlshim_flow *flow)
{
	for (size_t i = 0; i < s->npending; i++)
		if (same_flow(&s->pending[i].flow, flow))
			return &s->pending[i];
	return NULL;
}

static struct pending *pending_new(struct resync_service *s, const struct tlshim_flow *flow)
{
	struct pending *p = pending_for(s, flow);

	if (p) {
		s->stats.superseded++;	/* the device gave up and asks anew */
	} else {
		if (s->npending == s->cap_pending) {
			size_t cap = s->cap_pending ? 2 * s->cap_pending : 64;
			struct pending *grown = realloc(s->pending, cap * sizeof(*grown));

			if (!grown)
				return NULL;
			s->pending = grown;
			s->cap_pending = cap;
		}
		p = &s->pending[s->npending++];
	}
	memset(p, 0, sizeof(*p));
	p->flow = *flow;
	return p;
}

static void pending_drop(struct resync_service *s, struct pending *p)
{
	*p = s->pending[--s->npending];
}

/*
 * Try to answer p from the truth.  Returns true when p is settled (answered
 * or, for async, known to be unanswerable).
 */
static bool try_answer(struct resync_service *s, struct pending *p)
{
	struct tlshim_rec_val val;

	if (p->kind == TLSHIM_EV_RESYNC_REQ) {
		/* DRIVER_REQ: seq is the last byte of the guessed header. */
		if (!truth_at(s, &p->flow, p->seq - (TLS_HEADER_SIZE - 1), &val))
			return false;	/* not parsed (yet): the kernel waits */
		resync_answer(&s->m, &p->flow, TLSHIM_EV_RESYNC_REQ, p->seq, val.rec_sn);
		answered(s, p);
		return true;
	}
	if (!p->ended)
		return false;
	/* DRIVER_REQ_ASYNC: the kernel logged the first ASYNC_LOGMAX record
	 * starts in [start seq, start seq + packet length]; the end matches
	 * one of them or nothing. */
	if (seq_before(p->end_seq, p->seq) || seq_before(p->seq + p->window, p->end_seq) ||
	    p->window > ASYNC_WINDOW_MAX) {
		s->stats.unanswerable++;
		return true;
	}
	if (!truth_at(s, &p->flow, p->end_seq, &val))
		return false;
	{
		uint32_t logged = 0;
		struct tlshim_rec_val other;

		for (uint32_t seq = p->seq; seq != p->end_seq; seq++)
			if (truth_at(s, &p->flow, seq, &other))
				logged++;
		if (logged >= ASYNC_LOGMAX) {
			s->stats.unanswerable++;
			return true;
		}
	}
	resync_answer(&s->m, &p->flow, TLSHIM_EV_ASYNC_END, p->end_seq, val.rec_sn);
	answered(s, p);
	return true;
}

static struct next_hint *hint_state(struct resync_service *s, const struct tlshim_flow *flow)
{
	struct next_hint *h;

	for (size_t i = 0; i < s->nhints; i++)
		if (same_flow(&s->hints[i].flow, flow))
			return &s->hints[i];
	if (s->nhints == s->cap_hints) {
		size_t cap = s->cap_hints ? 2 * s->cap_hints : 16;
		struct next_hint *grown = realloc(s->hints, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		s->hints = grown;
		s->cap_hints = cap;
	}
	h = &s->hints[s->nhints++];
	memset(h, 0, sizeof(*h));
	h->flow = *flow;
	h->installed_ns = UINT64_MAX;	/* set up at the first segment */
	return h;
}

/* tls_device_decrypted() -> tls_device_core_ctrl_rx_resync() for one
 * whole record. */
static void nh_record_done(struct next_hint *h)
{
	if (h->rec_decrypted) {		/* decrypted or partly decrypted */
		h->reset = 1;
		return;
	}
	if (h->do_now)
		return;
	if (h->reset) {
		h->reset = 0;
		h->failed = 1;
		h->target = NH_START_IVAL;
		return;
	}
	if (++h->failed <= h->target)
		return;
	h->target = h->target < NH_MAX_IVAL ? h->target * 2 : h->target + NH_MAX_IVAL;
	h->do_now = 1;
}

/* Load the record starting at h->rec_seq from the truth; false if unknown. */
static bool nh_load_record(struct resync_service *s, struct next_hint *h)
{
	struct tlshim_rec_val val;

	if (h->rec_len)
		return true;
	if (!truth_at(s, &h->flow, h->rec_seq, &val) || !val.rec_len)
		return false;
	h->rec_len = val.rec_len;
	h->rec_sn = val.rec_sn;
	h->rec_decrypted = h->rec_encrypted = 0;
	/* tls_device_rx_resync_new_rec() for this record: give the hint if
	 * one is due and the head of the record after it has not arrived. */
	if (h->do_now && !seq_before(h->rec_seq + h->rec_len, h->max_seq)) {
		h->do_now = 0;
		resync_answer(&s->m, &h->flow, TLSHIM_EV_RECORD, h->rec_seq + h->rec_len,
			      h->rec_sn + 1);
		s->stats.hints++;
	}
	return true;
}

static void nh_segment(struct resync_service *s, const struct tlshim_event *ev)
{
	struct next_hint *h = hint_state(s, &ev->flow);
	uint32_t end = ev->seq + ev->len;
	struct tlshim_conn conn;

	if (!h || bpf_map_lookup_elem(s->m.conns, &ev->flow, &conn))
		return;
	if (h->installed_ns != conn.installed_ns) {
		/* A new connection on this 4-tuple (or the first event): the
		 * kernel's per-socket state starts afresh. */
		memset(h, 0, sizeof(*h));
		h->flow = ev->flow;
		h->installed_ns = conn.installed_ns;
		h->reset = 1;	/* tls_set_device_offload_rx() starts reset */
		h->target = NH_START_IVAL;
		h->rec_seq = conn.start_seq;
	}
	if (seq_before(h->max_seq, end) || !h->max_seq)
		h->max_seq = end;
	/* Attribute the segment's bytes to the records the kernel parses, in
	 * order; a record is judged once every byte of it has arrived. */
	while (nh_load_record(s, h)) {
		uint32_t rec_end = h->rec_seq + h->rec_len;

		if (seq_before(ev->seq, rec_end) && seq_before(h->rec_seq, end)) {
			if (ev->verdict == TLSHIM_VERDICT_DECRYPTED)
				h->rec_decrypted = 1;
			else
				h->rec_encrypted = 1;
		}
		if (seq_before(h->max_seq, rec_end))
			break;
		nh_record_done(h);
		h->rec_seq = rec_end;
		h->rec_len = 0;
	}
}

/* One JSON line per segment (user/seg_json.h: the schema replay's
 * verdicts share; the event carries the header count, not their seqs). */
static void trace_segment(struct resync_service *s, const struct tlshim_event *ev)
{
	struct seg_line line;

	seg_line_from_event(&line, ev);
	seg_json_write(s->trace, &line);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct resync_service *s = ctx;
	const struct tlshim_event *ev = data;
	struct pending *p;

	if (size < sizeof(*ev))
		return 0;
	s->stats.events++;
	if (s->observer)
		s->observer(s->observer_ctx, ev);
	switch (ev->type) {
	case TLSHIM_EV_RESYNC_REQ:
		s->stats.requests++;
		p = pending_new(s, &ev->flow);
		if (p) {
			p->kind = TLSHIM_EV_RESYNC_REQ;
			p->seq = ev->seq;
			p->ts_ns = ev->ts_ns;
		}
		break;
	case TLSHIM_EV_ASYNC_START:
		p = pending_new(s, &ev->flow);
		if (p) {
			p->kind = TLSHIM_EV_ASYNC_START;
			p->seq = ev->seq;
			p->window = ev->len;
			p->ts_ns = ev->ts_ns;
		}
		break;
	case TLSHIM_EV_ASYNC_END:
		s->stats.requests++;
		p = pending_for(s, &ev->flow);
		if (!p || p->kind != TLSHIM_EV_ASYNC_START) {
			s->stats.unanswerable++;	/* an end without a start */
			break;
		}
		p->ended = 1;
		p->end_seq = ev->seq;
		break;
	case TLSHIM_EV_SEGMENT:
		if (s->trace)
			trace_segment(s, ev);
		if (ev->flow.dir == TLSHIM_DIR_RX && ev->flags == TLSHIM_RESYNC_NEXT_HINT)
			nh_segment(s, ev);
		break;
	}
	return 0;
}

/*
 * A restarted daemon: requests the previous one took off the ring buffer but
 * never answered are still visible in the flows' state (REQUESTED, with the
 * guessed header's seq), so pick them up again.  For async the start
 * packet's window is gone; the end alone is checked against the truth.
 */
static void adopt_pending(struct resync_service *s)
{
	struct tlshim_flow key, next;
	struct tlshim_conn conn;
	bool have_prev = false;

	while (bpf_map_get_next_key(s->m.conns, have_prev ? &key : NULL, &next) == 0) {
		struct pending *p;

		key = next;
		have_prev = true;
		if (bpf_map_lookup_elem_flags(s->m.conns, &key, &conn, BPF_F_LOCK) ||
		    conn.st.sync != TLSHIM_SYNC_REQUESTED)
			continue;
		p = pending_new(s, &key);
		if (!p)
			return;
		p->ts_ns = mono_ns();
		if (conn.st.policy == TLSHIM_RESYNC_ASYNC) {
			p->kind = TLSHIM_EV_ASYNC_START;
			p->seq = conn.st.resync_seq;
			p->window = 0;
			p->ended = 1;
			p->end_seq = conn.st.resync_seq;
		} else {
			p->kind = TLSHIM_EV_RESYNC_REQ;
			p->seq = conn.st.resync_seq + TLS_HEADER_SIZE - 1;
		}
		s->stats.adopted++;
	}
}

struct resync_service *resync_service_open(const struct device_maps *m)
{
	struct resync_service *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->m = *m;
	adopt_pending(s);
	s->rb = ring_buffer__new(m->events, on_event, s, NULL);
	if (!s->rb) {
		int err = errno;

		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

int resync_service_poll(struct resync_service *s, int timeout_ms)
{
	int n = ring_buffer__poll(s->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	for (size_t i = 0; i < s->npending;) {
		if (try_answer(s, &s->pending[i]))
			pending_drop(s, &s->pending[i]);
		else
			i++;
	}
	if (s->trace)
		fflush(s->trace);
	return n < 0 ? 0 : n;
}

const struct resync_stats *resync_service_stats(const struct resync_service *s)
{
	return &s->stats;
}

void resync_service_trace(struct resync_service *s, FILE *trace)
{
	s->trace = trace;
}

void resync_service_observe(struct resync_service *s, resync_observer_fn fn, void *ctx)
{
	s->observer = fn;
	s->observer_ctx = ctx;
}

void resync_service_close(struct resync_service *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	free(s->pending);
	free(s->hints);
	free(s);
}
