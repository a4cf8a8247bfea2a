// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * build/unit_tests: the device (build/tlshim.bpf.o) driven through
 * BPF_PROG_TEST_RUN.  Needs root.  Arguments, if any, select the tests whose
 * names contain one of them.  Other modes (test_differential.c):
 *   --soak N [--seed B]   N randomized resync scenarios from seed B (default 1)
 *   --replay SEED         one scenario, every segment printed
 *   --study [RECORDS [RUNS]]  decrypted fraction under 0.5/1/2/5% loss per policy
 *   --scan-cost [N]       scan cost per segment vs the in-order path
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dut.h"
#include "tests.h"

static void close_dut_at_exit(void)
{
	dut_close();
}

static uint64_t arg_u64(int argc, char **argv, int i, uint64_t dflt)
{
	return i < argc ? strtoull(argv[i], NULL, 0) : dflt;
}

/* A mode other than the suite; -1 if argv names none. */
static int run_mode(int argc, char **argv)
{
	if (argc < 2 || strncmp(argv[1], "--", 2))
		return -1;
	if (!strcmp(argv[1], "--soak")) {
		uint64_t seed = 1;

		if (argc > 4 && !strcmp(argv[3], "--seed"))
			seed = arg_u64(argc, argv, 4, 1);
		return diff_soak(arg_u64(argc, argv, 2, 10000000), seed);
	}
	if (!strcmp(argv[1], "--replay") && argc > 2)
		return diff_replay(arg_u64(argc, argv, 2, 1));
	if (!strcmp(argv[1], "--study"))
		return diff_study(arg_u64(argc, argv, 2, 2000), arg_u64(argc, argv, 3, 5));
	if (!strcmp(argv[1], "--scan-cost"))
		return diff_scan_cost(arg_u64(argc, argv, 2, 20000));
	fprintf(stderr, "unit_tests: unknown mode %s\n", argv[1]);
	return 2;
}

int main(int argc, char **argv)
{
	const struct {
		const struct test_case *cases;
		size_t n;
	} tables[] = {
		{ in_order_tests, n_in_order_tests },
		{ loss_tests, n_loss_tests },
		{ parse_tests, n_parse_tests },
		{ mark_tests, n_mark_tests },
		{ concurrency_tests, n_concurrency_tests },
		{ tx_tests, n_tx_tests },
		{ tx_gso_tests, n_tx_gso_tests },
		{ tx_concurrency_tests, n_tx_concurrency_tests },
		{ resync_tests, n_resync_tests },
		{ differential_tests, n_differential_tests },
		{ drop_tests, n_drop_tests },
	};
	char err[256];
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	atexit(close_dut_at_exit);
	if (geteuid() != 0) {
		printf("FAIL load_device: must run as root (BPF_PROG_TEST_RUN, bpffs pins)\n");
		return 1;
	}
	if (dut_open(err, sizeof(err))) {
		printf("FAIL load_device: %s\n", err);
		return 1;
	}
	if (argc > 1 && !strncmp(argv[1], "--", 2))
		return run_mode(argc, argv);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		failed += run_tests(tables[i].cases, tables[i].n, argc, argv, dut_reset);
	return failed ? 1 : 0;
}
