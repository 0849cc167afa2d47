#!/bin/sh
# testpmd dies under an up link with MAC $1: the host kills it and types a
# line, then commands that reach the control queue (promisc on/off, when
# CTRL_RX was negotiated) and the rtnl-held commands after them must return
# within seconds, and frames sent must be completed (dropped by the VMM), so
# the tx ring drains.
TEST=killed_net
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

# Feature bit $1 of the virtio device as the driver negotiated it: 1 or 0.
feature() { cut -c$(($1 + 1)) /sys/class/net/eth0/device/features; }

net_up "$1"
net_wait_echo
rx0=$(net_stat rx_packets)
ping -c 5 -i 0.2 -W 1 10.0.2.99 >/dev/null 2>&1
sleep 1
[ $(($(net_stat rx_packets) - rx0)) -ge 1 ] || fail "no frame came back before the kill"
echo "VMM-GUEST: killed_net: ready"
read -r _
tx0=$(net_stat tx_packets)
# Busybox ping exits 1 without replies; only a hang fails here.
within 20 ping -c 40 -i 0.05 -W 1 10.0.2.99
sleep 1
tx=$(($(net_stat tx_packets) - tx0))
# tx_packets counts frames the device completed: a stuck ring stops it.
[ "$tx" -ge 30 ] || fail "only $tx of 40 frames were completed"
within 10 ip link set eth0 promisc on
promisc=$?
within 10 ip link set eth0 promisc off
# The rx-mode work may run after the command returned, holding rtnl: these need rtnl too.
within 10 ip addr add 10.0.2.16/24 dev eth0 || fail "ip addr add after the kill"
within 10 ip link show eth0 || fail "ip link show after the kill"
echo "VMM-GUEST: killed_net: after: $tx frames completed, promisc on returned $promisc, ctrl_vq $(feature 17) ctrl_rx $(feature 18)"
echo "VMM-GUEST: killed_net: guest still alive, uptime $(cut -d' ' -f1 /proc/uptime)"
echo "VMM-GUEST: killed_net: PASS"
