/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Bench frames: Ethernet + IPv4 + TCP, no options (bench.h offsets). */
#ifndef BENCH_FRAMES_H
#define BENCH_FRAMES_H

#include <stddef.h>
#include <linux/types.h>
#include "tlshim.h"
#include "bench.h"

#define BENCH_MAX_PAYLOAD	1448	/* MSS of a 1500-byte MTU */

struct bench_frame {
	unsigned char bytes[BENCH_HDRS_LEN + BENCH_MAX_PAYLOAD];
	size_t len;
};

/* Addresses and ports in host order. */
struct bench_tuple {
	__u32 saddr, daddr;
	__u16 sport, dport;
};

void frame_build(struct bench_frame *f, const struct bench_tuple *t, __u32 seq,
		 const unsigned char *payload, size_t payload_len);
/* The flow key the device derives from such a frame. */
void flow_key(struct tlshim_flow *k, const struct bench_tuple *t, __u8 dir);

/* Ciphertext-like filler: a fixed pseudo-random sequence in which no
 * position forms a record header the device would accept, so a stream
 * scan finds nothing and has to look at every byte. */
void fill_ciphertext(unsigned char *p, size_t len, unsigned int seed);
/* A TLS 1.2 application-data header announcing `length` bytes. */
void tls_header(unsigned char *p, __u16 length);

#endif /* BENCH_FRAMES_H */
