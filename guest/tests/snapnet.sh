#!/bin/sh
# Snapshot with vhost-user-net (tests/boot/snapshot): the link comes up with
# MAC $1 and frames come back from the echoing back-end; says "ready" and
# waits for a console line. The host snapshots, kills the VMM and its
# back-end, restores a new VMM on a new back-end and types a line: frames
# must come back again, through the rings the snapshot carried.
TEST=snapnet
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

net_up "$1"
net_wait_echo
echo "VMM-GUEST: snapnet: ready rx $(net_stat rx_packets)"
read -r _
net_wait_echo
tx0=$(net_stat tx_packets)
rx0=$(net_stat rx_packets)
ping -c 20 -i 0.1 -W 1 10.0.2.99 >/dev/null 2>&1
sleep 1
tx=$(($(net_stat tx_packets) - tx0))
rx=$(($(net_stat rx_packets) - rx0))
echo "VMM-GUEST: snapnet: after restore sent $tx received $rx"
[ "$tx" -ge 20 ] || fail "only $tx frames sent"
[ "$rx" -ge 20 ] || fail "only $rx of $tx frames came back"
echo "VMM-GUEST: snapnet: PASS"
