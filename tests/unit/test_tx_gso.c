// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The transmit side on real GSO super-packets.
 *
 * BPF_PROG_TEST_RUN builds a linear skb of at most a page (3712 bytes of
 * data here), so a 64 KiB GSO packet cannot go through it.  These tests send
 * real ones: tlshim_tx on tc egress of lo in a private network namespace,
 * frames written to an AF_PACKET socket with a virtio-net header asking for
 * TCPv4 GSO (PACKET_VNET_HDR, the way a VM's tap does), so dev_queue_xmit
 * runs the program on one skb of up to 64 KiB, its headers linear and the
 * payload in page fragments -- what a NIC with TSO sees from the stack.
 * Under --enforce-drops a TC_ACT_SHOT comes back as sendmsg's ENOBUFS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <linux/virtio_net.h>
#include <bpf/libbpf.h>
#include "tests.h"
#include "tx_scenario.h"

#define GSO_MSS		1448
#define MAX_PAYLOAD	(65535 - 20 - 20)	/* IPv4 tot_len is 16 bits */
#define SN0		5

struct live_tx {
	int orig_netns;
	int ifindex;
	int packet_fd;
	struct bpf_tc_hook hook;
	char why[160];
};

static void live_tx_close(struct live_tx *lt)
{
	if (lt->packet_fd >= 0)
		close(lt->packet_fd);
	lt->packet_fd = -1;
	if (lt->orig_netns >= 0) {
		/* Leaving the namespace drops its last reference: lo, its
		 * qdisc and filter go with it. */
		if (setns(lt->orig_netns, CLONE_NEWNET)) {
			perror("setns back to the original network namespace");
			exit(2);
		}
		close(lt->orig_netns);
	}
	lt->orig_netns = -1;
}

#define LIVE_TX_FAIL(lt, what)							\
	do {									\
		snprintf((lt)->why, sizeof((lt)->why), "%s: %s", what,	\
			 strerror(errno));					\
		live_tx_close(lt);						\
		return -1;							\
	} while (0)

static int live_tx_open(struct live_tx *lt)
{
	LIBBPF_OPTS(bpf_tc_opts, attach, .prog_fd = dut.tx_fd);
	struct ifreq ifr = { 0 };
	int one = 1, fd, rc;

	memset(lt, 0, sizeof(*lt));
	lt->packet_fd = -1;
	lt->orig_netns = open("/proc/self/ns/net", O_RDONLY);
	if (lt->orig_netns < 0)
		LIVE_TX_FAIL(lt, "open /proc/self/ns/net");
	if (unshare(CLONE_NEWNET))
		LIVE_TX_FAIL(lt, "unshare(CLONE_NEWNET)");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	rc = fd < 0 ? -1 : ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!rc)
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	if (fd >= 0)
		close(fd);
	if (rc)
		LIVE_TX_FAIL(lt, "bringing lo up");
	lt->ifindex = if_nametoindex("lo");
	lt->hook = (struct bpf_tc_hook){ .sz = sizeof(lt->hook), .ifindex = lt->ifindex,
					 .attach_point = BPF_TC_EGRESS };
	rc = bpf_tc_hook_create(&lt->hook);
	if (rc) {
		errno = -rc;
		LIVE_TX_FAIL(lt, "clsact qdisc on lo");
	}
	rc = bpf_tc_attach(&lt->hook, &attach);
	if (rc) {
		errno = -rc;
		LIVE_TX_FAIL(lt, "attaching tlshim_tx to lo egress");
	}
	lt->packet_fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (lt->packet_fd < 0)
		LIVE_TX_FAIL(lt, "AF_PACKET socket");
	if (setsockopt(lt->packet_fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		LIVE_TX_FAIL(lt, "PACKET_VNET_HDR");
	return 0;
}

/*
 * Stream bytes [from, to) of c as one skb through lo's egress: a GSO packet
 * when it holds more than one MSS.  Returns sendmsg's errno (0: sent).
 */
static int live_send(struct live_tx *lt, const struct tx_conn *c, size_t from, size_t to)
{
	static uint8_t frame[MAX_PAYLOAD + 128];
	size_t len = tx_frame(frame, sizeof(frame), c, from, to);
	bool gso = to - from > GSO_MSS;
	struct virtio_net_hdr vh = {
		/* The TCP checksum is the device's to fill in, as for TSO. */
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = gso ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_NONE,
		.hdr_len = ETH_HLEN + 20 + 20,
		.gso_size = gso ? GSO_MSS : 0,
		.csum_start = ETH_HLEN + 20,
		.csum_offset = 16,
	};
	struct sockaddr_ll to_addr = { .sll_family = AF_PACKET, .sll_ifindex = lt->ifindex,
				       .sll_protocol = htons(ETH_P_IP), .sll_halen = ETH_ALEN };
	struct iovec iov[2] = { { &vh, sizeof(vh) }, { frame, len } };
	struct msghdr msg = { .msg_name = &to_addr, .msg_namelen = sizeof(to_addr),
			      .msg_iov = iov, .msg_iovlen = 2 };

	return sendmsg(lt->packet_fd, &msg, 0) == (ssize_t)(sizeof(vh) + len) ? 0 : errno;
}

/* Sends [from, to) and checks the world after step. */
static void live_step(struct test *t, struct live_tx *lt, struct tx_world *w, size_t from,
		      size_t to, const struct tx_step *step)
{
	int err = live_send(lt, &w->c, from, to);

	test_context(t, "live segment %zu..%zu", from, to);
	if (step->shot)
		EXPECT_EQ_NAMED(t, "sendmsg errno (TC_ACT_SHOT)", ENOBUFS, err);
	else if (err)
		FAIL(t, "sendmsg: %s", strerror(err));
	tx_world_segment(t, w, from, to, step);
}

static bool live_setup(struct test *t, struct live_tx *lt)
{
	if (live_tx_open(lt)) {
		test_skip(t, "no private loopback to send GSO packets on: %s", lt->why);
		return false;
	}
	return true;
}

/* Five 16 KiB records over two 64 KiB packets; a 40000-byte GSO
 * retransmission replays its first record's prefix. */
static void tx_gso_live_16k_records(struct test *t)
{
	static const struct tx_step encrypted = { .verdict = TLSHIM_TX_ENCRYPTED };
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;
	struct live_tx lt;

	tls_stream_init(&s);
	for (int i = 0; i < 5; i++)
		tls_stream_record(&s, 16408);	/* 16413 bytes each: record i at 16413 i */
	c = tx_conn_new(&s, 0u - 30000, SN0);	/* the first packet wraps seq */
	if (!live_setup(t, &lt))
		goto out;
	if (!tx_world_install(t, &w, &c))
		goto close;
	live_step(t, &lt, &w, 0, MAX_PAYLOAD, &encrypted);	/* 4 headers, 3 records end */
	EXPECT_EQ(t, 3, tx_records_complete(&s, MAX_PAYLOAD));
	live_step(t, &lt, &w, MAX_PAYLOAD, s.len, &encrypted);
	live_step(t, &lt, &w, 20000, 60000,
		  &(struct tx_step){ .verdict = TLSHIM_TX_RESYNC, .dump_bytes = 20000 - 16413 });
	live_step(t, &lt, &w, 0, MAX_PAYLOAD,
		  &(struct tx_step){ .verdict = TLSHIM_TX_RESYNC, .dump_bytes = 0 });
	EXPECT_EQ(t, 4, w.stats.encrypted_packets);	/* one per skb, however many MSS */
close:
	live_tx_close(&lt);
out:
	tls_stream_free(&s);
}

/* The smallest records a 64 KiB packet can hold: for TLS 1.2 AES-GCM
 * (29 bytes) the walk logs all 2258 and the log keeps its capacity; for
 * TLS 1.3 (21 bytes) 3118 records exceed what one walk may log, and the log
 * is emptied.  Either way retransmissions into evicted records are dropped
 * and the record the parser is in is still replayed. */
struct tx_gso_small_row {
	uint16_t version;
	uint16_t record_length;		/* the minimum for the version */
	bool log_emptied;
};

static void tx_gso_live_smallest_records(struct test *t)
{
	const struct tx_gso_small_row *row = t->param;
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;
	struct live_tx lt;
	size_t wire = TLS_HEADER_SIZE + row->record_length, complete, last;

	tls_stream_init(&s);
	while (s.len + wire <= MAX_PAYLOAD + wire)	/* a record beyond the packet */
		tls_stream_record(&s, row->record_length);
	c = tx_conn_new(&s, 20000000, SN0);
	c.version = row->version;
	complete = tx_records_complete(&s, MAX_PAYLOAD);
	if (!live_setup(t, &lt))
		goto out;
	if (!tx_world_install(t, &w, &c))
		goto close;
	live_step(t, &lt, &w, 0, MAX_PAYLOAD,
		  &(struct tx_step){ .verdict = TLSHIM_TX_ENCRYPTED,
				     .evicted = row->log_emptied ? complete :
						complete - TLSHIM_TX_LOG_DEFAULT });
	test_note(t, "%zu records ended in one %u-byte packet", complete, MAX_PAYLOAD);
	EXPECT_TRUE(t, row->log_emptied == (complete > TLSHIM_TX_WALK_MAX_RECORDS));
	last = tx_record_start(&s, complete - 1);
	live_step(t, &lt, &w, last + 1, last + 3,
		  row->log_emptied ?
		  &(struct tx_step){ .verdict = TLSHIM_TX_DROP,
				     .drop_reason = TLSHIM_TX_DROP_EVICTED } :
		  &(struct tx_step){ .verdict = TLSHIM_TX_RESYNC, .dump_bytes = 1 });
	live_step(t, &lt, &w, 10, 12,
		  &(struct tx_step){ .verdict = TLSHIM_TX_DROP,
				     .drop_reason = TLSHIM_TX_DROP_EVICTED });
	live_step(t, &lt, &w, MAX_PAYLOAD - 1, MAX_PAYLOAD,
		  &(struct tx_step){ .verdict = TLSHIM_TX_RESYNC,
				     .dump_bytes = MAX_PAYLOAD - 1 -
						   tx_record_start(&s, complete) });
close:
	live_tx_close(&lt);
out:
	tls_stream_free(&s);
}

/* Under --enforce-drops the drop is real: sendmsg sees TC_ACT_SHOT. */
static void tx_gso_live_enforced_drop(struct test *t)
{
	struct tls_stream s;
	struct tx_world w;
	struct tx_conn c;
	struct live_tx lt;

	tls_stream_init(&s);
	tls_stream_junk(&s, 2000);
	for (int i = 0; i < 5; i++)
		tls_stream_record(&s, 16408);
	c = tx_conn_new(&s, 30000000, SN0);
	c.enforce_drops = true;
	if (!live_setup(t, &lt))
		goto out;
	if (!tx_world_install(t, &w, &c))
		goto close;
	/* Pre-offload data and records in one packet: straddles the marker. */
	live_step(t, &lt, &w, 0, 40000,
		  &(struct tx_step){ .verdict = TLSHIM_TX_DROP,
				     .drop_reason = TLSHIM_TX_DROP_STRADDLE, .shot = true });
	live_step(t, &lt, &w, 0, 2000, &(struct tx_step){ .verdict = TLSHIM_TX_SKIP });
	live_step(t, &lt, &w, 2000, 40000, &(struct tx_step){ .verdict = TLSHIM_TX_ENCRYPTED });
close:
	live_tx_close(&lt);
out:
	tls_stream_free(&s);
}

const struct test_case tx_gso_tests[] = {
	{ "tx_gso_live_16k_records", tx_gso_live_16k_records, NULL },
	{ "tx_gso_live_smallest_records_tls12", tx_gso_live_smallest_records,
	  &(const struct tx_gso_small_row){ TLSHIM_TLS_1_2, 24, false } },
	{ "tx_gso_live_smallest_records_tls13", tx_gso_live_smallest_records,
	  &(const struct tx_gso_small_row){ TLSHIM_TLS_1_3, 16, true } },
	{ "tx_gso_live_enforced_drop", tx_gso_live_enforced_drop, NULL },
};
const size_t n_tx_gso_tests = sizeof(tx_gso_tests) / sizeof(tx_gso_tests[0]);
