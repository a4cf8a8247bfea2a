// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tlshim config: the device's settings, kept in the pinned tlshim_config map
 * so that programs loaded by ip/tc see them too. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "common.h"

static void config_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim config [show] [-j|--json]\n"
		"       tlshim config set [mark MASK] [max-conns N] [resync-policy P]\n"
		"                         [resync-headers N] [resync-timeout N]\n"
		"                         [record-log N] [enforce-drops on|off]\n"
		"\n"
		"mark       skb->mark bits the tc ingress program sets on decrypted\n"
		"           segments (the stand-in for skb->decrypted); default 0x%x\n"
		"max-conns  device capacity, 1..%u; default %u.  Installs beyond it are\n"
		"           refused and the connection stays in software.\n"
		"resync-policy   default for new connections: stream-scan (default),\n"
		"           async, next-hint or none (tlshim conn add --resync overrides)\n"
		"resync-headers  headers a guessed position must chain before the device\n"
		"           asks the kernel, 1..%u; default %u\n"
		"resync-timeout  records without an answer before the device gives the\n"
		"           request up and scans again; default %u\n"
		"record-log TX record log capacity per connection, 1..%u; default %u.\n"
		"           When it is full the oldest unacknowledged record is evicted;\n"
		"           a retransmission into an evicted record counts as\n"
		"           tx_tls_drop_no_sync_data (the driver has no record to replay).\n"
		"enforce-drops  on: every TX segment a NIC would drop is dropped for real\n"
		"           (tc returns TC_ACT_SHOT), for all connections; off (default):\n"
		"           only counted, except for connections added with --enforce-drops.\n",
		TLSHIM_DEFAULT_MARK, TLSHIM_MAX_CONNS, TLSHIM_DEFAULT_CAPACITY,
		TLSHIM_MAX_RESYNC_HEADERS, TLSHIM_DEFAULT_RESYNC_HEADERS,
		TLSHIM_DEFAULT_RESYNC_TIMEOUT, TLSHIM_TX_LOG_MAX, TLSHIM_TX_LOG_DEFAULT);
}

static int config_show(int argc, char **argv)
{
	struct opt opts[] = { { "json", "j", false }, { 0 } };
	struct tlshim_config raw, cfg;
	struct device_maps m;
	const char *pos[1];
	bool enforce;

	parse_opts(argc, argv, opts, pos, 0, "config show");
	device_maps_open(&m);
	if (read_config(&m, &raw))
		fail(EXIT_FAIL, "cannot read tlshim_config: %s", strerror(errno));
	effective_config(&raw, &cfg);
	enforce = cfg.flags & TLSHIM_CFG_ENFORCE_DROPS;
	if (opt_get(opts, "json")->seen)
		printf("{\"mark\":%u,\"max_conns\":%u,\"resync_policy\":\"%s\","
		       "\"resync_headers\":%u,\"resync_timeout\":%u,\"trace\":%s,"
		       "\"record_log\":%u,\"enforce_drops\":%s,\"initialized\":%s}\n",
		       cfg.decrypted_mark, cfg.max_conns, policy_name(cfg.resync_policy),
		       cfg.resync_headers, cfg.resync_timeout_records,
		       cfg.flags & TLSHIM_CFG_TRACE ? "true" : "false",
		       cfg.tx_record_log, enforce ? "true" : "false",
		       raw.initialized ? "true" : "false");
	else
		printf("mark 0x%08x\nmax-conns %u\nresync-policy %s\nresync-headers %u\n"
		       "resync-timeout %u\ntrace %s\nrecord-log %u\nenforce-drops %s\n%s",
		       cfg.decrypted_mark, cfg.max_conns,
		       policy_name(cfg.resync_policy), cfg.resync_headers,
		       cfg.resync_timeout_records, cfg.flags & TLSHIM_CFG_TRACE ? "on" : "off",
		       cfg.tx_record_log, enforce ? "on" : "off",
		       raw.initialized ? "" : "(defaults: never set by the loader)\n");
	device_maps_close(&m);
	return EXIT_OK;
}

static int config_set(int argc, char **argv)
{
	struct tlshim_config raw, cfg;
	struct device_maps m;
	uint64_t mark = 0, max_conns = 0, headers = 0, timeout = 0, record_log = 0;
	bool set_mark = false, set_max = false, set_policy = false, set_log = false;
	bool set_enforce = false, enforce = false;
	uint8_t policy = 0;
	__u32 zero = 0;
	int lock;

	if (argc == 0)
		usage_error("arguments", "nothing to set (see tlshim config --help)");
	for (int i = 0; i < argc; i += 2) {
		const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(name, "mark")) {
			if (!value || !parse_u64(value, UINT32_MAX, &mark) || !mark)
				usage_error("mark", "'%s' (a nonzero 32-bit mask, e.g. 0x100000)",
					    value ? value : "");
			set_mark = true;
		} else if (!strcmp(name, "max-conns")) {
			if (!value || !parse_u64(value, TLSHIM_MAX_CONNS, &max_conns) || !max_conns)
				usage_error("max-conns", "'%s' (1..%u)", value ? value : "",
					    TLSHIM_MAX_CONNS);
			set_max = true;
		} else if (!strcmp(name, "resync-policy")) {
			if (!value || !parse_policy(value, &policy))
				usage_error("resync-policy", "'%s' (use stream-scan, async, next-hint "
					    "or none)", value ? value : "");
			set_policy = true;
		} else if (!strcmp(name, "resync-headers")) {
			if (!value || !parse_u64(value, TLSHIM_MAX_RESYNC_HEADERS, &headers) ||
			    !headers)
				usage_error("resync-headers", "'%s' (1..%u)", value ? value : "",
					    TLSHIM_MAX_RESYNC_HEADERS);
		} else if (!strcmp(name, "resync-timeout")) {
			if (!value || !parse_u64(value, 1u << 20, &timeout) || !timeout)
				usage_error("resync-timeout", "'%s' (records, 1..%u)",
					    value ? value : "", 1u << 20);
		} else if (!strcmp(name, "record-log")) {
			if (!value || !parse_u64(value, TLSHIM_TX_LOG_MAX, &record_log) || !record_log)
				usage_error("record-log", "'%s' (records per TX connection, 1..%u)",
					    value ? value : "", TLSHIM_TX_LOG_MAX);
			set_log = true;
		} else if (!strcmp(name, "enforce-drops")) {
			if (!value || (strcmp(value, "on") && strcmp(value, "off")))
				usage_error("enforce-drops", "'%s' (use on or off)", value ? value : "");
			enforce = !strcmp(value, "on");
			set_enforce = true;
		} else {
			usage_error("setting", "unknown '%s' (use mark, max-conns, resync-policy, "
				    "resync-headers, resync-timeout, record-log or enforce-drops)",
				    name);
		}
	}
	device_maps_open(&m);
	lock = control_lock();
	if (read_config(&m, &raw))
		fail(EXIT_FAIL, "cannot read tlshim_config: %s", strerror(errno));
	effective_config(&raw, &cfg);
	cfg.initialized = 1;
	if (set_mark)
		cfg.decrypted_mark = mark;
	if (set_max)
		cfg.max_conns = max_conns;
	if (set_policy)
		cfg.resync_policy = policy;
	if (headers)
		cfg.resync_headers = headers;
	if (timeout)
		cfg.resync_timeout_records = timeout;
	if (set_log)
		cfg.tx_record_log = record_log;
	if (set_enforce)
		cfg.flags = enforce ? cfg.flags | TLSHIM_CFG_ENFORCE_DROPS :
				      cfg.flags & ~TLSHIM_CFG_ENFORCE_DROPS;
	if (bpf_map_update_elem(m.config, &zero, &cfg, BPF_ANY))
		fail(EXIT_FAIL, "cannot write tlshim_config: %s", strerror(errno));
	control_unlock(lock);
	device_maps_close(&m);
	return EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
	if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") ||
			  !strcmp(argv[0], "help"))) {
		config_usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 1 && !strcmp(argv[0], "set"))
		return config_set(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "show"))
		return config_show(argc - 1, argv + 1);
	if (argc >= 1 && argv[0][0] != '-')
		usage_error("subcommand", "unknown 'config %s' (use show or set)", argv[0]);
	return config_show(argc, argv);
}
