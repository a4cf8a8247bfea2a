#!/bin/bash
# CLI tests: every bad input gets exit status 2, exactly one line on stderr
# naming the bad field, and changes nothing (connections, counters, config).
# Runs against a private device (TLSHIM_PIN_DIR) on a veth in a private
# namespace, so it never touches a live setup.
set -u
cd "$(dirname "$0")/../.."
TLSHIM=$PWD/tlshim
NS=tlshim-cli-$$
export TLSHIM_PIN_DIR=/sys/fs/bpf/tlshim-cli-$$
export TLSHIM_RUN_DIR=/run/tlshim-cli-$$
fails=0

cleanup() {
	ip netns del "$NS" 2>/dev/null
	$TLSHIM unload >/dev/null 2>&1
	rmdir "$TLSHIM_PIN_DIR" 2>/dev/null
	rm -rf "$TLSHIM_RUN_DIR"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
bad() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
in_ns() { nsenter --net=/run/netns/$NS "$@"; }
snapshot() { $TLSHIM conn list -j; $TLSHIM stats -j; $TLSHIM config -j; }

# expect_usage NAME FIELD CMD...: status 2, one stderr line naming FIELD,
# no stdout, nothing changed.
expect_usage() {
	local name=$1 field=$2 before after err out rc
	shift 2
	before=$(snapshot)
	out=$("$@" 2>/tmp/tlshim-cli-err.$$)
	rc=$?
	err=$(cat /tmp/tlshim-cli-err.$$); rm -f /tmp/tlshim-cli-err.$$
	after=$(snapshot)
	if [ "$rc" -ne 2 ]; then bad "$name" "exit status $rc, want 2 (stderr: $err)"
	elif [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || [ -z "$err" ]; then bad "$name" "stderr is not one line: $err"
	elif ! printf '%s' "$err" | grep -q -- "$field"; then bad "$name" "stderr does not name '$field': $err"
	elif [ -n "$out" ]; then bad "$name" "printed on stdout: $out"
	elif [ "$before" != "$after" ]; then bad "$name" "state changed"
	else ok "$name"; fi
}

expect_ok() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" -eq 0 ]; then ok "$name"; else bad "$name" "exit $rc: $out"; fi
}

ip netns add "$NS" || { bad cli-setup "cannot create namespace"; exit 1; }
in_ns ip link add cli0 type veth peer name cli1
in_ns ip link set cli0 up; in_ns ip link set cli1 up
if ! out=$(in_ns $TLSHIM attach dev cli0 2>&1); then
	bad cli-attach "$out"; exit 1
fi
ok cli-attach

# Help at every level.
for cmd in "" "attach" "detach" "conn" "conn add" "conn del" "conn list" "stats" "config" "unload"; do
	# shellcheck disable=SC2086
	if $TLSHIM $cmd --help >/dev/null 2>&1; then ok "help: tlshim $cmd --help"
	else bad "help: tlshim $cmd --help" "exit $?"; fi
done

# A baseline connection, so "nothing changed" has something to lose.
expect_ok add-baseline $TLSHIM conn add rx 10.1.0.1:40000 10.1.0.2:443 --tcp-seq 1000 --rec-seq 7 \
	--version 1.2 --cipher aes-gcm-128 --key 000102030405060708090a0b0c0d0e0f --iv 0001020304050607 --salt a0a1a2a3

A=(rx 10.1.0.1:40001 10.1.0.2:443)
expect_usage no-args command $TLSHIM
expect_usage unknown-command command $TLSHIM frobnicate
expect_usage unknown-conn-subcommand subcommand $TLSHIM conn frob
expect_usage unknown-option option $TLSHIM conn add "${A[@]}" --tcp-seq 1 --frob 2
expect_usage missing-endpoints arguments $TLSHIM conn add rx 10.1.0.1:40001
expect_usage bad-direction direction $TLSHIM conn add up 10.1.0.1:1 10.1.0.2:443 --tcp-seq 1
expect_usage bad-saddr-ip SADDR $TLSHIM conn add rx 10.1.0.256:1 10.1.0.2:443 --tcp-seq 1
expect_usage bad-saddr-noport SADDR $TLSHIM conn add rx 10.1.0.1 10.1.0.2:443 --tcp-seq 1
expect_usage bad-saddr-port0 SADDR $TLSHIM conn add rx 10.1.0.1:0 10.1.0.2:443 --tcp-seq 1
expect_usage bad-daddr-port DADDR $TLSHIM conn add rx 10.1.0.1:1 10.1.0.2:70000 --tcp-seq 1
expect_usage bad-daddr-v6 DADDR $TLSHIM conn add rx [fd00::1]:1 [fd00::zz]:443 --tcp-seq 1
expect_usage v6-without-brackets SADDR $TLSHIM conn add rx fd00::1:1 [fd00::2]:443 --tcp-seq 1
expect_usage family-mismatch DADDR $TLSHIM conn add rx 10.1.0.1:1 [fd00::2]:443 --tcp-seq 1
expect_usage missing-tcp-seq tcp-seq $TLSHIM conn add "${A[@]}"
expect_usage tcp-seq-negative tcp-seq $TLSHIM conn add "${A[@]}" --tcp-seq -1
expect_usage tcp-seq-too-big tcp-seq $TLSHIM conn add "${A[@]}" --tcp-seq 4294967296
expect_usage tcp-seq-garbage tcp-seq $TLSHIM conn add "${A[@]}" --tcp-seq 12ab
expect_usage tcp-seq-no-value tcp-seq $TLSHIM conn add "${A[@]}" --tcp-seq
expect_usage rec-seq-garbage rec-seq $TLSHIM conn add "${A[@]}" --tcp-seq 1 --rec-seq x
expect_usage unknown-cipher cipher $TLSHIM conn add "${A[@]}" --tcp-seq 1 --cipher aes-cbc
expect_usage unknown-version version $TLSHIM conn add "${A[@]}" --tcp-seq 1 --version 1.1
expect_usage key-short-aes128 key $TLSHIM conn add "${A[@]}" --tcp-seq 1 --key 0011 --iv 0001020304050607 --salt 00000000
expect_usage key-128-for-aes256 key $TLSHIM conn add "${A[@]}" --tcp-seq 1 --cipher aes-gcm-256 \
	--key 000102030405060708090a0b0c0d0e0f --iv 0001020304050607 --salt 00000000
expect_usage key-256-for-aes128 key $TLSHIM conn add "${A[@]}" --tcp-seq 1 \
	--key 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f --iv 0001020304050607 --salt 00000000
expect_usage key-not-hex key $TLSHIM conn add "${A[@]}" --tcp-seq 1 --key 000102030405060708090a0b0c0d0eXX \
	--iv 0001020304050607 --salt 00000000
expect_usage iv-wrong-length iv $TLSHIM conn add "${A[@]}" --tcp-seq 1 --key 000102030405060708090a0b0c0d0e0f \
	--iv 00010203 --salt 00000000
expect_usage iv-missing iv $TLSHIM conn add "${A[@]}" --tcp-seq 1 --key 000102030405060708090a0b0c0d0e0f --salt 00000000
expect_usage salt-missing salt $TLSHIM conn add "${A[@]}" --tcp-seq 1 --key 000102030405060708090a0b0c0d0e0f --iv 0001020304050607
expect_usage salt-for-chacha salt $TLSHIM conn add "${A[@]}" --tcp-seq 1 --cipher chacha20-poly1305 \
	--key 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f --iv 000102030405060708090a0b --salt 00000000
expect_usage iv-8-for-chacha iv $TLSHIM conn add "${A[@]}" --tcp-seq 1 --cipher chacha20-poly1305 \
	--key 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f --iv 0001020304050607
expect_usage duplicate-connection connection $TLSHIM conn add rx 10.1.0.1:40000 10.1.0.2:443 --tcp-seq 5
expect_usage option-twice tcp-seq $TLSHIM conn add "${A[@]}" --tcp-seq 1 --tcp-seq 2
expect_usage del-no-such-connection connection $TLSHIM conn del rx 10.1.0.1:40000 10.1.0.2:444
expect_usage del-wrong-direction connection $TLSHIM conn del tx 10.1.0.1:40000 10.1.0.2:443
expect_usage attach-no-such-interface dev in_ns $TLSHIM attach dev nosuch0
expect_usage attach-twice dev in_ns $TLSHIM attach dev cli0
expect_usage attach-bad-mode mode in_ns $TLSHIM attach dev cli1 --mode turbo
expect_usage attach-missing-dev arguments in_ns $TLSHIM attach cli1
expect_usage detach-no-such-interface dev in_ns $TLSHIM detach dev nosuch0
expect_usage detach-not-attached dev in_ns $TLSHIM detach dev cli1
expect_usage config-mark-zero mark $TLSHIM config set mark 0
expect_usage config-mark-garbage mark $TLSHIM config set mark blue
expect_usage config-max-conns-zero max-conns $TLSHIM config set max-conns 0
expect_usage config-max-conns-too-big max-conns $TLSHIM config set max-conns 1048577
expect_usage config-unknown-setting setting $TLSHIM config set speed 10
# The transmit side's options.
LOG_MAX=$($TLSHIM config --help | sed -n 's/^record-log .*1\.\.\([0-9]*\);.*/\1/p')
expect_usage enforce-drops-on-rx enforce-drops $TLSHIM conn add "${A[@]}" --tcp-seq 1 --enforce-drops
expect_usage config-record-log-zero record-log $TLSHIM config set record-log 0
expect_usage config-record-log-too-big record-log $TLSHIM config set record-log $((LOG_MAX + 1))
expect_usage config-record-log-garbage record-log $TLSHIM config set record-log many
expect_usage config-record-log-no-value record-log $TLSHIM config set record-log
expect_usage config-enforce-drops-garbage enforce-drops $TLSHIM config set enforce-drops maybe
expect_usage config-enforce-drops-no-value enforce-drops $TLSHIM config set enforce-drops
expect_usage config-good-then-bad record-log $TLSHIM config set enforce-drops on record-log 0
expect_usage stats-watch-zero watch $TLSHIM stats --watch 0
expect_usage stats-two-formats format $TLSHIM stats -j --prometheus

# Key material: never printed unless asked, pins not readable by others.
out=$($TLSHIM conn list; $TLSHIM conn list -j)
if printf '%s' "$out" | grep -q 000102030405060708090a0b0c0d0e0f; then bad keys-hidden "key printed without --show-keys"
else ok keys-hidden; fi
if $TLSHIM conn list -j --show-keys | grep -q '"key":"000102030405060708090a0b0c0d0e0f","iv":"0001020304050607","salt":"a0a1a2a3"'; then
	ok keys-shown-on-request; else bad keys-shown-on-request "--show-keys did not show the installed key"; fi
perm=$(stat -c %a "$TLSHIM_PIN_DIR/tlshim_keys")
if [ "$perm" = 600 ]; then ok keys-pin-mode-0600; else bad keys-pin-mode-0600 "mode $perm"; fi

# A full device refuses the install, keeps what it has, and counts it.
$TLSHIM config set max-conns 1
before=$($TLSHIM conn list -j | grep -o '"src":"[^"]*"' | sort)
err=$($TLSHIM conn add tx 10.1.0.2:443 10.1.0.1:40000 --tcp-seq 9 2>&1); rc=$?
after=$($TLSHIM conn list -j | grep '"mode":"device"' | grep -o '"src":"[^"]*"' | sort)
stats=$($TLSHIM stats -j)
if [ "$rc" -ne 2 ]; then bad device-full "exit $rc, want 2"
elif [ "$err" != "tlshim: device table full (1 connections): connection stays in software: tx 10.1.0.2:443 10.1.0.1:40000" ]; then bad device-full "message: $err"
elif [ "$before" != "$after" ]; then bad device-full "device connections changed: $before -> $after"
elif ! printf '%s' "$stats" | grep -q '"tx_tls_ctx_full":1,.*"TlsCurrRxDevice":1,"TlsCurrTxDevice":0,"TlsCurrRxSw":0,"TlsCurrTxSw":1'; then bad device-full "counters: $stats"
elif ! $TLSHIM conn list | grep -q "tx 10.1.0.2:443 10.1.0.1:40000 software"; then bad device-full "not listed as software"
else ok device-full; fi
expect_ok del-software-conn $TLSHIM conn del tx 10.1.0.2:443 10.1.0.1:40000
$TLSHIM config set max-conns 65536
tx_entries() { bpftool map dump pinned "$TLSHIM_PIN_DIR/tlshim_tx_conns" -j 2>/dev/null | grep -c '"key"'; }
if [ "$(tx_entries)" = 0 ]; then ok device-full-no-tx-state; else bad device-full-no-tx-state "tlshim_tx_conns has entries"; fi

# A tx connection: installed with its transmit side, listed with it.
expect_ok add-tx-enforced $TLSHIM conn add tx 10.1.0.2:443 10.1.0.1:40000 --tcp-seq 4294967295 \
	--rec-seq 3 --enforce-drops
out=$($TLSHIM conn list)
json=$($TLSHIM conn list -j)
if ! printf '%s' "$out" | grep -q '^tx 10.1.0.2:443 10.1.0.1:40000 tls 1.2 aes-gcm-128 in-sync resync none enforce-drops$'; then
	bad tx-listed "text: $out"
elif ! printf '%s' "$json" | grep -q '"dir":"tx","src":"10.1.0.2:443","dst":"10.1.0.1:40000",.*"enforce_drops":true,"expected_seq":4294967295,"sent_seq":4294967295,"acked_seq":4294967295,"start_seq":4294967295,"start_rec_sn":3,"rec_sn":3,'; then
	bad tx-listed "json: $json"
elif ! printf '%s' "$json" | grep -q '"log_records":0,"log_oldest_seq":4294967295,"marker_live":1,.*"encrypted_packets":0,.*"dump_bytes":0,.*"drop_no_sync_data":0,'; then
	bad tx-listed "json: $json"
elif [ "$(tx_entries)" != 1 ]; then bad tx-listed "tlshim_tx_conns has $(tx_entries) entries, want 1"
else ok tx-listed; fi
expect_ok config-set-tx $TLSHIM config set record-log 64 enforce-drops on
if $TLSHIM config | grep -qx 'record-log 64' && $TLSHIM config | grep -qx 'enforce-drops on' &&
   $TLSHIM config -j | grep -q '"record_log":64,"enforce_drops":true'; then ok config-show-tx
else bad config-show-tx "$($TLSHIM config -j)"; fi
expect_ok config-reset-tx $TLSHIM config set record-log "$LOG_MAX" enforce-drops off
if $TLSHIM config -j | grep -q "\"record_log\":$LOG_MAX,\"enforce_drops\":false"; then ok config-tx-back
else bad config-tx-back "$($TLSHIM config -j)"; fi
expect_ok del-tx $TLSHIM conn del tx 10.1.0.2:443 10.1.0.1:40000
if [ "$(tx_entries)" = 0 ]; then ok del-tx-removes-tx-state; else bad del-tx-removes-tx-state "entries left"; fi

# Round trip: delete removes the connection and its keys, counts it.
expect_ok del-baseline $TLSHIM conn del rx 10.1.0.1:40000 10.1.0.2:443
if [ "$($TLSHIM conn list -j)" = "[]" ] && [ "$(bpftool map dump pinned "$TLSHIM_PIN_DIR/tlshim_keys" -j 2>/dev/null)" = "[]" ]; then
	ok del-removes-keys; else bad del-removes-keys "entries left behind"; fi
if $TLSHIM stats -j | grep -q '"rx_tls_ctx":1,"rx_tls_del":1,'; then ok del-counted; else bad del-counted "$($TLSHIM stats -j)"; fi

# Prometheus text format: every sample has HELP and TYPE, names are legal.
prom=$($TLSHIM stats --prometheus)
samples=$(printf '%s\n' "$prom" | grep -vc '^#')
helps=$(printf '%s\n' "$prom" | grep -c '^# HELP tlshim_')
types=$(printf '%s\n' "$prom" | grep -Ec '^# TYPE tlshim_[A-Za-z_]+ (counter|gauge)$')
illegal=$(printf '%s\n' "$prom" | grep -v '^#' | grep -Evc '^tlshim_[a-zA-Z_:][a-zA-Z0-9_:]* [0-9]+$')
if [ "$samples" -ge 40 ] && [ "$samples" = "$helps" ] && [ "$samples" = "$types" ] && [ "$illegal" = 0 ]; then
	ok stats-prometheus-format; else bad stats-prometheus-format "samples $samples help $helps type $types illegal $illegal"; fi
names=$($TLSHIM stats | grep -c '^     [A-Za-z_]*: [0-9]*$')
if [ "$names" = "$samples" ]; then ok stats-ethtool-format; else bad stats-ethtool-format "$names lines"; fi
for c in rx_tls_decrypted_packets rx_tls_decrypted_bytes rx_tls_ctx rx_tls_del rx_tls_resync_req_pkt \
	rx_tls_resync_req_start rx_tls_resync_req_end rx_tls_resync_req_skip rx_tls_resync_res_ok \
	rx_tls_resync_res_skip rx_tls_err tx_tls_encrypted_packets tx_tls_encrypted_bytes tx_tls_ctx \
	tx_tls_ooo tx_tls_skip_no_sync_data tx_tls_drop_no_sync_data tx_tls_drop_bypass_req \
	tx_tls_del tx_tls_dump_packets tx_tls_dump_bytes tx_tls_resync_bytes rx_tls_resync_res_retry \
	TlsCurrRxDevice TlsCurrTxDevice TlsCurrRxSw TlsCurrTxSw; do
	printf '%s' "$($TLSHIM stats -j)" | grep -q "\"$c\":" || missing="${missing:-} $c"
done
if [ -z "${missing:-}" ]; then ok stats-kernel-names; else bad stats-kernel-names "missing:$missing"; fi
watch=$(timeout 2.5 $TLSHIM stats -j --watch 1 | grep -c rx_tls_ctx)
if [ "$watch" -ge 2 ]; then ok stats-watch; else bad stats-watch "$watch samples in 2.5 s"; fi

# Detach removes exactly what attach added.
expect_ok detach in_ns $TLSHIM detach dev cli0
if in_ns ip link show cli0 | grep -q xdp; then bad detach-xdp-gone "xdp still attached"; else ok detach-xdp-gone; fi
if in_ns tc qdisc show dev cli0 | grep -q clsact; then bad detach-clsact-gone "clsact left"; else ok detach-clsact-gone; fi
expect_ok unload $TLSHIM unload
if ls "$TLSHIM_PIN_DIR"/tlshim_* >/dev/null 2>&1; then bad unload-unpins "pins left"; else ok unload-unpins; fi
# No device: a runtime condition, not bad input: status 1, one clear line.
err=$($TLSHIM stats 2>&1 >/dev/null); rc=$?
if [ "$rc" -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && printf '%s' "$err" | grep -q "device not loaded"; then
	ok no-device-loaded; else bad no-device-loaded "exit $rc: $err"; fi
[ "$fails" -eq 0 ]
