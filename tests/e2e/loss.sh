#!/bin/bash
# End-to-end tests of the loss injector (build/tlsloss) and tools/nft_loss.sh
# on real TCP: two namespaces joined by a veth pair, the sender's skbs one
# MSS each (TSO/GSO off, gso_max_segs 1), build/tlssend sending TLS-framed
# records of exactly one MSS (5-byte header + MSS - 5), so record K starts
# at write_seq + K * MSS and is the first byte of a segment.
#
#   loss-header-egress-v4   header:5 on the sender's egress: one segment
#                           dropped, at record 5's header seq; the stack
#                           believes it left (TC_ACT_STOLEN), so it is wire
#                           loss: TCP retransmits it (total_retrans >= 1)
#                           and bytes_sent = stream + bytes_retrans
#   loss-header-ingress-v6  header:7 on the receiver's ingress (wire loss):
#                           one segment dropped at record 7's seq, TCP
#                           really retransmits (total_retrans >= 1)
#   loss-nth-seed-v4        nth:10,seed=4 on the receiver's ingress: the
#                           dropped data-segment indexes are exactly
#                           4, 14, 24, ... below the data segments seen,
#                           which are TCP's data_segs_out
#   loss-cli                bad arguments: exit 2, one line naming the field,
#                           nothing pinned or attached; clsact ownership
#   loss-nft                nft_loss.sh add 100% blocks TCP, del removes it
# Every transfer must complete with all records received.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
TESTS=(loss-header-egress-v4 loss-header-ingress-v6 loss-nth-seed-v4 loss-cli loss-nft)
NS_S=tl-loss-s-$$
NS_R=tl-loss-r-$$
PIN=/sys/fs/bpf/tl-loss-$$
PORT=4460
RECORDS=40
PIDS=()

skip_all() {
	local t
	for t in "${TESTS[@]}"; do echo "skip $t: $1"; done
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root (netns, tc, bpffs)"
for tool in ip nsenter ethtool nft timeout tc; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done
grep -qs " /sys/fs/bpf bpf " /proc/mounts || skip_all "no bpffs mounted at /sys/fs/bpf"
for f in build/tlsloss build/tlssend tools/nft_loss.sh; do
	[ -x "$f" ] || { for t in "${TESTS[@]}"; do echo "FAIL $t: $f missing (run make)"; done; exit 1; }
done

WORK=$(mktemp -d /tmp/tl-loss.XXXXXX) || exit 1
cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	"$ROOT/build/tlsloss" unload --pin "$PIN" >/dev/null 2>&1
	rm -rf "$PIN" 2>/dev/null
	if [ -e "$PIN-tlshim" ]; then
		TLSHIM_PIN_DIR=$PIN-tlshim TLSHIM_RUN_DIR=$WORK/tlshim-run "$ROOT/tlshim" unload >/dev/null 2>&1
		rmdir "$PIN-tlshim" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_s() { timeout 60 nsenter --net="/run/netns/$NS_S" "$@"; }
in_r() { timeout 60 nsenter --net="/run/netns/$NS_R" "$@"; }
log() { echo "    $*"; }
WHY=""
expect() {	# NAME EXPECTED ACTUAL
	[ "$2" = "$3" ] || WHY="${WHY:+$WHY; }$1: expected $2, got ${3:-<none>}"
}
holds() {	# NAME CONDITION-STATUS
	[ "$2" = 0 ] || WHY="${WHY:+$WHY; }$1 does not hold"
}
result() {	# NAME
	if [ -z "$WHY" ]; then echo "ok $1"; else echo "FAIL $1: $WHY"; fi
	WHY=""
}
# The value after NAME in a "name value name value" line.
word() { printf '%s\n' "$1" | tr ' ' '\n' | grep -A1 -x "$2" | sed -n 2p; }

setup() {
	ip netns add "$NS_S" && ip netns add "$NS_R" || return 1
	ip link add tl-loss-s$$ type veth peer name tl-loss-r$$ || return 1
	ip link set tl-loss-s$$ netns "$NS_S" name tlS && ip link set tl-loss-r$$ netns "$NS_R" name tlR || return 1
	in_s ip link set lo up && in_r ip link set lo up
	in_s ip addr add 10.203.0.1/24 dev tlS && in_r ip addr add 10.203.0.2/24 dev tlR
	in_s ip addr add fd03::1/64 dev tlS nodad && in_r ip addr add fd03::2/64 dev tlR nodad
	# one MSS per skb at tc egress: TCP builds GSO skbs whenever it can, and
	# software GSO cuts them only after tc egress; gso_max_segs 1 stops it
	in_s ethtool -K tlS tso off gso off >/dev/null || return 1
	in_s ip link set dev tlS gso_max_segs 1 || return 1
	in_r ethtool -K tlR gro off >/dev/null 2>&1
	# timestamps on: MSS = MTU 1500 - IP - TCP 20 - 12 (the option)
	in_s sysctl -qw net.ipv4.tcp_timestamps=1
	in_s ip link set tlS up && in_r ip link set tlR up
}

# transfer SERVER_ADDR RECORDS BODY: one tlssend transfer S -> R.  Sets
# WRITE_SEQ, TCPINFO (tlssend's tcp_info line), RECEIVED (the server's line).
transfer() {
	local addr=$1 records=$2 body=$3 out
	in_r "$ROOT/build/tlssend" server --listen "$addr:$PORT" --count-file "$WORK/count" \
		--timeout 40 >"$WORK/server" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do grep -q listening "$WORK/server" && break; sleep 0.1; done
	out=$(in_s "$ROOT/build/tlssend" client --connect "$addr:$PORT" --records "$records" \
		--record-size "$body" --tcp-info --timeout 40 2>&1)
	wait "${PIDS[-1]}" 2>/dev/null
	unset 'PIDS[-1]'
	WRITE_SEQ=$(word "$(grep '^local' <<<"$out")" write_seq)
	TCPINFO=$(grep '^tcp_info' <<<"$out")
	RECEIVED=$(cat "$WORK/count" 2>/dev/null)
	rm -f "$WORK/count"
	log "client: $(tr '\n' '|' <<<"$out")"
	log "server: ${RECEIVED:-<nothing>}"
}

# The "drop ..." lines of tlsloss show, and a field of one.
show() { "$@" "$ROOT/build/tlsloss" show --pin "$PIN"; }

# header_test NAME WHERE(egress|ingress) FAMILY K
header_test() {
	local name=$1 where=$2 fam=$3 k=$4 mss addr out drops dev ns
	if [ "$fam" = 4 ]; then mss=1448; addr=10.203.0.2; else mss=1428; addr=[fd03::2]; fi
	if [ "$where" = egress ]; then dev=tlS; ns=in_s; else dev=tlR; ns=in_r; fi
	if ! out=$($ns "$ROOT/build/tlsloss" attach dev $dev $where "header:$k" --port $PORT --pin "$PIN" 2>&1); then
		echo "FAIL $name: attach: $out"; return
	fi
	transfer "$addr" $RECORDS $((mss - 5))
	out=$(show $ns)
	log "$(tr '\n' '|' <<<"$out")"
	$ns "$ROOT/build/tlsloss" detach dev $dev $where >/dev/null
	"$ROOT/build/tlsloss" unload --pin "$PIN" >/dev/null
	drops=$(grep '^drop ' <<<"$out")
	expect "server received" "received $((RECORDS * mss)) bytes $RECORDS records" "$RECEIVED"
	expect "drops logged" 1 "$(grep -c . <<<"$drops")"
	expect "stats dropped" 1 "$(word "$(sed -n 2p <<<"$out")" dropped)"
	expect "dropped seq (record $k's header)" $(((WRITE_SEQ + k * mss) % 4294967296)) "$(word "$drops" seq)"
	expect "dropped offset" $((k * mss)) "$(word "$drops" offset)"
	expect "dropped record" "$k" "$(word "$drops" record)"
	expect "dropped len (one MSS)" "$mss" "$(word "$drops" len)"
	expect "dropped index (one record per segment)" "$k" "$(word "$drops" index)"
	expect "gso_skbs" 0 "$(word "$(sed -n 2p <<<"$out")" gso_skbs)"
	expect "walker" on "$(word "$(grep '^flow ' <<<"$out")" walker)"
	expect "records walked" "$RECORDS" "$(word "$(grep '^flow ' <<<"$out")" next_record)"
	expect "data segments = TCP's data_segs_out" "$(word "$TCPINFO" data_segs_out)" \
		"$(word "$(sed -n 2p <<<"$out")" data_segs)"
	if [ "$where" = egress ]; then
		# wire loss: TCP believes the segment left and repairs the
		# hole by retransmitting, as on a lossy link
		expect "bytes_sent = stream + bytes_retrans" \
			$((RECORDS * mss + $(word "$TCPINFO" bytes_retrans))) "$(word "$TCPINFO" bytes_sent)"
		holds "TCP retransmitted (total_retrans $(word "$TCPINFO" total_retrans) >= 1)" \
			"$([ "$(word "$TCPINFO" total_retrans)" -ge 1 ]; echo $?)"
	else
		holds "TCP retransmitted (total_retrans $(word "$TCPINFO" total_retrans) >= 1)" \
			"$([ "$(word "$TCPINFO" total_retrans)" -ge 1 ]; echo $?)"
	fi
	result "$name"
}

nth_test() {
	local name=loss-nth-seed-v4 out segs want got i
	if ! out=$(in_r "$ROOT/build/tlsloss" attach dev tlR ingress nth:10,seed=4 --port $PORT --pin "$PIN" 2>&1); then
		echo "FAIL $name: attach: $out"; return
	fi
	transfer 10.203.0.2 $RECORDS 1443
	out=$(show in_r)
	in_r "$ROOT/build/tlsloss" detach dev tlR ingress >/dev/null
	"$ROOT/build/tlsloss" unload --pin "$PIN" >/dev/null
	segs=$(word "$(sed -n 2p <<<"$out")" data_segs)
	want=""
	for ((i = 4; i < ${segs:-0}; i += 10)); do want="$want $i"; done
	got=$(grep '^drop ' <<<"$out" | while read -r line; do printf ' %s' "$(word "$line" index)"; done)
	log "data segments $segs, dropped indexes:$got"
	expect "server received" "received $((RECORDS * 1448)) bytes $RECORDS records" "$RECEIVED"
	expect "data segments = TCP's data_segs_out" "$(word "$TCPINFO" data_segs_out)" "$segs"
	holds "some segments dropped" "$([ -n "$got" ]; echo $?)"
	expect "dropped indexes" "$want" "$got"
	expect "stats dropped" "$(wc -w <<<"$want")" "$(word "$(sed -n 2p <<<"$out")" dropped)"
	holds "TCP retransmitted" "$([ "$(word "$TCPINFO" total_retrans)" -ge 1 ]; echo $?)"
	result "$name"
}

# expect_bad FIELD CMD...: exit 2, one stderr line naming FIELD, nothing on
# stdout, no pins, no filters or qdisc on tlS.
expect_bad() {
	local field=$1 out err rc before after
	shift
	before=$(in_s tc qdisc show dev tlS; in_s tc filter show dev tlS egress; ls "$PIN" 2>/dev/null)
	out=$("$@" 2>"$WORK/err"); rc=$?
	err=$(cat "$WORK/err")
	after=$(in_s tc qdisc show dev tlS; in_s tc filter show dev tlS egress; ls "$PIN" 2>/dev/null)
	if [ "$rc" != 2 ]; then WHY="${WHY:+$WHY; }'$*': exit $rc, want 2 ($err)"
	elif [ "$(grep -c . <<<"$err")" != 1 ]; then WHY="${WHY:+$WHY; }'$*': stderr not one line: $err"
	elif ! grep -q "bad $field" <<<"$err"; then WHY="${WHY:+$WHY; }'$*': does not name $field: $err"
	elif [ -n "$out" ]; then WHY="${WHY:+$WHY; }'$*': printed $out"
	elif [ "$before" != "$after" ]; then WHY="${WHY:+$WHY; }'$*': changed something"
	fi
}

cli_test() {
	local L=("$ROOT/build/tlsloss") name=loss-cli qd
	expect_bad command in_s "${L[@]}" frob
	expect_bad arguments in_s "${L[@]}" attach dev tlS egress
	expect_bad dev in_s "${L[@]}" attach dev nosuch0 egress nth:2 --pin "$PIN"
	expect_bad hook in_s "${L[@]}" attach dev tlS outward nth:2 --pin "$PIN"
	expect_bad spec in_s "${L[@]}" attach dev tlS egress nth:0 --pin "$PIN"
	expect_bad spec in_s "${L[@]}" attach dev tlS egress random:101% --pin "$PIN"
	expect_bad spec in_s "${L[@]}" attach dev tlS egress header:1,seed=3 --pin "$PIN"
	expect_bad spec in_s "${L[@]}" attach dev tlS egress drop:3 --pin "$PIN"
	expect_bad port in_s "${L[@]}" attach dev tlS egress nth:2 --port 0 --pin "$PIN"
	expect_bad port in_s "${L[@]}" attach dev tlS egress nth:2 --port 65536 --pin "$PIN"
	expect_bad flow in_s "${L[@]}" attach dev tlS egress nth:2 --flow 10.0.0.1:1 --pin "$PIN"
	expect_bad flow in_s "${L[@]}" attach dev tlS egress nth:2 --flow 10.0.0.1:1 10.0.0.300:2 --pin "$PIN"
	expect_bad flow in_s "${L[@]}" attach dev tlS egress nth:2 --flow 10.0.0.1:1 [fd03::2]:2 --pin "$PIN"
	expect_bad port in_s "${L[@]}" attach dev tlS egress nth:2 --flow 10.0.0.1:1 10.0.0.2:2 --port 5 --pin "$PIN"
	expect_bad pin in_s "${L[@]}" attach dev tlS egress nth:2 --pin relative/dir
	expect_bad option in_s "${L[@]}" attach dev tlS egress nth:2 --frob --pin "$PIN"
	expect_bad dev in_s "${L[@]}" detach dev tlS egress
	expect_bad pin in_s "${L[@]}" unload --pin "$PIN"

	# attached: a second attach on the hook, or another spec on the pin dir
	in_s "${L[@]}" attach dev tlS egress nth:3 --flow 10.203.0.1:1 10.203.0.2:2 --pin "$PIN" >/dev/null ||
		WHY="${WHY:+$WHY; }attach failed"
	expect_bad dev in_s "${L[@]}" attach dev tlS egress nth:3 --flow 10.203.0.1:1 10.203.0.2:2 --pin "$PIN"
	expect_bad pin in_s "${L[@]}" attach dev tlS ingress nth:4 --pin "$PIN"
	# the same spec on the other hook shares the pins
	in_s "${L[@]}" attach dev tlS ingress nth:3 --flow 10.203.0.1:1 10.203.0.2:2 --pin "$PIN" >/dev/null ||
		WHY="${WHY:+$WHY; }attach ingress with the same spec failed"
	expect "show's spec" "spec nth:3,seed=0 (flow 10.203.0.1:1 -> 10.203.0.2:2)" \
		"$(in_s "${L[@]}" show --pin "$PIN" | head -n1)"
	in_s "${L[@]}" detach dev tlS egress >/dev/null
	qd=$(in_s tc qdisc show dev tlS | grep -c clsact)
	expect "clsact kept while the ingress filter uses it" 1 "$qd"
	in_s "${L[@]}" detach dev tlS ingress >/dev/null
	expect "clsact tlsloss created removed with its last filter" 0 "$(in_s tc qdisc show dev tlS | grep -c clsact)"
	# a clsact someone else made stays
	in_s tc qdisc add dev tlS clsact
	in_s "${L[@]}" attach dev tlS egress nth:3 --flow 10.203.0.1:1 10.203.0.2:2 --pin "$PIN" >/dev/null
	in_s "${L[@]}" detach dev tlS egress >/dev/null
	expect "a clsact tlsloss did not create stays" 1 "$(in_s tc qdisc show dev tlS | grep -c clsact)"
	expect "no filter left" "" "$(in_s tc filter show dev tlS egress)"
	in_s tc qdisc del dev tlS clsact
	# beside tlshim on the same hooks: own handle, on egress a later
	# priority (the NIC transmits, then the wire loses);
	# detaching either leaves the other's filter and the clsact in place
	if [ -x "$ROOT/tlshim" ]; then
		export TLSHIM_PIN_DIR=$PIN-tlshim TLSHIM_RUN_DIR=$WORK/tlshim-run
		in_s "$ROOT/tlshim" attach dev tlS --mode generic >/dev/null || WHY="${WHY:+$WHY; }tlshim attach failed"
		in_s "${L[@]}" attach dev tlS egress nth:3 --flow 10.203.0.1:1 10.203.0.2:2 --pin "$PIN" >/dev/null ||
			WHY="${WHY:+$WHY; }attach beside tlshim failed"
		expect "egress filters: tlshim (pref 29717) before tlsloss (29728)" "29717 29728" \
			"$(in_s tc filter show dev tlS egress | grep -o 'pref [0-9]*' | sort -u | cut -d' ' -f2 | xargs)"
		in_s "${L[@]}" detach dev tlS egress >/dev/null
		expect "tlshim's egress filter stays" 29717 \
			"$(in_s tc filter show dev tlS egress | grep -o 'pref [0-9]*' | sort -u | cut -d' ' -f2 | xargs)"
		in_s "${L[@]}" attach dev tlS egress nth:3 --flow 10.203.0.1:1 10.203.0.2:2 --pin "$PIN" >/dev/null
		in_s "$ROOT/tlshim" detach dev tlS >/dev/null
		expect "tlsloss's filter stays when tlshim, which made the clsact, detaches" 29728 \
			"$(in_s tc filter show dev tlS egress | grep -o 'pref [0-9]*' | sort -u | cut -d' ' -f2 | xargs)"
		in_s "${L[@]}" detach dev tlS egress >/dev/null
		# neither removes it now (tlshim left it, tlsloss did not make it)
		expect "clsact left over" 1 "$(in_s tc qdisc show dev tlS | grep -c clsact)"
		in_s tc qdisc del dev tlS clsact 2>/dev/null
		"$ROOT/tlshim" unload >/dev/null 2>&1
		rmdir "$TLSHIM_PIN_DIR" 2>/dev/null
		unset TLSHIM_PIN_DIR TLSHIM_RUN_DIR
	fi
	"${L[@]}" unload --pin "$PIN" >/dev/null || WHY="${WHY:+$WHY; }unload failed"
	expect "pin dir removed" no "$([ -e "$PIN" ] && echo yes || echo no)"
	result "$name"
}

nft_test() {
	local name=loss-nft out rc
	if ! in_s nft list tables >/dev/null 2>&1; then
		echo "skip $name: nftables does not work here (kernel without nf_tables?)"
		return
	fi
	expect_bad PCT "$ROOT/tools/nft_loss.sh" add "$NS_S" tlS 0
	expect_bad PCT "$ROOT/tools/nft_loss.sh" add "$NS_S" tlS 5.5
	expect_bad IF "$ROOT/tools/nft_loss.sh" add "$NS_S" nosuch0 5
	expect_bad IF "$ROOT/tools/nft_loss.sh" del "$NS_S" tlS
	"$ROOT/tools/nft_loss.sh" add "$NS_S" tlS 100 || WHY="${WHY:+$WHY; }add failed"
	out=$(in_s "$ROOT/build/tlssend" client --connect 10.203.0.2:$PORT --records 1 --record-size 100 --timeout 2 2>&1)
	rc=$?
	expect "client fails with every TCP packet dropped" 1 "$rc"
	holds "the rule counted drops" "$("$ROOT/tools/nft_loss.sh" show "$NS_S" tlS | grep -q 'counter packets [1-9]'; echo $?)"
	"$ROOT/tools/nft_loss.sh" del "$NS_S" tlS || WHY="${WHY:+$WHY; }del failed"
	expect "table gone" "" "$(in_s nft list tables | grep nft_loss)"
	result "$name"
}

if ! setup; then
	for t in "${TESTS[@]}"; do echo "FAIL $t: cannot set up namespaces"; done
	exit 1
fi
header_test loss-header-egress-v4 egress 4 5
header_test loss-header-ingress-v6 ingress 6 7
nth_test
cli_test
nft_test
