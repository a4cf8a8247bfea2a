#!/bin/bash
# tx_loss_study: what retransmissions cost a TLS-offload NIC's transmit side.
#
#   sudo tools/tx_loss_study.sh [--loss "1 5"] [--runs N] [--records N]
#                               [--record-size S] [--write-size W]
#                               [--gso "gso off tso"] [--family 4|6]
#
# Bulk transfers of TLS-framed records through the TX device (tlshim on the
# sender's veth), with real random loss after it (tests/e2e/tx_net.sh), and
# per loss level the device's counters next to the sender's TCP_INFO:
#   ooo / resync     out-of-order segments; those resolved by a replay
#   resume           of those, new data after a retransmission (mlx5
#                    continues from the retransmission, so new data is out
#                    of order again)
#   dump B           record bytes the driver replays (mlx5 DUMP WQEs: bytes
#                    the NIC re-reads over PCIe), per TCP retransmitted
#                    segment and per retransmitted skb
#   dump/resent      replayed bytes per byte actually resent
#   drops            segments a NIC would drop (record freed by an ACK the
#                    receive side saw before the retransmission left)
# Published observation to compare with (Netflix, Mellanox CX6-DX,
# https://reviews.freebsd.org/D30908): a retransmission makes the NIC re-DMA
# the TLS record from its start up to the segment, in the worst case (a
# segment at the end of a 16 KiB record) over 10x the bytes it sends.
#
# --gso picks how the sender's skbs look (tests/e2e/tx_net.sh, txn_gso):
# gso (default) GSO super-packets at tc egress, as a NIC with TSO sees them,
# cut into MSS packets after it, so the loss is per wire packet; off one MSS
# per skb; tso super-packets also on the wire (whole ones lost).
#
# Each transfer is a fresh connection; the topology is built once.  Runs
# beside a live device (maps pinned in a private directory); removes
# everything it made.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LOSSES="1 5"
RUNS=3
RECORDS=300
BODY=16408
WRITE=65536			# the application's writes; records are cut from them
GSO_MODES="gso off"
FAMILY=4

usage() {
	sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
bad() { echo "tx_loss_study: bad $1" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--loss) LOSSES=${2:-}; [[ $LOSSES =~ ^[0-9\ ]+$ ]] || bad "--loss '$LOSSES' (percentages 0..100)"; shift 2 ;;
	--runs) RUNS=${2:-}; [[ $RUNS =~ ^[1-9][0-9]*$ ]] || bad "--runs '$RUNS'"; shift 2 ;;
	--records) RECORDS=${2:-}; [[ $RECORDS =~ ^[1-9][0-9]*$ ]] || bad "--records '$RECORDS'"; shift 2 ;;
	--record-size) BODY=${2:-}; [[ $BODY =~ ^[0-9]+$ ]] && [ "$BODY" -ge 24 ] && [ "$BODY" -le 16408 ] ||
		bad "--record-size '$BODY' (24..16408)"; shift 2 ;;
	--write-size) WRITE=${2:-}; [[ $WRITE =~ ^[1-9][0-9]*$ ]] || bad "--write-size '$WRITE'"; shift 2 ;;
	--gso) GSO_MODES=${2:-}; [[ $GSO_MODES =~ ^((gso|off|tso)\ ?)+$ ]] || bad "--gso '$GSO_MODES' (gso, off, tso)"; shift 2 ;;
	--family) case ${2:-} in 4|6) FAMILY=$2 ;; *) bad "--family '${2:-}' (4 or 6)" ;; esac; shift 2 ;;
	-h|--help) usage 0 ;;
	*) bad "argument '$1' (see --help)" ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "tx_loss_study: needs root (netns, XDP, tc, bpffs)" >&2; exit 1; }
for f in tlshim build/tlssend build/tlshim.bpf.o; do
	[ -e "$f" ] || { echo "tx_loss_study: $f missing (run make)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/tlshim-tx-study.XXXXXX) || exit 1
# shellcheck source=tests/e2e/tx_net.sh
source "$ROOT/tests/e2e/tx_net.sh"
trap 'txn_teardown; rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

txn_setup || { echo "tx_loss_study: $TXN_WHY" >&2; exit 1; }
txn_family "$FAMILY"

FIELDS="resent_packets resent_bytes ooo resync resync_resume dump_packets dump_bytes dump_bytes_resume drop_no_sync_data drop_acked drop_evicted encrypted_packets"
echo "# $RECORDS records of $BODY bytes (+5 header) per transfer, written $WRITE bytes at a time," \
     "$RUNS transfers per row, IPv$FAMILY"
printf '%s\n' "gso loss run retrans_segs retrans_bytes $FIELDS" > "$WORK/runs.txt"
for gso in $GSO_MODES; do
	txn_gso "$gso" || { echo "tx_loss_study: $TXN_WHY" >&2; exit 1; }
	for loss in $LOSSES; do
		txn_loss "$loss" || { echo "tx_loss_study: $TXN_WHY" >&2; exit 1; }
		for run in $(seq 1 "$RUNS"); do
			if ! txn_transfer "$RECORDS" "$BODY" "$WRITE"; then
				echo "tx_loss_study: gso $gso loss $loss% run $run: $TXN_WHY" >&2
				exit 1
			fi
			line="$gso $loss $run $(txn_word "$TXN_TCP" total_retrans) $(txn_word "$TXN_TCP" bytes_retrans)"
			for k in $FIELDS; do line+=" $(txn_json "$TXN_DEV" "$k")"; done
			echo "$line" >> "$WORK/runs.txt"
			echo "  gso $gso, loss $loss%, run $run: $TXN_TCP; $(txn_json "$TXN_DEV" ooo) ooo," \
			     "$(txn_json "$TXN_DEV" dump_bytes) dump bytes" >&2
		done
	done
done

# Sums per (gso, loss), then the ratios.
awk '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
	key = $1 " " $2
	if (!(key in seen)) { seen[key] = 1; order[n++] = key }
	for (f in col) if (col[f] > 3) sum[key, f] += $col[f]
	runs[key]++
}
function ratio(a, b) { return b ? sprintf("%.0f", a / b) : "-" }
function ratio1(a, b) { return b ? sprintf("%.1f", a / b) : "-" }
function pct(a, b) { return b ? sprintf("%.0f%%", 100 * a / b) : "-" }
END {
	print ""
	print "| skbs | loss | TCP retrans segs / bytes | resent skbs | ooo | resync (resume) | dump B | dump B / retrans seg | dump B / resent skb | dump / resent bytes | dump share from resumes | drops (acked/evicted) |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for (i = 0; i < n; i++) {
		k = order[i]
		split(k, kv, " ")
		printf "| %s | %s%% | %d / %d | %d | %d | %d (%d) | %d | %s | %s | %sx | %s | %d (%d/%d) |\n", \
			kv[1], kv[2], sum[k, "retrans_segs"], sum[k, "retrans_bytes"], \
			sum[k, "resent_packets"], sum[k, "ooo"], sum[k, "resync"], \
			sum[k, "resync_resume"], sum[k, "dump_bytes"], \
			ratio(sum[k, "dump_bytes"], sum[k, "retrans_segs"]), \
			ratio(sum[k, "dump_bytes"], sum[k, "resent_packets"]), \
			ratio1(sum[k, "dump_bytes"], sum[k, "resent_bytes"]), \
			pct(sum[k, "dump_bytes_resume"], sum[k, "dump_bytes"]), \
			sum[k, "drop_no_sync_data"], sum[k, "drop_acked"], sum[k, "drop_evicted"]
	}
}' "$WORK/runs.txt"
