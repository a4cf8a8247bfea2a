/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tlshim_sockseq.h - what bpf/sockseq.bpf.c (an iter/tcp program) writes for each
 * TCP socket of the reader's network namespace, read by user/sockseq.c for
 * `tlshim conn add --tcp-seq auto`.  One record per socket, written with
 * bpf_seq_write, so the iterator's file is an array of these.
 */
#ifndef TLSHIM_SOCKSEQ_H
#define TLSHIM_SOCKSEQ_H

#include <linux/types.h>

struct sockseq_rec {
	__u8 local_addr[16];	/* IPv4 as ::ffff:a.b.c.d (as v4-mapped sockets have it) */
	__u8 remote_addr[16];
	__be16 local_port;
	__be16 remote_port;
	__u16 family;		/* AF_INET or AF_INET6 */
	__u8 state;		/* TCP_ESTABLISHED = 1, ... (include/net/tcp_states.h) */
	__u8 full;		/* a full tcp_sock: the seq fields below are set */
	__u32 write_seq;	/* next byte the writer queues */
	__u32 snd_nxt;		/* next byte to send */
	__u32 snd_una;		/* first unacknowledged byte */
	__u32 rcv_nxt;		/* next byte expected from the peer */
	__u32 copied_seq;	/* next byte the reader takes */
};

#endif
