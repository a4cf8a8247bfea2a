// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlsloss - loss injection on a tc hook (this kernel has no netem), by the
 * specs of include/tlshim_drop.h: random:PCT, nth:N, header:K, body:K.
 *
 *   SEC("tc")  tlsloss_tc   ingress or egress; a drop is TC_ACT_STOLEN, a
 *                           pass TC_ACT_UNSPEC so the next filter on the
 *                           hook still runs.
 *
 * Why STOLEN and not SHOT: on egress, SHOT makes dev_queue_xmit() return
 * NET_XMIT_DROP and TCP sends the segment again at once, unseen by the
 * peer, as if nothing was lost.  STOLEN is reported as NET_XMIT_SUCCESS
 * (sch_handle_egress): TCP believes it left, the peer sees a hole, and the
 * loss is repaired the way wire loss is (dupacks, fast retransmit, RTO).
 * On ingress both simply free the packet.
 *
 * Per flow (one direction of a TCP connection on one hook) it counts data
 * segments (each transmission; index 0 is the first) and keeps the highest
 * end seen: a segment starting at or after it is a first transmission.
 * For header:/body: specs a record walker follows the TLS record headers in
 * the bytes of first transmissions, in order, from the SYN's ISN + 1:
 *   - a header may be split across segments (hdr_fill/hdr_acc carry it);
 *   - a segment that starts before the highest end but reaches past it
 *     (a retransmission with new data) feeds its new bytes to the walker
 *     and is never dropped by header/body (not a first transmission);
 *   - a segment starting beyond the highest end means bytes were lost
 *     before this hook: the walker cannot know where records are any more
 *     and stops for that flow (walker = GAP, counted in walker_lost);
 *     header/body drops end for it, random/nth go on (they only count).
 *   - a flow first seen without its SYN (attached mid-stream) has no
 *     record numbering: walker NO_SYN, data-segment indexes count from
 *     the first segment seen.  A SYN's payload (TFO) is not looked at.
 *   - a header whose type is not 20..24 or whose version major is not 3
 *     means the flow is not TLS (or the walker was wrong): walker NOT_TLS.
 * Segments of one flow are assumed to pass one at a time (a sender's
 * egress: the socket lock orders them; a single-queue ingress): the state
 * is not locked, as the walker has to read packet bytes between updates.
 *
 * GSO: the decision is per skb, so a dropped GSO super-packet loses all its
 * MSS segments and counts as one data segment.  Attach where skbs are
 * MSS-sized (the sender with TSO/GSO off, or a forwarding interface in a
 * middle namespace); stats.gso_skbs counts super-packets so users notice.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tlsloss.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load: which hook this instance sits on. */
const volatile __u8 tlsloss_egress = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tlsloss_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlsloss_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TLSLOSS_MAX_FLOWS);
	__type(key, struct tlsloss_flow);
	__type(value, struct tlsloss_flow_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlsloss_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tlsloss_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlsloss_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TLSLOSS_LOG_SIZE);
	__type(key, __u32);
	__type(value, struct tlsloss_log_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tlsloss_log SEC(".maps");

#define VLAN_8021Q	0x8100
#define VLAN_8021AD	0x88a8
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

enum { PARSE_OK = 0, PARSE_SKIP = 1, PARSE_BAD = 2 };

struct seg {
	struct tlsloss_flow flow;
	__u32 seq;
	__u32 payload_off;
	__u32 payload_len;
	__u8 syn;
};

static __always_inline void map_v4(__u8 *dst, __be32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

/* Ethernet (up to two VLAN tags), IPv4 or IPv6 (hop-by-hop, routing and
 * destination options skipped), TCP.  Fragments are not parsed (passed). */
static __always_inline int parse(struct __sk_buff *skb, struct seg *s)
{
	__u32 off = ETH_HLEN, ip_end;
	__be16 proto;
	__u8 nexthdr;
	struct tcphdr th;
	int i;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2))
		return PARSE_SKIP;
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(VLAN_8021Q) && proto != bpf_htons(VLAN_8021AD))
			break;
		if (bpf_skb_load_bytes(skb, off + 2, &proto, 2))
			return PARSE_BAD;
		off += 4;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		__u32 ihl;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
			return PARSE_BAD;
		if (ip.protocol != IPPROTO_TCP)
			return PARSE_SKIP;
		ihl = ip.ihl * 4;
		if (ihl < sizeof(ip) || (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return PARSE_BAD;
		/* tot_len 0: a BIG TCP super-packet; the skb says how long */
		ip_end = ip.tot_len ? off + bpf_ntohs(ip.tot_len) : skb->len;
		map_v4(s->flow.saddr, ip.saddr);
		map_v4(s->flow.daddr, ip.daddr);
		off += ihl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
			return PARSE_BAD;
		ip_end = ip6.payload_len ? off + sizeof(ip6) + bpf_ntohs(ip6.payload_len) : skb->len;
		__builtin_memcpy(s->flow.saddr, &ip6.saddr, 16);
		__builtin_memcpy(s->flow.daddr, &ip6.daddr, 16);
		nexthdr = ip6.nexthdr;
		off += sizeof(ip6);
		for (i = 0; i < 4; i++) {
			__u8 ext[2];

			if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
			    nexthdr != IPPROTO_DSTOPTS)
				break;
			if (bpf_skb_load_bytes(skb, off, ext, 2))
				return PARSE_BAD;
			nexthdr = ext[0];
			off += (ext[1] + 1) * 8;
		}
		if (nexthdr == IPPROTO_FRAGMENT)
			return PARSE_BAD;
		if (nexthdr != IPPROTO_TCP)
			return PARSE_SKIP;
	} else {
		return PARSE_SKIP;
	}
	if (bpf_skb_load_bytes(skb, off, &th, sizeof(th)))
		return PARSE_BAD;
	if (th.doff < 5)
		return PARSE_BAD;
	s->flow.sport = th.source;
	s->flow.dport = th.dest;
	s->seq = bpf_ntohl(th.seq);
	s->syn = th.syn;
	s->payload_off = off + th.doff * 4;
	if (ip_end > skb->len)		/* a lying length field */
		ip_end = skb->len;
	s->payload_len = ip_end > s->payload_off ? ip_end - s->payload_off : 0;
	return PARSE_OK;
}

static __always_inline int same_addr(const __u8 *a, const __u8 *b)
{
	__u64 x[2], y[2];

	__builtin_memcpy(x, a, 16);
	__builtin_memcpy(y, b, 16);
	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline int selected(const struct tlsloss_config *c, const struct seg *s)
{
	if (c->filter == TLSLOSS_FILTER_PORT)
		return s->flow.sport == c->port || s->flow.dport == c->port;
	if (c->filter == TLSLOSS_FILTER_FLOW)
		return s->flow.sport == c->sport && s->flow.dport == c->dport &&
		       same_addr(s->flow.saddr, c->saddr) && same_addr(s->flow.daddr, c->daddr);
	return 1;
}

static __always_inline int after_eq(__u32 a, __u32 b)
{
	return (__s32)(a - b) >= 0;
}

static __always_inline void walker_stop(struct tlsloss_flow_state *fs,
					struct tlsloss_stats *st, __u8 why)
{
	fs->walker = why;
	if (st)
		__sync_fetch_and_add(&st->walker_lost, 1);
}

struct verdict {
	__u32 drop;
	__u32 reason;
	__u32 record;
};

enum {
	STEP_MORE = 1,		/* a header completed: another may start in the segment */
	STEP_NAMED = 2,		/* the header starting in this step is one the spec names */
	STEP_NOT_TLS = 4,
	STEP_UNREADABLE = 8,	/* the skb is shorter than its headers said */
};

/*
 * One step of the walker inside the segment that ends at stream offset end,
 * its stream offset x at skb offset base + x (payload offset - rel, mod
 * 2^32: five arguments are all a BPF function takes): collects the next header's bytes that lie in the segment
 * and, once it has all 5, moves to the next record.  A global function:
 * the verifier checks it once, not once per iteration of the caller's loop
 * (which keeps the program cheap to load, on 6.1 too).
 */
__attribute__((noinline)) int tlsloss_walk_step(struct __sk_buff *skb,
						struct tlsloss_flow_state *fs,
						const struct tlshim_drop_spec *spec,
						__u32 base, __u32 end)
{
	__u32 hpos, take, len, j;
	int ret = 0;
	__u8 h[5];

	if (!skb || !fs || !spec)
		return 0;
	hpos = fs->next_hdr + fs->hdr_fill;
	if (after_eq(hpos, end))
		return 0;		/* the next header byte is in a later segment */
	if (fs->hdr_fill == 0 && spec->kind == TLSHIM_DROP_HEADER &&
	    tlshim_drop_names_record(spec, fs->next_rec))
		ret |= STEP_NAMED;
	take = 5 - fs->hdr_fill;
	if (take > end - hpos)
		take = end - hpos;
	if (take == 5) {
		if (bpf_skb_load_bytes(skb, base + hpos, h, 5))
			return STEP_UNREADABLE;
		fs->hdr_acc = ((__u64)h[0] << 32) | ((__u64)h[1] << 24) | ((__u64)h[2] << 16) |
			      ((__u64)h[3] << 8) | h[4];
	} else {
		for (j = 0; j < 4; j++) {
			if (j >= take)
				break;
			if (bpf_skb_load_bytes(skb, base + hpos + j, h, 1))
				return STEP_UNREADABLE;
			fs->hdr_acc = (fs->hdr_acc << 8) | h[0];
		}
	}
	fs->hdr_fill += take;
	if (fs->hdr_fill < 5)
		return ret;		/* split header: the rest comes next */
	/* type 20..24 (ChangeCipherSpec..Heartbeat), version 3.x */
	if (((fs->hdr_acc >> 32) & 0xff) < 20 || ((fs->hdr_acc >> 32) & 0xff) > 24 ||
	    ((fs->hdr_acc >> 24) & 0xff) != 3)
		return ret | STEP_NOT_TLS;
	len = fs->hdr_acc & 0xffff;
	fs->body_start = fs->next_hdr + 5;
	fs->next_hdr = fs->body_start + len;
	fs->next_rec++;
	fs->hdr_fill = 0;
	fs->hdr_acc = 0;
	return ret | STEP_MORE;
}

/*
 * Feeds the bytes of [rel, end) beyond high_end to the walker (rel <=
 * high_end < end) and decides header:K and body:K for a first transmission.
 */
static __always_inline void walk(struct __sk_buff *skb, const struct seg *s,
				 const struct tlshim_drop_spec *spec,
				 struct tlsloss_flow_state *fs, struct tlsloss_stats *st,
				 __u32 rel, __u32 end, int first, __u64 index,
				 struct verdict *v)
{
	int may_drop = first && index >= spec->from;
	__u32 rec;
	int i, r;

	/* body:K - wholly inside the body of the record the segment starts in */
	if (spec->kind == TLSHIM_DROP_BODY && first && fs->hdr_fill == 0 && fs->next_rec > 0 &&
	    after_eq(rel, fs->body_start) && after_eq(fs->next_hdr, end)) {
		rec = fs->next_rec - 1;
		if (rec >= fs->body_next && tlshim_drop_names_record(spec, rec)) {
			fs->body_next = rec + 1;
			if (may_drop) {
				v->drop = 1;
				v->reason = TLSLOSS_REASON_BODY;
				v->record = rec;
			}
		}
	}

	for (i = 0; i < TLSLOSS_MAX_HEADERS_PER_SEG; i++) {
		rec = fs->next_rec;
		r = tlsloss_walk_step(skb, fs, spec, s->payload_off - rel, end);
		if ((r & STEP_NAMED) && may_drop) {
			v->drop = 1;
			v->reason = TLSLOSS_REASON_HEADER;
			v->record = rec;
		}
		if (r & STEP_NOT_TLS) {
			walker_stop(fs, st, TLSLOSS_WALKER_NOT_TLS);
			return;
		}
		if (r & STEP_UNREADABLE) {
			walker_stop(fs, st, TLSLOSS_WALKER_GAP);
			return;
		}
		if (!(r & STEP_MORE))
			return;
	}
	/* more headers start in this segment than the walker follows */
	if (!after_eq(fs->next_hdr, end))
		walker_stop(fs, st, TLSLOSS_WALKER_DENSE);
}

static __always_inline void log_drop(const struct seg *s, const struct tlsloss_flow_state *fs,
				     struct __sk_buff *skb, __u64 number, __u64 index,
				     const struct verdict *v)
{
	__u32 slot = (number - 1) % TLSLOSS_LOG_SIZE;
	struct tlsloss_log_entry *e = bpf_map_lookup_elem(&tlsloss_log, &slot);

	if (!e)
		return;
	e->flow = s->flow;
	e->number = number;
	e->index = index;
	e->ktime_ns = bpf_ktime_get_ns();
	e->seq = s->seq;
	e->len = s->payload_len;
	e->offset = fs->have_isn ? s->seq - fs->isn1 : 0;
	e->record = v->record;
	e->reason = v->reason;
	e->gso_segs = skb->gso_segs;
}

SEC("tc")
int tlsloss_tc(struct __sk_buff *skb)
{
	struct tlsloss_flow_state *fs, fresh;
	struct tlsloss_config *cfg;
	struct tlsloss_stats *st;
	struct verdict v = { .record = ~0u };
	struct seg s = {};
	__u32 zero = 0, rel, end;
	__u64 index;
	int r, first;

	cfg = bpf_map_lookup_elem(&tlsloss_config, &zero);
	st = bpf_map_lookup_elem(&tlsloss_stats, &zero);
	if (!cfg || !st || !cfg->initialized)
		return TC_ACT_UNSPEC;
	r = parse(skb, &s);
	if (r == PARSE_BAD)
		__sync_fetch_and_add(&st->not_parsed, 1);
	if (r != PARSE_OK || !selected(cfg, &s))
		return TC_ACT_UNSPEC;
	s.flow.ifindex = skb->ifindex;
	s.flow.egress = tlsloss_egress;
	__sync_fetch_and_add(&st->skbs, 1);

	fs = bpf_map_lookup_elem(&tlsloss_flows, &s.flow);
	if (s.syn) {
		/* A new connection (or a reused 4-tuple): the walker starts at
		 * ISN + 1 with record 0.  A retransmitted SYN changes nothing. */
		if (fs && fs->have_isn && fs->isn1 == s.seq + 1) {
			fs->segs++;
			return TC_ACT_UNSPEC;
		}
		__builtin_memset(&fresh, 0, sizeof(fresh));
		fresh.isn1 = s.seq + 1;
		fresh.have_isn = 1;
		fresh.segs = 1;
		if (!fs)
			__sync_fetch_and_add(&st->flows, 1);
		bpf_map_update_elem(&tlsloss_flows, &s.flow, &fresh, BPF_ANY);
		return TC_ACT_UNSPEC;
	}
	if (!fs) {
		if (!s.payload_len)
			return TC_ACT_UNSPEC;	/* a pure ACK of a flow we never saw */
		/* Mid-stream: offsets count from this segment's seq. */
		__builtin_memset(&fresh, 0, sizeof(fresh));
		fresh.isn1 = s.seq;
		fresh.walker = TLSLOSS_WALKER_NO_SYN;
		__sync_fetch_and_add(&st->flows, 1);
		__sync_fetch_and_add(&st->walker_lost, 1);
		bpf_map_update_elem(&tlsloss_flows, &s.flow, &fresh, BPF_ANY);
		fs = bpf_map_lookup_elem(&tlsloss_flows, &s.flow);
		if (!fs)
			return TC_ACT_UNSPEC;
	}
	fs->segs++;
	if (!s.payload_len)
		return TC_ACT_UNSPEC;

	index = fs->data_segs++;
	__sync_fetch_and_add(&st->data_segs, 1);
	if (skb->gso_segs > 1)
		__sync_fetch_and_add(&st->gso_skbs, 1);
	rel = s.seq - fs->isn1;
	end = rel + s.payload_len;
	first = after_eq(rel, fs->high_end);

	if (cfg->spec.kind == TLSHIM_DROP_RANDOM || cfg->spec.kind == TLSHIM_DROP_NTH) {
		if (tlshim_drop_by_index(&cfg->spec, index)) {
			v.drop = 1;
			v.reason = cfg->spec.kind;
		}
	} else if (fs->walker == TLSLOSS_WALKER_ON && !after_eq(fs->high_end, end)) {
		if (rel != fs->high_end && first)
			walker_stop(fs, st, TLSLOSS_WALKER_GAP);
		else
			walk(skb, &s, &cfg->spec, fs, st, rel, end, first, index, &v);
	}
	if (!after_eq(fs->high_end, end))
		fs->high_end = end;
	if (!v.drop)
		return TC_ACT_UNSPEC;
	fs->dropped++;
	log_drop(&s, fs, skb, __sync_fetch_and_add(&st->dropped, 1) + 1, index, &v);
	return TC_ACT_STOLEN;
}
