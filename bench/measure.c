// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/bpf.h>
#include "measure.h"

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int run_repeat(int prog_fd, const void *frame, size_t len, __u32 repeat,
	       struct run_result *out)
{
	unsigned char data_out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .data_out = data_out, .data_size_out = sizeof(data_out),
		    .repeat = repeat);
	double t0, t1;
	int err;

	t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	err = bpf_prog_test_run_opts(prog_fd, &o);
	t1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (err)
		return err;
	out->cpu_ns = (t1 - t0) / repeat;
	out->kernel_ns = o.duration;
	out->retval = o.retval;
	return 0;
}

int run_once(int prog_fd, const void *frame, size_t len, __u32 *retval, __u32 *kernel_ns)
{
	unsigned char data_out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .data_out = data_out, .data_size_out = sizeof(data_out), .repeat = 1);
	int err = bpf_prog_test_run_opts(prog_fd, &o);

	if (!err) {
		if (retval)
			*retval = o.retval;
		if (kernel_ns)
			*kernel_ns = o.duration;
	}
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double percentile(const double *sorted, int n, double p)
{
	double pos;
	int lo;

	if (n <= 0)
		return NAN;
	pos = p / 100.0 * (n - 1);
	lo = (int)pos;
	if (lo >= n - 1)
		return sorted[n - 1];
	return sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]);
}

void summarize(double *v, int n, struct summary *s)
{
	qsort(v, n, sizeof(*v), cmp_double);
	s->n = n;
	s->median = percentile(v, n, 50);
	s->p99 = percentile(v, n, 99);
	s->min = n ? v[0] : NAN;
	s->max = n ? v[n - 1] : NAN;
}
