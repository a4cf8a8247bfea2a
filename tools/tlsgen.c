// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlsgen - real TLS traffic (OpenSSL: TLS 1.2 and 1.3, AES-GCM-128/256,
 * ChaCha20-Poly1305) that installs its own connection into tlshim with the
 * real crypto parameters, at the kernel's real TCP seq.
 *
 *   tlsgen server --listen ADDR:PORT [opts]
 *   tlsgen client --connect ADDR:PORT [opts]
 *
 * This file: the command line and the sockets.  In tools/tlsgen/: the
 * protocol in session.c (see its comment), keys in keys.c, the record
 * accounting in io.c, --verify in verify.c, the device in device.c, the
 * certificate in cert.c, the output in report.c.
 *
 * Exit status: 0 success, 1 runtime failure, 2 bad arguments (one line
 * "tlsgen: bad FIELD: why").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "common.h"
#include "tlsgen.h"

#define DEFAULT_BYTES		(1u << 20)
#define DEFAULT_TIMEOUT_S	30

double tg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	printf(
"Usage: tlsgen server --listen ADDR:PORT [options]\n"
"       tlsgen client --connect ADDR:PORT [options]\n"
"\n"
"Real TLS (OpenSSL) between a client and a server; after the handshake each\n"
"end installs its side of the connection into tlshim (the pinned maps under\n"
"TLSHIM_PIN_DIR, default /sys/fs/bpf/tc/globals) with the real key, iv, salt\n"
"and record number, at the TCP seq the kernel reports.  IPv6 as [ADDR]:PORT.\n"
"Give both ends the same --tls, --cipher and --reverse; the transfer options\n"
"(--bytes, --duration, --write-size, --record-size, --truth, --wait-file)\n"
"act on the sending end.\n"
"\n"
"  --tls 1.2|1.3            protocol version (default 1.3); both ends alike\n"
"  --cipher NAME            aes-gcm-128 (default), aes-gcm-256, chacha20-poly1305\n"
"                           (TLS 1.2: the ECDHE-ECDSA suites)\n"
"  --bytes N[k|M|G]         bytes to send (default 1M), or\n"
"  --duration SEC           send for SEC seconds\n"
"  --write-size W[k|M]      bytes per application write (default: record size)\n"
"  --record-size R[k]       plaintext bytes per record, 1..16384 (default 16384):\n"
"                           each write is cut into records of R bytes\n"
"  --reverse                data server -> client (default client -> server)\n"
"  --install rx|tx|both|none  which of this socket's directions to install:\n"
"                           rx = peer -> me, tx = me -> peer (default: rx on\n"
"                           the receiving end, tx on the sending end)\n"
"  --resync POLICY          stream-scan|async|next-hint|none (default: the\n"
"                           device's configured policy)\n"
"  --truth                  the sender publishes every record start after its\n"
"                           install point to tlshim_rec_log (resync oracle)\n"
"  --verify[=N]             decrypt the first N (default 3, at most 16) data\n"
"                           records after the install point with the installed\n"
"                           parameters, outside OpenSSL's record layer (and\n"
"                           check that a wrong key, salt, iv or number fails)\n"
"  --keep                   leave the installs in place at exit (default:\n"
"                           removed when the connection closes, as the kernel does)\n"
"  --show-keys              print key, iv, salt (never printed otherwise)\n"
"  --json                   one JSON object per connection on stdout\n"
"  --ready-file F           server: write 'ADDR:PORT' to F once listening\n"
"  --wait-file F            sender: after installing, print 'tlsgen: tx point\n"
"                           tcp_seq N rec_seq M stream_record I, waiting for F'\n"
"                           on stderr (I: index of the first record after the\n"
"                           point in the stream, counted from the first record\n"
"                           after the SYN, as tlsloss numbers them) and wait\n"
"                           for F to exist before the transfer\n"
"  --timeout SEC            bound on every wait (default %d)\n"
"  --count N                server: connections to serve, one after another (1)\n"
"Exit status: 0 ok, 1 failure, 2 bad arguments.\n", DEFAULT_TIMEOUT_S);
}

/* N with an optional k/M/G suffix (powers of 1024), at most max. */
static uint64_t parse_size(const char *field, const char *s, uint64_t min, uint64_t max)
{
	char buf[32];
	size_t len = strlen(s);
	uint64_t v, mult = 1;

	if (len == 0 || len >= sizeof(buf))
		tg_bad(field, "'%s' is not a size", s);
	memcpy(buf, s, len + 1);
	switch (buf[len - 1]) {
	case 'k': case 'K': mult = 1ull << 10; buf[--len] = 0; break;
	case 'M': mult = 1ull << 20; buf[--len] = 0; break;
	case 'G': mult = 1ull << 30; buf[--len] = 0; break;
	}
	if (!parse_u64(buf, UINT64_MAX / mult, &v))
		tg_bad(field, "'%s' is not a size (N, Nk, NM, NG)", s);
	v *= mult;
	if (v < min || v > max)
		tg_bad(field, "%s is out of range %llu..%llu", s, (unsigned long long)min,
		       (unsigned long long)max);
	return v;
}

static uint64_t parse_num(const char *field, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (!parse_u64(s, UINT64_MAX, &v))
		tg_bad(field, "'%s' is not a number", s);
	if (v < min || v > max)
		tg_bad(field, "%s is out of range %llu..%llu", s, (unsigned long long)min,
		       (unsigned long long)max);
	return v;
}

static void parse_args(int argc, char **argv, struct tg_opts *o)
{
	enum { O_LISTEN = 256, O_CONNECT, O_TLS, O_CIPHER, O_BYTES, O_DURATION, O_WRITE,
	       O_RECORD, O_REVERSE, O_INSTALL, O_RESYNC, O_TRUTH, O_VERIFY, O_KEEP,
	       O_SHOW_KEYS, O_JSON, O_READY, O_WAIT, O_TIMEOUT, O_COUNT, O_HELP };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "tls", required_argument, NULL, O_TLS },
		{ "cipher", required_argument, NULL, O_CIPHER },
		{ "bytes", required_argument, NULL, O_BYTES },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "write-size", required_argument, NULL, O_WRITE },
		{ "record-size", required_argument, NULL, O_RECORD },
		{ "reverse", no_argument, NULL, O_REVERSE },
		{ "install", required_argument, NULL, O_INSTALL },
		{ "resync", required_argument, NULL, O_RESYNC },
		{ "truth", no_argument, NULL, O_TRUTH },
		{ "verify", optional_argument, NULL, O_VERIFY },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "show-keys", no_argument, NULL, O_SHOW_KEYS },
		{ "json", no_argument, NULL, O_JSON },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "wait-file", required_argument, NULL, O_WAIT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "count", required_argument, NULL, O_COUNT },
		{ "help", no_argument, NULL, O_HELP },
		{}
	};
	const char *mode = argv[1], *listen = NULL, *conn = NULL;
	bool have_bytes = false, have_write = false;
	uint8_t policy, addr[16];
	uint16_t port;
	int c;

	if (!strcmp(mode, "--help") || !strcmp(mode, "-h")) {
		usage();
		exit(0);
	}
	if (strcmp(mode, "server") && strcmp(mode, "client"))
		tg_bad("mode", "'%s': want server or client", mode);
	o->server = !strcmp(mode, "server");
	o->version = TLSHIM_TLS_1_3;
	o->cipher = TLSHIM_CIPHER_AES_GCM_128;
	o->bytes = DEFAULT_BYTES;
	o->record_size = TLS_MAX_PAYLOAD_SIZE;
	o->install = -1;
	o->policy = -1;
	o->timeout_s = DEFAULT_TIMEOUT_S;
	o->count = 1;
	opterr = 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: listen = optarg; break;
		case O_CONNECT: conn = optarg; break;
		case O_TLS:
			if (!parse_version(optarg, &o->version))
				tg_bad("tls", "'%s': want 1.2 or 1.3", optarg);
			break;
		case O_CIPHER:
			if (!parse_cipher(optarg, &o->cipher))
				tg_bad("cipher", "'%s': want aes-gcm-128, aes-gcm-256 or "
				       "chacha20-poly1305", optarg);
			break;
		case O_BYTES:
			o->bytes = parse_size("bytes", optarg, 0, 1ull << 50);
			have_bytes = true;
			break;
		case O_DURATION: o->duration_s = parse_num("duration", optarg, 1, 86400); break;
		case O_WRITE:
			o->write_size = parse_size("write-size", optarg, 1, 64u << 20);
			have_write = true;
			break;
		case O_RECORD:
			o->record_size = parse_size("record-size", optarg, 1, TLS_MAX_PAYLOAD_SIZE);
			break;
		case O_REVERSE: o->reverse = true; break;
		case O_INSTALL:
			if (!strcmp(optarg, "rx"))
				o->install = TG_INSTALL_RX;
			else if (!strcmp(optarg, "tx"))
				o->install = TG_INSTALL_TX;
			else if (!strcmp(optarg, "both"))
				o->install = TG_INSTALL_RX | TG_INSTALL_TX;
			else if (!strcmp(optarg, "none"))
				o->install = 0;
			else
				tg_bad("install", "'%s': want rx, tx, both or none", optarg);
			break;
		case O_RESYNC:
			if (!parse_policy(optarg, &policy))
				tg_bad("resync", "'%s': want stream-scan, async, next-hint or none",
				       optarg);
			o->policy = policy;
			break;
		case O_TRUTH: o->truth = true; break;
		case O_VERIFY:
			o->verify = optarg ? parse_num("verify", optarg, 1, TLSGEN_MAX_VERIFY) : 3;
			break;
		case O_KEEP: o->keep = true; break;
		case O_SHOW_KEYS: o->show_keys = true; break;
		case O_JSON: o->json = true; break;
		case O_READY: o->ready_file = optarg; break;
		case O_WAIT: o->wait_file = optarg; break;
		case O_TIMEOUT: o->timeout_s = parse_num("timeout", optarg, 1, 86400); break;
		case O_COUNT: o->count = parse_num("count", optarg, 1, 1000000); break;
		case O_HELP: usage(); exit(0);
		case ':': tg_bad("option", "%s needs a value", argv[optind - 1]);
		default: tg_bad("option", "unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		tg_bad("argument", "unexpected '%s'", argv[optind]);
	if (o->server) {
		if (conn)
			tg_bad("connect", "--connect is for the client (server: --listen)");
		if (!listen)
			tg_bad("listen", "server needs --listen ADDR:PORT");
		o->endpoint = listen;
	} else {
		if (listen)
			tg_bad("listen", "--listen is for the server (client: --connect)");
		if (!conn)
			tg_bad("connect", "client needs --connect ADDR:PORT");
		if (o->ready_file)
			tg_bad("ready-file", "--ready-file is for the server");
		if (o->count != 1)
			tg_bad("count", "--count is for the server");
		o->endpoint = conn;
	}
	/* Port 0 is fine to listen on (the kernel picks one, see --ready-file). */
	if (!parse_endpoint(o->endpoint, addr, &port) &&
	    !(o->server && (strlen(o->endpoint) > 2 &&
			    !strcmp(o->endpoint + strlen(o->endpoint) - 2, ":0"))))
		tg_bad(o->server ? "listen" : "connect",
		       "'%s' is not ADDR:PORT (IPv6 as [ADDR]:PORT)", o->endpoint);
	if (have_bytes && o->duration_s)
		tg_bad("duration", "--bytes and --duration exclude each other");
	if (o->duration_s)
		o->bytes = 0;
	if (!have_write)
		o->write_size = o->record_size;
}

/* The socket address of "ADDR:PORT" / "[ADDR6]:PORT" (port 0 allowed). */
static socklen_t endpoint_sockaddr(const char *s, struct sockaddr_storage *ss)
{
	char buf[128];
	uint8_t addr[16];
	uint16_t port;
	size_t len = strlen(s);

	memset(ss, 0, sizeof(*ss));
	if (!parse_endpoint(s, addr, &port)) {
		/* ":0": parse with a placeholder port, then zero it. */
		if (len < 2 || len + 1 > sizeof(buf))
			tg_bad("listen", "'%s' is not ADDR:PORT", s);
		memcpy(buf, s, len - 1);
		strcpy(buf + len - 1, "1");
		if (!parse_endpoint(buf, addr, &port))
			tg_bad("listen", "'%s' is not ADDR:PORT", s);
		port = 0;
	}
	if (endpoint_is_ipv4(addr)) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = port;
		memcpy(&in->sin_addr, addr + 12, 4);
		return sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		memcpy(&in6->sin6_addr, addr, 16);
		return sizeof(*in6);
	}
}

static void wait_fd(int fd, short events, unsigned int timeout_s, const char *what)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_s * 1000);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		tg_die("timed out (%u s) waiting to %s", timeout_s, what);
	if (r < 0)
		tg_die("poll: %s", strerror(errno));
}

static SSL_CTX *make_ctx(const struct tg_opts *o)
{
	static const char *const tls12[] = {
		[0] = "ECDHE-ECDSA-AES128-GCM-SHA256",
		[1] = "ECDHE-ECDSA-AES256-GCM-SHA384",
		[2] = "ECDHE-ECDSA-CHACHA20-POLY1305",
	};
	static const char *const tls13[] = {
		[0] = "TLS_AES_128_GCM_SHA256",
		[1] = "TLS_AES_256_GCM_SHA384",
		[2] = "TLS_CHACHA20_POLY1305_SHA256",
	};
	int i = o->cipher == TLSHIM_CIPHER_AES_GCM_128 ? 0 :
		o->cipher == TLSHIM_CIPHER_AES_GCM_256 ? 1 : 2;
	int v = o->version == TLSHIM_TLS_1_2 ? TLS1_2_VERSION : TLS1_3_VERSION;
	SSL_CTX *ctx = SSL_CTX_new(o->server ? TLS_server_method() : TLS_client_method());

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, v) ||
	    !SSL_CTX_set_max_proto_version(ctx, v))
		tg_die("cannot set up OpenSSL");
	/* Exactly one suite: the handshake fails rather than pick another. */
	if (o->version == TLSHIM_TLS_1_2) {
		if (!SSL_CTX_set_cipher_list(ctx, tls12[i]))
			tg_die("OpenSSL does not offer %s", tls12[i]);
	} else if (!SSL_CTX_set_ciphersuites(ctx, tls13[i])) {
		tg_die("OpenSSL does not offer %s", tls13[i]);
	}
	if (o->record_size >= 512)
		SSL_CTX_set_max_send_fragment(ctx, o->record_size);
	SSL_CTX_set_keylog_callback(ctx, keys_keylog_cb);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (o->server)
		cert_make(ctx);
	return ctx;
}

static void serve_one(const struct tg_opts *o, SSL_CTX *ctx, int fd, bool client)
{
	struct tg_result r;

	session_run(o, ctx, fd, client, &r);
	close(fd);
	report(o, &r);
	session_clear(o, &r);
}

static void write_ready_file(const char *path, const char *line)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		tg_die("--ready-file: path too long");
	f = fopen(tmp, "w");
	if (!f)
		tg_die("--ready-file %s: %s", tmp, strerror(errno));
	fprintf(f, "%s\n", line);
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		tg_die("--ready-file %s: %s", path, strerror(errno));
	}
}

int main(int argc, char **argv)
{
	struct tg_opts o = {};
	struct sockaddr_storage ss;
	socklen_t sl;
	SSL_CTX *ctx;
	int fd, one = 1;

	prog_name = "tlsgen";	/* user/util.c's messages, the device's included */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		tg_bad("mode", "missing: server or client (see --help)");
	parse_args(argc, argv, &o);
	if (o.install < 0)	/* by role: each end its own direction of the data */
		o.install = (o.server == o.reverse) ? TG_INSTALL_TX : TG_INSTALL_RX;
	sl = endpoint_sockaddr(o.endpoint, &ss);
	if (o.install || o.truth)
		dev_open();
	ctx = make_ctx(&o);

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		tg_die("socket: %s", strerror(errno));
	if (o.server) {
		struct sockaddr_storage bound;
		socklen_t bl = sizeof(bound);
		uint8_t addr[16];
		uint16_t port;
		char ep[ENDPOINT_STRLEN];

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 8))
			tg_die("listen on %s: %s", o.endpoint, strerror(errno));
		getsockname(fd, (struct sockaddr *)&bound, &bl);
		if (bound.ss_family == AF_INET) {
			struct sockaddr_in *in = (void *)&bound;

			memset(addr, 0, 10);
			addr[10] = addr[11] = 0xff;
			memcpy(addr + 12, &in->sin_addr, 4);
			port = in->sin_port;
		} else {
			struct sockaddr_in6 *in6 = (void *)&bound;

			memcpy(addr, &in6->sin6_addr, 16);
			port = in6->sin6_port;
		}
		format_endpoint(ep, addr, port);
		if (o.ready_file)
			write_ready_file(o.ready_file, ep);
		for (unsigned int i = 0; i < o.count; i++) {
			int cfd;

			wait_fd(fd, POLLIN, o.timeout_s, "accept a connection");
			cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (cfd < 0)
				tg_die("accept: %s", strerror(errno));
			serve_one(&o, ctx, cfd, false);
		}
		close(fd);
	} else {
		int err = 0;
		socklen_t el = sizeof(err);

		if (connect(fd, (struct sockaddr *)&ss, sl) && errno != EINPROGRESS)
			tg_die("connect %s: %s", o.endpoint, strerror(errno));
		wait_fd(fd, POLLOUT, o.timeout_s, "connect");
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)
			tg_die("connect %s: %s", o.endpoint, strerror(err ? err : errno));
		serve_one(&o, ctx, fd, true);
	}
	SSL_CTX_free(ctx);
	return 0;
}
