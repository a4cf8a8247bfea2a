/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading capture files: pcap (both byte orders, microsecond and
 * nanosecond magic) and pcapng (SHB, IDB, EPB, SPB; several sections and
 * interfaces, each with its own link type and timestamp resolution; both
 * byte orders).  Written here, not with libpcap: every malformation gets a
 * one-line reason naming the record or block.
 */
#ifndef TLSHIM_CAPTURE_H
#define TLSHIM_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define LINKTYPE_ETHERNET	1
#define LINKTYPE_LINUX_SLL	113
#define LINKTYPE_LINUX_SLL2	276
/* Larger than any sane snaplen (tcpdump's maximum is 262144). */
#define CAPTURE_MAX_CAPLEN	(256 * 1024)
#define CAPTURE_MAX_IFACES	64

struct cap_iface {
	uint32_t linktype;
	uint32_t snaplen;
	bool ts_pow2;		/* if_tsresol: 2^-ts_exp, else 10^-ts_exp */
	uint8_t ts_exp;
};

struct capture {
	uint8_t *buf;
	size_t len, off;
	bool pcapng, swapped;
	uint64_t npackets;	/* packets returned so far */
	/* pcap */
	bool nanosecond;
	uint32_t snaplen, linktype;
	/* pcapng: the current section's interfaces */
	struct cap_iface ifaces[CAPTURE_MAX_IFACES];
	uint32_t nifaces;
};

struct cap_packet {
	uint64_t index;		/* 0-based, in file order */
	uint64_t ts_ns;		/* since the epoch */
	uint32_t linktype;
	uint32_t caplen, origlen;
	const uint8_t *data;
};

/* Reads the whole file and its global header; -1 with err on failure. */
int capture_open(const char *path, struct capture *c, char *err, size_t errlen);
/* 1: *p is the next packet; 0: end of file; -1: malformed (err says why). */
int capture_next(struct capture *c, struct cap_packet *p, char *err, size_t errlen);
void capture_close(struct capture *c);

#endif
