/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One captured frame as replay needs it: the Ethernet frame to feed the
 * device (Linux cooked SLL/SLL2 captures get an Ethernet header made from
 * their protocol field), and the IP/TCP fields that say which connection
 * and direction it belongs to.
 */
#ifndef TLSHIM_REPLAY_FRAME_H
#define TLSHIM_REPLAY_FRAME_H

#include <stdbool.h>
#include <stdint.h>
#include "capture.h"

#define ETH_HDR_LEN	14
#define TCPF_FIN	0x01
#define TCPF_SYN	0x02
#define TCPF_RST	0x04
#define TCPF_ACK	0x10

struct replay_frame {
	uint8_t *eth;		/* the frame for the device (malloc'd) */
	uint32_t eth_len;
	bool tcp;		/* IPv4/IPv6 TCP, not a fragment, headers intact */
	uint8_t saddr[16], daddr[16];	/* IPv4 mapped, as in tlshim_flow */
	uint16_t sport, dport;		/* network byte order */
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t payload_off;	/* into eth */
	uint32_t payload_len;	/* as the IP length says */
	bool cut;		/* the capture holds fewer payload bytes than that */
};

/* -1: link type not supported (err names it); 0: decoded (f->tcp says
 * whether it is a TCP segment). */
int replay_frame_decode(const struct cap_packet *p, struct replay_frame *f,
			char *err, size_t errlen);
void replay_frame_free(struct replay_frame *f);

#endif
