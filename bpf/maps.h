/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the device.  BTF-defined and pinned by name so that ip(8),
 * tc(8) and the loader, each loading build/tlshim.bpf.o on its own, end up
 * sharing one set of maps under /sys/fs/bpf/tc/globals.  The definitions must
 * be identical for every loader: libbpf refuses to reuse a pin whose type,
 * sizes, max_entries or flags differ.
 */
#ifndef TLSHIM_MAPS_H
#define TLSHIM_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tlshim.h"

/* The device's connection table.  No preallocation: a million entries of
 * ~200 bytes would pin 200+ MiB the moment anyone loads the object. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TLSHIM_MAX_CONNS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tlshim_flow);
	__type(value, struct tlshim_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_conns SEC(".maps");

/* Crypto secrets as installed.  No program reads them (a model does not
 * decrypt), but they are the device's memory, so they live here and nowhere
 * else; pinned 0600.  The spin lock lets the loader zero a value in place
 * (BPF_F_LOCK update) before deleting it: a plain update of a hash map
 * swaps in a new element and leaves the old bytes in freed memory. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TLSHIM_MAX_CONNS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tlshim_flow);
	__type(value, struct tlshim_crypto);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_keys SEC(".maps");

/* Installs the full device refused: the connection stays in software. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TLSHIM_MAX_SW_CONNS);
	__type(key, struct tlshim_flow);
	__type(value, struct tlshim_sw_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_sw_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tlshim_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tlshim_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_stats SEC(".maps");

/* Control-plane counters and gauges: written by the loader only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tlshim_device);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_device SEC(".maps");

/* Record starts as the TLS endpoint knows them (the resync oracle's truth). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TLSHIM_REC_LOG_ENTRIES);
	__type(key, struct tlshim_rec_key);
	__type(value, struct tlshim_rec_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_rec_log SEC(".maps");

/* The kernel's resync answers, one pending per flow. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tlshim_flow);
	__type(value, struct tlshim_resync_resp);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_resync_resp SEC(".maps");

/* Device -> loader: resync requests, record reports, traces. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_events SEC(".maps");

static __always_inline struct tlshim_counters *tlshim_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tlshim_stats, &zero);
}

static __always_inline const struct tlshim_config *tlshim_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tlshim_config, &zero);
}

#define tlshim_count(field, n)					\
	do {							\
		struct tlshim_counters *__c = tlshim_counters();	\
		if (__c)					\
			__c->field += (n);			\
	} while (0)

/* ---- Transmit side (bpf/tx.h) ---- */

/* The TX device state per connection, keyed like tlshim_conns.  A separate
 * table because its value carries the record log (16 KiB): tlshim_conns
 * still holds every TX connection the loader installed (capacity, version,
 * cipher); this one is what the TX program runs on. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TLSHIM_MAX_CONNS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tlshim_flow);
	__type(value, struct tlshim_tx_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlshim_tx_conns SEC(".maps");

#endif /* TLSHIM_MAPS_H */
