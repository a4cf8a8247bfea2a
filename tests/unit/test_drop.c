// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The loss injector (build/tlsloss.bpf.o, embedded) driven through
 * BPF_PROG_TEST_RUN on crafted frames: which data segments each spec of
 * include/tlshim_drop.h drops, and what the log says about them.  Each test
 * loads its own unpinned copy, so nothing is shared with other tests or
 * with a live tlsloss.
 *
 * The TLS streams are laid out by hand (record i starts where i-1 ended,
 * each a 5-byte header + body), so every expected index below is reasoned
 * from offsets written next to it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "drop_spec.h"
#include "frame.h"
#include "tests.h"
#include "tlsloss.h"
#include "tlsloss.skel.h"

#define ISN		1000000u	/* the SYN's seq: payload starts at ISN + 1 */
#define MAX_STREAM	200000
#define SHOT		TC_ACT_STOLEN	/* a drop (bpf/tlsloss.bpf.c: why not SHOT) */

struct loss {
	struct tlsloss_bpf *skel;
	int prog, config, flows, stats, log;
	struct flow f;
	uint8_t frame[FRAME_MAX];
	uint8_t stream[MAX_STREAM];
	size_t stream_len;
	size_t rec_off[64];	/* where record i starts */
	size_t nrec;
};

static struct loss *loss_open(struct test *t, const char *spec_text, bool ipv6)
{
	struct tlsloss_config cfg = { .initialized = 1 };
	struct loss *l = calloc(1, sizeof(*l));
	struct bpf_map *map;
	char err[256];
	__u32 zero = 0;
	int rc;

	if (!l) {
		FAIL(t, "out of memory");
		return NULL;
	}
	if (drop_spec_parse(spec_text, &cfg.spec, err, sizeof(err))) {
		FAIL(t, "spec %s: %s", spec_text, err);
		free(l);
		return NULL;
	}
	l->skel = tlsloss_bpf__open();
	if (!l->skel) {
		FAIL(t, "tlsloss_bpf__open: %s", strerror(errno));
		free(l);
		return NULL;
	}
	bpf_object__for_each_map(map, l->skel->obj)
		bpf_map__set_pin_path(map, NULL);	/* private maps */
	rc = tlsloss_bpf__load(l->skel);
	if (rc) {
		FAIL(t, "tlsloss_bpf__load: %s", strerror(-rc));
		tlsloss_bpf__destroy(l->skel);
		free(l);
		return NULL;
	}
	l->prog = bpf_program__fd(l->skel->progs.tlsloss_tc);
	l->config = bpf_map__fd(l->skel->maps.tlsloss_config);
	l->flows = bpf_map__fd(l->skel->maps.tlsloss_flows);
	l->stats = bpf_map__fd(l->skel->maps.tlsloss_stats);
	l->log = bpf_map__fd(l->skel->maps.tlsloss_log);
	bpf_map_update_elem(l->config, &zero, &cfg, BPF_ANY);
	l->f = ipv6 ? flow_ipv6(next_local_port()) : flow_ipv4(next_local_port());
	return l;
}

static void loss_close(struct loss *l)
{
	if (!l)
		return;
	tlsloss_bpf__destroy(l->skel);
	free(l);
}

/* Runs one frame; returns the program's verdict (-1 on a run error). */
static int run_frame(struct test *t, struct loss *l, const struct flow *f, uint8_t flags,
		     uint32_t seq, const uint8_t *payload, size_t len, uint32_t gso_segs)
{
	struct frame_opts o = { .tcp_flags = flags };
	struct __sk_buff ctx = { .gso_segs = gso_segs, .gso_size = gso_segs > 1 ? 100 : 0 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .repeat = 1);
	size_t n = frame_build(l->frame, f, &o, seq, payload, len);

	run.data_in = l->frame;
	run.data_size_in = n;
	if (gso_segs) {
		run.ctx_in = &ctx;
		run.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(l->prog, &run)) {
		FAIL(t, "test_run: %s", strerror(errno));
		return -1;
	}
	return (int)run.retval;
}

static int syn(struct test *t, struct loss *l)
{
	return run_frame(t, l, &l->f, TCP_SYN, ISN, NULL, 0, 0);
}

/* The segment [off, off + len) of l->stream; returns 1 if dropped. */
static int seg(struct test *t, struct loss *l, size_t off, size_t len)
{
	return run_frame(t, l, &l->f, 0, ISN + 1 + off, l->stream + off, len, 0) == SHOT;
}

/* Records with these body lengths, one after the other. */
static void layout(struct loss *l, const size_t *bodies, size_t n)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t *h = l->stream + off;

		l->rec_off[i] = off;
		h[0] = 23;		/* application_data */
		h[1] = 3;
		h[2] = 3;
		h[3] = bodies[i] >> 8;
		h[4] = bodies[i];
		for (size_t j = 0; j < bodies[i]; j++)
			h[5 + j] = (uint8_t)(i * 31 + j);
		off += 5 + bodies[i];
	}
	l->nrec = n;
	l->stream_len = off;
}

static struct tlsloss_stats stats_of(struct loss *l)
{
	struct tlsloss_stats st = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(l->stats, &zero, &st);
	return st;
}

static size_t log_entries(struct loss *l, struct tlsloss_log_entry *out, size_t max)
{
	size_t n = 0;

	for (__u32 i = 0; i < TLSLOSS_LOG_SIZE && n < max; i++)
		if (bpf_map_lookup_elem(l->log, &i, &out[n]) == 0 && out[n].number)
			n++;
	return n;
}

/* Sends the stream in segments whose ends are ends[] (offsets, increasing);
 * returns a bitmask of dropped segment indexes (at most 64 segments). */
static uint64_t send_cut(struct test *t, struct loss *l, const size_t *ends, size_t n)
{
	uint64_t dropped = 0;
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (seg(t, l, start, ends[i] - start))
			dropped |= 1ull << i;
		start = ends[i];
	}
	return dropped;
}

/* Cuts [0, stream_len) into MSS-sized segments; returns the dropped mask. */
static uint64_t send_mss(struct test *t, struct loss *l, size_t mss, size_t *nsegs)
{
	size_t ends[64], n = 0;

	for (size_t off = 0; off < l->stream_len && n < 64; off += mss)
		ends[n++] = off + mss < l->stream_len ? off + mss : l->stream_len;
	*nsegs = n;
	return send_cut(t, l, ends, n);
}

/* nth:7,seed=3 over 50 segments: i % 7 == 3, i.e. 3 10 17 24 31 38 45. */
static void nth_seed_exact(struct test *t)
{
	static const uint64_t want[] = { 3, 10, 17, 24, 31, 38, 45 };
	struct tlsloss_log_entry log[16];
	struct loss *l = loss_open(t, "nth:7,seed=3", false);
	size_t got = 0, n;

	REQUIRE(t, l, "cannot load");
	memset(l->stream, 'x', 50 * 100);
	EXPECT_EQ(t, TC_ACT_UNSPEC, syn(t, l));
	for (size_t i = 0; i < 50; i++) {
		if (!seg(t, l, i * 100, 100))
			continue;
		if (got < 7)
			EXPECT_EQ(t, want[got], i);
		got++;
	}
	EXPECT_EQ(t, 7, got);
	EXPECT_EQ(t, 7, stats_of(l).dropped);
	EXPECT_EQ(t, 50, stats_of(l).data_segs);
	EXPECT_EQ(t, 51, stats_of(l).skbs);
	n = log_entries(l, log, 16);
	EXPECT_EQ(t, 7, n);
	for (size_t i = 0; i < n && i < 7; i++) {
		test_context(t, "log entry %zu", i);
		EXPECT_EQ(t, i + 1, log[i].number);
		EXPECT_EQ(t, want[i], log[i].index);
		EXPECT_EQ(t, ISN + 1 + want[i] * 100, log[i].seq);
		EXPECT_EQ(t, want[i] * 100, log[i].offset);
		EXPECT_EQ(t, 100, log[i].len);
		EXPECT_EQ(t, TLSLOSS_REASON_NTH, log[i].reason);
		EXPECT_EQ(t, ~0u, log[i].record);
	}
	loss_close(l);
}

/* 10,000 segments under random:1%: the BPF decisions are exactly those of
 * tlshim_drop_by_index (the shared definition) in userspace, a second run
 * repeats them, and another seed gives another pattern. */
static uint64_t random_run(struct test *t, const char *spec, uint8_t *dropped, size_t n)
{
	struct loss *l = loss_open(t, spec, false);
	uint64_t count = 0;

	if (!l)
		return 0;
	memset(l->stream, 'r', 10);
	syn(t, l);
	for (size_t i = 0; i < n; i++) {
		/* every segment carries the same 10 bytes at its own seq */
		dropped[i] = run_frame(t, l, &l->f, 0, ISN + 1 + i * 10, l->stream, 10, 0) == SHOT;
		count += dropped[i];
	}
	EXPECT_EQ(t, count, stats_of(l).dropped);
	loss_close(l);
	return count;
}

static void random_seed_reproducible(struct test *t)
{
	enum { N = 10000 };
	static uint8_t a[N], b[N], c[N];
	struct tlshim_drop_spec spec;
	uint64_t count_a, count_b, count_c, want = 0, mismatches = 0, differ = 0;
	char err[128];

	REQUIRE(t, !drop_spec_parse("random:1%,seed=42", &spec, err, sizeof(err)), "%s", err);
	for (uint64_t i = 0; i < N; i++)
		want += tlshim_drop_by_index(&spec, i);
	count_a = random_run(t, "random:1%,seed=42", a, N);
	count_b = random_run(t, "random:1%,seed=42", b, N);
	count_c = random_run(t, "random:1%,seed=43", c, N);
	for (size_t i = 0; i < N; i++) {
		mismatches += a[i] != tlshim_drop_by_index(&spec, i);
		differ += a[i] != c[i];
	}
	test_note(t, "seed 42: %llu of %d dropped (userspace %llu); seed 43: %llu",
		  (unsigned long long)count_a, N, (unsigned long long)want, (unsigned long long)count_c);
	EXPECT_EQ(t, want, count_a);
	EXPECT_EQ(t, 0, mismatches);
	EXPECT_EQ(t, 0, memcmp(a, b, N));
	EXPECT_EQ(t, count_a, count_b);
	/* 1% of 10,000 is 100; the binomial's sd is ~10 */
	EXPECT_TRUE(t, count_a >= 50 && count_a <= 150);
	EXPECT_TRUE(t, count_c >= 50 && count_c <= 150);
	EXPECT_TRUE(t, differ > 0);
}

/*
 * Bodies 95, 295, 45, 995, 95, 95: records at 0, 100, 400, 450, 1450, 1550,
 * stream length 1650.  MSS 200: segment i is [200i, 200i + 200).
 */
static const size_t bodies_a[] = { 95, 295, 45, 995, 95, 95 };

static void header_k_mss(struct test *t)
{
	struct tlsloss_log_entry log[4];
	struct loss *l = loss_open(t, "header:3", false);
	size_t nsegs;
	uint64_t dropped;

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	EXPECT_EQ(t, 450, l->rec_off[3]);
	syn(t, l);
	dropped = send_mss(t, l, 200, &nsegs);
	EXPECT_EQ(t, 9, nsegs);
	EXPECT_EQ(t, 1u << 2, dropped);		/* record 3's header at 450: [400, 600) */
	REQUIRE(t, log_entries(l, log, 4) == 1, "not one log entry");
	EXPECT_EQ(t, ISN + 1 + 400, log[0].seq);
	EXPECT_EQ(t, 200, log[0].len);
	EXPECT_EQ(t, 2, log[0].index);
	EXPECT_EQ(t, 3, log[0].record);
	EXPECT_EQ(t, TLSLOSS_REASON_HEADER, log[0].reason);
	loss_close(l);
}

/*
 * Headers split across segments: ends 300, 452, 700, 1000, 1451, 1650.
 * Record 3's header 450..454 is cut 2+3 (segments 1 and 2), record 4's
 * 1450..1454 cut 1+4 (segments 4 and 5); record 5 at 1550 is in segment 5.
 * header:3,5 drops 1 and 5, which also proves the walker read both split
 * headers' lengths right (else it would not find record 5 at 1550).
 */
static void header_k_split(struct test *t)
{
	static const size_t ends[] = { 300, 452, 700, 1000, 1451, 1650 };
	struct tlsloss_log_entry log[4];
	struct loss *l = loss_open(t, "header:3,5", false);

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, (1u << 1) | (1u << 5), send_cut(t, l, ends, 6));
	REQUIRE(t, log_entries(l, log, 4) == 2, "not two log entries");
	EXPECT_EQ(t, 3, log[0].record);
	EXPECT_EQ(t, ISN + 1 + 300, log[0].seq);
	EXPECT_EQ(t, 5, log[1].record);
	EXPECT_EQ(t, ISN + 1 + 1451, log[1].seq);
	loss_close(l);
}

/* header:4 with the split above: the segment with its first byte (1450),
 * [1000, 1451), index 4; not the one with the other 4 header bytes. */
static void header_k_first_byte(struct test *t)
{
	static const size_t ends[] = { 300, 452, 700, 1000, 1451, 1650 };
	struct loss *l = loss_open(t, "header:4", false);

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 1u << 4, send_cut(t, l, ends, 6));
	loss_close(l);
}

/*
 * body:2,3 with MSS 200: record 2's body [405, 450) holds no whole segment,
 * so nothing for it; record 3's body [455, 1450): [400, 600) has header
 * bytes, [600, 800) (index 3) is the first wholly inside.  Record 0 and 1:
 * not named.
 */
static void body_k(struct test *t)
{
	struct tlsloss_log_entry log[4];
	struct loss *l = loss_open(t, "body:2,3", false);
	size_t nsegs;

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 1u << 3, send_mss(t, l, 200, &nsegs));
	REQUIRE(t, log_entries(l, log, 4) == 1, "not one log entry");
	EXPECT_EQ(t, 3, log[0].record);
	EXPECT_EQ(t, TLSLOSS_REASON_BODY, log[0].reason);
	EXPECT_EQ(t, ISN + 1 + 600, log[0].seq);
	loss_close(l);
}

/*
 * The dropped segment comes again (TCP's retransmission): not a first
 * transmission (it starts below the highest end, 600), so it passes, and
 * it counts as a data segment (index 3).  The walker goes on: record 5 at
 * 1550 in [1400, 1600) is still found.  The retransmission of a segment
 * that was never dropped passes as well.
 */
static void retransmission_passes(struct test *t)
{
	struct loss *l = loss_open(t, "header:3,5", false);
	struct tlsloss_flow_state fs;
	struct tlsloss_flow key = {};
	uint64_t dropped = 0;
	size_t i, start;

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 0, seg(t, l, 0, 200));
	EXPECT_EQ(t, 0, seg(t, l, 200, 200));
	EXPECT_EQ(t, 1, seg(t, l, 400, 200));	/* index 2: record 3's header */
	EXPECT_EQ(t, 0, seg(t, l, 400, 200));	/* index 3: its retransmission */
	EXPECT_EQ(t, 0, seg(t, l, 200, 400));	/* index 4: a bigger one, [200, 600) */
	for (i = 5, start = 600; start < l->stream_len; i++, start += 200)
		if (seg(t, l, start, start + 200 <= l->stream_len ? 200 : l->stream_len - start))
			dropped |= 1ull << i;
	/* [600,800) is 5, ..., [1400,1600) is 9 */
	EXPECT_EQ(t, 1u << 9, dropped);
	EXPECT_EQ(t, 2, stats_of(l).dropped);
	memcpy(key.saddr, flow_conn_key(&l->f, 0).saddr, 16);
	memcpy(key.daddr, flow_conn_key(&l->f, 0).daddr, 16);
	key.sport = htons(l->f.sport);
	key.dport = htons(l->f.dport);
	key.ifindex = 1;	/* test_run's skb sits on lo */
	REQUIRE(t, bpf_map_lookup_elem(l->flows, &key, &fs) == 0, "no flow state");
	EXPECT_EQ(t, 11, fs.data_segs);
	EXPECT_EQ(t, 2, fs.dropped);
	EXPECT_EQ(t, 6, fs.next_rec);
	EXPECT_EQ(t, l->stream_len, fs.high_end);
	EXPECT_EQ(t, TLSLOSS_WALKER_ON, fs.walker);
	loss_close(l);
}

/*
 * A retransmission reaching past the highest end (TCP resending a lost
 * [400, 500) merged with new bytes as [400, 1500)) feeds its new bytes to
 * the walker but is no first transmission: record 4's header (1450) in its
 * new part is not dropped, and the walker, having read that header, finds
 * record 5 at 1550 in [1500, 1650).
 */
static void overlap_feeds_walker(struct test *t)
{
	struct loss *l = loss_open(t, "header:3,4,5", false);

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 0, seg(t, l, 0, 400));
	EXPECT_EQ(t, 1, seg(t, l, 400, 100));	/* [400, 500): record 3's header */
	EXPECT_EQ(t, 0, seg(t, l, 400, 1100));	/* [400, 1500): old + new bytes */
	EXPECT_EQ(t, 1, seg(t, l, 1500, 150));	/* record 5's header at 1550 */
	EXPECT_EQ(t, 2, stats_of(l).dropped);
	loss_close(l);
}

/* from=I: nth:2 (even indexes) from 5 drops 6 and 8 of 10; header:3 (index
 * 2 with MSS 200) with from=3 drops nothing, with from=2 drops index 2. */
static void from_index(struct test *t)
{
	struct loss *l = loss_open(t, "nth:2,from=5", false);
	uint64_t dropped = 0;
	size_t nsegs;

	REQUIRE(t, l, "cannot load");
	memset(l->stream, 'f', 1000);
	syn(t, l);
	for (size_t i = 0; i < 10; i++)
		if (seg(t, l, i * 100, 100))
			dropped |= 1ull << i;
	EXPECT_EQ(t, (1u << 6) | (1u << 8), dropped);
	loss_close(l);

	l = loss_open(t, "header:3,from=3", false);
	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 0, send_mss(t, l, 200, &nsegs));
	loss_close(l);

	l = loss_open(t, "header:3,from=2", false);
	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 1u << 2, send_mss(t, l, 200, &nsegs));
	loss_close(l);
}

/* Bytes missing before the hook (a segment starts beyond the highest end):
 * the walker stops, header drops end for the flow, it is counted. */
static void gap_stops_walker(struct test *t)
{
	struct loss *l = loss_open(t, "header:3,4", false);

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 0, seg(t, l, 0, 200));
	EXPECT_EQ(t, 0, seg(t, l, 400, 200));	/* [200, 400) never came */
	EXPECT_EQ(t, 0, seg(t, l, 200, 200));
	EXPECT_EQ(t, 0, seg(t, l, 1400, 250));	/* would be record 4's header */
	EXPECT_EQ(t, 0, stats_of(l).dropped);
	EXPECT_EQ(t, 1, stats_of(l).walker_lost);
	loss_close(l);
}

/* A flow first seen mid-stream: no record numbering (walker no-syn), but
 * nth counts its data segments from the first one seen. */
static void no_syn(struct test *t)
{
	struct loss *l = loss_open(t, "header:0", false);

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	EXPECT_EQ(t, 0, seg(t, l, 0, 200));
	EXPECT_EQ(t, 1, stats_of(l).walker_lost);
	loss_close(l);

	l = loss_open(t, "nth:3,seed=1", false);
	REQUIRE(t, l, "cannot load");
	memset(l->stream, 'n', 1000);
	EXPECT_EQ(t, 0, seg(t, l, 500, 100));	/* index 0 */
	EXPECT_EQ(t, 1, seg(t, l, 600, 100));	/* index 1 */
	EXPECT_EQ(t, 0, seg(t, l, 700, 100));
	loss_close(l);
}

/* Not TLS: a header with type 0x47 ('G' of "GET") stops the walker. */
static void not_tls(struct test *t)
{
	struct loss *l = loss_open(t, "header:1", false);

	REQUIRE(t, l, "cannot load");
	memcpy(l->stream, "GET / HTTP/1.1\r\n\r\n", 18);
	syn(t, l);
	EXPECT_EQ(t, 0, seg(t, l, 0, 18));
	EXPECT_EQ(t, 1, stats_of(l).walker_lost);
	loss_close(l);
}

/* --flow/--port: other flows pass untouched and uncounted; the reverse
 * direction of the selected flow is another flow (not selected by --flow). */
static void filters(struct test *t)
{
	struct tlsloss_config cfg;
	struct loss *l = loss_open(t, "nth:1", false);
	struct flow other, rev;
	__u32 zero = 0;

	REQUIRE(t, l, "cannot load");
	memset(l->stream, 'p', 100);
	other = flow_ipv4(next_local_port());
	rev = flow_reversed(&l->f);
	bpf_map_lookup_elem(l->config, &zero, &cfg);
	cfg.filter = TLSLOSS_FILTER_FLOW;
	cfg.saddr[10] = cfg.saddr[11] = cfg.daddr[10] = cfg.daddr[11] = 0xff;
	memcpy(cfg.saddr + 12, l->f.saddr, 4);
	memcpy(cfg.daddr + 12, l->f.daddr, 4);
	cfg.sport = htons(l->f.sport);
	cfg.dport = htons(l->f.dport);
	bpf_map_update_elem(l->config, &zero, &cfg, BPF_ANY);
	EXPECT_EQ(t, SHOT, run_frame(t, l, &l->f, 0, 1, l->stream, 100, 0));
	EXPECT_EQ(t, TC_ACT_UNSPEC, run_frame(t, l, &other, 0, 1, l->stream, 100, 0));
	EXPECT_EQ(t, TC_ACT_UNSPEC, run_frame(t, l, &rev, 0, 1, l->stream, 100, 0));
	EXPECT_EQ(t, 1, stats_of(l).skbs);

	cfg.filter = TLSLOSS_FILTER_PORT;
	cfg.port = htons(l->f.dport);		/* the local port: both directions */
	bpf_map_update_elem(l->config, &zero, &cfg, BPF_ANY);
	EXPECT_EQ(t, SHOT, run_frame(t, l, &rev, 0, 1, l->stream, 100, 0));
	EXPECT_EQ(t, TC_ACT_UNSPEC, run_frame(t, l, &other, 0, 1, l->stream, 100, 0));
	EXPECT_EQ(t, 2, stats_of(l).skbs);
	EXPECT_EQ(t, 2, stats_of(l).flows);
	loss_close(l);
}

/* A GSO skb is one decision (the whole super-packet) and is counted. */
static void gso_counted(struct test *t)
{
	struct tlsloss_log_entry log[2];
	struct loss *l = loss_open(t, "nth:2", false);

	REQUIRE(t, l, "cannot load");
	memset(l->stream, 'g', 300);
	syn(t, l);
	EXPECT_EQ(t, SHOT, run_frame(t, l, &l->f, 0, ISN + 1, l->stream, 300, 3));
	EXPECT_EQ(t, TC_ACT_UNSPEC, run_frame(t, l, &l->f, 0, ISN + 301, l->stream, 100, 0));
	EXPECT_EQ(t, 1, stats_of(l).gso_skbs);
	REQUIRE(t, log_entries(l, log, 2) == 1, "not one log entry");
	EXPECT_EQ(t, 3, log[0].gso_segs);
	EXPECT_EQ(t, 300, log[0].len);
	loss_close(l);
}

/* IPv6: header:3 as in header_k_mss. */
static void header_k_ipv6(struct test *t)
{
	struct loss *l = loss_open(t, "header:3", true);
	size_t nsegs;

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 1u << 2, send_mss(t, l, 200, &nsegs));
	loss_close(l);
}

/* A SYN again with a new ISN (the 4-tuple reused) restarts the numbering. */
static void new_syn_restarts(struct test *t)
{
	struct loss *l = loss_open(t, "header:0", false);

	REQUIRE(t, l, "cannot load");
	layout(l, bodies_a, 6);
	syn(t, l);
	EXPECT_EQ(t, 1, seg(t, l, 0, 200));
	EXPECT_EQ(t, TC_ACT_UNSPEC, syn(t, l));	/* retransmitted SYN: same ISN */
	EXPECT_EQ(t, 0, seg(t, l, 0, 200));	/* so this is a retransmission */
	EXPECT_EQ(t, TC_ACT_UNSPEC, run_frame(t, l, &l->f, TCP_SYN, ISN + 5000, NULL, 0, 0));
	EXPECT_EQ(t, SHOT, run_frame(t, l, &l->f, 0, ISN + 5001, l->stream, 200, 0));
	loss_close(l);
}

const struct test_case drop_tests[] = {
	{ "loss_nth_seed_exact", nth_seed_exact, NULL },
	{ "loss_random_seed_reproducible", random_seed_reproducible, NULL },
	{ "loss_header_k_mss", header_k_mss, NULL },
	{ "loss_header_k_split", header_k_split, NULL },
	{ "loss_header_k_first_byte", header_k_first_byte, NULL },
	{ "loss_body_k", body_k, NULL },
	{ "loss_retransmission_passes", retransmission_passes, NULL },
	{ "loss_overlap_feeds_walker", overlap_feeds_walker, NULL },
	{ "loss_from_index", from_index, NULL },
	{ "loss_gap_stops_walker", gap_stops_walker, NULL },
	{ "loss_no_syn", no_syn, NULL },
	{ "loss_not_tls", not_tls, NULL },
	{ "loss_filters", filters, NULL },
	{ "loss_gso_counted", gso_counted, NULL },
	{ "loss_header_k_ipv6", header_k_ipv6, NULL },
	{ "loss_new_syn_restarts", new_syn_restarts, NULL },
};
const size_t n_drop_tests = sizeof(drop_tests) / sizeof(drop_tests[0]);
