#!/bin/sh
# make bench: every figure of issue 7 in one run, one table, and
# bench/results.json.  Never run by make check (no test asserts a figure).
#
# The device under test lives in a private bpffs directory for the whole run
# (TLSHIM_PIN_DIR), so a live tlshim or another developer's test is never
# touched; it is removed on any exit.
set -u
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF, namespaces)" >&2; exit 1; }
start=$(date +%s)
TLSHIM_PIN_DIR=/sys/fs/bpf/tlshim-bench-$$
ROWS=$(mktemp /tmp/tlshim-bench-rows.XXXXXX) || exit 1
export TLSHIM_PIN_DIR
cleanup() {
	rm -f "$TLSHIM_PIN_DIR"/* 2>/dev/null
	rmdir "$TLSHIM_PIN_DIR" 2>/dev/null
	rm -f "$ROWS"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$TLSHIM_PIN_DIR" || exit 1

echo "bench: 5/5 end to end (veth, alternating runs) ..." >&2
bench/e2e.sh "$ROWS"
echo "bench: 1-4/5 per-packet, scale, installation, resync ..." >&2
build/bench --rows "$ROWS" --json bench/results.json
rc=$?
echo "make bench: $(($(date +%s) - start)) s in all"
exit $rc
