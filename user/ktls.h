/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kTLS half of the loader: hooks on the kernel's kTLS setup install
 * connections on the device as tls_dev_add would, remove them at close, and
 * log the kernel parser's record starts into tlshim_rec_log (the resync
 * oracle).  Shaped for an event loop: ktls_start() loads and attaches and
 * installs the kTLS sockets that already exist; poll ktls_fd() and call
 * ktls_process() when it is readable; ktls_stop() detaches and removes
 * what it installed.
 */
#ifndef TLSHIM_USER_KTLS_H
#define TLSHIM_USER_KTLS_H

#include <stdbool.h>
#include <stdio.h>
#include "common.h"

struct ktls;

struct ktls_opts {
	bool kprobe;		/* force the kprobe set (default: fentry, kprobe fallback) */
	bool no_existing;	/* do not look for kTLS sockets that exist already */
	FILE *log;		/* one line per event; NULL: quiet */
};

/* NULL on failure, with a one-line reason in err. */
struct ktls *ktls_start(const struct device_maps *m, const struct ktls_opts *opts,
			char *err, size_t errlen);
/* "fentry" or "kprobe": which hook set is attached. */
const char *ktls_hook_kind(const struct ktls *k);
int ktls_fd(const struct ktls *k);
/* Handles pending events; waits at most timeout_ms for one.  <0 on error. */
int ktls_process(struct ktls *k, int timeout_ms);
/* Detaches, removes the connections this instance installed. */
void ktls_stop(struct ktls *k);

#endif /* TLSHIM_USER_KTLS_H */
