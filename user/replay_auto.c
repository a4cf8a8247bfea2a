// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* TLS connections in a capture (replay_auto.h has the rules). */
#include <stdlib.h>
#include <string.h>
#include "replay_auto.h"

#define HS_CLIENT_HELLO	1
#define HS_SERVER_HELLO	2
#define EXT_SUPPORTED_VERSIONS	0x002b

static uint16_t get16(const uint8_t *p) { return p[0] << 8 | p[1]; }

/* The handshake type of the stream's first record, or -1. */
static int first_handshake(const struct rstream *s, const struct rrec *r, size_t n)
{
	if (!n || r[0].ct != TLS_CT_HANDSHAKE || r[0].len < TLS_HEADER_SIZE + 4 ||
	    !rstream_has(s, r[0].rel + TLS_HEADER_SIZE, 1))
		return -1;
	return s->data[r[0].rel + TLS_HEADER_SIZE];
}

static bool suite_cipher(uint16_t suite, uint16_t *cipher)
{
	switch (suite) {
	case 0x1301: case 0x009c: case 0x009e: case 0x00a2: case 0xc02b: case 0xc02f:
		*cipher = TLSHIM_CIPHER_AES_GCM_128;
		return true;
	case 0x1302: case 0x009d: case 0x009f: case 0x00a3: case 0xc02c: case 0xc030:
		*cipher = TLSHIM_CIPHER_AES_GCM_256;
		return true;
	case 0x1303: case 0xcca8: case 0xcca9: case 0xccaa:
		*cipher = TLSHIM_CIPHER_CHACHA20_POLY1305;
		return true;
	}
	return false;
}

/* Version and cipher suite from the ServerHello in record r (which must be
 * captured whole).  0 on success, else a reason in why. */
static int server_hello(const struct rstream *s, const struct rrec *r, uint16_t *version,
			uint16_t *suite, const char **why)
{
	const uint8_t *p, *end;
	uint32_t hs_len;

	if (!r->complete) {
		*why = "ServerHello record not captured whole";
		return -1;
	}
	p = s->data + r->rel + TLS_HEADER_SIZE;
	end = s->data + r->rel + r->len;
	hs_len = p[1] << 16 | p[2] << 8 | p[3];
	if (p + 4 + hs_len < end)
		end = p + 4 + hs_len;
	p += 4;
	if (end - p < 2 + 32 + 1)
		goto short_hello;
	*version = get16(p);
	p += 2 + 32;
	p += 1 + p[0];				/* session id */
	if (end - p < 3)
		goto short_hello;
	*suite = get16(p);
	p += 3;					/* suite, compression */
	if (end - p >= 2) {
		const uint8_t *ext_end = p + 2 + get16(p);

		p += 2;
		if (ext_end > end)
			ext_end = end;
		while (ext_end - p >= 4) {
			uint16_t type = get16(p), len = get16(p + 2);

			if (p + 4 + len > ext_end)
				break;
			if (type == EXT_SUPPORTED_VERSIONS && len == 2)
				*version = get16(p + 4);
			p += 4 + len;
		}
	}
	return 0;
short_hello:
	*why = "ServerHello too short";
	return -1;
}

/* Index of the nth (0-based) record of type ct at or after record from. */
static long nth_of_type(const struct rrec *r, size_t n, size_t from, uint8_t ct, int nth)
{
	for (size_t i = from; i < n; i++)
		if (r[i].ct == ct && nth-- == 0)
			return i;
	return -1;
}

static bool is_local(const struct local_addrs *local, const uint8_t addr[16])
{
	for (int i = 0; i < local->n; i++)
		if (!memcmp(local->addr[i], addr, 16))
			return true;
	return false;
}

static void flow_of(const struct rstream *s, const struct local_addrs *local,
		    struct tlshim_flow *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->saddr, s->saddr, 16);
	memcpy(f->daddr, s->daddr, 16);
	f->sport = s->sport;
	f->dport = s->dport;
	/* Sent from a local address: we transmit it; otherwise we receive it
	 * (the default: the capture seen as each stream's receiving NIC). */
	f->dir = is_local(local, s->saddr) ? TLSHIM_DIR_TX : TLSHIM_DIR_RX;
}

static void name_stream(const struct rstream *s, char *buf)
{
	char a[ENDPOINT_STRLEN], b[ENDPOINT_STRLEN];

	format_endpoint(a, s->saddr, s->sport);
	format_endpoint(b, s->daddr, s->dport);
	sprintf(buf, "%s -> %s", a, b);
}

size_t replay_auto_find(const struct rstream_set *set, const struct local_addrs *local,
			struct auto_conn *out, size_t max, FILE *log)
{
	size_t found = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct rstream *srv = &set->s[i], *cli;
		struct rrec *sr = NULL, *cr = NULL;
		size_t ns = 0, nc = 0;
		uint16_t version = 0, suite = 0, cipher;
		const char *why = NULL;
		char name[2 * ENDPOINT_STRLEN + 8];
		long cs, ss;

		sr = rstream_chain(srv, 0, &ns);
		if (first_handshake(srv, sr, ns) != HS_SERVER_HELLO)
			goto next;
		name_stream(srv, name);
		cli = rstream_get((struct rstream_set *)set, srv->daddr, srv->saddr, srv->dport,
				  srv->sport, false);
		if (cli)
			cr = rstream_chain(cli, 0, &nc);
		if (!cli || first_handshake(cli, cr, nc) != HS_CLIENT_HELLO) {
			fprintf(log, "auto: %s: ServerHello without the client's ClientHello: skipped\n", name);
			goto next;
		}
		if (server_hello(srv, &sr[0], &version, &suite, &why)) {
			fprintf(log, "auto: %s: %s: skipped\n", name, why);
			goto next;
		}
		if (version != TLSHIM_TLS_1_2 && version != TLSHIM_TLS_1_3) {
			fprintf(log, "auto: %s: TLS version 0x%04x not offloadable: skipped\n", name, version);
			goto next;
		}
		if (!suite_cipher(suite, &cipher)) {
			fprintf(log, "auto: %s: cipher suite 0x%04x not offloadable: skipped\n", name, suite);
			goto next;
		}
		if (version == TLSHIM_TLS_1_2) {
			cs = nth_of_type(cr, nc, 0, TLS_CT_APPLICATION_DATA, 0);
			ss = nth_of_type(sr, ns, 0, TLS_CT_APPLICATION_DATA, 0);
		} else {
			long fin = nth_of_type(cr, nc, 0, TLS_CT_APPLICATION_DATA, 0);

			cs = nth_of_type(cr, nc, 0, TLS_CT_APPLICATION_DATA, 1);
			ss = -1;
			for (size_t k = 0; fin >= 0 && k < ns; k++)
				if (sr[k].ct == TLS_CT_APPLICATION_DATA && sr[k].first_pkt != UINT64_MAX &&
				    sr[k].first_pkt > cr[fin].first_pkt) {
					ss = k;
					break;
				}
		}
		for (int side = 0; side < 2 && found < max; side++) {
			const struct rstream *s = side ? srv : cli;
			long k = side ? ss : cs;
			struct auto_conn *a = &out[found];
			char sname[2 * ENDPOINT_STRLEN + 8];

			name_stream(s, sname);
			if (k < 0) {
				fprintf(log, "auto: %s: no application data record captured: skipped\n", sname);
				continue;
			}
			flow_of(s, local, &a->flow);
			a->version = version;
			a->cipher = cipher;
			a->tcp_seq = s->base + (side ? sr : cr)[k].rel;
			a->rec_sn = version == TLSHIM_TLS_1_2 ? 1 : 0;
			a->relative = version == TLSHIM_TLS_1_3 && side;
			found++;
		}
next:
		free(sr);
		free(cr);
	}
	return found;
}
