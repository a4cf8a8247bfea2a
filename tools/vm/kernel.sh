#!/bin/bash
# Fetches Debian's distro kernel (linux-image-amd64 and the versioned
# package it depends on) with apt-get download into a cache directory,
# extracts it and indexes its modules.  Prints the kernel's directory:
#   DIR/boot/vmlinuz-KVER, DIR/lib/modules/KVER/..., DIR/kver
# Usage: tools/vm/kernel.sh [CACHE_DIR]
# Cache: $TLSHIM_VM_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/tlshim-vm.  A
# kernel already there is reused; nothing else is downloaded then.
# Only Debian packages are used: apt-get (the archive), dpkg-deb, busybox's
# depmod (Debian 12 has no kmod on a minimal system; busybox-static does).
set -euo pipefail

die() { echo "vm-kernel: $*" >&2; exit 1; }

cache=${1:-${TLSHIM_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tlshim-vm}}
mkdir -p "$cache"
cd "$cache"

# Which versioned image the meta package points at.  An offline machine
# with a cached kernel keeps using it.
image_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}
pkg=$(image_pkg) || true
# A fresh machine may have no package lists yet.
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ] && ! ls -d linux-image-*-amd64 >/dev/null 2>&1; then
	apt-get update -qq >/dev/null 2>&1
	pkg=$(image_pkg) || true
fi
if [ -z "$pkg" ]; then
	existing=$(ls -d linux-image-*-amd64 2>/dev/null | sort -V | tail -n1) || true
	[ -n "$existing" ] && [ -e "$existing/kver" ] && { echo "$cache/$existing"; exit 0; }
	die "apt-cache knows no linux-image-amd64 (run apt-get update) and nothing is cached in $cache"
fi
dir=$cache/$pkg
if [ -e "$dir/kver" ]; then
	echo "$dir"
	exit 0
fi

command -v dpkg-deb >/dev/null || die "dpkg-deb missing"
[ -x /bin/busybox ] || die "busybox missing (Debian package busybox-static)"
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt-get download writes into the current directory; as root it warns that
# the _apt user cannot write there, which is harmless.
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>"$tmp/apt.err") ||
	die "apt-get download $pkg failed: $(tail -n2 "$tmp/apt.err" | tr '\n' ' ')"
mkdir "$tmp/root"
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root" || die "dpkg-deb -x failed"
kver=$(ls "$tmp/root/lib/modules" | head -n1)
[ -n "$kver" ] && [ -e "$tmp/root/boot/vmlinuz-$kver" ] || die "$pkg has no vmlinuz"
/bin/busybox depmod -b "$tmp/root" "$kver" || die "depmod failed"
echo "$kver" > "$tmp/root/kver"
rm -rf "$dir"
mv "$tmp/root" "$dir"
echo "$dir"
