// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim conn add|del|list: the kernel's tls_dev_add / tls_dev_del, and a
 * look at the device's table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "common.h"
#include "install.h"
#include "sockseq.h"

static void conn_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim conn add rx|tx SADDR:PORT DADDR:PORT --tcp-seq N [--rec-seq N]\n"
		"                 [--version 1.2|1.3] [--cipher aes-gcm-128|aes-gcm-256|chacha20-poly1305]\n"
		"                 [--key HEX --iv HEX [--salt HEX]]\n"
		"                 [--resync stream-scan|async|next-hint|none] [--enforce-drops]\n"
		"       tlshim conn del rx|tx SADDR:PORT DADDR:PORT\n"
		"       tlshim conn list [-j|--json] [--show-keys]\n"
		"\n"
		"A connection is named the way its data packets travel: SADDR:PORT is the\n"
		"source of the packets carrying that direction's records (for rx the remote\n"
		"peer, for tx this host).  IPv6 as [addr]:port.\n"
		"--tcp-seq   TCP seq where record --rec-seq starts (start_offload_tcp_sn:\n"
		"            copied_seq for rx, write_seq for tx); decimal or 0x hex, or\n"
		"            auto: read from the live local socket in this network namespace\n"
		"            (must be ESTABLISHED; rx: with no received bytes unread)\n"
		"--rec-seq   TLS record number of that record (default 0)\n"
		"--version   TLS version (default 1.2); --cipher (default aes-gcm-128)\n"
		"--key/--iv/--salt  crypto_info as for setsockopt(SOL_TLS): key 16 bytes\n"
		"            (aes-gcm-128) or 32, iv 8 bytes (12 for chacha20-poly1305),\n"
		"            salt 4 bytes (none for chacha20-poly1305).  Kept in the root-only\n"
		"            map tlshim_keys, zeroed on delete, shown only with --show-keys.\n"
		"--resync    how the rx device finds a lost stream again (default from\n"
		"            tlshim config: stream-scan)\n"
		"--enforce-drops  tx only: really drop the segments a NIC would drop\n"
		"            (tx_tls_drop_no_sync_data) instead of only counting them, to\n"
		"            watch TCP's reaction (also global: tlshim config set enforce-drops on)\n"
		"A full device refuses the install: the connection stays in software\n"
		"(listed as such, counted in rx_tls_ctx_full / TlsCurrRxSw).\n"
		"tx connections also show the transmit side: expected_seq (the device's),\n"
		"sent_seq (after the highest byte seen leave), acked_seq (the peer's ACKs,\n"
		"seen by the receive side: attach XDP on the same interface), the record\n"
		"log (log_records, marker_live) and the TX counters.\n");
}

/* Key, iv and salt lengths of tls12_crypto_info_* for each cipher. */
static void crypto_sizes(__u16 cipher, __u8 *key, __u8 *iv, __u8 *salt)
{
	switch (cipher) {
	case TLSHIM_CIPHER_AES_GCM_256:
		*key = 32; *iv = 8; *salt = 4;
		break;
	case TLSHIM_CIPHER_CHACHA20_POLY1305:
		*key = 32; *iv = 12; *salt = 0;
		break;
	default:
		*key = 16; *iv = 8; *salt = 4;
	}
}

static void parse_flow(const char **pos, struct tlshim_flow *flow)
{
	memset(flow, 0, sizeof(*flow));
	if (!parse_dir(pos[0], &flow->dir))
		usage_error("direction", "'%s' (use rx or tx)", pos[0]);
	if (!parse_endpoint(pos[1], flow->saddr, &flow->sport))
		usage_error("SADDR:PORT", "'%s' (use a.b.c.d:port or [v6addr]:port)", pos[1]);
	if (!parse_endpoint(pos[2], flow->daddr, &flow->dport))
		usage_error("DADDR:PORT", "'%s' (use a.b.c.d:port or [v6addr]:port)", pos[2]);
	if (endpoint_is_ipv4(flow->saddr) != endpoint_is_ipv4(flow->daddr))
		usage_error("DADDR:PORT", "'%s' is not of the same family as '%s'", pos[2], pos[1]);
}

static void flow_names(const struct tlshim_flow *flow, char *src, char *dst)
{
	format_endpoint(src, flow->saddr, flow->sport);
	format_endpoint(dst, flow->daddr, flow->dport);
}

void conn_remove(const struct device_maps *m, const struct tlshim_flow *flow)
{
	struct tlshim_crypto zero_keys = {};

	/* In place under the value's lock: a plain update would leave the
	 * old bytes in the freed element. */
	bpf_map_update_elem(m->keys, flow, &zero_keys, BPF_EXIST | BPF_F_LOCK);
	bpf_map_delete_elem(m->keys, flow);
	bpf_map_delete_elem(m->tx_conns, flow);
	bpf_map_delete_elem(m->conns, flow);
}

/*
 * --tcp-seq auto: start_offload_tcp_sn from the live local socket of the
 * connection (user/sockseq.c): copied_seq for rx, write_seq for tx, the
 * values the kernel hands a NIC at tls_dev_add.  Refused, as a usage error,
 * when there is no such socket in this network namespace, when it is not
 * ESTABLISHED, and for rx when received bytes wait unread (copied_seq !=
 * rcv_nxt): a NIC would already have seen them pass, so the device could
 * never see the record starting at copied_seq.  For tx, bytes written but
 * not yet sent are fine: the next record starts at write_seq all the same.
 */
static uint64_t tcp_seq_auto(const struct tlshim_flow *flow)
{
	static const char *const states[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"NEW_SYN_RECV",
	};
	char local[ENDPOINT_STRLEN], remote[ENDPOINT_STRLEN];
	const char *state;
	struct sockseq s;
	int err;

	format_endpoint(local, flow->dir == TLSHIM_DIR_RX ? flow->daddr : flow->saddr,
			flow->dir == TLSHIM_DIR_RX ? flow->dport : flow->sport);
	format_endpoint(remote, flow->dir == TLSHIM_DIR_RX ? flow->saddr : flow->daddr,
			flow->dir == TLSHIM_DIR_RX ? flow->sport : flow->dport);
	err = sockseq_lookup(flow, &s);
	if (err == -ENOENT)
		usage_error("tcp-seq", "auto: no TCP socket %s <-> %s in this network namespace",
			    local, remote);
	if (err)
		fail(EXIT_FAIL, "--tcp-seq auto: cannot read the sockets (iter/tcp): %s",
		     strerror(-err));
	state = s.sk.state < sizeof(states) / sizeof(states[0]) ? states[s.sk.state] : "?";
	if (s.sk.state != 1 || !s.sk.full)
		usage_error("tcp-seq", "auto: socket %s <-> %s is %s, not ESTABLISHED",
			    local, remote, state);
	if (flow->dir == TLSHIM_DIR_RX && s.sk.copied_seq != s.sk.rcv_nxt)
		usage_error("tcp-seq", "auto: socket %s <-> %s has %u received bytes unread "
			    "(copied_seq %u, rcv_nxt %u): the device would have seen them already; "
			    "read them first or give the seq", local, remote,
			    s.sk.rcv_nxt - s.sk.copied_seq, s.sk.copied_seq, s.sk.rcv_nxt);
	return s.start_seq;
}

bool conn_spec_parse(int argc, char **argv, struct conn_spec *spec, const char *what)
{
	struct opt opts[] = {
		{ "tcp-seq", NULL, true }, { "rec-seq", NULL, true },
		{ "version", NULL, true }, { "cipher", NULL, true },
		{ "key", NULL, true }, { "iv", NULL, true }, { "salt", NULL, true },
		{ "resync", NULL, true }, { "enforce-drops", NULL, false }, { "help", "h", false },
		{ 0 }
	};
	struct tlshim_crypto *crypto = &spec->crypto;
	const char *pos[3];
	uint64_t tcp_seq, rec_seq = 0;
	uint8_t policy = 0;

	memset(spec, 0, sizeof(*spec));
	spec->version = TLSHIM_TLS_1_2;
	spec->cipher = TLSHIM_CIPHER_AES_GCM_128;
	spec->policy = -1;
	if (parse_opts(argc, argv, opts, pos, 3, what) != 3 || opt_get(opts, "help")->seen) {
		if (opt_get(opts, "help")->seen)
			return false;
		usage_error("arguments", "expected rx|tx SADDR:PORT DADDR:PORT (see tlshim conn --help)");
	}
	parse_flow(pos, &spec->flow);
	if (!opt_get(opts, "tcp-seq")->seen)
		usage_error("tcp-seq", "missing --tcp-seq (the TCP seq where the record starts)");
	if (!strcmp(opt_get(opts, "tcp-seq")->value, "auto")) {
		/* Only `conn add` runs beside live sockets; a capture has none. */
		if (strcmp(what, "conn add"))
			usage_error("tcp-seq", "auto reads a live local socket; %s has none: give the number",
				    what);
		tcp_seq = tcp_seq_auto(&spec->flow);
	} else if (!parse_u64(opt_get(opts, "tcp-seq")->value, UINT32_MAX, &tcp_seq))
		usage_error("tcp-seq", "'%s' (a TCP sequence number, 0..4294967295, or auto)",
			    opt_get(opts, "tcp-seq")->value);
	if (opt_get(opts, "rec-seq")->seen &&
	    !parse_u64(opt_get(opts, "rec-seq")->value, UINT64_MAX, &rec_seq))
		usage_error("rec-seq", "'%s' (a record number, 0..2^64-1)",
			    opt_get(opts, "rec-seq")->value);
	if (opt_get(opts, "version")->seen && !parse_version(opt_get(opts, "version")->value, &spec->version))
		usage_error("version", "'%s' (use 1.2 or 1.3)", opt_get(opts, "version")->value);
	if (opt_get(opts, "cipher")->seen && !parse_cipher(opt_get(opts, "cipher")->value, &spec->cipher))
		usage_error("cipher", "'%s' (use aes-gcm-128, aes-gcm-256 or chacha20-poly1305)",
			    opt_get(opts, "cipher")->value);
	if (opt_get(opts, "enforce-drops")->seen && spec->flow.dir != TLSHIM_DIR_TX)
		usage_error("enforce-drops", "only tx connections drop segments (the device "
			    "never drops received ones)");
	spec->enforce_drops = opt_get(opts, "enforce-drops")->seen;
	spec->tcp_seq = tcp_seq;
	spec->rec_seq = rec_seq;

	if (opt_get(opts, "resync")->seen) {
		if (!parse_policy(opt_get(opts, "resync")->value, &policy))
			usage_error("resync", "'%s' (use stream-scan, async, next-hint or none)",
				    opt_get(opts, "resync")->value);
		spec->policy = policy;
	}

	crypto->version = spec->version;
	crypto->cipher = spec->cipher;
	for (int i = 0; i < 8; i++)
		crypto->rec_seq[i] = rec_seq >> (56 - 8 * i);
	if (opt_get(opts, "key")->seen || opt_get(opts, "iv")->seen || opt_get(opts, "salt")->seen) {
		__u16 cipher = spec->cipher;
		__u8 key_len, iv_len, salt_len;

		crypto_sizes(cipher, &key_len, &iv_len, &salt_len);
		if (!opt_get(opts, "key")->seen)
			usage_error("key", "missing --key (needed with --iv/--salt)");
		if (!parse_hex(opt_get(opts, "key")->value, crypto->key, key_len))
			usage_error("key", "must be %u bytes of hex for %s", key_len, cipher_name(cipher));
		if (!opt_get(opts, "iv")->seen)
			usage_error("iv", "missing --iv (needed with --key)");
		if (!parse_hex(opt_get(opts, "iv")->value, crypto->iv, iv_len))
			usage_error("iv", "must be %u bytes of hex for %s", iv_len, cipher_name(cipher));
		if (salt_len && !opt_get(opts, "salt")->seen)
			usage_error("salt", "missing --salt (%u bytes for %s)", salt_len, cipher_name(cipher));
		if (!salt_len && opt_get(opts, "salt")->seen)
			usage_error("salt", "%s takes no salt", cipher_name(cipher));
		if (salt_len && !parse_hex(opt_get(opts, "salt")->value, crypto->salt, salt_len))
			usage_error("salt", "must be %u bytes of hex for %s", salt_len, cipher_name(cipher));
		crypto->key_len = key_len;
		crypto->iv_len = iv_len;
		crypto->salt_len = salt_len;
	}
	return true;
}

static int conn_add(int argc, char **argv)
{
	struct conn_spec spec;
	struct device_maps m;
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];
	enum install_result res;
	__u32 capacity = 0;

	if (!conn_spec_parse(argc, argv, &spec, "conn add")) {
		conn_usage(stdout);
		return EXIT_OK;
	}
	flow_names(&spec.flow, src, dst);

	device_maps_open(&m);
	res = device_install(&m, &spec.flow, spec.version, spec.cipher, spec.tcp_seq, spec.rec_seq,
			     spec.policy, spec.enforce_drops, &spec.crypto, &capacity);
	memset(&spec.crypto, 0, sizeof(spec.crypto));
	switch (res) {
	case INSTALL_OK:
		break;
	case INSTALL_EXISTS:
		usage_error("connection", "%s %s %s is already installed", dir_name(spec.flow.dir), src, dst);
	case INSTALL_FULL:
		fprintf(stderr, "tlshim: device table full (%u connections): connection stays in "
			"software: %s %s %s\n", capacity, dir_name(spec.flow.dir), src, dst);
		exit(EXIT_USAGE);
	case INSTALL_ERROR:
		fail(EXIT_FAIL, "cannot read the device's config: %s", strerror(errno));
	}
	device_maps_close(&m);
	return EXIT_OK;
}

static int conn_del(int argc, char **argv)
{
	struct opt opts[] = { { "help", "h", false }, { 0 } };
	struct tlshim_flow flow;
	struct device_maps m;
	const char *pos[3];
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];

	if (parse_opts(argc, argv, opts, pos, 3, "conn del") != 3) {
		if (opt_get(opts, "help")->seen) {
			conn_usage(stdout);
			return EXIT_OK;
		}
		usage_error("arguments", "expected rx|tx SADDR:PORT DADDR:PORT (see tlshim conn --help)");
	}
	parse_flow(pos, &flow);
	flow_names(&flow, src, dst);

	device_maps_open(&m);
	switch (device_remove(&m, &flow)) {
	case REMOVED_DEVICE:
	case REMOVED_SOFTWARE:
		break;
	case REMOVE_NONE:
		usage_error("connection", "no such connection: %s %s %s", dir_name(flow.dir), src, dst);
	case REMOVE_ERROR:
		fail(EXIT_FAIL, "cannot read the device's counters: %s", strerror(errno));
	}
	device_maps_close(&m);
	return EXIT_OK;
}

/* The numbers `conn list` shows, in order; both formats print this list. */
static size_t conn_fields(const struct tlshim_conn *c, struct conn_field *f)
{
	const struct tlshim_stream *st = &c->st;
	const struct tlshim_conn_stats *s = &c->stats;
	size_t n = 0;

#define FIELD(nm, v) f[n++] = (struct conn_field){ nm, (v) }
	FIELD("expected_seq", st->expected_seq);
	FIELD("rec_sn", st->rec_sn);
	FIELD("rec_start_seq", st->rec_start_seq);
	FIELD("rec_offset", st->rec_offset);
	FIELD("rec_len", st->rec_len);
	FIELD("start_seq", c->start_seq);
	FIELD("start_rec_sn", c->start_rec_sn);
	FIELD("lost_at_seq", st->lost_at_seq);
	FIELD("lost_seen_seq", st->lost_seen_seq);
	FIELD("decrypted_packets", s->decrypted_packets);
	FIELD("decrypted_bytes", s->decrypted_bytes);
	FIELD("passed_packets", s->passed_packets);
	FIELD("old_packets", s->old_packets);
	FIELD("records", s->records);
	FIELD("lost_sync", s->lost_sync);
	FIELD("header_errors", s->header_errors);
	FIELD("retries", s->retries);
	FIELD("resync_requests", s->resync_requests);
	FIELD("resync_confirmed", s->resync_confirmed);
	FIELD("resync_abandoned", s->resync_abandoned);
	FIELD("resync_stale", s->resync_stale);
	FIELD("out_of_sync_ns", s->out_of_sync_ns);
	FIELD("unsynced_packets", s->unsynced_packets);
	FIELD("unsynced_bytes", s->unsynced_bytes);
	FIELD("resync_seq", st->resync_seq);
	FIELD("scan_from_seq", st->scan_from_seq);
#undef FIELD
	return n;
}

struct keys_hex {
	char key[65], iv[25], salt[9];
};

static void keys_to_hex(const struct tlshim_crypto *k, struct keys_hex *h)
{
	print_hex(h->key, k->key, k->key_len);
	print_hex(h->iv, k->iv, k->iv_len);
	print_hex(h->salt, k->salt, k->salt_len);
}

/* tx: the transmit side's state, or NULL (an rx connection). */
static void print_conn_text(const struct tlshim_flow *flow, const struct tlshim_conn *c,
			    const struct tlshim_tx_conn *tx, const struct tlshim_crypto *keys)
{
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];
	struct conn_field f[CONN_FIELDS_MAX];
	const struct tlshim_stream *st = tx ? &tx->parser : &c->st;
	size_t n = tx ? tx_conn_fields(tx, f) : conn_fields(c, f);

	flow_names(flow, src, dst);
	printf("%s %s %s tls %s %s %s resync %s", dir_name(flow->dir), src, dst,
	       version_name(c->tls_version), cipher_name(c->cipher), sync_name(st->sync),
	       policy_name(st->policy));
	if (st->sync == TLSHIM_SYNC_LOST)
		printf(" (%s)", loss_name(st->lost_reason));
	if (tx && tx->enforce_drops)
		printf(" enforce-drops");
	for (size_t i = 0; i < n; i++)
		printf("%s%s %llu", i % 5 ? " " : "\n   ", f[i].name, f[i].value);
	printf("\n");
	if (keys) {
		struct keys_hex h;

		keys_to_hex(keys, &h);
		printf("    key %s iv %s salt %s\n", keys->key_len ? h.key : "-",
		       keys->iv_len ? h.iv : "-", keys->salt_len ? h.salt : "-");
	}
}

static void print_conn_json(const struct tlshim_flow *flow, const struct tlshim_conn *c,
			    const struct tlshim_tx_conn *tx, const struct tlshim_crypto *keys,
			    bool first)
{
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];
	struct conn_field f[CONN_FIELDS_MAX];
	const struct tlshim_stream *st = tx ? &tx->parser : &c->st;
	size_t n = tx ? tx_conn_fields(tx, f) : conn_fields(c, f);

	flow_names(flow, src, dst);
	printf("%s{\"dir\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\",\"mode\":\"device\","
	       "\"version\":\"%s\",\"cipher\":\"%s\",\"state\":\"%s\",\"lost_reason\":\"%s\","
	       "\"resync\":\"%s\"",
	       first ? "" : ",\n", dir_name(flow->dir), src, dst, version_name(c->tls_version),
	       cipher_name(c->cipher), sync_name(st->sync), loss_name(st->lost_reason),
	       policy_name(st->policy));
	if (tx)
		printf(",\"enforce_drops\":%s", tx->enforce_drops ? "true" : "false");
	for (size_t i = 0; i < n; i++)
		printf(",\"%s\":%llu", f[i].name, f[i].value);
	if (keys) {
		struct keys_hex h;

		keys_to_hex(keys, &h);
		printf(",\"key\":\"%s\",\"iv\":\"%s\",\"salt\":\"%s\"", h.key, h.iv, h.salt);
	}
	printf("}");
}

static int conn_list(int argc, char **argv)
{
	struct opt opts[] = {
		{ "json", "j", false }, { "show-keys", NULL, false }, { "help", "h", false }, { 0 }
	};
	struct tlshim_flow key, next;
	struct tlshim_conn conn;
	struct tlshim_tx_conn *tx;
	struct tlshim_crypto keys;
	struct device_maps m;
	const char *pos[1];
	bool json, show_keys, first = true, have_prev = false;
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];

	parse_opts(argc, argv, opts, pos, 0, "conn list");
	if (opt_get(opts, "help")->seen) {
		conn_usage(stdout);
		return EXIT_OK;
	}
	json = opt_get(opts, "json")->seen;
	show_keys = opt_get(opts, "show-keys")->seen;
	device_maps_open(&m);
	if (json)
		printf("[");
	while (bpf_map_get_next_key(m.conns, have_prev ? &key : NULL, &next) == 0) {
		key = next;
		have_prev = true;
		/* BPF_F_LOCK: a consistent copy, never half a commit. */
		if (bpf_map_lookup_elem_flags(m.conns, &key, &conn, BPF_F_LOCK))
			continue;
		if (show_keys && bpf_map_lookup_elem_flags(m.keys, &key, &keys, BPF_F_LOCK))
			memset(&keys, 0, sizeof(keys));
		tx = key.dir == TLSHIM_DIR_TX ? tx_conn_read(&m, &key) : NULL;
		if (json)
			print_conn_json(&key, &conn, tx, show_keys ? &keys : NULL, first);
		else
			print_conn_text(&key, &conn, tx, show_keys ? &keys : NULL);
		free(tx);
		first = false;
	}
	memset(&keys, 0, sizeof(keys));
	have_prev = false;
	while (bpf_map_get_next_key(m.sw_conns, have_prev ? &key : NULL, &next) == 0) {
		key = next;
		have_prev = true;
		flow_names(&key, src, dst);
		if (json)
			printf("%s{\"dir\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\",\"mode\":\"software\"}",
			       first ? "" : ",\n", dir_name(key.dir), src, dst);
		else
			printf("%s %s %s software (device was full)\n", dir_name(key.dir), src, dst);
		first = false;
	}
	if (json)
		printf("]\n");
	device_maps_close(&m);
	return EXIT_OK;
}

int cmd_conn(int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "help") || !strcmp(argv[0], "--help") ||
	    !strcmp(argv[0], "-h")) {
		conn_usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[0], "add"))
		return conn_add(argc - 1, argv + 1);
	if (!strcmp(argv[0], "del"))
		return conn_del(argc - 1, argv + 1);
	if (!strcmp(argv[0], "list") || !strcmp(argv[0], "show"))
		return conn_list(argc - 1, argv + 1);
	usage_error("subcommand", "unknown 'conn %s' (use add, del or list)", argv[0]);
}
