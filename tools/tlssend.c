// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlssend - a TCP peer that speaks TLS record *framing* (no crypto), for the
 * end-to-end tests: the client sends application-data records of a chosen
 * size, the server checks that the byte stream parses as records.
 *
 *   tlssend server --listen ADDR:PORT [--count-file F] [--timeout SEC]
 *   tlssend client --connect ADDR:PORT --records N --record-size S
 *                  [--write-size W] [--wait-file F] [--timeout SEC] [--truth]
 *                  [--tcp-info]
 *   tlssend client --connect ADDR:PORT --duration SEC --record-size S ...
 * --rusage (either side) ends the output with the process's CPU time.
 *
 * The client prints, right after connecting and before sending anything,
 *   local ADDR:PORT remote ADDR:PORT write_seq N
 * where N is the TCP sequence number of the first byte it will send, read
 * from the kernel (TCP_REPAIR), so a test can install the connection in the
 * device at exactly that sequence number.  IPv6 addresses are written
 * [addr]:port, the way `tlshim conn` names connections.
 *
 * With --tcp-info the client waits, once everything is written, until the
 * peer has ACKed every byte, and prints (before its FIN, so no FIN
 * retransmission is in them) what the socket's TCP_INFO counted since the
 * connection was set up:
 *   tcp_info total_retrans N bytes_retrans N data_segs_out N bytes_sent N
 * total_retrans and data_segs_out count MSS-sized segments (a GSO packet
 * counts as several), bytes_* count payload bytes.
 *
 * Exit status: 0 success, 1 runtime failure (including a broken record stream
 * on the server), 2 bad command line (one line naming the argument).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>		/* glibc's struct tcp_info stops at tcpi_total_retrans */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "tlshim.h"
#include "tcp_seq.h"

#ifndef TCP_SEND_QUEUE
#define TCP_SEND_QUEUE 2	/* enum in linux/tcp.h, not in every libc */
#endif

/* TLSCiphertext.length may reach 2^14 + 2048 (RFC 5246 6.2.3). */
#define TLS_MAX_CIPHERTEXT_LEN	(TLS_MAX_PAYLOAD_SIZE + 2048)
/* What the client may send: TLS 1.2 AES-GCM records, whose length field
 * covers the 8-byte explicit nonce and the 16-byte tag (tlshim_rec_*_len). */
#define CLIENT_MIN_RECORD	(16 + 8)
#define CLIENT_MAX_RECORD	(TLS_MAX_PAYLOAD_SIZE + 16 + 8)
#define DEFAULT_TIMEOUT_S	30

static const char *prog = "tlssend";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s server --listen ADDR:PORT [--count-file F] [--timeout SEC] [--rusage]\n"
		"       %s client --connect ADDR:PORT (--records N | --duration SEC) --record-size S\n"
		"                 [--write-size W] [--wait-file F] [--timeout SEC] [--rusage] [--truth]\n"
		"                 [--tcp-info]\n"
		"\n"
		"A TCP peer that speaks TLS record framing (type 23, version 0x0303),\n"
		"no crypto.  IPv6 addresses as [addr]:port.\n"
		"\n"
		"server: accept one connection, read until EOF, check that the stream is\n"
		"  whole records, print 'received BYTES bytes RECORDS records'.  Prints\n"
		"  'listening ADDR:PORT' first (PORT 0 picks a free port).  --count-file F\n"
		"  also writes the result line to F (atomically, on success only).\n"
		"client: connect, print 'local ADDR:PORT remote ADDR:PORT write_seq N'\n"
		"  (N = TCP seq of the first byte it will send, read with TCP_REPAIR),\n"
		"  wait for --wait-file F to exist if given, send N records of S bytes\n"
		"  after the 5-byte header (S in %d..%d) in writes of W bytes (default\n"
		"  5+S), shut down, wait for the server to close, print\n"
		"  'sent BYTES bytes RECORDS records'.\n"
		"  --truth: before sending, publish every record's start seq and number\n"
		"  to the device's record log (tlshim_rec_log under TLSHIM_PIN_DIR or\n"
		"  /sys/fs/bpf/tc/globals), as a TLS endpoint would for the resync oracle.\n"
		"  --duration SEC instead of --records: send whole records for SEC seconds\n"
		"  (a bulk sender for benchmarks), then print 'elapsed SECONDS'.\n"
		"  --tcp-info: before shutting down, wait until the peer ACKed everything\n"
		"  and print 'tcp_info total_retrans N bytes_retrans N data_segs_out N\n"
		"  bytes_sent N' (TCP_INFO since connect).\n"
		"--timeout SEC bounds every wait (accept, connect, wait file, EOF); default %d.\n"
		"--rusage: last line 'rusage user SECONDS sys SECONDS' (this process's CPU).\n"
		"Exit status: 0 ok, 1 failure, 2 bad arguments.\n",
		prog, prog, CLIENT_MIN_RECORD, CLIENT_MAX_RECORD, DEFAULT_TIMEOUT_S);
}

static void print_rusage(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("rusage user %.6f sys %.6f\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

static void __attribute__((noreturn, format(printf, 1, 2))) bad_arg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
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

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		bad_arg("%s: '%s' is not a number", opt, s);
	v = strtoull(s, &end, 0);
	if (errno || *end)
		bad_arg("%s: '%s' is not a number", opt, s);
	if (v < min || v > max)
		bad_arg("%s: %s is out of range %llu..%llu", opt, s,
			(unsigned long long)min, (unsigned long long)max);
	return v;
}

/* "a.b.c.d:port" or "[v6]:port" (a zone, [fe80::1%eth0]:port, is allowed). */
static void parse_endpoint(const char *opt, const char *s, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res;
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *colon, *port;
	size_t hlen;
	char *end;
	long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			bad_arg("%s: '%s' is not [IPV6]:PORT", opt, s);
		hlen = close - s - 1;
		if (hlen == 0 || hlen >= sizeof(host))
			bad_arg("%s: '%s' has no valid IPv6 address", opt, s);
		memcpy(host, s + 1, hlen);
		port = close + 2;
		hints.ai_family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			bad_arg("%s: '%s' is not ADDR:PORT (IPv6 as [ADDR]:PORT)", opt, s);
		hlen = colon - s;
		if (hlen == 0 || hlen >= sizeof(host))
			bad_arg("%s: '%s' has no valid IPv4 address", opt, s);
		memcpy(host, s, hlen);
		port = colon + 1;
		hints.ai_family = AF_INET;
	}
	host[hlen] = '\0';
	errno = 0;
	p = strtol(port, &end, 10);
	if (!*port || *end || errno || p < 0 || p > 65535)
		bad_arg("%s: '%s' has no valid port (0..65535)", opt, s);
	if (getaddrinfo(host, port, &hints, &res) || !res)
		bad_arg("%s: '%s' is not a valid %s address", opt, host,
			hints.ai_family == AF_INET6 ? "IPv6" : "IPv4");
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

static const char *fmt_endpoint(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	}
	return buf;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for fd to become ready for events, at most until deadline. */
static void wait_fd(int fd, short events, double deadline, const char *what)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		double left = deadline - now_s();
		int n;

		if (left <= 0)
			die("timed out waiting to %s", what);
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n > 0)
			return;
		if (n < 0 && errno != EINTR)
			die("poll (%s): %s", what, strerror(errno));
	}
}

/* ---- server ---------------------------------------------------------- */

struct record_parser {
	uint64_t bytes;		/* stream offset */
	uint64_t records;	/* headers completed */
	uint8_t hdr[TLS_HEADER_SIZE];
	unsigned int hdr_have;	/* header bytes of the current record seen */
	uint32_t body_left;	/* body bytes of the current record still to come */
};

/* Consume buf; on broken framing, die naming the offset and record. */
static void parse_records(struct record_parser *p, const uint8_t *buf, size_t n)
{
	while (n) {
		if (p->body_left) {
			size_t take = n < p->body_left ? n : p->body_left;

			p->body_left -= take;
			p->bytes += take;
			buf += take;
			n -= take;
			continue;
		}
		p->hdr[p->hdr_have++] = *buf++;
		p->bytes++;
		n--;
		if (p->hdr_have < TLS_HEADER_SIZE)
			continue;
		{
			uint64_t at = p->bytes - TLS_HEADER_SIZE;
			unsigned int version = p->hdr[1] << 8 | p->hdr[2];
			unsigned int len = p->hdr[3] << 8 | p->hdr[4];

			if (p->hdr[0] != TLS_CT_APPLICATION_DATA)
				die("broken framing: record %llu at stream offset %llu has type %u, want %u",
				    (unsigned long long)p->records, (unsigned long long)at,
				    p->hdr[0], TLS_CT_APPLICATION_DATA);
			if (version != TLS_WIRE_VERSION)
				die("broken framing: record %llu at stream offset %llu has version 0x%04x, want 0x%04x",
				    (unsigned long long)p->records, (unsigned long long)at,
				    version, TLS_WIRE_VERSION);
			if (len == 0 || len > TLS_MAX_CIPHERTEXT_LEN)
				die("broken framing: record %llu at stream offset %llu has length %u, want 1..%u",
				    (unsigned long long)p->records, (unsigned long long)at,
				    len, TLS_MAX_CIPHERTEXT_LEN);
			p->records++;
			p->hdr_have = 0;
			p->body_left = len;
		}
	}
}

static void write_count_file(const char *path, const char *line)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		die("--count-file: path too long");
	f = fopen(tmp, "w");
	if (!f)
		die("--count-file %s: %s", tmp, strerror(errno));
	fputs(line, f);
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		die("--count-file %s: %s", path, strerror(errno));
	}
}

static int run_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "count-file", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rusage", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool rusage = false;
	struct sockaddr_storage addr, bound;
	socklen_t addr_len = 0, blen = sizeof(bound);
	const char *listen_arg = NULL, *count_file = NULL;
	unsigned int timeout_s = DEFAULT_TIMEOUT_S;
	struct record_parser parser = {};
	static uint8_t buf[65536];
	char ep[INET6_ADDRSTRLEN + 16], line[128];
	double deadline;
	int lfd, fd, one = 1, c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_arg = optarg; break;
		case 'c': count_file = optarg; break;
		case 'r': rusage = true; break;
		case 't': timeout_s = parse_u64("--timeout", optarg, 1, 86400); break;
		case 'h': usage(stdout); return 0;
		case ':': bad_arg("%s needs a value", argv[optind - 1]);
		default: bad_arg("server: unknown argument '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_arg("server: unexpected argument '%s'", argv[optind]);
	if (!listen_arg)
		bad_arg("server: --listen ADDR:PORT is required");
	parse_endpoint("--listen", listen_arg, &addr, &addr_len);

	lfd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&addr, addr_len))
		die("bind %s: %s", listen_arg, strerror(errno));
	if (listen(lfd, 1))
		die("listen: %s", strerror(errno));
	if (getsockname(lfd, (struct sockaddr *)&bound, &blen))
		die("getsockname: %s", strerror(errno));
	printf("listening %s\n", fmt_endpoint(&bound, ep, sizeof(ep)));
	fflush(stdout);

	deadline = now_s() + timeout_s;
	wait_fd(lfd, POLLIN, deadline, "accept a connection");
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	close(lfd);

	/* The deadline is for inactivity: a stream that keeps coming is fine. */
	for (;;) {
		ssize_t n;

		wait_fd(fd, POLLIN, now_s() + timeout_s, "read (no data and no EOF)");
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read after %llu bytes: %s",
			    (unsigned long long)parser.bytes, strerror(errno));
		}
		if (n == 0)
			break;
		parse_records(&parser, buf, n);
	}
	close(fd);
	if (parser.hdr_have || parser.body_left)
		die("broken framing: EOF inside record %llu at stream offset %llu (%u header bytes, %u body bytes missing)",
		    (unsigned long long)parser.records, (unsigned long long)parser.bytes,
		    parser.hdr_have ? TLS_HEADER_SIZE - parser.hdr_have : 0, parser.body_left);

	snprintf(line, sizeof(line), "received %llu bytes %llu records\n",
		 (unsigned long long)parser.bytes, (unsigned long long)parser.records);
	fputs(line, stdout);
	if (rusage)
		print_rusage();
	fflush(stdout);
	if (count_file)
		write_count_file(count_file, line);
	return 0;
}

/* ---- client ---------------------------------------------------------- */

/* The TCP seq of the next byte the socket will send: tp->write_seq
 * (tools/tcp_seq.h; needs CAP_NET_ADMIN). */
static uint32_t read_write_seq(int fd)
{
	uint32_t seq = 0;
	int err = tcp_queue_seq(fd, TCP_SEND_QUEUE, &seq);

	if (err)
		die("reading the send sequence number (TCP_REPAIR, TCP_QUEUE_SEQ): %s%s",
		    strerror(err), err == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return seq;
}

struct tcp_counts {
	uint64_t total_retrans, bytes_retrans, data_segs_out, bytes_sent;
};

static void read_tcp_counts(int fd, struct tcp_counts *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		die("TCP_INFO: %s", strerror(errno));
	if (len < offsetof(struct tcp_info, tcpi_bytes_retrans) + sizeof(ti.tcpi_bytes_retrans))
		die("TCP_INFO has no tcpi_bytes_retrans (%u bytes): kernel older than 4.19", len);
	c->total_retrans = ti.tcpi_total_retrans;
	c->bytes_retrans = ti.tcpi_bytes_retrans;
	c->data_segs_out = ti.tcpi_data_segs_out;
	c->bytes_sent = ti.tcpi_bytes_sent;
}

/* Until write_seq == snd_una: every byte written was ACKed. */
static void wait_all_acked(int fd, double deadline)
{
	int unacked;

	for (;;) {
		if (ioctl(fd, SIOCOUTQ, &unacked))
			die("SIOCOUTQ: %s", strerror(errno));
		if (unacked == 0)
			return;
		if (now_s() >= deadline)
			die("timed out with %d bytes not ACKed by the peer", unacked);
		usleep(1000);
	}
}

static void wait_for_file(const char *path, double deadline)
{
	struct stat st;

	while (stat(path, &st)) {
		if (errno != ENOENT)
			die("--wait-file %s: %s", path, strerror(errno));
		if (now_s() >= deadline)
			die("timed out waiting for --wait-file %s", path);
		usleep(5000);
	}
}

/* Byte `off` of a stream of records, each a header and `body` filler bytes. */
static uint8_t stream_byte(uint64_t off, uint32_t body)
{
	uint64_t rec = off / (TLS_HEADER_SIZE + body);
	uint32_t in = off % (TLS_HEADER_SIZE + body);

	switch (in) {
	case 0: return TLS_CT_APPLICATION_DATA;
	case 1: return TLS_WIRE_VERSION >> 8;
	case 2: return TLS_WIRE_VERSION & 0xff;
	case 3: return body >> 8;
	case 4: return body & 0xff;
	default: return (uint8_t)(rec * 7 + in);	/* filler: anything but constant */
	}
}

static void write_all(int fd, const uint8_t *buf, size_t n, unsigned int timeout_s,
		      uint64_t sent_before)
{
	while (n) {
		ssize_t w;

		wait_fd(fd, POLLOUT, now_s() + timeout_s, "write (send buffer stays full)");
		w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("write after %llu bytes: %s", (unsigned long long)sent_before,
			    strerror(errno));
		}
		buf += w;
		n -= w;
		sent_before += w;
	}
}

static void to_v6(const struct sockaddr_storage *ss, uint8_t addr[16], __be16 *port)
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

/* The truth the receiving device's resync oracle needs: where each record
 * starts and its number (record 0 at write_seq). */
static void publish_truth(const struct sockaddr_storage *local,
			  const struct sockaddr_storage *peer, uint32_t write_seq,
			  uint64_t records, uint32_t body)
{
	const char *dir = getenv("TLSHIM_PIN_DIR");
	struct tlshim_rec_key key = {};
	struct tlshim_rec_val val = {};
	struct timespec ts;
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/tlshim_rec_log", dir && *dir ? dir : TLSHIM_PIN_DIR);
	fd = bpf_obj_get(path);
	if (fd < 0)
		die("--truth: cannot open %s: %s", path, strerror(errno));
	to_v6(local, key.flow.saddr, &key.flow.sport);
	to_v6(peer, key.flow.daddr, &key.flow.dport);
	key.flow.dir = TLSHIM_DIR_RX;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	val.added_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	val.rec_len = TLS_HEADER_SIZE + body;
	for (uint64_t r = 0; r < records; r++) {
		key.tcp_seq = write_seq + r * (TLS_HEADER_SIZE + body);
		val.rec_sn = r;
		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY))
			die("--truth: record %llu: %s", (unsigned long long)r, strerror(errno));
	}
	close(fd);
}

static int run_client(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "records", required_argument, NULL, 'n' },
		{ "record-size", required_argument, NULL, 's' },
		{ "write-size", required_argument, NULL, 'w' },
		{ "wait-file", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "truth", no_argument, NULL, 'T' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rusage", no_argument, NULL, 'r' },
		{ "tcp-info", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *connect_arg = NULL, *wait_file = NULL;
	struct tcp_counts at_start, at_end;
	bool truth = false, tcp_info = false;
	unsigned int duration_s = 0;
	bool rusage = false;
	double started = 0;
	uint64_t records = 0, total, off;
	uint32_t body = 0, write_size = 0, write_seq;
	bool have_records = false, have_size = false;
	unsigned int timeout_s = DEFAULT_TIMEOUT_S;
	struct sockaddr_storage addr, local, peer;
	socklen_t addr_len = 0, llen = sizeof(local), plen = sizeof(peer);
	char lbuf[INET6_ADDRSTRLEN + 16], pbuf[INET6_ADDRSTRLEN + 16];
	uint8_t *buf, drain[4096];
	int fd, c, soerr;
	socklen_t elen = sizeof(soerr);

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': connect_arg = optarg; break;
		case 'n':
			records = parse_u64("--records", optarg, 0, UINT32_MAX);
			have_records = true;
			break;
		case 's':
			body = parse_u64("--record-size", optarg, CLIENT_MIN_RECORD,
					 CLIENT_MAX_RECORD);
			have_size = true;
			break;
		case 'w': write_size = parse_u64("--write-size", optarg, 1, 16 << 20); break;
		case 'f': wait_file = optarg; break;
		case 't': timeout_s = parse_u64("--timeout", optarg, 1, 86400); break;
		case 'T': truth = true; break;
		case 'd': duration_s = parse_u64("--duration", optarg, 1, 3600); break;
		case 'r': rusage = true; break;
		case 'i': tcp_info = true; break;
		case 'h': usage(stdout); return 0;
		case ':': bad_arg("%s needs a value", argv[optind - 1]);
		default: bad_arg("client: unknown argument '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_arg("client: unexpected argument '%s'", argv[optind]);
	if (!connect_arg)
		bad_arg("client: --connect ADDR:PORT is required");
	parse_endpoint("--connect", connect_arg, &addr, &addr_len);
	if (have_records && duration_s)
		bad_arg("client: --records and --duration exclude each other");
	if (!have_records && !duration_s)
		bad_arg("client: --records N or --duration SEC is required");
	if (!have_size)
		bad_arg("client: --record-size S is required");
	if (!write_size)
		write_size = TLS_HEADER_SIZE + body;

	/* Non-blocking so that connect and every write obey --timeout. */
	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, addr_len) && errno != EINPROGRESS)
		die("connect %s: %s", connect_arg, strerror(errno));
	wait_fd(fd, POLLOUT, now_s() + timeout_s, "connect");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) || soerr)
		die("connect %s: %s", connect_arg, strerror(soerr ? soerr : errno));
	if (getsockname(fd, (struct sockaddr *)&local, &llen) ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen))
		die("getsockname/getpeername: %s", strerror(errno));

	write_seq = read_write_seq(fd);
	if (tcp_info)
		read_tcp_counts(fd, &at_start);
	printf("local %s remote %s write_seq %u\n", fmt_endpoint(&local, lbuf, sizeof(lbuf)),
	       fmt_endpoint(&peer, pbuf, sizeof(pbuf)), write_seq);
	fflush(stdout);

	if (truth)
		publish_truth(&local, &peer, write_seq, records, body);
	if (wait_file)
		wait_for_file(wait_file, now_s() + timeout_s);

	if (duration_s) {
		/* Bulk mode: the same whole records over and over, generated once,
		 * so the sender's CPU goes to the socket, not to making bytes. */
		uint32_t per = TLS_HEADER_SIZE + body, n = write_size / per ? write_size / per : 1;
		double end;

		buf = malloc((size_t)n * per);
		if (!buf)
			die("out of memory");
		for (uint32_t i = 0; i < n * per; i++)
			buf[i] = stream_byte(i, body);
		started = now_s();
		end = started + duration_s;
		for (total = 0, records = 0; now_s() < end; total += (uint64_t)n * per, records += n)
			write_all(fd, buf, (size_t)n * per, timeout_s, total);
	} else {
		buf = malloc(write_size);
		if (!buf)
			die("out of memory");
		total = records * (TLS_HEADER_SIZE + body);
	}
	for (off = duration_s ? total : 0; off < total;) {
		uint32_t n = total - off < write_size ? total - off : write_size;

		for (uint32_t i = 0; i < n; i++)
			buf[i] = stream_byte(off + i, body);
		write_all(fd, buf, n, timeout_s, off);
		off += n;
	}
	free(buf);

	if (tcp_info) {
		wait_all_acked(fd, now_s() + timeout_s);
		read_tcp_counts(fd, &at_end);
		printf("tcp_info total_retrans %llu bytes_retrans %llu data_segs_out %llu "
		       "bytes_sent %llu\n",
		       (unsigned long long)(at_end.total_retrans - at_start.total_retrans),
		       (unsigned long long)(at_end.bytes_retrans - at_start.bytes_retrans),
		       (unsigned long long)(at_end.data_segs_out - at_start.data_segs_out),
		       (unsigned long long)(at_end.bytes_sent - at_start.bytes_sent));
		fflush(stdout);
	}

	/* Half-close, then wait for the server's EOF: when we exit, the server
	 * has read every byte. */
	if (shutdown(fd, SHUT_WR))
		die("shutdown: %s", strerror(errno));
	for (;;) {
		ssize_t n;

		wait_fd(fd, POLLIN, now_s() + timeout_s, "see the server close");
		n = read(fd, drain, sizeof(drain));
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			die("read while closing: %s", strerror(errno));
		if (n > 0)
			die("server sent %zd unexpected bytes", n);
	}
	close(fd);
	printf("sent %llu bytes %llu records\n", (unsigned long long)total,
	       (unsigned long long)records);
	if (duration_s)
		printf("elapsed %.6f\n", now_s() - started);
	if (rusage)
		print_rusage();
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		bad_arg("missing mode: server or client (see --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "server"))
		return run_server(argc - 1, argv + 1);
	if (!strcmp(argv[1], "client"))
		return run_client(argc - 1, argv + 1);
	bad_arg("unknown mode '%s': want server or client", argv[1]);
}
