// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One tlsgen connection: handshake, install, transfer, close.
 *
 * The two ends agree on a point before which nothing of the transfer
 * flows, so each install covers every record after it:
 *
 *   sender S                                 receiver R
 *   handshake                                handshake
 *   "ready" (one record)  ----------------->  reads it: S sends nothing more
 *                                             install rx at rcv_nxt
 *                                             install tx (--install tx) and
 *                         <-----------------  "go" (one record)
 *   reads "go": R sends nothing more
 *   install rx (--install rx) at rcv_nxt
 *   first write into the memory BIO, install tx at write_seq (the TLS 1.2
 *   explicit nonce read from that record), publish --truth,
 *   then the bytes go to the socket; the transfer; close_notify
 *                                             reads to close_notify, replies
 *   reads R's close_notify                    with its own
 *
 * Every install is at the kernel's own seq (TCP_REPAIR), with the record
 * number counted from OpenSSL's Finished (io.c) and the stream offsets
 * tlsgen counted itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <linux/tcp.h>		/* TCP_INFO, TCP_REPAIR (tcp_seq.h) */
#include <openssl/crypto.h>
#include "common.h"
#include "tcp_seq.h"
#include "tlsgen.h"

static const char READY_MSG[] = "tlsgen ready";
static const char GO_MSG[] = "tlsgen go";

struct sess {
	const struct tg_opts *o;
	struct conn_io io;
	struct tg_result *r;
	uint8_t me[16], peer[16];
	uint16_t me_port, peer_port;
	/* The outgoing stream from the tx point on. */
	bool tx_armed, tx_ready, waited;
	double waited_s;		/* in --wait-file, not part of the transfer */
	uint32_t tx_seq;
};

static void flow_of(struct sess *s, struct tlshim_flow *f, bool from_me, uint8_t dir)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->saddr, from_me ? s->me : s->peer, 16);
	memcpy(f->daddr, from_me ? s->peer : s->me, 16);
	f->sport = from_me ? s->me_port : s->peer_port;
	f->dport = from_me ? s->peer_port : s->me_port;
	f->dir = dir;
}

static void sockaddr_to_flow(const struct sockaddr_storage *ss, uint8_t addr[16], uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &in->sin_addr, 4);
		*port = in->sin_port;
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		memcpy(addr, &in6->sin6_addr, 16);
		*port = in6->sin6_port;
	}
}

static void be64_inc(uint8_t *p, uint64_t add)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	v += add;
	for (int i = 0; i < 8; i++)
		p[i] = v >> (56 - 8 * i);
}

/* Reads exactly the message want (one record's worth) or dies. */
static void read_msg(struct sess *s, const char *want)
{
	char buf[64];
	size_t len = strlen(want), have = 0;

	while (have < len) {
		int n = io_read(&s->io, buf + have, len - have);

		if (n == 0)
			tg_die("the peer closed before sending \"%s\"", want);
		have += n;
	}
	if (memcmp(buf, want, len))
		tg_die("protocol: expected \"%s\" from the peer", want);
}

/* Everything the peer sent so far has been read and consumed, and the peer
 * sends nothing until we answer: the receive side's install point. */
static void install_rx(struct sess *s)
{
	struct conn_io *io = &s->io;
	struct tg_install *in = &s->r->rx;
	uint16_t version = s->o->version;
	int queued = -1;

	if (io_in_unconsumed(io) || io->in.hdr_have || io->in.body_left)
		tg_die("rx install point: %zu bytes read but not consumed", io_in_unconsumed(io));
	if (io->cb_in_headers != io->in.records)
		tg_die("rx install point: OpenSSL read %llu records, tlsgen parsed %llu",
		       (unsigned long long)io->cb_in_headers, (unsigned long long)io->in.records);
	in->start_index = io->in.records;
	in->start_off = io->in.off;
	in->rec_sn = io_rec_sn(io, false, in->start_index, version);
	flow_of(s, &in->flow, false, TLSHIM_DIR_RX);
	keys_derive(io->ssl, !s->r->client, version, s->o->cipher, &in->crypto);
	keys_set_rec_seq(&in->crypto, in->rec_sn);
	if (version == TLSHIM_TLS_1_2 && s->o->cipher != TLSHIM_CIPHER_CHACHA20_POLY1305) {
		/* OpenSSL counts the explicit nonce up by one per record: the next
		 * record's is the last one's + 1 (--verify checks it on the wire). */
		memcpy(in->crypto.iv, io->in.last_nonce, 8);
		be64_inc(in->crypto.iv, 1);
	}
	if (!s->r->sender && s->o->verify)
		io_capture(&io->in, in->start_index, s->o->verify);
	if (!(s->o->install & TG_INSTALL_RX))
		return;
	if (ioctl(io->fd, SIOCINQ, &queued) || queued != 0)
		tg_die("rx install point: %d bytes still queued in the socket", queued);
	if ((errno = tcp_queue_seq(io->fd, TCP_RECV_QUEUE, &in->tcp_seq)))
		tg_die("reading rcv_nxt (TCP_REPAIR): %s (needs CAP_NET_ADMIN)", strerror(errno));
	dev_install(&in->flow, &in->crypto, in->tcp_seq, in->rec_sn, s->o->policy);
	in->done = true;
}

/* From here on the outgoing records are the ones tx and --truth cover. */
static void arm_tx(struct sess *s)
{
	struct conn_io *io = &s->io;

	io_pull(io);
	io_push(io);
	if (io->out.hdr_have || io->out.body_left)
		tg_die("tx install point inside a record");
	s->r->tx.start_index = io->out.records;
	s->r->tx.start_off = io->out.off;
	if (s->r->sender && s->o->verify)
		io_capture(&io->out, io->out.records, s->o->verify);
	io->out.log_headers = s->o->truth;
	io->out.nhdrs = 0;
	s->tx_armed = true;
}

/* The first bytes after the tx point are in obuf, not yet on the socket:
 * write_seq is where they start. */
static void install_tx(struct sess *s)
{
	struct conn_io *io = &s->io;
	struct tg_install *t = &s->r->tx;
	uint16_t version = s->o->version;

	if (io->out_sent != t->start_off || io->olen < TLS_HEADER_SIZE + 8)
		tg_die("tx install point: the first record is not at the start of the output");
	t->rec_sn = io_rec_sn(io, true, t->start_index, version);
	flow_of(s, &t->flow, true, TLSHIM_DIR_TX);
	keys_derive(io->ssl, s->r->client, version, s->o->cipher, &t->crypto);
	keys_set_rec_seq(&t->crypto, t->rec_sn);
	if (version == TLSHIM_TLS_1_2 && s->o->cipher != TLSHIM_CIPHER_CHACHA20_POLY1305)
		memcpy(t->crypto.iv, io->obuf + TLS_HEADER_SIZE, 8);	/* from the wire */
	if ((s->o->install & TG_INSTALL_TX) || s->o->truth || s->o->wait_file) {
		if ((errno = tcp_queue_seq(io->fd, TCP_SEND_QUEUE, &s->tx_seq)))
			tg_die("reading write_seq (TCP_REPAIR): %s (needs CAP_NET_ADMIN)",
			       strerror(errno));
		t->tcp_seq = s->tx_seq;
	}
	if (s->o->install & TG_INSTALL_TX) {
		dev_install(&t->flow, &t->crypto, t->tcp_seq, t->rec_sn, s->o->policy);
		t->done = true;
	}
	s->tx_ready = true;
}

static void wait_for_file(struct sess *s)
{
	double deadline = tg_now() + s->o->timeout_s;
	struct stat st;

	while (stat(s->o->wait_file, &st)) {
		if (errno != ENOENT)
			tg_die("--wait-file %s: %s", s->o->wait_file, strerror(errno));
		if (tg_now() >= deadline)
			tg_die("timed out waiting for --wait-file %s", s->o->wait_file);
		usleep(2000);
	}
}

/* OpenSSL's output to the socket, through the tx install and --truth. */
static void send_out(struct sess *s)
{
	struct conn_io *io = &s->io;

	io_pull(io);
	if (!io->olen)
		return;
	if (s->tx_armed && !s->tx_ready)
		install_tx(s);
	if (s->tx_armed && s->r->sender && s->o->wait_file && !s->waited) {
		/* For scripts that set up counters from this seq on. */
		fprintf(stderr, "tlsgen: tx point tcp_seq %u rec_seq %llu stream_record %llu, "
			"waiting for %s\n", s->tx_seq, (unsigned long long)s->r->tx.rec_sn,
			(unsigned long long)s->r->tx.start_index, s->o->wait_file);
		s->waited_s = tg_now();
		wait_for_file(s);
		s->waited_s = tg_now() - s->waited_s;
		s->waited = true;
	}
	if (s->tx_armed && s->o->truth && io->out.nhdrs) {
		struct tlshim_flow f;

		flow_of(s, &f, true, TLSHIM_DIR_RX);	/* as the receiving device names it */
		s->r->truth += dev_truth(&f, io->out.hdrs, io->out.nhdrs, s->r->tx.start_off,
					 s->tx_seq, s->r->tx.start_index, s->r->tx.rec_sn);
		io->out.nhdrs = 0;
	}
	io_push(io);
}

static void close_tls(struct sess *s)
{
	if (SSL_shutdown(s->io.ssl) < 0)
		tg_die("sending close_notify failed");
	send_out(s);
}

static void run_sender(struct sess *s)
{
	const struct tg_opts *o = s->o;
	uint32_t w = o->write_size, rs = o->record_size;
	uint8_t *pt = malloc(w);
	double start, end;
	uint64_t left = o->bytes;

	if (!pt)
		tg_die("out of memory");
	for (uint32_t i = 0; i < w; i++)
		pt[i] = (uint8_t)(i * 7 + 1);
	io_write(&s->io, READY_MSG, strlen(READY_MSG));
	send_out(s);
	read_msg(s, GO_MSG);
	install_rx(s);
	arm_tx(s);
	start = tg_now();
	end = start + o->duration_s;
	while (o->duration_s ? tg_now() < end : left > 0) {
		uint32_t n = o->duration_s || left > w ? w : (uint32_t)left;

		/* Each SSL_write of at most record_size bytes is one record. */
		for (uint32_t off = 0; off < n; off += rs) {
			io_write(&s->io, pt + off, n - off < rs ? n - off : rs);
			s->r->app_records++;
		}
		send_out(s);
		s->r->app_bytes += n;
		if (!o->duration_s)
			left -= n;
	}
	close_tls(s);
	shutdown(s->io.fd, SHUT_WR);
	{
		char buf[256];

		if (io_read(&s->io, buf, sizeof(buf)) != 0)
			tg_die("the receiver sent data instead of close_notify");
	}
	s->r->elapsed = tg_now() - start - s->waited_s;
	free(pt);
}

static void run_receiver(struct sess *s)
{
	static uint8_t buf[65536];
	double start;
	int n;

	read_msg(s, READY_MSG);
	install_rx(s);
	arm_tx(s);
	io_write(&s->io, GO_MSG, strlen(GO_MSG));
	send_out(s);
	start = tg_now();
	while ((n = io_read(&s->io, buf, sizeof(buf))) > 0)
		s->r->app_bytes += n;
	s->r->app_records = s->io.in.records - s->r->rx.start_index - 1;	/* - close_notify */
	close_tls(s);
	s->r->elapsed = tg_now() - start;
}

static void verify(struct sess *s)
{
	struct rec_stream *st = s->r->sender ? &s->io.out : &s->io.in;
	struct tg_install *in = s->r->sender ? &s->r->tx : &s->r->rx;

	if (!st->cap_done)
		tg_die("verify: no record to check after the install point");
	s->r->verified = verify_records(&in->crypto, st->cap, st->cap_len, st->cap_done,
					in->rec_sn);
}

void session_run(const struct tg_opts *o, SSL_CTX *ctx, int fd, bool client,
		 struct tg_result *r)
{
	struct sockaddr_storage local, peer;
	socklen_t ll = sizeof(local), pl = sizeof(peer);
	struct sess s = { .o = o, .r = r };
	SSL *ssl = SSL_new(ctx);

	memset(r, 0, sizeof(*r));
	r->client = client;
	r->sender = client != o->reverse;
	r->retrans = -1;
	if (!ssl)
		tg_die("SSL_new failed");
	if (getsockname(fd, (struct sockaddr *)&local, &ll) ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl))
		tg_die("getsockname/getpeername: %s", strerror(errno));
	sockaddr_to_flow(&local, s.me, &s.me_port);
	sockaddr_to_flow(&peer, s.peer, &s.peer_port);
	format_endpoint(r->local, s.me, s.me_port);
	format_endpoint(r->remote, s.peer, s.peer_port);
	if (client)
		SSL_set_connect_state(ssl);
	else
		SSL_set_accept_state(ssl);
	io_init(&s.io, ssl, fd, o->timeout_s);
	io_handshake(&s.io);
	if (r->sender)
		run_sender(&s);
	else
		run_receiver(&s);
	if (o->verify)
		verify(&s);
	r->rx.records = s.io.in.records - r->rx.start_index;
	r->rx.bytes = s.io.in.off - r->rx.start_off;
	r->tx.records = s.io.out.records - r->tx.start_index;
	r->tx.bytes = s.io.out.off - r->tx.start_off;
	r->records_out = s.io.out.records;
	r->records_in = s.io.in.records;
	r->wire_out = s.io.out.off;
	r->wire_in = s.io.in.off;
	if (r->sender) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		if (!getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl))
			r->retrans = ti.tcpi_total_retrans;
	}
	io_free(&s.io);
	SSL_free(ssl);
	keys_forget();
}

void session_clear(const struct tg_opts *o, struct tg_result *r)
{
	if (!o->keep) {
		if (r->rx.done)
			dev_remove(&r->rx.flow);
		if (r->tx.done)
			dev_remove(&r->tx.flow);
	}
	OPENSSL_cleanse(&r->rx.crypto, sizeof(r->rx.crypto));
	OPENSSL_cleanse(&r->tx.crypto, sizeof(r->tx.crypto));
}
