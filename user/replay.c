// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tlshim replay FILE: a capture through the device's own BPF programs
 * (bpf_prog_test_run_opts), in capture order, on a private copy of the
 * device (nothing pinned, no interface touched).  Connections come from
 * --conn (conn add's syntax) or --auto (replay_auto.h); the loader's own
 * install and resync code plays the driver and the kernel, with the truth
 * about record starts taken from the capture itself (replay_stream.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "capture.h"
#include "drop_spec.h"
#include "install.h"
#include "replay_auto.h"
#include "replay_frame.h"
#include "replay_stream.h"
#include "resync.h"
#include "seg_json.h"
#include "replay.h"
#include "tlshim.skel.h"

static void replay_usage(FILE *f)
{
	fprintf(f,
		"Usage: tlshim replay FILE (--conn SPEC ... | --auto [--local ADDR ...]) [--check]\n"
		"                     [--resync POLICY] [--drop SPEC ...] [--verdicts FILE.jsonl] [-j]\n"
		"\n"
		"Feeds a capture (pcap or pcapng; Ethernet, Linux cooked SLL/SLL2) through the\n"
		"device's BPF programs on a private copy of the device: no pin, no interface\n"
		"touched.  Packets of tx connections go through the transmit side (tc), all\n"
		"others through the receive side (XDP), in capture order.\n"
		"--conn SPEC   one connection, quoted, as for conn add:\n"
		"              'rx|tx SADDR:PORT DADDR:PORT --tcp-seq N [--rec-seq M] [--version V]\n"
		"              [--cipher C] [--resync POLICY]'; repeatable\n"
		"--auto        install every TLS connection found (ClientHello/ServerHello) at\n"
		"              each direction's first application-data record\n"
		"--local ADDR  streams sent from ADDR are tx, streams to ADDR rx (default:\n"
		"              every stream rx); repeatable\n"
		"--resync P    policy of --auto installs (default stream-scan)\n"
		"--drop SPEC   loss injected into the installed connections' data segments\n"
		"              (random:PCT[,seed=S], nth:N[,seed=S], header:K[,K..], body:K[,K..],\n"
		"              any with ,from=I); a dropped segment is not fed; repeatable\n"
		"--verdicts F  one JSON line per TCP packet of an installed connection\n"
		"--check       read and check the capture, print what --auto/--conn would\n"
		"              install (conn add syntax), load nothing\n"
		"-j, --json    counters as `tlshim stats -j` (first line), then one JSON line per\n"
		"              connection\n"
		"Resync requests are answered as `tlshim run` would, from the record starts\n"
		"found by reassembling the capture (all published before the first packet).\n");
}

static bool flow_eq(const struct tlshim_flow *a, const struct tlshim_flow *b)
{
	return !memcmp(a->saddr, b->saddr, 16) && !memcmp(a->daddr, b->daddr, 16) &&
	       a->sport == b->sport && a->dport == b->dport;
}

/* The installed connection whose data packets these are, or NULL. */
static struct rconn *conn_of(struct replay *r, const struct replay_frame *f)
{
	struct tlshim_flow k;

	memcpy(k.saddr, f->saddr, 16);
	memcpy(k.daddr, f->daddr, 16);
	k.sport = f->sport;
	k.dport = f->dport;
	for (int i = 0; i < r->nconns; i++)
		if (flow_eq(&r->conns[i].spec.flow, &k))
			return &r->conns[i];
	return NULL;
}

static void parse_conn_arg(struct replay *r, const char *text)
{
	char *copy = strdup(text), *save, *w;
	char *words[32];
	int n = 0;
	struct rconn *c;

	if (!copy)
		fail(EXIT_FAIL, "out of memory");
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == 32)
			usage_error("conn", "'%s': too many words", text);
		words[n++] = w;
	}
	if (r->nconns == REPLAY_MAX_CONNS)
		usage_error("conn", "more than %d connections", REPLAY_MAX_CONNS);
	c = &r->conns[r->nconns];
	memset(c, 0, sizeof(*c));
	if (!conn_spec_parse(n, words, &c->spec, "replay --conn"))
		usage_error("conn", "'%s': --help is not a connection", text);
	for (int i = 0; i < r->nconns; i++)
		if (flow_eq(&r->conns[i].spec.flow, &c->spec.flow))
			usage_error("conn", "'%s': that flow is given twice", text);
	r->nconns++;
	/* The words may hold --key/--iv/--salt: parsed into spec.crypto
	 * (zeroed after the install), never kept here. */
	memset(copy, 0, strlen(text));
	free(copy);
}

static bool parse_addr(const char *s, uint8_t out[16])
{
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return true;
	}
	return inet_pton(AF_INET6, s, out) == 1;
}

/* ---- the private device ---- */

static void device_open(struct replay *r, uint8_t policy)
{
	struct bpf_map *map;
	struct tlshim_config cfg = {
		.initialized = 1,
		.decrypted_mark = TLSHIM_DEFAULT_MARK,
		.max_conns = TLSHIM_DEFAULT_CAPACITY,
		.flags = TLSHIM_CFG_TRACE,
		.resync_headers = TLSHIM_DEFAULT_RESYNC_HEADERS,
		.resync_timeout_records = TLSHIM_DEFAULT_RESYNC_TIMEOUT,
		.resync_policy = policy,
	};
	__u32 zero = 0;
	int err;

	r->skel = tlshim_bpf__open();
	if (!r->skel)
		fail(EXIT_FAIL, "cannot open the embedded BPF object: %s", strerror(errno));
	/* Private: no map is pinned or reused, so a live device (pinned by
	 * name) is never touched and nothing outlives this process. */
	bpf_object__for_each_map(map, r->skel->obj)
		if (bpf_map__set_pin_path(map, NULL))
			fail(EXIT_FAIL, "cannot unpin map %s", bpf_map__name(map));
	err = tlshim_bpf__load(r->skel);
	if (err)
		fail(EXIT_FAIL, "cannot load the BPF programs: %s", strerror(-err));
	r->m.conns = bpf_map__fd(r->skel->maps.tlshim_conns);
	r->m.keys = bpf_map__fd(r->skel->maps.tlshim_keys);
	r->m.sw_conns = bpf_map__fd(r->skel->maps.tlshim_sw_conns);
	r->m.config = bpf_map__fd(r->skel->maps.tlshim_config);
	r->m.stats = bpf_map__fd(r->skel->maps.tlshim_stats);
	r->m.device = bpf_map__fd(r->skel->maps.tlshim_device);
	r->m.rec_log = bpf_map__fd(r->skel->maps.tlshim_rec_log);
	r->m.resync_resp = bpf_map__fd(r->skel->maps.tlshim_resync_resp);
	r->m.events = bpf_map__fd(r->skel->maps.tlshim_events);
	r->m.tx_conns = bpf_map__fd(r->skel->maps.tlshim_tx_conns);
	if (bpf_map_update_elem(r->m.config, &zero, &cfg, BPF_ANY))
		fail(EXIT_FAIL, "cannot write the private config: %s", strerror(errno));
	/* The control lock serialises tlshim processes on one device; this
	 * device is ours alone, so its lock lives in a private directory. */
	snprintf(r->run_dir, sizeof(r->run_dir), "/tmp/tlshim-replay-XXXXXX");
	if (!mkdtemp(r->run_dir))
		fail(EXIT_FAIL, "cannot create a private run directory: %s", strerror(errno));
	setenv("TLSHIM_RUN_DIR", r->run_dir, 1);
}

static void device_close(struct replay *r)
{
	char path[128];

	resync_service_close(r->svc);
	r->svc = NULL;
	if (r->skel)
		tlshim_bpf__destroy(r->skel);
	r->skel = NULL;
	if (r->run_dir[0]) {
		snprintf(path, sizeof(path), "%s/lock", r->run_dir);
		unlink(path);
		rmdir(r->run_dir);
	}
}

static void on_event(void *ctx, const struct tlshim_event *ev)
{
	struct replay *r = ctx;

	if (r->nevents < REPLAY_MAX_EVENTS)
		r->events[r->nevents++] = *ev;
}

/* Truth for c: every record of the chain from its install point, numbered
 * from its --rec-seq, written into the private tlshim_rec_log. */
static void publish_truth(struct replay *r, struct rconn *c)
{
	struct rrec *recs;
	size_t n;
	uint32_t from;

	if (!c->stream || !c->stream->have_base)
		return;
	from = c->spec.tcp_seq - c->stream->base;
	if ((int32_t)from < 0)
		return;
	recs = rstream_chain(c->stream, from, &n);
	for (size_t k = 0; k < n; k++) {
		struct tlshim_rec_key key = { .flow = c->spec.flow, .tcp_seq = c->stream->base + recs[k].rel };
		struct tlshim_rec_val val = {
			.rec_sn = c->spec.rec_seq + k, .rec_len = recs[k].len, .added_ns = now_monotonic_ns(),
		};

		if (bpf_map_update_elem(r->m.rec_log, &key, &val, BPF_ANY))
			fail(EXIT_FAIL, "cannot write tlshim_rec_log: %s", strerror(errno));
	}
	c->truth_records = n;
	replay_records_init(c, recs, n);
	free(recs);
}

/* ---- one packet ---- */

static int run_prog(int fd, const uint8_t *frame, uint32_t len, bool xdp, struct tlshim_rx_meta *meta,
		    bool *has_meta)
{
	uint8_t out[REPLAY_MAX_FRAME + 256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	*has_meta = false;
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	/* XDP's test run copies out from data_meta: the descriptor first. */
	if (xdp && opts.data_size_out == len + sizeof(*meta)) {
		memcpy(meta, out, sizeof(*meta));
		*has_meta = meta->magic == TLSHIM_META_MAGIC;
	}
	return 0;
}

static uint64_t widen_sn(uint64_t near, uint32_t low)
{
	uint64_t v = (near & ~0xffffffffull) | low;

	if ((int64_t)(v - near) > (int64_t)0x80000000ll)
		v -= 1ull << 32;
	else if ((int64_t)(near - v) > (int64_t)0x80000000ll)
		v += 1ull << 32;
	return v;
}

static void replay_packet(struct replay *r, const struct pkt *p, FILE *verdicts)
{
	const struct replay_frame *f = &p->f;
	struct rconn *c = f->tcp ? conn_of(r, f) : NULL;
	bool tx = c && c->spec.flow.dir == TLSHIM_DIR_TX;
	struct tlshim_conn pre = {}, post = {};
	struct tlshim_tx_conn *txpre = NULL, *txpost = NULL;
	const struct tlshim_stream *st_pre, *st_post;
	struct tlshim_rx_meta meta;
	const struct tlshim_event *seg = NULL;
	bool has_meta, requested = false;
	struct seg_line l;
	const uint8_t *pl = f->eth + f->payload_off;
	int err;

	/* Frames no test run takes (shorter than Ethernet, larger than a
	 * page) cannot belong to an installed connection (checked up front):
	 * they pass the device untouched anyway. */
	if (f->eth_len < ETH_HDR_LEN || f->eth_len > REPLAY_MAX_FRAME)
		return;
	if (c && replay_drop_decide(r, c, f)) {
		c->packets++;
		c->injected++;
		if (verdicts) {
			memset(&l, 0, sizeof(l));
			l.index = p->cap.index;
			l.ts_ns = p->cap.ts_ns;
			l.flow = c->spec.flow;
			l.seq = f->seq;
			l.len = f->payload_len;
			l.verdict = "dropped";
			l.reason = "injected";
			l.headers_known = 1;
			l.injected = true;
			bpf_map_lookup_elem_flags(r->m.conns, &c->spec.flow, &pre, BPF_F_LOCK);
			if (tx && (txpre = tx_conn_read(&r->m, &c->spec.flow)))
				l.state = sync_name(txpre->parser.sync);
			else
				l.state = sync_name(pre.st.sync);
			if (tx)
				l.tx_verdict = "injected";
			seg_json_write(verdicts, &l);
			free(txpre);
		}
		return;
	}
	if (c) {
		bpf_map_lookup_elem_flags(r->m.conns, &c->spec.flow, &pre, BPF_F_LOCK);
		if (tx)
			txpre = tx_conn_read(&r->m, &c->spec.flow);
	}
	r->nevents = 0;
	err = run_prog(bpf_program__fd(tx ? r->skel->progs.tlshim_tx : r->skel->progs.tlshim_rx),
		       f->eth, f->eth_len, !tx, &meta, &has_meta);
	if (err)
		fail(EXIT_FAIL, "packet %llu: test run of %s failed: %s", (unsigned long long)p->cap.index,
		     tx ? "tlshim_tx" : "tlshim_rx", strerror(-err));
	/* The kernel's half, between packets, as `tlshim run` does it. */
	err = resync_service_poll(r->svc, 0);
	if (err < 0)
		fail(EXIT_FAIL, "resync service: %s", strerror(-err));
	if (!c)
		return;
	c->packets++;
	if (!tx)
		replay_records_packet(c, f->seq, f->payload_len,
				      has_meta && meta.verdict == TLSHIM_VERDICT_DECRYPTED);
	bpf_map_lookup_elem_flags(r->m.conns, &c->spec.flow, &post, BPF_F_LOCK);
	if (tx)
		txpost = tx_conn_read(&r->m, &c->spec.flow);
	for (int i = 0; i < r->nevents; i++) {
		const struct tlshim_event *ev = &r->events[i];

		if (!flow_eq(&ev->flow, &c->spec.flow) || ev->flow.dir != c->spec.flow.dir)
			continue;
		if (ev->type == TLSHIM_EV_SEGMENT && ev->seq == f->seq)
			seg = ev;
		else if (ev->type == TLSHIM_EV_RESYNC_REQ || ev->type == TLSHIM_EV_ASYNC_START ||
			 ev->type == TLSHIM_EV_ASYNC_END)
			requested = true;
	}
	if (!verdicts)
		goto out;
	if (seg) {
		seg_line_from_event(&l, seg);
	} else {
		/* No payload: no event.  What the descriptor (rx) says. */
		memset(&l, 0, sizeof(l));
		l.flow = c->spec.flow;
		l.seq = f->seq;
		l.len = f->payload_len;
		l.verdict = "passed";
		l.reason = "no-payload";
		if (tx) {
			l.tx_verdict = "no-payload";
			l.state = sync_name(txpost ? txpost->parser.sync : 0);
		} else {
			l.state = sync_name(has_meta ? meta.sync : post.st.sync);
			l.nheaders = has_meta ? meta.headers : 0;
		}
	}
	l.index = p->cap.index;
	l.ts_ns = p->cap.ts_ns;
	st_pre = tx ? (txpre ? &txpre->parser : NULL) : &pre.st;
	st_post = tx ? (txpost ? &txpost->parser : NULL) : &post.st;
	if (!tx) {
		if (has_meta && seg && (meta.verdict != seg->verdict || meta.headers != seg->headers))
			fprintf(stderr, "tlshim: packet %llu: descriptor and trace event disagree\n",
				(unsigned long long)p->cap.index);
		/* The event and the descriptor carry 32 bits of rec_sn. */
		l.rec_sn = widen_sn(pre.st.rec_sn, (uint32_t)l.rec_sn);
		if (post.stats.resync_confirmed > pre.stats.resync_confirmed)
			l.resync = "confirmed";
		else if (requested || post.stats.resync_requests > pre.stats.resync_requests)
			l.resync = "request";
		else
			l.resync = NULL;
	}
	l.headers_known = 1;
	if (st_pre && st_post)
		l.nlisted = replay_headers_of(st_pre, st_post, f->seq, pl, f->payload_len, l.nheaders, l.headers);
	seg_json_write(verdicts, &l);
out:
	free(txpre);
	free(txpost);
}

/* ---- the command ---- */

int cmd_replay(int argc, char **argv)
{
	static struct replay r;
	struct capture cap;
	struct pkt *pkts = NULL;
	size_t npkts = 0, cap_pkts = 0;
	struct rstream_set streams = {};
	struct local_addrs local = {};
	const char *file = NULL, *verdicts_path = NULL;
	bool want_auto = false, json = false, policy_given = false, check = false;
	uint8_t policy = TLSHIM_RESYNC_STREAM_SCAN;
	FILE *verdicts = NULL;
	char err[256];
	int rc;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			replay_usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--auto")) {
			want_auto = true;
		} else if (!strcmp(a, "--check")) {
			check = true;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--conn") || !strcmp(a, "--local") || !strcmp(a, "--resync") ||
			   !strcmp(a, "--drop") || !strcmp(a, "--verdicts")) {
			if (!v)
				usage_error(a + 2, "%s needs a value", a);
			i++;
			if (!strcmp(a, "--conn")) {
				parse_conn_arg(&r, v);
			} else if (!strcmp(a, "--local")) {
				if (local.n == 16)
					usage_error("local", "at most 16 addresses");
				if (!parse_addr(v, local.addr[local.n++]))
					usage_error("local", "'%s' (an IPv4 or IPv6 address)", v);
			} else if (!strcmp(a, "--resync")) {
				if (policy_given)
					usage_error("resync", "--resync given twice");
				if (!parse_policy(v, &policy))
					usage_error("resync", "'%s' (use stream-scan, async, next-hint or none)", v);
				policy_given = true;
			} else if (!strcmp(a, "--drop")) {
				if (r.ndrops == REPLAY_MAX_DROPS)
					usage_error("drop", "at most %d --drop specs", REPLAY_MAX_DROPS);
				if (drop_spec_parse(v, &r.drops[r.ndrops], err, sizeof(err)))
					usage_error("drop", "%s", err);
				r.ndrops++;
			} else {
				if (verdicts_path)
					usage_error("verdicts", "--verdicts given twice");
				verdicts_path = v;
			}
		} else if (a[0] == '-' && a[1]) {
			usage_error("option", "unknown option '%s' for replay (see --help)", a);
		} else if (file) {
			usage_error("argument", "unexpected '%s' (one capture file)", a);
		} else {
			file = a;
		}
	}
	if (!file)
		usage_error("arguments", "expected a capture file (see tlshim replay --help)");
	if (!r.nconns && !want_auto && !check)
		usage_error("arguments", "need --conn SPEC or --auto (see tlshim replay --help)");
	if (local.n && !want_auto)
		usage_error("local", "only applies to --auto");

	/* The whole capture first: bad input is refused before any output. */
	if (capture_open(file, &cap, err, sizeof(err)))
		usage_error(file, "%s", err);
	for (;;) {
		struct pkt *p;

		if (npkts == cap_pkts) {
			size_t c2 = cap_pkts ? cap_pkts * 2 : 1024;
			struct pkt *grown = realloc(pkts, c2 * sizeof(*grown));

			if (!grown)
				fail(EXIT_FAIL, "out of memory");
			pkts = grown;
			cap_pkts = c2;
		}
		p = &pkts[npkts];
		rc = capture_next(&cap, &p->cap, err, sizeof(err));
		if (rc < 0)
			usage_error(file, "%s", err);
		if (rc == 0)
			break;
		if (replay_frame_decode(&p->cap, &p->f, err, sizeof(err)))
			usage_error(file, "packet %llu: %s", (unsigned long long)p->cap.index, err);
		npkts++;
	}
	/* Streams: offset 0 first (a SYN, or the lowest seq), then the bytes. */
	for (size_t i = 0; i < npkts; i++) {
		struct replay_frame *f = &pkts[i].f;
		struct rstream *s;

		if (!f->tcp)
			continue;
		s = rstream_get(&streams, f->saddr, f->daddr, f->sport, f->dport, true);
		if (!s)
			fail(EXIT_FAIL, "out of memory");
		rstream_note(s, f->flags, f->seq, f->payload_len);
	}
	for (size_t i = 0; i < npkts; i++) {
		struct replay_frame *f = &pkts[i].f;
		struct rstream *s;

		if (!f->tcp || !f->payload_len || f->cut)
			continue;
		s = rstream_get(&streams, f->saddr, f->daddr, f->sport, f->dport, false);
		if (rstream_add(s, pkts[i].cap.index, f->seq, f->eth + f->payload_off, f->payload_len))
			fail(EXIT_FAIL, "out of memory");
	}
	if (want_auto) {
		struct auto_conn found[REPLAY_MAX_CONNS];
		size_t n = replay_auto_find(&streams, &local, found, REPLAY_MAX_CONNS, stderr);

		for (size_t i = 0; i < n; i++) {
			struct rconn *c;
			bool dup = false;

			for (int k = 0; k < r.nconns; k++)
				dup |= flow_eq(&r.conns[k].spec.flow, &found[i].flow);
			if (dup || r.nconns == REPLAY_MAX_CONNS)
				continue;
			c = &r.conns[r.nconns++];
			memset(c, 0, sizeof(*c));
			c->spec.flow = found[i].flow;
			c->spec.version = found[i].version;
			c->spec.cipher = found[i].cipher;
			c->spec.tcp_seq = found[i].tcp_seq;
			c->spec.rec_seq = found[i].rec_sn;
			c->spec.policy = policy;
			c->is_auto = true;
			c->relative = found[i].relative;
		}
		if (!n)
			fprintf(stderr, "tlshim: no TLS connection found in %s\n", file);
	}
	for (int i = 0; i < r.nconns; i++) {
		struct rconn *c = &r.conns[i];
		const struct tlshim_flow *fl = &c->spec.flow;

		c->stream = rstream_get(&streams, fl->saddr, fl->daddr, fl->sport, fl->dport, false);
		if (c->stream && r.ndrops)
			c->stream_recs = rstream_chain(c->stream, 0, &c->nstream_recs);
	}
	/* A packet of an installed connection the capture cut short cannot be
	 * judged as the device would have; one larger than a test run takes
	 * (a GRO/GSO super-packet) neither. */
	for (size_t i = 0; i < npkts; i++) {
		if (pkts[i].f.tcp && pkts[i].f.eth_len > REPLAY_MAX_FRAME && conn_of(&r, &pkts[i].f))
			usage_error(file, "packet %llu: frame of %u bytes, more than the %u a test run "
				    "takes (capture with GRO, GSO and TSO off)",
				    (unsigned long long)pkts[i].cap.index, pkts[i].f.eth_len, REPLAY_MAX_FRAME);
		if (pkts[i].f.tcp && pkts[i].f.cut && conn_of(&r, &pkts[i].f))
			usage_error(file, "packet %llu: payload cut by the capture (caplen %u < wire "
				    "length %u): capture with snaplen 0 (tcpdump -s 0)",
				    (unsigned long long)pkts[i].cap.index, pkts[i].cap.caplen,
				    pkts[i].cap.origlen);
	}
	if (check) {
		size_t ntcp = 0;

		for (size_t i = 0; i < npkts; i++)
			ntcp += pkts[i].f.tcp;
		printf("%s: %zu packets, %zu TCP, %zu TCP streams\n", file, npkts, ntcp, streams.n);
		for (int i = 0; i < r.nconns; i++) {
			char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];
			struct rconn *c = &r.conns[i];

			format_endpoint(src, c->spec.flow.saddr, c->spec.flow.sport);
			format_endpoint(dst, c->spec.flow.daddr, c->spec.flow.dport);
			printf("%s %s %s --tcp-seq %u --rec-seq %llu --version %s --cipher %s%s\n",
			       dir_name(c->spec.flow.dir), src, dst, c->spec.tcp_seq,
			       (unsigned long long)c->spec.rec_seq, version_name(c->spec.version),
			       cipher_name(c->spec.cipher), c->relative ? "  (rec-seq relative)" : "");
		}
		goto done;
	}
	if (verdicts_path) {
		verdicts = fopen(verdicts_path, "w");
		if (!verdicts)
			usage_error("verdicts", "%s: %s", verdicts_path, strerror(errno));
	}

	device_open(&r, policy);
	for (int i = 0; i < r.nconns; i++) {
		struct rconn *c = &r.conns[i];
		enum install_result res;

		res = device_install(&r.m, &c->spec.flow, c->spec.version, c->spec.cipher,
				     c->spec.tcp_seq, c->spec.rec_seq,
				     c->spec.policy >= 0 ? c->spec.policy : policy,
				     c->spec.enforce_drops, &c->spec.crypto, NULL);
		memset(&c->spec.crypto, 0, sizeof(c->spec.crypto));
		if (res != INSTALL_OK)
			fail(EXIT_FAIL, "installing connection %d on the private device failed (%d)", i, res);
		publish_truth(&r, c);
	}
	r.svc = resync_service_open(&r.m);
	if (!r.svc)
		fail(EXIT_FAIL, "resync service: %s", strerror(errno));
	resync_service_observe(r.svc, on_event, &r);

	for (size_t i = 0; i < npkts; i++)
		replay_packet(&r, &pkts[i], verdicts);

	stats_print(&r.m, json);
	if (!json && r.nconns)
		printf("connections:\n");
	replay_summary(&r, json);
	if (!r.nconns && !json)
		printf("no TLS connection installed: nothing judged\n");
	if (verdicts && fclose(verdicts))
		fail(EXIT_FAIL, "writing %s: %s", verdicts_path, strerror(errno));
	device_close(&r);
done:
	for (size_t i = 0; i < npkts; i++)
		replay_frame_free(&pkts[i].f);
	for (int i = 0; i < r.nconns; i++) {
		free(r.conns[i].stream_recs);
		replay_records_free(&r.conns[i]);
	}
	free(pkts);
	rstream_set_free(&streams);
	capture_close(&cap);
	return EXIT_OK;
}
