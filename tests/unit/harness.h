/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A minimal test harness: one line per test ("ok name", "FAIL name: why",
 * "skip name: why"), diagnostics indented below it (tests/run.sh convention).
 * EXPECT_* record a failure and go on, so one run shows every wrong field;
 * REQUIRE stops the test (for setup a test cannot go on without).
 */
#ifndef UNIT_HARNESS_H
#define UNIT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct test {
	const char *name;
	const void *param;	/* the table row of a table-driven test */
	unsigned failures;
	char context[96];	/* prefixed to failures: "segment 3/12" */
	char *log;		/* failures and notes, one per line */
	size_t log_len, log_cap;
	char *first_failure;
	char *skip_reason;
};

typedef void (*test_fn)(struct test *t);

struct test_case {
	const char *name;
	test_fn fn;
	const void *param;
};

void test_context(struct test *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void test_fail(struct test *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void test_note(struct test *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void test_skip(struct test *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

bool expect_eq_u64(struct test *t, const char *file, int line,
		   const char *what, uint64_t expected, uint64_t actual);
bool expect_eq_mem(struct test *t, const char *file, int line, const char *what,
		   const void *expected, const void *actual, size_t len);

#define EXPECT_EQ(t, expected, actual)						\
	expect_eq_u64(t, __FILE__, __LINE__, #actual,				\
		      (uint64_t)(expected), (uint64_t)(actual))
/* For fields whose name the caller spells (a loop over a table of fields). */
#define EXPECT_EQ_NAMED(t, what, expected, actual)				\
	expect_eq_u64(t, __FILE__, __LINE__, what,				\
		      (uint64_t)(expected), (uint64_t)(actual))
#define EXPECT_MEM_EQ(t, expected, actual, len)					\
	expect_eq_mem(t, __FILE__, __LINE__, #actual, expected, actual, len)
#define EXPECT_TRUE(t, cond)							\
	((cond) ? true : (test_fail(t, __FILE__, __LINE__, "%s is false", #cond), false))
#define FAIL(t, ...)	test_fail(t, __FILE__, __LINE__, __VA_ARGS__)
#define REQUIRE(t, cond, ...)							\
	do {									\
		if (!(cond)) {							\
			test_fail(t, __FILE__, __LINE__, __VA_ARGS__);		\
			return;							\
		}								\
	} while (0)

/* Runs every case (or those whose name contains a filter) and prints the
 * result lines; returns the number of failed tests. */
int run_tests(const struct test_case *cases, size_t n, int argc, char **argv,
	      void (*before_each)(void));

#endif /* UNIT_HARNESS_H */
