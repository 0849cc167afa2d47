#!/bin/sh
# testpmd restarted under an up link with MAC $1 (tests/boot/vhost_user
# reconnect_net): for every line the host types after a restart, pings must
# come back again within 30 s; the guest reports how long each took.
TEST=reconnect_net
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

# Milliseconds since boot.
now_ms() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}0" | sed 's/^0*//'
}

net_up "$1"
net_wait_echo
echo "VMM-GUEST: reconnect_net: ready"
round=0
while read -r line && [ "$line" != stop ]; do
	round=$((round + 1))
	start=$(now_ms)
	back=
	while [ $(($(now_ms) - start)) -lt 30000 ]; do
		rx=$(net_stat rx_packets)
		ping -c 1 -W 1 10.0.2.99 >/dev/null 2>&1
		[ "$(net_stat rx_packets)" -gt "$rx" ] && back=$(($(now_ms) - start)) && break
	done
	[ -n "$back" ] || fail "round $round: no frame came back within 30 s of the restart"
	echo "VMM-GUEST: reconnect_net: round $round: echoes back after $back ms"
done
echo "VMM-GUEST: reconnect_net: $round rounds, uptime $(cut -d' ' -f1 /proc/uptime)"
echo "VMM-GUEST: reconnect_net: PASS"
