# shellcheck shell=bash
# Sourced by tests/e2e/tx_loss.sh and tools/tx_loss_study.sh: a sender with
# the TX device on its interface, real loss after it, real TCP through it.
#
#   S (sender)  vethS 10.78.1.1  fd78:1::1 --- vethMS  M (router)  vethMR --- vethR  R (receiver)
#               default via M                 10.78.1.2 / 10.78.2.1            10.78.2.2  fd78:2::2
#
# tlshim is attached to vethS (tc egress: the transmit side; XDP: the
# receive side, which sees the receiver's ACKs).  M drops data segments in
# its forward chain (nftables numgen random): real wire loss, so the
# sender's TCP really retransmits and the device sees it.  A drop in the
# sender's own output chain would not do: TCP is told and resends at once,
# and netfilter runs before tc egress anyway (DESIGN.md).  S's nftables
# postrouting chain counts, independently of the device, the flow's data
# skbs (GSO super-packets count once, as tc egress sees them).
#
# The caller sets ROOT and WORK (a private directory) and calls
#   txn_setup                 namespaces, addresses (both families), tlshim
#   txn_family 4|6            which addresses the next transfers use
#   txn_gso off|tso|gso       how the sender's skbs look at tc egress and on
#                             the wire (for connections made after):
#                               off  one MSS per skb (gso_max_segs 1)
#                               tso  GSO super-packets, passed whole over the
#                                    veths (veth has TSO): M drops whole ones
#                               gso  GSO super-packets at tc egress, cut into
#                                    MSS packets right after it (TSO off:
#                                    software GSO): a NIC with TSO, and loss
#                                    per packet on the wire (needs ethtool)
#   txn_loss PERCENT          drop this share of data segments in M
#   txn_transfer RECORDS BODY [WRITE]  one TLS-framed transfer S -> R
#                             (writes of WRITE bytes, default one record), the TX
#                             connection installed at the real write_seq;
#                             fills TXN_DEV (conn list -j), TXN_TCP
#                             (tlssend's tcp_info line), TXN_NFT_* counts
#   txn_teardown              everything removed (also safe after a failure)
# Functions return non-zero and set TXN_WHY on failure.  Maps are pinned in
# a private directory, so this runs beside anyone's live device or tests.

TXN_NS_S=tlshim-tx-s-$$
TXN_NS_M=tlshim-tx-m-$$
TXN_NS_R=tlshim-tx-r-$$
TXN_PORT=4433
TXN_STEP_TIMEOUT=30
TXN_PIDS=()
TXN_WHY=""
export TLSHIM_PIN_DIR=/sys/fs/bpf/tlshim-tx-e2e-$$
export TLSHIM_RUN_DIR=$WORK/run

txn_in() {
	local ns=$1
	shift
	timeout "$TXN_STEP_TIMEOUT" nsenter --net="/run/netns/$ns" "$@"
}

txn_fail() {
	TXN_WHY=$1
	return 1
}

# The integer value of "NAME" in a flat JSON text (first occurrence).
txn_json() {
	printf '%s' "$1" | grep -o "\"$2\":-\?[0-9]\+" | head -n1 | grep -o -- '-\?[0-9]\+$'
}

# The value after NAME in a "name value name value" line.
txn_word() {
	printf '%s\n' "$1" | tr ' ' '\n' | grep -A1 -x "$2" | sed -n 2p
}

txn_stop_processes() {
	local pid
	for pid in "${TXN_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${TXN_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	TXN_PIDS=()
}

txn_teardown() {
	local ns
	txn_stop_processes
	[ -e "/run/netns/$TXN_NS_S" ] &&
		txn_in "$TXN_NS_S" "$ROOT/tlshim" detach dev vethS >/dev/null 2>&1
	"$ROOT/tlshim" unload >/dev/null 2>&1
	rmdir "$TLSHIM_PIN_DIR" 2>/dev/null
	for ns in "$TXN_NS_S" "$TXN_NS_M" "$TXN_NS_R"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TLSHIM_RUN_DIR"
	return 0
}

txn_family() {
	TXN_FAMILY=$1
	if [ "$1" = 6 ]; then
		TXN_SRC=fd78:1::1 TXN_LISTEN="[fd78:2::2]:$TXN_PORT"
	else
		TXN_SRC=10.78.1.1 TXN_LISTEN="10.78.2.2:$TXN_PORT"
	fi
}

# TCP sizes its skbs by the device's gso_max_segs (read at connect); the
# device's TSO feature decides whether they are cut before the veth (in
# validate_xmit_skb, after tc egress) or passed whole.
txn_gso() {
	local segs=65535 tso=on
	case $1 in
	off) segs=1 ;;
	gso) tso=off ;;
	esac
	txn_in "$TXN_NS_S" ip link set dev vethS gso_max_segs "$segs" ||
		txn_fail "ip link set dev vethS gso_max_segs $segs failed" || return 1
	if command -v ethtool >/dev/null; then
		txn_in "$TXN_NS_S" ethtool -K vethS tso "$tso" ||
			txn_fail "ethtool -K vethS tso $tso failed" || return 1
	elif [ "$tso" = off ]; then
		txn_fail "ethtool not installed (Debian package ethtool): cannot turn TSO off"
		return 1
	fi
}

txn_setup() {
	local s=$TXN_NS_S m=$TXN_NS_M r=$TXN_NS_R
	txn_family 4
	ip netns add "$s" && ip netns add "$m" && ip netns add "$r" || txn_fail "ip netns add failed" || return 1
	ip link add vethS netns "$s" type veth peer name vethMS netns "$m" &&
	ip link add vethR netns "$r" type veth peer name vethMR netns "$m" ||
		txn_fail "cannot create the veth pairs" || return 1
	for ns in "$s" "$m" "$r"; do txn_in "$ns" ip link set lo up || txn_fail "lo up" || return 1; done
	txn_in "$s" ip addr add 10.78.1.1/24 dev vethS &&
	txn_in "$m" ip addr add 10.78.1.2/24 dev vethMS &&
	txn_in "$m" ip addr add 10.78.2.1/24 dev vethMR &&
	txn_in "$r" ip addr add 10.78.2.2/24 dev vethR &&
	txn_in "$s" ip -6 addr add fd78:1::1/64 dev vethS nodad &&
	txn_in "$m" ip -6 addr add fd78:1::2/64 dev vethMS nodad &&
	txn_in "$m" ip -6 addr add fd78:2::1/64 dev vethMR nodad &&
	txn_in "$r" ip -6 addr add fd78:2::2/64 dev vethR nodad ||
		txn_fail "addressing failed" || return 1
	for dev in "$s vethS" "$m vethMS" "$m vethMR" "$r vethR"; do
		set -- $dev
		txn_in "$1" ip link set "$2" up || txn_fail "link $2 up failed" || return 1
	done
	txn_in "$m" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null &&
	txn_in "$s" ip route add default via 10.78.1.2 &&
	txn_in "$r" ip route add default via 10.78.2.1 &&
	txn_in "$s" ip -6 route add default via fd78:1::2 &&
	txn_in "$r" ip -6 route add default via fd78:2::1 ||
		txn_fail "routing failed" || return 1
	txn_in "$s" "$ROOT/tlshim" attach dev vethS > "$WORK/attach.out" 2>&1 ||
		txn_fail "'tlshim attach dev vethS' failed: $(head -n2 "$WORK/attach.out" | tr '\n' ' ')" ||
		return 1
	return 0
}

txn_loss() {
	local pct=$1 ip_len
	if [ "$TXN_FAMILY" = 6 ]; then
		ip_len="ip6 saddr $TXN_SRC ip6 length > 60"	# a payload, not a pure ACK
	else
		ip_len="ip saddr $TXN_SRC ip length > 100"
	fi
	txn_in "$TXN_NS_M" nft delete table inet tlshim_tx_loss 2>/dev/null
	txn_in "$TXN_NS_M" nft -f - <<EOF || txn_fail "nft in M failed" || return 1
table inet tlshim_tx_loss {
	counter dropped {}
	chain forward_loss {
		type filter hook forward priority 0; policy accept;
		$ip_len tcp dport $TXN_PORT numgen random mod 100 < $pct counter name dropped drop
	}
}
EOF
}

# Counters in S's postrouting for the client's data skbs, per TCP header
# length d (nftables cannot subtract header lengths): seg_d packets, and
# bytes - packets * (IP + 4 d) payload bytes.
txn_count_install() {
	local cport=$1 d rules="" flow
	if [ "$TXN_FAMILY" = 6 ]; then
		flow="ip6 saddr $TXN_SRC tcp sport $cport tcp dport $TXN_PORT ip6 nexthdr tcp"
		for d in $(seq 5 15); do rules+="$flow tcp doff $d ip6 length > $((4 * d)) counter name seg_$d"$'\n'; done
	else
		flow="ip saddr $TXN_SRC tcp sport $cport tcp dport $TXN_PORT ip hdrlength 5"
		for d in $(seq 5 15); do rules+="$flow tcp doff $d ip length > $((20 + 4 * d)) counter name seg_$d"$'\n'; done
	fi
	txn_in "$TXN_NS_S" nft delete table inet tlshim_tx_count 2>/dev/null
	{
		echo "table inet tlshim_tx_count {"
		for d in $(seq 5 15); do echo "  counter seg_$d {}"; done
		echo "  chain post {"
		echo "    type filter hook postrouting priority 0; policy accept;"
		printf '%s' "$rules" | sed 's/^/    /'
		echo "  }"
		echo "}"
	} > "$WORK/count.nft"
	txn_in "$TXN_NS_S" nft -f "$WORK/count.nft" 2> "$WORK/nft.err" ||
		txn_fail "nft in S failed: $(head -n2 "$WORK/nft.err" | tr '\n' ' ')"
}

txn_count_read() {
	local hdr=20 name pkts bytes
	[ "$TXN_FAMILY" = 6 ] && hdr=40
	TXN_NFT_SKBS=0 TXN_NFT_BYTES=0
	while read -r name pkts bytes; do
		TXN_NFT_SKBS=$((TXN_NFT_SKBS + pkts))
		TXN_NFT_BYTES=$((TXN_NFT_BYTES + bytes - pkts * (hdr + 4 * ${name#seg_})))
	done < <(txn_in "$TXN_NS_S" nft list table inet tlshim_tx_count | awk '
		$1 == "counter" && $3 == "{" { name = $2 }
		$1 == "packets" && name != "" { print name, $2, $4; name = "" }')
	TXN_NFT_DROPPED=$(txn_in "$TXN_NS_M" nft list counter inet tlshim_tx_loss dropped |
		awk '$1 == "packets" { print $2 }')
}

# wait_line FILE REGEX PID
txn_wait_line() {
	local deadline=$((SECONDS + TXN_STEP_TIMEOUT))
	while ! grep -q "$2" "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || { grep -q "$2" "$1" 2>/dev/null; return; }
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

txn_wait_pid() {
	local pid=$1 rc i
	wait "$pid"
	rc=$?
	for i in "${!TXN_PIDS[@]}"; do [ "${TXN_PIDS[i]}" = "$pid" ] && unset 'TXN_PIDS[i]'; done
	TXN_PIDS=("${TXN_PIDS[@]}")
	return "$rc"
}

txn_transfer() {
	local records=$1 body=$2 write=${3:-$(($2 + 5))} spid cpid line ep seq cpu_c=0 cpu_s=1
	[ "$(nproc)" -ge 2 ] || cpu_s=0
	rm -f "$WORK/go" "$WORK"/server.* "$WORK"/client.*
	TXN_TOTAL=$((records * (body + 5)))
	timeout 120 nsenter --net="/run/netns/$TXN_NS_R" taskset -c "$cpu_s" \
		"$ROOT/build/tlssend" server --listen "$TXN_LISTEN" --timeout 60 \
		> "$WORK/server.out" 2> "$WORK/server.err" &
	spid=$!
	TXN_PIDS+=("$spid")
	txn_wait_line "$WORK/server.out" '^listening ' "$spid" ||
		{ txn_transfer_abort; txn_fail "server did not start: $(cat "$WORK/server.err")"; return 1; }
	# The sender pinned to one CPU: its segments reach tc egress in order.
	timeout 120 nsenter --net="/run/netns/$TXN_NS_S" taskset -c "$cpu_c" \
		"$ROOT/build/tlssend" client --connect "$TXN_LISTEN" --records "$records" \
		--record-size "$body" --write-size "$write" --wait-file "$WORK/go" --timeout 60 --tcp-info \
		> "$WORK/client.out" 2> "$WORK/client.err" &
	cpid=$!
	TXN_PIDS+=("$cpid")
	txn_wait_line "$WORK/client.out" '^local ' "$cpid" ||
		{ txn_transfer_abort; txn_fail "client did not connect: $(cat "$WORK/client.err")"; return 1; }
	line=$(grep '^local ' "$WORK/client.out")
	read -r _ ep _ _ _ seq <<<"$line"
	TXN_LOCAL=$ep TXN_START_SEQ=$seq
	txn_count_install "${ep##*:}" || { txn_transfer_abort; return 1; }
	if ! "$ROOT/tlshim" conn add tx "$ep" "$TXN_LISTEN" --tcp-seq "$seq" --rec-seq 0 \
		> "$WORK/conn_add.out" 2>&1; then
		txn_transfer_abort
		txn_fail "'tlshim conn add tx $ep $TXN_LISTEN --tcp-seq $seq' failed: $(cat "$WORK/conn_add.out")"
		return 1
	fi
	touch "$WORK/go"
	if ! txn_wait_pid "$cpid"; then
		txn_transfer_abort "$ep"
		txn_fail "client failed: $(cat "$WORK/client.err")"
		return 1
	fi
	if ! txn_wait_pid "$spid"; then
		txn_transfer_abort "$ep"
		txn_fail "server failed: $(cat "$WORK/server.err")"
		return 1
	fi
	TXN_TCP=$(grep '^tcp_info ' "$WORK/client.out")
	TXN_DEV=$("$ROOT/tlshim" conn list -j)
	TXN_STATS=$("$ROOT/tlshim" stats -j)
	txn_count_read
	txn_transfer_abort "$ep"
	grep -q "^received $TXN_TOTAL bytes $records records$" "$WORK/server.out" ||
		txn_fail "server: $(cat "$WORK/server.out")" || return 1
	[ -n "$TXN_TCP" ] || txn_fail "no tcp_info line from the client" || return 1
	return 0
}

# Leaves nothing of a transfer behind: processes, the connection.
txn_transfer_abort() {
	txn_stop_processes
	[ -n "${1:-}" ] && "$ROOT/tlshim" conn del tx "$1" "$TXN_LISTEN" >/dev/null 2>&1
	return 0
}
