// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ktlsssl - a real TLS client and server (OpenSSL, full handshake) with
 * kernel TLS turned on through SSL_OP_ENABLE_KTLS, the way nginx and other
 * OpenSSL programs get kTLS.  For the VM tests: after the handshake OpenSSL
 * itself calls setsockopt(SOL_TLS), and tlshim must notice on its own.
 *
 *   ktlsssl server --listen ADDR:PORT --cert PEM --key PEM [--timeout SEC]
 *   ktlsssl client --connect ADDR:PORT --records N --size S
 *                  [--wait-file F] [--timeout SEC]
 *
 * TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 (Debian 12's OpenSSL 3.0 does
 * kTLS for TLS 1.3 on transmit only).  Both print, after the handshake,
 *   ktls send 0|1 recv 0|1 local ADDR:PORT remote ADDR:PORT
 * The client then waits for --wait-file, writes N records of S bytes
 * (SSL_write of S <= 16384 bytes is one record), sends close_notify and
 * prints 'sent BYTES bytes'; the server reads until close_notify, checks
 * the byte pattern and prints 'received BYTES bytes'.
 * Exit status: 0 ok, 1 failure, 2 bad command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static double deadline;

static void __attribute__((noreturn, format(printf, 1, 2))) bad_arg(const char *fmt, ...)
{
	va_list ap;

	fputs("ktlsssl: bad ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;
	unsigned long e = ERR_get_error();

	fputs("ktlsssl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e)
		fprintf(stderr, " (%s)", ERR_error_string(e, NULL));
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void resolve(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res;
	char host[128];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host) || s[0] == '[')
		bad_arg("address: '%s' (IPv4 ADDR:PORT)", s);
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	if (getaddrinfo(host, colon + 1, &hints, &res))
		bad_arg("address: '%s'", s);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

static const char *endpoint(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	const struct sockaddr_in *a = (const void *)ss;
	char h[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, h, sizeof(h));
	snprintf(buf, n, "%s:%u", h, ntohs(a->sin_port));
	return buf;
}

static void wait_fd(int fd, short ev, const char *what)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int ms = (int)((deadline - now_s()) * 1000);

	if (ms <= 0 || poll(&p, 1, ms) != 1)
		die("timed out waiting to %s", what);
}

static uint8_t pattern_byte(uint64_t off)
{
	return (uint8_t)(off * 7 + 13);
}

static SSL_CTX *new_ctx(int server, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx)
		die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	if (!SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256"))
		die("cipher list");
	SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
	if (server && (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
		       SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
		die("cannot load %s / %s", cert, key);
	return ctx;
}

static void report(SSL *ssl, int fd)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);
	char a[64], b[64];

	getsockname(fd, (void *)&l, &ll);
	getpeername(fd, (void *)&r, &rl);
	printf("ktls send %d recv %d local %s remote %s\n", (int)BIO_get_ktls_send(SSL_get_wbio(ssl)),
	       (int)BIO_get_ktls_recv(SSL_get_rbio(ssl)), endpoint(&l, a, sizeof(a)),
	       endpoint(&r, b, sizeof(b)));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *cert = NULL, *key = NULL, *wait_file = NULL;
	unsigned long records = 0, size = 0, timeout = 60;
	struct sockaddr_storage ss;
	socklen_t len;
	int server, fd, lfd = -1, one = 1;
	SSL_CTX *ctx;
	SSL *ssl;

	if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")))
		bad_arg("mode: %s (server or client)", argc < 2 ? "missing" : argv[1]);
	server = !strcmp(argv[1], "server");
	for (int i = 2; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			bad_arg("%s: needs a value", o);
		if (!strcmp(o, server ? "--listen" : "--connect"))
			addr = v;
		else if (server && !strcmp(o, "--cert"))
			cert = v;
		else if (server && !strcmp(o, "--key"))
			key = v;
		else if (!server && !strcmp(o, "--records"))
			records = strtoul(v, NULL, 10);
		else if (!server && !strcmp(o, "--size"))
			size = strtoul(v, NULL, 10);
		else if (!server && !strcmp(o, "--wait-file"))
			wait_file = v;
		else if (!strcmp(o, "--timeout"))
			timeout = strtoul(v, NULL, 10);
		else
			bad_arg("option: '%s'", o);
	}
	if (!addr || (server && (!cert || !key)) || (!server && (!records || !size || size > 16384)) ||
	    !timeout)
		bad_arg("arguments (see the comment at the top of tools/ktlsssl.c)");
	deadline = now_s() + timeout;
	resolve(addr, &ss, &len);
	ctx = new_ctx(server, cert, key);

	if (server) {
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (void *)&ss, len) || listen(lfd, 1))
			die("listen on %s: %s", addr, strerror(errno));
		printf("listening %s\n", addr);
		fflush(stdout);
		wait_fd(lfd, POLLIN, "accept");
		fd = accept(lfd, NULL, NULL);
	} else {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (void *)&ss, len))
			die("connect to %s: %s", addr, strerror(errno));
	}
	if (fd < 0)
		die("socket: %s", strerror(errno));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if ((server ? SSL_accept(ssl) : SSL_connect(ssl)) != 1)
		die("handshake failed");
	report(ssl, fd);

	if (server) {
		static char buf[16384];
		uint64_t total = 0;
		int n;

		while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
			for (int i = 0; i < n; i++)
				if ((uint8_t)buf[i] != pattern_byte(total + i))
					die("plaintext differs at byte %llu", (unsigned long long)(total + i));
			total += n;
		}
		if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN)
			die("read ended without close_notify after %llu bytes", (unsigned long long)total);
		SSL_shutdown(ssl);
		printf("received %llu bytes\n", (unsigned long long)total);
	} else {
		static uint8_t buf[16384];
		struct stat st;
		char c;

		while (wait_file && stat(wait_file, &st)) {
			if (now_s() > deadline)
				die("timed out waiting for %s", wait_file);
			usleep(10000);
		}
		for (unsigned long r = 0; r < records; r++) {
			for (unsigned long i = 0; i < size; i++)
				buf[i] = pattern_byte((uint64_t)r * size + i);
			if (SSL_write(ssl, buf, size) != (int)size)
				die("SSL_write of record %lu", r);
		}
		if (SSL_shutdown(ssl) < 0)
			die("SSL_shutdown");
		/* the server's close_notify, then EOF */
		while (SSL_read(ssl, &c, 1) > 0)
			;
		printf("sent %lu bytes\n", records * size);
	}
	SSL_free(ssl);
	close(fd);
	if (lfd >= 0)
		close(lfd);
	SSL_CTX_free(ctx);
	return 0;
}
