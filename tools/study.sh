#!/bin/bash
# sudo tools/study.sh [LOSS% ...]: what a receiving TLS-offload NIC makes of
# real OpenSSL traffic under wire loss, replayed from captures, set beside
# the published ConnectX-6 Dx figures (../shared/spec/kernel-notes.md:
# ASPLOS'21 "Autonomous NIC Offloads": at 5% receiver loss more than half
# the records are still fully offloaded).
#
# For each loss rate: two namespaces and a veth pair, build/tlsgen sending
# TLS 1.2 AES-GCM-128 (what mlx5 offloads) in 16 KiB records, build/tlsloss
# losing that share of the sender's segments on the wire (seeded), tlshim
# live on the receiver with `tlshim run` answering resyncs, and tcpdump on
# the receiver.  Then `tlshim replay` runs the capture through the device
# once per resync policy, with the kernel's answers in-line between packets
# (the live kernel half answers about a millisecond late).  Printed per
# row: data segments decrypted and records fully offloaded (every byte's
# first arrival decrypted: the kernel never touched the record).
#   STUDY_BYTES (default 8M), STUDY_SEED (default 1)
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
TLSHIM=$ROOT/tlshim
TLSGEN=$ROOT/build/tlsgen
TLSLOSS=$ROOT/build/tlsloss
BYTES=${STUDY_BYTES:-8M}
SEED=${STUDY_SEED:-1}
LOSSES=("$@")
[ ${#LOSSES[@]} -gt 0 ] || LOSSES=(1 2 5)
A=tlshim-study-a B=tlshim-study-b PORT=4433
WORK=$(mktemp -d /tmp/tlshim-study.XXXXXX)
export TLSHIM_PIN_DIR=/sys/fs/bpf/tlshim-study-$$
export TLSHIM_RUN_DIR=$WORK/run
LOSS_PIN=/sys/fs/bpf/tlshim-study-loss-$$
pids=()

teardown() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
	"$TLSLOSS" unload --pin "$LOSS_PIN" >/dev/null 2>&1
	"$TLSHIM" unload >/dev/null 2>&1
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	rmdir "$TLSHIM_PIN_DIR" "$LOSS_PIN" 2>/dev/null
	set -e
}
cleanup() { teardown; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Background jobs run nsenter itself (it execs the program, so $! is the
# program and a signal reaches it; a function would put a shell between).
in_a() { nsenter --net=/run/netns/$A "$@"; }
in_b() { nsenter --net=/run/netns/$B "$@"; }
num() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -n1 | cut -d: -f2; }
str() { grep -o "\"$1\":\"[^\"]*\"" <<<"$2" | head -n1 | cut -d'"' -f4; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b) printf "%.1f%%", 100 * a / b; else printf "-" }'; }

# run LOSS: one live transfer; leaves $WORK/cap.pcap, $WORK/client.json, live stats
run() {
	local loss=$1
	ip netns add $A; ip netns add $B
	ip link add vethA netns $A type veth peer name vethB netns $B
	in_a ip addr add 10.78.0.1/24 dev vethA; in_b ip addr add 10.78.0.2/24 dev vethB
	in_a ip link set vethA up; in_b ip link set vethB up
	in_a ethtool -K vethA tso off gso off >/dev/null
	in_a ip link set dev vethA gso_max_segs 1
	in_b ethtool -K vethB gro off >/dev/null
	in_b "$TLSHIM" attach dev vethB >/dev/null
	in_a "$TLSLOSS" attach dev vethA egress "random:$loss%,seed=$SEED" --port $PORT --pin "$LOSS_PIN" >/dev/null
	"$TLSHIM" run 2> "$WORK/run.log" &
	pids+=($!)
	nsenter --net=/run/netns/$B tcpdump -i vethB -s 0 -B 65536 -U -w "$WORK/cap.pcap" tcp port $PORT 2> "$WORK/tcpdump.err" &
	pids+=($!)
	local tcpdump=$!
	for _ in $(seq 100); do grep -q listening "$WORK/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
	rm -f "$WORK/ready"
	nsenter --net=/run/netns/$B "$TLSGEN" server --listen 10.78.0.2:$PORT --tls 1.2 --cipher aes-gcm-128 \
		--ready-file "$WORK/ready" --timeout 60 > /dev/null 2> "$WORK/server.err" &
	local server=$!
	for _ in $(seq 200); do [ -s "$WORK/ready" ] && break; sleep 0.05; done
	in_a "$TLSGEN" client --connect 10.78.0.2:$PORT --tls 1.2 --cipher aes-gcm-128 \
		--bytes "$BYTES" --truth --json --timeout 60 > "$WORK/client.json" 2> "$WORK/client.err" ||
		{ cat "$WORK/client.err" >&2; return 1; }
	wait "$server" || { cat "$WORK/server.err" >&2; return 1; }
	sleep 0.3
	LIVE=$("$TLSHIM" stats -j | tr -d ' \n')
	# tcpdump exits on a signal without reading what its socket still
	# holds: let it drain first (the file stops growing)
	local size=-1
	while [ "$(stat -c %s "$WORK/cap.pcap")" != "$size" ]; do
		size=$(stat -c %s "$WORK/cap.pcap"); sleep 0.5
	done
	kill -TERM "$tcpdump"; wait "$tcpdump" 2>/dev/null || true
	# a capture missing packets would look like more loss to the replay
	CAPTURE_DROPS=$(( $(grep -o '^[0-9]* packets received by filter' "$WORK/tcpdump.err" | cut -d' ' -f1) -
			  $(grep -o '^[0-9]* packets captured' "$WORK/tcpdump.err" | cut -d' ' -f1) ))
	teardown
}

printf '%-6s %-12s %-14s %-24s %-26s %s\n' loss policy where "data segments decrypted" \
	"records fully offloaded" "resync requests/confirmed"
for loss in "${LOSSES[@]}"; do
	run "$loss"
	client=$(tr -d ' \n' < "$WORK/client.json")
	tx=$(grep -o '{"dir":"tx"[^}]*}' <<<"$client")
	spec="rx $(str src "$tx") $(str dst "$tx") --tcp-seq $(num tcp_seq "$tx") --rec-seq $(num rec_seq "$tx") --version 1.2 --cipher aes-gcm-128"
	d=$(num rx_tls_decrypted_packets "$LIVE"); p=$(num rx_tls_passed_packets "$LIVE")
	[ "${CAPTURE_DROPS:-0}" = 0 ] || echo "warning: tcpdump lost $CAPTURE_DROPS packets: the replay rows see more loss than the wire had" >&2
	printf '%-6s %-12s %-14s %-24s %-26s %s\n' "$loss%" stream-scan "live" \
		"$(pct "$d" $((d + p))) of $((d + p))" "-" \
		"$(num rx_tls_resync_req_pkt "$LIVE")/$(num rx_tls_resync_res_ok "$LIVE")"
	for policy in stream-scan async next-hint none; do
		out=$("$TLSHIM" replay "$WORK/cap.pcap" --conn "$spec --resync $policy" -j)
		conn=$(grep '^{"conn"' <<<"$out")
		d=$(num decrypted_packets "$conn"); p=$(num passed_packets "$conn")
		printf '%-6s %-12s %-14s %-24s %-26s %s\n' "$loss%" "$policy" "replay" \
			"$(pct "$d" $((d + p))) of $((d + p))" \
			"$(pct "$(num records_offloaded "$conn")" "$(num records_arrived "$conn")") of $(num records_arrived "$conn")" \
			"$(num resync_requests "$conn")/$(num resync_confirmed "$conn")"
	done
	[ -n "${STUDY_KEEP:-}" ] && cp "$WORK/cap.pcap" "$STUDY_KEEP/cap-$loss.pcap"
done
echo "ConnectX-6 Dx (ASPLOS'21): at 5% loss more than half of the records fully offloaded"
