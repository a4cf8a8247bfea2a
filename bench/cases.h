/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The sections of the bench, one file each. */
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include "env.h"

/* Every section adds its rows to the report; non-zero: it could not run. */
int bench_packets(struct bench_env *e);			/* packet.c */
int bench_scale(struct bench_env *e);			/* scale.c */
int bench_install(struct bench_env *e);			/* install.c */
int bench_cli(struct bench_env *e, const char *tlshim);	/* cli.c */
int bench_resync(struct bench_env *e, const char *tlshim);	/* resync.c */

/* Does the program use the map named `name`?  How the bench tells which
 * parts of the device this build has (resync scan, TX record log). */
bool prog_uses_map(int prog_fd, const char *name);

/* A flow installed the way tls_dev_add does, in sync at `seq`.  */
int install_conn(struct bench_env *e, const struct tlshim_flow *k, __u32 seq);

#endif /* BENCH_CASES_H */
