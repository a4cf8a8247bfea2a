// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Section 2: the in-order cost with 1, 10,000 and 1,000,000 connections.
 *
 * Repeating one packet would hit one flow whose table bucket and state sit
 * in cache however big the table is, which hides exactly what this measures.
 * So the rotating driver (driver.bpf.c) turns each run into the next in-order
 * segment of the next flow, round-robin over N flows: lookups and state
 * updates walk N entries as traffic over N connections would.
 *
 * The bucket array of a BPF hash is sized by max_entries when the map is
 * created, so what can grow the cost with the connection count is the
 * number of entries the traffic touches (cache and TLB misses), not the
 * number merely installed.  Both are measured:
 *   - 1 connection installed, the table otherwise empty;
 *   - 1,010,001 installed, and traffic on 1, 10,000 or 1,000,000 of them
 *     (disjoint ranges, so each rotation keeps its flows in order),
 *     interleaved round by round so that the ratios compare like with like
 *     on this shared machine.
 * Cost as in section 1: T(driver -> device) - T(driver -> empty) + T(empty).
 * BENCH_DEBUG=1 in the environment prints the three raw figures per round.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tlshim.skel.h"
#include "bench_driver.skel.h"
#include "cases.h"
#include "frames.h"
#include "measure.h"
#include "report.h"

#define ROUNDS		5
#define MIN_REPEAT	250000
#define SEG		1448
#define BASE_SEQ	5000u
#define SADDR_BASE	0x0a800000u	/* 10.128.0.0 + flow index */

struct rotation {
	const char *id, *name;
	__u32 first, nflows;	/* flow indexes first .. first + nflows - 1 */
	struct bench_rotate rot;
	double cost[ROUNDS];
};

/* Flow i, in sync at BASE_SEQ inside one 4 GiB record so that every segment
 * is record body (the device's common case). */
static void rot_flow(__u32 i, struct tlshim_flow *k, struct tlshim_conn *c)
{
	struct bench_tuple t = { SADDR_BASE + i, 0x0a000002, 40000, 443 };

	flow_key(k, &t, TLSHIM_DIR_RX);
	tlshim_conn_init(c, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, BASE_SEQ, 0, 0);
	c->st.rec_len = 0xffffffffu;
	c->st.rec_offset = TLS_HEADER_SIZE;
}

static int install_flows(struct bench_env *e, __u32 first, __u32 n)
{
	enum { CHUNK = 65536 };
	struct tlshim_flow *keys = calloc(CHUNK, sizeof(*keys));
	struct tlshim_conn *vals = calloc(CHUNK, sizeof(*vals));
	int err = keys && vals ? 0 : -1;

	for (__u32 done = 0; !err && done < n;) {
		__u32 cnt = n - done < CHUNK ? n - done : CHUNK;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		for (__u32 i = 0; i < cnt; i++)
			rot_flow(first + done + i, &keys[i], &vals[i]);
		err = bpf_map_update_batch(e->conns, keys, vals, &cnt, &o);
		done += cnt;
	}
	free(keys);
	free(vals);
	return err;
}

static int rotate_map(struct bench_env *e)
{
	return bpf_map__fd(e->drv->maps.bench_rotate);
}

static __u32 repeat_of(const struct rotation *r)
{
	return r->nflows > MIN_REPEAT ? r->nflows : MIN_REPEAT;
}

static int run(struct bench_env *e, int target, int prog, const struct bench_frame *f,
	       __u32 repeat, double *ns)
{
	struct run_result res;

	if (env_set_target(e, false, target) ||
	    run_repeat(prog, f->bytes, f->len, repeat, &res) || res.retval != 2)
		return -1;
	*ns = res.cpu_ns;
	return 0;
}

/* One round of one rotation: the device, then the driver alone over the
 * same number of runs (its rotation state put back afterwards, so the
 * device never misses a segment), then the empty program. */
static int measure(struct bench_env *e, struct rotation *r, const struct bench_frame *f,
		   int round)
{
	__u32 zero = 0, repeat = repeat_of(r);
	double dev, drv, empty;

	if (bpf_map_update_elem(rotate_map(e), &zero, &r->rot, BPF_ANY) ||
	    run(e, e->rx, e->rotate_rx, f, repeat, &dev) ||
	    bpf_map_lookup_elem(rotate_map(e), &zero, &r->rot) ||
	    run(e, e->empty_xdp, e->rotate_rx, f, repeat, &drv) ||
	    bpf_map_update_elem(rotate_map(e), &zero, &r->rot, BPF_ANY) ||
	    run(e, e->empty_xdp, e->empty_xdp, f, repeat, &empty))
		return -1;
	r->cost[round] = dev - drv + empty;
	if (getenv("BENCH_DEBUG"))
		fprintf(stderr, "scale %s round %d: device %.1f driver %.1f empty %.1f\n", r->name, round, dev, drv, empty);
	return 0;
}

/* Every run must have been an in-order segment the device decrypted. */
static void check(struct bench_env *e, const struct rotation *r)
{
	__u64 want = (__u64)ROUNDS * (repeat_of(r) / r->nflows);
	struct tlshim_conn c;
	struct tlshim_flow k;

	rot_flow(r->first, &k, &c);
	if (bpf_map_lookup_elem_flags(e->conns, &k, &c, BPF_F_LOCK) ||
	    c.stats.decrypted_packets != want || c.stats.passed_packets) {
		struct row *row = row_new(SEC_SCALE, "scale_check", r->name, "");

		snprintf(row->note, sizeof(row->note),
			 "CHECK FAILED: its first flow decrypted %llu segments (expected %llu), passed %llu",
			 (unsigned long long)c.stats.decrypted_packets, (unsigned long long)want,
			 (unsigned long long)c.stats.passed_packets);
	}
}

static struct row *rotation_row(const struct rotation *r, const struct rotation *ref)
{
	double v[ROUNDS], ratio[ROUNDS];
	struct summary s, rs;
	struct row *row = row_new(SEC_SCALE, r->id, r->name, "ns");

	for (int i = 0; i < ROUNDS; i++) {
		v[i] = r->cost[i];
		ratio[i] = r->cost[i] / ref->cost[i];
	}
	summarize(v, ROUNDS, &s);
	summarize(ratio, ROUNDS, &rs);
	row->value = s.median;
	row->lo = s.min;
	row->hi = s.max;
	snprintf(row->reps, sizeof(row->reps), "%d rounds x %u runs", ROUNDS, repeat_of(r));
	snprintf(row->ratio, sizeof(row->ratio), "%.2fx 1 active", rs.median);
	return row;
}

int bench_scale(struct bench_env *e)
{
	struct rotation alone = { "in_order_1_conn", "in-order 1448 B, 1 installed", 0, 1 };
	struct rotation rots[] = {
		{ "in_order_1M_installed_1_active", "1,010,001 installed, 1 active", 1, 1 },
		{ "in_order_10k_conns", "1,010,001 installed, 10,000 active", 2, 10000 },
		{ "in_order_1M_conns", "1,010,001 installed, 1,000,000 active", 10002, 1000000 },
	};
	const int nrots = sizeof(rots) / sizeof(rots[0]);
	__u32 total = 10002 + 1000000;
	unsigned char body[SEG];
	struct bench_frame f;
	struct bench_tuple t = { SADDR_BASE, 0x0a000002, 40000, 443 };
	struct row *row;
	double t0;

	fill_ciphertext(body, sizeof(body), 3);
	frame_build(&f, &t, BASE_SEQ, body, SEG);
	for (int i = -1; i < nrots; i++) {
		struct rotation *r = i < 0 ? &alone : &rots[i];

		r->rot = (struct bench_rotate){ .nflows = r->nflows, .saddr_base = SADDR_BASE + r->first,
						.base_seq = BASE_SEQ, .seg_len = SEG };
	}

	env_clear_conns(e);
	if (install_flows(e, 0, 1))
		return -1;
	for (int round = 0; round < ROUNDS; round++)
		if (measure(e, &alone, &f, round))
			return -1;
	check(e, &alone);

	t0 = mono_ns();
	if (install_flows(e, 1, total - 1)) {
		fprintf(stderr, "bench: scale: cannot install %u connections\n", total);
		return -1;
	}
	fprintf(stderr, "bench: scale: %u connections installed in %.1f s\n", total,
		(mono_ns() - t0) / 1e9);
	for (int round = 0; round < ROUNDS; round++)
		for (int i = 0; i < nrots; i++)
			if (measure(e, &rots[i], &f, round)) {
				fprintf(stderr, "bench: scale: BPF_PROG_RUN failed\n");
				return -1;
			}
	for (int i = 0; i < nrots; i++)
		check(e, &rots[i]);

	row = rotation_row(&alone, &alone);
	snprintf(row->ratio, sizeof(row->ratio), "(separate rounds)");
	snprintf(row->note, sizeof(row->note), "the table holds this one connection only");
	for (int i = 0; i < nrots; i++) {
		row = rotation_row(&rots[i], &rots[0]);
		if (rots[i].nflows == 1000000) {
			double ratio[ROUNDS];
			struct summary s;

			for (int k = 0; k < ROUNDS; k++)
				ratio[k] = rots[i].cost[k] / rots[0].cost[k];
			summarize(ratio, ROUNDS, &s);
			target_max(row, "vs 1 active", s.median, 1.3, "%.2fx");
			snprintf(row->note, sizeof(row->note),
				 "round-robin over 10^6 flows: every lookup and state update misses cache");
		}
	}
	env_clear_conns(e);
	return 0;
}
