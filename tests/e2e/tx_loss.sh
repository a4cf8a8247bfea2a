#!/bin/bash
# End-to-end tests of the transmit side: real TCP through the TX device on
# the sender's veth, real loss after it (tests/e2e/tx_net.sh draws the
# topology), the device's counters checked against the sender's TCP
# (TCP_INFO, read by build/tlssend once everything is ACKed) and against
# nftables counting the same skbs in the sender's postrouting chain.
#
#   tx-loss-mss-v4   1% loss, one MSS per skb (gso_max_segs 1), IPv4
#   tx-loss-gso-v4   5% loss of wire packets, GSO super-packets at tc egress
#                    (software GSO after it, as a NIC with TSO), IPv4
#   tx-loss-tso-v6   5% loss of whole super-packets (veth TSO), IPv6
#   tx-trace-v4      with `tlshim run --trace`, one event per data skb: the
#                    per-packet verdicts add up to the counters exactly
#
# Exact, by construction of what tc egress sees:
#   every data skb gets one verdict: encrypted + skip + drop + untracked
#     = the data skbs nftables counted; and their payload bytes = the stream
#     + TCP's bytes_retrans (a sanity check of the independent count)
#   the device's resent bytes (bytes below the highest seq it saw leave)
#     = TCP's bytes_retrans, GSO or not
#   with one MSS per skb, resent packets = TCP's total_retrans and
#     data_segs_out = the data skbs
#   ooo = resync + skip + drop; records = the records sent; the whole
#     stream left and was ACKed (sent_seq, acked_seq), every record freed
#   without drops, encrypted bytes = the stream + resent bytes
# Invariants, where GSO or mlx5's semantics leave room:
#   with GSO, 1 <= resent packets <= total_retrans (a retransmitted skb
#     carries one MSS or more)
#   1 <= ooo <= 2 * resent packets: a run of back-to-back retransmissions
#     costs a resync at its start (the rest are at expected_seq) and at most
#     one more when new data follows (mlx5 continues from the retransmission):
#     resumes <= the other out-of-order segments
#   dump bytes < resyncs * record size; drops <= resent packets (an ACK
#     racing a retransmission); total_retrans >= skbs M dropped >= 1
#
# Output follows tests/run.sh.  Maps are pinned in a private directory, so
# this never touches a live device and runs beside other tests.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
TESTS=(tx-loss-mss-v4 tx-loss-gso-v4 tx-loss-tso-v6 tx-trace-v4)
RECORDS=300
BODY=16408			# the largest record: 16413 bytes on the wire
FAILED=0

skip_all() {
	local t
	for t in "${TESTS[@]}"; do echo "skip $t: $1"; done
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "needs root (netns, XDP, tc, bpffs)"
for tool in ip nft nsenter taskset timeout bpftool; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done
grep -qs " /sys/fs/bpf bpf " /proc/mounts || skip_all "no bpffs mounted at /sys/fs/bpf"
for f in tlshim build/tlssend build/tlshim.bpf.o; do
	[ -e "$f" ] || { for t in "${TESTS[@]}"; do echo "FAIL $t: $f missing (run make)"; done; exit 1; }
done

WORK=$(mktemp -d /tmp/tlshim-tx-e2e.XXXXXX) || exit 1
# shellcheck source=tests/e2e/tx_net.sh
source "$ROOT/tests/e2e/tx_net.sh"
cleanup() {
	trap - EXIT INT TERM
	txn_teardown
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WHY=""
expect() {	# NAME EXPECTED ACTUAL
	[ "$2" = "$3" ] || WHY="${WHY:+$WHY; }$1: expected $2, got ${3:-<none>}"
}
holds() {	# NAME CONDITION-TEXT EXIT-STATUS
	[ "$3" = 0 ] || WHY="${WHY:+$WHY; }$1 does not hold: $2"
}

# check_transfer mss|gso: the counters of the transfer just made.
check_transfer() {
	local mode=$1 k
	local -A d
	for k in encrypted_packets encrypted_bytes ooo resync resync_resume dump_packets dump_bytes \
		 skip_no_sync_data drop_no_sync_data drop_acked drop_evicted dropped \
		 resent_packets resent_bytes records \
		 untracked sent_seq acked_seq start_seq log_records marker_live; do
		d[$k]=$(txn_json "$TXN_DEV" "$k")
		[ -n "${d[$k]}" ] || { WHY="conn list -j has no $k: $TXN_DEV"; return 1; }
	done
	local retrans bytes_retrans segs_out
	retrans=$(txn_word "$TXN_TCP" total_retrans)
	bytes_retrans=$(txn_word "$TXN_TCP" bytes_retrans)
	segs_out=$(txn_word "$TXN_TCP" data_segs_out)
	log "TCP: $TXN_TCP; M dropped $TXN_NFT_DROPPED skbs; S sent $TXN_NFT_SKBS data skbs, $TXN_NFT_BYTES payload bytes"
	log "device: encrypted ${d[encrypted_packets]} (${d[encrypted_bytes]} bytes), resent ${d[resent_packets]} (${d[resent_bytes]} bytes), ooo ${d[ooo]}, resync ${d[resync]}, dump ${d[dump_packets]} (${d[dump_bytes]} bytes), skip ${d[skip_no_sync_data]}, drop ${d[drop_no_sync_data]}, untracked ${d[untracked]}"

	# The loss was real, else nothing below means anything.
	holds "M dropped data (${TXN_NFT_DROPPED:-0}) >= 1" "no loss happened" "$([ "${TXN_NFT_DROPPED:-0}" -ge 1 ]; echo $?)"
	holds "total_retrans ($retrans) >= skbs M dropped ($TXN_NFT_DROPPED)" "TCP resent less than was lost" \
		"$([ "$retrans" -ge "${TXN_NFT_DROPPED:-0}" ]; echo $?)"
	expect "nft payload bytes (stream + bytes_retrans)" $((TXN_TOTAL + bytes_retrans)) "$TXN_NFT_BYTES"

	expect "verdicts (encrypted + skip + drop + untracked) = nft data skbs" "$TXN_NFT_SKBS" \
		$((d[encrypted_packets] + d[skip_no_sync_data] + d[drop_no_sync_data] + d[untracked]))
	expect "resent_bytes = TCP bytes_retrans" "$bytes_retrans" "${d[resent_bytes]}"
	expect "ooo = resync + skip + drop" "${d[ooo]}" \
		$((d[resync] + d[skip_no_sync_data] + d[drop_no_sync_data]))
	expect records "$RECORDS" "${d[records]}"
	expect untracked 0 "${d[untracked]}"
	expect skip_no_sync_data 0 "${d[skip_no_sync_data]}"
	expect "dropped (nothing enforced)" 0 "${d[dropped]}"
	expect "sent_seq - start_seq" "$TXN_TOTAL" $(((d[sent_seq] - d[start_seq] + 4294967296) % 4294967296))
	expect "acked_seq (all ACKed)" "${d[sent_seq]}" "${d[acked_seq]}"
	expect "log_records (all freed by ACKs)" 0 "${d[log_records]}"
	expect marker_live 0 "${d[marker_live]}"
	if [ "$mode" = mss ]; then
		expect "resent_packets = TCP total_retrans (one MSS per skb)" "$retrans" "${d[resent_packets]}"
		expect "TCP data_segs_out = nft data skbs (one MSS per skb)" "$TXN_NFT_SKBS" "$segs_out"
	else
		holds "1 <= resent_packets (${d[resent_packets]}) <= total_retrans ($retrans)" \
			"a GSO skb carries 1 MSS or more" \
			"$([ "${d[resent_packets]}" -ge 1 ] && [ "${d[resent_packets]}" -le "$retrans" ]; echo $?)"
	fi
	if [ "${d[drop_no_sync_data]}" = 0 ]; then
		expect "encrypted_bytes = stream + resent (no drops)" $((TXN_TOTAL + d[resent_bytes])) "${d[encrypted_bytes]}"
	else
		log "drops: ${d[drop_no_sync_data]} (acked ${d[drop_acked]}, evicted ${d[drop_evicted]}): retransmissions of bytes an ACK had covered when they left"
		expect "drops for ACKed records" "${d[drop_no_sync_data]}" "${d[drop_acked]}"
	fi
	holds "drops (${d[drop_no_sync_data]}) <= resent_packets" "a drop that is no retransmission" \
		"$([ "${d[drop_no_sync_data]}" -le "${d[resent_packets]}" ]; echo $?)"
	holds "1 <= ooo (${d[ooo]}) <= 2 * resent_packets (${d[resent_packets]})" "mlx5 continuation bound" \
		"$([ "${d[ooo]}" -ge 1 ] && [ "${d[ooo]}" -le $((2 * d[resent_packets])) ]; echo $?)"
	holds "resumes (${d[resync_resume]}) <= the other out-of-order segments ($((d[ooo] - d[resync_resume])))" \
		"new data out of order without a retransmission before it" \
		"$([ "${d[resync_resume]}" -le $((d[ooo] - d[resync_resume])) ]; echo $?)"
	holds "dump_bytes (${d[dump_bytes]}) < resyncs * record size" "a replay longer than a record" \
		"$([ "${d[dump_bytes]}" -lt $((d[resync] * (BODY + 5) + 1)) ]; echo $?)"
	[ -z "$WHY" ]
}

log() { printf '  %s\n' "$*"; }

# run_loss NAME FAMILY GSO PERCENT   (GSO as txn_gso takes it)
run_loss() {
	local name=$1 family=$2 gso=$3 pct=$4 attempt
	if [ "$gso" = gso ] && ! command -v ethtool >/dev/null; then
		echo "skip $name: ethtool not installed (Debian package ethtool): cannot turn TSO off"
		return
	fi
	for attempt in 1 2; do
		WHY=""
		TXN_WHY=""
		txn_family "$family"
		if txn_gso "$gso" && txn_loss "$pct" && txn_transfer "$RECORDS" "$BODY"; then
			check_transfer "$([ "$gso" = off ] && echo mss || echo gso)"
		else
			WHY=$TXN_WHY
		fi
		# Random loss may, rarely, drop nothing: one more go.
		case $WHY in "M dropped data"*) log "no loss at $pct%, again" ;; *) break ;; esac
	done
	if [ -z "$WHY" ]; then
		echo "ok $name"
	else
		echo "FAIL $name: $WHY"
		FAILED=1
	fi
}

# The per-packet verdicts on the event stream (tlshim run --trace) against
# the counters of the same transfer.
run_trace() {
	local name=$1 rpid k n
	local -A d
	WHY=""
	TXN_WHY=""
	txn_family 4
	if ! txn_gso gso 2>/dev/null; then txn_gso tso || { echo "FAIL $name: $TXN_WHY"; FAILED=1; return; }; fi
	txn_loss 5 || { echo "FAIL $name: $TXN_WHY"; FAILED=1; return; }
	timeout 120 "$ROOT/tlshim" run --trace "$WORK/trace.json" > "$WORK/run.out" 2>&1 &
	rpid=$!
	TXN_PIDS+=("$rpid")
	for n in $(seq 1 100); do
		"$ROOT/tlshim" config -j | grep -q '"trace":true' && break
		sleep 0.05
	done
	if txn_transfer 100 "$BODY"; then
		kill -INT "$rpid" 2>/dev/null
		txn_wait_pid "$rpid"
		for k in encrypted_packets skip_no_sync_data drop_no_sync_data untracked resync dump_bytes; do
			d[$k]=$(txn_json "$TXN_DEV" "$k")
		done
		n=$(grep -c '"dir":"tx"' "$WORK/trace.json")
		log "trace: $n tx events, $(grep -c '"tx_verdict":"resync"' "$WORK/trace.json") resync"
		expect "tx events = verdicts" \
			$((d[encrypted_packets] + d[skip_no_sync_data] + d[drop_no_sync_data] + d[untracked])) "$n"
		expect "resync events" "${d[resync]}" "$(grep -c '"tx_verdict":"resync"' "$WORK/trace.json")"
		expect "dump bytes in events" "${d[dump_bytes]}" \
			"$(grep -o '"dump_bytes":[0-9]*' "$WORK/trace.json" | awk -F: '{ s += $2 } END { print s + 0 }')"
		expect tx_tls_events_lost 0 "$(txn_json "$TXN_STATS" tx_tls_events_lost)"
		expect "trace off again" 0 "$("$ROOT/tlshim" config -j | grep -c '"trace":true')"
	else
		WHY=$TXN_WHY
		txn_stop_processes
	fi
	if [ -z "$WHY" ]; then echo "ok $name"; else echo "FAIL $name: $WHY"; FAILED=1; fi
}

if ! txn_setup; then
	for t in "${TESTS[@]}"; do echo "FAIL $t: $TXN_WHY"; done
	exit 1
fi
run_loss tx-loss-mss-v4 4 off 1
run_loss tx-loss-gso-v4 4 gso 5
run_loss tx-loss-tso-v6 6 tso 5
run_trace tx-trace-v4
exit $FAILED
