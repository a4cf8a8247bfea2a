// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench: the device's per-packet cost through BPF_PROG_RUN, as ratios to
 * baselines measured in the same run (the machine is shared and noisy).
 *
 * Stateless paths (no installed flow, old data, baselines) run with
 * repeat=N on one packet.  The in-order path changes the flow's state with
 * every packet, so it runs once per call on a stream of distinct segments;
 * its baseline (an empty XDP program) is measured the same way, so the
 * timer overhead both carry cancels in the ratio's spirit, not its letter:
 * both numbers are printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tlshim.h"
#include "tlshim.skel.h"

#define SEG_LEN		1448
#define REPEAT		200000
#define STREAM_PKTS	20000
#define ROUNDS		5

struct frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
	unsigned char payload[SEG_LEN];
} __attribute__((packed));

static void build_frame(struct frame *f, __u32 seq)
{
	memset(f, 0, sizeof(*f));
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_TCP;
	f->ip.tot_len = htons(sizeof(f->ip) + sizeof(f->tcp) + SEG_LEN);
	f->ip.saddr = htonl(0x0a000001);
	f->ip.daddr = htonl(0x0a000002);
	f->tcp.source = htons(40000);
	f->tcp.dest = htons(443);
	f->tcp.doff = 5;
	f->tcp.ack = 1;
	f->tcp.seq = htonl(seq);
	memset(f->payload, 0xab, SEG_LEN);
}

static void flow_key(struct tlshim_flow *k)
{
	memset(k, 0, sizeof(*k));
	k->saddr[10] = k->saddr[11] = 0xff;
	k->daddr[10] = k->daddr[11] = 0xff;
	*(__u32 *)&k->saddr[12] = htonl(0x0a000001);
	*(__u32 *)&k->daddr[12] = htonl(0x0a000002);
	k->sport = htons(40000);
	k->dport = htons(443);
	k->dir = TLSHIM_DIR_RX;
}

static double run_repeat(int prog_fd, void *pkt, size_t len)
{
	unsigned char out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = REPEAT);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	return o.duration;	/* already ns per run */
}

static int cmp_u32(const void *a, const void *b)
{
	return *(const __u32 *)a < *(const __u32 *)b ? -1 : *(const __u32 *)a > *(const __u32 *)b;
}

/* Median single-run duration over a stream of in-order segments that
 * stay inside one huge record (the device's cheapest data path). */
static double run_stream(int prog_fd, int conns_fd, bool install)
{
	static __u32 durations[STREAM_PKTS];
	unsigned char out[4096];
	struct tlshim_flow key;
	struct tlshim_conn conn;
	struct frame f;
	__u32 seq = 1000;

	flow_key(&key);
	if (install) {
		tlshim_conn_init(&conn, TLSHIM_TLS_1_2, TLSHIM_CIPHER_AES_GCM_128, seq, 0, 0);
		/* Pretend a header was parsed long ago: one record covers the
		 * whole stream, so every segment is pure record body. */
		conn.st.rec_len = 0xffffffffu;
		conn.st.rec_offset = TLS_HEADER_SIZE;
		bpf_map_delete_elem(conns_fd, &key);
		bpf_map_update_elem(conns_fd, &key, &conn, BPF_ANY);
	}
	for (int i = 0; i < STREAM_PKTS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = &f, .data_size_in = sizeof(f),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		build_frame(&f, seq);
		seq += SEG_LEN;
		if (bpf_prog_test_run_opts(prog_fd, &o))
			return -1;
		durations[i] = o.duration;
	}
	qsort(durations, STREAM_PKTS, sizeof(durations[0]), cmp_u32);
	return durations[STREAM_PKTS / 2];
}

static int empty_xdp(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "empty_xdp", "GPL", insns, 2, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	return *(const double *)a < *(const double *)b ? -1 : *(const double *)a > *(const double *)b;
}

int main(void)
{
	char pin_root[64];
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct tlshim_bpf *skel;
	double empty_rep[ROUNDS], unknown_rep[ROUNDS], old_rep[ROUNDS];
	double empty_one[ROUNDS], inorder_one[ROUNDS];
	struct frame f;
	int empty_fd, rx_fd, conns_fd, err = 1;

	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/tlshim-bench-%d", getpid());
	mkdir(pin_root, 0700);
	oo.pin_root_path = pin_root;
	skel = tlshim_bpf__open_opts(&oo);
	if (!skel || tlshim_bpf__load(skel)) {
		fprintf(stderr, "bench: cannot load the BPF object\n");
		goto out;
	}
	empty_fd = empty_xdp();
	if (empty_fd < 0) {
		fprintf(stderr, "bench: cannot load an empty XDP program: %s\n", strerror(errno));
		goto out;
	}
	rx_fd = bpf_program__fd(skel->progs.tlshim_rx);
	conns_fd = bpf_map__fd(skel->maps.tlshim_conns);

	/* Alternate the cases round by round so drift hits them all alike. */
	for (int r = 0; r < ROUNDS; r++) {
		struct tlshim_flow key;

		flow_key(&key);
		bpf_map_delete_elem(conns_fd, &key);
		build_frame(&f, 1000);
		empty_rep[r] = run_repeat(empty_fd, &f, sizeof(f));
		unknown_rep[r] = run_repeat(rx_fd, &f, sizeof(f));
		empty_one[r] = run_stream(empty_fd, conns_fd, false);
		inorder_one[r] = run_stream(rx_fd, conns_fd, true);
		/* The stream left expected_seq far ahead: seq 1000 is old data. */
		old_rep[r] = run_repeat(rx_fd, &f, sizeof(f));
	}
	qsort(empty_rep, ROUNDS, sizeof(double), cmp_double);
	qsort(unknown_rep, ROUNDS, sizeof(double), cmp_double);
	qsort(old_rep, ROUNDS, sizeof(double), cmp_double);
	qsort(empty_one, ROUNDS, sizeof(double), cmp_double);
	qsort(inorder_one, ROUNDS, sizeof(double), cmp_double);
#define MED(a) ((a)[ROUNDS / 2])
#define SPREAD(a) ((a)[ROUNDS - 1] - (a)[0])
	printf("tlshim per-packet cost (BPF_PROG_RUN, %d rounds, median [max-min])\n", ROUNDS);
	printf("%-44s %10s %8s\n", "case", "ns/pkt", "ratio");
	printf("%-44s %7.1f [%4.1f] %8s\n", "empty XDP, repeat=200000 (baseline A)",
	       MED(empty_rep), SPREAD(empty_rep), "1.00");
	printf("%-44s %7.1f [%4.1f] %7.2fx A\n", "no installed flow, repeat", MED(unknown_rep),
	       SPREAD(unknown_rep), MED(unknown_rep) / MED(empty_rep));
	printf("%-44s %7.1f [%4.1f] %7.2fx A\n", "installed flow, old data, repeat", MED(old_rep),
	       SPREAD(old_rep), MED(old_rep) / MED(empty_rep));
	printf("%-44s %7.1f [%4.1f] %8s\n", "empty XDP, one run per call (baseline B)",
	       MED(empty_one), SPREAD(empty_one), "1.00");
	printf("%-44s %7.1f [%4.1f] %7.2fx B\n", "in-order 1448 B inside a record, one per call",
	       MED(inorder_one), SPREAD(inorder_one), MED(inorder_one) / MED(empty_one));
	close(empty_fd);
	err = 0;
out:
	if (skel) {
		bpf_object__unpin_maps(skel->obj, NULL);
		tlshim_bpf__destroy(skel);
	}
	rmdir(pin_root);
	return err;
}
