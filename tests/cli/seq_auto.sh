#!/bin/bash
# `tlshim conn add ... --tcp-seq auto` on real sockets in a private network
# namespace: the start seq it installs (conn list -j start_seq) is the one
# TCP_REPAIR's TCP_QUEUE_SEQ reads from the same socket (build/tcphold and
# build/tlssend print it): write_seq for tx, rcv_nxt (= copied_seq, nothing
# unread) for rx.  IPv4, IPv6 and IPv4-mapped sockets; and the refusals,
# each exit 2 with one line naming tcp-seq and nothing installed:
#   no such socket, a socket in TIME_WAIT, rx with received bytes unread.
#
#   seq-auto-v4          tx and rx on both ends of one connection
#   seq-auto-v6
#   seq-auto-v4-mapped   [::] listener, client on [::ffff:127.0.0.1]
#   seq-auto-after-data  tx after 3000 bytes sent (write_seq moved on)
#   seq-auto-refuse-none, seq-auto-refuse-unread, seq-auto-refuse-time-wait
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
TESTS=(seq-auto-v4 seq-auto-v6 seq-auto-v4-mapped seq-auto-after-data
       seq-auto-refuse-none seq-auto-refuse-unread seq-auto-refuse-time-wait)
NS=tl-seq-$$
export TLSHIM_PIN_DIR=/sys/fs/bpf/tl-seq-$$
export TLSHIM_RUN_DIR=/run/tl-seq-$$
PIDS=()

skip_all() {
	local t
	for t in "${TESTS[@]}"; do echo "skip $t: $1"; done
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root (netns, BPF iterators, TCP_REPAIR)"
grep -qs " /sys/fs/bpf bpf " /proc/mounts || skip_all "no bpffs mounted at /sys/fs/bpf"
for f in tlshim build/tcphold build/tlssend; do
	[ -x "$f" ] || { for t in "${TESTS[@]}"; do echo "FAIL $t: $f missing (run make)"; done; exit 1; }
done

WORK=$(mktemp -d /tmp/tl-seq.XXXXXX) || exit 1
stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	PIDS=()
}
cleanup() {
	trap - EXIT INT TERM
	stop_all
	ip netns del "$NS" 2>/dev/null
	"$ROOT/tlshim" unload >/dev/null 2>&1
	rmdir "$TLSHIM_PIN_DIR" 2>/dev/null
	rm -rf "$TLSHIM_RUN_DIR" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns() { timeout 30 nsenter --net="/run/netns/$NS" "$@"; }
WHY=""
expect() { [ "$2" = "$3" ] || WHY="${WHY:+$WHY; }$1: expected $2, got ${3:-<none>}"; }
result() { if [ -z "$WHY" ]; then echo "ok $1"; else echo "FAIL $1: $WHY"; fi; WHY=""; }
word() { printf '%s\n' "$1" | tr ' ' '\n' | grep -A1 -x "$2" | sed -n 2p; }

# The line a background process printed that starts with WORD (waits for it).
line_of() {	# FILE WORD
	for _ in $(seq 100); do
		grep -q "^$2" "$1" 2>/dev/null && { grep "^$2" "$1" | head -n1; return; }
		sleep 0.05
	done
}

# bg NAME CMD...: runs CMD in the namespace, output to $WORK/NAME.
bg() {
	local name=$1
	shift
	in_ns "$@" >"$WORK/$name" 2>&1 &
	PIDS+=($!)
}

# start_seq of the installed connection DIR SRC DST (as conn list names it).
start_seq_of() {
	in_ns "$ROOT/tlshim" conn list -j | grep -F "\"dir\":\"$1\",\"src\":\"$2\",\"dst\":\"$3\"" |
		grep -o '"start_seq":[0-9]*' | cut -d: -f2
}

# How conn list names an endpoint: v4-mapped as plain IPv4.
shown() {
	local s
	if [[ $1 == "[::ffff:"* ]]; then s=${1#\[::ffff:}; echo "${s/\]:/:}"; else echo "$1"; fi
}

# add_auto DIR SRC DST EXPECTED: conn add --tcp-seq auto installs EXPECTED
# (then removes it again).
add_auto() {
	local out
	if ! out=$(in_ns "$ROOT/tlshim" conn add "$1" "$2" "$3" --tcp-seq auto 2>&1); then
		WHY="${WHY:+$WHY; }conn add $1 $2 $3 --tcp-seq auto: $out"
		return
	fi
	expect "$1 $2 $3 start_seq" "$4" "$(start_seq_of "$1" "$(shown "$2")" "$(shown "$3")")"
	in_ns "$ROOT/tlshim" conn del "$1" "$2" "$3" >/dev/null
}

# refuse NAME WORDS DIR SRC DST: exit 2, one stderr line "bad tcp-seq" with
# WORDS, nothing on stdout, the connection table unchanged.
refuse() {
	local name=$1 words=$2 before after out err rc
	shift 2
	before=$(in_ns "$ROOT/tlshim" conn list -j)
	out=$(in_ns "$ROOT/tlshim" conn add "$@" --tcp-seq auto 2>"$WORK/err"); rc=$?
	err=$(cat "$WORK/err")
	after=$(in_ns "$ROOT/tlshim" conn list -j)
	expect "exit status" 2 "$rc"
	expect "stderr lines" 1 "$(grep -c . <<<"$err")"
	grep -q "bad tcp-seq: .*$words" <<<"$err" || WHY="${WHY:+$WHY; }stderr lacks 'bad tcp-seq' and '$words': $err"
	expect stdout "" "$out"
	expect "connections unchanged" "$before" "$after"
	result "$name"
}

# both_ends NAME LISTEN CONNECT SHOWN_SERVER_PREFIX: a connection from tlssend
# (client, holding before it sends) to tcphold --accept; every direction of
# both sockets installed with auto.
both_ends() {
	local name=$1 listen=$2 connect=$3 client server c_local c_seq s_local s_remote s_wseq s_rnxt
	bg hold "$ROOT/build/tcphold" listen "$listen" --accept --timeout 30
	line_of "$WORK/hold" listening >/dev/null
	bg client "$ROOT/build/tlssend" client --connect "$connect" --records 1 --record-size 100 \
		--wait-file "$WORK/never" --timeout 30
	client=$(line_of "$WORK/client" local)
	server=$(line_of "$WORK/hold" accepted)
	c_local=$(word "$client" local); c_seq=$(word "$client" write_seq)
	s_local=$(word "$server" local); s_remote=$(word "$server" remote)
	s_wseq=$(word "$server" write_seq); s_rnxt=$(word "$server" rcv_nxt)
	echo "    client: $client"
	echo "    server: $server"
	if [ -z "$c_seq" ] || [ -z "$s_wseq" ]; then
		WHY="no connection (client: $(cat "$WORK/client"); server: $(cat "$WORK/hold"))"
	else
		expect "server's remote = client's local" "$(shown "$c_local")" "$(shown "$s_remote")"
		# client -> server: tx on the client (its write_seq), rx on the server (rcv_nxt)
		add_auto tx "$c_local" "$s_local" "$c_seq"
		add_auto rx "$c_local" "$s_local" "$s_rnxt"
		# server -> client: tx on the server, rx on the client (its rcv_nxt
		# is the server's write_seq: nothing sent yet)
		add_auto tx "$s_local" "$c_local" "$s_wseq"
		add_auto rx "$s_local" "$c_local" "$s_wseq"
		expect "rcv_nxt of the server = write_seq of the client" "$c_seq" "$s_rnxt"
	fi
	stop_all
	result "$name"
}

ip netns add "$NS" || { for t in "${TESTS[@]}"; do echo "FAIL $t: cannot create namespace"; done; exit 1; }
in_ns ip link set lo up
in_ns ip link add tlq0 type veth peer name tlq1
in_ns ip link set tlq0 up && in_ns ip link set tlq1 up
if ! out=$(in_ns "$ROOT/tlshim" attach dev tlq0 2>&1); then
	for t in "${TESTS[@]}"; do echo "FAIL $t: tlshim attach: $out"; done; exit 1
fi

both_ends seq-auto-v4 127.0.0.1:4501 127.0.0.1:4501
both_ends seq-auto-v6 [::1]:4502 [::1]:4502
both_ends seq-auto-v4-mapped [::]:4503 [::ffff:127.0.0.1]:4503

# After data: tcphold's client sent 3000 bytes (ACKed); its write_seq moved.
bg hold "$ROOT/build/tcphold" listen 127.0.0.1:4504 --accept --timeout 30
line_of "$WORK/hold" listening >/dev/null
bg conn "$ROOT/build/tcphold" connect 127.0.0.1:4504 --send 3000 --timeout 30
before=$(line_of "$WORK/conn" connected)
client=$(line_of "$WORK/conn" sent)
echo "    client: $before"
echo "    client: $client"
if [ -n "$client" ]; then
	add_auto tx "$(word "$client" local)" 127.0.0.1:4504 "$(word "$client" write_seq)"
	expect "write_seq after = write_seq before + 3000" \
		$((($(word "$before" write_seq) + 3000) % 4294967296)) "$(word "$client" write_seq)"
	result seq-auto-after-data
	# the server never read those 3000 bytes: rx there is refused
	refuse seq-auto-refuse-unread "3000 received bytes unread" rx "$(word "$client" local)" 127.0.0.1:4504
else
	echo "FAIL seq-auto-after-data: no connection: $(cat "$WORK/conn" "$WORK/hold")"
	echo "FAIL seq-auto-refuse-unread: no connection"
fi
stop_all

refuse seq-auto-refuse-none "no TCP socket 127.0.0.1:4599 <-> 127.0.0.1:4598" tx 127.0.0.1:4599 127.0.0.1:4598

# A finished transfer: the client closed first, its socket is in TIME_WAIT.
bg server "$ROOT/build/tlssend" server --listen 127.0.0.1:4505 --timeout 30
line_of "$WORK/server" listening >/dev/null
out=$(in_ns "$ROOT/build/tlssend" client --connect 127.0.0.1:4505 --records 2 --record-size 100 --timeout 30)
stop_all
refuse seq-auto-refuse-time-wait "is TIME_WAIT, not ESTABLISHED" tx "$(word "$(grep ^local <<<"$out")" local)" 127.0.0.1:4505
