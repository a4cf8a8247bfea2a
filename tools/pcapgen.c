// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pcapgen: writes small captures of TLS-framed TCP traffic for the replay
 * tests, so no test ships an opaque binary.
 *
 *   pcapgen [options] OUT
 *   --format pcap|pcap-ns|pcap-be|pcapng|pcapng-be   (default pcap; -be: big endian)
 *   --link eth|sll|sll2          link type of the packets (default eth)
 *   --v6                         IPv6 (fd00::1 / fd00::2) instead of 10.0.0.1 / 10.0.0.2
 *   --handshake none|1.2|1.3     TLS handshake records first (default none)
 *   --records N:LEN              N application records of LEN body bytes (default 20:1000)
 *   --mss N                      server payload per segment (default 1000)
 *   --omit I[,I...]              leave out the server's data segments I (0-based,
 *                                every server data segment counted)
 *   --dup I[,I...]               send segment I again after segment I+1
 *   --acks                       the client ACKs every server data segment
 *   --two-ifaces                 pcapng: the client's packets on a second interface
 *                                (link type eth, the server's on --link's)
 *
 * Traffic: the server 10.0.0.1:443 (ISN 1000) and the client
 * 10.0.0.2:5555 (ISN 5000): SYN, SYN-ACK, ACK, the handshake, then the
 * server's application records back to back cut into --mss segments.
 * Bytes after each record header come from a fixed xorshift sequence.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *out;
static int fmt_ns, fmt_be, fmt_ng, link_type = 1, v6, two_ifaces, acks;
static uint64_t ts_us = 1700000000000000ull;
static uint32_t snaplen = 262144;

static void die(const char *m) { fprintf(stderr, "pcapgen: %s\n", m); exit(2); }

static void w32(uint32_t v) { if (fmt_be) v = htonl(v); fwrite(&v, 4, 1, out); }
static void w16(uint16_t v) { if (fmt_be) v = htons(v); fwrite(&v, 2, 1, out); }

static void file_header(void)
{
	if (!fmt_ng) {
		w32(fmt_ns ? 0xa1b23c4d : 0xa1b2c3d4); w16(2); w16(4); w32(0); w32(0);
		w32(snaplen); w32(link_type);
		return;
	}
	/* SHB: type, len, BOM, v1.0, section length -1 */
	w32(0x0a0d0d0a); w32(28); w32(0x1a2b3c4d); w16(1); w16(0); w32(0xffffffff); w32(0xffffffff); w32(28);
	for (int i = 0; i < (two_ifaces ? 2 : 1); i++) {
		/* IDB with if_tsresol = 9 (nanoseconds) on the first one */
		uint32_t lt = i ? 1 : link_type;
		int opt = i == 0;
		uint32_t len = 20 + (opt ? 12 : 0);

		w32(1); w32(len); w16(lt); w16(0); w32(snaplen);
		if (opt) { w16(9); w16(1); fputc(9, out); fputc(0, out); fputc(0, out); fputc(0, out); w16(0); w16(0); }
		w32(len);
	}
}

static void packet(const uint8_t *eth, uint32_t len, int from_client)
{
	uint8_t frame[70000];
	uint32_t flen = len, iface = 0;
	uint64_t ts = ts_us;

	ts_us += 10;
	if (two_ifaces && from_client) {
		memcpy(frame, eth, len);	/* Ethernet on interface 1 */
		iface = 1;
	} else if (link_type == 113) {
		memset(frame, 0, 16);
		frame[1] = from_client ? 4 : 0;	/* outgoing / to us */
		frame[3] = 1; frame[5] = 6;	/* ARPHRD_ETHER, 6-byte address */
		memcpy(frame + 6, eth + 6, 6);
		memcpy(frame + 14, eth + 12, 2);
		memcpy(frame + 16, eth + 14, len - 14);
		flen = len + 2;
	} else if (link_type == 276) {
		memset(frame, 0, 20);
		memcpy(frame, eth + 12, 2);
		frame[7] = 2;			/* ifindex */
		frame[9] = 1;			/* ARPHRD_ETHER */
		frame[10] = from_client ? 4 : 0;
		frame[11] = 6;
		memcpy(frame + 12, eth + 6, 6);
		memcpy(frame + 20, eth + 14, len - 14);
		flen = len + 6;
	} else {
		memcpy(frame, eth, len);
	}
	if (!fmt_ng) {
		w32(ts / 1000000); w32(fmt_ns ? (ts % 1000000) * 1000 : ts % 1000000);
		w32(flen); w32(flen);
		fwrite(frame, 1, flen, out);
		return;
	}
	{
		uint32_t pad = (4 - flen % 4) % 4, blen = 32 + flen + pad;
		uint64_t t = iface ? ts : ts * 1000;	/* iface 0 in ns, iface 1 in us */

		w32(6); w32(blen); w32(iface); w32(t >> 32); w32((uint32_t)t); w32(flen); w32(flen);
		fwrite(frame, 1, flen, out);
		for (uint32_t i = 0; i < pad; i++)
			fputc(0, out);
		w32(blen);
	}
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static uint32_t seq_c = 5000, seq_s = 1000;

static void tcp(int from_client, uint8_t flags, const uint8_t *payload, uint32_t plen)
{
	static uint8_t f[70000];
	uint8_t *ip = f + 14, *t;
	uint32_t iplen = v6 ? 40 : 20, *seq = from_client ? &seq_c : &seq_s;
	uint32_t ack = from_client ? seq_s : seq_c;
	uint8_t ca[16] = {0}, sa[16] = {0};

	memcpy(f, from_client ? "\x02\0\0\0\0\x01\x02\0\0\0\0\x02" : "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	if (v6) {
		f[12] = 0x86; f[13] = 0xdd;
		ca[0] = sa[0] = 0xfd; ca[15] = 2; sa[15] = 1;
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[4] = (20 + plen) >> 8; ip[5] = 20 + plen;
		ip[6] = 6; ip[7] = 64;
		memcpy(ip + 8, from_client ? ca : sa, 16);
		memcpy(ip + 24, from_client ? sa : ca, 16);
	} else {
		f[12] = 0x08; f[13] = 0;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (40 + plen) >> 8; ip[3] = 40 + plen;
		ip[6] = 0x40; ip[8] = 64; ip[9] = 6;
		memcpy(ip + 12, from_client ? "\x0a\0\0\x02" : "\x0a\0\0\x01", 4);
		memcpy(ip + 16, from_client ? "\x0a\0\0\x01" : "\x0a\0\0\x02", 4);
		uint16_t c = csum(ip, 20, 0);
		ip[10] = c >> 8; ip[11] = c;
	}
	t = ip + iplen;
	memset(t, 0, 20);
	t[0] = from_client ? 5555 >> 8 : 443 >> 8; t[1] = from_client ? 5555 & 255 : 443 & 255;
	t[2] = from_client ? 443 >> 8 : 5555 >> 8; t[3] = from_client ? 443 & 255 : 5555 & 255;
	t[4] = *seq >> 24; t[5] = *seq >> 16; t[6] = *seq >> 8; t[7] = *seq;
	if (flags & 0x10) { t[8] = ack >> 24; t[9] = ack >> 16; t[10] = ack >> 8; t[11] = ack; }
	t[12] = 5 << 4; t[13] = flags; t[14] = 0xff; t[15] = 0xff;
	memcpy(t + 20, payload, plen);
	{
		/* TCP checksum over the pseudo-header */
		uint32_t sum = 0;
		const uint8_t *s = v6 ? ip + 8 : ip + 12;
		int alen = v6 ? 32 : 8;

		for (int i = 0; i < alen; i += 2)
			sum += s[i] << 8 | s[i + 1];
		sum += 6 + 20 + plen;
		uint16_t c = csum(t, 20 + plen, sum);
		t[16] = c >> 8; t[17] = c;
	}
	packet(f, 14 + iplen + 20 + plen, from_client);
	*seq += plen + ((flags & 0x03) ? 1 : 0);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint8_t rnd(void)
{
	rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
	return rng;
}

struct buf { uint8_t *p; size_t n, cap; };
static void put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) die("out of memory");
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}
static void record(struct buf *b, uint8_t ct, const uint8_t *body, size_t len)
{
	uint8_t h[5] = { ct, 3, 3, len >> 8, len };

	put(b, h, 5);
	if (body)
		put(b, body, len);
	else
		for (size_t i = 0; i < len; i++) { uint8_t x = rnd(); put(b, &x, 1); }
}

static int in_list(const char *list, long v)
{
	char *copy, *tok, *save;
	int hit = 0;

	if (!list) return 0;
	copy = strdup(list);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		hit |= atol(tok) == v;
	free(copy);
	return hit;
}

static long server_seg;	/* server data segments, counted */
static const char *omit, *dup;

/* The server's bytes in MSS segments, with --omit and --dup applied. */
static void server_send(const struct buf *b, uint32_t mss)
{
	long pending_dup = -1;
	uint32_t dup_seq = 0, dup_len = 0;
	uint8_t dup_data[70000];

	for (size_t off = 0; off < b->n; off += mss) {
		uint32_t n = b->n - off < mss ? b->n - off : mss;
		long idx = server_seg++;

		if (in_list(omit, idx))
			seq_s += n;
		else
			tcp(0, 0x18, b->p + off, n);
		if (acks)
			tcp(1, 0x10, NULL, 0);
		if (pending_dup >= 0) {
			uint32_t save = seq_s;

			seq_s = dup_seq;
			tcp(0, 0x18, dup_data, dup_len);
			seq_s = save;
			pending_dup = -1;
		}
		if (in_list(dup, idx)) {
			pending_dup = idx;
			dup_seq = seq_s - n;
			dup_len = n;
			memcpy(dup_data, b->p + off, n);
		}
	}
}

static void client_send(const struct buf *b)
{
	if (b->n)
		tcp(1, 0x18, b->p, b->n);
}

int main(int argc, char **argv)
{
	const char *format = "pcap", *link = "eth", *hs = "none", *path = NULL;
	unsigned nrec = 20, reclen = 1000, mss = 1000;
	struct buf cli = {0}, srv = {0}, app = {0};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--v6")) v6 = 1;
		else if (!strcmp(a, "--two-ifaces")) two_ifaces = 1;
		else if (!strcmp(a, "--acks")) acks = 1;
		else if (!v && a[0] == '-') die("option needs a value");
		else if (!strcmp(a, "--format")) format = argv[++i];
		else if (!strcmp(a, "--link")) link = argv[++i];
		else if (!strcmp(a, "--handshake")) hs = argv[++i];
		else if (!strcmp(a, "--records")) { if (sscanf(argv[++i], "%u:%u", &nrec, &reclen) != 2) die("--records N:LEN"); }
		else if (!strcmp(a, "--mss")) mss = atoi(argv[++i]);
		else if (!strcmp(a, "--omit")) omit = argv[++i];
		else if (!strcmp(a, "--dup")) dup = argv[++i];
		else if (a[0] == '-') die("unknown option (see the comment at the top of tools/pcapgen.c)");
		else path = a;
	}
	if (!path) die("usage: pcapgen [options] OUT");
	if (!mss || mss > 65000 || reclen > 16408) die("bad --mss or --records");
	fmt_ns = !strcmp(format, "pcap-ns");
	fmt_be = !strcmp(format, "pcap-be") || !strcmp(format, "pcapng-be");
	fmt_ng = !strncmp(format, "pcapng", 6);
	if (!strcmp(link, "sll")) link_type = 113;
	else if (!strcmp(link, "sll2")) link_type = 276;
	else if (strcmp(link, "eth")) die("--link eth|sll|sll2");
	if (two_ifaces && !fmt_ng) die("--two-ifaces needs pcapng");
	out = fopen(path, "wb");
	if (!out) die("cannot write OUT");
	file_header();

	tcp(1, 0x02, NULL, 0);			/* SYN */
	tcp(0, 0x12, NULL, 0);			/* SYN-ACK */
	tcp(1, 0x10, NULL, 0);			/* ACK */
	if (strcmp(hs, "none")) {
		int v13 = !strcmp(hs, "1.3");
		uint8_t ch[64] = { 1, 0, 0, 60, 3, 3 };
		/* ServerHello: type 2, version 3.3, random, empty session id,
		 * suite, no compression, extensions */
		uint8_t sh[4 + 2 + 32 + 1 + 3 + 2 + 6] = { 2, 0, 0, sizeof(sh) - 4, 3, 3 };
		uint8_t *p = sh + 4 + 2 + 32;

		p[0] = 0;			/* session id length */
		p[1] = v13 ? 0x13 : 0xc0; p[2] = v13 ? 0x02 : 0x2f;	/* AES-256 / AES-128 GCM */
		p[3] = 0;
		p[4] = 0; p[5] = v13 ? 6 : 0;
		if (v13) { p[6] = 0; p[7] = 0x2b; p[8] = 0; p[9] = 2; p[10] = 3; p[11] = 4; }
		record(&cli, 22, ch, sizeof(ch));
		client_send(&cli); cli.n = 0;
		record(&srv, 22, sh, v13 ? sizeof(sh) : sizeof(sh) - 6);
		if (!v13) {
			srv.p[3] = 0; srv.p[4] = sizeof(sh) - 6;
			srv.p[5 + 3] = sizeof(sh) - 6 - 4;
			record(&srv, 22, NULL, 300);	/* Certificate...ServerHelloDone */
			server_send(&srv, mss); srv.n = 0;
			record(&cli, 22, NULL, 70);	/* ClientKeyExchange */
			record(&cli, 20, (const uint8_t *)"\1", 1);
			record(&cli, 22, NULL, 40);	/* Finished */
			client_send(&cli); cli.n = 0;
			record(&srv, 20, (const uint8_t *)"\1", 1);
			record(&srv, 22, NULL, 40);
			server_send(&srv, mss); srv.n = 0;
		} else {
			record(&srv, 20, (const uint8_t *)"\1", 1);
			record(&srv, 23, NULL, 100);	/* EncryptedExtensions .. */
			record(&srv, 23, NULL, 900);	/* .. Certificate, Verify, Finished */
			server_send(&srv, mss); srv.n = 0;
			record(&cli, 20, (const uint8_t *)"\1", 1);
			record(&cli, 23, NULL, 53);	/* Finished */
			record(&cli, 23, NULL, 200);	/* the first request */
			client_send(&cli); cli.n = 0;
		}
	}
	for (unsigned i = 0; i < nrec; i++)
		record(&app, 23, NULL, reclen);
	server_send(&app, mss);
	tcp(0, 0x11, NULL, 0);			/* FIN */
	if (fclose(out)) die("write failed");
	return 0;
}
