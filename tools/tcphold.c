// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcphold - TCP sockets that stay open and never read, for the tests of
 * `tlshim conn add --tcp-seq auto` (tests/cli/seq_auto.sh).
 *
 *   tcphold listen ADDR:PORT [--accept] [--timeout SEC]
 *   tcphold connect ADDR:PORT [--send N] [--timeout SEC]
 *
 * listen: prints "listening ADDR:PORT" (IPv6 [::] takes IPv4 too, as
 * v4-mapped).  With --accept it accepts one connection; without, connections
 * stay in the accept queue (ESTABLISHED sockets nobody reads).
 * connect: connects, prints "connected ..." (below), sends N bytes (default
 * 0), waits until the peer ACKed them and prints "sent ...".
 * Each line is read from the kernel with TCP_REPAIR (TCP_QUEUE_SEQ of the
 * send and of the receive queue: write_seq and rcv_nxt):
 *   accepted|connected|sent local ADDR:PORT remote ADDR:PORT write_seq N rcv_nxt M
 * and hold the socket, never reading, until --timeout seconds (default
 * 60) pass or SIGTERM.
 * Exit status: 0 ok, 1 failure, 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TCP_REPAIR_OFF_NO_WP
#define TCP_REPAIR_OFF_NO_WP -1
#endif

static void bad(const char *field, const char *why)
{
	fprintf(stderr, "tcphold: bad %s: %s\n", field, why);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "tcphold: %s: %s\n", what, strerror(errno));
	exit(1);
}

static socklen_t parse_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		bad("address", "use ADDR:PORT or [ADDR6]:PORT");
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || !colon[1])
		bad("address", "port must be 0..65535");
	if (s[0] == '[') {
		if (colon[-1] != ']')
			bad("address", "use [ADDR6]:PORT");
		memcpy(host, s + 1, colon - s - 2);
		host[colon - s - 2] = 0;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			bad("address", "not an IPv6 address");
		return sizeof(*a6);
	}
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		bad("address", "not an IPv4 address");
	return sizeof(*a4);
}

static const char *fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin_port));
	}
	return buf;
}

/* TCP_QUEUE_SEQ of one queue: write_seq (send) or rcv_nxt (receive). */
static unsigned queue_seq(int fd, int queue)
{
	int on = TCP_REPAIR_ON, off = TCP_REPAIR_OFF_NO_WP;
	unsigned seq;
	socklen_t len = sizeof(seq);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		die("TCP_REPAIR on");
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, &len))
		die("TCP_QUEUE_SEQ");
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)))
		die("TCP_REPAIR off");
	return seq;
}

static void report(int fd, const char *what)
{
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	char a[80], b[80];

	if (getsockname(fd, (struct sockaddr *)&local, &llen) ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen))
		die("getsockname/getpeername");
	printf("%s local %s remote %s write_seq %u rcv_nxt %u\n", what,
	       fmt(&local, a, sizeof(a)), fmt(&peer, b, sizeof(b)),
	       queue_seq(fd, TCP_SEND_QUEUE), queue_seq(fd, TCP_RECV_QUEUE));
	fflush(stdout);
}

/* Until the peer ACKed everything sent (TCP_INFO's unacked segments). */
static void wait_acked(int fd)
{
	struct tcp_info ti;
	socklen_t len;

	for (;;) {
		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			die("TCP_INFO");
		if (ti.tcpi_unacked == 0)
			return;
		usleep(10000);
	}
}

int main(int argc, char **argv)
{
	static const char usage[] = "tcphold listen|connect ADDR:PORT [--accept] [--send N] [--timeout SEC]";
	struct sockaddr_storage addr, local;
	socklen_t alen, llen = sizeof(local);
	char a[80], buf[4096];
	bool accept_one = false, listening;
	long timeout = 60, send_n = 0;
	const char *where = NULL;
	int fd, c, one = 1;

	if (argc < 3 || (strcmp(argv[1], "listen") && strcmp(argv[1], "connect")))
		bad("arguments", usage);
	listening = !strcmp(argv[1], "listen");
	where = argv[2];
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--accept") && listening)
			accept_one = true;
		else if (!strcmp(argv[i], "--send") && !listening && i + 1 < argc)
			send_n = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = strtol(argv[++i], NULL, 10);
		else
			bad("arguments", usage);
	}
	if (timeout < 1 || timeout > 3600)
		bad("timeout", "1..3600 seconds");
	if (send_n < 0 || send_n > 1 << 20)
		bad("send", "0..1048576 bytes");
	alen = parse_addr(where, &addr);
	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	alarm(timeout);		/* SIGALRM ends the process: the sockets go with it */
	if (!listening) {
		if (connect(fd, (struct sockaddr *)&addr, alen))
			die("connect");
		report(fd, "connected");
		memset(buf, 'h', sizeof(buf));
		for (long sent = 0; sent < send_n;) {
			ssize_t n = write(fd, buf, send_n - sent < (long)sizeof(buf) ?
					  (size_t)(send_n - sent) : sizeof(buf));

			if (n <= 0)
				die("write");
			sent += n;
		}
		wait_acked(fd);
		report(fd, "sent");
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&addr, alen) || listen(fd, 16))
			die("bind/listen");
		if (getsockname(fd, (struct sockaddr *)&local, &llen))
			die("getsockname");
		printf("listening %s\n", fmt(&local, a, sizeof(a)));
		fflush(stdout);
		if (accept_one) {
			c = accept(fd, NULL, NULL);
			if (c < 0)
				die("accept");
			report(c, "accepted");
		}
	}
	for (;;)
		pause();
}
