// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sockseq - one record (include/sockseq.h) per TCP socket of the network
 * namespace the iterator is created in, for `tlshim conn add --tcp-seq auto`
 * (user/sockseq.c).  The TCP iterator holds the socket lock of full sockets
 * while the program runs, so the sequence fields are one consistent view.
 * Request and timewait sockets have no tcp_sock: they are written with
 * full = 0 and their state, so the caller can say why it refuses.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sockseq_types.h"
#include "tlshim_sockseq.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET		2
#define AF_INET6	10

static __always_inline void map_v4(__u8 *dst, __be32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

SEC("iter/tcp")
int sockseq_dump(struct bpf_iter__tcp *it)
{
	struct sock_common___ss *skc = it->sk_common;
	struct tcp_sock___ss *tp;
	struct sockseq_rec r = {};

	if (!skc)
		return 0;
	r.family = BPF_CORE_READ(skc, skc_family);
	r.state = BPF_CORE_READ(skc, skc_state);
	r.local_port = __builtin_bswap16(BPF_CORE_READ(skc, skc_num));
	r.remote_port = BPF_CORE_READ(skc, skc_dport);
	if (r.family == AF_INET6) {
		/* whole in6_addr structs: the kernel's is a union of arrays */
		BPF_CORE_READ_INTO((struct in6_addr___ss *)r.local_addr, skc, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr___ss *)r.remote_addr, skc, skc_v6_daddr);
	} else {
		map_v4(r.local_addr, BPF_CORE_READ(skc, skc_rcv_saddr));
		map_v4(r.remote_addr, BPF_CORE_READ(skc, skc_daddr));
	}
	tp = (void *)bpf_skc_to_tcp_sock(skc);
	if (tp) {
		r.full = 1;
		r.write_seq = BPF_CORE_READ(tp, write_seq);
		r.snd_nxt = BPF_CORE_READ(tp, snd_nxt);
		r.snd_una = BPF_CORE_READ(tp, snd_una);
		r.rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
		r.copied_seq = BPF_CORE_READ(tp, copied_seq);
	}
	bpf_seq_write(it->meta->seq, &r, sizeof(r));
	return 0;
}
