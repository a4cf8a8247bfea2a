// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * build/unit_tests: the device (build/tlshim.bpf.o) driven through
 * BPF_PROG_TEST_RUN.  Needs root.  Arguments, if any, select the tests whose
 * names contain one of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "dut.h"
#include "tests.h"

static void close_dut_at_exit(void)
{
	dut_close();
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
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		failed += run_tests(tables[i].cases, tables[i].n, argc, argv, dut_reset);
	return failed ? 1 : 0;
}
