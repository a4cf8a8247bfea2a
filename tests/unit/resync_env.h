/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * RX resync under test: the device's private maps as the loader's
 * struct device_maps, the loader's resync service (user/resync.c) polled
 * between packets, truth written into tlshim_rec_log, connections
 * installed with a resync policy.
 */
#ifndef UNIT_RESYNC_ENV_H
#define UNIT_RESYNC_ENV_H

#include "scenario.h"
#include "resync.h"

/* The test's private maps, as the loader would open them. */
void rs_maps(struct device_maps *m);
/* Empty tlshim_rec_log and tlshim_resync_resp, consume every event still
 * in the ring buffer.  dut_reset() does the rest between tests. */
void rs_clear(void);
/* The config entry, written the way the loader writes it. */
int rs_config(uint32_t resync_headers, uint32_t resync_timeout, uint32_t flags);

struct rs {
	struct device_maps maps;
	struct resync_service *svc;	/* NULL: the test answers by hand */
};

/* Opens the service on the private maps if with_service. */
bool rs_open(struct test *t, struct rs *rs, bool with_service);
void rs_close(struct rs *rs);
/* resync_service_poll(0): consume events, answer what the truth allows. */
void rs_poll(struct test *t, struct rs *rs);

/* tls_dev_add with a resync policy set in the installed state. */
bool rs_install(struct test *t, struct tls_conn *c, uint8_t policy);
/* Truth for record i of c's stream, or for all of them. */
bool rs_truth(struct test *t, const struct tls_conn *c, size_t i);
bool rs_truth_all(struct test *t, const struct tls_conn *c);

/* Stream bytes [from, to) through XDP, then one poll of the service. */
struct rx_run rs_send(struct test *t, struct rs *rs, const struct tls_conn *c,
		      size_t from, size_t to);

/* Reads the connection; zeroes it and fails the test if it is gone. */
struct tlshim_conn rs_conn(struct test *t, const struct tls_conn *c);

/* Seq of record i's first header byte / last header byte. */
uint32_t rec_seq(const struct tls_conn *c, size_t i);
/* Index of the first record whose header starts at or after stream offset off. */
size_t first_record_from(const struct tls_stream *s, size_t off);
size_t rec_end(const struct tls_stream *s, size_t i);

/* Every datapath counter at zero but those the caller sets. */
#define NO_COUNTERS ((struct tlshim_counters){ 0 })

#endif /* UNIT_RESYNC_ENV_H */
