/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few kernel types the kTLS hooks read, declared here with only the
 * fields used.  preserve_access_index makes every access a CO-RE relocation
 * that libbpf resolves against the running kernel's BTF (vmlinux and the
 * tls module's), so one object works on Debian 12's 6.1 and on current
 * kernels without a generated vmlinux.h.  Where the layout changed between
 * versions, a ___flavor type describes the other shape and the code picks
 * one with bpf_core_field_exists().
 */
#ifndef TLSHIM_KTLS_TYPES_H
#define TLSHIM_KTLS_TYPES_H

#include <linux/types.h>
#include <stdbool.h>

#define __pai __attribute__((preserve_access_index))

struct ns_common { unsigned int inum; } __pai;
struct net { struct ns_common ns; } __pai;
typedef struct { struct net *net; } possible_net_t;

struct in6_addr___k { __u8 s6_addr[16]; };

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	unsigned short skc_family;
	possible_net_t skc_net;
	struct in6_addr___k skc_v6_daddr;
	struct in6_addr___k skc_v6_rcv_saddr;
} __pai;

struct bpf_prog_aux { char name[16]; } __pai;
struct bpf_prog { struct bpf_prog_aux *aux; } __pai;
struct bpf_xdp_entity { struct bpf_prog *prog; } __pai;
struct net_device {
	int ifindex;
	char name[16];
	struct bpf_xdp_entity xdp_state[3];	/* SKB, DRV, HW (since 5.9) */
} __pai;
struct dst_entry { struct net_device *dev; } __pai;

struct sock {
	struct sock_common __sk_common;
	struct dst_entry *sk_dst_cache;
} __pai;

/* inet_sport, not skc_num: a socket that went to TCP_CLOSE before close()
 * (FIN received in FIN_WAIT2: the timewait sock takes over) has released
 * its port, which zeroes inet_num (skc_num) but leaves inet_sport. */
struct inet_sock { __be16 inet_sport; } __pai;

struct tcp_ulp_ops { char name[16]; } __pai;
struct inet_connection_sock {
	const struct tcp_ulp_ops *icsk_ulp_ops;
	void *icsk_ulp_data;		/* struct tls_context * for the tls ULP */
} __pai;
struct tcp_sock {
	__u32 copied_seq;		/* next byte the reader (kTLS parser) takes */
	__u32 write_seq;		/* next byte the writer queues */
} __pai;

struct tls_prot_info {
	__u16 version;
	__u16 cipher_type;
} __pai;

/* 6.1: pointers to separately allocated buffers. */
struct cipher_context { char *rec_seq; } __pai;
/* Later kernels: arrays inside the context. */
struct cipher_context___arr { char rec_seq[8]; } __pai;

struct tls_crypto_info { __u16 version; __u16 cipher_type; } __pai;

struct list_head { struct list_head *next; } __pai;

struct tls_context {
	struct tls_prot_info prot_info;
	__u8 tx_conf:3;
	__u8 rx_conf:3;
	void *priv_ctx_tx;
	void *priv_ctx_rx;
	struct cipher_context tx;
	struct cipher_context rx;
	void *partially_sent_record;
	struct tls_crypto_info crypto_send;	/* union tls_crypto_context */
	struct tls_crypto_info crypto_recv;
} __pai;
struct tls_context___arr {
	struct cipher_context___arr tx;
	struct cipher_context___arr rx;
} __pai;

struct strp_msg { int full_len; int offset; } __pai;
struct tls_strparser {
	__u32 copy_mode:1;
	struct strp_msg stm;
} __pai;
struct tls_sw_context_rx { struct tls_strparser strp; } __pai;
/* Kernels with TLS 1.3 rekey (tls_set_sw_offload gained new_crypto_info). */
struct tls_sw_context_rx___rekey { bool key_update_pending; } __pai;
struct tls_sw_context_tx { struct list_head tx_list; } __pai;

/* iter/tcp context */
struct bpf_iter_meta { void *seq; } __pai;
struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} __pai;

/* enum tls conf values (include/net/tls.h) */
#define TLS_BASE	0
#define TLS_SW		1
#define TLS_HW		2

#endif /* TLSHIM_KTLS_TYPES_H */
