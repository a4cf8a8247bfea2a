// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim_rx_mark: the RX descriptor in skb data_meta -> the skb->mark bit.
 *
 * BPF_PROG_TEST_RUN for sched_cls cannot supply data_meta (a non-zero
 * __sk_buff.data_meta in ctx_in is refused with EINVAL, and the skb it builds
 * has no metadata), so through test_run only the no-descriptor path can be
 * reached.  The descriptor path is tested the way the device really feeds
 * it: tlshim_rx runs in BPF_F_TEST_XDP_LIVE_FRAMES mode on the loopback
 * device of a private network namespace, XDP_PASS hands the frame (with its
 * metadata) to the stack, tlshim_rx_mark runs on lo's tc ingress, and a raw
 * socket with SO_RCVMARK reads the mark the skb arrived with.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tests.h"

#ifndef SO_RCVMARK
#define SO_RCVMARK 75
#endif

#define SEQ0	4000000u
#define SN0	21
#define CONFIGURED_MARK	0x00004000u

struct tc_run {
	int err;
	uint32_t retval;
	uint32_t mark;
};

static struct tc_run tc_mark_run(const uint8_t *frame, size_t len, uint32_t mark_in,
				 uint32_t data_meta)
{
	struct __sk_buff skb = { .mark = mark_in, .data_meta = data_meta };
	struct tc_run r = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame,
		    .data_size_in = len,
		    .ctx_in = &skb,
		    .ctx_size_in = sizeof(skb),
		    .ctx_out = &skb,
		    .ctx_size_out = sizeof(skb),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(dut.rx_mark_fd, &opts))
		r.err = errno;
	r.retval = opts.retval;
	r.mark = skb.mark;
	return r;
}

/* Through test_run: no metadata, so no mark, and the mark already on the
 * skb is kept -- even for a frame whose XDP verdict was "decrypted". */
static void tc_mark_test_run_without_descriptor(struct test *t)
{
	static const uint32_t marks_in[] = { 0, 0x5, TLSHIM_DEFAULT_MARK };
	uint8_t frame[FRAME_MAX];
	struct tls_stream s;
	struct tls_conn c;
	struct rx_run r;
	size_t len;

	tls_stream_init(&s);
	tls_stream_record(&s, 300);
	c = tls_conn_new(&s, SEQ0, SN0);
	if (!tls_conn_install(t, &c))
		goto out;
	len = frame_build(frame, &c.flow, &c.fo, SEQ0, s.bytes, s.len);
	r = dut_rx_run(frame, len);
	expect_decrypted(t, &r, &c, 0, s.len);
	if (dut_config_write(1, CONFIGURED_MARK)) {
		FAIL(t, "writing tlshim_config: %s", strerror(errno));
		goto out;
	}

	for (size_t i = 0; i < sizeof(marks_in) / sizeof(marks_in[0]); i++) {
		struct tc_run tc = tc_mark_run(frame, len, marks_in[i], 0);

		test_context(t, "mark in 0x%x", marks_in[i]);
		EXPECT_EQ(t, 0, tc.err);
		EXPECT_EQ(t, (uint32_t)TLSHIM_TC_PASS, tc.retval);
		EXPECT_EQ(t, marks_in[i], tc.mark);
	}
	test_context(t, "%s", "");
	{
		struct tc_run tc = tc_mark_run(frame, len, 0, sizeof(struct tlshim_rx_meta));

		test_note(t, "sched_cls test_run with ctx_in.data_meta = %zu: %s",
			  sizeof(struct tlshim_rx_meta),
			  tc.err ? strerror(tc.err) : "accepted");
	}
out:
	tls_stream_free(&s);
}

/* A private network namespace whose lo runs tlshim_rx_mark on tc ingress. */
struct live_lo {
	int orig_netns;
	int ifindex;
	int raw_fd;
	struct bpf_tc_hook hook;
	char why[160];		/* why it could not be set up */
};

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int rc;

	if (fd < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!rc)
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return rc;
}

static void live_lo_close(struct live_lo *lo)
{
	if (lo->raw_fd >= 0)
		close(lo->raw_fd);
	lo->raw_fd = -1;
	if (lo->orig_netns >= 0) {
		if (setns(lo->orig_netns, CLONE_NEWNET)) {
			perror("setns back to the original network namespace");
			exit(2);
		}
		close(lo->orig_netns);
	}
	lo->orig_netns = -1;
}

#define LIVE_SETUP_FAIL(lo, what)						\
	do {									\
		snprintf((lo)->why, sizeof((lo)->why), "%s: %s", what,	\
			 strerror(errno));					\
		live_lo_close(lo);						\
		return -1;							\
	} while (0)

static int live_lo_open(struct live_lo *lo)
{
	LIBBPF_OPTS(bpf_tc_opts, attach, .prog_fd = dut.rx_mark_fd);
	int one = 1, rc;

	memset(lo, 0, sizeof(*lo));
	lo->raw_fd = -1;
	lo->orig_netns = open("/proc/self/ns/net", O_RDONLY);
	if (lo->orig_netns < 0)
		LIVE_SETUP_FAIL(lo, "open /proc/self/ns/net");
	if (unshare(CLONE_NEWNET))
		LIVE_SETUP_FAIL(lo, "unshare(CLONE_NEWNET)");
	if (lo_up())
		LIVE_SETUP_FAIL(lo, "bringing lo up");
	/* Frames to 127.0.0.1 arriving on lo (not sent by this host) are
	 * martians unless route_localnet allows them. */
	if (write_file("/proc/sys/net/ipv4/conf/lo/route_localnet", "1"))
		LIVE_SETUP_FAIL(lo, "route_localnet");
	lo->ifindex = if_nametoindex("lo");
	lo->hook = (struct bpf_tc_hook){ .sz = sizeof(lo->hook), .ifindex = lo->ifindex,
					 .attach_point = BPF_TC_INGRESS };
	rc = bpf_tc_hook_create(&lo->hook);
	if (rc) {
		errno = -rc;
		LIVE_SETUP_FAIL(lo, "clsact qdisc on lo");
	}
	rc = bpf_tc_attach(&lo->hook, &attach);
	if (rc) {
		errno = -rc;
		LIVE_SETUP_FAIL(lo, "attaching tlshim_rx_mark to lo ingress");
	}
	lo->raw_fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (lo->raw_fd < 0)
		LIVE_SETUP_FAIL(lo, "raw socket");
	if (setsockopt(lo->raw_fd, SOL_SOCKET, SO_RCVMARK, &one, sizeof(one)))
		LIVE_SETUP_FAIL(lo, "SO_RCVMARK");
	return 0;
}

/* Runs frame through tlshim_rx as lo's receive path; returns the mark the
 * stack saw on it, or -1 (with a failure recorded). */
static int64_t live_receive_mark(struct test *t, struct live_lo *lo, const struct flow *f,
				 const uint8_t *frame, size_t len)
{
	struct xdp_md md = { .data = 0, .data_end = len, .ingress_ifindex = lo->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame,
		    .data_size_in = len,
		    .ctx_in = &md,
		    .ctx_size_in = sizeof(md),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .repeat = 1);
	uint8_t pkt[FRAME_MAX];
	char control[CMSG_SPACE(sizeof(uint32_t))];

	if (bpf_prog_test_run_opts(dut.rx_fd, &opts)) {
		FAIL(t, "live XDP test run: %s", strerror(errno));
		return -1;
	}
	/* The stack answers our segment with a RST that loops back: skip
	 * anything but the segment sent. */
	for (;;) {
		struct pollfd pfd = { .fd = lo->raw_fd, .events = POLLIN };
		struct iovec iov = { .iov_base = pkt, .iov_len = sizeof(pkt) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = control,
				      .msg_controllen = sizeof(control) };
		struct cmsghdr *cm;
		ssize_t n;
		size_t ihl;

		if (poll(&pfd, 1, 2000) != 1) {
			FAIL(t, "the segment never reached the raw socket");
			return -1;
		}
		n = recvmsg(lo->raw_fd, &msg, 0);
		if (n < 20) {
			FAIL(t, "recvmsg: %zd (%s)", n, strerror(errno));
			return -1;
		}
		ihl = (pkt[0] & 0xf) * 4;
		if ((size_t)n < ihl + 4 || ((pkt[ihl] << 8) | pkt[ihl + 1]) != f->sport ||
		    ((pkt[ihl + 2] << 8) | pkt[ihl + 3]) != f->dport)
			continue;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			uint32_t mark;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_MARK)
				continue;
			memcpy(&mark, CMSG_DATA(cm), sizeof(mark));
			return mark;
		}
		return 0;	/* SO_RCVMARK reports only non-zero marks */
	}
}

struct live_mark_row {
	bool write_config;
	uint32_t initialized;
	uint32_t decrypted_mark;
	uint32_t expected_mark;	/* on the decrypted segment */
};

/* A decrypted segment gets the mark; the retransmitted copy of it
 * (passed, OLD) does not. */
static void tc_mark_live(struct test *t)
{
	const struct live_mark_row *row = t->param;
	uint8_t frame[FRAME_MAX];
	struct live_lo lo;
	struct tls_stream s;
	struct tls_conn c;
	struct tlshim_conn conn;
	int64_t mark;
	size_t len;

	if (row->write_config)
		REQUIRE(t, dut_config_write(row->initialized, row->decrypted_mark) == 0,
			"writing tlshim_config");
	if (live_lo_open(&lo)) {
		test_skip(t, "no private loopback to run the stack on: %s", lo.why);
		return;
	}
	tls_stream_init(&s);
	tls_stream_record(&s, 300);
	c = tls_conn_new(&s, SEQ0, SN0);
	c.flow = flow_ipv4(next_local_port());
	memcpy(c.flow.saddr, (uint8_t[]){ 127, 0, 0, 2 }, 4);
	memcpy(c.flow.daddr, (uint8_t[]){ 127, 0, 0, 1 }, 4);
	c.fo.zero_dst_mac = true;
	if (!tls_conn_install(t, &c))
		goto out;
	len = frame_build(frame, &c.flow, &c.fo, SEQ0, s.bytes, s.len);

	test_context(t, "%s", "decrypted segment");
	mark = live_receive_mark(t, &lo, &c.flow, frame, len);
	if (mark >= 0)
		EXPECT_EQ(t, row->expected_mark, mark);
	test_context(t, "%s", "its retransmission");
	mark = live_receive_mark(t, &lo, &c.flow, frame, len);
	if (mark >= 0)
		EXPECT_EQ(t, 0, mark);

	test_context(t, "%s", "");
	if (tls_conn_read(t, &c, &conn)) {
		EXPECT_EQ(t, 1, conn.stats.decrypted_packets);
		EXPECT_EQ(t, 1, conn.stats.old_packets);
	}
out:
	live_lo_close(&lo);
	tls_stream_free(&s);
}

#define LIVE_MARK(name, ...) { name, tc_mark_live, &(const struct live_mark_row){ __VA_ARGS__ } }

const struct test_case mark_tests[] = {
	{ "tc_mark_test_run_without_descriptor", tc_mark_test_run_without_descriptor, NULL },
	LIVE_MARK("tc_mark_default_config_zeroed", .expected_mark = TLSHIM_DEFAULT_MARK),
	LIVE_MARK("tc_mark_default_config_not_initialized", .write_config = true,
		  .initialized = 0, .decrypted_mark = CONFIGURED_MARK,
		  .expected_mark = TLSHIM_DEFAULT_MARK),
	LIVE_MARK("tc_mark_configured", .write_config = true, .initialized = 1,
		  .decrypted_mark = CONFIGURED_MARK, .expected_mark = CONFIGURED_MARK),
};
const size_t n_mark_tests = sizeof(mark_tests) / sizeof(mark_tests[0]);
