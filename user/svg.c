// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Writing standalone SVG 1.1: the document frame and escaped text. */
#define _GNU_SOURCE	/* vasprintf */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include "svg.h"
#include "utf8.h"

void svg_begin(FILE *f, int width, int height)
{
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		width, height, width, height);
}

void svg_end(FILE *f)
{
	fputs("</svg>\n", f);
}

/* Length of a UTF-8 sequence XML may hold, or 0: no C0 controls (the
 * callers escape tab and newline themselves), no U+FFFE/U+FFFF. */
static size_t xml_char_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n = utf8_decode(s, &cp);

	if (n == 1 && cp < 0x20)
		return 0;
	return cp == 0xfffe || cp == 0xffff ? 0 : n;
}

void svg_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n;

		switch (*p) {
		case '&': fputs("&amp;", f); p++; continue;
		case '<': fputs("&lt;", f); p++; continue;
		case '>': fputs("&gt;", f); p++; continue;
		case '"': fputs("&quot;", f); p++; continue;
		case '\'': fputs("&apos;", f); p++; continue;
		case '\t': case '\n': case '\r': fputc(' ', f); p++; continue;
		}
		n = xml_char_len(p);
		if (!n) {
			fputc('?', f);
			p++;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
}

void svg_text(FILE *f, double x, double y, const char *attrs, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y, attrs && *attrs ? " " : "",
		attrs ? attrs : "");
	svg_escape(f, text);
	fputs("</text>\n", f);
	free(text);
}
