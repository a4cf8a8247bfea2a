/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Timing through BPF_PROG_RUN, and order statistics. */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

#include <stddef.h>
#include <linux/types.h>

struct run_result {
	double cpu_ns;		/* this thread's CPU time per run */
	__u32 kernel_ns;	/* test_run's own figure, per run (whole ns) */
	__u32 retval;
};

/*
 * `repeat` runs of one program on one frame in one BPF_PROG_RUN call.
 * The figure used is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID)
 * around the call divided by repeat: it excludes time other tasks on this
 * shared machine take the CPU (as the kernel's own timer does), and, unlike
 * the kernel's whole-nanosecond `duration`, resolves a 5 ns empty program
 * to better than 1%.  The syscall's fixed cost (a few us) over >= 10^5
 * runs adds < 0.05 ns.  Both are kept.
 */
int run_repeat(int prog_fd, const void *frame, size_t len, __u32 repeat,
	       struct run_result *out);
/* One run; the frame after the run (XDP may have rewritten it) if out_frame. */
int run_once(int prog_fd, const void *frame, size_t len, __u32 *retval,
	     __u32 *kernel_ns);

double mono_ns(void);

struct summary {
	double median, min, max, p99;
	int n;
};
/* Sorts v in place. */
void summarize(double *v, int n, struct summary *s);
double percentile(const double *sorted, int n, double p);

#endif /* BENCH_MEASURE_H */
