// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `tlshim timeline`: the command line; timeline_read.c reads, timeline_draw.c draws. */
#define _GNU_SOURCE	/* asprintf, strndup */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"
#include "timeline.h"

#define DEFAULT_COUNT	400
#define MAX_COUNT	10000	/* keeps the SVG a few MB at most */
#define DEFAULT_WIDTH	1100
#define MAX_TITLE	300
#define MAX_LISTED	20	/* flows named on stderr */

static void timeline_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim timeline IN.jsonl -o OUT.svg [--flow SADDR:PORT-DADDR:PORT] [--dir rx|tx]\n"
		"                       [--from I] [--count N] [--seq-from S] [--seq-to S]\n"
		"                       [--title TEXT] [--width PX]\n"
		"\n"
		"Draws per-segment verdicts (tlshim replay --verdicts, tlshim run --trace) as an SVG\n"
		"figure like those of tls-offload.rst: one row per segment in arrival order, a box\n"
		"from seq to seq+len (green decrypted/encrypted, blue passed as received, hatched\n"
		"with a red outline dropped, grey skipped), red stripes at record headers, markers\n"
		"for resync requests and confirmations, sync state changes at the right margin.\n"
		"\n"
		"  IN.jsonl         one JSON object per segment; - reads stdin\n"
		"  -o, --output F   the SVG to write (replaced whole); - writes stdout\n"
		"  --flow S-D       the flow whose src is S and dst is D, as the input spells them\n"
		"  --dir rx|tx      only that direction's flows\n"
		"                   (several flows left: the first is drawn, stderr lists them all)\n"
		"  --from I         start at the segment with index I: its \"i\" (replay), else\n"
		"                   its 0-based line number in IN (the numbers the rows show)\n"
		"  --count N        at most N rows (default %d, at most %d); the rest is counted\n"
		"  --seq-from S     only bytes from TCP seq S on; fixes the x axis' left end\n"
		"  --seq-to S       only bytes before TCP seq S; fixes the x axis' right end\n"
		"  --title TEXT     the figure's title (default: the input's name)\n"
		"  --width PX       the figure's width, 400..20000 (default %d)\n",
		DEFAULT_COUNT, MAX_COUNT, DEFAULT_WIDTH);
}

static uint32_t opt_u32(struct opt *o)
{
	uint64_t v;

	if (!parse_u64(o->value, UINT32_MAX, &v))
		usage_error(o->name, "'%s' (a TCP seq, 0..4294967295)", o->value);
	return v;
}

/* "SADDR:PORT-DADDR:PORT" (IPv6 in brackets) into normalised endpoints. */
static void parse_flow(const char *s, char **src, char **dst)
{
	const char *dash = strchr(s, '-');
	uint8_t addr[16];
	uint16_t port;
	char *a;

	if (!dash)
		usage_error("flow", "'%s' (SADDR:PORT-DADDR:PORT)", s);
	a = strndup(s, dash - s);
	if (!a)
		fail(EXIT_FAIL, "out of memory");
	if (!parse_endpoint(a, addr, &port) || !parse_endpoint(dash + 1, addr, &port))
		usage_error("flow", "'%s' (SADDR:PORT-DADDR:PORT, e.g. 10.0.0.1:443-10.0.0.2:40000)", s);
	*src = tl_normalise_endpoint(a);
	*dst = tl_normalise_endpoint(dash + 1);
	free(a);
}

static void list_flows(const struct tl_data *d, const struct tl_select *sel, const char *name)
{
	size_t matching = 0;

	for (size_t k = 0; k < d->nflows; k++)
		matching += !sel->dir || !strcmp(d->flows[k].dir, sel->dir);
	if (matching < 2 || sel->flow_src)
		return;
	fprintf(stderr, "tlshim: %s holds %zu flows%s; drawing the first (choose with --flow):\n",
		name, matching, sel->dir ? " in that direction" : "");
	for (size_t k = 0, shown = 0; k < d->nflows; k++) {
		const struct tl_flow *f = &d->flows[k];

		if (sel->dir && strcmp(f->dir, sel->dir))
			continue;
		if (shown++ == MAX_LISTED) {
			fprintf(stderr, "  ... and %zu more\n", matching - MAX_LISTED);
			break;
		}
		fprintf(stderr, "  %s %s-%s  %llu segments%s\n", f->dir, f->src, f->dst,
			(unsigned long long)f->nsegs, (int)k == d->chosen ? "  (drawn)" : "");
	}
}

/* Nothing to draw: say which filter emptied the picture. */
static void __attribute__((noreturn)) nothing_to_draw(const struct tl_data *d,
						      const struct tl_select *sel, const char *name)
{
	if (!d->nflows)
		usage_error(name, "no segments (%llu lines, none with a segment)",
			    (unsigned long long)d->lines);
	if (d->chosen < 0)
		usage_error(sel->flow_src ? "flow" : "dir", "no segment of that %s in %s (%zu flows there)",
			    sel->flow_src ? "flow" : "direction", name, d->nflows);
	if (d->before_from == d->nmatched)
		usage_error("from", "all %llu segments of the flow have an index below %llu",
			    (unsigned long long)d->nmatched, (unsigned long long)sel->from);
	if (d->outside_seq)
		usage_error(sel->has_seq_from ? "seq-from" : "seq-to",
			    "no segment of the flow reaches into that seq range "
			    "(%llu outside it)", (unsigned long long)d->outside_seq);
	usage_error(name, "no segment with payload in the flow (%llu without)",
		    (unsigned long long)d->no_payload);
}

int cmd_timeline(int argc, char **argv)
{
	struct opt opts[] = {
		{ "output", "o", true }, { "flow", NULL, true }, { "dir", NULL, true },
		{ "from", NULL, true }, { "count", NULL, true }, { "seq-from", NULL, true },
		{ "seq-to", NULL, true }, { "title", NULL, true }, { "width", NULL, true },
		{ "help", "h", false }, { 0 }
	};
	struct tl_select sel = { .count = DEFAULT_COUNT };
	struct tl_style st = { .width = DEFAULT_WIDTH };
	char *flow_src = NULL, *flow_dst = NULL, *tmp = NULL;
	const char *pos[1], *in_name, *out_name;
	struct tl_data d;
	struct opt *o;
	uint64_t v;
	FILE *in, *out;
	uint8_t dir;

	if (parse_opts(argc, argv, opts, pos, 1, "timeline") < 1 || opt_get(opts, "help")->seen) {
		if (opt_get(opts, "help")->seen) {
			timeline_usage(stdout);
			return EXIT_OK;
		}
		usage_error("arguments", "tlshim timeline IN.jsonl -o OUT.svg (see --help)");
	}
	in_name = pos[0];
	if (!(o = opt_get(opts, "output"))->seen)
		usage_error("output", "-o OUT.svg missing (see tlshim timeline --help)");
	out_name = o->value;
	if ((o = opt_get(opts, "dir"))->seen) {
		if (!parse_dir(o->value, &dir))
			usage_error("dir", "'%s' (rx or tx)", o->value);
		sel.dir = dir_name(dir);
	}
	if ((o = opt_get(opts, "flow"))->seen) {
		parse_flow(o->value, &flow_src, &flow_dst);
		sel.flow_src = flow_src;
		sel.flow_dst = flow_dst;
	}
	if ((o = opt_get(opts, "from"))->seen && !parse_u64(o->value, UINT64_MAX, &sel.from))
		usage_error("from", "'%s' (a segment index, 0 or more)", o->value);
	if ((o = opt_get(opts, "count"))->seen &&
	    (!parse_u64(o->value, MAX_COUNT, &sel.count) || !sel.count))
		usage_error("count", "'%s' (rows, 1..%d)", o->value, MAX_COUNT);
	if ((o = opt_get(opts, "seq-from"))->seen) {
		sel.seq_from = st.seq_from = opt_u32(o);
		sel.has_seq_from = st.has_seq_from = true;
	}
	if ((o = opt_get(opts, "seq-to"))->seen) {
		sel.seq_to = st.seq_to = opt_u32(o);
		sel.has_seq_to = st.has_seq_to = true;
	}
	if (sel.has_seq_from && sel.has_seq_to && (int32_t)(sel.seq_to - sel.seq_from) <= 0)
		usage_error("seq-to", "%u is not after --seq-from %u (seqs wrap at 2^32: at most "
			    "2^31-1 apart)", sel.seq_to, sel.seq_from);
	if ((o = opt_get(opts, "width"))->seen) {
		if (!parse_u64(o->value, 20000, &v) || v < 400)
			usage_error("width", "'%s' (pixels, 400..20000)", o->value);
		st.width = v;
	}
	st.title = in_name;
	if ((o = opt_get(opts, "title"))->seen) {
		if (strlen(o->value) > MAX_TITLE)
			usage_error("title", "longer than %d bytes", MAX_TITLE);
		st.title = o->value;
	}

	if (!strcmp(in_name, "-")) {
		in = stdin;
		in_name = "stdin";
	} else if (!(in = fopen(in_name, "r"))) {
		usage_error(in_name, "%s", strerror(errno));
	}
	tl_read(in, in_name, &sel, &d);
	if (in != stdin)
		fclose(in);
	if (!d.nsegs)
		nothing_to_draw(&d, &sel, in_name);
	list_flows(&d, &sel, in_name);

	/* written beside the target and renamed: a reader never sees half a
	 * figure, a failed run leaves the old one */
	if (!strcmp(out_name, "-")) {
		out = stdout;
	} else {
		if (asprintf(&tmp, "%s.tmp-%d", out_name, (int)getpid()) < 0)
			fail(EXIT_FAIL, "out of memory");
		if (!(out = fopen(tmp, "w")))
			fail(EXIT_FAIL, "cannot write %s: %s", tmp, strerror(errno));
	}
	tl_draw(out, &d, &st);
	if (out == stdout) {
		if (fflush(out))
			fail(EXIT_FAIL, "writing stdout: %s", strerror(errno));
	} else if (ferror(out) | fclose(out) || rename(tmp, out_name)) {
		int err = errno;

		unlink(tmp);
		fail(EXIT_FAIL, "cannot write %s: %s", out_name, strerror(err));
	}
	free(tmp);
	free(flow_src);
	free(flow_dst);
	tl_data_free(&d);
	return EXIT_OK;
}
