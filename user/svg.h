/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Writing standalone SVG 1.1: the document frame and escaped text. */
#ifndef TLSHIM_SVG_H
#define TLSHIM_SVG_H

#include <stdio.h>

/* The XML declaration and the <svg> root with xmlns, width, height, viewBox. */
void svg_begin(FILE *f, int width, int height);
void svg_end(FILE *f);
/* Any text as XML character data or attribute value: & < > " ' become
 * entities; bytes XML 1.0 cannot hold (controls, invalid UTF-8,
 * U+FFFE/U+FFFF) become '?'; tab and newlines become spaces. */
void svg_escape(FILE *f, const char *s);
/* <text x=".." y=".." ATTRS>escaped printf text</text> */
void svg_text(FILE *f, double x, double y, const char *attrs, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif /* TLSHIM_SVG_H */
