/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tlsgen: real TLS (OpenSSL) traffic that installs its own connection into
 * tlshim with the real crypto parameters.  Declarations shared by
 * tools/tlsgen.c (CLI, report) and the files in tools/tlsgen/.
 */
#ifndef TLSGEN_H
#define TLSGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include "tlshim.h"

#include "common.h"

#define TLSGEN_MAX_VERIFY	16	/* records --verify may check */

/* Errors: 1 (runtime) with "tlsgen: why"; 2 (bad argument) with
 * "tlsgen: bad FIELD: why": user/util.c's reporters, prog_name "tlsgen". */
#define tg_die(...) fail(EXIT_FAIL, __VA_ARGS__)
#define tg_bad usage_error
double tg_now(void);

/* ---- the command line and one connection's outcome (session.c) ------- */

#define TG_INSTALL_RX	0x1	/* peer -> me, on the receiving end by default */
#define TG_INSTALL_TX	0x2	/* me -> peer, on the sending end by default */

struct tg_opts {
	bool server;
	const char *endpoint;		/* --listen / --connect */
	uint16_t version, cipher;
	uint64_t bytes;			/* --bytes (0 with --duration) */
	unsigned int duration_s;
	uint32_t write_size, record_size;
	bool reverse;			/* data server -> client */
	int install;			/* TG_INSTALL_* bits; -1: by role */
	int policy;			/* enum tlshim_resync_policy; -1: device default */
	bool truth, show_keys, json, keep;
	unsigned int verify;		/* records to check, 0: no --verify */
	const char *ready_file, *wait_file;
	unsigned int timeout_s, count;
};

struct tg_install {
	bool done;
	struct tlshim_flow flow;
	struct tlshim_crypto crypto;	/* as installed; zeroed by session_clear */
	uint32_t tcp_seq;
	uint64_t rec_sn;
	uint64_t start_index, start_off;	/* in this direction's stream */
	uint64_t records, bytes;		/* from the install point to the end */
};

struct tg_result {
	bool client, sender;
	char local[64], remote[64];
	uint64_t app_bytes, app_records;	/* the transfer (plaintext, data records) */
	uint64_t records_out, records_in, wire_out, wire_in;	/* whole connection */
	struct tg_install rx, tx;	/* what this end installed (or would have) */
	uint64_t truth;			/* record starts published */
	unsigned int verified;
	double elapsed;
	long long retrans;		/* TCP_INFO total_retrans (sender), -1: unknown */
};

/* One connection on a connected socket, start to close. */
void session_run(const struct tg_opts *o, SSL_CTX *ctx, int fd, bool client,
		 struct tg_result *r);
/* report.c: the outcome on stdout (--json: one object). */
void report(const struct tg_opts *o, const struct tg_result *r);
/* Removes the installs (unless --keep) and zeroes the keys. */
void session_clear(const struct tg_opts *o, struct tg_result *r);

/* ---- keys.c: the secrets OpenSSL logs, and the kernel's crypto_info -- */

/* Hooked up with SSL_CTX_set_keylog_callback: keeps the secrets of the
 * connection in progress (one at a time). */
void keys_keylog_cb(const SSL *ssl, const char *line);
/* Zeroes whatever the callback kept (OPENSSL_cleanse). */
void keys_forget(void);
/* The traffic keys of one direction (client_write: the client's records)
 * in tlshim_crypto form: version, cipher, key, salt, iv.  TLS 1.2
 * AES-GCM's iv is the explicit nonce, which is not derived: the caller
 * fills it.  rec_seq is left zero.  Dies if a secret is missing. */
void keys_derive(SSL *ssl, bool client_write, uint16_t version, uint16_t cipher,
		 struct tlshim_crypto *out);
void keys_set_rec_seq(struct tlshim_crypto *c, uint64_t rec_sn);

/* ---- cert.c ----------------------------------------------------------- */

/* A fresh ECDSA P-256 key and a self-signed certificate, in memory. */
void cert_make(SSL_CTX *ctx);

/* ---- io.c: the socket, OpenSSL's memory BIOs, and record accounting -- */

/* One direction's byte stream, parsed into TLS records as it passes. */
struct rec_stream {
	uint64_t off;		/* stream bytes so far */
	uint64_t records;	/* record headers completed */
	uint8_t hdr[5];
	unsigned int hdr_have;
	uint32_t body_left;
	uint64_t rec_off;	/* stream offset of the current record's header */
	uint16_t rec_len;	/* its length field */
	uint8_t nonce[8];	/* the first 8 body bytes of the current record */
	unsigned int nonce_have;
	uint8_t last_nonce[8];	/* ... of the last record that had 8 */
	/* Capture of whole records for --verify: indexes [cap_from, cap_from + cap_n). */
	uint64_t cap_from;
	unsigned int cap_n, cap_done;
	uint8_t *cap[TLSGEN_MAX_VERIFY];
	uint32_t cap_len[TLSGEN_MAX_VERIFY];
	uint32_t cap_have;
	/* Headers parsed since the last io_take_headers(): offset, index, length. */
	bool log_headers;
	struct rec_hdr { uint64_t off, index; uint16_t len; } *hdrs;
	size_t nhdrs, hdrs_cap;
};

struct conn_io {
	int fd;
	SSL *ssl;
	BIO *rbio, *wbio;	/* owned by ssl */
	unsigned int timeout_s;
	struct rec_stream out, in;
	uint64_t out_sent;	/* bytes written to the socket */
	uint8_t *obuf;		/* drained from wbio, not yet written */
	size_t olen, ocap;
	bool eof;		/* the peer closed its side */
	/* From SSL_set_msg_callback: records OpenSSL built / read (one
	 * header each), and how many there were when the Finished messages
	 * went by: the record numbers of the traffic keys count from there. */
	uint64_t cb_out_headers, cb_in_headers;
	int64_t out_fin, in_fin;	/* -1 until seen */
};

void io_init(struct conn_io *io, SSL *ssl, int fd, unsigned int timeout_s);
void io_free(struct conn_io *io);
void io_msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
	       SSL *ssl, void *arg);
/* SSL's output into obuf (parsed); then obuf onto the socket. */
void io_pull(struct conn_io *io);
void io_push(struct conn_io *io);
void io_handshake(struct conn_io *io);
/* SSL_read: > 0 bytes, 0 on close_notify or EOF. */
int io_read(struct conn_io *io, void *buf, int n);
void io_write(struct conn_io *io, const void *buf, int n);
/* Bytes read from the socket that SSL has not consumed yet. */
size_t io_in_unconsumed(struct conn_io *io);
/* Record number of the index-th record of a direction (index counted from
 * the connection's first record). */
uint64_t io_rec_sn(const struct conn_io *io, bool out, uint64_t index, uint16_t version);
void io_capture(struct rec_stream *s, uint64_t from, unsigned int n);

/* ---- verify.c --------------------------------------------------------- */

/* Decrypts each whole record (header + body) with c, record numbers from
 * first_sn, independently of OpenSSL's record layer; for TLS 1.2 AES-GCM
 * also checks the explicit nonce is c->iv + (sn - rec_seq).  Then checks
 * that the first record does not open with a wrong key, salt, iv or record
 * number.  Returns the number decrypted, or dies naming what failed. */
unsigned int verify_records(const struct tlshim_crypto *c, uint8_t *const *recs,
			    const uint32_t *lens, unsigned int n, uint64_t first_sn);

/* ---- device.c: the tlshim device's pinned maps ------------------------ */

/* Opens the pinned maps now, so a missing device fails before connecting. */
void dev_open(void);
/* tls_dev_add with the connection's real parameters; dies on failure. */
void dev_install(const struct tlshim_flow *flow, const struct tlshim_crypto *c,
		 uint32_t tcp_seq, uint64_t rec_sn, int policy);
void dev_remove(const struct tlshim_flow *flow);
/* Publishes n record starts of flow (an RX flow named by its sender):
 * header h[i] sits at TCP seq base_seq + (h[i].off - base_off) and has
 * record number base_sn + (h[i].index - base_index).  Returns n. */
uint64_t dev_truth(const struct tlshim_flow *flow, const struct rec_hdr *h, size_t n,
		   uint64_t base_off, uint32_t base_seq, uint64_t base_index, uint64_t base_sn);

#endif /* TLSGEN_H */
