// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * build/bench: the figures of `make bench` (tools/bench.sh runs it).
 *
 *   bench [--rows FILE]... [--json FILE] [--tlshim PATH] [--skip SECTIONS]
 *       measure sections 1-4, add the rows scripts wrote (section 5, from
 *       bench/e2e.sh), print one table, write the JSON.
 *   bench xdp-empty IFACE
 *       attach the empty XDP program to IFACE (native, else generic): the
 *       end-to-end baseline.  `ip link set dev IFACE xdp off` removes it.
 *
 * Never run by make check: no test asserts a performance figure.
 */
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "bench_empty.skel.h"
#include "cases.h"
#include "measure.h"
#include "report.h"

static const char *const method_notes[] = {
	"per-packet: BPF_PROG_RUN with repeat; the figure is the calling thread's CPU time "
	"(CLOCK_THREAD_CPUTIME_ID) around the call over the repeat count (sub-ns resolution, "
	"excludes other tasks' time); test_run's own duration is whole nanoseconds",
	"stateful paths: repeat re-runs one unchanged context, so a reset driver (bench/driver.bpf.c) "
	"restores the flow's state and the XDP metadata area before each run and tail-calls the "
	"device; cost = T(driver->device) - T(driver->empty) + T(empty), per interleaved round",
	"scale: a rotating driver turns each run into the next in-order segment of the next of N "
	"flows (round-robin), so lookups and state updates walk the whole table",
	"rejected: BPF_F_TEST_XDP_LIVE_FRAMES (turns XDP_PASS frames into skbs for the stack: "
	"measures the stack, not the device); one call per packet (kept as a cross-check: ~10x "
	"timer overhead per call); many flows with plain repeat (repeat always sends one packet)",
	"XDP programs run through BPF_PROG_RUN are kept attached (native, veth in a netns private "
	"to the bench): otherwise every call adds and removes them from the XDP dispatcher, ~1 ms of "
	"CPU per call here",
	"ratios are per round within this run; spread is min..max over the rounds",
};

static int xdp_empty(const char *ifname)
{
	int ifindex = if_nametoindex(ifname), err;
	struct bench_empty_bpf *o;

	if (!ifindex) {
		fprintf(stderr, "bench: no interface %s\n", ifname);
		return 2;
	}
	o = bench_empty_bpf__open_and_load();
	if (!o)
		return 1;
	/* Netlink attach, like `tlshim attach`: it outlives this process. */
	err = bpf_xdp_attach(ifindex, bpf_program__fd(o->progs.bench_empty_xdp),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		err = bpf_xdp_attach(ifindex, bpf_program__fd(o->progs.bench_empty_xdp),
				     XDP_FLAGS_SKB_MODE, NULL);
	else
		printf("native\n");
	if (!err)
		printf("%s\n", "attached");
	bench_empty_bpf__destroy(o);
	if (err)
		fprintf(stderr, "bench: cannot attach XDP to %s: %s\n", ifname, strerror(-err));
	return err ? 1 : 0;
}

static void header(void)
{
	struct utsname u;
	double load[3] = { 0 };

	uname(&u);
	getloadavg(load, 3);
	printf("tlshim bench: kernel %s, %ld CPUs, load average %.2f at start\n", u.release,
	       sysconf(_SC_NPROCESSORS_ONLN), load[0]);
	printf("All figures are medians; spread is min..max over the repetitions.  The machine is\n"
	       "shared: only ratios within this run count.  Method: README.md, section Performance.\n");
}

int main(int argc, char **argv)
{
	const char *json = "bench/results.json", *tlshim = "./tlshim", *skip = "";
	const char *rows[8];
	int nrows = 0, err = 0, anchored;
	struct bench_env e;
	double t0 = mono_ns();

	if (argc == 3 && !strcmp(argv[1], "xdp-empty"))
		return xdp_empty(argv[2]);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rows") && i + 1 < argc && nrows < 8)
			rows[nrows++] = argv[++i];
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else if (!strcmp(argv[i], "--tlshim") && i + 1 < argc)
			tlshim = argv[++i];
		else if (!strcmp(argv[i], "--skip") && i + 1 < argc)
			skip = argv[++i];
		else {
			fprintf(stderr, "usage: bench [--rows FILE]... [--json FILE] [--tlshim PATH] "
				"[--skip 1234]\n       bench xdp-empty IFACE\n");
			return 2;
		}
	}
	libbpf_set_print(NULL);
	if (env_open(&e)) {
		env_close(&e);
		return 1;
	}
	anchored = env_anchor_xdp(&e);
	if (anchored < 5)
		fprintf(stderr, "bench: only %d of 5 XDP programs attached in a private netns: "
			"their figures include the XDP dispatcher update of every call\n", anchored);
	if (!strchr(skip, '1') && bench_packets(&e))
		err = 1;
	if (!strchr(skip, '2') && bench_scale(&e))
		err = 1;
	if (!strchr(skip, '3') && (bench_install(&e) || bench_cli(&e, tlshim)))
		err = 1;
	if (!strchr(skip, '4') && bench_resync(&e, tlshim))
		err = 1;
	env_close(&e);
	for (int i = 0; i < nrows; i++)
		if (report_read_tsv(rows[i]))
			fprintf(stderr, "bench: cannot read %s: %s\n", rows[i], strerror(errno));

	header();
	report_print(stdout);
	if (report_json(json, method_notes))
		fprintf(stderr, "bench: cannot write %s\n", json);
	printf("\nbuild/bench: %.0f s; results in %s\n", (mono_ns() - t0) / 1e9, json);
	return err;
}
