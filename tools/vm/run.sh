#!/bin/bash
# Runs a command inside a throwaway VM: Debian's distro kernel (fetched by
# tools/vm/kernel.sh), a busybox initramfs (tools/vm/initramfs.sh), and this
# machine's root filesystem shared read-only over 9p, so the command sees
# the same files and binaries as here (the repo, its build, Debian's tools).
#
#   tools/vm/run.sh [--timeout SEC] [--accel auto|kvm|tcg] [--cpus N]
#                   [--mem MB] [--console FILE] -- COMMAND [ARGS...]
#
# COMMAND runs as root in the guest, in the current directory, with fresh
# /tmp and /run (tmpfs), its own bpffs, and $VM_RESULTS, a directory shared
# writable with the host (files left there are copied to --results DIR).
# Its stdout and stderr are streamed here as it runs.
#
# Exit status: COMMAND's, or
#   77  the VM cannot run here (no qemu, no kernel): the reason is printed
#   125 the VM failed (did not boot, crashed, timed out): printed loudly
# Accelerator: KVM when /dev/kvm works (checked by a probe boot bounded by
# a short timeout: KVM has been seen to hang on nested hosts), else TCG.
# Bounded: the whole VM is killed after --timeout (default 900 s).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

timeout_s=900 accel=auto cpus=2 mem=2048 console_out="" results_out=""
usage() { sed -n '2,20s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout_s=${2:-}; shift 2 ;;
	--accel) accel=${2:-}; shift 2 ;;
	--cpus) cpus=${2:-}; shift 2 ;;
	--mem) mem=${2:-}; shift 2 ;;
	--console) console_out=${2:-}; shift 2 ;;
	--results) results_out=${2:-}; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	*) echo "vm: bad argument: '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "vm: bad COMMAND: missing (see --help)" >&2; exit 2; }
[[ "$timeout_s" =~ ^[0-9]+$ ]] || { echo "vm: bad --timeout: '$timeout_s'" >&2; exit 2; }
[[ "$cpus" =~ ^[1-8]$ ]] || { echo "vm: bad --cpus: '$cpus' (1..8)" >&2; exit 2; }
[[ "$mem" =~ ^[0-9]+$ ]] || { echo "vm: bad --mem: '$mem'" >&2; exit 2; }
case $accel in auto|kvm|tcg) ;; *) echo "vm: bad --accel: '$accel' (auto, kvm or tcg)" >&2; exit 2 ;; esac

cannot() { echo "vm: cannot run a VM here: $*" >&2; exit 77; }
broken() { echo "vm: FAILED: $*" >&2; exit 125; }

QEMU=${TLSHIM_VM_QEMU:-qemu-system-x86_64}	# override: tests of the runner itself
command -v "$QEMU" >/dev/null || cannot "$QEMU not installed (Debian package qemu-system-x86)"
[ -x /bin/busybox ] || cannot "busybox-static not installed"
kdir=$("$here/kernel.sh" 2>"${TMPDIR:-/tmp}/tlshim-vm-kernel.err.$$") || {
	err=$(cat "${TMPDIR:-/tmp}/tlshim-vm-kernel.err.$$"); rm -f "${TMPDIR:-/tmp}/tlshim-vm-kernel.err.$$"
	cannot "no guest kernel: $err"
}
rm -f "${TMPDIR:-/tmp}/tlshim-vm-kernel.err.$$"
kver=$(cat "$kdir/kver")

work_share=()
work=$(mktemp -d /tmp/tlshim-vm.XXXXXX) || broken "mktemp failed"
qpid="" tpid=""
cleanup() {
	[ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null && wait "$tpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$here/initramfs.sh" "$kdir" "$work/initramfs.gz" || broken "cannot build the initramfs"

# boot ACCEL TIMEOUT RESULTS_DIR CONSOLE [STREAM_FILE]: one VM run; returns
# qemu's status (124 when the timeout killed it).  The guest's /init runs
# RESULTS/cmd.  STREAM_FILE is copied to stdout while the VM runs (tail
# --pid reads it one last time after qemu is gone, so nothing is lost).
boot() {
	local acc=$1 limit=$2 res=$3 con=$4 stream=${5:-} accel_opt
	case $acc in
	kvm) accel_opt=(-accel kvm -cpu host) ;;
	tcg) accel_opt=(-accel tcg,thread=multi -cpu max) ;;
	esac
	timeout --kill-after=5 "$limit" "$QEMU" "${accel_opt[@]}" \
		-smp "$cpus" -m "$mem" -nodefaults -no-user-config -display none \
		-monitor none -no-reboot -serial "file:$con" \
		-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$work/initramfs.gz" \
		-append "console=ttyS0 panic=-1 oops=panic quiet loglevel=4 rdinit=/init mitigations=off" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$res,mount_tag=results,security_model=none,multidevs=remap" \
		"${work_share[@]}" \
		</dev/null >"$work/qemu.out" 2>&1 &
	qpid=$!
	if [ -n "$stream" ]; then
		tail -n +1 -F --pid="$qpid" "$stream" 2>/dev/null &
		tpid=$!
	fi
	wait "$qpid"
	local rc=$?
	qpid=""
	if [ -n "$tpid" ]; then
		wait "$tpid"
		tpid=""
	fi
	return $rc
}

# KVM only when it demonstrably boots: a probe VM that runs `true`.
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		mkdir "$work/probe"
		echo 'exit 0' > "$work/probe/cmd"
		boot kvm 30 "$work/probe" "$work/probe.console"
		if [ "$(cat "$work/probe/status" 2>/dev/null)" = 0 ]; then
			accel=kvm
		else
			echo "vm: KVM present but the probe boot failed or hung; using TCG" >&2
		fi
	fi
fi
[ "$accel" != kvm ] || [ -c /dev/kvm ] || cannot "--accel kvm but /dev/kvm is missing"

mkdir "$work/results"
cwd=$(pwd)
# The guest gets fresh tmpfs /tmp and /run over the shared root; a working
# directory below them would vanish, so it is shared on its own (tag work)
# and mounted back at the same path (tools/vm/init reads workdir).
work_share=()
case $cwd in
/tmp/*|/run/*)
	work_share=(-virtfs "local,path=$cwd,mount_tag=work,security_model=none,readonly=on,multidevs=remap")
	printf '%s\n' "$cwd" > "$work/results/workdir"
	;;
esac
{
	echo "export VM_RESULTS=/tmp/vm-results VM_ACCEL=$accel VM_KERNEL=$kver"
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root"
	printf 'cd %q || exit 125\n' "$cwd"
	printf 'echo "vm: guest up after $(cut -d" " -f1 /proc/uptime) s (kernel %s, %s)" >&2\n' "$kver" "$accel"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} > "$work/results/cmd.inner"
# The whole command script, boot-time line included, writes to the output.
echo 'exec /bin/sh /tmp/vm-results/cmd.inner > /tmp/vm-results/output 2>&1' > "$work/results/cmd"
touch "$work/results/output"

start=$SECONDS
boot "$accel" "$timeout_s" "$work/results" "$work/console.log" "$work/results/output"
qrc=$?
elapsed=$((SECONDS - start))
[ -n "$console_out" ] && cp "$work/console.log" "$console_out"
[ -n "$results_out" ] && mkdir -p "$results_out" && cp -r "$work/results/." "$results_out/"

status=$(cat "$work/results/status" 2>/dev/null)
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "vm: console tail:" >&2; tail -n 30 "$work/console.log" | sed 's/^/  | /' >&2
	broken "timed out after ${timeout_s}s ($accel) and was killed"
fi
if ! [[ "$status" =~ ^[0-9]+$ ]]; then
	echo "vm: console tail:" >&2; tail -n 30 "$work/console.log" | sed 's/^/  | /' >&2
	echo "vm: qemu said: $(tail -n 5 "$work/qemu.out" | tr '\n' ' ')" >&2
	broken "the guest reported no status (qemu exit $qrc, ${elapsed}s, $accel)"
fi
echo "vm: done in ${elapsed}s ($accel, kernel $kver), status $status" >&2
exit "$status"
