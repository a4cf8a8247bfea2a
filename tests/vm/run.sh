#!/bin/bash
# The kTLS suite (tests/vm/ktls.sh) in a VM, because kTLS needs a kernel
# with the tls module and this machine's may have none.  tools/vm/run.sh
# boots Debian's distro kernel with this machine's root shared read-only,
# so the guest runs this checkout's build.  Prints the guest's ok/FAIL/skip
# lines; on a machine where no VM can run, one skip line per test with the
# reason; if the VM itself fails, one FAIL line saying how.
#   TLSHIM_VM_TIMEOUT  seconds for the whole VM (default 1200)
#   TLSHIM_VM_ACCEL    auto (default), kvm or tcg
set -u
cd "$(dirname "$0")/../.." || exit 1
timeout_s=${TLSHIM_VM_TIMEOUT:-1200}
accel=${TLSHIM_VM_ACCEL:-auto}
err=$(mktemp)
trap 'rm -f "$err"' EXIT

start=$SECONDS
tools/vm/run.sh --timeout "$timeout_s" --accel "$accel" -- tests/vm/ktls.sh 2> >(tee "$err" >&2)
rc=$?
wait	# the tee above
case $rc in
0|1) ;;
77)
	reason=$(grep '^vm: cannot run a VM here:' "$err" | head -n1 | sed 's/^vm: cannot run a VM here: //')
	for t in $(tests/vm/ktls.sh --list); do
		echo "skip $t: no VM can run here: ${reason:-unknown reason}"
	done
	exit 0
	;;
*)
	echo "FAIL vm: the kTLS VM failed (status $rc): $(grep '^vm: FAILED' "$err" | head -n1)"
	exit 1
	;;
esac
echo "  vm: suite took $((SECONDS - start)) s in all"
exit $rc
