// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlsloss - puts the loss injector (bpf/tlsloss.bpf.c) on a tc hook, takes it
 * off, shows what it dropped.  The kernel here has no netem; this drops the
 * segments a spec (include/tlshim_drop.h) names, deterministically.
 *
 *   tlsloss attach dev IF ingress|egress SPEC [--flow SADDR:PORT DADDR:PORT | --port P] [--pin DIR]
 *   tlsloss detach dev IF ingress|egress [--pin DIR]
 *   tlsloss show [-j] [--pin DIR]
 *   tlsloss unload [--pin DIR]
 *
 * Maps are pinned under DIR (default /sys/fs/bpf/tlsloss); every hook
 * attached with one DIR shares its spec, counters and log.  The tc filter
 * has its own handle and priority (include/tlsloss.h): on egress after
 * tlshim's transmit side (0x7415), which passes with TC_ACT_UNSPEC, so the
 * modelled NIC sends the segment and the wire loses it; on ingress before
 * tlshim's mark filter.  A drop is TC_ACT_STOLEN, which TCP takes for a
 * segment that left: real wire loss even on the sender's own egress.
 * A clsact qdisc is only removed by detach if attach created it and no
 * tlsloss or tlshim filter is left on it.
 *
 * Exit status: 0 ok, 1 runtime failure, 2 bad arguments (nothing changed).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "drop_spec.h"
#include "tlsloss.h"
#include "tlsloss.skel.h"

/* include/tlsloss.h says why egress and ingress differ. */
#define TLSLOSS_HANDLE(egress)	((egress) ? TLSLOSS_TC_HANDLE_EGRESS : TLSLOSS_TC_HANDLE_INGRESS)
#define TLSHIM_TC_HANDLE	0x7415	/* user/attach.c */
#define TLSLOSS_DEFAULT_PIN	"/sys/fs/bpf/tlsloss"
#define TLSLOSS_RUN_DIR		"/run/tlsloss"
#define BPF_FS_MAGIC		0xcafe4a11

static const char *const map_names[] = {
	"tlsloss_config", "tlsloss_flows", "tlsloss_stats", "tlsloss_log",
};

/* user/util.c's reporters, prefixed "tlsloss" (prog_name, set in main). */
#define bad usage_error
#define die(...) fail(EXIT_FAIL, __VA_ARGS__)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tlsloss attach dev IF ingress|egress SPEC [--flow SADDR:PORT DADDR:PORT | --port P] [--pin DIR]\n"
		"       tlsloss detach dev IF ingress|egress [--pin DIR]\n"
		"       tlsloss show [-j] [--pin DIR]\n"
		"       tlsloss unload [--pin DIR]\n"
		"\n"
		"SPEC (include/tlshim_drop.h; the same as tlshim replay --drop):\n"
		"  random:PCT[,seed=S]   each data segment with probability PCT%%, seeded\n"
		"  nth:N[,seed=S]        data segments i with i %% N == S %% N (index from 0)\n"
		"  header:K[,K...]       the first transmission of the segment with record K's\n"
		"                        first header byte (records counted from the SYN)\n"
		"  body:K[,K...]         the first transmission of the first segment wholly\n"
		"                        inside record K's body\n"
		"  ...,from=I            never a data segment with index below I\n"
		"Flows: every TCP flow on the hook, or --port P (either port), or --flow\n"
		"(that direction only).  A decision is per skb: attach where skbs are\n"
		"MSS-sized (sender with TSO/GSO off, or a forwarding interface); show counts\n"
		"GSO skbs.  Maps pinned under --pin DIR (default %s); detach leaves\n"
		"them (show still works), unload removes them.\n"
		"A drop is wire loss to TCP (the segment counts as sent, the peer sees a\n"
		"hole): on a sender's egress, where tlshim's transmit side runs first, the\n"
		"modelled NIC sends the segment and the wire loses it before the receiver.\n",
		TLSLOSS_DEFAULT_PIN);
}

struct pins {
	int config, flows, stats, log;
};

static void pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Opens the pinned maps; returns false if the first is not there. */
static bool pins_open(const char *dir, struct pins *p)
{
	int *fds[] = { &p->config, &p->flows, &p->stats, &p->log };
	char path[512];

	for (size_t i = 0; i < 4; i++) {
		pin_path(path, sizeof(path), dir, map_names[i]);
		*fds[i] = bpf_obj_get(path);
		if (*fds[i] < 0) {
			for (size_t j = 0; j < i; j++)
				close(*fds[j]);
			return false;
		}
	}
	return true;
}

static void pins_close(struct pins *p)
{
	close(p->config);
	close(p->flows);
	close(p->stats);
	close(p->log);
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Is there a filter with this handle/priority on the hook?  A query on an
 * interface without clsact complains through libbpf: absence is an answer. */
static bool tc_present(int ifindex, enum bpf_tc_attach_point where, __u32 handle, __u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = handle, .priority = handle);
	libbpf_print_fn_t prev = libbpf_set_print(silent);
	bool present = bpf_tc_query(&hook, &q) == 0;

	libbpf_set_print(prev);
	if (present && prog_id)
		*prog_id = q.prog_id;
	return present;
}

/* Exists while a clsact qdisc on the interface is one tlsloss created: it
 * is the interface's, not a hook's, so the last detach of either hook
 * removes it (netns inode + ifindex name the interface). */
static void clsact_path(char *buf, size_t len, int ifindex)
{
	struct stat ns;

	if (stat("/proc/self/ns/net", &ns))
		ns.st_ino = 0;
	snprintf(buf, len, "%s/clsact-%lu-%d", TLSLOSS_RUN_DIR, (unsigned long)ns.st_ino, ifindex);
}

static int ifindex_of(const char *name)
{
	int ifindex = if_nametoindex(name);

	if (!ifindex)
		bad("dev", "no such interface '%s'", name);
	return ifindex;
}

static bool hook_of(const char *s)
{
	if (!strcmp(s, "egress"))
		return true;
	if (strcmp(s, "ingress"))
		bad("hook", "'%s' (use ingress or egress)", s);
	return false;
}

static const char *pin_arg(const char *s)
{
	if (s[0] != '/' || strlen(s) > 400)
		bad("pin", "'%s': an absolute directory under a bpffs (e.g. /sys/fs/bpf/NAME)", s);
	return s;
}

static void ensure_pin_dir(const char *dir)
{
	char buf[512], *p;
	struct statfs fs;

	if (statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type != BPF_FS_MAGIC &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		die("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(buf, 0700);
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		die("cannot create %s: %s", buf, strerror(errno));
}

static void describe_filter(char *buf, size_t len, const struct tlsloss_config *c)
{
	char a[ENDPOINT_STRLEN], b[ENDPOINT_STRLEN];

	if (c->filter == TLSLOSS_FILTER_PORT) {
		snprintf(buf, len, "port %u", ntohs(c->port));
	} else if (c->filter == TLSLOSS_FILTER_FLOW) {
		format_endpoint(a, c->saddr, c->sport);
		format_endpoint(b, c->daddr, c->dport);
		snprintf(buf, len, "flow %s -> %s", a, b);
	} else {
		snprintf(buf, len, "all");
	}
}

static int loss_attach(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	LIBBPF_OPTS(bpf_tc_hook, hook);
	LIBBPF_OPTS(bpf_tc_opts, tc);
	const char *pin = TLSLOSS_DEFAULT_PIN, *pos[4];
	struct tlsloss_config cfg = { .filter = TLSLOSS_FILTER_ALL, .initialized = 1 }, old;
	struct tlsloss_bpf *skel;
	char err[256], state[256], desc[2][300];
	bool egress, qdisc_created;
	int npos = 0, ifindex, e;
	libbpf_print_fn_t prev_print;
	struct pins p;
	__u32 zero = 0;
	FILE *f;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--flow")) {
			if (cfg.filter != TLSLOSS_FILTER_ALL)
				bad("flow", "give one of --flow and --port, once");
			if (i + 2 >= argc)
				bad("flow", "--flow needs SADDR:PORT DADDR:PORT");
			if (!parse_endpoint(argv[i + 1], cfg.saddr, &cfg.sport))
				bad("flow", "'%s' (ADDR:PORT or [ADDR6]:PORT)", argv[i + 1]);
			if (!parse_endpoint(argv[i + 2], cfg.daddr, &cfg.dport))
				bad("flow", "'%s' (ADDR:PORT or [ADDR6]:PORT)", argv[i + 2]);
			if (endpoint_is_ipv4(cfg.saddr) != endpoint_is_ipv4(cfg.daddr))
				bad("flow", "'%s' and '%s' are not of one address family",
				    argv[i + 1], argv[i + 2]);
			cfg.filter = TLSLOSS_FILTER_FLOW;
			i += 2;
		} else if (!strcmp(argv[i], "--port")) {
			uint64_t v;

			if (cfg.filter != TLSLOSS_FILTER_ALL)
				bad("port", "give one of --flow and --port, once");
			if (i + 1 >= argc || !parse_u64(argv[i + 1], 65535, &v) || v == 0)
				bad("port", "'%s' (a TCP port, 1..65535)", i + 1 < argc ? argv[i + 1] : "");
			cfg.port = htons(v);
			cfg.filter = TLSLOSS_FILTER_PORT;
			i++;
		} else if (!strcmp(argv[i], "--pin")) {
			if (i + 1 >= argc)
				bad("pin", "--pin needs a directory");
			pin = pin_arg(argv[++i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			bad("option", "unknown option '%s' for attach (see --help)", argv[i]);
		} else {
			if (npos == 4)
				bad("arguments", "unexpected '%s' (attach dev IF ingress|egress SPEC)", argv[i]);
			pos[npos++] = argv[i];
		}
	}
	if (npos != 4 || strcmp(pos[0], "dev"))
		bad("arguments", "expected 'dev IF ingress|egress SPEC'");
	ifindex = ifindex_of(pos[1]);
	egress = hook_of(pos[2]);
	if (drop_spec_parse(pos[3], &cfg.spec, err, sizeof(err)))
		bad("spec", "%s", err);
	tc.handle = tc.priority = TLSLOSS_HANDLE(egress);
	if (tc_present(ifindex, egress ? BPF_TC_EGRESS : BPF_TC_INGRESS, TLSLOSS_HANDLE(egress), NULL))
		bad("dev", "tlsloss is already attached to %s %s; detach it first", pos[1], pos[2]);
	/* One pin directory, one spec: hooks sharing it share the config. */
	if (pins_open(pin, &p)) {
		bool differ = bpf_map_lookup_elem(p.config, &zero, &old) == 0 && old.initialized &&
			      memcmp(&old, &cfg, sizeof(cfg));

		pins_close(&p);
		if (differ) {
			drop_spec_format(&old.spec, desc[0], sizeof(desc[0]));
			describe_filter(desc[1], sizeof(desc[1]), &old);
			bad("pin", "%s already holds spec %s (%s) for another hook: use that spec, "
			    "another --pin, or tlsloss unload", pin, desc[0], desc[1]);
		}
	}

	ensure_pin_dir(pin);
	open_opts.pin_root_path = pin;
	skel = tlsloss_bpf__open_opts(&open_opts);
	if (!skel)
		die("cannot open the BPF object: %s", strerror(errno));
	skel->rodata->tlsloss_egress = egress;
	e = tlsloss_bpf__load(skel);
	if (e) {
		tlsloss_bpf__destroy(skel);
		die("cannot load the BPF object: %s (maps in %s from another build? tlsloss unload)",
		    strerror(-e), pin);
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tlsloss_config), &zero, &cfg, BPF_ANY)) {
		tlsloss_bpf__destroy(skel);
		die("cannot write the config: %s", strerror(errno));
	}
	hook.ifindex = ifindex;
	hook.attach_point = BPF_TC_INGRESS;
	/* clsact serves both hooks; EEXIST (someone's, maybe ours) is fine */
	prev_print = libbpf_set_print(silent);
	e = bpf_tc_hook_create(&hook);
	libbpf_set_print(prev_print);
	qdisc_created = !e;
	if (e && e != -EEXIST) {
		tlsloss_bpf__destroy(skel);
		die("cannot add a clsact qdisc on %s: %s", pos[1], strerror(-e));
	}
	hook.attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	tc.prog_fd = bpf_program__fd(skel->progs.tlsloss_tc);
	e = bpf_tc_attach(&hook, &tc);
	if (e) {
		if (qdisc_created) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		tlsloss_bpf__destroy(skel);
		die("cannot attach to %s %s: %s", pos[1], pos[2], strerror(-e));
	}
	mkdir(TLSLOSS_RUN_DIR, 0700);
	if (qdisc_created) {
		clsact_path(state, sizeof(state), ifindex);
		f = fopen(state, "w");
		if (f)
			fclose(f);
	}
	drop_spec_format(&cfg.spec, desc[0], sizeof(desc[0]));
	describe_filter(desc[1], sizeof(desc[1]), &cfg);
	printf("attached to %s %s: %s (%s), maps in %s\n", pos[1], pos[2], desc[0], desc[1], pin);
	tlsloss_bpf__destroy(skel);	/* the filter holds the program, pins the maps */
	return EXIT_OK;
}

static bool prog_is_ours(__u32 id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool ours;

	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, "tlsloss_tc");
	close(fd);
	return ours;
}

static int loss_detach(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_tc_hook, hook);
	LIBBPF_OPTS(bpf_tc_opts, tc);
	const char *pos[3];
	char state[256];
	bool egress, created, others;
	int npos = 0, ifindex;
	__u32 id = 0;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--pin") && i + 1 < argc)
			pin_arg(argv[++i]);	/* accepted for symmetry: the hook says it all */
		else if (argv[i][0] == '-')
			bad("option", "unknown option '%s' for detach (see --help)", argv[i]);
		else if (npos == 3)
			bad("arguments", "unexpected '%s' (detach dev IF ingress|egress)", argv[i]);
		else
			pos[npos++] = argv[i];
	}
	if (npos != 3 || strcmp(pos[0], "dev"))
		bad("arguments", "expected 'dev IF ingress|egress'");
	ifindex = ifindex_of(pos[1]);
	egress = hook_of(pos[2]);
	hook.ifindex = ifindex;
	hook.attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	tc.handle = tc.priority = TLSLOSS_HANDLE(egress);
	if (!tc_present(ifindex, hook.attach_point, TLSLOSS_HANDLE(egress), &id) || !prog_is_ours(id))
		bad("dev", "tlsloss is not attached to %s %s", pos[1], pos[2]);
	if (bpf_tc_detach(&hook, &tc))
		die("cannot detach from %s %s: %s", pos[1], pos[2], strerror(errno));
	clsact_path(state, sizeof(state), ifindex);
	created = access(state, F_OK) == 0;
	/* The qdisc goes only if it is ours and nobody else's filter is on it:
	 * our other hook, or tlshim's (which may have found our clsact). */
	others = tc_present(ifindex, egress ? BPF_TC_INGRESS : BPF_TC_EGRESS, TLSLOSS_HANDLE(!egress), NULL) ||
		 tc_present(ifindex, BPF_TC_INGRESS, TLSHIM_TC_HANDLE, NULL) ||
		 tc_present(ifindex, BPF_TC_EGRESS, TLSHIM_TC_HANDLE, NULL);
	if (created && !others) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		unlink(state);
	}
	printf("detached from %s %s%s\n", pos[1], pos[2],
	       created && others ? " (clsact left: other filters use it)" : "");
	return EXIT_OK;
}

static int loss_unload(int argc, char **argv)
{
	const char *pin = TLSLOSS_DEFAULT_PIN;
	char path[512];
	struct pins p;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--pin") && i + 1 < argc)
			pin = pin_arg(argv[++i]);
		else
			bad("arguments", "unexpected '%s' (unload [--pin DIR])", argv[i]);
	}
	if (!pins_open(pin, &p))
		bad("pin", "no tlsloss maps pinned in %s", pin);
	pins_close(&p);
	for (size_t i = 0; i < 4; i++) {
		pin_path(path, sizeof(path), pin, map_names[i]);
		unlink(path);
	}
	rmdir(pin);	/* only if empty: it may be shared */
	printf("unloaded: maps unpinned from %s (a filter still attached keeps its "
	       "maps, unseen, until detached)\n", pin);
	return EXIT_OK;
}

static const char *walker_name(__u8 w)
{
	static const char *const names[] = { "on", "no-syn", "gap", "not-tls", "dense" };

	return w < sizeof(names) / sizeof(names[0]) ? names[w] : "?";
}

static const char *reason_name(__u32 r)
{
	switch (r) {
	case TLSLOSS_REASON_RANDOM: return "random";
	case TLSLOSS_REASON_NTH: return "nth";
	case TLSLOSS_REASON_HEADER: return "header";
	case TLSLOSS_REASON_BODY: return "body";
	}
	return "?";
}

static void flow_text(char *buf, size_t len, const struct tlsloss_flow *f, bool json)
{
	char a[ENDPOINT_STRLEN], b[ENDPOINT_STRLEN], dev[IF_NAMESIZE];

	format_endpoint(a, f->saddr, f->sport);
	format_endpoint(b, f->daddr, f->dport);
	if (!if_indextoname(f->ifindex, dev))
		snprintf(dev, sizeof(dev), "if%u", f->ifindex);
	if (json)
		snprintf(buf, len, "\"src\":\"%s\",\"dst\":\"%s\",\"dev\":\"%s\",\"hook\":\"%s\"",
			 a, b, dev, f->egress ? "egress" : "ingress");
	else
		snprintf(buf, len, "%s -> %s dev %s %s", a, b, dev, f->egress ? "egress" : "ingress");
}

static int cmp_entry(const void *a, const void *b)
{
	const struct tlsloss_log_entry *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

static int loss_show(int argc, char **argv)
{
	const char *pin = TLSLOSS_DEFAULT_PIN;
	struct tlsloss_log_entry *log;
	struct tlsloss_flow key, next, *prev = NULL;
	struct tlsloss_flow_state fs;
	struct tlsloss_config cfg = {};
	struct tlsloss_stats st = {};
	char spec[300], filt[300], ft[300];
	bool json = false, firstrow = true, walks;
	size_t nlog = 0;
	__u32 zero = 0;
	struct pins p;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--pin") && i + 1 < argc)
			pin = pin_arg(argv[++i]);
		else
			bad("arguments", "unexpected '%s' (show [-j] [--pin DIR])", argv[i]);
	}
	if (!pins_open(pin, &p))
		die("no tlsloss maps pinned in %s (tlsloss attach first)", pin);
	bpf_map_lookup_elem(p.config, &zero, &cfg);
	bpf_map_lookup_elem(p.stats, &zero, &st);
	drop_spec_format(&cfg.spec, spec, sizeof(spec));
	describe_filter(filt, sizeof(filt), &cfg);
	if (json)
		printf("{\"spec\":\"%s\",\"flows_selected\":\"%s\",\"stats\":{\"skbs\":%llu,"
		       "\"data_segs\":%llu,\"dropped\":%llu,\"gso_skbs\":%llu,\"flows\":%llu,"
		       "\"walker_lost\":%llu,\"not_parsed\":%llu},\"flows\":[",
		       spec, filt, (unsigned long long)st.skbs, (unsigned long long)st.data_segs,
		       (unsigned long long)st.dropped, (unsigned long long)st.gso_skbs,
		       (unsigned long long)st.flows, (unsigned long long)st.walker_lost,
		       (unsigned long long)st.not_parsed);
	else
		printf("spec %s (%s)\nskbs %llu data_segs %llu dropped %llu gso_skbs %llu flows %llu "
		       "walker_lost %llu not_parsed %llu\n", spec, filt,
		       (unsigned long long)st.skbs, (unsigned long long)st.data_segs,
		       (unsigned long long)st.dropped, (unsigned long long)st.gso_skbs,
		       (unsigned long long)st.flows, (unsigned long long)st.walker_lost,
		       (unsigned long long)st.not_parsed);
	/* random/nth never run the walker: its fields mean nothing then */
	walks = cfg.spec.kind == TLSHIM_DROP_HEADER || cfg.spec.kind == TLSHIM_DROP_BODY;
	while (bpf_map_get_next_key(p.flows, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(p.flows, &key, &fs))
			continue;
		flow_text(ft, sizeof(ft), &key, json);
		if (json)
			printf("%s{%s,\"segs\":%llu,\"data_segs\":%llu,\"dropped\":%llu,\"walker\":\"%s\","
			       "\"next_record\":%u,\"high_end\":%u}", firstrow ? "" : ",", ft,
			       (unsigned long long)fs.segs, (unsigned long long)fs.data_segs,
			       (unsigned long long)fs.dropped, walks ? walker_name(fs.walker) : "unused",
			       fs.next_rec, fs.high_end);
		else
			printf("flow %s segs %llu data_segs %llu dropped %llu walker %s next_record %u "
			       "high_end %u\n", ft, (unsigned long long)fs.segs,
			       (unsigned long long)fs.data_segs, (unsigned long long)fs.dropped,
			       walks ? walker_name(fs.walker) : "unused", fs.next_rec, fs.high_end);
		firstrow = false;
	}
	if (json)
		printf("],\"drops\":[");
	log = calloc(TLSLOSS_LOG_SIZE, sizeof(*log));
	if (!log)
		die("out of memory");
	for (__u32 i = 0; i < TLSLOSS_LOG_SIZE; i++)
		if (bpf_map_lookup_elem(p.log, &i, &log[nlog]) == 0 && log[nlog].number)
			nlog++;
	qsort(log, nlog, sizeof(*log), cmp_entry);
	for (size_t i = 0; i < nlog; i++) {
		const struct tlsloss_log_entry *e = &log[i];
		char rec[24] = "";

		flow_text(ft, sizeof(ft), &e->flow, json);
		if (json) {
			if (e->record != ~0u)
				snprintf(rec, sizeof(rec), ",\"record\":%u", e->record);
			printf("%s{\"number\":%llu,%s,\"seq\":%u,\"len\":%u,\"offset\":%u,\"index\":%llu,"
			       "\"reason\":\"%s\"%s,\"gso_segs\":%u}", i ? "," : "",
			       (unsigned long long)e->number, ft, e->seq, e->len, e->offset,
			       (unsigned long long)e->index, reason_name(e->reason), rec, e->gso_segs);
		} else {
			if (e->record != ~0u)
				snprintf(rec, sizeof(rec), " record %u", e->record);
			printf("drop %llu %s seq %u len %u offset %u index %llu reason %s%s gso_segs %u\n",
			       (unsigned long long)e->number, ft, e->seq, e->len, e->offset,
			       (unsigned long long)e->index, reason_name(e->reason), rec, e->gso_segs);
		}
	}
	if (json)
		printf("]}\n");
	free(log);
	pins_close(&p);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	prog_name = "tlsloss";
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
	if (!strcmp(argv[1], "attach"))
		return loss_attach(argc, argv);
	if (!strcmp(argv[1], "detach"))
		return loss_detach(argc, argv);
	if (!strcmp(argv[1], "show"))
		return loss_show(argc, argv);
	if (!strcmp(argv[1], "unload"))
		return loss_unload(argc, argv);
	bad("command", "'%s' (attach, detach, show, unload)", argv[1]);
}
