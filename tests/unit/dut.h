/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The device under test: build/tlshim.bpf.o loaded through its skeleton,
 * maps pinned in a private bpffs directory, programs run with
 * BPF_PROG_TEST_RUN.
 */
#ifndef UNIT_DUT_H
#define UNIT_DUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlshim.h"

struct tlshim_bpf;

struct dut {
	struct tlshim_bpf *skel;
	int conns_fd, stats_fd, config_fd;
	int rx_fd, rx_mark_fd;
	int tx_fd, tx_conns_fd;
	int ncpus;
	char pin_dir[64];
};

extern struct dut dut;

/* Loads the object; on failure writes why into err and returns -1. */
int dut_open(char *err, size_t err_len);
/* Unpins, removes the pin directory, unloads.  Safe to call twice. */
void dut_close(void);
/* Between tests: no connections, zeroed counters, zeroed config. */
void dut_reset(void);

int dut_conn_install(const struct tlshim_flow *key, uint16_t version, uint16_t cipher,
		 uint32_t start_seq, uint64_t start_rec_sn);
int dut_conn_read(const struct tlshim_flow *key, struct tlshim_conn *conn);
int dut_counters_read(struct tlshim_counters *sum);
int dut_config_write(uint32_t initialized, uint32_t decrypted_mark);
int dut_config_put(const struct tlshim_config *cfg);

int dut_tx_conn_install(const struct tlshim_flow *key, uint16_t version, uint16_t cipher,
			uint32_t start_seq, uint64_t start_rec_sn, bool enforce_drops);
/* A consistent copy (BPF_F_LOCK). */
int dut_tx_conn_read(const struct tlshim_flow *key, struct tlshim_tx_conn *conn);

/* What one tc run of a frame through tlshim_tx returned. */
struct tx_run {
	int err;			/* test_run's errno, 0 on success */
	uint32_t retval;		/* tc action */
	bool packet_unchanged;		/* data_out == frame */
};

/* gso_segs/gso_size go into the __sk_buff context (0: a plain skb). */
struct tx_run dut_tx_run(const uint8_t *frame, size_t len, uint32_t gso_segs,
			 uint32_t gso_size);

/* What one XDP run of a frame returned. */
struct rx_run {
	int err;			/* test_run's errno, 0 on success */
	uint32_t retval;		/* XDP action */
	uint32_t size_out;		/* data_size_out */
	bool has_meta;			/* size_out == frame + descriptor */
	struct tlshim_rx_meta meta;	/* valid if has_meta */
	bool packet_unchanged;		/* bytes after the descriptor == frame */
};

struct rx_run dut_rx_run(const uint8_t *frame, size_t len);

#endif /* UNIT_DUT_H */
