/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The test tables of each file, run by main.c in this order. */
#ifndef UNIT_TESTS_H
#define UNIT_TESTS_H

#include <stddef.h>
#include <stdint.h>
#include "harness.h"
#include "scenario.h"

extern const struct test_case in_order_tests[];
extern const size_t n_in_order_tests;
extern const struct test_case loss_tests[];
extern const size_t n_loss_tests;
extern const struct test_case parse_tests[];
extern const size_t n_parse_tests;
extern const struct test_case mark_tests[];
extern const size_t n_mark_tests;
extern const struct test_case concurrency_tests[];
extern const size_t n_concurrency_tests;
extern const struct test_case tx_tests[];
extern const size_t n_tx_tests;
extern const struct test_case tx_gso_tests[];
extern const size_t n_tx_gso_tests;
extern const struct test_case tx_concurrency_tests[];
extern const size_t n_tx_concurrency_tests;
extern const struct test_case resync_tests[];
extern const size_t n_resync_tests;
extern const struct test_case differential_tests[];
extern const size_t n_differential_tests;
extern const struct test_case drop_tests[];
extern const size_t n_drop_tests;

/* Modes of build/unit_tests beyond the suite (test_differential.c). */
int diff_soak(uint64_t n, uint64_t seed_base);
int diff_replay(uint64_t seed);
int diff_study(size_t records, unsigned runs);
int diff_scan_cost(size_t packets);

#endif /* UNIT_TESTS_H */
