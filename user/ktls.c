// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The kTLS hooks' userspace half (see ktls.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "install.h"
#include "ktls.h"
#include "tlshim_ktls.h"
#include "tlshim_ktls.skel.h"

struct ktls {
	const struct device_maps *m;
	struct tlshim_ktls *skel;
	struct ring_buffer *rb;
	int rec_log_fd;			/* the device's tlshim_rec_log (m->rec_log) */
	bool kprobe;
	FILE *log;
	int unsettled;			/* UNSETTLED events of the current iterator pass */
	struct tlshim_flow *installed;	/* what this instance put on the device */
	size_t ninstalled, cap;
};

static void logf_(struct ktls *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct ktls *k, const char *fmt, ...)
{
	va_list ap;

	if (!k->log)
		return;
	va_start(ap, fmt);
	vfprintf(k->log, fmt, ap);
	va_end(ap);
	fputc('\n', k->log);
	fflush(k->log);
}

static void flow_text(const struct tlshim_flow *f, char *buf, size_t len)
{
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];

	format_endpoint(src, f->saddr, f->sport);
	format_endpoint(dst, f->daddr, f->dport);
	snprintf(buf, len, "%s %s %s", dir_name(f->dir), src, dst);
}

static void installed_add(struct ktls *k, const struct tlshim_flow *f)
{
	if (k->ninstalled == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		struct tlshim_flow *p = realloc(k->installed, cap * sizeof(*p));

		if (!p)
			return;	/* only the shutdown cleanup would miss it */
		k->installed = p;
		k->cap = cap;
	}
	k->installed[k->ninstalled++] = *f;
}

static bool installed_del(struct ktls *k, const struct tlshim_flow *f)
{
	for (size_t i = 0; i < k->ninstalled; i++) {
		if (!memcmp(&k->installed[i], f, sizeof(*f))) {
			k->installed[i] = k->installed[--k->ninstalled];
			return true;
		}
	}
	return false;
}

/*
 * tls12_crypto_info_* (uapi linux/tls.h) into the device's tlshim_crypto:
 *   aes-gcm-128: info(4) iv[8] key[16] salt[4] rec_seq[8]
 *   aes-gcm-256: info(4) iv[8] key[32] salt[4] rec_seq[8]
 *   chacha20:    info(4) iv[12] key[32]         rec_seq[8]
 * False for a cipher the device does not model.
 */
static bool parse_crypto_info(const __u8 *raw, struct tlshim_crypto *c)
{
	__u16 version, cipher;
	size_t off = 4;

	memcpy(&version, raw, 2);
	memcpy(&cipher, raw + 2, 2);
	memset(c, 0, sizeof(*c));
	c->version = version;
	c->cipher = cipher;
	switch (cipher) {
	case TLSHIM_CIPHER_AES_GCM_128:
		c->iv_len = 8; c->key_len = 16; c->salt_len = 4;
		break;
	case TLSHIM_CIPHER_AES_GCM_256:
		c->iv_len = 8; c->key_len = 32; c->salt_len = 4;
		break;
	case TLSHIM_CIPHER_CHACHA20_POLY1305:
		c->iv_len = 12; c->key_len = 32; c->salt_len = 0;
		break;
	default:
		return false;
	}
	if (version != TLSHIM_TLS_1_2 && version != TLSHIM_TLS_1_3)
		return false;
	memcpy(c->iv, raw + off, c->iv_len);
	off += c->iv_len;
	memcpy(c->key, raw + off, c->key_len);
	off += c->key_len;
	memcpy(c->salt, raw + off, c->salt_len);
	off += c->salt_len;
	memcpy(c->rec_seq, raw + off, 8);
	return true;
}

/* Takes the event's keys out of their slot and wipes the slot in place
 * (an array map update copies into the element: no stale copy). */
static bool take_keys(struct ktls *k, __u64 ticket, struct tlshim_crypto *c)
{
	struct tlshim_ktls_key_slot slot, zero = {};
	__u32 idx = ticket % TLSHIM_KTLS_KEY_SLOTS;
	int fd = bpf_map__fd(k->skel->maps.ktls_keys);
	bool ok;

	if (!ticket || bpf_map_lookup_elem(fd, &idx, &slot))
		return false;
	ok = slot.ticket == ticket && parse_crypto_info(slot.raw, c);
	if (slot.ticket == ticket)
		bpf_map_update_elem(fd, &idx, &zero, BPF_ANY);
	memset(&slot, 0, sizeof(slot));
	return ok;
}

static void untrack_rx(struct ktls *k, const struct tlshim_flow *flow)
{
	int fd = bpf_map__fd(k->skel->maps.ktls_rx_track);
	struct tlshim_ktls_rx_track t;
	__u64 key, next;
	bool have = false;

	while (bpf_map_get_next_key(fd, have ? &key : NULL, &next) == 0) {
		key = next;
		have = true;
		if (bpf_map_lookup_elem(fd, &key, &t) == 0 &&
		    !memcmp(&t.flow, flow, sizeof(*flow))) {
			bpf_map_delete_elem(fd, &key);
			return;
		}
	}
}

static const char *source_name(__u8 source)
{
	switch (source) {
	case TLSHIM_KTLS_SRC_SETSOCKOPT: return "setsockopt";
	case TLSHIM_KTLS_SRC_ITER: return "existing";
	case TLSHIM_KTLS_SRC_CLOSE: return "close";
	case TLSHIM_KTLS_SRC_REKEY: return "rekey";
	}
	return "?";
}

static void on_install(struct ktls *k, const struct tlshim_ktls_event *ev, const char *name)
{
	struct tlshim_crypto crypto;
	enum install_result res;
	__u32 capacity = 0;

	if (!ev->has_device) {
		if (ev->source != TLSHIM_KTLS_SRC_ITER)
			logf_(k, "not-offloaded %s: %s has no tlshim device (netns %u)", name,
			      ev->ifindex ? ev->ifname : "no route", ev->netns);
		return;
	}
	if (!take_keys(k, ev->key_ticket, &crypto)) {
		memset(&crypto, 0, sizeof(crypto));
		if (ev->flow.dir == TLSHIM_DIR_RX)
			untrack_rx(k, &ev->flow);
		logf_(k, "not-offloaded %s: tls %s %s is not modelled (or its keys were lost)",
		      name, version_name(ev->version), cipher_name(ev->cipher));
		return;
	}
	res = device_install(k->m, &ev->flow, crypto.version, crypto.cipher, ev->tcp_seq,
			     ev->rec_sn, -1, false, &crypto, &capacity);
	memset(&crypto, 0, sizeof(crypto));
	switch (res) {
	case INSTALL_OK:
		installed_add(k, &ev->flow);
		logf_(k, "install %s seq %u rec_sn %llu tls %s %s dev %s (%s)", name, ev->tcp_seq,
		      (unsigned long long)ev->rec_sn, version_name(ev->version),
		      cipher_name(ev->cipher), ev->ifname, source_name(ev->source));
		break;
	case INSTALL_EXISTS:
		if (ev->source != TLSHIM_KTLS_SRC_ITER)
			logf_(k, "exists %s: already installed, left as it is", name);
		break;
	case INSTALL_FULL:
		if (ev->flow.dir == TLSHIM_DIR_RX)
			untrack_rx(k, &ev->flow);
		logf_(k, "software %s: device table full (%u connections)", name, capacity);
		break;
	case INSTALL_ERROR:
		logf_(k, "error %s: cannot read the device's maps: %s", name, strerror(errno));
		break;
	}
}

static int on_event(void *arg, void *data, size_t len)
{
	struct ktls *k = arg;
	const struct tlshim_ktls_event *ev = data;
	char name[3 * ENDPOINT_STRLEN];

	if (len < sizeof(*ev))
		return 0;
	flow_text(&ev->flow, name, sizeof(name));
	switch (ev->type) {
	case TLSHIM_KTLS_INSTALL:
		on_install(k, ev, name);
		break;
	case TLSHIM_KTLS_REMOVE: {
		enum remove_result r = device_remove(k->m, &ev->flow);

		installed_del(k, &ev->flow);
		if (r == REMOVED_DEVICE || r == REMOVED_SOFTWARE)
			logf_(k, "remove %s (%s)", name, source_name(ev->source));
		break;
	}
	case TLSHIM_KTLS_UNSETTLED:
		k->unsettled++;
		break;
	}
	return 0;
}

/* ---- kTLS sockets that exist already --------------------------------- */

/* Runs the iterator once in the current network namespace (iter/tcp only
 * walks the namespace it was opened in); events go to the ring buffer. */
static int iterate_here(struct ktls *k)
{
	char buf[256];
	int fd = bpf_iter_create(bpf_link__fd(k->skel->links.ktls_existing));

	if (fd < 0)
		return -errno;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}

/* Every network namespace with a process or a bind mount in /run/netns,
 * once each (by inode). */
static void iterate_all_netns(struct ktls *k)
{
	ino_t seen[1024];
	size_t nseen = 0;
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	const char *dirs[] = { "/run/netns", "/proc" };

	if (home < 0) {
		iterate_here(k);
		return;
	}
	for (size_t d = 0; d < 2; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			char path[300];
			struct stat st;
			bool dup = false;
			int fd;

			if (de->d_name[0] == '.')
				continue;
			if (d == 1) {
				if (de->d_name[0] < '0' || de->d_name[0] > '9')
					continue;
				snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
			} else {
				snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
			}
			if (stat(path, &st))
				continue;
			for (size_t i = 0; i < nseen; i++)
				dup |= seen[i] == st.st_ino;
			if (dup || nseen == sizeof(seen) / sizeof(seen[0]))
				continue;
			seen[nseen++] = st.st_ino;
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (setns(fd, CLONE_NEWNET) == 0)
				iterate_here(k);
			close(fd);
		}
		closedir(dir);
	}
	setns(home, CLONE_NEWNET);
	close(home);
}

/* A busy socket (records in flight) has no exact position: look again a
 * few times; what stays busy is reported and left in software. */
static void install_existing(struct ktls *k)
{
	for (int pass = 0; pass < 20; pass++) {
		k->unsettled = 0;
		iterate_all_netns(k);
		ring_buffer__consume(k->rb);
		if (!k->unsettled)
			return;
		usleep(50000);
	}
	logf_(k, "unsettled: %d existing kTLS direction(s) stayed busy; not installed",
	      k->unsettled);
}

/* ---- load and attach ------------------------------------------------- */

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static struct tlshim_ktls *load(int rec_log_fd, bool kprobe, char *err, size_t errlen)
{
	struct bpf_program *fentry[] = { NULL, NULL, NULL }, *kp[] = { NULL, NULL, NULL, NULL };
	libbpf_print_fn_t prev;
	struct tlshim_ktls *skel;
	int e;

	skel = tlshim_ktls__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open the kTLS BPF object: %s", strerror(errno));
		return NULL;
	}
	fentry[0] = skel->progs.ktls_setup_exit;
	fentry[1] = skel->progs.ktls_close_entry;
	fentry[2] = skel->progs.ktls_new_rec_entry;
	kp[0] = skel->progs.ktls_setup_kprobe;
	kp[1] = skel->progs.ktls_setup_kretprobe;
	kp[2] = skel->progs.ktls_close_kprobe;
	kp[3] = skel->progs.ktls_new_rec_kprobe;
	for (int i = 0; i < 3; i++)
		bpf_program__set_autoload(fentry[i], !kprobe);
	for (int i = 0; i < 4; i++)
		bpf_program__set_autoload(kp[i], kprobe);
	if (bpf_map__reuse_fd(skel->maps.tlshim_rec_log, rec_log_fd)) {
		snprintf(err, errlen, "cannot use the device's tlshim_rec_log: %s", strerror(errno));
		tlshim_ktls__destroy(skel);
		return NULL;
	}
	/* Failures are expected (no trampolines, no kTLS): the caller says
	 * why in one line, libbpf's verifier dumps would only bury it. */
	prev = libbpf_set_print(quiet);
	e = tlshim_ktls__load(skel);
	if (e) {
		libbpf_set_print(prev);
		snprintf(err, errlen, "cannot load the %s hooks: %s", kprobe ? "kprobe" : "fentry",
			 strerror(-e));
		tlshim_ktls__destroy(skel);
		return NULL;
	}
	e = tlshim_ktls__attach(skel);
	libbpf_set_print(prev);
	if (e) {
		snprintf(err, errlen, "cannot attach the %s hooks: %s", kprobe ? "kprobe" : "fentry",
			 strerror(-e));
		tlshim_ktls__destroy(skel);
		return NULL;
	}
	return skel;
}

struct ktls *ktls_start(const struct device_maps *m, const struct ktls_opts *opts,
			char *err, size_t errlen)
{
	char first_err[256] = "";
	struct ktls *k = calloc(1, sizeof(*k));

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->m = m;
	k->log = opts->log;
	k->rec_log_fd = m->rec_log;
	k->kprobe = opts->kprobe;
	k->skel = load(k->rec_log_fd, k->kprobe, first_err, sizeof(first_err));
	if (!k->skel && !opts->kprobe) {
		k->kprobe = true;
		k->skel = load(k->rec_log_fd, true, err, errlen);
	}
	if (!k->skel) {
		if (first_err[0] && !opts->kprobe)
			snprintf(err + strlen(err), errlen - strlen(err), " (fentry: %s)", first_err);
		snprintf(err + strlen(err), errlen - strlen(err),
			 "; does this kernel have kTLS (CONFIG_TLS, modprobe tls)?");
		free(k);
		return NULL;
	}
	k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.ktls_events), on_event, k, NULL);
	if (!k->rb) {
		snprintf(err, errlen, "cannot read the kTLS event ring: %s", strerror(errno));
		ktls_stop(k);
		return NULL;
	}
	logf_(k, "ktls: hooks attached (%s)", ktls_hook_kind(k));
	if (!opts->no_existing)
		install_existing(k);
	return k;
}

const char *ktls_hook_kind(const struct ktls *k)
{
	return k->kprobe ? "kprobe" : "fentry";
}

int ktls_fd(const struct ktls *k)
{
	return ring_buffer__epoll_fd(k->rb);
}

int ktls_process(struct ktls *k, int timeout_ms)
{
	int n = ring_buffer__poll(k->rb, timeout_ms);

	if (n == -EINTR)
		return 0;
	/* The producer wakes the reader only when it had caught up; read
	 * on every timeout too, so an event never waits for the next one. */
	if (n == 0)
		n = ring_buffer__consume(k->rb);
	if (n < 0)
		errno = -n;
	return n;
}

void ktls_stop(struct ktls *k)
{
	char name[3 * ENDPOINT_STRLEN];

	if (!k)
		return;
	/* Detach first: no new install may race the removals. */
	if (k->rb)
		ring_buffer__consume(k->rb);
	tlshim_ktls__destroy(k->skel);
	k->skel = NULL;
	/* The driver is going away: its connections leave the device. */
	for (size_t i = 0; i < k->ninstalled; i++) {
		flow_text(&k->installed[i], name, sizeof(name));
		if (device_remove(k->m, &k->installed[i]) == REMOVED_DEVICE)
			logf_(k, "remove %s (shutdown)", name);
	}
	ring_buffer__free(k->rb);
	free(k->installed);
	free(k);
}
