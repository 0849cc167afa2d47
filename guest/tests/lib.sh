#!/bin/sh
# Sourced by guest test scripts: the FAIL verdict line, a bound on commands
# that may hang, and device setup shared by several tests. The sourcing
# script sets TEST to its own name first.

fail() {
	echo "VMM-GUEST: $TEST: FAIL: $*"
	exit 1
}

# Runs the rest for at most $1 seconds, output in /tmp/out; a hang fails the test.
within() {
	limit=$1
	shift
	timeout -k 2 "$limit" "$@" >/tmp/out 2>&1
	rc=$?
	case $rc in
	137 | 143) fail "'$*' hung (killed after ${limit}s)" ;;
	esac
	return $rc
}

# Mounts virtiofs tag $1 on /mnt and checks the file the host wrote before boot.
mount_host_share() {
	modprobe virtio_pci || fail "modprobe virtio_pci"
	modprobe virtiofs || fail "modprobe virtiofs"
	mkdir -p /mnt
	mount -t virtiofs "$1" /mnt || fail "mount -t virtiofs $1"
	[ "$(cat /mnt/host-file)" = "hello from the host" ] || fail "host-file reads '$(cat /mnt/host-file)'"
}

# Brings eth0 up as 10.0.2.15 (MAC $1 when given) with carrier, and a
# static neighbour 10.0.2.99 so that pings need no ARP.
net_up() {
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
}

net_stat() { cat "/sys/class/net/eth0/statistics/$1"; }

# Pings the fake neighbour 20 times and prints "$1 sent N received M" for
# the frames that went out and came back; fails with fewer than 20 each way.
net_ping_count() {
	tx0=$(net_stat tx_packets)
	rx0=$(net_stat rx_packets)
	ping -c 20 -i 0.1 -W 1 10.0.2.99 >/dev/null 2>&1
	sleep 1
	tx=$(($(net_stat tx_packets) - tx0))
	rx=$(($(net_stat rx_packets) - rx0))
	echo "VMM-GUEST: $TEST: $1 sent $tx received $rx"
	[ "$tx" -ge 20 ] || fail "only $tx frames sent"
	[ "$rx" -ge 20 ] || fail "only $rx of $tx frames came back"
}

# Waits (up to 30 s) until a frame comes back: a back-end may serve its
# rings seconds after DRIVER_OK (DPDK prefaults all guest RAM first, ~7 s
# on a loaded nested host), and the counts that follow must measure the
# data path, not its start-up. Fails when no frame ever comes back.
# An echoing back-end returns the request frame itself (to the fake
# neighbour's MAC), so ping never sees a reply: a frame came back when
# rx_packets rose.
net_wait_echo() {
	for _ in $(seq 30); do
		rx=$(net_stat rx_packets)
		ping -c 1 -W 1 10.0.2.99 >/dev/null 2>&1
		[ "$(net_stat rx_packets)" -gt "$rx" ] && return 0
	done
	fail "no frame came back within 30 s of link up"
}
