#!/bin/bash
# Builds the guest's initramfs: busybox (static, from the host's
# busybox-static package), tools/vm/init as /init, and the kernel modules
# of tools/vm/modules.list with their dependencies.
# Usage: tools/vm/initramfs.sh KERNEL_DIR OUT.cpio.gz
set -euo pipefail

die() { echo "vm-initramfs: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: initramfs.sh KERNEL_DIR OUT"
kdir=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
kver=$(cat "$kdir/kver") || die "$kdir is not a kernel dir (run tools/vm/kernel.sh)"
mdir=$kdir/lib/modules/$kver
# busybox-static's binary: the guest has no libc before the 9p root is up
busybox=/bin/busybox
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
	die "busybox-static is not installed (apt-get install busybox-static)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,dev,proc,sys,root,tmp} "$tmp/lib/modules/$kver"
cp "$busybox" "$tmp/bin/busybox"
ln -s busybox "$tmp/bin/sh"
ln -s ../bin/busybox "$tmp/sbin/modprobe"	# the kernel's request_module helper
cp "$here/init" "$tmp/init"
chmod 755 "$tmp/init"

# path of a module by name ('-' and '_' are the same to the kernel)
declare -A dep_of seen
while IFS=: read -r path deps; do
	name=${path##*/}
	name=${name%.ko}
	dep_of[${name//-/_}]="$path:$deps"
done < "$mdir/modules.dep"

order=()
add() {	# add NAME: its dependencies first (depth first), once
	local key=${1//-/_} entry path deps d
	[ -n "${seen[$key]:-}" ] && return 0
	seen[$key]=1
	entry=${dep_of[$key]:-}
	if [ -z "$entry" ]; then
		grep -q "/${1}.ko\$\|/${key}.ko\$" "$mdir/modules.builtin" && return 0
		die "module $1 is neither in modules.dep nor built in"
	fi
	path=${entry%%:*}
	deps=${entry#*:}
	for d in $deps; do
		d=${d##*/}
		add "${d%.ko}"
	done
	order+=("$path")
}
list=()
while read -r line; do
	line=${line%%#*}
	line=${line// /}
	[ -n "$line" ] || continue
	add "${line#\?}"
	list+=("$line")
done < "$here/modules.list"

for path in "${order[@]}"; do
	mkdir -p "$tmp/lib/modules/$kver/$(dirname "$path")"
	cp "$mdir/$path" "$tmp/lib/modules/$kver/$path"
done
# modules.dep restricted to what is here, so busybox modprobe can resolve
grep -F -f <(printf '%s:\n' "${order[@]}") "$mdir/modules.dep" > "$tmp/lib/modules/$kver/modules.dep"
cp "$mdir/modules.alias" "$mdir/modules.builtin" "$tmp/lib/modules/$kver/" 2>/dev/null || true
# /init loads these in order; '?' entries may fail
{
	for path in "${order[@]}"; do
		name=${path##*/}
		name=${name%.ko}
		if printf '%s\n' "${list[@]}" | grep -qx "?$name"; then
			echo "?$path"
		else
			echo "$path"
		fi
	done
} > "$tmp/modules.load"

(cd "$tmp" && find . | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -1 > "$out.tmp" || die "cpio failed"
mv "$out.tmp" "$out"
