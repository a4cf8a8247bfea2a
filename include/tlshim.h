/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tlshim.h - the contract between the modelled device (BPF, bpf/) and the
 * driver/kernel half (userspace, user/).
 *
 * Plain C types only: this header is compiled both by clang -target bpf and by
 * the host compiler.  Every struct here is a map key or value, so its field
 * names are what `bpftool map dump` shows: name them for the reader.
 */
#ifndef TLSHIM_H
#define TLSHIM_H

#include <linux/types.h>
#include <linux/bpf.h>		/* struct bpf_spin_lock */

/* Where ip(8) and tc(8) pin maps declared with LIBBPF_PIN_BY_NAME; the loader
 * pins to the same place so an ip/tc load and `tlshim` share every map. */
#define TLSHIM_PIN_DIR		"/sys/fs/bpf/tc/globals"

/* Compiled size of the connection table (both directions together).  The
 * device capacity users configure (tlshim_config.max_conns) must fit in it. */
#define TLSHIM_MAX_CONNS	1048576
#define TLSHIM_DEFAULT_CAPACITY	65536
/* Connections refused by a full device, tracked so that the TlsCurr*Sw gauges
 * and `conn list` can show them; LRU because their sockets close unseen. */
#define TLSHIM_MAX_SW_CONNS	65536

/* Default skb->mark bit set on segments the device decrypted: the stand-in
 * for skb->decrypted, which a BPF program cannot set. */
#define TLSHIM_DEFAULT_MARK	0x00100000u

#define TLS_HEADER_SIZE		5
#define TLS_MAX_PAYLOAD_SIZE	16384	/* 2^14, RFC 8446 5.1 */
#define TLS_WIRE_VERSION	0x0303	/* record version for TLS 1.2 and 1.3 alike */

/* Content types a record header may carry (RFC 5246 6.2.1, RFC 8446 5.1). */
#define TLS_CT_CHANGE_CIPHER_SPEC	20
#define TLS_CT_ALERT			21
#define TLS_CT_HANDSHAKE		22
#define TLS_CT_APPLICATION_DATA		23

/* Values of tlshim_crypto.cipher: the uapi TLS_CIPHER_* numbers. */
#define TLSHIM_CIPHER_AES_GCM_128	51
#define TLSHIM_CIPHER_AES_GCM_256	52
#define TLSHIM_CIPHER_CHACHA20_POLY1305	54

/* Values of tlshim_crypto.version: the uapi TLS_1_x_VERSION numbers. */
#define TLSHIM_TLS_1_2		0x0303
#define TLSHIM_TLS_1_3		0x0304

enum __attribute__((packed)) tlshim_dir {
	TLSHIM_DIR_RX = 0,	/* records the peer sends us: XDP decrypts */
	TLSHIM_DIR_TX = 1,	/* records we send: TC egress encrypts */
};

/*
 * Connection table key.  Named the way the direction's data packets travel:
 * saddr/sport is the packet source (the peer for rx, this host for tx).
 * IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d) so one table holds
 * both families.  Ports in network byte order, as on the wire.
 */
struct tlshim_flow {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	enum tlshim_dir dir;	/* one byte: packed enum, named in bpftool dumps */
	__u8 pad[3];
};

enum __attribute__((packed)) tlshim_sync {
	TLSHIM_SYNC_NONE = 0,		/* never installed (zeroed value) */
	TLSHIM_SYNC_IN_SYNC = 1,	/* record boundaries known: decrypting */
	TLSHIM_SYNC_LOST = 2,		/* stream lost: passing, not yet scanning */
	TLSHIM_SYNC_SCANNING = 3,	/* looking for a header pattern */
	TLSHIM_SYNC_TRACKING = 4,	/* following the length chain of a guess */
	TLSHIM_SYNC_REQUESTED = 5,	/* asked the kernel; counting records meanwhile */
};

/*
 * RX resync (tls-offload.rst "Resync handling", enum tls_offload_sync_type).
 * A per-connection policy says how the device finds a lost stream again.
 */
enum __attribute__((packed)) tlshim_resync_policy {
	TLSHIM_RESYNC_STREAM_SCAN = 0,	/* DRIVER_REQ: scan, chain, request (nfp) */
	TLSHIM_RESYNC_ASYNC = 1,	/* DRIVER_REQ_ASYNC: start/end request (mlx5) */
	TLSHIM_RESYNC_NEXT_HINT = 2,	/* CORE_NEXT_HINT: the kernel tells (nfp w/o scan) */
	TLSHIM_RESYNC_NONE = 3,		/* never resync: the foundation's behaviour */
};

/* Why the device last lost the stream (tlshim_rx_state.lost_reason). */
enum __attribute__((packed)) tlshim_loss {
	TLSHIM_LOSS_NONE = 0,
	TLSHIM_LOSS_GAP = 1,		/* a segment beyond the expected seq */
	TLSHIM_LOSS_BAD_HEADER = 2,	/* a record header the kernel would reject */
};

/*
 * The device's stream state for one connection and direction: what
 * tls-offload.rst "Normal operation" says the device keeps (record metadata,
 * expected TCP sequence number, partial header), minus the crypto
 * processing state a model has no use for.  Key material is not here: it
 * lives in tlshim_keys, readable by root only.
 */
struct tlshim_stream {
	__u32 expected_seq;	/* next TCP seq the device expects */
	__u32 rec_start_seq;	/* TCP seq of the current record's first header byte */
	__u32 rec_len;		/* header + length field; 0 until the header is complete */
	__u32 rec_offset;	/* bytes of the current record seen so far */
	__u64 rec_sn;		/* TLS record number of the current record */
	__u8 hdr_part[4];	/* header bytes seen while rec_offset < 5 (split header) */
	enum tlshim_sync sync;
	enum tlshim_loss lost_reason;
	__u8 rec_ok;		/* the device parsed the current record's start and
				 * lost none of its bytes: once in sync (or confirmed)
				 * the record can be decrypted */
	enum tlshim_resync_policy policy;
	__u32 lost_at_seq;	/* where the stream was lost: expected_seq before a
				 * gap, or the first byte of a rejected header */
	__u32 lost_seen_seq;	/* seq of the segment that revealed the loss */
	/* Record header limits for this cipher and version, as the kernel's
	 * tls_rx_msg_size() checks them: overhead <= length <= 2^14 + overhead. */
	__u16 rec_min_len;
	__u16 rec_max_len;
	/* Resync.  While TRACKING/REQUESTED rec_sn counts records since the
	 * guessed one (which is record 0); the kernel's answer adds its number. */
	__u32 resync_seq;	/* first byte of the guessed header */
	__u32 scan_from_seq;	/* scanning starts one max-size record past the loss */
	__u16 chain;		/* headers verified since the guess, the guess included */
	__u16 pad;
	__u64 lost_since_ns;	/* when the stream was lost (bpf_ktime_get_ns) */
};

/* Per-connection counters, updated with the stream state. */
struct tlshim_conn_stats {
	__u64 decrypted_packets;	/* rx: decrypted; tx: encrypted */
	__u64 decrypted_bytes;		/* TCP payload bytes of those */
	__u64 passed_packets;		/* segments passed as received */
	__u64 old_packets;		/* of those, wholly before expected_seq */
	__u64 records;			/* record headers parsed */
	__u64 lost_sync;		/* times the stream was lost */
	__u64 header_errors;		/* invalid record headers */
	__u64 retries;			/* commits redone after a concurrent update */
	__u64 resync_requests;		/* requests sent (stream-scan) or ended (async) */
	__u64 resync_confirmed;		/* answers applied: back in sync */
	__u64 resync_abandoned;		/* requests given up (no answer, or the chain broke) */
	__u64 resync_stale;		/* answers that no longer matched */
	__u64 out_of_sync_ns;		/* time lost, summed at each resync */
	__u64 unsynced_packets;		/* segments passed while not in sync */
	__u64 unsynced_bytes;		/* their TCP payload bytes */
};

/* Value of tlshim_conns. */
struct tlshim_conn {
	struct bpf_spin_lock lock;	/* guards everything below */
	__u32 generation;		/* bumped by every state change */
	struct tlshim_stream st;
	struct tlshim_conn_stats stats;
	/* As installed (tls_dev_add): where record start_rec_sn begins. */
	__u32 start_seq;
	__u16 tls_version;		/* TLSHIM_TLS_1_x */
	__u16 cipher;			/* TLSHIM_CIPHER_* */
	__u64 start_rec_sn;
	__u64 installed_ns;		/* CLOCK_MONOTONIC */
};

/* Header limits per tls_rx_msg_size() (net/tls/tls_sw.c): the length field
 * must cover the cipher overhead (tag, plus the 8-byte explicit nonce for
 * TLS 1.2 AES-GCM) and be at most 2^14 + that overhead + TLS 1.3's inner
 * content-type byte. */
static inline __u16 tlshim_rec_min_len(__u16 version, __u16 cipher)
{
	if (version == TLSHIM_TLS_1_2 && cipher != TLSHIM_CIPHER_CHACHA20_POLY1305)
		return 16 + 8;
	return 16;
}

static inline __u16 tlshim_rec_max_len(__u16 version, __u16 cipher)
{
	return TLS_MAX_PAYLOAD_SIZE + tlshim_rec_min_len(version, cipher) +
	       (version == TLSHIM_TLS_1_3 ? 1 : 0);
}

/* What tls_dev_add sets up: the record numbered start_rec_sn begins at TCP
 * seq start_seq, and the device is in sync there.  Used by the loader and
 * by the tests that install connections directly. */
static inline void tlshim_conn_init(struct tlshim_conn *c, __u16 version,
				    __u16 cipher, __u32 start_seq,
				    __u64 start_rec_sn, __u64 now_ns)
{
	__builtin_memset(c, 0, sizeof(*c));
	c->st.expected_seq = start_seq;
	c->st.rec_start_seq = start_seq;
	c->st.rec_sn = start_rec_sn;
	c->st.sync = TLSHIM_SYNC_IN_SYNC;
	c->st.rec_min_len = tlshim_rec_min_len(version, cipher);
	c->st.rec_max_len = tlshim_rec_max_len(version, cipher);
	c->st.rec_ok = 1;
	c->start_seq = start_seq;
	c->start_rec_sn = start_rec_sn;
	c->tls_version = version;
	c->cipher = cipher;
	c->installed_ns = now_ns;
}

/*
 * Truth about record starts, as the TLS endpoint (or the kernel's software
 * parser) knows it: (flow, TCP seq of a record header) -> record number.
 * Filled by whoever knows (tlsgen, the kTLS oracle, tests, pcap replay);
 * read by the loader to answer the device's resync requests.
 */
struct tlshim_rec_key {
	struct tlshim_flow flow;
	__u32 tcp_seq;		/* first byte of the record header */
	__u32 pad;
};

struct tlshim_rec_val {
	__u64 rec_sn;
	__u32 rec_len;		/* header + length field, 0 if unknown */
	__u32 pad;
	__u64 added_ns;		/* CLOCK_MONOTONIC, for ageing and latency */
};

#define TLSHIM_REC_LOG_ENTRIES	262144

/*
 * The kernel's answer to a resync request (tls_dev_resync), written by the
 * loader into tlshim_resync_resp and applied by the device at the flow's
 * next segment.  A separate map, not the flow's state: the loader never
 * races the data path's commits.
 */
struct tlshim_resync_resp {
	__u32 tcp_seq;		/* the seq the answer is about (see the request) */
	__u32 kind;		/* enum tlshim_event_type of the request answered */
	__u64 rec_sn;		/* record number of the record at tcp_seq */
	__u64 written_ns;	/* CLOCK_MONOTONIC, for the round-trip latency */
};

/* Events from the device to the loader: one BPF ring buffer, tlshim_events. */
enum tlshim_event_type {
	TLSHIM_EV_RESYNC_REQ = 1,	/* stream-scan: seq = last byte of the guessed header */
	TLSHIM_EV_ASYNC_START = 2,	/* async: seq = packet seq, len = payload length */
	TLSHIM_EV_ASYNC_END = 3,	/* async: seq = header start the device tracked */
	TLSHIM_EV_RECORD = 4,		/* next-hint: a record ended; flags say how it arrived */
	TLSHIM_EV_SEGMENT = 5,		/* tracing: one segment's verdict */
};

#define TLSHIM_EVF_DECRYPTED	0x1	/* EV_RECORD: some byte of it was decrypted */
#define TLSHIM_EVF_ENCRYPTED	0x2	/* EV_RECORD: some byte of it was passed */
/* tlshim_event.resync of an rx EV_SEGMENT: the segment sent a resync
 * request (stream-scan request, async start or end), or applied the
 * kernel's answer and is back in sync. */
#define TLSHIM_EVS_REQUEST	0x1
#define TLSHIM_EVS_CONFIRMED	0x2

struct tlshim_event {
	__u32 type;		/* enum tlshim_event_type */
	__u32 seq;
	__u32 len;
	__u32 flags;		/* EV_SEGMENT: the flow's resync policy (tx: 0) */
	struct tlshim_flow flow;
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 rec_sn;
	__u8 verdict;		/* EV_SEGMENT: enum tlshim_verdict (tx: tlshim_tx_verdict) */
	__u8 reason;		/* EV_SEGMENT: enum tlshim_pass_reason (tx: tlshim_tx_drop_reason) */
	__u8 sync;		/* state after the segment */
	__u8 resync;		/* EV_SEGMENT, rx: TLSHIM_EVS_* (what this segment did) */
	__u16 headers;
	__u16 tx_dump_bytes;	/* EV_SEGMENT, tx: record bytes replayed before it
				 * (under a record: 2^14 + 256 + 5 at most) */
};

/* Value of tlshim_keys: crypto_info as tls_dev_add receives it. */
struct tlshim_crypto {
	struct bpf_spin_lock lock;	/* lets the loader zero it in place (BPF_F_LOCK) */
	__u16 version;
	__u16 cipher;
	__u8 key_len;
	__u8 iv_len;
	__u8 salt_len;
	__u8 pad;
	__u8 key[32];
	__u8 iv[12];
	__u8 salt[4];
	__u8 rec_seq[8];		/* big-endian, as in tls12_crypto_info_* */
};

/* Value of tlshim_sw_conns: installs refused because the device was full. */
struct tlshim_sw_conn {
	__u64 refused_ns;		/* CLOCK_MONOTONIC */
};

/*
 * ---- Transmit side (bpf/tx.h) -------------------------------------------
 *
 * The TX device model of tls-offload.rst ("TX" in normal operation and in
 * resync handling, "Transmission of pre-TLS data") as mlx5 implements it:
 * a segment at the expected seq is encrypted; any other is out of order
 * and the driver looks up the record holding its first byte in the
 * kernel's records_list (tls_get_record): found -> replay the record's
 * bytes from its start up to the segment (DUMP), encrypt the segment and
 * continue from its end; before the start marker -> send as is; otherwise
 * (straddles the marker, record ACKed and freed, or evicted here) -> drop.
 *
 * The stack hands the device framed records, so the device learns record
 * boundaries by walking the record headers of the bytes it sees leave; the
 * record log is the stand-in for records_list: the start seq of every
 * record the device saw complete and the peer has not yet ACKed.
 */

/*
 * The record log is a ring of TLSHIM_TX_LOG_SLOTS record starts; at most
 * TLSHIM_TX_LOG_MAX of them are live (`tlshim config set record-log N`
 * picks the capacity within it; 0 in tlshim_config means the default).
 * The slots beyond the live ones are where a walk writes the records it
 * finds before committing them (bpf/tx.h), so a walk logs at most
 * TLSHIM_TX_WALK_MAX_RECORDS records and never overwrites a live slot.  A
 * 64 KiB segment completes at most 2261 TLS 1.2 AES-GCM records (29 bytes
 * at least on the wire); only TLS 1.3 or ChaCha20 records of under 22
 * bytes can exceed the bound, and such a segment empties the log (its
 * records count as evicted).
 */
#define TLSHIM_TX_LOG_SLOTS	4096	/* a power of two: positions are masked */
#define TLSHIM_TX_LOG_MAX	1024
#define TLSHIM_TX_LOG_DEFAULT	TLSHIM_TX_LOG_MAX
#define TLSHIM_TX_WALK_MAX_RECORDS	(TLSHIM_TX_LOG_SLOTS - TLSHIM_TX_LOG_MAX)

/* What the device did with one TX segment (the per-packet TX verdict). */
enum __attribute__((packed)) tlshim_tx_verdict {
	TLSHIM_TX_NO_PAYLOAD = 0,	/* ACK, SYN, FIN: nothing to encrypt */
	TLSHIM_TX_ENCRYPTED = 1,	/* at the expected seq: encrypted */
	TLSHIM_TX_RESYNC = 2,		/* out of order, record found: its prefix
					 * replayed (mlx5 DUMP), then encrypted */
	TLSHIM_TX_SKIP = 3,		/* out of order, wholly before the start
					 * marker: pre-offload data, sent as is */
	TLSHIM_TX_DROP = 4,		/* out of order, no record state: a NIC drops it */
	TLSHIM_TX_UNTRACKED = 5,	/* the device lost the byte stream (a gap in
					 * what it saw, a bad header) or the state
					 * kept changing: passed unjudged */
};

/* Why a segment got TLSHIM_TX_DROP (all counted as tx_tls_drop_no_sync_data). */
enum __attribute__((packed)) tlshim_tx_drop_reason {
	TLSHIM_TX_DROP_NONE = 0,
	TLSHIM_TX_DROP_STRADDLE = 1,	/* starts before the start marker, ends after it */
	TLSHIM_TX_DROP_ACKED = 2,	/* its record (or the marker) was ACKed and freed */
	TLSHIM_TX_DROP_EVICTED = 3,	/* its record was evicted from a full log */
};

/* Per-connection TX counters. */
struct tlshim_tx_stats {
	__u64 encrypted_packets;	/* in order or after a replay (mlx5 counts both) */
	__u64 encrypted_bytes;
	__u64 ooo;			/* segments not at the expected seq */
	__u64 resync;			/* of those, resolved by a replay (even of 0 bytes) */
	__u64 dump_packets;		/* replays of at least one byte */
	__u64 dump_bytes;		/* record bytes replayed */
	__u64 resync_resume;		/* resyncs of new data after a retransmission
					 * (mlx5 continued from the retransmission) */
	__u64 dump_bytes_resume;	/* bytes those replayed */
	__u64 skip_no_sync_data;	/* pre-offload data sent as is */
	__u64 drop_no_sync_data;	/* no record state: a NIC drops them */
	__u64 drop_straddle;		/* of those: straddling the start marker */
	__u64 drop_acked;		/*   record already ACKed and freed */
	__u64 drop_evicted;		/*   record evicted from a full log */
	__u64 dropped;			/* really dropped (enforce-drops) */
	__u64 resent_packets;		/* segments starting below the highest seq seen */
	__u64 resent_bytes;		/* their bytes below it */
	__u64 records;			/* record headers parsed */
	__u64 evicted;			/* records evicted from a full log */
	__u64 acks;			/* ACKs that advanced acked_seq */
	__u64 untracked;		/* segments passed unjudged (TLSHIM_TX_UNTRACKED) */
	__u64 lost_sync;		/* times the device lost the byte stream */
	__u64 header_errors;		/* invalid record headers */
	__u64 retries;			/* commits redone after a concurrent update */
};

/*
 * Value of tlshim_tx_conns, keyed like tlshim_conns (dir TLSHIM_DIR_TX).
 * The record log is a ring of record start seqs indexed by log position
 * (records completed since install, free-running): positions
 * [log_head, log_tail) are logged, position p sits in log[p % SLOTS], its
 * record number is parser.rec_sn - (log_tail - p).  The record the parser
 * is in (parser.rec_start_seq, parser.rec_sn) is always known; it ends the
 * log.
 */
struct tlshim_tx_conn {
	struct bpf_spin_lock lock;	/* guards everything below */
	__u32 generation;		/* bumped by every TX-path commit */
	__u32 expected_seq;		/* mlx5's priv_tx->expected_seq */
	__u32 acked_seq;		/* highest ACK the receive side saw */
	/* The record parser at the highest byte seen leave:
	 * parser.expected_seq is that seq ("sent end"). */
	struct tlshim_stream parser;
	__u32 start_seq;		/* the start marker (start_offload_tcp_sn) */
	__u8 marker_live;		/* 0 once an ACK covered the start marker */
	__u8 enforce_drops;		/* --enforce-drops at conn add */
	enum tlshim_tx_verdict last_verdict;
	enum tlshim_tx_drop_reason last_drop_reason;
	__u32 log_head;
	__u32 log_tail;
	__u64 start_rec_sn;
	__u64 installed_ns;		/* CLOCK_MONOTONIC */
	struct tlshim_tx_stats stats;
	__u32 log[TLSHIM_TX_LOG_SLOTS];
};

/* tls_dev_add for TX: the record numbered start_rec_sn begins at start_seq,
 * the start marker stands for everything before it. */
static inline void tlshim_tx_conn_init(struct tlshim_tx_conn *c, __u16 version,
				       __u16 cipher, __u32 start_seq,
				       __u64 start_rec_sn, __u8 enforce_drops,
				       __u64 now_ns)
{
	__builtin_memset(c, 0, sizeof(*c));
	c->expected_seq = start_seq;
	c->acked_seq = start_seq;
	c->parser.expected_seq = start_seq;
	c->parser.rec_start_seq = start_seq;
	c->parser.rec_sn = start_rec_sn;
	c->parser.sync = TLSHIM_SYNC_IN_SYNC;
	c->parser.rec_min_len = tlshim_rec_min_len(version, cipher);
	c->parser.rec_max_len = tlshim_rec_max_len(version, cipher);
	c->parser.rec_ok = 1;
	c->parser.policy = TLSHIM_RESYNC_NONE;	/* TX has nothing to find again */
	c->start_seq = start_seq;
	c->marker_live = 1;
	c->enforce_drops = enforce_drops;
	c->start_rec_sn = start_rec_sn;
	c->installed_ns = now_ns;
}

/* Value of tlshim_config (one entry).  A fresh ip/tc load sees zeroes;
 * the programs then use the defaults, so `initialized` tells them apart. */
struct tlshim_config {
	__u32 initialized;		/* 1 once the loader wrote this entry */
	__u32 decrypted_mark;		/* skb->mark bits for decrypted segments */
	__u32 max_conns;		/* device capacity, <= TLSHIM_MAX_CONNS */
	__u32 flags;			/* TLSHIM_CFG_* */
	__u32 resync_headers;		/* headers a guess must chain before a request */
	__u32 resync_timeout_records;	/* records without an answer before giving up */
	__u32 resync_policy;		/* default for new connections */
	__u32 tx_record_log;		/* TX record log capacity, 0: TLSHIM_TX_LOG_DEFAULT */
};

#define TLSHIM_CFG_TRACE		0x1	/* EV_SEGMENT for every segment */
#define TLSHIM_CFG_ENFORCE_DROPS	0x2	/* TX: really drop what a NIC would drop */
#define TLSHIM_DEFAULT_RESYNC_HEADERS	2
#define TLSHIM_DEFAULT_RESYNC_TIMEOUT	64
#define TLSHIM_MAX_RESYNC_HEADERS	16

/*
 * Data-path counters: one per-CPU entry, the kernel's and mlx5's names
 * (Documentation/networking/tls-offload.rst, ethtool -S), then tlshim's own
 * (prefixed the same way, marked "tlshim" in `tlshim stats --help`).
 */
#define TLSHIM_DATAPATH_COUNTERS(X)		\
	X(rx_tls_decrypted_packets)		\
	X(rx_tls_decrypted_bytes)		\
	X(rx_tls_resync_req_pkt)		\
	X(rx_tls_resync_req_start)		\
	X(rx_tls_resync_req_end)		\
	X(rx_tls_resync_req_skip)		\
	X(rx_tls_resync_res_ok)			\
	X(rx_tls_resync_res_skip)		\
	X(rx_tls_resync_res_retry)		\
	X(rx_tls_err)				\
	X(tx_tls_encrypted_packets)		\
	X(tx_tls_encrypted_bytes)		\
	X(tx_tls_ooo)				\
	X(tx_tls_skip_no_sync_data)		\
	X(tx_tls_drop_no_sync_data)		\
	X(tx_tls_drop_bypass_req)		\
	X(tx_tls_dump_packets)			\
	X(tx_tls_dump_bytes)			\
	X(tx_tls_resync_bytes)			\
	X(tx_tls_resent_packets)		\
	X(tx_tls_resent_bytes)			\
	X(tx_tls_records)			\
	X(tx_tls_log_evicted)			\
	X(tx_tls_dropped)			\
	X(tx_tls_untracked)			\
	X(tx_tls_state_retry)			\
	X(tx_tls_events_lost)			\
	X(rx_tls_passed_packets)		\
	X(rx_tls_old_packets)			\
	X(rx_tls_lost_sync)			\
	X(rx_tls_records)			\
	X(rx_tls_state_retry)			\
	X(rx_tls_no_meta)			\
	X(rx_tls_unparsed)			\
	X(rx_tls_resync_req_lost)		\
	X(rx_tls_resync_kept_sync)		\
	X(rx_tls_events_lost)

/* Control-plane counters and gauges, written by the loader only. */
#define TLSHIM_CONTROL_COUNTERS(X)		\
	X(rx_tls_ctx)				\
	X(rx_tls_del)				\
	X(tx_tls_ctx)				\
	X(tx_tls_del)				\
	X(rx_tls_ctx_full)			\
	X(tx_tls_ctx_full)			\
	X(TlsCurrRxDevice)			\
	X(TlsCurrTxDevice)			\
	X(TlsCurrRxSw)				\
	X(TlsCurrTxSw)				\
	X(TlsRxDevice)				\
	X(TlsTxDevice)				\
	X(TlsRxSw)				\
	X(TlsTxSw)

#define TLSHIM_FIELD_U64(name) __u64 name;
struct tlshim_counters {
	TLSHIM_DATAPATH_COUNTERS(TLSHIM_FIELD_U64)
};
struct tlshim_device {
	TLSHIM_CONTROL_COUNTERS(TLSHIM_FIELD_U64)
};
#undef TLSHIM_FIELD_U64

/*
 * The RX descriptor: what XDP tells the host about a segment of an installed
 * connection, in the XDP metadata area right before the packet.  The TC
 * ingress program turns TLSHIM_VERDICT_DECRYPTED into the mark bit.
 * Size is a multiple of 4 (bpf_xdp_adjust_meta requires it).
 */
#define TLSHIM_META_MAGIC	0x544c5348u	/* "TLSH" */

enum tlshim_verdict {
	TLSHIM_VERDICT_NONE = 0,	/* not a segment of an installed connection */
	TLSHIM_VERDICT_DECRYPTED = 1,	/* the device decrypted every byte */
	TLSHIM_VERDICT_PASSED = 2,	/* passed as received on the wire */
};

/* Why a segment was passed (tlshim_rx_meta.reason). */
enum tlshim_pass_reason {
	TLSHIM_PASS_NONE = 0,
	TLSHIM_PASS_NO_PAYLOAD = 1,	/* pure ACK, SYN, FIN */
	TLSHIM_PASS_OLD = 2,		/* wholly before expected_seq: retransmission */
	TLSHIM_PASS_PARTIAL = 3,	/* starts before expected_seq, ends after it */
	TLSHIM_PASS_GAP = 4,		/* beyond expected_seq: the stream is lost */
	TLSHIM_PASS_NOT_SYNCED = 5,	/* stream already lost */
	TLSHIM_PASS_BAD_HEADER = 6,	/* an invalid record header in it */
	TLSHIM_PASS_CONTENDED = 7,	/* state kept changing under us; passed unjudged */
	TLSHIM_PASS_DAMAGED = 8,	/* bytes of a record with a hole in it (stream kept) */
};

struct tlshim_rx_meta {
	__u32 magic;		/* TLSHIM_META_MAGIC */
	__u8 verdict;		/* enum tlshim_verdict */
	__u8 reason;		/* enum tlshim_pass_reason */
	__u16 headers;		/* record headers completed in this segment */
	__u32 rec_sn;		/* low 32 bits of the record number of the segment's first byte */
	__u32 sync;		/* enum tlshim_sync after the segment */
};

/* What the device's tc programs return for a packet they let through:
 * TC_ACT_UNSPEC, no verdict, so the filters after them on the hook still
 * run (tlsloss on egress plays the wire after the NIC: include/tlsloss.h)
 * and, after the last, the packet goes on. */
#define TLSHIM_TC_PASS		(-1)

/* Layouts both compilers must agree on (map key/value sizes are checked by
 * the kernel against BTF, and ip/tc loads must match the loader's). */
_Static_assert(sizeof(struct tlshim_flow) == 40, "tlshim_flow layout");
_Static_assert(sizeof(struct tlshim_rx_meta) % 4 == 0, "XDP metadata must be 4-byte sized");
_Static_assert(sizeof(struct tlshim_stream) == 64, "tlshim_stream layout");

#endif /* TLSHIM_H */
