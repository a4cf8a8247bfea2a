#!/bin/bash
# sudo make demo: the modelled NIC on a real veth, watching real TCP.
#
# Two namespaces joined by a veth pair; tlshim is attached to the
# receiver's interface and a connection is installed at the sender's real
# TCP sequence number (the kernel's tls_dev_add).  Two transfers of
# TLS-framed records:
#   1. a clean link: the device decrypts every data segment;
#   2. the same with one segment in 150 lost on the wire, once per resync
#      policy: the device loses the stream at holes that may hide a header,
#      finds it again (stream-scan, async: scan + request answered by
#      `tlshim run` playing the kernel; next-hint: the kernel's hint) or not
#      (none).  The sender publishes its record starts, the kernel's truth.
# Everything is removed at the end.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
TLSHIM=$ROOT/tlshim
TLSSEND=$ROOT/build/tlssend
A=tlshim-demo-a B=tlshim-demo-b
WORK=$(mktemp -d /tmp/tlshim-demo.XXXXXX)

if compgen -G "/sys/fs/bpf/tc/globals/tlshim_*" >/dev/null; then
	echo "demo: tlshim maps are already pinned in /sys/fs/bpf/tc/globals (a live device);"
	echo "      the demo will not touch it.  Run 'tlshim unload' first." >&2
	exit 1
fi

# Leave the machine as we found it: note what the device will create.
created=()
for p in /sys/fs/bpf/tc /sys/fs/bpf/tc/globals /run/tlshim; do
	[ -e "$p" ] || created+=("$p")
done

cleanup() {
	set +e
	[ -n "${RUN_PID:-}" ] && kill "$RUN_PID" 2>/dev/null
	nsenter --net=/run/netns/$B "$TLSHIM" detach dev vethB >/dev/null 2>&1
	"$TLSHIM" unload >/dev/null 2>&1
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	rm -rf "$WORK"
	for ((i = ${#created[@]} - 1; i >= 0; i--)); do
		case ${created[i]} in
		/run/tlshim) rm -rf /run/tlshim ;;
		*) rmdir "${created[i]}" 2>/dev/null ;;
		esac
	done
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
in_a() { nsenter --net=/run/netns/$A "$@"; }
in_b() { nsenter --net=/run/netns/$B "$@"; }

say "Two namespaces, A (sender) and B (receiver), joined by a veth pair"
ip netns add $A; ip netns add $B
ip link add vethA netns $A type veth peer name vethB netns $B
in_a ip addr add 10.77.0.1/24 dev vethA; in_b ip addr add 10.77.0.2/24 dev vethB
in_a ip link set vethA up; in_b ip link set vethB up
in_a ip link set lo up; in_b ip link set lo up

say "Attach the device to B's interface"
run in_b "$TLSHIM" attach dev vethB

# transfer NAME RECORDS SIZE WRITE: one TLS-framed stream A -> B with the
# connection installed at the client's real write_seq.
transfer() {
	local name=$1 records=$2 size=$3 write=$4 policy=$5 line ep seq
	rm -f "$WORK/go" "$WORK"/*.out
	in_b taskset -c 1 "$TLSSEND" server --listen 10.77.0.2:4433 --timeout 20 > "$WORK/server.out" &
	local spid=$!
	until grep -q '^listening' "$WORK/server.out" 2>/dev/null; do sleep 0.05; done
	in_a taskset -c 0 "$TLSSEND" client --connect 10.77.0.2:4433 --records "$records" \
		--record-size "$size" --write-size "$write" --wait-file "$WORK/go" --timeout 20 --truth \
		> "$WORK/client.out" &
	local cpid=$!
	until grep -q '^local' "$WORK/client.out" 2>/dev/null; do sleep 0.05; done
	line=$(grep '^local' "$WORK/client.out")
	read -r _ ep _ _ _ seq <<<"$line"
	echo "client socket: $line"
	run "$TLSHIM" conn add rx "$ep" 10.77.0.2:4433 --tcp-seq "$seq" --rec-seq 0 \
		--version 1.2 --cipher aes-gcm-128 --resync "$policy"
	touch "$WORK/go"
	wait $cpid; wait $spid
	echo "sent: $(grep '^sent' "$WORK/client.out")"
	echo "received: $(grep '^received' "$WORK/server.out")"
	run "$TLSHIM" conn list
	run "$TLSHIM" conn del rx "$ep" 10.77.0.2:4433
}

say "Transfer 1: 300 records of 4000 bytes, written 1000 bytes at a time, clean link"
transfer clean 300 4000 1000 stream-scan
run "$TLSHIM" stats

say "Transfer 2: the same with every 150th segment lost on the wire"
# A netdev egress hook on the sender that forwards the victim to a down
# interface: a real hole (a plain drop there is reported back to TCP,
# which resends at once).
in_a ip link add blackhole type veth peer name blackhole-peer
in_a nft -f - <<'NFT'
table netdev demo_loss {
	chain out {
		type filter hook egress device vethA priority 0;
		tcp dport 4433 meta length > 100 numgen inc mod 150 == 75 fwd to blackhole
	}
}
NFT
"$TLSHIM" run 2> "$WORK/run.log" &
RUN_PID=$!
for policy in none stream-scan async next-hint; do
	say "Transfer 2 with resync policy $policy"
	transfer lossy 300 4000 1000 $policy
done
kill $RUN_PID; wait $RUN_PID
echo "tlshim run said: $(tail -n1 "$WORK/run.log")"
run "$TLSHIM" stats -j
say "Prometheus text format (for node_exporter's textfile collector), first lines"
"$TLSHIM" stats --prometheus | head -6
say "The device's table as bpftool shows it (BTF field names)"
echo "$ bpftool map dump pinned /sys/fs/bpf/tc/globals/tlshim_config"
bpftool map dump pinned /sys/fs/bpf/tc/globals/tlshim_config
echo
echo "demo done: cleaning up namespaces, programs and pins"
