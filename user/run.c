// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim run: the kernel's half as a daemon.  Serves the device's resync
 * requests from the pinned ring buffer until SIGINT/SIGTERM.  All state it
 * needs lives in pinned maps, so a restarted daemon serves whatever is
 * pending (the device asks again when its request goes unanswered).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "common.h"
#include "ktls.h"
#include "resync.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim run [--trace FILE] [--stats-every SECONDS]\n"
		"                  [--ktls [--kprobe] [--no-existing]]\n"
		"\n"
		"Plays the kernel: answers the device's resync requests (stream-scan,\n"
		"async, next-hint) from the record-start truth in tlshim_rec_log, which\n"
		"TLS endpoints fill (tlsgen, the kTLS oracle, scripts).  Runs in the\n"
		"foreground, logs to stderr, stops on SIGINT/SIGTERM.\n"
		"--trace FILE   turn per-segment tracing on and write one JSON object per\n"
		"               segment to FILE ('-' for stdout); off again on exit\n"
		"--ktls         also play the driver for the kernel's own TLS sockets: every\n"
		"               setsockopt(SOL_TLS, TLS_TX|TLS_RX) on a socket whose route leaves\n"
		"               through an interface carrying tlshim (XDP program tlshim_rx)\n"
		"               installs that direction as tls_dev_add would (crypto_info, start\n"
		"               seq: copied_seq for rx, write_seq for tx); close removes it; kTLS\n"
		"               sockets that exist already are installed at start with their\n"
		"               current record numbers; the kernel's rx record parser fills\n"
		"               tlshim_rec_log (the truth resync answers come from).  What it\n"
		"               installed is removed on exit.  One stderr line per event:\n"
		"                 install DIR SRC DST seq N rec_sn N tls V CIPHER dev IFACE (setsockopt|existing)\n"
		"                 remove DIR SRC DST (close|rekey|shutdown)\n"
		"                 not-offloaded DIR SRC DST: why   software DIR SRC DST: device table full\n"
		"--kprobe       kTLS hooks as kprobes (default: fentry/fexit, kprobes when the\n"
		"               kernel refuses trampolines)\n"
		"--no-existing  do not install kTLS sockets that exist already\n");
}

static void set_trace_flag(const struct device_maps *m, bool on)
{
	struct tlshim_config raw, cfg;
	__u32 zero = 0;
	int lock = control_lock();

	if (!read_config(m, &raw)) {
		effective_config(&raw, &cfg);
		cfg.initialized = 1;
		cfg.flags = on ? cfg.flags | TLSHIM_CFG_TRACE : cfg.flags & ~TLSHIM_CFG_TRACE;
		bpf_map_update_elem(m->config, &zero, &cfg, BPF_ANY);
	}
	control_unlock(lock);
}

int cmd_run(int argc, char **argv)
{
	struct opt opts[] = {
		{ "trace", NULL, true }, { "stats-every", NULL, true }, { "ktls", NULL, false },
		{ "kprobe", NULL, false }, { "no-existing", NULL, false }, { "help", "h", false }, { 0 }
	};
	struct ktls_opts ko = { .log = stderr };
	struct ktls *k = NULL;
	char err[512] = "";
	struct resync_service *svc;
	struct device_maps m;
	const struct resync_stats *st;
	const char *pos[1];
	uint64_t every = 0;
	time_t last = time(NULL);
	FILE *trace = NULL;

	parse_opts(argc, argv, opts, pos, 0, "run");
	if (opt_get(opts, "help")->seen) {
		run_usage(stdout);
		return EXIT_OK;
	}
	if (opt_get(opts, "stats-every")->seen &&
	    (!parse_u64(opt_get(opts, "stats-every")->value, 86400, &every) || !every))
		usage_error("stats-every", "'%s' (seconds, 1..86400)",
			    opt_get(opts, "stats-every")->value);
	if (!opt_get(opts, "ktls")->seen && (opt_get(opts, "kprobe")->seen ||
					       opt_get(opts, "no-existing")->seen))
		usage_error("ktls", "--kprobe and --no-existing go with --ktls");
	ko.kprobe = opt_get(opts, "kprobe")->seen;
	ko.no_existing = opt_get(opts, "no-existing")->seen;
	if (opt_get(opts, "trace")->seen) {
		const char *path = opt_get(opts, "trace")->value;

		trace = strcmp(path, "-") ? fopen(path, "w") : stdout;
		if (!trace)
			usage_error("trace", "cannot write '%s': %s", path, strerror(errno));
	}
	device_maps_open(&m);
	svc = resync_service_open(&m);
	if (!svc)
		fail(EXIT_FAIL, "cannot open the event ring buffer: %s", strerror(errno));
	if (trace) {
		resync_service_trace(svc, trace);
		set_trace_flag(&m, true);
	}
	if (opt_get(opts, "ktls")->seen) {
		setvbuf(stderr, NULL, _IOLBF, 0);
		k = ktls_start(&m, &ko, err, sizeof(err));
		if (!k) {
			if (trace)
				set_trace_flag(&m, false);
			resync_service_close(svc);
			fail(EXIT_FAIL, "%s", err);
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "tlshim run: serving resync requests from %s (%llu pending taken over)\n",
		pin_dir(), (unsigned long long)resync_service_stats(svc)->adopted);
	while (!stop) {
		int n = resync_service_poll(svc, 10);

		if (n < 0) {
			fprintf(stderr, "tlshim run: ring buffer: %s\n", strerror(-n));
			break;
		}
		/* kTLS events between resync polls: installs must not wait */
		if (k && ktls_process(k, 0) < 0) {
			fprintf(stderr, "tlshim run: kTLS event ring: %s\n", strerror(errno));
			break;
		}
		if (every && time(NULL) - last >= (time_t)every) {
			st = resync_service_stats(svc);
			fprintf(stderr, "tlshim run: %llu events, %llu requests, %llu answered, "
				"%llu hints\n", (unsigned long long)st->events,
				(unsigned long long)st->requests, (unsigned long long)st->answered,
				(unsigned long long)st->hints);
			last = time(NULL);
		}
	}
	ktls_stop(k);
	if (trace) {
		set_trace_flag(&m, false);
		if (trace != stdout)
			fclose(trace);
	}
	st = resync_service_stats(svc);
	fprintf(stderr, "tlshim run: stopped: %llu events, %llu requests, %llu answered "
		"(latency mean %llu ns, max %llu ns), %llu hints, %llu unanswerable\n",
		(unsigned long long)st->events, (unsigned long long)st->requests,
		(unsigned long long)st->answered,
		(unsigned long long)(st->answered ? st->latency_ns_sum / st->answered : 0),
		(unsigned long long)st->latency_ns_max, (unsigned long long)st->hints,
		(unsigned long long)st->unanswerable);
	resync_service_close(svc);
	device_maps_close(&m);
	return EXIT_OK;
}
