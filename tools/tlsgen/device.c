// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlsgen and the device: installing and removing its connections through
 * the loader's own tls_dev_add/del (user/install.c), and publishing record
 * starts to the resync oracle's truth map (tlshim_rec_log), all through the
 * maps pinned under TLSHIM_PIN_DIR (default /sys/fs/bpf/tc/globals).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "common.h"
#include "install.h"
#include "tlsgen.h"

static struct device_maps maps;
static bool maps_open;

static void open_maps(void)
{
	if (!maps_open)
		device_maps_open(&maps);	/* exits with a clear message if not loaded */
	maps_open = true;
}

void dev_open(void)
{
	open_maps();
}

void dev_install(const struct tlshim_flow *flow, const struct tlshim_crypto *c,
		 uint32_t tcp_seq, uint64_t rec_sn, int policy)
{
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];
	enum install_result r;
	__u32 capacity = 0;

	open_maps();
	r = device_install(&maps, flow, c->version, c->cipher, tcp_seq, rec_sn, policy, false, c,
			   &capacity);
	if (r == INSTALL_OK)
		return;
	format_endpoint(src, flow->saddr, flow->sport);
	format_endpoint(dst, flow->daddr, flow->dport);
	tg_die("installing %s %s %s failed: %s", dir_name(flow->dir), src, dst,
	       r == INSTALL_EXISTS ? "already installed" :
	       r == INSTALL_FULL ? "device table full: connection stays in software" :
	       "cannot read the device's maps");
}

void dev_remove(const struct tlshim_flow *flow)
{
	open_maps();
	device_remove(&maps, flow);
}

uint64_t dev_truth(const struct tlshim_flow *flow, const struct rec_hdr *h, size_t n,
		   uint64_t base_off, uint32_t base_seq, uint64_t base_index, uint64_t base_sn)
{
	struct tlshim_rec_key *keys;
	struct tlshim_rec_val *vals;
	__u32 count = n;
	uint64_t now = now_monotonic_ns();

	if (!n)
		return 0;
	open_maps();
	keys = calloc(n, sizeof(*keys));
	vals = calloc(n, sizeof(*vals));
	if (!keys || !vals)
		tg_die("out of memory (truth)");
	for (size_t i = 0; i < n; i++) {
		keys[i].flow = *flow;
		keys[i].tcp_seq = base_seq + (uint32_t)(h[i].off - base_off);
		vals[i].rec_sn = base_sn + (h[i].index - base_index);
		vals[i].rec_len = TLS_HEADER_SIZE + h[i].len;
		vals[i].added_ns = now;
	}
	/* One syscall for the lot; one by one where batching is not offered. */
	if (bpf_map_update_batch(maps.rec_log, keys, vals, &count, NULL)) {
		for (size_t i = 0; i < n; i++)
			if (bpf_map_update_elem(maps.rec_log, &keys[i], &vals[i], BPF_ANY))
				tg_die("--truth: publishing record %llu: %s",
				       (unsigned long long)vals[i].rec_sn, strerror(errno));
	}
	free(keys);
	free(vals);
	return n;
}
