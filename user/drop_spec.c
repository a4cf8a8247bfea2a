// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Loss specs: "random:1%,seed=7", "nth:50", "header:12,40", "body:3,from=9". */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drop_spec.h"

static const char *const kinds[] = {
	[TLSHIM_DROP_RANDOM] = "random", [TLSHIM_DROP_NTH] = "nth",
	[TLSHIM_DROP_HEADER] = "header", [TLSHIM_DROP_BODY] = "body",
};

static int bad(char *err, size_t len, const char *fmt, const char *what)
{
	snprintf(err, len, fmt, what);
	return -1;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

/* "1%", "0.5%" or "1" (percent either way). */
static int parse_percent(const char *s, __u64 *threshold)
{
	char buf[32], *end;
	size_t n = strlen(s);
	double pct;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	if (buf[n - 1] == '%')
		buf[--n] = 0;
	if (!n || buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
		return -1;
	errno = 0;
	pct = strtod(buf, &end);
	if (errno || *end || !isfinite(pct) || pct <= 0 || pct > 100)
		return -1;
	/* 100% must drop everything: the largest threshold does (hash == 2^64-1
	 * aside, which the mix reaches for one index in 2^64). */
	*threshold = pct >= 100 ? UINT64_MAX : (__u64)ldexp(pct / 100.0, 64);
	return 0;
}

int drop_spec_parse(const char *text, struct tlshim_drop_spec *spec,
		    char *err, size_t errlen)
{
	char buf[256], *args, *tok, *save;
	unsigned long long v;
	bool have_value = false;
	unsigned kind;

	memset(spec, 0, sizeof(*spec));
	if (!text || strlen(text) >= sizeof(buf))
		return bad(err, errlen, "%s: empty or too long", "spec");
	strcpy(buf, text);
	args = strchr(buf, ':');
	if (!args)
		return bad(err, errlen, "'%s': expected KIND:VALUE (random:1%%, nth:50, header:K, body:K)", text);
	*args++ = 0;
	for (kind = TLSHIM_DROP_RANDOM; kind <= TLSHIM_DROP_BODY; kind++)
		if (!strcmp(buf, kinds[kind]))
			break;
	if (kind > TLSHIM_DROP_BODY)
		return bad(err, errlen, "'%s': unknown kind (random, nth, header, body)", buf);
	spec->kind = kind;
	for (tok = strtok_r(args, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "seed=", 5)) {
			if (kind != TLSHIM_DROP_RANDOM && kind != TLSHIM_DROP_NTH)
				return bad(err, errlen, "%s: seed= only applies to random and nth", kinds[kind]);
			if (parse_uint(tok + 5, UINT64_MAX, &v))
				return bad(err, errlen, "seed '%s': not a number", tok + 5);
			spec->seed = v;
		} else if (!strncmp(tok, "from=", 5)) {
			if (parse_uint(tok + 5, UINT32_MAX, &v))
				return bad(err, errlen, "from '%s': not a segment index", tok + 5);
			spec->from = v;
		} else if (!have_value || kind == TLSHIM_DROP_HEADER || kind == TLSHIM_DROP_BODY) {
			if (kind == TLSHIM_DROP_RANDOM) {
				if (parse_percent(tok, &spec->threshold))
					return bad(err, errlen, "random '%s': percent must be in (0, 100]", tok);
			} else if (kind == TLSHIM_DROP_NTH) {
				if (parse_uint(tok, UINT32_MAX, &v) || v == 0)
					return bad(err, errlen, "nth '%s': period must be a number >= 1", tok);
				spec->nth = v;
			} else {
				if (spec->nrecords == TLSHIM_DROP_MAX_RECORDS)
					return bad(err, errlen, "%s: at most 16 records", kinds[kind]);
				if (parse_uint(tok, UINT32_MAX, &v))
					return bad(err, errlen, "record '%s': not a record number", tok);
				spec->records[spec->nrecords++] = v;
			}
			have_value = true;
		} else {
			return bad(err, errlen, "'%s': unexpected (options are seed= and from=)", tok);
		}
	}
	if (!have_value)
		return bad(err, errlen, "%s: missing value", kinds[kind]);
	return 0;
}

void drop_spec_format(const struct tlshim_drop_spec *s, char *buf, size_t len)
{
	size_t n = 0;
	__u32 i;

	if (s->kind < TLSHIM_DROP_RANDOM || s->kind > TLSHIM_DROP_BODY) {
		snprintf(buf, len, "none");
		return;
	}
	n += snprintf(buf + n, len - n, "%s:", kinds[s->kind]);
	if (s->kind == TLSHIM_DROP_RANDOM)
		n += snprintf(buf + n, len - n, "%.6g%%,seed=%llu",
			      s->threshold == UINT64_MAX ? 100.0 : ldexp((double)s->threshold, -64) * 100,
			      (unsigned long long)s->seed);
	else if (s->kind == TLSHIM_DROP_NTH)
		n += snprintf(buf + n, len - n, "%u,seed=%llu", s->nth, (unsigned long long)s->seed);
	else
		for (i = 0; i < s->nrecords && n < len; i++)
			n += snprintf(buf + n, len - n, "%s%u", i ? "," : "", s->records[i]);
	if (s->from && n < len)
		snprintf(buf + n, len - n, ",from=%u", s->from);
}
