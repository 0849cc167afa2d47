#!/bin/sh
# vhost-user-net against an echoing back-end (testpmd io forwarding): the
# link is up with the MAC $1 the VMM serves, and pings to a fake neighbour
# (static ARP entry, so no ARP is needed) come back as received frames.
fail() {
	echo "VMM-GUEST: net: FAIL: $*"
	exit 1
}

stat() { cat "/sys/class/net/eth0/statistics/$1"; }

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_net || fail "modprobe virtio_net"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.5; done
[ -e /sys/class/net/eth0 ] || fail "no eth0"
mac=$(cat /sys/class/net/eth0/address)
[ -z "$1" ] || [ "$mac" = "$1" ] || fail "MAC $mac, expected $1"
ip link set eth0 up || fail "link up"
ip addr add 10.0.2.15/24 dev eth0 || fail "addr"
sleep 1
[ "$(cat /sys/class/net/eth0/carrier)" = 1 ] || fail "no carrier"
arp -s 10.0.2.99 02:00:00:00:00:99 || fail "arp -s"
tx0=$(stat tx_packets)
rx0=$(stat rx_packets)
ping -c 20 -i 0.1 -W 1 10.0.2.99 >/dev/null 2>&1
sleep 1
tx=$(($(stat tx_packets) - tx0))
rx=$(($(stat rx_packets) - rx0))
echo "VMM-GUEST: net: mac $mac sent $tx received $rx"
[ "$tx" -ge 20 ] || fail "only $tx frames sent"
[ "$rx" -ge 20 ] || fail "only $rx of $tx frames came back"
echo "VMM-GUEST: net: PASS"
