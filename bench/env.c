// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <net/if.h>
#include <sys/wait.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tlshim.skel.h"
#include "bench_empty.skel.h"
#include "bench_baseline.skel.h"
#include "bench_driver.skel.h"
#include "bench.h"
#include "env.h"

int env_open(struct bench_env *e)
{
	const char *dir = getenv("TLSHIM_PIN_DIR");
	LIBBPF_OPTS(bpf_object_open_opts, oo);

	memset(e, 0, sizeof(*e));
	if (dir && *dir)
		snprintf(e->pin_dir, sizeof(e->pin_dir), "%s", dir);
	else
		snprintf(e->pin_dir, sizeof(e->pin_dir), "/sys/fs/bpf/tlshim-bench-%d", getpid());
	if (mkdir(e->pin_dir, 0700) == 0)
		e->made_pin_dir = true;
	else if (errno != EEXIST) {
		fprintf(stderr, "bench: cannot create %s: %s\n", e->pin_dir, strerror(errno));
		return -1;
	}
	oo.pin_root_path = e->pin_dir;

	e->dev = tlshim_bpf__open_opts(&oo);
	if (!e->dev || tlshim_bpf__load(e->dev)) {
		fprintf(stderr, "bench: cannot load build/tlshim.bpf.o\n");
		return -1;
	}
	/* Loaded second, the bench objects find the device's pins and reuse
	 * its maps (libbpf checks that the definitions match). */
	e->empty = bench_empty_bpf__open_and_load();
	e->base = bench_baseline_bpf__open_opts(&oo);
	if (!e->empty || !e->base || bench_baseline_bpf__load(e->base)) {
		fprintf(stderr, "bench: cannot load the baseline programs\n");
		return -1;
	}
	e->drv = bench_driver_bpf__open_opts(&oo);
	if (!e->drv || bench_driver_bpf__load(e->drv)) {
		fprintf(stderr, "bench: cannot load the repeat drivers\n");
		return -1;
	}
	e->conns = bpf_map__fd(e->dev->maps.tlshim_conns);
	e->keys = bpf_map__fd(e->dev->maps.tlshim_keys);
	e->stats = bpf_map__fd(e->dev->maps.tlshim_stats);
	e->tx_conns = bpf_map__fd(e->dev->maps.tlshim_tx_conns);
	e->rx = bpf_program__fd(e->dev->progs.tlshim_rx);
	e->tx = bpf_program__fd(e->dev->progs.tlshim_tx);
	e->empty_xdp = bpf_program__fd(e->empty->progs.bench_empty_xdp);
	e->empty_tc = bpf_program__fd(e->empty->progs.bench_empty_tc);
	e->base_xdp = bpf_program__fd(e->base->progs.bench_parse_lookup_xdp);
	e->base_tc = bpf_program__fd(e->base->progs.bench_parse_lookup_tc);
	e->reset_rx = bpf_program__fd(e->drv->progs.bench_reset_rx_drv);
	e->reset_tx = bpf_program__fd(e->drv->progs.bench_reset_tx_drv);
	e->rotate_rx = bpf_program__fd(e->drv->progs.bench_rotate_rx_drv);
	return 0;
}

void env_close(struct bench_env *e)
{
	if (e->dev && e->conns > 0)
		env_clear_conns(e);
	bench_driver_bpf__destroy(e->drv);
	bench_baseline_bpf__destroy(e->base);
	bench_empty_bpf__destroy(e->empty);
	if (e->dev) {
		bpf_object__unpin_maps(e->dev->obj, NULL);
		tlshim_bpf__destroy(e->dev);
	}
	if (e->made_pin_dir)
		rmdir(e->pin_dir);
	memset(e, 0, sizeof(*e));
}

extern char **environ;

static int ip(const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int status = -1;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "ip", &fa, NULL, (char *const *)argv, environ) == 0)
		waitpid(pid, &status, 0);
	posix_spawn_file_actions_destroy(&fa);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int env_anchor_xdp(struct bench_env *e)
{
	int progs[] = { e->empty_xdp, e->base_xdp, e->rx, e->reset_rx, e->rotate_rx };
	int n = sizeof(progs) / sizeof(progs[0]), anchored = 0;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "bench: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i += 2) {
		char a[16], b[16];
		const char *add[] = { "ip", "link", "add", a, "type", "veth", "peer", "name", b, NULL };

		snprintf(a, sizeof(a), "anchor%d", i);
		snprintf(b, sizeof(b), "anchor%d", i + 1);
		/* Left down: no packet ever reaches the anchored programs (an
		 * IPv6 router solicitation through the rotating driver would
		 * skip a segment of its rotation). */
		if (ip(add))
			break;
		for (int j = i; j < i + 2 && j < n; j++)
			if (!bpf_xdp_attach(if_nametoindex(j == i ? a : b), progs[j],
					    XDP_FLAGS_DRV_MODE, NULL))
				anchored++;
	}
	return anchored;
}

int env_set_target(struct bench_env *e, bool tc, int prog_fd)
{
	struct bpf_map *arr = tc ? e->drv->maps.bench_tx_target : e->drv->maps.bench_rx_target;
	__u32 slot = BENCH_TARGET_SLOT;

	return bpf_map_update_elem(bpf_map__fd(arr), &slot, &prog_fd, BPF_ANY);
}

/* Delete in batches of whatever get_next_key yields: deleting the key in
 * hand while walking would restart the walk from the top every time. */
static void clear_map(int fd)
{
	enum { CHUNK = 4096 };
	static struct tlshim_flow keys[CHUNK];
	struct tlshim_flow cur;
	bool have = false;

	for (;;) {
		__u32 n = 0;

		have = false;
		while (n < CHUNK && !bpf_map_get_next_key(fd, have ? &cur : NULL, &keys[n])) {
			cur = keys[n++];
			have = true;
		}
		if (!n)
			return;
		for (__u32 i = 0; i < n; i++)
			bpf_map_delete_elem(fd, &keys[i]);
	}
}

void env_clear_conns(struct bench_env *e)
{
	clear_map(e->keys);
	clear_map(e->conns);
	clear_map(e->tx_conns);
}

unsigned long long env_counter(struct bench_env *e, size_t offset)
{
	int ncpu = libbpf_num_possible_cpus();
	struct tlshim_counters *percpu = calloc(ncpu > 0 ? ncpu : 1, sizeof(*percpu));
	unsigned long long sum = 0;
	__u32 zero = 0;

	if (percpu && ncpu > 0 && !bpf_map_lookup_elem(e->stats, &zero, percpu))
		for (int cpu = 0; cpu < ncpu; cpu++)
			sum += *(__u64 *)((char *)&percpu[cpu] + offset);
	free(percpu);
	return sum;
}

unsigned long long map_memlock(int map_fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", map_fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}
