/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * replay --auto: TLS connections found in a capture, and where each
 * direction's first application-data record starts.
 *
 * A connection is a pair of streams whose first records are a ClientHello
 * and a ServerHello.  The ServerHello gives the version (supported_versions
 * for TLS 1.3) and the cipher suite (AES-128-GCM, AES-256-GCM and
 * ChaCha20-Poly1305 suites; others are skipped).  Install points:
 *   TLS 1.2, both directions: the first content-type 23 record, rec_sn 1
 *           (the Finished after ChangeCipherSpec is record 0).
 *   TLS 1.3, client: its second type-23 record (the first is its Finished,
 *           under handshake keys), rec_sn 0.
 *   TLS 1.3, server: its encrypted handshake records cannot be told from
 *           application data without keys.  Rule: the first type-23 record
 *           whose first byte was captured after the client's Finished,
 *           rec_sn 0.  That is exact unless the server sent 0.5-RTT data
 *           (application data before the client's Finished); the number is
 *           marked relative in the output.
 */
#ifndef TLSHIM_REPLAY_AUTO_H
#define TLSHIM_REPLAY_AUTO_H

#include <stdio.h>
#include "common.h"
#include "replay_stream.h"

struct auto_conn {
	struct tlshim_flow flow;	/* dir set from --local */
	uint16_t version, cipher;
	uint32_t tcp_seq;
	uint64_t rec_sn;
	bool relative;			/* rec_sn counted by the rule above */
};

struct local_addrs {
	uint8_t addr[16][16];
	int n;
};

/* Appends what it finds to out (at most max); notes on skipped streams go
 * to log.  Returns how many it found. */
size_t replay_auto_find(const struct rstream_set *set, const struct local_addrs *local,
			struct auto_conn *out, size_t max, FILE *log);

#endif
