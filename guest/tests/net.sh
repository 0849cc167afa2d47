#!/bin/sh
# vhost-user-net against an echoing back-end (testpmd io forwarding): the
# link is up with the MAC $1 the VMM serves, and pings to a fake neighbour
# (static ARP entry, so no ARP is needed) come back as received frames.
TEST=net
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

net_up "$1"
net_wait_echo
tx0=$(net_stat tx_packets)
rx0=$(net_stat rx_packets)
ping -c 20 -i 0.1 -W 1 10.0.2.99 >/dev/null 2>&1
sleep 1
tx=$(($(net_stat tx_packets) - tx0))
rx=$(($(net_stat rx_packets) - rx0))
echo "VMM-GUEST: net: mac $mac sent $tx received $rx"
[ "$tx" -ge 20 ] || fail "only $tx frames sent"
[ "$rx" -ge 20 ] || fail "only $rx of $tx frames came back"
echo "VMM-GUEST: net: PASS"
