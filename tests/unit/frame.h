/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Ethernet frames carrying one TCP segment, built byte by byte. */
#ifndef UNIT_FRAME_H
#define UNIT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlshim.h"

#define FRAME_MAX	2048
#define ETH_MIN_FRAME	60	/* without FCS: shorter frames get padded */

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_PSH		0x08
#define TCP_ACK		0x10

/* One direction of a TCP connection as its packets carry it. */
struct flow {
	bool ipv6;
	uint8_t saddr[16];	/* IPv4: the first 4 bytes */
	uint8_t daddr[16];
	uint16_t sport;		/* host order */
	uint16_t dport;
};

enum encap {
	ENCAP_NONE,
	ENCAP_VLAN,		/* 802.1Q */
	ENCAP_QINQ,		/* 802.1ad outer, 802.1Q inner */
};

/* Everything about a frame beyond flow, seq and payload; zero is a plain,
 * well-formed ACK|PSH data segment. */
struct frame_opts {
	enum encap encap;
	bool ip_options;	/* IPv4: 8 bytes of options, ihl 7 */
	bool ipv6_hopopts;	/* IPv6: an 8-byte hop-by-hop header */
	bool ipv6_dstopts;	/* IPv6: a 16-byte destination-options header after it */
	bool ipv6_fragment;	/* IPv6: a fragment header before TCP */
	uint16_t ipv4_frag_off;	/* IPv4 flags+offset field, host order */
	uint8_t tcp_flags;	/* 0: ACK|PSH (ACK alone without payload) */
	uint8_t tcp_doff;	/* 0: 5; above 5 the options are NOPs */
	int ip_len_delta;	/* added to the IP length field: a lie */
	size_t truncate_to;	/* cut the frame to this many bytes (0: don't) */
	bool zero_dst_mac;	/* loopback's address, for frames sent up lo */
	bool set_ack;		/* ack_seq below instead of 0x01020304 */
	uint32_t ack_seq;
};

/* A fresh flow from a remote TLS server (port 443) to a local client port:
 * the rx direction of a connection this host opened. */
struct flow flow_ipv4(uint16_t local_port);
struct flow flow_ipv6(uint16_t local_port);
uint16_t next_local_port(void);

/* The tlshim_conns key a segment of this flow maps to. */
struct tlshim_flow flow_conn_key(const struct flow *f, enum tlshim_dir dir);
struct flow flow_reversed(const struct flow *f);

/* Builds the frame into buf (FRAME_MAX bytes); returns its length. */
size_t frame_build(uint8_t *buf, const struct flow *f, const struct frame_opts *o,
		   uint32_t seq, const uint8_t *payload, size_t payload_len);
/* The same into a buffer of cap bytes (for payloads beyond FRAME_MAX: GSO
 * super-packets, the largest frames test_run takes). */
size_t frame_build_into(uint8_t *buf, size_t cap, const struct flow *f,
			const struct frame_opts *o, uint32_t seq,
			const uint8_t *payload, size_t payload_len);

#endif /* UNIT_FRAME_H */
