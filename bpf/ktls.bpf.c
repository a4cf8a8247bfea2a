// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim kTLS hooks: the kernel's kTLS setup and teardown, seen from BPF,
 * so the loader can do what tls_dev_add / tls_dev_del would do on a real
 * offload NIC, and the kernel's own record parser as the resync oracle.
 *
 *   tls_set_sw_offload (exit)        a direction is on: install (event)
 *   tls_sk_proto_close (entry)       the socket closes: remove (event)
 *   tls_device_rx_resync_new_rec     the RX parser met a record header:
 *                                    (flow, start seq) -> record number
 *                                    into the device's tlshim_rec_log
 *   iter/tcp                         kTLS sockets that existed before us
 *
 * Every program exists as fentry/fexit (BTF trampolines) and as
 * kprobe/kretprobe; the loader loads the first set that the kernel takes.
 * All kernel memory is read with CO-RE probe reads (BPF_CORE_READ), so the
 * same helpers serve both sets.  tls_set_sw_offload has had three
 * signatures: (sk, ctx, tx) in 6.1, (sk, tx) later, (sk, tx,
 * new_crypto_info) with TLS 1.3 rekey; arg 1 equal to the socket's
 * tls_context tells the first apart.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>	/* struct pt_regs for the kprobe set (uapi names) */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ktls_types.h"
#include "tlshim.h"
#include "tlshim_ktls.h"

char LICENSE[] SEC("license") = "GPL";	/* probe reads of kernel memory */

#define AF_INET		2
#define AF_INET6	10

/* The device's record log: the loader hands in the pinned map's fd
 * (bpf_map__reuse_fd), so this definition only has to match it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TLSHIM_REC_LOG_ENTRIES);
	__type(key, struct tlshim_rec_key);
	__type(value, struct tlshim_rec_val);
} tlshim_rec_log SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} ktls_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TLSHIM_KTLS_KEY_SLOTS);
	__type(key, __u32);
	__type(value, struct tlshim_ktls_key_slot);
} ktls_keys SEC(".maps");

/* Next key ticket (slot = ticket % TLSHIM_KTLS_KEY_SLOTS). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ktls_ticket SEC(".maps");

/* RX sockets whose records the oracle logs, by socket address.  Written
 * here at install time (so no record is missed while the loader catches
 * up), deleted at close or by the loader when the device refused it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tlshim_ktls_rx_track);
} ktls_rx_track SEC(".maps");

/* kprobe path only: tls_set_sw_offload's arguments from entry to return. */
struct setup_args {
	__u64 sk, arg1, arg2;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct setup_args);
} ktls_setup_args SEC(".maps");

static __always_inline void v4_mapped(__u8 out[16], __be32 addr)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &addr, 4);
}

/* The flow key of one direction of sk: named the way that direction's data
 * packets travel (rx: peer -> us, tx: us -> peer).  Returns the family, 0
 * for neither IPv4 nor IPv6. */
static __always_inline int sock_flow(struct sock *sk, __u8 dir, struct tlshim_flow *f)
{
	__u8 local[16], remote[16];
	__be16 lport, rport;
	int family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family == AF_INET) {
		v4_mapped(local, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		v4_mapped(remote, BPF_CORE_READ(sk, __sk_common.skc_daddr));
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&local, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&remote, sk, __sk_common.skc_v6_daddr);
	} else {
		return 0;
	}
	lport = BPF_CORE_READ((struct inet_sock *)sk, inet_sport);
	rport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	__builtin_memset(f, 0, sizeof(*f));
	f->dir = dir;
	if (dir == TLSHIM_DIR_RX) {
		__builtin_memcpy(f->saddr, remote, 16);
		__builtin_memcpy(f->daddr, local, 16);
		f->sport = rport;
		f->dport = lport;
	} else {
		__builtin_memcpy(f->saddr, local, 16);
		__builtin_memcpy(f->daddr, remote, 16);
		f->sport = lport;
		f->dport = rport;
	}
	return family;
}

static __always_inline struct tls_context *sock_tls_ctx(struct sock *sk)
{
	return BPF_CORE_READ((struct inet_connection_sock *)sk, icsk_ulp_data);
}

/* The record number a cipher context will use next (rec_seq, big-endian). */
static __always_inline __u64 ctx_rec_sn(struct tls_context *ctx, __u8 dir)
{
	__u8 be[8] = {};
	__u64 sn = 0;

	if (bpf_core_field_exists(((struct cipher_context___arr *)0)->rec_seq)) {
		struct tls_context___arr *c = (void *)ctx;

		if (dir == TLSHIM_DIR_RX)
			bpf_core_read(&be, sizeof(be), &c->rx.rec_seq);
		else
			bpf_core_read(&be, sizeof(be), &c->tx.rec_seq);
	} else {
		char *p = dir == TLSHIM_DIR_RX ? BPF_CORE_READ(ctx, rx.rec_seq) :
						 BPF_CORE_READ(ctx, tx.rec_seq);

		bpf_probe_read_kernel(&be, sizeof(be), p);
	}
	for (int i = 0; i < 8; i++)
		sn = sn << 8 | be[i];
	return sn;
}

static __always_inline int name_is_tlshim_rx(const char name[16])
{
	static const char want[] = "tlshim_rx";

	for (int i = 0; i < (int)sizeof(want); i++)
		if (name[i] != want[i])
			return 0;
	return 1;
}

/* The interface the socket's route leaves by (as the kernel's
 * get_netdev_for_sock picks the offload device), and whether the
 * modelled device sits on it: its XDP program, in any mode, is tlshim_rx. */
static __always_inline void sock_device(struct sock *sk, struct tlshim_ktls_event *ev)
{
	struct net_device *dev = BPF_CORE_READ(sk, sk_dst_cache, dev);
	char name[16];

	ev->ifindex = 0;
	ev->has_device = 0;
	if (!dev)
		return;
	ev->ifindex = BPF_CORE_READ(dev, ifindex);
	BPF_CORE_READ_STR_INTO(&ev->ifname, dev, name);
	if (!bpf_core_field_exists(dev->xdp_state))
		return;
	for (int mode = 0; mode < 3; mode++) {
		struct bpf_prog *prog = BPF_CORE_READ(dev, xdp_state[mode].prog);

		if (!prog)
			continue;
		__builtin_memset(name, 0, sizeof(name));
		BPF_CORE_READ_STR_INTO(&name, prog, aux, name);
		if (name_is_tlshim_rx(name)) {
			ev->has_device = 1;
			return;
		}
	}
}

/* Copies the direction's crypto_info into a key slot; returns the ticket. */
static __always_inline __u64 stash_keys(struct tls_context *ctx, __u8 dir)
{
	struct tlshim_ktls_key_slot *slot;
	__u32 zero = 0, idx;
	__u64 *next, ticket;
	void *src;

	next = bpf_map_lookup_elem(&ktls_ticket, &zero);
	if (!next)
		return 0;
	ticket = __sync_fetch_and_add(next, 1) + 1;	/* 0 means "no keys" */
	idx = ticket % TLSHIM_KTLS_KEY_SLOTS;
	slot = bpf_map_lookup_elem(&ktls_keys, &idx);
	if (!slot)
		return 0;
	src = dir == TLSHIM_DIR_RX ? (void *)__builtin_preserve_access_index(&ctx->crypto_recv) :
				     (void *)__builtin_preserve_access_index(&ctx->crypto_send);
	if (bpf_probe_read_kernel(slot->raw, sizeof(slot->raw), src))
		return 0;
	slot->ticket = ticket;
	return ticket;
}

static __always_inline void emit(struct tlshim_ktls_event *ev)
{
	bpf_ringbuf_output(&ktls_events, ev, sizeof(*ev), 0);
}

static __always_inline void track_rx(struct sock *sk, const struct tlshim_flow *flow,
				     __u32 seq, __u64 rec_sn)
{
	struct tlshim_ktls_rx_track t = {};
	__u64 key = (__u64)sk;

	t.flow = *flow;
	t.next_seq = seq;
	t.next_rec_sn = rec_sn;
	bpf_map_update_elem(&ktls_rx_track, &key, &t, BPF_ANY);
}

/*
 * One direction of sk turned on (or found on).  What tls_dev_add gets:
 * the direction, crypto_info, and start_offload_tcp_sn (copied_seq for
 * RX, write_seq for TX) with the record number that starts there.
 */
static __always_inline void announce(struct sock *sk, struct tls_context *ctx, __u8 dir,
				     __u8 source, __u32 seq, __u64 rec_sn)
{
	struct tlshim_ktls_event ev = {};

	ev.type = TLSHIM_KTLS_INSTALL;
	ev.source = source;
	ev.family = sock_flow(sk, dir, &ev.flow);
	if (!ev.family)
		return;
	ev.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	ev.version = BPF_CORE_READ(ctx, prot_info.version);
	ev.cipher = BPF_CORE_READ(ctx, prot_info.cipher_type);
	ev.tcp_seq = seq;
	ev.rec_sn = rec_sn;
	sock_device(sk, &ev);
	if (!ev.has_device) {
		emit(&ev);	/* the loader reports it; nothing to install */
		return;
	}
	ev.key_ticket = stash_keys(ctx, dir);
	if (dir == TLSHIM_DIR_RX)
		track_rx(sk, &ev.flow, seq, rec_sn);
	emit(&ev);
}

static __always_inline void announce_remove(struct sock *sk, __u8 dir, __u8 source)
{
	struct tlshim_ktls_event ev = {};

	ev.type = TLSHIM_KTLS_REMOVE;
	ev.source = source;
	ev.family = sock_flow(sk, dir, &ev.flow);
	if (!ev.family)
		return;
	ev.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	emit(&ev);
}

static __always_inline bool kernel_has_rekey(void)
{
	return bpf_core_field_exists(((struct tls_sw_context_rx___rekey *)0)->key_update_pending);
}

static __always_inline void on_set_sw_offload(__u64 sk_addr, __u64 arg1, __u64 arg2, long ret)
{
	struct sock *sk = (void *)sk_addr;
	struct tls_context *ctx;
	__u8 dir;
	int tx;

	if (ret != 0)
		return;		/* the kernel refused: nothing turned on */
	ctx = sock_tls_ctx(sk);
	if (!ctx)
		return;
	if (arg1 == (__u64)ctx) {
		tx = arg2;			/* 6.1: (sk, ctx, tx) */
	} else {
		tx = arg1;			/* (sk, tx[, new_crypto_info]) */
		if (kernel_has_rekey() && arg2) {
			/* A TLS 1.3 key update: record numbers restart under a
			 * new key the device does not have.  Mainline refuses
			 * rekey on offloaded sockets; the model removes it. */
			announce_remove(sk, tx ? TLSHIM_DIR_TX : TLSHIM_DIR_RX,
					TLSHIM_KTLS_SRC_REKEY);
			return;
		}
	}
	dir = tx ? TLSHIM_DIR_TX : TLSHIM_DIR_RX;
	if (dir == TLSHIM_DIR_RX)
		announce(sk, ctx, dir, TLSHIM_KTLS_SRC_SETSOCKOPT,
			 BPF_CORE_READ((struct tcp_sock *)sk, copied_seq), ctx_rec_sn(ctx, dir));
	else
		announce(sk, ctx, dir, TLSHIM_KTLS_SRC_SETSOCKOPT,
			 BPF_CORE_READ((struct tcp_sock *)sk, write_seq), ctx_rec_sn(ctx, dir));
}

static __always_inline void on_close(__u64 sk_addr)
{
	struct sock *sk = (void *)sk_addr;
	struct tls_context *ctx = sock_tls_ctx(sk);
	__u64 key = sk_addr;

	bpf_map_delete_elem(&ktls_rx_track, &key);
	if (!ctx)
		return;
	if (BPF_CORE_READ_BITFIELD_PROBED(ctx, rx_conf) != TLS_BASE)
		announce_remove(sk, TLSHIM_DIR_RX, TLSHIM_KTLS_SRC_CLOSE);
	if (BPF_CORE_READ_BITFIELD_PROBED(ctx, tx_conf) != TLS_BASE)
		announce_remove(sk, TLSHIM_DIR_TX, TLSHIM_KTLS_SRC_CLOSE);
}

/*
 * The oracle.  tls_rx_msg_size() calls tls_device_rx_resync_new_rec(sk,
 * record length, seq) for every record header it accepts, on software
 * sockets too (the callee returns at once unless rx_conf is TLS_HW).  At
 * that moment the socket's RX rec_seq is the parsed record's number: the
 * parser takes one record at a time and the previous one was decrypted
 * (rec_seq advanced) before it was released.  The start seq is chained
 * from the install point; the kernel's seq argument is only right outside
 * tls_strp's copy mode.
 */
static __always_inline void on_new_record(__u64 sk_addr, __u32 rcd_len, __u32 seq)
{
	struct sock *sk = (void *)sk_addr;
	struct tlshim_ktls_rx_track *t;
	struct tlshim_rec_key key = {};
	struct tlshim_rec_val val = {};
	struct tls_context *ctx;
	__u64 sk_key = sk_addr, rec_sn;

	t = bpf_map_lookup_elem(&ktls_rx_track, &sk_key);
	if (!t)
		return;
	ctx = sock_tls_ctx(sk);
	if (!ctx)
		return;
	rec_sn = ctx_rec_sn(ctx, TLSHIM_DIR_RX);
	key.flow = t->flow;
	if (rec_sn == t->next_rec_sn) {
		key.tcp_seq = t->next_seq;
	} else {
		key.tcp_seq = seq;
		t->mismatches++;
	}
	val.rec_sn = rec_sn;
	val.rec_len = rcd_len;
	val.added_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&tlshim_rec_log, &key, &val, BPF_ANY);
	t->next_seq = key.tcp_seq + rcd_len;
	t->next_rec_sn = rec_sn + 1;
	t->records++;
}

/* ---- fentry/fexit set ---------------------------------------------- */

SEC("fexit/tls_set_sw_offload")
int ktls_setup_exit(__u64 *ctx)
{
	__u64 sk = 0, a1 = 0, a2 = 0, ret = 0;

	bpf_get_func_arg(ctx, 0, &sk);
	bpf_get_func_arg(ctx, 1, &a1);
	bpf_get_func_arg(ctx, 2, &a2);	/* fails (stays 0) on the 2-argument version */
	bpf_get_func_ret(ctx, &ret);
	on_set_sw_offload(sk, a1, a2, (int)ret);
	return 0;
}

SEC("fentry/tls_sk_proto_close")
int ktls_close_entry(__u64 *ctx)
{
	on_close(ctx[0]);
	return 0;
}

SEC("fentry/tls_device_rx_resync_new_rec")
int ktls_new_rec_entry(__u64 *ctx)
{
	on_new_record(ctx[0], (__u32)ctx[1], (__u32)ctx[2]);
	return 0;
}

/* ---- kprobe set (kernels where trampolines cannot attach) ----------- */

SEC("kprobe/tls_set_sw_offload")
int ktls_setup_kprobe(struct pt_regs *regs)
{
	struct setup_args a = {
		.sk = PT_REGS_PARM1(regs), .arg1 = PT_REGS_PARM2(regs), .arg2 = PT_REGS_PARM3(regs),
	};
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_update_elem(&ktls_setup_args, &id, &a, BPF_ANY);
	return 0;
}

SEC("kretprobe/tls_set_sw_offload")
int ktls_setup_kretprobe(struct pt_regs *regs)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct setup_args *a = bpf_map_lookup_elem(&ktls_setup_args, &id);

	if (!a)
		return 0;
	on_set_sw_offload(a->sk, a->arg1, a->arg2, (int)PT_REGS_RC(regs));
	bpf_map_delete_elem(&ktls_setup_args, &id);
	return 0;
}

SEC("kprobe/tls_sk_proto_close")
int ktls_close_kprobe(struct pt_regs *regs)
{
	on_close(PT_REGS_PARM1(regs));
	return 0;
}

SEC("kprobe/tls_device_rx_resync_new_rec")
int ktls_new_rec_kprobe(struct pt_regs *regs)
{
	on_new_record(PT_REGS_PARM1(regs), PT_REGS_PARM2(regs), PT_REGS_PARM3(regs));
	return 0;
}

/* ---- sockets that existed before the loader started ----------------- */

static __always_inline int ulp_is_tls(struct sock *sk)
{
	char name[16] = {};

	BPF_CORE_READ_STR_INTO(&name, (struct inet_connection_sock *)sk, icsk_ulp_ops, name);
	return name[0] == 't' && name[1] == 'l' && name[2] == 's' && name[3] == 0;
}

static __always_inline void unsettled(struct sock *sk, __u8 dir)
{
	struct tlshim_ktls_event ev = {};

	ev.type = TLSHIM_KTLS_UNSETTLED;
	ev.source = TLSHIM_KTLS_SRC_ITER;
	ev.family = sock_flow(sk, dir, &ev.flow);
	if (ev.family)
		emit(&ev);
}

/*
 * A kTLS socket's current position, read with the socket locked by the
 * iterator.  RX: the parser's record (if it has parsed a header) or the
 * next one starts at copied_seq and has number rx.rec_seq: a record's
 * bytes leave the TCP queue (copied_seq) only once it is decrypted
 * (rec_seq advanced).  In copy mode the bytes left early: not exact.
 * TX: with no encrypted record waiting for TCP (tx_list empty, nothing
 * partially sent), the next record starts at write_seq with tx.rec_seq.
 */
SEC("iter/tcp")
int ktls_existing(struct bpf_iter__tcp *it)
{
	struct sock_common *skc = it->sk_common;
	struct tls_context *ctx;
	struct sock *sk;

	if (!skc)
		return 0;
	/* NULL for request and timewait sockets: no ULP there */
	sk = (void *)bpf_skc_to_tcp_sock(skc);
	if (!sk || !ulp_is_tls(sk))
		return 0;
	ctx = sock_tls_ctx(sk);
	if (!ctx)
		return 0;
	if (BPF_CORE_READ_BITFIELD_PROBED(ctx, rx_conf) == TLS_SW) {
		struct tls_sw_context_rx *rx = BPF_CORE_READ(ctx, priv_ctx_rx);
		__u32 seq = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq);
		__u64 rec_sn = ctx_rec_sn(ctx, TLSHIM_DIR_RX);
		int parsed_len = BPF_CORE_READ(rx, strp.stm.full_len);

		if (BPF_CORE_READ_BITFIELD_PROBED(rx, strp.copy_mode)) {
			unsettled(sk, TLSHIM_DIR_RX);
		} else {
			announce(sk, ctx, TLSHIM_DIR_RX, TLSHIM_KTLS_SRC_ITER, seq, rec_sn);
			if (parsed_len > 0) {
				/* Already parsed: log it, and chain from the next. */
				__u64 key = (__u64)sk;
				struct tlshim_ktls_rx_track *t = bpf_map_lookup_elem(&ktls_rx_track, &key);

				if (t) {
					struct tlshim_rec_key k = { .flow = t->flow, .tcp_seq = seq };
					struct tlshim_rec_val v = { .rec_sn = rec_sn,
								    .rec_len = parsed_len,
								    .added_ns = bpf_ktime_get_ns() };

					bpf_map_update_elem(&tlshim_rec_log, &k, &v, BPF_ANY);
					t->next_seq = seq + parsed_len;
					t->next_rec_sn = rec_sn + 1;
					t->records++;
				}
			}
		}
	}
	if (BPF_CORE_READ_BITFIELD_PROBED(ctx, tx_conf) == TLS_SW) {
		struct tls_sw_context_tx *tx = BPF_CORE_READ(ctx, priv_ctx_tx);
		struct list_head *head = __builtin_preserve_access_index(&tx->tx_list);

		if (BPF_CORE_READ(tx, tx_list.next) != head || BPF_CORE_READ(ctx, partially_sent_record))
			unsettled(sk, TLSHIM_DIR_TX);
		else
			announce(sk, ctx, TLSHIM_DIR_TX, TLSHIM_KTLS_SRC_ITER,
				 BPF_CORE_READ((struct tcp_sock *)sk, write_seq),
				 ctx_rec_sn(ctx, TLSHIM_DIR_TX));
	}
	return 0;
}
