#!/bin/bash
# Runs every test suite and ends with one line: "N passed, N failed[, N skipped]".
#
# A suite is an executable that prints one line per test:
#   ok <name>
#   FAIL <name>: <why>
#   skip <name>: <why>       (a reason is mandatory: what the machine lacks)
# and anything else it likes (indented diagnostics).  Suites run as root.
set -u
cd "$(dirname "$0")/.."
suites=(build/unit_tests tests/cli/cli.sh tests/cli/seq_auto.sh tests/e2e/e2e.sh tests/e2e/tx_loss.sh
	tests/e2e/loss.sh tests/e2e/tlsgen.sh tests/e2e/tlsgen_loss.sh tests/replay/replay.sh tests/timeline/timeline.sh tests/vm/run.sh)
[ $# -gt 0 ] && suites=("$@")

log=$(mktemp)
trap 'rm -f "$log"' EXIT
crashed=0
for s in "${suites[@]}"; do
	echo "== $s"
	if [ ! -x "$s" ]; then
		echo "FAIL $s: suite missing (run make)" | tee -a "$log"
		continue
	fi
	"$s" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
		echo "FAIL $s: exited $rc without naming a failed test" | tee -a "$log"
	fi
done
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^skip ' "$log")
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
