/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The test tables of each file, run by main.c in this order. */
#ifndef UNIT_TESTS_H
#define UNIT_TESTS_H

#include <stddef.h>
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

#endif /* UNIT_TESTS_H */
