// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One TX flow driven from several threads at once, as test_concurrency.c
 * does for RX: every thread runs segment i several times, all starting
 * together, and moves on once the device has seen segment i leave.  Exactly
 * one run of each segment may find it at expected_seq; every other one is a
 * retransmission, replayed from its record's start (mlx5 continues from it,
 * which leaves expected_seq where it was).  If the snapshot/walk/commit were
 * not atomic, two runs would both be "in order", a record would be logged
 * twice or lost, and the exact totals below would be off.
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
#include <linux/pkt_cls.h>
#include "tests.h"
#include "tx_scenario.h"

#define THREADS		4
#define REPS		3
#define SEGMENTS	400
#define SEGMENT_LEN	1400
#define RUNS		(THREADS * REPS)
#define STUCK_AFTER_NS	(5ull * 1000 * 1000 * 1000)

struct tx_shared {
	const struct tx_world *w;
	uint8_t (*frames)[FRAME_MAX];
	size_t frame_len[SEGMENTS];
	atomic_uint arrived, phase;	/* a spinning barrier (see test_concurrency.c) */
	atomic_bool abort;
};

struct tx_worker {
	struct tx_shared *sh;
	pthread_t tid;
	int cpu;
	uint64_t runs, errors;
	char problem[256];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void barrier_wait(struct tx_shared *sh)
{
	unsigned phase = atomic_load(&sh->phase);

	if (atomic_fetch_add(&sh->arrived, 1) == THREADS - 1) {
		atomic_store(&sh->arrived, 0);
		atomic_fetch_add(&sh->phase, 1);
		return;
	}
	for (unsigned spins = 1; atomic_load(&sh->phase) == phase; spins++)
		if (spins % 256 == 0)
			sched_yield();
}

#define PROBLEM(w, ...)								\
	do {									\
		if (!(w)->problem[0])						\
			snprintf((w)->problem, sizeof((w)->problem), __VA_ARGS__);	\
	} while (0)

/* Until the device's highest seq seen reaches the end of segment i. */
static void wait_for_segment_sent(struct tx_worker *w, size_t i)
{
	const struct tx_conn *c = &w->sh->w->c;
	uint32_t end = c->seq0 + (uint32_t)((i + 1) * SEGMENT_LEN);
	uint64_t deadline = now_ns() + STUCK_AFTER_NS;
	struct tlshim_tx_conn *conn = malloc(sizeof(*conn));

	while (conn) {
		if (dut_tx_conn_read(&c->key, conn)) {
			PROBLEM(w, "segment %zu: reading the connection failed", i);
			break;
		}
		if ((int32_t)(conn->parser.expected_seq - end) >= 0) {
			free(conn);
			return;
		}
		if (now_ns() > deadline) {
			PROBLEM(w, "segment %zu: sent seq stuck at %u, segment ends at %u", i,
				conn->parser.expected_seq, end);
			break;
		}
		sched_yield();
	}
	free(conn);
	atomic_store(&w->sh->abort, true);
}

static void *tx_worker_main(void *arg)
{
	struct tx_worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (size_t i = 0; i < SEGMENTS; i++) {
		barrier_wait(w->sh);
		if (atomic_load(&w->sh->abort))
			continue;
		for (int rep = 0; rep < REPS; rep++) {
			struct tx_run r = dut_tx_run(w->sh->frames[i], w->sh->frame_len[i], 0, 0);

			w->runs++;
			if (r.err || r.retval != (uint32_t)TLSHIM_TC_PASS || !r.packet_unchanged) {
				w->errors++;
				PROBLEM(w, "segment %zu: errno %d, tc action %u", i, r.err, r.retval);
			}
		}
		wait_for_segment_sent(w, i);
	}
	return NULL;
}

/* Short records (many per segment, headers split across segments) from a
 * fixed LCG: far more than the log holds, so it evicts as it goes. */
static void varied_stream(struct tls_stream *s, size_t min_len)
{
	uint32_t x = 54321;

	tls_stream_init(s);
	while (s->len < min_len) {
		x = x * 1103515245u + 12345u;
		tls_stream_record(s, 24 + (x >> 16) % 40);
	}
}

/* One round on a fresh flow; returns the retries, or -1. */
static int64_t tx_round(struct test *t, int round, const struct tls_stream *s)
{
	static uint8_t frames[SEGMENTS][FRAME_MAX];
	struct tx_shared sh = { .frames = frames };
	struct tx_worker workers[THREADS];
	struct tlshim_tx_conn *conn;
	struct tx_world w;
	struct tx_conn c;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	size_t complete;
	int64_t retries;

	dut_reset();
	test_context(t, "round %d", round);
	c = tx_conn_new(s, 0xffff0000u, 1000);	/* wraps on the way */
	if (!tx_world_install(t, &w, &c))
		return -1;
	sh.w = &w;
	for (size_t i = 0; i < SEGMENTS; i++)
		sh.frame_len[i] = tx_frame(frames[i], FRAME_MAX, &w.c, i * SEGMENT_LEN,
					   (i + 1) * SEGMENT_LEN);
	memset(workers, 0, sizeof(workers));
	for (int i = 0; i < THREADS; i++) {
		workers[i].sh = &sh;
		workers[i].cpu = i % online;
		if (pthread_create(&workers[i].tid, NULL, tx_worker_main, &workers[i])) {
			printf("FAIL %s: pthread_create failed\n", t->name);
			exit(2);
		}
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(workers[i].tid, NULL);
	for (int i = 0; i < THREADS; i++) {
		if (workers[i].problem[0])
			FAIL(t, "thread %d: %s", i, workers[i].problem);
		EXPECT_EQ(t, 0, workers[i].errors);
	}

	/* What the layout says: per segment one run in order, the other
	 * RUNS - 1 retransmissions replaying their record up to the segment. */
	conn = malloc(sizeof(*conn));
	if (!conn || dut_tx_conn_read(&w.c.key, conn)) {
		FAIL(t, "reading the connection");
		free(conn);
		return -1;
	}
	retries = conn->stats.retries;
	for (size_t i = 0; i < SEGMENTS; i++) {
		size_t from = i * SEGMENT_LEN;
		uint32_t dump = from - tls_stream_pos(s, from).start;

		w.stats.dump_bytes += (uint64_t)(RUNS - 1) * dump;
		w.stats.dump_packets += dump ? RUNS - 1 : 0;
	}
	w.stats.encrypted_packets = (uint64_t)RUNS * SEGMENTS;
	w.stats.encrypted_bytes = (uint64_t)RUNS * SEGMENTS * SEGMENT_LEN;
	w.stats.ooo = w.stats.resync = w.stats.resent_packets = (uint64_t)(RUNS - 1) * SEGMENTS;
	w.stats.resent_bytes = w.stats.ooo * SEGMENT_LEN;
	w.stats.records = tls_stream_headers_in(s, 0, SEGMENTS * SEGMENT_LEN);
	complete = tx_records_complete(s, SEGMENTS * SEGMENT_LEN);
	w.stats.evicted = complete - TLSHIM_TX_LOG_DEFAULT;
	w.stats.retries = retries;
	w.state_retry = retries;
	w.first_logged = complete - TLSHIM_TX_LOG_DEFAULT;
	w.expected_off = w.sent_off = SEGMENTS * SEGMENT_LEN;
	w.last_verdict = TLSHIM_TX_RESYNC;
	tx_check(t, &w);
	/* Only the first run of each segment changed the state. */
	EXPECT_EQ(t, SEGMENTS, conn->generation);
	test_note(t, "round %d: %zu records, retries (commits redone after a concurrent "
		  "update): %lld", round, complete, (long long)retries);
	test_context(t, "%s", "");
	free(conn);
	return retries;
}

#define MAX_ROUNDS 3

static void tx_concurrent_one_flow(struct test *t)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	struct tls_stream s;
	int64_t retries = 0;

	if (online < 2) {
		test_skip(t, "needs 2 CPUs for runs to overlap, has %ld", online);
		return;
	}
	varied_stream(&s, SEGMENTS * SEGMENT_LEN + 1);
	for (int round = 1; round <= MAX_ROUNDS && !t->failures; round++) {
		retries = tx_round(t, round, &s);
		if (retries != 0)
			break;
	}
	if (retries == 0)
		test_skip(t, "in %d rounds no two runs of a segment overlapped: "
			     "atomicity not exercised", MAX_ROUNDS);
	tls_stream_free(&s);
}

const struct test_case tx_concurrency_tests[] = {
	{ "tx_concurrent_one_flow_4_threads", tx_concurrent_one_flow, NULL },
};
const size_t n_tx_concurrency_tests = sizeof(tx_concurrency_tests) /
				      sizeof(tx_concurrency_tests[0]);
