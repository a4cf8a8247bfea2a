#!/bin/bash
# tlshim replay: captures through the device's own BPF programs.
#
# Fixtures are written at test time by build/pcapgen (tools/pcapgen.c) or
# captured with tcpdump from real traffic in namespaces; no binary capture
# is shipped.  Traffic of the generated captures: the server 10.0.0.1:443
# (ISN 1000, payload from seq 1001) sends records of 5 + 1000 bytes in
# 1000-byte segments to 10.0.0.2:5555; capture indexes 0-2 are SYN,
# SYN-ACK, ACK, so server data segment j is capture index 3 + j (one less
# after an omitted segment).  Record k starts at stream offset 1005 k.
#
#   replay-clean            every segment decrypted, exact counters
#   replay-loss-stream-scan segment 3 missing: exact verdicts, request and
#                           confirmation at the packets reasoned below
#   replay-loss-async       the same with the async policy
#   replay-link-types       Ethernet, SLL, SLL2, pcap ns/big-endian, pcapng
#                           (both byte orders, two interfaces): identical output
#   replay-ipv6             the same traffic over IPv6
#   replay-retransmission   a duplicate segment is old data
#   replay-tx               the transmit side: out-of-order segments replayed
#   replay-drop-header      --drop header:3 on the clean capture == the capture
#                           without that segment; nth:N drops exactly those
#   replay-auto-tls12       --auto finds the connection and its first app record
#   replay-auto-tls13       --auto: both directions, the relative server rule,
#                           --local makes the client's stream tx
#   replay-no-tls           --auto on a capture without TLS: said, exit 0
#   replay-bad-input        malformed files and arguments: exit 2, one line
#   replay-fuzz             every truncation and byte corruption of a capture:
#                           exit 0 or 2, never a crash
#   replay-private          nothing pinned, no run files left behind
#   replay-live-equals      tcpdump of a live run (tlshim attached on a veth,
#                           real TCP from build/tlssend), replayed with the same
#                           --conn: the same device counters as the live run;
#                           the live trace (tlshim run --trace) has the replay
#                           verdicts' keys and the same decrypted segments
# Output follows tests/run.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
TLSHIM=$ROOT/tlshim
GEN=$ROOT/build/pcapgen
TLSSEND=$ROOT/build/tlssend
NS_A=tr-replay-a-$$
NS_B=tr-replay-b-$$
PIN_DIR=/sys/fs/bpf/tr-replay-$$
CONN='rx 10.0.0.1:443 10.0.0.2:5555 --tcp-seq 1001'
WORK=""
PIDS=()

cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for ns in "$NS_A" "$NS_B"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	for d in "$PIN_DIR-rx" "$PIN_DIR-tx"; do
		[ -d "$d" ] || continue
		TLSHIM_PIN_DIR=$d TLSHIM_RUN_DIR=$WORK/run-x "$TLSHIM" unload > /dev/null 2>&1
		rm -f "$d"/tlshim_*
		rmdir "$d" 2>/dev/null
	done
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '  %s\n' "$*"; }
WHY=""
expect() {
	if [ "$2" != "$3" ]; then
		WHY="${WHY:+$WHY; }$1: expected $2, got ${3:-<none>}"
		return 1
	fi
}
json_int() {
	printf '%s' "$1" | grep -o "\"$2\":[0-9]*" | head -n1 | cut -d: -f2
}
result() {
	if [ -z "$WHY" ]; then echo "ok $1"; else echo "FAIL $1: $WHY"; fi
	WHY=""
}
# The verdict line of capture index $2 in file $1.
line_of() { grep "^{\"i\":$2," "$1"; }
# Field $3 (string or null) of line $2 in $1.
field() { line_of "$1" "$2" | grep -o "\"$3\":\(\"[^\"]*\"\|null\|true\|false\|[0-9]*\|\[[0-9,]*\]\)" | cut -d: -f2- | tr -d '"'; }

[ "$(id -u)" = 0 ] || { echo "skip replay: needs root (BPF test runs)"; exit 0; }
for f in "$TLSHIM" "$GEN" "$TLSSEND"; do
	[ -x "$f" ] || { echo "FAIL replay: ${f#"$ROOT"/} missing (run make)"; exit 1; }
done
WORK=$(mktemp -d /tmp/tr-replay.XXXXXX) || exit 1
cd "$WORK" || exit 1

replay() { "$TLSHIM" replay "$@"; }

# ---- replay-clean ----
"$GEN" clean.pcap
out=$(replay clean.pcap --conn "$CONN" -j --verdicts clean.jsonl 2>err.txt)
rc=$?
stats=$(head -n1 <<<"$out")
expect "status" 0 "$rc"
# 20 records of 1005 bytes = 20100 bytes: 20 full segments and one of 100
expect "decrypted packets" 21 "$(json_int "$stats" rx_tls_decrypted_packets)"
expect "decrypted bytes" 20100 "$(json_int "$stats" rx_tls_decrypted_bytes)"
expect "passed packets" 0 "$(json_int "$stats" rx_tls_passed_packets)"
expect "records" 20 "$(json_int "$stats" rx_tls_records)"
expect "rx_tls_ctx" 1 "$(json_int "$stats" rx_tls_ctx)"
# SYN-ACK, 21 data segments, FIN: the server's packets
expect "verdict lines" 23 "$(wc -l < clean.jsonl)"
expect "first data segment headers" "[1001]" "$(field clean.jsonl 3 headers)"
expect "segment 3 headers" "[4016]" "$(field clean.jsonl 6 headers)"
expect "segment 3 rec_sn" 2 "$(field clean.jsonl 6 rec_sn)"
expect "SYN-ACK" "passed no-payload" "$(field clean.jsonl 1 verdict) $(field clean.jsonl 1 reason)"
expect "connection line" 1 "$(grep -c '"conn":{"dir":"rx","src":"10.0.0.1:443","dst":"10.0.0.2:5555".*"decrypted_packets":21,.*"truth_records":20,"records_arrived":20,"records_offloaded":20,"state":"in-sync"' <<<"$out")"
result replay-clean

# ---- replay-loss-stream-scan ----
# Segment 3 (offsets 3000-3999) is missing.  Record 2 ends at 3015, so the
# hole may hold record 3's header (3015): segment 4 (index 6) loses the
# stream, lost at offset 3000.  Scanning starts one max-size record later:
# 3000 + 5 + 16408 = 19413, i.e. in segment 19 (index 21), which holds no
# header past 19413.  Segment 20 (index 22) finds record 20's header at
# 20100 (tracking, chain 1), segment 21 (index 23) completes the chain at
# record 21 (21105): the request.  The service answers from the truth
# (record 20) after that packet; segment 22 (index 24) applies it: confirmed,
# in sync, decrypted (record 21, whose start was tracked).
"$GEN" --records 40:1000 --omit 3 loss.pcap
for policy in stream-scan async; do
	out=$(replay loss.pcap --conn "$CONN --resync $policy" -j --verdicts "loss-$policy.jsonl" 2>err.txt)
	expect "$policy status" 0 "$?"
	stats=$(head -n1 <<<"$out")
	v=loss-$policy.jsonl
	expect "index 5" "decrypted null in-sync" "$(field $v 5 verdict) $(field $v 5 resync) $(field $v 5 state)"
	expect "index 6" "passed gap lost" "$(field $v 6 verdict) $(field $v 6 reason) $(field $v 6 state)"
	expect "index 20" "passed not-synced lost" "$(field $v 20 verdict) $(field $v 20 reason) $(field $v 20 state)"
	expect "index 21" "passed scanning" "$(field $v 21 verdict) $(field $v 21 state)"
	if [ "$policy" = async ]; then
		expect "index 22" "tracking request [21101]" "$(field $v 22 state) $(field $v 22 resync) $(field $v 22 headers)"
	else
		expect "index 22" "tracking null [21101]" "$(field $v 22 state) $(field $v 22 resync) $(field $v 22 headers)"
	fi
	expect "index 23" "passed requested request [22106]" \
		"$(field $v 23 verdict) $(field $v 23 state) $(field $v 23 resync) $(field $v 23 headers)"
	expect "index 24" "decrypted in-sync confirmed 21 [23111]" \
		"$(field $v 24 verdict) $(field $v 24 state) $(field $v 24 resync) $(field $v 24 rec_sn) $(field $v 24 headers)"
	expect "resync lines" "$([ $policy = async ] && echo 3 || echo 2)" "$(grep -c '"resync":"' $v)"
	# decrypted: segments 0-2 and 22-40 (19, the last of 200 bytes)
	expect "$policy decrypted packets" 22 "$(json_int "$stats" rx_tls_decrypted_packets)"
	expect "$policy decrypted bytes" 21200 "$(json_int "$stats" rx_tls_decrypted_bytes)"
	expect "$policy passed packets" 18 "$(json_int "$stats" rx_tls_passed_packets)"
	expect "$policy lost sync" 1 "$(json_int "$stats" rx_tls_lost_sync)"
	expect "$policy answers applied" 1 "$(json_int "$stats" rx_tls_resync_res_ok)"
	expect "$policy request packets" "$([ $policy = async ] && echo 1 || echo 1)" "$(json_int "$stats" rx_tls_resync_req_pkt)"
	# records fully offloaded (every byte's first arrival decrypted): of the
	# 40 records of 1005 bytes, 2 (2010-3015) and 3 (3015-4020) lost bytes
	# in the hole; 0-1 and 22-39 (from 22110, after segment 22 at 22000 was
	# decrypted) were decrypted whole; 4-21 had passed bytes
	conn=$(grep '^{"conn"' <<<"$out")
	expect "$policy records arrived whole" 38 "$(json_int "$conn" records_arrived)"
	expect "$policy records fully offloaded" 20 "$(json_int "$conn" records_offloaded)"
	result "replay-loss-$policy"
done

# ---- replay-link-types ----
# The lossy traffic in every container and link type: the same verdicts
# (timestamps included: every format holds them exactly) and counters.
"$GEN" --records 40:1000 --omit 3 ref.pcap
replay ref.pcap --conn "$CONN" -j --verdicts ref.jsonl > ref.out 2>&1
for variant in "pcap-ns eth" "pcap-be eth" "pcap sll" "pcap sll2" "pcapng eth" "pcapng-be sll" \
	       "pcapng sll2 --two-ifaces" "pcapng-be eth --two-ifaces"; do
	set -- $variant
	name="$1-$2${3:+-two}"
	"$GEN" --records 40:1000 --omit 3 --format "$1" --link "$2" ${3:-} "$name.cap"
	replay "$name.cap" --conn "$CONN" -j --verdicts "$name.jsonl" > "$name.out" 2>&1
	expect "$name status" 0 "$?"
	cmp -s ref.out "$name.out" || WHY="${WHY:+$WHY; }$name: output differs from Ethernet pcap"
	cmp -s ref.jsonl "$name.jsonl" || WHY="${WHY:+$WHY; }$name: verdicts differ from Ethernet pcap"
done
expect "reference has a confirmation" 1 "$(grep -c '"resync":"confirmed"' ref.jsonl)"
result replay-link-types

# ---- replay-ipv6 ----
"$GEN" --records 40:1000 --omit 3 --v6 v6.pcap
replay v6.pcap --conn "rx [fd00::1]:443 [fd00::2]:5555 --tcp-seq 1001" -j --verdicts v6.jsonl > v6.out 2>&1
expect "status" 0 "$?"
cmp -s <(head -n1 ref.out) <(head -n1 v6.out) || WHY="counters differ from IPv4"
cmp -s ref.jsonl <(sed 's/\[fd00::1\]:443/10.0.0.1:443/; s/\[fd00::2\]:5555/10.0.0.2:5555/' v6.jsonl) ||
	WHY="${WHY:+$WHY; }verdicts differ from IPv4 (addresses aside)"
result replay-ipv6

# ---- replay-retransmission ----
# Segment 5 sent again after segment 6: index 10 is old data.
"$GEN" --dup 5 dup.pcap
out=$(replay dup.pcap --conn "$CONN" -j --verdicts dup.jsonl)
stats=$(head -n1 <<<"$out")
expect "index 9 (segment 6)" "decrypted 7001" "$(field dup.jsonl 9 verdict) $(field dup.jsonl 9 seq)"
expect "index 10" "passed old 6001 null in-sync" \
	"$(field dup.jsonl 10 verdict) $(field dup.jsonl 10 reason) $(field dup.jsonl 10 seq) $(field dup.jsonl 10 rec_sn) $(field dup.jsonl 10 state)"
expect "decrypted" 21 "$(json_int "$stats" rx_tls_decrypted_packets)"
expect "old" 1 "$(json_int "$stats" rx_tls_old_packets)"
result replay-retransmission

# ---- replay-tx ----
# The same capture as the transmit side (tc): segment 5 (offset 5000, in
# record 4 which starts at 4020) resent after segment 6 is out of order:
# record 4's first 980 bytes replayed, then encrypted (index 10).  mlx5
# continues from the retransmission, so segment 7 (offset 7000, record 6 from
# 6030) is out of order too: 970 bytes replayed (index 11); index 12 is
# in order again.
out=$(replay dup.pcap --conn "tx 10.0.0.1:443 10.0.0.2:5555 --tcp-seq 1001" -j --verdicts tx.jsonl)
stats=$(head -n1 <<<"$out")
expect "index 10" "tx encrypted resync 980 4" \
	"$(field tx.jsonl 10 dir) $(field tx.jsonl 10 verdict) $(field tx.jsonl 10 tx_verdict) $(field tx.jsonl 10 dump_bytes) $(field tx.jsonl 10 rec_sn)"
expect "index 11" "encrypted resync 970 6 [8036]" \
	"$(field tx.jsonl 11 verdict) $(field tx.jsonl 11 tx_verdict) $(field tx.jsonl 11 dump_bytes) $(field tx.jsonl 11 rec_sn) $(field tx.jsonl 11 headers)"
expect "index 12" "encrypted encrypted 0" \
	"$(field tx.jsonl 12 verdict) $(field tx.jsonl 12 tx_verdict) $(field tx.jsonl 12 dump_bytes)"
expect "encrypted packets" 22 "$(json_int "$stats" tx_tls_encrypted_packets)"
expect "out of order" 2 "$(json_int "$stats" tx_tls_ooo)"
expect "dump bytes" 1950 "$(json_int "$stats" tx_tls_dump_bytes)"
expect "resent bytes" 1000 "$(json_int "$stats" tx_tls_resent_bytes)"
expect "no rx verdicts" 0 "$(json_int "$stats" rx_tls_decrypted_packets)"
result replay-tx

# ---- replay-drop-header ----
# header:3 names the segment holding offset 3015: segment 3 (index 6).
# The device must see exactly what it sees of the capture without it.
"$GEN" --records 40:1000 clean40.pcap
replay clean40.pcap --conn "$CONN" -j --drop header:3 --verdicts drop.jsonl > drop.out 2>&1
expect "status" 0 "$?"
expect "counters" "$(head -n1 ref.out)" "$(head -n1 drop.out)"
expect "injected line" 'dropped injected true' \
	"$(field drop.jsonl 6 verdict) $(field drop.jsonl 6 reason) $(field drop.jsonl 6 injected)"
strip() { grep -v '"injected":true' "$1" | sed 's/^{"i":[0-9]*,"ts_ns":[0-9]*,/{/'; }
cmp -s <(strip ref.jsonl) <(strip drop.jsonl) || WHY="${WHY:+$WHY; }verdicts differ from the capture without segment 3"
expect "connection line" 1 "$(grep -c '"injected":1,' drop.out)"
# nth:10 drops data segments 0, 10, 20, 30, 40: indexes 3, 13, 23, 33, 43
replay clean40.pcap --conn "$CONN" --drop nth:10 --verdicts nth.jsonl > /dev/null 2>&1
expect "nth:10 dropped" "3 13 23 33 43" "$(grep '"injected":true' nth.jsonl | grep -o '^{"i":[0-9]*' | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//')"
# body:1 with records of 3005 bytes: record 1's body is 3010-6009; the
# first segment wholly inside it is segment 4 (4000-4999), index 7.
"$GEN" --records 20:3000 big.pcap
replay big.pcap --conn "$CONN" --drop body:1 --drop header:2 --verdicts body.jsonl > /dev/null 2>&1
# header:2 is at 6010: segment 6, index 9
expect "body:1 + header:2 dropped" "7 9" "$(grep '"injected":true' body.jsonl | grep -o '^{"i":[0-9]*' | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//')"
result replay-drop-header

# ---- replay-auto-tls12 ----
# Server flights: ServerHello (5 + 44) + 305 bytes, then CCS (6) +
# Finished (45): application data from offset 405, seq 1406, record 1.
"$GEN" --handshake 1.2 h12.pcap
out=$(replay h12.pcap --auto -j 2>err.txt)
expect "status" 0 "$?"
expect "connection" 1 "$(grep -c '"conn":{"dir":"rx","src":"10.0.0.1:443","dst":"10.0.0.2:5555","version":"1.2","cipher":"aes-gcm-128","resync":"stream-scan","tcp_seq":1406,"rec_seq":1,"auto":true,"rec_seq_relative":false,.*"decrypted_packets":21,"decrypted_bytes":20100,"passed_packets":2,' <<<"$out")"
expect "client stream note" 1 "$(grep -c '^auto: 10.0.0.2:5555 -> 10.0.0.1:443: no application data record captured: skipped$' err.txt)"
result replay-auto-tls12

# ---- replay-auto-tls13 ----
# Server: ServerHello 55 + CCS 6 + 105 + 905 (encrypted handshake) = 1071:
# its first record after the client's Finished is at seq 2072 (record 0,
# relative).  Client: ClientHello 69, CCS 6, Finished 58, then its first
# application record at 5001 + 133 = 5134.
"$GEN" --handshake 1.3 h13.pcap
out=$(replay h13.pcap --auto --resync async -j 2>err.txt)
expect "status" 0 "$?"
expect "server stream" 1 "$(grep -c '"dir":"rx","src":"10.0.0.1:443","dst":"10.0.0.2:5555","version":"1.3","cipher":"aes-gcm-256","resync":"async","tcp_seq":2072,"rec_seq":0,"auto":true,"rec_seq_relative":true,.*"decrypted_packets":21,' <<<"$out")"
expect "client stream" 1 "$(grep -c '"dir":"rx","src":"10.0.0.2:5555","dst":"10.0.0.1:443","version":"1.3","cipher":"aes-gcm-256","resync":"async","tcp_seq":5134,"rec_seq":0,"auto":true,"rec_seq_relative":false' <<<"$out")"
out=$(replay h13.pcap --auto --local 10.0.0.2 -j --verdicts h13.jsonl 2>err.txt)
expect "--local: the client's stream is tx" 1 "$(grep -c '"conn":{"dir":"tx","src":"10.0.0.2:5555","dst":"10.0.0.1:443",.*"tcp_seq":5134' <<<"$out")"
expect "tx_tls_ctx" 1 "$(json_int "$(head -n1 <<<"$out")" tx_tls_ctx)"
# The client's flight starts at 5070, before the start marker 5134: it
# straddles the marker, a NIC drops it.
expect "index 6 (tc)" "tx dropped straddle drop" \
	"$(field h13.jsonl 6 dir) $(field h13.jsonl 6 verdict) $(field h13.jsonl 6 reason) $(field h13.jsonl 6 tx_verdict)"
result replay-auto-tls13

# ---- replay-no-tls ----
# A capture of TCP that is not TLS: pcapgen's records with a bad version
# cannot be made, so take plain TCP: the handshake-less capture has no
# ClientHello/ServerHello.
out=$(replay clean.pcap --auto 2>err.txt)
expect "status" 0 "$?"
expect "said on stderr" "tlshim: no TLS connection found in clean.pcap" "$(cat err.txt)"
expect "said on stdout" 1 "$(grep -c '^no TLS connection installed: nothing judged$' <<<"$out")"
result replay-no-tls

# ---- replay-bad-input ----
# Each must exit 2 with exactly one line naming the problem, print nothing
# on stdout, and leave nothing behind.
put_u32le() {	# file offset value
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($3 & 255)) $(($3 >> 8 & 255)) \
		$(($3 >> 16 & 255)) $(($3 >> 24 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
bad_case() {	# expected-stderr args...
	local want=$1 rc
	shift
	"$TLSHIM" replay "$@" > bad.out 2> bad.err
	rc=$?
	expect "'$*' status" 2 "$rc"
	expect "'$*' message" "$want" "$(cat bad.err)"
	expect "'$*' stdout" "" "$(cat bad.out)"
}
: > empty.pcap
head -c 10 clean.pcap > short.pcap
echo "hello, not a capture" > text.pcap
# clean.pcap: 24-byte header, SYN/SYN-ACK/ACK records of 16 + 54 bytes,
# then record 3 (16 + 1054) from offset 234.
head -c 450 clean.pcap > cut-record.pcap
head -c 242 clean.pcap > cut-header.pcap
cp clean.pcap snaplen.pcap; put_u32le snaplen.pcap 16 64
cp clean.pcap absurd.pcap; put_u32le absurd.pcap 32 2147483647
cp clean.pcap bigger.pcap; put_u32le bigger.pcap 36 10	# record 0: wire length 10 < caplen 54
cp clean.pcap link.pcap; put_u32le link.pcap 20 228
# record 3 cut to 100 bytes by the capture (wire length 1054)
{ head -c 242 clean.pcap; printf '\x64\x00\x00\x00\x1e\x04\x00\x00'; tail -c +251 clean.pcap | head -c 100;
  tail -c +1305 clean.pcap; } > snapped.pcap
"$GEN" --format pcapng ng.pcapng
# SHB 28 bytes, IDB 32, then the SYN's EPB (32 + 54 + 2 padding = 88) at 60
head -c 100 ng.pcapng > ng-cut.pcapng
cp ng.pcapng ng-len.pcapng; put_u32le ng-len.pcapng 144 92
cp ng.pcapng ng-iface.pcapng; put_u32le ng-iface.pcapng 68 5
cp ng.pcapng ng-bom.pcapng; put_u32le ng-bom.pcapng 8 287454020
bad_case "tlshim: bad empty.pcap: truncated file header (0 bytes)" empty.pcap --conn "$CONN"
bad_case "tlshim: bad short.pcap: truncated pcap global header (10 of 24 bytes)" short.pcap --conn "$CONN"
bad_case "tlshim: bad text.pcap: not a pcap or pcapng file (magic 0x6c6c6568)" text.pcap --auto
bad_case "tlshim: bad cut-record.pcap: record 3 truncated (caplen 1054, 200 bytes left)" cut-record.pcap --conn "$CONN"
bad_case "tlshim: bad cut-header.pcap: record 3: truncated record header (8 of 16 bytes)" cut-header.pcap --conn "$CONN"
bad_case "tlshim: bad snaplen.pcap: record 3: caplen 1054 exceeds the snaplen 64" snaplen.pcap --conn "$CONN"
bad_case "tlshim: bad absurd.pcap: record 0: caplen 2147483647 exceeds the snaplen 262144" absurd.pcap --conn "$CONN"
bad_case "tlshim: bad bigger.pcap: record 0: caplen 54 larger than the wire length 10" bigger.pcap --conn "$CONN"
bad_case "tlshim: bad link.pcap: packet 0: link type 228 not supported (Ethernet 1, Linux cooked SLL 113 and SLL2 276 are)" link.pcap --auto
bad_case "tlshim: bad snapped.pcap: packet 3: payload cut by the capture (caplen 100 < wire length 1054): capture with snaplen 0 (tcpdump -s 0)" snapped.pcap --conn "$CONN"
bad_case "tlshim: bad ng-cut.pcapng: block at offset 60 truncated (length 88, 40 bytes left)" ng-cut.pcapng --conn "$CONN"
bad_case "tlshim: bad ng-len.pcapng: block at offset 60: block length mismatch (88 at the start, 92 at the end)" ng-len.pcapng --conn "$CONN"
bad_case "tlshim: bad ng-iface.pcapng: block at offset 60: packet on interface 5, but 1 interfaces described" ng-iface.pcapng --conn "$CONN"
bad_case "tlshim: bad ng-bom.pcapng: block at offset 0: section header with bad byte-order magic 0x11223344" ng-bom.pcapng --conn "$CONN"
"$GEN" --mss 4000 jumbo.pcap
bad_case "tlshim: bad jumbo.pcap: packet 3: frame of 4054 bytes, more than the 3520 a test run takes (capture with GRO, GSO and TSO off)" jumbo.pcap --conn "$CONN"
bad_case "tlshim: bad nosuch.pcap: No such file or directory" nosuch.pcap --auto
bad_case "tlshim: bad arguments: expected a capture file (see tlshim replay --help)" --auto
bad_case "tlshim: bad arguments: need --conn SPEC or --auto (see tlshim replay --help)" clean.pcap
bad_case "tlshim: bad SADDR:PORT: '10.0.0.1' (use a.b.c.d:port or [v6addr]:port)" clean.pcap --conn "rx 10.0.0.1 10.0.0.2:5555 --tcp-seq 1"
bad_case "tlshim: bad tcp-seq: missing --tcp-seq (the TCP seq where the record starts)" clean.pcap --conn "rx 10.0.0.1:443 10.0.0.2:5555"
bad_case "tlshim: bad conn: 'rx 10.0.0.1:443 10.0.0.2:5555 --tcp-seq 5': that flow is given twice" clean.pcap --conn "$CONN" --conn "rx 10.0.0.1:443 10.0.0.2:5555 --tcp-seq 5"
bad_case "tlshim: bad drop: 'bogus': expected KIND:VALUE (random:1%, nth:50, header:K, body:K)" clean.pcap --conn "$CONN" --drop bogus
bad_case "tlshim: bad resync: 'sometimes' (use stream-scan, async, next-hint or none)" clean.pcap --auto --resync sometimes
bad_case "tlshim: bad local: only applies to --auto" clean.pcap --conn "$CONN" --local 10.0.0.2
bad_case "tlshim: bad local: 'nowhere' (an IPv4 or IPv6 address)" clean.pcap --auto --local nowhere
bad_case "tlshim: bad verdicts: /nonexistent/v.jsonl: No such file or directory" clean.pcap --conn "$CONN" --verdicts /nonexistent/v.jsonl
bad_case "tlshim: bad option: unknown option '--frobnicate' for replay (see --help)" clean.pcap --frobnicate
result replay-bad-input

# ---- replay-fuzz ----
# A small pcapng capture (TLS 1.3 handshake, two records) truncated at
# every offset of its first 160 bytes (section, interface and first packet
# blocks) and every 8th after, bytes overwritten at every 23rd: each run
# (--check: the whole reader, decoder, reassembly and --auto, no BPF load)
# exits 0 or 2, and 2 comes with one line.  A few damaged captures that
# still read go through the device too.
"$GEN" --format pcapng-be --handshake 1.3 --records 2:30 --mss 40 fuzz.pcapng
size=$(stat -c %s fuzz.pcapng)
runs=0 bad=0
check_run() {
	local rc
	"$TLSHIM" replay "$1" --auto --check > fz.out 2> fz.err
	rc=$?
	runs=$((runs + 1))
	if [ "$rc" != 0 ] && { [ "$rc" != 2 ] || [ "$(wc -l < fz.err)" != 1 ]; }; then
		bad=$((bad + 1))
		[ "$bad" -le 3 ] && WHY="${WHY:+$WHY; }$2: status $rc, stderr $(head -c 200 fz.err)"
	fi
}
for ((off = 0; off < size; off += off < 160 ? 1 : 8)); do
	head -c "$off" fuzz.pcapng > fz.cap
	check_run fz.cap "truncated at $off"
done
for ((off = 0; off < size; off += 23)); do
	for byte in '\xff' '\x00'; do
		cp fuzz.pcapng fz.cap
		printf "$byte" | dd of=fz.cap bs=1 seek="$off" conv=notrunc status=none
		check_run fz.cap "byte $off set to $byte"
	done
done
log "fuzz: $runs runs of a $size-byte capture"
for off in 300 700 1200; do	# inside packets: the file still reads
	cp fuzz.pcapng fz.cap
	printf '\xff\xff\xff\xff' | dd of=fz.cap bs=1 seek="$off" conv=notrunc status=none
	"$TLSHIM" replay fz.cap --auto -j > fz.out 2> fz.err
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 2 ] || WHY="${WHY:+$WHY; }device run of a capture damaged at $off: status $rc"
done
expect "bad runs" 0 "$bad"
result replay-fuzz

# ---- replay-private ----
# A replay pins nothing, attaches nothing, and leaves no run files.
before=$(find /sys/fs/bpf -maxdepth 3 2>/dev/null | sort; ls -d /tmp/tlshim-replay-* 2>/dev/null)
replay ref.pcap --conn "$CONN" > /dev/null 2>&1
after=$(find /sys/fs/bpf -maxdepth 3 2>/dev/null | sort; ls -d /tmp/tlshim-replay-* 2>/dev/null)
expect "bpffs and /tmp unchanged" "$before" "$after"
result replay-private

# ---- replay-live-equals ----
# Two namespaces joined by a veth pair: A (10.78.0.1) sends TLS-framed
# records with build/tlssend to B (10.78.0.2).  One device (pins
# $PIN_DIR-rx) on vethB's receive side with the connection installed rx at
# the client's real write_seq, another ($PIN_DIR-tx) on vethA's transmit
# side with it installed tx; tcpdump -s 0 captures each veth during the
# run.  GRO, TSO and GSO are off so that XDP, tc and tcpdump see the same
# frames (gso_max_segs 1 on vethA).  Replaying each capture with the same --conn must give exactly the
# live device's counters; `tlshim run --trace` on the rx device writes the
# live trace, which must have the replay verdicts' keys and as many
# decrypted segments.
live_test() {
	local port wseq ta tb rpid cpid spid tda tdb k live rep
	command -v tcpdump > /dev/null || { echo "skip replay-live-equals: tcpdump not installed (Debian package tcpdump)"; return; }
	command -v ethtool > /dev/null || { echo "skip replay-live-equals: ethtool not installed"; return; }
	in_a() { timeout 60 nsenter --net="/run/netns/$NS_A" "$@"; }
	in_b() { timeout 60 nsenter --net="/run/netns/$NS_B" "$@"; }
	ip netns add "$NS_A" && ip netns add "$NS_B" || { WHY="ip netns add failed"; return; }
	ip link add vethA netns "$NS_A" type veth peer name vethB netns "$NS_B" || { WHY="veth failed"; return; }
	in_a ip addr add 10.78.0.1/24 dev vethA && in_b ip addr add 10.78.0.2/24 dev vethB &&
	in_a ip link set vethA up && in_b ip link set vethB up && in_a ip link set lo up &&
	in_b ip link set lo up || { WHY="addressing failed"; return; }
	# one MSS per skb on the sender (tc egress sees what tcpdump sees),
	# no GRO on the receiver (XDP sees what tcpdump sees)
	in_a ip link set dev vethA gso_max_segs 1 && in_a ethtool -K vethA tso off gso off > /dev/null &&
	in_b ethtool -K vethB gro off > /dev/null || { WHY="cannot turn GSO/TSO/GRO off"; return; }
	mkdir -p "$WORK/run-rx" "$WORK/run-tx"
	TLSHIM_PIN_DIR=$PIN_DIR-rx TLSHIM_RUN_DIR=$WORK/run-rx in_b "$TLSHIM" attach dev vethB > /dev/null &&
	TLSHIM_PIN_DIR=$PIN_DIR-tx TLSHIM_RUN_DIR=$WORK/run-tx in_a "$TLSHIM" attach dev vethA > /dev/null ||
		{ WHY="tlshim attach failed"; return; }
	in_b tcpdump -i vethB -s 0 -U -w "$WORK/live-b.pcap" > /dev/null 2> "$WORK/tcpdump-b.err" &
	tdb=$!; PIDS+=("$tdb")
	in_a tcpdump -i vethA -s 0 -U -w "$WORK/live-a.pcap" > /dev/null 2> "$WORK/tcpdump-a.err" &
	tda=$!; PIDS+=("$tda")
	for k in $(seq 100); do
		grep -q listening "$WORK/tcpdump-a.err" && grep -q listening "$WORK/tcpdump-b.err" && break
		sleep 0.1
	done
	grep -q listening "$WORK/tcpdump-b.err" || { WHY="tcpdump did not start"; return; }
	TLSHIM_PIN_DIR=$PIN_DIR-rx TLSHIM_RUN_DIR=$WORK/run-rx timeout 60 "$TLSHIM" run --trace "$WORK/live-trace.jsonl" \
		> "$WORK/run.out" 2>&1 &
	rpid=$!; PIDS+=("$rpid")
	for k in $(seq 100); do
		TLSHIM_PIN_DIR=$PIN_DIR-rx "$TLSHIM" config -j | grep -q '"trace":true' && break
		sleep 0.05
	done
	in_b taskset -c 0 "$TLSSEND" server --listen 10.78.0.2:0 > "$WORK/server.out" 2>&1 &
	spid=$!; PIDS+=("$spid")
	for k in $(seq 100); do grep -q listening "$WORK/server.out" && break; sleep 0.05; done
	port=$(grep -o 'listening [0-9.]*:[0-9]*' "$WORK/server.out" | sed 's/.*://')
	[ -n "$port" ] || { WHY="tlssend server did not listen"; return; }
	in_a taskset -c 0 "$TLSSEND" client --connect "10.78.0.2:$port" --records 300 --record-size 3000 \
		--wait-file "$WORK/go" > "$WORK/client.out" 2>&1 &
	cpid=$!; PIDS+=("$cpid")
	for k in $(seq 100); do grep -q write_seq "$WORK/client.out" && break; sleep 0.05; done
	read -r _ ta _ tb _ wseq <<<"$(grep write_seq "$WORK/client.out")"
	[ -n "$wseq" ] || { WHY="tlssend client printed no write_seq"; return; }
	LIVE_CONN="$ta $tb --tcp-seq $wseq"
	TLSHIM_PIN_DIR=$PIN_DIR-rx TLSHIM_RUN_DIR=$WORK/run-rx "$TLSHIM" conn add rx $LIVE_CONN &&
	TLSHIM_PIN_DIR=$PIN_DIR-tx TLSHIM_RUN_DIR=$WORK/run-tx "$TLSHIM" conn add tx $LIVE_CONN ||
		{ WHY="conn add failed"; return; }
	touch "$WORK/go"
	wait "$cpid" || { WHY="tlssend client failed: $(tail -n1 "$WORK/client.out")"; return; }
	wait "$spid"
	sleep 0.3	# the last ACKs reach tcpdump
	kill -INT "$tda" "$tdb" "$rpid"
	wait "$tda" "$tdb" "$rpid" 2>/dev/null
	PIDS=()
	log "client: $(tail -n1 "$WORK/client.out")"
	for side in rx tx; do
		live=$(TLSHIM_PIN_DIR=$PIN_DIR-$side "$TLSHIM" stats -j)
		[ $side = rx ] && cap=$WORK/live-b.pcap || cap=$WORK/live-a.pcap
		rep=$(replay "$cap" --conn "$side $LIVE_CONN" -j --verdicts "$WORK/replay-$side.jsonl" 2> "$WORK/replay.err" | head -n1)
		[ -n "$rep" ] || { WHY="${WHY:+$WHY; }$side replay failed: $(cat "$WORK/replay.err")"; continue; }
		# tlshim run traced the rx device (events, none lost); the
		# replay traces everything too: all counters compare.
		expect "$side counters (live vs replay)" "$live" "$rep"
		log "$side live: $(printf '%s' "$live" | grep -o '"[rt]x_tls_\(decrypted\|encrypted\)_packets":[0-9]*\|"[rt]x_tls_records":[0-9]*' | tr '\n' ' ')"
	done
	expect "decrypted in live trace = in replay verdicts" \
		"$(grep -c '"verdict":"decrypted"' "$WORK/replay-rx.jsonl")" "$(grep -c '"verdict":"decrypted"' "$WORK/live-trace.jsonl")"
	keys() { head -n1 "$1" | grep -o '"[a-z_]*":' | grep -v '"i":' | tr -d '\n'; }
	expect "live trace keys" "$(keys "$WORK/replay-rx.jsonl")" "$(keys "$WORK/live-trace.jsonl")"
}
if [ -n "${TLSHIM_REPLAY_SKIP_LIVE:-}" ]; then
	echo "skip replay-live-equals: TLSHIM_REPLAY_SKIP_LIVE set"
else
	live_test
	result replay-live-equals
fi
