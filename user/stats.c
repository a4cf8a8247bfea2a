// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim stats: the device's counters under the kernel's names, printed
 * like `ethtool -S`, as JSON, or in the Prometheus text format.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

enum counter_kind { COUNTER, GAUGE };

struct counter_desc {
	const char *name;
	enum counter_kind kind;
	const char *help;
};

/* Documented meaning of each counter; the order is the print order. */
static const struct counter_desc descs[] = {
	{ "rx_tls_decrypted_packets", COUNTER, "RX segments the device decrypted" },
	{ "rx_tls_decrypted_bytes", COUNTER, "TCP payload bytes of RX segments the device decrypted" },
	{ "rx_tls_ctx", COUNTER, "RX connections installed on the device" },
	{ "rx_tls_del", COUNTER, "RX connections removed from the device" },
	{ "rx_tls_resync_req_pkt", COUNTER, "RX packets that carried a resync request" },
	{ "rx_tls_resync_req_start", COUNTER, "RX resync requests started" },
	{ "rx_tls_resync_req_end", COUNTER, "RX resync requests ended by the device" },
	{ "rx_tls_resync_req_skip", COUNTER, "RX resync requests the device abandoned" },
	{ "rx_tls_resync_res_ok", COUNTER, "RX resync answers applied" },
	{ "rx_tls_resync_res_skip", COUNTER, "RX resync answers that came too late" },
	{ "rx_tls_resync_res_retry", COUNTER, "RX resync answers retried (mlx5)" },
	{ "rx_tls_err", COUNTER, "RX record headers the kernel's parser would reject" },
	{ "tx_tls_encrypted_packets", COUNTER, "TX segments the device encrypted, in order or after a replay (a GSO packet counts once)" },
	{ "tx_tls_encrypted_bytes", COUNTER, "TCP payload bytes of TX segments the device encrypted" },
	{ "tx_tls_ctx", COUNTER, "TX connections installed on the device" },
	{ "tx_tls_del", COUNTER, "TX connections removed from the device (mlx5)" },
	{ "tx_tls_ooo", COUNTER, "TX segments not at the expected seq" },
	{ "tx_tls_skip_no_sync_data", COUNTER, "TX retransmissions of pre-offload data sent as is" },
	{ "tx_tls_drop_no_sync_data", COUNTER, "TX segments a NIC would drop: no record state (dropped only with enforce-drops)" },
	{ "tx_tls_drop_bypass_req", COUNTER, "TX segments dropped for lack of a bypass request" },
	{ "tx_tls_dump_packets", COUNTER, "TX out-of-order segments that needed record bytes replayed (mlx5 DUMP; mlx5 counts one per MTU-sized DUMP WQE)" },
	{ "tx_tls_dump_bytes", COUNTER, "TX record bytes replayed before out-of-order segments (mlx5 DUMP)" },
	{ "tx_tls_resync_bytes", COUNTER, "TX bytes of resync context (mlx5)" },
	{ "rx_tls_passed_packets", COUNTER, "tlshim: RX segments of installed flows passed as received" },
	{ "rx_tls_old_packets", COUNTER, "tlshim: of those, wholly before the expected seq" },
	{ "rx_tls_lost_sync", COUNTER, "tlshim: times an RX stream was lost (gap or bad header)" },
	{ "rx_tls_records", COUNTER, "tlshim: RX record headers parsed in sync" },
	{ "rx_tls_state_retry", COUNTER, "tlshim: RX state commits redone after a concurrent update" },
	{ "rx_tls_no_meta", COUNTER, "tlshim: RX segments whose descriptor could not be written" },
	{ "rx_tls_unparsed", COUNTER, "tlshim: frames claiming TCP whose headers did not add up" },
	{ "rx_tls_resync_req_lost", COUNTER, "tlshim: resync requests lost to a full ring buffer (asked again later)" },
	{ "rx_tls_resync_kept_sync", COUNTER, "tlshim: RX holes inside a record that kept the stream" },
	{ "rx_tls_events_lost", COUNTER, "tlshim: trace/next-hint segment events lost to a full ring buffer" },
	{ "tx_tls_resent_packets", COUNTER, "tlshim: TX segments starting below the highest seq sent (retransmissions)" },
	{ "tx_tls_resent_bytes", COUNTER, "tlshim: TX bytes of those below the highest seq sent" },
	{ "tx_tls_records", COUNTER, "tlshim: TX record headers parsed" },
	{ "tx_tls_log_evicted", COUNTER, "tlshim: TX records evicted from a full record log" },
	{ "tx_tls_dropped", COUNTER, "tlshim: TX segments really dropped (enforce-drops)" },
	{ "tx_tls_untracked", COUNTER, "tlshim: TX segments passed unjudged (TX stream lost, or state contended)" },
	{ "tx_tls_state_retry", COUNTER, "tlshim: TX state commits redone after a concurrent update" },
	{ "tx_tls_events_lost", COUNTER, "tlshim: TX trace segment events lost to a full ring buffer" },
	{ "rx_tls_ctx_full", COUNTER, "tlshim: RX installs refused, device full" },
	{ "tx_tls_ctx_full", COUNTER, "tlshim: TX installs refused, device full" },
	{ "TlsCurrRxDevice", GAUGE, "RX connections currently on the device" },
	{ "TlsCurrTxDevice", GAUGE, "TX connections currently on the device" },
	{ "TlsCurrRxSw", GAUGE, "RX connections currently in software (device was full)" },
	{ "TlsCurrTxSw", GAUGE, "TX connections currently in software (device was full)" },
	{ "TlsRxDevice", COUNTER, "RX connections ever installed on the device" },
	{ "TlsTxDevice", COUNTER, "TX connections ever installed on the device" },
	{ "TlsRxSw", COUNTER, "RX connections ever left in software" },
	{ "TlsTxSw", COUNTER, "TX connections ever left in software" },
};
#define NDESCS (sizeof(descs) / sizeof(descs[0]))

struct named_value {
	const char *name;
	unsigned long long value;
};

/* Every counter of both structs, by name, in the order of descs. */
static void collect(const struct device_maps *m, unsigned long long *values)
{
	struct tlshim_counters dp = {};
	struct tlshim_device cp = {};
	struct named_value all[] = {
#define NV_DP(n) { #n, 0 },
#define NV_CP(n) { #n, 0 },
		TLSHIM_DATAPATH_COUNTERS(NV_DP)
		TLSHIM_CONTROL_COUNTERS(NV_CP)
	};
	size_t ndp = sizeof(dp) / sizeof(__u64), nall = sizeof(all) / sizeof(all[0]);

	if (read_counters(m, &dp) || read_device(m, &cp))
		fail(EXIT_FAIL, "cannot read the device's counters");
	for (size_t i = 0; i < nall; i++)
		all[i].value = i < ndp ? ((__u64 *)&dp)[i] : ((__u64 *)&cp)[i - ndp];
	for (size_t i = 0; i < nall; i++) {
		size_t d = 0;

		while (d < NDESCS && strcmp(descs[d].name, all[i].name))
			d++;
		if (d == NDESCS)
			fail(EXIT_FAIL, "internal: counter %s has no description", all[i].name);
	}
	for (size_t d = 0; d < NDESCS; d++) {
		values[d] = 0;
		for (size_t i = 0; i < nall; i++)
			if (!strcmp(descs[d].name, all[i].name))
				values[d] = all[i].value;
	}
}

static void print_ethtool(const unsigned long long *v)
{
	printf("NIC statistics:\n");
	for (size_t d = 0; d < NDESCS; d++)
		printf("     %s: %llu\n", descs[d].name, v[d]);
}

static void print_json(const unsigned long long *v)
{
	printf("{");
	for (size_t d = 0; d < NDESCS; d++)
		printf("%s\"%s\":%llu", d ? "," : "", descs[d].name, v[d]);
	printf("}\n");
}

static void print_prometheus(const unsigned long long *v)
{
	for (size_t d = 0; d < NDESCS; d++) {
		printf("# HELP tlshim_%s %s\n", descs[d].name, descs[d].help);
		printf("# TYPE tlshim_%s %s\n", descs[d].name,
		       descs[d].kind == GAUGE ? "gauge" : "counter");
		printf("tlshim_%s %llu\n", descs[d].name, v[d]);
	}
}

void stats_print(const struct device_maps *m, bool json)
{
	unsigned long long values[NDESCS];

	collect(m, values);
	if (json)
		print_json(values);
	else
		print_ethtool(values);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void stats_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim stats [-j|--json | --prometheus] [--watch SECONDS]\n"
		"\n"
		"Counters use the kernel's names (Documentation/networking/tls-offload.rst,\n"
		"mlx5, /proc/net/tls_stat); tlshim's own are marked below.  Data-path\n"
		"counters are per-CPU in tlshim_stats and summed here.\n\n");
	for (size_t d = 0; d < NDESCS; d++)
		fprintf(f, "  %-26s %s%s\n", descs[d].name, descs[d].help,
			descs[d].kind == GAUGE ? " (gauge)" : "");
}

int cmd_stats(int argc, char **argv)
{
	struct opt opts[] = {
		{ "json", "j", false }, { "prometheus", NULL, false },
		{ "watch", NULL, true }, { "help", "h", false }, { 0 }
	};
	unsigned long long values[NDESCS];
	struct device_maps m;
	const char *pos[1];
	uint64_t interval = 0;

	parse_opts(argc, argv, opts, pos, 0, "stats");
	if (opt_get(opts, "help")->seen) {
		stats_usage(stdout);
		return EXIT_OK;
	}
	if (opt_get(opts, "json")->seen && opt_get(opts, "prometheus")->seen)
		usage_error("format", "--json and --prometheus exclude each other");
	if (opt_get(opts, "watch")->seen &&
	    (!parse_u64(opt_get(opts, "watch")->value, 86400, &interval) || !interval))
		usage_error("watch", "'%s' (seconds, 1..86400)", opt_get(opts, "watch")->value);

	device_maps_open(&m);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	do {
		collect(&m, values);
		if (opt_get(opts, "json")->seen)
			print_json(values);
		else if (opt_get(opts, "prometheus")->seen)
			print_prometheus(values);
		else
			print_ethtool(values);
		fflush(stdout);
		if (interval)
			sleep(interval);
	} while (interval && !stop);
	device_maps_close(&m);
	return EXIT_OK;
}
