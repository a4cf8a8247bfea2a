/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel's half of RX resync: consume the device's events from the
 * tlshim_events ring buffer and answer from the truth about record starts
 * (tlshim_rec_log), with the matching rule of each policy
 * (net/tls/tls_device.c, tls_device_rx_resync_new_rec()):
 *   stream-scan  DRIVER_REQ: the request names the last byte of the guessed
 *                header; answered once the truth has a record starting 4
 *                bytes before it.  Unanswerable requests stay pending.
 *   async        DRIVER_REQ_ASYNC: start (packet seq, length) then end (the
 *                header seq the device tracked); answered if that header is
 *                among the first 13 record starts in the start packet's
 *                window (TLS_DEVICE_RESYNC_ASYNC_LOGMAX).
 *   next-hint    CORE_NEXT_HINT: count records that arrived fully encrypted;
 *                past the target (2, doubling to 128, then +128; any record
 *                with decrypted bytes resets it) tell the device where the
 *                record after the next one starts, unless its head has
 *                already arrived (the kernel's tcp_inq check).
 * Used by `tlshim run` and, synchronously between packets, by the tests.
 */
#ifndef TLSHIM_RESYNC_H
#define TLSHIM_RESYNC_H

#include <stdio.h>
#include "common.h"

struct resync_stats {
	uint64_t events;		/* ring buffer records consumed */
	uint64_t requests;		/* stream-scan requests and async ends */
	uint64_t answered;		/* answers written */
	uint64_t hints;			/* next-hint answers written */
	uint64_t unanswerable;		/* async ends outside the kernel's log */
	uint64_t superseded;		/* pending requests replaced by newer ones */
	uint64_t adopted;		/* requests found pending in flow state at start */
	uint64_t latency_ns_sum;	/* request timestamp -> answer written */
	uint64_t latency_ns_max;
};

struct resync_service;

/* Opens the device's ring buffer; NULL with errno on failure. */
struct resync_service *resync_service_open(const struct device_maps *m);
/* Waits up to timeout_ms for events, handles them, then retries pending
 * requests against the truth.  Returns events handled or -errno. */
int resync_service_poll(struct resync_service *s, int timeout_ms);
const struct resync_stats *resync_service_stats(const struct resync_service *s);
/* Per-segment events (tracing) are written here as JSON lines if set. */
void resync_service_trace(struct resync_service *s, FILE *trace);
/* fn sees every event the service consumes, before the service handles
 * it (replay uses it to attribute events to the packet just run). */
typedef void (*resync_observer_fn)(void *ctx, const struct tlshim_event *ev);
void resync_service_observe(struct resync_service *s, resync_observer_fn fn, void *ctx);
void resync_service_close(struct resync_service *s);

/* Write an answer for a flow by hand (tlshim resync confirm). */
int resync_answer(const struct device_maps *m, const struct tlshim_flow *flow,
		  uint32_t kind, uint32_t tcp_seq, uint64_t rec_sn);

#endif /* TLSHIM_RESYNC_H */
