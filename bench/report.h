/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* One table for every figure, printed and written as JSON. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdio.h>

enum bench_section {
	SEC_PACKET,	/* 1. per-packet cost */
	SEC_SCALE,	/* 2. connection count, memory */
	SEC_INSTALL,	/* 3. installation rate and latency */
	SEC_RESYNC,	/* 4. resync round trip */
	SEC_E2E,	/* 5. TCP over veth */
	SEC_COUNT
};

struct row {
	int section;
	char id[48];		/* stable key for results.json */
	char name[80];
	double value;		/* NAN: not measured (see note) */
	char unit[12];
	double lo, hi;		/* spread: min..max of the repetitions (NAN: none) */
	char reps[40];		/* what the value is a median of */
	char ratio[64];		/* ratios to baselines of the same run */
	char target[112];	/* target and whether it is met */
	char note[200];
};

/* A new row (value and spread NAN, strings empty) to fill in. */
struct row *row_new(int section, const char *id, const char *name, const char *unit);
/* Rows written by a script (tab-separated, the struct's fields in order). */
int report_read_tsv(const char *path);
void report_print(FILE *f);
int report_json(const char *path, const char *const *method_notes);

/* "met (x)" / "MISSED by x" helpers for the target column. */
void target_max(struct row *r, const char *what, double value, double limit, const char *fmt);
void target_min(struct row *r, const char *what, double value, double limit, const char *fmt);

#endif /* BENCH_REPORT_H */
