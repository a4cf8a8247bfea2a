// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The connection's I/O: OpenSSL reads from and writes to memory BIOs, and
 * tlsgen moves the bytes between them and the socket itself, parsing every
 * record header in both directions as it goes.  So tlsgen knows the stream
 * offset of every record (and, with the kernel's seq at one point, the TCP
 * seq of every record), and can look at a record's bytes (the TLS 1.2
 * explicit nonce, --verify) before they reach the socket.
 *
 * Record numbers come from OpenSSL's message callback: one SSL3_RT_HEADER
 * call per record built or read, and the Finished messages say where the
 * traffic keys (and their record numbers) start.  Nothing is assumed about
 * how many records (session tickets, say) a peer sends.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include "tlsgen.h"

static const char *ssl_error(void)
{
	unsigned long e = ERR_get_error();

	return e ? ERR_error_string(e, NULL) : "no OpenSSL error queued";
}

void io_init(struct conn_io *io, SSL *ssl, int fd, unsigned int timeout_s)
{
	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->ssl = ssl;
	io->timeout_s = timeout_s;
	io->out_fin = io->in_fin = -1;
	io->rbio = BIO_new(BIO_s_mem());
	io->wbio = BIO_new(BIO_s_mem());
	if (!io->rbio || !io->wbio)
		tg_die("out of memory (BIO)");
	/* An empty read BIO means "wait for more" until the socket's EOF. */
	BIO_set_mem_eof_return(io->rbio, -1);
	SSL_set_bio(ssl, io->rbio, io->wbio);
	SSL_set_msg_callback(ssl, io_msg_cb);
	SSL_set_msg_callback_arg(ssl, io);
}

static void stream_free(struct rec_stream *s)
{
	for (unsigned int i = 0; i < TLSGEN_MAX_VERIFY; i++) {
		if (s->cap[i])
			OPENSSL_cleanse(s->cap[i], s->cap_len[i]);
		free(s->cap[i]);
	}
	free(s->hdrs);
}

void io_free(struct conn_io *io)
{
	stream_free(&io->out);
	stream_free(&io->in);
	free(io->obuf);
}

void io_msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
	       SSL *ssl, void *arg)
{
	struct conn_io *io = arg;
	const uint8_t *b = buf;

	if (content_type == SSL3_RT_HEADER) {
		if (write_p)
			io->cb_out_headers++;
		else
			io->cb_in_headers++;
	} else if (content_type == SSL3_RT_HANDSHAKE && len > 0 && b[0] == SSL3_MT_FINISHED) {
		/* Called after the record(s) holding the message. */
		if (write_p)
			io->out_fin = io->cb_out_headers;
		else
			io->in_fin = io->cb_in_headers;
	}
}

uint64_t io_rec_sn(const struct conn_io *io, bool out, uint64_t index, uint16_t version)
{
	int64_t fin = out ? io->out_fin : io->in_fin;

	/* TLS 1.2: the Finished record is number 0 of the new keys, so
	 * application data starts at 1.  TLS 1.3: Finished is the last record
	 * of the handshake keys; the traffic keys start at 0 after it. */
	if (fin < 0 || index + 1 < (uint64_t)fin + (version == TLSHIM_TLS_1_2 ? 0 : 1))
		tg_die("record %llu of the %s stream is not under the traffic keys",
		       (unsigned long long)index, out ? "outgoing" : "incoming");
	return index - fin + (version == TLSHIM_TLS_1_2 ? 1 : 0);
}

void io_capture(struct rec_stream *s, uint64_t from, unsigned int n)
{
	s->cap_from = from;
	s->cap_n = n > TLSGEN_MAX_VERIFY ? TLSGEN_MAX_VERIFY : n;
	s->cap_done = 0;
}

static void header_done(struct rec_stream *s)
{
	uint64_t index = s->records++;

	s->rec_len = s->hdr[3] << 8 | s->hdr[4];
	s->body_left = s->rec_len;
	s->nonce_have = 0;
	if (s->log_headers) {
		if (s->nhdrs == s->hdrs_cap) {
			s->hdrs_cap = s->hdrs_cap ? 2 * s->hdrs_cap : 256;
			s->hdrs = realloc(s->hdrs, s->hdrs_cap * sizeof(*s->hdrs));
			if (!s->hdrs)
				tg_die("out of memory (record log)");
		}
		s->hdrs[s->nhdrs++] = (struct rec_hdr){ s->rec_off, index, s->rec_len };
	}
	if (s->cap_n && index >= s->cap_from && index < s->cap_from + s->cap_n) {
		unsigned int slot = index - s->cap_from;

		s->cap[slot] = malloc(TLS_HEADER_SIZE + s->rec_len);
		if (!s->cap[slot])
			tg_die("out of memory (verify capture)");
		memcpy(s->cap[slot], s->hdr, TLS_HEADER_SIZE);
		s->cap_len[slot] = TLS_HEADER_SIZE + s->rec_len;
		s->cap_have = TLS_HEADER_SIZE;
	}
}

static void record_done(struct rec_stream *s)
{
	uint64_t index = s->records - 1;

	if (s->nonce_have == 8)
		memcpy(s->last_nonce, s->nonce, 8);
	if (s->cap_n && index >= s->cap_from && index < s->cap_from + s->cap_n)
		s->cap_done++;
	s->hdr_have = 0;
}

static void stream_feed(struct rec_stream *s, const uint8_t *buf, size_t n)
{
	while (n) {
		if (s->hdr_have < TLS_HEADER_SIZE) {
			if (s->hdr_have == 0)
				s->rec_off = s->off;
			s->hdr[s->hdr_have++] = *buf++;
			s->off++;
			n--;
			if (s->hdr_have == TLS_HEADER_SIZE) {
				header_done(s);
				if (!s->body_left)
					record_done(s);
			}
			continue;
		}
		size_t take = n < s->body_left ? n : s->body_left;
		uint64_t index = s->records - 1;

		if (s->nonce_have < 8) {
			size_t k = take < 8 - s->nonce_have ? take : 8 - s->nonce_have;

			memcpy(s->nonce + s->nonce_have, buf, k);
			s->nonce_have += k;
		}
		if (s->cap_n && index >= s->cap_from && index < s->cap_from + s->cap_n) {
			memcpy(s->cap[index - s->cap_from] + s->cap_have, buf, take);
			s->cap_have += take;
		}
		s->body_left -= take;
		s->off += take;
		buf += take;
		n -= take;
		if (!s->body_left)
			record_done(s);
	}
}

static void wait_fd(struct conn_io *io, short events, const char *what)
{
	double deadline = tg_now() + io->timeout_s;

	for (;;) {
		struct pollfd p = { .fd = io->fd, .events = events };
		double left = deadline - tg_now();
		int r;

		if (left <= 0)
			tg_die("timed out (%u s) waiting to %s", io->timeout_s, what);
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return;
		if (r < 0 && errno != EINTR)
			tg_die("poll: %s", strerror(errno));
	}
}

void io_pull(struct conn_io *io)
{
	size_t pending;

	while ((pending = BIO_ctrl_pending(io->wbio)) > 0) {
		int r;

		if (io->olen + pending > io->ocap) {
			io->ocap = (io->olen + pending) * 2;
			io->obuf = realloc(io->obuf, io->ocap);
			if (!io->obuf)
				tg_die("out of memory (output buffer)");
		}
		r = BIO_read(io->wbio, io->obuf + io->olen, pending);
		if (r <= 0)
			tg_die("reading OpenSSL's output failed");
		stream_feed(&io->out, io->obuf + io->olen, r);
		io->olen += r;
	}
}

void io_push(struct conn_io *io)
{
	size_t done = 0;

	while (done < io->olen) {
		ssize_t w = write(io->fd, io->obuf + done, io->olen - done);

		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				wait_fd(io, POLLOUT, "write (send buffer stays full)");
				continue;
			}
			tg_die("write after %llu bytes: %s", (unsigned long long)io->out_sent,
			       strerror(errno));
		}
		done += w;
		io->out_sent += w;
	}
	io->olen = 0;
}

/* One read from the socket into the read BIO. */
static void io_fill(struct conn_io *io, const char *what)
{
	uint8_t buf[65536];
	ssize_t r;

	for (;;) {
		r = read(io->fd, buf, sizeof(buf));
		if (r >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			tg_die("read after %llu bytes: %s", (unsigned long long)io->in.off,
			       strerror(errno));
		wait_fd(io, POLLIN, what);
	}
	if (r == 0) {
		io->eof = true;
		BIO_set_mem_eof_return(io->rbio, 0);
		return;
	}
	stream_feed(&io->in, buf, r);
	if (BIO_write(io->rbio, buf, r) != r)
		tg_die("feeding OpenSSL failed");
}

void io_handshake(struct conn_io *io)
{
	for (;;) {
		int r = SSL_do_handshake(io->ssl), e = SSL_get_error(io->ssl, r);

		io_pull(io);
		io_push(io);
		if (r == 1)
			return;
		if (e != SSL_ERROR_WANT_READ)
			tg_die("TLS handshake failed: %s", ssl_error());
		if (io->eof)
			tg_die("the peer closed the connection during the handshake");
		io_fill(io, "read the peer's handshake");
	}
}

int io_read(struct conn_io *io, void *buf, int n)
{
	for (;;) {
		int r = SSL_read(io->ssl, buf, n), e = SSL_get_error(io->ssl, r);

		if (r > 0)
			return r;
		io_pull(io);
		io_push(io);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e != SSL_ERROR_WANT_READ)
			tg_die("TLS read failed after %llu bytes: %s",
			       (unsigned long long)io->in.off, ssl_error());
		if (io->eof)
			tg_die("the peer closed the connection without close_notify");
		io_fill(io, "read (no data and no close)");
	}
}

void io_write(struct conn_io *io, const void *buf, int n)
{
	int r = SSL_write(io->ssl, buf, n);

	if (r != n)
		tg_die("TLS write of %d bytes failed: %s", n, ssl_error());
}

size_t io_in_unconsumed(struct conn_io *io)
{
	return BIO_ctrl_pending(io->rbio) + (SSL_has_pending(io->ssl) ? 1 : 0);
}
