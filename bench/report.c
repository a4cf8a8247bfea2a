// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

#define MAX_ROWS 128

static struct row rows[MAX_ROWS];
static int nrows;

static const char *const section_titles[SEC_COUNT] = {
	"1. per-packet cost through BPF_PROG_RUN (ns per packet)",
	"2. scale: connection count and memory",
	"3. installation: rate and latency",
	"4. resync round trip (device request -> confirmation applied)",
	"5. end to end: TCP between two namespaces over veth",
};

struct row *row_new(int section, const char *id, const char *name, const char *unit)
{
	struct row *r;

	if (nrows == MAX_ROWS) {
		static struct row overflow;
		return &overflow;
	}
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	r->section = section;
	r->value = r->lo = r->hi = NAN;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	return r;
}

static double field_num(const char *s)
{
	return (!*s || !strcmp(s, "-") || !strcmp(s, "nan")) ? NAN : strtod(s, NULL);
}

int report_read_tsv(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fld[11] = { 0 }, *p = line;
		struct row *r;
		int n = 0;

		line[strcspn(line, "\n")] = 0;
		while (n < 11 && p) {
			fld[n++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		if (n < 11 || line[0] == '#')
			continue;
		r = row_new(atoi(fld[0]), fld[1], fld[2], fld[4]);
		r->value = field_num(fld[3]);
		r->lo = field_num(fld[5]);
		r->hi = field_num(fld[6]);
		snprintf(r->reps, sizeof(r->reps), "%s", fld[7]);
		snprintf(r->ratio, sizeof(r->ratio), "%s", fld[8]);
		snprintf(r->target, sizeof(r->target), "%s", fld[9]);
		snprintf(r->note, sizeof(r->note), "%s", fld[10]);
	}
	fclose(f);
	return 0;
}

/* Three significant digits, whatever the magnitude. */
static void fmt_num(char *buf, size_t len, double v)
{
	double a = fabs(v);

	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (a >= 1e6)
		snprintf(buf, len, "%.3g", v);
	else if (a >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

void report_print(FILE *f)
{
	for (int s = 0; s < SEC_COUNT; s++) {
		fprintf(f, "\n%s\n", section_titles[s]);
		fprintf(f, "  %-44s %9s %-7s %-19s %-26s %-22s %s\n", "case", "value", "unit",
			"spread (min..max)", "repetitions", "ratio", "target");
		for (int i = 0; i < nrows; i++) {
			const struct row *r = &rows[i];
			char v[24], lo[24], hi[24], spread[56] = "";

			if (r->section != s)
				continue;
			fmt_num(v, sizeof(v), r->value);
			if (!isnan(r->lo) && !isnan(r->hi)) {
				fmt_num(lo, sizeof(lo), r->lo);
				fmt_num(hi, sizeof(hi), r->hi);
				snprintf(spread, sizeof(spread), "%s..%s", lo, hi);
			}
			fprintf(f, "  %-44s %9s %-7s %-19s %-26s %-22s %s\n", r->name, v, r->unit,
				spread, r->reps, r->ratio, r->target);
			if (r->note[0])
				fprintf(f, "  %-44s   (%s)\n", "", r->note);
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

int report_json(const char *path, const char *const *method_notes)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs("{\n  \"method\": [", f);
	for (int i = 0; method_notes && method_notes[i]; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_str(f, method_notes[i]);
	}
	fputs("\n  ],\n  \"results\": [", f);
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		fprintf(f, "%s\n    {\"section\": %d, \"id\": ", i ? "," : "", r->section + 1);
		json_str(f, r->id);
		fputs(", \"case\": ", f);
		json_str(f, r->name);
		fputs(", \"value\": ", f);
		json_num(f, r->value);
		fputs(", \"unit\": ", f);
		json_str(f, r->unit);
		fputs(", \"min\": ", f);
		json_num(f, r->lo);
		fputs(", \"max\": ", f);
		json_num(f, r->hi);
		fputs(", \"repetitions\": ", f);
		json_str(f, r->reps);
		fputs(", \"ratio\": ", f);
		json_str(f, r->ratio);
		fputs(", \"target\": ", f);
		json_str(f, r->target);
		fputs(", \"note\": ", f);
		json_str(f, r->note);
		fputs("}", f);
	}
	fputs("\n  ]\n}\n", f);
	return fclose(f);
}

void target_max(struct row *r, const char *what, double value, double limit, const char *fmt)
{
	char v[24], l[24];

	snprintf(v, sizeof(v), fmt, value);
	snprintf(l, sizeof(l), fmt, limit);
	if (isnan(value))
		snprintf(r->target, sizeof(r->target), "%s <= %s: not measured", what, l);
	else if (value <= limit)
		snprintf(r->target, sizeof(r->target), "%s <= %s: met (%s)", what, l, v);
	else
		snprintf(r->target, sizeof(r->target), "%s <= %s: MISSED (%s, %.1fx over)",
			 what, l, v, value / limit);
}

void target_min(struct row *r, const char *what, double value, double limit, const char *fmt)
{
	char v[24], l[24];

	snprintf(v, sizeof(v), fmt, value);
	snprintf(l, sizeof(l), fmt, limit);
	if (isnan(value))
		snprintf(r->target, sizeof(r->target), "%s >= %s: not measured", what, l);
	else if (value >= limit)
		snprintf(r->target, sizeof(r->target), "%s >= %s: met (%s)", what, l, v);
	else
		snprintf(r->target, sizeof(r->target), "%s >= %s: MISSED (%s, %.0f%% of it)",
			 what, l, v, 100 * value / limit);
}
