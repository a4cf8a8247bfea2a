// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim attach / detach / unload: put the device on an interface and take
 * it off again.  XDP is attached through netlink (bpf_xdp_attach), not a
 * bpf_link, so `ip link set dev X xdp off` can still remove it; tc filters
 * go on a clsact qdisc with a fixed handle and priority so detach can find
 * exactly what attach added.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "tlshim.skel.h"
#include "tlsloss.h"		/* its filters' handles, to keep a shared clsact */

#define TLSHIM_TC_HANDLE	0x7415
#define TLSHIM_TC_PRIORITY	0x7415
#define BPF_FS_MAGIC		0xcafe4a11

/* Calls fn on the path of every map the object pins (its .maps section,
 * read from the embedded object without loading it). */
static void for_each_pin(void (*fn)(const char *path))
{
	struct tlshim_bpf *skel = tlshim_bpf__open();
	struct bpf_map *map;
	char path[512];

	if (!skel)
		fail(EXIT_FAIL, "cannot open the embedded BPF object: %s", strerror(errno));
	bpf_object__for_each_map(map, skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir(), bpf_map__name(map));
		fn(path);
	}
	tlshim_bpf__destroy(skel);
}

static void restrict_pin(const char *path)
{
	if (chmod(path, 0600))
		fail(EXIT_FAIL, "cannot chmod %s: %s", path, strerror(errno));
}

static void remove_pin(const char *path)
{
	unlink(path);
}

static void attach_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim attach dev IFACE [--mode native|generic]\n"
		"       tlshim detach dev IFACE\n"
		"       tlshim unload\n"
		"\n"
		"attach  loads build/tlshim.bpf.o (embedded), pins its maps under the pin\n"
		"        directory (%s), attaches XDP (the device's receive side),\n"
		"        a tc ingress filter (descriptor -> skb->mark) and a tc egress filter\n"
		"        (the transmit side).  Maps already pinned by an ip/tc load are reused.\n"
		"        --mode native (default; falls back to generic when the driver has no\n"
		"        native XDP) or generic (skb mode).\n"
		"detach  removes exactly what attach added to IFACE; the maps stay pinned,\n"
		"        like a device's table outliving one port.\n"
		"unload  removes every connection (keys zeroed first) and unpins the maps.\n"
		"        Detach from every interface first.\n", pin_dir());
}

static int ifindex_arg(int npos, const char **pos, const char *what)
{
	int ifindex;

	if (npos != 2 || strcmp(pos[0], "dev"))
		usage_error("arguments", "expected 'dev IFACE' for %s", what);
	ifindex = if_nametoindex(pos[1]);
	if (!ifindex)
		usage_error("dev", "no such interface '%s'", pos[1]);
	return ifindex;
}

static void ensure_pin_dir(void)
{
	char dir[512], *p;
	struct statfs fs;

	if (statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type != BPF_FS_MAGIC &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		fail(EXIT_FAIL, "cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "%s", pin_dir());
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(dir, 0700);
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		fail(EXIT_FAIL, "cannot create %s: %s", dir, strerror(errno));
}

/* Pins are created 0600 by the kernel, but an ip/tc load under another
 * umask may differ: the key table must never be readable by others. */
static void restrict_pins(void)
{
	for_each_pin(restrict_pin);
}

static void init_config(struct tlshim_bpf *skel)
{
	struct tlshim_config cfg;
	__u32 zero = 0;
	int fd = bpf_map__fd(skel->maps.tlshim_config);

	if (bpf_map_lookup_elem(fd, &zero, &cfg) == 0 && cfg.initialized)
		return;
	effective_config(&cfg, &cfg);
	cfg.initialized = 1;
	bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY);
}

static void state_path(char *buf, size_t len, int ifindex)
{
	struct stat ns;

	if (stat("/proc/self/ns/net", &ns))
		ns.st_ino = 0;
	snprintf(buf, len, "%s/attach-%lu-%d", run_dir(), (unsigned long)ns.st_ino, ifindex);
}

static __u32 xdp_prog_on(int ifindex, __u8 *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	*mode = q.attach_mode;
	return q.prog_id;
}

static bool prog_is(__u32 id, const char *name)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool same;

	if (fd < 0)
		return false;
	same = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name);
	close(fd);
	return same;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* A query on an interface without clsact makes the kernel complain through
 * libbpf; absence is an answer here, not an error. */
static bool tc_filter_present(struct bpf_tc_hook *hook)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = TLSHIM_TC_HANDLE, .priority = TLSHIM_TC_PRIORITY);
	libbpf_print_fn_t prev = libbpf_set_print(silent);
	bool present = bpf_tc_query(hook, &q) == 0;

	libbpf_set_print(prev);
	return present;
}

/* The same for another tool's filter (handle == priority, as both use). */
static bool tc_filter_present_at(struct bpf_tc_hook *hook, __u32 handle)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = handle, .priority = handle);
	libbpf_print_fn_t prev = libbpf_set_print(silent);
	bool present = bpf_tc_query(hook, &q) == 0;

	libbpf_set_print(prev);
	return present;
}

static void tc_filter_remove(struct bpf_tc_hook *hook)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TLSHIM_TC_HANDLE, .priority = TLSHIM_TC_PRIORITY);

	bpf_tc_detach(hook, &o);
}

int cmd_attach(int argc, char **argv)
{
	struct opt opts[] = {
		{ "mode", NULL, true }, { "help", "h", false }, { 0 }
	};
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	LIBBPF_OPTS(bpf_tc_hook, ingress, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_hook, egress, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc_in, .handle = TLSHIM_TC_HANDLE, .priority = TLSHIM_TC_PRIORITY);
	LIBBPF_OPTS(bpf_tc_opts, tc_out, .handle = TLSHIM_TC_HANDLE, .priority = TLSHIM_TC_PRIORITY);
	const char *pos[2], *mode_name = "native";
	struct tlshim_bpf *skel = NULL;
	bool qdisc_created = false, fallback = false;
	char state[256];
	__u32 xdp_flags;
	__u8 mode;
	int npos, ifindex, err;
	FILE *f;

	npos = parse_opts(argc, argv, opts, pos, 2, "attach");
	if (opt_get(opts, "help")->seen) {
		attach_usage(stdout);
		return EXIT_OK;
	}
	ifindex = ifindex_arg(npos, pos, "attach");
	if (opt_get(opts, "mode")->seen) {
		mode_name = opt_get(opts, "mode")->value;
		if (strcmp(mode_name, "native") && strcmp(mode_name, "generic"))
			usage_error("mode", "'%s' (use native or generic)", mode_name);
	}
	fallback = !opt_get(opts, "mode")->seen;
	xdp_flags = XDP_FLAGS_UPDATE_IF_NOEXIST |
		    (strcmp(mode_name, "generic") ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
	if (xdp_prog_on(ifindex, &mode))
		usage_error("dev", "%s already has an XDP program; detach it first", pos[1]);
	ingress.ifindex = egress.ifindex = ifindex;
	if (tc_filter_present(&ingress) || tc_filter_present(&egress))
		usage_error("dev", "tlshim is already attached to %s", pos[1]);

	ensure_pin_dir();
	open_opts.pin_root_path = pin_dir();
	skel = tlshim_bpf__open_opts(&open_opts);
	if (!skel)
		fail(EXIT_FAIL, "cannot open the BPF object: %s", strerror(errno));
	err = tlshim_bpf__load(skel);
	if (err) {
		tlshim_bpf__destroy(skel);
		fail(EXIT_FAIL, "cannot load the BPF object: %s (if maps pinned in %s come "
		     "from another tlshim build, run 'tlshim unload' first)",
		     strerror(-err), pin_dir());
	}
	restrict_pins();
	init_config(skel);

	/* clsact serves both hooks; EEXIST means someone else owns it. */
	err = bpf_tc_hook_create(&ingress);
	qdisc_created = !err;
	if (err && err != -EEXIST) {
		tlshim_bpf__destroy(skel);
		fail(EXIT_FAIL, "cannot add clsact qdisc on %s: %s", pos[1], strerror(-err));
	}
	tc_in.prog_fd = bpf_program__fd(skel->progs.tlshim_rx_mark);
	tc_out.prog_fd = bpf_program__fd(skel->progs.tlshim_tx);
	err = bpf_tc_attach(&ingress, &tc_in);
	if (!err)
		err = bpf_tc_attach(&egress, &tc_out);
	if (!err) {
		err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.tlshim_rx), xdp_flags, NULL);
		if (err && fallback && (err == -EOPNOTSUPP || err == -EINVAL)) {
			mode_name = "generic";
			xdp_flags = XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE;
			err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.tlshim_rx),
					     xdp_flags, NULL);
		}
	}
	if (err) {
		tc_filter_remove(&ingress);
		tc_filter_remove(&egress);
		if (qdisc_created) {
			ingress.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&ingress);
		}
		tlshim_bpf__destroy(skel);
		fail(EXIT_FAIL, "cannot attach to %s: %s", pos[1], strerror(-err));
	}

	mkdir(run_dir(), 0700);
	state_path(state, sizeof(state), ifindex);
	f = fopen(state, "w");
	if (f) {
		fprintf(f, "clsact_created=%d\nmode=%s\n", qdisc_created, mode_name);
		fclose(f);
	}
	printf("attached to %s (xdp %s, tc ingress+egress), maps in %s\n",
	       pos[1], mode_name, pin_dir());
	/* The programs stay attached through netlink; the maps through pins. */
	tlshim_bpf__destroy(skel);
	return EXIT_OK;
}

int cmd_detach(int argc, char **argv)
{
	struct opt opts[] = { { "help", "h", false }, { 0 } };
	LIBBPF_OPTS(bpf_tc_hook, ingress, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_hook, egress, .attach_point = BPF_TC_EGRESS);
	const char *pos[2];
	bool have_xdp, have_in, have_out, qdisc_created = false;
	char state[256], line[64];
	__u32 xdp_id;
	__u8 mode = 0;
	int npos, ifindex;
	FILE *f;

	npos = parse_opts(argc, argv, opts, pos, 2, "detach");
	if (opt_get(opts, "help")->seen) {
		attach_usage(stdout);
		return EXIT_OK;
	}
	ifindex = ifindex_arg(npos, pos, "detach");
	ingress.ifindex = egress.ifindex = ifindex;
	xdp_id = xdp_prog_on(ifindex, &mode);
	have_xdp = xdp_id && prog_is(xdp_id, "tlshim_rx");
	have_in = tc_filter_present(&ingress);
	have_out = tc_filter_present(&egress);
	if (!have_xdp && !have_in && !have_out)
		usage_error("dev", "tlshim is not attached to %s", pos[1]);

	if (have_xdp)
		bpf_xdp_detach(ifindex, mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE :
			       XDP_FLAGS_DRV_MODE, NULL);
	if (have_in)
		tc_filter_remove(&ingress);
	if (have_out)
		tc_filter_remove(&egress);
	state_path(state, sizeof(state), ifindex);
	f = fopen(state, "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strcmp(line, "clsact_created=1\n"))
				qdisc_created = true;
		fclose(f);
		unlink(state);
	}
	/* build/tlsloss (tools/tlsloss.c) may have put its filters on our
	 * clsact: the qdisc stays while one of them is there. */
	if (qdisc_created && (tc_filter_present_at(&ingress, TLSLOSS_TC_HANDLE_INGRESS) ||
			      tc_filter_present_at(&egress, TLSLOSS_TC_HANDLE_EGRESS)))
		qdisc_created = false;
	if (qdisc_created) {
		ingress.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&ingress);
	}
	printf("detached from %s\n", pos[1]);
	return EXIT_OK;
}

int cmd_unload(int argc, char **argv)
{
	struct opt opts[] = { { "help", "h", false }, { 0 } };
	struct tlshim_flow key, next;
	struct device_maps m;
	const char *pos[1];
	int lock, removed = 0;

	parse_opts(argc, argv, opts, pos, 0, "unload");
	if (opt_get(opts, "help")->seen) {
		attach_usage(stdout);
		return EXIT_OK;
	}
	device_maps_open(&m);
	lock = control_lock();
	while (bpf_map_get_next_key(m.conns, NULL, &next) == 0) {
		key = next;
		conn_remove(&m, &key);
		removed++;
	}
	device_maps_close(&m);
	for_each_pin(remove_pin);
	control_unlock(lock);
	printf("unloaded: %d connections removed, maps unpinned from %s\n", removed, pin_dir());
	return EXIT_OK;
}
