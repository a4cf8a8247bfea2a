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
		"       tlshim config set [mark MASK] [max-conns N]\n"
		"\n"
		"mark       skb->mark bits the tc ingress program sets on decrypted\n"
		"           segments (the stand-in for skb->decrypted); default 0x%x\n"
		"max-conns  device capacity, 1..%u; default %u.  Installs beyond it are\n"
		"           refused and the connection stays in software.\n",
		TLSHIM_DEFAULT_MARK, TLSHIM_MAX_CONNS, TLSHIM_DEFAULT_CAPACITY);
}

static int config_show(int argc, char **argv)
{
	struct opt opts[] = { { "json", "j", false }, { 0 } };
	struct tlshim_config raw, cfg;
	struct device_maps m;
	const char *pos[1];

	parse_opts(argc, argv, opts, pos, 0, "config show");
	device_maps_open(&m);
	if (read_config(&m, &raw))
		fail(EXIT_FAIL, "cannot read tlshim_config: %s", strerror(errno));
	effective_config(&raw, &cfg);
	if (opt_get(opts, "json")->seen)
		printf("{\"mark\":%u,\"max_conns\":%u,\"initialized\":%s}\n",
		       cfg.decrypted_mark, cfg.max_conns, raw.initialized ? "true" : "false");
	else
		printf("mark 0x%08x\nmax-conns %u\n%s", cfg.decrypted_mark, cfg.max_conns,
		       raw.initialized ? "" : "(defaults: never set by the loader)\n");
	device_maps_close(&m);
	return EXIT_OK;
}

static int config_set(int argc, char **argv)
{
	struct tlshim_config raw, cfg;
	struct device_maps m;
	uint64_t mark = 0, max_conns = 0;
	bool set_mark = false, set_max = false;
	__u32 zero = 0;
	int lock;

	if (argc == 0)
		usage_error("arguments", "nothing to set (use mark MASK and/or max-conns N)");
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
		} else {
			usage_error("setting", "unknown '%s' (use mark or max-conns)", name);
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
