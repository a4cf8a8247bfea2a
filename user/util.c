// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Error reporting, number and hex parsing, option scanning. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common.h"

const char *prog_name = "tlshim";

void usage_error(const char *field, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: bad %s: ", prog_name, field);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

void fail(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool parse_hex(const char *s, uint8_t *out, size_t want_len)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 2 * want_len)
		return false;
	for (size_t i = 0; i < want_len; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = hi << 4 | lo;
	}
	return true;
}

void print_hex(char *buf, const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sprintf(buf + 2 * i, "%02x", bytes[i]);
	buf[2 * len] = 0;
}

uint64_t now_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

struct opt *opt_get(struct opt *opts, const char *name)
{
	for (struct opt *o = opts; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

int parse_opts(int argc, char **argv, struct opt *opts, const char **pos,
	       int max_pos, const char *what)
{
	int npos = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		struct opt *o = NULL;

		if (a[0] != '-' || !a[1]) {
			if (npos == max_pos)
				usage_error("argument", "unexpected '%s' for %s", a, what);
			pos[npos++] = a;
			continue;
		}
		for (struct opt *p = opts; p->name; p++) {
			if ((a[1] == '-' && !strcmp(a + 2, p->name)) ||
			    (a[1] != '-' && p->alias && !strcmp(a + 1, p->alias)))
				o = p;
		}
		if (!o)
			usage_error("option", "unknown option '%s' for %s (see --help)", a, what);
		if (o->seen)
			usage_error(o->name, "--%s given twice", o->name);
		o->seen = true;
		if (o->takes_value) {
			if (i + 1 >= argc)
				usage_error(o->name, "--%s needs a value", o->name);
			o->value = argv[++i];
		}
	}
	return npos;
}
