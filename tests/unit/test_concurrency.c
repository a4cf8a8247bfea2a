// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One flow driven from several threads at once (RPS, multi-queue devices).
 * Every thread runs segment i several times, all starting together; a
 * thread moves on to segment i+1 only once expected_seq has passed segment
 * i.  Exactly one run of each segment may decrypt it: if the device's
 * check-and-advance were not atomic, two runs judged against the same
 * snapshot would both decrypt, and the counts below would be off.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tests.h"

#define THREADS		4
#define REPS		3
#define SEGMENTS	400
#define SEGMENT_LEN	1400
#define STUCK_AFTER_NS	(5ull * 1000 * 1000 * 1000)

/* A spinning barrier: a futex wake-up staggers the threads by tens of
 * microseconds, far longer than a run of the program, and the runs would
 * rarely overlap. */
struct spin_barrier {
	atomic_uint arrived;
	atomic_uint phase;
};

static void spin_barrier_wait(struct spin_barrier *b)
{
	unsigned phase = atomic_load(&b->phase);

	if (atomic_fetch_add(&b->arrived, 1) == THREADS - 1) {
		atomic_store(&b->arrived, 0);
		atomic_fetch_add(&b->phase, 1);
		return;
	}
	for (unsigned spins = 1; atomic_load(&b->phase) == phase; spins++)
		if (spins % 256 == 0)
			sched_yield();	/* more threads than CPUs */
}

struct shared {
	const struct tls_conn *c;
	struct cuts cuts;
	uint8_t (*frames)[FRAME_MAX];
	size_t frame_len[SEGMENTS];
	struct spin_barrier start_segment;
	atomic_bool abort;
};

struct worker {
	struct shared *sh;
	pthread_t tid;
	int cpu;		/* pinned to this CPU, -1: not pinned */
	uint64_t decrypted, old, other, errors, wrong_descriptor;
	char problem[256];	/* the first thing that went wrong */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Keeps the first problem only: the later ones are usually its echoes. */
#define WORKER_PROBLEM(w, ...)							\
	do {									\
		if (!(w)->problem[0])						\
			snprintf((w)->problem, sizeof((w)->problem), __VA_ARGS__);	\
	} while (0)

static void run_segment(struct worker *w, size_t i)
{
	const struct tls_conn *c = w->sh->c;
	size_t from = w->sh->cuts.bounds[i], to = w->sh->cuts.bounds[i + 1];

	for (int rep = 0; rep < REPS; rep++) {
		struct rx_run r = dut_rx_run(w->sh->frames[i], w->sh->frame_len[i]);

		if (r.err || !r.has_meta || r.retval != XDP_PASS || !r.packet_unchanged) {
			w->errors++;
			WORKER_PROBLEM(w, "segment %zu: run failed (errno %d, size_out %u)",
				       i, r.err, r.size_out);
		} else if (r.meta.verdict == TLSHIM_VERDICT_DECRYPTED) {
			w->decrypted++;
			if (r.meta.headers != tls_stream_headers_in(c->s, from, to) ||
			    r.meta.rec_sn != (uint32_t)(c->sn0 + tls_stream_pos(c->s, from).index)) {
				w->wrong_descriptor++;
				WORKER_PROBLEM(w, "segment %zu decrypted with headers %u, rec_sn %u",
					       i, r.meta.headers, r.meta.rec_sn);
			}
		} else if (r.meta.verdict == TLSHIM_VERDICT_PASSED &&
			   r.meta.reason == TLSHIM_PASS_OLD) {
			w->old++;
		} else {
			w->other++;
			WORKER_PROBLEM(w, "segment %zu: verdict %u reason %u", i,
				       r.meta.verdict, r.meta.reason);
		}
	}
}

/* Spins until the device has moved past segment i. */
static void wait_for_segment_end(struct worker *w, size_t i)
{
	uint32_t end = w->sh->c->seq0 + (uint32_t)w->sh->cuts.bounds[i + 1];
	uint64_t deadline = now_ns() + STUCK_AFTER_NS;
	struct tlshim_conn conn;

	for (;;) {
		if (dut_conn_read(&w->sh->c->key, &conn)) {
			WORKER_PROBLEM(w, "segment %zu: reading the connection failed", i);
			atomic_store(&w->sh->abort, true);
			return;
		}
		if ((int32_t)(conn.st.expected_seq - end) >= 0)
			return;
		if (now_ns() > deadline) {
			WORKER_PROBLEM(w, "segment %zu: expected_seq stuck at %u, segment ends at %u",
				       i, conn.st.expected_seq, end);
			atomic_store(&w->sh->abort, true);
			return;
		}
		sched_yield();
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}

	for (size_t i = 0; i < SEGMENTS; i++) {
		/* Every thread passes every barrier, even after an abort, so
		 * that none waits forever for one that gave up. */
		spin_barrier_wait(&w->sh->start_segment);
		if (atomic_load(&w->sh->abort))
			continue;
		run_segment(w, i);
		wait_for_segment_end(w, i);
	}
	return NULL;
}

/* Threads on different CPUs, or the scheduler may stack them on one and
 * no two runs ever overlap. */
static void spread_over_cpus(struct worker *workers)
{
	int cpus[THREADS], n = 0;
	cpu_set_t allowed;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		CPU_ZERO(&allowed);
	for (int cpu = 0; cpu < CPU_SETSIZE && n < THREADS; cpu++)
		if (CPU_ISSET(cpu, &allowed))
			cpus[n++] = cpu;
	for (int i = 0; i < THREADS; i++)
		workers[i].cpu = n ? cpus[i % n] : -1;
}

/* Record lengths from a fixed LCG: short records (many headers split over
 * segment boundaries) mixed with longer ones. */
static void varied_stream(struct tls_stream *s, size_t min_len)
{
	uint32_t x = 12345;

	tls_stream_init(s);
	while (s->len < min_len) {
		x = x * 1103515245u + 12345u;
		tls_stream_record(s, 24 + (x >> 16) % 40);
	}
}

/* One round on a fresh flow; returns the retries the device counted, or
 * -1 if the round could not be set up. */
static int64_t one_round(struct test *t, int round, const struct tls_stream *s)
{
	static uint8_t frames[SEGMENTS][FRAME_MAX];
	struct worker workers[THREADS];
	struct tlshim_conn_stats expected;
	struct tlshim_counters counters;
	struct shared sh = { .frames = frames };
	uint64_t decrypted = 0, old = 0;
	struct tlshim_conn conn;
	struct tls_conn c;
	int started = 0;

	dut_reset();
	test_context(t, "round %d", round);
	c = tls_conn_new(s, 0xffff0000u, 1000);	/* wraps on the way, too */
	if (!tls_conn_install(t, &c))
		return -1;
	sh.c = &c;
	sh.cuts = cuts_even(SEGMENTS * SEGMENT_LEN, SEGMENTS);
	for (size_t i = 0; i < SEGMENTS; i++)
		sh.frame_len[i] = frame_build(frames[i], &c.flow, &c.fo,
					      c.seq0 + (uint32_t)sh.cuts.bounds[i],
					      s->bytes + sh.cuts.bounds[i], SEGMENT_LEN);
	memset(workers, 0, sizeof(workers));
	spread_over_cpus(workers);
	for (; started < THREADS; started++) {
		workers[started].sh = &sh;
		if (pthread_create(&workers[started].tid, NULL, worker_main, &workers[started]))
			break;
	}
	if (started < THREADS) {
		/* The barrier counts THREADS: the ones started would spin forever. */
		printf("FAIL %s: pthread_create failed after %d threads\n", t->name, started);
		exit(2);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(workers[i].tid, NULL);

	for (int i = 0; i < THREADS; i++) {
		struct worker *w = &workers[i];

		test_note(t, "round %d, thread %d (cpu %d): decrypted %llu, old %llu, "
			  "other %llu, errors %llu", round, i, w->cpu,
			  (unsigned long long)w->decrypted, (unsigned long long)w->old,
			  (unsigned long long)w->other, (unsigned long long)w->errors);
		if (w->problem[0])
			FAIL(t, "thread %d: %s", i, w->problem);
		EXPECT_EQ(t, 0, w->wrong_descriptor);
		EXPECT_EQ(t, 0, w->other);
		EXPECT_EQ(t, 0, w->errors);
		decrypted += w->decrypted;
		old += w->old;
	}
	EXPECT_EQ(t, SEGMENTS, decrypted);
	EXPECT_EQ(t, THREADS * REPS * SEGMENTS - SEGMENTS, old);

	expect_in_sync_at(t, &c, SEGMENTS * SEGMENT_LEN);
	if (!tls_conn_read(t, &c, &conn))
		return -1;
	memset(&expected, 0, sizeof(expected));
	expected.decrypted_packets = SEGMENTS;
	expected.decrypted_bytes = SEGMENTS * SEGMENT_LEN;
	expected.passed_packets = THREADS * REPS * SEGMENTS - SEGMENTS;
	expected.old_packets = expected.passed_packets;
	expected.records = tls_stream_headers_in(s, 0, SEGMENTS * SEGMENT_LEN);
	expected.retries = conn.stats.retries;	/* how often depends on timing */
	expect_conn_stats(t, &expected, &conn.stats);
	EXPECT_EQ(t, SEGMENTS, conn.generation);
	counters = counters_of(&expected);
	counters.rx_tls_state_retry = conn.stats.retries;
	expect_counters(t, &counters);
	test_note(t, "round %d: retries (commits redone after a concurrent update): %llu",
		  round, (unsigned long long)conn.stats.retries);
	test_context(t, "%s", "");
	return conn.stats.retries;
}

/* A round in which no commit lost a race proves nothing about atomicity:
 * try again, a few times, before saying so. */
#define MAX_ROUNDS 3

static void concurrent_one_flow(struct test *t)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	struct tls_stream s;
	int64_t retries = 0;
	int round;

	if (online < 2) {
		test_skip(t, "needs 2 CPUs for runs to overlap, has %ld", online);
		return;
	}
	varied_stream(&s, SEGMENTS * SEGMENT_LEN + 1);
	for (round = 1; round <= MAX_ROUNDS && !t->failures; round++) {
		retries = one_round(t, round, &s);
		if (retries != 0)
			break;
	}
	if (retries == 0)
		test_skip(t, "in %d rounds no two runs of a segment overlapped: "
			     "atomicity not exercised", MAX_ROUNDS);
	tls_stream_free(&s);
}

const struct test_case concurrency_tests[] = {
	{ "concurrent_one_flow_4_threads", concurrent_one_flow, NULL },
};
const size_t n_concurrency_tests = sizeof(concurrency_tests) / sizeof(concurrency_tests[0]);
