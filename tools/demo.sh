#!/bin/bash
# sudo make demo: what a TLS-offload NIC would do with real TLS under loss.
#
# Two namespaces, A (client, sends) and B (server, receives), joined by a
# veth pair; the modelled NIC (tlshim) on both ends: B's XDP decrypts what
# A sends, A's tc egress encrypts it.  build/tlsgen speaks real TLS
# (OpenSSL) for a few seconds and installs both ends with their real keys
# at the kernel's TCP seqs; build/tlsloss loses 1% of A's segments on the
# wire (after A's NIC sent them), and `tlshim run` plays the kernel's half:
# it answers the receiving device's resync requests from the sender's truth
# about record starts, and traces every segment.  At the end: the device's
# statistics, the share of data segments decrypted, and a picture of the
# first loss and the resync after it, demo/timeline.svg.
#
# The demo uses its own pin directory, so a live tlshim is never touched,
# and removes every namespace, pin and process it made, also on Ctrl-C.
#   DEMO_SECONDS (default 5), DEMO_LOSS (percent, default 1),
#   DEMO_TLS (1.2 or 1.3, default 1.3), DEMO_CIPHER (default aes-gcm-256)
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
TLSHIM=$ROOT/tlshim
TLSGEN=$ROOT/build/tlsgen
TLSLOSS=$ROOT/build/tlsloss
SECONDS_TO_SEND=${DEMO_SECONDS:-5}
LOSS=${DEMO_LOSS:-1}
TLS=${DEMO_TLS:-1.3}
CIPHER=${DEMO_CIPHER:-aes-gcm-256}
A=tlshim-demo-a B=tlshim-demo-b
PORT=4433
OUT=$ROOT/demo
WORK=$(mktemp -d /tmp/tlshim-demo.XXXXXX)
export TLSHIM_PIN_DIR=/sys/fs/bpf/tlshim-demo-$$
export TLSHIM_RUN_DIR=$WORK/run
LOSS_PIN=/sys/fs/bpf/tlshim-demo-loss-$$
pids=()

cleanup() {
	set +e
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	"$TLSLOSS" unload --pin "$LOSS_PIN" >/dev/null 2>&1
	"$TLSHIM" unload >/dev/null 2>&1
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	rm -rf "$WORK" /run/tlsloss 2>/dev/null
	rmdir "$TLSHIM_PIN_DIR" "$LOSS_PIN" 2>/dev/null
	echo "demo: removed its namespaces, programs, pins and processes"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# Background jobs run nsenter itself (it execs the program, so $! is the
# program and cleanup's signal reaches it; a function would put a shell between).
in_a() { nsenter --net=/run/netns/$A "$@"; }
in_b() { nsenter --net=/run/netns/$B "$@"; }
# field NAME JSON: a number from one-line JSON (no jq on a fresh machine)
field() { grep -o "\"$1\": *[0-9]*" <<<"$2" | head -n1 | grep -o '[0-9]*$'; }

say "Namespaces $A (client, sends) and $B (server, receives), a veth pair between them"
ip netns add $A; ip netns add $B
ip link add vethA netns $A type veth peer name vethB netns $B
in_a ip addr add 10.77.0.1/24 dev vethA; in_b ip addr add 10.77.0.2/24 dev vethB
in_a ip link set vethA up; in_b ip link set vethB up
in_a ip link set lo up; in_b ip link set lo up
# One MSS per skb at A's tc egress, so the loss takes single segments (a
# NIC with TSO would see 64 KiB; tlshim handles both, the loss tool cannot).
in_a ethtool -K vethA tso off gso off >/dev/null
in_a ip link set dev vethA gso_max_segs 1
in_b ethtool -K vethB gro off >/dev/null

say "Attach the modelled NIC to both ends (maps pinned under $TLSHIM_PIN_DIR)"
run in_a "$TLSHIM" attach dev vethA
run in_b "$TLSHIM" attach dev vethB

say "Lose $LOSS% of A's data segments on the wire, after A's NIC sent them"
run in_a "$TLSLOSS" attach dev vethA egress "random:$LOSS%,seed=7" --port $PORT --pin "$LOSS_PIN"

say "tlshim run: the kernel's half (answers resync requests), tracing every segment"
"$TLSHIM" run --trace "$WORK/trace.jsonl" 2> "$WORK/run.log" &
pids+=($!)

say "tlsgen: TLS $TLS $CIPHER for $SECONDS_TO_SEND s, 16 KiB records, A -> B"
nsenter --net=/run/netns/$B "$TLSGEN" server --listen 10.77.0.2:$PORT --tls "$TLS" --cipher "$CIPHER" --verify \
	--ready-file "$WORK/ready" --timeout 60 --json > "$WORK/server.json" 2> "$WORK/server.err" &
pids+=($!)
server=$!
for _ in $(seq 200); do [ -s "$WORK/ready" ] && break; sleep 0.05; done
echo "$ tlsgen client --connect 10.77.0.2:$PORT --tls $TLS --cipher $CIPHER --duration $SECONDS_TO_SEND --truth --json"
if ! in_a "$TLSGEN" client --connect 10.77.0.2:$PORT --tls "$TLS" --cipher "$CIPHER" \
	--duration "$SECONDS_TO_SEND" --truth --json --timeout 60 > "$WORK/client.json" 2> "$WORK/client.err"; then
	cat "$WORK/client.err" >&2
	exit 1
fi
wait "$server" || { cat "$WORK/server.err" >&2; exit 1; }
cat "$WORK/client.err" "$WORK/server.err"
client=$(grep '^{' "$WORK/client.json")
echo "client: $client"
echo "server: $(grep '^{' "$WORK/server.json")"
grep -hv '^{' "$WORK/client.json" "$WORK/server.json" || true	# --verify's report
sleep 0.5	# the last events reach the trace

say "What the wire lost"
in_a "$TLSLOSS" show --pin "$LOSS_PIN" | head -n 8
echo "   ..."

say "The device's statistics (the kernel's counter names)"
run "$TLSHIM" stats

stats=$("$TLSHIM" stats -j | tr -d ' \n')
dec=$(field rx_tls_decrypted_packets "$stats")
passed=$(field rx_tls_passed_packets "$stats")
old=$(field rx_tls_old_packets "$stats")
enc=$(field tx_tls_encrypted_packets "$stats")
say "Result"
if [ $((dec + passed)) -gt 0 ]; then
	awk -v d="$dec" -v p="$passed" -v o="$old" 'BEGIN {
		printf "receive side: %d of %d data segments decrypted (%.1f%%); %d passed, %d of them retransmissions\n",
			d, d + p, 100 * d / (d + p), p, o }'
fi
echo "transmit side: $enc segments encrypted, $(field tx_tls_ooo "$stats") out of order, $(field tx_tls_dump_bytes "$stats") record bytes replayed"
echo "resync: $(field rx_tls_resync_req_pkt "$stats") requests, $(field rx_tls_resync_res_ok "$stats") confirmed by the kernel half"

say "A picture of the first loss: demo/timeline.svg"
mkdir -p "$OUT"
# Rows from a little before the receiving device first lost the stream.
first=$(grep -n '"dir":"rx"' "$WORK/trace.jsonl" | grep -v '"state":"in-sync"' | head -n1 | cut -d: -f1)
rx_lines=$(grep -c '"dir":"rx"' "$WORK/trace.jsonl" || true)
from=0
if [ -n "$first" ]; then
	# --from counts lines of the file; start 12 rx segments before it
	from=$(awk -v f="$first" 'NR < f && /"dir":"rx"/ { n[++c] = NR - 1 } END { print (c > 12 ? n[c - 11] : 0) }' \
		"$WORK/trace.jsonl")
fi
run "$TLSHIM" timeline "$WORK/trace.jsonl" -o "$OUT/timeline.svg" --dir rx --from "$from" --count 90 \
	--title "TLS $TLS $CIPHER, $LOSS% loss: the receiving NIC loses the stream and finds it again"
echo "($rx_lines receive segments traced; open demo/timeline.svg in a browser)"
[ -n "${SUDO_UID:-}" ] && chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$OUT"
echo
