// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `tlshim timeline`'s input: one JSON object per segment (the schema of
 * `tlshim replay --verdicts` and `tlshim run --trace`), checked line by line
 * and reduced to the rows of one flow.  Every line is checked, also lines
 * of flows not drawn: a corrupted trace is reported, not half-drawn.
 */
#define _GNU_SOURCE	/* getline */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "json_line.h"
#include "timeline.h"

/* Far beyond any segment (GSO/GRO included); keeps seq + len arithmetic
 * within one u32 half-space. */
#define MAX_SEG_LEN	(1u << 24)

static const struct {
	const char *name;
	enum tl_verdict v;
} verdicts[] = {
	{ "decrypted", TL_DECRYPTED },
	{ "encrypted", TL_ENCRYPTED },
	{ "passed", TL_PASSED },
	{ "dropped", TL_DROPPED },
	{ "skipped", TL_SKIPPED },
	/* the live trace's names (user/resync.c trace_segment) */
	{ "resync", TL_ENCRYPTED },	/* tx: prefix replayed, then encrypted */
	{ "skip", TL_SKIPPED },
	{ "drop", TL_DROPPED },
	{ "untracked", TL_PASSED },	/* tx: passed unjudged */
	{ "none", TL_PASSED },		/* not a segment the device judged */
};

static const char *const classes[TL_NVERDICTS] = {
	[TL_DECRYPTED] = "decrypted",
	[TL_ENCRYPTED] = "encrypted",
	[TL_PASSED] = "passed",
	[TL_DROPPED] = "dropped",
	[TL_SKIPPED] = "skipped",
};

const char *tl_verdict_class(enum tl_verdict v)
{
	return v < TL_NVERDICTS ? classes[v] : "passed";
}

char *tl_normalise_endpoint(const char *s)
{
	char buf[ENDPOINT_STRLEN];
	uint8_t addr[16];
	uint16_t port;

	if (!parse_endpoint(s, addr, &port))
		return strdup(s);
	format_endpoint(buf, addr, port);
	return strdup(buf);
}

/* Context for the messages of one line. */
struct line_ctx {
	const char *file;
	uint64_t line;		/* 1-based */
};

static void __attribute__((noreturn, format(printf, 2, 3)))
bad_line(const struct line_ctx *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	usage_error(c->file, "line %llu: %s", (unsigned long long)c->line, why);
}

static uint64_t get_uint(const struct line_ctx *c, const struct json_member *m, uint64_t max)
{
	if (m->type != JSON_NUMBER || !m->num.is_uint || m->num.u > max)
		bad_line(c, "\"%s\" must be an integer 0..%llu", m->key, (unsigned long long)max);
	return m->num.u;
}

static const char *get_string(const struct line_ctx *c, const struct json_member *m)
{
	if (m->type != JSON_STRING)
		bad_line(c, "\"%s\" must be a string", m->key);
	return m->str;
}

static const struct json_member *need(const struct line_ctx *c, const struct json_object *o,
				      const char *key)
{
	const struct json_member *m = json_get(o, key);

	if (!m)
		bad_line(c, "no \"%s\"", key);
	return m;
}

/* A present, non-null optional member, or NULL. */
static const struct json_member *opt(const struct json_object *o, const char *key)
{
	const struct json_member *m = json_get(o, key);

	return m && m->type != JSON_NULL ? m : NULL;
}

/* One line into a row (headers are malloc'd into seg->hdrs). */
static void parse_seg(const struct line_ctx *c, const struct json_object *o, struct tl_seg *seg)
{
	const struct json_member *m;
	const char *s;
	size_t k;

	memset(seg, 0, sizeof(*seg));
	seg->index = c->line - 1;
	if ((m = opt(o, "i")))
		seg->index = get_uint(c, m, UINT64_MAX);
	seg->seq = get_uint(c, need(c, o, "seq"), UINT32_MAX);
	seg->len = get_uint(c, need(c, o, "len"), MAX_SEG_LEN);
	s = get_string(c, need(c, o, "verdict"));
	for (k = 0; k < sizeof(verdicts) / sizeof(verdicts[0]); k++)
		if (!strcmp(s, verdicts[k].name))
			break;
	if (k == sizeof(verdicts) / sizeof(verdicts[0]))
		bad_line(c, "unknown verdict \"%.40s\" (decrypted, encrypted, passed, dropped, "
			 "skipped; the live trace's resync, skip, drop, untracked, none)", s);
	seg->verdict = verdicts[k].v;
	snprintf(seg->raw_verdict, sizeof(seg->raw_verdict), "%s", s);
	if ((m = opt(o, "rec_sn"))) {
		seg->rec_sn = get_uint(c, m, UINT64_MAX);
		seg->has_rec_sn = true;
	}
	if ((m = opt(o, "headers"))) {
		if (m->type == JSON_NUMBER) {
			/* the live trace's count of headers: nothing to place */
			get_uint(c, m, UINT32_MAX);
		} else if (m->type == JSON_NUMBERS) {
			seg->hdrs = calloc(m->n ? m->n : 1, sizeof(*seg->hdrs));
			if (!seg->hdrs)
				fail(EXIT_FAIL, "out of memory");
			for (k = 0; k < m->n; k++) {
				if (!m->nums[k].is_uint || m->nums[k].u > UINT32_MAX)
					bad_line(c, "\"headers\" must hold TCP seqs (integers 0..4294967295)");
				seg->hdrs[k] = m->nums[k].u;
			}
			seg->nhdrs = m->n;
		} else {
			bad_line(c, "\"headers\" must be an array of TCP seqs or a count");
		}
	}
	if ((m = opt(o, "resync"))) {
		s = get_string(c, m);
		if (!strcmp(s, "request"))
			seg->resync = TL_RESYNC_REQUEST;
		else if (!strcmp(s, "confirmed"))
			seg->resync = TL_RESYNC_CONFIRMED;
		else
			bad_line(c, "\"resync\" must be null, \"request\" or \"confirmed\", not \"%.40s\"", s);
	}
	if ((m = opt(o, "state")))
		snprintf(seg->state, sizeof(seg->state), "%s", get_string(c, m));
	if ((m = opt(o, "reason"))) {
		if (m->type == JSON_STRING)
			snprintf(seg->reason, sizeof(seg->reason), "%s", m->str);
		else if (m->type == JSON_NUMBER && m->num.is_uint)
			snprintf(seg->reason, sizeof(seg->reason), "%llu",
				 (unsigned long long)m->num.u);
	}
	if ((m = opt(o, "injected"))) {
		if (m->type != JSON_BOOL)
			bad_line(c, "\"injected\" must be true or false");
		seg->injected = m->b;
	}
	if ((m = opt(o, "dump_bytes")))
		seg->dump_bytes = get_uint(c, m, MAX_SEG_LEN);
}

/* FNV-1a over the three strings: traces of busy hosts hold thousands of
 * flows, a linear search per line would dominate. */
static size_t flow_hash(const char *dir, const char *src, const char *dst)
{
	const char *parts[3] = { dir, src, dst };
	uint64_t h = 0xcbf29ce484222325ull;

	for (int k = 0; k < 3; k++) {
		for (const unsigned char *c = (const unsigned char *)parts[k]; *c; c++)
			h = (h ^ *c) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull;	/* separator */
	}
	return h;
}

static void flow_slots_grow(struct tl_data *d)
{
	size_t n = d->nslots ? 2 * d->nslots : 64;
	size_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		fail(EXIT_FAIL, "out of memory");
	for (size_t k = 0; k < d->nflows; k++) {
		const struct tl_flow *f = &d->flows[k];
		size_t i = flow_hash(f->dir, f->src, f->dst) & (n - 1);

		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = k + 1;
	}
	free(d->flow_slots);
	d->flow_slots = slots;
	d->nslots = n;
}

/* The flow a line belongs to, added on first sight. */
static size_t flow_of(struct tl_data *d, const struct line_ctx *c, const struct json_object *o)
{
	const struct json_member *m = need(c, o, "dir");
	const char *dir = get_string(c, m), *src = "", *dst = "";
	char *nsrc, *ndst;
	size_t i, k;

	if (strcmp(dir, "rx") && strcmp(dir, "tx"))
		bad_line(c, "\"dir\" must be \"rx\" or \"tx\", not \"%.20s\"", dir);
	if ((m = opt(o, "src")))
		src = get_string(c, m);
	if ((m = opt(o, "dst")))
		dst = get_string(c, m);
	nsrc = tl_normalise_endpoint(src);
	ndst = tl_normalise_endpoint(dst);
	if (!nsrc || !ndst)
		fail(EXIT_FAIL, "out of memory");
	if (2 * (d->nflows + 1) > d->nslots)
		flow_slots_grow(d);
	for (i = flow_hash(dir, nsrc, ndst) & (d->nslots - 1); d->flow_slots[i];
	     i = (i + 1) & (d->nslots - 1)) {
		k = d->flow_slots[i] - 1;
		if (!strcmp(d->flows[k].dir, dir) && !strcmp(d->flows[k].src, nsrc) &&
		    !strcmp(d->flows[k].dst, ndst)) {
			free(nsrc);
			free(ndst);
			return k;
		}
	}
	k = d->nflows;
	d->flow_slots[i] = k + 1;
	if (d->nflows == d->flows_cap) {
		size_t cap = d->flows_cap ? 2 * d->flows_cap : 8;
		struct tl_flow *f = realloc(d->flows, cap * sizeof(*f));

		if (!f)
			fail(EXIT_FAIL, "out of memory");
		d->flows = f;
		d->flows_cap = cap;
	}
	memset(&d->flows[k], 0, sizeof(d->flows[k]));
	snprintf(d->flows[k].dir, sizeof(d->flows[k].dir), "%s", dir);
	d->flows[k].src = nsrc;
	d->flows[k].dst = ndst;
	d->nflows++;
	return k;
}

static bool flow_selected(const struct tl_flow *f, const struct tl_select *sel)
{
	if (sel->dir && strcmp(f->dir, sel->dir))
		return false;
	if (sel->flow_src && (strcmp(f->src, sel->flow_src) || strcmp(f->dst, sel->flow_dst)))
		return false;
	return true;
}

/* Does [seq, seq + len) reach into the chosen seq range?  Wrap-safe: u32
 * differences read as signed. */
static bool in_seq_range(const struct tl_seg *s, const struct tl_select *sel)
{
	if (sel->has_seq_from && (int32_t)(s->seq + s->len - sel->seq_from) <= 0 &&
	    (int32_t)(s->seq - sel->seq_from) < 0)
		return false;
	if (sel->has_seq_to && (int32_t)(s->seq - sel->seq_to) >= 0)
		return false;
	return true;
}

void tl_read(FILE *in, const char *name, const struct tl_select *sel, struct tl_data *d)
{
	struct line_ctx c = { .file = name };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(d, 0, sizeof(*d));
	d->chosen = -1;
	d->segs = calloc(sel->count, sizeof(*d->segs));
	if (!d->segs)
		fail(EXIT_FAIL, "out of memory");
	while ((n = getline(&line, &cap, in)) > 0) {
		struct json_object o;
		struct tl_seg seg;
		char why[160];
		size_t f;

		c.line++;
		if (strlen(line) != (size_t)n)
			bad_line(&c, "NUL byte in line");
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;	/* columns in messages count the line's own text */
		if (!line[strspn(line, " \t")])
			continue;	/* blank lines (e.g. an editor's) carry nothing */
		if (!json_line_parse(line, &o, why, sizeof(why)))
			bad_line(&c, "%s", why);
		f = flow_of(d, &c, &o);
		parse_seg(&c, &o, &seg);
		json_object_free(&o);
		d->flows[f].nsegs++;
		if (!flow_selected(&d->flows[f], sel))
			goto drop;
		if (d->chosen < 0)
			d->chosen = f;
		if ((size_t)d->chosen != f)
			goto drop;
		d->nmatched++;
		if (seg.index < sel->from) {
			d->before_from++;
			goto drop;
		}
		if (!in_seq_range(&seg, sel)) {
			d->outside_seq++;
			goto drop;
		}
		if (!seg.len && seg.resync == TL_RESYNC_NONE) {
			/* ACKs and the like: no bytes, nothing to show */
			d->no_payload++;
			goto drop;
		}
		if (d->nsegs == sel->count) {
			d->more++;
			goto drop;
		}
		d->segs[d->nsegs++] = seg;
		continue;
drop:
		free(seg.hdrs);
	}
	if (ferror(in))
		fail(EXIT_FAIL, "reading %s: %m", name);
	free(line);
	d->lines = c.line;
}

void tl_data_free(struct tl_data *d)
{
	for (size_t k = 0; k < d->nsegs; k++)
		free(d->segs[k].hdrs);
	for (size_t k = 0; k < d->nflows; k++) {
		free(d->flows[k].src);
		free(d->flows[k].dst);
	}
	free(d->segs);
	free(d->flows);
	free(d->flow_slots);
	memset(d, 0, sizeof(*d));
}
