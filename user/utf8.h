/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* UTF-8 validation shared by the JSON line reader and the SVG writer. */
#ifndef TLSHIM_UTF8_H
#define TLSHIM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s, its code point in *cp; 0 if the
 * bytes are not valid UTF-8 (overlongs, surrogates and values above
 * U+10FFFF are not).  s must be NUL-terminated: a NUL ends any sequence. */
size_t utf8_decode(const unsigned char *s, uint32_t *cp);

#endif
