// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dut.h"
#include "frame.h"
#include "tlshim.skel.h"

struct dut dut;

/* Pin paths, precomputed so the fatal-signal handler can unlink them
 * without calling into libbpf. */
#define MAX_PINS 16
static char pin_paths[MAX_PINS][128];
static int n_pins;

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int dut_open(char *err, size_t err_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_map *map;
	int rc;

	libbpf_set_print(libbpf_quiet);
	snprintf(dut.pin_dir, sizeof(dut.pin_dir), "/sys/fs/bpf/tlshim-unit-%d", getpid());
	if (mkdir(dut.pin_dir, 0700)) {
		snprintf(err, err_len, "mkdir %s: %s", dut.pin_dir, strerror(errno));
		dut.pin_dir[0] = '\0';
		return -1;
	}
	opts.pin_root_path = dut.pin_dir;
	dut.skel = tlshim_bpf__open_opts(&opts);
	if (!dut.skel) {
		snprintf(err, err_len, "tlshim_bpf__open_opts: %s", strerror(errno));
		return -1;
	}
	bpf_object__for_each_map(map, dut.skel->obj) {
		if (n_pins < MAX_PINS && bpf_map__pin_path(map))
			snprintf(pin_paths[n_pins++], sizeof(pin_paths[0]), "%s",
				 bpf_map__pin_path(map));
	}
	rc = tlshim_bpf__load(dut.skel);
	if (rc) {
		snprintf(err, err_len, "tlshim_bpf__load: %s", strerror(-rc));
		return -1;
	}
	dut.conns_fd = bpf_map__fd(dut.skel->maps.tlshim_conns);
	dut.stats_fd = bpf_map__fd(dut.skel->maps.tlshim_stats);
	dut.config_fd = bpf_map__fd(dut.skel->maps.tlshim_config);
	dut.rx_fd = bpf_program__fd(dut.skel->progs.tlshim_rx);
	dut.rx_mark_fd = bpf_program__fd(dut.skel->progs.tlshim_rx_mark);
	dut.tx_fd = bpf_program__fd(dut.skel->progs.tlshim_tx);
	dut.tx_conns_fd = bpf_map__fd(dut.skel->maps.tlshim_tx_conns);
	dut.ncpus = libbpf_num_possible_cpus();
	if (dut.ncpus <= 0) {
		snprintf(err, err_len, "libbpf_num_possible_cpus: %d", dut.ncpus);
		return -1;
	}
	return 0;
}

/* Async-signal-safe: unlink and rmdir only. */
static void remove_pins(void)
{
	for (int i = 0; i < n_pins; i++)
		unlink(pin_paths[i]);
	n_pins = 0;
	if (dut.pin_dir[0])
		rmdir(dut.pin_dir);
}

void dut_close(void)
{
	remove_pins();
	dut.pin_dir[0] = '\0';
	if (dut.skel)
		tlshim_bpf__destroy(dut.skel);
	dut.skel = NULL;
}

static void delete_all(int map_fd, const char *name)
{
	struct tlshim_flow key, next;

	/* Deleting while iterating restarts the walk; fetch the first each time. */
	while (!bpf_map_get_next_key(map_fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(map_fd, &key)) {
			fprintf(stderr, "delete from %s: %s\n", name, strerror(errno));
			exit(2);
		}
	}
}

static void delete_all_conns(void)
{
	delete_all(dut.conns_fd, "tlshim_conns");
	delete_all(dut.tx_conns_fd, "tlshim_tx_conns");
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

void dut_reset(void)
{
	delete_all_conns();
	zero_counters();
	if (dut_config_write(0, 0)) {
		fprintf(stderr, "zeroing tlshim_config: %s\n", strerror(errno));
		exit(2);
	}
}

int dut_conn_install(const struct tlshim_flow *key, uint16_t version, uint16_t cipher,
		 uint32_t start_seq, uint64_t start_rec_sn)
{
	struct tlshim_conn conn;

	tlshim_conn_init(&conn, version, cipher, start_seq, start_rec_sn, 1);
	return bpf_map_update_elem(dut.conns_fd, key, &conn, BPF_NOEXIST);
}

int dut_conn_read(const struct tlshim_flow *key, struct tlshim_conn *conn)
{
	return bpf_map_lookup_elem_flags(dut.conns_fd, key, conn, BPF_F_LOCK);
}

int dut_counters_read(struct tlshim_counters *sum)
{
	struct tlshim_counters *per_cpu = calloc(dut.ncpus, sizeof(*per_cpu));
	__u32 key = 0;
	int rc;

	memset(sum, 0, sizeof(*sum));
	if (!per_cpu)
		return -1;
	rc = bpf_map_lookup_elem(dut.stats_fd, &key, per_cpu);
	for (int cpu = 0; !rc && cpu < dut.ncpus; cpu++) {
		const __u64 *in = (const __u64 *)&per_cpu[cpu];
		__u64 *out = (__u64 *)sum;

		for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			out[i] += in[i];
	}
	free(per_cpu);
	return rc;
}

int dut_config_write(uint32_t initialized, uint32_t decrypted_mark)
{
	struct tlshim_config cfg = { .initialized = initialized, .decrypted_mark = decrypted_mark };
	__u32 key = 0;

	return bpf_map_update_elem(dut.config_fd, &key, &cfg, BPF_ANY);
}

int dut_config_put(const struct tlshim_config *cfg)
{
	__u32 key = 0;

	return bpf_map_update_elem(dut.config_fd, &key, cfg, BPF_ANY);
}

int dut_tx_conn_install(const struct tlshim_flow *key, uint16_t version, uint16_t cipher,
			uint32_t start_seq, uint64_t start_rec_sn, bool enforce_drops)
{
	struct tlshim_tx_conn *conn = malloc(sizeof(*conn));
	int rc;

	if (!conn)
		return -1;
	tlshim_tx_conn_init(conn, version, cipher, start_seq, start_rec_sn, enforce_drops, 1);
	rc = bpf_map_update_elem(dut.tx_conns_fd, key, conn, BPF_NOEXIST);
	free(conn);
	return rc;
}

int dut_tx_conn_read(const struct tlshim_flow *key, struct tlshim_tx_conn *conn)
{
	return bpf_map_lookup_elem_flags(dut.tx_conns_fd, key, conn, BPF_F_LOCK);
}

struct tx_run dut_tx_run(const uint8_t *frame, size_t len, uint32_t gso_segs,
			 uint32_t gso_size)
{
	uint8_t out[4096];	/* test_run takes at most a page of skb data */
	struct __sk_buff skb = { .gso_segs = gso_segs, .gso_size = gso_size };
	struct tx_run r = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame,
		    .data_size_in = len,
		    .data_out = out,
		    .data_size_out = sizeof(out),
		    .ctx_in = &skb,
		    .ctx_size_in = sizeof(skb),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(dut.tx_fd, &opts)) {
		r.err = errno;
		return r;
	}
	r.retval = opts.retval;
	r.packet_unchanged = opts.data_size_out == len && !memcmp(out, frame, len);
	return r;
}

struct rx_run dut_rx_run(const uint8_t *frame, size_t len)
{
	uint8_t out[FRAME_MAX + 256];
	struct rx_run r = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame,
		    .data_size_in = len,
		    .data_out = out,
		    .data_size_out = sizeof(out),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(dut.rx_fd, &opts)) {
		r.err = errno;
		return r;
	}
	r.retval = opts.retval;
	r.size_out = opts.data_size_out;
	/* The XDP test run copies out from data_meta: a descriptor the program
	 * wrote precedes the packet in data_out. */
	if (r.size_out == len + sizeof(r.meta)) {
		r.has_meta = true;
		memcpy(&r.meta, out, sizeof(r.meta));
		r.packet_unchanged = !memcmp(out + sizeof(r.meta), frame, len);
	} else {
		r.packet_unchanged = r.size_out == len && !memcmp(out, frame, len);
	}
	return r;
}

static void on_fatal_signal(int sig)
{
	remove_pins();
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((constructor)) static void install_signal_cleanup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal_signal);
}
