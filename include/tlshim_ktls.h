/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tlshim_ktls.h - the contract between the kTLS hooks (bpf/ktls.bpf.c,
 * build/tlshim_ktls.bpf.o) and the loader's kTLS half (user/ktls.c).
 * Plain C types only: both clang -target bpf and the host compiler include it.
 */
#ifndef TLSHIM_KTLS_H
#define TLSHIM_KTLS_H

#include <linux/types.h>
#include "tlshim.h"

enum tlshim_ktls_event_type {
	TLSHIM_KTLS_INSTALL = 1,	/* a direction turned on (tls_dev_add) */
	TLSHIM_KTLS_REMOVE = 2,		/* socket closed or rekeyed (tls_dev_del) */
	TLSHIM_KTLS_UNSETTLED = 3,	/* iterator: socket busy, its position is not exact now */
};

enum tlshim_ktls_source {
	TLSHIM_KTLS_SRC_SETSOCKOPT = 0,	/* setsockopt(SOL_TLS, TLS_TX|TLS_RX) */
	TLSHIM_KTLS_SRC_ITER = 1,	/* found by the socket iterator at startup */
	TLSHIM_KTLS_SRC_CLOSE = 2,
	TLSHIM_KTLS_SRC_REKEY = 3,	/* TLS 1.3 key update: the device cannot follow */
};

/* Raw tls12_crypto_info_* as the socket holds it: {version, cipher_type}
 * then iv/key/salt/rec_seq in the cipher's layout.  56 bytes covers
 * AES-GCM-256 and ChaCha20-Poly1305, the largest tlshim models. */
#define TLSHIM_KTLS_CRYPTO_RAW	56

/*
 * Keys travel in a slot of an array map, never in the ring buffer: ring
 * buffer pages cannot be wiped by the reader, an array slot is overwritten
 * in place with zeroes as soon as it has been copied into tlshim_keys.
 */
#define TLSHIM_KTLS_KEY_SLOTS	1024

struct tlshim_ktls_key_slot {
	__u64 ticket;			/* which event filled it (stale-slot check) */
	__u8 raw[TLSHIM_KTLS_CRYPTO_RAW];
};

struct tlshim_ktls_event {
	__u32 type;			/* enum tlshim_ktls_event_type */
	__u8 source;			/* enum tlshim_ktls_source */
	__u8 has_device;		/* the route's interface runs tlshim_rx (XDP) */
	__u8 family;			/* AF_INET or AF_INET6 */
	__u8 pad;
	struct tlshim_flow flow;
	__u32 tcp_seq;			/* rx: copied_seq, tx: write_seq (start_offload_tcp_sn) */
	__u32 netns;			/* inode of the socket's network namespace */
	__u64 rec_sn;			/* record number of the record starting at tcp_seq */
	__u64 key_ticket;		/* INSTALL: slot key_ticket % SLOTS holds crypto_info */
	__s32 ifindex;			/* the route's interface (sk_dst_cache), 0 if none */
	__u16 version;			/* TLSHIM_TLS_1_x */
	__u16 cipher;			/* TLSHIM_CIPHER_* */
	char ifname[16];
};

/* The oracle's per-socket state (hook-private map ktls_rx_track): the
 * record the kernel's parser will meet next, chained from the install
 * point by each record's length, so a record's start is right even where
 * the parser works on a copy (tls_strp copy mode, whose skb carries no
 * TCP seq). */
struct tlshim_ktls_rx_track {
	struct tlshim_flow flow;
	__u32 next_seq;			/* TCP seq where the next record starts */
	__u32 pad;
	__u64 next_rec_sn;		/* its record number */
	__u64 records;			/* records logged */
	__u64 mismatches;		/* parser's rec_seq differed from the chain (logged by kernel seq) */
};

#endif /* TLSHIM_KTLS_H */
