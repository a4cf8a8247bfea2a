// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Link layer to TCP for replay (replay_frame.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay_frame.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_QINQ	0x88a8

static uint16_t be16(const uint8_t *p) { return p[0] << 8 | p[1]; }
/* A port as the flow key stores it: network byte order. */
static uint16_t be16n(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

/* The frame as the device gets it; SLL and SLL2 carry the ethertype in
 * their own header, and made-up MACs do for the rest (the device never
 * reads them). */
static int to_ethernet(const struct cap_packet *p, struct replay_frame *f, char *err, size_t errlen)
{
	const uint8_t *d = p->data;
	uint32_t skip, proto;

	switch (p->linktype) {
	case LINKTYPE_ETHERNET:
		f->eth = malloc(p->caplen ? p->caplen : 1);
		if (!f->eth)
			return -1;
		memcpy(f->eth, d, p->caplen);
		f->eth_len = p->caplen;
		return 0;
	case LINKTYPE_LINUX_SLL:
		skip = 16;
		proto = p->caplen >= 16 ? be16(d + 14) : 0;
		break;
	case LINKTYPE_LINUX_SLL2:
		skip = 20;
		proto = p->caplen >= 20 ? be16(d) : 0;
		break;
	default:
		snprintf(err, errlen, "link type %u not supported (Ethernet 1, Linux cooked "
			 "SLL 113 and SLL2 276 are)", p->linktype);
		return -1;
	}
	if (p->caplen < skip) {
		f->eth = calloc(1, ETH_HDR_LEN);
		f->eth_len = 0;	/* nothing to feed */
		return 0;
	}
	f->eth_len = ETH_HDR_LEN + p->caplen - skip;
	f->eth = malloc(f->eth_len);
	if (!f->eth)
		return -1;
	memcpy(f->eth, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	f->eth[12] = proto >> 8;
	f->eth[13] = proto;
	memcpy(f->eth + ETH_HDR_LEN, d + skip, p->caplen - skip);
	return 0;
}

static void decode_tcp(struct replay_frame *f, const struct cap_packet *p, uint32_t off,
		       uint32_t ip_end, uint32_t wire_ip_end)
{
	const uint8_t *e = f->eth;
	uint32_t doff;

	if (off + 20 > f->eth_len)
		return;
	doff = (e[off + 12] >> 4) * 4;
	if (doff < 20 || off + doff > ip_end || off + doff > f->eth_len)
		return;
	f->sport = be16n(e + off);
	f->dport = be16n(e + off + 2);
	f->seq = be32(e + off + 4);
	f->ack = be32(e + off + 8);
	f->flags = e[off + 13];
	f->payload_off = off + doff;
	f->payload_len = wire_ip_end - (off + doff);
	f->cut = ip_end > f->eth_len || wire_ip_end > ip_end;
	f->tcp = true;
}

int replay_frame_decode(const struct cap_packet *p, struct replay_frame *f,
			char *err, size_t errlen)
{
	uint32_t off = 12, type, wire_extra;
	const uint8_t *e;

	memset(f, 0, sizeof(*f));
	if (to_ethernet(p, f, err, errlen))
		return -1;
	e = f->eth;
	/* Bytes the capture cut off (snaplen) still count in the IP length. */
	wire_extra = p->origlen - p->caplen;
	if (f->eth_len < ETH_HDR_LEN)
		return 0;
	type = be16(e + off);
	for (int tags = 0; (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) && tags < 2; tags++) {
		off += 4;
		if (off + 2 > f->eth_len)
			return 0;
		type = be16(e + off);
	}
	off += 2;
	if (type == ETHERTYPE_IPV4) {
		uint32_t ihl, tot;

		if (off + 20 > f->eth_len || e[off] >> 4 != 4)
			return 0;
		ihl = (e[off] & 15) * 4;
		tot = be16(e + off + 2);
		if (ihl < 20 || tot < ihl || off + ihl > f->eth_len || e[off + 9] != 6)
			return 0;
		if (be16(e + off + 6) & 0x3fff)	/* MF or a fragment offset */
			return 0;
		if (off + tot > f->eth_len + wire_extra)
			return 0;	/* shorter on the wire than IP claims */
		memset(f->saddr, 0, 10);
		f->saddr[10] = f->saddr[11] = 0xff;
		memcpy(f->saddr + 12, e + off + 12, 4);
		memset(f->daddr, 0, 10);
		f->daddr[10] = f->daddr[11] = 0xff;
		memcpy(f->daddr + 12, e + off + 16, 4);
		decode_tcp(f, p, off + ihl, off + tot < f->eth_len ? off + tot : f->eth_len, off + tot);
	} else if (type == ETHERTYPE_IPV6) {
		uint32_t end, nh, l4 = off + 40;

		if (off + 40 > f->eth_len || e[off] >> 4 != 6)
			return 0;
		end = off + 40 + be16(e + off + 4);
		if (end > f->eth_len + wire_extra)
			return 0;
		memcpy(f->saddr, e + off + 8, 16);
		memcpy(f->daddr, e + off + 24, 16);
		nh = e[off + 6];
		/* Hop-by-hop, routing, destination options: stepped over, as
		 * the device does; a fragment header or anything else is not TCP. */
		for (int i = 0; i < 4 && (nh == 0 || nh == 43 || nh == 60); i++) {
			if (l4 + 8 > f->eth_len)
				return 0;
			nh = e[l4];
			l4 += (e[l4 + 1] + 1) * 8;
		}
		if (nh != 6 || l4 > end)
			return 0;
		decode_tcp(f, p, l4, end < f->eth_len ? end : f->eth_len, end);
	}
	return 0;
}

void replay_frame_free(struct replay_frame *f)
{
	free(f->eth);
	f->eth = NULL;
}
