// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

/* Past this many, failures are counted but not listed: a loop over 400
 * segments must not bury the first (usually the telling) one. */
#define MAX_LISTED_FAILURES 25

static void log_line(struct test *t, const char *line)
{
	size_t len = strlen(line);

	if (t->log_len + len + 2 > t->log_cap) {
		size_t cap = t->log_cap ? t->log_cap * 2 : 1024;

		while (cap < t->log_len + len + 2)
			cap *= 2;
		t->log = realloc(t->log, cap);
		if (!t->log) {
			perror("realloc");
			exit(2);
		}
		t->log_cap = cap;
	}
	memcpy(t->log + t->log_len, line, len);
	t->log_len += len;
	t->log[t->log_len++] = '\n';
	t->log[t->log_len] = '\0';
}

void test_context(struct test *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->context, sizeof(t->context), fmt, ap);
	va_end(ap);
}

void test_fail(struct test *t, const char *file, int line, const char *fmt, ...)
{
	char msg[768], full[1024];
	const char *base = strrchr(file, '/');
	va_list ap;

	t->failures++;
	if (t->failures > MAX_LISTED_FAILURES)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s:%d: %s%s%s", base ? base + 1 : file, line,
		 t->context, t->context[0] ? ": " : "", msg);
	if (!t->first_failure)
		t->first_failure = strdup(full);
	else
		log_line(t, full);
}

void test_note(struct test *t, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(t, msg);
}

void test_skip(struct test *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(t->skip_reason);
	t->skip_reason = strdup(msg);
}

bool expect_eq_u64(struct test *t, const char *file, int line,
		   const char *what, uint64_t expected, uint64_t actual)
{
	if (expected == actual)
		return true;
	test_fail(t, file, line, "%s: expected %llu (0x%llx), got %llu (0x%llx)", what,
		  (unsigned long long)expected, (unsigned long long)expected,
		  (unsigned long long)actual, (unsigned long long)actual);
	return false;
}

static void hex(char *out, size_t cap, const uint8_t *p, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len && used + 3 <= cap; i++)
		used += snprintf(out + used, cap - used, "%02x", p[i]);
}

bool expect_eq_mem(struct test *t, const char *file, int line, const char *what,
		   const void *expected, const void *actual, size_t len)
{
	const uint8_t *e = expected, *a = actual;
	char eh[80], ah[80];
	size_t at;

	if (!memcmp(expected, actual, len))
		return true;
	for (at = 0; e[at] == a[at]; at++)
		;
	hex(eh, sizeof(eh), e + at, len - at < 16 ? len - at : 16);
	hex(ah, sizeof(ah), a + at, len - at < 16 ? len - at : 16);
	test_fail(t, file, line, "%s: differs at byte %zu of %zu: expected %s, got %s",
		  what, at, len, eh, ah);
	return false;
}

static void print_indented(const char *log)
{
	const char *line = log;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);

		printf("    %.*s\n", len, line);
		line = nl ? nl + 1 : NULL;
	}
}

int run_tests(const struct test_case *cases, size_t n, int argc, char **argv,
	      void (*before_each)(void))
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		struct test t = { .name = cases[i].name, .param = cases[i].param };
		bool selected = argc <= 1;

		for (int a = 1; a < argc; a++)
			if (strstr(cases[i].name, argv[a]))
				selected = true;
		if (!selected)
			continue;

		before_each();
		cases[i].fn(&t);

		if (t.failures) {
			printf("FAIL %s: %s\n", t.name, t.first_failure);
			if (t.failures > MAX_LISTED_FAILURES)
				test_note(&t, "(%u failures, first %d listed)", t.failures,
					  MAX_LISTED_FAILURES);
			failed++;
		} else if (t.skip_reason) {
			printf("skip %s: %s\n", t.name, t.skip_reason);
		} else {
			printf("ok %s\n", t.name);
		}
		print_indented(t.log);
		fflush(stdout);
		free(t.log);
		free(t.first_failure);
		free(t.skip_reason);
	}
	return failed;
}
