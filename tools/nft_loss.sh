#!/bin/bash
# nft_loss.sh - the simple way to lose packets without netem: nftables'
# numgen random, in a network namespace, on one interface's output.
#
#   tools/nft_loss.sh add NS IF PCT   drop PCT% (1..100) of the TCP packets
#                                     leaving IF in namespace NS (postrouting)
#   tools/nft_loss.sh del NS IF       remove it again
#   tools/nft_loss.sh show NS IF      the rule with its counter
#
# Each interface gets its own table (inet nft_loss_IF), so add/del never
# touch anyone else's rules.  The same rule by hand:
#   nft add table inet t
#   nft add chain inet t c '{ type filter hook postrouting priority 0; }'
#   nft add rule inet t c oifname IF meta l4proto tcp numgen random mod 100 '<' PCT counter drop
# Random, not reproducible, per skb (a GSO super-packet goes whole); for
# exact, seeded or record-aimed loss use build/tlsloss.  On the sending
# host itself TCP learns of the drop at once (the output path returns an
# error) and resends: for loss as on a wire, use it in a middle namespace.
# Exit status: 0 ok, 1 nft failed, 2 bad arguments.
set -u

bad() { echo "nft_loss.sh: bad $1: $2" >&2; exit 2; }

[ $# -ge 3 ] || bad arguments "usage: nft_loss.sh add NS IF PCT | del NS IF | show NS IF"
cmd=$1 ns=$2 ifname=$3
[ -e "/run/netns/$ns" ] || bad NS "no network namespace '$ns' in /run/netns"
[[ $ifname =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || bad IF "'$ifname' is not an interface name"
nsenter --net="/run/netns/$ns" ip link show dev "$ifname" >/dev/null 2>&1 ||
	bad IF "no interface '$ifname' in $ns"
table="nft_loss_${ifname//[.-]/_}"
nft_ns() { nsenter --net="/run/netns/$ns" nft "$@"; }

case $cmd in
add)
	[ $# -eq 4 ] || bad arguments "add NS IF PCT"
	pct=$4
	[[ $pct =~ ^[0-9]+$ ]] && [ "$pct" -ge 1 ] && [ "$pct" -le 100 ] ||
		bad PCT "'$pct' (a whole percent, 1..100)"
	nft_ns list table inet "$table" >/dev/null 2>&1 && bad IF "$ifname in $ns already has a loss rule (del first)"
	# numgen's "mod 100 < 100" is out of range: 100% is a plain drop
	match="numgen random mod 100 < $pct"
	[ "$pct" = 100 ] && match=""
	nft_ns -f - <<EOF || exit 1
table inet $table {
	chain out {
		type filter hook postrouting priority 0; policy accept;
		oifname "$ifname" meta l4proto tcp $match counter drop
	}
}
EOF
	;;
del)
	[ $# -eq 3 ] || bad arguments "del NS IF"
	nft_ns list table inet "$table" >/dev/null 2>&1 || bad IF "no loss rule on $ifname in $ns"
	nft_ns delete table inet "$table" || exit 1
	;;
show)
	nft_ns list table inet "$table" || exit 1
	;;
*)
	bad command "'$cmd' (add, del, show)"
	;;
esac
