// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Section 3: installing and removing connections, and (section 2) what
 * an installed connection costs in memory.
 *
 * An install is what `tlshim conn add` does to the maps: the crypto state
 * into tlshim_keys, then the flow into tlshim_conns (BPF_NOEXIST both).  A
 * removal is the loader's own conn_remove() (keys zeroed in place, both
 * entries deleted).  One by one: every call timed (CLOCK_MONOTONIC, so a
 * preemption on this shared machine shows up in the tail, as it would for
 * the driver).  Batched: bpf_map_update_batch / bpf_map_delete_batch in
 * chunks.  The loader's bookkeeping around an install (duplicate check,
 * capacity, device counters, lock file) is in the CLI figure, not here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cases.h"
#include "frames.h"
#include "measure.h"
#include "report.h"

#define N		1000000
#define ROUNDS		3
#define CHUNK		65536
#define SADDR_BASE	0x0a400000u	/* 10.64.0.0 + index */

static struct tlshim_flow *keys;
static struct tlshim_conn *conns;
static struct tlshim_crypto *cryptos;
static double *lat;

static void make_conn(__u32 i)
{
	struct bench_tuple t = { SADDR_BASE + i, 0x0a000002, 40000 + (i & 0x3ff), 443 };
	struct tlshim_crypto *k = &cryptos[i];

	flow_key(&keys[i], &t, TLSHIM_DIR_RX);
	tlshim_conn_init(&conns[i], TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, i * 7919u, 0,
			 now_monotonic_ns());
	memset(k, 0, sizeof(*k));
	k->version = TLSHIM_TLS_1_2;
	k->cipher = TLSHIM_CIPHER_AES_GCM_128;
	k->key_len = 16;
	k->iv_len = 8;
	k->salt_len = 4;
	fill_ciphertext(k->key, 16 + 8 + 4, i + 1);
}

static struct row *rate_row(const char *id, const char *name, double *rates, int n)
{
	struct summary s;
	struct row *r = row_new(SEC_INSTALL, id, name, "conn/s");

	summarize(rates, n, &s);
	r->value = s.median;
	r->lo = s.min;
	r->hi = s.max;
	snprintf(r->reps, sizeof(r->reps), "%d rounds x %d conns", n, N);
	return r;
}

static struct row *latency_row(const char *id, const char *name, double *v, int n)
{
	struct summary s;
	struct row *r = row_new(SEC_INSTALL, id, name, "us");

	summarize(v, n, &s);
	r->value = s.p99 / 1e3;
	snprintf(r->reps, sizeof(r->reps), "%d calls", n);
	snprintf(r->ratio, sizeof(r->ratio), "p50 %.2f, max %.0f us", s.median / 1e3, s.max / 1e3);
	r->lo = s.min / 1e3;
	r->hi = s.max / 1e3;
	return r;
}

static int one_by_one(struct bench_env *e, double *add_rate, double *del_rate,
		      double *add_lat, double *del_lat)
{
	struct device_maps m = { .conns = e->conns, .keys = e->keys };
	double t0 = mono_ns();

	for (__u32 i = 0; i < N; i++) {
		double a = mono_ns();

		if (bpf_map_update_elem(e->keys, &keys[i], &cryptos[i], BPF_NOEXIST) ||
		    bpf_map_update_elem(e->conns, &keys[i], &conns[i], BPF_NOEXIST)) {
			fprintf(stderr, "bench: install %u failed\n", i);
			return -1;
		}
		add_lat[i] = mono_ns() - a;
	}
	*add_rate = N / ((mono_ns() - t0) / 1e9);
	t0 = mono_ns();
	for (__u32 i = 0; i < N; i++) {
		double a = mono_ns();

		conn_remove(&m, &keys[i]);
		del_lat[i] = mono_ns() - a;
	}
	*del_rate = N / ((mono_ns() - t0) / 1e9);
	return 0;
}

static int batch(int fd, void *vals, size_t val_size, bool del)
{
	for (__u32 done = 0; done < N;) {
		__u32 cnt = N - done < CHUNK ? N - done : CHUNK;
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		int err;

		if (del)
			err = bpf_map_delete_batch(fd, &keys[done], &cnt, &o);
		else
			err = bpf_map_update_batch(fd, &keys[done], (char *)vals + done * val_size,
						   &cnt, &o);
		if (err)
			return err;
		done += cnt;
	}
	return 0;
}

int bench_install(struct bench_env *e)
{
	double add1[ROUNDS], del1[ROUNDS], addb[ROUNDS], addb_conns[ROUNDS], delb[ROUNDS];
	unsigned long long mem0_c, mem0_k, mem1_c = 0, mem1_k = 0;
	double *del_lat;
	struct row *r;
	int err = -1;

	keys = calloc(N, sizeof(*keys));
	conns = calloc(N, sizeof(*conns));
	cryptos = calloc(N, sizeof(*cryptos));
	lat = calloc(N, sizeof(*lat));
	del_lat = calloc(N, sizeof(*del_lat));
	if (!keys || !conns || !cryptos || !lat || !del_lat)
		goto out;
	for (__u32 i = 0; i < N; i++)
		make_conn(i);
	env_clear_conns(e);
	mem0_c = map_memlock(e->conns);
	mem0_k = map_memlock(e->keys);

	for (int round = 0; round < ROUNDS; round++) {
		double t0;

		/* Only the last round's latencies are kept: 10^6 samples each. */
		if (one_by_one(e, &add1[round], &del1[round], lat, del_lat))
			goto out;

		t0 = mono_ns();
		if (batch(e->keys, cryptos, sizeof(*cryptos), false) ||
		    batch(e->conns, conns, sizeof(*conns), false)) {
			fprintf(stderr, "bench: bpf_map_update_batch failed\n");
			goto out;
		}
		addb[round] = N / ((mono_ns() - t0) / 1e9);
		mem1_c = map_memlock(e->conns);
		mem1_k = map_memlock(e->keys);
		t0 = mono_ns();
		if (batch(e->keys, NULL, 0, true) || batch(e->conns, NULL, 0, true)) {
			fprintf(stderr, "bench: bpf_map_delete_batch failed\n");
			goto out;
		}
		delb[round] = N / ((mono_ns() - t0) / 1e9);

		t0 = mono_ns();
		if (batch(e->conns, conns, sizeof(*conns), false))
			goto out;
		addb_conns[round] = N / ((mono_ns() - t0) / 1e9);
		env_clear_conns(e);
		fprintf(stderr, "bench: install round %d of %d done\n", round + 1, ROUNDS);
	}

	r = rate_row("install_batch", "install, batched (keys + conns)", addb, ROUNDS);
	target_min(r, "rate", r->value, 1e6, "%.3g/s");
	snprintf(r->note, sizeof(r->note),
		 "bpf_map_update_batch, %d per call, into tlshim_keys then tlshim_conns", CHUNK);
	rate_row("install_batch_conns_only", "install, batched (conns only)", addb_conns, ROUNDS);
	rate_row("install_one", "install, one by one (keys + conns)", add1, ROUNDS);
	r = latency_row("install_latency", "install latency p99, one by one", lat, N);
	target_max(r, "p99", r->value, 20, "%.1f us");
	rate_row("remove_batch", "removal, batched (bpf_map_delete_batch)", delb, ROUNDS);
	rate_row("remove_one", "removal, one by one (loader's conn_remove)", del1, ROUNDS);
	latency_row("remove_latency", "removal latency p99, one by one", del_lat, N);

	r = row_new(SEC_SCALE, "mem_conn_value", "bytes per conn: key + value (tlshim_conns)", "B");
	r->value = sizeof(struct tlshim_flow) + sizeof(struct tlshim_conn);
	snprintf(r->note, sizeof(r->note), "key %zu + value %zu; tlshim_keys adds key %zu + value %zu",
		 sizeof(struct tlshim_flow), sizeof(struct tlshim_conn), sizeof(struct tlshim_flow),
		 sizeof(struct tlshim_crypto));
	r = row_new(SEC_SCALE, "mem_tx_conn_value", "bytes per TX conn: key + value (tlshim_tx_conns)",
		    "B");
	r->value = sizeof(struct tlshim_flow) + sizeof(struct tlshim_tx_conn);
	snprintf(r->note, sizeof(r->note),
		 "added to the above for a TX connection: its record log (%d slots) is %zu B of it; "
		 "not installed here (the rates above are RX connections)",
		 TLSHIM_TX_LOG_SLOTS, sizeof(((struct tlshim_tx_conn *)0)->log));
	r = row_new(SEC_SCALE, "mem_conn_kernel", "bytes per conn: kernel memlock, conns", "B");
	r->value = (double)(mem1_c - mem0_c) / N;
	snprintf(r->reps, sizeof(r->reps), "%d conns installed", N);
	snprintf(r->note, sizeof(r->note),
		 "fdinfo memlock (what bpftool map show prints): %.1f MiB for 10^6 in tlshim_conns",
		 (mem1_c - mem0_c) / 1048576.0);
	r = row_new(SEC_SCALE, "mem_keys_kernel", "bytes per conn: kernel memlock, keys", "B");
	r->value = (double)(mem1_k - mem0_k) / N;
	snprintf(r->reps, sizeof(r->reps), "%d conns installed", N);
	r = row_new(SEC_SCALE, "mem_total_kernel", "bytes per conn: kernel memlock, total", "B");
	r->value = (double)(mem1_c - mem0_c + mem1_k - mem0_k) / N;
	snprintf(r->reps, sizeof(r->reps), "%d conns installed", N);
	snprintf(r->note, sizeof(r->note), "%.0f MiB for the full 10^6",
		 (mem1_c - mem0_c + mem1_k - mem0_k) / 1048576.0);
	err = 0;
out:
	if (err)
		fprintf(stderr, "bench: installation section failed\n");
	env_clear_conns(e);
	/* Key material of the bench's fake connections, zeroed all the same. */
	if (cryptos)
		memset(cryptos, 0, (size_t)N * sizeof(*cryptos));
	free(keys);
	free(conns);
	free(cryptos);
	free(lat);
	free(del_lat);
	keys = NULL;
	conns = NULL;
	cryptos = NULL;
	lat = NULL;
	return err;
}
