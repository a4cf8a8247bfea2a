// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tls_dev_add / tls_dev_del on the modelled device (see install.h). */
#include <string.h>
#include <bpf/bpf.h>
#include "install.h"

enum install_result device_install(const struct device_maps *m, const struct tlshim_flow *flow,
				   __u16 version, __u16 cipher, __u32 tcp_seq, __u64 rec_sn,
				   int policy, bool enforce_drops, const struct tlshim_crypto *crypto,
				   __u32 *capacity)
{
	struct tlshim_crypto no_keys = {};
	struct tlshim_config cfg, raw;
	struct tlshim_device dev;
	struct tlshim_conn conn, existing;
	struct tlshim_sw_conn sw, sw_existing;
	int lock, err;

	if (!crypto) {
		no_keys.version = version;
		no_keys.cipher = cipher;
		for (int i = 0; i < 8; i++)
			no_keys.rec_seq[i] = rec_sn >> (56 - 8 * i);
		crypto = &no_keys;
	}
	lock = control_lock();
	if (bpf_map_lookup_elem(m->conns, flow, &existing) == 0 ||
	    bpf_map_lookup_elem(m->sw_conns, flow, &sw_existing) == 0) {
		control_unlock(lock);
		return INSTALL_EXISTS;
	}
	if (read_config(m, &raw) || read_device(m, &dev)) {
		control_unlock(lock);
		return INSTALL_ERROR;
	}
	effective_config(&raw, &cfg);
	if (capacity)
		*capacity = cfg.max_conns;

	tlshim_conn_init(&conn, version, cipher, tcp_seq, rec_sn, now_monotonic_ns());
	conn.st.policy = policy >= 0 ? (__u8)policy : (__u8)cfg.resync_policy;
	err = -1;
	if (dev.TlsCurrRxDevice + dev.TlsCurrTxDevice < cfg.max_conns) {
		err = bpf_map_update_elem(m->keys, flow, crypto, BPF_NOEXIST);
		if (!err) {
			err = bpf_map_update_elem(m->conns, flow, &conn, BPF_NOEXIST);
			if (!err && flow->dir == TLSHIM_DIR_TX)
				err = tx_conn_install(m, flow, version, cipher, tcp_seq, rec_sn,
						      enforce_drops);
			if (err)
				conn_remove(m, flow);
		}
	}
	if (err) {
		/* Full (configured capacity or the compiled table): the kernel
		 * keeps such a connection in software. */
		sw.refused_ns = now_monotonic_ns();
		bpf_map_update_elem(m->sw_conns, flow, &sw, BPF_NOEXIST);
		if (flow->dir == TLSHIM_DIR_RX) {
			dev.rx_tls_ctx_full++; dev.TlsCurrRxSw++; dev.TlsRxSw++;
		} else {
			dev.tx_tls_ctx_full++; dev.TlsCurrTxSw++; dev.TlsTxSw++;
		}
		write_device(m, &dev);
		control_unlock(lock);
		return INSTALL_FULL;
	}
	if (flow->dir == TLSHIM_DIR_RX) {
		dev.rx_tls_ctx++; dev.TlsCurrRxDevice++; dev.TlsRxDevice++;
	} else {
		dev.tx_tls_ctx++; dev.TlsCurrTxDevice++; dev.TlsTxDevice++;
	}
	write_device(m, &dev);
	control_unlock(lock);
	return INSTALL_OK;
}

enum remove_result device_remove(const struct device_maps *m, const struct tlshim_flow *flow)
{
	bool rx = flow->dir == TLSHIM_DIR_RX;
	enum remove_result res = REMOVE_NONE;
	struct tlshim_conn conn;
	struct tlshim_sw_conn sw;
	struct tlshim_device dev;
	int lock;

	lock = control_lock();
	if (read_device(m, &dev)) {
		control_unlock(lock);
		return REMOVE_ERROR;
	}
	if (bpf_map_lookup_elem(m->conns, flow, &conn) == 0) {
		conn_remove(m, flow);
		if (rx) {
			dev.rx_tls_del++;
			if (dev.TlsCurrRxDevice)
				dev.TlsCurrRxDevice--;
		} else {
			dev.tx_tls_del++;
			if (dev.TlsCurrTxDevice)
				dev.TlsCurrTxDevice--;
		}
		res = REMOVED_DEVICE;
	} else if (bpf_map_lookup_elem(m->sw_conns, flow, &sw) == 0) {
		bpf_map_delete_elem(m->sw_conns, flow);
		if (rx && dev.TlsCurrRxSw)
			dev.TlsCurrRxSw--;
		else if (!rx && dev.TlsCurrTxSw)
			dev.TlsCurrTxSw--;
		res = REMOVED_SOFTWARE;
	}
	if (res != REMOVE_NONE)
		write_device(m, &dev);
	control_unlock(lock);
	return res;
}
