/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Parsing and printing loss specs (include/tlshim_drop.h has the grammar). */
#ifndef TLSHIM_DROP_SPEC_H
#define TLSHIM_DROP_SPEC_H

#include <stddef.h>
#include "tlshim_drop.h"

/* Parses text into *spec.  On error returns -1 and leaves one line in err
 * naming what is wrong ("random: percent must be in (0, 100]"). */
int drop_spec_parse(const char *text, struct tlshim_drop_spec *spec,
		    char *err, size_t errlen);
/* The canonical text of a spec (what parse would take back). */
void drop_spec_format(const struct tlshim_drop_spec *spec, char *buf, size_t len);

#endif
