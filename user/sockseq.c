// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sockseq_lookup: runs the iter/tcp program of bpf/sockseq.bpf.c once and
 * picks the socket of a connection out of its records.  The iterator walks
 * the network namespace of the process that creates it (bpf_iter_create),
 * which is the caller's.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sockseq.skel.h"
#include "sockseq.h"

static bool same_socket(const struct sockseq_rec *r, const __u8 *laddr, __be16 lport,
			const __u8 *raddr, __be16 rport)
{
	return r->local_port == lport && r->remote_port == rport &&
	       !memcmp(r->local_addr, laddr, 16) && !memcmp(r->remote_addr, raddr, 16);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int sockseq_lookup(const struct tlshim_flow *flow, struct sockseq *out)
{
	const __u8 *laddr = flow->dir == TLSHIM_DIR_RX ? flow->daddr : flow->saddr;
	const __u8 *raddr = flow->dir == TLSHIM_DIR_RX ? flow->saddr : flow->daddr;
	__be16 lport = flow->dir == TLSHIM_DIR_RX ? flow->dport : flow->sport;
	__be16 rport = flow->dir == TLSHIM_DIR_RX ? flow->sport : flow->dport;
	libbpf_print_fn_t prev_print;
	struct sockseq_bpf *skel;
	struct sockseq_rec r;
	char buf[64 * sizeof(struct sockseq_rec)];
	size_t have = 0;
	int fd, err = -ENOENT;
	bool full_found = false;
	ssize_t n;

	/* A failure is reported by the caller in one line, not libbpf's log. */
	prev_print = libbpf_set_print(quiet);
	skel = sockseq_bpf__open_and_load();
	libbpf_set_print(prev_print);
	if (!skel)
		return errno ? -errno : -EINVAL;
	if (sockseq_bpf__attach(skel)) {
		err = -errno;
		goto out;
	}
	fd = bpf_iter_create(bpf_link__fd(skel->links.sockseq_dump));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* Records are fixed-size; a read may end inside one, so keep the
	 * tail for the next read. */
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		size_t off = 0;

		have += n;
		for (; have - off >= sizeof(r); off += sizeof(r)) {
			memcpy(&r, buf + off, sizeof(r));
			if (!same_socket(&r, laddr, lport, raddr, rport))
				continue;
			/* A full socket beats a timewait one of an earlier
			 * connection with the same 4-tuple. */
			if (full_found && !r.full)
				continue;
			memset(out, 0, sizeof(*out));
			out->sk = r;
			out->start_seq = flow->dir == TLSHIM_DIR_RX ? r.copied_seq : r.write_seq;
			full_found = r.full;
			err = 0;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	if (n < 0)
		err = -errno;
	close(fd);
out:
	sockseq_bpf__destroy(skel);
	return err;
}
