// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include "frames.h"

void frame_build(struct bench_frame *f, const struct bench_tuple *t, __u32 seq,
		 const unsigned char *payload, size_t payload_len)
{
	struct ethhdr *eth = (void *)f->bytes;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);

	memset(f, 0, sizeof(*f));
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*tcp) + payload_len);
	ip->saddr = htonl(t->saddr);
	ip->daddr = htonl(t->daddr);
	tcp->source = htons(t->sport);
	tcp->dest = htons(t->dport);
	tcp->seq = htonl(seq);
	tcp->doff = 5;
	tcp->ack = 1;
	tcp->psh = 1;
	memcpy(f->bytes + BENCH_HDRS_LEN, payload, payload_len);
	f->len = BENCH_HDRS_LEN + payload_len;
}

void flow_key(struct tlshim_flow *k, const struct bench_tuple *t, __u8 dir)
{
	__u32 s = htonl(t->saddr), d = htonl(t->daddr);

	memset(k, 0, sizeof(*k));
	k->saddr[10] = k->saddr[11] = 0xff;
	k->daddr[10] = k->daddr[11] = 0xff;
	memcpy(&k->saddr[12], &s, 4);
	memcpy(&k->daddr[12], &d, 4);
	k->sport = htons(t->sport);
	k->dport = htons(t->dport);
	k->dir = dir;
}

static int looks_like_header(const unsigned char *p)
{
	unsigned int len = p[3] << 8 | p[4];

	return p[0] >= TLS_CT_CHANGE_CIPHER_SPEC && p[0] <= TLS_CT_APPLICATION_DATA &&
	       p[1] == 0x03 && p[2] == 0x03 && len >= 16 && len <= TLS_MAX_PAYLOAD_SIZE + 256;
}

void fill_ciphertext(unsigned char *p, size_t len, unsigned int seed)
{
	__u32 x = seed ? seed : 0x9e3779b9u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x >> 24;
	}
	for (size_t i = 0; i + TLS_HEADER_SIZE <= len; i++)
		if (looks_like_header(p + i))
			p[i] ^= 0x80;	/* out of the content-type range */
}

void tls_header(unsigned char *p, __u16 length)
{
	p[0] = TLS_CT_APPLICATION_DATA;
	p[1] = TLS_WIRE_VERSION >> 8;
	p[2] = TLS_WIRE_VERSION & 0xff;
	p[3] = length >> 8;
	p[4] = length & 0xff;
}
