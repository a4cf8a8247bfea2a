// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Section 2: the in-order cost with 1, 10,000 and 1,000,000 installed
 * connections.
 *
 * Repeating one packet would hit one flow whose table bucket and state sit
 * in cache however big the table is, which hides exactly what this measures.
 * So the rotating driver (driver.bpf.c) turns each run into the next in-order
 * segment of the next flow, round-robin over all N: the lookups and state
 * updates walk the whole table as traffic over N connections would.  Cost as
 * in section 1: T(driver -> device) - T(driver -> empty) + T(empty), per round.
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

static const __u32 counts[] = { 1, 10000, 1000000 };
#define NCOUNTS (sizeof(counts) / sizeof(counts[0]))

/* Flow i of the rotation, in sync at BASE_SEQ inside one 4 GiB record so that
 * every segment is record body (the device's common case). */
static void rot_flow(__u32 i, struct tlshim_flow *k, struct tlshim_conn *c)
{
	struct bench_tuple t = { SADDR_BASE + i, 0x0a000002, 40000, 443 };

	flow_key(k, &t, TLSHIM_DIR_RX);
	tlshim_conn_init(c, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, BASE_SEQ, 0, 0);
	c->st.rec_len = 0xffffffffu;
	c->st.rec_offset = TLS_HEADER_SIZE;
}

static int install_rotation(struct bench_env *e, __u32 n)
{
	enum { CHUNK = 65536 };
	struct tlshim_flow *keys = calloc(CHUNK, sizeof(*keys));
	struct tlshim_conn *vals = calloc(CHUNK, sizeof(*vals));
	int err = keys && vals ? 0 : -1;

	for (__u32 done = 0; !err && done < n;) {
		__u32 cnt = n - done < CHUNK ? n - done : CHUNK;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		for (__u32 i = 0; i < cnt; i++)
			rot_flow(done + i, &keys[i], &vals[i]);
		err = bpf_map_update_batch(e->conns, keys, vals, &cnt, &o);
		done += cnt;
	}
	free(keys);
	free(vals);
	return err;
}

static int set_rotation(struct bench_env *e, const struct bench_rotate *rot)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(e->drv->maps.bench_rotate), &zero, rot, BPF_ANY);
}

static int get_rotation(struct bench_env *e, struct bench_rotate *rot)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(bpf_map__fd(e->drv->maps.bench_rotate), &zero, rot);
}

static int measure(struct bench_env *e, int drv_target, int prog, const struct bench_frame *f,
		   __u32 repeat, double *ns)
{
	struct run_result res;

	if (env_set_target(e, false, drv_target) ||
	    run_repeat(prog, f->bytes, f->len, repeat, &res) || res.retval != 2)
		return -1;
	*ns = res.cpu_ns;
	return 0;
}

int bench_scale(struct bench_env *e)
{
	double cost[NCOUNTS][ROUNDS], one[ROUNDS];
	unsigned char body[SEG];
	struct bench_frame f;
	struct bench_tuple t = { SADDR_BASE, 0x0a000002, 40000, 443 };

	fill_ciphertext(body, sizeof(body), 3);
	frame_build(&f, &t, BASE_SEQ, body, SEG);
	for (size_t n = 0; n < NCOUNTS; n++) {
		__u32 repeat = counts[n] > MIN_REPEAT ? counts[n] : MIN_REPEAT;
		struct bench_rotate rot = { .nflows = counts[n], .saddr_base = SADDR_BASE,
					    .base_seq = BASE_SEQ, .seg_len = SEG };
		struct tlshim_conn c0;
		struct tlshim_flow k0;
		double t0;

		env_clear_conns(e);
		t0 = mono_ns();
		if (install_rotation(e, counts[n]) || set_rotation(e, &rot)) {
			fprintf(stderr, "bench: cannot install %u connections\n", counts[n]);
			return -1;
		}
		fprintf(stderr, "bench: scale: %u connections installed in %.1f s\n", counts[n],
			(mono_ns() - t0) / 1e9);
		for (int r = 0; r < ROUNDS; r++) {
			double dev, drv, empty;
			struct bench_rotate saved;

			if (measure(e, e->rx, e->rotate_rx, &f, repeat, &dev) ||
			    get_rotation(e, &saved) ||
			    measure(e, e->empty_xdp, e->rotate_rx, &f, repeat, &drv) ||
			    set_rotation(e, &saved) ||	/* segments the device never saw */
			    measure(e, e->empty_xdp, e->empty_xdp, &f, repeat, &empty)) {
				fprintf(stderr, "bench: scale: BPF_PROG_RUN failed\n");
				return -1;
			}
			cost[n][r] = dev - drv + empty;
			if (n == 0)
				one[r] = empty;
		}
		/* Every run must have been an in-order, decrypted segment. */
		rot_flow(0, &k0, &c0);
		if (bpf_map_lookup_elem_flags(e->conns, &k0, &c0, BPF_F_LOCK) ||
		    c0.stats.decrypted_packets != (__u64)ROUNDS * (repeat / counts[n]) ||
		    c0.stats.passed_packets) {
			struct row *r = row_new(SEC_SCALE, "scale_check", "rotation check", "");

			snprintf(r->note, sizeof(r->note),
				 "CHECK FAILED with %u connections: flow 0 decrypted %llu, passed %llu",
				 counts[n], (unsigned long long)c0.stats.decrypted_packets,
				 (unsigned long long)c0.stats.passed_packets);
		}
	}

	for (size_t n = 0; n < NCOUNTS; n++) {
		char id[48], name[80];
		double ratio[ROUNDS], v[ROUNDS];
		struct summary s, rs;
		struct row *r;

		for (int i = 0; i < ROUNDS; i++) {
			ratio[i] = cost[n][i] / cost[0][i];
			v[i] = cost[n][i];
		}
		summarize(v, ROUNDS, &s);
		summarize(ratio, ROUNDS, &rs);
		snprintf(id, sizeof(id), "in_order_%u_conns", counts[n]);
		snprintf(name, sizeof(name), "in-order 1448 B, %u connection%s", counts[n],
			 counts[n] == 1 ? "" : "s");
		r = row_new(SEC_SCALE, id, name, "ns");
		r->value = s.median;
		r->lo = s.min;
		r->hi = s.max;
		snprintf(r->reps, sizeof(r->reps), "%d rounds x %u runs", ROUNDS,
			 counts[n] > MIN_REPEAT ? counts[n] : MIN_REPEAT);
		{
			double ev[ROUNDS];
			struct summary es;

			memcpy(ev, one, sizeof(ev));
			summarize(ev, ROUNDS, &es);
			snprintf(r->ratio, sizeof(r->ratio), "%.2fx 1 conn, %.1fx A", rs.median,
				 s.median / es.median);
		}
		if (counts[n] == 1000000)
			target_max(r, "vs 1 conn", rs.median, 1.3, "%.2fx");
		if (counts[n] == 1)
			snprintf(r->note, sizeof(r->note),
				 "flows visited round-robin, one in-order segment each per run");
	}
	env_clear_conns(e);
	return 0;
}
