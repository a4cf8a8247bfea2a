/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The TCP sequence state of a live local socket (bpf/sockseq.bpf.c). */
#ifndef TLSHIM_SOCKSEQ_USER_H
#define TLSHIM_SOCKSEQ_USER_H

#include <stdbool.h>
#include "tlshim.h"
#include "tlshim_sockseq.h"

struct sockseq {
	struct sockseq_rec sk;	/* what the iterator read, locked */
	__u32 start_seq;	/* rx: copied_seq; tx: write_seq */
};

/*
 * Finds the local socket of a connection in the caller's network namespace:
 * rx (packets from the peer SADDR:PORT to local DADDR:PORT) is the socket
 * DADDR:PORT <-> SADDR:PORT, tx the socket SADDR:PORT <-> DADDR:PORT.
 * IPv4 flows match IPv4 sockets and IPv4-mapped IPv6 sockets.  Returns 0
 * with *out filled, -ENOENT if no such socket (listening and closed sockets
 * never match: their peer is unset), or -errno if the iterator failed.
 * A request or timewait socket matches with sk.full = 0: check sk.state.
 */
int sockseq_lookup(const struct tlshim_flow *flow, struct sockseq *out);

#endif
