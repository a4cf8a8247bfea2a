/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The objects under test and the bench's own, loaded side by side. */
#ifndef BENCH_ENV_H
#define BENCH_ENV_H

#include <stdbool.h>
#include "tlshim.h"

struct bench_env {
	struct tlshim_bpf *dev;			/* build/tlshim.bpf.o, unchanged */
	struct bench_empty_bpf *empty;		/* empty XDP and TC programs */
	struct bench_baseline_bpf *base;	/* parse + one lookup */
	struct bench_driver_bpf *drv;		/* repeat drivers (driver.bpf.c) */
	int conns, keys, stats, tx_conns;	/* the device's maps */
	int rx, tx;				/* tlshim_rx, tlshim_tx */
	int empty_xdp, empty_tc, base_xdp, base_tc;
	int reset_rx, reset_tx, rotate_rx;	/* driver programs */
	char pin_dir[256];
	bool made_pin_dir;
};

/* Loads everything with every tlshim_* map pinned by name in a private bpffs
 * directory ($TLSHIM_PIN_DIR if set, else one named after our pid), so the
 * bench objects share the device's maps exactly as ip/tc loads do, and a live
 * device elsewhere on the machine is never touched. */
int env_open(struct bench_env *e);
void env_close(struct bench_env *e);

/*
 * Keeps every XDP program the bench runs directly attached (native mode) to
 * veth ends in a network namespace private to this process, which vanishes
 * with it.  Why: BPF_PROG_RUN on an XDP program that is attached nowhere
 * adds it to the kernel's XDP dispatcher and removes it again around every
 * call, a code patch that costs about 1 ms of CPU per call here (5 ns per
 * run at repeat=200000, as much as an empty program).  An attached program
 * is already in the dispatcher: a call then costs ~3 us.  Returns how many
 * programs are anchored.
 */
int env_anchor_xdp(struct bench_env *e);

/* Which program a driver tail-calls: tc selects the TC drivers' array. */
int env_set_target(struct bench_env *e, bool tc, int prog_fd);

/* Empties the connection (RX and TX) and key tables. */
void env_clear_conns(struct bench_env *e);

/* Sum of one data-path counter over CPUs (offset into tlshim_counters). */
unsigned long long env_counter(struct bench_env *e, size_t offset);
#define ENV_COUNTER(e, field) env_counter((e), __builtin_offsetof(struct tlshim_counters, field))

/* "memlock" of a map as the kernel accounts it (what bpftool map show
 * prints: /proc/self/fdinfo). */
unsigned long long map_memlock(int map_fd);

#endif /* BENCH_ENV_H */
