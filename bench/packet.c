// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Section 1: the per-packet cost of the real programs, and of the
 * baselines, in one interleaved run.
 *
 * Stateless paths (baselines, a packet of no installed flow) run with
 * repeat=N directly.  Every path of an installed flow runs through the reset
 * driver (driver.bpf.c): before each of the N runs it restores the flow's
 * state, so all N runs are the same segment meeting the same state.  The
 * driver tail-calling an empty program is measured in the same round, and
 *
 *     cost = T(driver -> device) - T(driver -> empty) + T(empty)
 *
 * is the cost of the device program run as its own program (the driver's
 * lookup, lock and tail call cancel; the program-invocation cost that an
 * empty program has is added back), computed per round, then the median.
 * Before measuring, each case runs once and its effect on the flow's
 * counters is checked: a case that takes another path than its name says
 * is flagged in the table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tlshim.skel.h"
#include "bench_driver.skel.h"
#include "cases.h"
#include "frames.h"
#include "measure.h"
#include "report.h"

#define ROUNDS		9
#define REPEAT		200000
#define SEG		1448
#define SEQ		1000000u	/* seq of every measured segment */
#define MAX_REC_LEN	(TLS_HEADER_SIZE + TLS_MAX_PAYLOAD_SIZE + 24)	/* TLS 1.2 AES-GCM */
#define TX_SEQ		20000000u	/* seq of the TX in-order segment */
#define TX_LOGGED	1000		/* records in the TX record log (capacity 1024) */
#define TX_OFF		(5 + 3 * SEG)	/* where the segments start in their record */
#define TX_BACK		3		/* the retransmission: TX_BACK records back */
#define PERCALL_SEGS	20000
#define PERCALL_ROUNDS	3

enum { XDP_ABORTED_ = 0, XDP_DROP_ = 1, XDP_PASS_ = 2 };
enum { TC_OK_ = 0, TC_SHOT_ = 2 };

static const struct bench_tuple rx_tuple = { 0x0a000001, 0x0a000002, 40000, 443 };
static const struct bench_tuple tx_tuple = { 0x0a000002, 0x0a000001, 443, 40000 };
static const struct bench_tuple nf_tuple = { 0x0a000003, 0x0a000002, 40001, 443 };

/* What the one checking run must do to the flow's counters. */
struct expect {
	int decrypted, passed, old, records;
	int sync;		/* the flow's sync state after the run (0: not checked) */
};

/* The same for a TX flow (tlshim_tx_conns): its verdict and counters. */
struct tx_expect {
	bool set;
	int verdict, encrypted, ooo, resync, dump_bytes, resent;
};

struct pkt_case {
	const char *id;
	char name[80];
	bool tc;		/* TC program (skb) rather than XDP */
	bool reset;		/* through the reset driver */
	int prog;		/* run directly, or the driver's target */
	__u32 want;		/* expected return value */
	struct bench_frame frame;
	struct bench_reset state;		/* RX */
	struct bench_reset_tx txstate;		/* TX */
	struct expect expect;
	struct tx_expect txexpect;
	char check[96];		/* what the checking run saw, if not as expected */
	double ns[ROUNDS];
	double kernel_ns[ROUNDS];
};

enum {
	C_EMPTY_XDP, C_BASE_MISS, C_BASE_HIT, C_DRV_RX, C_NOFLOW, C_INORDER, C_HEADER,
	C_SMALL, C_SPLIT, C_LOST, C_OLD, C_EMPTY_TC, C_BASE_TC, C_DRV_TX, C_TX_INORDER,
	C_TX_RETX, C_COUNT
};

static struct pkt_case cases[C_COUNT];

bool prog_uses_map(int prog_fd, const char *name)
{
	struct bpf_prog_info info = {};
	__u32 ids[64], len = sizeof(info);

	info.nr_map_ids = 64;
	info.map_ids = (unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);
		bool match;

		if (fd < 0)
			continue;
		match = !bpf_obj_get_info_by_fd(fd, &mi, &mlen) && !strcmp(mi.name, name);
		close(fd);
		if (match)
			return true;
	}
	return false;
}

int install_conn(struct bench_env *e, const struct tlshim_flow *k, __u32 seq)
{
	struct tlshim_conn conn;

	tlshim_conn_init(&conn, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, seq, 0, 0);
	return bpf_map_update_elem(e->conns, k, &conn, BPF_ANY);
}

/* The state of a flow in sync, `offset` bytes into a full-size record that
 * began before the segment. */
static struct tlshim_stream in_record(__u32 seq, __u32 offset)
{
	struct tlshim_conn c;

	tlshim_conn_init(&c, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, seq, 7, 0);
	c.st.rec_len = MAX_REC_LEN;
	c.st.rec_offset = offset;
	c.st.rec_start_seq = seq - offset;
	return c.st;
}

static struct pkt_case *add(int idx, const char *id, const char *name, bool tc, bool reset,
			    int prog, __u32 want)
{
	struct pkt_case *c = &cases[idx];

	memset(c, 0, sizeof(*c));
	c->id = id;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->tc = tc;
	c->reset = reset;
	c->prog = prog;
	c->want = want;
	return c;
}

/*
 * The TX flow as user/conn_tx.c installs it (tlshim_tx_conns), after
 * TX_LOGGED + 1 full-size records have left: TX_LOGGED of them are in the
 * record log (none ACKed), the device is TX_OFF bytes into the last one and
 * expects TX_SEQ next.  Returns the restorable part (the reset driver's
 * state); the log itself is written here once.
 */
static struct bench_reset_tx tx_state(const struct tlshim_flow *k)
{
	__u32 base = TX_SEQ - TX_OFF - TX_LOGGED * MAX_REC_LEN;
	struct bench_reset_tx r = { .flow = *k };
	struct tlshim_tx_conn c;

	tlshim_tx_conn_init(&c, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, base, 7, 0, 0);
	r.expected_seq = TX_SEQ;
	r.acked_seq = c.acked_seq;
	r.parser = c.parser;
	r.parser.expected_seq = TX_SEQ;
	r.parser.rec_start_seq = TX_SEQ - TX_OFF;
	r.parser.rec_sn = 7 + TX_LOGGED;
	r.parser.rec_len = MAX_REC_LEN;
	r.parser.rec_offset = TX_OFF;
	r.start_seq = c.start_seq;
	r.marker_live = c.marker_live;
	r.log_head = 0;
	r.log_tail = TX_LOGGED;
	return r;
}

static int install_tx_conn(struct bench_env *e, const struct tlshim_flow *k)
{
	struct bench_reset_tx r = tx_state(k);
	struct tlshim_tx_conn *c = malloc(sizeof(*c));	/* 16 KiB */
	int err;

	if (!c)
		return -1;
	tlshim_tx_conn_init(c, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, r.start_seq, 7, 0, 0);
	for (__u32 i = 0; i < TX_LOGGED; i++)
		c->log[i] = r.start_seq + i * MAX_REC_LEN;
	c->expected_seq = r.expected_seq;
	c->parser = r.parser;
	c->log_head = r.log_head;
	c->log_tail = r.log_tail;
	/* Beside it, the tlshim_conns entry the loader installs for every
	 * connection (capacity, version, cipher); tlshim_tx never reads it. */
	err = install_conn(e, k, r.start_seq) ||
	      bpf_map_update_elem(e->tx_conns, k, c, BPF_ANY);
	free(c);
	return err;
}

static void build_cases(struct bench_env *e, bool rx_resync)
{
	unsigned char body[SEG], p[SEG];
	struct tlshim_flow rxk, txk;
	struct pkt_case *c;

	flow_key(&rxk, &rx_tuple, TLSHIM_DIR_RX);
	flow_key(&txk, &tx_tuple, TLSHIM_DIR_TX);
	fill_ciphertext(body, sizeof(body), 1);

	/* RX, XDP. */
	c = add(C_EMPTY_XDP, "empty_xdp", "baseline A: empty XDP program", false, false,
		e->empty_xdp, XDP_PASS_);
	frame_build(&c->frame, &rx_tuple, SEQ, body, SEG);
	c = add(C_BASE_MISS, "parse_lookup_miss", "baseline B: parse + lookup, miss", false,
		false, e->base_xdp, XDP_DROP_);
	frame_build(&c->frame, &nf_tuple, SEQ, body, SEG);
	c = add(C_BASE_HIT, "parse_lookup_hit", "baseline B': parse + lookup, hit", false,
		false, e->base_xdp, XDP_PASS_);
	frame_build(&c->frame, &rx_tuple, SEQ, body, SEG);
	c = add(C_DRV_RX, "driver_rx", "reset driver -> empty XDP (subtracted)", false, true,
		e->empty_xdp, XDP_PASS_);
	frame_build(&c->frame, &rx_tuple, SEQ, body, SEG);
	c->state.flow = rxk;
	c->state.st = in_record(SEQ, 5 + 3 * SEG);

	c = add(C_NOFLOW, "no_flow", "no installed flow", false, false, e->rx, XDP_PASS_);
	frame_build(&c->frame, &nf_tuple, SEQ, body, SEG);

	c = add(C_INORDER, "rx_in_order", "in-order 1448 B inside a record", false, true, e->rx,
		XDP_PASS_);
	frame_build(&c->frame, &rx_tuple, SEQ, body, SEG);
	c->state.flow = rxk;
	c->state.st = in_record(SEQ, 5 + 3 * SEG);
	c->expect = (struct expect){ .decrypted = 1, .sync = TLSHIM_SYNC_IN_SYNC };

	/* The current record ends 100 bytes in; the next one's header follows. */
	c = add(C_HEADER, "rx_header", "in-order 1448 B with a record header", false, true,
		e->rx, XDP_PASS_);
	memcpy(p, body, SEG);
	tls_header(p + 100, TLS_MAX_PAYLOAD_SIZE + 24);
	frame_build(&c->frame, &rx_tuple, SEQ, p, SEG);
	c->state.flow = rxk;
	c->state.st = in_record(SEQ, MAX_REC_LEN - 100);
	c->expect = (struct expect){ .decrypted = 1, .records = 1, .sync = TLSHIM_SYNC_IN_SYNC };

	/* 20 whole records of 72 bytes (the 1448-byte MSS is not a multiple of
	 * 20; 1440 bytes are). */
	c = add(C_SMALL, "rx_20_records", "in-order 1440 B = 20 records of 72 B", false, true,
		e->rx, XDP_PASS_);
	memcpy(p, body, SEG);
	for (int i = 0; i < 20; i++)
		tls_header(p + 72 * i, 72 - TLS_HEADER_SIZE);
	frame_build(&c->frame, &rx_tuple, SEQ, p, 20 * 72);
	c->state.flow = rxk;
	c->state.st = in_record(SEQ, 0);
	c->state.st.rec_len = 0;
	c->state.st.rec_start_seq = SEQ;
	c->expect = (struct expect){ .decrypted = 1, .records = 20, .sync = TLSHIM_SYNC_IN_SYNC };

	/* The previous segment ended with the first 2 header bytes. */
	c = add(C_SPLIT, "rx_split_header", "in-order 1448 B, header split 2+3", false, true,
		e->rx, XDP_PASS_);
	memcpy(p, body, SEG);
	{
		unsigned char h[TLS_HEADER_SIZE];

		tls_header(h, TLS_MAX_PAYLOAD_SIZE + 24);
		memcpy(p, h + 2, 3);
		c->state.st = in_record(SEQ, 2);
		c->state.st.rec_len = 0;
		memset(c->state.st.hdr_part, 0, sizeof(c->state.st.hdr_part));
		memcpy(c->state.st.hdr_part, h, 2);
	}
	frame_build(&c->frame, &rx_tuple, SEQ, p, SEG);
	c->state.flow = rxk;
	c->expect = (struct expect){ .decrypted = 1, .records = 1, .sync = TLSHIM_SYNC_IN_SYNC };

	/* A lost stream meets a full segment of ciphertext with no header in
	 * it: for a stream scan, the worst case (every byte looked at). */
	c = add(C_LOST, "rx_out_of_sync",
		rx_resync ? "out of sync: scan over 1448 B, no header"
			  : "out of sync 1448 B: pass + follow (no scan yet)",
		false, true, e->rx, XDP_PASS_);
	frame_build(&c->frame, &rx_tuple, SEQ, body, SEG);
	c->state.flow = rxk;
	c->state.st = in_record(SEQ, 5 + 3 * SEG);
	c->state.st.sync = TLSHIM_SYNC_LOST;
	c->state.st.lost_reason = TLSHIM_LOSS_GAP;
	c->state.st.lost_at_seq = SEQ - 5000;
	c->state.st.lost_seen_seq = SEQ - SEG;
	c->state.st.scan_from_seq = SEQ;	/* scan every byte of the segment */
	c->expect = (struct expect){ .passed = 1,
				     .sync = rx_resync ? TLSHIM_SYNC_SCANNING : 0 };

	c = add(C_OLD, "rx_old", "retransmission (wholly old data)", false, true, e->rx,
		XDP_PASS_);
	frame_build(&c->frame, &rx_tuple, SEQ, body, SEG);
	c->state.flow = rxk;
	c->state.st = in_record(SEQ + 10 * SEG, 5 + 3 * SEG);
	c->expect = (struct expect){ .passed = 1, .old = 1, .sync = TLSHIM_SYNC_IN_SYNC };

	/* TX, TC egress: compared with TC baselines (an skb, not an xdp_buff). */
	c = add(C_EMPTY_TC, "empty_tc", "baseline A(tc): empty TC program", true, false,
		e->empty_tc, TC_OK_);
	frame_build(&c->frame, &tx_tuple, TX_SEQ, body, SEG);
	c = add(C_BASE_TC, "parse_lookup_tc_hit", "baseline B'(tc): parse + lookup, hit", true,
		false, e->base_tc, TC_OK_);
	frame_build(&c->frame, &tx_tuple, TX_SEQ, body, SEG);
	c = add(C_DRV_TX, "driver_tx", "reset driver -> empty TC (subtracted)", true, true,
		e->empty_tc, TC_OK_);
	frame_build(&c->frame, &tx_tuple, TX_SEQ, body, SEG);
	c->txstate = tx_state(&txk);

	c = add(C_TX_INORDER, "tx_in_order", "TX in-order 1448 B inside a record: encrypted",
		true, true, e->tx, TC_OK_);
	frame_build(&c->frame, &tx_tuple, TX_SEQ, body, SEG);
	c->txstate = tx_state(&txk);
	c->txexpect = (struct tx_expect){ .set = true, .verdict = TLSHIM_TX_ENCRYPTED,
					  .encrypted = 1 };

	/* mlx5's tx_sync_info_get: a segment behind expected_seq, TX_OFF bytes
	 * into a record TX_BACK records back, found by a binary search of
	 * TX_LOGGED logged records; that record's first TX_OFF bytes are
	 * replayed (DUMP), then the segment is encrypted. */
	c = add(C_TX_RETX, "tx_retransmit",
		"TX retransmit: record-log lookup + replay", true, true,
		e->tx, TC_OK_);
	frame_build(&c->frame, &tx_tuple, TX_SEQ - TX_BACK * MAX_REC_LEN, body, SEG);
	c->txstate = tx_state(&txk);
	c->txexpect = (struct tx_expect){ .set = true, .verdict = TLSHIM_TX_RESYNC,
					  .encrypted = 1, .ooo = 1, .resync = 1,
					  .dump_bytes = TX_OFF, .resent = 1 };
}

static int prepare(struct bench_env *e, const struct pkt_case *c)
{
	__u32 zero = 0;
	int fd;

	if (!c->reset)
		return 0;
	fd = bpf_map__fd(c->tc ? e->drv->maps.bench_reset_tx : e->drv->maps.bench_reset_rx);
	if (bpf_map_update_elem(fd, &zero, c->tc ? (const void *)&c->txstate
						  : (const void *)&c->state, BPF_ANY))
		return -1;
	return env_set_target(e, c->tc, c->prog);
}

static int driver_of(struct bench_env *e, const struct pkt_case *c)
{
	if (!c->reset)
		return c->prog;
	return c->tc ? e->reset_tx : e->reset_rx;
}

/* A TX case: run once and compare the verdict and counters of the flow's
 * tlshim_tx_conns entry with what the case promises. */
static void check_tx_case(struct bench_env *e, struct pkt_case *c)
{
	struct tlshim_tx_conn *b = malloc(sizeof(*b)), *a = malloc(sizeof(*a));
	const struct tx_expect *x = &c->txexpect;
	__u32 ret = 0;

	if (!a || !b || prepare(e, c) ||
	    bpf_map_lookup_elem_flags(e->tx_conns, &c->txstate.flow, b, BPF_F_LOCK) ||
	    run_once(driver_of(e, c), c->frame.bytes, c->frame.len, &ret, NULL) ||
	    bpf_map_lookup_elem_flags(e->tx_conns, &c->txstate.flow, a, BPF_F_LOCK)) {
		snprintf(c->check, sizeof(c->check), "CHECK FAILED: could not run once");
		goto out;
	}
#define D(f) (int)(a->stats.f - b->stats.f)
	if (ret != c->want || a->last_verdict != x->verdict ||
	    D(encrypted_packets) != x->encrypted || D(ooo) != x->ooo ||
	    D(resync) != x->resync || D(dump_bytes) != x->dump_bytes ||
	    D(resent_packets) != x->resent || D(records) || D(untracked))
		snprintf(c->check, sizeof(c->check),
			 "CHECK FAILED: ret %u verdict %d enc %d ooo %d resync %d dump %d resent %d "
			 "records %d untracked %d",
			 ret, a->last_verdict, D(encrypted_packets), D(ooo), D(resync),
			 D(dump_bytes), D(resent_packets), D(records), D(untracked));
#undef D
out:
	free(a);
	free(b);
}

/* Run once and compare the flow's counters with what the case promises. */
static void check_case(struct bench_env *e, struct pkt_case *c)
{
	struct tlshim_conn before, after;
	__u32 ret = 0;

	if (c->txexpect.set) {
		check_tx_case(e, c);
		return;
	}
	if (!c->expect.decrypted && !c->expect.passed)
		return;
	if (prepare(e, c) ||
	    bpf_map_lookup_elem_flags(e->conns, &c->state.flow, &before, BPF_F_LOCK) ||
	    run_once(driver_of(e, c), c->frame.bytes, c->frame.len, &ret, NULL) ||
	    bpf_map_lookup_elem_flags(e->conns, &c->state.flow, &after, BPF_F_LOCK)) {
		snprintf(c->check, sizeof(c->check), "CHECK FAILED: could not run once");
		return;
	}
#define D(f) (int)(after.stats.f - before.stats.f)
	if (D(decrypted_packets) != c->expect.decrypted || D(passed_packets) != c->expect.passed ||
	    D(old_packets) != c->expect.old || D(records) != c->expect.records ||
	    (c->expect.sync && after.st.sync != c->expect.sync))
		snprintf(c->check, sizeof(c->check),
			 "CHECK FAILED: decrypted %d passed %d old %d records %d sync %d, "
			 "expected %d %d %d %d %d",
			 D(decrypted_packets), D(passed_packets), D(old_packets), D(records),
			 after.st.sync, c->expect.decrypted, c->expect.passed, c->expect.old,
			 c->expect.records, c->expect.sync);
#undef D
}

/* The device's cost per round: T(driver -> device) - T(driver -> empty) + T(empty). */
static double cost(int idx, int r)
{
	const struct pkt_case *c = &cases[idx];

	if (!c->reset)
		return c->ns[r];
	if (c->tc)
		return c->ns[r] - cases[C_DRV_TX].ns[r] + cases[C_EMPTY_TC].ns[r];
	return c->ns[r] - cases[C_DRV_RX].ns[r] + cases[C_EMPTY_XDP].ns[r];
}

static double median_cost(int idx, struct summary *s)
{
	double v[ROUNDS];

	for (int r = 0; r < ROUNDS; r++)
		v[r] = cost(idx, r);
	summarize(v, ROUNDS, s);
	return s->median;
}

/* Ratio of two cases' costs, per round, median. */
static double median_ratio(int num, int den)
{
	double v[ROUNDS];
	struct summary s;

	for (int r = 0; r < ROUNDS; r++)
		v[r] = cost(num, r) / cost(den, r);
	summarize(v, ROUNDS, &s);
	return s.median;
}

static struct row *case_row(int idx, int base_a, int base_b, const char *b_name)
{
	const struct pkt_case *c = &cases[idx];
	struct summary s;
	struct row *r = row_new(SEC_PACKET, c->id, c->name, "ns");

	r->value = median_cost(idx, &s);
	r->lo = s.min;
	r->hi = s.max;
	snprintf(r->reps, sizeof(r->reps), "%d rounds x %d runs", ROUNDS, REPEAT);
	if (base_a >= 0 && base_b >= 0)
		snprintf(r->ratio, sizeof(r->ratio), "%.2fx A, %.2fx %s", median_ratio(idx, base_a),
			 median_ratio(idx, base_b), b_name);
	else if (base_a >= 0)
		snprintf(r->ratio, sizeof(r->ratio), "%.2fx A", median_ratio(idx, base_a));
	if (c->check[0])
		snprintf(r->note, sizeof(r->note), "%s", c->check);
	return r;
}

/* Method (a), kept as a cross-check: one run per call over a stream of
 * distinct in-order segments, the kernel's per-call duration (timer
 * overhead and a cold start included), minus an empty program's. */
static int per_call(struct bench_env *e, int prog, bool install, double *median_ns)
{
	static double d[PERCALL_SEGS];
	unsigned char body[SEG];
	struct bench_frame f;
	struct tlshim_flow k;
	struct summary s;
	__u32 seq = SEQ, kns;

	fill_ciphertext(body, sizeof(body), 2);
	flow_key(&k, &rx_tuple, TLSHIM_DIR_RX);
	if (install) {
		struct bench_reset st = { .flow = k, .st = in_record(seq, 5) };
		struct tlshim_conn conn;

		st.st.rec_len = 0xffffffffu;	/* one record over the whole stream */
		if (bpf_map_lookup_elem(e->conns, &k, &conn))
			return -1;
		conn.st = st.st;
		if (bpf_map_update_elem(e->conns, &k, &conn, BPF_F_LOCK | BPF_EXIST))
			return -1;
	}
	for (int i = 0; i < PERCALL_SEGS; i++, seq += SEG) {
		frame_build(&f, &rx_tuple, seq, body, SEG);
		if (run_once(prog, f.bytes, f.len, NULL, &kns))
			return -1;
		d[i] = kns;
	}
	summarize(d, PERCALL_SEGS, &s);
	*median_ns = s.median;
	return 0;
}

int bench_packets(struct bench_env *e)
{
	bool rx_resync = prog_uses_map(e->rx, "tlshim_resync_resp") ||
			 prog_uses_map(e->rx, "tlshim_events");
	double pc_empty[PERCALL_ROUNDS], pc_dev[PERCALL_ROUNDS], pc_diff[PERCALL_ROUNDS];
	struct tlshim_flow rxk, txk;
	struct summary s;
	struct row *r;

	flow_key(&rxk, &rx_tuple, TLSHIM_DIR_RX);
	flow_key(&txk, &tx_tuple, TLSHIM_DIR_TX);
	env_clear_conns(e);
	if (install_conn(e, &rxk, SEQ) || install_tx_conn(e, &txk)) {
		fprintf(stderr, "bench: cannot install the bench flows\n");
		return -1;
	}
	build_cases(e, rx_resync);
	for (int i = 0; i < C_COUNT; i++)
		check_case(e, &cases[i]);

	/* Interleaved rounds: drift on this shared machine hits every case
	 * alike, and each round's ratios are taken within the round. */
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < C_COUNT; i++) {
			struct pkt_case *c = &cases[i];
			struct run_result res;

			if (prepare(e, c) ||
			    run_repeat(driver_of(e, c), c->frame.bytes, c->frame.len, REPEAT, &res)) {
				fprintf(stderr, "bench: BPF_PROG_RUN failed for '%s'\n", c->name);
				return -1;
			}
			if (res.retval != c->want && !c->check[0])
				snprintf(c->check, sizeof(c->check),
					 "CHECK FAILED: returned %d, expected %u (driver tail call failed?)",
					 (int)res.retval, c->want);
			c->ns[round] = res.cpu_ns;
			c->kernel_ns[round] = res.kernel_ns;
		}
	}

	for (int round = 0; round < PERCALL_ROUNDS; round++) {
		if (per_call(e, e->empty_xdp, false, &pc_empty[round]) ||
		    per_call(e, e->rx, true, &pc_dev[round]))
			return -1;
		pc_diff[round] = pc_dev[round] - pc_empty[round];
	}

	case_row(C_EMPTY_XDP, -1, -1, NULL);
	case_row(C_BASE_MISS, C_EMPTY_XDP, -1, NULL);
	case_row(C_BASE_HIT, C_EMPTY_XDP, -1, NULL);
	r = case_row(C_NOFLOW, C_EMPTY_XDP, C_BASE_MISS, "B");
	target_max(r, "B ratio", median_ratio(C_NOFLOW, C_BASE_MISS), 1.2, "%.2fx");
	r = case_row(C_INORDER, C_EMPTY_XDP, C_BASE_HIT, "B'");
	target_max(r, "A ratio", median_ratio(C_INORDER, C_EMPTY_XDP), 2.0, "%.2fx");
	case_row(C_HEADER, C_EMPTY_XDP, C_BASE_HIT, "B'");
	case_row(C_SMALL, C_EMPTY_XDP, C_BASE_HIT, "B'");
	case_row(C_SPLIT, C_EMPTY_XDP, C_BASE_HIT, "B'");
	r = case_row(C_LOST, C_EMPTY_XDP, C_BASE_HIT, "B'");
	if (!rx_resync)
		snprintf(r->note + strlen(r->note), sizeof(r->note) - strlen(r->note),
			 "%sthis build has no resync scan (tlshim_rx uses no resync map): the "
			 "lost-sync pass path is measured; the same case measures the scan once it lands",
			 r->note[0] ? "; " : "");
	case_row(C_OLD, C_EMPTY_XDP, C_BASE_HIT, "B'");

	summarize(pc_diff, PERCALL_ROUNDS, &s);
	r = row_new(SEC_PACKET, "rx_in_order_per_call",
		    "in-order, one run per call (cross-check)", "ns");
	r->value = s.median;
	r->lo = s.min;
	r->hi = s.max;
	snprintf(r->reps, sizeof(r->reps), "%d rounds x %d calls", PERCALL_ROUNDS, PERCALL_SEGS);
	{
		double v[PERCALL_ROUNDS];
		struct summary e_s;

		memcpy(v, pc_empty, sizeof(v));
		summarize(v, PERCALL_ROUNDS, &e_s);
		snprintf(r->note, sizeof(r->note),
			 "median per-call duration minus an empty program's (%.0f ns per call, "
			 "mostly test_run's clock reads); distinct segments, cold per call",
			 e_s.median);
	}

	case_row(C_EMPTY_TC, -1, -1, NULL);
	case_row(C_BASE_TC, C_EMPTY_TC, -1, NULL);
	case_row(C_TX_INORDER, C_EMPTY_TC, C_BASE_TC, "B'(tc)");
	r = case_row(C_TX_RETX, C_EMPTY_TC, C_BASE_TC, "B'(tc)");
	if (!r->note[0])
		snprintf(r->note, sizeof(r->note),
			 "segment %d records behind expected_seq, found by binary search of %d "
			 "logged records; %d B of its record replayed (DUMP), then encrypted",
			 TX_BACK, TX_LOGGED, TX_OFF);

	for (int d = 0; d < 2; d++) {
		int drv = d ? C_DRV_TX : C_DRV_RX, empty = d ? C_EMPTY_TC : C_EMPTY_XDP;
		double v[ROUNDS];

		r = case_row(drv, -1, -1, NULL);
		for (int i = 0; i < ROUNDS; i++)
			v[i] = cases[drv].ns[i] - cases[empty].ns[i];
		summarize(v, ROUNDS, &s);
		r->value = s.median;
		r->lo = s.min;
		r->hi = s.max;
		snprintf(r->note, sizeof(r->note),
			 "driver's own cost (restore %s state, tail call), removed from every "
			 "installed-flow %s case above", d ? "tlshim_tx_conns" : "tlshim_conns",
			 d ? "TX" : "RX");
	}
	env_clear_conns(e);
	return 0;
}
