// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The device as the loader sees it: its pinned maps and control lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"

/* TLSHIM_PIN_DIR in the environment moves the device, for tests that must
 * not touch a live one; plain ip/tc always pin to the default. */
const char *pin_dir(void)
{
	const char *dir = getenv("TLSHIM_PIN_DIR");

	return dir && *dir ? dir : TLSHIM_PIN_DIR;
}

static int open_pinned(const char *name, bool required)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir(), name);
	fd = bpf_obj_get(path);
	if (fd < 0 && required)
		fail(EXIT_FAIL, "device not loaded: %s: %s (run 'tlshim attach dev IFACE' "
		     "or load build/tlshim.bpf.o with ip/tc)", path, strerror(errno));
	return fd;
}

void device_maps_open(struct device_maps *m)
{
	m->conns = open_pinned("tlshim_conns", true);
	m->keys = open_pinned("tlshim_keys", true);
	m->sw_conns = open_pinned("tlshim_sw_conns", true);
	m->config = open_pinned("tlshim_config", true);
	m->stats = open_pinned("tlshim_stats", true);
	m->device = open_pinned("tlshim_device", true);
	m->rec_log = open_pinned("tlshim_rec_log", true);
	m->resync_resp = open_pinned("tlshim_resync_resp", true);
	m->events = open_pinned("tlshim_events", true);
	m->tx_conns = open_pinned("tlshim_tx_conns", true);
}

void device_maps_close(struct device_maps *m)
{
	int *fds[] = { &m->conns, &m->keys, &m->sw_conns, &m->config, &m->stats, &m->device,
		       &m->rec_log, &m->resync_resp, &m->events, &m->tx_conns };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* TLSHIM_RUN_DIR moves the loader's runtime files (control lock, attach
 * records), for tests that must leave the machine as they found it. */
const char *run_dir(void)
{
	const char *dir = getenv("TLSHIM_RUN_DIR");

	return dir && *dir ? dir : "/run/tlshim";
}

int control_lock(void)
{
	char path[512];
	int fd;

	if (mkdir(run_dir(), 0700) && errno != EEXIST)
		fail(EXIT_FAIL, "cannot create %s: %s", run_dir(), strerror(errno));
	snprintf(path, sizeof(path), "%s/lock", run_dir());
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		fail(EXIT_FAIL, "cannot open lock file %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX) < 0)
		fail(EXIT_FAIL, "cannot lock %s: %s", path, strerror(errno));
	return fd;
}

void control_unlock(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

int read_config(const struct device_maps *m, struct tlshim_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->config, &zero, cfg);
}

void effective_config(const struct tlshim_config *raw, struct tlshim_config *cfg)
{
	*cfg = *raw;
	if (!raw->initialized) {
		cfg->decrypted_mark = TLSHIM_DEFAULT_MARK;
		cfg->max_conns = TLSHIM_DEFAULT_CAPACITY;
		cfg->resync_headers = TLSHIM_DEFAULT_RESYNC_HEADERS;
		cfg->resync_timeout_records = TLSHIM_DEFAULT_RESYNC_TIMEOUT;
		cfg->resync_policy = TLSHIM_RESYNC_STREAM_SCAN;
	}
	if (!raw->tx_record_log || raw->tx_record_log > TLSHIM_TX_LOG_MAX)
		cfg->tx_record_log = TLSHIM_TX_LOG_DEFAULT;	/* what the device uses */
}

int read_device(const struct device_maps *m, struct tlshim_device *dev)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->device, &zero, dev);
}

int write_device(const struct device_maps *m, const struct tlshim_device *dev)
{
	__u32 zero = 0;

	return bpf_map_update_elem(m->device, &zero, dev, BPF_ANY);
}

/* Per-CPU counters summed field by field: the struct is all __u64. */
int read_counters(const struct device_maps *m, struct tlshim_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t nfields = sizeof(*sum) / sizeof(__u64);
	struct tlshim_counters *percpu;
	__u32 zero = 0;
	int err;

	if (ncpu <= 0)
		return -1;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -1;
	err = bpf_map_lookup_elem(m->stats, &zero, percpu);
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; !err && cpu < ncpu; cpu++)
		for (size_t f = 0; f < nfields; f++)
			((__u64 *)sum)[f] += ((__u64 *)&percpu[cpu])[f];
	free(percpu);
	return err;
}
