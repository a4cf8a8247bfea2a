/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ethernet / 802.1Q / 802.1ad / IPv4 / IPv6 / TCP parsing, shared by the XDP
 * and TC programs.  Anything it cannot parse is reported as not TCP and the
 * caller passes the packet untouched.
 */
#ifndef TLSHIM_PARSE_H
#define TLSHIM_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tlshim.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF
/* IPv6 extension headers we step over; anything else (fragment, ESP, AH...)
 * means the TCP header is not where we could safely find it. */
#define TLSHIM_MAX_IPV6_EXT	4

struct vlan_tag {
	__be16 tci;
	__be16 next_proto;
};

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;		/* 8-byte units, not counting the first 8 */
};

struct tlshim_pkt {
	struct tlshim_flow flow;	/* dir left for the caller to set */
	__u32 seq;
	__u32 ack;
	__u32 payload_off;	/* from the start of the frame */
	__u32 payload_len;	/* from the IP length: Ethernet padding excluded */
	__u8 tcp_flags;		/* byte 13 of the TCP header */
	__u8 fragment;		/* IPv4 fragment or IPv6 fragment header */
};

enum tlshim_parse_result {
	TLSHIM_PARSE_TCP = 0,
	TLSHIM_PARSE_NOT_TCP = 1,	/* not TCP, or not an L2/L3 we know */
	TLSHIM_PARSE_MALFORMED = 2,	/* claims to be TCP but does not add up */
};

static __always_inline void ipv4_mapped(__u8 *dst, __be32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

/*
 * frame_len is the length of the whole frame (for XDP with fragments it may
 * exceed data_end - data; the payload is then read with the load_bytes
 * helpers, never directly).
 */
static __always_inline int tlshim_parse(void *data, void *data_end,
					__u32 frame_len, struct tlshim_pkt *pkt)
{
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u32 l3_off, l4_off, l3_end;
	__u16 proto;
	__u8 l4proto;

	if ((void *)(eth + 1) > data_end)
		return TLSHIM_PARSE_NOT_TCP;
	proto = eth->h_proto;
	l3_off = sizeof(*eth);

	/* Up to two VLAN tags: 802.1ad outer, 802.1Q inner (QinQ). */
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_tag *vlan;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		vlan = data + l3_off;
		if ((void *)(vlan + 1) > data_end)
			return TLSHIM_PARSE_NOT_TCP;
		proto = vlan->next_proto;
		l3_off += sizeof(*vlan);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + l3_off;
		__u32 ihl, tot_len;

		if ((void *)(ip + 1) > data_end)
			return TLSHIM_PARSE_NOT_TCP;
		if (ip->protocol != IPPROTO_TCP)
			return TLSHIM_PARSE_NOT_TCP;
		if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
			pkt->fragment = 1;
			return TLSHIM_PARSE_NOT_TCP;
		}
		ihl = ip->ihl * 4;
		tot_len = bpf_ntohs(ip->tot_len);
		if (ihl < sizeof(*ip) || tot_len < ihl)
			return TLSHIM_PARSE_MALFORMED;
		ipv4_mapped(pkt->flow.saddr, ip->saddr);
		ipv4_mapped(pkt->flow.daddr, ip->daddr);
		l4_off = l3_off + ihl;
		l3_end = l3_off + tot_len;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + l3_off;

		if ((void *)(ip6 + 1) > data_end)
			return TLSHIM_PARSE_NOT_TCP;
		__builtin_memcpy(pkt->flow.saddr, &ip6->saddr, 16);
		__builtin_memcpy(pkt->flow.daddr, &ip6->daddr, 16);
		l4proto = ip6->nexthdr;
		l4_off = l3_off + sizeof(*ip6);
		l3_end = l4_off + bpf_ntohs(ip6->payload_len);
#pragma unroll
		for (int i = 0; i < TLSHIM_MAX_IPV6_EXT; i++) {
			struct ipv6_ext *ext;

			if (l4proto != IPPROTO_HOPOPTS && l4proto != IPPROTO_ROUTING &&
			    l4proto != IPPROTO_DSTOPTS)
				break;
			if (l4_off > 512)	/* keeps the verifier's offset bounded */
				return TLSHIM_PARSE_NOT_TCP;
			ext = data + l4_off;
			if ((void *)(ext + 1) > data_end)
				return TLSHIM_PARSE_NOT_TCP;
			l4proto = ext->nexthdr;
			l4_off += (ext->hdrlen + 1) * 8;
		}
		if (l4proto == IPPROTO_FRAGMENT)
			pkt->fragment = 1;
		if (l4proto != IPPROTO_TCP)
			return TLSHIM_PARSE_NOT_TCP;
	} else {
		return TLSHIM_PARSE_NOT_TCP;
	}

	if (l4_off > 1024)
		return TLSHIM_PARSE_NOT_TCP;
	tcp = data + l4_off;
	if ((void *)(tcp + 1) > data_end)
		return TLSHIM_PARSE_MALFORMED;
	if (tcp->doff < 5)
		return TLSHIM_PARSE_MALFORMED;
	pkt->payload_off = l4_off + tcp->doff * 4;
	/* The IP length, not the frame, bounds the payload: short frames carry
	 * Ethernet padding that is not TCP data. */
	if (l3_end < pkt->payload_off || l3_end > frame_len)
		return TLSHIM_PARSE_MALFORMED;
	pkt->payload_len = l3_end - pkt->payload_off;
	pkt->flow.sport = tcp->source;
	pkt->flow.dport = tcp->dest;
	pkt->seq = bpf_ntohl(tcp->seq);
	pkt->ack = bpf_ntohl(tcp->ack_seq);
	pkt->tcp_flags = ((__u8 *)tcp)[13];
	return TLSHIM_PARSE_TCP;
}

#endif /* TLSHIM_PARSE_H */
