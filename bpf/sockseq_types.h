/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel types bpf/sockseq.bpf.c reads, with only the fields used
 * (the pattern of bpf/ktls_types.h): preserve_access_index turns every
 * access into a CO-RE relocation against the running kernel's BTF, so the
 * object works on Debian 12's 6.1 and current kernels without vmlinux.h.
 * Suffixed names (___ss) keep these apart from any header's types;
 * libbpf ignores the suffix when matching kernel types.
 */
#ifndef TLSHIM_SOCKSEQ_TYPES_H
#define TLSHIM_SOCKSEQ_TYPES_H

#include <linux/types.h>

#define __pai __attribute__((preserve_access_index))

struct in6_addr___ss { __u8 s6_addr[16]; };

struct sock_common___ss {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;			/* local port, host order */
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr___ss skc_v6_daddr;
	struct in6_addr___ss skc_v6_rcv_saddr;
} __pai;

struct tcp_sock___ss {
	__u32 rcv_nxt;
	__u32 copied_seq;
	__u32 snd_nxt;
	__u32 snd_una;
	__u32 write_seq;
} __pai;

struct bpf_iter_meta___ss { void *seq; } __pai;
struct bpf_iter__tcp {
	struct bpf_iter_meta___ss *meta;
	struct sock_common___ss *sk_common;
} __pai;

#endif
