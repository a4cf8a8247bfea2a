// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim run --ktls: the driver as a daemon for real kTLS sockets.  Runs
 * until SIGINT/SIGTERM; prints one line per event on stdout.  The event
 * loop only polls ktls_fd(), so the resync daemon can poll it beside its
 * own descriptors (see ktls.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "common.h"
#include "ktls.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim run --ktls [--kprobe] [--no-existing]\n"
		"\n"
		"Plays the driver for the kernel's own TLS (kTLS) sockets until SIGINT or\n"
		"SIGTERM.  Every setsockopt(SOL_TLS, TLS_TX|TLS_RX) on a socket whose route\n"
		"leaves through an interface carrying tlshim (its XDP program is tlshim_rx)\n"
		"installs that direction on the device, as tls_dev_add would: crypto_info\n"
		"and start seq (copied_seq for rx, write_seq for tx).  Closing the socket\n"
		"removes it (tls_dev_del).  kTLS sockets that exist already are installed\n"
		"at start with their current record numbers (--no-existing: skip them).\n"
		"For installed rx connections the kernel's record parser is watched: each\n"
		"record's (start seq, record number) goes into the device's tlshim_rec_log,\n"
		"the truth resync requests are answered from.  On exit the connections it\n"
		"installed are removed.\n"
		"--ktls      required (the only mode of this command so far)\n"
		"--kprobe    use kprobes instead of fentry/fexit (default: fentry, falling\n"
		"            back to kprobes when the kernel refuses trampolines)\n"
		"Output: 'ktls: hooks attached (fentry|kprobe)', then per event\n"
		"  install DIR SRC DST seq N rec_sn N tls V CIPHER dev IFACE (setsockopt|existing)\n"
		"  remove DIR SRC DST (close|rekey|shutdown)\n"
		"  not-offloaded DIR SRC DST: why      software DIR SRC DST: device table full\n");
}

int cmd_run(int argc, char **argv)
{
	struct opt opts[] = {
		{ "ktls", NULL, false }, { "kprobe", NULL, false }, { "no-existing", NULL, false },
		{ "help", "h", false }, { 0 }
	};
	struct ktls_opts ko = { .log = stdout };
	struct sigaction sa = { .sa_handler = on_signal };
	struct device_maps m;
	struct ktls *k;
	const char *pos[1];
	char err[512] = "";

	parse_opts(argc, argv, opts, pos, 0, "run");
	if (opt_get(opts, "help")->seen) {
		run_usage(stdout);
		return EXIT_OK;
	}
	if (!opt_get(opts, "ktls")->seen)
		usage_error("ktls", "missing --ktls (the only mode of 'tlshim run' so far)");
	ko.kprobe = opt_get(opts, "kprobe")->seen;
	ko.no_existing = opt_get(opts, "no-existing")->seen;

	setvbuf(stdout, NULL, _IOLBF, 0);
	device_maps_open(&m);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	k = ktls_start(&m, &ko, err, sizeof(err));
	if (!k)
		fail(EXIT_FAIL, "%s", err);
	while (!stop) {
		if (ktls_process(k, 200) < 0 && errno != EINTR) {
			ktls_stop(k);
			fail(EXIT_FAIL, "kTLS event ring failed: %s", strerror(errno));
		}
	}
	ktls_stop(k);
	device_maps_close(&m);
	printf("ktls: stopped\n");
	return EXIT_OK;
}
