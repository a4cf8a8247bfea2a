// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Randomized differential test of RX resync: random record streams sent
 * through the real XDP program (bpf_prog_test_run_opts) with random
 * segmentation, drops, duplicates, reorders and overlapping
 * retransmissions, every policy, the loader's resync service polled between
 * packets and the truth written into tlshim_rec_log as the sender makes each
 * record.  Every descriptor and the state after every packet are judged by
 * the reference model (refmodel.c); counters are reconciled at the end.
 *
 * A scenario: a "disturbed" first part (a few records) then an in-order
 * tail that goes on until the device is back in sync and a whole record
 * was decrypted (or the model's recovery bound is passed: a failure).
 * Scenario i uses seed base + i: a failure prints its seed, and
 * `build/unit_tests --replay SEED` runs that one scenario verbosely.
 *
 * Modes (main.c): --soak N [--seed B], --replay SEED, --study, --scan-cost N.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tests.h"
#include "refmodel.h"
#include "resync_env.h"
#include "tlshim.skel.h"

#define DIFF_SCENARIOS	100000
#define DIFF_SEED_BASE	1
#define MSS		1448
#define TAIL_MAX_SEGS	4000
#define MAX_PAYLOAD	1900	/* frame_build's limit is FRAME_MAX - 128 */

/* ---- randomness: splitmix64, one stream per scenario ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool per_mille(struct rng *r, unsigned pm)
{
	return below(r, 1000) < pm;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- a scenario ---- */

struct params {
	uint8_t policy;
	uint16_t version, cipher, min_len, max_len;
	uint32_t seq0;
	uint64_t sn0;
	size_t junk;
	bool clean;		/* bodies without header look-alikes */
	bool ipv6;
	uint32_t resync_headers, resync_timeout;
	unsigned loss_pm, retransmit_pm, dup_pm, reorder_pm, overlap_pm;
	unsigned p1_records;
	/* study: fixed records, fixed segments */
	uint16_t fixed_len;
	size_t fixed_records;
	bool fixed_mss;
};

struct tally {
	uint64_t payload, decrypted, passed, dec_bytes, old, headers;
	uint64_t unsynced, unsynced_bytes, gap, bad;
	uint64_t to_sync, from_sync;
	uint8_t prev_sync;
};

struct scen {
	uint64_t seed;
	struct rng r;
	struct params p;
	struct flow flow;
	struct tlshim_flow key;
	struct device_maps maps;
	struct resync_service *svc;
	struct resync_stats svc_before;	/* the service's counts at the start */
	uint8_t *bytes;
	size_t len, cap;
	struct ref_truth truth;
	struct tally tl;
	unsigned max_starts;	/* most record starts in one segment before the tail */
	bool verbose;
	bool failed;
	char cat[16];
	char why[400];
	/* segmentation state */
	unsigned burst;
};

static void fail_scen(struct scen *sc, const char *cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_scen(struct scen *sc, const char *cat, const char *fmt, ...)
{
	va_list ap;

	if (sc->failed)
		return;
	sc->failed = true;
	snprintf(sc->cat, sizeof(sc->cat), "%s", cat);
	va_start(ap, fmt);
	vsnprintf(sc->why, sizeof(sc->why), fmt, ap);
	va_end(ap);
}

static void grow_bytes(struct scen *sc, size_t need)
{
	if (need <= sc->cap)
		return;
	while (sc->cap < need)
		sc->cap = sc->cap ? 2 * sc->cap : 65536;
	sc->bytes = realloc(sc->bytes, sc->cap);
	if (!sc->bytes) {
		perror("realloc");
		exit(2);
	}
}

/* Record bodies: random bytes; clean ones hold no 0x03, so nothing in them
 * can look like a header's version field. */
static void fill_body(struct scen *sc, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd(&sc->r);

		for (size_t k = 0; k < 8 && i + k < n; k++, v >>= 8) {
			uint8_t b = v;

			p[i + k] = sc->p.clean && b == 3 ? 4 : b;
		}
	}
	if (!sc->p.clean && n > 40 && per_mille(&sc->r, 300)) {
		/* A header look-alike somewhere in the body. */
		size_t at = below(&sc->r, n - 5);
		uint16_t len = sc->p.min_len + below(&sc->r, 2000);

		p[at] = 20 + below(&sc->r, 4);
		p[at + 1] = 3;
		p[at + 2] = 3;
		p[at + 3] = len >> 8;
		p[at + 4] = len;
	}
}

static uint16_t record_length(struct scen *sc)
{
	uint16_t min = sc->p.min_len, max = sc->p.max_len;
	uint32_t x = below(&sc->r, 100), len;

	if (sc->p.fixed_len)
		return sc->p.fixed_len;
	if (x < 5)
		len = min;
	else if (x < 10)
		len = max;
	else if (x < 45)
		len = min + below(&sc->r, 64);
	else if (x < 65)
		len = min + below(&sc->r, 512);
	else if (x < 85)
		len = 512 + below(&sc->r, 4096);
	else
		len = min + below(&sc->r, max - min + 1);
	return len < min ? min : len > max ? max : len;
}

static void write_truth(struct scen *sc, const struct ref_record *rec)
{
	struct tlshim_rec_key key = { .flow = sc->key, .tcp_seq = sc->p.seq0 + (uint32_t)rec->start };
	struct tlshim_rec_val val = { .rec_sn = rec->sn, .rec_len = rec->rec_len, .added_ns = 1 };

	if (bpf_map_update_elem(sc->maps.rec_log, &key, &val, BPF_ANY))
		fail_scen(sc, "setup", "writing tlshim_rec_log: %s", strerror(errno));
}

/* The sender makes records until the stream holds at least `need` bytes;
 * the truth of each goes to tlshim_rec_log as it is made. */
static void extend(struct scen *sc, uint64_t need)
{
	while (sc->truth.end < need) {
		uint16_t len = record_length(sc);
		uint8_t hdr[REF_HDR];
		size_t at = sc->len;

		hdr[0] = per_mille(&sc->r, 100) ? 20 + below(&sc->r, 4) : TLS_CT_APPLICATION_DATA;
		hdr[1] = 3;
		hdr[2] = 3;
		hdr[3] = len >> 8;
		hdr[4] = len;
		grow_bytes(sc, at + REF_HDR + len);
		memcpy(sc->bytes + at, hdr, REF_HDR);
		fill_body(sc, sc->bytes + at + REF_HDR, len);
		sc->len = at + REF_HDR + len;
		ref_truth_add(&sc->truth, REF_HDR + len, sc->p.sn0 + sc->truth.n, hdr);
		write_truth(sc, &sc->truth.rec[sc->truth.n - 1]);
	}
}

/* Segment lengths: mostly full, some random, some tiny, bursts of 1-byte. */
static size_t next_len(struct scen *sc)
{
	uint32_t x;

	if (sc->p.fixed_mss)
		return MSS;
	if (sc->burst) {
		sc->burst--;
		return 1;
	}
	x = below(&sc->r, 100);
	if (x < 60)
		return MSS;
	if (x < 85)
		return 1 + below(&sc->r, MSS);
	if (x < 95)
		return 1 + below(&sc->r, 40);
	sc->burst = below(&sc->r, 8);
	return 1;
}

static const char *sync_str(uint8_t s)
{
	static const char *const n[] = { "none", "in_sync", "lost", "scanning", "tracking",
					 "requested" };

	return s < 6 ? n[s] : "?";
}

/* One segment through XDP and the service; judged against the model. */
static struct tlshim_rx_meta deliver(struct scen *sc, uint64_t a, uint64_t e)
{
	static const struct frame_opts fo;
	uint8_t frame[FRAME_MAX];
	struct tlshim_rx_meta none = { 0 };
	struct tlshim_conn conn;
	struct tally *tl = &sc->tl;
	struct rx_run r;
	size_t flen;
	char why[300];

	if (sc->failed)
		return none;
	flen = frame_build(frame, &sc->flow, &fo, sc->p.seq0 + (uint32_t)a, sc->bytes + a, e - a);
	r = dut_rx_run(frame, flen);
	if (sc->svc) {
		int n = resync_service_poll(sc->svc, 0);

		if (n < 0)
			fail_scen(sc, "setup", "resync_service_poll: %s", strerror(-n));
	}
	if (r.err || r.retval != XDP_PASS || !r.has_meta || r.meta.magic != TLSHIM_META_MAGIC ||
	    !r.packet_unchanged) {
		fail_scen(sc, "descriptor", "segment %llu..%llu: err %d retval %u meta %d unchanged %d",
			  (unsigned long long)a, (unsigned long long)e, r.err, r.retval, r.has_meta,
			  r.packet_unchanged);
		return none;
	}
	/* The model judges the state only where the device claims to know
	 * the records (in sync) or tracks a guess: skip the read elsewhere. */
	memset(&conn, 0, sizeof(conn));
	conn.st.sync = r.meta.sync;
	if ((sc->verbose || (r.meta.sync != TLSHIM_SYNC_LOST &&
			     r.meta.sync != TLSHIM_SYNC_SCANNING)) &&
	    bpf_map_lookup_elem_flags(sc->maps.conns, &sc->key, &conn, BPF_F_LOCK)) {
		fail_scen(sc, "setup", "reading the connection: %s", strerror(errno));
		return none;
	}
	if (sc->verbose)
		printf("    %6llu..%-6llu seq %10u  %-9s reason %u headers %u rec_sn %u -> %-9s "
		       "exp %u rec %u+%u/%u sn %llu chain %u guess %u scan_from %u\n",
		       (unsigned long long)a, (unsigned long long)e, sc->p.seq0 + (uint32_t)a,
		       r.meta.verdict == TLSHIM_VERDICT_DECRYPTED ? "DECRYPTED" : "passed",
		       r.meta.reason, r.meta.headers, r.meta.rec_sn, sync_str(r.meta.sync),
		       conn.st.expected_seq, conn.st.rec_start_seq, conn.st.rec_offset,
		       conn.st.rec_len, (unsigned long long)conn.st.rec_sn, conn.st.chain,
		       conn.st.resync_seq, conn.st.scan_from_seq);

	if (r.meta.sync != conn.st.sync)
		fail_scen(sc, "descriptor", "segment %llu..%llu: descriptor sync %u, state %u",
			  (unsigned long long)a, (unsigned long long)e, r.meta.sync, conn.st.sync);
	if (r.meta.verdict == TLSHIM_VERDICT_DECRYPTED) {
		if (!ref_check_decrypted(&sc->truth, a, e, &r.meta, why, sizeof(why)))
			fail_scen(sc, "claim", "%s", why);
	} else if (r.meta.verdict != TLSHIM_VERDICT_PASSED) {
		fail_scen(sc, "descriptor", "verdict %u", r.meta.verdict);
	}
	if (!ref_check_state(&sc->truth, &conn.st, sc->p.clean, why, sizeof(why)))
		fail_scen(sc, "state", "after %llu..%llu: %s", (unsigned long long)a,
			  (unsigned long long)e, why);
	if ((sc->p.policy == TLSHIM_RESYNC_NEXT_HINT || sc->p.policy == TLSHIM_RESYNC_NONE) &&
	    r.meta.sync != TLSHIM_SYNC_IN_SYNC && r.meta.sync != TLSHIM_SYNC_LOST)
		fail_scen(sc, "state", "policy %u never scans, yet state %u", sc->p.policy,
			  r.meta.sync);

	tl->payload++;
	if (r.meta.verdict == TLSHIM_VERDICT_DECRYPTED) {
		tl->decrypted++;
		tl->dec_bytes += e - a;
	} else {
		tl->passed++;
	}
	tl->old += r.meta.reason == TLSHIM_PASS_OLD;
	tl->headers += r.meta.headers;
	if (r.meta.reason == TLSHIM_PASS_NOT_SYNCED || r.meta.reason == TLSHIM_PASS_GAP) {
		tl->unsynced++;
		tl->unsynced_bytes += e - a;
	}
	tl->gap += r.meta.reason == TLSHIM_PASS_GAP;
	tl->bad += r.meta.reason == TLSHIM_PASS_BAD_HEADER;
	if (r.meta.reason != TLSHIM_PASS_OLD) {
		bool was = tl->prev_sync == TLSHIM_SYNC_IN_SYNC;
		bool is = r.meta.sync == TLSHIM_SYNC_IN_SYNC;

		tl->to_sync += !was && is;
		tl->from_sync += was && !is;
		tl->prev_sync = r.meta.sync;
	}
	return r.meta;
}

static void zero_counters(void)
{
	struct tlshim_counters *zero = calloc(dut.ncpus, sizeof(*zero));
	__u32 key = 0;

	if (!zero || bpf_map_update_elem(dut.stats_fd, &key, zero, BPF_ANY)) {
		fprintf(stderr, "zeroing tlshim_stats: %s\n", strerror(errno));
		exit(2);
	}
	free(zero);
}

static void check_counters(struct scen *sc)
{
	const struct tally *tl = &sc->tl;
	struct tlshim_counters g;
	struct tlshim_conn conn;
	const struct tlshim_conn_stats *s = &conn.stats;
	const struct resync_stats *rs = sc->svc ? resync_service_stats(sc->svc) : NULL;
	uint8_t pol = sc->p.policy;

	if (sc->failed)
		return;
	if (bpf_map_lookup_elem_flags(sc->maps.conns, &sc->key, &conn, BPF_F_LOCK) ||
	    dut_counters_read(&g)) {
		fail_scen(sc, "setup", "reading counters: %s", strerror(errno));
		return;
	}
#define SAME(what, a, b)							\
	do {									\
		if ((uint64_t)(a) != (uint64_t)(b)) {				\
			fail_scen(sc, "counters", "%s: %llu, expected %llu", what,	\
				  (unsigned long long)(a), (unsigned long long)(b));	\
			return;							\
		}								\
	} while (0)
	/* Per connection, from the descriptors. */
	SAME("decrypted_packets + passed_packets", s->decrypted_packets + s->passed_packets,
	     tl->payload);
	SAME("decrypted_packets", s->decrypted_packets, tl->decrypted);
	SAME("decrypted_bytes", s->decrypted_bytes, tl->dec_bytes);
	SAME("passed_packets", s->passed_packets, tl->passed);
	SAME("old_packets", s->old_packets, tl->old);
	SAME("records", s->records, tl->headers);
	SAME("lost_sync", s->lost_sync, tl->gap + tl->bad);
	SAME("header_errors", s->header_errors, tl->bad);
	SAME("header_errors on a true stream", s->header_errors, 0);
	SAME("unsynced_packets", s->unsynced_packets, tl->unsynced);
	SAME("unsynced_bytes", s->unsynced_bytes, tl->unsynced_bytes);
	SAME("retries", s->retries, 0);
	/* A confirmation and a new loss in one segment hide from the
	 * descriptors' sync transitions in pairs. */
	if (s->resync_confirmed < tl->to_sync || s->lost_sync < tl->from_sync ||
	    s->resync_confirmed - tl->to_sync != s->lost_sync - tl->from_sync) {
		fail_scen(sc, "counters", "confirmed %llu lost_sync %llu vs descriptor transitions "
			  "into sync %llu out of sync %llu", (unsigned long long)s->resync_confirmed,
			  (unsigned long long)s->lost_sync, (unsigned long long)tl->to_sync,
			  (unsigned long long)tl->from_sync);
		return;
	}
	/* Global = the one connection's. */
	SAME("rx_tls_decrypted_packets", g.rx_tls_decrypted_packets, s->decrypted_packets);
	SAME("rx_tls_decrypted_bytes", g.rx_tls_decrypted_bytes, s->decrypted_bytes);
	SAME("rx_tls_passed_packets", g.rx_tls_passed_packets, s->passed_packets);
	SAME("rx_tls_old_packets", g.rx_tls_old_packets, s->old_packets);
	SAME("rx_tls_records", g.rx_tls_records, s->records);
	SAME("rx_tls_lost_sync", g.rx_tls_lost_sync, s->lost_sync);
	SAME("rx_tls_err", g.rx_tls_err, s->header_errors);
	SAME("rx_tls_resync_res_ok", g.rx_tls_resync_res_ok, s->resync_confirmed);
	SAME("rx_tls_resync_res_skip", g.rx_tls_resync_res_skip, s->resync_stale);
	SAME("rx_tls_resync_req_skip", g.rx_tls_resync_req_skip, s->resync_abandoned);
	SAME("rx_tls_resync_req_lost", g.rx_tls_resync_req_lost, 0);
	SAME("rx_tls_events_lost", g.rx_tls_events_lost, 0);
	SAME("rx_tls_state_retry", g.rx_tls_state_retry, 0);
	SAME("rx_tls_no_meta", g.rx_tls_no_meta, 0);
	switch (pol) {
	case TLSHIM_RESYNC_STREAM_SCAN:
		SAME("rx_tls_resync_req_pkt", g.rx_tls_resync_req_pkt, s->resync_requests);
		SAME("rx_tls_resync_req_start", g.rx_tls_resync_req_start, 0);
		SAME("rx_tls_resync_req_end", g.rx_tls_resync_req_end, 0);
		SAME("service requests", rs->requests - sc->svc_before.requests, s->resync_requests);
		break;
	case TLSHIM_RESYNC_ASYNC:
		SAME("rx_tls_resync_req_end", g.rx_tls_resync_req_end, s->resync_requests);
		SAME("rx_tls_resync_req_pkt", g.rx_tls_resync_req_pkt, g.rx_tls_resync_req_start);
		if (g.rx_tls_resync_req_start < g.rx_tls_resync_req_end)
			fail_scen(sc, "counters", "async: %llu ends for %llu starts",
				  (unsigned long long)g.rx_tls_resync_req_end,
				  (unsigned long long)g.rx_tls_resync_req_start);
		SAME("service requests", rs->requests - sc->svc_before.requests, s->resync_requests);
		break;
	default:
		SAME("rx_tls_resync_req_pkt", g.rx_tls_resync_req_pkt, 0);
		SAME("rx_tls_resync_req_start", g.rx_tls_resync_req_start, 0);
		SAME("rx_tls_resync_req_end", g.rx_tls_resync_req_end, 0);
		SAME("resync_requests", s->resync_requests, 0);
		SAME("resync_abandoned", s->resync_abandoned, 0);
		break;
	}
	if (pol == TLSHIM_RESYNC_NONE)
		SAME("policy none: resync_confirmed", s->resync_confirmed, 0);
	if (rs && s->resync_confirmed + s->resync_stale >
		  rs->answered + rs->hints - sc->svc_before.answered - sc->svc_before.hints)
		fail_scen(sc, "counters", "%llu answers applied or stale, %llu written",
			  (unsigned long long)(s->resync_confirmed + s->resync_stale),
			  (unsigned long long)(rs->answered + rs->hints - sc->svc_before.answered -
					       sc->svc_before.hints));
#undef SAME
}

/* Scenario parameters from its seed. */
static void pick_params(struct scen *sc)
{
	struct params *p = &sc->p;
	struct rng *r = &sc->r;
	uint32_t x;

	memset(p, 0, sizeof(*p));
	p->policy = below(r, 4);
	x = below(r, 100);
	if (x < 70) {
		p->version = TLSHIM_TLS_1_2;
		p->cipher = TLSHIM_CIPHER_AES_GCM_128;
	} else if (x < 85) {
		p->version = TLSHIM_TLS_1_3;
		p->cipher = below(r, 2) ? TLSHIM_CIPHER_AES_GCM_256 : TLSHIM_CIPHER_CHACHA20_POLY1305;
	} else {
		p->version = TLSHIM_TLS_1_2;
		p->cipher = TLSHIM_CIPHER_CHACHA20_POLY1305;
	}
	ref_len_limits(p->version, p->cipher, &p->min_len, &p->max_len);
	p->seq0 = per_mille(r, 250) ? 0xffffffffu - below(r, 40000) : (uint32_t)rnd(r);
	p->sn0 = per_mille(r, 500) ? below(r, 1000) :
		 per_mille(r, 500) ? 0xffffffffull - below(r, 8) : rnd(r) >> 2;
	p->junk = per_mille(r, 200) ? 1 + below(r, 200) : 0;
	p->clean = per_mille(r, 800);
	p->ipv6 = per_mille(r, 200);
	x = below(r, 10);
	p->resync_headers = x < 2 ? 1 : x < 8 ? 2 : 3;
	p->resync_timeout = per_mille(r, 300) ? 8 : 64;
	if (!per_mille(r, 150)) {
		static const unsigned loss[] = { 50, 150, 300 };

		p->loss_pm = loss[below(r, 3)];
		p->retransmit_pm = 500;
		p->dup_pm = below(r, 3) * 50;
		p->reorder_pm = below(r, 3) * 75;
		p->overlap_pm = below(r, 2) * 40;
	}
	p->p1_records = 1 + below(r, 4);
}

/* One service for up to SVC_BATCH scenarios (flows differ within a batch):
 * opening one maps the 1 MiB ring buffer twice, closing unmaps it, and that
 * costs more than a short scenario. */
#define SVC_BATCH 100
static struct resync_service *shared_svc;
static unsigned shared_uses;

static void svc_release(void)
{
	if (shared_svc) {
		resync_service_poll(shared_svc, 0);
		resync_service_close(shared_svc);
	}
	shared_svc = NULL;
	shared_uses = 0;
}

static struct resync_service *svc_get(const struct device_maps *m)
{
	if (shared_svc && shared_uses >= SVC_BATCH)
		svc_release();
	if (!shared_svc)
		shared_svc = resync_service_open(m);
	shared_uses++;
	return shared_svc;
}

static void scen_setup(struct scen *sc)
{
	struct tlshim_conn conn;

	sc->flow = sc->p.ipv6 ? flow_ipv6(10000 + sc->seed % 50000) :
				flow_ipv4(10000 + sc->seed % 50000);
	sc->key = flow_conn_key(&sc->flow, TLSHIM_DIR_RX);
	rs_maps(&sc->maps);
	grow_bytes(sc, sc->p.junk + 1);
	/* Junk before the first record: the tail of the handshake. */
	fill_body(sc, sc->bytes, sc->p.junk);
	if (sc->p.clean)
		for (size_t i = 0; i < sc->p.junk; i++)
			sc->bytes[i] = sc->bytes[i] == 3 ? 4 : sc->bytes[i];
	sc->len = sc->p.junk;
	ref_truth_init(&sc->truth, sc->p.seq0, sc->p.junk);
	sc->tl.prev_sync = TLSHIM_SYNC_IN_SYNC;

	zero_counters();
	if (rs_config(sc->p.resync_headers, sc->p.resync_timeout, 0))
		fail_scen(sc, "setup", "writing tlshim_config: %s", strerror(errno));
	tlshim_conn_init(&conn, sc->p.version, sc->p.cipher, sc->p.seq0 + (uint32_t)sc->p.junk,
			 sc->p.sn0, (uint64_t)(now_s() * 1e9));
	conn.st.policy = sc->p.policy;
	if (bpf_map_update_elem(sc->maps.conns, &sc->key, &conn, BPF_NOEXIST))
		fail_scen(sc, "setup", "installing the connection: %s", strerror(errno));
	sc->svc = svc_get(&sc->maps);
	if (!sc->svc)
		fail_scen(sc, "setup", "resync_service_open: %s", strerror(errno));
	else
		sc->svc_before = *resync_service_stats(sc->svc);
}

static void scen_cleanup(struct scen *sc)
{
	struct tlshim_rec_key *keys = calloc(sc->truth.n + 1, sizeof(*keys));
	__u32 count = sc->truth.n;

	for (size_t i = 0; keys && i < sc->truth.n; i++) {
		keys[i].flow = sc->key;
		keys[i].tcp_seq = sc->p.seq0 + (uint32_t)sc->truth.rec[i].start;
	}
	/* One syscall for the scenario's truth; one by one if that fails. */
	if (!keys || (count && bpf_map_delete_batch(sc->maps.rec_log, keys, &count, NULL)))
		for (size_t i = 0; keys && i < sc->truth.n; i++)
			bpf_map_delete_elem(sc->maps.rec_log, &keys[i]);
	free(keys);
	if (sc->svc)
		resync_service_poll(sc->svc, 0);
	sc->svc = NULL;
	bpf_map_delete_elem(sc->maps.resync_resp, &sc->key);
	bpf_map_delete_elem(sc->maps.conns, &sc->key);
	ref_truth_free(&sc->truth);
	free(sc->bytes);
	sc->bytes = NULL;
	sc->len = sc->cap = 0;
}

struct seg {
	uint64_t a, e;
	size_t due;
};

/* The disturbed part: [0, p1_end) cut, then dropped, duplicated,
 * reordered, retransmitted late or with overlap. */
static void phase1(struct scen *sc, uint64_t p1_end)
{
	struct seg *late = NULL;
	size_t nlate = 0, cap = 0, step = 0;
	uint64_t at = 0;

	while (at < p1_end && !sc->failed) {
		uint64_t a = at, e = at + next_len(sc);
		bool now = true;

		if (e > p1_end)
			e = p1_end;
		at = e;
		if (cap < nlate + 2) {
			cap = cap ? 2 * cap : 64;
			late = realloc(late, cap * sizeof(*late));
			if (!late) {
				perror("realloc");
				exit(2);
			}
		}
		if (per_mille(&sc->r, sc->p.loss_pm)) {
			now = false;
			if (per_mille(&sc->r, sc->p.retransmit_pm))
				late[nlate++] = (struct seg){ a, e, step + 1 + below(&sc->r, 8) };
		} else if (per_mille(&sc->r, sc->p.reorder_pm)) {
			now = false;
			late[nlate++] = (struct seg){ a, e, step + 1 + below(&sc->r, 4) };
		} else if (per_mille(&sc->r, sc->p.dup_pm)) {
			late[nlate++] = (struct seg){ a, e, step + below(&sc->r, 4) };
		} else if (per_mille(&sc->r, sc->p.overlap_pm) && a > 0) {
			/* A retransmission that also carries this segment's new bytes. */
			uint64_t room = MAX_PAYLOAD - (e - a), back = 1 + below(&sc->r, 1000);

			if (back > room)
				back = room;
			if (back > a)
				back = a;
			a -= back;
		}
		if (now) {
			unsigned starts = ref_starts_in(&sc->truth, a, e);

			if (starts > sc->max_starts)
				sc->max_starts = starts;
			deliver(sc, a, e);
		}
		step++;
		for (size_t i = 0; i < nlate && !sc->failed;) {
			if (late[i].due <= step) {
				struct seg s = late[i];
				unsigned starts = ref_starts_in(&sc->truth, s.a, s.e);

				late[i] = late[--nlate];
				if (starts > sc->max_starts)
					sc->max_starts = starts;
				deliver(sc, s.a, s.e);
			} else {
				i++;
			}
		}
	}
	/* What is still late arrives before the tail, in due order. */
	while (nlate && !sc->failed) {
		size_t first = 0;
		unsigned starts;

		for (size_t i = 1; i < nlate; i++)
			if (late[i].due < late[first].due)
				first = i;
		starts = ref_starts_in(&sc->truth, late[first].a, late[first].e);
		if (starts > sc->max_starts)
			sc->max_starts = starts;
		deliver(sc, late[first].a, late[first].e);
		late[first] = late[--nlate];
	}
	free(late);
}

struct diff_totals {
	uint64_t scenarios, failed, packets, decrypted, resyncs, losses;
	uint64_t per_policy[4], lost_per_policy[4], synced_per_policy[4];
	uint64_t abandoned, stale, requests, armed, hostile, wrapped;
	uint64_t first_failed_seed;
	char first_why[512];
	bool list_failures;	/* print each failed seed (soak) */
	uint64_t by_cat[6];
};

static const char *const cats[6] = { "claim", "state", "bound", "counters", "descriptor", "setup" };

/* Runs scenario `seed`; true if every check held. */
static bool run_scenario(uint64_t seed, bool verbose, struct diff_totals *tot)
{
	struct scen *sc = calloc(1, sizeof(*sc));
	struct ref_bound bound;
	uint64_t p1_end, at;
	size_t segs = 0;
	bool ok;
	char why[400];

	if (!sc) {
		perror("calloc");
		exit(2);
	}
	sc->seed = seed;
	sc->r.s = seed * 0x2545f4914f6cdd1dull + 1;
	sc->verbose = verbose;
	pick_params(sc);
	if (verbose)
		printf("  seed %llu: policy %s, version %04x cipher %u (len %u..%u), seq0 %u, sn0 %llu, "
		       "junk %zu, %s bodies, %s, resync_headers %u timeout %u, loss %u retransmit %u "
		       "dup %u reorder %u overlap %u (per mille), %u records disturbed\n",
		       (unsigned long long)seed, policy_name(sc->p.policy), sc->p.version,
		       sc->p.cipher, sc->p.min_len, sc->p.max_len, sc->p.seq0,
		       (unsigned long long)sc->p.sn0, sc->p.junk, sc->p.clean ? "clean" : "hostile",
		       sc->p.ipv6 ? "ipv6" : "ipv4", sc->p.resync_headers, sc->p.resync_timeout,
		       sc->p.loss_pm, sc->p.retransmit_pm, sc->p.dup_pm, sc->p.reorder_pm,
		       sc->p.overlap_pm, sc->p.p1_records);
	scen_setup(sc);

	/* The disturbed part ends somewhere in record p1_records. */
	extend(sc, sc->p.junk + 1);
	while (sc->truth.n <= sc->p.p1_records)
		extend(sc, sc->truth.end + 1);
	{
		const struct ref_record *last = &sc->truth.rec[sc->p.p1_records];

		p1_end = last->start + below(&sc->r, last->rec_len);
	}
	phase1(sc, p1_end);
	if (verbose)
		printf("  tail from %llu\n", (unsigned long long)p1_end);

	/* The in-order tail. */
	ref_bound_begin(&bound, &sc->truth, sc->p.policy, sc->p.resync_headers,
			sc->p.resync_timeout, sc->p.max_len, p1_end, sc->max_starts);
	for (at = p1_end; !sc->failed; segs++) {
		uint64_t e = at + next_len(sc);
		struct tlshim_rx_meta meta;

		extend(sc, e + 1);
		meta = deliver(sc, at, e);
		if (sc->failed)
			break;
		if (sc->p.clean &&
		    !ref_bound_segment(&bound, &sc->truth, at, e, &meta, why, sizeof(why))) {
			fail_scen(sc, "bound", "%s", why);
			break;
		}
		at = e;
		if (sc->p.clean ? ref_bound_done(&bound, &sc->truth, e) :
		    (segs > 40 || (meta.sync == TLSHIM_SYNC_IN_SYNC && segs > 3)))
			break;
		if (segs > TAIL_MAX_SEGS) {
			fail_scen(sc, "bound", "tail of %zu segments without the model's bound "
				  "deciding (stage %u)", segs, bound.stage);
			break;
		}
	}
	check_counters(sc);
	if (!sc->failed) {
		struct tlshim_conn conn;

		if (!bpf_map_lookup_elem_flags(sc->maps.conns, &sc->key, &conn, BPF_F_LOCK)) {
			tot->resyncs += conn.stats.resync_confirmed;
			tot->abandoned += conn.stats.resync_abandoned;
			tot->stale += conn.stats.resync_stale;
			tot->requests += conn.stats.resync_requests;
			tot->armed += bound.stage == REF_ARMED;
			tot->hostile += !sc->p.clean;
			tot->wrapped += sc->p.seq0 + (uint32_t)sc->len < sc->p.seq0;
			tot->losses += conn.stats.lost_sync;
			tot->lost_per_policy[sc->p.policy] += conn.stats.lost_sync > 0;
			tot->synced_per_policy[sc->p.policy] +=
				conn.stats.lost_sync > 0 && conn.st.sync == TLSHIM_SYNC_IN_SYNC;
		}
	}
	tot->scenarios++;
	tot->per_policy[sc->p.policy]++;
	tot->packets += sc->tl.payload;
	tot->decrypted += sc->tl.decrypted;
	ok = !sc->failed;
	if (!ok) {
		tot->failed++;
		for (int i = 0; i < 6; i++)
			if (!strcmp(cats[i], sc->cat))
				tot->by_cat[i]++;
		if (tot->failed == 1) {
			tot->first_failed_seed = seed;
			snprintf(tot->first_why, sizeof(tot->first_why), "%s: %s", sc->cat, sc->why);
		}
		if (verbose)
			printf("  FAILED (%s): %s\n", sc->cat, sc->why);
		else if (tot->list_failures && tot->failed <= 50)
			printf("    seed %llu (%s): %s: %s\n", (unsigned long long)seed,
			       policy_name(sc->p.policy), sc->cat, sc->why);
	}
	scen_cleanup(sc);
	free(sc);
	return ok;
}

static void print_totals(FILE *f, const struct diff_totals *tot, double secs, const char *indent)
{
	fprintf(f, "%s%llu scenarios (stream-scan %llu, async %llu, next-hint %llu, none %llu) in "
	       "%.1f s, %llu packets, %.1f%% decrypted; losses of sync %llu, resyncs %llu\n",
	       indent, (unsigned long long)tot->scenarios, (unsigned long long)tot->per_policy[0],
	       (unsigned long long)tot->per_policy[1], (unsigned long long)tot->per_policy[2],
	       (unsigned long long)tot->per_policy[3], secs, (unsigned long long)tot->packets,
	       tot->packets ? 100.0 * tot->decrypted / tot->packets : 0.0,
	       (unsigned long long)tot->losses, (unsigned long long)tot->resyncs);
	fprintf(f, "%srequests %llu (abandoned %llu), stale answers %llu; recovery bound reached "
		"in %llu scenarios; %llu with header look-alikes in bodies, %llu wrapping seq\n",
		indent, (unsigned long long)tot->requests, (unsigned long long)tot->abandoned,
		(unsigned long long)tot->stale, (unsigned long long)tot->armed,
		(unsigned long long)tot->hostile, (unsigned long long)tot->wrapped);
	fprintf(f, "%sscenarios that lost sync / ended back in sync: stream-scan %llu/%llu, async "
	       "%llu/%llu, next-hint %llu/%llu, none %llu/%llu\n", indent,
	       (unsigned long long)tot->lost_per_policy[0], (unsigned long long)tot->synced_per_policy[0],
	       (unsigned long long)tot->lost_per_policy[1], (unsigned long long)tot->synced_per_policy[1],
	       (unsigned long long)tot->lost_per_policy[2], (unsigned long long)tot->synced_per_policy[2],
	       (unsigned long long)tot->lost_per_policy[3], (unsigned long long)tot->synced_per_policy[3]);
	if (tot->failed) {
		fprintf(f, "%sfailed scenarios: %llu (", indent, (unsigned long long)tot->failed);
		for (int i = 0; i < 6; i++)
			fprintf(f, "%s%s %llu", i ? ", " : "", cats[i], (unsigned long long)tot->by_cat[i]);
		fprintf(f, "); first: seed %llu: %s\n", (unsigned long long)tot->first_failed_seed,
		       tot->first_why);
		fprintf(f, "%sreplay: build/unit_tests --replay %llu\n", indent,
		       (unsigned long long)tot->first_failed_seed);
	}
}

static void differential(struct test *t)
{
	struct diff_totals tot = { 0 };
	double t0 = now_s();
	char buf[2048];

	rs_clear();
	for (uint64_t i = 0; i < DIFF_SCENARIOS; i++)
		run_scenario(DIFF_SEED_BASE + i, false, &tot);
	svc_release();
	{
		/* Every scenario cleaned up after itself. */
		struct tlshim_rec_key rk;
		struct tlshim_flow fk;
		struct device_maps m;

		rs_maps(&m);
		EXPECT_TRUE(t, bpf_map_get_next_key(m.rec_log, NULL, &rk) && errno == ENOENT);
		EXPECT_TRUE(t, bpf_map_get_next_key(m.resync_resp, NULL, &fk) && errno == ENOENT);
		EXPECT_TRUE(t, bpf_map_get_next_key(m.conns, NULL, &fk) && errno == ENOENT);
	}
	if (tot.failed)
		FAIL(t, "%llu of %llu scenarios failed; first: seed %llu: %s",
		     (unsigned long long)tot.failed, (unsigned long long)tot.scenarios,
		     (unsigned long long)tot.first_failed_seed, tot.first_why);
	/* The totals as notes under the result line. */
	{
		FILE *f = fmemopen(buf, sizeof(buf), "w");
		char *line, *save;

		if (f) {
			print_totals(f, &tot, now_s() - t0, "");
			fclose(f);
			for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				test_note(t, "%s", line);
		}
	}
	rs_clear();
}

/* ---- soak and replay ---- */

int diff_soak(uint64_t n, uint64_t base)
{
	struct diff_totals tot = { .list_failures = true };
	double t0 = now_s(), last = t0;

	rs_clear();
	for (uint64_t i = 0; i < n; i++) {
		run_scenario(base + i, false, &tot);
		if (now_s() - last > 60) {
			last = now_s();
			printf("  %llu/%llu scenarios, %llu failed, %.0f s\n",
			       (unsigned long long)(i + 1), (unsigned long long)n,
			       (unsigned long long)tot.failed, last - t0);
			fflush(stdout);
		}
	}
	svc_release();
	rs_clear();
	if (tot.failed)
		printf("FAIL differential_soak_%llu: %llu of %llu scenarios failed; first: seed %llu: "
		       "%s\n", (unsigned long long)n, (unsigned long long)tot.failed,
		       (unsigned long long)n, (unsigned long long)tot.first_failed_seed,
		       tot.first_why);
	else
		printf("ok differential_soak_%llu\n", (unsigned long long)n);
	print_totals(stdout, &tot, now_s() - t0, "    ");
	printf("%d passed, %d failed\n", tot.failed ? 0 : 1, tot.failed ? 1 : 0);
	return tot.failed ? 1 : 0;
}

int diff_replay(uint64_t seed)
{
	struct diff_totals tot = { 0 };
	bool ok;

	rs_clear();
	ok = run_scenario(seed, true, &tot);
	svc_release();
	rs_clear();
	printf("%s replay_seed_%llu%s%s\n", ok ? "ok" : "FAIL", (unsigned long long)seed,
	       ok ? "" : ": ", ok ? "" : tot.first_why);
	return ok ? 0 : 1;
}

/* ---- study: decrypted fraction under random loss, per policy ---- */

struct study_result {
	uint64_t delivered, decrypted, original, orig_decrypted, records_whole;
	uint64_t resyncs, losses;
};

/* 2000 records of 4000 bytes, MSS 1448; each segment lost with probability
 * loss (per 100000) and retransmitted 3 segments later (fast retransmit),
 * where it arrives old or, with what followed, partly new. */
static void study_run(uint8_t policy, unsigned loss_pcm, uint64_t seed, size_t records,
		      struct study_result *res)
{
	struct scen *sc = calloc(1, sizeof(*sc));
	struct seg *late = NULL;
	size_t nlate = 0, cap = 0, step = 0;
	uint8_t *whole;		/* per record: 1 until one of its bytes passed */
	uint64_t at = 0, end;
	struct rng lossr = { seed * 7919 + 17 };

	sc->seed = seed;
	sc->r.s = seed;
	sc->p.policy = policy;
	sc->p.version = TLSHIM_TLS_1_2;
	sc->p.cipher = TLSHIM_CIPHER_AES_GCM_128;
	ref_len_limits(sc->p.version, sc->p.cipher, &sc->p.min_len, &sc->p.max_len);
	sc->p.seq0 = (uint32_t)(seed * 2654435761u);
	sc->p.sn0 = 1;
	sc->p.clean = false;	/* ciphertext: random bytes */
	sc->p.resync_headers = TLSHIM_DEFAULT_RESYNC_HEADERS;
	sc->p.resync_timeout = TLSHIM_DEFAULT_RESYNC_TIMEOUT;
	sc->p.fixed_len = 4000;
	sc->p.fixed_mss = true;
	scen_setup(sc);
	extend(sc, (uint64_t)records * (REF_HDR + 4000));
	end = sc->truth.end;
	extend(sc, end + 1);	/* the record after the last: the device's cursor ends there */
	whole = calloc(records, 1);
	memset(whole, 1, records);
	while ((at < end || nlate) && !sc->failed) {
		if (at < end) {
			uint64_t a = at, e = at + MSS > end ? end : at + MSS;

			at = e;
			res->original++;
			if (cap < nlate + 1) {
				cap = cap ? 2 * cap : 64;
				late = realloc(late, cap * sizeof(*late));
			}
			if (below(&lossr, 100000) < loss_pcm) {
				late[nlate++] = (struct seg){ a, e, step + 3 };
			} else {
				struct tlshim_rx_meta m = deliver(sc, a, e);

				res->delivered++;
				if (m.verdict == TLSHIM_VERDICT_DECRYPTED) {
					res->decrypted++;
					res->orig_decrypted++;
				} else {
					for (long i = ref_rec_at(&sc->truth, a);
					     i >= 0 && (size_t)i < sc->truth.n && sc->truth.rec[i].start < e; i++)
						whole[i] = 0;
				}
			}
		}
		step++;
		for (size_t i = 0; i < nlate;) {
			if (late[i].due <= step || at >= end) {
				struct seg s = late[i];
				struct tlshim_rx_meta m;

				late[i] = late[--nlate];
				m = deliver(sc, s.a, s.e);
				res->delivered++;
				res->decrypted += m.verdict == TLSHIM_VERDICT_DECRYPTED;
				/* The retransmission is what TCP keeps of these
				 * bytes: passed, so its records are not whole. */
				for (long k = ref_rec_at(&sc->truth, s.a);
				     k >= 0 && (size_t)k < sc->truth.n && sc->truth.rec[k].start < s.e; k++)
					whole[k] = 0;
			} else {
				i++;
			}
		}
	}
	for (size_t i = 0; i < records; i++)
		res->records_whole += whole[i];
	{
		struct tlshim_conn conn;

		if (!bpf_map_lookup_elem_flags(sc->maps.conns, &sc->key, &conn, BPF_F_LOCK)) {
			res->resyncs += conn.stats.resync_confirmed;
			res->losses += conn.stats.lost_sync;
		}
	}
	if (sc->failed)
		fprintf(stderr, "study run %u/%u: %s: %s\n", policy, loss_pcm, sc->cat, sc->why);
	free(whole);
	free(late);
	scen_cleanup(sc);
	svc_release();
	free(sc);
}

int diff_study(size_t records, unsigned seeds)
{
	static const unsigned loss[] = { 500, 1000, 2000, 5000 };	/* per 100000 */
	static const uint8_t pols[] = { TLSHIM_RESYNC_STREAM_SCAN, TLSHIM_RESYNC_ASYNC,
					TLSHIM_RESYNC_NEXT_HINT, TLSHIM_RESYNC_NONE };

	rs_clear();
	printf("study: %zu records of 4000 bytes, MSS %d, each segment lost with probability p "
	       "and retransmitted 3 segments later; %u runs per cell, same traffic for every policy\n",
	       records, MSS, seeds);
	printf("segments decrypted / segments received (records whose every segment was "
	       "decrypted / records; losses of sync, resyncs per run)\n");
	printf("%-12s", "policy");
	for (size_t l = 0; l < 4; l++)
		printf("  %-30s", l == 0 ? "p = 0.5%" : l == 1 ? "p = 1%" : l == 2 ? "p = 2%" : "p = 5%");
	printf("\n");
	for (size_t p = 0; p < 4; p++) {
		printf("%-12s", policy_name(pols[p]));
		for (size_t l = 0; l < 4; l++) {
			struct study_result r = { 0 };
			char cell[64];

			for (unsigned s = 0; s < seeds; s++)
				study_run(pols[p], loss[l], 1000 + s, records, &r);
			snprintf(cell, sizeof(cell), "%5.1f%% (%5.1f%%; %4.1f, %4.1f)",
				 100.0 * r.decrypted / r.delivered,
				 100.0 * r.records_whole / (records * seeds),
				 (double)r.losses / seeds, (double)r.resyncs / seeds);
			printf("  %-30s", cell);
			fflush(stdout);
		}
		printf("\n");
	}
	rs_clear();
	return 0;
}

/* ---- scan cost: SCANNING flow vs in-sync flow, same run ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t run_ns(const uint8_t *frame, size_t len, struct tlshim_rx_meta *meta)
{
	uint8_t out[FRAME_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(dut.rx_fd, &opts))
		return 0;
	if (meta && opts.data_size_out == len + sizeof(*meta))
		memcpy(meta, out, sizeof(*meta));
	return opts.duration;
}

struct scan_cost {
	double scan_med, sync_med, miss_med, scan_mean, sync_mean, miss_mean;
	unsigned left_scanning;
};

/* n packets each: a lost flow in SCANNING fed full segments of random bytes
 * (no header found: type-0303 triples removed, other 03 03 pairs kept), an
 * in-sync flow fed in-order body segments of max-size records, and a frame
 * of no connection (parse + lookup: the floor), interleaved. */
static int measure_scan_cost(size_t n, struct scan_cost *out, char *err, size_t err_len)
{
	struct flow fa = flow_ipv4(61001), fb = flow_ipv4(61002), fc = flow_ipv4(61003);
	struct tlshim_flow ka = flow_conn_key(&fa, TLSHIM_DIR_RX), kb = flow_conn_key(&fb, TLSHIM_DIR_RX);
	static const struct frame_opts fo;
	uint32_t *sa = calloc(n, 4), *sb = calloc(n, 4), *sm = calloc(n, 4);
	uint8_t payload[MSS], frame[FRAME_MAX];
	struct tlshim_conn ca, cb;
	struct rng r = { 42 };
	uint32_t seq_a = 1000, seq_b = 5000000;
	uint64_t rec_left = 0;	/* body bytes left in flow B's record */
	size_t nb = 0;
	int rc = 0;

	tlshim_conn_init(&ca, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, seq_a, 0, 1);
	ca.st.sync = TLSHIM_SYNC_SCANNING;
	ca.st.rec_ok = 0;
	ca.st.scan_from_seq = seq_a;
	ca.st.lost_at_seq = seq_a;
	tlshim_conn_init(&cb, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, seq_b, 0, 1);
	if (!sa || !sb || !sm || bpf_map_update_elem(dut.conns_fd, &ka, &ca, BPF_ANY) ||
	    bpf_map_update_elem(dut.conns_fd, &kb, &cb, BPF_ANY)) {
		snprintf(err, err_len, "setup: %s", strerror(errno));
		rc = -1;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		struct tlshim_rx_meta meta = { 0 };
		size_t len;

		/* A: random bytes, no header look-alike. */
		for (size_t k = 0; k < MSS; k += 8) {
			uint64_t v = rnd(&r);

			memcpy(payload + k, &v, MSS - k < 8 ? MSS - k : 8);
		}
		for (size_t k = 0; k + 2 < MSS; k++)
			if (payload[k] >= 20 && payload[k] <= 23 && payload[k + 1] == 3 &&
			    payload[k + 2] == 3)
				payload[k + 1] = 4;
		len = frame_build(frame, &fa, &fo, seq_a, payload, MSS);
		seq_a += MSS;
		sa[i] = run_ns(frame, len, &meta);
		out->left_scanning += meta.sync != TLSHIM_SYNC_SCANNING;

		/* B: in order; body-only segments are the ones measured. */
		for (;;) {
			bool body_only;
			uint32_t ns;

			if (rec_left == 0) {
				/* a header + the start of a max-size record */
				payload[0] = TLS_CT_APPLICATION_DATA;
				payload[1] = 3;
				payload[2] = 3;
				payload[3] = 16408 >> 8;
				payload[4] = 16408 & 0xff;
				rec_left = 16408 + 5;
			}
			len = rec_left > MSS ? MSS : rec_left;
			body_only = rec_left != 16408 + 5 && rec_left > MSS;
			len = frame_build(frame, &fb, &fo, seq_b, payload, len);
			ns = run_ns(frame, len, &meta);
			seq_b += rec_left > MSS ? MSS : rec_left;
			rec_left -= rec_left > MSS ? MSS : rec_left;
			if (meta.verdict != TLSHIM_VERDICT_DECRYPTED) {
				snprintf(err, err_len, "in-sync flow: segment not decrypted (reason %u)",
					 meta.reason);
				rc = -1;
				goto out;
			}
			if (body_only) {
				sb[nb++] = ns;
				break;
			}
		}
		/* C: no connection. */
		len = frame_build(frame, &fc, &fo, 7, payload, MSS);
		sm[i] = run_ns(frame, len, NULL);
	}
	qsort(sa, n, 4, cmp_u32);
	qsort(sb, nb, 4, cmp_u32);
	qsort(sm, n, 4, cmp_u32);
	out->scan_med = sa[n / 2];
	out->sync_med = sb[nb / 2];
	out->miss_med = sm[n / 2];
	for (size_t i = 0; i < n; i++) {
		out->scan_mean += sa[i] / (double)n;
		out->miss_mean += sm[i] / (double)n;
	}
	for (size_t i = 0; i < nb; i++)
		out->sync_mean += sb[i] / (double)nb;
out:
	bpf_map_delete_elem(dut.conns_fd, &ka);
	bpf_map_delete_elem(dut.conns_fd, &kb);
	free(sa);
	free(sb);
	free(sm);
	return rc;
}

static void print_scan_cost(const struct scan_cost *c, size_t n, const char *indent)
{
	printf("%sper segment (bpf_prog_test_run_opts duration, %zu packets each, interleaved): "
	       "SCANNING 1448 random bytes median %.0f ns (mean %.0f), in-sync body segment "
	       "median %.0f ns (mean %.0f), no connection %.0f ns (mean %.0f)\n", indent, n,
	       c->scan_med, c->scan_mean, c->sync_med, c->sync_mean, c->miss_med, c->miss_mean);
	printf("%sscan / in-order: %.2fx (median), %.2fx (mean); above the no-connection floor: "
	       "%.2fx (median)\n", indent, c->scan_med / c->sync_med, c->scan_mean / c->sync_mean,
	       (c->scan_med - c->miss_med) / (c->sync_med - c->miss_med));
}

int diff_scan_cost(size_t n)
{
	struct scan_cost c;
	char err[256];

	if (measure_scan_cost(n, &c, err, sizeof(err))) {
		printf("FAIL scan_cost: %s\n", err);
		return 1;
	}
	print_scan_cost(&c, n, "");
	if (c.left_scanning)
		printf("(%u segments left SCANNING: a header look-alike)\n", c.left_scanning);
	return 0;
}

static void scan_cost(struct test *t)
{
	struct scan_cost c;
	char err[256];

	if (measure_scan_cost(3000, &c, err, sizeof(err))) {
		FAIL(t, "%s", err);
		return;
	}
	EXPECT_EQ(t, 0, c.left_scanning);
	test_note(t, "SCANNING 1448 random bytes: median %.0f ns; in-sync body segment: median "
		  "%.0f ns; no connection: %.0f ns; scan / in-order %.2fx", c.scan_med, c.sync_med,
		  c.miss_med, c.scan_med / c.sync_med);
}

const struct test_case differential_tests[] = {
	{ "differential_100k_scenarios", differential, NULL },
	{ "scan_cost_vs_in_order", scan_cost, NULL },
};
const size_t n_differential_tests = sizeof(differential_tests) / sizeof(differential_tests[0]);
