/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel's TCP sequence numbers of a connected socket, read with
 * TCP_REPAIR (needs CAP_NET_ADMIN): the send queue's TCP_QUEUE_SEQ is
 * tp->write_seq (the seq of the next byte written), the receive queue's is
 * tp->rcv_nxt (equal to copied_seq once the application has read
 * everything).  Repair mode is left with TCP_REPAIR_OFF_NO_WP: plain
 * TCP_REPAIR_OFF would send a window probe, a segment the peer (and a
 * device under test) has no reason to see.
 */
#ifndef TOOLS_TCP_SEQ_H
#define TOOLS_TCP_SEQ_H

/* Include <netinet/tcp.h> or <linux/tcp.h> (not both: they clash) first. */
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#ifndef TCP_REPAIR_OFF_NO_WP
#define TCP_REPAIR_OFF_NO_WP -1
#endif

/* queue: TCP_SEND_QUEUE or TCP_RECV_QUEUE.  0, or an errno value
 * (EPERM: no CAP_NET_ADMIN). */
static inline int tcp_queue_seq(int fd, int queue, uint32_t *seq)
{
	int on = TCP_REPAIR_ON, off = TCP_REPAIR_OFF_NO_WP, err = 0;
	socklen_t len = sizeof(*seq);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		return errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &len))
		err = errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)) && !err)
		err = errno;
	return err;
}

#endif /* TOOLS_TCP_SEQ_H */
