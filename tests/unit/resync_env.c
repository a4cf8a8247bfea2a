// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "resync_env.h"
#include "tlshim.skel.h"

void rs_maps(struct device_maps *m)
{
	m->conns = bpf_map__fd(dut.skel->maps.tlshim_conns);
	m->keys = bpf_map__fd(dut.skel->maps.tlshim_keys);
	m->sw_conns = bpf_map__fd(dut.skel->maps.tlshim_sw_conns);
	m->config = bpf_map__fd(dut.skel->maps.tlshim_config);
	m->stats = bpf_map__fd(dut.skel->maps.tlshim_stats);
	m->device = bpf_map__fd(dut.skel->maps.tlshim_device);
	m->rec_log = bpf_map__fd(dut.skel->maps.tlshim_rec_log);
	m->resync_resp = bpf_map__fd(dut.skel->maps.tlshim_resync_resp);
	m->events = bpf_map__fd(dut.skel->maps.tlshim_events);
}

static void empty_map(int fd, size_t key_size, const char *name)
{
	uint8_t key[128];

	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key)) {
			fprintf(stderr, "emptying %s: %s\n", name, strerror(errno));
			exit(2);
		}
	(void)key_size;
}

static int drop_event(void *ctx, void *data, size_t size)
{
	return 0;
}

void rs_clear(void)
{
	struct device_maps m;
	struct ring_buffer *rb;

	rs_maps(&m);
	empty_map(m.rec_log, sizeof(struct tlshim_rec_key), "tlshim_rec_log");
	empty_map(m.resync_resp, sizeof(struct tlshim_flow), "tlshim_resync_resp");
	rb = ring_buffer__new(m.events, drop_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "ring_buffer__new: %s\n", strerror(errno));
		exit(2);
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
}

int rs_config(uint32_t resync_headers, uint32_t resync_timeout, uint32_t flags)
{
	struct tlshim_config cfg = {
		.initialized = 1,
		.decrypted_mark = TLSHIM_DEFAULT_MARK,
		.max_conns = TLSHIM_DEFAULT_CAPACITY,
		.flags = flags,
		.resync_headers = resync_headers,
		.resync_timeout_records = resync_timeout,
	};
	__u32 key = 0;

	return bpf_map_update_elem(dut.config_fd, &key, &cfg, BPF_ANY);
}

bool rs_open(struct test *t, struct rs *rs, bool with_service)
{
	memset(rs, 0, sizeof(*rs));
	rs_maps(&rs->maps);
	if (!with_service)
		return true;
	rs->svc = resync_service_open(&rs->maps);
	if (!rs->svc) {
		FAIL(t, "resync_service_open: %s", strerror(errno));
		return false;
	}
	return true;
}

void rs_close(struct rs *rs)
{
	resync_service_close(rs->svc);
	rs->svc = NULL;
}

void rs_poll(struct test *t, struct rs *rs)
{
	int n;

	if (!rs->svc)
		return;
	n = resync_service_poll(rs->svc, 0);
	if (n < 0)
		FAIL(t, "resync_service_poll: %s", strerror(-n));
}

bool rs_install(struct test *t, struct tls_conn *c, uint8_t policy)
{
	struct tlshim_conn conn;

	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->key = flow_conn_key(&c->flow, TLSHIM_DIR_RX);
	/* installed_ns as the loader sets it: tells two installs apart */
	tlshim_conn_init(&conn, c->version, c->cipher, c->seq0 + (uint32_t)c->s->records_from,
			 c->sn0, ts.tv_sec * 1000000000ull + ts.tv_nsec);
	conn.st.policy = policy;
	if (bpf_map_update_elem(dut.conns_fd, &c->key, &conn, BPF_NOEXIST)) {
		FAIL(t, "installing the connection: %s", strerror(errno));
		return false;
	}
	return true;
}

bool rs_truth(struct test *t, const struct tls_conn *c, size_t i)
{
	struct tlshim_rec_key key = { .flow = c->key, .tcp_seq = rec_seq(c, i) };
	struct tlshim_rec_val val = {
		.rec_sn = c->sn0 + i,
		.rec_len = TLS_HEADER_SIZE + c->s->rec[i].length,
		.added_ns = 1,
	};

	if (bpf_map_update_elem(bpf_map__fd(dut.skel->maps.tlshim_rec_log), &key, &val,
				BPF_ANY)) {
		FAIL(t, "writing tlshim_rec_log: %s", strerror(errno));
		return false;
	}
	return true;
}

bool rs_truth_all(struct test *t, const struct tls_conn *c)
{
	for (size_t i = 0; i < c->s->nrec; i++)
		if (!rs_truth(t, c, i))
			return false;
	return true;
}

struct rx_run rs_send(struct test *t, struct rs *rs, const struct tls_conn *c,
		      size_t from, size_t to)
{
	struct rx_run r = send_bytes(c, from, to);

	rs_poll(t, rs);
	return r;
}

struct tlshim_conn rs_conn(struct test *t, const struct tls_conn *c)
{
	struct tlshim_conn conn;

	tls_conn_read(t, c, &conn);
	return conn;
}

uint32_t rec_seq(const struct tls_conn *c, size_t i)
{
	return c->seq0 + (uint32_t)c->s->rec[i].start;
}

size_t first_record_from(const struct tls_stream *s, size_t off)
{
	size_t i = 0;

	while (i < s->nrec && s->rec[i].start < off)
		i++;
	return i;
}

size_t rec_end(const struct tls_stream *s, size_t i)
{
	return s->rec[i].start + TLS_HEADER_SIZE + s->rec[i].length;
}
