#!/bin/bash
# End-to-end tests: the device on a real veth, real TCP, exact counters.
#
# Two network namespaces joined by a veth pair, MTU 1500:
#   A (client, sends records)  vethA 10.77.0.1/24  fd77::1/64
#   B (server, the "NIC")      vethB 10.77.0.2/24  fd77::2/64
# The device sits on vethB's receive side.  build/tlssend sends TLS-framed
# records from A to B; the connection is installed at the client's real
# write_seq (TCP_REPAIR), so on a clean veth every data segment must be
# decrypted.  nftables in B counts, independently of the device, the data
# segments of the flow (and their payload bytes) and those carrying the
# decrypted mark bit.
#
#   ip-tc-load        ip link ... xdp obj + tc filter ... obj, IPv4
#   attach-reuses-ip-tc-maps  tlshim attach after an ip/tc load shares its maps
#   tlshim-attach     tlshim attach / detach, IPv4
#   tlshim-attach-v6  tlshim attach / detach, IPv6
#
# Output follows tests/run.sh: ok NAME / FAIL NAME: WHY / skip NAME: WHY.
# Everything created here (namespaces, pins, processes, temp files) is
# removed on exit, failure or interrupt.  Refuses to run (skip) when tlshim
# maps are already pinned: it never touches a live setup.
#
# Notes for whoever edits this:
# - Namespaces are entered with nsenter --net, never `ip netns exec` / `ip -n`:
#   those remount /sys and the pins would land in a throwaway bpffs.
# - Client and server are pinned to one CPU each (taskset): a sending thread
#   that moves between CPUs can reorder veth traffic.
# - nft counts after XDP and TC ingress, so a GRO merge on vethB would show
#   up as fewer nft packets than decrypted ones.  GRO is off on vethB with
#   native XDP on this kernel (checked with ETHTOOL_GGRO); with ethtool
#   installed the script also turns it off explicitly.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD

TLSHIM=$ROOT/tlshim
TLSSEND=$ROOT/build/tlssend
BPF_OBJ=$ROOT/build/tlshim.bpf.o
BPFFS=/sys/fs/bpf
PIN_DIR=$BPFFS/tc/globals
unset TLSHIM_PIN_DIR		# the loader must use the dir ip(8)/tc(8) pin in

NS_A=tlshim-e2e-a-$$
NS_B=tlshim-e2e-b-$$
RECORDS=200
RECORD_SIZE=3000		# length field; 3005 bytes per record on the wire
WRITE_SIZE=3005
MARK=0x00100000			# TLSHIM_DEFAULT_MARK
NFT_TABLE=tlshim_e2e
TESTS=(ip-tc-load attach-reuses-ip-tc-maps tlshim-attach tlshim-attach-v6)
STEP_TIMEOUT=30			# seconds, any single command or wait

WORK=""
PIDS=()
PINS_OURS=0			# 1 once we know every tlshim_* pin is ours
CREATED_PATHS=()		# bpffs entries that did not exist when we started
FAILED=0

log() { printf '  %s\n' "$*"; }

stop_processes() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	PIDS=()
}

cleanup() {
	local ns
	trap - EXIT INT TERM
	stop_processes
	for ns in "$NS_A" "$NS_B"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	remove_pins
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Our pins, then the directories/symlinks ip(8) and tc(8) made (only those
# that were not there before we started, and only if empty).
remove_pins() {
	local i p
	[ "$PINS_OURS" = 1 ] || return 0
	rm -f "$PIN_DIR"/tlshim_*
	for ((i = ${#CREATED_PATHS[@]} - 1; i >= 0; i--)); do
		p=${CREATED_PATHS[i]}
		if [ -L "$p" ]; then
			rm -f "$p"
		elif [ -d "$p" ]; then
			rmdir "$p" 2>/dev/null
		fi
	done
}

in_a() { timeout "$STEP_TIMEOUT" nsenter --net="/run/netns/$NS_A" "$@"; }
in_b() { timeout "$STEP_TIMEOUT" nsenter --net="/run/netns/$NS_B" "$@"; }

# ---- preflight --------------------------------------------------------

skip_all() {
	local t
	for t in "${TESTS[@]}"; do
		echo "skip $t: $1"
	done
	exit 0
}

fail_all() {
	local t
	for t in "${TESTS[@]}"; do
		echo "FAIL $t: $1"
	done
	exit 1
}

[ "$(id -u)" = 0 ] || skip_all "needs root (netns, XDP, bpffs)"
for tool in ip tc nsenter taskset timeout; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done
command -v nft >/dev/null ||
	skip_all "nft not installed (Debian package nftables): it counts the segments independently"
grep -qs " $BPFFS bpf " /proc/mounts || skip_all "no bpffs mounted at $BPFFS"
for f in "$BPF_OBJ" "$TLSSEND" "$TLSHIM"; do
	[ -e "$f" ] || fail_all "${f#"$ROOT"/} missing (run make)"
done
if compgen -G "$PIN_DIR/tlshim_*" >/dev/null; then
	skip_all "tlshim maps already pinned in $PIN_DIR (a live setup; this test will not touch it: run 'tlshim unload' first)"
fi
for p in "$BPFFS/tc" "$PIN_DIR" "$BPFFS/ip" "$BPFFS/xdp"; do
	[ -e "$p" ] || [ -L "$p" ] || CREATED_PATHS+=("$p")
done
PINS_OURS=1
WORK=$(mktemp -d /tmp/tlshim-e2e.XXXXXX) || fail_all "mktemp failed"
export TLSHIM_RUN_DIR=$WORK/run	# lock and attach records, removed with WORK

if [ "$(nproc)" -ge 2 ]; then
	CPU_CLIENT=0 CPU_SERVER=1
else
	CPU_CLIENT=0 CPU_SERVER=0
fi

# The maps the object defines (the .maps section); all are pinned by name.
object_maps() {
	local maps
	maps=$(bpftool btf dump file "$BPF_OBJ" 2>/dev/null |
		sed -n "/DATASEC '.maps'/,/^\[/s/.*(VAR '\([^']*\)').*/\1/p")
	[ -n "$maps" ] || maps="tlshim_conns tlshim_keys tlshim_sw_conns tlshim_config tlshim_stats tlshim_device"
	echo "$maps" | tr '\n' ' '
}

# ---- per-test state and assertions -------------------------------------

WHY=""

# expect NAME EXPECTED ACTUAL: appends to WHY on mismatch.
expect() {
	if [ "$2" != "$3" ]; then
		WHY="${WHY:+$WHY; }$1: expected $2, got ${3:-<none>}"
		return 1
	fi
}

# The integer value of "NAME": N in a JSON text (tlshim stats -j is flat).
json_int() {
	printf '%s' "$1" | grep -o "\"$2\"[[:space:]]*:[[:space:]]*-\?[0-9]\+" |
		head -n1 | grep -o -- '-\?[0-9]\+$'
}

# wait_line FILE REGEX PID: until FILE has a line matching REGEX; fails early
# if PID exits first.
wait_line() {
	local deadline=$((SECONDS + STEP_TIMEOUT))
	while ! grep -q "$2" "$1" 2>/dev/null; do
		if ! kill -0 "$3" 2>/dev/null; then
			grep -q "$2" "$1" 2>/dev/null && return 0
			return 1
		fi
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

# wait_pid PID: its exit status.  Every background process runs under
# timeout(1), so this is bounded.
wait_pid() {
	local pid=$1 rc i
	wait "$pid"
	rc=$?
	for i in "${!PIDS[@]}"; do
		[ "${PIDS[i]}" = "$pid" ] && unset 'PIDS[i]'
	done
	PIDS=("${PIDS[@]}")
	return "$rc"
}

setup_topology() {
	local family=$1
	ip netns add "$NS_A" && ip netns add "$NS_B" || { WHY="ip netns add failed"; return 1; }
	ip link add vethA netns "$NS_A" mtu 1500 type veth peer name vethB netns "$NS_B" mtu 1500 ||
		{ WHY="cannot create the veth pair"; return 1; }
	in_a ip link set lo up && in_b ip link set lo up &&
	in_a ip addr add 10.77.0.1/24 dev vethA &&
	in_b ip addr add 10.77.0.2/24 dev vethB || { WHY="addressing failed"; return 1; }
	if [ "$family" = 6 ]; then
		in_a ip -6 addr add fd77::1/64 dev vethA nodad &&
		in_b ip -6 addr add fd77::2/64 dev vethB nodad || { WHY="IPv6 addressing failed"; return 1; }
	fi
	in_a ip link set vethA up && in_b ip link set vethB up || { WHY="link up failed"; return 1; }
	if command -v ethtool >/dev/null; then
		in_b ethtool -K vethB gro off >/dev/null 2>&1 && log "ethtool: gro off on vethB"
	fi
	return 0
}

teardown_topology() {
	stop_processes
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -f "$PIN_DIR"/tlshim_*
	find "$WORK" -maxdepth 1 -type f -delete
}

# nft counters in B for the client's packets of one flow: per TCP header
# length d, the segments with payload (seg_d: L3 length > IP + 4*d) so that
# payload bytes = bytes - packets * (IP + 4*d); every packet with the mark
# bit (marked); packets the per-d rules cannot size (odd: IP options or IPv6
# extension headers).  Priority raw: after XDP and tc ingress, before
# anything could drop.
nft_install() {
	local family=$1 caddr=$2 cport=$3 saddr=$4 sport=$5 d rules="" flow
	if [ "$family" = 6 ]; then
		flow="ip6 saddr $caddr ip6 daddr $saddr tcp sport $cport tcp dport $sport"
		rules+="$flow ip6 nexthdr != tcp counter name odd"$'\n'
		for d in $(seq 5 15); do
			rules+="$flow ip6 nexthdr tcp tcp doff $d ip6 length > $((4 * d)) counter name seg_$d"$'\n'
		done
	else
		flow="ip saddr $caddr ip daddr $saddr tcp sport $cport tcp dport $sport"
		rules+="$flow ip hdrlength != 5 counter name odd"$'\n'
		for d in $(seq 5 15); do
			rules+="$flow ip hdrlength 5 tcp doff $d ip length > $((20 + 4 * d)) counter name seg_$d"$'\n'
		done
	fi
	rules+="$flow meta mark & $MARK == $MARK counter name marked"$'\n'
	{
		echo "table inet $NFT_TABLE {"
		echo "  counter odd {}"
		echo "  counter marked {}"
		for d in $(seq 5 15); do echo "  counter seg_$d {}"; done
		echo "  chain pre {"
		echo "    type filter hook prerouting priority raw; policy accept;"
		printf '%s' "$rules" | sed 's/^/    /'
		echo "  }"
		echo "}"
	} > "$WORK/nft.conf"
	in_b nft -f "$WORK/nft.conf" 2> "$WORK/nft.err" ||
		{ WHY="nft -f failed: $(head -n3 "$WORK/nft.err" | tr '\n' ' ')"; return 1; }
}

# Prints "NAME PACKETS BYTES" per counter of our table.
nft_counters() {
	in_b nft list table inet "$NFT_TABLE" | awk '
		$1 == "counter" && $3 == "{" { name = $2 }
		$1 == "packets" && name != "" { print name, $2, $4; name = "" }'
}

# run_traffic FAMILY: server in B, client in A, install the rx connection at
# the client's write_seq, send, and check every counter exactly.
run_traffic() {
	local family=$1 caddr saddr listen spid cpid line local_ep write_seq cport sport
	local before after name pkts bytes d seg_pkts=0 seg_bytes=0 odd=0 marked=0 hdr
	local total=$((RECORDS * (RECORD_SIZE + 5))) k v0 v1
	local -A delta
	if [ "$family" = 6 ]; then
		caddr=fd77::1 saddr=fd77::2 listen="[fd77::2]:4433" hdr=40
	else
		caddr=10.77.0.1 saddr=10.77.0.2 listen="10.77.0.2:4433" hdr=20
	fi

	timeout 60 nsenter --net="/run/netns/$NS_B" taskset -c "$CPU_SERVER" \
		"$TLSSEND" server --listen "$listen" --timeout 20 \
		> "$WORK/server.out" 2> "$WORK/server.err" &
	spid=$!
	PIDS+=("$spid")
	wait_line "$WORK/server.out" '^listening ' "$spid" ||
		{ WHY="server did not start: $(cat "$WORK/server.err")"; return 1; }
	sport=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$WORK/server.out")

	timeout 60 nsenter --net="/run/netns/$NS_A" taskset -c "$CPU_CLIENT" \
		"$TLSSEND" client --connect "$listen" --records "$RECORDS" \
		--record-size "$RECORD_SIZE" --write-size "$WRITE_SIZE" \
		--wait-file "$WORK/go" --timeout 20 \
		> "$WORK/client.out" 2> "$WORK/client.err" &
	cpid=$!
	PIDS+=("$cpid")
	wait_line "$WORK/client.out" '^local ' "$cpid" ||
		{ WHY="client did not connect: $(cat "$WORK/client.err")"; return 1; }
	line=$(grep '^local ' "$WORK/client.out")
	log "client: $line"
	read -r _ local_ep _ _ _ write_seq <<<"$line"
	cport=${local_ep##*:}
	[[ "$cport" =~ ^[0-9]+$ && "$write_seq" =~ ^[0-9]+$ ]] ||
		{ WHY="cannot parse the client's line: $line"; return 1; }

	nft_install "$family" "$caddr" "$cport" "$saddr" "$sport" || return 1
	if ! timeout "$STEP_TIMEOUT" "$TLSHIM" conn add rx "$local_ep" "$listen" \
		--tcp-seq "$write_seq" --rec-seq 0 --version 1.2 --cipher aes-gcm-128 \
		> "$WORK/conn_add.out" 2>&1; then
		WHY="'tlshim conn add rx $local_ep $listen --tcp-seq $write_seq ...' failed: $(head -n2 "$WORK/conn_add.out" | tr '\n' ' ')"
		return 1
	fi
	before=$(timeout "$STEP_TIMEOUT" "$TLSHIM" stats -j) ||
		{ WHY="'tlshim stats -j' failed before traffic"; return 1; }

	touch "$WORK/go"
	wait_pid "$cpid" || { WHY="client failed: $(cat "$WORK/client.err")"; return 1; }
	wait_pid "$spid" || { WHY="server failed: $(cat "$WORK/server.err")"; return 1; }
	expect "server" "received $total bytes $RECORDS records" \
		"$(grep '^received ' "$WORK/server.out")" || return 1

	after=$(timeout "$STEP_TIMEOUT" "$TLSHIM" stats -j) ||
		{ WHY="'tlshim stats -j' failed after traffic"; return 1; }
	for k in rx_tls_decrypted_packets rx_tls_decrypted_bytes rx_tls_records rx_tls_err \
		 rx_tls_passed_packets rx_tls_old_packets rx_tls_lost_sync; do
		v0=$(json_int "$before" "$k")
		v1=$(json_int "$after" "$k")
		if [ -z "$v0" ] || [ -z "$v1" ]; then
			WHY="counter $k missing from 'tlshim stats -j'"
			return 1
		fi
		delta[$k]=$((v1 - v0))
	done

	while read -r name pkts bytes; do
		case $name in
		seg_*)
			d=${name#seg_}
			seg_pkts=$((seg_pkts + pkts))
			seg_bytes=$((seg_bytes + bytes - pkts * (hdr + 4 * d)))
			;;
		odd) odd=$pkts ;;
		marked) marked=$pkts ;;
		esac
	done < <(nft_counters)
	log "nft: $seg_pkts data segments, $seg_bytes payload bytes, $marked marked, $odd unsized"
	log "device: ${delta[rx_tls_decrypted_packets]} decrypted packets, ${delta[rx_tls_decrypted_bytes]} bytes, ${delta[rx_tls_records]} records, ${delta[rx_tls_passed_packets]} passed, ${delta[rx_tls_err]} errors"

	# The independent count first: if it is off, the device's numbers mean nothing.
	# A loaded machine can make TCP retransmit spuriously even on veth: the
	# copies are old data, passed untouched.  So the exact claims are:
	# every byte decrypted exactly once, every nft-counted data segment
	# either decrypted or passed as old, nothing else passed.
	[ "$seg_bytes" -ge "$total" ] ||
		WHY="${WHY:+$WHY; }nft payload bytes (sanity of the independent count): expected >= $total, got $seg_bytes"
	expect "nft packets of unexpected header layout" 0 "$odd"
	[ "$seg_pkts" -gt 0 ] || WHY="${WHY:+$WHY; }nft saw no data segments"
	expect "decrypted + passed packets (nft data segments)" "$seg_pkts" \
		"$((delta[rx_tls_decrypted_packets] + delta[rx_tls_passed_packets]))"
	expect rx_tls_decrypted_bytes "$total" "${delta[rx_tls_decrypted_bytes]}"
	expect rx_tls_records "$RECORDS" "${delta[rx_tls_records]}"
	expect rx_tls_err 0 "${delta[rx_tls_err]}"
	expect "rx_tls_passed_packets (all of them retransmissions)" \
		"${delta[rx_tls_old_packets]}" "${delta[rx_tls_passed_packets]}"
	expect rx_tls_lost_sync 0 "${delta[rx_tls_lost_sync]}"
	[ "${delta[rx_tls_passed_packets]}" -eq 0 ] ||
		log "${delta[rx_tls_passed_packets]} retransmitted segments passed as old data"
	expect "packets with mark $MARK" "${delta[rx_tls_decrypted_packets]}" "$marked"
	if [ -n "$WHY" ]; then
		log "tlshim conn list -j: $(timeout "$STEP_TIMEOUT" "$TLSHIM" conn list -j 2>&1)"
		return 1
	fi

	timeout "$STEP_TIMEOUT" "$TLSHIM" conn del rx "$local_ep" "$listen" > "$WORK/conn_del.out" 2>&1 ||
		{ WHY="'tlshim conn del rx $local_ep $listen' failed: $(head -n2 "$WORK/conn_del.out" | tr '\n' ' ')"; return 1; }
	return 0
}

check_pins() {
	local m missing=""
	for m in $(object_maps); do
		[ -e "$PIN_DIR/$m" ] || missing+=" $m"
	done
	[ -z "$missing" ] || { WHY="maps not pinned in $PIN_DIR:$missing"; return 1; }
}

# XDP mode on vethB: native, generic, or none.
xdp_mode() {
	local out
	out=$(in_b ip -d link show dev vethB)
	if grep -q 'prog/xdpgeneric' <<<"$out"; then
		echo generic
	elif grep -q 'prog/xdp ' <<<"$out"; then
		echo native
	elif grep -q 'prog/xdp' <<<"$out"; then
		echo other
	else
		echo none
	fi
}

# What attach may add and detach must take away again.
device_snapshot() {
	echo "xdp: $(xdp_mode)"
	echo "qdiscs:"
	in_b tc qdisc show dev vethB
	echo "ingress filters:"
	in_b tc filter show dev vethB ingress 2>/dev/null
	echo "egress filters:"
	in_b tc filter show dev vethB egress 2>/dev/null
}

# What attach could create in bpffs: the pin directory and what ip/tc use.
# (Not all of bpffs: other tlshim runs on the machine pin elsewhere.)
bpffs_snapshot() {
	find "$BPFFS/tc" "$BPFFS/ip" "$BPFFS/xdp" -mindepth 0 2>/dev/null |
		grep -v "^$PIN_DIR/tlshim_" | sort
}

# ---- tests ------------------------------------------------------------

test_ip_tc_load() {
	local mode
	setup_topology 4 || return 1
	if in_b ip link set dev vethB xdp obj "$BPF_OBJ" sec xdp 2> "$WORK/ip.err"; then
		:
	elif in_b ip link set dev vethB xdpgeneric obj "$BPF_OBJ" sec xdp 2>> "$WORK/ip.err"; then
		log "native XDP refused, using xdpgeneric: $(head -n1 "$WORK/ip.err")"
	else
		WHY="ip link set dev vethB xdp obj ... sec xdp failed: $(head -n3 "$WORK/ip.err" | tr '\n' ' ')"
		return 1
	fi
	mode=$(xdp_mode)
	log "xdp mode: $mode (ip link)"
	[ "$mode" = native ] || [ "$mode" = generic ] || { WHY="no XDP program on vethB after ip link (mode $mode)"; return 1; }
	in_b tc qdisc add dev vethB clsact ||
		{ WHY="tc qdisc add dev vethB clsact failed"; return 1; }
	in_b tc filter add dev vethB ingress bpf da obj "$BPF_OBJ" sec classifier 2> "$WORK/tc.err" ||
		{ WHY="tc filter add ... sec classifier failed: $(head -n3 "$WORK/tc.err" | tr '\n' ' ')"; return 1; }
	# The transmit side too: tc loads it on its own and must share the pins.
	in_b tc filter add dev vethB egress bpf da obj "$BPF_OBJ" sec tc 2> "$WORK/tc.err" ||
		{ WHY="tc filter add ... egress ... sec tc failed: $(head -n3 "$WORK/tc.err" | tr '\n' ' ')"; return 1; }
	check_pins || return 1

	run_traffic 4 || return 1

	in_b ip link set dev vethB xdp off || { WHY="ip link set dev vethB xdp off failed"; return 1; }
	in_b ip link set dev vethB xdpgeneric off 2>/dev/null
	in_b tc qdisc del dev vethB clsact || { WHY="tc qdisc del dev vethB clsact failed"; return 1; }
	expect "xdp after 'xdp off'" none "$(xdp_mode)" || return 1
	rm -f "$PIN_DIR"/tlshim_*
	! compgen -G "$PIN_DIR/tlshim_*" >/dev/null || { WHY="cannot remove the pins"; return 1; }
	return 0
}

test_tlshim_attach() {
	local family=$1 mode pre_dev pre_fs post_dev post_fs
	setup_topology "$family" || return 1
	pre_dev=$(device_snapshot)
	pre_fs=$(bpffs_snapshot)
	if ! in_b "$TLSHIM" attach dev vethB > "$WORK/attach.out" 2>&1; then
		WHY="'tlshim attach dev vethB' (in B) failed: $(head -n3 "$WORK/attach.out" | tr '\n' ' ')"
		return 1
	fi
	log "attach: $(head -n1 "$WORK/attach.out")"
	mode=$(xdp_mode)
	log "xdp mode: $mode (tlshim attach)"
	[ "$mode" = native ] || [ "$mode" = generic ] || { WHY="no XDP program on vethB after attach (mode $mode)"; return 1; }
	in_b tc filter show dev vethB ingress 2>/dev/null | grep -q tlshim_rx_mark ||
		{ WHY="no tlshim_rx_mark filter on vethB ingress after attach"; return 1; }
	check_pins || return 1

	run_traffic "$family" || return 1

	if ! in_b "$TLSHIM" detach dev vethB > "$WORK/detach.out" 2>&1; then
		WHY="'tlshim detach dev vethB' (in B) failed: $(head -n3 "$WORK/detach.out" | tr '\n' ' ')"
		return 1
	fi
	post_dev=$(device_snapshot)
	post_fs=$(bpffs_snapshot)
	if [ "$pre_dev" != "$post_dev" ]; then
		WHY="detach did not restore vethB: $(diff <(echo "$pre_dev") <(echo "$post_dev") | grep '^[<>]' | tr '\n' ' ')"
		return 1
	fi
	# Map pins stay (by design); anything else attach pinned must be gone.
	post_fs=$(comm -13 <(echo "$pre_fs") <(echo "$post_fs") |
		grep -vxF -e "$BPFFS/tc" -e "$PIN_DIR" -e "$BPFFS/ip" -e "$BPFFS/xdp")
	[ -z "$post_fs" ] || { WHY="detach left in bpffs: $(echo "$post_fs" | tr '\n' ' ')"; return 1; }
	return 0
}

# The map ids the XDP program on IFACE (in namespace NS) uses, sorted.
xdp_map_ids() {
	local prog
	prog=$(timeout "$STEP_TIMEOUT" nsenter --net="/run/netns/$1" ip -d link show dev "$2" |
		sed -n 's/.*prog\/xdp[a-z]* id \([0-9]*\).*/\1/p' | head -n1)
	[ -n "$prog" ] || return 1
	bpftool prog show id "$prog" | sed -n 's/.*map_ids \([0-9,]*\).*/\1/p' | tr ',' '\n' | sort -n | tr '\n' ' '
}

test_attach_reuses_ip_tc_maps() {
	local ids_b ids_a conns_id
	setup_topology 4 || return 1
	in_b ip link set dev vethB xdp obj "$BPF_OBJ" sec xdp 2> "$WORK/ip.err" ||
		{ WHY="ip link set dev vethB xdp obj failed: $(head -n2 "$WORK/ip.err" | tr '\n' ' ')"; return 1; }
	check_pins || return 1
	in_a "$TLSHIM" attach dev vethA > "$WORK/attach.out" 2>&1 ||
		{ WHY="'tlshim attach dev vethA' after an ip load failed: $(head -n2 "$WORK/attach.out" | tr '\n' ' ')"; return 1; }
	ids_b=$(xdp_map_ids "$NS_B" vethB) || { WHY="no XDP program on vethB"; return 1; }
	ids_a=$(xdp_map_ids "$NS_A" vethA) || { WHY="no XDP program on vethA"; return 1; }
	conns_id=$(bpftool map show pinned "$PIN_DIR/tlshim_conns" | sed -n 's/^\([0-9]*\): .*/\1/p')
	log "map ids: ip-loaded $ids_b, tlshim-attached $ids_a, pinned tlshim_conns $conns_id"
	expect "maps of the tlshim-attached program" "$ids_b" "$ids_a" || return 1
	grep -qw "$conns_id" <<<"$ids_a" || { WHY="pinned tlshim_conns ($conns_id) not used by the program"; return 1; }
	in_a "$TLSHIM" detach dev vethA > /dev/null 2>&1 || { WHY="detach dev vethA failed"; return 1; }
	in_b ip link set dev vethB xdp off
	return 0
}

run_test() {
	local name=$1
	shift
	WHY=""
	"$@"
	local rc=$?
	teardown_topology
	if [ "$rc" -eq 0 ] && [ -z "$WHY" ]; then
		echo "ok $name"
	else
		echo "FAIL $name: ${WHY:-exited $rc}"
		FAILED=1
	fi
}

run_test ip-tc-load test_ip_tc_load
run_test attach-reuses-ip-tc-maps test_attach_reuses_ip_tc_maps
run_test tlshim-attach test_tlshim_attach 4
run_test tlshim-attach-v6 test_tlshim_attach 6
exit $FAILED
