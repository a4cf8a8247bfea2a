/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Installing and removing connections on the device: the kernel's
 * tls_dev_add / tls_dev_del, shared by `tlshim conn add|del` and the kTLS
 * hooks (`tlshim run --ktls`).  Each call takes the control lock, so the
 * capacity check, the insert and the counters change together.
 */
#ifndef TLSHIM_INSTALL_H
#define TLSHIM_INSTALL_H

#include "common.h"

enum install_result {
	INSTALL_OK = 0,		/* on the device: TlsCurr*Device, *_tls_ctx counted */
	INSTALL_EXISTS,		/* already installed (device or software): nothing changed */
	INSTALL_FULL,		/* refused: stays in software, *_ctx_full, TlsCurr*Sw counted */
	INSTALL_ERROR,		/* the device's maps could not be read: nothing changed */
};

/* Installs flow with record rec_sn starting at TCP seq tcp_seq, resyncing
 * with policy (enum tlshim_resync_policy; -1: the device's default from
 * tlshim config); a tx flow also gets its TX state (tlshim_tx_conns),
 * enforce_drops as `conn add --enforce-drops`.  crypto (may be NULL: no keys) is copied into
 * tlshim_keys only; the caller zeroes its own copy.  *capacity gets the
 * device's capacity (for messages). */
enum install_result device_install(const struct device_maps *m, const struct tlshim_flow *flow,
				   __u16 version, __u16 cipher, __u32 tcp_seq, __u64 rec_sn,
				   int policy, bool enforce_drops, const struct tlshim_crypto *crypto,
				   __u32 *capacity);

/* `conn add`'s arguments, parsed (also replay's --conn). */
struct conn_spec {
	struct tlshim_flow flow;
	__u16 version, cipher;
	__u32 tcp_seq;
	__u64 rec_seq;
	int policy;		/* -1: the device's default */
	bool enforce_drops;
	struct tlshim_crypto crypto;	/* the caller zeroes it when done */
};

/* Parses "rx|tx SADDR:PORT DADDR:PORT --tcp-seq N ..." (argv after "add");
 * bad input is a usage error (exit 2).  False if --help was asked. */
bool conn_spec_parse(int argc, char **argv, struct conn_spec *spec, const char *what);

enum remove_result {
	REMOVED_DEVICE = 0,	/* was on the device: keys zeroed, *_tls_del counted */
	REMOVED_SOFTWARE,	/* was refused earlier: TlsCurr*Sw decremented */
	REMOVE_NONE,		/* not known: nothing changed */
	REMOVE_ERROR,		/* the device's counters could not be read */
};

enum remove_result device_remove(const struct device_maps *m, const struct tlshim_flow *flow);

#endif /* TLSHIM_INSTALL_H */
