// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tlshim resync confirm: answer the device by hand, as the kernel would. */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "common.h"
#include "resync.h"

static void resync_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim resync confirm SADDR:PORT DADDR:PORT --tcp-seq N --rec-seq M\n"
		"\n"
		"Answers the rx connection's pending resync as tls_dev_resync would: the\n"
		"record numbered M is at --tcp-seq.  --tcp-seq is what the policy matches:\n"
		"stream-scan the last byte of the guessed header (as requested), async the\n"
		"header's first byte, next-hint the first byte of a record still ahead of\n"
		"the device.  A wrong answer is not refused: the device ignores it, as a\n"
		"NIC would (rx_tls_resync_res_skip).\n");
}

int cmd_resync(int argc, char **argv)
{
	struct opt opts[] = {
		{ "tcp-seq", NULL, true }, { "rec-seq", NULL, true }, { "help", "h", false }, { 0 }
	};
	struct tlshim_flow flow = { .dir = TLSHIM_DIR_RX };
	struct tlshim_conn conn;
	struct device_maps m;
	const char *pos[3];
	uint64_t seq, sn;
	uint32_t kind;
	int npos;

	if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
		resync_usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[0], "confirm"))
		usage_error("subcommand", "unknown 'resync %s' (use confirm)", argv[0]);
	npos = parse_opts(argc - 1, argv + 1, opts, pos, 2, "resync confirm");
	if (opt_get(opts, "help")->seen) {
		resync_usage(stdout);
		return EXIT_OK;
	}
	if (npos != 2)
		usage_error("arguments", "expected SADDR:PORT DADDR:PORT (see tlshim resync --help)");
	if (!parse_endpoint(pos[0], flow.saddr, &flow.sport))
		usage_error("SADDR:PORT", "'%s' (use a.b.c.d:port or [v6addr]:port)", pos[0]);
	if (!parse_endpoint(pos[1], flow.daddr, &flow.dport))
		usage_error("DADDR:PORT", "'%s' (use a.b.c.d:port or [v6addr]:port)", pos[1]);
	if (!opt_get(opts, "tcp-seq")->seen ||
	    !parse_u64(opt_get(opts, "tcp-seq")->value, UINT32_MAX, &seq))
		usage_error("tcp-seq", "missing or not a TCP sequence number (0..4294967295)");
	if (!opt_get(opts, "rec-seq")->seen ||
	    !parse_u64(opt_get(opts, "rec-seq")->value, UINT64_MAX, &sn))
		usage_error("rec-seq", "missing or not a record number");
	device_maps_open(&m);
	if (bpf_map_lookup_elem_flags(m.conns, &flow, &conn, BPF_F_LOCK))
		usage_error("connection", "no such rx connection: %s %s", pos[0], pos[1]);
	if (conn.st.sync == TLSHIM_SYNC_REQUESTED)
		kind = conn.st.policy == TLSHIM_RESYNC_ASYNC ? TLSHIM_EV_ASYNC_END :
							       TLSHIM_EV_RESYNC_REQ;
	else if (conn.st.sync == TLSHIM_SYNC_LOST && conn.st.policy == TLSHIM_RESYNC_NEXT_HINT)
		kind = TLSHIM_EV_RECORD;
	else
		usage_error("connection", "%s %s is not waiting for a resync (state %s, policy %s)",
			    pos[0], pos[1], sync_name(conn.st.sync), policy_name(conn.st.policy));
	if (resync_answer(&m, &flow, kind, seq, sn))
		fail(EXIT_FAIL, "cannot write the answer");
	device_maps_close(&m);
	return EXIT_OK;
}
