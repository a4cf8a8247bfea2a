// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `tlshim timeline`'s picture, in the style of tls-offload.rst's figures:
 * one row per segment in arrival order, each a box from seq to seq + len
 * (green: the device decrypted or encrypted it, blue: passed as received),
 * red stripes where records start, markers where the device asked the
 * kernel to resync and where the kernel confirmed, the sync state at the
 * right margin.
 */
#define _GNU_SOURCE	/* asprintf */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "svg.h"
#include "timeline.h"

/* Layout (px).  Fonts are sized for reading the figure at 100%. */
#define MARGIN_LEFT	80	/* row labels and the y axis label */
#define MARGIN_RIGHT	150	/* state labels */
#define PAD		6	/* between the frame and the data */
#define TITLE_Y		30
#define SUBTITLE_Y	50
#define PLOT_TOP	70
#define TOP_TICKS	24	/* extra room for tick labels above tall plots */
#define LEGEND_LINE	21
#define STATE_GAP	13	/* state labels at least this far apart */
/* Plot height the rows share; rows are 4..24 px. */
#define ROWS_HEIGHT	540.0
#define ROW_MIN		4.0
#define ROW_MAX		24.0

static const char style[] =
	"<style type=\"text/css\"><![CDATA[\n"
	"text{font-family:'DejaVu Sans','Liberation Sans',Helvetica,Arial,sans-serif;fill:#222}\n"
	".title{font-size:18px;font-weight:bold}\n"
	".subtitle,.note{font-size:12px;fill:#555}\n"
	".note{font-style:italic}\n"
	".axis{font-size:13px}\n"
	".tick,.row{font-size:11px;fill:#444}\n"
	".legend{font-size:12px}\n"
	".label{font-size:11px;fill:#333}\n"
	".state{font-size:12px;font-weight:bold}\n"
	".st-good{fill:#2e7d32}.st-bad{fill:#c62828}.st-busy{fill:#e65100}.st-other{fill:#555}\n"
	".seg,.key{stroke-width:1}\n"
	".decrypted,.encrypted{fill:#5cb85c;stroke:#2e7d32}\n"
	".passed{fill:#4a90d9;stroke:#1f5fa8}\n"
	".dropped{fill:url(#hatch);stroke:#d62728;stroke-width:1.5}\n"
	".skipped{fill:#e0e0e0;stroke:#9e9e9e}\n"
	".hdr{stroke:#d62728;stroke-width:2.5}\n"
	".dump{stroke:#8e44ad;stroke-width:2;stroke-dasharray:3,2}\n"
	".request{fill:#ff8c00;stroke:#a65400}\n"
	".confirmed{fill:#2e7d32;stroke:#173f19}\n"
	".phase{stroke:#777;stroke-width:0.8;stroke-dasharray:5,3}\n"
	".leader{stroke:#999;stroke-width:0.8}\n"
	".grid{stroke:#e6e6e6}\n"
	".frame{fill:none;stroke:#888}\n"
	"]]></style>\n"
	"<defs><pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
	"patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f0f0f0\"/>"
	"<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#a0a0a0\" stroke-width=\"2.5\"/>"
	"</pattern></defs>\n";

/* Where everything goes, worked out before the first byte is written
 * (the height depends on the state labels and the legend). */
struct layout {
	int width, height;
	double x0, x1, y0, y1;		/* the plot frame */
	double row_h, box_h;
	bool top_ticks;
	uint32_t ref;			/* seq that rel() measures from */
	int64_t lo, hi;			/* x range, relative to ref */
	double xs;			/* px per byte */
	int64_t step;			/* between ticks */
	double *state_y;		/* per row: its state label's baseline, or NAN */
	double legend_y;
	size_t legend_cols;		/* a grid: entries left to right, then down */
	double legend_colw;
};

static int64_t rel(const struct layout *l, uint32_t seq)
{
	return (int32_t)(seq - l->ref);
}

static double xpos(const struct layout *l, int64_t r)
{
	return l->x0 + PAD + (double)(r - l->lo) * l->xs;
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static const char *state_class(const char *state)
{
	if (!strcmp(state, "in-sync"))
		return "st-good";
	if (!strcmp(state, "lost"))
		return "st-bad";
	if (!strcmp(state, "scanning") || !strcmp(state, "tracking") || !strcmp(state, "requested"))
		return "st-busy";
	return "st-other";
}

/* Does row r start a new sync state (the first row shows where we are)? */
static bool state_changes(const struct tl_data *d, size_t r, const char **prev)
{
	const char *s = d->segs[r].state;

	if (!*s)
		return false;
	if (*prev && !strcmp(*prev, s))
		return false;
	*prev = s;
	return true;
}

/* 1, 2 or 5 times a power of ten, at least raw. */
static int64_t nice_step(double raw)
{
	double mag;

	if (raw <= 1)
		return 1;
	mag = pow(10, floor(log10(raw)));
	for (int m = 1; m <= 10; m = m == 1 ? 2 : m == 2 ? 5 : 10)
		if (m * mag >= raw)
			return (int64_t)(m * mag);
	return (int64_t)(10 * mag);
}

/* Legend entries: what the picture actually uses. */
struct key {
	const char *kind;	/* a verdict class, "hdr", "dump", "request", "confirmed", "state" */
	const char *text;
};

static size_t legend_keys(const struct tl_data *d, struct key *k)
{
	bool used[TL_NVERDICTS] = { 0 }, hdr = false, dump = false, req = false, conf = false,
	     state = false;
	bool tx = d->chosen >= 0 && !strcmp(d->flows[d->chosen].dir, "tx");
	size_t n = 0;

	for (size_t r = 0; r < d->nsegs; r++) {
		const struct tl_seg *s = &d->segs[r];

		used[s->verdict] |= s->len > 0;
		hdr |= s->nhdrs > 0;
		dump |= s->dump_bytes > 0;
		req |= s->resync == TL_RESYNC_REQUEST;
		conf |= s->resync == TL_RESYNC_CONFIRMED;
		state |= s->state[0] != 0;
	}
	if (used[TL_DECRYPTED])
		k[n++] = (struct key){ "decrypted", "decrypted by the device" };
	if (used[TL_ENCRYPTED])
		k[n++] = (struct key){ "encrypted", "encrypted by the device" };
	if (used[TL_PASSED])
		k[n++] = (struct key){ "passed", tx ? "sent as is (not encrypted)"
						    : "passed as received (not decrypted)" };
	if (used[TL_DROPPED])
		k[n++] = (struct key){ "dropped", "dropped (injected loss or NIC drop)" };
	if (used[TL_SKIPPED])
		k[n++] = (struct key){ "skipped", "skipped" };
	if (hdr)
		k[n++] = (struct key){ "hdr", "TLS record header" };
	if (dump)
		k[n++] = (struct key){ "dump", "record prefix replayed (tx resync)" };
	if (req)
		k[n++] = (struct key){ "request", "resync request (device asks the kernel)" };
	if (conf)
		k[n++] = (struct key){ "confirmed", "resync confirmed (kernel answers)" };
	if (state)
		k[n++] = (struct key){ "state", "sync state from that row on" };
	return n;
}

/* Width of a legend entry: swatch, gap, text at ~6.6 px a character
 * (DejaVu Sans at 12 px; other fonts are narrower), gap to the next. */
static double key_text_x(const struct key *k)
{
	return strcmp(k->kind, "state") ? 34 : 68;	/* a word, not a swatch */
}

static double key_width(const struct key *k)
{
	return key_text_x(k) + 6.6 * strlen(k->text) + 24;
}

static void plan(const struct tl_data *d, const struct tl_style *st, struct layout *l)
{
	size_t rows = d->nsegs;
	double last_label = -1e9, bottom;
	struct key keys[16];
	size_t nkeys = legend_keys(d, keys);
	const char *prev = NULL;
	bool first = true;

	memset(l, 0, sizeof(*l));
	l->width = st->width;
	l->x0 = MARGIN_LEFT;
	l->x1 = st->width - MARGIN_RIGHT;
	l->row_h = clampd(ROWS_HEIGHT / (rows ? rows : 1), ROW_MIN, ROW_MAX);
	l->box_h = l->row_h >= 8 ? l->row_h * 0.62 : l->row_h - 1;
	l->top_ticks = rows * l->row_h > 400;
	l->y0 = PLOT_TOP + (l->top_ticks ? TOP_TICKS : 0);
	l->y1 = l->y0 + rows * l->row_h;

	/* x range: every byte, header and replayed prefix drawn, unless the
	 * user fixed it with --seq-from/--seq-to */
	l->ref = st->has_seq_from ? st->seq_from : rows ? d->segs[0].seq : 0;
	for (size_t r = 0; r < rows; r++) {
		const struct tl_seg *s = &d->segs[r];
		int64_t a = rel(l, s->seq) - s->dump_bytes, b = rel(l, s->seq) + s->len;

		for (size_t h = 0; h < s->nhdrs; h++) {
			int64_t hr = rel(l, s->hdrs[h]);

			a = hr < a ? hr : a;
			b = hr + 1 > b ? hr + 1 : b;
		}
		if (first || a < l->lo)
			l->lo = a;
		if (first || b > l->hi)
			l->hi = b;
		first = false;
	}
	if (st->has_seq_from)
		l->lo = 0;
	if (st->has_seq_to)
		l->hi = rel(l, st->seq_to);
	if (l->hi <= l->lo)
		l->hi = l->lo + 1;
	l->xs = (l->x1 - l->x0 - 2 * PAD) / (double)(l->hi - l->lo);
	l->step = nice_step((l->hi - l->lo) / fmax(2, (l->x1 - l->x0) / 95));

	/* state labels: beside their row, pushed down to stay apart */
	l->state_y = calloc(rows ? rows : 1, sizeof(double));
	for (size_t r = 0; r < rows; r++) {
		double want = l->y0 + (r + 0.5) * l->row_h + 4;

		l->state_y[r] = NAN;
		if (!state_changes(d, r, &prev))
			continue;
		l->state_y[r] = fmax(want, last_label + STATE_GAP);
		last_label = l->state_y[r];
	}

	bottom = fmax(l->y1, last_label) + 16 + 22;	/* tick labels, axis label */
	if (d->more || d->no_payload || d->before_from || d->outside_seq)
		bottom += 18;
	l->legend_y = bottom + 24;
	for (size_t k = 0; k < nkeys; k++)
		l->legend_colw = fmax(l->legend_colw, key_width(&keys[k]));
	l->legend_cols = (size_t)fmax(1, floor((st->width - 20 - l->x0) / l->legend_colw));
	l->height = (int)ceil(l->legend_y + (nkeys + l->legend_cols - 1) / l->legend_cols * LEGEND_LINE);
}

static void draw_axes(FILE *f, const struct tl_data *d, const struct layout *l)
{
	size_t rows = d->nsegs;
	size_t every = (size_t)ceil(13.0 / l->row_h);
	double fs = l->row_h >= 11 ? 11 : 9.5;

	/* grid and tick labels: bytes from the left edge of the data */
	for (int64_t v = 0; v <= l->hi - l->lo; v += l->step) {
		double x = xpos(l, l->lo + v);

		fprintf(f, "<g class=\"xtick\"><line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
			"x2=\"%.1f\" y2=\"%.1f\"/>", x, l->y0, x, l->y1);
		svg_text(f, x, l->y1 + 15, "class=\"tick\" text-anchor=\"middle\"", "%lld",
			 (long long)v);
		fputs("</g>\n", f);
		if (l->top_ticks)
			svg_text(f, x, l->y0 - 6, "class=\"tick\" text-anchor=\"middle\"", "%lld",
				 (long long)v);
	}
	fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
		l->x0, l->y0, l->x1 - l->x0, l->y1 - l->y0);
	svg_text(f, (l->x0 + l->x1) / 2, l->y1 + 36, "class=\"axis\" text-anchor=\"middle\"",
		 "TCP sequence (bytes from start; start = seq %u)",
		 (uint32_t)(l->ref + (uint32_t)l->lo));

	/* arrival order: the segment's index, on every row there is room for */
	for (size_t r = 0; r < rows; r += every) {
		char attrs[64];

		snprintf(attrs, sizeof(attrs), "class=\"row\" text-anchor=\"end\" style=\"font-size:%gpx\"",
			 fs);
		svg_text(f, l->x0 - 6, l->y0 + (r + 0.5) * l->row_h + fs * 0.36, attrs, "#%llu",
			 (unsigned long long)d->segs[r].index);
	}
	/* as long as the plot is tall: a short plot gets the short label
	 * (the rows' #N say the rest), a tiny one none */
	if (l->y1 - l->y0 >= 120)
		fprintf(f, "<text class=\"axis\" text-anchor=\"middle\" transform=\"translate(18 %.1f) "
			"rotate(-90)\">arrival order%s &#8594;</text>\n", (l->y0 + l->y1) / 2,
			l->y1 - l->y0 >= 260 ? " (segment index)" : "");
}

/* A resync marker at (x, y) with its label where there is room. */
static void draw_marker(FILE *f, const struct layout *l, const struct tl_seg *s,
			double box_x, double x, double y)
{
	/* rare and important: never smaller than 10 px, even over neighbours */
	double m = fmax(5, fmin(l->row_h * 0.9, 13) / 2);
	const char *text = s->resync == TL_RESYNC_REQUEST ? "resync request" : "resync confirmed";
	double tw = 6.2 * strlen(text);

	if (s->resync == TL_RESYNC_REQUEST)	/* a triangle pointing at the row */
		fprintf(f, "<path class=\"mark request\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fz\"/>\n",
			x - m, y - m * 0.85, x + m, y - m * 0.85, x, y + m);
	else					/* a diamond */
		fprintf(f, "<path class=\"mark confirmed\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fz\"/>\n",
			x, y - m, x + m, y, x, y + m, x - m, y);
	if (x + m + 4 + tw <= l->x1)
		svg_text(f, x + m + 4, y + 4, "class=\"label\"", "%s", text);
	else if (box_x - 5 - tw >= l->x0)
		svg_text(f, box_x - 5, y + 4, "class=\"label\" text-anchor=\"end\"", "%s", text);
}

static void draw_row(FILE *f, const struct tl_data *d, const struct layout *l, size_t r)
{
	const struct tl_seg *s = &d->segs[r];
	double y = l->y0 + r * l->row_h, by = y + (l->row_h - l->box_h) / 2;
	double cy = y + l->row_h / 2;
	double left = l->x0 + PAD, right = l->x1 - PAD;
	double bx = clampd(xpos(l, rel(l, s->seq)), left, right);
	double bx2 = clampd(xpos(l, rel(l, s->seq) + s->len), left, right);

	if (!isnan(l->state_y[r])) {
		double ly = l->state_y[r];

		/* a dashed line where the new state begins; a leader if the
		 * label had to move down, clear of the one above */
		if (r)
			fprintf(f, "<line class=\"phase\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
				l->x0, y, l->x1 + 5, y);
		if (ly > cy + 4.5)
			fprintf(f, "<line class=\"leader\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
				l->x1 + 1, cy, l->x1 + 9, ly - 4);
		fprintf(f, "<text class=\"state %s\" x=\"%.1f\" y=\"%.1f\">", state_class(s->state),
			l->x1 + 11, ly);
		svg_escape(f, s->state);
		fputs("</text>\n", f);
	}
	if (s->dump_bytes)
		fprintf(f, "<line class=\"dump\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			clampd(xpos(l, rel(l, s->seq) - s->dump_bytes), left, right), cy, bx, cy);
	if (s->len) {
		char *tip = NULL;

		/* tiny segments stay visible */
		if (bx2 - bx < 1.5)
			bx2 = bx + 1.5;
		fprintf(f, "<rect class=\"seg %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">",
			tl_verdict_class(s->verdict), bx, by, bx2 - bx, l->box_h);
		if (asprintf(&tip, "#%llu seq %u len %u: %s%s%s%s%s%s%s", (unsigned long long)s->index,
			     s->seq, s->len, s->raw_verdict, s->injected ? " (injected loss)" : "",
			     s->reason[0] ? ", reason " : "", s->reason, s->state[0] ? ", " : "",
			     s->state, s->has_rec_sn ? ", rec_sn " : "") >= 0) {
			fputs("<title>", f);
			svg_escape(f, tip);
			if (s->has_rec_sn)
				fprintf(f, "%llu", (unsigned long long)s->rec_sn);
			fputs("</title>", f);
			free(tip);
		}
		fputs("</rect>\n", f);
	}
	for (size_t h = 0; h < s->nhdrs; h++) {
		int64_t hr = rel(l, s->hdrs[h]);
		double hx = xpos(l, hr);

		if (hr < l->lo || hr >= l->hi)
			continue;	/* outside --seq-from/--seq-to */
		fprintf(f, "<line class=\"hdr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			hx, by - 2, hx, by + l->box_h + 2);
	}
	if (s->resync != TL_RESYNC_NONE)
		draw_marker(f, l, s, bx, (s->len ? bx2 : bx) + 7.5, cy);
}

/* The legend's example of a state label: the first state drawn. */
static void draw_state_sample(FILE *f, const struct tl_data *d, double x, double y)
{
	for (size_t r = 0; r < d->nsegs; r++) {
		const char *st = d->segs[r].state;

		if (!*st)
			continue;
		fprintf(f, "<text class=\"key %s\" style=\"font-weight:bold;font-size:12px\" "
			"x=\"%.1f\" y=\"%.1f\">", state_class(st), x, y);
		/* long names would run into the explanation */
		svg_escape(f, strlen(st) > 8 ? "state" : st);
		fputs("</text>\n", f);
		return;
	}
}

static void draw_legend(FILE *f, const struct tl_data *d, const struct layout *l)
{
	struct key keys[16];
	size_t n = legend_keys(d, keys);

	fputs("<g class=\"legend\">\n", f);
	for (size_t k = 0; k < n; k++) {
		double y = l->legend_y + (double)(k / l->legend_cols) * LEGEND_LINE, sy = y - 10;
		double sx = l->x0 + (double)(k % l->legend_cols) * l->legend_colw;

		if (!strcmp(keys[k].kind, "hdr"))
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"26\" height=\"12\" "
				"fill=\"none\" stroke=\"#bbb\"/><line class=\"key hdr\" x1=\"%.1f\" y1=\"%.1f\" "
				"x2=\"%.1f\" y2=\"%.1f\"/>\n", sx, sy, sx + 13, sy - 2, sx + 13, sy + 14);
		else if (!strcmp(keys[k].kind, "dump"))
			fprintf(f, "<line class=\"key dump\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
				sx, sy + 6, sx + 26, sy + 6);
		else if (!strcmp(keys[k].kind, "request"))
			fprintf(f, "<path class=\"key request\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fz\"/>\n",
				sx + 6, sy + 1, sx + 20, sy + 1, sx + 13, sy + 13);
		else if (!strcmp(keys[k].kind, "confirmed"))
			fprintf(f, "<path class=\"key confirmed\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fz\"/>\n",
				sx + 13, sy - 1, sx + 20, sy + 6, sx + 13, sy + 13, sx + 6, sy + 6);
		else if (!strcmp(keys[k].kind, "state"))
			draw_state_sample(f, d, sx, y);
		else
			fprintf(f, "<rect class=\"key %s\" x=\"%.1f\" y=\"%.1f\" width=\"26\" height=\"12\"/>\n",
				keys[k].kind, sx, sy);
		svg_text(f, sx + key_text_x(&keys[k]), y, "class=\"legend\"", "%s", keys[k].text);
	}
	fputs("</g>\n", f);
}

/* One line of what was left out, if anything was. */
static void draw_note(FILE *f, const struct tl_data *d, const struct layout *l)
{
	char note[512] = "";
	size_t n = 0;

	if (d->more)
		n += snprintf(note + n, sizeof(note) - n, "%llu more segments not shown (--from, --count)",
			      (unsigned long long)d->more);
	if (d->before_from)
		n += snprintf(note + n, sizeof(note) - n, "%s%llu before --from", n ? "; " : "",
			      (unsigned long long)d->before_from);
	if (d->outside_seq)
		n += snprintf(note + n, sizeof(note) - n, "%s%llu outside --seq-from/--seq-to",
			      n ? "; " : "", (unsigned long long)d->outside_seq);
	if (d->no_payload)
		snprintf(note + n, sizeof(note) - n, "%s%llu without payload (ACKs) not drawn",
			 n ? "; " : "", (unsigned long long)d->no_payload);
	if (note[0])
		svg_text(f, l->x0, l->legend_y - 30, "class=\"note\"", "%s", note);
}

void tl_draw(FILE *f, const struct tl_data *d, const struct tl_style *st)
{
	const struct tl_flow *fl = &d->flows[d->chosen];
	struct layout l;

	plan(d, st, &l);
	svg_begin(f, l.width, l.height);
	fputs(style, f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", l.width, l.height);
	svg_text(f, l.x0, TITLE_Y, "class=\"title\"", "%s", st->title);
	svg_text(f, l.x0, SUBTITLE_Y, "class=\"subtitle\"", "%s %s%s%s \xc2\xb7 segments #%llu to #%llu "
		 "(%zu drawn of %llu in this flow)", fl->dir, fl->src[0] ? fl->src : "(no addresses)",
		 fl->src[0] || fl->dst[0] ? " \xe2\x86\x92 " : "", fl->dst,
		 (unsigned long long)d->segs[0].index,
		 (unsigned long long)d->segs[d->nsegs - 1].index, d->nsegs,
		 (unsigned long long)d->nmatched);
	draw_axes(f, d, &l);
	for (size_t r = 0; r < d->nsegs; r++)
		draw_row(f, d, &l, r);
	draw_note(f, d, &l);
	draw_legend(f, d, &l);
	svg_end(f);
	free(l.state_y);
}
