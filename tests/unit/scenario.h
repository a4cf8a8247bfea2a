/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A connection under test and the checks every scenario shares. */
#ifndef UNIT_SCENARIO_H
#define UNIT_SCENARIO_H

#include "dut.h"
#include "frame.h"
#include "harness.h"
#include "tls_stream.h"

/* A connection installed on the device and the record stream its peer sends. */
struct tls_conn {
	struct flow flow;
	struct frame_opts fo;
	struct tlshim_flow key;
	uint16_t version;
	uint16_t cipher;
	uint32_t seq0;		/* TCP seq of stream byte 0 */
	uint64_t sn0;		/* record number of the stream's first record */
	const struct tls_stream *s;
};

/* An IPv4, TLS 1.2 AES-GCM-128 connection on a fresh flow; change the
 * fields before installing it. */
struct tls_conn tls_conn_new(const struct tls_stream *s, uint32_t seq0, uint64_t sn0);
/* tls_dev_add: in sync at the stream's first record. */
bool tls_conn_install(struct test *t, struct tls_conn *c);
bool tls_conn_read(struct test *t, const struct tls_conn *c, struct tlshim_conn *conn);

/* Runs stream bytes [from, to) through XDP as one segment. */
struct rx_run send_bytes(const struct tls_conn *c, size_t from, size_t to);
/* A segment of c's flow with any seq and payload, dressed by fo. */
struct rx_run send_raw(const struct tls_conn *c, const struct frame_opts *fo,
		       uint32_t seq, const uint8_t *payload, size_t len);

/* The run worked, returned XDP_PASS, wrote a descriptor, left the packet be. */
bool expect_descriptor(struct test *t, const struct rx_run *r);
/* Decrypted: headers and rec_sn as the layout says for bytes [from, to). */
void expect_decrypted(struct test *t, const struct rx_run *r, const struct tls_conn *c,
		      size_t from, size_t to);
/* Passed as received.  Its rec_sn is not checked: the first byte of a
 * passed segment lies in no record the device tracks. */
void expect_passed(struct test *t, const struct rx_run *r, enum tlshim_pass_reason reason,
		   unsigned headers, enum tlshim_sync sync);
/* No descriptor, XDP_PASS, packet unchanged. */
void expect_untouched(struct test *t, const struct rx_run *r);

/* The stream state is in sync with stream byte `off` next. */
void expect_in_sync_at(struct test *t, const struct tls_conn *c, size_t off);
void expect_stream(struct test *t, const struct tlshim_stream *expected,
		   const struct tlshim_stream *actual);
void expect_conn_stats(struct test *t, const struct tlshim_conn_stats *expected,
		       const struct tlshim_conn_stats *actual);
/* Every tlshim_stats counter, summed over CPUs, equals expected. */
void expect_counters(struct test *t, const struct tlshim_counters *expected);
/* Everything but the counters is as it was. */
void expect_state_unchanged(struct test *t, const struct tlshim_conn *before,
			    const struct tlshim_conn *after);

/* The stream state an in-sync device holds with stream byte `off` next. */
struct tlshim_stream stream_in_sync_at(const struct tls_conn *c, size_t off);

/* Sends stream bytes [from, cuts end) in order as cut, checking each
 * descriptor and the state after each segment; returns the per-connection
 * counters those segments must have added. */
struct tlshim_conn_stats send_in_order(struct test *t, const struct tls_conn *c,
				       const struct cuts *cuts, size_t first_segment);
/* Installs c and sends its whole stream; checks the exact counters. */
void run_in_order(struct test *t, struct tls_conn *c, const struct cuts *cuts);

/* The global counters the given per-connection counters add up to, for a
 * test with one connection. */
struct tlshim_counters counters_of(const struct tlshim_conn_stats *stats);

#endif /* UNIT_SCENARIO_H */
