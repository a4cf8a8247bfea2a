// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frame.h"

static const uint8_t remote_v4[4] = { 203, 0, 113, 10 };	/* TEST-NET-3 */
static const uint8_t local_v4[4] = { 192, 0, 2, 20 };		/* TEST-NET-1 */
static const uint8_t remote_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
static const uint8_t local_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20 };

uint16_t next_local_port(void)
{
	static uint16_t port = 40000;

	return port++;
}

struct flow flow_ipv4(uint16_t local_port)
{
	struct flow f = { .ipv6 = false, .sport = 443, .dport = local_port };

	memcpy(f.saddr, remote_v4, 4);
	memcpy(f.daddr, local_v4, 4);
	return f;
}

struct flow flow_ipv6(uint16_t local_port)
{
	struct flow f = { .ipv6 = true, .sport = 443, .dport = local_port };

	memcpy(f.saddr, remote_v6, 16);
	memcpy(f.daddr, local_v6, 16);
	return f;
}

struct flow flow_reversed(const struct flow *f)
{
	struct flow r = *f;

	memcpy(r.saddr, f->daddr, 16);
	memcpy(r.daddr, f->saddr, 16);
	r.sport = f->dport;
	r.dport = f->sport;
	return r;
}

static void key_addr(uint8_t *dst, const uint8_t *addr, bool ipv6)
{
	if (ipv6) {
		memcpy(dst, addr, 16);
		return;
	}
	memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	memcpy(dst + 12, addr, 4);
}

struct tlshim_flow flow_conn_key(const struct flow *f, enum tlshim_dir dir)
{
	struct tlshim_flow k;

	memset(&k, 0, sizeof(k));
	key_addr(k.saddr, f->saddr, f->ipv6);
	key_addr(k.daddr, f->daddr, f->ipv6);
	k.sport = htons(f->sport);
	k.dport = htons(f->dport);
	k.dir = dir;
	return k;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint16_t ipv4_checksum(const uint8_t *hdr, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (hdr[i] << 8) | hdr[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static size_t put_l2(uint8_t *p, const struct frame_opts *o, uint16_t l3_proto)
{
	static const uint8_t dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	size_t off = 12;

	memset(p, 0, 6);
	if (!o->zero_dst_mac)
		memcpy(p, dst_mac, 6);
	memcpy(p + 6, src_mac, 6);
	if (o->encap == ENCAP_QINQ) {
		put16(p + off, 0x88a8);
		put16(p + off + 2, 100);	/* outer VLAN id */
		off += 4;
	}
	if (o->encap == ENCAP_QINQ || o->encap == ENCAP_VLAN) {
		put16(p + off, 0x8100);
		put16(p + off + 2, 200);	/* inner VLAN id */
		off += 4;
	}
	put16(p + off, l3_proto);
	return off + 2;
}

/* A doff below 5 still gets the 20 bytes every TCP header has. */
static size_t tcp_header_len(const struct frame_opts *o)
{
	return o->tcp_doff > 5 ? o->tcp_doff * 4u : 20;
}

static size_t put_tcp(uint8_t *p, const struct flow *f, const struct frame_opts *o,
		      uint32_t seq, size_t payload_len)
{
	uint8_t doff = o->tcp_doff ? o->tcp_doff : 5;
	uint8_t flags = o->tcp_flags ? o->tcp_flags :
			payload_len ? TCP_ACK | TCP_PSH : TCP_ACK;
	size_t len = tcp_header_len(o);

	memset(p, 0, 20);
	memset(p + 20, 1, len - 20);		/* options: NOPs */
	put16(p, f->sport);
	put16(p + 2, f->dport);
	put32(p + 4, seq);
	put32(p + 8, o->set_ack ? o->ack_seq : 0x01020304);
	p[12] = doff << 4;
	p[13] = flags;
	put16(p + 14, 65535);			/* window */
	return len;
}

size_t frame_build(uint8_t *buf, const struct flow *f, const struct frame_opts *o,
		   uint32_t seq, const uint8_t *payload, size_t payload_len)
{
	return frame_build_into(buf, FRAME_MAX, f, o, seq, payload, payload_len);
}

size_t frame_build_into(uint8_t *buf, size_t cap, const struct flow *f,
			const struct frame_opts *o, uint32_t seq,
			const uint8_t *payload, size_t payload_len)
{
	size_t off, l3, len;

	if (cap < 128 || payload_len > cap - 128) {
		fprintf(stderr, "frame_build: payload of %zu bytes does not fit\n", payload_len);
		exit(2);
	}
	memset(buf, 0, cap);
	off = l3 = put_l2(buf, o, f->ipv6 ? 0x86dd : 0x0800);

	if (!f->ipv6) {
		size_t ihl = o->ip_options ? 28 : 20;

		buf[l3] = 0x40 | ihl / 4;
		put16(buf + l3 + 2, ihl + tcp_header_len(o) + payload_len + o->ip_len_delta);
		put16(buf + l3 + 4, 0x1234);	/* id */
		put16(buf + l3 + 6, o->ipv4_frag_off);
		buf[l3 + 8] = 64;
		buf[l3 + 9] = IPPROTO_TCP;
		memcpy(buf + l3 + 12, f->saddr, 4);
		memcpy(buf + l3 + 16, f->daddr, 4);
		if (o->ip_options) {
			/* Router Alert, then NOPs to a 4-byte multiple, then EOL. */
			static const uint8_t opts[8] = { 0x94, 4, 0, 0, 1, 1, 1, 0 };

			memcpy(buf + l3 + 20, opts, sizeof(opts));
		}
		put16(buf + l3 + 10, ipv4_checksum(buf + l3, ihl));
		off += ihl;
	} else {
		size_t ext = (o->ipv6_hopopts ? 8 : 0) + (o->ipv6_dstopts ? 16 : 0) +
			     (o->ipv6_fragment ? 8 : 0);
		uint8_t *next = buf + l3 + 6;

		buf[l3] = 0x60;
		put16(buf + l3 + 4, ext + tcp_header_len(o) + payload_len + o->ip_len_delta);
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, f->saddr, 16);
		memcpy(buf + l3 + 24, f->daddr, 16);
		off += 40;
		if (o->ipv6_hopopts) {
			/* hdrlen 0 (8 bytes): next header, length, PadN of 4 bytes. */
			*next = IPPROTO_HOPOPTS;
			next = buf + off;
			buf[off + 2] = 1;
			buf[off + 3] = 4;
			off += 8;
		}
		if (o->ipv6_dstopts) {
			/* hdrlen 1 (16 bytes): PadN filling the 14 option bytes. */
			*next = IPPROTO_DSTOPTS;
			next = buf + off;
			buf[off + 1] = 1;
			buf[off + 2] = 1;
			buf[off + 3] = 12;
			off += 16;
		}
		if (o->ipv6_fragment) {
			*next = IPPROTO_FRAGMENT;
			next = buf + off;
			put16(buf + off + 2, 0x0001);	/* offset 0, M set */
			put32(buf + off + 4, 0xabcd);	/* identification */
			off += 8;
		}
		*next = IPPROTO_TCP;
	}

	off += put_tcp(buf + off, f, o, seq, payload_len);
	memcpy(buf + off, payload, payload_len);
	len = off + payload_len;
	if (len < ETH_MIN_FRAME)
		len = ETH_MIN_FRAME;	/* the padding is already zero */
	if (o->truncate_to && o->truncate_to < len)
		len = o->truncate_to;
	return len;
}
