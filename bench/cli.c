// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Section 3, the real CLI: `tlshim conn add` and `conn del`, one process per
 * connection, against the bench's private device (TLSHIM_PIN_DIR) and a
 * private run dir (TLSHIM_RUN_DIR).  Process start-up, option parsing,
 * opening six pinned maps, the lock file and the capacity check dominate:
 * it is reported apart from the map-level rate.
 */
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "cases.h"
#include "measure.h"
#include "report.h"

#define COUNT	300

extern char **environ;

static int run(const char *tlshim, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	err = posix_spawn(&pid, tlshim, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static struct row *cli_rows(const char *what, double *lat, int n, double total_ns, int failed)
{
	char id[48], name[80];
	struct summary s;
	struct row *r;

	summarize(lat, n, &s);
	snprintf(id, sizeof(id), "cli_%s", what);
	snprintf(name, sizeof(name), "tlshim conn %s (CLI, a process each)", what);
	r = row_new(SEC_INSTALL, id, name, "conn/s");
	r->value = n / (total_ns / 1e9);
	snprintf(r->reps, sizeof(r->reps), "%d processes", n);
	snprintf(r->ratio, sizeof(r->ratio), "p50 %.2f, p99 %.2f ms", s.median / 1e6, s.p99 / 1e6);
	r->lo = NAN;
	if (failed)
		snprintf(r->note, sizeof(r->note), "%d of %d commands FAILED", failed, n);
	return r;
}

int bench_cli(struct bench_env *e, const char *tlshim)
{
	char run_dir[] = "/tmp/tlshim-bench-run.XXXXXX", lock[64];
	double add[COUNT], del[COUNT], t0, add_total = 0, del_total = 0;
	int add_failed = 0, del_failed = 0;

	if (access(tlshim, X_OK)) {
		struct row *r = row_new(SEC_INSTALL, "cli_add", "tlshim conn add (CLI)", "conn/s");

		snprintf(r->note, sizeof(r->note), "%s not built", tlshim);
		return 0;
	}
	if (!mkdtemp(run_dir))
		return -1;
	setenv("TLSHIM_PIN_DIR", e->pin_dir, 1);
	setenv("TLSHIM_RUN_DIR", run_dir, 1);
	env_clear_conns(e);

	for (int pass = 0; pass < 2; pass++) {
		double *lat = pass ? del : add;

		t0 = mono_ns();
		for (int i = 0; i < COUNT; i++) {
			char src[32];
			char *add_argv[] = { (char *)tlshim, "conn", "add", "rx", src, "10.0.0.2:443",
					     "--tcp-seq", "1000", NULL };
			char *del_argv[] = { (char *)tlshim, "conn", "del", "rx", src, "10.0.0.2:443",
					     NULL };
			double a = mono_ns();

			snprintf(src, sizeof(src), "10.32.%d.%d:40000", i >> 8, i & 0xff);
			if (run(tlshim, pass ? del_argv : add_argv))
				*(pass ? &del_failed : &add_failed) += 1;
			lat[i] = mono_ns() - a;
		}
		if (pass)
			del_total = mono_ns() - t0;
		else
			add_total = mono_ns() - t0;
	}
	cli_rows("add", add, COUNT, add_total, add_failed);
	cli_rows("del", del, COUNT, del_total, del_failed);

	env_clear_conns(e);
	snprintf(lock, sizeof(lock), "%s/lock", run_dir);
	unlink(lock);
	rmdir(run_dir);
	unsetenv("TLSHIM_RUN_DIR");
	return 0;
}
