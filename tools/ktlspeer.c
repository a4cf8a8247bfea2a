// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ktlspeer - both ends of a kernel-TLS (kTLS) connection, for the VM tests.
 * No handshake: both ends set the same made-up keys with
 * setsockopt(SOL_TLS, TLS_TX/TLS_RX), which is all the kernel needs to
 * frame, encrypt and decrypt records, so data round-trips through real kTLS.
 *
 *   ktlspeer server --listen ADDR:PORT [CRYPTO] [--hold-file F] [--timeout SEC]
 *   ktlspeer client --connect ADDR:PORT --records N --size S [CRYPTO]
 *                   [--pre-records P] [--pre-wait-file F] [--wait-file F]
 *                   [--timeout SEC]
 *   CRYPTO: [--version 1.2|1.3] [--cipher aes-gcm-128|aes-gcm-256|chacha20-poly1305]
 *
 * server: accepts one connection, turns kTLS on (RX then TX), prints
 *   accepted local ADDR:PORT remote ADDR:PORT rx_seq N tx_seq N
 * (rx_seq = copied_seq, tx_seq = write_seq at that moment: tls_dev_add's
 * start seqs), reads plaintext until EOF checking the byte pattern, prints
 * 'eof BYTES', waits for --hold-file (the socket still open, so a test can
 * look at its state), sends one reply record "received BYTES", closes,
 * prints 'received BYTES bytes'.
 * client: connects, turns kTLS on (TX then RX), prints
 *   local ADDR:PORT remote ADDR:PORT tx_seq N rx_seq N
 * waits for --pre-wait-file, sends P records, prints
 *   position tx_seq N rec_sn P
 * waits for --wait-file, sends the other N-P records (one send() of S bytes
 * each: one record each), prints
 *   records first_seq N stride W count N
 * (record k starts at first_seq + k*W and has record number k), shuts down
 * writing, reads the reply and the server's FIN, closes, prints
 * 'sent BYTES bytes reply received BYTES'.
 *
 * Keys are fixed test patterns (different per direction); nothing secret.
 * Exit status: 0 ok, 1 failure, 2 bad command line (one line naming it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/tls.h>
#include "tcp_seq.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#define Q_RECV 1	/* TCP_RECV_QUEUE */
#define Q_SEND 2	/* TCP_SEND_QUEUE */

static const char *prog = "ktlspeer";
static double deadline;

static void __attribute__((noreturn, format(printf, 1, 2))) bad_arg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: bad ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct cfg {
	const char *addr;
	uint16_t version, cipher;
	unsigned long records, pre_records, size;
	const char *wait_file, *pre_wait_file, *hold_file;
	unsigned long timeout;
};

static unsigned long num(const char *opt, const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (!*s || *s == '-' || *end || errno || v < min || v > max)
		bad_arg("%s: '%s' (a number in %lu..%lu)", opt, s, min, max);
	return v;
}

static void parse(int argc, char **argv, struct cfg *c, bool server)
{
	c->version = TLS_1_2_VERSION;
	c->cipher = TLS_CIPHER_AES_GCM_128;
	c->timeout = 60;
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			bad_arg("%s: needs a value", o);
		i++;
		if (!strcmp(o, server ? "--listen" : "--connect"))
			c->addr = v;
		else if (!strcmp(o, "--version"))
			c->version = !strcmp(v, "1.2") ? TLS_1_2_VERSION :
				     !strcmp(v, "1.3") ? TLS_1_3_VERSION :
				     (bad_arg("--version: '%s' (1.2 or 1.3)", v), 0);
		else if (!strcmp(o, "--cipher"))
			c->cipher = !strcmp(v, "aes-gcm-128") ? TLS_CIPHER_AES_GCM_128 :
				    !strcmp(v, "aes-gcm-256") ? TLS_CIPHER_AES_GCM_256 :
				    !strcmp(v, "chacha20-poly1305") ? TLS_CIPHER_CHACHA20_POLY1305 :
				    (bad_arg("--cipher: '%s'", v), 0);
		else if (!strcmp(o, "--timeout"))
			c->timeout = num(o, v, 1, 3600);
		else if (server && !strcmp(o, "--hold-file"))
			c->hold_file = v;
		else if (!server && !strcmp(o, "--records"))
			c->records = num(o, v, 1, 10000000);
		else if (!server && !strcmp(o, "--pre-records"))
			c->pre_records = num(o, v, 0, 10000000);
		else if (!server && !strcmp(o, "--size"))
			c->size = num(o, v, 1, 16384);
		else if (!server && !strcmp(o, "--wait-file"))
			c->wait_file = v;
		else if (!server && !strcmp(o, "--pre-wait-file"))
			c->pre_wait_file = v;
		else
			bad_arg("option: '%s' (see the comment at the top of tools/ktlspeer.c)", o);
	}
	if (!c->addr)
		bad_arg("%s: missing", server ? "--listen" : "--connect");
	if (!server && (!c->records || !c->size))
		bad_arg("--records/--size: both needed");
	if (c->pre_records > c->records)
		bad_arg("--pre-records: more than --records");
	deadline = now_s() + c->timeout;
}

static void resolve(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res;
	char host[128];
	const char *port;

	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host))
			bad_arg("address: '%s'", s);
		memcpy(host, s + 1, e - s - 1);
		host[e - s - 1] = 0;
		port = e + 2;
	} else {
		const char *e = strrchr(s, ':');

		if (!e || (size_t)(e - s) >= sizeof(host))
			bad_arg("address: '%s'", s);
		memcpy(host, s, e - s);
		host[e - s] = 0;
		port = e + 1;
	}
	if (getaddrinfo(host, port, &hints, &res))
		bad_arg("address: '%s'", s);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

static const char *endpoint(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char h[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof(h));
		snprintf(buf, n, "[%s]:%u", h, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)ss;

		inet_ntop(AF_INET, &a->sin_addr, h, sizeof(h));
		snprintf(buf, n, "%s:%u", h, ntohs(a->sin_port));
	}
	return buf;
}

static void wait_fd(int fd, short ev, const char *what)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int ms = (int)((deadline - now_s()) * 1000);

	if (ms <= 0 || poll(&p, 1, ms) != 1)
		die("timed out waiting to %s", what);
}

static void wait_file(const char *path)
{
	struct stat st;

	while (path && stat(path, &st)) {
		if (now_s() > deadline)
			die("timed out waiting for %s", path);
		usleep(10000);
	}
}

/* copied_seq (receive queue, when empty: rcv_nxt) or write_seq (send
 * queue), read with TCP_REPAIR (tools/tcp_seq.h). */
static uint32_t queue_seq(int fd, int queue)
{
	uint32_t seq = 0;
	int err = tcp_queue_seq(fd, queue, &seq);

	if (err)
		die("TCP_REPAIR / TCP_QUEUE_SEQ: %s", strerror(err));
	return seq;
}

/* One direction's crypto_info: a fixed pattern per direction (client to
 * server = 1, server to client = 2), record numbers from 0. */
static void set_key(int fd, const struct cfg *c, int optname, int pattern)
{
	union {
		struct tls12_crypto_info_aes_gcm_128 g128;
		struct tls12_crypto_info_aes_gcm_256 g256;
		struct tls12_crypto_info_chacha20_poly1305 cc;
	} ci;
	socklen_t len;
	uint8_t *p;

	memset(&ci, 0, sizeof(ci));
	ci.g128.info.version = c->version;
	ci.g128.info.cipher_type = c->cipher;
	switch (c->cipher) {
	case TLS_CIPHER_AES_GCM_256: len = sizeof(ci.g256); break;
	case TLS_CIPHER_CHACHA20_POLY1305: len = sizeof(ci.cc); break;
	default: len = sizeof(ci.g128);
	}
	/* iv/key/salt follow the 4-byte info; rec_seq (last 8 bytes) stays 0 */
	p = (uint8_t *)&ci + sizeof(struct tls_crypto_info);
	for (size_t i = 0; i < len - sizeof(struct tls_crypto_info) - 8; i++)
		p[i] = (uint8_t)(pattern * 37 + i * 11);
	if (setsockopt(fd, SOL_TLS, optname, &ci, len))
		die("setsockopt(SOL_TLS, %s): %s", optname == TLS_TX ? "TLS_TX" : "TLS_RX",
		    strerror(errno));
	memset(&ci, 0, sizeof(ci));
}

static void ktls_on(int fd)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		die("TCP_ULP tls: %s (is the tls module loaded?)", strerror(errno));
}

static uint8_t pattern_byte(uint64_t off)
{
	return (uint8_t)(off * 7 + 13);
}

/* Bytes a record adds around S bytes of plaintext on the wire. */
static unsigned long record_overhead(const struct cfg *c)
{
	if (c->version == TLS_1_3_VERSION)
		return 5 + 16 + 1;		/* header, tag, inner content type */
	if (c->cipher == TLS_CIPHER_CHACHA20_POLY1305)
		return 5 + 16;
	return 5 + 8 + 16;			/* header, explicit nonce, tag */
}

static int run_server(int argc, char **argv)
{
	struct sockaddr_storage ss, peer, local;
	socklen_t len, plen = sizeof(peer), llen = sizeof(local);
	char a[80], b[80], buf[16384], reply[64];
	uint64_t total = 0;
	int lfd, fd, one = 1;
	uint32_t rx_seq, tx_seq;
	struct cfg c = {};

	parse(argc, argv, &c, true);
	resolve(c.addr, &ss, &len);
	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (void *)&ss, len) || listen(lfd, 1))
		die("listen on %s: %s", c.addr, strerror(errno));
	printf("listening %s\n", c.addr);
	fflush(stdout);
	wait_fd(lfd, POLLIN, "accept");
	fd = accept(lfd, (void *)&peer, &plen);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	getsockname(fd, (void *)&local, &llen);
	rx_seq = queue_seq(fd, Q_RECV);
	tx_seq = queue_seq(fd, Q_SEND);
	ktls_on(fd);
	set_key(fd, &c, TLS_RX, 1);
	set_key(fd, &c, TLS_TX, 2);
	printf("accepted local %s remote %s rx_seq %u tx_seq %u\n", endpoint(&local, a, sizeof(a)),
	       endpoint(&peer, b, sizeof(b)), rx_seq, tx_seq);
	fflush(stdout);
	for (;;) {
		ssize_t n;

		wait_fd(fd, POLLIN, "read");
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			die("recv after %llu bytes: %s", (unsigned long long)total, strerror(errno));
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if ((uint8_t)buf[i] != pattern_byte(total + i))
				die("plaintext differs at byte %llu", (unsigned long long)(total + i));
		total += n;
	}
	printf("eof %llu\n", (unsigned long long)total);
	fflush(stdout);
	wait_file(c.hold_file);
	snprintf(reply, sizeof(reply), "received %llu", (unsigned long long)total);
	if (send(fd, reply, strlen(reply), 0) != (ssize_t)strlen(reply))
		die("reply: %s", strerror(errno));
	close(fd);
	close(lfd);
	printf("received %llu bytes\n", (unsigned long long)total);
	return 0;
}

static void send_records(int fd, const struct cfg *c, unsigned long from, unsigned long to)
{
	static uint8_t buf[16384];

	for (unsigned long r = from; r < to; r++) {
		for (unsigned long i = 0; i < c->size; i++)
			buf[i] = pattern_byte((uint64_t)r * c->size + i);
		wait_fd(fd, POLLOUT, "send");
		/* One send() without MSG_MORE = exactly one record. */
		if (send(fd, buf, c->size, 0) != (ssize_t)c->size)
			die("send of record %lu: %s", r, strerror(errno));
	}
}

static int run_client(int argc, char **argv)
{
	struct sockaddr_storage ss, local;
	socklen_t len, llen = sizeof(local);
	char a[80], b[80], reply[64] = "";
	unsigned long stride;
	uint32_t tx_seq, rx_seq;
	struct cfg c = {};
	ssize_t n;
	int fd;

	parse(argc, argv, &c, false);
	resolve(c.addr, &ss, &len);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (connect(fd, (void *)&ss, len))
		die("connect to %s: %s", c.addr, strerror(errno));
	getsockname(fd, (void *)&local, &llen);
	tx_seq = queue_seq(fd, Q_SEND);
	rx_seq = queue_seq(fd, Q_RECV);
	ktls_on(fd);
	set_key(fd, &c, TLS_TX, 1);
	set_key(fd, &c, TLS_RX, 2);
	printf("local %s remote %s tx_seq %u rx_seq %u\n", endpoint(&local, a, sizeof(a)),
	       endpoint(&ss, b, sizeof(b)), tx_seq, rx_seq);
	fflush(stdout);
	stride = c.size + record_overhead(&c);

	wait_file(c.pre_wait_file);
	send_records(fd, &c, 0, c.pre_records);
	printf("position tx_seq %u rec_sn %lu\n", (uint32_t)(tx_seq + c.pre_records * stride),
	       c.pre_records);
	fflush(stdout);
	wait_file(c.wait_file);
	send_records(fd, &c, c.pre_records, c.records);
	printf("records first_seq %u stride %lu count %lu\n", tx_seq, stride, c.records);
	fflush(stdout);
	shutdown(fd, SHUT_WR);
	wait_fd(fd, POLLIN, "read the reply");
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	if (n <= 0)
		die("no reply: %s", n < 0 ? strerror(errno) : "EOF");
	reply[n] = 0;
	/* Close only after the server's FIN: the socket then goes through
	 * TCP_CLOSE before close() (FIN_WAIT2 -> TIME_WAIT hands over to a
	 * timewait sock and releases the port), the harder case for whoever
	 * watches the close. */
	wait_fd(fd, POLLIN, "read the server's FIN");
	if (recv(fd, reply + n, 1, 0) != 0)
		die("data after the reply");
	close(fd);
	printf("sent %lu bytes reply %s\n", c.records * c.size, reply);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		bad_arg("mode: missing (server or client)");
	if (!strcmp(argv[1], "server"))
		return run_server(argc - 2, argv + 2);
	if (!strcmp(argv[1], "client"))
		return run_client(argc - 2, argv + 2);
	bad_arg("mode: '%s' (server or client)", argv[1]);
}
