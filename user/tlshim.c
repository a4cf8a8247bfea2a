// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tlshim: the driver and kernel half of a TLS-offload NIC modelled in BPF. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "common.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "attach", cmd_attach, "attach dev IFACE [--mode native|generic]  put the device on IFACE" },
	{ "detach", cmd_detach, "detach dev IFACE                          take it off again" },
	{ "conn", cmd_conn, "conn add|del|list ...                     install, remove, show connections" },
	{ "stats", cmd_stats, "stats [-j|--prometheus] [--watch S]       counters, kernel names" },
	{ "config", cmd_config, "config [show | set NAME VALUE ...]        device settings (config --help)" },
	{ "run", cmd_run, "run [--ktls] [--trace FILE]               the kernel's half: resync, kTLS sockets" },
	{ "resync", cmd_resync, "resync confirm SADDR DADDR --tcp-seq N --rec-seq M   answer by hand" },
	{ "replay", cmd_replay, "replay FILE (--conn SPEC ... | --auto)    a capture through a private device" },
	{ "timeline", cmd_timeline, "timeline IN.jsonl -o OUT.svg [--flow F]   draw segment verdicts (timeline --help)" },
	{ "unload", cmd_unload, "unload                                    remove all connections and pins" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: tlshim COMMAND [ARGS]   (tlshim COMMAND --help for details)\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  tlshim %s\n", commands[i].summary);
	fprintf(f, "\nMaps are pinned in %s (TLSHIM_PIN_DIR overrides).\n", pin_dir());
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage_error("command", "missing (see tlshim --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	libbpf_set_print(quiet_libbpf);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 2, argv + 2);
	usage_error("command", "unknown '%s' (see tlshim --help)", argv[1]);
}
