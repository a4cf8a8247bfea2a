// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pcap and pcapng readers (capture.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capture.h"

#define PCAP_MAGIC_US	0xa1b2c3d4u
#define PCAP_MAGIC_NS	0xa1b23c4du
#define PCAPNG_SHB	0x0a0d0d0au
#define PCAPNG_BOM	0x1a2b3c4du
#define PCAPNG_IDB	1u
#define PCAPNG_SPB	3u
#define PCAPNG_EPB	6u

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t rd32(const struct capture *c, size_t off)
{
	uint32_t v;

	memcpy(&v, c->buf + off, 4);
	return c->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct capture *c, size_t off)
{
	uint16_t v;

	memcpy(&v, c->buf + off, 2);
	return c->swapped ? __builtin_bswap16(v) : v;
}

int capture_open(const char *path, struct capture *c, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n;
	uint32_t magic;

	memset(c, 0, sizeof(*c));
	if (!f)
		return bad(err, errlen, "%s", strerror(errno));
	c->buf = malloc(cap);
	while (c->buf && (n = fread(c->buf + c->len, 1, cap - c->len, f)) > 0) {
		c->len += n;
		if (c->len == cap) {
			uint8_t *grown = realloc(c->buf, cap * 2);

			if (!grown) {
				free(c->buf);
				c->buf = NULL;
				break;
			}
			c->buf = grown;
			cap *= 2;
		}
	}
	if (!c->buf || ferror(f)) {
		fclose(f);
		return bad(err, errlen, "cannot read it: %s", c->buf ? strerror(errno) : "out of memory");
	}
	fclose(f);
	if (c->len < 4)
		return bad(err, errlen, "truncated file header (%zu bytes)", c->len);
	memcpy(&magic, c->buf, 4);
	if (magic == PCAPNG_SHB) {
		c->pcapng = true;	/* byte order comes from each SHB */
		return 0;
	}
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		c->swapped = false;
	} else if (__builtin_bswap32(magic) == PCAP_MAGIC_US || __builtin_bswap32(magic) == PCAP_MAGIC_NS) {
		c->swapped = true;
		magic = __builtin_bswap32(magic);
	} else {
		return bad(err, errlen, "not a pcap or pcapng file (magic 0x%08x)", magic);
	}
	if (c->len < 24)
		return bad(err, errlen, "truncated pcap global header (%zu of 24 bytes)", c->len);
	c->nanosecond = magic == PCAP_MAGIC_NS;
	if (rd16(c, 4) != 2)
		return bad(err, errlen, "pcap version %u.%u (expected 2.4)", rd16(c, 4), rd16(c, 6));
	c->snaplen = rd32(c, 16);
	c->linktype = rd32(c, 20) & 0xffff;	/* upper bits: FCS length flags */
	c->off = 24;
	return 0;
}

static int pcap_next(struct capture *c, struct cap_packet *p, char *err, size_t errlen)
{
	uint64_t rec = c->npackets;
	uint32_t caplen, origlen, sec, frac;
	size_t left = c->len - c->off;

	if (left == 0)
		return 0;
	if (left < 16)
		return bad(err, errlen, "record %llu: truncated record header (%zu of 16 bytes)",
			   (unsigned long long)rec, left);
	sec = rd32(c, c->off);
	frac = rd32(c, c->off + 4);
	caplen = rd32(c, c->off + 8);
	origlen = rd32(c, c->off + 12);
	if (caplen > CAPTURE_MAX_CAPLEN || (c->snaplen && caplen > c->snaplen &&
					    c->snaplen >= 64))
		return bad(err, errlen, "record %llu: caplen %u exceeds the snaplen %u",
			   (unsigned long long)rec, caplen,
			   caplen > CAPTURE_MAX_CAPLEN ? CAPTURE_MAX_CAPLEN : c->snaplen);
	if (caplen > origlen)
		return bad(err, errlen, "record %llu: caplen %u larger than the wire length %u",
			   (unsigned long long)rec, caplen, origlen);
	if (c->nanosecond ? frac >= 1000000000u : frac >= 1000000u)
		return bad(err, errlen, "record %llu: timestamp fraction %u out of range",
			   (unsigned long long)rec, frac);
	if (left - 16 < caplen)
		return bad(err, errlen, "record %llu truncated (caplen %u, %zu bytes left)",
			   (unsigned long long)rec, caplen, left - 16);
	p->index = rec;
	p->ts_ns = sec * 1000000000ull + (c->nanosecond ? frac : frac * 1000ull);
	p->linktype = c->linktype;
	p->caplen = caplen;
	p->origlen = origlen;
	p->data = c->buf + c->off + 16;
	c->off += 16 + caplen;
	c->npackets++;
	return 1;
}

/* if_tsresol and friends from an IDB's options. */
static int idb_options(struct capture *c, struct cap_iface *ifc, size_t off, size_t end,
		       size_t block_off, char *err, size_t errlen)
{
	while (off + 4 <= end) {
		uint16_t code = rd16(c, off), len = rd16(c, off + 2);
		size_t padded = (len + 3u) & ~3u;

		if (code == 0)
			return 0;
		if (off + 4 + padded > end)
			return bad(err, errlen, "block at offset %zu: interface option %u overruns "
				   "the block", block_off, code);
		if (code == 9 && len >= 1) {	/* if_tsresol */
			uint8_t v = c->buf[off + 4];

			ifc->ts_pow2 = v & 0x80;
			ifc->ts_exp = v & 0x7f;
			if ((!ifc->ts_pow2 && ifc->ts_exp > 19) || (ifc->ts_pow2 && ifc->ts_exp > 63))
				return bad(err, errlen, "block at offset %zu: timestamp resolution "
					   "0x%02x not supported", block_off, v);
		}
		off += 4 + padded;
	}
	return 0;
}

static uint64_t ts_to_ns(const struct cap_iface *ifc, uint64_t ts)
{
	unsigned __int128 t = ts;

	if (ifc->ts_pow2)
		return (uint64_t)((t * 1000000000u) >> ifc->ts_exp);
	if (ifc->ts_exp <= 9) {
		for (int i = ifc->ts_exp; i < 9; i++)
			t *= 10;
		return (uint64_t)t;
	}
	for (int i = 9; i < ifc->ts_exp; i++)
		t /= 10;
	return (uint64_t)t;
}

static int pcapng_next(struct capture *c, struct cap_packet *p, char *err, size_t errlen)
{
	for (;;) {
		size_t off = c->off, left = c->len - c->off;
		uint32_t type, total, magic;

		if (left == 0)
			return 0;
		if (left < 12)
			return bad(err, errlen, "block at offset %zu: truncated block header "
				   "(%zu bytes left)", off, left);
		memcpy(&type, c->buf + off, 4);
		if (type == PCAPNG_SHB) {
			/* A new section: its own byte order and interfaces. */
			memcpy(&magic, c->buf + off + 8, 4);
			if (magic == PCAPNG_BOM)
				c->swapped = false;
			else if (__builtin_bswap32(magic) == PCAPNG_BOM)
				c->swapped = true;
			else
				return bad(err, errlen, "block at offset %zu: section header with bad "
					   "byte-order magic 0x%08x", off, magic);
			c->nifaces = 0;
		} else if (c->swapped) {
			type = __builtin_bswap32(type);
		}
		total = rd32(c, off + 4);
		if (total < 12 || total % 4)
			return bad(err, errlen, "block at offset %zu: bad block length %u", off, total);
		if (total > left)
			return bad(err, errlen, "block at offset %zu truncated (length %u, %zu bytes left)",
				   off, total, left);
		if (rd32(c, off + total - 4) != total)
			return bad(err, errlen, "block at offset %zu: block length mismatch (%u at the "
				   "start, %u at the end)", off, total, rd32(c, off + total - 4));
		c->off += total;
		if (type == PCAPNG_SHB) {
			if (total < 28)
				return bad(err, errlen, "block at offset %zu: section header too short "
					   "(%u bytes)", off, total);
			if (rd16(c, off + 12) != 1)
				return bad(err, errlen, "block at offset %zu: pcapng version %u "
					   "(expected 1)", off, rd16(c, off + 12));
			continue;
		}
		if (type == PCAPNG_IDB) {
			struct cap_iface *ifc;

			if (total < 20)
				return bad(err, errlen, "block at offset %zu: interface block too short "
					   "(%u bytes)", off, total);
			if (c->nifaces == CAPTURE_MAX_IFACES)
				return bad(err, errlen, "block at offset %zu: more than %d interfaces",
					   off, CAPTURE_MAX_IFACES);
			ifc = &c->ifaces[c->nifaces++];
			memset(ifc, 0, sizeof(*ifc));
			ifc->linktype = rd16(c, off + 8);
			ifc->snaplen = rd32(c, off + 12);
			ifc->ts_exp = 6;
			if (idb_options(c, ifc, off + 16, off + total - 4, off, err, errlen))
				return -1;
			continue;
		}
		if (type == PCAPNG_EPB || type == PCAPNG_SPB) {
			const struct cap_iface *ifc;
			uint32_t caplen, origlen, ifid = 0;
			size_t hdr = type == PCAPNG_EPB ? 28 : 12, room;

			if (total < hdr + 4)
				return bad(err, errlen, "block at offset %zu: packet block too short "
					   "(%u bytes)", off, total);
			if (type == PCAPNG_EPB)
				ifid = rd32(c, off + 8);
			if (ifid >= c->nifaces)
				return bad(err, errlen, "block at offset %zu: packet on interface %u, "
					   "but %u interfaces described", off, ifid, c->nifaces);
			ifc = &c->ifaces[ifid];
			room = total - hdr - 4;
			if (type == PCAPNG_EPB) {
				caplen = rd32(c, off + 20);
				origlen = rd32(c, off + 24);
				if (caplen > room)
					return bad(err, errlen, "packet %llu (block at offset %zu): caplen "
						   "%u larger than its block (%zu bytes)",
						   (unsigned long long)c->npackets, off, caplen, room);
			} else {
				origlen = rd32(c, off + 8);
				caplen = origlen;
				if (ifc->snaplen && caplen > ifc->snaplen)
					caplen = ifc->snaplen;
				if (caplen > room)
					caplen = room;
			}
			if (caplen > CAPTURE_MAX_CAPLEN || (ifc->snaplen && caplen > ifc->snaplen))
				return bad(err, errlen, "packet %llu (block at offset %zu): caplen %u "
					   "exceeds the snaplen %u", (unsigned long long)c->npackets, off,
					   caplen, ifc->snaplen ? ifc->snaplen : CAPTURE_MAX_CAPLEN);
			if (caplen > origlen)
				return bad(err, errlen, "packet %llu (block at offset %zu): caplen %u "
					   "larger than the wire length %u",
					   (unsigned long long)c->npackets, off, caplen, origlen);
			p->index = c->npackets++;
			p->linktype = ifc->linktype;
			p->caplen = caplen;
			p->origlen = origlen;
			p->data = c->buf + off + hdr;
			p->ts_ns = type == PCAPNG_EPB ?
				ts_to_ns(ifc, (uint64_t)rd32(c, off + 12) << 32 | rd32(c, off + 16)) : 0;
			return 1;
		}
		/* Name resolution, statistics, custom blocks...: nothing to replay. */
	}
}

int capture_next(struct capture *c, struct cap_packet *p, char *err, size_t errlen)
{
	return c->pcapng ? pcapng_next(c, p, err, errlen) : pcap_next(c, p, err, errlen);
}

void capture_close(struct capture *c)
{
	free(c->buf);
	c->buf = NULL;
}
