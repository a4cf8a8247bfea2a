/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench.h - what the bench driver programs (driver.bpf.c) and the harness
 * (build/bench) share.  Plain C types only: both compilers include it.
 */
#ifndef TLSHIM_BENCH_H
#define TLSHIM_BENCH_H

#include <linux/types.h>
#include "tlshim.h"

/* Every bench frame is Ethernet + IPv4 (no options) + TCP (no options), so
 * the rotating driver can rewrite a frame's flow and seq at fixed offsets. */
#define BENCH_ETH_LEN		14
#define BENCH_OFF_IP_SADDR	(BENCH_ETH_LEN + 12)
#define BENCH_OFF_TCP_SEQ	(BENCH_ETH_LEN + 20 + 4)
#define BENCH_HDRS_LEN		(BENCH_ETH_LEN + 20 + 20)

/* Prog array slot the drivers tail-call. */
#define BENCH_TARGET_SLOT	0

/*
 * Value of bench_reset_rx / bench_reset_tx: before every run the reset
 * driver puts this stream state back into the flow's entry, so repeat=N
 * runs the same segment N times against the same state.
 */
struct bench_reset {
	struct tlshim_flow flow;
	struct tlshim_stream st;
};

/*
 * Value of bench_reset_tx: the TX device state (tlshim_tx_conns) the reset
 * driver puts back before every run.  Everything but the record log and the
 * counters: the log's slots are written once by the harness, and the
 * measured segments complete no record (no walk writes a slot), so the log
 * is the same for every run once head and tail are restored.
 */
struct bench_reset_tx {
	struct tlshim_flow flow;
	__u32 expected_seq;
	__u32 acked_seq;
	struct tlshim_stream parser;
	__u32 start_seq;
	__u8 marker_live;
	__u8 pad[3];
	__u32 log_head;
	__u32 log_tail;
};

/*
 * Value of bench_rotate: run number r sends the k-th segment (k = r / nflows)
 * of flow i (i = r % nflows): IPv4 source saddr_base + i, seq
 * base_seq + k * seg_len.  Every flow is installed in sync at base_seq inside
 * one huge record, so every run is an in-order segment of the next flow in
 * turn and the flows' entries are touched round-robin, as real traffic over
 * many connections would touch them.
 */
struct bench_rotate {
	__u64 runs;		/* advanced by the driver */
	__u32 nflows;
	__u32 saddr_base;	/* host byte order */
	__u32 base_seq;
	__u32 seg_len;
};

#endif /* TLSHIM_BENCH_H */
